/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* facts.c — gathering the host facts (facts.h); the file format is in facts_file.c. */
#include "facts.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "checks/check.h"
#include "cleanup.h"
#include "fileio.h"
#include "root.h"

#define CPU_DIR "/sys/devices/system/cpu"
#define NODE_DIR "/sys/devices/system/node"
#define POOL_DIR "/sys/kernel/mm/hugepages"
#define PCI_DIR "/sys/bus/pci/devices"
#define BLOCK_DIR "/sys/class/block"
#define LINK_DEPTH 3

/* The files the rules and checks look for (VH_FACTS_FILES). */
static const char *const files_list[] = {
        "/usr/libexec/vmhooks/qemu-kvm",        /* VH_PATCH_WRAPPER: the msix rule names it */
        "/usr/bin/swtpm",                       /* the vtpm rule warns without it */
};

void vh_facts_done(vh_facts *f)
{
        if (!f)
                return;
        free(f->arch);
        vh_cpuset_done(&f->online);
        vh_cpuset_done(&f->present);
        vh_cpuset_done(&f->isolated);
        vh_cpuset_done(&f->nohz_full);
        free(f->irqs);
        for (size_t i = 0; i < f->n_nodes; i++)
                vh_cpuset_done(&f->nodes[i].cpus);
        free(f->nodes);
        free(f->pools);
        for (size_t i = 0; i < f->n_pci; i++)
                free(f->pci[i].driver);
        free(f->pci);
        for (size_t i = 0; i < f->n_blocks; i++) {
                free(f->blocks[i].name);
                free(f->blocks[i].parent);
                free(f->blocks[i].dm_uuid);
                free(f->blocks[i].dm_name);
        }
        free(f->blocks);
        for (size_t i = 0; i < f->n_links; i++) {
                free(f->links[i].path);
                free(f->links[i].name);
        }
        free(f->links);
        for (size_t i = 0; i < f->n_files; i++)
                free(f->files[i].path);
        free(f->files);
        free(f->swtpm.swtpm);
        free(f->swtpm.swtpm_setup);
        free(f->swtpm.user);
        free(f->swtpm.user_error);
        memset(f, 0, sizeof(*f));
}

/* Grow *v (of n elements of size sz) by one zeroed element; NULL on ENOMEM or past the limit. */
static void *grow(void **v, size_t *n, size_t sz)
{
        if (*n >= VH_FACTS_MAX_ITEMS)
                return NULL;
        char *p = realloc(*v, (*n + 1) * sz);
        if (!p)
                return NULL;
        *v = p;
        memset(p + *n * sz, 0, sz);
        return p + (*n)++ * sz;
}
#define GROW(arr, n) ((__typeof__(arr))grow((void **)&(arr), &(n), sizeof(*(arr))))

/* One line below the root; -ENOENT etc.  *ret malloc'd. */
static int host_line(const char *abs, char **ret)
{
        _cleanup_free_ char *path = vh_path(abs);
        if (!path)
                return -ENOMEM;
        _cleanup_error_ vh_error *e = NULL;
        return vh_read_line(path, ret, &e);
}

static int host_u64(const char *abs, uint64_t max, uint64_t *ret)
{
        _cleanup_free_ char *line = NULL;
        int r = host_line(abs, &line);
        if (r < 0)
                return r;
        return vh_parse_u64(line, max, ret);
}

static bool host_exists(const char *abs)
{
        _cleanup_free_ char *path = vh_path(abs);
        struct stat st;
        return path && stat(path, &st) == 0;
}

