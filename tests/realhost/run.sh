#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make realhost: the hook against the REAL sysfs of this kernel, no stand-ins.
#
# As root, on a machine whose knobs may be changed (the build and CI
# machines are disposable VMs), the hook as it is installed (no
# VMHOOKS_ROOT) is called the way libvirt calls it (domain XML on stdin, an
# empty environment) in a private mount namespace: tmpfs over /run (so
# /run/vmhooks and /run/libvirt/qemu), /etc/vmhooks, /var/log/vmhooks and
# /var/lib/vmhooks; /sys and /proc are the real ones.  QEMU is a `sleep`
# with a pidfile in /run/libvirt/qemu.  Scenarios:
#   1. three VMs come and go: THP enabled (and defrag), the unbound
#      workqueue mask and every per-workqueue mask, halt_poll_ns (read-only
#      on these machines: "cannot be tuned here"); after each call every
#      knob that changed is in the calling VM's log (no silent write)
#   2. the hook SIGKILLed at every fault point of a stop (A's, which hands
#      THP and defrag over to B) and of a start (C's, shared memory)
#      (VMHOOKS_FAULT; build/test/qemu-hook when `make test-binaries` has it)
#   3. the state write fails (ENOSPC)
#   4. a damaged state file (a garbled VM record, an unknown record type)
#   5. vmhooks restore [--force]
#   6. t-real-guests.sh: the integration suite's one-guest and concurrent
#      scenarios with a real libvirtd + QEMU on the real knobs
#      (VH_REALHOST_GUESTS=0 leaves it out, and 8 too)
#   7. IRQ isolation on the real /proc/irq: two VMs, SIGKILLs
#   8. t-isolate-guests.sh: two pinned guests under <isolate/> on a real
#      libvirtd, destroyed in both orders (IRQs, workqueues, irqbalance)
#   9. t-hugepool.sh: <hugepage-pool> on the real 2 MiB pools (runnable alone)
# After each, every knob reads back byte for byte what it read before.
# A trap (and, after a SIGKILL of this script, the next run) restores the
# knobs from the save in /var/tmp (tests/realknobs.sh).
#
# Not root, or VMHOOKS_REALHOST=0: says so and counts as skipped, never as
# passed.  Ends with "N passed, N failed, N skipped".
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
. "$repo/tests/count.sh"
. "$repo/tests/realknobs.sh"
B=${BUILD:-build}
[[ $B == /* ]] || B=$repo/$B
HOOK=${VH_HOOK:-$B/qemu-hook}
FAULT_HOOK=$HOOK
[[ -x $B/test/qemu-hook ]] && FAULT_HOOK=$B/test/qemu-hook
TOOL=${VH_TOOL:-$B/vmhooks}

T=/sys/kernel/mm/transparent_hugepage
THP=$T/enabled DEFRAG=$T/defrag SHMEM=$T/shmem_enabled
WQ=/sys/devices/virtual/workqueue/cpumask
WQREQ=/sys/devices/virtual/workqueue/cpumask_requested
HALT=/sys/module/kvm/parameters/halt_poll_ns
ONLINE=/sys/devices/system/cpu/online

bail_skip() { # the whole tier cannot run here
    skip "$1"
    count_report realhost
    count_line
    exit 0
}

# ---- outside: decide, save, trap, run the namespace part, compare -------------
if [[ ${REALHOST_INSIDE:-} != 1 ]]; then
    [[ ${VMHOOKS_REALHOST:-1} == 0 ]] && bail_skip "real-kernel tier: VMHOOKS_REALHOST=0 (this machine's knobs must not be changed)"
    [[ $(id -u) == 0 ]] || bail_skip "real-kernel tier: needs root (uid $(id -u)) to write the real sysfs knobs"
    command -v unshare >/dev/null || bail_skip "real-kernel tier: no unshare (util-linux)"
    [[ -x $HOOK ]] || { nok "$HOOK is missing: run make first"; count_report realhost; count_line; exit 1; }
    rk_begin || { nok "could not save the real knobs"; count_report realhost; count_line; exit 1; }
    before=$(rk_snapshot)
    trap 'rk_end' EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM HUP
    echo "# real knobs of $(uname -r), $(nproc) CPUs (saved in $RK_SAVED):"
    rk_snapshot | grep -v -e /proc/irq/ -e /hugepages- | sed 's/^/#   /;s/\t/ = /'
    out=$(mktemp)
    REALHOST_INSIDE=1 HOOK=$HOOK FAULT_HOOK=$FAULT_HOOK TOOL=$TOOL \
        unshare --mount --propagation private -- bash "$0" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    read -r p f s < <(count_parse_line "$(grep -E "$count_closing_re" "$out" | tail -n1)" || echo "0 0 0")
    pass=$p fail=$f skipped=$s
    while IFS= read -r l; do skip_reasons+=("${l#skip - }"); done < <(grep '^skip - ' "$out")
    rm -f "$out"
    ((rc == 0 || f > 0)) || nok "the namespace part exited $rc"
    if diff=$(rk_compare "$RK_SAVED"); then
        ok "after the whole run every real knob reads byte for byte what it read before ($(rk_files | wc -l) files)"
    else
        nok "the run left real knobs changed (restored from the save now):"
        printf '%s\n' "$diff" | sed 's/^/    | /'
    fi
    rk_end || nok "the trap could not restore every knob"
    is_now=$(rk_snapshot)
    [[ $is_now == "$before" ]] && ok "after the restore: the host is as it was" || nok "after the restore the host still differs"
    trap - EXIT
    # the integration suite's one-guest and concurrent scenarios on the real
    # knobs, with a real libvirtd + QEMU (sandbox.sh, VH_REAL_KNOBS=1)
    if [[ ${VH_REALHOST_GUESTS:-1} == 1 ]]; then
        echo "=== 6. real libvirtd + QEMU guests on the real knobs (t-real-guests.sh)"
        out=$(mktemp)
        VH_TEST_SUMMARY="" BUILD=$B bash "$repo/tests/integration/run.sh" "$here/t-real-guests.sh" 2>&1 | tee "$out"
        read -r p f s < <(count_parse_line "$(grep -E "$count_closing_re" "$out" | tail -n1)" || echo "0 1 0")
        pass=$((pass + p)) fail=$((fail + f)) skipped=$((skipped + s))
        while IFS= read -r l; do skip_reasons+=("${l#skipped: }"); done < <(grep '^skipped: ' "$out")
        rm -f "$out"
        echo "=== 8. two pinned guests isolated from every source, on the real knobs (t-isolate-guests.sh)"
        out=$(mktemp)
        VH_TEST_SUMMARY="" BUILD=$B bash "$repo/tests/integration/run.sh" "$here/t-isolate-guests.sh" 2>&1 | tee "$out"
        read -r p f s < <(count_parse_line "$(grep -E "$count_closing_re" "$out" | tail -n1)" || echo "0 1 0")
        pass=$((pass + p)) fail=$((fail + f)) skipped=$((skipped + s))
        while IFS= read -r l; do skip_reasons+=("${l#skipped: }"); done < <(grep '^skipped: ' "$out")
        rm -f "$out"
    else
        skip "real libvirtd + QEMU guests on the real knobs: VH_REALHOST_GUESTS=0"
    fi
    # hugepages just in time on the real 2 MiB pools (saved and restored by the script itself)
    echo "=== 9. hugepage pools sized just in time (t-hugepool.sh)"
    out=$(mktemp)
    VH_TEST_SUMMARY="" BUILD=$B VH_HOOK=$HOOK bash "$here/t-hugepool.sh" 2>&1 | tee "$out"
    read -r p f s < <(count_parse_line "$(grep -E "$count_closing_re" "$out" | tail -n1)" || echo "0 1 0")
    pass=$((pass + p)) fail=$((fail + f)) skipped=$((skipped + s))
    while IFS= read -r l; do skip_reasons+=("${l#skip - }"); done < <(grep '^skip - ' "$out")
    rm -f "$out"
    count_report realhost
    count_line
    ((fail == 0))
    exit
fi

# ---- inside the private mount namespace ----------------------------------------
QUIET=0   # 1: count passes without printing them (the kill loop checks hundreds)
ok() { pass=$((pass + 1)); ((QUIET)) || echo "ok   - $*"; }
is() { if [[ $2 == "$3" ]]; then ok "$1 = $3"; else nok "$1 = '$2', expected '$3'"; fi; }
WORK=/run/realhost
sleeps=()
cleanup() { local p; for p in "${sleeps[@]}"; do kill "$p" 2>/dev/null; done; }
trap cleanup EXIT

mount -t tmpfs -o mode=0755 realhost-run /run || { nok "tmpfs over /run"; count_line; exit 1; }
mkdir -p "$WORK" /run/libvirt/qemu
for d in /etc /var/log /var/lib; do
    n=${d//\//_}
    mkdir -p "$WORK/ovl/$n/u" "$WORK/ovl/$n/w"
    mount -t overlay "realhost-ovl$n" -o "lowerdir=$d,upperdir=$WORK/ovl/$n/u,workdir=$WORK/ovl/$n/w" "$d" ||
        { nok "overlay over $d"; count_line; exit 1; }
done
for d in /etc/vmhooks /var/log/vmhooks /var/lib/vmhooks; do
    mkdir -p "$d" && mount -t tmpfs -o mode=0755 realhost-tmpfs "$d" || { nok "tmpfs over $d"; count_line; exit 1; }
done
cp "$repo/etc/policy.xml" /etc/vmhooks/policy.xml

# What this build handles (issue 12 lands piece by piece): a piece that is
# not there yet is a skip with its reason, never a pass.
has() { grep -aq -- "$1" "$2" 2>/dev/null; }
HAS_DEFRAG=0; grep -q 'name="defrag"' "$repo/etc/policy.rng" && HAS_DEFRAG=1
HAS_UNTUNABLE=0; has "cannot be tuned here" "$HOOK" && HAS_UNTUNABLE=1
HAS_REQUESTED=0; has "cpumask_requested" "$HOOK" && HAS_REQUESTED=1
HAS_WQ_FAMILY=0; has "wq_cpumask" "$HOOK" && HAS_WQ_FAMILY=1
HAS_DAMAGE=0; has "state.damaged" "$HOOK" && HAS_DAMAGE=1
HAS_RESTORE=0; "$TOOL" restore --help >/dev/null 2>&1 && HAS_RESTORE=1

# the knobs: what they read now (kernel format), and the plan
b_thp=$(cat $THP) b_defrag=$(cat $DEFRAG 2>/dev/null) b_shmem=$(cat $SHMEM 2>/dev/null) b_wq=$(cat $WQ) b_halt=$(cat $HALT 2>/dev/null)
o_thp=$(rk_word "$b_thp") o_defrag=$(rk_word "$b_defrag") o_shmem=$(rk_word "$b_shmem")
HAS_SHMEM=0; has "thp_shmem" "$HOOK" && HAS_SHMEM=1
o_wq=$(cat $WQREQ 2>/dev/null || cat $WQ)
queues=()
for q in /sys/bus/workqueue/devices/*/cpumask; do [[ -f $q ]] && queues+=("$q"); done
declare -A b_q
for q in "${queues[@]}"; do b_q[$q]=$(cat "$q"); done
last_cpu=$(tr ',' '\n' <$ONLINE | tail -1); last_cpu=${last_cpu##*-}
ISO=$last_cpu          # the CPU the pinned VMs isolate from kworkers
[[ $last_cpu -ge 1 ]] || skip "kworker isolation on the real masks: one CPU online, nothing can be isolated"

# THP priority (lib/reconcile.h): never > always > madvise > original
thp_want() { local w; for w in never always madvise; do [[ " $* " == *" $w "* ]] && { echo $w; return; }; done; echo "$o_thp"; }
shmem_want() { local w; for w in never always advise; do [[ " $* " == *" $w "* ]] && { echo $w; return; }; done; echo "$o_shmem"; }
# defrag (the fewest stalls wins): never > defer > defer+madvise > madvise > always
defrag_want() { local w; for w in never defer defer+madvise madvise always; do [[ " $* " == *" $w "* ]] && { echo $w; return; }; done; echo "$o_defrag"; }
# a mask without the isolated CPUs; with no CPU left, the original
mask_want() { # ORIGINAL-MASK ISOLATE(0|1)
    local m; m=$(rk_maskval "$1")
    (($2)) && m=$((m & ~(1 << ISO)))
    ((m)) || m=$(rk_maskval "$1")
    echo $m
}
# VMs: A never + defrag never + halt 400000 + isolate, pinned to ISO;
# B always + isolate, pinned to ISO; C madvise + halt 300000, unpinned.
declare -A POL PIN THPD DEFD ISOD
HAS_ISOLATE=0; grep -q 'name="isolate"' "$repo/etc/policy.rng" && HAS_ISOLATE=1
POL[A]="<vmhooks:thp mode='never'$( ((HAS_DEFRAG)) && echo " defrag='never'")/><vmhooks:halt-poll ns='400000'/><vmhooks:kworkers isolate='yes'/>"
POL[B]="<vmhooks:thp mode='always'$( ((HAS_DEFRAG)) && echo " defrag='defer'")/><vmhooks:kworkers isolate='yes'/>"
POL[C]="<vmhooks:thp mode='madvise'/><vmhooks:halt-poll ns='300000'/>"
# D: isolated from IRQs (and irqbalance) only, pinned to ISO; E: the same, pinned to CPU 0
POL[D]="<vmhooks:isolate workqueues='no' tasks='no'/>"
POL[E]="<vmhooks:isolate workqueues='no' tasks='no'/>"
PIN[A]=$ISO PIN[B]=$ISO PIN[C]="" PIN[D]=$ISO PIN[E]=0
THPD[D]="" THPD[E]="" DEFD[D]="" DEFD[E]="" ISOD[D]=0 ISOD[E]=0
THPD[A]=never THPD[B]=always THPD[C]=madvise
DEFD[A]=never DEFD[B]=defer DEFD[C]=""
# C's RAM is shared memory (memfd, as virtiofs and vhost-user need): its THP mode reaches shmem_enabled
declare -A MEMB SHMD
MEMB[C]="<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>"
SHMD[A]="" SHMD[B]="" SHMD[C]=advise
ISOD[A]=1 ISOD[B]=1 ISOD[C]=0
((HAS_DEFRAG)) || DEFD[A]="" DEFD[B]=""
uuid() { case $1 in A) echo 7e57a000-0000-4000-8000-00000000000a ;; B) echo 7e57b000-0000-4000-8000-00000000000b ;;
         D) echo 7e57d000-0000-4000-8000-00000000000d ;; E) echo 7e57e000-0000-4000-8000-00000000000e ;;
         *) echo 7e57c000-0000-4000-8000-00000000000c ;; esac; }
