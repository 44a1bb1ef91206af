/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * build/qemu-hook end to end on a fake host (VMHOOKS_ROOT), called the way
 * libvirt calls it: NAME OP SUBOP -, domain XML on stdin, empty environment.
 */
#include "testutil.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define THP "/sys/kernel/mm/transparent_hugepage/enabled"
#define HALT "/sys/module/kvm/parameters/halt_poll_ns"
#define WQ "/sys/devices/virtual/workqueue/cpumask"
#define WB "/sys/bus/workqueue/devices/writeback/cpumask"

static const char *const pins_a[] = { "2", "3", NULL };
static const char *const pins_b[] = { "1", NULL };

static char *xml_a(void)
{
        return tu_domain_xml("A", "11111111-1111-1111-1111-111111111111", pins_a, false,
                             "<kworkers isolate=\"yes\"/><thp mode=\"never\"/><halt-poll ns=\"400000\"/>");
}

static char *xml_b(void)
{
        return tu_domain_xml("B", "22222222-2222-2222-2222-222222222222", pins_b, true,
                             "<thp mode=\"auto\"/><halt-poll ns=\"300000\"/><kworkers isolate=\"yes\"/>");
}

static void expect(const char *root, const char *rel, const char *want)
{
        char *v = tu_read(root, rel);
        if (strcmp(v, want) != 0)
                fail_msg("%s reads \"%s\", expected \"%s\"", rel, v, want);
        free(v);
}

static void run_ok(const char *root, const char *xml, const char *name, const char *op, const char *subop)
{
        char *err = NULL;
        int rc = tu_run_hook(root, xml, &err, NULL, name, op, subop);
        if (rc != 0)
                fail_msg("%s %s %s exited %d: %s", name, op, subop, rc, err);
        assert_string_equal(err, ""); /* nothing on stderr when all is well */
        free(err);
}

/* The "Done means" of issue 3. */
static void test_two_vms_story(void **state)
{
        char *root = *state;
        char *a = xml_a(), *b = xml_b();

        run_ok(root, a, "A", "prepare", "begin");
        expect(root, WQ, "3");
        expect(root, WB, "3");
        expect(root, THP, "never");
        expect(root, HALT, "400000");
        run_ok(root, a, "A", "start", "begin");
        run_ok(root, a, "A", "started", "begin");

        run_ok(root, b, "B", "prepare", "begin");
        expect(root, WQ, "1");
        expect(root, WB, "1");
        expect(root, THP, "never");
        expect(root, HALT, "400000");

        run_ok(root, a, "A", "stopped", "end");
        run_ok(root, a, "A", "release", "end");
        expect(root, WQ, "d");
        expect(root, WB, "d");
        expect(root, THP, "never");
        expect(root, HALT, "300000");

        run_ok(root, b, "B", "stopped", "end");
        run_ok(root, b, "B", "release", "end");
        expect(root, WQ, "f");
        expect(root, WB, "f");
        expect(root, THP, "madvise");
        expect(root, HALT, "200000");
        expect(root, "/run/vmhooks/state", "vmhooks-state 1");

        char *log = tu_read(root, "/var/log/vmhooks/A.log");
        tu_assert_contains(log, "Z prepare begin: policy: thp never, halt-poll 400000, kworkers isolate=yes");
        tu_assert_contains(log, "prepare begin: thp: madvise -> never; demanded by A (thp never)");
        tu_assert_contains(log, "prepare begin: halt_poll_ns: 200000 -> 400000; demanded by A (halt-poll 400000)");
        tu_assert_contains(log, "prepare begin: workqueue_cpumask: f -> 3; demanded by A (isolate CPUs 2-3)");
        tu_assert_contains(log, "prepare begin: wq_cpumask:writeback: f -> 3; demanded by A (isolate CPUs 2-3)");
        tu_assert_contains(log, "stopped end: halt_poll_ns: 400000 -> 300000; demanded by B (halt-poll 300000)");
        tu_assert_contains(log, "stopped end: workqueue_cpumask: 1 -> d; demanded by B (isolate CPUs 1)");
        free(log);
        log = tu_read(root, "/var/log/vmhooks/B.log");
        tu_assert_contains(log, "prepare begin: policy: thp auto, halt-poll 300000, kworkers isolate=yes; host demands: "
                                "thp auto (static hugepages: never); halt_poll_ns 300000; kworkers off CPUs 1");
        tu_assert_contains(log, "prepare begin: workqueue_cpumask: 3 -> 1; demanded by A (isolate CPUs 2-3), B (isolate CPUs 1)");
        tu_assert_contains(log, "stopped end: thp: never -> madvise; restored the original: no running VM demands it");
        tu_assert_contains(log, "stopped end: halt_poll_ns: 300000 -> 200000; restored the original");
        tu_assert_contains(log, "stopped end: workqueue_cpumask: d -> f; restored the original");
        tu_assert_contains(log, "stopped end: unregistered\n");
        free(log);
        free(a);
        free(b);
}

