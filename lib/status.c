/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "status.h"

#include "hugepool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "jsonout.h"

#include "audit/audit-int.h"
#include "cpuset.h"
#include "demands.h"
#include "fileio.h"
#include "liveness.h"
#include "log.h"
#include "reconcile.h"
#include "root.h"
#include "util.h"
#include "version.h"

#define STATUS_STATE_MAX_BYTES (256u << 20) /* as lib/state.c */
#define STATUS_LOG_TAIL 65536                /* bytes of a VM's log searched for its last error */

static void status_knob_done(vh_status_knob *k)
{
        vh_knob_done(&k->knob);
        free(k->note);
        free(k->current);
        free(k->current_error);
        free(k->desired);
        free(k->why);
        free(k->desired_error);
        memset(k, 0, sizeof(*k));
}

void vh_status_done(vh_status *s)
{
        if (s->vms)
                for (size_t i = 0; i < s->st.n_regs; i++) {
                        free(s->vms[i].demands);
                        free(s->vms[i].log);
                        free(s->vms[i].last_error);
                }
        free(s->vms);
        s->vms = NULL;
        vh_state_done(&s->st);
        for (size_t i = 0; i < s->n_knobs; i++)
                status_knob_done(&s->knobs[i]);
        free(s->knobs);
        s->knobs = NULL;
        s->n_knobs = 0;
        vh_results_done(&s->install);
        free(s->state_path);
        free(s->state_error);
        s->state_path = s->state_error = NULL;
        s->state_exists = false;
        s->attention = 0;
}

/* Read the table as the hook last saved it: no lock, no writes. */
static int load_state(vh_status *s, vh_error **err)
{
        if (!(s->state_path = vh_path(VH_STATE_FILE)))
                return vh_fail(err, ENOMEM, "state");
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ vh_error *rerr = NULL;
        int r = vh_read_file(s->state_path, STATUS_STATE_MAX_BYTES, &text, NULL, &rerr);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                *err = TAKE_PTR(rerr);
                return r == -EACCES ? vh_error_wrap(err, "only root can read the state") : r;
        }
        s->state_exists = true;
        _cleanup_error_ vh_error *perr = NULL;
        if (vh_state_parse(text, &s->st, &perr) < 0) {
                /* vh_state_parse left the table empty; the next hook call moves the file aside */
                if (perr && perr->code == ENOMEM)
                        return vh_fail(err, ENOMEM, "state");
                if (asprintf(&s->state_error, "%s: %s", s->state_path, vh_error_msg(perr)) < 0) {
                        s->state_error = NULL;
                        return vh_fail(err, ENOMEM, "state");
                }
        }
        return 0;
}

static int iso_time(int64_t t, char buf[static 32])
{
        time_t tt = (time_t)t;
        struct tm tm;
        if (t <= 0 || !gmtime_r(&tt, &tm) || strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
                snprintf(buf, 32, "?");
                return -EINVAL;
        }
        return 0;
}

/*
 * The last line of the VM's log, written since `since`, whose message is an
 * error or a refusal ("TS CALL: error: ...", "TS CALL: refused the start: ...").
 * Log lines are one write each; only the tail is read, however long the log.
 */
static int last_log_error(const char *rel_log, int64_t since, char **ret)
{
        _cleanup_free_ char *path = vh_path(rel_log);
        if (!path)
                return -ENOMEM;
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return 0; /* no log: no error */
        off_t off = st.st_size > STATUS_LOG_TAIL ? st.st_size - STATUS_LOG_TAIL : 0;
        _cleanup_free_ char *buf = malloc(STATUS_LOG_TAIL + 1);
        if (!buf)
                return -ENOMEM;
        ssize_t n = pread(fd, buf, STATUS_LOG_TAIL, off);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        char from[32];
        bool dated = iso_time(since, from) == 0;
        const char *found = NULL;
        size_t found_len = 0;
        char *line = buf;
        if (off > 0) { /* the first line is cut */
                char *nl = strchr(buf, '\n');
                line = nl ? nl + 1 : buf + n;
        }
        for (char *nl; *line; line = nl + 1) {
                nl = strchrnul(line, '\n');
                size_t len = (size_t)(nl - line);
                /* "2026-11-24T23:59:43Z prepare begin: error: ..." */
                const char *msg = len > 21 ? strstr(line + 21, ": ") : NULL;
                if (msg && msg < nl && (!dated || strncmp(line, from, 20) >= 0) &&
                    (startswith(msg + 2, "error: ") || startswith(msg + 2, "refused the start: "))) {
                        found = line;
                        found_len = len;
                }
                if (!*nl)
                        break;
        }
        if (found && !(*ret = strndup(found, found_len)))
                return -ENOMEM;
        return 0;
}

