#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# /proc mounted hidepid=2,gid=G (in the sandbox only): the hook runs
# without capabilities and sees neither QEMU (another uid) nor libvirtd.  It
# must still learn each QEMU PID, keep every running VM registered, notice a
# QEMU that died, and restore the host at the end.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup
# hidepid exempts the group of gid= (default 0, root's own group: then the hook sees everything);
# a hardened host names another group (systemd's convention: gid=proc)
pgid=$(getent group nogroup | cut -d: -f3)
check "a new /proc instance with hidepid=2,gid=$pgid over the sandbox's" mount -t proc -o "hidepid=2,gid=$pgid" proc /proc
nocaps() { setpriv --bounding-set=-all --inh-caps=-all "$@"; }

vh_guest g1 1 '<vmhooks:halt-poll ns="400000"/><vmhooks:thp mode="never"/>'
vh_guest g2 0 '<vmhooks:halt-poll ns="300000"/>'
vh_guest g3 '' '<vmhooks:halt-poll ns="250000"/>'
check "start g1" sandbox_guest_start g1
check "start g2" sandbox_guest_start g2
p1=$(sandbox_guest_pid g1) p2=$(sandbox_guest_pid g2) lv=$(cat /run/libvirtd.pid)
check "a capability-less root process cannot see QEMU in /proc" nocaps bash -c "test ! -e /proc/$p1"
check "nor libvirtd" nocaps bash -c "test ! -e /proc/$lv"
check "g1 registered with its QEMU PID" bash -c "grep -q 'name=g1 .* pid=$p1 ' /run/vmhooks/state"
check "g2 registered with its QEMU PID" bash -c "grep -q 'name=g2 .* pid=$p2 ' /run/vmhooks/state"
check "start g3" sandbox_guest_start g3
check "no registration dropped" bash -c '! grep -h "dropped the registration" /var/log/vmhooks/*.log'
is "registrations" "$(vh_registered)" 3
is "halt_poll_ns with all running" "$(knob $HALT)" 400000
check "destroy g1" sandbox_guest_destroy g1
is "halt_poll_ns now g2's" "$(knob $HALT)" 300000
is "THP restored" "$(knob $THP)" madvise
is "registrations" "$(vh_registered)" 2

# a QEMU that dies while libvirtd is down: the next call drops it, with the reason
check "kill -9 libvirtd" sandbox_kill9_libvirtd
check "kill -9 QEMU of g2" kill -9 "$p2"
sleep 0.3
f=/run/vmhooks-sandbox/probe.xml
sandbox_guest_xml probe >"$f"
/usr/libexec/vmhooks/qemu-hook probe prepare begin - <"$f" >/dev/null 2>&1
contains "probe.log" "$(vh_log probe)" "dropped the registration of VM g2: its QEMU (PID $p2) no longer runs"
check "g3 kept" bash -c "grep -q 'name=g3 ' /run/vmhooks/state"
/usr/libexec/vmhooks/qemu-hook probe release end - <"$f" >/dev/null 2>&1
check "libvirtd starts again" sandbox_start_libvirtd
is "halt_poll_ns now g3's" "$(knob $HALT)" 250000
check "destroy g3" sandbox_guest_destroy g3
is "halt_poll_ns restored" "$(knob $HALT)" 200000
is "registrations left" "$(vh_registered)" 0
check "no error in any log" bash -c '! grep -h "error:" /var/log/vmhooks/*.log'
finish