/*
 * A broken host policy is ignored as a whole (docs/DECISIONS.md): none of
 * its defaults apply, the VM's valid metadata still does, and the log says
 * which policy was used.  --wrapper-config fails loudly on it.
 */
static void test_bad_host_policy(void **state)
{
        char *root = *state;
        tu_write(root, "/etc/vmhooks/policy.xml",
                 "<policy xmlns=\"urn:vmhooks:policy:1\">\n  <thp mode=\"never\">\n  <halt-poll ns=\"250000\"/>\n</policy>\n");
        char *x = tu_domain_xml("meta", "66666666-6666-6666-6666-666666666666", NULL, false, "<halt-poll ns=\"400000\"/>");
        run_ok(root, x, "meta", "prepare", "begin");
        expect(root, HALT, "400000");                   /* the metadata's demand */
        expect(root, THP, "always [madvise] never");    /* the broken file's thp never is not applied */
        char *log = tu_read(root, "/var/log/vmhooks/meta.log");
        tu_assert_contains(log, "prepare begin: error: ");
        tu_assert_contains(log, "policy.xml: line 2: <thp> is not closed before </policy> on line 4");
        tu_assert_contains(log, "prepare begin: ignoring the host policy ");
        tu_assert_contains(log, ": none of its defaults apply; this VM's metadata still does\n");
        tu_assert_contains(log, "; policy from: metadata only (host policy ignored)\n");
        free(log);
        run_ok(root, x, "meta", "release", "end");
        expect(root, HALT, "200000");
        free(x);

        /* a VM without metadata: nothing at all */
        char *y = tu_domain_xml("plain", "77777777-7777-7777-7777-777777777777", NULL, false, NULL);
        run_ok(root, y, "plain", "prepare", "begin");
        log = tu_read(root, "/var/log/vmhooks/plain.log");
        tu_assert_contains(log, ": none of its defaults apply\n");
        tu_assert_contains(log, "; policy from: none (host policy ignored)");
        free(log);
        run_ok(root, y, "plain", "release", "end");
        free(y);

        /* make install and the packages run --wrapper-config: exit 1, one loud line */
        char *cmd = NULL, *out = NULL;
        const char *hook = getenv("VH_HOOK");
        assert_true(asprintf(&cmd, "'%s' --wrapper-config --root='%s' >%s/wc.out 2>&1; echo $? >>%s/wc.out",
                             hook && *hook ? hook : "build/test/qemu-hook", root, root, root) > 0);
        assert_int_equal(system(cmd), 0);
        out = tu_read(root, "/wc.out");
        tu_assert_contains(out, "vmhooks: ERROR: ");
        tu_assert_contains(out, "policy.xml: line 2: <thp> is not closed");
        tu_assert_contains(out, "until it is fixed the hook ignores the host policy");
        assert_true(out[strlen(out) - 1] == '1');
        free(out);
        /* fixed: exit 0 */
        tu_write(root, "/etc/vmhooks/policy.xml", "<policy xmlns=\"urn:vmhooks:policy:1\"/>\n");
        assert_int_equal(system(cmd), 0);
        out = tu_read(root, "/wc.out");
        tu_assert_contains(out, "wrote ");
        assert_true(out[strlen(out) - 1] == '0');
        free(out);
        free(cmd);
}

/*
 * THP defrag and shmem_enabled reach the kernel through the hook: the
 * registration carries the defrag demand and the shared-memory backing
 * (found by make realhost: both were dropped when a VM registered).
 */
