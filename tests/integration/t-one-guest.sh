#!/bin/bash
# One guest with a policy in its metadata: the knobs change when it starts,
# come back when it is destroyed, and its log tells the story.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup

contains "make install" "$VH_INSTALL_OUTPUT" "installed hook: /etc/libvirt/hooks/qemu -> /usr/libexec/vmhooks/qemu-hook"
contains "make install" "$VH_INSTALL_OUTPUT" "SIGHUP"
check "hook linked for libvirt" test "$(readlink /etc/libvirt/hooks/qemu)" = /usr/libexec/vmhooks/qemu-hook
check "policy installed" test -f /etc/vmhooks/policy.xml

vh_guest web1 1 '<vmhooks:thp mode="never"/><vmhooks:halt-poll ns="400000"/><vmhooks:kworkers isolate="yes"/>'
is "THP before" "$(knob $THP)" "always [madvise] never"

check "virsh start web1" sandbox_guest_start web1
is "domstate" "$(sandbox_guest_state web1)" running
is "THP while running" "$(knob $THP)" never
is "halt_poll_ns while running" "$(knob $HALT)" 400000
is "workqueue mask while running" "$(maskval $WQ)" $((16#d))
is "writeback mask while running" "$(maskval $WB)" $((16#d))
is "registrations" "$(vh_registered)" 1
contains "state" "$(vh_state)" "pid=$(sandbox_guest_pid web1) "

check "virsh destroy web1" sandbox_guest_destroy web1
is "THP after" "$(knob $THP)" madvise
is "halt_poll_ns after" "$(knob $HALT)" 200000
is "workqueue mask after" "$(maskval $WQ)" 15
is "writeback mask after" "$(maskval $WB)" 15
is "registrations after" "$(vh_registered)" 0

log=$(vh_log web1)
contains "web1.log" "$log" "prepare begin: policy: thp never, halt-poll 400000, kworkers isolate=yes"
contains "web1.log" "$log" "prepare begin: thp: madvise -> never; demanded by web1 (thp never)"
contains "web1.log" "$log" "prepare begin: halt_poll_ns: 200000 -> 400000; demanded by web1 (halt-poll 400000)"
contains "web1.log" "$log" "prepare begin: workqueue_cpumask: f -> d; demanded by web1 (isolate CPUs 1)"
contains "web1.log" "$log" "stopped end: unregistered"
contains "web1.log" "$log" "stopped end: thp: never -> madvise; restored the original"
contains "web1.log" "$log" "stopped end: halt_poll_ns: 400000 -> 200000; restored the original"
check "no errors in web1.log" bash -c '! grep -q "error:" /var/log/vmhooks/web1.log'
finish
