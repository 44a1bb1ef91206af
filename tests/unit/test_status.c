/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmhooks status on a fake host (VMHOOKS_ROOT): 0, 1 and 2 VMs registered
 * by the real hook, a knob someone else changed, stale registrations and a
 * hook call caught mid-write, a corrupt table left untouched, hostile names
 * in valid JSON, status read while hook calls run, and the command itself.
 * Expected values come from the scenario (f minus pinned CPUs, the largest
 * halt-poll), not from the code under test.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "status.h"
#include "util.h"

#define HALT "/sys/module/kvm/parameters/halt_poll_ns"
#define STATE "/run/vmhooks/state"
#define UUID_A "11111111-1111-1111-1111-111111111111"
#define UUID_B "22222222-2222-2222-2222-222222222222"

static const char *const pins_a[] = { "2", "3", NULL };
static const char *const pins_b[] = { "1", NULL };

static char *xml_a(void)
{
        return tu_domain_xml("A", UUID_A, pins_a, false,
                             "<kworkers isolate=\"yes\"/><thp mode=\"never\"/><halt-poll ns=\"400000\"/>");
}

static char *xml_b(void)
{
        return tu_domain_xml("B", UUID_B, pins_b, true,
                             "<thp mode=\"auto\"/><halt-poll ns=\"300000\"/><kworkers isolate=\"yes\"/>");
}

static void hook(const char *root, const char *xml, const char *name, const char *op, const char *subop)
{
        char *err = NULL;
        int rc = tu_run_hook(root, xml, &err, NULL, name, op, subop);
        if (rc != 0)
                fail_msg("hook %s %s %s exited %d: %s", name, op, subop, rc, err);
        free(err);
}

static void start(const char *root, const char *xml, const char *name)
{
        hook(root, xml, name, "prepare", "begin");
        hook(root, xml, name, "start", "begin");
        hook(root, xml, name, "started", "begin");
}

static void stop(const char *root, const char *xml, const char *name)
{
        hook(root, xml, name, "stopped", "end");
        hook(root, xml, name, "release", "end");
}

/* libvirt's pidfile for NAME and a /proc entry for it, started at `ticks` after boot. */
static void fake_qemu(const char *root, const char *name, int pid, long ticks)
{
        char rel[128], text[256];
        snprintf(rel, sizeof(rel), "/run/libvirt/qemu/%s.pid", name);
        snprintf(text, sizeof(text), "%d\n", pid);
        tu_write(root, rel, text);
        snprintf(rel, sizeof(rel), "/proc/%d/stat", pid);
        snprintf(text, sizeof(text), "%d (qemu-system-x86) S 1 %d %d 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 %ld 0\n",
                 pid, pid, pid, ticks);
        tu_write(root, rel, text);
}

/* The hook linked where libvirt looks, and the wrapper: the install checks pass. */
static void fake_install(const char *root)
{
        tu_write(root, "/usr/libexec/vmhooks/qemu-hook", "#!/bin/sh\n");
        tu_write(root, "/usr/libexec/vmhooks/qemu-kvm", "#!/bin/sh\n");
        char *p = NULL;
        assert_true(asprintf(&p, "%s/usr/libexec/vmhooks/qemu-hook", root) > 0);
        assert_int_equal(chmod(p, 0755), 0);
        free(p);
        assert_true(asprintf(&p, "%s/usr/libexec/vmhooks/qemu-kvm", root) > 0);
        assert_int_equal(chmod(p, 0755), 0);
        free(p);
        tu_write(root, "/etc/libvirt/hooks/.keep", "");
        assert_true(asprintf(&p, "%s/etc/libvirt/hooks/qemu", root) > 0);
        assert_int_equal(symlink("/usr/libexec/vmhooks/qemu-hook", p), 0);
        free(p);
}

static void collect(vh_status *s)
{
        vh_error *e = NULL;
        if (vh_status_collect((int64_t)time(NULL), s, &e) < 0)
                fail_msg("vh_status_collect: %s", vh_error_msg(e));
        assert_null(e);
}

static char *text_of(const vh_status *s)
{
        char *t = NULL;
        vh_error *e = NULL;
        if (vh_status_format_text(s, &t, &e) < 0)
                fail_msg("text: %s", vh_error_msg(e));
        return t;
}

