/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host facts (lib/facts.h): gathered from a fake host (VMHOOKS_ROOT)
 * whose every value the test writes, only the parts asked for; written and
 * read back unchanged; and a malformed facts file refused with one line
 * that names the file, the line and what is expected.
 */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "facts.h"
#include "util.h"

static void link_at(const char *root, const char *rel, const char *target)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s%s", root, rel) > 0);
        (void)unlink(p); /* a second run of the same fixture */
        assert_int_equal(symlink(target, p), 0);
        free(p);
}

#define NODE "/sys/devices/system/node"
#define PCI "/sys/bus/pci/devices"

/* Two NUMA nodes, isolated CPUs, IRQs, cgroup v2 under systemd, two pool sizes, two PCI devices, block devices. */
static void rich_host(const char *root)
{
        tu_write(root, "/sys/devices/system/cpu/present", "0-3\n");
        tu_write(root, "/sys/devices/system/cpu/isolated", "2-3\n");
        tu_write(root, "/sys/devices/system/cpu/nohz_full", "3\n");
        static const unsigned irqs[] = { 24, 0, 9, 120 };
        for (size_t i = 0; i < ELEMENTSOF(irqs); i++) {
                char rel[64];
                snprintf(rel, sizeof(rel), "/proc/irq/%u/smp_affinity_list", irqs[i]);
                tu_write(root, rel, "0-3\n");
        }
        tu_write(root, "/proc/irq/default_smp_affinity", "f\n");
        tu_write(root, "/sys/fs/cgroup/cgroup.controllers", "cpuset cpu io memory pids\n");
        tu_write(root, "/run/systemd/system/.keep", "");
        tu_write(root, NODE "/node0/cpulist", "0-1\n");
        tu_write(root, NODE "/node0/meminfo", "Node 0 MemTotal:        4194304 kB\nNode 0 MemFree:  1000 kB\n");
        tu_write(root, NODE "/node1/cpulist", "2-3\n");
        tu_write(root, NODE "/node1/meminfo", "Node 1 MemTotal:        2097152 kB\n");
        tu_write(root, NODE "/online", "0-1\n"); /* not a node */
        static const char *const names[] = { "nr_hugepages", "free_hugepages", "surplus_hugepages" };
        for (int node = 0; node < 2; node++)
                for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                        char rel[160], v[16];
                        snprintf(rel, sizeof(rel), NODE "/node%d/hugepages/hugepages-2048kB/%s", node, names[i]);
                        snprintf(v, sizeof(v), "%d\n", i == 2 ? 0 : 1024 - node * 24 - (int)i);
                        tu_write(root, rel, v);
                }
        tu_write(root, "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_overcommit_hugepages", "16\n");
        tu_write(root, "/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages", "2\n");
        tu_write(root, "/sys/kernel/mm/hugepages/hugepages-1048576kB/free_hugepages", "1\n");
        tu_write(root, "/sys/kernel/mm/hugepages/hugepages-1048576kB/resv_hugepages", "1\n");
        tu_write(root, "/sys/kernel/mm/hugepages/hugepages-1048576kB/surplus_hugepages", "0\n");
        tu_write(root, "/proc/meminfo", "MemTotal: 6291456 kB\nHugepagesize:       2048 kB\n");
        tu_write(root, "/proc/interrupts", "           CPU0\n 24:   1  IR-PCI-MSI 512000-edge  nvme0q0\n");
        tu_write(root, "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "N\n");
        tu_write(root, "/sys/kernel/iommu_groups/7/type", "DMA\n");
        tu_write(root, "/sys/kernel/iommu_groups/12/type", "DMA\n");
        tu_write(root, PCI "/0000:81:00.0/vendor", "0x144d\n");
        tu_write(root, PCI "/0000:81:00.0/device", "0xa808\n");
        tu_write(root, PCI "/0000:81:00.0/class", "0x010802\n");
        tu_write(root, "/sys/bus/pci/drivers/vfio-pci/.keep", "");
        link_at(root, PCI "/0000:81:00.0/driver", "../../../bus/pci/drivers/vfio-pci");
        link_at(root, PCI "/0000:81:00.0/iommu_group", "../../../kernel/iommu_groups/12");
        tu_write(root, PCI "/0000:00:1f.2/vendor", "0x8086\n");
        tu_write(root, PCI "/0000:00:1f.2/device", "garbage\n"); /* ids unreadable: none kept */
        tu_write(root, PCI "/0000:00:1f.2/class", "0x010601\n");
        /* block: a disk, its partition (under the disk's directory), an LV with a /dev/VG/LV link */
        tu_write(root, "/sys/devices/pci0000:00/host0/block/sda/dev", "8:0\n");
        tu_write(root, "/sys/devices/pci0000:00/host0/block/sda/sda1/partition", "1\n");
        tu_write(root, "/sys/devices/virtual/block/dm-0/dm/uuid", "LVM-abc\n");
        tu_write(root, "/sys/devices/virtual/block/dm-0/dm/name", "vg0-data\n");
        tu_write(root, "/sys/class/block/.keep", "");
        link_at(root, "/sys/class/block/sda", "../../devices/pci0000:00/host0/block/sda");
        link_at(root, "/sys/class/block/sda1", "../../devices/pci0000:00/host0/block/sda/sda1");
        link_at(root, "/sys/class/block/dm-0", "../../devices/virtual/block/dm-0");
        tu_write(root, "/dev/sda", "");
        tu_write(root, "/dev/sda1", "");
        tu_write(root, "/dev/dm-0", "");
        tu_write(root, "/dev/null", ""); /* not a block device: no link */
        tu_write(root, "/dev/vg0/.keep", "");
        link_at(root, "/dev/vg0/data", "../dm-0");
        tu_write(root, "/dev/disk/by-id/.keep", "");
        link_at(root, "/dev/disk/by-id/ata-DISK", "../../sda");
        tu_write(root, "/usr/bin/swtpm", "#!/bin/sh\n");
        char *p = NULL;
        assert_true(asprintf(&p, "%s/usr/bin/swtpm", root) > 0);
        assert_int_equal(chmod(p, 0755), 0);
        free(p);
}

