#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libvirtd SIGKILLed while a hook call of a starting guest is stalled: a
# start that never ran QEMU leaves a registration libvirt will never end
# (no status file: no stopped/release).  The next call of any VM drops it,
# says why, and the host is reconciled, without waiting for a grace period.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup
S=/run/vmhooks-sandbox
# the hook, wrapped: after the real call, stall while $S/stall names this "VM OP"
cat >$S/stall-hook <<'SH'
#!/bin/sh
/usr/libexec/vmhooks/qemu-hook "$@"; rc=$?
if [ -e /run/vmhooks-sandbox/stall ] && [ "$1 $2" = "$(cat /run/vmhooks-sandbox/stall)" ]; then
    echo $$ >/run/vmhooks-sandbox/stalled
    while [ -e /run/vmhooks-sandbox/stall ]; do sleep 0.1; done
fi
exit $rc
SH
chmod 0755 $S/stall-hook
rm -f /etc/libvirt/hooks/qemu && cp $S/stall-hook /etc/libvirt/hooks/qemu
sandbox_reload_libvirtd; sleep 0.5

vh_guest g1 1 '<vmhooks:halt-poll ns="400000"/><vmhooks:thp mode="never"/>'
vh_guest g2 0 '<vmhooks:halt-poll ns="300000"/>'

# stall_kill OP: start g1, stall its OP call, SIGKILL libvirtd, let the hook finish, start libvirtd
stall_kill() {
    rm -f $S/stalled; echo "g1 $1" >$S/stall
    sandbox_virsh start g1 >/dev/null 2>&1 &
    local t
    for ((t = 0; t < 300; t++)); do [[ -e $S/stalled ]] && break; sleep 0.1; done
    check "$1: g1's $1 call stalls" test -e $S/stalled
    check "$1: kill -9 libvirtd during it" sandbox_kill9_libvirtd
    rm -f $S/stall; wait
    check "$1: libvirtd starts again" sandbox_start_libvirtd
}

for op in prepare start; do
    stall_kill $op
    is "$op: g1 shut off" "$(sandbox_guest_state g1)" "shut off"
    check "$op: no status file for g1 (libvirt will never report its stop)" test ! -e /run/libvirt/qemu/g1.xml
    # the ghost: registered, host tuned for it
    is "$op: g1 still registered" "$(vh_state | grep -c 'name=g1 ' || true)" 1
    is "$op: halt_poll_ns as g1 demanded" "$(knob $HALT)" 400000
    # the next call of another VM drops it at once
    check "$op: start g2" sandbox_guest_start g2
    contains "$op: g2.log" "$(vh_log g2)" "dropped the registration of VM g1: its start was abandoned: the libvirt daemon that started it (PID"
    is "$op: g1's registration gone" "$(vh_state | grep -c 'name=g1 ' || true)" 0
    is "$op: halt_poll_ns now g2's" "$(knob $HALT)" 300000
    is "$op: THP restored" "$(knob $THP)" madvise
    check "$op: destroy g2" sandbox_guest_destroy g2
    is "$op: halt_poll_ns restored" "$(knob $HALT)" 200000
    is "$op: registrations left" "$(vh_registered)" 0
    : >/var/log/vmhooks/g2.log
done

# stalled at started: QEMU runs and has a status file; the new libvirtd decides (reconnect or stop)
stall_kill started
st=$(sandbox_guest_state g1)
if [[ $st == running ]]; then
    contains "started: g1 reconnected" "$(vh_log g1)" "reconnect begin: libvirtd reconnected"
    check "started: g1 registered with its PID" bash -c "grep -q 'name=g1 .* pid=$(sandbox_guest_pid g1) ' /run/vmhooks/state"
    is "started: halt_poll_ns as g1 demands" "$(knob $HALT)" 400000
    check "started: destroy g1" sandbox_guest_destroy g1
else
    is "started: g1 not registered after libvirt stopped it" "$(vh_registered)" 0
fi
is "started: halt_poll_ns restored" "$(knob $HALT)" 200000
is "started: THP restored" "$(knob $THP)" madvise
is "started: registrations left" "$(vh_registered)" 0
finish
