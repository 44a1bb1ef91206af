/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Reconcile: every start/stop order of 1, 2 and 3 VMs against an oracle,
 * knobs changed by someone else, knobs that cannot be written, masks that
 * would lose every online CPU.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "lifecycle.h"
#include "state.h"
#include "util.h"

#define THP "/sys/kernel/mm/transparent_hugepage/enabled"
#define HALT "/sys/module/kvm/parameters/halt_poll_ns"
#define WQ "/sys/devices/virtual/workqueue/cpumask"
#define WB "/sys/bus/workqueue/devices/writeback/cpumask"

typedef struct vm {
        const char *uuid, *name;
        vh_thp_mode thp;
        bool hugepages;
        long halt;              /* -1: none */
        const char *isolate;    /* cpulist or NULL */
} vm;

static const vm vms[] = {
        { "uuid-a", "A", VH_THP_NEVER, false, 400000, "2-3" },
        { "uuid-b", "B", VH_THP_AUTO, true, 300000, "1" },
        { "uuid-c", "C", VH_THP_ALWAYS, false, -1, "0" },
};

static void demands_of(const vm *v, vh_demands *d)
{
        memset(d, 0, sizeof(*d));
        d->thp = v->thp;
        d->static_hugepages = v->hugepages;
        d->has_halt_poll = v->halt >= 0;
        d->halt_poll_ns = v->halt >= 0 ? (uint32_t)v->halt : 0;
        if (v->isolate) {
                assert_int_equal(vh_cpuset_parse_list(v->isolate, &d->isolate, NULL), 0);
                d->isolate_from = VH_ISO_WQ;
        }
}

static vh_report do_register(const vm *v)
{
        vh_demands d;
        demands_of(v, &d);
        vh_txn_result res = { 0 };
        vh_error *e = NULL;
        if (vh_txn_register(v->uuid, v->name, &d, false, &res, &e) < 0)
                fail_msg("register %s: %s", v->name, vh_error_msg(e));
        vh_demands_done(&d);
        vh_report rep = res.report;
        res.report = (vh_report){ 0 };
        vh_txn_result_done(&res);
        return rep;
}

static vh_report do_unregister(const vm *v)
{
        vh_txn_result res = { 0 };
        vh_error *e = NULL;
        if (vh_txn_unregister(v->uuid, v->name, &res, &e) < 0)
                fail_msg("unregister %s: %s", v->name, vh_error_msg(e));
        vh_report rep = res.report;
        res.report = (vh_report){ 0 };
        vh_txn_result_done(&res);
        return rep;
}

/*
 * What the knobs must read with the VMs `order[0..n)` running, in the order
 * they registered; independent of lib/reconcile.c.  Kworker isolation is
 * first come, first served: a VM whose CPUs would leave no CPU of the
 * four is not isolated.
 */
static void oracle(const unsigned *order, size_t n, char thp[16], char halt[24], unsigned *mask)
{
        int best = -1; /* 0 madvise 1 always 2 never */
        long h = -1;
        unsigned iso = 0;
        for (size_t k = 0; k < n; k++) {
                const vm *v = &vms[order[k]];
                int t = v->thp == VH_THP_NEVER ? 2 : v->thp == VH_THP_ALWAYS ? 1 : v->thp == VH_THP_MADVISE ? 0
                      : v->thp == VH_THP_AUTO && v->hugepages ? 2 : -1;
                if (t > best)
                        best = t;
                if (v->halt > h)
                        h = v->halt;
                if (v->isolate) {
                        vh_cpuset s = { 0 };
                        unsigned cand = iso;
                        assert_int_equal(vh_cpuset_parse_list(v->isolate, &s, NULL), 0);
                        for (unsigned c = 0; c < 4; c++)
                                if (vh_cpuset_test(&s, c))
                                        cand |= 1u << c;
                        vh_cpuset_done(&s);
                        if (0xfu & ~cand)
                                iso = cand;
                }
        }
        strcpy(thp, best == 2 ? "never" : best == 1 ? "always" : "madvise");
        snprintf(halt, 24, "%ld", h >= 0 ? h : 200000);
        *mask = 0xfu & ~iso;
}