/* The JSON, parsed back strictly: the whole text is one object. */
static json_object *json_of(const vh_status *s)
{
        char *t = NULL;
        vh_error *e = NULL;
        if (vh_status_format_json(s, &t, &e) < 0)
                fail_msg("json: %s", vh_error_msg(e));
        json_tokener *tok = json_tokener_new();
        assert_non_null(tok);
        json_object *o = json_tokener_parse_ex(tok, t, (int)strlen(t));
        enum json_tokener_error je = json_tokener_get_error(tok);
        if (!o || je != json_tokener_success)
                fail_msg("invalid JSON (%s):\n%s", json_tokener_error_desc(je), t);
        /* nothing but the trailing newline after the object */
        assert_true((size_t)json_tokener_get_parse_end(tok) >= strlen(t) - 1);
        json_tokener_free(tok);
        assert_true(json_object_is_type(o, json_type_object));
        free(t);
        return o;
}

static json_object *member(json_object *o, const char *key)
{
        json_object *v = NULL;
        if (!json_object_object_get_ex(o, key, &v))
                fail_msg("JSON member \"%s\" missing", key);
        return v;
}

/* A string member; NULL when it is null. */
static const char *jstr(json_object *o, const char *key)
{
        json_object *v = member(o, key);
        if (!v)
                return NULL;
        assert_true(json_object_is_type(v, json_type_string));
        return json_object_get_string(v);
}

static bool jbool(json_object *o, const char *key)
{
        json_object *v = member(o, key);
        assert_true(json_object_is_type(v, json_type_boolean));
        return json_object_get_boolean(v);
}

static json_object *jknob(json_object *root, const char *name)
{
        json_object *knobs = member(root, "knobs");
        for (size_t i = 0; i < json_object_array_length(knobs); i++) {
                json_object *k = json_object_array_get_idx(knobs, i);
                if (streq(jstr(k, "name"), name))
                        return k;
        }
        fail_msg("no knob %s in the JSON", name);
        return NULL;
}

static void expect_str(const char *got, const char *want, const char *what)
{
        if (!streq_ptr(got, want))
                fail_msg("%s: got \"%s\", expected \"%s\"", what, got ? got : "(null)", want ? want : "(null)");
}

/* The four knobs these tests follow, by the names status shows. */
enum { K_THP, K_HALT, K_WQ, K_WB, K_N };
static const char *const knob_names[K_N] = { "thp", "halt_poll_ns", "workqueue_cpumask", "wq_cpumask:writeback" };

static const vh_status_knob *knob(const vh_status *s, int id)
{
        for (size_t i = 0; i < s->n_knobs; i++)
                if (streq(s->knobs[i].knob.name, knob_names[id]))
                        return &s->knobs[i];
        fail_msg("status shows no knob %s", knob_names[id]);
        return NULL;
}

static const vh_knob_state no_record;

/* The table's record of a knob, or an empty one. */
static const vh_knob_state *rec(const vh_status *s, int id)
{
        const vh_knob_state *k = vh_state_knob(&s->st, knob_names[id]);
        return k ? k : &no_record;
}

/* ---- 0 VMs ---- */

static void test_no_vm(void **state)
{
        const char *root = *state;
        vh_status s = { 0 };
        collect(&s);
        assert_false(s.state_exists);
        assert_null(s.state_error);
        assert_int_equal(s.st.n_regs, 0);
        static const char *const now[] = { "madvise", "200000", "f", "f" };
        for (int i = 0; i < K_N; i++) {
                expect_str(knob(&s, i)->current, now[i], knob_names[i]);
                assert_false(knob(&s, i)->saved);
                assert_false(knob(&s, i)->demanded);
                assert_false(knob(&s, i)->changed);
                assert_null(knob(&s, i)->desired);
        }
        /* not installed: the hook FAILs, the wrapper WARNs */
        assert_int_equal(s.attention, 2);
        char *t = text_of(&s);
        tu_assert_contains(t, "no VM registered\n");
        tu_assert_contains(t, "knob thp (/sys/kernel/mm/transparent_hugepage/enabled): current madvise; not tuned: "
                              "no VM demands it\n");
        tu_assert_contains(t, "knob workqueue_cpumask (/sys/devices/virtual/workqueue/cpumask): current f; not tuned");
        tu_assert_contains(t, "FAIL install: the vmhooks hook is not installed");
        tu_assert_contains(t, "status: 0 VMs registered (0 not running), 0 knobs tuned, 0 changed by someone else, "
                              "2 things to look at\n");
        free(t);
        json_object *j = json_of(&s);
        assert_int_equal(json_object_array_length(member(j, "vms")), 0);
        assert_int_equal(json_object_array_length(member(j, "knobs")), s.n_knobs);
        assert_false(jbool(member(j, "state"), "exists"));
        assert_null(member(member(j, "state"), "error"));
        expect_str(jstr(jknob(j, "halt_poll_ns"), "current"), "200000", "JSON halt_poll_ns current");
        assert_null(member(jknob(j, "halt_poll_ns"), "desired"));
        assert_int_equal(json_object_get_int(member(j, "attention")), 2);
        json_object_put(j);
        vh_status_done(&s);

        /* installed: nothing to look at */
        fake_install(root);
        collect(&s);
        assert_int_equal(s.attention, 0);
        t = text_of(&s);
        tu_assert_contains(t, "PASS install: hook installed: /etc/libvirt/hooks/qemu -> /usr/libexec/vmhooks/qemu-hook\n");
        tu_assert_contains(t, "PASS install: wrapper installed: /usr/libexec/vmhooks/qemu-kvm\n");
        free(t);
        vh_status_done(&s);
        /* status created nothing: no state directory, no lock */
        assert_false(tu_exists(root, "/run/vmhooks"));
}