/* A CPU list file; an absent file, an empty one or "(null)" (nohz_full off) is the empty set. */
static int cpulist_file(const char *abs, bool required, vh_cpuset *ret, vh_error **err)
{
        _cleanup_free_ char *line = NULL;
        int r = host_line(abs, &line);
        if (r == -ENOMEM)
                return vh_fail(err, ENOMEM, "host facts");
        if (r < 0) {
                if (required)
                        return vh_fail(err, -r, "host facts: %s", abs);
                return 0;
        }
        if (!*line || streq(line, "(null)"))
                return 0;
        _cleanup_error_ vh_error *e = NULL;
        vh_cpuset s = { 0 };
        if (vh_cpuset_parse_list(line, &s, &e) < 0) {
                if (!required)
                        return 0;
                return vh_fail_input(err, "host facts: %s: \"%s\": %s", abs, line, vh_error_msg(e));
        }
        vh_cpuset_done(ret);
        *ret = s;
        return 0;
}

static int gather_arch(vh_facts *f)
{
        if (f->arch)
                return 0;
        struct utsname u;
        if (uname(&u) < 0)
                return 0; /* unknown: rules that need it say so */
        /* libvirt's names for the arches uname spells differently */
        f->arch = strdup(streq(u.machine, "arm64") ? "aarch64" : u.machine);
        return f->arch ? 0 : -ENOMEM;
}

static int gather_cpus(vh_facts *f, vh_error **err)
{
        int r = cpulist_file(CPU_DIR "/online", true, &f->online, err);
        if (r == 0)
                r = cpulist_file(CPU_DIR "/present", false, &f->present, err);
        if (r == 0)
                r = cpulist_file(CPU_DIR "/isolated", false, &f->isolated, err);
        if (r == 0)
                r = cpulist_file(CPU_DIR "/nohz_full", false, &f->nohz_full, err);
        return r;
}

/* A name of digits only, as a number <= max; -1 otherwise. */
static long number_name(const char *s, const char *prefix, uint64_t max)
{
        const char *p = startswith(s, prefix);
        uint64_t v;
        if (!p || !*p || strspn(p, "0123456789") != strlen(p) || vh_parse_u64(p, max, &v) < 0)
                return -1;
        return (long)v;
}

static int cmp_unsigned(const void *a, const void *b)
{
        unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
        return x < y ? -1 : x > y;
}

static int gather_irqs(vh_facts *f)
{
        _cleanup_free_ char *path = vh_path("/proc/irq");
        if (!path)
                return -ENOMEM;
        _cleanup_closedir_ DIR *d = opendir(path);
        if (!d)
                return 0; /* no /proc/irq: no IRQs to know of */
        for (struct dirent *e; (e = readdir(d));) {
                long n = number_name(e->d_name, "", UINT_MAX);
                if (n < 0)
                        continue;
                unsigned *slot = GROW(f->irqs, f->n_irqs);
                if (!slot)
                        return -ENOMEM;
                *slot = (unsigned)n;
        }
        if (f->n_irqs)
                qsort(f->irqs, f->n_irqs, sizeof(*f->irqs), cmp_unsigned);
        return 0;
}

static int gather_cgroup(vh_facts *f)
{
        if (host_exists("/sys/fs/cgroup/cgroup.controllers"))
                f->cgroup = VH_CGROUP_V2;
        else if (host_exists("/sys/fs/cgroup/unified/cgroup.controllers"))
                f->cgroup = VH_CGROUP_HYBRID;
        else if (host_exists("/sys/fs/cgroup/cpuset") || host_exists("/sys/fs/cgroup/memory") ||
                 host_exists("/sys/fs/cgroup/cpu"))
                f->cgroup = VH_CGROUP_V1;
        else
                f->cgroup = VH_CGROUP_NONE;
        /* what sd_booted() looks at */
        f->systemd = host_exists("/run/systemd/system");
        return 0;
}

