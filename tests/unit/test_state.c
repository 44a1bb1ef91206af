/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state table: round trips, hostile names, corrupt files, the lock. */
#include "testutil.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lifecycle.h"
#include "log.h"
#include "state.h"
#include "util.h"

static void test_roundtrip_hostile_names(void **state)
{
        (void)state;
        vh_state st = { 0 };
        const char *names[] = { "a b", "x=y", "100%", "new\nline", "\x01\x7f\xff", "ok", "back\\slash" };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                vh_reg *g = vh_state_add(&st);
                assert_non_null(g);
                assert_true(asprintf(&g->uuid, "uuid-%zu", i) > 0);
                g->name = strdup(names[i]);
                g->since = 1700000000 + (int64_t)i;
                g->pid = (int)i * 7 + 1;
                g->pidstart = 123456789012ull;
                g->demands.thp = i % 2 ? VH_THP_AUTO : VH_THP_NEVER;
                g->demands.static_hugepages = i % 3 == 0;
                g->demands.has_halt_poll = i % 2;
                g->demands.halt_poll_ns = 4294967295u;
                assert_int_equal(vh_cpuset_parse_list("1,3,64-65", &g->demands.isolate, NULL), 0);
                g->demands.isolate_from = i % 2 ? VH_ISO_WQ : VH_ISO_ALL | VH_ISO_IRQS_FOLLOW;
                g->last_error = strdup("cannot write \"x\" to /sys/y: Invalid argument");
        }
        vh_knob_state *wq = vh_state_knob_add(&st, "workqueue_cpumask");
        assert_non_null(wq);
        wq->saved = true;
        wq->original = strdup("00000000,0000000f");
        wq->expected = strdup("3");
        wq->drifted = true;

        char *text = NULL;
        assert_int_equal(vh_state_format(&st, &text, NULL), 0);
        /* one record per line whatever the names hold */
        size_t lines = 0;
        for (const char *p = text; *p; p++)
                lines += *p == '\n';
        assert_int_equal(lines, 1 + 1 + sizeof(names) / sizeof(names[0]));

        vh_state back = { 0 };
        vh_error *e = NULL;
        if (vh_state_parse(text, &back, &e) < 0)
                fail_msg("%s", vh_error_msg(e));
        assert_int_equal(back.n_regs, st.n_regs);
        for (size_t i = 0; i < st.n_regs; i++) {
                assert_string_equal(back.regs[i].name, names[i]);
                assert_string_equal(back.regs[i].uuid, st.regs[i].uuid);
                assert_int_equal(back.regs[i].since, st.regs[i].since);
                assert_int_equal(back.regs[i].pid, st.regs[i].pid);
                assert_int_equal(back.regs[i].pidstart, st.regs[i].pidstart);
                assert_int_equal(back.regs[i].demands.thp, st.regs[i].demands.thp);
                assert_int_equal(back.regs[i].demands.static_hugepages, st.regs[i].demands.static_hugepages);
                assert_int_equal(back.regs[i].demands.has_halt_poll, st.regs[i].demands.has_halt_poll);
                assert_true(vh_cpuset_equal(&back.regs[i].demands.isolate, &st.regs[i].demands.isolate));
                assert_int_equal(back.regs[i].demands.isolate_from, st.regs[i].demands.isolate_from);
                assert_string_equal(back.regs[i].last_error, st.regs[i].last_error);
        }
        const vh_knob_state *bwq = vh_state_knob(&back, "workqueue_cpumask");
        assert_non_null(bwq);
        assert_true(bwq->saved && bwq->drifted);
        assert_string_equal(bwq->original, "00000000,0000000f");
        assert_null(vh_state_knob(&back, "thp"));
        char *again = NULL;
        assert_int_equal(vh_state_format(&back, &again, NULL), 0);
        assert_string_equal(again, text);
        free(again);
        free(text);
        vh_state_done(&st);
        vh_state_done(&back);
}

/*
 * Damage is contained per record.  Each case: one intact knob record
 * (thp, original madvise), one intact registration, and one damaged line;
 * after the parse the damaged line is set aside, the intact records
 * survive, and the knob the damaged line was about (when it can be told)
 * is lost, never given a new original.
 */