static void check_order(const char *root, const unsigned *order, size_t n, const char *when)
{
        char thp[16], halt[24];
        unsigned mask;
        unsigned running = 0;
        for (size_t k = 0; k < n; k++)
                running |= 1u << order[k];
        oracle(order, n, thp, halt, &mask);
        char *t = tu_read(root, THP), *h = tu_read(root, HALT), *wq = tu_read(root, WQ), *wb = tu_read(root, WB);
        const char *expect_thp = running || strcmp(thp, "madvise") ? thp : "always [madvise] never";
        /* untouched knobs keep the kernel's spelling; written ones read as written */
        bool thp_ok = strcmp(t, thp) == 0 || strcmp(t, expect_thp) == 0;
        unsigned long m1 = strtoul(wq, NULL, 16), m2 = strtoul(wb, NULL, 16);
        if (!thp_ok || strcmp(h, halt) != 0 || m1 != mask || m2 != mask)
                fail_msg("%s (running %#x): thp %s want %s, halt %s want %s, masks %s/%s want %x", when, running, t,
                         thp, h, halt, wq, wb, mask);
        free(t);
        free(h);
        free(wq);
        free(wb);
}

/* Knobs with no VM running. */
static void check_knobs(const char *root, unsigned running, const char *when)
{
        assert_int_equal(running, 0);
        check_order(root, NULL, 0, when);
}

static void check_no_registration(const char *root)
{
        char *s = tu_read(root, "/run/vmhooks/state");
        assert_string_equal(s, "vmhooks-state 1");
        free(s);
}

/* Run one sequence of events: event e = VM (e >> 1) starts (e & 1 == 0) or stops. */
static void run_sequence(const int *events, size_t n)
{
        char *root = tu_mkroot();
        unsigned order[3];
        size_t n_run = 0;
        char when[64];
        for (size_t i = 0; i < n; i++) {
                unsigned v = (unsigned)events[i] >> 1;
                vh_report rep;
                if (events[i] & 1) {
                        rep = do_unregister(&vms[v]);
                        size_t k = 0;
                        while (order[k] != v)
                                k++;
                        memmove(&order[k], &order[k + 1], (n_run - k - 1) * sizeof(order[0]));
                        n_run--;
                } else {
                        rep = do_register(&vms[v]);
                        order[n_run++] = v;
                }
                /* three VMs isolating every CPU is a planned outcome, never a failure */
                assert_false(rep.failed);
                /* a conflict note names the VM left out, and only when all three run */
                for (size_t c = 0; c < rep.n; c++)
                        if (rep.changes[c].kind == VH_CHANGE_CONFLICT)
                                assert_int_equal(n_run, 3);
                vh_report_done(&rep);
                snprintf(when, sizeof(when), "after event %zu", i);
                check_order(root, order, n_run, when);
        }
        check_no_registration(root);
        char *t = tu_read(root, THP);
        assert_string_equal(t, "madvise"); /* restored by us: plain value */
        free(t);
        tu_rmroot(root);
}

/* All orders of `k` VMs' starts and stops in which each VM starts before it stops. */
static size_t permute(int *ev, size_t n, size_t pos, unsigned used, unsigned started, size_t k)
{
        if (pos == n) {
                run_sequence(ev, n);
                return 1;
        }
        size_t count = 0;
        for (unsigned v = 0; v < k; v++) {
                if (!(used >> (2 * v) & 1)) {
                        ev[pos] = (int)(v << 1);
                        count += permute(ev, n, pos + 1, used | 1u << (2 * v), started | 1u << v, k);
                } else if (!(used >> (2 * v + 1) & 1)) {
                        ev[pos] = (int)(v << 1 | 1);
                        count += permute(ev, n, pos + 1, used | 1u << (2 * v + 1), started, k);
                }
        }
        return count;
}

