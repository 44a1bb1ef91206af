/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <seclabel type="none">: QEMU runs unconfined (no sVirt label).  Under
 * <svirt mode="enforce"/> the policy demands confinement, so the start is
 * refused; under "warn" it is logged; "off" says nothing.  A seclabel with
 * model="dac" only switches off the DAC relabelling, not sVirt: ignored.
 */
#include "checks/check.h"
#include "util.h"

int vh_check_seclabel(const vh_domain *dom, const vh_policy *p, const vh_facts *f, vh_results *out)
{
        (void)f;
        if (!vh_policy_on(p, VH_P_SVIRT) || p->svirt == VH_SVIRT_OFF)
                return 0;
        bool enforce = p->svirt == VH_SVIRT_ENFORCE;
        for (size_t i = 0; i < dom->n_seclabels; i++) {
                const vh_seclabel *s = &dom->seclabels[i];
                if (!streq(s->type, "none") || streq(s->model, "dac"))
                        continue;
                return vh_results_add(out, "seclabel", enforce ? VH_LEVEL_FAIL : VH_LEVEL_WARN, enforce,
                                      "remove <seclabel type='none'/> from the domain (virsh edit), or relax the "
                                      "VM's policy to <svirt mode=\"warn\"/>",
                                      "VM %s has <seclabel type=\"none\"%s%s%s>: QEMU would run without an sVirt "
                                      "label, and the policy says <svirt mode=\"%s\"/>",
                                      dom->name, s->model ? " model=\"" : "", s->model ? s->model : "",
                                      s->model ? "\"" : "", enforce ? "enforce" : "warn");
        }
        return vh_results_add(out, "seclabel", VH_LEVEL_PASS, false, NULL,
                              "VM %s does not opt out of sVirt (no <seclabel type=\"none\">)", dom->name);
}