static void test_damage_per_record(void **state)
{
        (void)state;
        static const struct {
                const char *line;
                const char *lost;       /* the knob it leaves lost; "*" = any knob without a record */
        } cases[] = {
                { "knob halt_poll_ns original=1", "halt_poll_ns" },                       /* no expected= */
                { "knob halt_poll_ns original=%zz expected=1", "halt_poll_ns" },          /* bad escape */
                { "knob halt_poll_ns original=1 original=2 expected=1", "halt_poll_ns" }, /* key twice */
                { "knob writeback_cpumask expected=1", "wq_cpumask:writeback" },          /* old name, damaged */
                { "knob nosuch original=1 expected=1", "*" },                             /* no such knob */
                { "knob wq_cpumask:../x original=1 expected=1", "*" },                    /* not an instance */
                { "vm name=x", NULL },                                                    /* no uuid */
                { "vm uuid=u2 name=x pid=-1", NULL },
                { "vm uuid=u2 name=x thp=sometimes", NULL },
                { "vm uuid=u2 name=x%0", NULL },
                { "vm uuid=u2 name=x isolate=a", NULL },
                { "sweep cursor=x", "*" },
                { "vmhooks-state 2", "*" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *text = NULL;
                assert_true(asprintf(&text, "vmhooks-state 1\nknob thp original=madvise expected=never\n%s\n"
                                            "vm uuid=u name=A thp=never\n", cases[i].line) > 0);
                vh_state st = { 0 };
                if (vh_state_parse(text, &st, NULL) < 0)
                        fail_msg("parse failed on: %s", cases[i].line);
                if (st.n_damaged != 1 || !streq(st.damaged[0], cases[i].line))
                        fail_msg("not set aside: %s (%zu damaged)", cases[i].line, st.n_damaged);
                const vh_knob_state *thp = vh_state_knob(&st, "thp");
                assert_non_null(thp);
                assert_true(thp->saved && !thp->lost);
                assert_string_equal(thp->original, "madvise");
                assert_int_equal(st.n_regs, 1);
                assert_string_equal(st.regs[0].uuid, "u");
                if (!cases[i].lost) {
                        assert_false(st.lost_unknown);
                } else if (streq(cases[i].lost, "*")) {
                        if (!st.lost_unknown)
                                fail_msg("%s: expected every knob without a record to be lost", cases[i].line);
                } else {
                        const vh_knob_state *k = vh_state_knob(&st, cases[i].lost);
                        if (!k || !k->lost || k->saved || k->original || !st.lost_unknown)
                                fail_msg("%s: expected %s lost, and every knob without a record", cases[i].line,
                                         cases[i].lost);
                }
                /* the save keeps the intact records and the lost mark, not the damaged line */
                char *out = NULL;
                assert_int_equal(vh_state_format(&st, &out, NULL), 0);
                assert_null(strstr(out, cases[i].line));
                tu_assert_contains(out, "knob thp original=madvise expected=never");
                tu_assert_contains(out, "vm uuid=u name=A");
                free(out);
                vh_state_done(&st);
                free(text);
        }
        /* fields from a newer vmhooks are ignored; records of a type it knows nothing of are kept as they are,
           and leave knobs without a record alone (such a record may be about them) */
        vh_state st = { 0 };
        assert_int_equal(vh_state_parse("vmhooks-state 1\nvm uuid=u name=x future=1\nirq n=24 original=3\n", &st,
                                        NULL), 0);
        assert_int_equal(st.n_regs, 1);
        assert_int_equal(st.n_damaged, 0);
        assert_int_equal(st.n_extra, 1);
        assert_true(st.lost_unknown);
        char *out = NULL;
        assert_int_equal(vh_state_format(&st, &out, NULL), 0);
        tu_assert_contains(out, "\nirq n=24 original=3\n");
        free(out);
        vh_state_done(&st);
}

/* A lost knob is left alone while demanded: never tuned, never restored, no original taken from the host. */
static void test_lost_knob_left_alone(void **state)
{
        char *root = *state;
        tu_write(root, "/sys/kernel/mm/transparent_hugepage/enabled", "never\n"); /* tuned by a VM still running */
        tu_write(root, "/run/vmhooks/state", "vmhooks-state 1\nknob thp original=madvise expected\n"
                                             "vm uuid=u name=A since=1 thp=never\n");
        vh_demands d = { .thp = VH_THP_NEVER };
        vh_txn_result res = { 0 };
        vh_error *e = NULL;
        assert_true(vh_txn_register("u2", "B", &d, false, &res, &e) < 0); /* reports the damage */
        tu_assert_contains(e->msg, "1 damaged line");
        tu_assert_contains(e->msg, "copied them to");
        vh_error_free(e);
        e = NULL;
        bool lost = false;
        for (size_t i = 0; i < res.report.n; i++)
                lost = lost || (res.report.changes[i].kind == VH_CHANGE_LOST && streq(res.report.changes[i].knob, "thp"));
        assert_true(lost);
        assert_false(res.report.failed);
        vh_txn_result_done(&res);
        char *s = tu_read(root, "/run/vmhooks/state");
        tu_assert_contains(s, "knob thp lost=1");
        assert_null(strstr(s, "original=never")); /* the tuned value never becomes an original */
        free(s);
        /* a second damage keeps its own copy: none is overwritten */
        tu_write(root, "/run/vmhooks/state", "vmhooks-state 1\nknob thp lost=1\nknob halt_poll_ns original=%zz expected=1\n");
        vh_state st = { 0 };
        assert_true(vh_state_load(&st, &e) < 0);
        vh_error_free(e);
        vh_state_done(&st);
        char *dir = NULL;
        assert_true(asprintf(&dir, "%s/run/vmhooks", root) > 0);
        DIR *dd = opendir(dir);
        assert_non_null(dd);
        unsigned copies = 0;
        for (struct dirent *de; (de = readdir(dd));)
                copies += strncmp(de->d_name, "state.damaged.", 14) == 0;
        closedir(dd);
        free(dir);
        assert_int_equal(copies, 2);
}

static void test_corrupt_file_kept_aside(void **state)
{
        char *root = *state;
        tu_write(root, "/run/vmhooks/state", "vmhooks-state 1\nthis is not a record\nknob thp original=madvise "
                                             "expected=never\n");
        vh_state st = { 0 };
        vh_error *e = NULL;
        assert_true(vh_state_load(&st, &e) == -EINVAL);
        tu_assert_contains(e->msg, "/run/vmhooks/state: 1 damaged line (first: line \"this is not a record\")");
        tu_assert_contains(e->msg, "every intact record is kept");
        vh_error_free(e);
        assert_non_null(st.damaged_copy);
        assert_non_null(vh_state_knob(&st, "thp"));
        char *copy = tu_slurp(st.damaged_copy);
        tu_assert_contains(copy, "\nthis is not a record\n");
        free(copy);
        vh_state_done(&st);
        /* a missing file is simply empty */
        char *path = NULL;
        assert_true(asprintf(&path, "%s/run/vmhooks/state", root) > 0);
        assert_int_equal(unlink(path), 0);
        free(path);
        assert_int_equal(vh_state_load(&st, NULL), 0);
        vh_state_done(&st);
}

static void test_save_is_atomic_and_private(void **state)
{
        char *root = *state;
        int fd = -1;
        assert_int_equal(vh_state_lock(1000, &fd, NULL), 0);
        vh_state st = { 0 };
        vh_reg *g = vh_state_add(&st);
        g->uuid = strdup("u");
        g->name = strdup("n");
        assert_int_equal(vh_state_save(&st, NULL), 0);
        vh_state_done(&st);
        char *path = NULL;
        assert_true(asprintf(&path, "%s/run/vmhooks/state", root) > 0);
        struct stat sb;
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0600);
        free(path);
        assert_true(asprintf(&path, "%s/run/vmhooks", root) > 0);
        assert_int_equal(stat(path, &sb), 0);
        assert_int_equal(sb.st_mode & 0777, 0700);
        free(path);
        /* no temp file left behind */
        assert_false(tu_exists(root, "/run/vmhooks/state.tmp"));
        /* the lock fd is close-on-exec: QEMU must never inherit it */
        assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
        /* a second taker times out while we hold it */
        int fd2 = -1;
        vh_error *e = NULL;
        assert_int_equal(vh_state_lock(50, &fd2, &e), -ETIMEDOUT);
        /* the message names the holder: its PID is in the lock file */
        char *want = NULL;
        assert_true(asprintf(&want, "timed out after 0 s waiting for %s/run/vmhooks/lock held by PID %ld", root,
                             (long)getpid()) > 0);
        tu_assert_contains(e->msg, want);
        assert_null(strstr(e->msg, "Connection timed out"));
        free(want);
        vh_error_free(e);
        close(fd);
        assert_int_equal(vh_state_lock(50, &fd2, NULL), 0);
        close(fd2);
}

