/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host noise left on the CPUs of the VMs that asked to be isolated from it
 * (<isolate>, <kworkers isolate>): IRQs still allowed there, an unbound
 * workqueue mask that still has them.  From the registrations in the
 * state, the way the hook sees them; nothing to say when no VM asks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit-int.h"
#include "knobs.h"
#include "reconcile.h"
#include "policy.h"
#include "state.h"
#include "util.h"

/* The union of the CPUs the registered VMs isolate from `source`. */
static int isolated_from(const vh_state *st, unsigned source, vh_cpuset *ret)
{
        int r = 0;
        for (size_t i = 0; i < st->n_regs && r == 0; i++)
                if (st->regs[i].demands.isolate_from & source)
                        r = vh_cpuset_union(ret, &st->regs[i].demands.isolate);
        return r;
}

static int audit_irqs(const vh_state *st, const vh_cpuset *iso, vh_results *out)
{
        vh_knob *list = NULL;
        size_t n = 0;
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_family_instances(VH_FAM_IRQ, &list, &n, &e);
        if (r < 0)
                return r;
        _cleanup_buf_ vh_buf moved = { 0 }, kernel = { 0 };
        unsigned n_moved = 0, n_kernel = 0;
        for (size_t i = 0; i < n && r == 0; i++) {
                _cleanup_free_ char *v = NULL;
                _cleanup_error_ vh_error *re = NULL;
                _cleanup_cpuset_ vh_cpuset cpus = { 0 };
                if (vh_knob_read(&list[i], &v, &re) < 0 || vh_cpuset_parse_list(v, &cpus, NULL) < 0 ||
                    !vh_cpuset_intersects(&cpus, iso))
                        continue;
                /* tuned by vmhooks and back on them (irqbalance, an admin), or never tuned: the kernel refused */
                const vh_knob_state *k = vh_state_knob(st, list[i].name);
                vh_buf *b = k && k->saved ? &moved : &kernel;
                unsigned *count = k && k->saved ? &n_moved : &n_kernel;
                if ((*count)++ < 16)
                        r = vh_buf_printf(b, "%s%s", *count > 1 ? ", " : "", list[i].instance);
        }
        vh_knobs_free(list, n);
        if (r < 0)
                return r;
        _cleanup_free_ char *l = vh_cpuset_format_list(iso);
        if (!l)
                return -ENOMEM;
        if (n_moved)
                r = vh_results_add(out, "isolation", VH_LEVEL_WARN, false,
                                   "find who moves them (irqbalance without its socket, a script); the VMs' logs "
                                   "say \"changed by someone else\"",
                                   "%u IRQ%s vmhooks kept off the isolated CPUs %s %s back on them: %s%s", n_moved,
                                   n_moved == 1 ? "" : "s", l, n_moved == 1 ? "is" : "are", moved.data,
                                   n_moved > 16 ? ", ..." : "");
        if (r == 0 && n_kernel)
                r = vh_results_add(out, "isolation", VH_LEVEL_NOTE, false, NULL,
                                   "%u IRQ%s allowed on the isolated CPUs %s %s not tuned by vmhooks: %s%s (the "
                                   "kernel manages multi-queue and per-CPU IRQs itself, or %s appeared after the "
                                   "last hook call)",
                                   n_kernel, n_kernel == 1 ? "" : "s", l, n_kernel == 1 ? "is" : "are", kernel.data,
                                   n_kernel > 16 ? ", ..." : "", n_kernel == 1 ? "it" : "they");
        if (r == 0 && !n_moved && !n_kernel)
                r = vh_results_add(out, "isolation", VH_LEVEL_PASS, false, NULL,
                                   "no IRQ is allowed on the isolated CPUs %s", l);
        return r;
}

static int audit_wq(const vh_cpuset *iso, vh_results *out)
{
        _cleanup_(vh_knob_done) vh_knob k = { 0 };
        _cleanup_free_ char *v = NULL;
        _cleanup_error_ vh_error *e = NULL;
        _cleanup_cpuset_ vh_cpuset mask = { 0 };
        int r = vh_knob_resolve("workqueue_cpumask", &k);
        if (r == 0)
                r = vh_knob_read(&k, &v, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || vh_cpuset_parse_mask(v, &mask, NULL) < 0)
                return 0; /* no such knob here: the hook says so in the VMs' logs */
        _cleanup_free_ char *l = vh_cpuset_format_list(iso);
        if (!l)
                return -ENOMEM;
        if (vh_cpuset_intersects(&mask, iso))
                return vh_results_add(out, "isolation", VH_LEVEL_WARN, false,
                                      "see the VMs' logs: a VM isolated last may have been left out (conflict note)",
                                      "the unbound workqueue mask %s still has isolated CPUs (%s)", v, l);
        return vh_results_add(out, "isolation", VH_LEVEL_PASS, false, NULL,
                              "unbound kworkers are kept off the isolated CPUs %s (mask %s)", l, v);
}

int vh_audit_isolation(vh_results *out)
{
        _cleanup_state_ vh_state st = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_state_load(&st, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && r != -EINVAL) {
                r = vh_audit_needs_root(out, "isolation", r, "the state of the running VMs");
                return r;
        }
        _cleanup_cpuset_ vh_cpuset irqs = { 0 }, wq = { 0 };
        if (isolated_from(&st, VH_ISO_IRQS, &irqs) < 0 || isolated_from(&st, VH_ISO_WQ, &wq) < 0)
                return -ENOMEM;
        if (vh_cpuset_is_empty(&irqs) && vh_cpuset_is_empty(&wq))
                return vh_results_add(out, "isolation", VH_LEVEL_NOTE, false, NULL,
                                      "no running VM is isolated from host noise now; <isolate/> in the policy keeps "
                                      "workqueues, IRQs (and irqbalance) and host tasks off pinned VMs' CPUs");
        r = 0;
        if (!vh_cpuset_is_empty(&irqs))
                r = audit_irqs(&st, &irqs, out);
        if (r == 0 && !vh_cpuset_is_empty(&wq))
                r = audit_wq(&wq, out);
        return r;
}