static int collect_vms(vh_status *s, int64_t now)
{
        if (s->st.n_regs == 0)
                return 0;
        if (!(s->vms = calloc(s->st.n_regs, sizeof(*s->vms))))
                return -ENOMEM;
        for (size_t i = 0; i < s->st.n_regs; i++) {
                vh_reg *g = &s->st.regs[i];
                vh_status_vm *v = &s->vms[i];
                /* may learn the PID from libvirt's pidfile, in this copy only */
                v->running = vh_reg_running(g, now);
                _cleanup_buf_ vh_buf d = { 0 };
                if (vh_demands_describe(&g->demands, &d) < 0)
                        return -ENOMEM;
                v->demands = TAKE_PTR(d.data);
                _cleanup_free_ char *file = vh_log_file_name(g->name);
                if (!file || asprintf(&v->log, VH_LOG_DIR "/%s", file) < 0) {
                        v->log = NULL;
                        return -ENOMEM;
                }
                if (g->last_error)
                        v->last_error = strdup(g->last_error);
                else if (last_log_error(v->log, g->since, &v->last_error) < 0)
                        return -ENOMEM;
                if (g->last_error && !v->last_error)
                        return -ENOMEM;
        }
        return 0;
}


static int set_dup(char **dst, const char *v)
{
        if (!v)
                return 0;
        return (*dst = strdup(v)) ? 0 : -ENOMEM;
}

static const vh_knob_state no_record;

/* The knob's record in the table, or an empty one. */
static const vh_knob_state *record_of(const vh_status *s, const vh_status_knob *k)
{
        const vh_knob_state *ks = vh_state_knob(&s->st, k->knob.name);
        return ks ? ks : &no_record;
}

static int collect_knob(vh_status *s, vh_status_knob *out, const vh_plan_host *host, const char *host_error)
{
        const vh_knob *kn = &out->knob;
        const vh_knob_state *k = record_of(s, out);
        _cleanup_error_ vh_error *e = NULL;
        int rr = vh_knob_read(kn, &out->current, &e);
        if (rr < 0) {
                out->current = NULL;
                if (rr != -ENOENT && set_dup(&out->current_error, vh_error_msg(e)) < 0)
                        return -ENOMEM;
        }
        out->saved = k->saved;
        out->demanded = vh_reconcile_demanded(&s->st, kn->family);
        if (!k->saved) {
                int a = vh_knob_access(kn, &out->note);
                if (a == -ENOMEM)
                        return -ENOMEM;
                if (k->lost || (s->st.lost_unknown && out->demanded)) {
                        free(out->note);
                        if (set_dup(&out->note, "its original was lost with a damaged state file: vmhooks leaves it "
                                                "alone until no VM demands it; check its value by hand") < 0)
                                return -ENOMEM;
                        s->attention++;
                }
                if (out->note) {
                        free(out->current_error);
                        out->current_error = NULL;
                        return 0;
                }
        }
        /* a hook call between its write-ahead and its write: the pending value is ours */
        bool writing = k->pending && vh_knob_equal(kn, out->current, k->pending);
        out->changed = k->saved && (k->drifted || (out->current && !writing &&
                                                   !vh_knob_equal(kn, out->current, k->expected)));
        if (out->demanded) {
                /* as the hook does: the original is saved on first demand, from the value it reads */
                const char *original = k->saved ? k->original : out->current;
                vh_desired d = { 0 };
                _cleanup_error_ vh_error *de = NULL;
                bool mask = vh_families[kn->family].kind == VH_KIND_MASK || vh_families[kn->family].kind == VH_KIND_LIST;
                int r = 0;
                if (mask && !original)
                        r = set_dup(&out->desired_error, "the mask cannot be read, so no value can be planned");
                else if (mask && host_error)
                        r = set_dup(&out->desired_error, host_error);
                if (r < 0)
                        return r;
                if (!out->desired_error && !original) {
                        /* unreadable and never tuned: nothing to plan from */
                } else if (!out->desired_error) {
                        if (vh_reconcile_desired(&s->st, kn, original, host, &d, &de) < 0) {
                                if (de && de->code == ENOMEM)
                                        return -ENOMEM;
                                return set_dup(&out->desired_error, vh_error_msg(de));
                        }
                        out->desired = TAKE_PTR(d.value);
                        out->desired_error = TAKE_PTR(d.error);
                        _cleanup_buf_ vh_buf why = { 0 };
                        r = vh_buf_printf(&why, "demanded by %s", d.why ? d.why : "?");
                        for (size_t i = 0; r == 0 && i < d.n_conflicts; i++)
                                r = vh_buf_printf(&why, "; VM %s not isolated: it would leave no housekeeping CPU",
                                                  d.conflicts[i].vm);
                        vh_desired_done(&d);
                        if (r < 0)
                                return -ENOMEM;
                        out->why = TAKE_PTR(why.data);
                }
        } else if (k->saved && k->drifted) {
                if (set_dup(&out->why, "no VM demands it; changed by someone else, so the next hook call "
                                       "forgets it without restoring the original") < 0)
                        return -ENOMEM;
        } else if (k->saved) {
                if (set_dup(&out->desired, k->original) < 0 ||
                    set_dup(&out->why, "no VM demands it: the next hook call restores the original") < 0)
                        return -ENOMEM;
        }
        out->off_target = !out->changed && !writing && out->current && out->desired &&
                          !vh_knob_equal(kn, out->current, out->desired) && !(k->saved && k->drifted);
        s->attention += out->changed + out->off_target + (out->desired_error != NULL) + (k->failure != NULL) +
                        (out->current_error && (out->demanded || out->saved));
        return 0;
}

