/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-hook — the libvirt QEMU hook of vmhooks.
 *
 * libvirt runs it as /etc/libvirt/hooks/qemu NAME OP SUBOP EXTRA, as root,
 * with the domain XML on stdin, and waits for it.  It tunes host knobs for
 * the VMs that run (prepare, reconnect) and restores them when the last VM
 * that needed a setting stops (stopped, release).  See vmhooks-hook(8).
 *
 * Exit status: 0, or 1 when it deliberately refuses a start (one line on
 * stderr, which libvirt shows); 2 for a wrong command line.  Its own
 * errors never stop a VM unless the policy says <on-error action="refuse"/>.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>

#include "apparmor.h"
#include "checks.h"
#include "checks/check.h"
#include "demands.h"
#include "domain.h"
#include "error.h"
#include "facts.h"
#include "fileio.h"
#include "lifecycle.h"
#include "liveness.h"
#include "log.h"
#include "msix.h"
#include "patch.h"
#include "policy.h"
#include "privs.h"
#include "retry.h"
#include "root.h"
#include "svirt.h"
#include "util.h"
#include "wrapper_conf.h"
#include "xml.h"

typedef struct hook {
        const char *name, *op, *subop;
        char *xml;
        size_t xml_len;
        vh_domain *dom;
        vh_policy policy;
        vh_logger log;
        bool refuse_on_error;   /* effective <on-error action="refuse"/> */
        char *refusal;          /* the one line for stderr, when refusing */
        char *last_error;       /* the last error of this call, kept in the VM's registration */
        bool said_unregistered; /* "unregistered" is logged (before the writes it caused) */
        bool retry_due;         /* a transaction left a failed read or write: the background retrier takes it */
        const char *policy_sources; /* which sources the effective policy came from, for the log */
} hook;

static void remember_error(hook *h, const char *msg)
{
        char *m = strdup(msg);
        if (!m)
                return;
        free(h->last_error);
        h->last_error = m;
}

/* Remember the first reason to refuse (only honoured where libvirt lets us). */
static void refuse(hook *h, const char *reason)
{
        if (h->refusal)
                return;
        if (asprintf(&h->refusal, "%s (refusing: <on-error action=\"refuse\"/>)", reason) < 0)
                h->refusal = NULL;
}

/* A check's finding that refuses the start: its own line, without the on-error suffix. */
static void refuse_finding(hook *h, const vh_result *x)
{
        if (!h->refusal)
                h->refusal = vh_result_refusal_line(x);
}

/* Log every finding that is not a PASS; remember the first refusal. */
static void log_results(hook *h, const vh_results *r)
{
        for (size_t i = 0; i < r->n; i++) {
                if (r->items[i].level != VH_LEVEL_PASS) {
                        _cleanup_free_ char *line = vh_result_line(&r->items[i]);
                        if (line)
                                (void)vh_log(&h->log, "%s", line);
                }
                if (r->items[i].refuse)
                        refuse_finding(h, &r->items[i]);
        }
}

/* An error of ours: always logged; refuses the start only under on-error refuse. */
static void own_error(hook *h, const char *msg)
{
        (void)vh_log(&h->log, "error: %s", msg);
        remember_error(h, msg);
        if (h->refuse_on_error)
                refuse(h, msg);
}

/*
 * Parse the XML and the effective policy.  0 when the caller can go on.
 * Policy errors are reported by the calls that register (prepare,
 * reconnect); later calls of the same start stay quiet about them.
 */
static int load_domain(hook *h, bool report_policy)
{
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_domain_parse(h->xml, h->xml_len, "domain XML on stdin", &h->dom, &e);
        if (r < 0) {
                /* Without the XML there is no metadata: the host policy decides on-error. */
                _cleanup_policy_ vh_policy host = { 0 };
                _cleanup_error_ vh_error *he = NULL;
                (void)vh_policy_load_host(&host, &he);
                h->refuse_on_error = host.on_error == VH_ON_ERROR_REFUSE;
                own_error(h, vh_error_msg(e));
                return r;
        }
        _cleanup_error_ vh_error *host_err = NULL, *vm_err = NULL;
        r = vh_policy_effective(h->dom, &h->policy, &host_err, &vm_err);
        if (r < 0) {
                own_error(h, "out of memory reading the policy");
                return r;
        }
        h->refuse_on_error = h->policy.on_error == VH_ON_ERROR_REFUSE;
        if (!report_policy)
                return 0;
        if (host_err) {
                own_error(h, vh_error_msg(host_err));
                (void)vh_log(&h->log, "ignoring the host policy %s%s: none of its defaults apply%s", vh_root(),
                             VH_POLICY_FILE, h->dom->policy && !vm_err ? "; this VM's metadata still does" : "");
        }
        if (vm_err) {
                own_error(h, vh_error_msg(vm_err));
                (void)vh_log(&h->log, "using the host policy only for this VM");
        }
        h->policy_sources = host_err ? (h->dom->policy && !vm_err ? "metadata only (host policy ignored)"
                                                                   : "none (host policy ignored)")
                            : h->dom->policy && !vm_err ? "host policy and metadata"
                                                        : "host policy";
        return 0;
}

