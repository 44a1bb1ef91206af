/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_state — lib/state.c: the /run/vmhooks/state table (vh_state_parse,
 * vh_state_format).  The file is root's, but it is what every hook call
 * trusts to put the host back: a torn or odd file must be refused cleanly,
 * and whatever is accepted must survive the next write unchanged.
 *
 * Invariants, for any text:
 * - parse never fails on damage (only for memory): damaged lines are set
 *   aside, and what is intact is kept;
 * - parse -> format -> parse succeeds, the second table equals the first
 *   in every field the format writes (a PID start time is written only with
 *   its PID), and format is then a fixed point (same bytes);
 * - the format is one record per line: the magic, the sweep cursor when
 *   set, one line per saved knob, one per registration;
 * - no original lost: damaging any one line of a formatted table (the
 *   fuzzer picks the line and the byte) leaves every knob original of the
 *   other lines as it was, and the knob of the damaged line either keeps
 *   its original or is lost (left alone) — never saved with another one;
 * - no leak, no overflow (ASan, LSan, UBSan).
 */
#include "fuzz.h"

#include <errno.h>
#include <inttypes.h>

#include "state.h"

static void same_state(const vh_state *a, const vh_state *b, const char *text)
{
        FUZZ_CHECK(a->sweep_cursor == b->sweep_cursor, "sweep cursor %u became %u", a->sweep_cursor, b->sweep_cursor);
        FUZZ_CHECK(a->lost_unknown == b->lost_unknown, "lost_unknown changed");
        for (size_t i = 0; i < a->n_knobs; i++) {
                const vh_knob_state *x = &a->knobs[i];
                if (!x->saved && !x->lost)
                        continue;
                const vh_knob_state *y = vh_state_knob(b, x->name);
                FUZZ_CHECK(y && x->saved == y->saved && x->lost == y->lost, "knob %s: saved/lost changed", x->name);
                if (!x->saved)
                        continue;
                FUZZ_CHECK(fuzz_streq0(x->original, y->original), "knob %s: original \"%s\" became \"%s\"", x->name,
                           x->original, y->original);
                FUZZ_CHECK(fuzz_streq0(x->expected, y->expected), "knob %s: expected \"%s\" became \"%s\"", x->name,
                           x->expected, y->expected);
                FUZZ_CHECK(fuzz_streq0(x->last_written, y->last_written), "knob %s: written changed", x->name);
                FUZZ_CHECK(fuzz_streq0(x->pending, y->pending), "knob %s: pending changed", x->name);
                FUZZ_CHECK(fuzz_streq0(x->failure, y->failure), "knob %s: failure changed", x->name);
                FUZZ_CHECK(x->drifted == y->drifted, "knob %s: drifted changed", x->name);
        }
        FUZZ_CHECK(a->n_regs == b->n_regs, "%zu registrations became %zu", a->n_regs, b->n_regs);
        for (size_t i = 0; i < a->n_regs; i++) {
                const vh_reg *x = &a->regs[i], *y = &b->regs[i];
                FUZZ_CHECK(fuzz_streq0(x->uuid, y->uuid), "vm %zu: uuid \"%s\" became \"%s\"", i, x->uuid, y->uuid);
                FUZZ_CHECK(fuzz_streq0(x->name, y->name), "vm %zu: name \"%s\" became \"%s\"", i, x->name, y->name);
                FUZZ_CHECK(x->since == y->since, "vm %zu: since %" PRId64 " became %" PRId64, i, x->since, y->since);
                FUZZ_CHECK(x->pid == y->pid, "vm %zu: pid %d became %d", i, x->pid, y->pid);
                FUZZ_CHECK(x->pid > 0 ? x->pidstart == y->pidstart : y->pidstart == 0,
                           "vm %zu: pid %d pidstart %" PRIu64 " became pidstart %" PRIu64, i, x->pid, x->pidstart,
                           y->pidstart);
                FUZZ_CHECK(x->demands.thp == y->demands.thp, "vm %zu: thp %d became %d", i, x->demands.thp,
                           y->demands.thp);
                FUZZ_CHECK(x->demands.static_hugepages == y->demands.static_hugepages, "vm %zu: hugepages changed", i);
                FUZZ_CHECK(x->demands.has_halt_poll == y->demands.has_halt_poll &&
                                   (!x->demands.has_halt_poll || x->demands.halt_poll_ns == y->demands.halt_poll_ns),
                           "vm %zu: halt_poll_ns changed", i);
                FUZZ_CHECK(vh_cpuset_equal(&x->demands.isolate, &y->demands.isolate), "vm %zu: isolate changed", i);
                FUZZ_CHECK(fuzz_streq0(x->seclabel, y->seclabel), "vm %zu: label changed", i);
                FUZZ_CHECK(fuzz_streq0(x->last_error, y->last_error), "vm %zu: error \"%s\" became \"%s\"", i,
                           x->last_error, y->last_error);
        }
        (void)text;
}