static char *format(const vh_facts *f);

static void gather(vh_facts *f, unsigned what)
{
        vh_error *e = NULL;
        if (vh_facts_gather(f, what, &e) < 0)
                fail_msg("vh_facts_gather: %s", vh_error_msg(e));
}

static char *list(const vh_cpuset *s)
{
        char *l = vh_cpuset_format_list(s);
        assert_non_null(l);
        return l;
}

#define assert_list(set, text)                          \
        do {                                            \
                char *l_ = list(set);                   \
                assert_string_equal(l_, text);          \
                free(l_);                               \
        } while (0)

static void test_gather_all(void **state)
{
        const char *root = *state;
        rich_host(root);
        vh_facts f = { 0 };
        gather(&f, VH_FACTS_ALL);
        assert_int_equal(f.parts, VH_FACTS_ALL);
        assert_non_null(f.arch);
        assert_list(&f.online, "0-3");
        assert_list(&f.present, "0-3");
        assert_list(&f.isolated, "2-3");
        assert_list(&f.nohz_full, "3");
        /* IRQs: the numbered directories, ascending; default_smp_affinity is no IRQ */
        assert_int_equal(f.n_irqs, 4);
        assert_int_equal(f.irqs[0], 0);
        assert_int_equal(f.irqs[1], 9);
        assert_int_equal(f.irqs[2], 24);
        assert_int_equal(f.irqs[3], 120);
        assert_int_equal(f.cgroup, VH_CGROUP_V2);
        assert_true(f.systemd);
        assert_int_equal(f.n_nodes, 2);
        assert_int_equal(f.nodes[0].id, 0);
        assert_list(&f.nodes[0].cpus, "0-1");
        assert_int_equal(f.nodes[0].memory_kib, 4194304);
        assert_int_equal(f.nodes[1].id, 1);
        assert_list(&f.nodes[1].cpus, "2-3");
        assert_int_equal(f.nodes[1].memory_kib, 2097152);
        /* pools: tu_mkroot's 2 MiB pool (2048 free) with overcommit 16, the 1 GiB one, and per node */
        assert_int_equal(f.default_hugepage_kib, 2048);
        const vh_facts_pool *p = vh_facts_pool_find(&f, 2048, -1);
        assert_non_null(p);
        assert_int_equal(p->nr, 2048);
        assert_int_equal(p->free, 2048);
        assert_int_equal(p->overcommit, 16);
        p = vh_facts_pool_find(&f, 1048576, -1);
        assert_non_null(p);
        assert_int_equal(p->nr, 2);
        assert_int_equal(p->free, 1);
        assert_int_equal(p->resv, 1);
        p = vh_facts_pool_find(&f, 2048, 1);
        assert_non_null(p);
        assert_int_equal(p->nr, 1000);
        assert_int_equal(p->free, 999);
        assert_int_equal(p->surplus, 0);
        assert_non_null(vh_facts_pool_find(&f, 2048, 0));
        assert_null(vh_facts_pool_find(&f, 1048576, 0));
        assert_int_equal(f.n_pools, 4);
        /* PCI and the IOMMU */
        assert_int_equal(f.iommu_groups, 2);
        assert_int_equal(f.irq_remapping, VH_YES);
        assert_false(f.allow_unsafe_interrupts);
        assert_int_equal(f.n_pci, 2);
        const vh_facts_pci *d = vh_facts_pci_find(&f, "0000:81:00.0");
        assert_non_null(d);
        assert_true(d->has_ids);
        assert_int_equal(d->vendor, 0x144d);
        assert_int_equal(d->device, 0xa808);
        assert_int_equal(d->class_, 0x010802);
        assert_string_equal(d->driver, "vfio-pci");
        assert_int_equal(d->iommu_group, 12);
        d = vh_facts_pci_find(&f, "0000:00:1f.2");
        assert_non_null(d);
        assert_false(d->has_ids);
        assert_null(d->driver);
        assert_int_equal(d->iommu_group, -1);
        /* block devices and the /dev paths that lead to them */
        assert_int_equal(f.n_blocks, 3);
        const vh_facts_block *b = vh_facts_block_find(&f, "sda1");
        assert_non_null(b);
        assert_int_equal(b->partition, 1);
        assert_string_equal(b->parent, "sda");
        b = vh_facts_block_find(&f, "dm-0");
        assert_non_null(b);
        assert_true(b->dm);
        assert_string_equal(b->dm_uuid, "LVM-abc");
        assert_string_equal(b->dm_name, "vg0-data");
        assert_string_equal(vh_facts_block_resolve(&f, "/dev/vg0/data"), "dm-0");
        assert_string_equal(vh_facts_block_resolve(&f, "/dev/disk/by-id/ata-DISK"), "sda");
        assert_string_equal(vh_facts_block_resolve(&f, "/dev/sda1"), "sda1");
        assert_null(vh_facts_block_resolve(&f, "/dev/null"));
        assert_null(vh_facts_block_resolve(&f, "/dev/sdx"));
        assert_true(vh_facts_file_exec(&f, "/usr/bin/swtpm"));
        assert_false(vh_facts_file_exec(&f, "/usr/libexec/vmhooks/qemu-kvm"));
        assert_non_null(vh_facts_file_find(&f, "/usr/libexec/vmhooks/qemu-kvm"));
        /* swtpm: found in /usr/bin, swtpm_setup nowhere; no qemu.conf and no tss user: root; localca missing */
        assert_string_equal(f.swtpm.swtpm, "/usr/bin/swtpm");
        assert_null(f.swtpm.swtpm_setup);
        assert_string_equal(f.swtpm.user, "root");
        assert_int_equal(f.swtpm.uid, 0);
        assert_false(f.swtpm.from_conf);
        assert_int_equal(f.swtpm.localca_errno, ENOENT);
        vh_facts_done(&f);
        /* qemu.conf's swtpm_user, a user of /etc/passwd, and the localca it owns */
        tu_write(root, "/etc/libvirt/qemu.conf", "swtpm_user = \"tss\"\n");
        tu_write(root, "/etc/passwd", "root:x:0:0::/root:/bin/sh\ntss:x:105:111::/var/lib/tpm:/bin/false\n");
        tu_write(root, "/var/lib/swtpm-localca/.keep", "");
        gather(&f, VH_FACTS_SWTPM);
        assert_string_equal(f.swtpm.user, "tss");
        assert_int_equal(f.swtpm.uid, 105);
        assert_true(f.swtpm.from_conf);
        assert_false(f.swtpm.unknown);
        assert_int_equal(f.swtpm.localca_errno, 0);
        assert_true(S_ISDIR(f.swtpm.localca_mode));
        assert_int_equal(f.swtpm.localca_uid, getuid());
        vh_facts_done(&f);
        /* an unparsable qemu.conf: the facts keep why */
        tu_write(root, "/etc/libvirt/qemu.conf", "swtpm_user = [\n");
        gather(&f, VH_FACTS_SWTPM);
        assert_null(f.swtpm.user);
        tu_assert_contains(f.swtpm.user_error, "qemu.conf");
        char *text = format(&f);
        vh_facts g = { 0 };
        assert_int_equal(vh_facts_parse(text, strlen(text), "t", &g, NULL), 0);
        assert_string_equal(g.swtpm.user_error, f.swtpm.user_error);
        free(text);
        vh_facts_done(&g);
        vh_facts_done(&f);
}