static void test_defrag_and_shmem(void **state)
{
        char *root = *state;
        const char *xml = "<domain type='kvm'><name>M</name><uuid>7e57d000-0000-4000-8000-00000000000d</uuid>"
                          "<memory unit='KiB'>65536</memory><vcpu>1</vcpu>"
                          "<memoryBacking><source type='memfd'/><access mode='shared'/></memoryBacking>"
                          "<metadata><vmhooks:policy xmlns:vmhooks='urn:vmhooks:policy:1'>"
                          "<vmhooks:thp mode='always' defrag='never'/></vmhooks:policy></metadata>"
                          "<os><type arch='x86_64'>hvm</type></os></domain>";
        run_ok(root, xml, "M", "prepare", "begin");
        expect(root, THP, "always");
        expect(root, "/sys/kernel/mm/transparent_hugepage/defrag", "never");
        expect(root, "/sys/kernel/mm/transparent_hugepage/shmem_enabled", "always");
        char *st = tu_read(root, "/run/vmhooks/state");
        tu_assert_contains(st, " defrag=never");
        free(st);
        run_ok(root, xml, "M", "stopped", "end");
        run_ok(root, xml, "M", "release", "end");
        expect(root, THP, "madvise");
        expect(root, "/sys/kernel/mm/transparent_hugepage/defrag", "madvise");
        expect(root, "/sys/kernel/mm/transparent_hugepage/shmem_enabled", "never");
}

static void test_bad_metadata_continue(void **state)
{
        char *root = *state;
        char *x = tu_domain_xml("bad", "33333333-3333-3333-3333-333333333333", pins_a, false,
                                "<thp mode=\"sometimes\"/><halt-poll ns=\"400000\"/>");
        tu_write(root, "/etc/vmhooks/policy.xml",
                 "<policy xmlns=\"urn:vmhooks:policy:1\"><halt-poll ns=\"250000\"/></policy>");
        run_ok(root, x, "bad", "prepare", "begin");
        expect(root, HALT, "250000"); /* the host policy still applies */
        expect(root, THP, "always [madvise] never");
        char *log = tu_read(root, "/var/log/vmhooks/bad.log");
        tu_assert_contains(log, "prepare begin: error: metadata of VM bad: line 1 of the <policy> element: <thp mode=\"sometimes\">: expected one of "
                                "auto, madvise, always, never");
        tu_assert_contains(log, "using the host policy only for this VM");
        free(log);
        run_ok(root, x, "bad", "release", "end");
        expect(root, HALT, "200000");
        free(x);
}

static void test_bad_metadata_refuse(void **state)
{
        char *root = *state;
        char *x = tu_domain_xml("strict", "44444444-4444-4444-4444-444444444444", pins_a, false,
                                "<halt-poll ns=\"-5\"/>");
        tu_write(root, "/etc/vmhooks/policy.xml",
                 "<policy xmlns=\"urn:vmhooks:policy:1\"><on-error action=\"refuse\"/><thp mode=\"never\"/></policy>");
        char *err = NULL;
        assert_int_equal(tu_run_hook(root, x, &err, NULL, "strict", "prepare", "begin"), 1);
        /* one line: what, where, what is expected, and why we refuse */
        tu_assert_contains(err, "vmhooks: metadata of VM strict: line 1 of the <policy> element: <halt-poll ns=\"-5\">: expected nanoseconds");
        tu_assert_contains(err, "(refusing: <on-error action=\"refuse\"/>)\n");
        assert_ptr_equal(strchr(err, '\n'), err + strlen(err) - 1);
        free(err);
        /* refused before anything was touched: nothing changed, nothing registered */
        expect(root, THP, "always [madvise] never");
        assert_false(tu_exists(root, "/run/vmhooks/state"));
        char *log = tu_read(root, "/var/log/vmhooks/strict.log");
        tu_assert_contains(log, "refused the start: metadata of VM strict");
        free(log);
        free(x);
}