xml() { # xml VM [ON-ERROR]
    local v=$1 pin="" extra=${2:-}
    [[ -n ${PIN[$v]} ]] && pin="<cputune><vcpupin vcpu='0' cpuset='${PIN[$v]}'/></cputune>"
    printf "<domain type='kvm'><name>%s</name><uuid>%s</uuid><memory unit='KiB'>65536</memory>" "$v" "$(uuid "$v")"
    printf "<vcpu placement='static'>1</vcpu>%s%s" "$pin" "${MEMB[$v]:-}"
    printf "<metadata><vmhooks:policy xmlns:vmhooks='urn:vmhooks:policy:1'>%s%s</vmhooks:policy></metadata>" "${POL[$v]}" "$extra"
    printf "<os><type arch='x86_64'>hvm</type></os><devices><emulator>/usr/bin/qemu-system-x86_64</emulator></devices></domain>\n"
}

declare -A QPID
running=()
up() { sleep 3600 & QPID[$1]=$!; sleeps+=($!); echo "${QPID[$1]}" >"/run/libvirt/qemu/$1.pid"; }
down() {
    if [[ -n ${QPID[$1]:-} ]]; then kill "${QPID[$1]}" 2>/dev/null; wait "${QPID[$1]}" 2>/dev/null; fi
    unset "QPID[$1]"
    rm -f "/run/libvirt/qemu/$1.pid"
}
vmlog() { cat "/var/log/vmhooks/$1.log" 2>/dev/null; }