/* Only the parts asked for: the hook gathers what the VM's checks need. */
static void test_gather_parts(void **state)
{
        const char *root = *state;
        rich_host(root);
        vh_facts f = { 0 };
        gather(&f, VH_FACTS_HUGEPAGES);
        assert_int_equal(f.parts, VH_FACTS_HUGEPAGES);
        assert_int_equal(f.n_pools, 4);
        assert_int_equal(f.n_irqs, 0);
        assert_int_equal(f.n_pci, 0);
        assert_true(vh_cpuset_is_empty(&f.online));
        /* gathering a part again replaces it, and keeps the others */
        gather(&f, VH_FACTS_IRQS | VH_FACTS_HUGEPAGES);
        assert_int_equal(f.parts, VH_FACTS_IRQS | VH_FACTS_HUGEPAGES);
        assert_int_equal(f.n_pools, 4);
        assert_int_equal(f.n_irqs, 4);
        vh_facts_done(&f);
}

/* A bare host: no NUMA directory, no nohz_full, no cgroup, no PCI: facts, not errors. */
static void test_gather_bare(void **state)
{
        (void)state;
        vh_facts f = { 0 };
        gather(&f, VH_FACTS_ALL);
        assert_list(&f.online, "0-3");
        assert_true(vh_cpuset_is_empty(&f.isolated));
        assert_true(vh_cpuset_is_empty(&f.nohz_full));
        assert_int_equal(f.n_nodes, 0);
        assert_int_equal(f.cgroup, VH_CGROUP_NONE);
        assert_false(f.systemd);
        assert_int_equal(f.n_pci, 0);
        assert_int_equal(f.irq_remapping, VH_UNKNOWN);
        assert_int_equal(f.default_hugepage_kib, 0);
        vh_facts_done(&f);
}

