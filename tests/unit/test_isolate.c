/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Isolation of pinned VMs from IRQs: every start/stop order of 1, 2 and 3
 * VMs against an oracle (first come first served, never the last
 * housekeeping CPU, an IRQ left without a CPU of its own moved to the
 * housekeeping CPUs), managed IRQs (EIO), an IRQ that appears while VMs
 * run, IRQs that follow their VM's device, and the policy's sources.
 */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit/audit-int.h"
#include "cpuset.h"
#include "fault.h"
#include "lifecycle.h"
#include "reconcile.h"
#include "state.h"
#include "util.h"

#define WQ "/sys/devices/virtual/workqueue/cpumask"
#define DEF "/proc/irq/default_smp_affinity"

/* The fake host's IRQs and their original CPUs (online 0-3). */
static const struct {
        const char *irq, *cpus;
} irqs[] = { { "0", "0-3" }, { "9", "0" }, { "24", "2-3" }, { "25", "1,3" } };
#define N_IRQS (sizeof(irqs) / sizeof(irqs[0]))

typedef struct vm {
        const char *uuid, *name, *isolate;
        unsigned from;
} vm;

static const vm vms[] = {
        { "uuid-a", "A", "2-3", VH_ISO_ALL },
        { "uuid-b", "B", "1", VH_ISO_IRQS },
        { "uuid-c", "C", "0", VH_ISO_IRQS | VH_ISO_WQ },
};

static void irq_path(char *buf, size_t n, const char *irq)
{
        snprintf(buf, n, "/proc/irq/%s/smp_affinity_list", irq);
}

static void add_irqs(const char *root)
{
        char p[64];
        for (size_t i = 0; i < N_IRQS; i++) {
                irq_path(p, sizeof(p), irqs[i].irq);
                char *v = NULL;
                assert_true(asprintf(&v, "%s\n", irqs[i].cpus) > 0);
                tu_write(root, p, v);
                free(v);
        }
        tu_write(root, DEF, "f\n");
}

static vh_report run_txn(const vm *v, bool start)
{
        vh_txn_result res = { 0 };
        vh_error *e = NULL;
        if (start) {
                vh_demands d = { .isolate_from = v->from };
                assert_int_equal(vh_cpuset_parse_list(v->isolate, &d.isolate, NULL), 0);
                if (vh_txn_register(v->uuid, v->name, &d, false, &res, &e) < 0)
                        fail_msg("register %s: %s", v->name, vh_error_msg(e));
                vh_demands_done(&d);
        } else if (vh_txn_unregister(v->uuid, v->name, &res, &e) < 0) {
                fail_msg("unregister %s: %s", v->name, vh_error_msg(e));
        }
        vh_report rep = res.report;
        res.report = (vh_report){ 0 };
        vh_txn_result_done(&res);
        return rep;
}

static unsigned bits(const char *list)
{
        vh_cpuset s = { 0 };
        assert_int_equal(vh_cpuset_parse_list(list, &s, NULL), 0);
        unsigned b = 0;
        for (unsigned c = 0; c < 4; c++)
                if (vh_cpuset_test(&s, c))
                        b |= 1u << c;
        vh_cpuset_done(&s);
        return b;
}

/* What the IRQs must read with these VMs running, in this order. */
static unsigned oracle_isolated(const unsigned *order, size_t n)
{
        unsigned iso = 0;
        for (size_t k = 0; k < n; k++) {
                unsigned cand = iso | bits(vms[order[k]].isolate);
                if (0xfu & ~cand)
                        iso = cand;
        }
        return iso;
}

static void check_irqs(const char *root, const unsigned *order, size_t n, const char *when)
{
        unsigned iso = oracle_isolated(order, n);
        char p[64];
        for (size_t i = 0; i < N_IRQS; i++) {
                unsigned want = bits(irqs[i].cpus) & ~iso;
                if (!want)
                        want = 0xfu & ~iso;
                irq_path(p, sizeof(p), irqs[i].irq);
                char *v = tu_read(root, p);
                if (bits(v) != want)
                        fail_msg("%s: IRQ %s reads %s, want mask %x", when, irqs[i].irq, v, want);
                free(v);
        }
        char *d = tu_read(root, DEF);
        if (strtoul(d, NULL, 16) != (0xfu & ~iso))
                fail_msg("%s: default_smp_affinity reads %s, want %x", when, d, 0xfu & ~iso);
        free(d);
}

