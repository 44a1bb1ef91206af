#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The integration suite's one-guest and concurrent scenarios (t-one-guest.sh,
# t-concurrent.sh) once more, on the REAL knobs of this kernel instead of
# the plain files bound over them (sandbox.sh with VH_REAL_KNOBS=1): a real
# libvirtd + QEMU, vmhooks installed at its real paths inside the sandbox,
# and the kernel's own THP and workqueue files.  Expectations are computed
# from what the knobs read when the test starts; afterwards every knob reads
# byte for byte what it read before (and sandbox_reexec restores and fails
# the run if not).  Run by make realhost (tests/realhost/run.sh' companion);
# not in make integration, which never touches the real knobs.
export VH_REAL_KNOBS=1
. "$(dirname "$(readlink -f "$0")")/../integration/lib.sh"
. "$repo/tests/realknobs.sh"
sandbox_setup
vh_install
sandbox_start_daemons || sandbox_die "libvirtd did not start"

DEFRAG=/sys/kernel/mm/transparent_hugepage/defrag
b_thp=$(cat $THP) b_wq=$(cat $WQ) b_wb=$(cat $WB) b_halt=$(cat $HALT)
o_wq=$(cat /sys/devices/virtual/workqueue/cpumask_requested 2>/dev/null || echo "$b_wq")
last=$(tr ',' '\n' <$ONLINE | tail -1); ISO=${last##*-}
((ISO >= 1)) || { skip "one CPU online: nothing to isolate kworkers from"; finish; }
mask_without() { local m; m=$(rk_maskval "$1"); m=$((m & ~(1 << ISO))); ((m)) || m=$(rk_maskval "$1"); echo $m; }
declare -A b_q
for q in /sys/bus/workqueue/devices/*/cpumask; do [[ -f $q ]] && b_q[$q]=$(cat "$q"); done
# every WQ_SYSFS queue's own mask (writeback, blkcg_punt_bio): tuned where the hook knows the family
queues_while() { # WHAT
    local q
    for q in "${!b_q[@]}"; do
        if [[ $q == */writeback/cpumask ]] || grep -aq wq_cpumask /usr/libexec/vmhooks/qemu-hook; then
            is "$1: $q (as a number)" "$(maskval "$q")" "$(mask_without "${b_q[$q]}")"
        fi
    done
}
halt_tunable=1; { : >>"$HALT"; } 2>/dev/null || halt_tunable=0
as_before() {
    local d
    if d=$(rk_compare "$RK_SAVED"); then ok "$1: every real knob reads byte for byte what it read before"
    else nok "$1: real knobs differ from before:"; printf '%s\n' "$d" | sed 's/^/    | /'; fi
}
echo "# real knobs: THP '$b_thp', workqueue $b_wq (requested $o_wq), writeback $b_wb, halt_poll_ns $b_halt" \
     "($( ((halt_tunable)) && echo writable || echo "read-only, mode $(stat -c %a $HALT)")); VMs pinned to CPU $ISO"
[[ $(rk_word "$b_thp") != never ]] || skip "THP enabled reads never already: the guests' demand changes nothing visible"

echo "=== one guest"
vh_guest web1 "$ISO" '<vmhooks:thp mode="never"/><vmhooks:halt-poll ns="400000"/><vmhooks:kworkers isolate="yes"/>'
check "virsh start web1" sandbox_guest_start web1
is "domstate" "$(sandbox_guest_state web1)" running
is "THP while running (the kernel's format)" "$(knob $THP)" "$(rk_select "$b_thp" never)"
is "workqueue mask while running (as a number)" "$(maskval $WQ)" "$(mask_without "$o_wq")"
queues_while "while web1 runs"
if ((halt_tunable)); then
    is "halt_poll_ns while running" "$(knob $HALT)" 400000
else
    is "halt_poll_ns (read-only here) untouched" "$(knob $HALT)" "$b_halt"
    if grep -aq "cannot be tuned here" /usr/libexec/vmhooks/qemu-hook; then
        contains "web1.log" "$(vh_log web1)" "halt_poll_ns"
        check "web1.log: halt_poll_ns cannot be tuned here" grep -q "halt_poll_ns.*cannot be tuned here" /var/log/vmhooks/web1.log
    else
        skip "halt_poll_ns is read-only here, but the installed hook has no \"cannot be tuned here\" path yet (issue 12)"
    fi
fi
is "registrations" "$(vh_registered)" 1
contains "web1.log" "$(vh_log web1)" "prepare begin: thp: $(rk_word "$b_thp") -> never; demanded by web1 (thp never)"
contains "web1.log" "$(vh_log web1)" "prepare begin: workqueue_cpumask: $b_wq -> $(printf '%x' "$(mask_without "$o_wq")"); demanded by web1 (isolate CPUs $ISO)"
check "virsh destroy web1" sandbox_guest_destroy web1
is "THP after (byte for byte)" "$(knob $THP)" "$b_thp"
is "workqueue mask after (byte for byte)" "$(knob $WQ)" "$b_wq"
is "writeback mask after (byte for byte)" "$(knob $WB)" "$b_wb"
is "registrations after" "$(vh_registered)" 0
contains "web1.log" "$(vh_log web1)" "stopped end: thp: never -> $(rk_word "$b_thp"); restored the original"
as_before "after web1"

echo "=== four guests at once, two rounds"
N=4
for i in $(seq 1 $N); do
    if ((i % 2)); then
        vh_guest "c$i" "$ISO" "<vmhooks:thp mode=\"never\"/><vmhooks:halt-poll ns=\"$((300000 + i * 1000))\"/><vmhooks:kworkers isolate=\"yes\"/>"
    else
        vh_guest "c$i" "" "<vmhooks:thp mode=\"madvise\"/>"
    fi
done
for round in 1 2; do
    pids=()
    for i in $(seq 1 $N); do sandbox_guest_start "c$i" & pids+=($!); done
    started=0
    for p in "${pids[@]}"; do wait "$p" && started=$((started + 1)); done
    is "round $round: guests started" "$started" $N
    is "round $round: THP with all running" "$(knob $THP)" "$(rk_select "$b_thp" never)"
    is "round $round: workqueue mask with all running" "$(maskval $WQ)" "$(mask_without "$o_wq")"
    queues_while "round $round, all running"
    ((halt_tunable)) && is "round $round: halt_poll_ns with all running" "$(knob $HALT)" 303000
    is "round $round: registrations" "$(vh_registered)" $N
    pids=()
    for i in $(seq 1 $N); do sandbox_guest_destroy "c$i" & pids+=($!); done
    stopped=0
    for p in "${pids[@]}"; do wait "$p" && stopped=$((stopped + 1)); done
    is "round $round: guests destroyed" "$stopped" $N
    is "round $round: registrations left" "$(vh_registered)" 0
    is "round $round: knob records left" "$(vh_state | grep -c '^knob ' || true)" 0
    as_before "round $round: after every guest stopped"
done
check "no errors in any log but the read-only halt_poll_ns" bash -c \
    '! grep -h "error:" /var/log/vmhooks/*.log | grep -v "halt_poll_ns" | grep -q .'
finish
