/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "lifecycle.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "liveness.h"
#include "root.h"
#include "util.h"

void vh_txn_result_done(vh_txn_result *r)
{
        vh_hp_outcome_done(&r->hp);
        vh_report_done(&r->report);
        for (size_t i = 0; i < r->n_dropped; i++) {
                free(r->dropped[i]);
                if (r->dropped_why)
                        free(r->dropped_why[i]);
        }
        free(r->dropped);
        free(r->dropped_why);
        r->dropped = r->dropped_why = NULL;
        for (size_t i = 0; i < r->n_removed_temps; i++)
                free(r->removed_temps[i]);
        free(r->removed_temps);
        r->removed_temps = NULL;
        r->n_removed_temps = 0;
        r->n_dropped = 0;
        for (size_t i = 0; i < r->n_peers; i++) {
                free(r->peer_names[i]);
                free(r->peer_labels[i]);
        }
        free(r->peer_names);
        free(r->peer_labels);
        r->peer_names = r->peer_labels = NULL;
        r->n_peers = 0;
}

/* Note a dropped registration and why (the hook logs one line each). */
static int note_dropped(vh_txn_result *res, const char *name, char *why)
{
        _cleanup_free_ char *w = why;
        if (!res)
                return 0;
        char **d = realloc(res->dropped, (res->n_dropped + 1) * sizeof(*d));
        if (!d)
                return -ENOMEM;
        res->dropped = d;
        char **y = realloc(res->dropped_why, (res->n_dropped + 1) * sizeof(*y));
        if (!y)
                return -ENOMEM;
        res->dropped_why = y;
        _cleanup_free_ char *line = w ? TAKE_PTR(w) : strdup("it no longer runs");
        _cleanup_free_ char *copy = strdup(name);
        if (!line || !copy)
                return -ENOMEM;
        d[res->n_dropped] = TAKE_PTR(copy);
        y[res->n_dropped] = TAKE_PTR(line);
        res->n_dropped++;
        return 0;
}

/*
 * Temp files of writers that died between create and rename
 * (state.tmp.XXXXXX, intent.tmp.XXXXXX): every writer of the table and the
 * intent holds the lock, so under it any such file is a dead writer's.
 */
static void remove_dead_temps(vh_txn_result *res)
{
        _cleanup_free_ char *dir = vh_path(VH_STATE_DIR);
        DIR *d = dir ? opendir(dir) : NULL;
        if (!d)
                return;
        for (struct dirent *de; (de = readdir(d));) {
                if (!startswith(de->d_name, "state.tmp.") && !startswith(de->d_name, "intent.tmp."))
                        continue;
                if (unlinkat(dirfd(d), de->d_name, 0) == 0 && res) {
                        char **t = realloc(res->removed_temps, (res->n_removed_temps + 1) * sizeof(*t));
                        if (!t)
                                continue;
                        res->removed_temps = t;
                        if ((t[res->n_removed_temps] = strdup(de->d_name)))
                                res->n_removed_temps++;
                }
        }
        closedir(d);
}

/*
 * Which registrations are stale, cheaply enough for 1000 VMs on every call:
 * a PID that no longer exists (one pass over /proc) is gone at once, unless
 * it still holds its pidfile's lock (/proc mounted hidepid=2 hides QEMU
 * from the capability-less hook); that a live PID still is the same
 * process (start time) is checked for a slice of VH_SWEEP_SLICE
 * registrations per call, round robin.  A registration without a PID is
 * judged by its pidfile and its daemon (vh_reg_alive).  libvirt itself
 * reports every stop (stopped/release, also at its next start for a VM that
 * died meanwhile); this sweep is the safety net for what it could not.
 */