static void run_sequence(const int *events, size_t n)
{
        char *root = tu_mkroot();
        add_irqs(root);
        unsigned order[3];
        size_t n_run = 0;
        char when[64];
        for (size_t i = 0; i < n; i++) {
                unsigned v = (unsigned)events[i] >> 1;
                vh_report rep = run_txn(&vms[v], !(events[i] & 1));
                if (events[i] & 1) {
                        size_t k = 0;
                        while (order[k] != v)
                                k++;
                        memmove(&order[k], &order[k + 1], (n_run - k - 1) * sizeof(order[0]));
                        n_run--;
                } else {
                        order[n_run++] = v;
                }
                assert_false(rep.failed);
                vh_report_done(&rep);
                snprintf(when, sizeof(when), "after event %zu", i);
                check_irqs(root, order, n_run, when);
        }
        char *s = tu_read(root, "/run/vmhooks/state");
        assert_string_equal(s, "vmhooks-state 1");
        free(s);
        /* back byte for byte: as the kernel (here: the test) wrote them */
        char p[64];
        for (size_t i = 0; i < N_IRQS; i++) {
                irq_path(p, sizeof(p), irqs[i].irq);
                char *v = tu_read(root, p);
                assert_string_equal(v, irqs[i].cpus);
                free(v);
        }
        tu_rmroot(root);
}

static size_t permute(int *ev, size_t n, size_t pos, unsigned used, size_t k)
{
        if (pos == n) {
                run_sequence(ev, n);
                return 1;
        }
        size_t count = 0;
        for (unsigned v = 0; v < k; v++) {
                if (!(used >> (2 * v) & 1)) {
                        ev[pos] = (int)(v << 1);
                        count += permute(ev, n, pos + 1, used | 1u << (2 * v), k);
                } else if (!(used >> (2 * v + 1) & 1)) {
                        ev[pos] = (int)(v << 1 | 1);
                        count += permute(ev, n, pos + 1, used | 1u << (2 * v + 1), k);
                }
        }
        return count;
}

static void test_every_order_1_2_3_vms(void **state)
{
        (void)state;
        int ev[6];
        assert_int_equal(permute(ev, 2, 0, 0, 1), 1);
        assert_int_equal(permute(ev, 4, 0, 0, 2), 6);
        assert_int_equal(permute(ev, 6, 0, 0, 3), 90);
}

static const vh_change *find_change(const vh_report *r, const char *knob, vh_change_kind kind)
{
        for (size_t i = 0; i < r->n; i++)
                if (streq(r->changes[i].knob, knob) && r->changes[i].kind == kind)
                        return &r->changes[i];
        return NULL;
}

/* Only the sources a VM asks for: B isolates IRQs only, so the workqueue mask stays. */
static void test_sources_apart(void **state)
{
        char *root = *state;
        add_irqs(root);
        vh_report r = run_txn(&vms[1], true);
        assert_false(r.failed);
        assert_non_null(find_change(&r, "irq:0", VH_CHANGE_SET));
        assert_null(find_change(&r, "workqueue_cpumask", VH_CHANGE_SET));
        vh_report_done(&r);
        char *v = tu_read(root, WQ);
        assert_string_equal(v, "f");
        free(v);
        v = tu_read(root, "/proc/irq/25/smp_affinity_list");
        assert_string_equal(v, "3");
        free(v);
        r = run_txn(&vms[1], false);
        assert_false(r.failed);
        assert_non_null(find_change(&r, "irq:25", VH_CHANGE_RESTORE));
        vh_report_done(&r);
        v = tu_read(root, "/proc/irq/25/smp_affinity_list");
        assert_string_equal(v, "1,3");
        free(v);
}