/* "Node 0 MemTotal:        6514424 kB" in the node's meminfo. */
static int node_memory(unsigned id, uint64_t *ret)
{
        _cleanup_free_ char *path = vh_pathf(NODE_DIR "/node%u/meminfo", id);
        if (!path)
                return -ENOMEM;
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_read_file(path, 1u << 20, &text, NULL, &e);
        if (r < 0)
                return r;
        const char *p = strstr(text, "MemTotal:");
        if (!p)
                return -ENOENT;
        p += strlen("MemTotal:");
        char num[32];
        size_t n = 0;
        p += strspn(p, " \t");
        while (n + 1 < sizeof(num) && p[n] >= '0' && p[n] <= '9') {
                num[n] = p[n];
                n++;
        }
        num[n] = '\0';
        return vh_parse_u64(num, UINT64_MAX / 1024, ret);
}

static int cmp_node(const void *a, const void *b)
{
        const vh_facts_node *x = a, *y = b;
        return x->id < y->id ? -1 : x->id > y->id;
}

static int gather_numa(vh_facts *f, vh_error **err)
{
        _cleanup_free_ char *path = vh_path(NODE_DIR);
        if (!path)
                return vh_fail(err, ENOMEM, "host facts");
        _cleanup_closedir_ DIR *d = opendir(path);
        if (!d)
                return 0; /* a kernel without NUMA: no nodes */
        for (struct dirent *e; (e = readdir(d));) {
                long id = number_name(e->d_name, "node", 65535);
                if (id < 0)
                        continue;
                vh_facts_node *n = GROW(f->nodes, f->n_nodes);
                if (!n)
                        return vh_fail(err, ENOMEM, "host facts");
                n->id = (unsigned)id;
                char rel[64];
                snprintf(rel, sizeof(rel), NODE_DIR "/node%ld/cpulist", id);
                int r = cpulist_file(rel, false, &n->cpus, err);
                if (r < 0)
                        return r;
                r = node_memory(n->id, &n->memory_kib);
                if (r == -ENOMEM)
                        return vh_fail(err, ENOMEM, "host facts");
        }
        if (f->n_nodes)
                qsort(f->nodes, f->n_nodes, sizeof(*f->nodes), cmp_node);
        return 0;
}

/* Hugepagesize from /proc/meminfo, in KiB; 0 when absent. */
static int default_hugepage(uint64_t *ret)
{
        *ret = 0;
        _cleanup_free_ char *path = vh_path("/proc/meminfo");
        if (!path)
                return -ENOMEM;
        _cleanup_free_ char *text = NULL;
        _cleanup_error_ vh_error *e = NULL;
        if (vh_read_file(path, 1u << 20, &text, NULL, &e) < 0)
                return 0;
        for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
                nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                const char *v = startswith(line, "Hugepagesize:");
                if (!v)
                        continue;
                _cleanup_free_ char *num = strdup(v);
                if (!num)
                        return -ENOMEM;
                char *kb = strstr(num, "kB");
                if (kb)
                        *kb = '\0';
                uint64_t k;
                if (vh_parse_u64(num, UINT64_MAX / 1024, &k) == 0)
                        *ret = k;
                return 0;
        }
        return 0;
}

/* One pool's values; -ENOENT etc. when one of the files every pool has cannot be read. */
static int pool_values(const char *dir, vh_facts_pool *p)
{
        struct {
                const char *name;
                uint64_t *v;
                bool whole_only, optional;
        } vals[] = {
                { "nr_hugepages", &p->nr, false, false },
                { "free_hugepages", &p->free, false, false },
                { "surplus_hugepages", &p->surplus, false, false },
                { "resv_hugepages", &p->resv, true, false },
                { "nr_overcommit_hugepages", &p->overcommit, true, true }, /* absent on old kernels */
        };
        for (size_t i = 0; i < ELEMENTSOF(vals); i++) {
                if (vals[i].whole_only && p->node >= 0)
                        continue;
                _cleanup_free_ char *rel = NULL;
                if (asprintf(&rel, "%s/%s", dir, vals[i].name) < 0)
                        return -ENOMEM;
                int r = host_u64(rel, UINT64_MAX / 2, vals[i].v);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 && !vals[i].optional)
                        return r;
        }
        return 0;
}

