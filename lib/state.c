/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "root.h"
#include "util.h"

#define STATE_MAGIC "vmhooks-state 1"
#define STATE_MAX_BYTES (256u << 20)

void vh_demands_done(vh_demands *d)
{
        vh_cpuset_done(&d->isolate);
}

void vh_reg_done(vh_reg *r)
{
        free(r->uuid);
        free(r->name);
        free(r->last_error);
        free(r->seclabel);
        vh_demands_done(&r->demands);
        memset(r, 0, sizeof(*r));
}

void vh_knob_state_forget(vh_knob_state *k)
{
        free(k->original);
        free(k->expected);
        free(k->last_written);
        free(k->pending);
        memset(k, 0, sizeof(*k));
}

void vh_state_done(vh_state *st)
{
        for (int i = 0; i < VH_KNOB_COUNT; i++)
                vh_knob_state_forget(&st->knobs[i]);
        for (size_t i = 0; i < st->n_regs; i++)
                vh_reg_done(&st->regs[i]);
        free(st->regs);
        st->regs = NULL;
        st->n_regs = st->regs_cap = 0;
        st->sweep_cursor = 0;
}

vh_reg *vh_state_find(vh_state *st, const char *uuid)
{
        for (size_t i = 0; i < st->n_regs; i++)
                if (streq(st->regs[i].uuid, uuid))
                        return &st->regs[i];
        return NULL;
}

vh_reg *vh_state_add(vh_state *st)
{
        if (st->n_regs >= VH_STATE_MAX_VMS)
                return NULL;
        if (st->n_regs == st->regs_cap) {
                size_t cap = st->regs_cap ? st->regs_cap * 2 : 16;
                vh_reg *r = realloc(st->regs, cap * sizeof(*r));
                if (!r)
                        return NULL;
                st->regs = r;
                st->regs_cap = cap;
        }
        vh_reg *g = &st->regs[st->n_regs++];
        memset(g, 0, sizeof(*g));
        return g;
}

void vh_state_remove(vh_state *st, vh_reg *r)
{
        size_t i = (size_t)(r - st->regs);
        vh_reg_done(r);
        memmove(&st->regs[i], &st->regs[i + 1], (st->n_regs - i - 1) * sizeof(*r));
        st->n_regs--;
}

/* ---- lock ---- */