/* ---- 1 VM ---- */

static void test_one_vm(void **state)
{
        const char *root = *state;
        fake_install(root);
        char *a = xml_a();
        fake_qemu(root, "A", 4242, 777);
        start(root, a, "A");

        vh_status s = { 0 };
        collect(&s);
        assert_true(s.state_exists);
        assert_int_equal(s.st.n_regs, 1);
        expect_str(s.st.regs[0].name, "A", "name");
        assert_true(s.vms[0].running);
        assert_int_equal(s.st.regs[0].pid, 4242);
        expect_str(s.vms[0].demands, "thp never; halt_poll_ns 400000; kworkers off CPUs 2-3", "demands");
        assert_null(s.vms[0].last_error);
        expect_str(s.vms[0].log, "/var/log/vmhooks/A.log", "log");
        /* f without CPUs 2 and 3 is 3; the largest (only) halt-poll; never */
        static const char *const want[] = { "never", "400000", "3", "3" };
        static const char *const orig[] = { "madvise", "200000", "f", "f" };
        for (int i = 0; i < K_N; i++) {
                const vh_status_knob *k = knob(&s, i);
                expect_str(k->desired, want[i], knob_names[i]);
                expect_str(k->current, want[i], knob_names[i]);
                expect_str((*rec(&s, i)).original, orig[i], knob_names[i]);
                expect_str((*rec(&s, i)).last_written, want[i], knob_names[i]);
                assert_true(k->saved && k->demanded);
                assert_false(k->changed || k->off_target);
        }
        tu_assert_contains(knob(&s, K_HALT)->why, "A (halt-poll 400000)");
        assert_int_equal(s.attention, 0);
        char *t = text_of(&s);
        tu_assert_contains(t, "vm A (uuid " UUID_A "): running, QEMU PID 4242, registered ");
        tu_assert_contains(t, "\n  demands: thp never; halt_poll_ns 400000; kworkers off CPUs 2-3\n  last error: none\n");
        tu_assert_contains(t, "knob halt_poll_ns (/sys/module/kvm/parameters/halt_poll_ns): current 400000; desired "
                              "400000 (demanded by A (halt-poll 400000)); original 200000; last written 400000\n");
        tu_assert_contains(t, "status: 1 VM registered (0 not running), 4 knobs tuned, 0 changed by someone else, "
                              "0 things to look at\n");
        free(t);
        json_object *j = json_of(&s);
        json_object *vm = json_object_array_get_idx(member(j, "vms"), 0);
        expect_str(jstr(vm, "name"), "A", "JSON name");
        expect_str(jstr(vm, "uuid"), UUID_A, "JSON uuid");
        assert_int_equal(json_object_get_int(member(vm, "pid")), 4242);
        assert_true(jbool(vm, "running"));
        expect_str(jstr(member(vm, "demands"), "thp"), "never", "JSON thp demand");
        assert_int_equal(json_object_get_int(member(member(vm, "demands"), "halt_poll_ns")), 400000);
        expect_str(jstr(member(vm, "demands"), "isolate"), "2-3", "JSON isolate");
        json_object *wq = jknob(j, "workqueue_cpumask");
        expect_str(jstr(wq, "original"), "f", "JSON wq original");
        expect_str(jstr(wq, "desired"), "3", "JSON wq desired");
        expect_str(jstr(wq, "last_written"), "3", "JSON wq written");
        assert_false(jbool(wq, "changed_by_someone_else"));
        assert_true(jbool(wq, "tuned"));
        json_object_put(j);
        vh_status_done(&s);

        /* stopped: every knob back, nothing registered */
        stop(root, a, "A");
        collect(&s);
        assert_int_equal(s.st.n_regs, 0);
        for (int i = 0; i < K_N; i++) {
                expect_str(knob(&s, i)->current, orig[i], knob_names[i]);
                assert_false(knob(&s, i)->saved);
        }
        vh_status_done(&s);
        free(a);
}