static int status_knob_add(vh_status *s, vh_knob *k)
{
        for (size_t j = 0; j < s->n_knobs; j++)
                if (streq(s->knobs[j].knob.name, k->name)) {
                        vh_knob_done(k);
                        return 0;
                }
        vh_status_knob *l = realloc(s->knobs, (s->n_knobs + 1) * sizeof(*l));
        if (!l) {
                vh_knob_done(k);
                return -ENOMEM;
        }
        s->knobs = l;
        memset(&l[s->n_knobs], 0, sizeof(*l));
        l[s->n_knobs++].knob = *k;
        return 0;
}

/* Which knobs status shows: every family's instances on this host (a missing one-file knob too, as a note), then any other knob the table has a record of. */
static int status_knobs(vh_status *s)
{
        int r = 0;
        for (int f = 0; f < VH_FAM_COUNT && r == 0; f++) {
                vh_knob *list = NULL;
                size_t n = 0;
                _cleanup_error_ vh_error *e = NULL;
                r = vh_family_instances((vh_family_id)f, &list, &n, &e);
                if (r == 0 && n == 0 && vh_families[f].path) {
                        vh_knob k;
                        if ((r = vh_knob_resolve(vh_families[f].name, &k)) == 0)
                                r = status_knob_add(s, &k);
                }
                for (size_t i = 0; i < n; i++) {
                        if (r == 0)
                                r = status_knob_add(s, &list[i]);
                        else
                                vh_knob_done(&list[i]);
                }
                free(list);
        }
        vh_knob *more = NULL;
        size_t n_more = 0;
        _cleanup_error_ vh_error *e = NULL;
        if (r == 0)
                r = vh_reconcile_knobs(&s->st, &more, &n_more, NULL, &e);
        for (size_t i = 0; i < n_more; i++) {
                if (r == 0)
                        r = status_knob_add(s, &more[i]);
                else
                        vh_knob_done(&more[i]);
        }
        free(more);
        return r;
}