int vh_state_lock(int timeout_ms, int *ret_fd, vh_error **err)
{
        _cleanup_free_ char *dir = vh_path(VH_STATE_DIR);
        _cleanup_free_ char *path = vh_path(VH_LOCK_FILE);
        if (!dir || !path)
                return vh_fail(err, ENOMEM, "lock");
        int r = vh_mkdir_p(dir, 0700, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return vh_fail(err, errno, "cannot open %s", path);
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        for (long sleep_us = 100;; sleep_us = sleep_us < 20000 ? sleep_us * 2 : 20000) {
                if (flock(fd, LOCK_EX | LOCK_NB) == 0)
                        break;
                if (errno != EWOULDBLOCK && errno != EINTR)
                        return vh_fail(err, errno, "cannot lock %s", path);
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long waited = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_nsec - start.tv_nsec) / 1000000;
                if (waited >= timeout_ms)
                        return vh_fail(err, ETIMEDOUT, "%s is held by another process for %d ms", path,
                                       timeout_ms);
                struct timespec ts = { 0, sleep_us * 1000 };
                nanosleep(&ts, NULL);
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* ---- format ---- */

/* `key` is spelled " name=" so that each field is one append. */
static int put_field(vh_buf *b, const char *key, const char *value)
{
        if (!value)
                return 0;
        int r = vh_buf_puts(b, key);
        return r < 0 ? r : vh_buf_escape(b, value, false);
}

static int put_num(vh_buf *b, const char *key, uint64_t v)
{
        int r = vh_buf_puts(b, key);
        return r < 0 ? r : vh_buf_put_u64(b, v);
}

/* Hand-rolled rather than printf: with 1000 VMs, printf alone cost 9M instructions a call. */
static int format_reg(vh_buf *b, const vh_reg *g)
{
        const vh_demands *d = &g->demands;
        int r = vh_buf_puts(b, "vm");
        if (r == 0)
                r = put_field(b, " uuid=", g->uuid);
        if (r == 0)
                r = put_field(b, " name=", g->name);
        if (r == 0)
                r = put_num(b, " since=", (uint64_t)(g->since > 0 ? g->since : 0));
        if (r == 0 && g->pid > 0)
                r = put_num(b, " pid=", (uint64_t)g->pid);
        if (r == 0 && g->pid > 0)
                r = put_num(b, " pidstart=", g->pidstart);
        if (r == 0 && d->thp != VH_THP_NONE)
                r = put_field(b, " thp=", vh_thp_mode_name(d->thp));
        if (r == 0 && d->static_hugepages)
                r = vh_buf_puts(b, " hugepages=1");
        if (r == 0 && d->has_halt_poll)
                r = put_num(b, " halt_poll_ns=", d->halt_poll_ns);
        if (r == 0 && !vh_cpuset_is_empty(&d->isolate)) {
                _cleanup_free_ char *l = vh_cpuset_format_list(&d->isolate);
                r = l ? put_field(b, " isolate=", l) : -ENOMEM;
        }
        if (r == 0)
                r = put_field(b, " label=", g->seclabel);
        if (r == 0)
                r = put_field(b, " error=", g->last_error);
        if (r == 0)
                r = vh_buf_puts(b, "\n");
        return r;
}

/* The knob records, one line each. */
static int format_knobs(vh_buf *b, const vh_state *st)
{
        int r = 0;
        for (int i = 0; r == 0 && i < VH_KNOB_COUNT; i++) {
                const vh_knob_state *k = &st->knobs[i];
                if (!k->saved)
                        continue;
                r = vh_buf_puts(b, "knob ");
                if (r == 0)
                        r = vh_buf_puts(b, vh_knobs[i].name);
                if (r == 0)
                        r = put_field(b, " original=", k->original);
                if (r == 0)
                        r = put_field(b, " expected=", k->expected);
                if (r == 0)
                        r = put_field(b, " written=", k->last_written);
                if (r == 0)
                        r = put_field(b, " pending=", k->pending);
                if (r == 0 && k->drifted)
                        r = vh_buf_puts(b, " drifted=1");
                if (r == 0)
                        r = vh_buf_puts(b, "\n");
        }
        return r;
}

int vh_state_format(const vh_state *st, char **ret, vh_error **err)
{
        _cleanup_buf_ vh_buf b = { 0 };
        int r = vh_buf_reserve(&b, 512 + st->n_regs * 192);
        if (r == 0)
                r = vh_buf_puts(&b, STATE_MAGIC "\n");
        if (r == 0 && st->sweep_cursor) {
                r = vh_buf_puts(&b, "sweep cursor=");
                if (r == 0)
                        r = vh_buf_put_u64(&b, st->sweep_cursor);
                if (r == 0)
                        r = vh_buf_puts(&b, "\n");
        }
        if (r == 0)
                r = format_knobs(&b, st);
        for (size_t i = 0; r == 0 && i < st->n_regs; i++)
                r = format_reg(&b, &st->regs[i]);
        if (r < 0)
                return vh_fail(err, -r, "format state");
        *ret = TAKE_PTR(b.data);
        return 0;
}

/* ---- parse ---- */

typedef struct field {
        char *key, *value;
} field;

/* Split "a=b c=d" in place into fields (values unescaped). */
static int split_fields(char *s, field *f, size_t max, size_t *ret_n)
{
        size_t n = 0;
        for (char *tok = s, *next; tok && *tok; tok = next) {
                next = strchr(tok, ' ');
                if (next)
                        *next++ = '\0';
                if (!*tok)
                        continue;
                char *eq = strchr(tok, '=');
                if (!eq || n == max)
                        return -EINVAL;
                *eq = '\0';
                if (vh_unescape(eq + 1) < 0)
                        return -EINVAL;
                f[n].key = tok;
                f[n].value = eq + 1;
                n++;
        }
        *ret_n = n;
        return 0;
}

static int parse_knob(char *rest, vh_state *st)
{
        char *sp = strchr(rest, ' ');
        if (sp)
                *sp++ = '\0';
        int id = vh_knob_by_name(rest);
        if (id < 0)
                return -EINVAL;
        vh_knob_state *k = &st->knobs[id];
        if (k->saved)
                return -EINVAL;
        field f[8];
        size_t n = 0;
        if (sp && split_fields(sp, f, 8, &n) < 0)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                char **dst = NULL;
                if (streq(f[i].key, "original"))
                        dst = &k->original;
                else if (streq(f[i].key, "expected"))
                        dst = &k->expected;
                else if (streq(f[i].key, "written"))
                        dst = &k->last_written;
                else if (streq(f[i].key, "pending"))
                        dst = &k->pending;
                else if (streq(f[i].key, "drifted"))
                        k->drifted = streq(f[i].value, "1");
                if (dst) {
                        free(*dst);
                        if (!(*dst = strdup(f[i].value)))
                                return -ENOMEM;
                }
        }
        if (!k->original || !k->expected)
                return -EINVAL;
        k->saved = true;
        return 0;
}

static int parse_thp_word(const char *s, vh_thp_mode *ret)
{
        static const vh_thp_mode modes[] = { VH_THP_AUTO, VH_THP_MADVISE, VH_THP_ALWAYS, VH_THP_NEVER };
        for (size_t i = 0; i < ELEMENTSOF(modes); i++)
                if (streq(s, vh_thp_mode_name(modes[i]))) {
                        *ret = modes[i];
                        return 0;
                }
        return -EINVAL;
}

/* A field given twice: the last one wins (and the first is not leaked). */
static int set_field(char **dst, const char *v)
{
        char *n = strdup(v);
        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

static int parse_vm(char *rest, vh_state *st)
{
        field f[16];
        size_t n = 0;
        if (split_fields(rest, f, 16, &n) < 0)
                return -EINVAL;
        vh_reg *g = vh_state_add(st);
        if (!g)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                const char *k = f[i].key, *v = f[i].value;
                uint64_t x;
                int r = 0;
                if (streq(k, "uuid")) {
                        r = set_field(&g->uuid, v);
                } else if (streq(k, "name")) {
                        r = set_field(&g->name, v);
                } else if (streq(k, "since")) {
                        r = vh_parse_u64(v, INT64_MAX, &x);
                        g->since = (int64_t)x;
                } else if (streq(k, "pid")) {
                        r = vh_parse_u64(v, INT32_MAX, &x);
                        g->pid = (int)x;
                } else if (streq(k, "pidstart")) {
                        r = vh_parse_u64(v, UINT64_MAX, &g->pidstart);
                } else if (streq(k, "thp")) {
                        r = parse_thp_word(v, &g->demands.thp);
                } else if (streq(k, "hugepages")) {
                        g->demands.static_hugepages = streq(v, "1");
                } else if (streq(k, "halt_poll_ns")) {
                        r = vh_parse_u64(v, UINT32_MAX, &x);
                        g->demands.has_halt_poll = true;
                        g->demands.halt_poll_ns = (uint32_t)x;
                } else if (streq(k, "isolate")) {
                        r = vh_cpuset_parse_list(v, &g->demands.isolate, NULL); /* replaces: no leak */
                } else if (streq(k, "label")) {
                        r = set_field(&g->seclabel, v);
                } else if (streq(k, "error")) {
                        r = set_field(&g->last_error, v);
                } /* unknown keys: written by a newer vmhooks; ignored */
                if (r < 0)
                        return r;
        }
        if (!g->uuid || !g->name)
                return -EINVAL;
        return 0;
}

static int parse_cursor(const char *v, vh_state *st)
{
        uint64_t c;
        int r = vh_parse_u64(v, UINT32_MAX, &c);
        if (r == 0)
                st->sweep_cursor = (uint32_t)c;
        return r;
}

int vh_state_parse(const char *text, vh_state *st, vh_error **err)
{
        _cleanup_free_ char *copy = strdup(text);
        if (!copy)
                return vh_fail(err, ENOMEM, "state");
        unsigned lineno = 0;
        for (char *line = copy, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                if (!*line)
                        continue;
                lineno++;
                int r;
                const char *rest;
                if (lineno == 1)
                        r = streq(line, STATE_MAGIC) ? 0 : -EINVAL;
                else if ((rest = startswith(line, "knob ")))
                        r = parse_knob((char *)rest, st);
                else if ((rest = startswith(line, "vm ")))
                        r = parse_vm((char *)rest, st);
                else if ((rest = startswith(line, "sweep cursor=")))
                        r = parse_cursor(rest, st);
                else
                        r = -EINVAL;
                if (r < 0) {
                        vh_state_done(st);
                        if (r == -ENOMEM)
                                return vh_fail(err, ENOMEM, "state");
                        return vh_fail_input(err, "line %u is not understood", lineno);
                }
        }
        if (lineno == 0)
                return vh_fail_input(err, "empty file");
        return 0;
}

static int apply_intent(vh_state *st, vh_error **err);

int vh_state_load(vh_state *st, vh_error **err)
{
        _cleanup_free_ char *path = vh_path(VH_STATE_FILE);
        if (!path)
                return vh_fail(err, ENOMEM, "state");
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ vh_error *rerr = NULL;
        int r = vh_read_file(path, STATE_MAX_BYTES, &text, NULL, &rerr);
        if (r == -ENOENT)
                return apply_intent(st, err);
        if (r < 0) {
                *err = TAKE_PTR(rerr);
                return r;
        }
        _cleanup_error_ vh_error *perr = NULL;
        r = vh_state_parse(text, st, &perr);
        if (r < 0) {
                _cleanup_free_ char *aside = vh_path(VH_STATE_DIR "/state.corrupt");
                if (aside && rename(path, aside) == 0)
                        return vh_fail_input(err, "%s: %s; moved it to %s (the knob originals it held are lost)",
                                             path, vh_error_msg(perr), aside);
                return vh_fail_input(err, "%s: %s", path, vh_error_msg(perr));
        }
        return apply_intent(st, err);
}

int vh_state_save(const vh_state *st, vh_error **err)
{
        _cleanup_free_ char *path = vh_path(VH_STATE_FILE);
        _cleanup_free_ char *intent = vh_path(VH_INTENT_FILE);
        if (!path || !intent)
                return vh_fail(err, ENOMEM, "state");
        _cleanup_free_ char *text = NULL;
        int r = vh_state_format(st, &text, err);
        if (r < 0)
                return r;
        r = vh_write_atomic(path, text, strlen(text), 0600, err);
        if (r < 0)
                return r;
        /* the table now holds what the intent said */
        if (unlink(intent) < 0 && errno != ENOENT)
                return vh_fail(err, errno, "cannot remove %s", intent);
        return 0;
}

int vh_state_save_intent(const vh_state *st, vh_error **err)
{
        _cleanup_free_ char *path = vh_path(VH_INTENT_FILE);
        if (!path)
                return vh_fail(err, ENOMEM, "intent");
        _cleanup_buf_ vh_buf b = { 0 };
        int r = vh_buf_puts(&b, STATE_MAGIC "\n");
        if (r == 0)
                r = format_knobs(&b, st);
        if (r < 0)
                return vh_fail(err, -r, "intent");
        return vh_write_atomic(path, b.data, b.len, 0600, err);
}

/* A call that died after its intent: the knob records there are newer than the table's. */
static int apply_intent(vh_state *st, vh_error **err)
{
        _cleanup_free_ char *path = vh_path(VH_INTENT_FILE);
        if (!path)
                return vh_fail(err, ENOMEM, "intent");
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ vh_error *rerr = NULL;
        int r = vh_read_file(path, 1 << 20, &text, NULL, &rerr);
        if (r == -ENOENT)
                return 0;
        _cleanup_state_ vh_state in = { 0 };
        _cleanup_error_ vh_error *perr = NULL;
        if (r < 0 || vh_state_parse(text, &in, &perr) < 0 || in.n_regs) {
                /* unreadable: what it said is lost, the table stands */
                (void)unlink(path);
                return vh_fail_input(err, "%s: %s; ignored", path, vh_error_msg(rerr ? rerr : perr));
        }
        for (int i = 0; i < VH_KNOB_COUNT; i++) {
                vh_knob_state_forget(&st->knobs[i]);
                st->knobs[i] = in.knobs[i];
                memset(&in.knobs[i], 0, sizeof(in.knobs[i]));
        }
        return 0;
}
