/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Transparent hugepages.  "always" next to static hugepage pools makes
 * khugepaged compact memory behind the VMs' backs; vmhooks' <thp mode="auto"/>
 * turns it to never while such a VM runs.  WARN when THP is "always",
 * pools are reserved, and the host policy leaves THP alone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit-int.h"
#include "knobs.h"
#include "policy.h"
#include "util.h"

int vh_audit_thp(vh_results *out)
{
        _cleanup_free_ char *mode = NULL;
        _cleanup_error_ vh_error *e = NULL;
        _cleanup_(vh_knob_done) vh_knob k = { 0 };
        int r = vh_knob_resolve("thp", &k);
        if (r == 0)
                r = vh_knob_read(&k, &mode, &e);
        if (r == -ENOMEM)
                return r;
        if (r == -ENOENT)
                return vh_results_add(out, "thp", VH_LEVEL_NOTE, false, NULL,
                                      "transparent hugepages: not present on this host (kernel without THP)");
        if (r < 0)
                return vh_results_add(out, "thp", VH_LEVEL_NOTE, false, NULL, "transparent hugepages: %s",
                                      vh_error_msg(e));
        _cleanup_policy_ vh_policy p = { 0 };
        _cleanup_error_ vh_error *pe = NULL;
        bool managed = vh_policy_load_host(&p, &pe) == 0 && vh_policy_on(&p, VH_P_THP);
        if (managed)
                return vh_results_add(out, "thp", VH_LEVEL_PASS, false, NULL,
                                      "THP is %s; vmhooks manages it (policy <thp mode=\"%s\"%s%s%s/>)", mode,
                                      vh_thp_mode_name(p.thp), p.thp_defrag ? " defrag=\"" : "",
                                      p.thp_defrag ? vh_thp_defrag_name(p.thp_defrag) : "", p.thp_defrag ? "\"" : "");
        vh_hugepool pool;
        uint64_t def = 0;
        bool pools = vh_host_default_hugepage_kib(&def) == 0 && vh_host_hugepool(def, -1, &pool) == 0 && pool.nr > 0;
        if (streq(mode, "always") && pools)
                return vh_results_add(out, "thp", VH_LEVEL_WARN, false,
                                      "add <thp mode=\"auto\"/> to /etc/vmhooks/policy.xml",
                                      "THP is always while static hugepages are reserved, and the vmhooks policy "
                                      "leaves THP alone");
        return vh_results_add(out, "thp", VH_LEVEL_PASS, false, NULL, "THP is %s", mode);
}