int vh_state_sweep(vh_state *st, const char *keep_uuid, const char *keep_name, int64_t now, vh_txn_result *res)
{
        _cleanup_(vh_pidset_done) vh_pidset live = { 0 };
        bool have_live = vh_pidset_load(&live, NULL) == 0;
        size_t n = st->n_regs, start = n ? st->sweep_cursor % n : 0;
        for (size_t k = 0, i = 0; k < n; k++) {
                vh_reg *g = &st->regs[i];
                bool running;
                char *why = NULL;
                /* position of this registration in the rotation */
                size_t pos = (k + n - start) % n;
                if (streq(g->uuid, keep_uuid) || streq(g->name, keep_name))
                        running = true; /* the VM of this call: its own mutation decides */
                else if (g->pid > 0 && have_live && !vh_pidset_has(&live, g->pid)) {
                        running = vh_qemu_holds_pidfile(g->name, g->pid);
                        if (!running && asprintf(&why, "its QEMU (PID %d) no longer runs", g->pid) < 0)
                                why = NULL;
                } else if (g->pid > 0 && have_live && pos >= VH_SWEEP_SLICE)
                        running = true;
                else
                        running = vh_reg_alive(g, now, &why);
                if (running) {
                        free(why);
                        i++;
                        continue;
                }
                if (note_dropped(res, g->name, why) < 0)
                        return -ENOMEM;
                vh_state_remove(st, g);
        }
        st->sweep_cursor = (uint32_t)((start + VH_SWEEP_SLICE) % (n ? n : 1));
        return 0;
}

/* A mutation returns > 0 when it changed the registrations, 0 when not. */
typedef int (*mutate_fn)(vh_state *st, void *data, vh_txn_result *res, vh_error **err);

/* The knob records as text, to tell whether reconcile changed any. */
static char *knob_fingerprint(const vh_state *st)
{
        /* without printf: 66 knobs with 64 IRQs, twice a call */
        _cleanup_buf_ vh_buf b = { 0 };
        int r = vh_buf_puts(&b, st->lost_unknown ? "1\n" : "0\n");
        for (size_t i = 0; r == 0 && i < st->n_knobs; i++) {
                const vh_knob_state *k = &st->knobs[i];
                const char *const parts[] = { k->name, k->saved ? " 1 " : " 0 ", k->lost ? "1 " : "0 ",
                                              k->original ? k->original : "-", " ", k->expected ? k->expected : "-",
                                              " ", k->last_written ? k->last_written : "-",
                                              k->drifted ? " 1 " : " 0 ", k->failure ? k->failure : "-", "\n" };
                for (size_t j = 0; r == 0 && j < ELEMENTSOF(parts); j++)
                        r = vh_buf_puts(&b, parts[j]);
        }
        if (r < 0)
                return NULL;
        return TAKE_PTR(b.data);
}

/* Record the write-ahead intent; *(bool *)userdata (when given) says one is on disk now. */
static int persist(const vh_state *st, void *userdata, vh_error **err)
{
        int r = vh_state_save_intent(st, err);
        if (r == 0 && userdata)
                *(bool *)userdata = true;
        return r;
}

static vh_write_logger_fn write_logger;
static void *write_logger_data;

void vh_txn_set_write_logger(vh_write_logger_fn fn, void *userdata)
{
        write_logger = fn;
        write_logger_data = userdata;
}

static bool tuned_something(const vh_report *rep)
{
        for (size_t i = 0; i < rep->n; i++)
                if (rep->changes[i].kind == VH_CHANGE_SET)
                        return true;
        return false;
}

/*
 * The table could not be saved after knobs were tuned: what the table on
 * disk (with the intent) records no longer justifies them.  Bring the host
 * back to what it records, in this call and logged with it, rather than
 * leave it to a later call that nobody may make.
 */
static void rollback(vh_txn_result *res)
{
        if (!tuned_something(&res->report))
                return;
        _cleanup_state_ vh_state st = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_state_load(&st, &e);
        if (r < 0 && r != -EINVAL)
                return;
        vh_error_free(TAKE_PTR(e));
        if (vh_reconcile(&st, persist, NULL, &res->report, &e) < 0)
                return;
        vh_error_free(TAKE_PTR(e));
        (void)vh_state_save(&st, &e); /* best effort: the intent already holds what was written */
}

/*
 * lock; load; sweep; mutate; reconcile; save; unlock.  A call that changes
 * nothing (release after stopped, a second unregister) neither reconciles
 * nor rewrites the table.
 */
/* What a transaction may do to the knobs. */
typedef enum txn_kind {
        TXN_RECONCILE,  /* its change reconciles (register, unregister) */
        TXN_SETTLE,     /* reconciles only what sweeping or an earlier call left (started) */
        TXN_RECORD,     /* never touches the host: no sweep, no reconcile (note an error) */
        TXN_RESTORE,    /* no sweep; always reconciles (vmhooks restore) */
} txn_kind;