int vh_status_collect(int64_t now, vh_status *ret, vh_error **err)
{
        _cleanup_status_ vh_status s = { 0 };
        int r = load_state(&s, err);
        if (r < 0)
                return r;
        if (s.state_error || s.st.n_damaged)
                s.attention++;
        if (collect_vms(&s, now) < 0)
                return vh_fail(err, ENOMEM, "status");

        _cleanup_(vh_plan_host_done) vh_plan_host host = { 0 };
        _cleanup_free_ char *host_error = NULL;
        /* the host as vh_reconcile reads it, so that status shows what a call would do */
        if (vh_reconcile_demanded(&s.st, VH_FAM_WQ_MASK) || vh_reconcile_demanded(&s.st, VH_FAM_IRQ) ||
            vh_reconcile_demanded(&s.st, VH_FAM_UNIT_CPUS)) {
                _cleanup_error_ vh_error *he = NULL;
                if (vh_plan_host_load(&host, &he) < 0 && !(host_error = strdup(vh_error_msg(he))))
                        return vh_fail(err, ENOMEM, "status");
                if (!host_error && vh_plan_host_load_follow(&host, &s.st, &he) < 0 &&
                    !(host_error = strdup(vh_error_msg(he))))
                        return vh_fail(err, ENOMEM, "status");
        }
        if (vh_plan_host_accept(&host, &s.st) < 0)
                return vh_fail(err, ENOMEM, "status");
        if (status_knobs(&s) < 0)
                return vh_fail(err, ENOMEM, "status");
        for (size_t i = 0; i < s.n_knobs; i++)
                if (collect_knob(&s, &s.knobs[i], host_error ? NULL : &host, host_error) < 0)
                        return vh_fail(err, ENOMEM, "status");

        /* the same judgement as `vmhooks audit` */
        if (vh_audit_daemons(&s.install) < 0 || vh_audit_install(&s.install) < 0 ||
            vh_audit_policy(&s.install) < 0 || vh_audit_capcache(&s.install) < 0)
                return vh_fail(err, ENOMEM, "status");
        for (size_t i = 0; i < s.install.n; i++)
                s.attention += s.install.items[i].level >= VH_LEVEL_WARN;

        vh_status_done(ret);
        *ret = s;
        memset(&s, 0, sizeof(s));
        return 0;
}

/* ---- text ---- */

static int put_time(vh_buf *b, int64_t t)
{
        char when[32];
        (void)iso_time(t, when); /* "?" when it cannot be shown */
        return vh_buf_puts(b, when);
}

static int text_vm(vh_buf *b, const vh_reg *g, const vh_status_vm *v)
{
        int r = vh_buf_puts(b, "vm ");
        if (r == 0)
                r = vh_buf_escape(b, g->name, true);
        if (r == 0)
                r = vh_buf_puts(b, " (uuid ");
        if (r == 0)
                r = vh_buf_escape(b, g->uuid, true);
        if (r == 0 && v->running && g->pid > 0)
                r = vh_buf_printf(b, "): running, QEMU PID %d, registered ", g->pid);
        else if (r == 0 && v->running)
                r = vh_buf_puts(b, "): starting (no QEMU PID yet), registered ");
        else if (r == 0)
                r = vh_buf_puts(b, "): NOT RUNNING (stale registration: its demands count until the next hook "
                                   "call drops it), registered ");
        if (r == 0)
                r = put_time(b, g->since);
        if (r == 0)
                r = vh_buf_printf(b, "\n  demands: %s\n  last error: ", v->demands);
        if (r == 0)
                r = vh_buf_escape(b, v->last_error ? v->last_error : "none", true);
        if (r == 0 && g->seclabel) {
                r = vh_buf_puts(b, "\n  label: ");
                if (r == 0)
                        r = vh_buf_escape(b, g->seclabel, true);
        }
        if (r == 0)
                r = vh_buf_printf(b, "\n  log: %s\n", v->log);
        return r;
}

