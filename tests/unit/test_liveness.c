/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Liveness: libvirt's file names for every name it accepts, the lock
 * witnesses, the decisions (pure), and the sweep that applies them: a
 * start abandoned by its daemon, a slow start, QEMU hidden by hidepid,
 * temp files of dead writers.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lifecycle.h"
#include "liveness.h"
#include "state.h"
#include "util.h"

/* What libvirt 9.0 wrote in /run/libvirt/qemu for these names (tests/integration/FACTS.md, t-names.sh). */
static void test_escape_like_libvirt(void **state)
{
        (void)state;
        static const struct {
                const char *name, *want;
        } cases[] = {
                { "R&D", "R&amp;D" },
                { "a<b>c", "a&lt;b&gt;c" },
                { "q'x\"y", "q&apos;x&quot;y" },
                { "sp ace", "sp ace" },
                { "tab\tx", "tab\tx" },          /* \t \n \r are kept */
                { "cr\rlf\n", "cr\rlf\n" },
                { "\x01" "a\x08\x0b\x0c\x0e\x19" "b", "ab" }, /* dropped, like virBufferEscapeString */
                { "\x1a\x1f", "\x1a\x1f" },      /* not in libvirt's list: kept */
                { "100%s", "100%s" },            /* not a format */
                { "caf\xc3\xa9", "caf\xc3\xa9" },
                { "&amp;", "&amp;amp;" },
                { ".hidden", ".hidden" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *got = NULL;
                assert_int_equal(vh_libvirt_escape_name(cases[i].name, &got), 0);
                if (strcmp(got, cases[i].want) != 0)
                        fail_msg("escape(\"%s\") = \"%s\", expected \"%s\"", cases[i].name, got, cases[i].want);
                free(got);
        }
}

static void test_file_names(void **state)
{
        const char *root = *state;
        char *want = NULL;
        char *p = vh_libvirt_pidfile("R&D");
        assert_true(asprintf(&want, "%s/run/libvirt/qemu/R&amp;D.pid", root) > 0);
        assert_string_equal(p, want);
        free(p);
        free(want);
        /* the status file keeps the name as it is */
        p = vh_libvirt_statusfile("R&D");
        assert_true(asprintf(&want, "%s/run/libvirt/qemu/R&D.xml", root) > 0);
        assert_string_equal(p, want);
        free(p);
        free(want);
        /* libvirt refuses '/' in a name; "." and ".." would name the directory */
        assert_null(vh_libvirt_pidfile("a/b"));
        assert_null(vh_libvirt_pidfile(".."));
        assert_null(vh_libvirt_statusfile("."));
        /* the PID of R&D comes from the escaped file */
        tu_write(root, "/run/libvirt/qemu/R&amp;D.pid", "4242");
        int pid = 0;
        assert_int_equal(vh_read_qemu_pid("R&D", &pid, NULL), 0);
        assert_int_equal(pid, 4242);
}

/* A child that holds a POSIX lock on byte 0 of `path` until killed (as QEMU and libvirtd do). */
static pid_t lock_in_child(const char *path)
{
        int ready[2];
        assert_int_equal(pipe(ready), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                int fd = open(path, O_RDWR | O_CREAT, 0644);
                struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
                char c = fd >= 0 && fcntl(fd, F_SETLK, &fl) == 0 ? 'y' : 'n';
                if (write(ready[1], &c, 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        close(ready[1]);
        char c = 0;
        assert_int_equal(read(ready[0], &c, 1), 1);
        close(ready[0]);
        assert_int_equal(c, 'y');
        return pid;
}

static void reap(pid_t pid)
{
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
}

static char *rooted(const char *root, const char *rel)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s%s", root, rel) > 0);
        return p;
}

static void test_lock_holder(void **state)
{
        const char *root = *state;
        tu_write(root, "/run/libvirt/qemu/driver.pid", "1");
        char *path = rooted(root, "/run/libvirt/qemu/driver.pid");
        int holder = -1;
        assert_int_equal(vh_lock_holder(path, &holder), 0);
        pid_t child = lock_in_child(path);
        assert_int_equal(vh_lock_holder(path, &holder), 1);
        assert_int_equal(holder, child);
        reap(child);
        assert_int_equal(vh_lock_holder(path, &holder), 0);
        free(path);
        path = rooted(root, "/run/libvirt/qemu/none.pid");
        assert_int_equal(vh_lock_holder(path, &holder), -ENOENT);
        free(path);
}

/* The decision table for one process, against the facts an independent reading gives. */
static void test_decide_alive(void **state)
{
        (void)state;
        const char *why = NULL;
        vh_proc_facts f = { .lock = -ENOENT, .kill_errno = -1 };
        /* /proc shows it: the start time decides (0 = not known: trust the PID) */
        f.proc_seen = true;
        f.proc_start = 77;
        assert_int_equal(vh_decide_alive(10, 77, &f, &why), VH_ALIVE_YES);
        assert_int_equal(vh_decide_alive(10, 0, &f, &why), VH_ALIVE_YES);
        assert_int_equal(vh_decide_alive(10, 78, &f, &why), VH_ALIVE_NO);
        assert_string_equal(why, "its PID now belongs to another process");
        /* /proc hides it (hidepid=2): the lock decides */
        f = (vh_proc_facts){ .lock = 1, .lock_pid = 10, .kill_errno = EPERM };
        assert_int_equal(vh_decide_alive(10, 77, &f, &why), VH_ALIVE_YES);
        f.lock_pid = 11;
        assert_int_equal(vh_decide_alive(10, 77, &f, &why), VH_ALIVE_NO);
        f.lock_pid = 0; /* holder in another PID namespace: not decided by the lock */
        assert_int_equal(vh_decide_alive(10, 77, &f, &why), VH_ALIVE_UNKNOWN);
        f = (vh_proc_facts){ .lock = 0, .kill_errno = EPERM };
        assert_int_equal(vh_decide_alive(10, 77, &f, &why), VH_ALIVE_NO);
        assert_string_equal(why, "its lock is free");
        /* no lock file: gone for QEMU (libvirt removes it at stop), not known for a daemon */
        f = (vh_proc_facts){ .lock = -ENOENT, .kill_errno = -1, .file_while_alive = true };
        assert_int_equal(vh_decide_alive(10, 77, &f, &why), VH_ALIVE_NO);
        f.file_while_alive = false;
        assert_int_equal(vh_decide_alive(10, 77, &f, &why), VH_ALIVE_UNKNOWN);
        f.kill_errno = ESRCH;
        assert_int_equal(vh_decide_alive(10, 77, &f, &why), VH_ALIVE_NO);
        assert_string_equal(why, "no such process");
        f.kill_errno = EPERM;
        assert_int_equal(vh_decide_alive(10, 77, &f, &why), VH_ALIVE_UNKNOWN);
        assert_int_equal(vh_decide_alive(0, 0, &f, &why), VH_ALIVE_UNKNOWN);
}

static void test_decide_starting(void **state)
{
        (void)state;
        vh_reg g = { .daemon = 100, .daemonstart = 5 };
        const char *why = NULL;
        vh_proc_facts q = { .lock = -ENOENT, .kill_errno = -1 };
        vh_proc_facts d = { .lock = 1, .lock_pid = 100, .kill_errno = -1 };
        /* daemon alive, no QEMU yet: starting, only time decides */
        assert_int_equal(vh_decide_starting(&g, &q, &d, &why), VH_ALIVE_UNKNOWN);
        /* QEMU holds its pidfile: runs, whatever the daemon */
        q.lock = 1;
        q.lock_pid = 300;
        d.lock_pid = 200;
        assert_int_equal(vh_decide_starting(&g, &q, &d, &why), VH_ALIVE_YES);
        /* daemon restarted (the driver lock is another PID's) and no QEMU: abandoned */
        q.lock = 0;
        assert_int_equal(vh_decide_starting(&g, &q, &d, &why), VH_ALIVE_NO);
        assert_string_equal(why, "another process holds its lock");
        /* no daemon runs the QEMU driver */
        d = (vh_proc_facts){ .lock = 0, .kill_errno = -1 };
        assert_int_equal(vh_decide_starting(&g, &q, &d, &why), VH_ALIVE_NO);
        /* /proc shows the daemon with its start time: alive */
        d = (vh_proc_facts){ .lock = -ENOENT, .proc_seen = true, .proc_start = 5, .kill_errno = -1 };
        assert_int_equal(vh_decide_starting(&g, &q, &d, &why), VH_ALIVE_UNKNOWN);
        d.proc_start = 6;
        assert_int_equal(vh_decide_starting(&g, &q, &d, &why), VH_ALIVE_NO);
        /* a registration of an older vmhooks (no daemon): the grace period */
        g.daemon = 0;
        assert_int_equal(vh_decide_starting(&g, &q, &d, &why), VH_ALIVE_UNKNOWN);
}

static vh_demands halt(uint32_t ns)
{
        return (vh_demands){ .thp = VH_THP_NONE, .has_halt_poll = true, .halt_poll_ns = ns };
}

static void setup_knobs(const char *root)
{
        tu_write(root, "/sys/kernel/mm/transparent_hugepage/enabled", "always [madvise] never\n");
        tu_write(root, "/sys/module/kvm/parameters/halt_poll_ns", "200000\n");
        tu_write(root, "/sys/devices/virtual/workqueue/cpumask", "f\n");
        tu_write(root, "/sys/bus/workqueue/devices/writeback/cpumask", "f\n");
        tu_write(root, "/sys/devices/system/cpu/online", "0-3\n");
        tu_write(root, "/proc/1/stat", "1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n");
}

/* Register `uuid` as the hook's prepare does; returns the names dropped (and why) on the way. */
static void reg(const char *uuid, uint32_t ns, vh_txn_result *res)
{
        vh_demands d = halt(ns);
        *res = (vh_txn_result){ 0 };
        assert_int_equal(vh_txn_register(uuid, uuid, &d, false, res, NULL), 0);
}

/* libvirtd killed after prepare, before QEMU: the next call (of any VM) drops the ghost and restores. */
static void test_abandoned_start_dropped(void **state)
{
        const char *root = *state;
        setup_knobs(root);
        tu_write(root, "/run/libvirt/qemu/driver.pid", "");
        char *driver = rooted(root, "/run/libvirt/qemu/driver.pid");
        pid_t old = lock_in_child(driver);
        vh_txn_result res;
        reg("ghost", 500000, &res);
        vh_txn_result_done(&res);
        char *v = tu_read(root, "/sys/module/kvm/parameters/halt_poll_ns");
        assert_string_equal(v, "500000");
        free(v);
        char *st = tu_read(root, "/run/vmhooks/state");
        char *dm = NULL;
        assert_true(asprintf(&dm, " daemon=%d", (int)old) > 0);
        tu_assert_contains(st, dm);
        free(dm);
        free(st);
        /* while the daemon lives, another VM's call keeps it (starting) */
        reg("other", 300000, &res);
        assert_int_equal(res.n_dropped, 0);
        vh_txn_result_done(&res);
        /* libvirtd is SIGKILLed; a new one takes the driver lock */
        reap(old);
        pid_t fresh = lock_in_child(driver);
        vh_txn_result unreg = { 0 };
        assert_int_equal(vh_txn_unregister(NULL, "other", &unreg, NULL), 0);
        assert_int_equal(unreg.n_dropped, 1);
        assert_string_equal(unreg.dropped[0], "ghost");
        tu_assert_contains(unreg.dropped_why[0], "its start was abandoned: the libvirt daemon that started it");
        tu_assert_contains(unreg.dropped_why[0], "is gone (another process holds its lock) and no QEMU runs for it");
        vh_txn_result_done(&unreg);
        v = tu_read(root, "/sys/module/kvm/parameters/halt_poll_ns");
        assert_string_equal(v, "200000");
        free(v);
        st = tu_read(root, "/run/vmhooks/state");
        assert_null(strstr(st, "vm "));
        free(st);
        reap(fresh);
        free(driver);
}

/* A start that runs QEMU after its daemon died (QEMU holds its pidfile) is kept, and its PID learnt. */
static void test_qemu_outlives_daemon(void **state)
{
        const char *root = *state;
        setup_knobs(root);
        tu_write(root, "/run/libvirt/qemu/driver.pid", "");
        char *driver = rooted(root, "/run/libvirt/qemu/driver.pid");
        pid_t old = lock_in_child(driver);
        vh_txn_result res;
        reg("R&D", 500000, &res);
        vh_txn_result_done(&res);
        char *pidfile = rooted(root, "/run/libvirt/qemu/R&amp;D.pid");
        pid_t qemu = lock_in_child(pidfile);
        char num[16];
        snprintf(num, sizeof(num), "%d", (int)qemu);
        tu_write(root, "/run/libvirt/qemu/R&amp;D.pid", num);
        reap(old);
        reg("other", 300000, &res);
        assert_int_equal(res.n_dropped, 0);
        vh_txn_result_done(&res);
        char *st = tu_read(root, "/run/vmhooks/state");
        char *want = NULL;
        /* /proc (of the test root) does not show it: hidepid-like; the lock says it runs */
        assert_true(asprintf(&want, " pid=%d ", (int)qemu) > 0);
        tu_assert_contains(st, want);
        free(want);
        free(st);
        /* QEMU dies: its lock goes with it (libvirt has not removed the file yet) */
        reap(qemu);
        reg("third", 300000, &res);
        /* R&D's QEMU is gone; "other" registered while no daemon ran the QEMU driver: abandoned too */
        assert_int_equal(res.n_dropped, 2);
        for (size_t i = 0; i < res.n_dropped; i++)
                if (streq(res.dropped[i], "R&D"))
                        tu_assert_contains(res.dropped_why[i], "no longer runs");
                else
                        tu_assert_contains(res.dropped_why[i], "no daemon ran the QEMU driver when it registered");
        vh_txn_result_done(&res);
        free(pidfile);
        free(driver);
}

/* A slow start (daemon alive, no QEMU) is kept through the grace period, then dropped with a reason. */
static void test_slow_start(void **state)
{
        const char *root = *state;
        setup_knobs(root);
        tu_write(root, "/run/libvirt/qemu/driver.pid", "");
        char *driver = rooted(root, "/run/libvirt/qemu/driver.pid");
        pid_t d = lock_in_child(driver);
        vh_reg g = { .name = (char *)"slow", .since = 1000 };
        g.daemon = d;
        char *why = NULL;
        assert_true(vh_reg_alive(&g, 1000 + VH_START_GRACE_S - 1, &why));
        assert_null(why);
        assert_false(vh_reg_alive(&g, 1000 + VH_START_GRACE_S + 5, &why));
        tu_assert_contains(why, "no QEMU runs for it 605 s after prepare");
        free(why);
        reap(d);
        /* its daemon is gone: no grace */
        why = NULL;
        assert_false(vh_reg_alive(&g, 1001, &why));
        tu_assert_contains(why, "abandoned");
        free(why);
        free(driver);
}

/* A PID /proc does not list is kept while QEMU holds its pidfile (hidepid=2), dropped once it does not. */
static void test_hidden_qemu(void **state)
{
        const char *root = *state;
        setup_knobs(root);
        char *pidfile = rooted(root, "/run/libvirt/qemu/h.pid");
        tu_write(root, "/run/libvirt/qemu/h.pid", "");
        pid_t qemu = lock_in_child(pidfile);
        char text[512];
        snprintf(text, sizeof(text), "vmhooks-state 1\nvm uuid=h name=h since=1 pid=%d pidstart=5 halt_poll_ns=500000\n",
                 (int)qemu);
        tu_write(root, "/run/vmhooks/state", text);
        vh_txn_result res;
        reg("x", 100000, &res);
        assert_int_equal(res.n_dropped, 0);
        vh_txn_result_done(&res);
        reap(qemu);
        reg("y", 100000, &res);
        assert_int_equal(res.n_dropped, 1);
        assert_string_equal(res.dropped[0], "h");
        vh_txn_result_done(&res);
        free(pidfile);
}

/* state.tmp.* / intent.tmp.* left by a writer that died before its rename go at the next call (under the lock). */
static void test_dead_temps_removed(void **state)
{
        const char *root = *state;
        setup_knobs(root);
        tu_write(root, "/run/vmhooks/state.tmp.Ab12Cd", "half");
        tu_write(root, "/run/vmhooks/intent.tmp.x9Y8z7", "half");
        tu_write(root, "/run/vmhooks/other.tmp.Ab12Cd", "not ours");
        vh_txn_result res;
        reg("x", 100000, &res);
        assert_int_equal(res.n_removed_temps, 2);
        vh_txn_result_done(&res);
        assert_false(tu_exists(root, "/run/vmhooks/state.tmp.Ab12Cd"));
        assert_false(tu_exists(root, "/run/vmhooks/intent.tmp.x9Y8z7"));
        assert_true(tu_exists(root, "/run/vmhooks/other.tmp.Ab12Cd"));
        assert_true(tu_exists(root, "/run/vmhooks/state"));
}

/* A hook whose daemon died while it waited for the lock: its parent at its start is the daemon. */
static void test_caller_daemon(void **state)
{
        const char *root = *state;
        tu_write(root, "/run/libvirt/qemu/driver.pid", "");
        char *driver = rooted(root, "/run/libvirt/qemu/driver.pid");
        pid_t d = lock_in_child(driver);
        vh_reg g = { 0 };
        vh_liveness_set_caller(4242);
        vh_reg_learn_daemon(&g);
        assert_int_equal(g.daemon, d); /* the driver's holder first */
        reap(d);
        vh_reg_learn_daemon(&g);
        assert_int_equal(g.daemon, 4242);
        vh_liveness_set_caller(1); /* reparented to init already, and the driver's lock is free: none */
        vh_reg_learn_daemon(&g);
        assert_int_equal(g.daemon, -1);
        const char *why = NULL;
        vh_proc_facts q = { .lock = -ENOENT, .kill_errno = -1 }, df = q;
        assert_int_equal(vh_decide_starting(&g, &q, &df, &why), VH_ALIVE_NO);
        char *text = NULL;
        vh_state st = { 0 };
        assert_int_equal(vh_state_parse("vmhooks-state 1\nvm uuid=u name=n since=1 daemon=none\n", &st, NULL), 0);
        assert_int_equal(st.regs[0].daemon, -1);
        assert_int_equal(vh_state_format(&st, &text, NULL), 0);
        tu_assert_contains(text, " daemon=none");
        free(text);
        vh_state_done(&st);
        /* no driver file at all (no libvirt here): unknown */
        unlink(driver);
        vh_reg_learn_daemon(&g);
        assert_int_equal(g.daemon, 0);
        vh_liveness_set_caller(0);
        free(driver);
}

/* The daemon fields survive the table. */
static void test_daemon_roundtrip(void **state)
{
        (void)state;
        const char *text = "vmhooks-state 1\nvm uuid=u name=R%26D since=5 daemon=117 daemonstart=4321 pid=9 pidstart=8\n";
        vh_state st = { 0 };
        assert_int_equal(vh_state_parse(text, &st, NULL), 0);
        assert_int_equal(st.regs[0].daemon, 117);
        assert_int_equal(st.regs[0].daemonstart, 4321);
        char *out = NULL;
        assert_int_equal(vh_state_format(&st, &out, NULL), 0);
        tu_assert_contains(out, " daemon=117 daemonstart=4321 pid=9 pidstart=8");
        free(out);
        vh_state_done(&st);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_escape_like_libvirt),
                cmocka_unit_test_setup_teardown(test_file_names, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_lock_holder, tu_setup_root, tu_teardown_root),
                cmocka_unit_test(test_decide_alive),
                cmocka_unit_test(test_decide_starting),
                cmocka_unit_test_setup_teardown(test_abandoned_start_dropped, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_qemu_outlives_daemon, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_slow_start, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_hidden_qemu, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_dead_temps_removed, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_caller_daemon, tu_setup_root, tu_teardown_root),
                cmocka_unit_test(test_daemon_roundtrip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
