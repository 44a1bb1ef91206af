/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which libvirt daemons a host runs (lib/daemons.h), on fake hosts
 * (VMHOOKS_ROOT): pidfiles and /proc/PID/comm as libvirt's daemons leave
 * them, systemd's enablement links and masks; and what `vmhooks audit`
 * says about virtqemud.conf, virtproxyd.conf and their socket units.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "audit/audit-int.h"
#include "daemons.h"
#include "util.h"

/* a running daemon as libvirt leaves it: /run/NAME.pid and the process */
static void daemon_runs(const char *root, const char *name, int pid, const char *comm)
{
        char rel[64], text[32];
        snprintf(rel, sizeof(rel), "/run/%s.pid", name);
        snprintf(text, sizeof(text), "%d\n", pid);
        tu_write(root, rel, text);
        snprintf(rel, sizeof(rel), "/proc/%d/comm", pid);
        snprintf(text, sizeof(text), "%s\n", comm);
        tu_write(root, rel, text);
}

/* systemctl enable: a link in TARGET.wants to the unit (an absolute target, as systemd writes it) */
static void enable(const char *root, const char *target, const char *unit)
{
        char rel[160], *p = NULL;
        snprintf(rel, sizeof(rel), "/etc/systemd/system/%s.wants/.keep", target);
        tu_write(root, rel, "");
        assert_true(asprintf(&p, "%s/etc/systemd/system/%s.wants/%s", root, target, unit) > 0);
        char *dest = NULL;
        assert_true(asprintf(&dest, "/usr/lib/systemd/system/%s", unit) > 0);
        assert_int_equal(symlink(dest, p), 0);
        free(dest);
        free(p);
}

static void mask(const char *root, const char *unit)
{
        char *p = NULL;
        tu_write(root, "/etc/systemd/system/.keep", "");
        assert_true(asprintf(&p, "%s/etc/systemd/system/%s", root, unit) > 0);
        assert_int_equal(symlink("/dev/null", p), 0);
        free(p);
}

static char *describe(void)
{
        vh_daemons d;
        vh_daemons_probe(&d);
        char *line = vh_daemons_describe(&d);
        assert_non_null(line);
        return line;
}

static void test_none(void **state)
{
        (void)state;
        vh_daemons d;
        vh_daemons_probe(&d);
        assert_int_equal(d.layout, VH_LAYOUT_NONE);
        char *line = describe();
        assert_string_equal(line, "none: no libvirtd or virtqemud runs or is enabled");
        free(line);
}

static void test_monolithic(void **state)
{
        const char *root = *state;
        daemon_runs(root, "libvirtd", 812, "libvirtd");
        enable(root, "multi-user.target", "libvirtd.service");
        enable(root, "sockets.target", "libvirtd.socket");
        vh_daemons d;
        vh_daemons_probe(&d);
        assert_int_equal(d.layout, VH_LAYOUT_MONOLITHIC);
        assert_int_equal(d.libvirtd.pid, 812);
        assert_true(d.libvirtd.enabled);
        assert_false(d.libvirtd.tcp_socket);
        char *line = describe();
        assert_string_equal(line, "monolithic: libvirtd running (PID 812)");
        free(line);
}

/* Fedora: virtqemud.socket enabled; the daemon exits after 120 s idle and the socket starts it again */
static void test_modular_idle(void **state)
{
        const char *root = *state;
        enable(root, "sockets.target", "virtqemud.socket");
        enable(root, "sockets.target", "virtqemud-ro.socket");
        enable(root, "sockets.target", "virtproxyd.socket");
        enable(root, "sockets.target", "virtproxyd-tls.socket");
        vh_daemons d;
        vh_daemons_probe(&d);
        assert_int_equal(d.layout, VH_LAYOUT_MODULAR);
        assert_int_equal(d.virtqemud.pid, 0);
        assert_true(d.virtproxyd.tls_socket);
        assert_false(d.virtproxyd.tcp_socket);
        char *line = describe();
        assert_string_equal(line, "modular: virtqemud enabled, not running, virtproxyd enabled, not running");
        free(line);
}

static void test_modular_running(void **state)
{
        const char *root = *state;
        daemon_runs(root, "virtqemud", 1501, "virtqemud");
        daemon_runs(root, "virtproxyd", 1502, "virtproxyd");
        enable(root, "sockets.target", "virtqemud.socket");
        vh_daemons d;
        vh_daemons_probe(&d);
        assert_int_equal(d.layout, VH_LAYOUT_MODULAR);
        char *line = describe();
        assert_string_equal(line, "modular: virtqemud running (PID 1501), virtproxyd running (PID 1502)");
        free(line);
}

