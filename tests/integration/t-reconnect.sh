#!/bin/bash
# libvirtd killed and restarted while two guests run: `reconnect begin`
# keeps their demands; destroying them afterwards restores the host.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup

vh_guest r1 1 '<vmhooks:halt-poll ns="400000"/><vmhooks:thp mode="never"/>'
vh_guest r2 0 '<vmhooks:halt-poll ns="300000"/><vmhooks:kworkers isolate="yes"/>'
check "start r1" sandbox_guest_start r1
check "start r2" sandbox_guest_start r2
before=$(vh_state)

check "kill -9 libvirtd" sandbox_kill9_libvirtd
check "QEMU of r1 survives" kill -0 "$(sandbox_guest_pid r1)"
check "libvirtd starts again" sandbox_start_libvirtd
is "r1 still running" "$(sandbox_guest_state r1)" running
is "r2 still running" "$(sandbox_guest_state r2)" running
contains "r1.log" "$(vh_log r1)" "reconnect begin: libvirtd reconnected: registration kept as at its start"
contains "r2.log" "$(vh_log r2)" "reconnect begin: libvirtd reconnected: registration kept as at its start"
is "registrations" "$(vh_registered)" 2
contains "state keeps r1's PID" "$(vh_state)" "name=r1 since="
contains "state keeps r1's PID" "$(vh_state)" "pid=$(sandbox_guest_pid r1) "
contains "state keeps r2's PID" "$(vh_state)" "pid=$(sandbox_guest_pid r2) "
is "halt_poll_ns kept" "$(knob $HALT)" 400000
is "THP kept" "$(knob $THP)" never
is "workqueue mask kept (r1 isolates by the host default, r2 by its own)" "$(maskval $WQ)" $((16#c))
check "no knob was rewritten at reconnect" bash -c '! grep -q "reconnect begin: .* -> " /var/log/vmhooks/r1.log /var/log/vmhooks/r2.log'

# A clean restart (SIGTERM) also reconnects.
check "restart libvirtd" sandbox_restart_libvirtd
is "registrations after restart" "$(vh_registered)" 2

# The admin breaks the host policy and changes r1's live metadata, then libvirtd restarts
# (a package upgrade): the running VMs keep what they registered at their start.
cp /etc/vmhooks/policy.xml /run/vmhooks-sandbox/policy.good
printf '<policy xmlns="urn:vmhooks:policy:1"><kworkers isolate="yse"/>\n' >/etc/vmhooks/policy.xml
check "virsh metadata --live on r1" sandbox_virsh metadata r1 --uri urn:vmhooks:policy:1 --key vmhooks --live \
    --set '<policy><halt-poll ns="500000"/></policy>'
check "restart libvirtd with the broken policy" sandbox_restart_libvirtd
is "registrations" "$(vh_registered)" 2
is "halt_poll_ns kept (the --live metadata applies at r1's next start)" "$(knob $HALT)" 400000
is "workqueue mask kept (host-default isolation of r1)" "$(maskval $WQ)" $((16#c))
check "no error at reconnect" bash -c '! grep -q "reconnect begin: error" /var/log/vmhooks/r1.log /var/log/vmhooks/r2.log'
contains "r1.log" "$(vh_log r1)" "policy.xml and metadata changes apply at the VM's next start"
# a start under the broken policy says so, and is not tuned by it
vh_guest r3 '' ''
check "start r3 under the broken policy" sandbox_guest_start r3
contains "r3.log" "$(vh_log r3)" "prepare begin: error: /etc/vmhooks/policy.xml"
check "destroy r3" sandbox_guest_destroy r3
cp /run/vmhooks-sandbox/policy.good /etc/vmhooks/policy.xml

check "destroy r1" sandbox_guest_destroy r1
is "halt_poll_ns now r2's" "$(knob $HALT)" 300000
is "THP restored" "$(knob $THP)" madvise
check "destroy r2" sandbox_guest_destroy r2
is "halt_poll_ns restored" "$(knob $HALT)" 200000
is "workqueue mask restored" "$(maskval $WQ)" 15
is "registrations left" "$(vh_registered)" 0

# QEMU dies while libvirtd is down: libvirt sends stopped/release at its next start.
check "start r1 again" sandbox_guest_start r1
is "halt_poll_ns" "$(knob $HALT)" 400000
pid=$(sandbox_guest_pid r1)
check "kill -9 libvirtd" sandbox_kill9_libvirtd
check "kill -9 QEMU of r1" kill -9 "$pid"
sleep 0.2
check "libvirtd starts again" sandbox_start_libvirtd
is "r1 shut off" "$(sandbox_guest_state r1)" "shut off"
is "halt_poll_ns restored after the crash" "$(knob $HALT)" 200000
is "registrations left" "$(vh_registered)" 0
finish
