/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * AllowedCPUs of systemd units (lib/sdunits.c), the parts that need no
 * systemd: CPU list <-> systemd's "ay" bitmask both ways, unit names
 * (machine.slice refused), what vh_systemd_usable says on each layout of a
 * fake host, libsystemd missing, and a bus that never answers (bounded).
 * The bus itself is tested against a real systemd in
 * tests/integration/t-systemd.sh.
 */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "root.h"
#include "sdunits.h"

/* The expected bytes are written out by hand: byte i bit j is CPU 8i+j (systemd's cpu_set_to_dbus). */
static void expect_bytes(const char *list, const uint8_t *want, size_t want_len)
{
        uint8_t *b = NULL;
        size_t n = 99;
        vh_error *e = NULL;
        int r = vh_allowed_cpus_to_bytes(list, &b, &n, &e);
        if (r < 0)
                fail_msg("\"%s\": %s", list, vh_error_msg(e));
        assert_int_equal(n, want_len);
        if (want_len)
                assert_memory_equal(b, want, want_len);
        else
                assert_null(b);
        /* and back */
        char *l = NULL;
        assert_int_equal(vh_allowed_cpus_from_bytes(b, n, &l), 0);
        char *canon = NULL;
        assert_int_equal(vh_allowed_cpus_from_bytes(want, want_len, &canon), 0);
        assert_string_equal(l, canon);
        free(l);
        free(canon);
        free(b);
}

