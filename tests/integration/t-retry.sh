#!/bin/bash
# A knob that cannot be put back when the last VM stops is kept with the
# reason, shown by vmhooks status, and restored by the background retrier
# the stop started (lib/retry.h), with no further hook call; a knob that
# fails past the retrier is restored by the next hook call of any VM
# (issue 13, item 6), on the real libvirtd.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup

vh_guest web1 1 '<vmhooks:halt-poll ns="400000"/>'
vh_guest web2 1 '<vmhooks:thp mode="never"/>'
check "virsh start web1" sandbox_guest_start web1
is "halt_poll_ns while web1 runs" "$(knob $HALT)" 400000

# the knob file turns read-only under vmhooks: its restore at web1's stop fails
check "stand-in made read-only" mount -o remount,bind,ro "$HALT"
check "virsh destroy web1" sandbox_guest_destroy web1
is "halt_poll_ns after the failed restore" "$(knob $HALT)" 400000
log=$(vh_log web1)
contains "web1.log" "$log" "stopped end: error: halt_poll_ns: 400000 -> 200000 failed: cannot "
contains "state" "$(vh_state)" "knob halt_poll_ns original=200000"
contains "state" "$(vh_state)" " failed="
st=$(vmhooks status 2>&1)
contains "vmhooks status" "$st" "LAST WRITE FAILED (retried in the background for 2 minutes, then by the next hook call)"

# writable again after the first tries: the retrier the stop started restores it, no hook call needed
sleep 2
check "stand-in writable again" mount -o remount,bind,rw "$HALT"
for _ in $(seq 200); do grep -q "^knob halt_poll_ns" /run/vmhooks/state || break; sleep 0.1; done
is "halt_poll_ns after the retrier's next try" "$(knob $HALT)" 200000
check "no knob record of halt_poll_ns left" bash -c '! grep -q "^knob halt_poll_ns" /run/vmhooks/state'
for _ in $(seq 50); do grep -q "nothing left to retry" /var/log/vmhooks/web1.log && break; sleep 0.1; done
log=$(vh_log web1)
contains "web1.log" "$log" "retry after stopped end: halt_poll_ns: 400000 -> 200000; restored the original"
contains "web1.log" "$log" "retry after stopped end: nothing left to retry (try "
check "web1.log: the retrier's failed tries are not logged one by one" \
    bash -c '! grep -q "retry after .*: error:" /var/log/vmhooks/web1.log'
check "virsh start web2" sandbox_guest_start web2
check "web2.log: nothing left to restore at its start" bash -c '! grep -q "halt_poll_ns" /var/log/vmhooks/web2.log'
check "virsh destroy web2" sandbox_guest_destroy web2
is "THP after" "$(knob $THP)" madvise
is "registrations after" "$(vh_registered)" 0
finish