/* A managed IRQ: the kernel answers EIO; a note (not an error), nothing saved, the others go on. */
static void test_managed_irq(void **state)
{
        char *root = *state;
        add_irqs(root);
        /* B isolates IRQs only: writes go in family order, irq_default first, then irq:0, irq:25 (by name) */
        setenv("VMHOOKS_FAULT", "sysfs-write@2=EIO", 1);
        vh_fault_reset();
        vh_report r = run_txn(&vms[1], true);
        unsetenv("VMHOOKS_FAULT");
        vh_fault_reset();
        assert_false(r.failed);
        const vh_change *c = find_change(&r, "irq", VH_CHANGE_UNTUNABLE);
        assert_non_null(c); /* one note for every such IRQ */
        tu_assert_contains(c->why, "1 IRQ cannot be tuned here (0): the kernel manages their affinity");
        assert_int_equal(c->family, VH_FAM_IRQ);
        vh_report_done(&r);
        char *st = tu_read(root, "/run/vmhooks/state");
        assert_null(strstr(st, "knob irq:0 "));
        assert_non_null(strstr(st, "knob irq:25 "));
        free(st);
        char *v = tu_read(root, "/proc/irq/0/smp_affinity_list");
        assert_string_equal(v, "0-3");
        free(v);
        v = tu_read(root, "/proc/irq/25/smp_affinity_list");
        assert_string_equal(v, "3");
        free(v);
        r = run_txn(&vms[1], false);
        assert_false(r.failed);
        vh_report_done(&r);
        v = tu_read(root, "/proc/irq/25/smp_affinity_list");
        assert_string_equal(v, "1,3");
        free(v);
}

/* An IRQ that appears while a VM runs is narrowed by the next call, and restored with the others. */
static void test_hotplugged_irq(void **state)
{
        char *root = *state;
        add_irqs(root);
        vh_report r = run_txn(&vms[0], true);
        vh_report_done(&r);
        tu_write(root, "/proc/irq/40/smp_affinity_list", "0-3\n");
        r = run_txn(&vms[1], true);
        assert_false(r.failed);
        vh_report_done(&r);
        char *v = tu_read(root, "/proc/irq/40/smp_affinity_list");
        assert_string_equal(v, "0");
        free(v);
        r = run_txn(&vms[0], false);
        vh_report_done(&r);
        r = run_txn(&vms[1], false);
        vh_report_done(&r);
        v = tu_read(root, "/proc/irq/40/smp_affinity_list");
        assert_string_equal(v, "0-3");
        free(v);
        /* and one that goes away while tuned is forgotten, not an error */
        r = run_txn(&vms[0], true);
        vh_report_done(&r);
        char *dir = NULL;
        assert_true(asprintf(&dir, "%s/proc/irq/40/smp_affinity_list", root) > 0);
        assert_int_equal(unlink(dir), 0);
        free(dir);
        r = run_txn(&vms[0], false);
        assert_false(r.failed);
        assert_non_null(find_change(&r, "irq:40", VH_CHANGE_GONE));
        vh_report_done(&r);
}

/* Every CPU isolated: one VM too many is told once, and never an empty list is written. */
static void test_no_empty_list(void **state)
{
        char *root = *state;
        add_irqs(root);
        const vm all = { "uuid-x", "X", "0-3", VH_ISO_IRQS };
        vh_report r = run_txn(&all, true);
        assert_false(r.failed);
        size_t conflicts = 0;
        for (size_t i = 0; i < r.n; i++)
                if (r.changes[i].kind == VH_CHANGE_CONFLICT) {
                        conflicts++;
                        assert_string_equal(r.changes[i].vm, "X");
                        tu_assert_contains(r.changes[i].why, "IRQs: this VM's CPUs 0-3 stay open to them");
                }
        assert_int_equal(conflicts, 1); /* one note for all IRQs */
        vh_report_done(&r);
        char *v = tu_read(root, "/proc/irq/0/smp_affinity_list");
        assert_string_equal(v, "0-3");
        free(v);
        r = run_txn(&all, false);
        vh_report_done(&r);
}

/* isolate irqs="follow-vm": the VM's own device's IRQs go to the VM's CPUs, the rest leave them. */
static void test_follow_vm(void **state)
{
        char *root = *state;
        add_irqs(root);
        tu_write(root, "/sys/bus/pci/devices/0000:01:00.0/msi_irqs/24", "msix\n");
        tu_write(root, "/sys/bus/pci/devices/0000:01:00.0/irq", "0\n");
        vh_demands d = { .isolate_from = VH_ISO_IRQS | VH_ISO_IRQS_FOLLOW, .follow_devices = strdup("0000:01:00.0") };
        assert_int_equal(vh_cpuset_parse_list("1", &d.isolate, NULL), 0);
        vh_txn_result res = { 0 };
        assert_int_equal(vh_txn_register("uuid-f", "F", &d, false, &res, NULL), 0);
        assert_false(res.report.failed);
        vh_txn_result_done(&res);
        vh_demands_done(&d);
        char *v = tu_read(root, "/proc/irq/24/smp_affinity_list");
        assert_string_equal(v, "1");
        free(v);
        v = tu_read(root, "/proc/irq/25/smp_affinity_list");
        assert_string_equal(v, "3");
        free(v);
        assert_int_equal(vh_txn_unregister("uuid-f", "F", &res, NULL), 0);
        vh_txn_result_done(&res);
        v = tu_read(root, "/proc/irq/24/smp_affinity_list");
        assert_string_equal(v, "2-3");
        free(v);
}

