/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reconcile.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "facts.h"
#include "fileio.h"
#include "hugepool.h"
#include "root.h"
#include "util.h"

#define WHY_MAX_VMS 8 /* list at most this many VMs in a reason */

static void change_done(vh_change *c)
{
        free(c->knob);
        free(c->from);
        free(c->to);
        free(c->why);
        free(c->vm);
}

void vh_report_done(vh_report *r)
{
        for (size_t i = 0; i < r->n; i++)
                change_done(&r->changes[i]);
        free(r->changes);
        r->changes = NULL;
        r->n = 0;
        r->failed = false;
}

void vh_desired_done(vh_desired *d)
{
        free(d->value);
        free(d->why);
        free(d->error);
        for (size_t i = 0; i < d->n_conflicts; i++) {
                free(d->conflicts[i].vm);
                free(d->conflicts[i].msg);
        }
        free(d->conflicts);
        memset(d, 0, sizeof(*d));
}

void vh_plan_host_done(vh_plan_host *h)
{
        vh_cpuset_done(&h->online);
        vh_cpuset_done(&h->housekeeping);
        h->have_cpus = false;
        for (size_t i = 0; i < h->n_follow; i++)
                free(h->follow[i].uuid);
        free(h->follow);
        h->follow = NULL;
        h->n_follow = 0;
        for (size_t i = 0; i < ELEMENTSOF(h->accepted); i++) {
                vh_cpuset_done(&h->accepted[i].cpus);
                vh_desired_done(&h->accepted[i].notes);
                h->accepted[i].known = false;
        }
}

static int add_follow(vh_plan_host *h, uint64_t irq, const char *uuid)
{
        if (irq == 0 || irq > UINT32_MAX)
                return 0;
        vh_follow_irq *f = realloc(h->follow, (h->n_follow + 1) * sizeof(*f));
        if (!f)
                return -ENOMEM;
        h->follow = f;
        f[h->n_follow] = (vh_follow_irq){ (unsigned)irq, strdup(uuid) };
        if (!f[h->n_follow].uuid)
                return -ENOMEM;
        h->n_follow++;
        return 0;
}

/* The IRQs of PCI device `bdf`: its MSI(-X) vectors and its INTx line. */
static int device_irqs(vh_plan_host *h, const char *bdf, const char *uuid)
{
        char rel[128];
        snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/msi_irqs", bdf);
        _cleanup_free_ char *dir = vh_path(rel);
        if (!dir)
                return -ENOMEM;
        int r = 0;
        DIR *d = opendir(dir);
        for (struct dirent *de; d && r == 0 && (de = readdir(d));) {
                uint64_t irq;
                if (vh_parse_u64(de->d_name, UINT32_MAX, &irq) == 0)
                        r = add_follow(h, irq, uuid);
        }
        if (d)
                closedir(d);
        snprintf(rel, sizeof(rel), "/sys/bus/pci/devices/%s/irq", bdf);
        _cleanup_free_ char *file = vh_path(rel);
        _cleanup_free_ char *line = NULL;
        uint64_t irq;
        if (r == 0 && file && vh_read_line(file, &line, NULL) == 0 && vh_parse_u64(line, UINT32_MAX, &irq) == 0)
                r = add_follow(h, irq, uuid);
        return file ? r : -ENOMEM;
}

int vh_plan_host_load_follow(vh_plan_host *h, const vh_state *st, vh_error **err)
{
        int r = 0;
        for (size_t i = 0; i < st->n_regs && r == 0; i++) {
                const vh_demands *d = &st->regs[i].demands;
                if (!(d->isolate_from & VH_ISO_IRQS_FOLLOW) || !d->follow_devices)
                        continue;
                for (const char *p = d->follow_devices; *p && r == 0;) {
                        size_t n = strcspn(p, ",");
                        char bdf[32];
                        if (n > 0 && n < sizeof(bdf) && !memchr(p, '/', n)) {
                                memcpy(bdf, p, n);
                                bdf[n] = '\0';
                                r = device_irqs(h, bdf, st->regs[i].uuid);
                        }
                        p += n + (p[n] == ',');
                }
        }
        return r < 0 ? vh_fail(err, -r, "IRQs of host devices") : 0;
}

int vh_plan_host_from_facts(vh_plan_host *h, const vh_facts *f, vh_error **err)
{
        vh_plan_host_done(h);
        if (!(f->parts & VH_FACTS_CPUS))
                return vh_fail_input(err, "host facts: no CPUs (the facts were gathered without them)");
        if (vh_cpuset_copy(&h->online, &f->online) < 0 || vh_cpuset_copy(&h->housekeeping, &f->online) < 0) {
                vh_plan_host_done(h);
                return vh_fail(err, ENOMEM, "housekeeping CPUs");
        }
        vh_cpuset_subtract(&h->housekeeping, &f->isolated);
        vh_cpuset_subtract(&h->housekeeping, &f->nohz_full);
        h->have_cpus = true;
        return 0;
}

int vh_plan_host_load(vh_plan_host *h, vh_error **err)
{
        /* the planners read the same host facts as the patch rules and the checks (lib/facts.h) */
        vh_plan_host_done(h);
        _cleanup_(vh_facts_done) vh_facts f = { 0 };
        int r = vh_facts_gather(&f, VH_FACTS_CPUS, err);
        return r < 0 ? r : vh_plan_host_from_facts(h, &f, err);
}

/* ---- the planners, one per family ---- */

static vh_thp_mode thp_demand(const vh_demands *d)
{
        if (d->thp == VH_THP_AUTO)
                return d->static_hugepages ? VH_THP_NEVER : VH_THP_NONE;
        return d->thp;
}

/* shmem_enabled: only for shared-memory RAM, only an explicit mode (auto concerns static hugepages). */
static vh_thp_mode shmem_demand(const vh_demands *d)
{
        if (!d->shared_memory || d->static_hugepages || d->thp == VH_THP_AUTO)
                return VH_THP_NONE;
        return d->thp;
}

/* The CPUs `d` keeps the noise `source` (VH_ISO_*) off, or NULL. */
static const vh_cpuset *isolates(const vh_demands *d, unsigned source)
{
        return (d->isolate_from & source) && !vh_cpuset_is_empty(&d->isolate) ? &d->isolate : NULL;
}

