/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI hostdevs: VFIO needs an IOMMU the kernel uses (/sys/kernel/iommu_groups
 * not empty) and the device itself (/sys/bus/pci/devices/BDF), both read
 * from the host facts (facts.h); without
 * either libvirt or QEMU fails the start, so the check refuses with the
 * fix.  Interrupt remapping missing is only logged: VFIO then refuses the
 * device unless vfio_iommu_type1.allow_unsafe_interrupts=1, which the
 * administrator may have chosen knowingly.
 */
#include <errno.h>
#include <stdio.h>

#include "checks/check.h"
#include "util.h"

static const char iommu_fix[] = "enable VT-d/AMD-Vi in the firmware and add intel_iommu=on (Intel) or "
                                "amd_iommu=on (AMD) to the kernel command line, then reboot";

int vh_check_hostdev(const vh_domain *dom, const vh_policy *p, const vh_facts *f, vh_results *out)
{
        (void)p;
        size_t npci = 0;
        for (size_t i = 0; i < dom->n_hostdevs; i++)
                npci += streq(dom->hostdevs[i].type, "pci") && !streq(dom->hostdevs[i].mode, "capabilities");
        if (npci == 0)
                return 0;
        int r;
        if (!(f->parts & VH_FACTS_PCI))
                return vh_results_add(out, "hostdev", VH_LEVEL_WARN, false, NULL,
                                      "VM %s passes through %zu PCI device(s); the host facts have no PCI part: "
                                      "not checked",
                                      dom->name, npci);
        size_t groups = f->iommu_groups;
        if (groups == 0)
                return vh_results_add(out, "hostdev", VH_LEVEL_FAIL, true, iommu_fix,
                                      "VM %s passes through %zu PCI device(s), but the kernel uses no IOMMU "
                                      "(/sys/kernel/iommu_groups is empty)",
                                      dom->name, npci);
        bool failed = false;
        for (size_t i = 0; i < dom->n_hostdevs; i++) {
                const vh_hostdev *h = &dom->hostdevs[i];
                if (!streq(h->type, "pci") || streq(h->mode, "capabilities") || !h->has_pci_address)
                        continue;
                char rel[64];
                snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s", h->bdf);
                if (vh_facts_pci_find(f, h->bdf))
                        continue;
                failed = true;
                r = vh_results_add(out, "hostdev", VH_LEVEL_FAIL, true,
                                   "check the <source><address> in the domain XML against lspci -D, or plug the "
                                   "device in (and rescan: echo 1 > /sys/bus/pci/rescan)",
                                   "VM %s passes through PCI device %s, which this host does not have (%s is "
                                   "missing)",
                                   dom->name, h->bdf, rel);
                if (r < 0)
                        return r;
        }
        if (f->irq_remapping != VH_YES) {
                bool unknown = f->irq_remapping == VH_UNKNOWN, unsafe_ok = f->allow_unsafe_interrupts;
                r = vh_results_add(out, "hostdev", VH_LEVEL_WARN, false,
                                   "enable interrupt remapping in the firmware (and drop intremap=off from the "
                                   "kernel command line); until then VFIO needs "
                                   "vfio_iommu_type1.allow_unsafe_interrupts=1, which lets a guest forge MSIs",
                                   "interrupt remapping is not active (%s)%s",
                                   unknown ? "/proc/interrupts cannot be read" : "no IR- chip in /proc/interrupts",
                                   unsafe_ok ? "; allow_unsafe_interrupts=1 is set" : "");
                if (r < 0)
                        return r;
        }
        if (failed)
                return 0;
        return vh_results_add(out, "hostdev", VH_LEVEL_PASS, false, NULL,
                              "VM %s: %zu PCI device(s) present, IOMMU on (%zu groups)", dom->name, npci, groups);
}