static int transaction(const char *uuid, const char *name, txn_kind kind, mutate_fn fn, void *data,
                       vh_txn_result *res,
                       vh_error **err)
{
        _cleanup_close_ int lock = -1;
        int r = vh_state_lock(VH_LOCK_TIMEOUT_MS, &lock, err);
        if (r < 0)
                return r;
        _cleanup_state_ vh_state st = { 0 };
        _cleanup_error_ vh_error *load_err = NULL;
        r = vh_state_load(&st, &load_err);
        if (r < 0 && r != -EINVAL) {
                *err = TAKE_PTR(load_err);
                return r;
        }
        /* A corrupt table was moved aside: go on with an empty one, but say so. */
        remove_dead_temps(res);
        int64_t now = (int64_t)time(NULL);
        if (kind != TXN_RECORD && kind != TXN_RESTORE && vh_state_sweep(&st, uuid, name, now, res) < 0)
                return vh_fail(err, ENOMEM, "state");
        r = fn(&st, data, res, err);
        if (r < 0)
                return r;
        bool changed = r > 0 || res->n_dropped > 0 || res->n_removed_temps > 0 || load_err;
        if (kind == TXN_RESTORE ||
            (kind != TXN_RECORD &&
             ((kind == TXN_RECONCILE && r > 0) || res->registered_late || res->n_dropped ||
              vh_reconcile_unsettled(&st)))) {
                _cleanup_free_ char *before = knob_fingerprint(&st);
                bool intent = false;
                r = vh_reconcile(&st, persist, &intent, &res->report, err);
                if (r < 0)
                        return r;
                _cleanup_free_ char *after = knob_fingerprint(&st);
                /*
                 * An intent on disk is always superseded, also when the
                 * records read as before (a retried write that failed the
                 * same way): left there, the next call would take it for
                 * the write of a call killed before its save.
                 */
                changed = changed || intent || !before || !after || strcmp(before, after) != 0;
                if (write_logger)
                        write_logger(res, write_logger_data);
        }
        res->retry_due = res->report.failed;
        for (size_t i = 0; i < st.n_knobs && !res->retry_due; i++)
                res->retry_due = st.knobs[i].failure != NULL;
        if (changed) {
                r = vh_state_save(&st, err);
                if (r < 0) {
                        rollback(res);
                        return r;
                }
        }
        if (load_err) {
                *err = TAKE_PTR(load_err);
                return -EINVAL;
        }
        return 0;
}

typedef struct reg_args {
        const char *uuid, *name;
        const vh_demands *demands;      /* NULL: keep an existing registration only */
        bool learn_pid;
        bool keep;                      /* reconnect: an existing registration keeps its demands */
        const vh_hp_request *hp;        /* prepare with <hugepage-pool allocate="yes">: size the pools */
} reg_args;

/* A new registration of `a` in place of *g (a new slot when g is NULL). */
static int register_fresh(vh_state *st, vh_reg *g, const char *uuid, const char *name, const vh_demands *d,
                          bool keep_label, vh_error **err)
{
        if (!g && !(g = vh_state_add(st)))
                return vh_fail(err, ENOMEM, "register %s", name);
        vh_reg fresh = { 0 };
        fresh.uuid = strdup(uuid);
        fresh.name = strdup(name);
        fresh.since = (int64_t)time(NULL);
        if (!fresh.uuid || !fresh.name || vh_demands_copy(&fresh.demands, d) < 0) {
                vh_reg_done(&fresh);
                vh_state_remove(st, g);
                return vh_fail(err, ENOMEM, "register %s", name);
        }
        /* At reconnect the VM runs: the sVirt label learnt at started stays its own (duplicate MCS check) */
        if (keep_label)
                fresh.seclabel = TAKE_PTR(g->seclabel);
        vh_reg_done(g);
        *g = fresh;
        /* who starts it: a start whose daemon dies before QEMU runs is abandoned (liveness.h) */
        vh_reg_learn_daemon(g);
        return 1;
}

