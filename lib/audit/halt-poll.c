/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * halt_poll_ns: how long KVM polls before a halted vCPU sleeps.  The
 * practice raises it for latency-sensitive VMs (<halt-poll ns=...>); the
 * guest side is cpuidle-haltpoll (etc/guest/cpuidle-haltpoll.conf).
 * Informational: a NOTE unless the policy manages it.
 */
#include <errno.h>
#include <stdlib.h>

#include "audit/audit-int.h"
#include "knobs.h"
#include "policy.h"

int vh_audit_halt_poll(vh_results *out)
{
        _cleanup_free_ char *v = NULL;
        _cleanup_error_ vh_error *e = NULL;
        _cleanup_(vh_knob_done) vh_knob k = { 0 };
        int r = vh_knob_resolve("halt_poll_ns", &k);
        if (r == 0)
                r = vh_knob_read(&k, &v, &e);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                return vh_results_add(out, "halt-poll", VH_LEVEL_NOTE, false, "modprobe kvm",
                                      "halt_poll_ns: not present on this host (no kvm module loaded): nothing to tune");
        if (r < 0)
                return vh_results_add(out, "halt-poll", VH_LEVEL_NOTE, false, "modprobe kvm",
                                      "halt_poll_ns cannot be read: %s", vh_error_msg(e));
        _cleanup_free_ char *why = NULL;
        if (vh_knob_access(&k, &why) == -EROFS)
                return vh_results_add(out, "halt-poll", VH_LEVEL_NOTE, false, NULL,
                                      "halt_poll_ns is %s and %s: <halt-poll> has no effect on this host", v,
                                      why ? why : "cannot be tuned here");
        _cleanup_policy_ vh_policy p = { 0 };
        _cleanup_error_ vh_error *pe = NULL;
        if (vh_policy_load_host(&p, &pe) == 0 && vh_policy_on(&p, VH_P_HALT_POLL))
                return vh_results_add(out, "halt-poll", VH_LEVEL_PASS, false, NULL,
                                      "halt_poll_ns is %s; the policy sets %u while VMs run", v, p.halt_poll_ns);
        return vh_results_add(out, "halt-poll", VH_LEVEL_NOTE, false, NULL,
                              "halt_poll_ns is %s; <halt-poll ns=\"...\"/> in the policy tunes it for VMs that "
                              "need low wake-up latency (and cpuidle-haltpoll in the guest)", v);
}