/* Without the online CPUs there are no CPU facts: an error that names the file. */
static void test_gather_no_online(void **state)
{
        const char *root = *state;
        char *p = NULL;
        assert_true(asprintf(&p, "%s/sys/devices/system/cpu/online", root) > 0);
        assert_int_equal(unlink(p), 0);
        free(p);
        vh_facts f = { 0 };
        vh_error *e = NULL;
        assert_true(vh_facts_gather(&f, VH_FACTS_CPUS, &e) < 0);
        tu_assert_contains(vh_error_msg(e), "/sys/devices/system/cpu/online");
        vh_error_free(e);
        vh_facts_done(&f);
        /* the parts that do not need them still work */
        gather(&f, VH_FACTS_HUGEPAGES);
        assert_int_equal(f.parts, VH_FACTS_HUGEPAGES);
        vh_facts_done(&f);
}

static char *format(const vh_facts *f)
{
        char *text = NULL;
        vh_error *e = NULL;
        if (vh_facts_format(f, &text, &e) < 0)
                fail_msg("vh_facts_format: %s", vh_error_msg(e));
        return text;
}

/* Written and read back: the same facts, field by field and as text. */
static void test_roundtrip(void **state)
{
        const char *root = *state;
        rich_host(root);
        tu_write(root, "/sys/devices/system/node/node1/cpulist", "\n"); /* a memory-only node */
        vh_facts f = { 0 }, g = { 0 };
        gather(&f, VH_FACTS_ALL);
        char *text = format(&f);
        vh_error *e = NULL;
        if (vh_facts_parse(text, strlen(text), "facts file t", &g, &e) < 0)
                fail_msg("%s\n%s", vh_error_msg(e), text);
        char *again = format(&g);
        assert_string_equal(again, text);
        assert_int_equal(g.parts, f.parts);
        assert_string_equal(g.arch, f.arch);
        assert_true(vh_cpuset_equal(&g.isolated, &f.isolated));
        assert_int_equal(g.n_irqs, 4);
        assert_int_equal(g.irqs[3], 120);
        assert_int_equal(g.cgroup, VH_CGROUP_V2);
        assert_int_equal(g.n_nodes, 2);
        assert_true(vh_cpuset_is_empty(&g.nodes[1].cpus));
        assert_int_equal(g.n_pools, 4);
        assert_int_equal(vh_facts_pool_find(&g, 1048576, -1)->resv, 1);
        assert_int_equal(vh_facts_pool_find(&g, 2048, -1)->overcommit, 16);
        assert_int_equal(vh_facts_pci_find(&g, "0000:81:00.0")->iommu_group, 12);
        assert_string_equal(vh_facts_pci_find(&g, "0000:81:00.0")->driver, "vfio-pci");
        assert_false(vh_facts_pci_find(&g, "0000:00:1f.2")->has_ids);
        assert_string_equal(vh_facts_block_resolve(&g, "/dev/vg0/data"), "dm-0");
        assert_string_equal(vh_facts_block_find(&g, "dm-0")->dm_name, "vg0-data");
        assert_true(vh_facts_file_exec(&g, "/usr/bin/swtpm"));
        assert_string_equal(g.swtpm.swtpm, "/usr/bin/swtpm");
        assert_null(g.swtpm.swtpm_setup);
        assert_string_equal(g.swtpm.user, "root");
        assert_int_equal(g.swtpm.localca_errno, ENOENT);
        /* a partial set of facts keeps its parts */
        vh_facts h = { 0 }, k = { 0 };
        gather(&h, VH_FACTS_HUGEPAGES | VH_FACTS_CGROUP);
        char *part = format(&h);
        assert_int_equal(vh_facts_parse(part, strlen(part), "facts file p", &k, NULL), 0);
        assert_int_equal(k.parts, VH_FACTS_HUGEPAGES | VH_FACTS_CGROUP);
        assert_int_equal(k.n_pools, 4);
        free(part);
        free(text);
        free(again);
        vh_facts_done(&f);
        vh_facts_done(&g);
        vh_facts_done(&h);
        vh_facts_done(&k);
}