/* ---- 2 VMs ---- */

static void test_two_vms(void **state)
{
        const char *root = *state;
        fake_install(root);
        char *a = xml_a(), *b = xml_b();
        fake_qemu(root, "A", 4242, 777);
        fake_qemu(root, "B", 4343, 888);
        start(root, a, "A");
        start(root, b, "B");

        vh_status s = { 0 };
        collect(&s);
        assert_int_equal(s.st.n_regs, 2);
        assert_true(s.vms[0].running && s.vms[1].running);
        /* f without 1, 2 and 3; max(400000, 300000); never beats auto-with-hugepages (never) */
        expect_str(knob(&s, K_WQ)->desired, "1", "wq desired");
        expect_str(knob(&s, K_WB)->desired, "1", "wb desired");
        expect_str(knob(&s, K_HALT)->desired, "400000", "halt desired");
        expect_str(knob(&s, K_THP)->desired, "never", "thp desired");
        tu_assert_contains(knob(&s, K_HALT)->why, "A (halt-poll 400000), B (halt-poll 300000)");
        tu_assert_contains(knob(&s, K_WQ)->why, "A (isolate CPUs 2-3), B (isolate CPUs 1)");
        /* what status plans is what the hook wrote */
        for (int i = 0; i < K_N; i++)
                expect_str(knob(&s, i)->current, knob(&s, i)->desired, knob_names[i]);
        assert_int_equal(s.attention, 0);
        char *t = text_of(&s);
        tu_assert_contains(t, "vm B (uuid " UUID_B "): running, QEMU PID 4343");
        tu_assert_contains(t, "demands: thp auto (static hugepages: never); halt_poll_ns 300000; kworkers off CPUs 1\n");
        tu_assert_contains(t, "status: 2 VMs registered (0 not running), 4 knobs tuned");
        free(t);
        json_object *j = json_of(&s);
        assert_int_equal(json_object_array_length(member(j, "vms")), 2);
        expect_str(jstr(json_object_array_get_idx(member(j, "vms"), 1), "name"), "B", "JSON second VM");
        assert_true(jbool(member(json_object_array_get_idx(member(j, "vms"), 1), "demands"), "static_hugepages"));
        json_object_put(j);
        vh_status_done(&s);

        /* A stops: B alone decides */
        stop(root, a, "A");
        collect(&s);
        assert_int_equal(s.st.n_regs, 1);
        expect_str(knob(&s, K_WQ)->desired, "d", "wq desired after A");
        expect_str(knob(&s, K_HALT)->desired, "300000", "halt desired after A");
        for (int i = 0; i < K_N; i++)
                expect_str(knob(&s, i)->current, knob(&s, i)->desired, knob_names[i]);
        vh_status_done(&s);
        stop(root, b, "B");
        free(a);
        free(b);
}

/* ---- someone else changes a knob ---- */

static void test_drifted_knob(void **state)
{
        const char *root = *state;
        fake_install(root);
        char *a = xml_a(), *b = xml_b();
        start(root, a, "A");
        tu_write(root, HALT, "123\n"); /* an administrator, by hand */

        vh_status s = { 0 };
        collect(&s);
        const vh_status_knob *k = knob(&s, K_HALT);
        expect_str(k->current, "123", "current");
        expect_str(k->desired, "400000", "desired");
        assert_true(k->changed);
        assert_false((*rec(&s, K_HALT)).drifted); /* no hook call has seen it yet */
        assert_false(knob(&s, K_THP)->changed);
        assert_int_equal(s.attention, 1);
        char *t = text_of(&s);
        tu_assert_contains(t, "knob halt_poll_ns (/sys/module/kvm/parameters/halt_poll_ns): current 123; desired 400000 "
                              "(demanded by A (halt-poll 400000)); original 200000; last written 400000; CHANGED BY "
                              "SOMEONE ELSE (vmhooks expected 400000)");
        tu_assert_contains(t, "1 changed by someone else, 1 thing to look at\n");
        free(t);
        vh_status_done(&s);

        /* the next hook call marks it drifted and leaves it alone */
        start(root, b, "B");
        collect(&s);
        k = knob(&s, K_HALT);
        assert_true((*rec(&s, K_HALT)).drifted);
        assert_true(k->changed);
        assert_false(k->off_target); /* drifted: vmhooks does not try */
        expect_str(k->current, "123", "left alone");
        json_object *j = json_of(&s);
        assert_true(jbool(jknob(j, "halt_poll_ns"), "drifted"));
        assert_true(jbool(jknob(j, "halt_poll_ns"), "changed_by_someone_else"));
        assert_false(jbool(jknob(j, "thp"), "changed_by_someone_else"));
        assert_int_equal(json_object_get_int(member(j, "attention")), 1);
        json_object_put(j);
        vh_status_done(&s);

        /* all stopped: forgotten, not restored */
        stop(root, a, "A");
        stop(root, b, "B");
        collect(&s);
        expect_str(knob(&s, K_HALT)->current, "123", "not restored");
        assert_false(knob(&s, K_HALT)->saved || knob(&s, K_HALT)->changed);
        assert_int_equal(s.attention, 0);
        vh_status_done(&s);
        free(a);
        free(b);
}

