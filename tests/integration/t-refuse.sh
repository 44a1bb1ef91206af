#!/bin/bash
# A guest whose policy is invalid: with <on-error action="refuse"/> in the
# host policy `virsh start` fails and shows vmhooks' one-line reason;
# without it the guest starts and the log holds the error.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup

cat >/etc/vmhooks/policy.xml <<'XML'
<policy xmlns="urn:vmhooks:policy:1">
  <thp mode="auto"/>
  <on-error action="refuse"/>
</policy>
XML
vh_guest bad1 1 '<vmhooks:thp mode="sometimes"/><vmhooks:halt-poll ns="400000"/>'
out=$(sandbox_virsh start bad1 2>&1) && nok "virsh start bad1 should fail" || ok "virsh start bad1 fails"
contains "virsh start's error" "$out" "Hook script execution failed"
contains "virsh start's error" "$out" 'unexpected exit status 1: vmhooks: metadata of VM bad1: line '
contains "virsh start's error" "$out" \
    ': <thp mode="sometimes">: expected one of auto, madvise, always, never (refusing: <on-error action="refuse"/>)'
is "vmhooks lines in the error" "$(grep -c 'vmhooks:' <<<"$out")" 1
is "bad1 state" "$(sandbox_guest_state bad1)" "shut off"
is "halt_poll_ns untouched" "$(knob $HALT)" 200000
is "THP untouched" "$(knob $THP)" "always [madvise] never"
is "registrations" "$(vh_registered)" 0
contains "bad1.log" "$(vh_log bad1)" "prepare begin: refused the start: metadata of VM bad1"

sed -i 's/action="refuse"/action="continue"/' /etc/vmhooks/policy.xml
check "without refuse, virsh start bad1 works" sandbox_guest_start bad1
is "bad1 state" "$(sandbox_guest_state bad1)" running
log=$(vh_log bad1)
contains "bad1.log" "$log" 'prepare begin: error: metadata of VM bad1: line '
check "policy errors are logged at prepare only" bash -c '! grep -q "started begin: error" /var/log/vmhooks/bad1.log'
contains "bad1.log" "$log" "prepare begin: using the host policy only for this VM"
is "halt_poll_ns (the invalid metadata is ignored)" "$(knob $HALT)" 200000
check "destroy bad1" sandbox_guest_destroy bad1
is "registrations" "$(vh_registered)" 0
finish