static bool demands_thp(const vh_demands *d) { return thp_demand(d) != VH_THP_NONE; }
static bool demands_defrag(const vh_demands *d) { return d->defrag != VH_DEFRAG_NONE; }
static bool demands_shmem(const vh_demands *d) { return shmem_demand(d) != VH_THP_NONE; }
static bool demands_halt_poll(const vh_demands *d) { return d->has_halt_poll; }
static bool demands_wq(const vh_demands *d) { return isolates(d, VH_ISO_WQ) != NULL; }
static bool demands_irqs(const vh_demands *d) { return isolates(d, VH_ISO_IRQS) != NULL; }
static bool demands_tasks(const vh_demands *d) { return isolates(d, VH_ISO_TASKS) != NULL; }

typedef int (*desired_fn)(const vh_state *st, const vh_knob *k, const char *original, const vh_plan_host *host,
                          vh_desired *out, vh_buf *why, vh_error **err);

/* The planning half of a family: who demands it, and what it should then be. */
typedef struct planner {
        bool (*demanded_by)(const vh_demands *d);
        desired_fn desired;
} planner;

static const planner planners[VH_FAM_COUNT];

bool vh_family_demanded_by(vh_family_id f, const vh_demands *d)
{
        return f < VH_FAM_COUNT && planners[f].demanded_by(d);
}

/* The families demanded by any registration, a bit each, in one pass (a call asks for each of 66 knobs). */
_Static_assert(VH_FAM_COUNT <= 32, "a family bit each in a uint32_t");
static uint32_t demanded_families(const vh_state *st)
{
        uint32_t m = 0;
        for (size_t i = 0; i < st->n_regs; i++)
                for (int f = 0; f < VH_FAM_COUNT; f++)
                        if (!(m & (1u << f)) && planners[f].demanded_by(&st->regs[i].demands))
                                m |= 1u << f;
        return m;
}

bool vh_reconcile_demanded(const vh_state *st, vh_family_id f)
{
        for (size_t i = 0; i < st->n_regs; i++)
                if (vh_family_demanded_by(f, &st->regs[i].demands))
                        return true;
        return false;
}

/* Append "NAME (what)" to the reason, up to WHY_MAX_VMS names. */
static int add_why(vh_buf *why, unsigned *count, const char *name, const char *what)
{
        (*count)++;
        if (*count > WHY_MAX_VMS)
                return 0;
        int r = vh_buf_puts(why, why->len ? ", " : "");
        if (r == 0)
                r = vh_buf_escape(why, name, true);
        if (r == 0)
                r = vh_buf_puts(why, " (");
        if (r == 0)
                r = vh_buf_puts(why, what);
        if (r == 0)
                r = vh_buf_puts(why, ")");
        return r;
}

static int finish_why(vh_buf *why, unsigned count)
{
        if (count > WHY_MAX_VMS)
                return vh_buf_printf(why, " and %u more", count - WHY_MAX_VMS);
        return 0;
}

/* A word family: the demand of highest rank wins; rank 0 is no demand. */
typedef int (*rank_fn)(const vh_demands *d, const char **ret_word, char what[64]);

static int rank_thp(const vh_demands *d, const char **word, char what[64])
{
        vh_thp_mode m = thp_demand(d);
        if (m == VH_THP_NONE)
                return 0; /* no demand: nothing to tell (a snprintf per VM per call otherwise) */
        *word = vh_thp_mode_name(m);
        snprintf(what, 64, "%s", d->thp == VH_THP_AUTO ? "thp auto, static hugepages" : "");
        if (d->thp != VH_THP_AUTO)
                snprintf(what, 64, "thp %s", vh_thp_mode_name(d->thp));
        return (int)m;
}

static int rank_defrag(const vh_demands *d, const char **word, char what[64])
{
        if (d->defrag == VH_DEFRAG_NONE)
                return 0;
        *word = vh_thp_defrag_name(d->defrag);
        snprintf(what, 64, "thp defrag %s", *word);
        return (int)d->defrag;
}

static int rank_shmem(const vh_demands *d, const char **word, char what[64])
{
        vh_thp_mode m = shmem_demand(d);
        if (m == VH_THP_NONE)
                return 0;
        *word = m == VH_THP_MADVISE ? "advise" : vh_thp_mode_name(m);
        snprintf(what, 64, "thp %s, shared memory", vh_thp_mode_name(d->thp));
        return (int)m;
}

static int desired_word(const vh_state *st, rank_fn rank, vh_desired *out, vh_buf *why)
{
        int best = 0;
        const char *best_word = NULL;
        unsigned count = 0;
        int r = 0;
        for (size_t i = 0; i < st->n_regs && r == 0; i++) {
                const char *word;
                char what[64];
                int k = rank(&st->regs[i].demands, &word, what);
                if (k == 0)
                        continue;
                if (k > best) {
                        best = k;
                        best_word = word;
                }
                r = add_why(why, &count, st->regs[i].name, what);
        }
        if (r == 0)
                r = finish_why(why, count);
        if (r < 0)
                return r;
        out->demanded = best > 0;
        if (out->demanded && !(out->value = strdup(best_word)))
                return -ENOMEM;
        return 0;
}

static int desired_halt_poll(const vh_state *st, vh_desired *out, vh_buf *why)
{
        uint32_t best = 0;
        unsigned count = 0;
        int r = 0;
        for (size_t i = 0; i < st->n_regs && r == 0; i++) {
                const vh_demands *d = &st->regs[i].demands;
                if (!d->has_halt_poll)
                        continue;
                if (!out->demanded || d->halt_poll_ns > best)
                        best = d->halt_poll_ns;
                out->demanded = true;
                char what[32];
                snprintf(what, sizeof(what), "halt-poll %u", d->halt_poll_ns);
                r = add_why(why, &count, st->regs[i].name, what);
        }
        if (r == 0)
                r = finish_why(why, count);
        if (r < 0)
                return r;
        if (out->demanded && asprintf(&out->value, "%u", best) < 0) {
                out->value = NULL;
                return -ENOMEM;
        }
        return 0;
}

