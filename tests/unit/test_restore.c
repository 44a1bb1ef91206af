/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * `vmhooks restore [--force]`: every original back, refusals while VMs are
 * registered, what it prints and logs; and the system log lines (errors,
 * refusals, restores) that go to /dev/log.
 */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lifecycle.h"
#include "util.h"

#define THP "/sys/kernel/mm/transparent_hugepage/enabled"
#define HALT "/sys/module/kvm/parameters/halt_poll_ns"
#define WQ "/sys/devices/virtual/workqueue/cpumask"

static void register_vm(const char *uuid, const char *name)
{
        vh_demands d = { .thp = VH_THP_NEVER, .has_halt_poll = true, .halt_poll_ns = 400000 };
        assert_int_equal(vh_cpuset_parse_list("2-3", &d.isolate, NULL), 0);
        d.isolate_from = VH_ISO_WQ;
        vh_txn_result res = { 0 };
        assert_int_equal(vh_txn_register(uuid, name, &d, false, &res, NULL), 0);
        vh_txn_result_done(&res);
        vh_demands_done(&d);
}

/* A datagram socket at ROOT/dev/log, as syslogd has. */
static int listen_syslog(const char *root)
{
        char *dir = NULL, *path = NULL;
        assert_true(asprintf(&dir, "%s/dev", root) > 0 && asprintf(&path, "%s/dev/log", root) > 0);
        (void)mkdir(dir, 0755);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        assert_true(strlen(path) < sizeof(sa.sun_path));
        strcpy(sa.sun_path, path);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        free(dir);
        free(path);
        return fd;
}

static char *drain(int fd)
{
        vh_buf b = { 0 };
        assert_int_equal(vh_buf_puts(&b, ""), 0);
        char msg[4096];
        ssize_t n;
        while ((n = recv(fd, msg, sizeof(msg) - 1, MSG_DONTWAIT)) > 0) {
                msg[n] = '\0';
                assert_int_equal(vh_buf_printf(&b, "%s\n", msg), 0);
        }
        return b.data;
}

static void test_restore_refuses_then_forces(void **state)
{
        char *root = *state;
        int log = listen_syslog(root);
        register_vm("uuid-a", "A");
        char *v = tu_read(root, HALT);
        assert_string_equal(v, "400000");
        free(v);

        char *out = NULL, *err = NULL;
        int rc = tu_run_tool(NULL, &out, &err, (const char *const[]){ "restore", NULL });
        assert_int_equal(rc, 1);
        tu_assert_contains(err, "vmhooks restore: 1 VM is registered (A): they still demand their knobs; stop them "
                                "first, or use --force");
        free(out);
        free(err);
        v = tu_read(root, HALT);
        assert_string_equal(v, "400000"); /* nothing written */
        free(v);

        rc = tu_run_tool(NULL, &out, &err, (const char *const[]){ "restore", "--force", NULL });
        assert_int_equal(rc, 0);
        tu_assert_contains(out, "dropped the registration of VM A: it keeps running, untuned\n");
        tu_assert_contains(out, "halt_poll_ns: 400000 -> 200000; restored the original");
        tu_assert_contains(out, "thp: never -> madvise; restored the original");
        tu_assert_contains(out, "workqueue_cpumask: 3 -> f; restored the original");
        tu_assert_contains(out, "restore: 4 knobs restored, 0 left alone (changed by someone else), 0 failed; "
                                "1 registration dropped\n");
        free(out);
        free(err);
        v = tu_read(root, HALT);
        assert_string_equal(v, "200000");
        free(v);
        v = tu_read(root, WQ);
        assert_string_equal(v, "f");
        free(v);
        v = tu_read(root, "/run/vmhooks/state");
        assert_string_equal(v, "vmhooks-state 1");
        free(v);
        /* the VM's own log says what happened to it */
        v = tu_read(root, "/var/log/vmhooks/A.log");
        tu_assert_contains(v, "vmhooks restore --force: registration dropped by the administrator");
        tu_assert_contains(v, "vmhooks restore --force: halt_poll_ns: 400000 -> 200000; restored the original");
        free(v);
        /* and the system log has every write */
        char *sys = drain(log);
        tu_assert_contains(sys, "vmhooks[");
        tu_assert_contains(sys, "]: vmhooks restore: halt_poll_ns: 400000 -> 200000; restored the original");
        tu_assert_contains(sys, "<29>"); /* daemon.notice */
        free(sys);

        /* nothing left: a second restore says so and changes nothing */
        rc = tu_run_tool(NULL, &out, &err, (const char *const[]){ "restore", NULL });
        assert_int_equal(rc, 0);
        tu_assert_contains(out, "restore: 0 knobs restored, 0 left alone (changed by someone else), 0 failed; "
                                "0 registrations dropped\n");
        free(out);
        free(err);
        close(log);
}

/* A knob someone else changed is left as it is, and said so. */
static void test_restore_leaves_drift(void **state)
{
        char *root = *state;
        register_vm("uuid-a", "A");
        tu_write(root, HALT, "123\n");
        char *out = NULL, *err = NULL;
        int rc = tu_run_tool(NULL, &out, &err, (const char *const[]){ "restore", "--force", NULL });
        assert_int_equal(rc, 0);
        tu_assert_contains(out, "halt_poll_ns: now 123; changed by someone else");
        tu_assert_contains(out, "3 knobs restored, 1 left alone");
        free(out);
        free(err);
        char *v = tu_read(root, HALT);
        assert_string_equal(v, "123");
        free(v);
}

/* An error of the hook reaches the system log, with the VM's name. */
static void test_errors_reach_syslog(void **state)
{
        char *root = *state;
        int log = listen_syslog(root);
        char *err = NULL;
        /* not XML: the hook logs an error (and starts the VM) */
        assert_int_equal(tu_run_hook(root, "not xml", &err, NULL, "web1", "prepare", "begin"), 0);
        free(err);
        char *sys = drain(log);
        tu_assert_contains(sys, "<27>"); /* daemon.err */
        tu_assert_contains(sys, "]: VM web1: prepare begin: error: ");
        free(sys);
        close(log);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_restore_refuses_then_forces, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_restore_leaves_drift, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_errors_reach_syslog, tu_setup_root, tu_teardown_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
