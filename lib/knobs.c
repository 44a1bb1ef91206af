/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "knobs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fault.h"
#include "fileio.h"
#include "hugepool.h"
#include "irqbalance.h"
#include "root.h"
#include "sdunits.h"
#include "util.h"

static const char *const thp_words[] = { "always", "madvise", "never", NULL };
static const char *const defrag_words[] = { "always", "defer", "defer+madvise", "madvise", "never", NULL };
static const char *const shmem_words[] = { "always", "within_size", "advise", "never", "deny", "force", NULL };

#define THP_DIR "/sys/kernel/mm/transparent_hugepage/"

/* ---- families with their own access ---- */

/* systemd: "not present" whenever host tasks cannot be confined here (no systemd, cgroup v1, ...): the why says which */
static int unit_access(const vh_knob *k, char **why)
{
        (void)k;
        _cleanup_free_ char *w = NULL;
        int r = vh_systemd_usable(&w);
        if (r == 0)
                return 0;
        if (why)
                *why = TAKE_PTR(w);
        return r == -ENOMEM ? -ENOMEM : -ENOENT;
}

static int unit_read(const vh_knob *k, char **ret, vh_error **err)
{
        return vh_unit_get_allowed_cpus(k->instance, ret, err);
}

static int unit_write(const vh_knob *k, const char *value, vh_error **err)
{
        int r = vh_fault_point("sysfs-write");
        if (r < 0)
                return vh_fail(err, -r, "cannot set AllowedCPUs=%s of %s", value, k->instance);
        return vh_unit_set_allowed_cpus(k->instance, value, err);
}

/* irqbalance: its socket, found once per call (quick: /proc is scanned only when it has none) */
static char *irqbalance_socket;
static int irqbalance_status; /* 0: not looked for yet; 1: found; else the negative errno of the search */
static char *irqbalance_why;

static int irqbalance_look(void)
{
        if (irqbalance_status == 0) {
                int r = vh_irqbalance_find(VH_IRQBALANCE_QUICK, &irqbalance_socket, &irqbalance_why);
                irqbalance_status = r == 0 ? 1 : r;
        }
        return irqbalance_status == 1 ? 0 : irqbalance_status;
}

/* Not running: not present (nothing to ban).  Running without a socket: cannot be tuned here, and why. */
static int irqbalance_access(const vh_knob *k, char **why)
{
        (void)k;
        int r = irqbalance_look();
        if (r == 0)
                return 0;
        if (r == -ENOMEM)
                return r;
        if (why)
                *why = irqbalance_why ? strdup(irqbalance_why) : NULL;
        return r == -ENOENT ? -ENOENT : -EROFS;
}

static int irqbalance_read(const vh_knob *k, char **ret, vh_error **err)
{
        (void)k;
        int r = irqbalance_look();
        if (r < 0)
                return vh_fail(err, -r, "irqbalance: %s", irqbalance_why ? irqbalance_why : "not found");
        return vh_irqbalance_get_banned(irqbalance_socket, ret, err);
}

static int irqbalance_write(const vh_knob *k, const char *value, vh_error **err)
{
        (void)k;
        int r = vh_fault_point("sysfs-write");
        if (r == 0)
                r = irqbalance_look();
        if (r < 0)
                return vh_fail(err, -r, "cannot ban CPUs \"%s\" in irqbalance", value);
        _cleanup_error_ vh_error *e = NULL;
        r = vh_irqbalance_set_banned(irqbalance_socket, value, &e);
        if (r == -EINPROGRESS)
                return 0; /* queued: irqbalance applies it when it wakes, as it would a ban it took at once */
        if (r < 0 && err)
                *err = TAKE_PTR(e);
        return r;
}

static const vh_family_ops irqbalance_ops = { .read = irqbalance_read, .write = irqbalance_write,
                                              .access = irqbalance_access };
static const char *const irqbalance_instances[] = { "banned", NULL };

static const vh_family_ops unit_ops = { .read = unit_read, .write = unit_write, .access = unit_access };
static const char *const host_units[] = { "system.slice", "user.slice", "init.scope", NULL };
#define WQ_DIR "/sys/devices/virtual/workqueue/"