/* The pools in directory `abs` (hugepages-NkB entries), of node `node` (-1: whole). */
static int gather_pools_in(vh_facts *f, const char *abs, int node)
{
        _cleanup_free_ char *path = vh_path(abs);
        if (!path)
                return -ENOMEM;
        _cleanup_closedir_ DIR *d = opendir(path);
        if (!d)
                return 0;
        for (struct dirent *e; (e = readdir(d));) {
                const char *s = startswith(e->d_name, "hugepages-");
                size_t len = s ? strlen(s) : 0;
                if (!s || len < 3 || !streq(s + len - 2, "kB"))
                        continue;
                char num[32];
                if (len - 2 >= sizeof(num))
                        continue;
                memcpy(num, s, len - 2);
                num[len - 2] = '\0';
                uint64_t kib;
                if (strspn(num, "0123456789") != len - 2 || vh_parse_u64(num, UINT64_MAX / 1024, &kib) < 0 || !kib)
                        continue;
                vh_facts_pool p = { .size_kib = kib, .node = node };
                _cleanup_free_ char *rel = NULL;
                if (asprintf(&rel, "%s/%s", abs, e->d_name) < 0)
                        return -ENOMEM;
                int r = pool_values(rel, &p);
                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        continue; /* a pool whose counters cannot be read: as if absent */
                vh_facts_pool *slot = GROW(f->pools, f->n_pools);
                if (!slot)
                        return -ENOMEM;
                *slot = p;
        }
        return 0;
}

static int cmp_pool(const void *a, const void *b)
{
        const vh_facts_pool *x = a, *y = b;
        if (x->node != y->node)
                return x->node < y->node ? -1 : 1;
        return x->size_kib < y->size_kib ? -1 : x->size_kib > y->size_kib;
}

static int gather_hugepages(vh_facts *f)
{
        int r = default_hugepage(&f->default_hugepage_kib);
        if (r == 0)
                r = gather_pools_in(f, POOL_DIR, -1);
        _cleanup_free_ char *path = vh_path(NODE_DIR);
        if (r < 0 || !path)
                return -ENOMEM;
        _cleanup_closedir_ DIR *d = opendir(path);
        for (struct dirent *e; d && r == 0 && (e = readdir(d));) {
                long id = number_name(e->d_name, "node", 65535);
                if (id < 0)
                        continue;
                char rel[64];
                snprintf(rel, sizeof(rel), NODE_DIR "/node%ld/hugepages", id);
                r = gather_pools_in(f, rel, (int)id);
        }
        if (r == 0 && f->n_pools)
                qsort(f->pools, f->n_pools, sizeof(*f->pools), cmp_pool);
        return r;
}

/* "0x126f" -> 0x126f (<= max). */
static int hex_id(const char *s, uint32_t max, uint32_t *ret)
{
        const char *p = startswith(s, "0x");
        if (!p || !*p || strlen(p) > 8 || strspn(p, "0123456789abcdefABCDEF") != strlen(p))
                return -EINVAL;
        unsigned long v = strtoul(p, NULL, 16);
        if (v > max)
                return -ERANGE;
        *ret = (uint32_t)v;
        return 0;
}

/* The last component of the link `abs` points to, or NULL (no link, or ENOMEM: *enomem). */
static char *link_base(const char *abs, bool *enomem)
{
        _cleanup_free_ char *path = vh_path(abs);
        if (!path) {
                *enomem = true;
                return NULL;
        }
        char buf[PATH_MAX];
        ssize_t n = readlink(path, buf, sizeof(buf) - 1);
        if (n <= 0)
                return NULL;
        buf[n] = '\0';
        const char *s = strrchr(buf, '/');
        char *r = strdup(s ? s + 1 : buf);
        if (!r)
                *enomem = true;
        return r;
}

