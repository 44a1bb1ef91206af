#!/bin/bash
# make demo: vmhooks at work on a real libvirtd + QEMU, in a sandbox that
# leaves the host untouched.  One guest with a policy is started and
# destroyed with plain virsh; the knobs are shown before, during and after,
# then the guest's /var/log/vmhooks log.
set -u
if [ "$(id -u)" != 0 ]; then
    echo "make demo needs root: it runs libvirtd and QEMU in a private namespace (try: sudo make demo)" >&2
    exit 1
fi
. "$(dirname "$(readlink -f "$0")")/lib.sh"

say()  { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run()  { printf '$ %s\n' "$*"; "$@"; }
knobs() {
    printf '  %-48s %s\n' "$THP" "$(cat $THP)" "$HALT" "$(cat $HALT)" \
        "$WQ" "$(cat $WQ)" "$WB" "$(cat $WB)"
}

say "vmhooks demo: a real libvirtd $(libvirtd --version | awk '{print $NF}') and QEMU in a private namespace"
echo "The host's knobs, /etc/libvirt and guests are not touched: plain files stand in for the sysfs"
echo "knobs, and libvirtd, QEMU and the installed files live only inside this sandbox."

vh_seed_knobs
sandbox_setup
say "1. install vmhooks (make install, at its real paths, inside the sandbox)"
vh_install
printf '%s\n' "$VH_INSTALL_OUTPUT" | grep -E 'installed hook|SIGHUP|policy' | sed 's/^/  /'
sandbox_start_daemons || sandbox_die "libvirtd did not start"
echo "  libvirtd started (it reads /etc/libvirt/hooks/qemu when it starts)"

say "2. define a guest whose vCPU is pinned to host CPU 1, with a vmhooks policy in its metadata"
policy='<vmhooks:thp mode="never"/><vmhooks:halt-poll ns="400000"/><vmhooks:kworkers isolate="yes"/>'
vh_guest demo 1 "$policy"
sandbox_virsh dumpxml demo | sed -n '/<metadata>/,/<\/metadata>/p;/<cputune>/,/<\/cputune>/p' | sed 's/^/  /'

say "3. the host knobs before the guest starts"
knobs

say "4. start it as an administrator would"
run virsh start demo
echo "  domstate: $(sandbox_guest_state demo)"
knobs
echo "  THP is off, halt-polling is 400 us, and unbound kworkers (workqueue and writeback"
echo "  cpumasks) have left CPU 1, where the guest's vCPU runs."
is "  THP while demo runs" "$(knob $THP)" never
is "  halt_poll_ns while demo runs" "$(knob $HALT)" 400000
is "  workqueue mask while demo runs" "$(maskval $WQ)" $((16#d))
is "  writeback mask while demo runs" "$(maskval $WB)" $((16#d))

say "5. destroy it"
run virsh destroy demo
knobs
echo "  every knob is back at its original value: nobody demands it any more."
is "  THP after" "$(knob $THP)" madvise
is "  halt_poll_ns after" "$(knob $HALT)" 200000
is "  workqueue mask after" "$(maskval $WQ)" 15
is "  writeback mask after" "$(maskval $WB)" 15

say "6. what vmhooks tells the administrator: /var/log/vmhooks/demo.log"
sed 's/^/  /' /var/log/vmhooks/demo.log

say "7. cleaning up (guests, daemons, mounts); the sandbox checks that the host did not change"
finish