static size_t count_lines(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                n += *s == '\n';
        return n;
}

/*
 * Damage one line of the formatted table `f` (which line and which byte:
 * from the input's last bytes) and check that no original is lost.
 */
static void damage_one_line(const char *f, const uint8_t *data, size_t size)
{
        size_t lines = count_lines(f);
        if (size < 3 || lines < 2)
                return;
        vh_state before = { 0 };
        FUZZ_CHECK(vh_state_parse(f, &before, NULL) == 0, "formatted table not read back");
        size_t target = 1 + data[size - 1] % (lines - 1); /* never the magic line */
        char *copy = strdup(f);
        FUZZ_CHECK(copy, "out of memory");
        char *line = copy;
        for (size_t i = 0; i < target; i++)
                line = strchr(line, '\n') + 1;
        size_t len = strcspn(line, "\n");
        /* bytes the format never writes bare: damage, not a different valid value */
        static const char bytes[] = { '=', ' ', '\t', '\x01', '\x7f' };
        line[data[size - 2] % len] = bytes[data[size - 3] % sizeof(bytes)];
        vh_state after = { 0 };
        FUZZ_CHECK(vh_state_parse(copy, &after, NULL) == 0, "damaged table not parsed");
        for (size_t i = 0; i < before.n_knobs; i++) {
                const vh_knob_state *x = &before.knobs[i];
                if (!x->saved)
                        continue;
                const vh_knob_state *y = vh_state_knob(&after, x->name);
                bool lost = (y && y->lost) || (!(y && y->saved) && after.lost_unknown);
                FUZZ_CHECK(lost || (y && y->saved && fuzz_streq0(x->original, y->original)),
                           "knob %s: original \"%s\" lost by damaging line %zu:\n%s", x->name, x->original, target,
                           copy);
        }
        vh_state_done(&before);
        vh_state_done(&after);
        free(copy);
}

FUZZ_DEFAULT_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_strndup(data, size);
        vh_state a = { 0 };
        vh_error *e = NULL;
        int r = vh_state_parse(text, &a, &e);
        FUZZ_CHECK(r == 0, "parse failed with %d (%s): damage must be contained, not fatal", r, vh_error_msg(e));
        FUZZ_CHECK(!e, "parse succeeded with an error set: %s", vh_error_msg(e));

        char *f1 = NULL, *f2 = NULL;
        FUZZ_CHECK(vh_state_format(&a, &f1, &e) == 0, "format failed: %s", vh_error_msg(e));
        size_t want = 1 + (a.sweep_cursor != 0) + a.n_regs + a.n_extra + a.lost_unknown;
        for (size_t i = 0; i < a.n_knobs; i++)
                want += a.knobs[i].saved || a.knobs[i].lost;
        FUZZ_CHECK(count_lines(f1) == want && f1[strlen(f1) - 1] == '\n', "format wrote %zu lines for %zu records:\n%s",
                   count_lines(f1), want, f1);

        vh_state b = { 0 };
        r = vh_state_parse(f1, &b, &e);
        FUZZ_CHECK(r == 0, "the formatted state is not read back (%s):\n%s", vh_error_msg(e), f1);
        same_state(&a, &b, text);
        FUZZ_CHECK(vh_state_format(&b, &f2, &e) == 0, "format failed: %s", vh_error_msg(e));
        FUZZ_CHECK(strcmp(f1, f2) == 0, "format is not a fixed point:\n%s---\n%s", f1, f2);

        /* lookups and removal keep the table consistent */
        for (size_t i = 0; i < a.n_regs; i++) {
                vh_reg *g = vh_state_find(&a, a.regs[i].uuid);
                FUZZ_CHECK(g && g <= &a.regs[i] && fuzz_streq0(g->uuid, a.regs[i].uuid), "find(%s) wrong",
                           a.regs[i].uuid);
        }
        if (a.n_regs > 0) {
                size_t n = a.n_regs;
                vh_state_remove(&a, &a.regs[n / 2]);
                FUZZ_CHECK(a.n_regs == n - 1, "remove did not remove");
                char *f3 = NULL;
                FUZZ_CHECK(vh_state_format(&a, &f3, &e) == 0, "format failed");
                vh_state c = { 0 };
                FUZZ_CHECK(vh_state_parse(f3, &c, &e) == 0 && c.n_regs == n - 1, "after a removal: not read back");
                vh_state_done(&c);
                free(f3);
        }

        damage_one_line(f1, data, size);

        vh_state_done(&a);
        vh_state_done(&b);
        free(f1);
        free(f2);
        free(text);
        return 0;
}