static int cmp_pci(const void *a, const void *b)
{
        return strcmp(((const vh_facts_pci *)a)->bdf, ((const vh_facts_pci *)b)->bdf);
}

static int gather_pci(vh_facts *f)
{
        _cleanup_free_ char *groups = vh_path("/sys/kernel/iommu_groups");
        if (!groups)
                return -ENOMEM;
        f->iommu_groups = 0;
        {
                _cleanup_closedir_ DIR *d = opendir(groups);
                for (struct dirent *e; d && (e = readdir(d));)
                        if (e->d_name[0] != '.')
                                f->iommu_groups++;
        }
        /* interrupt remapping: /proc/interrupts names an IR- chip (IR-PCI-MSI, IR-IO-APIC) as a whole word */
        {
                _cleanup_free_ char *path = vh_path("/proc/interrupts");
                _cleanup_free_ char *text = NULL;
                _cleanup_error_ vh_error *e = NULL;
                if (!path)
                        return -ENOMEM;
                if (vh_read_file(path, 16u << 20, &text, NULL, &e) < 0) {
                        f->irq_remapping = VH_UNKNOWN;
                } else {
                        bool found = false;
                        for (const char *p = text; !found && (p = strstr(p, "IR-")); p += 3)
                                found = p == text || p[-1] == ' ' || p[-1] == '\t';
                        f->irq_remapping = found ? VH_YES : VH_NO;
                }
        }
        /* a bool module parameter reads Y or N; 1 is accepted too */
        {
                _cleanup_free_ char *v = NULL;
                int r = host_line("/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", &v);
                if (r == -ENOMEM)
                        return r;
                f->allow_unsafe_interrupts = r == 0 && (streq(v, "Y") || streq(v, "1"));
        }
        _cleanup_free_ char *path = vh_path(PCI_DIR);
        if (!path)
                return -ENOMEM;
        _cleanup_closedir_ DIR *d = opendir(path);
        for (struct dirent *e; d && (e = readdir(d));) {
                if (e->d_name[0] == '.' || strlen(e->d_name) != 12)
                        continue;
                vh_facts_pci *p = GROW(f->pci, f->n_pci);
                if (!p)
                        return -ENOMEM;
                memcpy(p->bdf, e->d_name, 13);
                p->iommu_group = -1;
                static const char *const attrs[] = { "vendor", "device", "class" };
                uint32_t *dst[] = { &p->vendor, &p->device, &p->class_ };
                const uint32_t max[] = { 0xffff, 0xffff, 0xffffff };
                p->has_ids = true;
                for (size_t i = 0; i < ELEMENTSOF(attrs); i++) {
                        char rel[128];
                        snprintf(rel, sizeof(rel), PCI_DIR "/%s/%s", p->bdf, attrs[i]);
                        _cleanup_free_ char *v = NULL;
                        int r = host_line(rel, &v);
                        if (r == -ENOMEM)
                                return r;
                        if (r < 0 || hex_id(v, max[i], dst[i]) < 0)
                                p->has_ids = false;
                }
                if (!p->has_ids)
                        p->vendor = p->device = p->class_ = 0;
                char rel[128];
                bool enomem = false;
                snprintf(rel, sizeof(rel), PCI_DIR "/%s/driver", p->bdf);
                p->driver = link_base(rel, &enomem);
                snprintf(rel, sizeof(rel), PCI_DIR "/%s/iommu_group", p->bdf);
                _cleanup_free_ char *g = link_base(rel, &enomem);
                if (enomem)
                        return -ENOMEM;
                uint64_t gv;
                if (g && vh_parse_u64(g, INT32_MAX, &gv) == 0)
                        p->iommu_group = (int)gv;
        }
        if (f->n_pci)
                qsort(f->pci, f->n_pci, sizeof(*f->pci), cmp_pci);
        return 0;
}

static int cmp_block(const void *a, const void *b)
{
        return strcmp(((const vh_facts_block *)a)->name, ((const vh_facts_block *)b)->name);
}

