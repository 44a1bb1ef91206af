#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A call that holds /run/vmhooks/lock past the 30 s timeout: the waiting
# start says who held it, starts untuned, and is registered at its next
# call, with the log saying it ran untuned until then.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup
vh_guest g1 1 '<vmhooks:halt-poll ns="400000"/>'
mkdir -p /run/vmhooks
# a stuck holder: takes the lock as a hook does (and writes its PID into it), then hangs
(
    exec 9<>/run/vmhooks/lock
    flock 9
    echo "$BASHPID" >/run/vmhooks/lock
    touch /run/vmhooks-sandbox/held
    sleep 34
) &
holder=$!
for ((t = 0; t < 50; t++)); do [[ -e /run/vmhooks-sandbox/held ]] && break; sleep 0.1; done
t0=$(date +%s)
check "start g1 while the lock is held" sandbox_guest_start g1
t1=$(date +%s)
check "the start waited about 30 s, not forever ($((t1 - t0)) s)" test $((t1 - t0)) -ge 30 -a $((t1 - t0)) -lt 80
log=$(vh_log g1)
contains "g1.log" "$log" "prepare begin: error: timed out after 30 s waiting for /run/vmhooks/lock held by PID $holder"
check "no 'Connection timed out'" bash -c '! grep -q "Connection timed out" /var/log/vmhooks/g1.log'
contains "g1.log" "$log" "prepare begin: not registered: the VM starts untuned"
contains "g1.log" "$log" "registered at start"
contains "g1.log" "$log" "the VM ran untuned since prepare"
wait "$holder"
is "g1 running" "$(sandbox_guest_state g1)" running
is "halt_poll_ns as g1 demands" "$(knob $HALT)" 400000
check "g1 registered with its QEMU PID" bash -c "grep -q 'name=g1 .* pid=$(sandbox_guest_pid g1) ' /run/vmhooks/state"
check "no marker left" bash -c '! ls /run/vmhooks/missed.* 2>/dev/null'
check "destroy g1" sandbox_guest_destroy g1
is "halt_poll_ns restored" "$(knob $HALT)" 200000
is "registrations left" "$(vh_registered)" 0

# a hook SIGKILLed mid-write leaves its temp file: the next call removes it
echo half >/run/vmhooks/state.tmp.k1lLed
echo half >/run/vmhooks/intent.tmp.k1lLed
check "start g1" sandbox_guest_start g1
check "dead writers' temp files removed" bash -c '! ls /run/vmhooks/*.tmp.* 2>/dev/null'
contains "g1.log" "$(vh_log g1)" "removed /run/vmhooks/state.tmp.k1lLed, left by a call that died while writing it"
check "destroy g1" sandbox_guest_destroy g1
is "registrations left" "$(vh_registered)" 0
finish
