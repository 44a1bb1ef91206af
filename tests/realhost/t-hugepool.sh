#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/realhost/t-hugepool.sh — hugepages just in time (<hugepage-pool>,
# issue 18) against this kernel's REAL 2 MiB hugepage pools.
#
# Root only, on a disposable machine: the real pools (global and per node)
# are saved first and put back by a trap (and by the next run, after a
# SIGKILL of this script: /var/tmp/vmhooks-hugepool.saved).  The hook is
# called as libvirt calls it (tests/realhost/run.sh), in a private mount
# namespace (tmpfs over /run, /etc/vmhooks, /var/log/vmhooks,
# /var/lib/vmhooks); QEMU is a `sleep` whose guest memory is a file of
# that size on a hugetlbfs mounted in the namespace (fallocate takes the
# pages from the pool as QEMU's mapping would; rm gives them back).
#   1. A (512 MiB) and B (256 MiB) start: each gets what it lacks; the pool
#      is what an independent oracle computes after every call; stopped in
#      both orders, nr_hugepages, free_hugepages and surplus_hugepages end
#      exactly as before
#   2. more than the memory (MemAvailable + 1 GiB): refused before
#      anything is allocated, with the numbers
#   3. a VM whose second NUMA cell wants 1 GiB pages where this kernel has
#      none (or too few): the 2 MiB pages this call added are given back,
#      the start refused with the numbers
#   4. allocate="no": refused with the numbers, the pool untouched
#   5. a release while the pages are still mapped: surplus, which the
#      kernel frees when they are unmapped (run before 4, with the pool on)
# Runnable alone (bash tests/realhost/t-hugepool.sh) and from
# tests/realhost/run.sh.  Ends with "N passed, N failed, N skipped".
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/tests/count.sh"
B=${BUILD:-build}
[[ $B == /* ]] || B=$repo/$B
HOOK=${VH_HOOK:-$B/qemu-hook}
SAVED=/var/tmp/vmhooks-hugepool.saved
G=/sys/kernel/mm/hugepages/hugepages-2048kB

finish() { count_report realhost-hugepool; count_line; }
bail_skip() { skip "$1"; finish; exit 0; }

pool_files() {
    local f
    for f in /sys/kernel/mm/hugepages/hugepages-*/nr_hugepages \
        /sys/devices/system/node/node*/hugepages/hugepages-*/nr_hugepages; do
        [[ -f $f ]] && echo "$f"
    done
}
# the counters a test compares: every pool's nr, free and surplus
counters() {
    local d
    for d in /sys/kernel/mm/hugepages/hugepages-* /sys/devices/system/node/node*/hugepages/hugepages-*; do
        [[ -d $d ]] && echo "$d nr=$(cat "$d/nr_hugepages") free=$(cat "$d/free_hugepages") surplus=$(cat "$d/surplus_hugepages")"
    done
}
restore_pools() { # write back what the save holds; 1 when something still differs
    local f v bad=0
    [[ -f $SAVED ]] || return 0
    while read -r f v; do
        [[ $(cat "$f") == "$v" ]] || echo "$v" >"$f" 2>/dev/null
        [[ $(cat "$f") == "$v" ]] || bad=1
    done <"$SAVED"
    return $bad
}

if [[ ${HUGEPOOL_INSIDE:-} != 1 ]]; then
    [[ ${VMHOOKS_REALHOST:-1} == 0 ]] && bail_skip "hugepool real-kernel test: VMHOOKS_REALHOST=0 (this machine's pools must not be changed)"
    [[ $(id -u) == 0 ]] || bail_skip "hugepool real-kernel test: needs root (uid $(id -u)) to write the real hugepage pools"
    [[ -w $G/nr_hugepages ]] || bail_skip "hugepool real-kernel test: this kernel has no writable 2 MiB pool ($G)"
    grep -qw hugetlbfs /proc/filesystems || bail_skip "hugepool real-kernel test: no hugetlbfs in this kernel"
    command -v unshare >/dev/null || bail_skip "hugepool real-kernel test: no unshare (util-linux)"
    [[ -x $HOOK ]] || { nok "$HOOK is missing: run make first"; finish; exit 1; }
    grep -aq "hugepage-pool" "$HOOK" || bail_skip "hugepool real-kernel test: $HOOK has no <hugepage-pool> (built before issue 18)"
    # a run killed earlier left its save: put that back first
    if [[ -f $SAVED ]]; then
        restore_pools && ok "the pools a killed earlier run left are back to its save" ||
            nok "could not restore the pools an earlier run left ($SAVED)"
    fi
    for f in $(pool_files); do echo "$f $(cat "$f")"; done >"$SAVED.tmp" && mv "$SAVED.tmp" "$SAVED"
    before=$(counters)
    trap 'restore_pools || echo "# could not restore every pool from $SAVED"; rm -f "$SAVED"' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM HUP
    echo "# real hugepage pools of $(uname -r) before:"
    printf '%s\n' "$before" | sed 's/^/#   /'
    out=$(mktemp)
    HUGEPOOL_INSIDE=1 VH_HOOK=$HOOK unshare --mount --propagation private -- bash "$0" 2>&1 | tee "$out"
    read -r p f s < <(count_parse_line "$(grep -E "$count_closing_re" "$out" | tail -n1)" || echo "0 1 0")
    pass=$p fail=$f skipped=$s
    while IFS= read -r l; do skip_reasons+=("${l#skip - }"); done < <(grep '^skip - ' "$out")
    rm -f "$out"
    now=$(counters)
    if [[ $now == "$before" ]]; then
        ok "after the run every pool's nr, free and surplus are exactly as before"
    else
        nok "the run left the pools changed:"
        diff <(printf '%s\n' "$before") <(printf '%s\n' "$now") | sed 's/^/    | /'
    fi
    finish
    ((fail == 0))
    exit
fi

# ---- inside the private mount namespace ----------------------------------------
ok() { pass=$((pass + 1)); echo "ok   - $*"; }
is() { if [[ $2 == "$3" ]]; then ok "$1 = $3"; else nok "$1 = '$2', expected '$3'"; fi; }
WORK=/run/hugepool
sleeps=()
cleanup() { local p; for p in "${sleeps[@]}"; do kill "$p" 2>/dev/null; done; rm -f "$WORK"/huge/* 2>/dev/null; }
trap cleanup EXIT

mount -t tmpfs -o mode=0755 hugepool-run /run || { nok "tmpfs over /run"; count_line; exit 1; }
mkdir -p "$WORK/huge" /run/libvirt/qemu
for d in /etc/vmhooks /var/log/vmhooks /var/lib/vmhooks; do
    mkdir -p "$d" && mount -t tmpfs -o mode=0755 hugepool-tmpfs "$d" || { nok "tmpfs over $d"; count_line; exit 1; }
done
mount -t hugetlbfs -o pagesize=2M hugepool-huge "$WORK/huge" || { nok "hugetlbfs in the namespace"; count_line; exit 1; }
policy() { printf '<policy xmlns="urn:vmhooks:policy:1">%s</policy>\n' "$1" >/etc/vmhooks/policy.xml; }

# the pool vmhooks tunes here: node 0's where the kernel has node pools (lib/hugepool.h), else the global one
N=/sys/devices/system/node/node0/hugepages/hugepages-2048kB
[[ -d $N ]] || N=$G
nr() { cat $G/nr_hugepages; }
free_pages() { cat $G/free_hugepages; }
persist() { echo $(($(cat $N/nr_hugepages) - $(cat $N/surplus_hugepages))); }

uuid() { printf '7e57%04x-0000-4000-8000-%012x' "$(printf '%d' "'$1")" "$(printf '%d' "'$1")"; }
xml() { # xml VM MiB [EXTRA-MEMORY-BACKING-AND-CPU]
    printf "<domain type='kvm'><name>%s</name><uuid>%s</uuid><memory unit='MiB'>%s</memory>" "$1" "$(uuid "$1")" "$2"
    printf "<vcpu placement='static'>2</vcpu>%s" "${3:-<memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages></memoryBacking>}"
    printf "<os><type arch='x86_64'>hvm</type></os><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>\n"
}
rc_call=0
call() { # call VM OP SUBOP [XML]
    local x=${4:-$(xml "$1" "${MIB[$1]}")}
    env -i "$HOOK" "$1" "$2" "$3" - <<<"$x" >"$WORK/out" 2>"$WORK/err"
    rc_call=$?
}
declare -A MIB QPID
# QEMU: a sleep, and its guest memory taken from the pool as QEMU's mapping would
up() {
    fallocate -l "${MIB[$1]}M" "$WORK/huge/$1" || nok "fallocate ${MIB[$1]} MiB of hugepages for $1"
    sleep 3600 & QPID[$1]=$!; sleeps+=($!); echo "${QPID[$1]}" >"/run/libvirt/qemu/$1.pid"
}
down() { kill "${QPID[$1]}" 2>/dev/null; wait "${QPID[$1]}" 2>/dev/null; rm -f "$WORK/huge/$1" "/run/libvirt/qemu/$1.pid"; }
start() {
    call "$1" prepare begin
    ((rc_call == 0)) || return 1
    call "$1" start begin
    up "$1"
    call "$1" started begin
}
stop() { down "$1"; call "$1" stopped end; call "$1" release end; }

# ---- 1. two VMs, both stop orders, against an oracle -------------------------------
echo "=== 1. two VMs allocate real 2 MiB pages; freed in both orders"
policy "<hugepage-pool/>"
MIB[A]=512 MIB[B]=256
declare -A NEED=([A]=256 [B]=128)
base_persist=$(persist) base_free=$(cat $N/free_hugepages)
base_counters=$(grep -h . $N/nr_hugepages $N/free_hugepages $N/surplus_hugepages $G/nr_hugepages $G/free_hugepages $G/surplus_hugepages | tr '\n' ' ')
for order in "A B" "B A"; do
    # the oracle: a VM gets what it lacks of the free pages (free - reserved); release gives back what it got
    P=$base_persist
    declare -A ADDED=()
    for v in A B; do
        usable=$(($(free_pages) - $(cat $G/resv_hugepages)))
        ((usable < 0)) && usable=0
        lack=$((NEED[$v] > usable ? NEED[$v] - usable : 0))
        if start "$v"; then ok "$v starts"; else nok "$v refused: $(cat "$WORK/err")"; fi
        ADDED[$v]=$lack
        P=$((P + lack))
        is "after $v's start, the pool it is given ($N)" "$(persist)" "$P"
        grep -q "hugepage-pool: added $lack pages" /var/log/vmhooks/$v.log 2>/dev/null || ((lack == 0)) ||
            nok "$v.log does not say it added $lack pages"
    done
    is "both running: free pages ($N)" "$(cat $N/free_hugepages)" "$((P - NEED[A] - NEED[B] - (base_persist - base_free)))"
    for v in $order; do
        stop "$v"
        P=$((P - ADDED[$v]))
        is "after $v's stop (order $order), the pool" "$(persist)" "$P"
        ((ADDED[$v] == 0)) || grep -q -- "-> $P" /var/log/vmhooks/$v.log || nok "$v.log does not show the pool given back to $P"
    done
    now_counters=$(grep -h . $N/nr_hugepages $N/free_hugepages $N/surplus_hugepages $G/nr_hugepages $G/free_hugepages $G/surplus_hugepages | tr '\n' ' ')
    is "order $order: nr, free, surplus (node, then global) as before" "$now_counters" "$base_counters"
    if grep -aq '^knob hugepages' /run/vmhooks/state 2>/dev/null; then
        nok "a pool record is left: $(grep -a '^knob hugepages' /run/vmhooks/state)"
    else
        ok "order $order: no pool record left in the state (the original forgotten with the last VM)"
    fi
done

# ---- 2. more than the memory: refused up front --------------------------------------
echo "=== 2. more than the memory: refused before anything is allocated"
avail_mib=$(($(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo) / 1024))
MIB[C]=$((avail_mib + 1024))
before=$(persist)
call C prepare begin
is "C's prepare exit status" "$rc_call" 1
cneed=$(((MIB[C] + 1) / 2)) # pages of 2 MiB, rounded up
for want in "needs $cneed pages of 2 MiB" "vmhooks did not allocate: adding" "available"; do
    grep -qF -- "$want" "$WORK/err" && ok "C's refusal says: $want" || nok "C's refusal lacks \"$want\": $(cat "$WORK/err")"
done
is "the pool after C's refusal" "$(persist)" "$before"
call C release end

# ---- 3. a shortfall in the middle: what this call added goes back --------------------
echo "=== 3. the 2 MiB part allocated, the 1 GiB part impossible: given back, refused"
MIB[D]=1536
DXML=$(xml D 1536 "<memoryBacking><hugepages><page size='2048' unit='KiB' nodeset='0'/><page size='1048576' unit='KiB' nodeset='1'/></hugepages></memoryBacking><cpu><numa><cell id='0' cpus='0' memory='512' unit='MiB'/><cell id='1' cpus='1' memory='1024' unit='MiB'/></numa></cpu>")
gig=/sys/kernel/mm/hugepages/hugepages-1048576kB
before=$(persist)
if [[ -d $gig && $(cat $gig/free_hugepages) -ge 1 ]]; then
    skip "1 GiB shortfall: this kernel has free 1 GiB pages ($gig), the VM would start"
else
    call D prepare begin "$DXML"
    is "D's prepare exit status" "$rc_call" 1
    grep -q "needs 1 pages of 1 GiB" "$WORK/err" && ok "D is refused with the numbers: $(cat "$WORK/err")" ||
        nok "D's refusal lacks the numbers: $(cat "$WORK/err")"
    grep -q "hugepage-pool: added 256 pages" /var/log/vmhooks/D.log && ok "D.log: its 256 pages of 2 MiB were added first" ||
        nok "D.log does not show the 2 MiB pages added: $(cat /var/log/vmhooks/D.log)"
    is "the pool after D's refusal (its pages given back)" "$(persist)" "$before"
    call D release end "$DXML"
fi

# ---- 5. released while its pages are still mapped: surplus, freed by the kernel at unmap ----
echo "=== 5. a release while QEMU still maps its pages"
MIB[F]=64
before=$(persist) before_nr=$(cat $N/nr_hugepages)
usable=$(($(free_pages) - $(cat $G/resv_hugepages)))
if ((usable >= 32)); then
    skip "surplus at release: the administrator's pool has $usable free pages, nothing would be added for F"
else
    start F && ok "F starts" || nok "F refused: $(cat "$WORK/err")"
    kill "${QPID[F]}" 2>/dev/null
    call F stopped end
    call F release end
    is "F released, its file still mapped: the persistent pool" "$(persist)" "$before"
    is "F released, its file still mapped: surplus pages" "$(cat $N/surplus_hugepages)" 32
    rm -f "$WORK/huge/F"
    is "F's pages unmapped: nr_hugepages" "$(cat $N/nr_hugepages)" "$before_nr"
    is "F's pages unmapped: surplus" "$(cat $N/surplus_hugepages)" 0
fi

# ---- 4. allocate="no": the pool is only checked ----------------------------------
echo "=== 4. allocate=\"no\": refused with the numbers, nothing allocated"
policy '<hugepage-pool allocate="no"/>'
MIB[E]=256
before=$(persist)
usable=$(($(free_pages) - $(cat $G/resv_hugepages)))
if ((usable >= 128)); then
    skip "allocate=no: the administrator's pool has $usable free pages, E would start anyway"
else
    call E prepare begin
    is "E's prepare exit status" "$rc_call" 1
    grep -q "VM E needs 128 pages of 2 MiB (256 MiB), only $usable usable" "$WORK/err" &&
        ok "E is refused with the numbers: $(cat "$WORK/err")" || nok "E's refusal: $(cat "$WORK/err")"
    is "the pool after E's refusal" "$(persist)" "$before"
    call E release end
fi
count_line
((fail == 0))
