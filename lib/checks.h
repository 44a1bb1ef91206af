/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * checks.h — what a VM needs from the host before it starts, checked at
 * `prepare begin` by the hook and by `vmhooks check DOMAIN|--file F`.
 *
 * The checks (lib/checks/NAME.c, one each, listed in lib/checks/table.c)
 * are small functions of the domain, the effective policy and the host
 * facts (facts.h: sysfs, /proc, the swtpm user and its localca, gathered
 * once by the caller); the vTPM check also looks for the VM's own TPM
 * state directory through vh_path().  Each appends results; none stops the others.
 * A result is `refuse` only where QEMU or libvirt would fail the start
 * anyway (missing hugepages, no IOMMU, no swtpm) or the policy demands it
 * (<seclabel type="none"> under <svirt mode="enforce"/>): the hook then
 * exits 1 with that result's one line, which `virsh start` shows.  Every
 * other finding is logged.
 *
 * The result list is shared with `vmhooks audit` (audit.h): one line per
 * finding, a level, the message and the fix.
 */
#ifndef VH_CHECKS_H
#define VH_CHECKS_H

#include <stdbool.h>
#include <stddef.h>

#include "domain.h"
#include "error.h"
#include "facts.h"
#include "policy.h"

typedef enum vh_level {
        VH_LEVEL_PASS = 0,      /* fine */
        VH_LEVEL_NOTE,          /* informational: not applicable, nothing to do */
        VH_LEVEL_WARN,          /* works, but against the best practices (or may fail later) */
        VH_LEVEL_FAIL,          /* broken or unsafe; `vmhooks check/audit` exit 1 */
} vh_level;

typedef struct vh_result {
        const char *check;      /* static name: "hugepages", "sasl-mech", ... */
        vh_level level;
        bool refuse;            /* the hook refuses the start at prepare (implies FAIL) */
        char *message;          /* one line: what was found, with the file or sysfs path */
        char *fix;              /* one line: what to do, or NULL */
} vh_result;

typedef struct vh_results {
        vh_result *items;
        size_t n;
} vh_results;

void vh_results_done(vh_results *r);
#define _cleanup_results_ __attribute__((cleanup(vh_results_done)))

/*
 * Append a result (`fix` may be NULL).  Returns 0 or -ENOMEM.
 * `refuse` makes the level FAIL.
 */
int vh_results_add(vh_results *r, const char *check, vh_level level, bool refuse, const char *fix,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* asprintf that returns the string (NULL on allocation failure): for fixes built from values. */
char *vh_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

const char *vh_level_name(vh_level l);  /* "PASS", "NOTE", "WARN", "FAIL" */

/* The worst level in the list (PASS when empty). */
vh_level vh_results_worst(const vh_results *r);

/* The first result with refuse set, or NULL. */
const vh_result *vh_results_refusal(const vh_results *r);

/* "LEVEL check: message; fix: fix" (malloc'd), the line printed and logged. */
char *vh_result_line(const vh_result *res);

/* "check: message; fix: fix" (malloc'd): the one line the hook prints when it refuses. */
char *vh_result_refusal_line(const vh_result *res);

/*
 * Run every prepare-time check of `dom` under policy `p` (the effective
 * policy of the VM) on host facts `f` (holding at least the parts
 * vh_checks_facts_needed names).  Results are appended to *ret
 * (initialised by the caller, { 0 }).  Fails only on allocation failure; a
 * host file that cannot be read is a finding, not an error.
 */
int vh_checks_run(const vh_domain *dom, const vh_policy *p, const vh_facts *f, vh_results *ret, vh_error **err);

/* The parts of the host facts (VH_FACTS_*) the checks of `dom` read: the hook gathers only those. */
unsigned vh_checks_facts_needed(const vh_domain *dom, const vh_policy *p);

/* The checks by name, for `vmhooks check --list` and tests. */
size_t vh_checks_count(void);
const char *vh_checks_name(size_t i);

#endif