static const char *vm_uuid(const hook *h)
{
        return h->dom && h->dom->uuid && *h->dom->uuid ? h->dom->uuid : h->name;
}

/*
 * Is a note of the report this call's to tell?  A conflict, to the VM it
 * is about; a knob not present, not tunable or lost, at the VM's own
 * registration when it demands that knob (once per start); a knob gone,
 * to whichever call noticed.  No VM's log gets another VM's notes.
 */
static bool note_is_ours(const hook *h, const vh_change *c, const vh_demands *mine)
{
        switch (c->kind) {
        case VH_CHANGE_CONFLICT: return streq(c->vm, h->name);
        case VH_CHANGE_GONE: return true;
        case VH_CHANGE_ABSENT:
        case VH_CHANGE_UNTUNABLE:
        case VH_CHANGE_LOST: return mine && c->family < VH_FAM_COUNT && vh_family_demanded_by(c->family, mine);
        default: return false;
        }
}

/* `mine`: the demands this call registered (prepare, reconnect), else NULL. */
static void log_txn(hook *h, const vh_txn_result *res, const vh_demands *mine)
{
        h->retry_due = h->retry_due || res->retry_due;
        vh_log_dropped(&h->log, res);
        for (size_t i = 0; i < res->n_removed_temps; i++)
                (void)vh_log(&h->log, "removed %s/%s, left by a call that died while writing it", VH_STATE_DIR,
                             res->removed_temps[i]);
        for (size_t i = res->n_logged; i < res->report.n; i++)
                if (!vh_change_is_note(res->report.changes[i].kind))
                        (void)vh_log_change(&h->log, &res->report.changes[i]);
        for (size_t i = 0; i < res->report.n; i++) {
                const vh_change *c = &res->report.changes[i];
                if (vh_change_is_note(c->kind) && note_is_ours(h, c, mine))
                        (void)vh_log_change(&h->log, c);
                if (c->kind != VH_CHANGE_FAILED)
                        continue;
                _cleanup_free_ char *m = NULL;
                if (asprintf(&m, "%s: %s", c->knob, c->why) < 0)
                        continue;
                remember_error(h, m);
                if (h->refuse_on_error)
                        refuse(h, m);
        }
}

/* Keep /var/lib/vmhooks/wrapper.conf in step with policy.xml (a stat when it is). */
static void refresh_wrapper_conf(hook *h)
{
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_wrapper_conf_refresh(false, &e);
        if (r < 0)
                (void)vh_log(&h->log, "error: %s", vh_error_msg(e));
        else if (r > 0)
                (void)vh_log(&h->log, "policy changed: rewrote %s for the QEMU wrapper", VH_WRAPPER_CONF);
}

/*
 * A start whose prepare could not register it (the lock timed out) leaves
 * /run/vmhooks/missed.NAME, so that its start begin registers it; started
 * begin registers whatever is missing anyway.
 */
static char *missed_path(const hook *h)
{
        _cleanup_free_ char *file = vh_log_file_name(h->name);
        return file ? vh_pathf(VH_STATE_DIR "/missed.%s", file) : NULL;
}

static void missed_mark(hook *h)
{
        _cleanup_free_ char *p = missed_path(h);
        _cleanup_close_ int fd = p ? open(p, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600) : -1;
        if (fd < 0)
                (void)vh_log(&h->log, "error: cannot create %s: %s", p ? p : "marker", strerror(errno));
}

static bool missed_clear(const hook *h)
{
        _cleanup_free_ char *p = missed_path(h);
        return p && unlink(p) == 0;
}