static int do_register(vh_state *st, void *data, vh_txn_result *res, vh_error **err)
{
        reg_args *a = data;
        vh_reg *g = vh_state_find(st, a->uuid);
        res->was_registered = g != NULL;
        if (g && a->keep) {
                /* reconnect: the VM runs with what it registered at its start; only its daemon (and a PID
                 * not learnt yet) are news.  Policy and metadata are not read again. */
                if (a->learn_pid)
                        (void)vh_reg_learn_pid(g, NULL);
                vh_reg_learn_daemon(g);
                return 1;
        }
        if (!a->demands)
                return 0;
        /* pages added for an earlier registration of this VM stay its own (a start that never released) */
        _cleanup_free_ vh_hp_entry *old_hp = NULL;
        size_t n_old_hp = 0;
        if (g && g->demands.n_hp) {
                n_old_hp = g->demands.n_hp;
                old_hp = TAKE_PTR(g->demands.hp);
                g->demands.n_hp = 0;
        }
        int r = register_fresh(st, g, a->uuid, a->name, a->demands, a->learn_pid, err);
        if (r >= 0 && (a->hp || n_old_hp)) {
                g = vh_state_find(st, a->uuid);
                if (g)
                        r = vh_hugepool_allocate(st, g, old_hp, n_old_hp, a->hp, &res->report, &res->hp, err);
                if (r >= 0)
                        r = 1;
        }
        if (r < 0)
                return r;
        /* At reconnect the VM runs: learn its PID.  Without one, the start rules apply (liveness.h). */
        g = vh_state_find(st, a->uuid);
        if (a->learn_pid && g)
                (void)vh_reg_learn_pid(g, NULL);
        return 1;
}

int vh_txn_register_hp(const char *uuid, const char *name, const vh_demands *d, const vh_hp_request *hp,
                       vh_txn_result *res, vh_error **err)
{
        reg_args a = { uuid, name, d, false, false, hp };
        return transaction(uuid, name, TXN_RECONCILE, do_register, &a, res, err);
}

int vh_txn_register(const char *uuid, const char *name, const vh_demands *d, bool learn_pid,
                    vh_txn_result *res, vh_error **err)
{
        reg_args a = { uuid, name, d, learn_pid, false, NULL };
        return transaction(uuid, name, TXN_RECONCILE, do_register, &a, res, err);
}

int vh_txn_reconnect(const char *uuid, const char *name, const vh_demands *d, vh_txn_result *res, vh_error **err)
{
        reg_args a = { uuid, name, d, true, true, NULL };
        return transaction(uuid, name, TXN_RECONCILE, do_register, &a, res, err);
}

typedef struct unreg_args {
        const char *uuid, *name;
} unreg_args;

static int do_unregister(vh_state *st, void *data, vh_txn_result *res, vh_error **err)
{
        (void)err;
        unreg_args *a = data;
        if (a->uuid) {
                vh_reg *g = vh_state_find(st, a->uuid);
                res->was_registered = g != NULL;
                if (!g)
                        return 0;
                vh_state_remove(st, g);
                return 1;
        }
        /* by name: every registration of that name (a stale one belongs to a VM that no longer runs) */
        int changed = 0;
        for (size_t i = 0; i < st->n_regs;) {
                if (!streq(st->regs[i].name, a->name)) {
                        i++;
                        continue;
                }
                vh_state_remove(st, &st->regs[i]);
                res->was_registered = true;
                changed = 1;
        }
        return changed;
}

int vh_txn_unregister(const char *uuid, const char *name, vh_txn_result *res, vh_error **err)
{
        unreg_args a = { uuid, name };
        return transaction(uuid, name, TXN_RECONCILE, do_unregister, &a, res, err);
}

typedef struct started_args {
        const char *uuid, *name, *label;
        const vh_demands *demands;      /* register with these when prepare could not */
} started_args;