static int text_knob(vh_buf *b, const vh_status_knob *k, const vh_knob_state *ks)
{
        const char *path = k->knob.read_path ? k->knob.read_path : k->knob.path;
        if (k->note && !k->current)
                return vh_buf_printf(b, "knob %s (%s): %s\n", k->knob.name, path, k->note);
        int r = vh_buf_printf(b, "knob %s (%s): current %s", k->knob.name, path,
                              k->current ? k->current : "unreadable");
        if (r == 0 && k->current_error)
                r = vh_buf_printf(b, " (%s)", k->current_error);
        if (r == 0 && k->note)
                return vh_buf_printf(b, "; %s\n", k->note);
        if (r == 0 && !k->saved && !k->demanded)
                return vh_buf_puts(b, "; not tuned: no VM demands it\n");
        if (r == 0 && k->desired)
                r = vh_buf_printf(b, "; desired %s", k->desired);
        if (r == 0 && k->why)
                r = vh_buf_printf(b, " (%s)", k->why);
        if (r == 0 && k->saved)
                r = vh_buf_printf(b, "; original %s; last written %s", ks->original,
                                  ks->last_written ? ks->last_written : "never");
        if (r == 0 && ks->pending)
                r = vh_buf_printf(b, "; a hook call is writing %s", ks->pending);
        if (r == 0 && ks->failure)
                r = vh_buf_printf(b, "; LAST WRITE FAILED (retried in the background for 2 minutes, then by the next hook call): %s", ks->failure);
        if (r == 0 && k->desired_error)
                r = vh_buf_printf(b, "; CANNOT BE TUNED: %s", k->desired_error);
        if (r == 0 && k->changed)
                r = vh_buf_printf(b, "; CHANGED BY SOMEONE ELSE (vmhooks expected %s): it is left alone and the "
                                     "original is not restored", ks->expected);
        if (r == 0 && k->off_target)
                r = vh_buf_puts(b, "; NOT AT THE DESIRED VALUE: see the VMs' last errors and logs");
        if (r == 0)
                r = vh_buf_puts(b, "\n");
        return r;
}

/* Per source of host noise: which VMs keep it off which CPUs. */
static int text_isolation(vh_buf *b, const vh_status *s)
{
        static const struct {
                unsigned bit;
                const char *what;
        } sources[] = { { VH_ISO_WQ, "workqueues (kworkers)" }, { VH_ISO_IRQS, "IRQs and irqbalance" },
                        { VH_ISO_TASKS, "host tasks (systemd slices)" } };
        bool any = false;
        for (size_t i = 0; i < s->st.n_regs && !any; i++)
                any = s->st.regs[i].demands.isolate_from && !vh_cpuset_is_empty(&s->st.regs[i].demands.isolate);
        if (!any)
                return 0;
        int r = vh_buf_puts(b, "isolation (what is kept off whose CPUs):\n");
        for (size_t j = 0; r == 0 && j < sizeof(sources) / sizeof(sources[0]); j++) {
                r = vh_buf_printf(b, "  %s:", sources[j].what);
                unsigned n = 0;
                for (size_t i = 0; r == 0 && i < s->st.n_regs; i++) {
                        const vh_demands *d = &s->st.regs[i].demands;
                        if (!(d->isolate_from & sources[j].bit) || vh_cpuset_is_empty(&d->isolate))
                                continue;
                        _cleanup_free_ char *l = vh_cpuset_format_list(&d->isolate);
                        r = l ? vh_buf_printf(b, "%s CPUs %s for ", n++ ? ";" : "", l) : -ENOMEM;
                        if (r == 0)
                                r = vh_buf_escape(b, s->st.regs[i].name, true);
                        if (r == 0 && sources[j].bit == VH_ISO_IRQS && (d->isolate_from & VH_ISO_IRQS_FOLLOW))
                                r = vh_buf_puts(b, " (its devices' IRQs on them)");
                }
                if (r == 0)
                        r = vh_buf_puts(b, n ? "\n" : " none\n");
        }
        return r;
}

static int text_summary(vh_buf *b, const vh_status *s)
{
        size_t stale = 0;
        for (size_t i = 0; i < s->st.n_regs; i++)
                stale += !s->vms[i].running;
        unsigned tuned = 0, changed = 0;
        for (size_t i = 0; i < s->n_knobs; i++) {
                tuned += s->knobs[i].saved && !s->knobs[i].changed;
                changed += s->knobs[i].changed;
        }
        int r = 0;
        /* the way back, where there is something to put back */
        if (tuned && (stale || s->attention))
                r = vh_buf_printf(b, "to put every original back now: vmhooks restore%s\n",
                                  s->st.n_regs ? " --force (drops the registrations; the VMs keep running, untuned)"
                                               : "");
        if (r < 0)
                return r;
        return vh_buf_printf(b, "status: %zu VM%s registered (%zu not running), %u knob%s tuned, %u changed by "
                                "someone else, %u thing%s to look at\n",
                             s->st.n_regs, s->st.n_regs == 1 ? "" : "s", stale, tuned, tuned == 1 ? "" : "s", changed,
                             s->attention, s->attention == 1 ? "" : "s");
}