/* ---- states only a crash or a race leaves ---- */

static void test_stale_pending_restore(void **state)
{
        const char *root = *state;
        fake_install(root);
        char text[1024];
        long long now = (long long)time(NULL);
        snprintf(text, sizeof(text),
                 "vmhooks-state 1\n"
                 "knob thp original=madvise expected=madvise pending=always\n"
                 "knob halt_poll_ns original=200000 expected=300000 written=300000\n"
                 "vm uuid=u-gone name=gone since=%lld pid=31337 pidstart=5 thp=always\n"
                 "vm uuid=u-new name=new since=%lld\n",
                 now - 3600, now - 10);
        tu_write(root, STATE, text);
        tu_write(root, "/sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n");
        tu_write(root, HALT, "300000\n");

        vh_status s = { 0 };
        collect(&s);
        assert_int_equal(s.st.n_regs, 2);
        assert_false(s.vms[0].running); /* its QEMU is gone */
        assert_true(s.vms[1].running);  /* registered 10 s ago, no PID yet: starting */
        /* a call wrote "always" after its write-ahead and has not saved yet: not someone else */
        const vh_status_knob *thp = knob(&s, K_THP);
        assert_false(thp->changed || thp->off_target);
        expect_str(thp->desired, "always", "stale VM still counts");
        /* nobody demands halt_poll_ns any more: the next call restores 200000 */
        const vh_status_knob *halt = knob(&s, K_HALT);
        assert_false(halt->demanded);
        expect_str(halt->desired, "200000", "restore");
        assert_true(halt->off_target);
        assert_false(halt->changed);
        assert_int_equal(s.attention, 1);
        char *t = text_of(&s);
        tu_assert_contains(t, "vm gone (uuid u-gone): NOT RUNNING (stale registration");
        tu_assert_contains(t, "vm new (uuid u-new): starting (no QEMU PID yet)");
        tu_assert_contains(t, "; a hook call is writing always");
        tu_assert_contains(t, "desired 200000 (no VM demands it: the next hook call restores the original)");
        tu_assert_contains(t, "NOT AT THE DESIRED VALUE");
        tu_assert_contains(t, "status: 2 VMs registered (1 not running)");
        free(t);
        json_object *j = json_of(&s);
        assert_false(jbool(json_object_array_get_idx(member(j, "vms"), 0), "running"));
        expect_str(jstr(jknob(j, "thp"), "pending"), "always", "JSON pending");
        assert_null(member(json_object_array_get_idx(member(j, "vms"), 1), "pid"));
        json_object_put(j);
        vh_status_done(&s);
}

/* ---- a daemon that started before the hook was linked, then got SIGHUP ---- */

static void fake_old_libvirtd(const char *root)
{
        tu_write(root, "/run/libvirtd.pid", "777\n");
        char stat[256];
        /* started 100 s after a boot in 2001: long before the link */
        snprintf(stat, sizeof(stat), "777 (libvirtd) S 1 777 777 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 17 0 %ld 0\n",
                 100 * sysconf(_SC_CLK_TCK));
        tu_write(root, "/proc/777/stat", stat);
        tu_write(root, "/proc/stat", "cpu  1 2 3\nbtime 1000000000\n");
}