static bool missed(const hook *h)
{
        _cleanup_free_ char *p = missed_path(h);
        return p && access(p, F_OK) == 0;
}

/* The demands of this VM; logs them.  0 when the caller can register. */
static int vm_demands(hook *h, vh_demands *d)
{
        _cleanup_buf_ vh_buf notes = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        if (vh_demands_from(h->dom, &h->policy, d, &notes, &e) < 0) {
                own_error(h, vh_error_msg(e));
                return -1;
        }
        _cleanup_free_ char *pol = vh_policy_describe(&h->policy);
        _cleanup_buf_ vh_buf dem = { 0 };
        if (vh_demands_describe(d, &dem) == 0)
                (void)vh_log(&h->log, "policy: %s; host demands: %s; policy from: %s", pol ? pol : "?", dem.data,
                             h->policy_sources);
        for (char *line = notes.data, *nl; line && (nl = strchr(line, '\n')); line = nl + 1) {
                *nl = '\0';
                (void)vh_log(&h->log, "%s", line);
        }
        return 0;
}

static void svirt_verify(hook *h, const vh_demands *d);

/*
 * reconnect begin (every libvirtd/virtqemud start): a registered VM keeps
 * what it registered at its start (demands, label, PID); neither the host
 * policy nor its metadata is read again, so a typo made since cannot
 * un-tune a running VM.  Only a VM without a registration registers now.
 */
static int op_reconnect(hook *h)
{
        refresh_wrapper_conf(h);
        _cleanup_error_ vh_error *e = NULL;
        if (vh_domain_parse(h->xml, h->xml_len, "domain XML on stdin", &h->dom, &e) < 0) {
                own_error(h, vh_error_msg(e));
                return 0;
        }
        _cleanup_txn_ vh_txn_result res = { 0 };
        int r = vh_txn_reconnect(vm_uuid(h), h->name, NULL, &res, &e);
        log_txn(h, &res, NULL);
        if (r < 0) {
                own_error(h, vh_error_msg(e));
                return 0;
        }
        vh_domain_free(h->dom);
        h->dom = NULL;
        if (res.was_registered) {
                (void)vh_log(&h->log, "libvirtd reconnected: registration kept as at its start (policy.xml and "
                                      "metadata changes apply at the VM's next start)");
                /* the policy only for its sVirt mode (read quietly: it changes no demand) */
                if (load_domain(h, false) < 0)
                        return 0;
        } else {
                if (load_domain(h, true) < 0)
                        return 0;
                _cleanup_(vh_demands_done) vh_demands d = { 0 };
                if (vm_demands(h, &d) < 0)
                        return 0;
                _cleanup_txn_ vh_txn_result res2 = { 0 };
                if (vh_txn_reconnect(vm_uuid(h), h->name, &d, &res2, &e) < 0)
                        own_error(h, vh_error_msg(e));
                log_txn(h, &res2, &d);
                (void)vh_log(&h->log, "libvirtd reconnected: the VM had no registration; registered with the policy "
                                      "of now");
        }
        /* the label of the running QEMU, again: a restarted daemon must not blind the duplicate MCS check */
        if (h->policy.svirt != VH_SVIRT_OFF)
                svirt_verify(h, NULL);
        return 0;
}

/* Log one "apparmor: " line per line of `lines`. */
static void log_aa(hook *h, vh_buf *lines)
{
        for (char *line = lines->data, *nl; line && (nl = strchr(line, '\n')); line = nl + 1) {
                *nl = '\0';
                (void)vh_log(&h->log, "apparmor: %s", line);
        }
}

/*
 * prepare begin, before libvirt loads the VM's AppArmor profile: the
 * VM's own plan path, read only, in its own profile (lib/apparmor.h).
 */
static void aa_allow(hook *h)
{
        _cleanup_buf_ vh_buf lines = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_aa_plan_allow(h->dom, &lines, &e);
        log_aa(h, &lines);
        if (r < 0) {
                _cleanup_free_ char *m = vh_strf("%s; the wrapper of this guest cannot read its plan under AppArmor",
                                                 vh_error_msg(e));
                own_error(h, m ? m : vh_error_msg(e));
        }
}