#define HDR "vmhooks-facts 1 parts=cpus,hugepages,pci,block arch=x86_64\n"
#define CPUS "cpus online=0-1 present=0-1 isolated= nohz_full=\n"
#define HP "hugepages default_kib=2048\n"
#define IOMMU "iommu groups=0 irq_remapping=no allow_unsafe_interrupts=0\n"

/* Each malformed file: one line, naming the file and the line, saying what is expected. */
static void test_malformed(void **state)
{
        (void)state;
        static const struct {
                const char *text, *want;
        } cases[] = {
                { "", "facts file F, line 1: empty (expected the header \"vmhooks-facts 1 parts=...\")" },
                { "hello\n", "facts file F, line 1: expected the header \"vmhooks-facts 1 parts=...\"" },
                { "vmhooks-facts 2 parts=cpus\n", "line 1: expected the header \"vmhooks-facts 1 parts=...\" (version 1)" },
                { "vmhooks-facts 1 parts=cpus,gpus\n", "line 1: parts=: unknown part \"gpus\"" },
                { "vmhooks-facts 1\n", "line 1: vmhooks-facts: missing field parts=" },
                { HDR CPUS HP IOMMU "pool 2048 nr=1 free=1 resv=0 surplus=0\n",
                  "facts file F, line 5: pool: missing field overcommit=" },
                { HDR CPUS HP IOMMU "pool 2048 nr=1 free=x resv=0 surplus=0 overcommit=0\n",
                  "line 5: pool: free=\"x\": expected a decimal number" },
                { HDR CPUS HP IOMMU "pool 2048 nr=1 free=1 resv=0 surplus=0 overcommit=0 colour=red\n",
                  "line 5: pool: unknown field \"colour\" (expected only: !nr !free !resv !surplus !overcommit)" },
                { HDR "cpus online=0-1 present=0-1 isolated=1-x nohz_full=\n",
                  "line 2: cpus: isolated=\"1-x\": expected a CPU list such as 0-3,8" },
                { HDR "cpus online= present= isolated= nohz_full=\n", "line 2: cpus: online= is empty" },
                { HDR CPUS CPUS, "line 3: a second cpus record (expected one)" },
                { HDR CPUS "irq 5\n", "line 3: a irq record, but the header's parts= does not list irqs" },
                { HDR CPUS "gpu 0 vram=8\n", "line 3: unknown record \"gpu\" (expected one of" },
                { HDR CPUS "pool\n", "line 3: pool: missing its name" },
                { HDR CPUS "pci 81:00.0 driver=nvme\n", "line 3: pci \"81:00.0\": expected a PCI address such as 0000:81:00.1" },
                { HDR CPUS "pci 0000:81:00.0 vendor=0x144d\n", "line 3: pci 0000:81:00.0: vendor=, device= and class= go together" },
                { HDR CPUS "pci 0000:81:00.0 vendor=144d device=0x1 class=0x1\n", "line 3: pci: vendor=\"144d\": expected a hexadecimal id" },
                { HDR CPUS "link /dev/vg/lv name=dm-9\n", "line 3: link /dev/vg/lv: name=\"dm-9\" is no block record above" },
                { HDR CPUS "block sda partition=0 dm_uuid=x\n", "line 3: block sda: dm_uuid= or dm_name= without dm=1" },
                { HDR CPUS "cpus online=0 present=0 isolated= nohz_full= x\n", "line 3: \"cpus online=0 present=0 isolated= nohz_full= x\": expected a record \"TYPE [NAME] key=value ...\"" },
                { HDR HP IOMMU, "facts file F: parts= lists cpus, but there is no cpus record" },
                { "vmhooks-facts 1 parts=swtpm\nswtpm localca_errno=0 localca_mode=040750 localca_uid=0\n",
                  "line 2: swtpm: expected user= (with uid=, from_conf=, unknown=) or user_error=, one of them" },
                { "vmhooks-facts 1 parts=swtpm\nswtpm user=tss uid=5 from_conf=1 unknown=0 localca_errno=0 "
                  "localca_mode=750 localca_uid=0\n",
                  "line 2: swtpm: localca_mode=\"750\": expected an octal st_mode such as 040750" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                vh_facts f = { 0 };
                vh_error *e = NULL;
                if (vh_facts_parse(cases[i].text, strlen(cases[i].text), "facts file F", &f, &e) == 0)
                        fail_msg("case %zu accepted:\n%s", i, cases[i].text);
                const char *m = vh_error_msg(e);
                tu_assert_contains(m, cases[i].want);
                tu_assert_contains(m, "facts file F");
                assert_null(strchr(m, '\n'));
                assert_int_equal(f.parts, 0); /* untouched */
                vh_error_free(e);
        }
}

/* vh_facts_load names the file it read. */
static void test_load_file(void **state)
{
        const char *root = *state;
        tu_write(root, "/facts", HDR CPUS HP IOMMU "pool 2048 nr=1\n");
        char *path = NULL;
        assert_true(asprintf(&path, "%s/facts", root) > 0);
        vh_facts f = { 0 };
        vh_error *e = NULL;
        assert_true(vh_facts_load(path, &f, &e) < 0);
        char *want = NULL;
        assert_true(asprintf(&want, "facts file %s, line 5: pool: missing field free=", path) > 0);
        tu_assert_contains(vh_error_msg(e), want);
        vh_error_free(e);
        e = NULL;
        tu_write(root, "/facts", HDR CPUS HP IOMMU "pool 2048 nr=1 free=1 resv=0 surplus=0 overcommit=0\n");
        assert_int_equal(vh_facts_load(path, &f, &e), 0);
        assert_int_equal(vh_facts_pool_find(&f, 2048, -1)->nr, 1);
        assert_int_equal(f.parts, VH_FACTS_CPUS | VH_FACTS_HUGEPAGES | VH_FACTS_PCI | VH_FACTS_BLOCK);
        vh_facts_done(&f);
        free(want);
        free(path);
}

/* ---- vmhooks facts > F; vmhooks patch --facts F ---- */

#define POLICY_XML "<policy xmlns='urn:vmhooks:policy:1'><hugepages size='1G'/>" \
                   "<msix-relocation bar='bar2' devices='nvme'/></policy>\n"
#define DOMAIN_XML "<domain type='kvm'>\n  <name>g1</name>\n  <uuid>11111111-2222-3333-4444-555555555555</uuid>\n" \
                   "  <memory unit='KiB'>2097152</memory>\n  <vcpu placement='static'>2</vcpu>\n" \
                   "  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n  </os>\n  <devices>\n" \
                   "    <disk type='block' device='lun'>\n      <source dev='/dev/vg0/data'/>\n" \
                   "      <target dev='sda' bus='scsi'/>\n    </disk>\n" \
                   "    <hostdev mode='subsystem' type='pci' managed='yes'>\n      <source>\n" \
                   "        <address domain='0x0000' bus='0x81' slot='0x00' function='0x0'/>\n      </source>\n" \
                   "    </hostdev>\n  </devices>\n</domain>\n"

static char *root_file(const char *root, const char *rel)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s%s", root, rel) > 0);
        return p;
}

