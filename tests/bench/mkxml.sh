#!/bin/bash
# mkxml.sh small|large: a domain XML as libvirt passes it to `prepare`.
# small: 2 vCPUs pinned, one disk, a policy in its metadata (~1.5 KB).
# large: 64 pinned vCPUs, 200 disks, 16 PCI hostdevs (~90 KB).
# isolate: small, with <isolate/> (workqueues, IRQs, host tasks) in its policy.
set -eu
size=$1
iso=""
if [ "$size" = isolate ]; then iso="<vmhooks:isolate/>"; size=small; fi
if [ "$size" = small ]; then nv=2 nd=1 nh=0; else nv=64 nd=200 nh=16; fi
echo "<domain type='kvm' id='42'>"
echo "  <name>bench</name>"
echo "  <uuid>b0000000-0000-0000-0000-000000000001</uuid>"
echo "  <metadata><vmhooks:policy xmlns:vmhooks='urn:vmhooks:policy:1'><vmhooks:halt-poll ns='400000'/><vmhooks:thp mode='never'/>$iso</vmhooks:policy></metadata>"
echo "  <memory unit='KiB'>4194304</memory><currentMemory unit='KiB'>4194304</currentMemory>"
echo "  <vcpu placement='static'>$nv</vcpu>"
echo "  <cputune>"
for i in $(seq 0 $((nv - 1))); do echo "    <vcpupin vcpu='$i' cpuset='$((i % 62 + 2))'/>"; done
echo "    <emulatorpin cpuset='0-1'/>"
echo "  </cputune>"
echo "  <os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type><boot dev='hd'/></os>"
echo "  <features><acpi/><apic/></features><cpu mode='host-passthrough' check='none' migratable='on'/>"
echo "  <devices>"
echo "    <emulator>/usr/bin/qemu-system-x86_64</emulator>"
for i in $(seq 0 $((nd - 1))); do
    echo "    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/var/lib/libvirt/images/bench-$i.qcow2'/><target dev='vd$i' bus='virtio'/><address type='pci' domain='0x0000' bus='0x$(printf %02x $((i / 30 + 1)))' slot='0x$(printf %02x $((i % 30)))' function='0x0'/></disk>"
done
for i in $(seq 0 $((nh - 1))); do
    echo "    <hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x$(printf %02x $((i + 0x81)))' slot='0x00' function='0x0'/></source></hostdev>"
done
echo "    <serial type='pty'><target port='0'/></serial><console type='pty'/>"
echo "    <memballoon model='virtio'/>"
echo "  </devices>"
echo "</domain>"