static int add_conflict(vh_desired *out, const char *vm, char *msg)
{
        if (!msg)
                return -ENOMEM;
        vh_conflict *c = realloc(out->conflicts, (out->n_conflicts + 1) * sizeof(*c));
        if (!c) {
                free(msg);
                return -ENOMEM;
        }
        out->conflicts = c;
        c[out->n_conflicts] = (vh_conflict){ strdup(vm), msg };
        if (!c[out->n_conflicts].vm) {
                free(msg);
                return -ENOMEM;
        }
        out->n_conflicts++;
        return 0;
}

static char *conflict_msg(const vh_cpuset *cpus, const vh_buf *kept_by, const char *kept)
{
        _cleanup_free_ char *l = vh_cpuset_format_list(cpus);
        char *m = NULL;
        if (!l)
                return NULL;
        if (kept_by->len) {
                if (asprintf(&m, "kworkers: this VM's CPUs %s stay open to unbound kworkers: %s already keep%s "
                                 "kworkers off their CPUs, and isolating these too would leave no housekeeping CPU "
                                 "(kept mask %s; the VMs that started first keep their isolation)",
                             l, kept_by->data, strchr(kept_by->data, ',') ? "" : "s", kept) < 0)
                        m = NULL;
        } else if (asprintf(&m, "kworkers: this VM's CPUs %s stay open to unbound kworkers: they are every "
                                "housekeeping CPU of mask %s, and a mask without one is never written",
                            l, kept) < 0) {
                m = NULL;
        }
        return m;
}

/*
 * A kworker mask: the original minus the isolated CPUs, VM by VM in the
 * order they registered, skipping (and telling) a VM that would leave the
 * mask without a housekeeping CPU.
 */
static int desired_mask(const vh_state *st, const char *original, const vh_plan_host *host, vh_desired *out,
                        vh_buf *why, vh_error **err)
{
        _cleanup_cpuset_ vh_cpuset mask = { 0 };
        bool any = false;
        for (size_t i = 0; i < st->n_regs && !any; i++)
                any = isolates(&st->regs[i].demands, VH_ISO_WQ) != NULL;
        if (!any)
                return 0;
        out->demanded = true;
        int r = vh_cpuset_parse_mask(original, &mask, err);
        if (r < 0)
                return r;
        const vh_cpuset *hk = host && host->have_cpus ? &host->housekeeping : NULL;
        _cleanup_cpuset_ vh_cpuset isolated = { 0 }, cand = { 0 }, usable = { 0 };
        _cleanup_buf_ vh_buf kept_by = { 0 };
        if (vh_buf_puts(&kept_by, "") < 0)
                return -ENOMEM;
        unsigned count = 0;
        for (size_t i = 0; i < st->n_regs && r == 0; i++) {
                const vh_reg *g = &st->regs[i];
                const vh_demands *d = &g->demands;
                if (!isolates(d, VH_ISO_WQ))
                        continue;
                if (vh_cpuset_copy(&cand, &isolated) < 0 || vh_cpuset_union(&cand, &d->isolate) < 0 ||
                    vh_cpuset_copy(&usable, &mask) < 0)
                        return -ENOMEM;
                vh_cpuset_subtract(&usable, &cand);
                if (hk)
                        vh_cpuset_intersect(&usable, hk);
                if (vh_cpuset_is_empty(&usable)) {
                        /* the mask kept: the original minus what the VMs before it isolate */
                        _cleanup_cpuset_ vh_cpuset left = { 0 };
                        if (vh_cpuset_copy(&left, &mask) < 0)
                                return -ENOMEM;
                        vh_cpuset_subtract(&left, &isolated);
                        _cleanup_free_ char *kept = vh_cpuset_format_mask(&left, vh_cpuset_mask_digits(original));
                        r = kept ? add_conflict(out, g->name, conflict_msg(&d->isolate, &kept_by, kept)) : -ENOMEM;
                        continue;
                }
                vh_cpuset_done(&isolated);
                isolated = cand;
                memset(&cand, 0, sizeof(cand));
                _cleanup_free_ char *l = vh_cpuset_format_list(&d->isolate);
                _cleanup_free_ char *what = NULL;
                if (!l || asprintf(&what, "isolate CPUs %s", l) < 0) {
                        what = NULL;
                        return -ENOMEM;
                }
                r = add_why(why, &count, g->name, what);
                if (r == 0)
                        r = vh_buf_puts(&kept_by, kept_by.len ? ", " : "");
                if (r == 0)
                        r = vh_buf_escape(&kept_by, g->name, true);
        }
        if (r == 0)
                r = finish_why(why, count);
        if (r < 0)
                return r;
        vh_cpuset_subtract(&mask, &isolated);
        out->value = vh_cpuset_format_mask(&mask, vh_cpuset_mask_digits(original));
        return out->value ? 0 : -ENOMEM;
}

static int want_thp(const vh_state *st, const vh_knob *k, const char *o, const vh_plan_host *h, vh_desired *out,
                    vh_buf *why, vh_error **err)
{
        (void)k, (void)o, (void)h, (void)err;
        return desired_word(st, rank_thp, out, why);
}

static int want_defrag(const vh_state *st, const vh_knob *k, const char *o, const vh_plan_host *h, vh_desired *out,
                       vh_buf *why, vh_error **err)
{
        (void)k, (void)o, (void)h, (void)err;
        return desired_word(st, rank_defrag, out, why);
}

static int want_shmem(const vh_state *st, const vh_knob *k, const char *o, const vh_plan_host *h, vh_desired *out,
                      vh_buf *why, vh_error **err)
{
        (void)k, (void)o, (void)h, (void)err;
        return desired_word(st, rank_shmem, out, why);
}

static int want_halt_poll(const vh_state *st, const vh_knob *k, const char *o, const vh_plan_host *h,
                          vh_desired *out, vh_buf *why, vh_error **err)
{
        (void)k, (void)o, (void)h, (void)err;
        return desired_halt_poll(st, out, why);
}

static int want_wq(const vh_state *st, const vh_knob *k, const char *o, const vh_plan_host *h, vh_desired *out,
                   vh_buf *why, vh_error **err)
{
        (void)k;
        return desired_mask(st, o, h, out, why, err);
}