static void test_hook_ran_after_link(void **state)
{
        const char *root = *state;
        fake_old_libvirtd(root);
        /* a state older than the link: nothing shows that libvirtd reloaded */
        tu_write(root, STATE, "vmhooks-state 1\n");
        struct timespec pause = { 0, 20 * 1000 * 1000 };
        nanosleep(&pause, NULL);
        fake_install(root);
        vh_status s = { 0 };
        collect(&s);
        char *t = text_of(&s);
        tu_assert_contains(t, "WARN install: /etc/libvirt/hooks/qemu is installed, but libvirtd (PID ");
        tu_assert_contains(t, "before it, had no hook then and has not been reloaded since");
        free(t);
        assert_int_equal(s.attention, 1);
        vh_status_done(&s);

        /* the hook wrote the state after the link was made: libvirtd runs it (it got SIGHUP) */
        nanosleep(&pause, NULL);
        char *a = xml_a();
        hook(root, a, "A", "prepare", "begin");
        collect(&s);
        t = text_of(&s);
        tu_assert_contains(t, "PASS install: hook installed: /etc/libvirt/hooks/qemu -> /usr/libexec/vmhooks/qemu-hook; "
                              "libvirt runs it (it last changed the state at ");
        if (strstr(t, "had no hook then"))
                fail_msg("the warning stayed:\n%s", t);
        tu_assert_contains(t, "PASS install: wrapper installed");
        free(t);
        assert_int_equal(s.attention, 0);
        vh_status_done(&s);
        free(a);
}

/* ---- the last error, from the state or the VM's log ---- */

static void test_last_error(void **state)
{
        const char *root = *state;
        char *a = xml_a();
        /* an error of a former run, before this registration: not shown */
        tu_write(root, "/var/log/vmhooks/A.log", "2001-01-01T00:00:00Z prepare begin: error: long ago\n");
        fake_qemu(root, "A", 4242, 777);
        start(root, a, "A");
        vh_status s = { 0 };
        collect(&s);
        assert_null(s.vms[0].last_error);
        vh_status_done(&s);

        /* a knob vmhooks cannot write: the hook logs it */
        char *b = xml_b();
        char *err = NULL;
        assert_int_equal(tu_run_hook(root, b, &err, "VMHOOKS_FAULT=sysfs-write@1=EACCES", "B", "prepare", "begin"), 0);
        free(err);
        collect(&s);
        /* the mask write failed: 3 stays, 1 is wanted */
        expect_str(knob(&s, K_WQ)->current, "3", "unwritten");
        expect_str(knob(&s, K_WQ)->desired, "1", "wanted");
        assert_true(knob(&s, K_WQ)->off_target);
        assert_int_equal(s.st.n_regs, 2);
        assert_null(s.vms[0].last_error);
        assert_non_null(s.vms[1].last_error);
        /* the hook keeps it with B's registration */
        tu_assert_contains(s.vms[1].last_error, "workqueue_cpumask: cannot write \"1\" to ");
        tu_assert_contains(s.vms[1].last_error, "Permission denied");
        char *t = text_of(&s);
        tu_assert_contains(t, "  last error: ");
        free(t);
        vh_status_done(&s);

        /* one the registration holds wins */
        char *state_text = tu_read(root, STATE);
        vh_state st = { 0 };
        vh_error *e = NULL;
        assert_int_equal(vh_state_parse(state_text, &st, &e), 0);
        st.regs[0].last_error = strdup("noted by the hook");
        char *out = NULL;
        assert_int_equal(vh_state_format(&st, &out, NULL), 0);
        tu_write(root, STATE, out);
        collect(&s);
        expect_str(s.vms[0].last_error, "noted by the hook", "registration's error");
        vh_status_done(&s);
        free(out);
        vh_state_done(&st);
        free(state_text);
        free(a);
        free(b);
}

/* ---- a table that cannot be parsed is reported and left where it is ---- */

static void test_corrupt_state_untouched(void **state)
{
        const char *root = *state;
        tu_write(root, STATE, "vmhooks-state 1\nknob nonsense\n");
        char *p = NULL;
        assert_true(asprintf(&p, "%s" STATE, root) > 0);
        struct stat before, after;
        assert_int_equal(stat(p, &before), 0);
        vh_status s = { 0 };
        collect(&s);
        assert_true(s.state_exists);
        assert_null(s.state_error);
        assert_int_equal(s.st.n_damaged, 1);
        assert_int_equal(s.st.n_regs, 0);
        char *t = text_of(&s);
        tu_assert_contains(t, "STATE DAMAGED: 1 line of it cannot be read (the next hook call copies them aside)");
        free(t);
        vh_status_done(&s);
        assert_int_equal(stat(p, &after), 0);
        assert_int_equal(before.st_ino, after.st_ino);
        assert_int_equal(before.st_mtim.tv_nsec, after.st_mtim.tv_nsec);
        assert_false(tu_exists(root, "/run/vmhooks/lock"));
        free(p);
}

