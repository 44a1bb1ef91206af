#!/bin/bash
# The QEMU wrapper on the real stack: a guest whose <emulator> is the
# wrapper starts and its PID is the real QEMU's; the openEuler recipe
# `-set device.balloon0.deflate-on-oom=on` kills a guest on today's JSON
# -device syntax and works through the wrapper (checked with qom-get),
# on both the pc and the q35 machine.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup
WRAPPER=/usr/libexec/vmhooks/qemu-kvm
REAL=/usr/bin/qemu-system-x86_64

check "wrapper installed" test -x $WRAPPER
contains "wrapper.conf written at install" "$(cat /var/lib/vmhooks/wrapper.conf)" "vmhooks-wrapper-config 1"
check "libvirt probes the wrapper's capabilities" \
    bash -c "virsh -q -c qemu:///system domcapabilities --emulatorbin $WRAPPER --virttype $SANDBOX_DOMTYPE >/dev/null"

SANDBOX_EMULATOR=$WRAPPER vh_guest w1 1 '<vmhooks:halt-poll ns="400000"/>'
check "guest with the wrapper as emulator starts" sandbox_guest_start w1
pid=$(sandbox_guest_pid w1)
is "the guest's PID runs the real QEMU" "$(readlink /proc/$pid/exe)" $REAL
is "its argv[0] is the real QEMU" "$(tr '\0' '\n' </proc/$pid/cmdline | head -1)" $REAL
is "the hook still tunes" "$(knob $HALT)" 400000
check "destroy" sandbox_guest_destroy w1

# A balloon with the openEuler document's -set, as <qemu:commandline>
balloon_guest() { # NAME EMULATOR MACHINE
    cat >"/run/vmhooks-sandbox/$1.xml" <<XML
<domain type='$SANDBOX_DOMTYPE' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='$3'>hvm</type></os>
  <on_poweroff>destroy</on_poweroff>
  <devices>
    <emulator>$2</emulator>
    <serial type='file'><source path='/var/log/libvirt/qemu/$1-serial.log'/></serial>
    <memballoon model='virtio'><alias name='balloon0'/></memballoon>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-set'/>
    <qemu:arg value='device.balloon0.deflate-on-oom=on'/>
  </qemu:commandline>
</domain>
XML
    sandbox_guest_define "$1" "/run/vmhooks-sandbox/$1.xml"
}
qom() { sandbox_virsh qemu-monitor-command "$1" \
    "{\"execute\":\"qom-get\",\"arguments\":{\"path\":\"/machine/peripheral/balloon0\",\"property\":\"deflate-on-oom\"}}"; }

for machine in pc q35; do
    balloon_guest "plain-$machine" $REAL $machine
    out=$(sandbox_virsh start "plain-$machine" 2>&1) && nok "$machine: -set on a JSON device should fail without the wrapper" \
        || ok "$machine: without the wrapper the guest does not start"
    contains "$machine: QEMU's error" "$out" 'there is no device "balloon0" defined'

    balloon_guest "wrapped-$machine" $WRAPPER $machine
    check "$machine: with the wrapper it starts" sandbox_guest_start "wrapped-$machine"
    contains "$machine: qom-get deflate-on-oom" "$(qom "wrapped-$machine")" '"return":true'
    contains "$machine: the wrapper says what it did (libvirt's QEMU log)" \
        "$(cat /var/log/libvirt/qemu/wrapped-$machine.log)" "vmhooks: balloon0: -device rewritten from JSON to key=value so that -set device.balloon0.deflate-on-oom=on applies"
    grep vmhooks: /var/log/libvirt/qemu/wrapped-$machine.log | sed "s/^/    $machine QEMU log: /"
    check "$machine: destroy" sandbox_guest_destroy "wrapped-$machine"
done
finish