/*
 * The CPUs host noise `source` leaves, VM by VM in the order they
 * registered: a VM whose CPUs, with those of the VMs before it, would
 * leave no housekeeping CPU is not isolated from it, and told so.
 */
static int work_out_accepted(const vh_state *st, unsigned source, const char *what, const vh_plan_host *host,
                             vh_cpuset *accepted, vh_desired *out, vh_buf *why)
{
        const vh_cpuset *hk = host && host->have_cpus ? &host->housekeeping : NULL;
        _cleanup_cpuset_ vh_cpuset cand = { 0 }, left = { 0 };
        _cleanup_buf_ vh_buf kept_by = { 0 };
        unsigned count = 0;
        int r = 0;
        for (size_t i = 0; i < st->n_regs && r == 0; i++) {
                const vh_reg *g = &st->regs[i];
                const vh_cpuset *cpus = isolates(&g->demands, source);
                if (!cpus)
                        continue;
                if (vh_cpuset_copy(&cand, accepted) < 0 || vh_cpuset_union(&cand, cpus) < 0)
                        return -ENOMEM;
                if (hk) {
                        if (vh_cpuset_copy(&left, hk) < 0)
                                return -ENOMEM;
                        vh_cpuset_subtract(&left, &cand);
                }
                _cleanup_free_ char *l = vh_cpuset_format_list(cpus);
                if (!l)
                        return -ENOMEM;
                if (hk && vh_cpuset_is_empty(&left)) {
                        char *m = NULL;
                        if (kept_by.len ? asprintf(&m, "%s: this VM's CPUs %s stay open to them: %s already keep%s "
                                                       "them off their CPUs, and isolating these too would leave no "
                                                       "housekeeping CPU (the VMs that started first keep their "
                                                       "isolation)",
                                                   what, l, kept_by.data, strchr(kept_by.data, ',') ? "" : "s") < 0
                                        : asprintf(&m, "%s: this VM's CPUs %s stay open to them: they are every "
                                                       "housekeeping CPU, and one is always kept for the host",
                                                   what, l) < 0)
                                m = NULL;
                        r = add_conflict(out, g->name, m);
                        continue;
                }
                vh_cpuset_done(accepted);
                *accepted = cand;
                cand = (vh_cpuset){ 0 };
                _cleanup_free_ char *w = NULL;
                if (asprintf(&w, "isolate CPUs %s", l) < 0)
                        return -ENOMEM;
                r = add_why(why, &count, g->name, w);
                if (r == 0)
                        r = vh_buf_puts(&kept_by, kept_by.len ? ", " : "");
                if (r == 0)
                        r = vh_buf_escape(&kept_by, g->name, true);
        }
        return r == 0 ? finish_why(why, count) : r;
}

/* The isolate_from bit of each vh_accept_source, and its name in the notes. */
static const struct {
        unsigned source;
        const char *what;
} accept_sources[VH_ACCEPT__N] = {
        [VH_ACCEPT_IRQS] = { VH_ISO_IRQS, "IRQs" },
        [VH_ACCEPT_TASKS] = { VH_ISO_TASKS, "host tasks" },
};

int vh_plan_host_accept(vh_plan_host *h, const vh_state *st)
{
        for (size_t i = 0; i < VH_ACCEPT__N; i++) {
                struct vh_accepted *a = &h->accepted[i];
                vh_cpuset_done(&a->cpus);
                vh_desired_done(&a->notes);
                a->known = false;
                _cleanup_buf_ vh_buf why = { 0 };
                int r = vh_buf_puts(&why, "");
                if (r == 0)
                        r = work_out_accepted(st, accept_sources[i].source, accept_sources[i].what, h, &a->cpus,
                                              &a->notes, &why);
                if (r < 0)
                        return r;
                a->notes.why = TAKE_PTR(why.data);
                a->known = true;
        }
        return 0;
}

