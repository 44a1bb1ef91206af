/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * patch.c — the rules in their order, the report, and the two entry points
 * of the hook.  The rules themselves are one per file next to this one.
 */
#include "rule.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xml.h"

#define MAX_LINES 1000000u      /* a domain has at most 100,000 devices of a kind (domain.c) */
#define DRIFT_MAX_ITEMS 20u

typedef struct rule_def {
        const char *name;
        int elem;               /* the vh_policy_elem that asks for it; -1: always runs */
        vh_rule_fn run;
        bool abi_safe;          /* runs under VH_PATCH_ABI_SAFE (it then keeps to what keeps the ABI) */
        bool incoming_only;     /* runs only under VH_PATCH_ABI_SAFE */
} rule_def;

/* The order matters only for readability of the report; no rule undoes another. */
static const rule_def rules[] = {
        { "iothreads", VH_P_IOTHREADS, vh_rule_iothreads, true, false },
        { "hugepages", VH_P_HUGEPAGES, vh_rule_hugepages, false, false },
        { "dedicated-hint", VH_P_DEDICATED_HINT, vh_rule_dedicated_hint, false, false },
        { "pvspinlock", VH_P_PVSPINLOCK, vh_rule_pvspinlock, false, false },
        { "vtpm", VH_P_VTPM, vh_rule_vtpm, false, false },
        { "disk-io", VH_P_DISK_IO, vh_rule_disk_io, false, false },
        { "rdm", -1, vh_rule_rdm, false, false },
        { "msix", VH_P_MSIX, vh_rule_msix, true, false },
        { "pinning", -1, vh_rule_pinning, true, true },
};

void vh_patch_report_done(vh_patch_report *r)
{
        for (size_t i = 0; i < r->n; i++)
                free(r->lines[i].text);
        free(r->lines);
        memset(r, 0, sizeof(*r));
}

static int report_add(vh_patch_report *r, vh_patch_kind kind, const char *rule, char *text)
{
        if (r->n == r->cap) {
                size_t cap = r->cap ? r->cap * 2 : 16;
                if (cap > MAX_LINES) {
                        free(text);
                        return -E2BIG;
                }
                vh_patch_line *l = realloc(r->lines, cap * sizeof(*l));
                if (!l) {
                        free(text);
                        return -ENOMEM;
                }
                r->lines = l;
                r->cap = cap;
        }
        r->lines[r->n++] = (vh_patch_line){ kind, rule, text };
        if (kind == VH_PATCH_CHANGED)
                r->changes++;
        if (kind == VH_PATCH_WARNING)
                r->warnings++;
        return 0;
}

int vh_rule_say(vh_patch_ctx *c, vh_error **err, vh_patch_kind kind, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *text = NULL;
        int n = vasprintf(&text, fmt, ap);
        va_end(ap);
        if (n < 0)
                return vh_fail(err, ENOMEM, "%s", c->rule);
        int r = report_add(c->rep, kind, c->rule, text);
        if (r < 0)
                return vh_fail(err, -r, "%s: report", c->rule);
        return 0;
}

const char *vh_rule_arch(const vh_patch_ctx *c)
{
        return c->dom->arch ? c->dom->arch : c->facts->arch;
}

char *vh_patch_line_format(const vh_patch_line *l)
{
        static const char *const tags[] = {
                [VH_PATCH_CHANGED] = "", [VH_PATCH_UNCHANGED] = "unchanged: ", [VH_PATCH_SKIPPED] = "skipped: ",
                [VH_PATCH_WARNING] = "warning: ", [VH_PATCH_NOTE] = "note: ", [VH_PATCH_OFF] = "off: ",
        };
        char *s = NULL;
        if (asprintf(&s, "%s: %s%s", l->rule, l->kind <= VH_PATCH_OFF ? tags[l->kind] : "", l->text) < 0)
                return NULL;
        return s;
}

