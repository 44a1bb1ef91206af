/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "demands.h"

#include <errno.h>
#include <stdlib.h>

/* Every CPU a thread of the VM is pinned to: vCPUs, IOThreads, emulator. */
static int pinned_cpus(const vh_domain *dom, vh_cpuset *set)
{
        int r = vh_domain_vcpu_cpus(dom, set);
        for (size_t i = 0; r == 0 && i < dom->n_iothreadpins; i++)
                r = vh_cpuset_union(set, &dom->iothreadpins[i].cpus);
        if (r == 0 && dom->has_emulatorpin)
                r = vh_cpuset_union(set, &dom->emulatorpin);
        return r;
}

/* The PCI host devices whose IRQs follow the VM (isolate irqs="follow-vm"). */
static int follow_devices(const vh_domain *dom, char **ret)
{
        _cleanup_buf_ vh_buf b = { 0 };
        int r = 0;
        for (size_t i = 0; r == 0 && i < dom->n_hostdevs; i++)
                if (dom->hostdevs[i].has_pci_address)
                        r = vh_buf_printf(&b, "%s%s", b.len ? "," : "", dom->hostdevs[i].bdf);
        if (r == 0 && b.len)
                *ret = TAKE_PTR(b.data);
        return r;
}

/*
 * Which host noise leaves which CPUs: <isolate> where given (by the host
 * or the VM), else <kworkers isolate="yes"> (workqueues only).
 */
static int isolation(const vh_domain *dom, const vh_policy *p, vh_demands *d, vh_buf *notes)
{
        const char *elem;
        int r;
        if ((p->present >> VH_P_ISOLATE) & 1) {
                if (!vh_policy_on(p, VH_P_ISOLATE) || !p->isolate_from)
                        return 0;
                elem = "isolate";
                d->isolate_from = p->isolate_from;
                switch (p->isolate_cpus_from) {
                case VH_ISO_CPUS_LIST: r = vh_cpuset_copy(&d->isolate, &p->isolate_cpus); break;
                case VH_ISO_CPUS_PINNED: r = pinned_cpus(dom, &d->isolate); break;
                default: r = vh_domain_vcpu_cpus(dom, &d->isolate); break;
                }
                if (r == 0 && (d->isolate_from & VH_ISO_IRQS_FOLLOW))
                        r = follow_devices(dom, &d->follow_devices);
        } else if (vh_policy_on(p, VH_P_KWORKERS) && p->kworkers_isolate) {
                elem = "kworkers";
                d->isolate_from = VH_ISO_WQ;
                r = p->has_kworkers_cpus ? vh_cpuset_copy(&d->isolate, &p->kworkers_cpus)
                                         : vh_domain_vcpu_cpus(dom, &d->isolate);
        } else {
                return 0;
        }
        if (r < 0)
                return r;
        if (vh_cpuset_is_empty(&d->isolate)) {
                d->isolate_from = 0;
                if (notes && vh_buf_printf(notes, "%s: isolate=yes, but no vCPU is pinned (no <vcpupin>, no <vcpu "
                                                  "cpuset>) and no cpus= is given: nothing to isolate\n",
                                           elem) < 0)
                        return -ENOMEM;
        }
        return 0;
}

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
        int r = isolation(dom, p, &d, notes);
        if (r < 0) {
                vh_demands_done(&d);
                return vh_fail(err, -r, "isolate");
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
                unsigned f = d->isolate_from;
                if (!l)
                        return -ENOMEM;
                const char *what[4];
                size_t n = 0;
                if (f & VH_ISO_WQ)
                        what[n++] = "kworkers";
                if (f & VH_ISO_IRQS)
                        what[n++] = f & VH_ISO_IRQS_FOLLOW ? "IRQs (its devices' on its CPUs)" : "IRQs";
                if (f & VH_ISO_TASKS)
                        what[n++] = "host tasks";
                r = vh_buf_puts(out, sep);
                for (size_t i = 0; r == 0 && i < n; i++)
                        r = vh_buf_printf(out, "%s%s", i == 0 ? "" : i + 1 == n ? " and " : ", ", what[i]);
                if (r == 0)
                        r = vh_buf_printf(out, " off CPUs %s", l);
                sep = "; ";
        }
        if (r == 0 && !*sep)
                r = vh_buf_puts(out, "none");
        return r;
}