/* ---- names with quotes, backslashes, newlines and control bytes ---- */

static void test_hostile_names(void **state)
{
        const char *root = *state;
        static const char name[] = "we\"ird\\na\nme \x01\x7f";
        vh_state st = { 0 };
        vh_reg *g = vh_state_add(&st);
        assert_non_null(g);
        g->uuid = strdup("u\"1");
        g->name = strdup(name);
        g->since = (int64_t)time(NULL);
        g->last_error = strdup("line one\nline two \"quoted\"");
        char *text = NULL;
        assert_int_equal(vh_state_format(&st, &text, NULL), 0);
        tu_write(root, STATE, text);
        free(text);
        vh_state_done(&st);

        vh_status s = { 0 };
        collect(&s);
        json_object *j = json_of(&s);
        json_object *vm = json_object_array_get_idx(member(j, "vms"), 0);
        expect_str(jstr(vm, "name"), name, "JSON keeps the name exactly");
        expect_str(jstr(vm, "last_error"), "line one\nline two \"quoted\"", "JSON keeps the error exactly");
        json_object_put(j);
        /* text: one line for the VM, whatever its name holds */
        char *t = text_of(&s);
        tu_assert_contains(t, "vm we\"ird%5Cna%0Ame %01%7F (uuid u\"1): starting");
        tu_assert_contains(t, "  last error: line one%0Aline two \"quoted\"\n");
        free(t);
        vh_status_done(&s);
}

/* ---- status while VMs start and stop ---- */

static pid_t spawn_hook(const char *xml_path, const char *name, const char *op, const char *subop)
{
        pid_t pid = fork();
        if (pid != 0)
                return pid;
        int in = open(xml_path, O_RDONLY | O_CLOEXEC);
        int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (in < 0 || null < 0)
                _exit(126);
        dup2(in, 0);
        dup2(null, 1);
        dup2(null, 2);
        const char *h = getenv("VH_HOOK");
        const char *argv[] = { h && *h ? h : "build/qemu-hook", name, op, subop, "-", NULL };
        execv(argv[0], (char *const *)argv);
        _exit(127);
}