static void test_every_order_1_2_3_vms(void **state)
{
        (void)state;
        int ev[6];
        assert_int_equal(permute(ev, 2, 0, 0, 0, 1), 1);
        assert_int_equal(permute(ev, 4, 0, 0, 0, 2), 6);
        assert_int_equal(permute(ev, 6, 0, 0, 0, 3), 90);
}

/* The scenario of issue 3, step by step. */
static void test_issue_scenario(void **state)
{
        char *root = *state;
        vh_report r = do_register(&vms[0]);
        assert_false(r.failed);
        assert_int_equal(r.n, 4);
        vh_report_done(&r);
        char *v = tu_read(root, WQ);
        assert_string_equal(v, "3");
        free(v);
        r = do_register(&vms[1]);
        vh_report_done(&r);
        v = tu_read(root, WB);
        assert_string_equal(v, "1");
        free(v);
        r = do_unregister(&vms[0]);
        vh_report_done(&r);
        v = tu_read(root, WQ);
        assert_string_equal(v, "d");
        free(v);
        v = tu_read(root, THP);
        assert_string_equal(v, "never");
        free(v);
        v = tu_read(root, HALT);
        assert_string_equal(v, "300000");
        free(v);
        r = do_unregister(&vms[1]);
        assert_int_equal(r.n, 4);
        for (size_t i = 0; i < r.n; i++)
                assert_int_equal(r.changes[i].kind, VH_CHANGE_RESTORE);
        vh_report_done(&r);
        check_knobs(root, 0, "end");
        check_no_registration(root);
        /* release after stopped changes nothing: the table is not rewritten */
        char *path = NULL;
        assert_true(asprintf(&path, "%s/run/vmhooks/state", root) > 0);
        struct stat before, after;
        assert_int_equal(stat(path, &before), 0);
        r = do_unregister(&vms[1]);
        assert_int_equal(r.n, 0);
        vh_report_done(&r);
        assert_int_equal(stat(path, &after), 0);
        assert_int_equal(before.st_ino, after.st_ino);
        free(path);
}

/* Someone else changes a knob while VMs run: left alone, not restored. */
static void test_drift_left_alone(void **state)
{
        char *root = *state;
        vh_report r = do_register(&vms[0]); /* halt 400000 */
        vh_report_done(&r);
        tu_write(root, HALT, "123\n");
        r = do_register(&vms[1]); /* halt 300000: must not overwrite 123 */
        bool drift = false;
        for (size_t i = 0; i < r.n; i++)
                if (streq(r.changes[i].knob, "halt_poll_ns")) {
                        assert_int_equal(r.changes[i].kind, VH_CHANGE_DRIFT);
                        assert_string_equal(r.changes[i].from, "400000");
                        assert_string_equal(r.changes[i].to, "123");
                        drift = true;
                }
        assert_true(drift);
        vh_report_done(&r);
        char *v = tu_read(root, HALT);
        assert_string_equal(v, "123");
        free(v);
        r = do_unregister(&vms[0]);
        vh_report_done(&r);
        r = do_unregister(&vms[1]);
        vh_report_done(&r);
        v = tu_read(root, HALT);
        assert_string_equal(v, "123"); /* not "restored" to 200000 */
        free(v);
        /* every other knob is back */
        v = tu_read(root, THP);
        assert_string_equal(v, "madvise");
        free(v);
        v = tu_read(root, WQ);
        assert_string_equal(v, "f");
        free(v);
        check_no_registration(root);
        /* a later demand starts from the new value */
        r = do_register(&vms[0]);
        vh_report_done(&r);
        r = do_unregister(&vms[0]);
        vh_report_done(&r);
        v = tu_read(root, HALT);
        assert_string_equal(v, "123");
        free(v);
}

