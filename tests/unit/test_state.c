/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The state table: round trips, hostile names, corrupt files, the lock. */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "state.h"

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
                g->last_error = strdup("cannot write \"x\" to /sys/y: Invalid argument");
        }
        st.knobs[VH_KNOB_WQ_MASK].saved = true;
        st.knobs[VH_KNOB_WQ_MASK].original = strdup("00000000,0000000f");
        st.knobs[VH_KNOB_WQ_MASK].expected = strdup("3");
        st.knobs[VH_KNOB_WQ_MASK].drifted = true;

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
                assert_string_equal(back.regs[i].last_error, st.regs[i].last_error);
        }
        assert_true(back.knobs[VH_KNOB_WQ_MASK].saved && back.knobs[VH_KNOB_WQ_MASK].drifted);
        assert_string_equal(back.knobs[VH_KNOB_WQ_MASK].original, "00000000,0000000f");
        assert_false(back.knobs[VH_KNOB_THP].saved);
        char *again = NULL;
        assert_int_equal(vh_state_format(&back, &again, NULL), 0);
        assert_string_equal(again, text);
        free(again);
        free(text);
        vh_state_done(&st);
        vh_state_done(&back);
}

static void test_parse_rejects(void **state)
{
        (void)state;
        static const char *const bad[] = {
                "",
                "vmhooks-state 2\n",
                "vmhooks-state 1\nknob nosuch original=1 expected=1\n",
                "vmhooks-state 1\nknob thp original=never\n",
                "vmhooks-state 1\nknob thp original=never expected=never\nknob thp original=never expected=never\n",
                "vmhooks-state 1\nvm name=x\n",
                "vmhooks-state 1\nvm uuid=u name=x pid=-1\n",
                "vmhooks-state 1\nvm uuid=u name=x thp=sometimes\n",
                "vmhooks-state 1\nvm uuid=u name=x%0\n",
                "vmhooks-state 1\nvm uuid=u name=x isolate=a\n",
                "vmhooks-state 1\ngarbage\n",
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                vh_state st = { 0 };
                vh_error *e = NULL;
                if (vh_state_parse(bad[i], &st, &e) == 0)
                        fail_msg("accepted: %s", bad[i]);
                assert_int_equal(st.n_regs, 0);
                vh_error_free(e);
        }
        /* fields from a newer vmhooks are ignored */
        vh_state st = { 0 };
        assert_int_equal(vh_state_parse("vmhooks-state 1\nvm uuid=u name=x future=1\n", &st, NULL), 0);
        assert_int_equal(st.n_regs, 1);
        vh_state_done(&st);
}

static void test_corrupt_file_moved_aside(void **state)
{
        char *root = *state;
        tu_write(root, "/run/vmhooks/state", "vmhooks-state 1\nthis is not a record\n");
        vh_state st = { 0 };
        vh_error *e = NULL;
        assert_true(vh_state_load(&st, &e) < 0);
        tu_assert_contains(e->msg, "/run/vmhooks/state: line 2 is not understood");
        tu_assert_contains(e->msg, "; moved it to ");
        vh_error_free(e);
        assert_int_equal(st.n_regs, 0);
        assert_false(tu_exists(root, "/run/vmhooks/state"));
        assert_true(tu_exists(root, "/run/vmhooks/state.corrupt"));
        /* a missing file is simply empty */
        assert_int_equal(vh_state_load(&st, NULL), 0);
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
        tu_assert_contains(e->msg, "/run/vmhooks/lock is held by another process");
        vh_error_free(e);
        close(fd);
        assert_int_equal(vh_state_lock(50, &fd2, NULL), 0);
        close(fd2);
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
                cmocka_unit_test(test_parse_rejects),
                cmocka_unit_test_setup_teardown(test_corrupt_file_moved_aside, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_save_is_atomic_and_private, tu_setup_root, tu_teardown_root),
                cmocka_unit_test(test_log_file_names),
        };
        return cmocka_run_group_tests_name("state", tests, NULL, NULL);
}