static void use_root(const char *root)
{
        assert_int_equal(setenv("VMHOOKS_ROOT", root, 1), 0);
}

/* `vmhooks patch` under VMHOOKS_ROOT=root; *out the XML, *err the rules' lines. */
static void patch_on(const char *root, const char *facts, const char *policy, const char *dom, char **out, char **err)
{
        use_root(root);
        const char *const with[] = { "patch", "--policy", policy, "--facts", facts, dom, NULL };
        const char *const without[] = { "patch", "--policy", policy, dom, NULL };
        int rc = tu_run_tool(NULL, out, err, facts ? with : without);
        if (rc != 0)
                fail_msg("vmhooks patch exit %d: %s", rc, *err);
}

/* The same facts file gives the same XML (and the same lines) on two different hosts. */
static void test_patch_with_facts(void **state)
{
        const char *a = *state;
        rich_host(a);
        tu_write(a, "/usr/libexec/vmhooks/qemu-kvm", "#!/bin/sh\n");
        char *w = root_file(a, "/usr/libexec/vmhooks/qemu-kvm");
        assert_int_equal(chmod(w, 0755), 0);
        free(w);
        tu_write(a, "/work/policy.xml", POLICY_XML);
        tu_write(a, "/work/g1.xml", DOMAIN_XML);
        char *policy = root_file(a, "/work/policy.xml"), *dom = root_file(a, "/work/g1.xml");
        char *facts = root_file(a, "/work/a.facts");
        /* host B: two CPUs, no 1 GiB pool, no NVMe, no LV, no wrapper */
        char *b = tu_mkroot();
        tu_write(b, "/sys/devices/system/cpu/online", "0-1\n");

        /* vmhooks facts on A, into a file */
        use_root(a);
        char *out = NULL, *err = NULL;
        assert_int_equal(tu_run_tool(NULL, &out, &err, (const char *const[]){ "facts", NULL }), 0);
        assert_string_equal(err, "");
        tu_assert_contains(out, "pool 1048576 nr=2 free=1 resv=1");
        tu_assert_contains(out, "pci 0000:81:00.0 vendor=0x144d device=0xa808 class=0x010802");
        tu_write(a, "/work/a.facts", out);
        free(out), free(err);

        char *plain_a, *plain_a_err, *plain_b, *plain_b_err, *fa, *fa_err, *fb, *fb_err;
        patch_on(a, NULL, policy, dom, &plain_a, &plain_a_err);
        patch_on(b, NULL, policy, dom, &plain_b, &plain_b_err);
        patch_on(a, facts, policy, dom, &fa, &fa_err);
        patch_on(b, facts, policy, dom, &fb, &fb_err);
        /* the hosts differ: without --facts, B's XML is not A's (no wrapper there, no NVMe) */
        tu_assert_contains(plain_a, "<emulator>/usr/libexec/vmhooks/qemu-kvm</emulator>");
        assert_null(strstr(plain_b, "<emulator>"));
        tu_assert_contains(plain_b_err, "rdm: warning: disk sda: cannot check /dev/vg0/data");
        /* with A's facts, B patches exactly as A does, lines included */
        assert_string_equal(fb, fa);
        assert_string_equal(fb, plain_a);
        assert_string_equal(fb_err, fa_err);
        assert_string_equal(fb_err, plain_a_err);
        tu_assert_contains(fb_err, "rdm: warning: disk sda: /dev/vg0/data is an LVM logical volume (vg0-data)");
        tu_assert_contains(fb_err, "msix: <emulator> (libvirt's default) -> /usr/libexec/vmhooks/qemu-kvm");
        free(plain_a), free(plain_a_err), free(plain_b), free(plain_b_err);
        free(fa), free(fa_err), free(fb), free(fb_err);

        /* a malformed facts file: one line naming it, the line and what is expected; exit 1 */
        tu_write(a, "/work/bad.facts", "vmhooks-facts 1 parts=hugepages\nhugepages default_kib=2M\n");
        char *bad = root_file(a, "/work/bad.facts");
        use_root(b);
        int rc = tu_run_tool(NULL, &out, &err,
                             (const char *const[]){ "patch", "--policy", policy, "--facts", bad, dom, NULL });
        assert_int_equal(rc, 1);
        char *want = NULL;
        assert_true(asprintf(&want, "facts file %s, line 2: hugepages: default_kib=\"2M\": expected a decimal number",
                             bad) > 0);
        tu_assert_contains(err, want);
        assert_int_equal(strchr(err, '\n') - err + 1, (long)strlen(err)); /* one line */
        assert_string_equal(out, "");
        free(out), free(err), free(want);
        /* apply without --dry-run refuses facts of another host, before connecting anywhere */
        rc = tu_run_tool(NULL, &out, &err, (const char *const[]){ "apply", "--facts", facts, "g1", NULL });
        assert_int_equal(rc, 1);
        tu_assert_contains(err, "use apply --dry-run --facts FILE");
        free(out), free(err);
        /* check --facts: A's pools, from B */
        rc = tu_run_tool(NULL, &out, &err,
                         (const char *const[]){ "check", "--facts", facts, "--file", dom, NULL });
        tu_assert_contains(out, "hostdev");
        free(out), free(err);

        use_root(a);
        tu_rmroot(b);
        free(bad), free(policy), free(dom), free(facts);
}