# The knobs a call may change, and the names the log gives them
IRQDEF=/proc/irq/default_smp_affinity
irqfiles=()
for q in /proc/irq/*/smp_affinity_list; do [[ -f $q ]] && irqfiles+=("$q"); done
WATCHED=("$THP" "$DEFRAG" "$SHMEM" "$WQ" "$HALT" "${queues[@]}" "$IRQDEF" "${irqfiles[@]}")
logname() {
    case $1 in
    "$THP") echo "thp" ;; "$DEFRAG") echo "thp_defrag" ;; "$SHMEM") echo "thp_shmem" ;; "$WQ") echo "workqueue_cpumask" ;;
    "$HALT") echo "halt_poll_ns" ;; */devices/writeback/cpumask) echo "(writeback_cpumask|wq_cpumask:writeback)" ;;
    */devices/*/cpumask) q=${1%/cpumask}; echo "wq_cpumask:${q##*/}" ;;
    "$IRQDEF") echo "irq_default" ;;
    /proc/irq/*/smp_affinity_list) q=${1%/smp_affinity_list}; echo "irq:${q##*/}" ;;
    esac
}
logval() { [[ $1 == *"["* ]] && rk_word "$1" || echo "$1"; }
# call VM OP SUBOP [HOOK] [ENV...]: as libvirt does; then every knob that
# changed must appear in VM's log as "NAME: OLD -> NEW" (no silent write).
# A call SIGKILLed between a write and its log line cannot log it: then the
# next call (the one that finds the write-ahead intent) must name the knob
# with the value the dead call wrote ("NAME: NEW -> ..."), or the write went
# unrecorded.
rc_call=0
PENDING=()   # "PATH|NAME|FROM|TO|WHO" of writes by a killed call not logged yet
logre() { sed 's/[+.]/\\&/g' <<<"$1"; }
call() {
    local v=$1 op=$2 sub=$3 hook=${4:-$HOOK} f before_log
    shift 3; (($#)) && shift
    declare -A pre
    for f in "${WATCHED[@]}"; do pre[$f]=""; rk_read "pre[$f]" "$f"; done
    before_log=$(stat -c %s "/var/log/vmhooks/$v.log" 2>/dev/null || echo 0)
    xml "$v" "${XML_EXTRA:-}" >"$WORK/in.xml"
    # (in a subshell: bash reports no "Killed" line for a fault-injected SIGKILL)
    (env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=/root "$@" "$hook" "$v" "$op" "$sub" - \
        <"$WORK/in.xml" >"$WORK/out" 2>"$WORK/err"; echo $? >"$WORK/rc") 2>/dev/null
    rc_call=$(cat "$WORK/rc")
    local new="" now pend
    if ((${#PENDING[@]})); then
        new=$(vmlog "$v" | tail -c +$((before_log + 1)))
        for pend in "${PENDING[@]}"; do
            IFS='|' read -r f name from to who <<<"$pend"
            # the write itself ("FROM -> TO; written by an earlier hook call that was killed ..."), or a
            # change that starts from what it wrote
            if grep -qE "(^|[ (])$name: ($(logre "$from") -> $(logre "$to")([; ]|$)|$(logre "$to") -> )" <<<"$new"; then
                ok "$who wrote $f $from -> $to and was killed before its log line; $v $op $sub's log names it"
            else
                nok "$who wrote $f $from -> $to and was killed before logging it; the next call ($v $op $sub) does not name it either: an unrecorded write:"
                printf '%s\n' "$new" | sed 's/^/    | /'
            fi
        done
        PENDING=()
    fi
    for f in "${WATCHED[@]}"; do
        now=""; rk_read now "$f"
        [[ $now == "${pre[$f]}" ]] && continue
        [[ -n $new ]] || new=$(vmlog "$v" | tail -c +$((before_log + 1)))
        local from to name
        from=$(logval "${pre[$f]}") to=$(logval "$now") name=$(logname "$f")
        if grep -qE "(^|[ (])$name: $(logre "$from") -> $(logre "$to")([; ]|$)" <<<"$new"; then
            ok "$v $op $sub: $f $from -> $to, and $v.log says so"
        elif [[ $rc_call == 137 ]]; then
            PENDING+=("$f|$name|$from|$to|$v $op $sub (SIGKILLed)")
        else
            nok "$v $op $sub: $f changed $from -> $to, but $v.log has no line for it (a silent write):"
            printf '%s\n' "$new" | sed 's/^/    | /'
        fi
    done
    return $rc_call
}
start() { # start VM [HOOK ENV...]: prepare, start, QEMU up, started (a failed call stops it as libvirt does)
    local v=$1; shift
    call "$v" prepare begin "$@" || { call "$v" stopped end; call "$v" release end; return 1; }
    call "$v" start begin || { call "$v" stopped end; call "$v" release end; return 1; }
    up "$v"
    call "$v" started begin || { down "$v"; call "$v" stopped end; call "$v" release end; return 1; }
    running+=("$v")
}
stop() { # stop VM [HOOK ENV...]: QEMU gone, then stopped and release (libvirt sends release even when stopped failed)
    local v=$1; shift
    down "$v"
    call "$v" stopped end "$@"
    call "$v" release end
    local r=() x; for x in "${running[@]}"; do [[ $x != "$v" ]] && r+=("$x"); done; running=("${r[@]}")
}
# expect WHAT: every knob as the running VMs demand, in the kernel's format
expect() {
    local what=$1 v thps=() defs=() shms=() iso=0
    for v in "${running[@]}"; do
        [[ -n ${THPD[$v]} ]] && thps+=("${THPD[$v]}"); [[ -n ${DEFD[$v]} ]] && defs+=("${DEFD[$v]}"); ((ISOD[$v])) && iso=1
        [[ -n ${SHMD[$v]} ]] && shms+=("${SHMD[$v]}")
    done
    ((last_cpu >= 1)) || iso=0
    is "$what: $THP" "$(cat $THP)" "$(rk_select "$b_thp" "$(thp_want "${thps[@]}")")"
    if ((HAS_DEFRAG)); then
        is "$what: $DEFRAG" "$(cat $DEFRAG)" "$(rk_select "$b_defrag" "$(defrag_want "${defs[@]}")")"
    else
        is "$what: $DEFRAG untouched (this build does not tune it)" "$(cat $DEFRAG)" "$b_defrag"
    fi
    if ((HAS_SHMEM)); then
        is "$what: $SHMEM" "$(cat $SHMEM)" "$(rk_select "$b_shmem" "$(shmem_want "${shms[@]}")")"
    else
        is "$what: $SHMEM untouched (this build does not tune it)" "$(cat $SHMEM)" "$b_shmem"
    fi
    is "$what: $WQ (as a number)" "$(rk_maskval "$(cat $WQ)")" "$(mask_want "$o_wq" $iso)"
    if [[ -f $WQREQ ]] && ((HAS_REQUESTED)); then
        is "$what: $WQREQ (as a number)" "$(rk_maskval "$(cat $WQREQ)")" "$(mask_want "$o_wq" $iso)"
    fi
    local q
    for q in "${queues[@]}"; do
        if [[ $q == */writeback/cpumask ]] || ((HAS_WQ_FAMILY)); then
            is "$what: $q (as a number)" "$(rk_maskval "$(cat "$q")")" "$(mask_want "${b_q[$q]}" $iso)"
        else
            is "$what: $q untouched (this build tunes only writeback's)" "$(cat "$q")" "${b_q[$q]}"
        fi
    done
    is "$what: $HALT (read-only here) untouched" "$(cat $HALT 2>/dev/null)" "$b_halt"
}
# as_before WHAT: every knob reads byte for byte what it read when the test began
as_before() {
    local d
    if d=$(rk_compare "$RK_SAVED"); then ok "$1: every real knob reads byte for byte what it read before"
    else nok "$1: real knobs differ from before:"; printf '%s\n' "$d" | sed 's/^/    | /'; fi
}
# REALHOST_ONLY="7" (a list): run only those scenarios (development; CI runs them all)
want() { [[ -z ${REALHOST_ONLY:-} || " $REALHOST_ONLY " == *" $1 "* ]] || { skip "real-kernel scenario $1: left out by REALHOST_ONLY=$REALHOST_ONLY"; return 1; }; }
records() { local n; n=$(grep -c -E '^(vm|knob) ' /run/vmhooks/state 2>/dev/null); echo "${n:-0}"; }

if want 1; then
echo "=== 1. three VMs come and go on the real knobs"
# the knobs must differ from what the VMs demand, or nothing would be seen
[[ $o_thp != never ]] || skip "THP enabled reads never already: A's demand changes nothing visible"
start A && ok "A starts" || nok "A does not start: $(cat $WORK/err)"
expect "A running"
start B && ok "B starts" || nok "B does not start: $(cat $WORK/err)"
expect "A, B running"
start C && ok "C starts" || nok "C does not start: $(cat $WORK/err)"
expect "A, B, C running"
if [[ -f $HALT ]] && ! { : >>"$HALT"; } 2>/dev/null; then
    if ((HAS_UNTUNABLE)); then
        check "halt_poll_ns (mode $(stat -c %a $HALT)): A.log says it cannot be tuned here" \
            grep -q "halt_poll_ns.*cannot be tuned here" /var/log/vmhooks/A.log
        check "halt_poll_ns: no error line in A.log" bash -c '! grep -q "error:.*halt_poll_ns" /var/log/vmhooks/A.log'
    else
        skip "halt_poll_ns is read-only here (mode $(stat -c %a $HALT)), but this build has no \"cannot be tuned here\" path yet (issue 12)"
    fi
fi
if [[ -x $TOOL ]]; then
    st=$(env -i PATH=/usr/bin:/bin "$TOOL" status 2>&1)
    check "vmhooks status lists A, B and C as running" bash -c \
        'for v in A B C; do grep -q "^vm $v (uuid .*): running" <<<"$1" || exit 1; done' _ "$st"
fi
stop A
expect "B, C running"
stop B
expect "C running"
stop C
expect "none running"
as_before "after A, B and C"
is "state records left" "$(records)" 0
check "no error line in any VM's log" bash -c '! grep -h "error:" /var/log/vmhooks/*.log | grep -v halt_poll_ns | grep -q .'

# start under <on-error action="refuse"/>: a knob that cannot be tuned here is no error
if ((HAS_UNTUNABLE)); then
    XML_EXTRA="<vmhooks:on-error action='refuse'/>" start A && ok "A starts under on-error refuse although halt_poll_ns is read-only" \
        || nok "A refused under on-error refuse: $(cat $WORK/err)"
    stop A
    as_before "after A under on-error refuse"
else
    skip "on-error refuse with a read-only halt_poll_ns: this build has no \"cannot be tuned here\" path yet (issue 12)"
fi

fi # scenario 1
if want 2; then
echo "=== 2. the hook SIGKILLed at every fault point (A's stop, C's start)"
if [[ $FAULT_HOOK == "$HOOK" ]]; then echo "# fault seam: $HOOK (no build/test/qemu-hook)"; else echo "# fault seam: $FAULT_HOOK"; fi
kills=0
QUIET=1   # the passes of the loop are counted, not printed; failures are printed
for where in stop start; do
    for n in $(seq 1 12); do
        rm -rf /run/vmhooks /var/log/vmhooks/*
        start A; start B
        if [[ $where == stop ]]; then
            start C
            down A
            call A stopped end "$FAULT_HOOK" VMHOOKS_FAULT="*@$n=kill"
            hit=$rc_call
            call A release end
            running=(B C)
        else
            call C prepare begin "$FAULT_HOOK" VMHOOKS_FAULT="*@$n=kill"
            hit=$rc_call
            if [[ $hit == 0 ]]; then call C start begin; up C; call C started begin; running=(A B C)
            else call C stopped end; call C release end; running=(A B); fi
        fi
        [[ $hit == 137 ]] || { stop A; stop B; stop C; echo "# $where: killed at points 1-$((n - 1)); call $n has no point $n"; break; }
        kills=$((kills + 1))
        expect "killed in $where at point $n, then the next calls"
        for v in A B C; do [[ " ${running[*]} " == *" $v "* ]] && stop $v; done
        d=$(rk_compare "$RK_SAVED") && ok "killed in $where at point $n: after every VM stopped, every knob as before" ||
            { nok "killed in $where at point $n: knobs left changed:"; printf '%s\n' "$d" | sed 's/^/    | /'; }
    done
done
QUIET=0
((kills >= 4)) && ok "the hook was SIGKILLed at $kills points" || nok "only $kills kills happened (is VMHOOKS_FAULT honoured by $FAULT_HOOK?)"
as_before "after the kills"

fi # scenario 2
if want 3; then
echo "=== 3. the state cannot be written (ENOSPC)"
rm -rf /run/vmhooks /var/log/vmhooks/*
call A prepare begin "$FAULT_HOOK" VMHOOKS_FAULT="write:state@1=ENOSPC"
is "disk full: A's prepare exit status" "$rc_call" 0
check "disk full: A.log says why" grep -q "No space left on device" /var/log/vmhooks/A.log
call A stopped end; call A release end
as_before "after a disk-full prepare and A's stop"

fi # scenario 3
if want 4; then
echo "=== 4. a damaged state file"
rm -rf /run/vmhooks /var/log/vmhooks/*
if ((HAS_DAMAGE)); then
    start A; start B
    # B's registration garbled, a record of a type this vmhooks does not know, a torn line
    sed -i -e '/^vm .*name=B/s/ [a-z]*=/ \x01=/' /run/vmhooks/state
    printf 'future-record x=1\nknob th' >>/run/vmhooks/state
    start C && ok "C starts with a damaged state" || nok "C does not start with a damaged state"

    stop A; stop B; stop C
    as_before "after the damaged state and every VM's stop"
    check "the damaged lines were kept aside" bash -c 'ls /run/vmhooks/state.damaged.* >/dev/null 2>&1'
else
    skip "damaged state: this build moves the whole table aside (per-record damage is issue 12's core, not landed)"
fi

fi # scenario 4
if want 5; then
if ((HAS_RESTORE)); then
    echo "=== 5. vmhooks restore"
    rm -rf /run/vmhooks /var/log/vmhooks/*
    start A
    env -i PATH=/usr/bin:/bin "$TOOL" restore >"$WORK/out" 2>&1 && nok "vmhooks restore with A registered should refuse" ||
        ok "vmhooks restore refuses while A is registered"
    env -i PATH=/usr/bin:/bin "$TOOL" restore --force >"$WORK/out" 2>&1 && ok "vmhooks restore --force" ||
        nok "vmhooks restore --force: $(cat $WORK/out)"
    as_before "right after vmhooks restore --force with A running"
    stop A
    as_before "after A's stop"
else
    skip "vmhooks restore [--force]: not in this build yet (issue 12)"
fi

fi # scenario 5
if want 7; then
echo "=== 7. IRQs kept off a pinned VM's CPU on the real /proc/irq (issue 17)"
# irq_want ORIGINAL-LIST ISOLATED-BITS: the original without the isolated
# CPUs, or, with none of its own left, the online CPUs not isolated
online_bits=0
for c in $(seq 0 "$last_cpu"); do online_bits=$((online_bits | 1 << c)); done
list_bits() { local b=0 r a z; IFS=, read -ra r <<<"$1"; for a in "${r[@]}"; do z=${a#*-}; a=${a%-*}; for c in $(seq "$a" "$z"); do b=$((b | 1 << c)); done; done; echo $b; }
irq_want() { local w=$(( $(list_bits "$1") & ~$2 )); ((w)) || w=$((online_bits & ~$2)); echo $w; }
declare -A b_irq
for q in "${irqfiles[@]}"; do b_irq[$q]=$(cat "$q"); done
b_irqdef=$(cat $IRQDEF)
# the kernel refuses some IRQs' affinity (managed MSI-X of multi-queue devices): find them once, by
# writing each its own value back
declare -A fixed
untunable=0
for q in "${irqfiles[@]}"; do
    { printf '%s\n' "${b_irq[$q]}" >"$q"; } 2>/dev/null || { fixed[$q]=1; untunable=$((untunable + 1)); }
done
expect_irqs() { # WHAT ISOLATED-BITS
    local q bad=0 n=0 w
    for q in "${irqfiles[@]}"; do
        if ((${fixed[$q]:-0})); then
            [[ $(cat "$q") == "${b_irq[$q]}" ]] || { nok "$1: $q (the kernel's own) changed to $(cat "$q")"; bad=1; }
            continue
        fi
        w=$(irq_want "${b_irq[$q]}" "$2")
        if [[ $(list_bits "$(cat "$q")") != "$w" ]]; then
            nok "$1: $q reads $(cat "$q"), expected the CPUs of mask $w"; bad=1
        fi
        n=$((n + 1))
    done
    ((bad)) || ok "$1: all $n tunable IRQs on the expected CPUs, the kernel's $untunable as they were"
    local dw=$(( $(rk_maskval "$b_irqdef") & ~$2 )); ((dw)) || dw=$(rk_maskval "$b_irqdef")
    is "$1: $IRQDEF (as a number)" "$(rk_maskval "$(cat $IRQDEF)")" "$dw"
}
if ((!HAS_ISOLATE)); then
    skip "IRQ isolation: this build has no <isolate> (issue 17)"
elif ((last_cpu < 1)); then
    skip "IRQ isolation on the real IRQs: one CPU online, nothing can be isolated"
else
    rm -rf /run/vmhooks /var/log/vmhooks/*
    echo "# ${#irqfiles[@]} IRQs; the kernel refuses the affinity of $untunable of them"
    start D && ok "D (isolate irqs, pinned to CPU $ISO) starts" || nok "D does not start: $(cat $WORK/err)"
    expect_irqs "D running" $((1 << ISO))
    if ((untunable)); then
        check "D.log tells the $untunable IRQs the kernel keeps, in one note" \
            bash -c '[[ $(grep -c "IRQs\? cannot be tuned here" /var/log/vmhooks/D.log) == 1 ]]'
    fi
    check "no error line in D.log" bash -c '! grep -q "error:" /var/log/vmhooks/D.log'
    start E && ok "E (pinned to CPU 0) starts" || nok "E does not start: $(cat $WORK/err)"
    expect_irqs "D, E running (E would take the last housekeeping CPU: not isolated)" $((1 << ISO))
    check "E.log says its CPUs stay open to IRQs" grep -q "IRQs: this VM's CPUs 0 stay open to them" /var/log/vmhooks/E.log
    stop D
    expect_irqs "E running (now isolated: D is gone)" 1
    stop E
    as_before "after D and E"
    is "state records left" "$(records)" 0
    # SIGKILLed at fault points of D's start and of D's stop: every IRQ back after D stops.  A call
    # here has two points per IRQ (its write, its log line), so the points are sampled (1, 2, 3, 5,
    # 8, ... as long as the call has them) and then every one of the last few, where the state is
    # saved; scenario 2 kills at every point of a call with fewer knobs.
    kills=0
    QUIET=1
    for where in start stop; do
        n=1 a=1 b=2 tail=0
        while ((n < 400)); do
            rm -rf /run/vmhooks /var/log/vmhooks/*
            if [[ $where == start ]]; then
                call D prepare begin "$FAULT_HOOK" VMHOOKS_FAULT="*@$n=kill"; hit=$rc_call
                if [[ $hit == 0 ]]; then call D start begin; up D; call D started begin; running=(D)
                else call D stopped end; call D release end; running=(); fi
            else
                start D
                down D
                call D stopped end "$FAULT_HOOK" VMHOOKS_FAULT="*@$n=kill"; hit=$rc_call
                call D release end
                running=()
            fi
            for v in "${running[@]}"; do stop "$v"; done
            if [[ $hit != 137 ]]; then
                # past the call's last point: go back to the one after the last hit, then one by one
                ((tail)) && { echo "# IRQs, $where: the call has $((n - 1)) points; killed at $kills so far"; break; }
                tail=1 n=$((prev + 1))
                continue
            fi
            kills=$((kills + 1)) prev=$n
            if d=$(rk_compare "$RK_SAVED"); then
                ok "IRQs: killed in D's $where at point $n: after D stopped, every IRQ as before"
            else
                nok "IRQs: killed in D's $where at point $n: left changed:"; printf '%s\n' "$d" | sed 's/^/    | /'
                rk_restore "$RK_SAVED" >/dev/null # the next point starts from the host as it was
            fi
            if ((tail)); then n=$((n + 1)); else n=$b b=$((a + b)) a=$n; fi
        done
    done
    QUIET=0
    ((kills >= 4)) && ok "IRQs: the hook was SIGKILLed at $kills points" || nok "IRQs: only $kills kills happened"
    as_before "after the IRQ kills"
fi
fi # scenario 7
count_line
((fail == 0))