/* Drift on restore: a knob changed after the last write is not touched. */
static void test_drift_at_restore(void **state)
{
        char *root = *state;
        vh_report r = do_register(&vms[0]);
        vh_report_done(&r);
        tu_write(root, WQ, "00000007\n");
        r = do_unregister(&vms[0]);
        bool drift = false;
        for (size_t i = 0; i < r.n; i++)
                if (streq(r.changes[i].knob, "workqueue_cpumask"))
                        drift = r.changes[i].kind == VH_CHANGE_DRIFT;
        assert_true(drift);
        vh_report_done(&r);
        char *v = tu_read(root, WQ);
        assert_string_equal(v, "00000007");
        free(v);
        v = tu_read(root, WB);
        assert_string_equal(v, "f");
        free(v);
}

/* A zero-padded mask equal in value is not drift. */
static void test_padding_is_not_drift(void **state)
{
        char *root = *state;
        vh_report r = do_register(&vms[0]);
        vh_report_done(&r);
        tu_write(root, WQ, "00000003\n"); /* the kernel reads back zero-padded */
        r = do_unregister(&vms[0]);
        for (size_t i = 0; i < r.n; i++)
                assert_int_not_equal(r.changes[i].kind, VH_CHANGE_DRIFT);
        vh_report_done(&r);
        char *v = tu_read(root, WQ);
        assert_string_equal(v, "f");
        free(v);
}

/* A restore that fails is kept with its reason and retried by the next call of any kind (issue 13, item 6). */
static void test_failed_restore_retried(void **state)
{
        char *root = *state;
        vh_report r = do_register(&vms[0]); /* thp never, halt 400000, isolate 2-3 */
        vh_report_done(&r);
        setenv("VMHOOKS_FAULT", "sysfs-write@1=EIO", 1);
        vh_fault_reset();
        r = do_unregister(&vms[0]);
        unsetenv("VMHOOKS_FAULT");
        vh_fault_reset();
        assert_true(r.failed);
        vh_report_done(&r);
        char *st = tu_read(root, "/run/vmhooks/state");
        tu_assert_contains(st, " failed=cannot%20write%20");
        free(st);
        /* the next call, whatever it is about, retries: here another VM's start that demands nothing of it */
        vh_demands d = { 0 };
        vh_txn_result res = { 0 };
        assert_int_equal(vh_txn_started("uuid-nobody", "nobody", NULL, NULL, &res, NULL), 0);
        bool restored = false;
        for (size_t i = 0; i < res.report.n; i++)
                restored = restored || res.report.changes[i].kind == VH_CHANGE_RESTORE;
        assert_true(restored);
        assert_false(res.report.failed);
        vh_txn_result_done(&res);
        vh_demands_done(&d);
        check_knobs(root, 0, "after the retry");
        check_no_registration(root);
}

/* A call killed after its write, before its log: the next call logs the write it finds (realhost found it). */
static void test_killed_write_is_logged_later(void **state)
{
        char *root = *state;
        vh_report r = do_register(&vms[0]); /* thp never */
        vh_report_done(&r);
        /* what a call killed right after writing "madvise" (its write-ahead) leaves */
        tu_write(root, "/run/vmhooks/intent", "vmhooks-state 1\nknob thp original=madvise expected=never "
                                              "written=never pending=madvise\n");
        tu_write(root, THP, "madvise\n");
        vh_txn_result res = { 0 };
        assert_int_equal(vh_txn_started("uuid-nobody", "nobody", NULL, NULL, &res, NULL), 0);
        bool logged = false;
        for (size_t i = 0; i < res.report.n; i++) {
                const vh_change *c = &res.report.changes[i];
                if (streq(c->knob, "thp") && c->kind == VH_CHANGE_RESTORE && streq(c->from, "never") &&
                    streq(c->to, "madvise")) {
                        tu_assert_contains(c->why, "written by an earlier hook call that was killed");
                        logged = true;
                }
                assert_int_not_equal(c->kind, VH_CHANGE_DRIFT); /* ours, not someone else's */
        }
        assert_true(logged);
        vh_txn_result_done(&res);
        r = do_unregister(&vms[0]);
        vh_report_done(&r);
        check_knobs(root, 0, "end");
}