/* a pidfile left behind, or its PID now another program: not running */
static void test_stale_and_masked(void **state)
{
        const char *root = *state;
        daemon_runs(root, "libvirtd", 900, "bash");
        tu_write(root, "/run/virtqemud.pid", "1501\n"); /* no such process */
        enable(root, "multi-user.target", "libvirtd.service");
        mask(root, "libvirtd.service");
        vh_daemons d;
        vh_daemons_probe(&d);
        assert_int_equal(d.libvirtd.pid, 0);
        assert_int_equal(d.virtqemud.pid, 0);
        assert_false(d.libvirtd.enabled);
        assert_int_equal(d.layout, VH_LAYOUT_NONE);
}

static void test_mixed(void **state)
{
        const char *root = *state;
        daemon_runs(root, "libvirtd", 812, "libvirtd");
        daemon_runs(root, "virtqemud", 1501, "virtqemud");
        vh_daemons d;
        vh_daemons_probe(&d);
        assert_int_equal(d.layout, VH_LAYOUT_MIXED);
        vh_results r = { 0 };
        assert_int_equal(vh_audit_daemons(&r), 0);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.items[0].level, VH_LEVEL_WARN);
        tu_assert_contains(r.items[0].message, "mixed: libvirtd running (PID 812), virtqemud running (PID 1501)");
        tu_assert_contains(r.items[0].fix, "systemctl disable --now libvirtd.service");
        vh_results_done(&r);
}

/* the listen results of one audit, as lines */
static char *listen_lines(void)
{
        vh_results r = { 0 };
        assert_int_equal(vh_audit_listen(&r), 0);
        vh_buf b = { 0 };
        for (size_t i = 0; i < r.n; i++) {
                char *line = vh_result_line(&r.items[i]);
                assert_int_equal(vh_buf_printf(&b, "%s\n", line), 0);
                free(line);
        }
        vh_results_done(&r);
        return b.data;
}

/* virtproxyd-tcp.socket enabled: plain TCP whatever listen_tcp says, with the file's auth_tcp */
static void test_proxy_tcp_socket(void **state)
{
        const char *root = *state;
        tu_write(root, "/etc/libvirt/virtproxyd.conf", "listen_tcp = 0\nauth_tcp = \"none\"\n");
        enable(root, "sockets.target", "virtproxyd-tcp.socket");
        char *out = listen_lines();
        tu_assert_contains(out, "FAIL listen: /etc/libvirt/virtproxyd.conf: virtproxyd-tcp.socket is enabled "
                                "(systemd listens on TCP for it, whatever listen_tcp says) with auth_tcp = \"none\"");
        tu_assert_contains(out, "/etc/libvirt/libvirtd.conf: not present");
        free(out);
}

static void test_proxy_tcp_socket_no_file(void **state)
{
        const char *root = *state;
        enable(root, "sockets.target", "libvirtd-tcp.socket");
        char *out = listen_lines();
        tu_assert_contains(out, "WARN listen: /etc/libvirt/libvirtd.conf: not present, and libvirtd-tcp.socket is "
                                "enabled");
        free(out);
}

/* virtqemud has no TCP listener (built without WITH_IP): its IP keys do nothing; UNIX socket auth does */
static void test_virtqemud_conf(void **state)
{
        const char *root = *state;
        tu_write(root, "/etc/libvirt/virtqemud.conf",
                 "# a libvirtd.conf copied over\nlisten_tcp = 1\nauth_tcp = \"none\"\nauth_unix_rw = \"none\"\n");
        char *out = listen_lines();
        tu_assert_contains(out, "NOTE listen: /etc/libvirt/virtqemud.conf: line 2: listen_tcp has no effect: "
                                "virtqemud listens on its UNIX sockets only");
        tu_assert_contains(out, "FAIL listen: /etc/libvirt/virtqemud.conf: auth_unix_rw = \"none\" with "
                                "unix_sock_rw_perms = \"0777\": every local user controls every VM");
        assert_null(strstr(out, "TCP port 16509"));
        free(out);
        /* the Debian way: a group may write, others may not */
        tu_write(root, "/etc/libvirt/virtqemud.conf",
                 "unix_sock_group = \"libvirt\"\nunix_sock_rw_perms = \"0770\"\nauth_unix_rw = \"none\"\n");
        out = listen_lines();
        tu_assert_contains(out, "PASS listen: /etc/libvirt/virtqemud.conf: UNIX sockets only");
        assert_null(strstr(out, "auth_unix_rw"));
        free(out);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_none, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_monolithic, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_modular_idle, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_modular_running, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_stale_and_masked, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_mixed, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_proxy_tcp_socket, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_proxy_tcp_socket_no_file, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_virtqemud_conf, tu_setup_root, tu_teardown_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