const vh_family vh_families[VH_FAM_COUNT] = {
        [VH_FAM_THP] = { .name = "thp", .title = "THP enabled", .kind = VH_KIND_WORD, .words = thp_words,
                         .path = THP_DIR "enabled" },
        [VH_FAM_THP_DEFRAG] = { .name = "thp_defrag", .title = "THP defrag", .kind = VH_KIND_WORD,
                                .words = defrag_words, .path = THP_DIR "defrag" },
        [VH_FAM_THP_SHMEM] = { .name = "thp_shmem", .title = "THP for shared memory", .kind = VH_KIND_WORD,
                               .words = shmem_words, .path = THP_DIR "shmem_enabled" },
        [VH_FAM_HALT_POLL] = { .name = "halt_poll_ns", .title = "KVM halt polling", .kind = VH_KIND_UINT,
                               .path = "/sys/module/kvm/parameters/halt_poll_ns" },
        [VH_FAM_WQ_MASK] = { .name = "workqueue_cpumask", .title = "unbound workqueue CPUs", .kind = VH_KIND_MASK,
                             .path = WQ_DIR "cpumask", .read_prefer = WQ_DIR "cpumask_requested" },
        [VH_FAM_WQ_QUEUE] = { .name = "wq_cpumask", .title = "workqueue CPUs", .kind = VH_KIND_MASK,
                              .dir = "/sys/bus/workqueue/devices", .file = "cpumask" },
        /* set before the IRQs move (it would move them back), lifted after; its reply lags a ban until its next rescan */
        [VH_FAM_IRQBALANCE] = { .name = "irqbalance", .title = "CPUs irqbalance leaves alone", .kind = VH_KIND_LIST,
                                .fixed = irqbalance_instances, .where = "irqbalance's ", .ops = &irqbalance_ops,
                                .lagging_read = true },
        [VH_FAM_IRQ_DEFAULT] = { .name = "irq_default", .title = "CPUs of new IRQs", .kind = VH_KIND_MASK,
                                 .path = "/proc/irq/default_smp_affinity" },
        /* managed (multi-queue) and per-CPU IRQs: the kernel answers EIO to every write */
        [VH_FAM_IRQ] = { .name = "irq", .title = "IRQ CPUs", .kind = VH_KIND_LIST, .dir = "/proc/irq",
                         .file = "smp_affinity_list", .eio_untunable = true },
        /* machine.slice (the VMs) is never one of them */
        [VH_FAM_UNIT_CPUS] = { .name = "allowed_cpus", .title = "CPUs of host tasks", .kind = VH_KIND_LIST,
                               .fixed = host_units, .where = "AllowedCPUs of ", .ops = &unit_ops },
        /* instances only from the state: the pools vmhooks added pages to (lib/hugepool.h) */
        [VH_FAM_HUGEPOOL] = { .name = VH_HUGEPOOL_FAMILY, .title = "hugepage pool", .kind = VH_KIND_UINT,
                              .where = "hugepage pool ", .ops = &vh_hugepool_ops, .partial_writes = true },
};

void vh_knob_done(vh_knob *k)
{
        free(k->name);
        free(k->instance);
        free(k->path);
        free(k->read_path);
        memset(k, 0, sizeof(*k));
}

const char *vh_knob_canonical_name(const char *name, char *buf, size_t size)
{
        /* vmhooks <= 0.1 kept the writeback queue as a knob of its own */
        if (streq(name, "writeback_cpumask") && snprintf(buf, size, "wq_cpumask:writeback") < (int)size)
                return buf;
        return name;
}

/* An instance name is a directory entry: no '/', not "." or "..". */
static bool instance_valid(const char *s)
{
        return *s && !strchr(s, '/') && !streq(s, ".") && !streq(s, "..") && strlen(s) < 256;
}

static char *instance_string(const char *a, const char *sep, const char *b, const char *sep2, const char *c)
{
        char *s = NULL;
        return asprintf(&s, "%s%s%s%s%s", a, sep, b, sep2, c) < 0 ? NULL : s;
}

