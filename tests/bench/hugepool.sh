#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make bench (root): the time <hugepage-pool> adds to prepare when it must
# allocate 1 GiB of 2 MiB pages on this kernel's REAL pool, with the page
# cache empty (memory not fragmented) and with ROUNDS x FILL_MIB of page
# cache read first (free memory interleaved with cache pages: the kernel
# must reclaim and compact), against a prepare that allocates nothing (the
# pool already holds the pages).  The pools are saved first and put back by
# a trap.  Prints Markdown lines.
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
B=${BUILD:-$repo/build}
HOOK=${VH_HOOK:-$B/qemu-hook}
ROUNDS=${HP_ROUNDS:-5}
FILL_MIB=${FILL_MIB:-3072}
G=/sys/kernel/mm/hugepages/hugepages-2048kB
if [[ ${HUGEPOOL_BENCH_INSIDE:-} != 1 ]]; then
    [[ $(id -u) == 0 && -w $G/nr_hugepages ]] || { echo "hugepool bench: skipped (needs root and a writable $G)"; exit 0; }
    saved=()
    for f in $G/nr_hugepages /sys/devices/system/node/node*/hugepages/hugepages-2048kB/nr_hugepages; do
        [[ -f $f ]] && saved+=("$f=$(cat "$f")")
    done
    fill=$(mktemp -p /var/tmp vmhooks-bench-fill.XXXXXX)
    trap 'for e in "${saved[@]}"; do echo "${e#*=}" >"${e%%=*}"; done; rm -f "$fill"' EXIT
    HUGEPOOL_BENCH_INSIDE=1 FILL=$fill HOOK=$HOOK unshare --mount --propagation private -- bash "$0"
    exit
fi
mount -t tmpfs -o mode=0755 hp-bench /run || exit 1
mkdir -p /run/libvirt/qemu
for d in /etc/vmhooks /var/log/vmhooks /var/lib/vmhooks; do mkdir -p "$d" && mount -t tmpfs hp-bench "$d"; done
printf '<policy xmlns="urn:vmhooks:policy:1"><hugepage-pool margin="512M"/></policy>\n' >/etc/vmhooks/policy.xml
xml="<domain type='kvm'><name>bench</name><uuid>7e57be00-0000-4000-8000-0000000000be</uuid><memory unit='GiB'>1</memory><vcpu>1</vcpu><memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages></memoryBacking><os><type arch='x86_64'>hvm</type></os><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>"
N=/sys/devices/system/node/node0/hugepages/hugepages-2048kB
[[ -d $N ]] || N=$G
ms() { date +%s%N; }
one() { # one: wall ms of a prepare (and the release after it, not timed)
    local t0 t1
    t0=$(ms)
    env -i "$HOOK" bench prepare begin - <<<"$xml" >/dev/null 2>/run/err || { echo "refused: $(cat /run/err)" >&2; }
    t1=$(ms)
    env -i "$HOOK" bench release end - <<<"$xml" >/dev/null 2>&1
    echo $(((t1 - t0) / 1000))
}
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
declare -A res
for mode in none clean fragmented; do
    vals=() kvals=()
    for ((i = 0; i < ROUNDS; i++)); do
        echo 0 >$N/nr_hugepages
        sync; echo 3 >/proc/sys/vm/drop_caches
        case $mode in
        none) echo 512 >$N/nr_hugepages ;; # the administrator's pool has them: nothing to allocate
        fragmented)
            [[ -s $FILL ]] || dd if=/dev/urandom of="$FILL" bs=1M count="$FILL_MIB" status=none
            cat "$FILL" >/dev/null ;;
        esac
        # the hook's own pages back in the cache (drop_caches evicted them too): only the pool is cold
        env -i "$HOOK" warm release end - <<<"$xml" >/dev/null 2>&1
        vals+=("$(one)")
        # the kernel's part alone: the same 512 pages asked by a bare write, in the same state
        if [[ $mode != none ]]; then
            echo 0 >$N/nr_hugepages
            sync; echo 3 >/proc/sys/vm/drop_caches
            [[ $mode == fragmented ]] && cat "$FILL" >/dev/null
            t0=$(ms); echo 512 >$N/nr_hugepages; t1=$(ms)
            kvals+=("$(((t1 - t0) / 1000))")
            echo 0 >$N/nr_hugepages
        fi
        [[ $(($(cat $N/nr_hugepages) - $(cat $N/surplus_hugepages))) == $([[ $mode == none ]] && echo 512 || echo 0) ]] ||
            echo "warning: the pool is $(cat $N/nr_hugepages) after the release ($mode)" >&2
    done
    res[$mode]=$(printf '%s\n' "${vals[@]}" | median)
    res[$mode.all]="${vals[*]}"
    ((${#kvals[@]})) && res[$mode.k]=$(printf '%s\n' "${kvals[@]}" | median) res[$mode.kall]="${kvals[*]}"
done
echo "Prepare of a 1 GiB guest on 2 MiB pages, $(uname -r), median of $ROUNDS (all, µs):"
echo
echo "| pool | prepare (µs) | added by allocating | the kernel's write of 512 pages alone (µs) |"
echo "|---|---|---|---|"
echo "| already holds the 512 pages (nothing to allocate) | ${res[none]} (${res[none.all]}) | | |"
echo "| empty, page cache dropped | ${res[clean]} (${res[clean.all]}) | $((res[clean] - res[none])) | ${res[clean.k]} (${res[clean.kall]}) |"
echo "| empty, $FILL_MIB MiB of page cache read first | ${res[fragmented]} (${res[fragmented.all]}) | $((res[fragmented] - res[none])) | ${res[fragmented.k]} (${res[fragmented.kall]}) |"
