/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Host noise left on the CPUs of the VMs that asked to be isolated from it
 * (<isolate>, <kworkers isolate>): IRQs still allowed there, an unbound
 * workqueue mask that still has them, host processes the kernel may still
 * run there.  From the registrations in the state, the way the hook sees
 * them; nothing to say when no VM asks.
 */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit-int.h"
#include "cleanup.h"
#include "fileio.h"
#include "knobs.h"
#include "reconcile.h"
#include "policy.h"
#include "root.h"
#include "sdunits.h"
#include "state.h"
#include "util.h"

/* The union of the CPUs the registered VMs isolate from `source`. */
static int isolated_from(const vh_state *st, unsigned source, vh_cpuset *ret)
{
        int r = 0;
        for (size_t i = 0; i < st->n_regs && r == 0; i++)
                if (st->regs[i].demands.isolate_from & source)
                        r = vh_cpuset_union(ret, &st->regs[i].demands.isolate);
        return r;
}

static int audit_irqs(const vh_state *st, const vh_cpuset *iso, vh_results *out)
{
        vh_knob *list = NULL;
        size_t n = 0;
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_family_instances(VH_FAM_IRQ, &list, &n, &e);
        if (r < 0)
                return r;
        _cleanup_buf_ vh_buf moved = { 0 }, kernel = { 0 };
        unsigned n_moved = 0, n_kernel = 0;
        for (size_t i = 0; i < n && r == 0; i++) {
                _cleanup_free_ char *v = NULL;
                _cleanup_error_ vh_error *re = NULL;
                _cleanup_cpuset_ vh_cpuset cpus = { 0 };
                if (vh_knob_read(&list[i], &v, &re) < 0 || vh_cpuset_parse_list(v, &cpus, NULL) < 0 ||
                    !vh_cpuset_intersects(&cpus, iso))
                        continue;
                /* tuned by vmhooks and back on them (irqbalance, an admin), or never tuned: the kernel refused */
                const vh_knob_state *k = vh_state_knob(st, list[i].name);
                vh_buf *b = k && k->saved ? &moved : &kernel;
                unsigned *count = k && k->saved ? &n_moved : &n_kernel;
                if ((*count)++ < 16)
                        r = vh_buf_printf(b, "%s%s", *count > 1 ? ", " : "", list[i].instance);
        }
        vh_knobs_free(list, n);
        if (r < 0)
                return r;
        _cleanup_free_ char *l = vh_cpuset_format_list(iso);
        if (!l)
                return -ENOMEM;
        if (n_moved)
                r = vh_results_add(out, "isolation", VH_LEVEL_WARN, false,
                                   "find who moves them (irqbalance without its socket, a script); the VMs' logs "
                                   "say \"changed by someone else\"",
                                   "%u IRQ%s vmhooks kept off the isolated CPUs %s %s back on them: %s%s", n_moved,
                                   n_moved == 1 ? "" : "s", l, n_moved == 1 ? "is" : "are", moved.data,
                                   n_moved > 16 ? ", ..." : "");
        if (r == 0 && n_kernel)
                r = vh_results_add(out, "isolation", VH_LEVEL_NOTE, false, NULL,
                                   "%u IRQ%s allowed on the isolated CPUs %s %s not tuned by vmhooks: %s%s (the "
                                   "kernel manages multi-queue and per-CPU IRQs itself, or %s appeared after the "
                                   "last hook call)",
                                   n_kernel, n_kernel == 1 ? "" : "s", l, n_kernel == 1 ? "is" : "are", kernel.data,
                                   n_kernel > 16 ? ", ..." : "", n_kernel == 1 ? "it" : "they");
        if (r == 0 && !n_moved && !n_kernel)
                r = vh_results_add(out, "isolation", VH_LEVEL_PASS, false, NULL,
                                   "no IRQ is allowed on the isolated CPUs %s", l);
        return r;
}