/* stopped end, release end: the rule goes with the plan (the XML parsed only for a VM with hostdevs). */
static void aa_revoke(hook *h)
{
        _cleanup_free_ char *dir = vh_path(VH_AA_LIBVIRT_DIR);
        if (!dir || access(dir, F_OK) != 0 || !h->xml || !memmem(h->xml, h->xml_len, "hostdev", 7))
                return;
        _cleanup_domain_ vh_domain *dom = NULL;
        _cleanup_error_ vh_error *e = NULL;
        if (vh_domain_parse(h->xml, h->xml_len, "domain XML on stdin", &dom, &e) < 0) {
                (void)vh_log(&h->log, "error: %s; its AppArmor plan rule stays", vh_error_msg(e));
                return;
        }
        _cleanup_buf_ vh_buf lines = { 0 };
        if (vh_aa_plan_revoke(h->name, dom->uuid, &lines, &e) < 0)
                (void)vh_log(&h->log, "error: %s", vh_error_msg(e));
        log_aa(h, &lines);
}

/*
 * <hugepage-pool allocate="yes">: the hugepages check runs after vmhooks
 * sized the pools.  A start is refused only where the pool is short now,
 * i.e. where it would have failed without vmhooks too; the refusal says
 * what vmhooks tried.
 */
static void check_sized_pools(hook *h, const vh_hp_outcome *o)
{
        if (o->added)
                (void)vh_log(&h->log, "hugepage-pool: added %llu pages for this VM (given back at its release)",
                             (unsigned long long)o->added);
        if (o->tried)
                (void)vh_log(&h->log, "hugepage-pool: %s", o->tried);
        vh_policy plain = h->policy; /* shallow: only read, never freed */
        plain.hugepool_allocate = false;
        _cleanup_results_ vh_results cr = { 0 };
        _cleanup_facts_ vh_facts facts = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        if (vh_facts_gather(&facts, VH_FACTS_HUGEPAGES, &e) < 0) {
                own_error(h, vh_error_msg(e));
                return;
        }
        if (vh_check_hugepages(h->dom, &plain, &facts, &cr) < 0) {
                own_error(h, "out of memory checking the hugepage pools");
                return;
        }
        for (size_t i = 0; i < cr.n; i++) {
                const vh_result *x = &cr.items[i];
                if (x->level != VH_LEVEL_PASS) {
                        _cleanup_free_ char *line = vh_result_line(x);
                        if (line)
                                (void)vh_log(&h->log, "%s", line);
                }
                if (!x->refuse || h->refusal)
                        continue;
                _cleanup_free_ char *base = vh_result_refusal_line(x);
                if (base && o->tried && asprintf(&h->refusal, "%s; %s", base, o->tried) < 0)
                        h->refusal = NULL;
                if (!h->refusal)
                        h->refusal = TAKE_PTR(base);
        }
}

/* prepare begin: register this VM's demands and reconcile. */
static int op_prepare(hook *h)
{
        refresh_wrapper_conf(h);
        if (load_domain(h, true) < 0)
                return 0;
        _cleanup_(vh_demands_done) vh_demands d = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        if (vm_demands(h, &d) < 0)
                return 0;
        /* What would make the start fail anyway (hugepages, IOMMU, swtpm) or what the policy forbids. */
        {
                _cleanup_results_ vh_results cr = { 0 };
                /* the host facts the checks and the rules read, and only those: the hook stays fast */
                _cleanup_facts_ vh_facts facts = { 0 };
                _cleanup_error_ vh_error *fe = NULL;
                if (vh_facts_gather(&facts, vh_checks_facts_needed(h->dom, &h->policy) |
                                                    vh_patch_facts_needed(h->dom, &h->policy, 0),
                                    &fe) < 0)
                        (void)vh_log(&h->log, "error: %s", vh_error_msg(fe)); /* what is missing is said where needed */
                if (vh_checks_run(h->dom, &h->policy, &facts, &cr, &e) < 0)
                        own_error(h, vh_error_msg(e));
                log_results(h, &cr);
                if (h->refusal)
                        return 0; /* refused before registering: nothing to undo */
                /* XML practices the VM lacks: say how to get them (never refuses) */
                _cleanup_free_ char *drift = NULL;
                _cleanup_error_ vh_error *de = NULL;
                if (vh_patch_drift(h->dom, &h->policy, &facts, &drift, &de) < 0)
                        (void)vh_log(&h->log, "error: %s", vh_error_msg(de));
                else if (drift)
                        (void)vh_log(&h->log, "%s", drift);
        }

        (void)missed_clear(h); /* a marker of an earlier start that never reached start begin */
        aa_allow(h);
        _cleanup_txn_ vh_txn_result res = { 0 };
        bool sizing = h->dom->hugepages && vh_policy_on(&h->policy, VH_P_HUGEPOOL) && h->policy.hugepool_allocate;
        vh_hp_request hp = { .dom = h->dom, .compact = h->policy.hugepool_compact,
                             .drop_caches = h->policy.hugepool_drop_caches,
                             .margin_kib = h->policy.hugepool_margin_kib };
        int r = vh_txn_register_hp(vm_uuid(h), h->name, &d, sizing ? &hp : NULL, &res, &e);
        log_txn(h, &res, &d);
        if (sizing)
                check_sized_pools(h, &res.hp);
        if (r < 0) {
                own_error(h, vh_error_msg(e));
                if (r == -ETIMEDOUT && !h->refusal) {
                        (void)vh_log(&h->log, "not registered: the VM starts untuned; start begin or started begin "
                                              "registers it");
                        missed_mark(h);
                }
        }

        if (h->refusal) {
                /* We will not start: take our demands back at once. */
                _cleanup_txn_ vh_txn_result undo = { 0 };
                _cleanup_error_ vh_error *ue = NULL;
                if (vh_txn_unregister(vm_uuid(h), h->name, &undo, &ue) < 0)
                        (void)vh_log(&h->log, "error: %s", vh_error_msg(ue));
                log_txn(h, &undo, NULL);
        }
        return 0;
}