int vh_status_format_text(const vh_status *s, char **ret, vh_error **err)
{
        _cleanup_buf_ vh_buf b = { 0 };
        int r = vh_buf_printf(&b, "vmhooks %s: state %s", VH_VERSION, s->state_path ? s->state_path : "?");
        if (r == 0 && !s->state_exists)
                r = vh_buf_puts(&b, " (none: no VM has been registered since boot)");
        if (r == 0)
                r = vh_buf_puts(&b, "\n");
        if (r == 0 && s->state_error)
                r = vh_buf_printf(&b, "STATE UNREADABLE: %s; shown as empty (the next hook call moves it to "
                                      "state.corrupt)\n", s->state_error);
        for (size_t i = 0; r == 0 && i < s->st.n_regs; i++)
                r = text_vm(&b, &s->st.regs[i], &s->vms[i]);
        if (r == 0 && s->st.n_regs == 0)
                r = vh_buf_puts(&b, "no VM registered\n");
        if (r == 0 && s->st.n_damaged)
                r = vh_buf_printf(&b, "STATE DAMAGED: %zu line%s of it cannot be read%s%s; every intact record is "
                                      "used\n", s->st.n_damaged, s->st.n_damaged == 1 ? "" : "s",
                                  s->st.damaged_copy ? "; copy in " : " (the next hook call copies them aside)",
                                  s->st.damaged_copy ? s->st.damaged_copy : "");
        if (r == 0)
                r = text_isolation(&b, s);
        if (r == 0)
                r = vh_hugepool_status(&s->st, &b);
        unsigned quiet_irqs = 0;
        for (size_t i = 0; r == 0 && i < s->n_knobs; i++) {
                const vh_status_knob *k = &s->knobs[i];
                /* one line for the IRQs nobody tunes (a host has hundreds), not one each */
                if (k->knob.family == VH_FAM_IRQ && !k->saved && !k->demanded && !k->note && !k->current_error) {
                        quiet_irqs++;
                        continue;
                }
                r = text_knob(&b, k, record_of(s, k));
        }
        if (r == 0 && quiet_irqs)
                r = vh_buf_printf(&b, "knob irq:N (/proc/irq/N/smp_affinity_list): %u IRQ%s, not tuned: no VM "
                                      "demands them\n", quiet_irqs, quiet_irqs == 1 ? "" : "s");
        for (size_t i = 0; r == 0 && i < s->install.n; i++) {
                _cleanup_free_ char *line = vh_result_line(&s->install.items[i]);
                r = line ? vh_buf_printf(&b, "%s\n", line) : -ENOMEM;
        }
        if (r == 0)
                r = text_summary(&b, s);
        if (r < 0)
                return vh_fail(err, -r, "status output");
        *ret = TAKE_PTR(b.data);
        return 0;
}

/* ---- JSON ---- */



/* A string member, or null. */
static int add_str(json_object *o, const char *key, const char *v)
{
        if (!v)
                return json_object_object_add(o, key, NULL) < 0 ? -ENOMEM : 0;
        return vh_json_add(o, key, json_object_new_string(v));
}

static int add_bool(json_object *o, const char *key, bool v)
{
        return vh_json_add(o, key, json_object_new_boolean(v));
}