/*
 * The rules and checks are pure functions of (domain, policy, facts): no
 * file of lib/patch/ or lib/checks/ reads the host, except the policy
 * loader (lib/patch/plan.c), the audit's readers and the swtpm user's files
 * (lib/checks/host.c), and the vTPM state directory (lib/checks/vtpm.c).
 */
static void test_rules_read_no_host(void **state)
{
        (void)state;
        static const char *const dirs[] = { "lib/patch", "lib/checks" };
        static const char *const allowed[] = { "lib/patch/plan.c", "lib/checks/host.c", "lib/checks/vtpm.c" };
        static const char *const reads[] = { "vh_path(", "vh_pathf(", "vh_read_line(", "vh_read_file(", "vh_read_at(",
                                             "opendir(", "access(", "stat(", "realpath(", "readlink(", "open(",
                                             "fopen(", "uname(", "vh_host_" };
        size_t files = 0;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                DIR *d = opendir(dirs[i]);
                if (!d)
                        fail_msg("%s: run from the top of the source tree", dirs[i]);
                for (struct dirent *e; (e = readdir(d));) {
                        size_t n = strlen(e->d_name);
                        if (n < 3 || strcmp(e->d_name + n - 2, ".c") != 0)
                                continue;
                        char path[256];
                        snprintf(path, sizeof(path), "%s/%s", dirs[i], e->d_name);
                        bool skip = false;
                        for (size_t k = 0; k < ELEMENTSOF(allowed); k++)
                                skip |= strcmp(path, allowed[k]) == 0;
                        if (skip)
                                continue;
                        files++;
                        char *text = tu_slurp(path);
                        assert_non_null(text);
                        for (size_t k = 0; k < ELEMENTSOF(reads); k++) {
                                const char *hit = strstr(text, reads[k]);
                                if (hit)
                                        fail_msg("%s reads the host (%s): rules and checks read the host facts only",
                                                 path, reads[k]);
                        }
                        free(text);
                }
                closedir(d);
        }
        assert_true(files >= 15); /* the rules and the checks were all looked at */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_gather_all, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_gather_parts, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_gather_bare, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_gather_no_online, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_roundtrip, tu_setup_root, tu_teardown_root),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test_setup_teardown(test_load_file, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_patch_with_facts, tu_setup_root, tu_teardown_root),
                cmocka_unit_test(test_rules_read_no_host),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