/*
 * A save writes the registrations that did not change as their lines were
 * read (a newer vmhooks' field on them survives), formats the ones that
 * changed, and gives the bytes vh_state_format gives, also with more
 * pieces than one writev takes and a last line without its newline.
 */
static void test_save_keeps_unchanged_lines(void **state)
{
        char *root = *state;
        vh_buf b = { 0 };
        assert_int_equal(vh_buf_puts(&b, "vmhooks-state 1\nknob halt_poll_ns original=200000 expected=300000\n"), 0);
        const unsigned n = 2500;
        for (unsigned i = 0; i < n; i++)
                assert_int_equal(vh_buf_printf(&b, "vm uuid=u%u name=vm%u since=1 pid=%u pidstart=7 halt_poll_ns=300000%s%s",
                                               i, i, 1000 + i, i == 3 ? " future=1" : "", i + 1 < n ? "\n" : ""),
                                 0);
        tu_write(root, "/run/vmhooks/state", b.data);
        vh_buf_free(&b);
        vh_state st = { 0 };
        assert_int_equal(vh_state_load(&st, NULL), 0);
        assert_int_equal(st.n_regs, n);
        /* every third one changes: more than IOV_MAX pieces */
        for (unsigned i = 0; i < n; i += 3) {
                char uuid[16];
                snprintf(uuid, sizeof(uuid), "u%u", i);
                vh_reg *g = vh_state_find(&st, uuid);
                assert_non_null(g);
                g->pid = 5;
        }
        char uuid4[] = "u4";
        vh_reg *g4 = vh_state_find(&st, uuid4);
        free(g4->last_error);
        g4->last_error = strdup("changed");
        assert_int_equal(vh_state_save(&st, NULL), 0);
        char *want = NULL;
        assert_int_equal(vh_state_format(&st, &want, NULL), 0);
        char *path = NULL;
        assert_true(asprintf(&path, "%s/run/vmhooks/state", root) > 0);
        char *got = tu_slurp(path); /* as it is: tu_read strips the last newline */
        free(path);
        if (!streq(got, want)) {
                size_t at = 0;
                while (got[at] == want[at])
                        at++;
                fail_msg("the save and vh_state_format differ at byte %zu: \"%.80s\" against \"%.80s\"", at, got + at,
                         want + at);
        }
        tu_assert_contains(got, "\nvm uuid=u3 name=vm3 since=1 pid=5 pidstart=7 halt_poll_ns=300000\n"); /* changed */
        tu_assert_contains(got, "\nvm uuid=u4 name=vm4 since=1 pid=1004 pidstart=7 halt_poll_ns=300000 error=changed\n");
        tu_assert_contains(got, "\nvm uuid=u5 name=vm5 since=1 pid=1005 pidstart=7 halt_poll_ns=300000\n");
        assert_int_equal(got[strlen(got) - 1], '\n'); /* the loaded last line had none */
        free(want);
        free(got);
        vh_state_done(&st);
        /* a newer field on a line that did not change stays */
        assert_int_equal(vh_state_load(&st, NULL), 0);
        assert_int_equal(vh_state_save(&st, NULL), 0);
        vh_state_done(&st);
        got = tu_read(root, "/run/vmhooks/state");
        assert_null(strstr(got, "future=1")); /* u3 changed above: formatted, without what this vmhooks ignores */
        free(got);
        tu_write(root, "/run/vmhooks/state", "vmhooks-state 1\nvm uuid=a name=a since=1 future=1\nvm uuid=b name=b since=1\n");
        assert_int_equal(vh_state_load(&st, NULL), 0);
        vh_state_find(&st, "b")->since = 2;
        assert_int_equal(vh_state_save(&st, NULL), 0);
        vh_state_done(&st);
        got = tu_read(root, "/run/vmhooks/state");
        assert_string_equal(got, "vmhooks-state 1\nvm uuid=a name=a since=1 future=1\nvm uuid=b name=b since=2");
        free(got);
}

