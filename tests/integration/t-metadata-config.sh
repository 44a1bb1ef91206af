#!/bin/bash
# A policy set with `virsh metadata ... --config` on a defined guest applies
# at its next start; `enabled="no"` in the metadata overrides the host policy.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup

cat >/etc/vmhooks/policy.xml <<'XML'
<policy xmlns="urn:vmhooks:policy:1">
  <thp mode="auto"/>
  <kworkers isolate="yes"/>
  <halt-poll ns="250000"/>
</policy>
XML

vh_guest db1 1
check "virsh metadata --config" sandbox_virsh metadata db1 --uri urn:vmhooks:policy:1 --key vmhooks --config \
    --set '<policy><thp mode="always"/><halt-poll ns="500000"/><kworkers enabled="no"/></policy>'
contains "dumpxml --inactive" "$(sandbox_virsh dumpxml --inactive db1)" '<vmhooks:thp mode="always"/>'

check "virsh start db1" sandbox_guest_start db1
is "THP (metadata always)" "$(knob $THP)" always
is "halt_poll_ns (metadata beats host)" "$(knob $HALT)" 500000
is "workqueue mask (kworkers off by metadata)" "$(maskval $WQ)" 15
log=$(vh_log db1)
contains "db1.log" "$log" "policy: thp always, halt-poll 500000, kworkers off"

# a second guest without metadata gets the host policy
vh_guest db2 0
check "virsh start db2" sandbox_guest_start db2
is "halt_poll_ns (largest demand)" "$(knob $HALT)" 500000
is "workqueue mask (db2 isolates CPU 0)" "$(maskval $WQ)" $((16#e))
check "virsh destroy db1" sandbox_guest_destroy db1
is "halt_poll_ns (db2's host default)" "$(knob $HALT)" 250000
is "THP (nobody demands it)" "$(knob $THP)" madvise
check "virsh destroy db2" sandbox_guest_destroy db2
is "halt_poll_ns restored" "$(knob $HALT)" 200000
is "workqueue mask restored" "$(maskval $WQ)" 15
is "registrations" "$(vh_registered)" 0
finish