/*
 * start begin: aliases are assigned now.  A VM with PCI hostdevs (<hostdev>
 * or <interface type='hostdev'>) gets the
 * wrapper's plan: which of them get x-msix-relocation (lib/msix.h).
 */
/* start begin, started begin: register a VM whose prepare could not (lock timeout). */
static void register_late(hook *h, const char *call)
{
        _cleanup_(vh_demands_done) vh_demands d = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        if (vm_demands(h, &d) < 0)
                return;
        _cleanup_txn_ vh_txn_result res = { 0 };
        int r = vh_txn_started(vm_uuid(h), h->name, NULL, &d, &res, &e);
        log_txn(h, &res, &d);
        if (r < 0) {
                own_error(h, vh_error_msg(e));
                return;
        }
        (void)missed_clear(h);
        if (res.registered_late)
                (void)vh_log(&h->log, "registered at %s: the VM ran untuned since prepare", call);
}

static int op_start(hook *h)
{
        if (missed(h) && load_domain(h, false) == 0)
                register_late(h, "start begin");
        /* most VMs have no hostdev: no need to parse them at all
         * ("hostdev": <hostdev> and <interface type='hostdev'>, an SR-IOV VF) */
        if (!h->xml || !memmem(h->xml, h->xml_len, "hostdev", 7))
                return 0;
        if (!h->dom && load_domain(h, false) < 0)
                return 0;
        bool pci = false;
        for (size_t i = 0; i < h->dom->n_hostdevs && !pci; i++)
                pci = h->dom->hostdevs[i].has_pci_address;
        if (!pci)
                return 0;
        _cleanup_buf_ vh_buf lines = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        /* SELinux host: the plan gets this guest's MCS categories, so no other guest can read it */
        _cleanup_free_ char *ctx = NULL;
        _cleanup_free_ char *enforce = vh_path(VH_SELINUX_ENFORCE);
        if (enforce && access(enforce, F_OK) == 0) {
                const char *why = NULL;
                ctx = vh_svirt_plan_context(h->dom, &why);
                if (!ctx)
                        (void)vh_log(&h->log, "msix: the plan keeps the directory's label (every guest may read it): %s",
                                     why);
        }
        int w = vh_msix_plan_write_labeled(h->dom, &h->policy, ctx, &lines, &e);
        if (w < 0 && ctx) {
                /* labelling failed: the plan as before (readable by every guest) rather than none */
                (void)vh_log(&h->log, "error: %s; the plan is written unlabelled (every guest may read it)",
                             vh_error_msg(e));
                vh_error_free(TAKE_PTR(e));
                vh_buf_free(&lines);
                w = vh_msix_plan_write(h->dom, &h->policy, &lines, &e);
        }
        if (w < 0) {
                own_error(h, vh_error_msg(e));
                _cleanup_error_ vh_error *re = NULL;
                if (vh_msix_plan_remove(h->name, &re) < 0)
                        (void)vh_log(&h->log, "error: %s", vh_error_msg(re));
        }
        for (char *line = lines.data, *nl; line && (nl = strchr(line, '\n')); line = nl + 1) {
                *nl = '\0';
                (void)vh_log(&h->log, "msix: %s", line);
        }
        return 0;
}