static void test_unwritable_knob(void **state)
{
        char *root = *state;
        /* the kernel says EINVAL to the first write */
        setenv("VMHOOKS_FAULT", "sysfs-write@1=EINVAL", 1);
        vh_fault_reset();
        vh_report r = do_register(&vms[0]);
        unsetenv("VMHOOKS_FAULT");
        vh_fault_reset();
        assert_true(r.failed);
        assert_int_equal(r.changes[0].kind, VH_CHANGE_FAILED);
        tu_assert_contains(r.changes[0].why, "cannot write \"never\" to ");
        tu_assert_contains(r.changes[0].why, "Invalid argument");
        vh_report_done(&r);
        char *v = tu_read(root, THP);
        assert_string_equal(v, "always [madvise] never");
        free(v);
        v = tu_read(root, HALT);
        assert_string_equal(v, "400000"); /* the others went on */
        free(v);
        r = do_unregister(&vms[0]);
        assert_false(r.failed);
        vh_report_done(&r);
        check_knobs(root, 0, "after release");
        /* a missing knob file (no kvm module): a note, never a failure, and nothing saved for it */
        char *path = NULL;
        assert_true(asprintf(&path, "%s%s", root, HALT) > 0);
        assert_int_equal(unlink(path), 0);
        r = do_register(&vms[0]);
        assert_false(r.failed);
        bool seen = false;
        for (size_t i = 0; i < r.n; i++)
                if (streq(r.changes[i].knob, "halt_poll_ns")) {
                        assert_int_equal(r.changes[i].kind, VH_CHANGE_ABSENT);
                        tu_assert_contains(r.changes[i].why, "not present on this host");
                        assert_int_equal(r.changes[i].family, VH_FAM_HALT_POLL);
                        seen = true;
                }
        assert_true(seen);
        vh_report_done(&r);
        char *st = tu_read(root, "/run/vmhooks/state");
        assert_null(strstr(st, "knob halt_poll_ns"));
        free(st);
        r = do_unregister(&vms[0]);
        assert_false(r.failed);
        vh_report_done(&r);
        check_no_registration(root);
        /* a read-only one (mode 0444, as on hosts whose kvm takes it at load only): "cannot be tuned here" */
        tu_write(root, HALT, "200000\n");
        assert_int_equal(chmod(path, 0444), 0);
        r = do_register(&vms[0]);
        assert_false(r.failed);
        seen = false;
        for (size_t i = 0; i < r.n; i++)
                if (streq(r.changes[i].knob, "halt_poll_ns")) {
                        assert_int_equal(r.changes[i].kind, VH_CHANGE_UNTUNABLE);
                        tu_assert_contains(r.changes[i].why, "cannot be tuned here: ");
                        tu_assert_contains(r.changes[i].why, "is read-only (mode 0444)");
                        seen = true;
                }
        assert_true(seen);
        vh_report_done(&r);
        v = tu_read(root, HALT);
        assert_string_equal(v, "200000");
        free(v);
        /* the next call (another VM) says nothing new about it to this VM: notes are per call, no failure */
        r = do_register(&vms[1]);
        assert_false(r.failed);
        vh_report_done(&r);
        r = do_unregister(&vms[1]);
        vh_report_done(&r);
        r = do_unregister(&vms[0]);
        vh_report_done(&r);
        check_no_registration(root);
        assert_int_equal(chmod(path, 0644), 0);
        free(path);
}

