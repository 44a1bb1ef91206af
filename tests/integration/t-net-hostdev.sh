#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# <interface type='hostdev'> (an SR-IOV VF given as a NIC) on the real
# libvirtd: libvirt's own test domain net-hostdev-vfio (tests/data/domain/)
# is defined as libvirt has it, and vmhooks treats its VF as PCI
# passthrough: `virsh start` is refused at prepare with the hostdev check's
# one line (this sandbox has no IOMMU and no such device, so libvirt itself
# could never start it), `vmhooks check` says the same before any start,
# and `vmhooks patch` names the VF for MSI-X relocation.  Before, the VF was
# invisible: the check passed and libvirt failed later with its own error.
# What cannot run here: starting the VM (no SR-IOV device, no IOMMU), hence
# the start begin plan and the wrapper on a real VF; the unit test
# tests/unit/test_net_hostdev.c drives those on libvirt's .args.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup
VMHOOKS=$repo/${BUILD:-build}/test/vmhooks
f=$repo/tests/data/domain/net-hostdev-vfio.xml
sed "s|/usr/bin/qemu-system-i386|$(command -v qemu-system-i386 || command -v qemu-system-x86_64)|" "$f" \
    >"$SANDBOX_DIR/vf.xml"
check "virsh define libvirt's net-hostdev-vfio" sandbox_virsh define "$SANDBOX_DIR/vf.xml"
check "the live definition keeps <interface type='hostdev'>" \
    grep -q "<interface type='hostdev' managed='yes'>" <(sandbox_virsh dumpxml QEMUGuest1)

if [[ -n $(ls /sys/kernel/iommu_groups 2>/dev/null) ]]; then
    line="hostdev: VM QEMUGuest1 passes through PCI device 0000:06:12.1, which this host does not have"
else
    line="hostdev: VM QEMUGuest1 passes through 1 PCI device(s), but the kernel uses no IOMMU (/sys/kernel/iommu_groups is empty)"
fi
out=$(sandbox_virsh start QEMUGuest1 2>&1) && nok "virsh start QEMUGuest1 should fail" || ok "virsh start QEMUGuest1 fails"
contains "virsh start's error" "$out" "Hook script execution failed"
contains "virsh start's error" "$out" "QEMUGuest1 prepare begin -) unexpected exit status 1: vmhooks: $line"
is "QEMUGuest1 state" "$(sandbox_guest_state QEMUGuest1)" "shut off"
contains "QEMUGuest1.log" "$(vh_log QEMUGuest1)" "prepare begin: refused the start: $line"

out=$("$VMHOOKS" check QEMUGuest1 2>&1); rc=$?
is "vmhooks check exit" "$rc" 1
contains "vmhooks check" "$out" "$line"

cat >"$SANDBOX_DIR/msix.xml" <<'XML'
<policy xmlns="urn:vmhooks:policy:1"><msix-relocation bar="bar2" devices="all"/></policy>
XML
sandbox_virsh dumpxml --inactive QEMUGuest1 >"$SANDBOX_DIR/vf.inactive.xml"
out=$("$VMHOOKS" patch --policy "$SANDBOX_DIR/msix.xml" "$SANDBOX_DIR/vf.inactive.xml" 2>&1 >"$SANDBOX_DIR/vf.patched.xml")
contains "vmhooks patch" "$out" "the wrapper adds x-msix-relocation=bar2 to 0000:06:12.1"
check "the patched VF definition: virsh define" sandbox_virsh define "$SANDBOX_DIR/vf.patched.xml"
finish