/*
 * sVirt cannot be verified: under enforce that is a refusal (fail closed),
 * under warn a logged finding; one line saying what could not be verified.
 */
static void svirt_unverified(hook *h, const char *what, const char *why)
{
        vh_results r = { 0 };
        bool enforce = h->policy.svirt == VH_SVIRT_ENFORCE;
        if (vh_results_add(&r, "svirt", enforce ? VH_LEVEL_FAIL : VH_LEVEL_WARN, enforce, NULL,
                           "cannot verify %s of VM %s: %s", what, h->name, why) < 0)
                own_error(h, "out of memory judging the sVirt label");
        log_results(h, &r);
        vh_results_done(&r);
}

/*
 * sVirt, when the policy asks (off by default): read the label QEMU runs
 * with (pidfile, /proc/PID/attr/current), record it with the registration
 * and learn the PID (vh_txn_started), judge it against the labels of the
 * other running VMs.  At started the judgement can refuse; at reconnect
 * (libvirtd restarted) the VM runs already: the label is read again so
 * that the duplicate check of later starts sees it, and findings are
 * logged.  A label that cannot be read at reconnect leaves the recorded one.
 */
static void svirt_verify(hook *h, const vh_demands *d)
{
        bool svirt = h->policy.svirt != VH_SVIRT_OFF;
        _cleanup_svirt_facts_ vh_svirt_facts f = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        if (svirt && vh_svirt_read(h->dom->name, h->dom->uuid, &f, &e) < 0) {
                own_error(h, vh_error_msg(e));
                svirt_unverified(h, "the sVirt label", vh_error_msg(e));
                svirt = false;
        }
        _cleanup_txn_ vh_txn_result res = { 0 };
        _cleanup_error_ vh_error *te = NULL;
        int tr = vh_txn_started(vm_uuid(h), h->name, svirt ? f.label : NULL, d, &res, &te);
        if (tr < 0)
                own_error(h, vh_error_msg(te));
        log_txn(h, &res, d);
        if (res.registered_late) {
                _cleanup_buf_ vh_buf dem = { 0 };
                (void)vh_demands_describe(d, &dem);
                (void)vh_log(&h->log, "registered at started begin: the VM ran untuned since prepare; host demands: %s",
                             dem.data ? dem.data : "?");
                (void)missed_clear(h);
        }
        if (!svirt)
                return;
        if (tr < 0) {
                /* the other VMs' labels are unknown: the duplicate MCS check would be blind */
                svirt_unverified(h, "that no other running VM shares the MCS categories", vh_error_msg(te));
                return;
        }
        _cleanup_free_ vh_svirt_peer *peers = calloc(res.n_peers ? res.n_peers : 1, sizeof(*peers));
        if (!peers) {
                own_error(h, "out of memory judging the sVirt label");
                svirt_unverified(h, "the sVirt label", "out of memory");
                return;
        }
        for (size_t i = 0; i < res.n_peers; i++)
                peers[i] = (vh_svirt_peer){ res.peer_names[i], res.peer_labels[i] };
        _cleanup_results_ vh_results sr = { 0 };
        if (vh_svirt_judge(h->dom, h->policy.svirt, &f, peers, res.n_peers, &sr) < 0) {
                own_error(h, "out of memory judging the sVirt label");
                svirt_unverified(h, "the sVirt label", "out of memory");
        }
        log_results(h, &sr);
}

/* started begin: QEMU runs; remember its PID so that a crash is noticed. */
static int op_started(hook *h)
{
        if (load_domain(h, false) < 0)
                return 0;
        /* demands, for a VM that prepare and start could not register (computed without logging) */
        _cleanup_(vh_demands_done) vh_demands d = { 0 };
        _cleanup_buf_ vh_buf notes = { 0 };
        _cleanup_error_ vh_error *de = NULL;
        bool have_d = vh_demands_from(h->dom, &h->policy, &d, &notes, &de) == 0;
        svirt_verify(h, have_d ? &d : NULL);
        return 0;
}

