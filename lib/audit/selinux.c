/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SELinux enforcing: sVirt labels confine each QEMU to its own images
 * only when the policy is enforced.  Permissive or disabled is a WARN (an
 * AppArmor host confines QEMU with its own sVirt driver: PASS), not a
 * FAIL: many hosts run without SELinux by design.
 */
#include "audit/audit-int.h"

int vh_audit_selinux(vh_results *out)
{
        vh_mac m;
        vh_audit_mac(&m);
        if (m.selinux && m.enforcing)
                return vh_results_add(out, "selinux", VH_LEVEL_PASS, false, NULL, "SELinux is enforcing");
        if (m.selinux)
                return vh_results_add(out, "selinux", VH_LEVEL_WARN, false,
                                      "setenforce 1, and SELINUX=enforcing in /etc/selinux/config",
                                      "SELinux is permissive (/sys/fs/selinux/enforce = 0): sVirt labels are not "
                                      "enforced");
        if (m.apparmor)
                return vh_results_add(out, "selinux", VH_LEVEL_PASS, false, NULL,
                                      "SELinux is not enabled; AppArmor confines QEMU (libvirt's apparmor driver)");
        return vh_results_add(out, "selinux", VH_LEVEL_WARN, false,
                              "enable SELinux (selinux=1 security=selinux, SELINUX=enforcing) or AppArmor "
                              "(apparmor=1 security=apparmor) and restart libvirtd",
                              "neither SELinux nor AppArmor is enabled: QEMU processes are separated only by "
                              "their uid");
}