static int cmp_link(const void *a, const void *b)
{
        return strcmp(((const vh_facts_link *)a)->path, ((const vh_facts_link *)b)->path);
}

static char *block_line(const char *name, const char *rel)
{
        char abs[PATH_MAX];
        snprintf(abs, sizeof(abs), BLOCK_DIR "/%s%s", name, rel);
        char *v = NULL;
        return host_line(abs, &v) == 0 ? v : NULL;
}

/* The disk a partition belongs to: the parent directory of /sys/class/block/NAME's target. */
static char *parent_disk(const char *name)
{
        _cleanup_free_ char *p = vh_pathf(BLOCK_DIR "/%s", name);
        _cleanup_free_ char *real = p ? realpath(p, NULL) : NULL;
        if (!real)
                return NULL;
        char *slash = strrchr(real, '/');
        if (!slash)
                return NULL;
        *slash = '\0';
        slash = strrchr(real, '/');
        return strdup(slash ? slash + 1 : real);
}

static int gather_block_devices(vh_facts *f)
{
        _cleanup_free_ char *path = vh_path(BLOCK_DIR);
        if (!path)
                return -ENOMEM;
        _cleanup_closedir_ DIR *d = opendir(path);
        for (struct dirent *e; d && (e = readdir(d));) {
                if (e->d_name[0] == '.')
                        continue;
                vh_facts_block *b = GROW(f->blocks, f->n_blocks);
                if (!b || !(b->name = strdup(e->d_name)))
                        return -ENOMEM;
                _cleanup_free_ char *part = block_line(e->d_name, "/partition");
                uint64_t v;
                if (part && vh_parse_u64(part, UINT32_MAX, &v) == 0 && v > 0) {
                        b->partition = (unsigned)v;
                        b->parent = parent_disk(e->d_name);
                }
                char rel[PATH_MAX];
                snprintf(rel, sizeof(rel), BLOCK_DIR "/%s/dm", e->d_name);
                if (host_exists(rel)) {
                        b->dm = true;
                        b->dm_uuid = block_line(e->d_name, "/dm/uuid");
                        b->dm_name = block_line(e->d_name, "/dm/name");
                }
        }
        if (f->n_blocks)
                qsort(f->blocks, f->n_blocks, sizeof(*f->blocks), cmp_block);
        return 0;
}