static int audit_wq(const vh_cpuset *iso, vh_results *out)
{
        _cleanup_(vh_knob_done) vh_knob k = { 0 };
        _cleanup_free_ char *v = NULL;
        _cleanup_error_ vh_error *e = NULL;
        _cleanup_cpuset_ vh_cpuset mask = { 0 };
        int r = vh_knob_resolve("workqueue_cpumask", &k);
        if (r == 0)
                r = vh_knob_read(&k, &v, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || vh_cpuset_parse_mask(v, &mask, NULL) < 0)
                return 0; /* no such knob here: the hook says so in the VMs' logs */
        _cleanup_free_ char *l = vh_cpuset_format_list(iso);
        if (!l)
                return -ENOMEM;
        if (vh_cpuset_intersects(&mask, iso))
                return vh_results_add(out, "isolation", VH_LEVEL_WARN, false,
                                      "see the VMs' logs: a VM isolated last may have been left out (conflict note)",
                                      "the unbound workqueue mask %s still has isolated CPUs (%s)", v, l);
        return vh_results_add(out, "isolation", VH_LEVEL_PASS, false, NULL,
                              "unbound kworkers are kept off the isolated CPUs %s (mask %s)", l, v);
}

/* The text of /proc/PID/FILE, read relative to the /proc directory; NULL when it is gone or unreadable. */
static char *proc_file(DIR *proc, unsigned pid, const char *file)
{
        enum { LIMIT = 64 * 1024 };
        char rel[64];
        (void)snprintf(rel, sizeof(rel), "%u/%s", pid, file);
        _cleanup_free_ char *text = malloc(LIMIT + 1);
        if (!text || vh_read_at(dirfd(proc), rel, text, LIMIT + 1, NULL, NULL) < 0)
                return NULL;
        return TAKE_PTR(text);
}

/* The fields of /proc/PID/status looked at, pointing into its text (each cut at its newline). */
typedef struct proc_status {
        const char *name, *ppid, *kthread, *cpus;
} proc_status;

static void parse_status(char *text, proc_status *ret)
{
        static const struct {
                const char *key;
                size_t off;
        } keys[] = {
                { "Name:", offsetof(proc_status, name) },
                { "PPid:", offsetof(proc_status, ppid) },
                { "Kthread:", offsetof(proc_status, kthread) },
                { "Cpus_allowed_list:", offsetof(proc_status, cpus) },
        };
        *ret = (proc_status){ 0 };
        for (char *line = text, *next; line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                for (size_t i = 0; i < ELEMENTSOF(keys); i++)
                        if (strncmp(line, keys[i].key, strlen(keys[i].key)) == 0) {
                                const char *v = line + strlen(keys[i].key);
                                *(const char **)((char *)ret + keys[i].off) = v + strspn(v, " \t");
                        }
        }
}

/* Is PID a VM's own: a registered QEMU, or in libvirt's machine cgroup (QEMU, its helpers)? */
static bool vms_own(const vh_state *st, DIR *proc, unsigned pid)
{
        for (size_t i = 0; i < st->n_regs; i++)
                if (st->regs[i].pid > 0 && (unsigned)st->regs[i].pid == pid)
                        return true;
        _cleanup_free_ char *cg = proc_file(proc, pid, "cgroup");
        /* systemd: /machine.slice/machine-qemu...scope; without systemd: /machine/qemu-N-NAME.libvirt-qemu */
        return cg && (strstr(cg, ":/machine.slice/") || strstr(cg, ":/machine/"));
}

/*
 * Host processes the kernel may still run on the CPUs kept off host tasks:
 * user-space processes (kernel threads are the workqueue and IRQ parts'
 * concern) that are not the VMs' own and whose Cpus_allowed_list (their
 * affinity within their cpuset, what the scheduler obeys) has such a CPU.
 */
