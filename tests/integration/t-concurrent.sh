#!/bin/bash
# Eight guests started and destroyed concurrently: while all run, the knobs
# are what all eight demand; afterwards exactly the originals, and no
# registration is left.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup

N=8
for i in $(seq 1 $N); do
    if ((i % 2)); then
        vh_guest "c$i" 1 "<vmhooks:thp mode=\"never\"/><vmhooks:halt-poll ns=\"$((300000 + i * 1000))\"/><vmhooks:kworkers isolate=\"yes\"/>"
    else
        vh_guest "c$i" 0 "<vmhooks:thp mode=\"madvise\"/><vmhooks:kworkers isolate=\"yes\"/>"
    fi
done

for round in 1 2; do
    pids=()
    for i in $(seq 1 $N); do sandbox_guest_start "c$i" & pids+=($!); done
    started=0
    for p in "${pids[@]}"; do wait "$p" && started=$((started + 1)); done
    is "round $round: guests started" "$started" $N
    is "round $round: THP with all running" "$(knob $THP)" never
    is "round $round: halt_poll_ns with all running" "$(knob $HALT)" $((300000 + 7 * 1000))
    is "round $round: workqueue mask with all running" "$(maskval $WQ)" $((16#c))
    is "round $round: writeback mask with all running" "$(maskval $WB)" $((16#c))
    is "round $round: registrations" "$(vh_registered)" $N

    pids=()
    for i in $(seq 1 $N); do sandbox_guest_destroy "c$i" & pids+=($!); done
    stopped=0
    for p in "${pids[@]}"; do wait "$p" && stopped=$((stopped + 1)); done
    is "round $round: guests destroyed" "$stopped" $N
    is "round $round: THP restored" "$(knob $THP)" madvise
    is "round $round: halt_poll_ns restored" "$(knob $HALT)" 200000
    is "round $round: workqueue mask restored" "$(maskval $WQ)" 15
    is "round $round: writeback mask restored" "$(maskval $WB)" 15
    is "round $round: registrations left" "$(vh_registered)" 0
    is "round $round: knob records left" "$(vh_state | grep -c '^knob ' || true)" 0
done
check "no errors in any log" bash -c '! grep -h "error:" /var/log/vmhooks/*.log'
finish