static void test_list_to_bytes(void **state)
{
        (void)state;
        expect_bytes("", NULL, 0);
        expect_bytes("0", (const uint8_t[]){ 0x01 }, 1);
        expect_bytes("7", (const uint8_t[]){ 0x80 }, 1);
        expect_bytes("8", (const uint8_t[]){ 0x00, 0x01 }, 2);
        expect_bytes("1-2,9", (const uint8_t[]){ 0x06, 0x02 }, 2);
        expect_bytes("0-7", (const uint8_t[]){ 0xff }, 1);
        expect_bytes("63", (const uint8_t[]){ 0, 0, 0, 0, 0, 0, 0, 0x80 }, 8);
        expect_bytes("64", (const uint8_t[]){ 0, 0, 0, 0, 0, 0, 0, 0, 0x01 }, 9);
        expect_bytes("0,63-64", (const uint8_t[]){ 0x01, 0, 0, 0, 0, 0, 0, 0x80, 0x01 }, 9);
        expect_bytes("0-63", (const uint8_t[]){ 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, 8);
        expect_bytes("3,2,1", (const uint8_t[]){ 0x0e }, 1);
}

static void expect_list(const uint8_t *bytes, size_t len, const char *want)
{
        char *l = NULL;
        assert_int_equal(vh_allowed_cpus_from_bytes(bytes, len, &l), 0);
        assert_string_equal(l, want);
        free(l);
}

static void test_bytes_to_list(void **state)
{
        (void)state;
        expect_list(NULL, 0, "");
        expect_list((const uint8_t[]){ 0, 0, 0, 0, 0, 0, 0, 0 }, 8, ""); /* all zero: unset too */
        expect_list((const uint8_t[]){ 0x03, 0, 0, 0, 0, 0, 0, 0 }, 8, "0-1"); /* systemd pads to 8 bytes */
        expect_list((const uint8_t[]){ 0x01 }, 1, "0");
        expect_list((const uint8_t[]){ 0, 0, 0, 0, 0, 0, 0, 0x80 }, 8, "63");
        expect_list((const uint8_t[]){ 0, 0, 0, 0, 0, 0, 0, 0x80, 0x01 }, 9, "63-64");
        expect_list((const uint8_t[]){ 0xaa }, 1, "1,3,5,7");
        /* 8192 bytes is 65536 CPUs, the most a cpuset holds; one byte more is refused */
        uint8_t *big = calloc(8193, 1);
        assert_non_null(big);
        big[8191] = 0x80;
        expect_list(big, 8192, "65535");
        big[8192] = 0x01;
        char *l = NULL;
        assert_int_equal(vh_allowed_cpus_from_bytes(big, 8193, &l), -E2BIG);
        assert_null(l);
        free(big);
}

static void test_bad_lists(void **state)
{
        (void)state;
        static const char *const bad[] = { "a", "3-1", "1,", ",1", "65536", "-1", "0 1", "1;2" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                uint8_t *b = (uint8_t *)"untouched";
                size_t n = 77;
                vh_error *e = NULL;
                assert_int_equal(vh_allowed_cpus_to_bytes(bad[i], &b, &n, &e), -EINVAL);
                assert_non_null(e);
                assert_non_null(strstr(e->msg, "cpulist"));
                assert_int_equal(n, 77); /* outputs untouched on failure */
                vh_error_free(e);
        }
        /* set refuses a bad list before it goes near the bus */
        vh_error *e = NULL;
        assert_int_equal(vh_unit_set_allowed_cpus("system.slice", "0-", &e), -EINVAL);
        tu_assert_contains(e->msg, "systemd unit system.slice: AllowedCPUs");
        vh_error_free(e);
}

static void test_unit_names(void **state)
{
        (void)state;
        static const char *const good[] = { "system.slice", "user.slice", "init.scope", "libvirtd.service",
                                            "system-getty.slice", "user-1000.slice", "getty@tty1.service" };
        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
                assert_int_equal(vh_unit_name_check(good[i], NULL), 0);
        static const struct {
                const char *name;
                int r;
                const char *msg;
        } bad[] = {
                { "machine.slice", -EPERM, "machine.slice holds the VMs and is never touched" },
                { "machine-qemu\\x2d1\\x2dg1.scope", -EPERM, "never touched" },
                { "system", -EINVAL, "expected a .slice, .scope or .service" },
                { "sshd.socket", -EINVAL, "expected a .slice, .scope or .service" },
                { ".slice", -EINVAL, "expected a .slice" },
                { "a b.slice", -EINVAL, "expected letters, digits" },
                { "../x.slice", -EINVAL, "expected letters, digits" },
                { "", -EINVAL, "expected 1 to 255 characters" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                vh_error *e = NULL;
                assert_int_equal(vh_unit_name_check(bad[i].name, &e), bad[i].r);
                assert_int_equal(e->code, -bad[i].r);
                tu_assert_contains(e->msg, bad[i].msg);
                vh_error_free(e);
        }
        char longname[300];
        memset(longname, 'a', sizeof(longname));
        strcpy(longname + 250, ".slice");
        assert_int_equal(vh_unit_name_check(longname, NULL), -EINVAL);
        /* machine.slice is refused by set before the bus (none here) */
        vh_error *e = NULL;
        assert_int_equal(vh_unit_set_allowed_cpus("machine.slice", "0", &e), -EPERM);
        tu_assert_contains(e->msg, "never touched");
        vh_error_free(e);
}

/* vh_systemd_usable on a fake host; returns its result and *why */
static int usable(char **why)
{
        vh_systemd_disconnect();
        return vh_systemd_usable(why);
}

static void test_usable_layouts(void **state)
{
        const char *root = *state;
        char *why = NULL;
        assert_int_equal(usable(&why), -ENOENT);
        tu_assert_contains(why, "systemd is not PID 1 here (no /run/systemd/system)");
        tu_assert_contains(why, "nothing is done");
        free(why);

        tu_write(root, "/run/systemd/system/.keep", "");
        /* v1: /sys/fs/cgroup a tmpfs of v1 hierarchies (openEuler 22.03's default) */
        tu_write(root, "/sys/fs/cgroup/cpuset/cpuset.cpus", "0-3\n");
        assert_int_equal(usable(&why), -ENOTSUP);
        tu_assert_contains(why, "cgroup v1 layout");
        tu_assert_contains(why, "nothing is done");
        free(why);
        /* hybrid: cgroup2 on /sys/fs/cgroup/unified, controllers on v1 */
        tu_write(root, "/sys/fs/cgroup/unified/cgroup.controllers", "\n");
        assert_int_equal(usable(&why), -ENOTSUP);
        tu_assert_contains(why, "cgroup v1/v2 hybrid layout");
        free(why);
        /* v2 without cpuset ("cpusets" or "cpu" are not it) */
        tu_write(root, "/sys/fs/cgroup/cgroup.controllers", "cpu io memory cpusets pids\n");
        assert_int_equal(usable(&why), -ENOTSUP);
        tu_assert_contains(why, "cgroup v2 without the cpuset controller");
        free(why);
}

/* libsystemd missing: in a child, so that this process's cached loader state is not spoiled */
static void test_usable_no_libsystemd(void **state)
{
        const char *root = *state;
        tu_write(root, "/run/systemd/system/.keep", "");
        tu_write(root, "/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                setenv("VMHOOKS_LIBSYSTEMD", "libsystemd-not-here.so.0", 1);
                char *why = NULL;
                int r = vh_systemd_usable(&why);
                vh_error *e = NULL;
                int g = vh_unit_set_allowed_cpus("system.slice", "0", &e);
                bool ok = r == -ELIBACC && why && strstr(why, "libsystemd-not-here.so.0 cannot be loaded") &&
                          strstr(why, "nothing is done") && g == -ELIBACC && e &&
                          strstr(e->msg, "systemd unit system.slice: libsystemd-not-here.so.0 cannot be loaded") &&
                          strstr(e->msg, "cannot be tuned here");
                if (!ok)
                        fprintf(stderr, "r=%d why=%s g=%d err=%s\n", r, why ? why : "(null)", g, vh_error_msg(e));
                _exit(ok ? 0 : 1);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
}

static bool have_libsystemd(void)
{
        char *why = NULL;
        int r = usable(&why); /* with no socket below the root: loads the library, cannot connect */
        free(why);
        return r != -ELIBACC;
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* No socket, then a socket that accepts but never answers: a clear error, in about 2 s, never a hang. */
static void test_usable_bus_unreachable(void **state)
{
        const char *root = *state;
        tu_write(root, "/run/systemd/system/.keep", "");
        tu_write(root, "/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
        if (!have_libsystemd()) {
                tu_skip("libsystemd.so.0 is not installed here");
                return;
        }
        char *why = NULL;
        int r = usable(&why);
        assert_true(r < 0);
        tu_assert_contains(why, "cannot reach systemd's bus at ");
        tu_assert_contains(why, "/run/systemd/private");
        free(why);
        vh_error *e = NULL;
        char *list = (char *)"untouched";
        assert_true(vh_unit_get_allowed_cpus("system.slice", &list, &e) < 0);
        assert_string_equal(list, "untouched");
        tu_assert_contains(e->msg, "systemd unit system.slice: cannot reach systemd's bus at ");
        vh_error_free(e);

        /* a listening socket nobody serves: the kernel completes the connect, no one answers the auth */
        tu_write(root, "/run/systemd/.keep", "");
        char *path = NULL;
        assert_true(asprintf(&path, "%s/run/systemd/private", root) > 0);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path)) {
                close(fd);
                free(path);
                tu_skip("the test root's path is too long for a UNIX socket");
                return;
        }
        strcpy(sa.sun_path, path);
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
        assert_int_equal(listen(fd, 4), 0);
        double t0 = now_s();
        r = usable(&why);
        double t = now_s() - t0;
        assert_int_equal(r, -ETIMEDOUT);
        tu_assert_contains(why, "cannot reach systemd's bus at");
        tu_assert_contains(why, "timed out");
        free(why);
        assert_true(t >= 1.5 && t < 5.0);
        vh_systemd_disconnect();
        close(fd);
        free(path);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_list_to_bytes),
                cmocka_unit_test(test_bytes_to_list),
                cmocka_unit_test(test_bad_lists),
                cmocka_unit_test(test_unit_names),
                cmocka_unit_test_setup_teardown(test_usable_layouts, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_usable_no_libsystemd, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_usable_bus_unreachable, tu_setup_root, tu_teardown_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
