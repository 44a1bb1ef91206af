#!/bin/bash
# virsh start + virsh destroy of a small guest in the sandbox, with vmhooks
# installed against none: blocks of runs alternate between the two (libvirtd
# restarted at each switch, since it reads hooks when it starts).
. "$(dirname "$(readlink -f "$0")")/../integration/lib.sh"
BLOCKS=${BLOCKS:-4} PER_BLOCK=${PER_BLOCK:-8}
vh_seed_knobs
sandbox_setup
vh_install
hook_link=$(readlink /etc/libvirt/hooks/qemu)
sandbox_start_daemons >/dev/null || sandbox_die "libvirtd did not start"
vh_guest bench 1 '<vmhooks:thp mode="never"/><vmhooks:halt-poll ns="400000"/><vmhooks:kworkers isolate="yes"/>' >/dev/null

with=() without=()
cycle() {
    local t0 t1
    t0=$(date +%s%N)
    sandbox_virsh start bench >/dev/null || sandbox_die "start failed"
    sandbox_virsh destroy bench >/dev/null || sandbox_die "destroy failed"
    t1=$(date +%s%N)
    echo $(((t1 - t0) / 1000))
}
for b in $(seq 1 "$BLOCKS"); do
    ln -sfn "${BENCH_HOOK:-$hook_link}" /etc/libvirt/hooks/qemu
    sandbox_restart_libvirtd >/dev/null
    cycle >/dev/null # warm
    for i in $(seq 1 "$PER_BLOCK"); do with+=("$(cycle)"); done
    rm -f /etc/libvirt/hooks/qemu
    sandbox_restart_libvirtd >/dev/null
    cycle >/dev/null
    for i in $(seq 1 "$PER_BLOCK"); do without+=("$(cycle)"); done
done
[ "$(cat /sys/module/kvm/parameters/halt_poll_ns)" = 200000 ] || sandbox_die "knobs not restored"
stats() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%d (%d-%d)", m, a[int(NR*0.1)+1], a[int(NR*0.9)]}'; }
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "virsh start + destroy of a 64 MiB guest ($SANDBOX_DOMTYPE), µs, median (p10-p90) of $((BLOCKS * PER_BLOCK)) cycles each, alternating blocks:"
echo
echo "| hook | start + destroy | ratio |"
echo "|---|---|---|"
echo "| none | $(stats "${without[@]}") | 1.00x |"
echo "| vmhooks | $(stats "${with[@]}") | $(awk -v a="$(med "${with[@]}")" -v b="$(med "${without[@]}")" 'BEGIN{printf "%.3f", a/b}')x |"
echo
