/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* IOMMU and interrupt remapping: needed for PCI passthrough (VFIO) only, hence WARN. */
#include <errno.h>

#include "audit/audit-int.h"

int vh_audit_iommu(vh_results *out)
{
        size_t groups = vh_host_iommu_groups();
        if (groups == 0) {
                bool dmar = vh_host_exists("/sys/firmware/acpi/tables/DMAR");
                bool ivrs = vh_host_exists("/sys/firmware/acpi/tables/IVRS");
                return vh_results_add(out, "iommu", VH_LEVEL_WARN, false,
                                      dmar ? "add intel_iommu=on to the kernel command line and reboot"
                                      : ivrs ? "add amd_iommu=on to the kernel command line and reboot"
                                             : "enable VT-d/AMD-Vi in the firmware, then intel_iommu=on or "
                                               "amd_iommu=on on the kernel command line",
                                      "the kernel uses no IOMMU (/sys/kernel/iommu_groups is empty)%s: PCI "
                                      "passthrough is impossible",
                                      dmar || ivrs ? ", although the firmware has one" : "");
        }
        bool ir = false;
        int r = vh_host_irq_remapping(&ir);
        if (r == -ENOMEM)
                return r;
        if (!ir)
                return vh_results_add(out, "iommu", VH_LEVEL_WARN, false,
                                      "enable interrupt remapping in the firmware (and drop intremap=off)",
                                      "IOMMU on (%zu groups), but interrupt remapping is not active (no IR- chip in "
                                      "/proc/interrupts): VFIO needs allow_unsafe_interrupts", groups);
        return vh_results_add(out, "iommu", VH_LEVEL_PASS, false, NULL,
                              "IOMMU on (%zu groups), interrupt remapping active", groups);
}