static int knob_make(vh_family_id f, const char *instance, vh_knob *ret)
{
        const vh_family *fam = &vh_families[f];
        _cleanup_(vh_knob_done) vh_knob k = { .family = f };
        if (instance) {
                k.name = instance_string(fam->name, ":", instance, "", "");
                k.instance = strdup(instance);
                if (fam->dir)
                        k.path = instance_string(fam->dir, "/", instance, "/", fam->file);
                else
                        k.path = instance_string(fam->where, "", instance, "", "");
                if (!k.instance)
                        return -ENOMEM;
        } else {
                k.name = strdup(fam->name);
                k.path = strdup(fam->path);
        }
        if (!k.name || !k.path)
                return -ENOMEM;
        if (fam->read_prefer) {
                _cleanup_free_ char *full = vh_path(fam->read_prefer);
                if (!full)
                        return -ENOMEM;
                if (access(full, F_OK) == 0 && !(k.read_path = strdup(fam->read_prefer)))
                        return -ENOMEM;
        }
        *ret = k;
        memset(&k, 0, sizeof(k));
        return 0;
}

static bool fixed_listed(const vh_family *fam, const char *instance)
{
        for (size_t i = 0; fam->fixed[i]; i++)
                if (streq(fam->fixed[i], instance))
                        return true;
        return false;
}

int vh_knob_resolve(const char *name, vh_knob *ret)
{
        char buf[64];
        name = vh_knob_canonical_name(name, buf, sizeof(buf));
        for (int f = 0; f < VH_FAM_COUNT; f++) {
                const vh_family *fam = &vh_families[f];
                if (fam->path && streq(name, fam->name))
                        return knob_make((vh_family_id)f, NULL, ret);
                bool named = fam->ops && fam->ops->valid;
                const char *inst = fam->dir || fam->fixed || named ? startswith(name, fam->name) : NULL;
                if (!inst || *inst != ':' || !instance_valid(inst + 1))
                        continue;
                if (fam->fixed && !fixed_listed(fam, inst + 1))
                        continue;
                if (named && !fam->ops->valid(inst + 1))
                        continue;
                return knob_make((vh_family_id)f, inst + 1, ret);
        }
        return -EINVAL;
}

static int push_knob(vh_knob **list, size_t *n, vh_knob *k)
{
        vh_knob *l = realloc(*list, (*n + 1) * sizeof(*l));
        if (!l) {
                vh_knob_done(k);
                return -ENOMEM;
        }
        *list = l;
        l[(*n)++] = *k;
        return 0;
}

