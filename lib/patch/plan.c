/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * plan.c — the one planner behind `vmhooks patch`, `vmhooks diff`,
 * `vmhooks apply --dry-run` and `vmhooks apply`: XML in; the policy, the
 * report, the patched XML and the diff out.  What each command then does
 * with it (print, or redefine the domain) is all that differs.
 */
#include "rule.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "root.h"
#include "util.h"
#include "xml.h"

void vh_patch_plan_done(vh_patch_plan *p)
{
        free(p->name);
        free(p->policy);
        vh_patch_report_done(&p->report);
        free(p->after);
        free(p->diff);
        memset(p, 0, sizeof(*p));
}

/*
 * The policy for the commands: unlike the hook, which logs a bad policy and
 * goes on, a command stops on it and says where it is wrong.  Files are
 * checked against the schema too (vh_policy_validate_schema).
 */
static int load_policy(const vh_domain *dom, const char *file, vh_policy *ret, vh_error **err)
{
        _cleanup_policy_ vh_policy p = { 0 };
        _cleanup_free_ char *path = file ? strdup(file) : vh_path(VH_POLICY_FILE);
        if (!path)
                return vh_fail(err, ENOMEM, "policy");
        if (file || access(path, F_OK) == 0) {
                _cleanup_xmldoc_ xmlDocPtr doc = NULL;
                int r = vh_xml_parse_file(path, &doc, err);
                if (r < 0)
                        return r;
                xmlNodePtr root = xmlDocGetRootElement(doc);
                if ((r = vh_policy_apply(&p, root, path, true, err)) < 0 ||
                    (r = vh_policy_validate_schema(root, path, err)) < 0)
                        return r;
        }
        if (dom->policy) {
                _cleanup_free_ char *where = NULL;
                if (asprintf(&where, "metadata of VM %s", dom->name) < 0)
                        return vh_fail(err, ENOMEM, "policy");
                int r = vh_policy_apply(&p, dom->policy, where, false, err);
                if (r < 0)
                        return r;
        }
        vh_policy_done(ret);
        *ret = p;
        memset(&p, 0, sizeof(p));
        return 0;
}

int vh_patch_plan_make(const char *xml, size_t len, const char *what, const vh_patch_opts *opts,
                       vh_patch_plan *ret, vh_error **err)
{
        static const vh_patch_opts none = { 0 };
        if (!opts)
                opts = &none;
        _cleanup_domain_ vh_domain *dom = NULL;
        int r = vh_domain_parse(xml, len, what, &dom, err);
        if (r < 0)
                return r;
        _cleanup_policy_ vh_policy pol = { 0 };
        if ((r = load_policy(dom, opts->policy_file, &pol, err)) < 0)
                return r;

        _cleanup_patch_plan_ vh_patch_plan plan = { 0 };
        plan.name = strdup(dom->name);
        plan.policy = vh_policy_describe(&pol);
        if (!plan.name || !plan.policy)
                return vh_fail(err, ENOMEM, "%s", what);
        unsigned flags = opts->flags & ~(unsigned)VH_PATCH_ABI_SAFE;
        /* this host's facts, the parts the rules need, unless the caller patches for another host */
        _cleanup_facts_ vh_facts here = { 0 };
        const vh_facts *facts = opts->facts;
        if (!facts) {
                _cleanup_error_ vh_error *fe = NULL;
                if ((r = vh_facts_gather(&here, vh_patch_facts_needed(dom, &pol, flags), &fe)) == -ENOMEM) {
                        *err = TAKE_PTR(fe);
                        return r;
                }
                /* else what could not be read is missing from here.parts: the rule that needs it says so */
                facts = &here;
        }
        _cleanup_xmldoc_ xmlDocPtr doc = NULL;
        if ((r = vh_patch_run(dom, &pol, facts, flags, &doc, &plan.report, err)) < 0)
                return r;
        if (plan.report.changes > 0) {
                _cleanup_free_ char *before = vh_patch_xml_format(dom->doc);
                plan.after = vh_patch_xml_format(doc);
                if (!before || !plan.after)
                        return vh_fail(err, ENOMEM, "%s", what);
                _cleanup_free_ char *la = NULL, *lb = NULL;
                if (asprintf(&la, "%s (current)", dom->name) < 0 || asprintf(&lb, "%s (patched)", dom->name) < 0)
                        return vh_fail(err, ENOMEM, "%s", what);
                if ((r = vh_udiff(before, plan.after, la, lb, 3, &plan.diff, err)) < 0)
                        return r;
                for (size_t i = 0; i < plan.report.n; i++)
                        if (plan.report.lines[i].kind == VH_PATCH_CHANGED && streq(plan.report.lines[i].rule, "msix") &&
                            (opts->flags & VH_PATCH_MSIX_OVERRIDE))
                                plan.uses_override = true;
        }
        vh_patch_plan_done(ret);
        *ret = plan;
        memset(&plan, 0, sizeof(plan));
        return 0;
}