static void test_write_failure_refuse_restores(void **state)
{
        char *root = *state;
        char *a = xml_a();
        tu_write(root, "/etc/vmhooks/policy.xml",
                 "<policy xmlns=\"urn:vmhooks:policy:1\"><on-error action=\"refuse\"/></policy>");
        char *err = NULL;
        /* the second sysfs write (halt_poll_ns) fails with EINVAL */
        assert_int_equal(tu_run_hook(root, a, &err, "VMHOOKS_FAULT=sysfs-write@2=EINVAL", "A", "prepare", "begin"), 1);
        tu_assert_contains(err, "vmhooks: halt_poll_ns: cannot write \"400000\" to ");
        tu_assert_contains(err, "Invalid argument (refusing");
        free(err);
        expect(root, THP, "madvise"); /* the write that worked was undone */
        expect(root, WQ, "f");
        expect(root, HALT, "200000");
        expect(root, "/run/vmhooks/state", "vmhooks-state 1");
        /* without refuse: logged, the start goes on */
        tu_write(root, "/etc/vmhooks/policy.xml", "<policy xmlns=\"urn:vmhooks:policy:1\"/>");
        assert_int_equal(tu_run_hook(root, a, &err, "VMHOOKS_FAULT=sysfs-write@2=EINVAL", "A", "prepare", "begin"), 0);
        assert_string_equal(err, "");
        free(err);
        char *log = tu_read(root, "/var/log/vmhooks/A.log");
        tu_assert_contains(log, "prepare begin: error: halt_poll_ns: 200000 -> 400000 failed: cannot write");
        free(log);
        expect(root, THP, "never");
        run_ok(root, a, "A", "release", "end");
        expect(root, THP, "madvise");
        free(a);
}

/*
 * A transaction's write lines go to the log in one write: the failure of
 * one log write sends both lines (thp and halt_poll_ns) to stderr at once,
 * which single writes never would.  Which write it is depends on the lines
 * logged before (wrapper.conf, the policy): each is failed in turn.
 */
static void test_log_batch(void **state)
{
        char *root = *state;
        char *a = xml_a();
        bool found = false;
        for (int n = 1; n <= 8 && !found; n++) {
                char env[64], *err = NULL;
                snprintf(env, sizeof(env), "VMHOOKS_FAULT=log-write@%d=EIO", n);
                assert_int_equal(tu_run_hook(root, a, &err, env, "A", "prepare", "begin"), 0);
                bool halt = strstr(err, "vmhooks: A: prepare begin: halt_poll_ns: 200000 -> 400000; ") != NULL;
                bool thp = strstr(err, "vmhooks: A: prepare begin: thp: madvise -> never; ") != NULL;
                if (halt != thp)
                        fail_msg("log write %d failed for one of the two lines only: %s", n, err);
                found = halt;
                free(err);
                expect(root, HALT, "400000");
                run_ok(root, a, "A", "release", "end");
        }
        assert_true(found);
        /* written: one line each, whole, with its timestamp */
        char *log = tu_read(root, "/var/log/vmhooks/A.log");
        tu_assert_contains(log, "Z release end: halt_poll_ns: 400000 -> 200000; ");
        tu_assert_contains(log, "Z release end: thp: never -> madvise; ");
        free(log);
        free(a);
}

static void test_unparsable_xml(void **state)
{
        char *root = *state;
        char *a = xml_a();
        run_ok(root, a, "A", "prepare", "begin");
        expect(root, HALT, "400000");
        /* release with garbage on stdin still unregisters, by name */
        run_ok(root, "<domain", "A", "release", "end");
        expect(root, HALT, "200000");
        expect(root, "/run/vmhooks/state", "vmhooks-state 1");
        /* prepare with garbage: logged, the start goes on */
        run_ok(root, "not xml at all", "A", "prepare", "begin");
        char *log = tu_read(root, "/var/log/vmhooks/A.log");
        tu_assert_contains(log, "prepare begin: error: domain XML on stdin: line 1:");
        free(log);
        free(a);
}

/* Calls that only libvirt's XML rewriting uses print nothing; unknown calls are ignored. */
static void test_silent_calls(void **state)
{
        char *root = *state;
        char *a = xml_a();
        /* calls vmhooks does not handle: silent, no log */
        static const char *const ignored[][2] = { { "attach", "begin" }, { "prepare", "end" }, { "started", "end" } };
        for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++) {
                char *out = NULL, *err = NULL;
                assert_int_equal(tu_run_hook_out(root, a, &out, &err, NULL, "A", ignored[i][0], ignored[i][1]), 0);
                assert_string_equal(out, "");
                assert_string_equal(err, "");
                free(out);
                free(err);
        }
        assert_false(tu_exists(root, "/var/log/vmhooks/A.log"));
        /* migrate and restore with nothing to change: stdout stays empty, libvirt keeps its XML */
        static const char *const incoming[] = { "migrate", "restore" };
        for (size_t i = 0; i < 2; i++) {
                char *out = NULL, *err = NULL;
                assert_int_equal(tu_run_hook_out(root, a, &out, &err, NULL, "A", incoming[i], "begin"), 0);
                assert_string_equal(out, "");
                assert_string_equal(err, "");
                free(out);
                free(err);
        }
        expect(root, HALT, "200000");
        free(a);
}

