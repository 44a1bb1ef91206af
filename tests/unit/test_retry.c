/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The background retrier (lib/retry.h): a failed write is retried after
 * the delays and the retrier stops once none is left; it gives up after
 * the last delay, leaves the work to one already waiting, and the hook
 * starts it detached (its caller does not wait for it).
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fault.h"
#include "lifecycle.h"
#include "retry.h"
#include "util.h"

#define THP "/sys/kernel/mm/transparent_hugepage/enabled"
#define STATE "/run/vmhooks/state"

static void count_in(const char *hay, const char *needle, size_t want)
{
        size_t n = 0;
        for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
                n++;
        if (n != want)
                fail_msg("\"%s\" %zu times, expected %zu, in:\n%s", needle, n, want, hay);
}

static void parse_delays(void **state)
{
        (void)state;
        unsigned d[VH_RETRY_MAX_DELAYS];
        assert_int_equal(vh_retry_parse_delays("off", d, VH_RETRY_MAX_DELAYS), 0);
        assert_int_equal(vh_retry_parse_delays("10,2000,0", d, VH_RETRY_MAX_DELAYS), 3);
        assert_int_equal(d[0], 10);
        assert_int_equal(d[1], 2000);
        assert_int_equal(d[2], 0);
        assert_int_equal(vh_retry_parse_delays("600000", d, VH_RETRY_MAX_DELAYS), 1);
        static const char *const bad[] = { "", ",", "1,", ",1", "1,,2", "x", "-1", "600001", "1 2", "off,1",
                                           "1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (vh_retry_parse_delays(bad[i], d, VH_RETRY_MAX_DELAYS) != -EINVAL)
                        fail_msg("\"%s\" accepted", bad[i]);
}

/* A registered VM demanding thp never, then unregistered while the write of the original fails. */
static void failed_restore(const char *root)
{
        vh_demands d = { .thp = VH_THP_NEVER };
        vh_txn_result res = { 0 };
        vh_error *e = NULL;
        if (vh_txn_register("uuid-a", "A", &d, false, &res, &e) < 0)
                fail_msg("register: %s", vh_error_msg(e));
        assert_false(res.retry_due);
        vh_txn_result_done(&res);
        setenv("VMHOOKS_FAULT", "sysfs-write@1=EIO", 1);
        vh_fault_reset();
        vh_txn_result un = { 0 };
        assert_int_equal(vh_txn_unregister("uuid-a", "A", &un, NULL), 0);
        unsetenv("VMHOOKS_FAULT");
        vh_fault_reset();
        assert_true(un.report.failed);
        assert_true(un.retry_due);
        vh_txn_result_done(&un);
        char *st = tu_read(root, STATE);
        tu_assert_contains(st, "knob thp ");
        tu_assert_contains(st, " failed=");
        free(st);
        char *v = tu_read(root, THP);
        assert_string_equal(v, "never");
        free(v);
}

static void run_settles(void **state)
{
        char *root = *state;
        failed_restore(root);
        static const unsigned delays[] = { 1, 1, 1 };
        assert_int_equal(vh_retry_run("A", "stopped end", delays, ELEMENTSOF(delays)), VH_RETRY_SETTLED);
        char *v = tu_read(root, THP);
        assert_string_equal(v, "madvise");
        free(v);
        char *st = tu_read(root, STATE);
        assert_null(strstr(st, "knob thp"));
        free(st);
        char *log = tu_read(root, "/var/log/vmhooks/A.log");
        tu_assert_contains(log, "retry after stopped end: thp: never -> madvise; restored the original");
        tu_assert_contains(log, "retry after stopped end: nothing left to retry (try 1, 0.001 s after the call)");
        free(log);
}

static void run_gives_up(void **state)
{
        char *root = *state;
        failed_restore(root);
        /* the knob turns into a directory: every read and write of it fails from now on */
        char *path = NULL;
        assert_true(asprintf(&path, "%s%s", root, THP) > 0);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(mkdir(path, 0755), 0);
        static const unsigned delays[] = { 1, 2, 3 };
        assert_int_equal(vh_retry_run("A", "release end", delays, ELEMENTSOF(delays)), VH_RETRY_GAVE_UP);
        char *log = tu_read(root, "/var/log/vmhooks/A.log");
        /* only the last try's failure is told, then that it gave up */
        count_in(log, "retry after release end: error: thp:", 1);
        tu_assert_contains(log, "retry after release end: gave up after 3 tries over 0.006 s; the next hook call or "
                                "vmhooks restore retries (vmhooks status shows what failed)");
        free(log);
        char *st = tu_read(root, STATE);
        tu_assert_contains(st, "knob thp original=madvise");
        tu_assert_contains(st, " failed=");
        free(st);
        /* the original is kept: once the knob is back, a retrier puts it back */
        assert_int_equal(rmdir(path), 0);
        tu_write(root, THP, "never");
        static const unsigned once[] = { 1 };
        assert_int_equal(vh_retry_run("A", "release end", once, 1), VH_RETRY_SETTLED);
        char *v = tu_read(root, THP);
        assert_string_equal(v, "madvise");
        free(v);
        free(path);
}

/*
 * A retry that fails the same way leaves the records as they were: its
 * write-ahead intent must go all the same, or the next call takes it for
 * the write of a call killed before its save (and logs a write that never was).
 */
static void same_failure_leaves_no_intent(void **state)
{
        char *root = *state;
        failed_restore(root);
        setenv("VMHOOKS_FAULT", "sysfs-write@1=EIO", 1);
        vh_fault_reset();
        vh_txn_result res = { 0 };
        assert_int_equal(vh_txn_settle(&res, NULL), 0);
        unsetenv("VMHOOKS_FAULT");
        vh_fault_reset();
        assert_true(res.report.failed);
        assert_true(res.retry_due);
        vh_txn_result_done(&res);
        assert_false(tu_exists(root, "/run/vmhooks/intent"));
        vh_txn_result again = { 0 };
        assert_int_equal(vh_txn_settle(&again, NULL), 0);
        assert_int_equal(again.report.n, 1);
        assert_int_equal(again.report.changes[0].kind, VH_CHANGE_RESTORE);
        assert_string_equal(again.report.changes[0].why, "restored the original: no running VM demands it");
        assert_false(again.retry_due);
        vh_txn_result_done(&again);
}

/* A demanded knob whose first read failed has no record yet: the retrier tunes it all the same. */
static void failed_first_read_retried(void **state)
{
        char *root = *state;
        char *path = NULL;
        assert_true(asprintf(&path, "%s%s", root, THP) > 0);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(mkdir(path, 0755), 0);
        vh_demands d = { .thp = VH_THP_NEVER };
        vh_txn_result res = { 0 };
        assert_int_equal(vh_txn_register("uuid-a", "A", &d, false, &res, NULL), 0);
        assert_true(res.report.failed);
        assert_true(res.retry_due);
        vh_txn_result_done(&res);
        char *st = tu_read(root, STATE);
        assert_null(strstr(st, "knob thp")); /* nothing known of it to save */
        free(st);
        assert_int_equal(rmdir(path), 0);
        tu_write(root, THP, "madvise");
        static const unsigned delays[] = { 1 };
        assert_int_equal(vh_retry_run("A", "prepare begin", delays, 1), VH_RETRY_SETTLED);
        char *v = tu_read(root, THP);
        assert_string_equal(v, "never");
        free(v);
        char *log = tu_read(root, "/var/log/vmhooks/A.log");
        tu_assert_contains(log, "retry after prepare begin: thp: madvise -> never; demanded by A (thp never)");
        free(log);
        free(path);
}

/* One already waits: it has not looked yet, so it sees this failure too; this one ends at once. */
static void run_leaves_to_waiter(void **state)
{
        char *root = *state;
        failed_restore(root);
        char *path = NULL;
        assert_true(asprintf(&path, "%s%s", root, VH_RETRY_WAIT_LOCK) > 0);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(flock(fd, LOCK_EX), 0);
        static const unsigned delays[] = { 1 };
        assert_int_equal(vh_retry_run("A", "stopped end", delays, 1), VH_RETRY_LEFT);
        char *st = tu_read(root, STATE);
        tu_assert_contains(st, " failed="); /* nothing was tried */
        free(st);
        close(fd);
        assert_int_equal(vh_retry_run("A", "stopped end", delays, 1), VH_RETRY_SETTLED);
        free(path);
}

/* While one runs, the next one waits for it, then tries after its own delays. */
static void run_waits_for_runner(void **state)
{
        char *root = *state;
        failed_restore(root);
        char *path = NULL;
        assert_true(asprintf(&path, "%s%s", root, VH_RETRY_RUN_LOCK) > 0);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(flock(fd, LOCK_EX), 0);
        pid_t child = fork();
        assert_true(child >= 0);
        if (child == 0) {
                close(fd); /* a copy of the runner's lock description would keep it held */
                static const unsigned delays[] = { 1 };
                _exit(vh_retry_run("A", "stopped end", delays, 1) == VH_RETRY_SETTLED ? 0 : 1);
        }
        /* it waits: the wait lock is taken, the failure still there */
        char *wpath = NULL;
        assert_true(asprintf(&wpath, "%s%s", root, VH_RETRY_WAIT_LOCK) > 0);
        int wfd = -1;
        for (int i = 0; i < 500; i++) {
                wfd = open(wpath, O_RDWR | O_CLOEXEC);
                if (wfd >= 0 && flock(wfd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK)
                        break;
                if (wfd >= 0)
                        close(wfd);
                wfd = -1;
                struct timespec ts = { 0, 10 * 1000000L };
                nanosleep(&ts, NULL);
        }
        assert_true(wfd >= 0); /* the waiter holds the wait lock */
        close(wfd);
        char *st = tu_read(root, STATE);
        tu_assert_contains(st, " failed=");
        free(st);
        close(fd); /* the runner ends */
        int status;
        assert_int_equal(waitpid(child, &status, 0), child);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        char *v = tu_read(root, THP);
        assert_string_equal(v, "madvise");
        free(v);
        free(path);
        free(wpath);
}

/* build/qemu-hook: the retrier it starts outlives it, and its caller does not wait for it. */
static void hook_starts_retrier(void **state)
{
        char *root = *state;
        char *xml = tu_domain_xml("A", "11111111-1111-1111-1111-111111111111", NULL, false, "<thp mode=\"never\"/>");
        char *err = NULL;
        assert_int_equal(tu_run_hook(root, xml, &err, NULL, "A", "prepare", "begin"), 0);
        free(err);
        char *v = tu_read(root, THP);
        assert_string_equal(v, "never");
        free(v);
        char *path = NULL;
        assert_true(asprintf(&path, "%s%s", root, THP) > 0);
        assert_int_equal(unlink(path), 0);
        assert_int_equal(mkdir(path, 0755), 0);
        /*
         * The first try 1.5 s after the stop: the hook has long returned by then.  Not under
         * valgrind (VH_HOOK_PREFIX): it keeps a copy of stderr of its own in the retrier, so
         * the pipe the caller reads stays open until the retrier ends (the retrier's code runs
         * under valgrind in the tests above, in this process).
         */
        char *prefix = getenv("VH_HOOK_PREFIX") ? strdup(getenv("VH_HOOK_PREFIX")) : NULL;
        unsetenv("VH_HOOK_PREFIX");
        int rc = tu_run_hook(root, xml, &err, "VMHOOKS_RETRY_DELAYS=1500,300,300,300,300,300,300,300", "A",
                             "stopped", "end");
        if (prefix)
                setenv("VH_HOOK_PREFIX", prefix, 1);
        free(prefix);
        assert_int_equal(rc, 0);
        free(err);
        char *st = tu_read(root, STATE);
        tu_assert_contains(st, "knob thp original=madvise"); /* not yet retried */
        free(st);
        assert_int_equal(rmdir(path), 0);
        tu_write(root, THP, "never");
        bool settled = false;
        for (int i = 0; i < 600 && !settled; i++) {
                char *s = tu_read(root, STATE);
                settled = strstr(s, "knob thp") == NULL;
                free(s);
                if (!settled) {
                        struct timespec ts = { 0, 25 * 1000000L };
                        nanosleep(&ts, NULL);
                }
        }
        if (!settled) {
                char *l = tu_read(root, "/var/log/vmhooks/A.log"), *st2 = tu_read(root, STATE);
                print_message("not settled; the log:\n%s\nthe state:\n%s\n", l, st2);
                free(l);
                free(st2);
        }
        assert_true(settled);
        v = tu_read(root, THP);
        assert_string_equal(v, "madvise");
        free(v);
        /* its last line comes right after the save: wait for it */
        char *log = NULL;
        for (int i = 0; i < 200; i++) {
                free(log);
                log = tu_read(root, "/var/log/vmhooks/A.log");
                if (strstr(log, "nothing left to retry"))
                        break;
                struct timespec ts = { 0, 10 * 1000000L };
                nanosleep(&ts, NULL);
        }
        tu_assert_contains(log, "stopped end: error: thp: ");
        tu_assert_contains(log, "retry after stopped end: thp: never -> madvise; restored the original");
        tu_assert_contains(log, "retry after stopped end: nothing left to retry (try ");
        free(log);
        free(path);
        free(xml);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(parse_delays),
                cmocka_unit_test_setup_teardown(run_settles, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(run_gives_up, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(failed_first_read_retried, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(same_failure_leaves_no_intent, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(run_leaves_to_waiter, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(run_waits_for_runner, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(hook_starts_retrier, tu_setup_root, tu_teardown_root),
        };
        return cmocka_run_group_tests_name("retry", tests, NULL, NULL);
}