/* Entries of /dev (LINK_DEPTH levels) that resolve to a block device of f. */
static int walk_dev(vh_facts *f, const char *abs, unsigned depth)
{
        static const char *const skip[] = { "pts", "shm", "fd", "mqueue", "hugepages", "char", "snd", "input",
                                            "bus", "cpu", "dri", "net", "vfio" };
        _cleanup_free_ char *path = vh_path(abs);
        if (!path)
                return -ENOMEM;
        _cleanup_closedir_ DIR *d = opendir(path);
        for (struct dirent *e; d && (e = readdir(d));) {
                if (e->d_name[0] == '.')
                        continue;
                bool skipped = false;
                for (size_t i = 0; depth == 1 && i < ELEMENTSOF(skip); i++)
                        skipped |= streq(e->d_name, skip[i]);
                if (skipped)
                        continue;
                _cleanup_free_ char *rel = NULL, *full = NULL;
                if (asprintf(&rel, "%s/%s", abs, e->d_name) < 0 || !(full = vh_path(rel)))
                        return -ENOMEM;
                struct stat st;
                if (lstat(full, &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        if (depth < LINK_DEPTH) {
                                int r = walk_dev(f, rel, depth + 1);
                                if (r < 0)
                                        return r;
                        }
                        continue;
                }
                _cleanup_free_ char *real = realpath(full, NULL);
                if (!real)
                        continue;
                const char *base = strrchr(real, '/');
                base = base ? base + 1 : real;
                if (!vh_facts_block_find(f, base))
                        continue;
                vh_facts_link *l = GROW(f->links, f->n_links);
                if (!l)
                        return -ENOMEM;
                l->path = TAKE_PTR(rel);
                if (!(l->name = strdup(base)))
                        return -ENOMEM;
        }
        return 0;
}

static int gather_block(vh_facts *f)
{
        int r = gather_block_devices(f);
        if (r == 0)
                r = walk_dev(f, "/dev", 1);
        if (r == 0 && f->n_links)
                qsort(f->links, f->n_links, sizeof(*f->links), cmp_link);
        return r;
}

static int gather_files(vh_facts *f)
{
        for (size_t i = 0; i < ELEMENTSOF(files_list); i++) {
                _cleanup_free_ char *path = vh_path(files_list[i]);
                vh_facts_file *slot = path ? GROW(f->files, f->n_files) : NULL;
                if (!slot || !(slot->path = strdup(files_list[i])))
                        return -ENOMEM;
                slot->exec = access(path, X_OK) == 0;
        }
        return 0;
}

static int gather_swtpm(vh_facts *f)
{
        vh_facts_swtpm *t = &f->swtpm;
        /* NULL: not installed (or, rarely, no memory to say where: the check then says it is missing) */
        t->swtpm = vh_host_find_program("swtpm");
        t->swtpm_setup = vh_host_find_program("swtpm_setup");
        _cleanup_(vh_swtpm_user_done) vh_swtpm_user u = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_host_swtpm_user(&u, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                if (!(t->user_error = strdup(e ? vh_error_msg(e) : strerror(-r))))
                        return -ENOMEM;
        } else {
                t->user = TAKE_PTR(u.name);
                t->uid = (unsigned)u.uid;
                t->from_conf = u.from_conf;
                t->unknown = u.unknown;
        }
        vh_localca l;
        if ((r = vh_host_localca_stat(&l)) < 0)
                return r;
        t->localca_errno = l.err;
        t->localca_mode = l.err ? 0 : (unsigned)l.mode;
        t->localca_uid = l.err ? 0 : (unsigned)l.uid;
        return 0;
}

/* Forget part `bit` of f (before gathering it again). */
static void drop_part(vh_facts *f, unsigned bit)
{
        vh_facts keep = *f;
        vh_facts gone = { 0 };
        switch (bit) {
        case VH_FACTS_CPUS:
                gone.online = keep.online, gone.present = keep.present, gone.isolated = keep.isolated,
                gone.nohz_full = keep.nohz_full;
                memset(&f->online, 0, sizeof(f->online));
                memset(&f->present, 0, sizeof(f->present));
                memset(&f->isolated, 0, sizeof(f->isolated));
                memset(&f->nohz_full, 0, sizeof(f->nohz_full));
                break;
        case VH_FACTS_IRQS:
                gone.irqs = keep.irqs, gone.n_irqs = keep.n_irqs;
                f->irqs = NULL, f->n_irqs = 0;
                break;
        case VH_FACTS_NUMA:
                gone.nodes = keep.nodes, gone.n_nodes = keep.n_nodes;
                f->nodes = NULL, f->n_nodes = 0;
                break;
        case VH_FACTS_HUGEPAGES:
                gone.pools = keep.pools, gone.n_pools = keep.n_pools;
                f->pools = NULL, f->n_pools = 0;
                break;
        case VH_FACTS_PCI:
                gone.pci = keep.pci, gone.n_pci = keep.n_pci;
                f->pci = NULL, f->n_pci = 0;
                break;
        case VH_FACTS_BLOCK:
                gone.blocks = keep.blocks, gone.n_blocks = keep.n_blocks, gone.links = keep.links,
                gone.n_links = keep.n_links;
                f->blocks = NULL, f->n_blocks = 0, f->links = NULL, f->n_links = 0;
                break;
        case VH_FACTS_FILES:
                gone.files = keep.files, gone.n_files = keep.n_files;
                f->files = NULL, f->n_files = 0;
                break;
        case VH_FACTS_SWTPM:
                gone.swtpm = keep.swtpm;
                memset(&f->swtpm, 0, sizeof(f->swtpm));
                break;
        default:
                break;
        }
        vh_facts_done(&gone);
        f->parts &= ~bit;
}

int vh_facts_gather(vh_facts *f, unsigned what, vh_error **err)
{
        what &= VH_FACTS_ALL;
        int first = 0;
        if (gather_arch(f) < 0)
                return vh_fail(err, ENOMEM, "host facts");
        for (unsigned bit = 1; bit & VH_FACTS_ALL; bit <<= 1) {
                if (!(what & bit))
                        continue;
                drop_part(f, bit);
                int r = 0;
                switch (bit) {
                case VH_FACTS_CPUS:
                        r = gather_cpus(f, err);
                        break;
                case VH_FACTS_IRQS:
                        r = gather_irqs(f);
                        break;
                case VH_FACTS_CGROUP:
                        r = gather_cgroup(f);
                        break;
                case VH_FACTS_NUMA:
                        r = gather_numa(f, err);
                        break;
                case VH_FACTS_HUGEPAGES:
                        r = gather_hugepages(f);
                        break;
                case VH_FACTS_PCI:
                        r = gather_pci(f);
                        break;
                case VH_FACTS_BLOCK:
                        r = gather_block(f);
                        break;
                case VH_FACTS_FILES:
                        r = gather_files(f);
                        break;
                case VH_FACTS_SWTPM:
                        r = gather_swtpm(f);
                        break;
                }
                if (r == -ENOMEM) {
                        if (!(err && *err))
                                (void)vh_fail(err, ENOMEM, "host facts");
                        return r;
                }
                if (r < 0) {
                        /* the others are still worth having: f->parts says which are known */
                        first = first ? first : r;
                        err = NULL;
                        continue;
                }
                f->parts |= bit;
        }
        return first;
}

/* ---- lookups ---- */

const vh_facts_pool *vh_facts_pool_find(const vh_facts *f, uint64_t size_kib, int node)
{
        for (size_t i = 0; f && i < f->n_pools; i++)
                if (f->pools[i].size_kib == size_kib && f->pools[i].node == node)
                        return &f->pools[i];
        return NULL;
}

const vh_facts_pci *vh_facts_pci_find(const vh_facts *f, const char *bdf)
{
        for (size_t i = 0; f && bdf && i < f->n_pci; i++)
                if (strcasecmp(f->pci[i].bdf, bdf) == 0)
                        return &f->pci[i];
        return NULL;
}

const vh_facts_block *vh_facts_block_find(const vh_facts *f, const char *name)
{
        for (size_t i = 0; f && name && i < f->n_blocks; i++)
                if (streq(f->blocks[i].name, name))
                        return &f->blocks[i];
        return NULL;
}

const char *vh_facts_block_resolve(const vh_facts *f, const char *dev_path)
{
        for (size_t i = 0; f && dev_path && i < f->n_links; i++)
                if (streq(f->links[i].path, dev_path))
                        return f->links[i].name;
        return NULL;
}

const vh_facts_file *vh_facts_file_find(const vh_facts *f, const char *path)
{
        for (size_t i = 0; f && i < f->n_files; i++)
                if (streq(f->files[i].path, path))
                        return &f->files[i];
        return NULL;
}

bool vh_facts_file_exec(const vh_facts *f, const char *path)
{
        const vh_facts_file *x = vh_facts_file_find(f, path);
        return x && x->exec;
}

const char *vh_cgroup_layout_name(vh_cgroup_layout l)
{
        switch (l) {
        case VH_CGROUP_V1:
                return "v1";
        case VH_CGROUP_V2:
                return "v2";
        case VH_CGROUP_HYBRID:
                return "hybrid";
        default:
                return "none";
        }
}