static void test_log_file_names(void **state)
{
        (void)state;
        static const char *const cases[][2] = {
                { "web-01", "web-01.log" },        { "a b", "a%20b.log" },
                { "../x", "%2E.%2Fx.log" },        { ".", "%2E.log" },
                { "", "%00.log" },                 { "a/b", "a%2Fb.log" },
                { "100%", "100%25.log" },          { "ok.v1_2+3", "ok.v1_2+3.log" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *n = vh_log_file_name(cases[i][0]);
                assert_string_equal(n, cases[i][1]);
                free(n);
        }
        /* every byte value: only safe characters come out */
        char all[256];
        for (int i = 1; i < 256; i++)
                all[i - 1] = (char)i;
        all[255] = '\0';
        char *n = vh_log_file_name(all);
        assert_true(strlen(n) <= 204 + 4);
        tu_assert_contains(n, "~");
        for (const char *p = n; *p; p++)
                assert_non_null(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+.-%~", *p));
        /* long names that differ only at the end stay apart */
        char a[300], b[300];
        memset(a, 'q', sizeof(a));
        a[299] = '\0';
        memcpy(b, a, sizeof(a));
        b[298] = 'r';
        char *na = vh_log_file_name(a), *nb = vh_log_file_name(b);
        assert_string_not_equal(na, nb);
        assert_true(strlen(na) <= 208);
        free(na);
        free(nb);
        free(n);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip_hostile_names),
                cmocka_unit_test(test_damage_per_record),
                cmocka_unit_test_setup_teardown(test_corrupt_file_kept_aside, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_lost_knob_left_alone, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_save_is_atomic_and_private, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_save_keeps_unchanged_lines, tu_setup_root, tu_teardown_root),
                cmocka_unit_test(test_log_file_names),
        };
        return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