/* The state of a vmhooks before <isolate> (isolate= alone) means kworkers, nothing else. */
static void test_old_state_means_kworkers(void **state)
{
        char *root = *state;
        add_irqs(root);
        tu_write(root, "/run/vmhooks/state",
                 "vmhooks-state 1\nvm uuid=uuid-a name=A since=1 isolate=2-3\n");
        assert_int_equal(chmod(root, 0755), 0);
        vh_state st = { 0 };
        assert_int_equal(vh_state_load(&st, NULL), 0);
        assert_int_equal(st.n_regs, 1);
        assert_int_equal(st.regs[0].demands.isolate_from, VH_ISO_WQ);
        vh_state_done(&st);
}

/* vmhooks audit: an IRQ vmhooks moved that is back on an isolated CPU is a WARN; untouched ones a NOTE. */
static void test_audit_isolation(void **state)
{
        char *root = *state;
        add_irqs(root);
        vh_report r = run_txn(&vms[1], true); /* B: IRQs off CPU 1 */
        vh_report_done(&r);
        vh_results res = { 0 };
        assert_int_equal(vh_audit_isolation(&res), 0);
        assert_int_equal(res.n, 1);
        assert_int_equal(res.items[0].level, VH_LEVEL_PASS);
        tu_assert_contains(res.items[0].message, "no IRQ is allowed on the isolated CPUs 1");
        vh_results_done(&res);
        tu_write(root, "/proc/irq/25/smp_affinity_list", "1,3\n"); /* someone moved it back */
        tu_write(root, "/proc/irq/77/smp_affinity_list", "0-3\n"); /* appeared after the last call */
        assert_int_equal(vh_audit_isolation(&res), 0);
        assert_int_equal(res.n, 2);
        assert_int_equal(res.items[0].level, VH_LEVEL_WARN);
        tu_assert_contains(res.items[0].message, "1 IRQ vmhooks kept off the isolated CPUs 1 is back on them: 25");
        assert_int_equal(res.items[1].level, VH_LEVEL_NOTE);
        tu_assert_contains(res.items[1].message, "77");
        vh_results_done(&res);
        r = run_txn(&vms[1], false);
        vh_report_done(&r);
}

static void add_process(const char *root, unsigned pid, const char *name, unsigned ppid, int kthread,
                        const char *cpus, const char *cgroup)
{
        char p[64], text[512];
        snprintf(p, sizeof(p), "/proc/%u/status", pid);
        snprintf(text, sizeof(text), "Name:\t%s\nUmask:\t0022\nState:\tS (sleeping)\nPPid:\t%u\n%s"
                 "Cpus_allowed:\tf\nCpus_allowed_list:\t%s\nMems_allowed_list:\t0\n", name, ppid,
                 kthread < 0 ? "" : kthread ? "Kthread:\t1\n" : "Kthread:\t0\n", cpus);
        tu_write(root, p, text);
        snprintf(p, sizeof(p), "/proc/%u/cgroup", pid);
        snprintf(text, sizeof(text), "0::%s\n", cgroup);
        tu_write(root, p, text);
}

/*
 * vmhooks audit: host processes the kernel may still run on the CPUs kept
 * off host tasks, from /proc/PID/status; kernel threads and the VMs' own
 * processes (registered QEMU, libvirt's machine cgroup) are not counted.
 */