static int push(json_object *arr, json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_array_add(arr, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}

static json_object *json_demands(const vh_demands *d)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        if (!o)
                return NULL;
        _cleanup_free_ char *iso = vh_cpuset_is_empty(&d->isolate) ? NULL : vh_cpuset_format_list(&d->isolate);
        if (!vh_cpuset_is_empty(&d->isolate) && !iso)
                return NULL;
        if (add_str(o, "thp", d->thp != VH_THP_NONE ? vh_thp_mode_name(d->thp) : NULL) < 0 ||
            add_str(o, "thp_defrag", d->defrag != VH_DEFRAG_NONE ? vh_thp_defrag_name(d->defrag) : NULL) < 0 ||
            add_bool(o, "shared_memory", d->shared_memory) < 0 ||
            add_bool(o, "static_hugepages", d->static_hugepages) < 0 ||
            (d->has_halt_poll ? vh_json_add(o, "halt_poll_ns", json_object_new_int64(d->halt_poll_ns))
                              : add_str(o, "halt_poll_ns", NULL)) < 0 ||
            add_str(o, "isolate", iso) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static json_object *json_vm(const vh_reg *g, const vh_status_vm *v)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        if (!o || add_str(o, "name", g->name) < 0 || add_str(o, "uuid", g->uuid) < 0 ||
            vh_json_add(o, "since", json_object_new_int64(g->since)) < 0 ||
            (g->pid > 0 ? vh_json_add(o, "pid", json_object_new_int(g->pid)) : add_str(o, "pid", NULL)) < 0 ||
            add_bool(o, "running", v->running) < 0 || vh_json_add(o, "demands", json_demands(&g->demands)) < 0 ||
            add_str(o, "demands_text", v->demands) < 0 || add_str(o, "last_error", v->last_error) < 0 ||
            add_str(o, "label", g->seclabel) < 0 || add_str(o, "log", v->log) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static json_object *json_knob(const vh_status_knob *k, const vh_knob_state *ks)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        if (!o || add_str(o, "name", k->knob.name) < 0 ||
            add_str(o, "path", k->knob.read_path ? k->knob.read_path : k->knob.path) < 0 ||
            add_str(o, "family", vh_families[k->knob.family].name) < 0 || add_str(o, "note", k->note) < 0 ||
            add_str(o, "last_failure", ks->failure) < 0 || add_bool(o, "lost", ks->lost) < 0 ||
            add_str(o, "current", k->current) < 0 || add_str(o, "current_error", k->current_error) < 0 ||
            add_bool(o, "tuned", k->saved) < 0 || add_str(o, "original", k->saved ? ks->original : NULL) < 0 ||
            add_str(o, "expected", k->saved ? ks->expected : NULL) < 0 ||
            add_str(o, "last_written", ks->last_written) < 0 || add_str(o, "pending", ks->pending) < 0 ||
            add_bool(o, "demanded", k->demanded) < 0 || add_str(o, "desired", k->desired) < 0 ||
            add_str(o, "why", k->why) < 0 || add_str(o, "desired_error", k->desired_error) < 0 ||
            add_bool(o, "drifted", ks->drifted) < 0 || add_bool(o, "changed_by_someone_else", k->changed) < 0 ||
            add_bool(o, "off_target", k->off_target) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static json_object *json_result(const vh_result *x)
{
        _cleanup_(json_object_putp) json_object *o = json_object_new_object();
        if (!o || add_str(o, "check", x->check) < 0 || add_str(o, "level", vh_level_name(x->level)) < 0 ||
            add_str(o, "message", x->message) < 0 || add_str(o, "fix", x->fix) < 0)
                return NULL;
        return TAKE_PTR(o);
}

static int build_json(const vh_status *s, json_object *root)
{
        json_object *state = json_object_new_object();
        if (add_str(root, "version", VH_VERSION) < 0 || vh_json_add(root, "state", state) < 0 ||
            add_str(state, "path", s->state_path) < 0 || add_bool(state, "exists", s->state_exists) < 0 ||
            add_str(state, "error", s->state_error) < 0)
                return -ENOMEM;
        json_object *vms = json_object_new_array();
        if (vh_json_add(root, "vms", vms) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < s->st.n_regs; i++)
                if (push(vms, json_vm(&s->st.regs[i], &s->vms[i])) < 0)
                        return -ENOMEM;
        json_object *knobs = json_object_new_array();
        if (vh_json_add(root, "knobs", knobs) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < s->n_knobs; i++)
                if (push(knobs, json_knob(&s->knobs[i], record_of(s, &s->knobs[i]))) < 0)
                        return -ENOMEM;
        json_object *install = json_object_new_array();
        if (vh_json_add(root, "install", install) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < s->install.n; i++)
                if (push(install, json_result(&s->install.items[i])) < 0)
                        return -ENOMEM;
        return vh_json_add(root, "attention", json_object_new_int((int)s->attention));
}

int vh_status_format_json(const vh_status *s, char **ret, vh_error **err)
{
        _cleanup_(json_object_putp) json_object *root = json_object_new_object();
        if (!root || build_json(s, root) < 0)
                return vh_fail(err, ENOMEM, "JSON output");
        const char *text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
                                                                        JSON_C_TO_STRING_NOSLASHESCAPE);
        char *copy = text ? vh_strf("%s\n", text) : NULL;
        if (!copy)
                return vh_fail(err, ENOMEM, "JSON output");
        *ret = copy;
        return 0;
}