static int name_cmp(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

int vh_family_instances(vh_family_id f, vh_knob **list, size_t *n, vh_error **err)
{
        const vh_family *fam = &vh_families[f];
        if (fam->fixed) {
                /* named instances: the ones the host has (access says not present otherwise) */
                for (size_t i = 0; fam->fixed[i]; i++) {
                        vh_knob k;
                        int r = knob_make(f, fam->fixed[i], &k);
                        if (r == 0 && vh_knob_access(&k, NULL) == -ENOENT) {
                                vh_knob_done(&k);
                                continue;
                        }
                        if (r == 0)
                                r = push_knob(list, n, &k);
                        if (r < 0)
                                return vh_fail(err, -r, "%s", fam->name);
                }
                return 0;
        }
        if (fam->path) {
                _cleanup_free_ char *full = vh_path(fam->path);
                if (!full)
                        return vh_fail(err, ENOMEM, "%s", fam->name);
                if (access(full, F_OK) < 0)
                        return 0;
                vh_knob k;
                int r = knob_make(f, NULL, &k);
                if (r == 0)
                        r = push_knob(list, n, &k);
                return r < 0 ? vh_fail(err, -r, "%s", fam->name) : 0;
        }
        if (!fam->dir)
                return 0; /* instances known only from the state */
        _cleanup_free_ char *dir = vh_path(fam->dir);
        if (!dir)
                return vh_fail(err, ENOMEM, "%s", fam->name);
        DIR *d = opendir(dir);
        if (!d)
                return 0; /* no such directory: no instance on this host */
        char **names = NULL;
        size_t nn = 0;
        int r = 0;
        for (struct dirent *de; r == 0 && (de = readdir(d));) {
                if (!instance_valid(de->d_name) || de->d_name[0] == '.')
                        continue;
                /* readdir's type when it gives one (procfs, sysfs, tmpfs do): no stat an IRQ */
                struct stat sb;
                if (de->d_type != DT_DIR && (fstatat(dirfd(d), de->d_name, &sb, 0) < 0 || !S_ISDIR(sb.st_mode)))
                        continue;
                _cleanup_free_ char *file = NULL;
                if (asprintf(&file, "%s/%s", de->d_name, fam->file) < 0) {
                        r = -ENOMEM;
                        break;
                }
                if (faccessat(dirfd(d), file, F_OK, 0) < 0)
                        continue;
                char **nl = realloc(names, (nn + 1) * sizeof(*nl));
                if (!nl || !(nl[nn] = strdup(de->d_name))) {
                        if (nl)
                                names = nl;
                        r = -ENOMEM;
                        break;
                }
                names = nl;
                nn++;
        }
        closedir(d);
        /* a stable order: the log and the state list instances alike on every call */
        if (nn)
                qsort(names, nn, sizeof(*names), name_cmp);
        for (size_t i = 0; i < nn; i++) {
                vh_knob k;
                if (r == 0)
                        r = knob_make(f, names[i], &k);
                if (r == 0)
                        r = push_knob(list, n, &k);
                free(names[i]);
        }
        free(names);
        return r < 0 ? vh_fail(err, -r, "%s", fam->name) : 0;
}

/* "always [madvise] never" -> "madvise"; "never" -> "never". */
static int normalize_word(const char *const *words, const char *raw, char **ret)
{
        const char *open = strchr(raw, '[');
        const char *w = raw;
        size_t n;
        if (open) {
                const char *close = strchr(open, ']');
                if (!close)
                        return -EINVAL;
                w = open + 1;
                n = (size_t)(close - w);
        } else {
                w += strspn(w, " \t");
                n = strcspn(w, " \t\n");
                if (w[n + strspn(w + n, " \t\n")] != '\0')
                        return -EINVAL;
        }
        for (int i = 0; words[i]; i++) {
                if (strlen(words[i]) == n && strncmp(w, words[i], n) == 0) {
                        *ret = strdup(words[i]);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        return -EINVAL;
}

static int words_list(const char *const *words, vh_buf *b)
{
        int r = 0;
        for (int i = 0; r == 0 && words[i]; i++)
                r = vh_buf_printf(b, "%s%s", i ? (words[i + 1] ? ", " : " or ") : "", words[i]);
        return r;
}

int vh_knob_normalize(const vh_knob *k, const char *raw, char **ret, vh_error **err)
{
        const vh_family *fam = &vh_families[k->family];
        const char *path = k->read_path ? k->read_path : k->path;
        int r;
        switch (fam->kind) {
        case VH_KIND_WORD: {
                r = normalize_word(fam->words, raw, ret);
                if (r == -ENOMEM)
                        return vh_fail(err, ENOMEM, "%s", path);
                if (r < 0) {
                        _cleanup_buf_ vh_buf w = { 0 };
                        if (words_list(fam->words, &w) < 0)
                                return vh_fail(err, ENOMEM, "%s", path);
                        return vh_fail_input(err, "%s reads \"%s\"; expected %s", path, raw, w.data);
                }
                return 0;
        }
        case VH_KIND_UINT: {
                uint64_t v;
                if (vh_parse_u64(raw, UINT32_MAX, &v) < 0)
                        return vh_fail_input(err, "%s reads \"%s\"; expected a number", path, raw);
                if (asprintf(ret, "%llu", (unsigned long long)v) < 0)
                        return vh_fail(err, ENOMEM, "%s", path);
                return 0;
        }
        case VH_KIND_MASK: {
                _cleanup_cpuset_ vh_cpuset s = { 0 };
                _cleanup_error_ vh_error *inner = NULL;
                if (vh_cpuset_parse_mask(raw, &s, &inner) < 0)
                        return vh_fail_input(err, "%s reads \"%s\"; expected a hex CPU mask", path, raw);
                *ret = strdup(raw);
                if (!*ret)
                        return vh_fail(err, ENOMEM, "%s", path);
                vh_rstrip(*ret);
                return 0;
        }
        case VH_KIND_LIST: {
                _cleanup_cpuset_ vh_cpuset s = { 0 };
                _cleanup_free_ char *copy = strdup(raw);
                if (!copy)
                        return vh_fail(err, ENOMEM, "%s", path);
                vh_rstrip(copy);
                if (*copy && vh_cpuset_parse_list(copy, &s, NULL) < 0)
                        return vh_fail_input(err, "%s reads \"%s\"; expected a CPU list", path, raw);
                *ret = *copy ? vh_cpuset_format_list(&s) : strdup("");
                return *ret ? 0 : vh_fail(err, ENOMEM, "%s", path);
        }
        }
        return vh_fail_input(err, "%s: unknown knob kind", path);
}

int vh_knob_read(const vh_knob *k, char **ret, vh_error **err)
{
        const vh_family_ops *ops = vh_families[k->family].ops;
        if (ops) {
                _cleanup_free_ char *raw = NULL;
                int r = ops->read(k, &raw, err);
                return r < 0 ? r : vh_knob_normalize(k, raw, ret, err);
        }
        const char *rel = k->read_path ? k->read_path : k->path;
        _cleanup_free_ char *path = vh_path(rel);
        if (!path)
                return vh_fail(err, ENOMEM, "%s", rel);
        /*
         * One read into the stack (open, read, close: the kernel gives a
         * sysfs or proc file whole in one read), the common case by far;
         * a longer value (a sparse CPU list of a big host) is read whole.
         */
        char small[4096];
        _cleanup_error_ vh_error *se = NULL;
        int r = vh_read_at(AT_FDCWD, path, small, sizeof(small), NULL, &se);
        if (r == 0) {
                vh_rstrip(small);
                return vh_knob_normalize(k, small, ret, err);
        }
        if (r != -EFBIG) {
                if (err)
                        *err = TAKE_PTR(se);
                return r;
        }
        _cleanup_free_ char *raw = NULL;
        r = vh_read_line(path, &raw, err);
        if (r < 0)
                return r;
        return vh_knob_normalize(k, raw, ret, err);
}

int vh_knob_write(const vh_knob *k, const char *value, vh_error **err)
{
        const vh_family_ops *ops = vh_families[k->family].ops;
        if (ops)
                return ops->write(k, value, err);
        _cleanup_free_ char *path = vh_path(k->path);
        if (!path)
                return vh_fail(err, ENOMEM, "%s", k->path);
        return vh_write_sysfs(path, value, err);
}

bool vh_knob_pending_reached(const vh_knob *k, const char *current, const char *pending, const char *expected)
{
        if (vh_knob_equal(k, current, pending))
                return true;
        uint64_t c, p, e;
        if (!vh_families[k->family].partial_writes || !current || !pending || !expected ||
            vh_parse_u64(current, UINT64_MAX, &c) < 0 || vh_parse_u64(pending, UINT64_MAX, &p) < 0 ||
            vh_parse_u64(expected, UINT64_MAX, &e) < 0)
                return false;
        return (e <= c && c <= p) || (p <= c && c <= e);
}

bool vh_knob_equal(const vh_knob *k, const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        vh_knob_kind kind = vh_families[k->family].kind;
        if (kind == VH_KIND_LIST && (!*a || !*b))
                return !*a && !*b; /* "" (AllowedCPUs unset) is not any list of CPUs */
        if (kind != VH_KIND_MASK && kind != VH_KIND_LIST)
                return streq(a, b);
        _cleanup_cpuset_ vh_cpuset sa = { 0 }, sb = { 0 };
        int (*parse)(const char *, vh_cpuset *, vh_error **) =
                kind == VH_KIND_MASK ? vh_cpuset_parse_mask : vh_cpuset_parse_list;
        if (parse(a, &sa, NULL) < 0 || parse(b, &sb, NULL) < 0)
                return streq(a, b);
        return vh_cpuset_equal(&sa, &sb);
}

int vh_knob_access(const vh_knob *k, char **why)
{
        const vh_family_ops *ops = vh_families[k->family].ops;
        if (ops)
                return ops->access(k, why);
        _cleanup_free_ char *path = vh_path(k->path);
        if (!path)
                return -ENOMEM;
        struct stat sb;
        if (stat(path, &sb) < 0) {
                int e = errno;
                if (e != ENOENT && e != ENOTDIR)
                        return 0; /* let the read say what is wrong */
                if (why && asprintf(why, "not present on this host (%s does not exist)", k->path) < 0)
                        *why = NULL;
                return -ENOENT;
        }
        if (S_ISREG(sb.st_mode) && !(sb.st_mode & 0222)) {
                if (why && asprintf(why, "cannot be tuned here: %s is read-only (mode %04o)", k->path,
                                    (unsigned)(sb.st_mode & 07777)) < 0)
                        *why = NULL;
                return -EROFS;
        }
        return 0;
}

bool vh_knob_untunable_errno(const vh_knob *k, int e)
{
        return e == EACCES || e == EPERM || e == EROFS || (e == EIO && vh_families[k->family].eio_untunable);
}
