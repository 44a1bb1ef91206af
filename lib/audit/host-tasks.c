/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host tasks (issue 17): whether <isolate tasks="yes"/> can keep the host's
 * own tasks (system.slice, user.slice, init.scope) off the VMs' CPUs here.
 * It needs systemd as PID 1 on cgroup v2 with the cpuset controller and
 * libsystemd (lib/sdunits.h); otherwise a NOTE says why nothing is done.
 * When it can, the units' AllowedCPUs as they are now.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit-int.h"
#include "sdunits.h"
#include "util.h"

int vh_audit_host_tasks(vh_results *out)
{
        _cleanup_free_ char *why = NULL;
        int r = vh_systemd_usable(&why);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                const char *fix = NULL;
                if (r == -ENOTSUP)
                        fix = "boot with systemd.unified_cgroup_hierarchy=1 (cgroup v2) for host-task isolation";
                else if (r == -ELIBACC)
                        fix = "install libsystemd (libsystemd0 on Debian, systemd-libs on openEuler)";
                r = vh_results_add(out, "host-tasks", VH_LEVEL_NOTE, false, fix,
                                   "host tasks cannot be kept off the VMs' CPUs (<isolate tasks>): %s",
                                   why ? why : "systemd is not usable here");
                vh_systemd_disconnect();
                return r;
        }
        static const char *const units[] = { "system.slice", "user.slice", "init.scope" };
        vh_buf b = { 0 };
        for (size_t i = 0; i < ELEMENTSOF(units); i++) {
                _cleanup_free_ char *list = NULL;
                _cleanup_error_ vh_error *e = NULL;
                int g = vh_unit_get_allowed_cpus(units[i], &list, &e);
                if (g == -ENOMEM) {
                        vh_buf_free(&b);
                        return g;
                }
                if (vh_buf_printf(&b, "%s%s AllowedCPUs=%s", i ? ", " : "", units[i],
                                  g < 0 ? "(unreadable)" : *list ? list : "(unset)") < 0) {
                        vh_buf_free(&b);
                        return -ENOMEM;
                }
        }
        vh_systemd_disconnect();
        r = vh_results_add(out, "host-tasks", VH_LEVEL_PASS, false, NULL,
                           "host tasks can be kept off the VMs' CPUs (systemd on cgroup v2 with cpuset): %s",
                           b.data ? b.data : "");
        vh_buf_free(&b);
        return r;
}