/* at stopped end QEMU is already gone: the VM is unregistered, not "dropped as stale" */
static void test_stopped_after_qemu_exit(void **state)
{
        char *root = *state;
        char *a = xml_a();
        run_ok(root, a, "A", "prepare", "begin");
        tu_write(root, "/run/libvirt/qemu/A.pid", "4242\n");
        tu_write(root, "/proc/4242/stat", "4242 (qemu) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 99 20\n");
        run_ok(root, a, "A", "started", "begin");
        char *st = tu_read(root, "/run/vmhooks/state");
        tu_assert_contains(st, "pid=4242 pidstart=99");
        free(st);
        char *path = NULL;
        assert_true(asprintf(&path, "%s/proc/4242/stat", root) > 0);
        assert_int_equal(unlink(path), 0);
        *strrchr(path, '/') = '\0';
        assert_int_equal(rmdir(path), 0);
        free(path);
        run_ok(root, a, "A", "stopped", "end");
        char *log = tu_read(root, "/var/log/vmhooks/A.log");
        tu_assert_contains(log, "stopped end: unregistered\n");
        assert_null(strstr(log, "dropped the registration"));
        free(log);
        expect(root, HALT, "200000");
        free(a);
}

/*
 * reconnect keeps what the VM registered at its start: new metadata (or a
 * broken policy) is not read again, so nothing is written and nothing fails,
 * even with a write fault armed.
 */
static void test_reconnect_keeps_registration(void **state)
{
        char *root = *state;
        char *a = xml_a();
        tu_write(root, "/etc/vmhooks/policy.xml",
                 "<policy xmlns=\"urn:vmhooks:policy:1\"><on-error action=\"refuse\"/><kworkers isolate=\"yes\"/></policy>");
        run_ok(root, a, "A", "prepare", "begin");
        expect(root, HALT, "400000");
        char *before = tu_read(root, WQ);
        /* libvirtd restarts; meanwhile the VM's live metadata asks for more and policy.xml got a typo */
        tu_write(root, "/etc/vmhooks/policy.xml", "<policy xmlns=\"urn:vmhooks:policy:1\"><kworkers isolate=\"yse\"/>");
        char *a2 = tu_domain_xml("A", "11111111-1111-1111-1111-111111111111", pins_a, false,
                                 "<kworkers isolate=\"yes\"/><thp mode=\"never\"/><halt-poll ns=\"500000\"/>");
        char *err = NULL;
        assert_int_equal(tu_run_hook(root, a2, &err, "VMHOOKS_FAULT=sysfs-write@1=EINVAL", "A", "reconnect", "begin"), 0);
        free(a2);
        assert_string_equal(err, "");
        free(err);
        char *log = tu_read(root, "/var/log/vmhooks/A.log");
        tu_assert_contains(log, "reconnect begin: libvirtd reconnected: registration kept as at its start");
        assert_null(strstr(log, "reconnect begin: error"));
        free(log);
        char *st = tu_read(root, "/run/vmhooks/state");
        tu_assert_contains(st, "name=A ");
        tu_assert_contains(st, "halt_poll_ns=400000");
        free(st);
        expect(root, HALT, "400000");
        expect(root, WQ, before);
        free(before);
        run_ok(root, a, "A", "release", "end");
        expect(root, HALT, "200000");
        free(a);
}

/* reconnect of a VM without a registration (state lost, vmhooks installed while it ran) registers it */
static void test_reconnect_registers_unknown_vm(void **state)
{
        char *root = *state;
        char *a = xml_a();
        run_ok(root, a, "A", "reconnect", "begin");
        expect(root, HALT, "400000");
        char *log = tu_read(root, "/var/log/vmhooks/A.log");
        tu_assert_contains(log, "reconnect begin: libvirtd reconnected: the VM had no registration");
        free(log);
        run_ok(root, a, "A", "release", "end");
        expect(root, HALT, "200000");
        free(a);
}