static int do_started(vh_state *st, void *data, vh_txn_result *res, vh_error **err)
{
        started_args *a = data;
        vh_reg *g = vh_state_find(st, a->uuid);
        res->was_registered = g != NULL;
        int changed = 0;
        if (!g && a->demands) {
                /* prepare (and start) could not register it: it ran untuned until now */
                int r = register_fresh(st, NULL, a->uuid, a->name, a->demands, false, err);
                if (r < 0)
                        return r;
                g = vh_state_find(st, a->uuid);
                res->registered_late = g != NULL;
        }
        if (g) {
                int r = vh_reg_learn_pid(g, err);
                if (r < 0)
                        return r;
                changed = 1;
                if (a->label) {
                        char *l = strdup(a->label);
                        if (!l)
                                return vh_fail(err, ENOMEM, "started");
                        free(g->seclabel);
                        g->seclabel = l;
                }
        }
        if (!a->label)
                return changed;
        for (size_t i = 0; i < st->n_regs; i++) {
                const vh_reg *o = &st->regs[i];
                if (o == g || !o->seclabel)
                        continue;
                char **n = realloc(res->peer_names, (res->n_peers + 1) * sizeof(*n));
                if (n)
                        res->peer_names = n;
                char **l = realloc(res->peer_labels, (res->n_peers + 1) * sizeof(*l));
                if (l)
                        res->peer_labels = l;
                if (!n || !l)
                        return vh_fail(err, ENOMEM, "started");
                res->peer_names[res->n_peers] = strdup(o->name);
                res->peer_labels[res->n_peers] = strdup(o->seclabel);
                res->n_peers++;
                if (!res->peer_names[res->n_peers - 1] || !res->peer_labels[res->n_peers - 1])
                        return vh_fail(err, ENOMEM, "started");
        }
        return changed;
}

int vh_txn_started(const char *uuid, const char *name, const char *label, const vh_demands *d, vh_txn_result *res,
                   vh_error **err)
{
        started_args a = { uuid, name, label, d };
        /* settles only (the PID changes no knob), unless it registers late */
        return transaction(uuid, name, TXN_SETTLE, do_started, &a, res, err);
}

static int do_restore(vh_state *st, void *data, vh_txn_result *res, vh_error **err)
{
        bool force = *(bool *)data;
        if (st->n_regs && !force) {
                _cleanup_buf_ vh_buf names = { 0 };
                int r = vh_buf_puts(&names, "");
                for (size_t i = 0; r == 0 && i < st->n_regs && i < 8; i++) {
                        r = vh_buf_puts(&names, i ? ", " : "");
                        if (r == 0)
                                r = vh_buf_escape(&names, st->regs[i].name, true);
                }
                if (r < 0)
                        return vh_fail(err, ENOMEM, "restore");
                return vh_fail(err, EBUSY, "%zu VM%s registered (%s%s): they still demand their knobs; stop them "
                               "first, or use --force to drop their registrations (they keep running, untuned)",
                               st->n_regs, st->n_regs == 1 ? " is" : "s are", names.data,
                               st->n_regs > 8 ? ", ..." : "");
        }
        while (st->n_regs) {
                vh_reg *g = &st->regs[st->n_regs - 1];
                char **d = realloc(res->dropped, (res->n_dropped + 1) * sizeof(*d));
                if (!d)
                        return vh_fail(err, ENOMEM, "restore");
                res->dropped = d;
                if (!(d[res->n_dropped] = strdup(g->name)))
                        return vh_fail(err, ENOMEM, "restore");
                res->n_dropped++;
                vh_state_remove(st, g);
        }
        return 1;
}

int vh_txn_restore(bool force, vh_txn_result *res, vh_error **err)
{
        return transaction(NULL, NULL, TXN_RESTORE, do_restore, &force, res, err);
}

/* Reconciles always: a knob whose first read failed has no record that says it is unsettled. */
static int do_settle(vh_state *st, void *data, vh_txn_result *res, vh_error **err)
{
        (void)st, (void)data, (void)res, (void)err;
        return 1;
}

int vh_txn_settle(vh_txn_result *res, vh_error **err)
{
        return transaction(NULL, NULL, TXN_RECONCILE, do_settle, NULL, res, err);
}

typedef struct note_args {
        const char *uuid, *msg;
} note_args;

static int do_note(vh_state *st, void *data, vh_txn_result *res, vh_error **err)
{
        note_args *a = data;
        vh_reg *g = vh_state_find(st, a->uuid);
        res->was_registered = g != NULL;
        if (!g)
                return 0;
        char *m = strdup(a->msg);
        if (!m)
                return vh_fail(err, ENOMEM, "note error");
        free(g->last_error);
        g->last_error = m;
        return 1;
}

int vh_txn_note_error(const char *uuid, const char *msg, vh_error **err)
{
        _cleanup_txn_ vh_txn_result res = { 0 };
        note_args a = { uuid, msg };
        return transaction(uuid, NULL, TXN_RECORD, do_note, &a, &res, err);
}
