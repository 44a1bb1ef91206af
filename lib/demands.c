/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "demands.h"

#include <errno.h>
#include <stdlib.h>

int vh_demands_from(const vh_domain *dom, const vh_policy *p, vh_demands *ret, vh_buf *notes, vh_error **err)
{
        vh_demands d = { 0 };
        d.static_hugepages = dom->hugepages;
        d.shared_memory = dom->shared_memory;
        if (vh_policy_on(p, VH_P_THP)) {
                d.thp = p->thp;
                d.defrag = p->thp_defrag;
        }
        if (vh_policy_on(p, VH_P_HALT_POLL)) {
                d.has_halt_poll = true;
                d.halt_poll_ns = p->halt_poll_ns;
        }
        if (vh_policy_on(p, VH_P_KWORKERS) && p->kworkers_isolate) {
                int r = p->has_kworkers_cpus ? vh_cpuset_copy(&d.isolate, &p->kworkers_cpus)
                                             : vh_domain_vcpu_cpus(dom, &d.isolate);
                if (r < 0) {
                        vh_demands_done(&d);
                        return vh_fail(err, -r, "kworkers");
                }
                if (vh_cpuset_is_empty(&d.isolate) && notes &&
                    vh_buf_puts(notes, "kworkers: isolate=yes, but no vCPU is pinned (no <vcpupin>, no <vcpu cpuset>) "
                                       "and no cpus= is given: nothing to isolate\n") < 0) {
                        vh_demands_done(&d);
                        return vh_fail(err, ENOMEM, "kworkers");
                }
        }
        vh_demands_done(ret);
        *ret = d;
        return 0;
}

int vh_demands_describe(const vh_demands *d, vh_buf *out)
{
        int r = 0;
        const char *sep = "";
        if (d->thp != VH_THP_NONE) {
                r = vh_buf_printf(out, "thp %s%s", vh_thp_mode_name(d->thp),
                                  d->thp == VH_THP_AUTO ? (d->static_hugepages ? " (static hugepages: never)"
                                                                               : " (no static hugepages: none)")
                                                        : "");
                sep = "; ";
        }
        if (d->defrag != VH_DEFRAG_NONE) {
                r = vh_buf_printf(out, "%sthp defrag %s", sep, vh_thp_defrag_name(d->defrag));
                sep = "; ";
        }
        if (r == 0 && d->shared_memory && d->thp != VH_THP_NONE && d->thp != VH_THP_AUTO && !d->static_hugepages) {
                r = vh_buf_printf(out, "%sthp of shared memory %s", sep,
                                  d->thp == VH_THP_MADVISE ? "advise" : vh_thp_mode_name(d->thp));
                sep = "; ";
        }
        if (r == 0 && d->has_halt_poll) {
                r = vh_buf_printf(out, "%shalt_poll_ns %u", sep, d->halt_poll_ns);
                sep = "; ";
        }
        if (r == 0 && !vh_cpuset_is_empty(&d->isolate)) {
                _cleanup_free_ char *l = vh_cpuset_format_list(&d->isolate);
                r = l ? vh_buf_printf(out, "%skworkers off CPUs %s", sep, l) : -ENOMEM;
                sep = "; ";
        }
        if (r == 0 && !*sep)
                r = vh_buf_puts(out, "none");
        return r;
}