static void test_audit_host_tasks(void **state)
{
        char *root = *state;
        tu_write(root, "/run/vmhooks/state",
                 "vmhooks-state 1\nvm uuid=uuid-a name=A since=1 pid=900 isolate=2-3 isolate_from=tasks\n");
        add_process(root, 1, "init", 0, 0, "0-3", "/init.scope");
        add_process(root, 2, "kthreadd", 0, 1, "0-3", "/");
        add_process(root, 3, "kworker/0:0", 2, -1, "0-3", "/"); /* a kernel without Kthread: */
        add_process(root, 40, "sshd", 1, 0, "0-1", "/system.slice/ssh.service");
        add_process(root, 50, "cron", 1, 0, "0-3", "/system.slice/cron.service");
        add_process(root, 60, "swtpm", 1, 0, "0-3", "/machine.slice/machine-qemu\\x2d1\\x2dA.scope");
        add_process(root, 70, "qemu-helper", 1, 0, "3", "/machine/qemu-1-A.libvirt-qemu/emulator");
        add_process(root, 900, "qemu-system-x86", 1, 0, "2-3", "/");
        assert_int_equal(chmod(root, 0755), 0); /* the state's directories are trusted */
        vh_results res = { 0 };
        assert_int_equal(vh_audit_isolation(&res), 0);
        assert_int_equal(res.n, 1);
        /* no systemd here (no /run/systemd/system): told, not warned */
        assert_int_equal(res.items[0].level, VH_LEVEL_NOTE);
        tu_assert_contains(res.items[0].message, "2 of 3 host processes may run on the CPUs 2-3 kept off host tasks: ");
        tu_assert_contains(res.items[0].message, "init (1, CPUs 0-3)"); /* in /proc's order */
        tu_assert_contains(res.items[0].message, "cron (50, CPUs 0-3)");
        tu_assert_contains(res.items[0].message, "; systemd is not PID 1");
        vh_results_done(&res);
        add_process(root, 1, "init", 0, 0, "0-1", "/init.scope");
        add_process(root, 50, "cron", 1, 0, "1", "/system.slice/cron.service");
        assert_int_equal(vh_audit_isolation(&res), 0);
        assert_int_equal(res.n, 1);
        assert_int_equal(res.items[0].level, VH_LEVEL_PASS);
        tu_assert_contains(res.items[0].message, "no host process may run on the CPUs 2-3 kept off host tasks (3 "
                                                 "looked at)");
        vh_results_done(&res);
}

/* AllowedCPUs of a systemd unit: unset means every online CPU; restored as it was, unset included. */
static void test_unit_planner(void **state)
{
        (void)state;
        vh_state st = { 0 };
        vh_reg *g = vh_state_add(&st);
        g->uuid = strdup("u1");
        g->name = strdup("A");
        g->demands.isolate_from = VH_ISO_TASKS;
        assert_int_equal(vh_cpuset_parse_list("2-3", &g->demands.isolate, NULL), 0);
        vh_plan_host host = { .have_cpus = true };
        assert_int_equal(vh_cpuset_parse_list("0-3", &host.online, NULL), 0);
        assert_int_equal(vh_cpuset_parse_list("0-3", &host.housekeeping, NULL), 0);
        vh_knob k = { 0 };
        assert_int_equal(vh_knob_resolve("allowed_cpus:system.slice", &k), 0);
        assert_int_equal(k.family, VH_FAM_UNIT_CPUS);
        assert_string_equal(k.path, "AllowedCPUs of system.slice");
        assert_int_equal(vh_knob_resolve("allowed_cpus:machine.slice", &(vh_knob){ 0 }), -EINVAL);
        vh_desired d = { 0 };
        assert_int_equal(vh_reconcile_desired(&st, &k, "", &host, &d, NULL), 0);
        assert_string_equal(d.value, "0-1");
        vh_desired_done(&d);
        assert_int_equal(vh_reconcile_desired(&st, &k, "1-3", &host, &d, NULL), 0);
        assert_string_equal(d.value, "1");
        vh_desired_done(&d);
        /* "" is not "0-3": a restore to unset is a write */
        assert_false(vh_knob_equal(&k, "", "0-3"));
        assert_true(vh_knob_equal(&k, "0-1", "0,1"));
        /* only its CPUs left: the unit is left as it is, and the VM told */
        assert_int_equal(vh_reconcile_desired(&st, &k, "2-3", &host, &d, NULL), 0);
        assert_string_equal(d.value, "2-3");
        vh_desired_done(&d);
        vh_knob_done(&k);
        vh_plan_host_done(&host);
        vh_state_done(&st);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_every_order_1_2_3_vms),
                cmocka_unit_test_setup_teardown(test_sources_apart, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_managed_irq, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_hotplugged_irq, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_no_empty_list, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_follow_vm, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_old_state_means_kworkers, tu_setup_root, tu_teardown_root),
                cmocka_unit_test(test_unit_planner),
                cmocka_unit_test_setup_teardown(test_audit_isolation, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_audit_host_tasks, tu_setup_root, tu_teardown_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
