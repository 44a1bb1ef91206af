/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "hugepool.h"
#include "kv.h"
#include "root.h"
#include "util.h"

#define STATE_MAGIC "vmhooks-state 1"
#define STATE_MAX_BYTES (256u << 20)

/* What demands own, freed (the struct left as it was). */
static void demands_free(vh_demands *d)
{
        vh_cpuset_done(&d->isolate);
        free(d->follow_devices);
        free(d->hp);
}

void vh_demands_done(vh_demands *d)
{
        demands_free(d);
        memset(d, 0, sizeof(*d));
}

int vh_demands_copy(vh_demands *dst, const vh_demands *src)
{
        vh_demands c = *src;
        c.isolate = (vh_cpuset){ 0 };
        c.follow_devices = NULL;
        c.hp = NULL;
        c.n_hp = 0;
        if (vh_cpuset_copy(&c.isolate, &src->isolate) < 0 ||
            (src->follow_devices && !(c.follow_devices = strdup(src->follow_devices))) ||
            (src->n_hp && !(c.hp = malloc(src->n_hp * sizeof(*c.hp))))) {
                vh_demands_done(&c);
                return -ENOMEM;
        }
        if (src->n_hp) {
                memcpy(c.hp, src->hp, src->n_hp * sizeof(*c.hp));
                c.n_hp = src->n_hp;
        }
        vh_demands_done(dst);
        *dst = c;
        return 0;
}

/* isolate_from in the state: "wq,irqs,follow,tasks" */
static const struct {
        unsigned bit;
        const char *word;
} iso_words[] = { { VH_ISO_WQ, "wq" }, { VH_ISO_IRQS, "irqs" }, { VH_ISO_IRQS_FOLLOW, "follow" },
                  { VH_ISO_TASKS, "tasks" } };

static int put_isolate_from(vh_buf *b, unsigned from)
{
        char words[64] = "";
        for (size_t i = 0; i < sizeof(iso_words) / sizeof(iso_words[0]); i++)
                if (from & iso_words[i].bit)
                        snprintf(words + strlen(words), sizeof(words) - strlen(words), "%s%s", *words ? "," : "",
                                 iso_words[i].word);
        return vh_kv_put(b, "isolate_from", *words ? words : "none");
}

static int parse_isolate_from(const char *v, unsigned *ret)
{
        unsigned from = 0;
        if (streq(v, "none")) {
                *ret = 0;
                return 0;
        }
        for (const char *p = v; *p;) {
                size_t n = strcspn(p, ",");
                bool known = false;
                for (size_t i = 0; i < sizeof(iso_words) / sizeof(iso_words[0]); i++) {
                        if (strlen(iso_words[i].word) == n && strncmp(p, iso_words[i].word, n) == 0) {
                                from |= iso_words[i].bit;
                                known = true;
                        }
                }
                (void)known; /* a word of a newer vmhooks: ignored, like unknown keys */
                p += n + (p[n] == ',');
        }
        *ret = from;
        return 0;
}

/* What a registration owns, freed (the struct left as it was: vh_state_done frees 1000 at a time). */
static void reg_free(vh_reg *r)
{
        free(r->uuid);
        free(r->name);
        free(r->last_error);
        free(r->seclabel);
        demands_free(&r->demands);
}

void vh_reg_done(vh_reg *r)
{
        reg_free(r);
        memset(r, 0, sizeof(*r));
}

void vh_knob_state_forget(vh_knob_state *k)
{
        char *name = k->name;
        free(k->original);
        free(k->expected);
        free(k->last_written);
        free(k->pending);
        free(k->failure);
        memset(k, 0, sizeof(*k));
        k->name = name;
}