static void test_mask_keeps_an_online_cpu(void **state)
{
        char *root = *state;
        tu_write(root, "/sys/devices/system/cpu/online", "2-3\n"); /* CPUs 0-1 offline */
        vh_report r = do_register(&vms[0]);                        /* isolates 2-3 */
        bool noted = false;
        assert_false(r.failed); /* a planned outcome, not an error */
        for (size_t i = 0; i < r.n; i++)
                if (r.changes[i].kind == VH_CHANGE_CONFLICT) {
                        assert_string_equal(r.changes[i].vm, "A");
                        tu_assert_contains(r.changes[i].why, "this VM's CPUs 2-3 stay open to unbound kworkers");
                        tu_assert_contains(r.changes[i].why, "housekeeping CPU");
                        noted = true;
                }
        assert_true(noted);
        vh_report_done(&r);
        char *v = tu_read(root, WQ);
        assert_string_equal(v, "f");
        free(v);
        r = do_unregister(&vms[0]);
        vh_report_done(&r);
}

/* isolcpus= and nohz_full= CPUs are no housekeeping CPUs: a mask left with only those is never written. */
static void test_mask_needs_a_housekeeping_cpu(void **state)
{
        char *root = *state;
        tu_write(root, "/sys/devices/system/cpu/isolated", "0\n");
        tu_write(root, "/sys/devices/system/cpu/nohz_full", "1\n");
        vh_report r = do_register(&vms[0]); /* isolates 2-3: only 0-1 would be left, neither housekeeping */
        assert_false(r.failed);
        bool noted = false;
        for (size_t i = 0; i < r.n; i++)
                noted = noted || (r.changes[i].kind == VH_CHANGE_CONFLICT && streq(r.changes[i].vm, "A"));
        assert_true(noted);
        vh_report_done(&r);
        char *v = tu_read(root, WQ);
        assert_string_equal(v, "f");
        free(v);
        r = do_unregister(&vms[0]);
        vh_report_done(&r);
        /* "(null)": the kernel has nohz_full but none is set */
        tu_write(root, "/sys/devices/system/cpu/nohz_full", "(null)\n");
        r = do_register(&vms[0]);
        assert_false(r.failed);
        vh_report_done(&r);
        v = tu_read(root, WQ);
        assert_string_equal(v, "3");
        free(v);
        r = do_unregister(&vms[0]);
        vh_report_done(&r);
        check_knobs(root, 0, "end");
}

/* Registrations of VMs that no longer run are dropped. */
static void test_stale_registration_dropped(void **state)
{
        char *root = *state;
        vh_report r = do_register(&vms[0]);
        vh_report_done(&r);
        /* A ran as PID 4242, which has exited: fake its state line */
        char *s = tu_read(root, "/run/vmhooks/state");
        char *fixed = NULL;
        char *p = strstr(s, "since=");
        assert_non_null(p);
        assert_true(asprintf(&fixed, "%.*ssince=1 pid=4242 pidstart=99%s\n", (int)(p - s), s, strchr(p, ' ')) > 0);
        tu_write(root, "/run/vmhooks/state", fixed);
        free(s);
        free(fixed);
        /* B registers: A is swept, its demands go */
        vh_txn_result res = { 0 };
        vh_demands d;
        demands_of(&vms[2], &d);
        assert_int_equal(vh_txn_register(vms[2].uuid, vms[2].name, &d, false, &res, NULL), 0);
        vh_demands_done(&d);
        assert_int_equal(res.n_dropped, 1);
        assert_string_equal(res.dropped[0], "A");
        vh_txn_result_done(&res);
        char *v = tu_read(root, HALT);
        assert_string_equal(v, "200000");
        free(v);
        v = tu_read(root, THP);
        assert_string_equal(v, "always");
        free(v);
        /* a live PID with the right start time is kept */
        tu_write(root, "/proc/4343/stat", "4343 (qemu-system-x86) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 777 20\n");
        tu_write(root, "/run/libvirt/qemu/A.pid", "4343\n");
        res = (vh_txn_result){ 0 };
        demands_of(&vms[0], &d);
        assert_int_equal(vh_txn_register(vms[0].uuid, vms[0].name, &d, true, &res, NULL), 0);
        vh_demands_done(&d);
        vh_txn_result_done(&res);
        s = tu_read(root, "/run/vmhooks/state");
        tu_assert_contains(s, "pid=4343 pidstart=777");
        free(s);
        r = do_unregister(&vms[2]);
        /* C's isolation of CPU 0 goes; its THP "always" loses to A's never anyway */
        assert_int_equal(r.n, 2);
        assert_string_equal(r.changes[0].knob, "workqueue_cpumask");
        assert_string_equal(r.changes[1].knob, "wq_cpumask:writeback");
        vh_report_done(&r);
        r = do_unregister(&vms[0]);
        vh_report_done(&r);
        check_knobs(root, 0, "end");
}