/* The CPUs source `i` leaves (see work_out_accepted): from host->accepted when known; its notes added to out, why. */
static int accepted_isolation(const vh_state *st, vh_accept_source i, const vh_plan_host *host, vh_cpuset *accepted,
                              vh_desired *out, vh_buf *why)
{
        if (!host || !host->accepted[i].known)
                return work_out_accepted(st, accept_sources[i].source, accept_sources[i].what, host, accepted, out,
                                         why);
        const struct vh_accepted *a = &host->accepted[i];
        if (vh_cpuset_copy(accepted, &a->cpus) < 0 || vh_buf_puts(why, a->notes.why) < 0)
                return -ENOMEM;
        for (size_t j = 0; j < a->notes.n_conflicts; j++) {
                char *m = strdup(a->notes.conflicts[j].msg);
                int r = add_conflict(out, a->notes.conflicts[j].vm, m);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The VM whose host device raises IRQ `irq` when that VM's IRQs follow it, else NULL. */
static const vh_reg *irq_follows(const vh_state *st, const vh_plan_host *host, const char *instance)
{
        uint64_t irq;
        if (!host || !instance || vh_parse_u64(instance, UINT32_MAX, &irq) < 0)
                return NULL;
        for (size_t i = 0; i < host->n_follow; i++) {
                if (host->follow[i].irq != irq)
                        continue;
                for (size_t j = 0; j < st->n_regs; j++)
                        if (streq(st->regs[j].uuid, host->follow[i].uuid))
                                return &st->regs[j];
        }
        return NULL;
}

/*
 * An IRQ (or the default for new ones): its original CPUs minus the
 * isolated ones; when nothing of the original is left, the housekeeping
 * CPUs not isolated.  A VM's own device IRQs, when they follow it, go to
 * the VM's CPUs.  Never an empty list.
 */
static int want_irq(const vh_state *st, const vh_knob *k, const char *original, const vh_plan_host *host,
                    vh_desired *out, vh_buf *why, vh_error **err)
{
        bool mask = vh_families[k->family].kind == VH_KIND_MASK;
        _cleanup_cpuset_ vh_cpuset want = { 0 }, accepted = { 0 };
        int r = accepted_isolation(st, VH_ACCEPT_IRQS, host, &accepted, out, why);
        if (r < 0)
                return r;
        out->demanded = true;
        r = (mask ? vh_cpuset_parse_mask : vh_cpuset_parse_list)(original, &want, err);
        if (r < 0)
                return r;
        const vh_reg *owner = k->family == VH_FAM_IRQ ? irq_follows(st, host, k->instance) : NULL;
        if (owner && vh_cpuset_intersects(&owner->demands.isolate, &accepted)) {
                if (vh_cpuset_copy(&want, &owner->demands.isolate) < 0)
                        return -ENOMEM;
                vh_buf_free(why);
                _cleanup_free_ char *l = vh_cpuset_format_list(&want);
                if (!l || vh_buf_puts(why, "") < 0 || vh_buf_escape(why, owner->name, true) < 0 ||
                    vh_buf_printf(why, " (its own device's IRQ follows its CPUs %s)", l) < 0)
                        return -ENOMEM;
        } else {
                vh_cpuset_subtract(&want, &accepted);
                if (vh_cpuset_is_empty(&want) && host && host->have_cpus) {
                        if (vh_cpuset_copy(&want, &host->housekeeping) < 0)
                                return -ENOMEM;
                        vh_cpuset_subtract(&want, &accepted);
                }
        }
        if (vh_cpuset_is_empty(&want))
                return (out->value = strdup(original)) ? 0 : -ENOMEM; /* no usable CPU known: left as it is */
        out->value = mask ? vh_cpuset_format_mask(&want, vh_cpuset_mask_digits(original)) : vh_cpuset_format_list(&want);
        return out->value ? 0 : -ENOMEM;
}

/* irqbalance's banned CPUs: what it banned itself plus the CPUs isolated from IRQs ("" lifts the ban). */
static int want_banned(const vh_state *st, const vh_knob *k, const char *original, const vh_plan_host *host,
                       vh_desired *out, vh_buf *why, vh_error **err)
{
        (void)k;
        _cleanup_cpuset_ vh_cpuset want = { 0 }, accepted = { 0 };
        int r = accepted_isolation(st, VH_ACCEPT_IRQS, host, &accepted, out, why);
        if (r < 0)
                return r;
        out->demanded = true;
        if (*original && vh_cpuset_parse_list(original, &want, err) < 0)
                return -EINVAL;
        if (vh_cpuset_union(&want, &accepted) < 0)
                return -ENOMEM;
        out->value = vh_cpuset_is_empty(&want) ? strdup("") : vh_cpuset_format_list(&want);
        return out->value ? 0 : -ENOMEM;
}

/*
 * A systemd unit's AllowedCPUs: what it allows (unset: every online CPU)
 * minus the CPUs isolated from host tasks.  Never an empty list: with no
 * CPU left, the unit is left as it is.  The original is restored as it
 * was, "" (unset) included.
 */
static int want_unit(const vh_state *st, const vh_knob *k, const char *original, const vh_plan_host *host,
                     vh_desired *out, vh_buf *why, vh_error **err)
{
        (void)k;
        _cleanup_cpuset_ vh_cpuset want = { 0 }, accepted = { 0 };
        int r = accepted_isolation(st, VH_ACCEPT_TASKS, host, &accepted, out, why);
        if (r < 0)
                return r;
        out->demanded = true;
        if (!*original && !(host && host->have_cpus))
                return (out->value = strdup(original)) ? 0 : -ENOMEM; /* unset, and the online CPUs unknown */
        r = *original ? vh_cpuset_parse_list(original, &want, err) : vh_cpuset_copy(&want, &host->online);
        if (r < 0)
                return r;
        vh_cpuset_subtract(&want, &accepted);
        if (vh_cpuset_is_empty(&want) || vh_cpuset_is_empty(&accepted))
                return (out->value = strdup(original)) ? 0 : -ENOMEM;
        out->value = vh_cpuset_format_list(&want);
        return out->value ? 0 : -ENOMEM;
}

static bool demands_hugepool(const vh_demands *d) { return vh_hugepool_demanded_by(d); }

static int want_hugepool(const vh_state *st, const vh_knob *k, const char *o, const vh_plan_host *h,
                         vh_desired *out, vh_buf *why, vh_error **err)
{
        (void)h;
        return vh_hugepool_want(st, k, o, out, why, err);
}

static const planner planners[VH_FAM_COUNT] = {
        [VH_FAM_THP] = { demands_thp, want_thp },
        [VH_FAM_THP_DEFRAG] = { demands_defrag, want_defrag },
        [VH_FAM_THP_SHMEM] = { demands_shmem, want_shmem },
        [VH_FAM_HALT_POLL] = { demands_halt_poll, want_halt_poll },
        [VH_FAM_WQ_MASK] = { demands_wq, want_wq },
        [VH_FAM_WQ_QUEUE] = { demands_wq, want_wq },
        [VH_FAM_IRQBALANCE] = { demands_irqs, want_banned },
        [VH_FAM_IRQ_DEFAULT] = { demands_irqs, want_irq },
        [VH_FAM_IRQ] = { demands_irqs, want_irq },
        [VH_FAM_UNIT_CPUS] = { demands_tasks, want_unit },
        [VH_FAM_HUGEPOOL] = { demands_hugepool, want_hugepool },
};

int vh_reconcile_desired(const vh_state *st, const vh_knob *k, const char *original, const vh_plan_host *host,
                         vh_desired *ret, vh_error **err)
{
        vh_desired d = { 0 };
        _cleanup_buf_ vh_buf why = { 0 };
        int r = vh_buf_puts(&why, "");
        if (r == 0)
                r = planners[k->family].desired(st, k, original, host, &d, &why, err);
        if (r < 0) {
                vh_desired_done(&d);
                if (err && *err)
                        return r;
                return vh_fail(err, -r, "%s", k->name);
        }
        d.why = TAKE_PTR(why.data);
        *ret = d;
        return 0;
}

/* ---- which knobs ---- */

void vh_knobs_free(vh_knob *list, size_t n)
{
        for (size_t i = 0; i < n; i++)
                vh_knob_done(&list[i]);
        free(list);
}

static int report_add(vh_report *rep, const vh_knob *k, const char *name, vh_change_kind kind, const char *from,
                      const char *to, const char *why, const char *vm)
{
        if (!rep)
                return 0;
        /* the same note twice (one VM's conflict on every workqueue mask) is told once */
        for (size_t i = 0; vm && i < rep->n; i++)
                if (rep->changes[i].kind == kind && streq(rep->changes[i].vm, vm) && streq(rep->changes[i].why, why))
                        return 0;
        vh_change *c = realloc(rep->changes, (rep->n + 1) * sizeof(*c));
        if (!c)
                return -ENOMEM;
        rep->changes = c;
        c = &c[rep->n++];
        c->knob = strdup(k ? k->name : name);
        c->family = k ? k->family : VH_FAM_COUNT;
        c->kind = kind;
        c->from = vh_strdup0(from);
        c->to = vh_strdup0(to);
        c->why = vh_strdup0(why);
        c->vm = vh_strdup0(vm);
        if (kind == VH_CHANGE_FAILED)
                rep->failed = true;
        if (!c->knob || (from && !c->from) || (to && !c->to) || (why && !c->why) || (vm && !c->vm))
                return -ENOMEM;
        return 0;
}

static bool listed(const vh_knob *list, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (streq(list[i].name, name))
                        return true;
        return false;
}

/* Why a family of named instances has none here: what its access says of the first. */
static char *fixed_absent_why(vh_family_id f)
{
        _cleanup_(vh_knob_done) vh_knob k = { 0 };
        char *why = NULL;
        _cleanup_free_ char *name = NULL;
        if (asprintf(&name, "%s:%s", vh_families[f].name, vh_families[f].fixed[0]) < 0 || vh_knob_resolve(name, &k) < 0)
                return NULL;
        if (vh_knob_access(&k, &why) == -ENOENT && why)
                return why;
        free(why);
        return strdup("not present on this host");
}

static int demanded_knobs(uint32_t demanded, const vh_state *st, vh_knob **ret, size_t *ret_n, vh_report *rep,
                          vh_error **err)
{
        vh_knob *list = NULL;
        size_t n = 0;
        int r = 0;
        for (int f = 0; f < VH_FAM_COUNT && r == 0; f++) {
                if (!(demanded & (1u << f)))
                        continue;
                size_t before = n;
                r = vh_family_instances((vh_family_id)f, &list, &n, err);
                if (r == 0 && n == before && (vh_families[f].path || vh_families[f].fixed)) {
                        _cleanup_free_ char *why = NULL;
                        if (vh_families[f].fixed)
                                why = fixed_absent_why((vh_family_id)f);
                        else if (asprintf(&why, "not present on this host (%s does not exist)", vh_families[f].path) < 0)
                                why = NULL;
                        r = why ? report_add(rep, NULL, vh_families[f].name, VH_CHANGE_ABSENT, NULL, NULL, why, NULL)
                                : -ENOMEM;
                        if (r == 0 && rep)
                                rep->changes[rep->n - 1].family = (vh_family_id)f;
                }
        }
        for (size_t i = 0; i < st->n_knobs && r == 0; i++) {
                const vh_knob_state *ks = &st->knobs[i];
                if ((!ks->saved && !ks->lost) || listed(list, n, ks->name))
                        continue;
                vh_knob k;
                if (vh_knob_resolve(ks->name, &k) < 0)
                        continue; /* the parser only keeps names it resolves */
                vh_knob *l = realloc(list, (n + 1) * sizeof(*l));
                if (!l) {
                        vh_knob_done(&k);
                        r = -ENOMEM;
                        break;
                }
                list = l;
                list[n++] = k;
        }
        if (r < 0) {
                vh_knobs_free(list, n);
                return err && *err ? r : vh_fail(err, -r, "knobs");
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

int vh_reconcile_knobs(const vh_state *st, vh_knob **ret, size_t *ret_n, vh_report *rep, vh_error **err)
{
        return demanded_knobs(demanded_families(st), st, ret, ret_n, rep, err);
}

/* ---- apply ---- */

static int set_str(char **dst, const char *v)
{
        char *n = strdup(v);
        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

/* What one knob needs, decided before anything is written. */
typedef enum step_kind { STEP_NONE, STEP_SET, STEP_RESTORE, STEP_FORGET } step_kind;

typedef struct step {
        step_kind kind;
        char *current, *value, *why;
} step;

static void step_done(step *s)
{
        free(s->current);
        free(s->value);
        free(s->why);
        memset(s, 0, sizeof(*s));
}

static bool writes(const step *s)
{
        return s->kind == STEP_SET || s->kind == STEP_RESTORE;
}

/*
 * Read the knob, settle what a crashed call left (pending), detect drift,
 * save the original on first demand, and decide the step.  Writes nothing.
 */
static int plan_knob(vh_state *st, const vh_knob *kn, bool demanded, const vh_plan_host *host, vh_report *rep,
                     step *s)
{
        vh_knob_state *k = vh_state_knob(st, kn->name);
        bool saved = k && k->saved;
        bool lost = (k && k->lost) || (!saved && st->lost_unknown);

        if (!demanded) {
                if (k && k->lost)
                        s->kind = STEP_FORGET; /* nobody demands it: the lost original no longer matters */
                if (!saved)
                        return 0;
        }
        if (demanded && lost)
                return report_add(rep, kn, NULL, VH_CHANGE_LOST, NULL, NULL,
                                  "its original was lost with a damaged state file: left alone until no VM demands "
                                  "it (check its value by hand)", NULL);

        _cleanup_free_ char *why = NULL;
        if (!saved) {
                /* never written by us: is it there, and can it be written at all? */
                int a = vh_knob_access(kn, &why);
                if (a == -ENOMEM)
                        return -ENOMEM;
                if (a == -ENOENT || a == -EROFS)
                        return report_add(rep, kn, NULL, a == -ENOENT ? VH_CHANGE_ABSENT : VH_CHANGE_UNTUNABLE, NULL,
                                          NULL, why ? why : "cannot be tuned here", NULL);
        }

        _cleanup_free_ char *current = NULL;
        _cleanup_error_ vh_error *e = NULL;
        /* a family whose read lags (irqbalance) is asked only whether it is still there once tuned */
        bool lagging = saved && vh_families[kn->family].lagging_read;
        int rr = lagging ? vh_knob_access(kn, NULL) : vh_knob_read(kn, &current, &e);
        if (lagging && rr == -EROFS)
                rr = 0; /* there, but cannot be asked now: what vmhooks set stands */
        if (rr == -ENOENT && saved) {
                s->kind = STEP_FORGET;
                return report_add(rep, kn, NULL, VH_CHANGE_GONE, NULL, NULL,
                                  "no longer exists (its workqueue or device went away): forgotten", NULL);
        }
        if (rr < 0)
                return report_add(rep, kn, NULL, VH_CHANGE_FAILED, NULL, NULL, vh_error_msg(e), NULL);

        /*
         * A family whose read lags its write (irqbalance applies a ban at its
         * next rescan, and reports the old one until then): what vmhooks last
         * set stands for the current value, and what a killed call may or may
         * not have sent is sent again.
         */
        bool resend = false;
        if (lagging) {
                resend = k->pending != NULL;
                if (set_str(&current, k->pending ? k->pending : k->expected) < 0)
                        return -ENOMEM;
        }

        /*
         * A call died between its write and its final save: the write is
         * ours, and it may have died before logging it, so this call says so
         * (every write to the host appears in a log).
         */
        bool reached = saved && k->pending && vh_knob_pending_reached(kn, current, k->pending, k->expected);
        if (reached && !vh_knob_equal(kn, k->expected, current)) {
                int r = report_add(rep, kn, NULL,
                                   vh_knob_equal(kn, current, k->original) ? VH_CHANGE_RESTORE : VH_CHANGE_SET,
                                   k->expected, current,
                                   "written by an earlier hook call that was killed before it saved (and maybe "
                                   "logged) it",
                                   NULL);
                if (r < 0)
                        return r;
        }
        if (reached) {
                if (set_str(&k->expected, current) < 0 || set_str(&k->last_written, current) < 0)
                        return -ENOMEM;
        }
        if (k) {
                free(k->pending);
                k->pending = NULL;
        }

        if (saved && !k->drifted && !vh_knob_equal(kn, current, k->expected)) {
                k->drifted = true;
                free(why);
                if (asprintf(&why, "changed by someone else (expected %s); leaving it alone, original %s is not restored",
                             k->expected, k->original) < 0) {
                        why = NULL;
                        return -ENOMEM;
                }
                int r = report_add(rep, kn, NULL, VH_CHANGE_DRIFT, k->expected, current, why, NULL);
                if (r < 0)
                        return r;
        }

        if (!demanded) {
                s->kind = STEP_FORGET;
                if (!k->drifted && (resend || !vh_knob_equal(kn, current, k->original))) {
                        s->kind = STEP_RESTORE;
                        s->current = TAKE_PTR(current);
                        if (!(s->value = strdup(k->original)))
                                return -ENOMEM;
                }
                return 0;
        }

        if (!saved) {
                if (!(k = vh_state_knob_add(st, kn->name)))
                        return -ENOMEM;
                if (set_str(&k->original, current) < 0 || set_str(&k->expected, current) < 0)
                        return -ENOMEM;
                k->saved = true;
        }
        if (k->drifted)
                return 0;

        vh_desired d = { 0 };
        if (vh_reconcile_desired(st, kn, k->original, host, &d, &e) < 0)
                return report_add(rep, kn, NULL, VH_CHANGE_FAILED, current, NULL, vh_error_msg(e), NULL);
        int r = 0;
        for (size_t i = 0; i < d.n_conflicts && r == 0; i++)
                r = report_add(rep, kn, NULL, VH_CHANGE_CONFLICT, NULL, NULL, d.conflicts[i].msg, d.conflicts[i].vm);
        if (r == 0 && d.error)
                r = report_add(rep, kn, NULL, VH_CHANGE_FAILED, current, d.value, d.error, NULL);
        if (r == 0 && d.value && (resend || !vh_knob_equal(kn, current, d.value))) {
                s->kind = STEP_SET;
                s->current = TAKE_PTR(current);
                s->value = TAKE_PTR(d.value);
                if (asprintf(&s->why, "demanded by %s", d.why) < 0) {
                        s->why = NULL;
                        r = -ENOMEM;
                }
        }
        vh_desired_done(&d);
        return r;
}

/* A write the kernel refused as "not here" (EACCES, EPERM, EROFS): a note, and the knob forgotten if untouched. */
static int write_refused(vh_state *st, const vh_knob *kn, vh_knob_state *k, const step *s, vh_report *rep,
                         const vh_error *e)
{
        if (!vh_knob_untunable_errno(kn, e->code) || !k || k->last_written)
                return 1;
        (void)st;
        vh_knob_state_forget(k);
        _cleanup_free_ char *why = NULL;
        if (asprintf(&why, "cannot be tuned here: %s", vh_error_msg(e)) < 0)
                return -ENOMEM;
        return report_add(rep, kn, NULL, VH_CHANGE_UNTUNABLE, s->current, s->value, why, NULL);
}

static int apply_step(vh_state *st, const vh_knob *kn, step *s, vh_report *rep)
{
        vh_knob_state *k = vh_state_knob(st, kn->name);
        if (k) {
                free(k->pending);
                k->pending = NULL;
        }
        _cleanup_error_ vh_error *e = NULL;
        int r;
        switch (s->kind) {
        case STEP_NONE:
                return 0;
        case STEP_FORGET:
                if (k) {
                        vh_knob_state_forget(k);
                }
                return 0;
        case STEP_RESTORE:
        case STEP_SET:
                if (vh_knob_write(kn, s->value, &e) < 0) {
                        r = write_refused(st, kn, k, s, rep, e);
                        if (r <= 0)
                                return r;
                        if (k && set_str(&k->failure, vh_error_msg(e)) < 0)
                                return -ENOMEM;
                        return report_add(rep, kn, NULL, VH_CHANGE_FAILED, s->current, s->value, vh_error_msg(e),
                                          NULL);
                }
                if (s->kind == STEP_RESTORE) {
                        vh_knob_state_forget(k);
                        return report_add(rep, kn, NULL, VH_CHANGE_RESTORE, s->current, s->value,
                                          "restored the original: no running VM demands it", NULL);
                }
                free(k->failure);
                k->failure = NULL;
                if (set_str(&k->expected, s->value) < 0 || set_str(&k->last_written, s->value) < 0)
                        return -ENOMEM;
                return report_add(rep, kn, NULL, VH_CHANGE_SET, s->current, s->value, s->why, NULL);
        }
        return 0;
}

bool vh_reconcile_unsettled(const vh_state *st)
{
        if (st->lost_unknown && st->n_regs == 0)
                return true;
        uint32_t demanded = demanded_families(st);
        for (size_t i = 0; i < st->n_knobs; i++) {
                const vh_knob_state *k = &st->knobs[i];
                if (!k->saved && !k->lost)
                        continue;
                if (k->pending || k->failure)
                        return true;
                _cleanup_(vh_knob_done) vh_knob kn = { 0 };
                if (vh_knob_resolve(k->name, &kn) == 0 && !(demanded & (1u << kn.family)))
                        return true;
        }
        return false;
}

/*
 * The IRQs the kernel does not let anyone steer (managed multi-queue and
 * per-CPU IRQs) are told in one note, not one per IRQ: how many, which.
 */
static int fold_untunable_irqs(vh_report *rep, size_t from)
{
        if (!rep)
                return 0;
        _cleanup_buf_ vh_buf list = { 0 };
        unsigned count = 0;
        size_t keep = from;
        for (size_t i = from; i < rep->n; i++) {
                vh_change *c = &rep->changes[i];
                if (c->kind == VH_CHANGE_UNTUNABLE && c->family == VH_FAM_IRQ) {
                        const char *irq = startswith(c->knob, "irq:");
                        if (count < 32 && vh_buf_printf(&list, "%s%s", count ? ", " : "", irq ? irq : c->knob) < 0)
                                return -ENOMEM;
                        count++;
                        change_done(c);
                        continue;
                }
                rep->changes[keep++] = *c;
        }
        rep->n = keep;
        if (count == 0)
                return 0;
        _cleanup_free_ char *why = NULL;
        if (asprintf(&why, "%u IRQ%s cannot be tuned here (%s%s): the kernel manages their affinity (multi-queue "
                           "devices) or they are per-CPU; left as they are",
                     count, count == 1 ? "" : "s", list.data, count > 32 ? ", ..." : "") < 0)
                return -ENOMEM;
        return report_add(rep, NULL, "irq", VH_CHANGE_UNTUNABLE, NULL, NULL, why, NULL) < 0
                       ? -ENOMEM
                       : (rep->changes[rep->n - 1].family = VH_FAM_IRQ, 0);
}

int vh_reconcile(vh_state *st, vh_persist_fn persist, void *userdata, vh_report *rep, vh_error **err)
{
        size_t first_change = rep ? rep->n : 0;
        vh_knob *knobs = NULL;
        size_t n = 0;
        uint32_t demanded = demanded_families(st);
        int r = demanded_knobs(demanded, st, &knobs, &n, rep, err);
        if (r < 0)
                return r;
        _cleanup_(vh_plan_host_done) vh_plan_host host = { 0 };
        bool wq = demanded & (1u << VH_FAM_WQ_MASK), irqs = demanded & (1u << VH_FAM_IRQ);
        if (wq || irqs || (demanded & (1u << VH_FAM_UNIT_CPUS))) {
                _cleanup_error_ vh_error *e = NULL;
                /* Without it, a mask is checked only for emptiness. */
                if (vh_plan_host_load(&host, &e) < 0)
                        r = report_add(rep, NULL, wq ? "workqueue_cpumask" : "irq", VH_CHANGE_FAILED, NULL, NULL,
                                       vh_error_msg(e), NULL);
        }
        if (r >= 0 && irqs) {
                _cleanup_error_ vh_error *e = NULL;
                if (vh_plan_host_load_follow(&host, st, &e) < 0)
                        r = report_add(rep, NULL, "irq", VH_CHANGE_FAILED, NULL, NULL, vh_error_msg(e), NULL);
        }
        if (r >= 0)
                r = vh_plan_host_accept(&host, st);
        step *steps = calloc(n ? n : 1, sizeof(*steps));
        if (!steps)
                r = -ENOMEM;
        bool any_write = false;
        for (size_t i = 0; i < n && r >= 0; i++) {
                r = plan_knob(st, &knobs[i], demanded & (1u << knobs[i].family), &host, rep, &steps[i]);
                any_write = any_write || writes(&steps[i]);
        }
        if (r >= 0 && st->lost_unknown && st->n_regs == 0)
                st->lost_unknown = false; /* no VM left: nothing of theirs can be told from the host's own */
        /*
         * Write-ahead: the values about to be written are recorded first, so
         * that a call killed between a write and the final save leaves no
         * knob that looks changed by someone else.  When the state cannot be
         * recorded, nothing is written: a knob we could not restore later
         * would stay changed for good.
         */
        if (r >= 0 && any_write && persist) {
                for (size_t i = 0; i < n && r >= 0; i++) {
                        if (!writes(&steps[i]))
                                continue;
                        vh_knob_state *k = vh_state_knob(st, knobs[i].name);
                        r = k ? set_str(&k->pending, steps[i].value) : 0;
                }
                _cleanup_error_ vh_error *e = NULL;
                if (r >= 0 && persist(st, userdata, &e) < 0) {
                        for (size_t i = 0; i < n && r >= 0; i++) {
                                vh_knob_state *k = vh_state_knob(st, knobs[i].name);
                                if (k) {
                                        free(k->pending);
                                        k->pending = NULL;
                                }
                                if (!writes(&steps[i]))
                                        continue;
                                _cleanup_free_ char *why = NULL;
                                if (asprintf(&why, "not changed: %s", vh_error_msg(e)) < 0) {
                                        why = NULL;
                                        r = -ENOMEM;
                                } else {
                                        r = report_add(rep, &knobs[i], NULL, VH_CHANGE_FAILED, steps[i].current,
                                                       steps[i].value, why, NULL);
                                }
                                steps[i].kind = STEP_NONE;
                        }
                }
        }
        for (size_t i = 0; i < n && r >= 0; i++)
                r = apply_step(st, &knobs[i], &steps[i], rep);
        if (r >= 0)
                r = fold_untunable_irqs(rep, first_change);
        for (size_t i = 0; steps && i < n; i++)
                step_done(&steps[i]);
        free(steps);
        vh_knobs_free(knobs, n);
        if (r < 0)
                return err && *err ? r : vh_fail(err, -r, "reconcile");
        return 0;
}