static void strv_free(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

void vh_state_done(vh_state *st)
{
        for (size_t i = 0; i < st->n_knobs; i++) {
                vh_knob_state_forget(&st->knobs[i]);
                free(st->knobs[i].name);
        }
        free(st->knobs);
        for (size_t i = 0; i < st->n_regs; i++)
                reg_free(&st->regs[i]);
        free(st->regs);
        strv_free(st->extra, st->n_extra);
        strv_free(st->damaged, st->n_damaged);
        free(st->damaged_copy);
        free(st->text);
        memset(st, 0, sizeof(*st));
}

vh_knob_state *vh_state_knob(const vh_state *st, const char *name)
{
        for (size_t i = 0; i < st->n_knobs; i++)
                if (streq(st->knobs[i].name, name))
                        return &st->knobs[i];
        return NULL;
}

vh_knob_state *vh_state_knob_add(vh_state *st, const char *name)
{
        vh_knob_state *k = vh_state_knob(st, name);
        if (k)
                return k;
        char *n = strdup(name);
        if (!n)
                return NULL;
        k = realloc(st->knobs, (st->n_knobs + 1) * sizeof(*k));
        if (!k) {
                free(n);
                return NULL;
        }
        st->knobs = k;
        k = &st->knobs[st->n_knobs++];
        memset(k, 0, sizeof(*k));
        k->name = n;
        return k;
}

static int strv_push(char ***v, size_t *n, const char *s, size_t len)
{
        char **nv = realloc(*v, (*n + 1) * sizeof(*nv));
        if (!nv)
                return -ENOMEM;
        *v = nv;
        if (!(nv[*n] = strndup(s, len)))
                return -ENOMEM;
        (*n)++;
        return 0;
}

vh_reg *vh_state_find(vh_state *st, const char *uuid)
{
        for (size_t i = 0; i < st->n_regs; i++)
                if (streq(st->regs[i].uuid, uuid)) {
                        vh_reg_touch(&st->regs[i]);
                        return &st->regs[i];
                }
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
        int r = vh_dir_ensure(dir, 0700, true, err);
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
                if (waited >= timeout_ms) {
                        /* the holder wrote its PID into the file when it took the lock */
                        char buf[32] = "";
                        ssize_t got = pread(fd, buf, sizeof(buf) - 1, 0);
                        uint64_t holder = 0;
                        buf[got > 0 ? got : 0] = '\0';
                        buf[strcspn(buf, "\n")] = '\0';
                        bool known = vh_parse_u64(buf, INT32_MAX, &holder) == 0;
                        (void)vh_fail_input(err, "timed out after %d s waiting for %s held by %s%s", timeout_ms / 1000,
                                            path, known ? "PID " : "an unknown process", known ? buf : "");
                        return -ETIMEDOUT;
                }
                struct timespec ts = { 0, sleep_us * 1000 };
                nanosleep(&ts, NULL);
        }
        /* who holds it, for the message of a call that times out waiting */
        char pid[24];
        int len = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)len, 0) != len) {
                /* only the message of a waiter suffers */
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* ---- format ---- */

/* Hand-rolled rather than printf: with 1000 VMs, printf alone cost 9M instructions a call. */
static int format_reg(vh_buf *b, const vh_reg *g)
{
        const vh_demands *d = &g->demands;
        int r = vh_buf_puts(b, "vm");
        if (r == 0)
                r = vh_kv_put(b, "uuid", g->uuid);
        if (r == 0)
                r = vh_kv_put(b, "name", g->name);
        if (r == 0)
                r = vh_kv_put_u64(b, "since", (uint64_t)(g->since > 0 ? g->since : 0));
        if (r == 0 && g->daemon > 0)
                r = vh_kv_put_u64(b, "daemon", (uint64_t)g->daemon);
        if (r == 0 && g->daemon < 0)
                r = vh_kv_put(b, "daemon", "none");
        if (r == 0 && g->daemon > 0 && g->daemonstart)
                r = vh_kv_put_u64(b, "daemonstart", g->daemonstart);
        if (r == 0 && g->pid > 0)
                r = vh_kv_put_u64(b, "pid", (uint64_t)g->pid);
        if (r == 0 && g->pid > 0)
                r = vh_kv_put_u64(b, "pidstart", g->pidstart);
        if (r == 0 && d->thp != VH_THP_NONE)
                r = vh_kv_put(b, "thp", vh_thp_mode_name(d->thp));
        if (r == 0 && d->defrag != VH_DEFRAG_NONE)
                r = vh_kv_put(b, "defrag", vh_thp_defrag_name(d->defrag));
        if (r == 0 && d->static_hugepages)
                r = vh_buf_puts(b, " hugepages=1");
        if (r == 0 && d->shared_memory)
                r = vh_buf_puts(b, " shmem=1");
        if (r == 0 && d->has_halt_poll)
                r = vh_kv_put_u64(b, "halt_poll_ns", d->halt_poll_ns);
        if (r == 0 && !vh_cpuset_is_empty(&d->isolate)) {
                _cleanup_free_ char *l = vh_cpuset_format_list(&d->isolate);
                r = l ? vh_kv_put(b, "isolate", l) : -ENOMEM;
                if (r == 0)
                        r = put_isolate_from(b, d->isolate_from);
                if (r == 0 && d->follow_devices)
                        r = vh_kv_put(b, "follow", d->follow_devices);
        }
        if (r == 0 && d->n_hp) {
                _cleanup_free_ char *t = NULL;
                r = vh_hp_format(d, &t);
                if (r == 0)
                        r = vh_kv_put(b, "hugepool", t);
        }
        if (r == 0)
                r = vh_kv_put(b, "label", g->seclabel);
        if (r == 0)
                r = vh_kv_put(b, "error", g->last_error);
        if (r == 0)
                r = vh_buf_puts(b, "\n");
        return r;
}

static int parse_vm(const vh_kv_record *rec, vh_state *st);

#ifdef VH_TEST_SEAMS
/*
 * A registration written back as loaded must still say what its line
 * says: formatted, it reads as the line read back and formatted (the line
 * itself may differ: fields of a newer vmhooks, another order).  A
 * difference is a change made without vh_reg_touch: a bug that would
 * lose the change, so the test build aborts on it.
 */
static void check_raw(const vh_reg *g)
{
        static int enabled = -1;
        if (enabled < 0) {
                const char *e = getenv("VMHOOKS_STATE_CHECK");
                enabled = !e || !streq(e, "0");
        }
        if (!enabled)
                return;
        _cleanup_kv_ vh_kv_record rec = { 0 };
        _cleanup_state_ vh_state back = { 0 };
        _cleanup_buf_ vh_buf was = { 0 }, is = { 0 };
        vh_reg now = *g;
        vh_reg_touch(&now);
        if (vh_kv_parse(g->raw, g->raw_len, &rec) < 0 || parse_vm(&rec, &back) < 0 || back.n_regs != 1 ||
            format_reg(&was, &back.regs[0]) < 0 || format_reg(&is, &now) < 0)
                return; /* no memory: nothing to compare */
        if (!streq(was.data, is.data)) {
                fprintf(stderr, "vmhooks: BUG: registration changed without vh_reg_touch: loaded as\n  %s  holds\n  %s",
                        was.data, is.data);
                abort();
        }
}
#endif

/* The knob records, one line each (also the whole of the intent file). */
static int format_knobs(vh_buf *b, const vh_state *st)
{
        int r = 0;
        if (st->lost_unknown)
                r = vh_buf_puts(b, "lost unknown=1\n");
        for (size_t i = 0; r == 0 && i < st->n_knobs; i++) {
                const vh_knob_state *k = &st->knobs[i];
                if (!k->saved && !k->lost)
                        continue;
                r = vh_buf_puts(b, "knob ");
                if (r == 0)
                        r = vh_buf_escape(b, k->name, false);
                if (r == 0 && k->lost)
                        r = vh_buf_puts(b, " lost=1");
                if (r == 0)
                        r = vh_kv_put(b, "original", k->original);
                if (r == 0)
                        r = vh_kv_put(b, "expected", k->expected);
                if (r == 0)
                        r = vh_kv_put(b, "written", k->last_written);
                if (r == 0)
                        r = vh_kv_put(b, "pending", k->pending);
                if (r == 0 && k->drifted)
                        r = vh_buf_puts(b, " drifted=1");
                if (r == 0)
                        r = vh_kv_put(b, "failed", k->failure);
                if (r == 0)
                        r = vh_buf_puts(b, "\n");
        }
        return r;
}

/* What comes before the registrations: the magic, the sweep cursor, the knob records. */
static int format_head(vh_buf *b, const vh_state *st)
{
        int r = vh_buf_puts(b, STATE_MAGIC "\n");
        if (r == 0 && st->sweep_cursor) {
                r = vh_buf_puts(b, "sweep");
                if (r == 0)
                        r = vh_kv_put_u64(b, "cursor", st->sweep_cursor);
                if (r == 0)
                        r = vh_buf_puts(b, "\n");
        }
        if (r == 0)
                r = format_knobs(b, st);
        return r;
}

/*
 * The table to write, in pieces: runs of registrations unchanged since
 * the load, written from the text they were read from (with 1000 VMs, a
 * copy of it cost 29 fresh pages a call, 0.3 ms on the build machines),
 * and what had to be formatted (the head, changed registrations, the
 * records of a newer vmhooks), in one buffer.
 */
typedef struct table_piece {
        const char *raw;        /* in st->text; NULL: at `off` in fresh */
        size_t off, len;
} table_piece;

typedef struct table_pieces {
        vh_buf fresh;
        table_piece *p;
        size_t n, cap;
} table_pieces;

static void table_pieces_done(table_pieces *t)
{
        vh_buf_free(&t->fresh);
        free(t->p);
}

static int piece_add(table_pieces *t, const char *raw, size_t off, size_t len)
{
        table_piece *last = t->n ? &t->p[t->n - 1] : NULL;
        if (last && raw && last->raw && last->raw + last->len == raw) {
                last->len += len;
                return 0;
        }
        if (last && !raw && !last->raw && last->off + last->len == off) {
                last->len += len;
                return 0;
        }
        if (t->n == t->cap) {
                size_t cap = t->cap ? t->cap * 2 : 16;
                table_piece *p = realloc(t->p, cap * sizeof(*p));
                if (!p)
                        return -ENOMEM;
                t->p = p;
                t->cap = cap;
        }
        t->p[t->n++] = (table_piece){ raw, off, len };
        return 0;
}

/* The whole table as pieces: the one writer of its layout (vh_state_format joins them, the save writes them). */
static int table_pieces_build(const vh_state *st, table_pieces *t)
{
        int r = format_head(&t->fresh, st);
        if (r == 0)
                r = piece_add(t, NULL, 0, t->fresh.len);
        for (size_t i = 0; r == 0 && i < st->n_regs; i++) {
                const vh_reg *g = &st->regs[i];
                size_t at = t->fresh.len;
                if (g->raw) {
#ifdef VH_TEST_SEAMS
                        check_raw(g);
#endif
                        /* the loaded line and its newline, as they were in the text (the last line may have none) */
                        bool nl = g->raw[g->raw_len] == '\n';
                        r = piece_add(t, g->raw, 0, g->raw_len + nl);
                        if (r == 0 && !nl && (r = vh_buf_puts(&t->fresh, "\n")) == 0)
                                r = piece_add(t, NULL, at, 1);
                        continue;
                }
                r = format_reg(&t->fresh, g);
                if (r == 0)
                        r = piece_add(t, NULL, at, t->fresh.len - at);
        }
        for (size_t i = 0; r == 0 && i < st->n_extra; i++) {
                size_t at = t->fresh.len;
                r = vh_buf_puts(&t->fresh, st->extra[i]);
                if (r == 0)
                        r = vh_buf_puts(&t->fresh, "\n");
                if (r == 0)
                        r = piece_add(t, NULL, at, t->fresh.len - at);
        }
        return r;
}

static const char *piece_data(const table_pieces *t, size_t i)
{
        return t->p[i].raw ? t->p[i].raw : t->fresh.data + t->p[i].off;
}

int vh_state_format(const vh_state *st, char **ret, vh_error **err)
{
        _cleanup_(table_pieces_done) table_pieces t = { 0 };
        int r = table_pieces_build(st, &t);
        if (r < 0)
                return vh_fail(err, -r, "format state");
        size_t len = 0;
        for (size_t i = 0; i < t.n; i++)
                len += t.p[i].len;
        char *text = malloc(len + 1);
        if (!text)
                return vh_fail(err, ENOMEM, "format state");
        char *at = text;
        for (size_t i = 0; i < t.n; i++)
                at = mempcpy(at, piece_data(&t, i), t.p[i].len);
        *at = '\0';
        *ret = text;
        return 0;
}

/* ---- parse ---- */

/* A knob record.  -EINVAL: damaged (the caller marks the knob lost). */
static int parse_knob(const vh_kv_record *rec, vh_state *st)
{
        char buf[64];
        const char *name = rec->name ? vh_knob_canonical_name(rec->name, buf, sizeof(buf)) : NULL;
        _cleanup_(vh_knob_done) vh_knob probe = { 0 };
        if (!name || vh_knob_resolve(name, &probe) < 0)
                return -EINVAL;
        vh_knob_state *k = vh_state_knob(st, name);
        if (k && (k->saved || k->lost))
                return -EINVAL; /* twice: which one is right cannot be told */
        /* in the order format_knobs writes them */
        enum { K_LOST, K_ORIGINAL, K_EXPECTED, K_WRITTEN, K_PENDING, K_DRIFTED, K_FAILED, K__N };
        static const char *const keys[K__N] = { "lost", "original", "expected", "written",
                                                "pending", "drifted", "failed" };
        const char *v[K__N];
        vh_kv_pick(rec, keys, K__N, v);
        bool lost = streq(v[K_LOST], "1");
        if (!lost && (!v[K_ORIGINAL] || !v[K_EXPECTED]))
                return -EINVAL;
        if (!(k = vh_state_knob_add(st, name)))
                return -ENOMEM;
        const int from[] = { K_ORIGINAL, K_EXPECTED, K_WRITTEN, K_PENDING, K_FAILED };
        char **dst[] = { &k->original, &k->expected, &k->last_written, &k->pending, &k->failure };
        for (size_t i = 0; i < ELEMENTSOF(from); i++)
                if (vh_kv_value_dup(v[from[i]], dst[i]) == -ENOMEM)
                        return -ENOMEM;
        k->drifted = streq(v[K_DRIFTED], "1");
        k->lost = lost;
        k->saved = !lost;
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

static int parse_defrag_word(const char *s, vh_thp_defrag *ret)
{
        for (int d = VH_DEFRAG_ALWAYS; d <= VH_DEFRAG_NEVER; d++)
                if (streq(s, vh_thp_defrag_name((vh_thp_defrag)d))) {
                        *ret = (vh_thp_defrag)d;
                        return 0;
                }
        return -EINVAL;
}

/* The fields of a registration, in the order format_reg writes them (for vh_kv_pick). */
enum {
        V_UUID, V_NAME, V_SINCE, V_DAEMON, V_DAEMONSTART, V_PID, V_PIDSTART, V_THP, V_DEFRAG, V_HUGEPAGES,
        V_SHMEM, V_HALT_POLL_NS, V_ISOLATE, V_ISOLATE_FROM, V_FOLLOW, V_HUGEPOOL, V_LABEL, V_ERROR, V__N
};
static const char *const vm_keys[V__N] = {
        "uuid", "name", "since", "daemon", "daemonstart", "pid", "pidstart", "thp", "defrag", "hugepages",
        "shmem", "halt_poll_ns", "isolate", "isolate_from", "follow", "hugepool", "label", "error",
};

/* A registration from its fields (v[] of vm_keys).  -EINVAL: damaged (nothing added). */
static int parse_vm_fields(const char *const *v, vh_state *st)
{
        _cleanup_(vh_reg_done) vh_reg g = { 0 };
        uint64_t x;
        int r = 0;
        if (vh_kv_value_dup(v[V_UUID], &g.uuid) < 0 || vh_kv_value_dup(v[V_NAME], &g.name) < 0)
                return g.uuid || !v[V_UUID] ? -EINVAL : -ENOMEM;
        if ((r = vh_kv_value_u64(v[V_SINCE], INT64_MAX, &x)) == 0)
                g.since = (int64_t)x;
        if (r == 0 || r == -ENOENT)
                if ((r = vh_kv_value_u64(v[V_PID], INT32_MAX, &x)) == 0)
                        g.pid = (int)x;
        if (r == 0 || r == -ENOENT)
                r = vh_kv_value_u64(v[V_PIDSTART], UINT64_MAX, &g.pidstart);
        if ((r == 0 || r == -ENOENT) && streq(v[V_DAEMON], "none"))
                g.daemon = -1;
        else if ((r == 0 || r == -ENOENT) && (r = vh_kv_value_u64(v[V_DAEMON], INT32_MAX, &x)) == 0)
                g.daemon = (int)x;
        if (r == 0 || r == -ENOENT)
                r = vh_kv_value_u64(v[V_DAEMONSTART], UINT64_MAX, &g.daemonstart);
        if (r == 0 || r == -ENOENT)
                if ((r = vh_kv_value_u64(v[V_HALT_POLL_NS], UINT32_MAX, &x)) == 0) {
                        g.demands.has_halt_poll = true;
                        g.demands.halt_poll_ns = (uint32_t)x;
                }
        if (r < 0 && r != -ENOENT)
                return r;
        if (v[V_THP] && parse_thp_word(v[V_THP], &g.demands.thp) < 0)
                return -EINVAL;
        if (v[V_DEFRAG] && parse_defrag_word(v[V_DEFRAG], &g.demands.defrag) < 0)
                return -EINVAL;
        g.demands.static_hugepages = streq(v[V_HUGEPAGES], "1");
        g.demands.shared_memory = streq(v[V_SHMEM], "1");
        if (v[V_ISOLATE] && vh_cpuset_parse_list(v[V_ISOLATE], &g.demands.isolate, NULL) < 0)
                return -EINVAL;
        g.demands.isolate_from = VH_ISO_WQ; /* what isolate= meant before isolate_from= */
        if (v[V_ISOLATE_FROM] && parse_isolate_from(v[V_ISOLATE_FROM], &g.demands.isolate_from) < 0)
                return -EINVAL;
        if (vh_kv_value_dup(v[V_FOLLOW], &g.demands.follow_devices) == -ENOMEM)
                return -ENOMEM;
        if (v[V_HUGEPOOL] && (r = vh_hp_parse(v[V_HUGEPOOL], &g.demands)) < 0)
                return r;
        if (vh_kv_value_dup(v[V_LABEL], &g.seclabel) == -ENOMEM || vh_kv_value_dup(v[V_ERROR], &g.last_error) == -ENOMEM)
                return -ENOMEM;
        /* unknown keys: written by a newer vmhooks; ignored */
        vh_reg *slot = vh_state_add(st);
        if (!slot)
                return -ENOMEM;
        *slot = g;
        memset(&g, 0, sizeof(g));
        return 0;
}

static int parse_vm(const vh_kv_record *rec, vh_state *st)
{
        if (rec->name)
                return -EINVAL;
        const char *v[V__N];
        vh_kv_pick(rec, vm_keys, V__N, v);
        return parse_vm_fields(v, st);
}

static int parse_record(const vh_kv_record *rec, vh_state *st, bool *known)
{
        *known = true;
        uint64_t c;
        if (streq(rec->type, "knob"))
                return parse_knob(rec, st);
        if (streq(rec->type, "vm"))
                return parse_vm(rec, st);
        if (streq(rec->type, "sweep")) {
                int r = vh_kv_get_u64(rec, "cursor", UINT32_MAX, &c);
                if (r == 0)
                        st->sweep_cursor = (uint32_t)c;
                return r == 0 ? 0 : -EINVAL;
        }
        if (streq(rec->type, "lost")) {
                st->lost_unknown = true;
                return 0;
        }
        *known = false;
        return 0;
}

/* What a damaged line still tells: the knob it was about, or that it may have been about any. */
static int salvage(const char *line, size_t len, vh_state *st)
{
        const char *rest = len > 5 && strncmp(line, "knob ", 5) == 0 ? line + 5 : NULL;
        if (!rest) {
                /* a registration lost is a VM running untuned; a line of unknown kind may have been a knob */
                if (!(len > 3 && strncmp(line, "vm ", 3) == 0))
                        st->lost_unknown = true;
                return 0;
        }
        size_t n = strcspn(rest, " ");
        if ((size_t)(rest - line) + n > len)
                n = len - (size_t)(rest - line);
        _cleanup_free_ char *name = strndup(rest, n);
        if (!name)
                return -ENOMEM;
        char buf[64];
        _cleanup_(vh_knob_done) vh_knob probe = { 0 };
        if (vh_unescape(name) < 0 || vh_knob_resolve(name, &probe) < 0) {
                st->lost_unknown = true;
                return 0;
        }
        vh_knob_state *k = vh_state_knob_add(st, vh_knob_canonical_name(name, buf, sizeof(buf)));
        if (!k)
                return -ENOMEM;
        vh_knob_state_forget(k);
        k->lost = true;
        /* the damage may be in the name itself ("writeb ck"): then it was another knob's */
        st->lost_unknown = true;
        return 0;
}

/* keep_raw: text is st->text, and each registration keeps its line (vh_reg.raw) */
static int parse_table(const char *text, bool keep_raw, vh_state *st, vh_error **err)
{
        unsigned lineno = 0;
        /*
         * Each line is cut up in place in one buffer used again for the next
         * (text stays as it was, for the damaged lines), and the registrations
         * get their array at once: with 1000 VMs, fresh pages (a copy of the
         * table, an array grown by doubling) cost more than the parse itself.
         */
        size_t lines = 0, longest = 0;
        for (const char *p = text, *nl; *p; p = nl + 1) {
                nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                lines++;
                longest = len > longest ? len : longest;
                if (!nl)
                        break;
        }
        if (lines > st->regs_cap && lines <= VH_STATE_MAX_VMS) {
                vh_reg *g = realloc(st->regs, lines * sizeof(*g));
                if (!g)
                        return vh_fail(err, ENOMEM, "state");
                st->regs = g;
                st->regs_cap = lines;
        }
        _cleanup_free_ char *work = malloc(longest + 1);
        if (!work)
                return vh_fail(err, ENOMEM, "state");
        int r = 0;
        for (const char *line = text, *next; r >= 0 && line && *line; line = next) {
                const char *nl = strchr(line, '\n');
                size_t len = nl ? (size_t)(nl - line) : strlen(line);
                next = nl ? nl + 1 : NULL;
                if (len == 0)
                        continue;
                lineno++;
                if (lineno == 1 && len == strlen(STATE_MAGIC) && strncmp(line, STATE_MAGIC, len) == 0)
                        continue;
                _cleanup_kv_ vh_kv_record rec = { 0 };
                bool known = true;
                size_t regs_before = st->n_regs;
                const char *v[V__N];
                memcpy(work, line, len);
                work[len] = '\0';
                /* a registration as format_reg writes it: picked in one pass */
                if (vh_kv_pick_line(work, "vm", vm_keys, V__N, v) == 0) {
                        r = parse_vm_fields(v, st);
                } else {
                        memcpy(work, line, len);
                        work[len] = '\0';
                        r = vh_kv_parse_in_place(work, &rec);
                        if (r == 0)
                                r = parse_record(&rec, st, &known);
                }
                if (r == 0 && keep_raw && st->n_regs == regs_before + 1) {
                        st->regs[regs_before].raw = line;
                        st->regs[regs_before].raw_len = len;
                }
                if (r == 0 && !known) {
                        /* a newer vmhooks' record: kept; but it may hold what this one would take for a
                           knob without a record, so such knobs are left alone while VMs run */
                        r = strv_push(&st->extra, &st->n_extra, line, len);
                        st->lost_unknown = true;
                }
                if (r < 0 && r != -ENOMEM) { /* -EINVAL, -ERANGE: damaged */
                        r = strv_push(&st->damaged, &st->n_damaged, line, len);
                        if (r == 0)
                                r = salvage(line, len, st);
                }
        }
        if (r < 0)
                return vh_fail(err, -r, "state");
        return 0;
}

int vh_state_parse(const char *text, vh_state *st, vh_error **err)
{
        return parse_table(text, false, st, err);
}

static int apply_intent(vh_state *st, vh_error **err);

/* Copy the damaged lines aside, never over an earlier copy; NULL path when it could not be done. */
static int keep_damaged(vh_state *st, const char *source)
{
        _cleanup_buf_ vh_buf b = { 0 };
        int r = vh_buf_printf(&b, "# damaged lines of %s, copied by vmhooks (pid %ld)\n", source, (long)getpid());
        for (size_t i = 0; r == 0 && i < st->n_damaged; i++)
                r = vh_buf_printf(&b, "%s\n", st->damaged[i]);
        if (r < 0)
                return r;
        for (unsigned attempt = 0; attempt < 100; attempt++) {
                _cleanup_free_ char *rel = NULL;
                if (asprintf(&rel, VH_STATE_DIR "/state.damaged.%lld.%ld.%u", (long long)time(NULL), (long)getpid(),
                             attempt) < 0)
                        return -ENOMEM;
                _cleanup_free_ char *path = vh_path(rel);
                if (!path)
                        return -ENOMEM;
                _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (fd < 0 && errno == EEXIST)
                        continue;
                if (fd < 0)
                        return -errno;
                r = vh_write_all(fd, b.data, b.len);
                if (r < 0)
                        return r;
                st->damaged_copy = TAKE_PTR(path);
                return 0;
        }
        return -EEXIST;
}

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
        free(st->text);
        st->text = TAKE_PTR(text);
        r = parse_table(st->text, true, st, err);
        if (r < 0) {
                vh_state_done(st);
                return r;
        }
        _cleanup_error_ vh_error *ierr = NULL;
        r = apply_intent(st, &ierr);
        if (r == -ENOMEM) {
                vh_state_done(st);
                *err = TAKE_PTR(ierr);
                return r;
        }
        if (st->n_damaged) {
                int k = keep_damaged(st, path);
                if (k == -ENOMEM) {
                        vh_state_done(st);
                        return vh_fail(err, ENOMEM, "state");
                }
                return vh_fail_input(err, "%s: %zu damaged line%s (first: line \"%.60s\"); %s; every intact record "
                                     "is kept%s",
                                     path, st->n_damaged, st->n_damaged == 1 ? "" : "s", st->damaged[0],
                                     st->damaged_copy ? "copied them to" : "could not copy them aside",
                                     st->lost_unknown || st->n_knobs ? ", and a knob whose record was damaged is "
                                                                       "left alone" : "");
        }
        if (ierr) {
                *err = TAKE_PTR(ierr);
                return -EINVAL;
        }
        return 0;
}

int vh_state_save(const vh_state *st, vh_error **err)
{
        _cleanup_free_ char *path = vh_path(VH_STATE_FILE);
        _cleanup_free_ char *intent = vh_path(VH_INTENT_FILE);
        if (!path || !intent)
                return vh_fail(err, ENOMEM, "state");
        _cleanup_(table_pieces_done) table_pieces t = { 0 };
        int r = table_pieces_build(st, &t);
        if (r < 0)
                return vh_fail(err, -r, "format state");
        _cleanup_free_ struct iovec *iov = calloc(t.n ? t.n : 1, sizeof(*iov));
        if (!iov)
                return vh_fail(err, ENOMEM, "format state");
        for (size_t i = 0; i < t.n; i++)
                iov[i] = (struct iovec){ (void *)piece_data(&t, i), t.p[i].len };
        r = vh_write_atomic_iov(path, iov, t.n, 0600, err);
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
        if (r < 0 || vh_state_parse(text, &in, &perr) < 0 || in.n_regs || in.n_damaged) {
                if (perr && perr->code == ENOMEM)
                        return vh_fail(err, ENOMEM, "intent");
                /* what it said is lost, the table stands: every knob it could have been about is left alone */
                (void)unlink(path);
                st->lost_unknown = true;
                return vh_fail_input(err, "%s: %s; ignored, and knobs without a record in the table are left alone",
                                     path, rerr ? vh_error_msg(rerr) : perr ? vh_error_msg(perr) : "damaged");
        }
        for (size_t i = 0; i < in.n_knobs; i++) {
                vh_knob_state *src = &in.knobs[i];
                vh_knob_state *dst = vh_state_knob_add(st, src->name);
                if (!dst)
                        return vh_fail(err, ENOMEM, "intent");
                vh_knob_state_forget(dst);
                char *name = dst->name;
                *dst = *src;
                dst->name = name;
                char *srcname = src->name;
                memset(src, 0, sizeof(*src));
                src->name = srcname;
        }
        st->lost_unknown = st->lost_unknown || in.lost_unknown;
        return 0;
}