static int run_hook_plain(const char *xml_path, const char *name, const char *op, const char *subop)
{
        int st;
        pid_t pid = spawn_hook(xml_path, name, op, subop);
        if (pid < 0 || waitpid(pid, &st, 0) != pid)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_while_vms_come_and_go(void **state)
{
        const char *root = *state;
        char *a = xml_a(), *b = xml_b();
        char pa[512], pb[512];
        snprintf(pa, sizeof(pa), "%s/a.xml", root);
        snprintf(pb, sizeof(pb), "%s/b.xml", root);
        tu_write("", pa, a);
        tu_write("", pb, b);
        int rounds = getenv("VH_HOOK_PREFIX") ? 3 : 25; /* under valgrind each status is slow */
        pid_t churn = fork();
        assert_true(churn >= 0);
        if (churn == 0) {
                /* no cmocka in here: plain exit codes */
                for (int i = 0; i < rounds; i++) {
                        if (run_hook_plain(pa, "A", "prepare", "begin") != 0 ||
                            run_hook_plain(pb, "B", "prepare", "begin") != 0 ||
                            run_hook_plain(pa, "A", "stopped", "end") != 0 ||
                            run_hook_plain(pb, "B", "stopped", "end") != 0)
                                _exit(1);
                }
                _exit(0);
        }
        int reads = 0, seen[3] = { 0 };
        for (;;) {
                int st;
                pid_t done = waitpid(churn, &st, WNOHANG);
                vh_status s = { 0 };
                collect(&s);
                reads++;
                if (s.state_error)
                        fail_msg("read %d saw a torn table: %s", reads, s.state_error);
                assert_true(s.st.n_regs <= 2);
                seen[s.st.n_regs]++;
                /* every snapshot is a whole table: demands and the planner agree */
                for (int i = 0; i < K_N; i++)
                        assert_int_equal(knob(&s, i)->demanded, s.st.n_regs > 0);
                vh_status_done(&s);
                if (done == churn) {
                        assert_true(WIFEXITED(st));
                        assert_int_equal(WEXITSTATUS(st), 0);
                        break;
                }
        }
        assert_true(reads > 1);
        /* the end: every VM gone, every knob restored */
        vh_status s = { 0 };
        collect(&s);
        assert_int_equal(s.st.n_regs, 0);
        expect_str(knob(&s, K_HALT)->current, "200000", "restored");
        vh_status_done(&s);
        free(a);
        free(b);
}

/* ---- the command ---- */


static void test_command(void **state)
{
        const char *root = *state;
        if (access(tu_tool(), X_OK) < 0) {
                fail_msg("%s is not built", tu_tool());
                return;
        }
        char *out = NULL, *err = NULL;
        /* not installed: exit 1, the reason on stdout */
        assert_int_equal(tu_run_tool(NULL, &out, &err, (const char *const[]){ "status", NULL }), 1);
        tu_assert_contains(out, "FAIL install: the vmhooks hook is not installed");
        expect_str(err, "", "stderr");
        free(out);
        free(err);

        fake_install(root);
        char *a = xml_a();
        start(root, a, "A");
        assert_int_equal(tu_run_tool(NULL, &out, &err, (const char *const[]){ "status", NULL }), 0);
        tu_assert_contains(out, "vm A (uuid " UUID_A "): starting");
        tu_assert_contains(out, "status: 1 VM registered");
        free(out);
        free(err);

        assert_int_equal(tu_run_tool(NULL, &out, &err, (const char *const[]){ "status", "--json", NULL }), 0);
        json_object *j = json_tokener_parse(out);
        if (!j)
                fail_msg("vmhooks status --json printed invalid JSON:\n%s", out);
        expect_str(jstr(json_object_array_get_idx(member(j, "vms"), 0), "name"), "A", "command JSON");
        expect_str(jstr(jknob(j, "halt_poll_ns"), "desired"), "400000", "command JSON desired");
        json_object_put(j);
        free(out);
        free(err);

        /* a broken host policy is something to look at: exit 1 */
        tu_write(root, "/etc/vmhooks/policy.xml", "<policy xmlns=\"urn:vmhooks:policy:1\">\n<thp mode=\"auto\">\n</policy>\n");
        assert_int_equal(tu_run_tool(NULL, &out, &err, (const char *const[]){ "status", NULL }), 1);
        tu_assert_contains(out, "FAIL policy: ");
        tu_assert_contains(out, "policy.xml: line 2: <thp> is not closed before </policy> on line 3");
        tu_assert_contains(out, "1 thing to look at");
        free(out);
        free(err);
        char *pol = NULL;
        assert_true(asprintf(&pol, "%s/etc/vmhooks/policy.xml", root) > 0);
        assert_int_equal(unlink(pol), 0);
        free(pol);

        /* someone else changes a knob: exit 1 */
        tu_write(root, HALT, "1\n");
        assert_int_equal(tu_run_tool(NULL, &out, &err, (const char *const[]){ "status", NULL }), 1);
        tu_assert_contains(out, "CHANGED BY SOMEONE ELSE");
        free(out);
        free(err);

        /* bad usage */
        assert_int_equal(tu_run_tool(NULL, &out, &err, (const char *const[]){ "status", "extra", NULL }), 2);
        tu_assert_contains(err, "usage: vmhooks status [--json]");
        free(out);
        free(err);
        assert_int_equal(tu_run_tool(NULL, &out, &err, (const char *const[]){ "status", "--bogus", NULL }), 2);
        free(out);
        free(err);
        assert_int_equal(tu_run_tool(NULL, &out, &err, (const char *const[]){ "status", "--help", NULL }), 0);
        tu_assert_contains(out, "usage: vmhooks status [--json]");
        free(out);
        free(err);

        /* a state only root may read */
        if (geteuid() == 0) {
                free(a);
                return; /* root reads anything */
        }
        char *p = NULL;
        assert_true(asprintf(&p, "%s" STATE, root) > 0);
        assert_int_equal(chmod(p, 0), 0);
        assert_int_equal(tu_run_tool(NULL, &out, &err, (const char *const[]){ "status", NULL }), 1);
        tu_assert_contains(err, "vmhooks status: only root can read the state");
        free(out);
        free(err);
        free(p);
        free(a);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_no_vm, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_one_vm, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_two_vms, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_drifted_knob, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_stale_pending_restore, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_hook_ran_after_link, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_last_error, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_corrupt_state_untouched, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_hostile_names, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_while_vms_come_and_go, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_command, tu_setup_root, tu_teardown_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
