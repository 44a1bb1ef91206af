/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * irqbalance: when it runs, it moves IRQs back onto the CPUs that
 * <isolate irqs="yes"/> keeps free for pinned vCPUs, unless vmhooks bans
 * those CPUs in it over its runtime socket (lib/irqbalance.c).  Without a
 * socket (irqbalance before 1.2, or 1.9+ built without irqbalance-ui) the
 * ban cannot be applied: a WARN with what the admin can do.  vmhooks never
 * edits irqbalance's configuration or restarts it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit-int.h"
#include "irqbalance.h"

int vh_audit_irqbalance(vh_results *out)
{
        _cleanup_free_ char *path = NULL, *why = NULL;
        int r = vh_irqbalance_find(0, &path, &why);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                return vh_results_add(out, "irqbalance", VH_LEVEL_PASS, false, NULL,
                                      "irqbalance does not run: nothing moves IRQs back onto isolated CPUs");
        if (r == -ENOTSUP) {
                /* the reason ends with the fix; the audit prints it apart */
                static const char tail[] = "; fix: " VH_IRQBALANCE_NOSOCKET_FIX;
                size_t n = why ? strlen(why) : 0;
                if (n >= sizeof(tail) - 1 && strcmp(why + n - (sizeof(tail) - 1), tail) == 0)
                        why[n - (sizeof(tail) - 1)] = '\0';
                return vh_results_add(out, "irqbalance", VH_LEVEL_WARN, false, VH_IRQBALANCE_NOSOCKET_FIX,
                                      "%s; <isolate irqs> cannot keep it off the VMs' CPUs",
                                      why ? why : "irqbalance runs without a socket");
        }
        if (r < 0) {
                if (vh_audit_needs_root(out, "irqbalance", r, "/proc"))
                        return 0;
                return vh_results_add(out, "irqbalance", VH_LEVEL_NOTE, false, NULL, "irqbalance: %s",
                                      why ? why : strerror(-r));
        }
        _cleanup_free_ char *banned = NULL;
        _cleanup_error_ vh_error *e = NULL;
        r = vh_irqbalance_get_banned(path, &banned, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (vh_audit_needs_root(out, "irqbalance", r, path))
                        return 0;
                return vh_results_add(out, "irqbalance", VH_LEVEL_WARN, false,
                                      "check that irqbalance answers (irqbalance-ui), or restart it",
                                      "irqbalance runs but its socket does not answer: %s", vh_error_msg(e));
        }
        return vh_results_add(out, "irqbalance", VH_LEVEL_PASS, false, NULL,
                              "irqbalance runs with its socket %s (banned CPUs now: %s): vmhooks bans the isolated "
                              "CPUs in it while VMs run",
                              path, banned[0] ? banned : "none");
}
