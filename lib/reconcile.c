/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "reconcile.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "root.h"
#include "util.h"

#define WHY_MAX_VMS 8 /* list at most this many VMs in a reason */

void vh_report_done(vh_report *r)
{
        for (size_t i = 0; i < r->n; i++) {
                free(r->changes[i].from);
                free(r->changes[i].to);
                free(r->changes[i].why);
        }
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
        memset(d, 0, sizeof(*d));
}

static vh_thp_mode thp_demand(const vh_demands *d)
{
        if (d->thp == VH_THP_AUTO)
                return d->static_hugepages ? VH_THP_NEVER : VH_THP_NONE;
        return d->thp;
}

static bool demands_knob(const vh_demands *d, vh_knob_id id)
{
        switch (id) {
        case VH_KNOB_THP: return thp_demand(d) != VH_THP_NONE;
        case VH_KNOB_HALT_POLL: return d->has_halt_poll;
        case VH_KNOB_WQ_MASK:
        case VH_KNOB_WB_MASK: return !vh_cpuset_is_empty(&d->isolate);
        case VH_KNOB_COUNT: break;
        }
        return false;
}

bool vh_reconcile_demanded(const vh_state *st, vh_knob_id id)
{
        for (size_t i = 0; i < st->n_regs; i++)
                if (demands_knob(&st->regs[i].demands, id))
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

static int desired_thp(const vh_state *st, vh_desired *out, vh_buf *why)
{
        vh_thp_mode best = VH_THP_NONE;
        unsigned count = 0;
        int r = 0;
        for (size_t i = 0; i < st->n_regs && r == 0; i++) {
                const vh_demands *d = &st->regs[i].demands;
                vh_thp_mode m = thp_demand(d);
                if (m == VH_THP_NONE)
                        continue;
                if (m > best)
                        best = m;
                r = add_why(why, &count, st->regs[i].name,
                            d->thp == VH_THP_AUTO ? "thp auto, static hugepages" :
                            d->thp == VH_THP_NEVER ? "thp never" :
                            d->thp == VH_THP_ALWAYS ? "thp always" : "thp madvise");
        }
        if (r == 0)
                r = finish_why(why, count);
        if (r < 0)
                return r;
        out->demanded = best != VH_THP_NONE;
        if (out->demanded && !(out->value = strdup(vh_thp_mode_name(best))))
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

static int desired_mask(const vh_state *st, const char *original, const vh_cpuset *online, vh_desired *out,
                        vh_buf *why, vh_error **err)
{
        _cleanup_cpuset_ vh_cpuset isolated = { 0 };
        unsigned count = 0;
        int r = 0;
        for (size_t i = 0; i < st->n_regs && r == 0; i++) {
                const vh_demands *d = &st->regs[i].demands;
                if (vh_cpuset_is_empty(&d->isolate))
                        continue;
                out->demanded = true;
                r = vh_cpuset_union(&isolated, &d->isolate);
                _cleanup_free_ char *what = NULL;
                _cleanup_free_ char *l = r == 0 ? vh_cpuset_format_list(&d->isolate) : NULL;
                if (r == 0 && (!l || asprintf(&what, "isolate CPUs %s", l) < 0))
                        r = -ENOMEM;
                if (r == 0)
                        r = add_why(why, &count, st->regs[i].name, what);
        }
        if (r == 0)
                r = finish_why(why, count);
        if (r < 0)
                return r;
        if (!out->demanded)
                return 0;

        _cleanup_cpuset_ vh_cpuset mask = { 0 };
        r = vh_cpuset_parse_mask(original, &mask, err);
        if (r < 0)
                return r;
        vh_cpuset_subtract(&mask, &isolated);
        _cleanup_cpuset_ vh_cpuset usable = { 0 };
        if (vh_cpuset_copy(&usable, &mask) < 0)
                return -ENOMEM;
        if (online)
                vh_cpuset_intersect(&usable, online);
        if (vh_cpuset_is_empty(&usable)) {
                _cleanup_free_ char *l = vh_cpuset_format_list(&isolated);
                if (asprintf(&out->error,
                             "keeping %s: removing CPUs %s would leave no online CPU for unbound kworkers",
                             original, l ? l : "?") < 0) {
                        out->error = NULL;
                        return -ENOMEM;
                }
                out->value = strdup(original);
                return out->value ? 0 : -ENOMEM;
        }
        out->value = vh_cpuset_format_mask(&mask, vh_cpuset_mask_digits(original));
        return out->value ? 0 : -ENOMEM;
}

int vh_reconcile_desired(const vh_state *st, vh_knob_id id, const char *original, const vh_cpuset *online,
                         vh_desired *ret, vh_error **err)
{
        vh_desired d = { 0 };
        _cleanup_buf_ vh_buf why = { 0 };
        int r = vh_buf_puts(&why, "");
        if (r == 0) {
                switch (vh_knobs[id].kind) {
                case VH_KIND_THP: r = desired_thp(st, &d, &why); break;
                case VH_KIND_UINT: r = desired_halt_poll(st, &d, &why); break;
                case VH_KIND_MASK: r = desired_mask(st, original, online, &d, &why, err); break;
                }
        }
        if (r < 0) {
                vh_desired_done(&d);
                if (err && *err)
                        return r;
                return vh_fail(err, -r, "%s", vh_knobs[id].name);
        }
        d.why = TAKE_PTR(why.data);
        *ret = d;
        return 0;
}

/* ---- apply ---- */

static int report_add(vh_report *rep, vh_knob_id id, vh_change_kind kind, const char *from, const char *to,
                      const char *why)
{
        vh_change *c = realloc(rep->changes, (rep->n + 1) * sizeof(*c));
        if (!c)
                return -ENOMEM;
        rep->changes = c;
        c = &c[rep->n++];
        c->knob = id;
        c->kind = kind;
        c->from = vh_strdup0(from);
        c->to = vh_strdup0(to);
        c->why = vh_strdup0(why);
        if (kind == VH_CHANGE_FAILED)
                rep->failed = true;
        return 0;
}

static int set_str(char **dst, const char *v)
{
        char *n = strdup(v);
        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

static int read_online(vh_cpuset *online, vh_error **err)
{
        _cleanup_free_ char *path = vh_path(VH_CPU_ONLINE_PATH);
        if (!path)
                return vh_fail(err, ENOMEM, "online CPUs");
        _cleanup_free_ char *text = NULL;
        int r = vh_read_line(path, &text, err);
        if (r < 0)
                return r;
        r = vh_cpuset_parse_list(text, online, err);
        if (r < 0)
                return vh_error_wrap(err, "%s", path);
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

/*
 * Read the knob, settle what a crashed call left (pending), detect drift,
 * save the original on first demand, and decide the step.  Writes nothing.
 */
static int plan_knob(vh_state *st, vh_knob_id id, const vh_cpuset *online, vh_report *rep, step *s)
{
        vh_knob_state *k = &st->knobs[id];
        bool demanded = vh_reconcile_demanded(st, id);
        if (!demanded && !k->saved)
                return 0;

        _cleanup_free_ char *current = NULL;
        _cleanup_error_ vh_error *e = NULL;
        if (vh_knob_read(id, &current, &e) < 0)
                return report_add(rep, id, VH_CHANGE_FAILED, NULL, NULL, vh_error_msg(e));

        /* A call died between its write and its final save: the write is ours. */
        if (k->saved && k->pending && vh_knob_equal(id, current, k->pending)) {
                if (set_str(&k->expected, k->pending) < 0 || set_str(&k->last_written, k->pending) < 0)
                        return -ENOMEM;
        }
        free(k->pending);
        k->pending = NULL;

        if (k->saved && !k->drifted && !vh_knob_equal(id, current, k->expected)) {
                k->drifted = true;
                _cleanup_free_ char *why = NULL;
                if (asprintf(&why, "changed by someone else (expected %s); leaving it alone, original %s is not restored",
                             k->expected, k->original) < 0)
                        return -ENOMEM;
                int r = report_add(rep, id, VH_CHANGE_DRIFT, k->expected, current, why);
                if (r < 0)
                        return r;
        }

        if (!demanded) {
                s->kind = STEP_FORGET;
                if (!k->drifted && !vh_knob_equal(id, current, k->original)) {
                        s->kind = STEP_RESTORE;
                        s->current = TAKE_PTR(current);
                        if (!(s->value = strdup(k->original)))
                                return -ENOMEM;
                }
                return 0;
        }

        if (!k->saved) {
                if (set_str(&k->original, current) < 0 || set_str(&k->expected, current) < 0)
                        return -ENOMEM;
                k->saved = true;
        }
        if (k->drifted)
                return 0;

        vh_desired d = { 0 };
        if (vh_reconcile_desired(st, id, k->original, online, &d, &e) < 0)
                return report_add(rep, id, VH_CHANGE_FAILED, current, NULL, vh_error_msg(e));
        int r = 0;
        if (d.error)
                r = report_add(rep, id, VH_CHANGE_FAILED, current, d.value, d.error);
        if (r == 0 && !vh_knob_equal(id, current, d.value)) {
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

static int apply_step(vh_state *st, vh_knob_id id, step *s, vh_report *rep)
{
        vh_knob_state *k = &st->knobs[id];
        free(k->pending);
        k->pending = NULL;
        _cleanup_error_ vh_error *e = NULL;
        switch (s->kind) {
        case STEP_NONE:
                return 0;
        case STEP_FORGET:
                vh_knob_state_forget(k);
                return 0;
        case STEP_RESTORE:
                if (vh_knob_write(id, s->value, &e) < 0)
                        return report_add(rep, id, VH_CHANGE_FAILED, s->current, s->value, vh_error_msg(e));
                vh_knob_state_forget(k);
                return report_add(rep, id, VH_CHANGE_RESTORE, s->current, s->value,
                                  "restored the original: no running VM demands it");
        case STEP_SET:
                if (vh_knob_write(id, s->value, &e) < 0)
                        return report_add(rep, id, VH_CHANGE_FAILED, s->current, s->value, vh_error_msg(e));
                if (set_str(&k->expected, s->value) < 0 || set_str(&k->last_written, s->value) < 0)
                        return -ENOMEM;
                return report_add(rep, id, VH_CHANGE_SET, s->current, s->value, s->why);
        }
        return 0;
}

int vh_reconcile(vh_state *st, vh_persist_fn persist, void *userdata, vh_report *rep, vh_error **err)
{
        _cleanup_cpuset_ vh_cpuset online = { 0 };
        bool have_online = false;
        step steps[VH_KNOB_COUNT] = { 0 };
        int r = 0;
        bool writes = false;
        for (int id = 0; id < VH_KNOB_COUNT && r >= 0; id++) {
                if (vh_knobs[id].kind == VH_KIND_MASK && !have_online && vh_reconcile_demanded(st, (vh_knob_id)id)) {
                        _cleanup_error_ vh_error *e = NULL;
                        if (read_online(&online, &e) < 0) {
                                /* Without it, a mask is checked only for emptiness. */
                                r = report_add(rep, (vh_knob_id)id, VH_CHANGE_FAILED, NULL, NULL, vh_error_msg(e));
                                if (r < 0)
                                        break;
                        } else {
                                have_online = true;
                        }
                }
                r = plan_knob(st, (vh_knob_id)id, have_online ? &online : NULL, rep, &steps[id]);
                writes = writes || steps[id].kind == STEP_SET || steps[id].kind == STEP_RESTORE;
        }
        /*
         * Write-ahead: the values about to be written are recorded first, so
         * that a call killed between a write and the final save leaves no
         * knob that looks changed by someone else.  When the state cannot be
         * recorded, nothing is written: a knob we could not restore later
         * would stay changed for good.
         */
        if (r >= 0 && writes && persist) {
                for (int id = 0; id < VH_KNOB_COUNT && r >= 0; id++)
                        if (steps[id].kind == STEP_SET || steps[id].kind == STEP_RESTORE)
                                r = set_str(&st->knobs[id].pending, steps[id].value);
                _cleanup_error_ vh_error *e = NULL;
                if (r >= 0 && persist(st, userdata, &e) < 0) {
                        for (int id = 0; id < VH_KNOB_COUNT && r >= 0; id++) {
                                vh_knob_state *k = &st->knobs[id];
                                free(k->pending);
                                k->pending = NULL;
                                if (steps[id].kind != STEP_SET && steps[id].kind != STEP_RESTORE)
                                        continue;
                                _cleanup_free_ char *why = NULL;
                                if (asprintf(&why, "not changed: %s", vh_error_msg(e)) < 0)
                                        r = -ENOMEM;
                                else
                                        r = report_add(rep, (vh_knob_id)id, VH_CHANGE_FAILED, steps[id].current,
                                                       steps[id].value, why);
                                steps[id].kind = STEP_NONE;
                        }
                }
        }
        for (int id = 0; id < VH_KNOB_COUNT && r >= 0; id++)
                r = apply_step(st, (vh_knob_id)id, &steps[id], rep);
        for (int id = 0; id < VH_KNOB_COUNT; id++)
                step_done(&steps[id]);
        if (r < 0)
                return vh_fail(err, -r, "reconcile");
        return 0;
}
