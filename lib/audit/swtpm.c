/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* /var/lib/swtpm-localca must belong to qemu.conf's swtpm_user (see lib/checks/vtpm.c). */
#include <errno.h>
#include <stdlib.h>

#include "audit/audit-int.h"

int vh_audit_swtpm(vh_results *out)
{
        _cleanup_free_ char *swtpm = vh_host_find_program("swtpm");
        if (!swtpm)
                return vh_results_add(out, "swtpm", VH_LEVEL_NOTE, false, NULL,
                                      "swtpm is not installed: VMs cannot have an emulated TPM");
        _cleanup_(vh_swtpm_user_done) vh_swtpm_user u = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_host_swtpm_user(&u, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                int n = vh_audit_needs_root(out, "swtpm", e ? e->code : -r, VH_QEMU_CONF " (for swtpm_user)");
                if (n != 0)
                        return n < 0 ? n : 0;
                return vh_results_add(out, "swtpm", VH_LEVEL_FAIL, false, "correct " VH_QEMU_CONF, "%s",
                                      vh_error_msg(e));
        }
        if (u.unknown)
                return vh_results_add(out, "swtpm", VH_LEVEL_FAIL, false,
                                      "create the user, or set swtpm_user in " VH_QEMU_CONF,
                                      "swtpm_user \"%s\" (%s) is not a user of this host", u.name,
                                      u.from_conf ? VH_QEMU_CONF : "libvirt's default");
        _cleanup_free_ char *problem = NULL, *fix = NULL;
        r = vh_host_localca(&u, &problem, &fix);
        if (r < 0)
                return r;
        if (r == 1)
                return vh_results_add(out, "swtpm", VH_LEVEL_FAIL, false, fix,
                                      "%s: swtpm_setup (run as %s) fails to create a new vTPM", problem, u.name);
        return vh_results_add(out, "swtpm", VH_LEVEL_PASS, false, NULL, "swtpm_user %s%s %s " VH_SWTPM_LOCALCA, u.name,
                              u.from_conf ? "" : " (libvirt's default)", u.uid == 0 ? "(root) can write" : "owns");
}