/*
 * stopped end, release end: forget this VM; restore what no VM demands.
 * By the name libvirt passes: no two running domains share a name, so the
 * XML (which a broken or huge document would make costly) is not parsed.
 */
static int op_unregister(hook *h)
{
        _cleanup_txn_ vh_txn_result res = { 0 };
        _cleanup_error_ vh_error *te = NULL;
        if (vh_txn_unregister(NULL, h->name, &res, &te) < 0)
                (void)vh_log(&h->log, "error: %s", vh_error_msg(te));
        if (res.was_registered && !h->said_unregistered)
                (void)vh_log(&h->log, "unregistered");
        log_txn(h, &res, NULL);
        _cleanup_error_ vh_error *pe = NULL;
        if (vh_msix_plan_remove(h->name, &pe) < 0)
                (void)vh_log(&h->log, "error: %s", vh_error_msg(pe));
        aa_revoke(h);
        return 0;
}

/*
 * migrate begin, restore begin: the only calls where libvirt takes new XML
 * from our stdout.  Only changes that keep the guest ABI: host-side pinning
 * (remapped when this host lacks those CPUs) and the emulator path.  Print
 * nothing when nothing changes, and nothing at all on an error.
 */
static int op_incoming(hook *h)
{
        if (load_domain(h, false) < 0)
                return 0;
        _cleanup_free_ char *xml = NULL;
        _cleanup_(vh_patch_report_done) vh_patch_report rep = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        _cleanup_facts_ vh_facts facts = { 0 };
        if (vh_facts_gather(&facts, vh_patch_facts_needed(h->dom, &h->policy, VH_PATCH_ABI_SAFE), &e) < 0) {
                /* the pinning rule then says it cannot tell which CPUs are online */
                (void)vh_log(&h->log, "error: %s", vh_error_msg(e));
                vh_error_free(TAKE_PTR(e));
        }
        if (vh_patch_incoming(h->dom, &h->policy, &facts, &xml, &rep, &e) < 0) {
                (void)vh_log(&h->log, "error: %s; libvirt keeps its XML", vh_error_msg(e));
                return 0;
        }
        _cleanup_buf_ vh_buf lines = { 0 };
        if (vh_patch_report_format(&rep, (1u << VH_PATCH_CHANGED) | (1u << VH_PATCH_WARNING), &lines) == 0)
                for (char *line = lines.data, *nl; line && (nl = strchr(line, '\n')); line = nl + 1) {
                        *nl = '\0';
                        (void)vh_log(&h->log, "%s", line);
                }
        int w = xml ? vh_write_all(STDOUT_FILENO, xml, strlen(xml)) : 0;
        if (w < 0)
                (void)vh_log(&h->log, "error: cannot write the patched XML to libvirt: %s", strerror(-w));
        return 0;
}

/* Every write, in the log, before the transaction saves the state (lib/lifecycle.h). */
static void log_writes(vh_txn_result *res, void *userdata)
{
        hook *h = userdata;
        bool stopping = streq(h->op, "stopped") || streq(h->op, "release");
        if (stopping && res->was_registered && !h->said_unregistered) {
                (void)vh_log(&h->log, "unregistered");
                h->said_unregistered = true;
        }
        /* one write for all of them (64 IRQs narrowed: 66 lines), before the save */
        vh_log_batch_begin(&h->log);
        for (size_t i = res->n_logged; i < res->report.n; i++)
                if (!vh_change_is_note(res->report.changes[i].kind))
                        (void)vh_log_change(&h->log, &res->report.changes[i]);
        (void)vh_log_batch_flush(&h->log);
        res->n_logged = res->report.n;
}

static const struct {
        const char *op, *subop;
        int (*fn)(hook *);
        bool can_refuse;        /* a non-zero exit here stops the start */
        bool registered_after;  /* the VM stays registered: its last error is kept there */
} ops[] = {
        { "prepare", "begin", op_prepare, true, true },
        { "start", "begin", op_start, true, true },
        { "started", "begin", op_started, true, true },
        { "stopped", "end", op_unregister, false, false },
        { "release", "end", op_unregister, false, false },
        { "reconnect", "begin", op_reconnect, false, true },
        { "migrate", "begin", op_incoming, false, false },
        { "restore", "begin", op_incoming, false, false },
};

static void hook_done(hook *h)
{
        free(h->xml);
        vh_domain_free(h->dom);
        vh_policy_done(&h->policy);
        vh_log_close(&h->log);
        free(h->refusal);
        free(h->last_error);
}