static int audit_tasks(const vh_state *st, const vh_cpuset *iso, vh_results *out)
{
        _cleanup_free_ char *path = vh_path("/proc");
        if (!path)
                return -ENOMEM;
        _cleanup_closedir_ DIR *proc = opendir(path);
        if (!proc)
                return 0; /* no /proc to look at: nothing to tell */
        _cleanup_buf_ vh_buf seen = { 0 };
        unsigned looked = 0, allowed = 0;
        int r = 0;
        struct dirent *de;
        while (r == 0 && (de = readdir(proc))) {
                uint64_t pid;
                if (vh_parse_u64(de->d_name, 4194304, &pid) < 0 || pid == 0)
                        continue;
                _cleanup_free_ char *status = proc_file(proc, (unsigned)pid, "status");
                if (!status)
                        continue; /* exited meanwhile */
                proc_status ps;
                parse_status(status, &ps);
                if (streq(ps.kthread, "1") || pid == 2 || streq(ps.ppid, "2"))
                        continue; /* a kernel thread (kthreadd's child on kernels without Kthread:) */
                const char *name = ps.name, *cpus = ps.cpus;
                _cleanup_cpuset_ vh_cpuset set = { 0 };
                if (!cpus || vh_cpuset_parse_list(cpus, &set, NULL) < 0 || vms_own(st, proc, (unsigned)pid))
                        continue;
                looked++;
                if (!vh_cpuset_intersects(&set, iso))
                        continue;
                if (allowed++ < 8) {
                        r = vh_buf_puts(&seen, allowed > 1 ? ", " : "");
                        if (r == 0)
                                r = vh_buf_escape(&seen, name ? name : "?", true);
                        if (r == 0)
                                r = vh_buf_printf(&seen, " (%u, CPUs %s)", (unsigned)pid, cpus);
                }
        }
        if (r < 0)
                return r;
        _cleanup_free_ char *l = vh_cpuset_format_list(iso);
        if (!l)
                return -ENOMEM;
        if (allowed == 0)
                return vh_results_add(out, "isolation", VH_LEVEL_PASS, false, NULL,
                                      "no host process may run on the CPUs %s kept off host tasks (%u looked at)", l,
                                      looked);
        _cleanup_free_ char *why = NULL;
        r = vh_systemd_usable(&why);
        vh_systemd_disconnect();
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return vh_results_add(out, "isolation", VH_LEVEL_NOTE, false, NULL,
                                      "%u of %u host processes may run on the CPUs %s kept off host tasks: %s%s; %s",
                                      allowed, looked, l, seen.data, allowed > 8 ? ", ..." : "",
                                      why ? why : "host tasks are not confined here");
        return vh_results_add(out, "isolation", VH_LEVEL_WARN, false,
                              "vmhooks confines system.slice, user.slice and init.scope: start these in one of them "
                              "or pin them off those CPUs (taskset, CPUAffinity=)",
                              "%u of %u host processes may still run on the CPUs %s kept off host tasks: %s%s",
                              allowed, looked, l, seen.data, allowed > 8 ? ", ..." : "");
}

int vh_audit_isolation(vh_results *out)
{
        _cleanup_state_ vh_state st = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_state_load(&st, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && r != -EINVAL) {
                r = vh_audit_needs_root(out, "isolation", r, "the state of the running VMs");
                return r;
        }
        _cleanup_cpuset_ vh_cpuset irqs = { 0 }, wq = { 0 }, tasks = { 0 };
        if (isolated_from(&st, VH_ISO_IRQS, &irqs) < 0 || isolated_from(&st, VH_ISO_WQ, &wq) < 0 ||
            isolated_from(&st, VH_ISO_TASKS, &tasks) < 0)
                return -ENOMEM;
        if (vh_cpuset_is_empty(&irqs) && vh_cpuset_is_empty(&wq) && vh_cpuset_is_empty(&tasks))
                return vh_results_add(out, "isolation", VH_LEVEL_NOTE, false, NULL,
                                      "no running VM is isolated from host noise now; <isolate/> in the policy keeps "
                                      "workqueues, IRQs (and irqbalance) and host tasks off pinned VMs' CPUs");
        r = 0;
        if (!vh_cpuset_is_empty(&irqs))
                r = audit_irqs(&st, &irqs, out);
        if (r == 0 && !vh_cpuset_is_empty(&wq))
                r = audit_wq(&wq, out);
        if (r == 0 && !vh_cpuset_is_empty(&tasks))
                r = audit_tasks(&st, &tasks, out);
        return r;
}
