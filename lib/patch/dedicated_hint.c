/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dedicated-hint — <dedicated-hint/>
 *
 * <features><kvm><hint-dedicated state='on'/></kvm></features> tells the
 * guest (KVM_HINTS_REALTIME) that each vCPU has a host CPU of its own:
 * Linux guests then poll before halting (cpuidle-haltpoll, tuned in the
 * guest's /sys/module/haltpoll/parameters) and use native spinlocks.  It is
 * only true, and libvirt only accepts it, when all of these hold, checked
 * in this order and the first that fails is the reason given:
 *   1. the guest is x86_64;
 *   2. the domain type is kvm;
 *   3. the CPU mode is host-passthrough;
 *   4. every vCPU (up to <vcpu>, hot-pluggable ones included) has a
 *      <vcpupin> to exactly one host CPU, and no two share one.
 */
#include "rule.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xml.h"

static const vh_pin *pin_of(const vh_domain *d, unsigned vcpu)
{
        const vh_pin *p = NULL;
        for (size_t i = 0; i < d->n_vcpupins; i++)
                if (d->vcpupins[i].id == vcpu)
                        p = &d->vcpupins[i];
        return p;
}

static unsigned only_cpu(const vh_cpuset *s)
{
        for (size_t w = 0; w < s->nwords; w++)
                if (s->words[w])
                        return (unsigned)(w * 64 + (unsigned)__builtin_ctzll(s->words[w]));
        return 0;
}

/* 0 when every vCPU has a host CPU of its own, else the reason in *why. */
static int check_pins(const vh_domain *d, vh_cpuset *used, char **why)
{
        unsigned vcpus = d->vcpus ? d->vcpus : 1;
        if (d->n_vcpupins == 0)
                return asprintf(why, "no vCPU is pinned (<cputune><vcpupin>)") < 0 ? -ENOMEM : 1;
        for (unsigned v = 0; v < vcpus; v++) {
                const vh_pin *p = pin_of(d, v);
                if (!p)
                        return asprintf(why, "vCPU %u has no <vcpupin>", v) < 0 ? -ENOMEM : 1;
                if (vh_cpuset_count(&p->cpus) != 1) {
                        _cleanup_free_ char *l = vh_cpuset_format_list(&p->cpus);
                        return asprintf(why, "vCPU %u is pinned to %s, not to one host CPU", v, l ? l : "?") < 0 ? -ENOMEM
                                                                                                                 : 1;
                }
                unsigned cpu = only_cpu(&p->cpus);
                if (vh_cpuset_test(used, cpu)) {
                        unsigned other = 0;
                        for (unsigned u = 0; u < v; u++) {
                                const vh_pin *q = pin_of(d, u);
                                if (q && vh_cpuset_test(&q->cpus, cpu))
                                        other = u;
                        }
                        return asprintf(why, "vCPUs %u and %u share host CPU %u", other, v, cpu) < 0 ? -ENOMEM : 1;
                }
                if (vh_cpuset_set(used, cpu) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int vh_rule_dedicated_hint(vh_patch_ctx *c, vh_error **err)
{
        const vh_domain *d = c->dom;
        const char *arch = vh_rule_arch(c);
        if (!streq(arch, "x86_64"))
                return vh_rule_say(c, err, VH_PATCH_SKIPPED, "the guest is %s, not x86_64",
                                   arch ? arch : "of no stated arch (<os><type arch>)");
        if (!streq(d->virt_type, "kvm"))
                return vh_rule_say(c, err, VH_PATCH_SKIPPED, "domain type is '%s', not 'kvm'",
                                   d->virt_type ? d->virt_type : "");
        if (!streq(d->cpu_mode, "host-passthrough"))
                return vh_rule_say(c, err, VH_PATCH_SKIPPED, "CPU mode is %s, not host-passthrough",
                                   d->cpu_mode ? d->cpu_mode : "not set (<cpu mode>)");
        _cleanup_cpuset_ vh_cpuset used = { 0 };
        _cleanup_free_ char *why = NULL;
        int r = check_pins(d, &used, &why);
        if (r < 0)
                return vh_fail(err, ENOMEM, "dedicated-hint");
        if (r > 0)
                return vh_rule_say(c, err, VH_PATCH_SKIPPED, "%s", why);
        _cleanup_free_ char *cpus = vh_cpuset_format_list(&used);
        if (!cpus)
                return vh_fail(err, ENOMEM, "dedicated-hint");
        if (d->has_emulatorpin && vh_cpuset_intersects(&d->emulatorpin, &used)) {
                _cleanup_free_ char *ep = vh_cpuset_format_list(&d->emulatorpin);
                r = vh_rule_say(c, err, VH_PATCH_WARNING,
                                "<emulatorpin cpuset='%s'> shares host CPUs with the vCPUs (%s): they are not quite "
                                "dedicated",
                                ep ? ep : "?", cpus);
                if (r < 0)
                        return r;
        }

        xmlNodePtr features = vh_pdom_ensure(c->root, "features", vh_order_domain, NULL);
        xmlNodePtr kvm = features ? vh_pdom_ensure(features, "kvm", vh_order_features, NULL) : NULL;
        if (!kvm)
                return vh_fail(err, ENOMEM, "dedicated-hint");
        xmlNodePtr hd = vh_pdom_child(kvm, "hint-dedicated");
        if (hd && vh_xml_prop_is(hd, "state", "on"))
                return vh_rule_say(c, err, VH_PATCH_UNCHANGED, "hint-dedicated is on; every vCPU has a host CPU of its own (%s)",
                                   cpus);
        _cleanup_free_ char *old = hd ? vh_xml_prop(hd, "state") : NULL;
        if (!hd && !(hd = vh_pdom_add(kvm, NULL, "hint-dedicated", vh_order_kvm)))
                return vh_fail(err, ENOMEM, "dedicated-hint");
        if (vh_pdom_set(hd, "state", "on") < 0)
                return vh_fail(err, ENOMEM, "dedicated-hint");
        if (old)
                r = vh_rule_say(c, err, VH_PATCH_CHANGED, "hint-dedicated state %s -> on; every vCPU has a host CPU of its own (%s)",
                                old, cpus);
        else
                r = vh_rule_say(c, err, VH_PATCH_CHANGED,
                                "<features><kvm><hint-dedicated state='on'/>: every vCPU has a host CPU of its own (%s)",
                                cpus);
        if (r < 0)
                return r;
        return vh_rule_say(c, err, VH_PATCH_NOTE,
                           "Linux guests then poll before halting (cpuidle-haltpoll); tune it in the guest's "
                           "/sys/module/haltpoll/parameters/guest_halt_poll_ns");
}