int main(int argc, char **argv)
{
        if ((argc == 2 || (argc == 3 && strncmp(argv[2], "--root=", 7) == 0)) && streq(argv[1], "--wrapper-config")) {
                /* make install / package scripts: write wrapper.conf from policy.xml now;
                 * --root=DIR: below DIR (make install DESTDIR=; the environment never redirects it) */
                if (argc == 3)
                        vh_root_set(argv[2] + 7);
                _cleanup_error_ vh_error *e = NULL, *pe = NULL;
                if (vh_wrapper_conf_refresh_policy(true, &pe, &e) < 0) {
                        fprintf(stderr, "vmhooks: %s\n", vh_error_msg(e));
                        return 1;
                }
                if (pe) {
                        /* loudly: the file was written, but without the host policy */
                        fprintf(stderr, "vmhooks: ERROR: %s; wrote %s%s without it (no <wrapper>, no "
                                        "<msix-relocation>); until it is fixed the hook ignores the host policy: "
                                        "only VMs' metadata applies (vmhooks audit, vmhooks-policy(5))\n",
                                vh_error_msg(pe), vh_root(), VH_WRAPPER_CONF);
                        return 1;
                }
                printf("wrote %s%s from %s%s\n", vh_root(), VH_WRAPPER_CONF, vh_root(), VH_POLICY_FILE);
                return 0;
        }
        if (argc < 4) {
                fprintf(stderr, "usage: %s NAME OP SUBOP [EXTRA] < domain.xml\n"
                                "       %s --wrapper-config [--root=DIR]\n"
                                "vmhooks' libvirt QEMU hook; libvirt runs it (see vmhooks-hook(8)).\n",
                        argv[0], argv[0]);
                return 2;
        }
        _cleanup_(hook_done) hook h = { .name = argv[1], .op = argv[2], .subop = argv[3] };
        /* libvirt's daemon, before anything can make us wait (liveness.h) */
        vh_liveness_set_caller((int)getppid());

        /*
         * Least privilege, first thing: the hook needs no capability at all
         * (lib/privs.c says why for each step).  A failure is logged below.
         */
        _cleanup_error_ vh_error *pe = NULL;
        int privs = vh_privs_drop(&pe);

        /* Always drain stdin: libvirt writes the whole XML to us. */
        _cleanup_error_ vh_error *e = NULL;
        if (!isatty(STDIN_FILENO) && vh_read_fd(STDIN_FILENO, VH_XML_MAX, &h.xml, &h.xml_len, &e) < 0) {
                h.xml = NULL;
                h.xml_len = 0;
        }

        for (size_t i = 0; i < ELEMENTSOF(ops); i++) {
                if (!streq(ops[i].op, h.op) || !streq(ops[i].subop, h.subop))
                        continue;
                _cleanup_free_ char *call = NULL;
                if (asprintf(&call, "%s %s", h.op, h.subop) < 0)
                        call = NULL;
                vh_log_open(&h.log, h.name, call);
                vh_txn_set_write_logger(log_writes, &h);
                if (privs < 0)
                        (void)vh_log(&h.log, "error: dropping capabilities: %s", vh_error_msg(pe));
                if (e)
                        own_error(&h, vh_error_msg(e));
                xmlInitParser();
                int r = ops[i].fn(&h);
                /* `vmhooks status` shows a VM's last error: keep it with the registration */
                if (h.last_error && !h.refusal && ops[i].registered_after) {
                        _cleanup_error_ vh_error *ne = NULL;
                        if (vh_txn_note_error(vm_uuid(&h), h.last_error, &ne) < 0)
                                (void)vh_log(&h.log, "error: %s", vh_error_msg(ne));
                }
                /* a failed write is retried soon, also when this was the last VM (lib/retry.h) */
                int sr = h.retry_due ? vh_retry_spawn(h.name, call ? call : h.op) : 0;
                if (sr < 0)
                        (void)vh_log(&h.log, "error: cannot start the background retrier: %s; the next hook call "
                                             "retries", strerror(-sr));
                if (r == 0 && h.refusal && ops[i].can_refuse) {
                        fprintf(stderr, "vmhooks: %s\n", h.refusal);
                        (void)vh_log(&h.log, "refused the start: %s", h.refusal);
                        return 1;
                }
                return 0;
        }
        return 0; /* calls vmhooks does not handle */
}