/* 100 running VMs: a dead PID is dropped at once wherever it is; a reused PID within n/32 calls. */
static void test_sweep_is_bounded_but_complete(void **state)
{
        char *root = *state;
        vh_buf b = { 0 };
        assert_int_equal(vh_buf_puts(&b, "vmhooks-state 1\n"), 0);
        for (int i = 0; i < 100; i++) {
                int pid = 5000 + i;
                assert_int_equal(vh_buf_printf(&b, "vm uuid=u%d name=vm%d since=1 pid=%d pidstart=7 halt_poll_ns=%d\n", i, i,
                                               pid, 300000 + i), 0);
                char rel[64], line[128];
                snprintf(rel, sizeof(rel), "/proc/%d/stat", pid);
                snprintf(line, sizeof(line), "%d (qemu) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 7 20\n", pid);
                tu_write(root, rel, line);
        }
        tu_write(root, "/run/vmhooks/state", b.data);
        free(b.data);
        /* vm90 died (no /proc entry); vm77's PID now belongs to another process */
        char *path = NULL;
        assert_true(asprintf(&path, "%s/proc/5090/stat", root) > 0);
        assert_int_equal(unlink(path), 0);
        *strrchr(path, '/') = '\0';
        assert_int_equal(rmdir(path), 0); /* a dead process has no /proc/PID */
        free(path);
        tu_write(root, "/proc/5077/stat", "5077 (bash) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 999 20\n");

        /* calls that change the table (here: another VM's prepare) advance the rotation */
        vh_demands none = { 0 };
        vh_txn_result res = { 0 };
        assert_int_equal(vh_txn_register("probe", "probe", &none, false, &res, NULL), 0);
        assert_int_equal(res.n_dropped, 1);
        assert_string_equal(res.dropped[0], "vm90");
        vh_txn_result_done(&res);
        bool reuse_found = false;
        for (int call = 0; call < 4 && !reuse_found; call++) {
                res = (vh_txn_result){ 0 };
                assert_int_equal(vh_txn_register("probe", "probe", &none, false, &res, NULL), 0);
                for (size_t i = 0; i < res.n_dropped; i++) {
                        assert_string_equal(res.dropped[i], "vm77");
                        reuse_found = true;
                }
                vh_txn_result_done(&res);
        }
        assert_true(reuse_found);
        char *v = tu_read(root, HALT);
        assert_string_equal(v, "300099"); /* vm99 demands the most; the sweep restored nothing it should not */
        free(v);
        char *st = tu_read(root, "/run/vmhooks/state");
        tu_assert_contains(st, "sweep cursor=");
        assert_null(strstr(st, "name=vm77 "));
        assert_null(strstr(st, "name=vm90 "));
        tu_assert_contains(st, "name=vm76 ");
        free(st);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_order_1_2_3_vms),
                cmocka_unit_test_setup_teardown(test_issue_scenario, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_drift_left_alone, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_drift_at_restore, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_padding_is_not_drift, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_unwritable_knob, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_failed_restore_retried, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_killed_write_is_logged_later, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_mask_keeps_an_online_cpu, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_mask_needs_a_housekeeping_cpu, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_stale_registration_dropped, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_sweep_is_bounded_but_complete, tu_setup_root, tu_teardown_root),
        };
        return cmocka_run_group_tests_name("reconcile", tests, NULL, NULL);
}