/* restore begin on a host without the pinned CPUs: the XML comes back with the pins remapped */
static void test_restore_remaps_pins(void **state)
{
        char *root = *state;
        static const char *const pins[] = { "3", NULL };
        char *x = tu_domain_xml("moved", "66666666-6666-6666-6666-666666666666", pins, false, NULL);
        tu_write(root, "/sys/devices/system/cpu/online", "0-1\n");
        char *out = NULL, *err = NULL;
        assert_int_equal(tu_run_hook_out(root, x, &out, &err, NULL, "moved", "restore", "begin"), 0);
        assert_string_equal(err, "");
        tu_assert_contains(out, "<domain");
        tu_assert_contains(out, "<name>moved</name>");
        assert_null(strstr(out, "cpuset='3'"));
        assert_null(strstr(out, "cpuset=\"3\""));
        char *log = tu_read(root, "/var/log/vmhooks/moved.log");
        tu_assert_contains(log, "restore begin: ");
        tu_assert_contains(log, "vcpupin 0");
        free(log);
        free(out);
        free(err);
        free(x);
}

/* Names with every kind of byte: the log stays inside /var/log/vmhooks, the state survives. */
static void test_hostile_names(void **state)
{
        char *root = *state;
        char longname[400];
        memset(longname, 'x', sizeof(longname) - 1);
        longname[sizeof(longname) - 1] = '\0';
        const char *names[] = { "../../etc/passwd", "..", ".hidden", "new\nline", "tab\there", "sp ace=eq%25",
                                "\x01\x7f\xff\xfe", "é漢字", longname };
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
                char uuid[64];
                snprintf(uuid, sizeof(uuid), "55555555-0000-0000-0000-%012zu", i);
                /* XML cannot carry every byte: libvirt would escape them; use the name in argv */
                char *x = tu_domain_xml("placeholder", uuid, pins_a, false, "<halt-poll ns=\"300000\"/>");
                run_ok(root, x, names[i], "prepare", "begin");
                expect(root, HALT, "300000");
                run_ok(root, x, names[i], "release", "end");
                expect(root, HALT, "200000");
                free(x);
        }
        /* every log file is a plain file directly in the log directory */
        char *dir = NULL;
        assert_true(asprintf(&dir, "%s/var/log/vmhooks", root) > 0);
        DIR *d = opendir(dir);
        assert_non_null(d);
        size_t n = 0;
        for (struct dirent *de; (de = readdir(d));) {
                if (de->d_name[0] == '.' && (!de->d_name[1] || (de->d_name[1] == '.' && !de->d_name[2])))
                        continue;
                n++;
                assert_true(strlen(de->d_name) <= 204);
                for (const char *p = de->d_name; *p; p++)
                        assert_true(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_+.-%~", *p));
                assert_int_not_equal(de->d_name[0], '.');
        }
        closedir(d);
        free(dir);
        assert_int_equal(n, sizeof(names) / sizeof(names[0]));
        assert_false(tu_exists(root, "/etc/passwd.log"));
        assert_false(tu_exists(root, "/var/log/passwd.log"));
        char *log = tu_read(root, "/var/log/vmhooks/%2E.%2F..%2Fetc%2Fpasswd.log");
        tu_assert_contains(log, "prepare begin: policy: halt-poll 300000");
        free(log);
        log = tu_read(root, "/var/log/vmhooks/%2E..log"); /* ".." */
        tu_assert_contains(log, "release end:");
        free(log);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_two_vms_story, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_log_batch, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_defrag_and_shmem, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_bad_metadata_continue, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_bad_metadata_refuse, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_bad_host_policy, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_write_failure_refuse_restores, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_unparsable_xml, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_silent_calls, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_hostile_names, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_restore_remaps_pins, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_reconnect_keeps_registration, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_reconnect_registers_unknown_vm, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_stopped_after_qemu_exit, tu_setup_root, tu_teardown_root),
        };
        return cmocka_run_group_tests_name("hook", tests, NULL, NULL);
}
