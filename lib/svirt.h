/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * svirt.h — is the QEMU process of a VM confined the way sVirt promises?
 * Checked at `started begin`, the first hook call with a PID.
 *
 * A label passes when SELinux is enforcing and the label QEMU runs with
 * (/proc/PID/attr/current, what getpidcon_raw reads):
 *   - has the type svirt_t or svirt_tcg_t, or the type of the domain's
 *     <seclabel model="selinux"><baselabel>;
 *   - has an MCS range of exactly two distinct categories (sN:cA,cB), as
 *     libvirt's dynamic labels do; "c0.c1023" or one category is not
 *     isolation;
 *   - equals the <label> of the domain's SELinux <seclabel>;
 *   - shares its categories with no other running VM that vmhooks knows.
 *
 * <svirt mode="enforce"/>: a violation (or SELinux not enforcing) is a
 * refusal: the hook exits 1 at `started begin` and libvirt stops the
 * guest, with one line naming the label found and what was expected.
 * "warn": logged.  "off": nothing is read or judged.  The shipped policy
 * leaves it off: a host without SELinux must start VMs as before.
 *
 * Contexts are parsed with libselinux (context_new), which works on hosts
 * where SELinux is disabled.
 */
#ifndef VH_SVIRT_H
#define VH_SVIRT_H

#include <stdbool.h>
#include <stddef.h>

#include "checks.h"
#include "domain.h"
#include "error.h"
#include "policy.h"

#define VH_SELINUX_ENFORCE "/sys/fs/selinux/enforce"

/* What the host says about one running QEMU (vh_svirt_read). */
typedef struct vh_svirt_facts {
        bool selinux;           /* /sys/fs/selinux/enforce exists */
        bool enforcing;         /* ... and reads 1 */
        int pid;                /* from /run/libvirt/qemu/NAME.pid; 0 when unknown */
        char *label;            /* /proc/PID/attr/current; NULL when unreadable */
        char *why;              /* why pid or label is missing; NULL otherwise */
} vh_svirt_facts;

void vh_svirt_facts_done(vh_svirt_facts *f);
#define _cleanup_svirt_facts_ __attribute__((cleanup(vh_svirt_facts_done)))

/* Another running VM and its label (from the state table). */
typedef struct vh_svirt_peer {
        const char *name;
        const char *label;
} vh_svirt_peer;

/*
 * Read the SELinux state, the QEMU PID of VM `name` (libvirt's pidfile)
 * and its label.  The PID must be this VM's QEMU: /proc/PID/cmdline has
 * "-uuid UUID" (libvirt always passes it); cmdline and label are read
 * through one open /proc/PID, so both are of the same process.  What
 * cannot be read or verified is recorded in `why` (label NULL), not
 * failed: the judgement decides.  Fails only on allocation failure.
 */
int vh_svirt_read(const char *name, const char *uuid, vh_svirt_facts *ret, vh_error **err);

/* Longest /proc/PID/cmdline read (libvirt's JSON -device arguments make it long). */
#define VH_CMDLINE_MAX (4u << 20)

/*
 * Does a /proc/PID/cmdline (NUL-separated, `len` bytes) carry "-uuid
 * UUID" (case-insensitive)?  0 yes; -ESRCH with *why saying what it has.  Pure.
 */
int vh_svirt_cmdline_check(const char *cmdline, size_t len, const char *uuid, const char **why);

/*
 * Judge (pure).  Appends one result to `out` (check "svirt"): PASS, WARN
 * under mode warn, FAIL with refuse under mode enforce; nothing under off.
 * `peers` are the other running VMs (this VM excluded).  -ENOMEM only.
 */
int vh_svirt_judge(const vh_domain *dom, vh_svirt_mode mode, const vh_svirt_facts *f, const vh_svirt_peer *peers,
                   size_t n_peers, vh_results *out);

/* The parts of a context: user:role:type[:range] (libselinux).  -EINVAL when it is not one. */
typedef struct vh_secctx {
        char *user, *role, *type, *range;       /* range NULL when absent */
} vh_secctx;
void vh_secctx_done(vh_secctx *c);
int vh_secctx_parse(const char *label, vh_secctx *ret);

/* The SELinux type of the wrapper's plans (etc/selinux/vmhooks.te). */
#define VH_PLAN_SELINUX_TYPE "vmhooks_wrapper_run_t"

/*
 * The label of VM `dom`'s plan: system_u:object_r:vmhooks_wrapper_run_t
 * with the MCS categories of the domain's SELinux <label> (what libvirt
 * assigned at start begin), so that only this guest's QEMU (svirt_t, MCS
 * constrained) may read it.  NULL (and *why) when there is none to take:
 * no SELinux <seclabel> with a <label>, type none, or not two categories.
 * Pure (libselinux parses the label).  Allocation failure: NULL, *why "out of memory".
 */
char *vh_svirt_plan_context(const vh_domain *dom, const char **why);

/*
 * The MCS part of a range, normalised to "sN:cA,cB" with A < B, when it is
 * exactly two distinct categories; NULL otherwise (and *why says what it is).
 */
char *vh_svirt_mcs(const char *range, const char **why);

#endif
