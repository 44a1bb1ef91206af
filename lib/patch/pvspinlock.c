/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pvspinlock — <pvspinlock/>
 *
 * Paravirtual spinlocks let a vCPU that waits for a lock held by a
 * preempted vCPU sleep instead of spin, which pays off when host CPUs are
 * overcommitted.  On x86 (KVM) they are a domain feature:
 * <features><pvspinlock state='on'/></features>.  On aarch64 there is
 * nothing to set in the XML: an openEuler guest kernel turns PV qspinlocks
 * on with arm_pvspin on its command line, which the rule says.
 */
#include "rule.h"

#include <errno.h>
#include <stdlib.h>

#include "util.h"
#include "xml.h"

int vh_rule_pvspinlock(vh_patch_ctx *c, vh_error **err)
{
        const vh_domain *d = c->dom;
        const char *arch = vh_rule_arch(c);
        int r;
        if (streq(arch, "aarch64")) {
                r = vh_rule_say(c, err, VH_PATCH_SKIPPED, "aarch64: libvirt has no XML setting for PV spinlocks");
                if (r < 0)
                        return r;
                return vh_rule_say(c, err, VH_PATCH_NOTE,
                                   "the guest needs arm_pvspin on its kernel command line (openEuler guest kernels, "
                                   "CONFIG_PARAVIRT_SPINLOCKS=y); dmesg then says \"arm-pv: PV qspinlocks enabled\"");
        }
        if (!streq(arch, "x86_64") && !streq(arch, "i686"))
                return vh_rule_say(c, err, VH_PATCH_SKIPPED, "the guest is %s: PV spinlocks are an x86 domain feature",
                                   arch ? arch : "of no stated arch (<os><type arch>)");
        if (!streq(d->virt_type, "kvm"))
                return vh_rule_say(c, err, VH_PATCH_SKIPPED, "domain type is '%s', not 'kvm'",
                                   d->virt_type ? d->virt_type : "");
        xmlNodePtr features = vh_pdom_ensure(c->root, "features", vh_order_domain, NULL);
        if (!features)
                return vh_fail(err, ENOMEM, "pvspinlock");
        xmlNodePtr pv = vh_pdom_child(features, "pvspinlock");
        if (pv && vh_xml_prop_is(pv, "state", "on")) {
                r = vh_rule_say(c, err, VH_PATCH_UNCHANGED, "PV spinlocks are on");
        } else {
                _cleanup_free_ char *old = pv ? vh_xml_prop(pv, "state") : NULL;
                bool had = pv != NULL;
                if (!pv && !(pv = vh_pdom_add(features, NULL, "pvspinlock", vh_order_features)))
                        return vh_fail(err, ENOMEM, "pvspinlock");
                if (vh_pdom_set(pv, "state", "on") < 0)
                        return vh_fail(err, ENOMEM, "pvspinlock");
                r = had ? vh_rule_say(c, err, VH_PATCH_CHANGED, "pvspinlock state %s -> on", old ? old : "(unset)")
                        : vh_rule_say(c, err, VH_PATCH_CHANGED, "<features><pvspinlock state='on'/>");
        }
        if (r < 0)
                return r;
        xmlNodePtr kvm = vh_pdom_child(features, "kvm");
        xmlNodePtr hd = kvm ? vh_pdom_child(kvm, "hint-dedicated") : NULL;
        if (hd && vh_xml_prop_is(hd, "state", "on"))
                return vh_rule_say(c, err, VH_PATCH_NOTE,
                                   "with hint-dedicated on, Linux guests use native spinlocks and leave PV spinlocks unused");
        return 0;
}