int vh_patch_report_format(const vh_patch_report *r, unsigned kinds, vh_buf *out)
{
        for (size_t i = 0; i < r->n; i++) {
                if (!((kinds >> r->lines[i].kind) & 1))
                        continue;
                _cleanup_free_ char *s = vh_patch_line_format(&r->lines[i]);
                if (!s || vh_buf_printf(out, "%s\n", s) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static bool said_outcome(const vh_patch_report *r, size_t from)
{
        for (size_t i = from; i < r->n; i++)
                if (r->lines[i].kind == VH_PATCH_CHANGED || r->lines[i].kind == VH_PATCH_UNCHANGED ||
                    r->lines[i].kind == VH_PATCH_SKIPPED)
                        return true;
        return false;
}

unsigned vh_patch_facts_needed(const vh_domain *dom, const vh_policy *pol, unsigned flags)
{
        bool abi_safe = flags & VH_PATCH_ABI_SAFE;
        unsigned what = 0;
        if (abi_safe)
                what |= VH_FACTS_CPUS; /* pinning: the online CPUs */
        if (!abi_safe && vh_policy_on(pol, VH_P_HUGEPAGES))
                what |= VH_FACTS_HUGEPAGES;
        if (!abi_safe && vh_policy_on(pol, VH_P_VTPM))
                what |= VH_FACTS_FILES;
        if (!abi_safe)
                for (size_t i = 0; i < dom->n_disks; i++)
                        if (streq(dom->disks[i].device, "lun"))
                                what |= VH_FACTS_BLOCK;
        if (vh_policy_on(pol, VH_P_MSIX))
                for (size_t i = 0; i < dom->n_hostdevs; i++)
                        if (streq(dom->hostdevs[i].type, "pci"))
                                what |= VH_FACTS_PCI | VH_FACTS_FILES;
        return what;
}

int vh_patch_run(const vh_domain *dom, const vh_policy *pol, const vh_facts *facts, unsigned flags,
                 xmlDocPtr *ret_doc, vh_patch_report *rep, vh_error **err)
{
        _cleanup_xmldoc_ xmlDocPtr doc = xmlCopyDoc(dom->doc, 1);
        if (!doc)
                return vh_fail(err, ENOMEM, "copying the domain XML of %s", dom->name);
        vh_patch_ctx c = {
                .dom = dom, .pol = pol, .facts = facts, .flags = flags, .doc = doc, .root = xmlDocGetRootElement(doc), .rep = rep,
        };
        bool abi_safe = flags & VH_PATCH_ABI_SAFE;
        for (size_t i = 0; i < ELEMENTSOF(rules); i++) {
                const rule_def *d = &rules[i];
                if ((abi_safe && !d->abi_safe) || (!abi_safe && d->incoming_only))
                        continue;
                c.rule = d->name;
                if (d->elem >= 0 && !vh_policy_on(pol, (vh_policy_elem)d->elem)) {
                        bool given = (pol->present >> d->elem) & 1;
                        int r = vh_rule_say(&c, err, VH_PATCH_OFF, "%s", given ? "enabled=\"no\" in the policy"
                                                                                : "not in the policy");
                        if (r < 0)
                                return r;
                        continue;
                }
                size_t before = rep->n;
                int r = d->run(&c, err);
                if (r < 0)
                        return vh_error_wrap(err, "%s: rule %s", dom->name, d->name);
                if (!said_outcome(rep, before) &&
                    (r = vh_rule_say(&c, err, VH_PATCH_UNCHANGED, "nothing to change")) < 0)
                        return r;
        }
        *ret_doc = TAKE_PTR(doc);
        return 0;
}

int vh_patch_incoming(const vh_domain *dom, const vh_policy *pol, const vh_facts *facts, char **ret_xml,
                      vh_patch_report *rep, vh_error **err)
{
        _cleanup_patch_report_ vh_patch_report own = { 0 };
        vh_patch_report *r = rep ? rep : &own;
        _cleanup_xmldoc_ xmlDocPtr doc = NULL;
        unsigned before = r->changes;
        int k = vh_patch_run(dom, pol, facts, VH_PATCH_ABI_SAFE, &doc, r, err);
        if (k < 0)
                return k;
        if (r->changes == before) {
                *ret_xml = NULL;
                return 0;
        }
        char *xml = vh_patch_xml_format(doc);
        if (!xml)
                return vh_fail(err, ENOMEM, "%s: writing the patched XML", dom->name);
        *ret_xml = xml;
        return 0;
}

int vh_patch_drift(const vh_domain *dom, const vh_policy *pol, const vh_facts *facts, char **ret_line,
                   vh_error **err)
{
        _cleanup_patch_report_ vh_patch_report rep = { 0 };
        _cleanup_xmldoc_ xmlDocPtr doc = NULL;
        int r = vh_patch_run(dom, pol, facts, 0, &doc, &rep, err);
        if (r < 0)
                return r;
        if (rep.changes == 0) {
                *ret_line = NULL;
                return 0;
        }
        _cleanup_buf_ vh_buf b = { 0 };
        r = vh_buf_printf(&b, "vmhooks apply %s would change: ", dom->name);
        unsigned shown = 0;
        for (size_t i = 0; r == 0 && i < rep.n; i++) {
                if (rep.lines[i].kind != VH_PATCH_CHANGED)
                        continue;
                if (shown == DRIFT_MAX_ITEMS) {
                        r = vh_buf_printf(&b, "; and %u more", rep.changes - shown);
                        break;
                }
                r = vh_buf_printf(&b, "%s%s: %s", shown ? "; " : "", rep.lines[i].rule, rep.lines[i].text);
                shown++;
        }
        if (r < 0)
                return vh_fail(err, ENOMEM, "%s: drift", dom->name);
        *ret_line = TAKE_PTR(b.data);
        return 0;
}
