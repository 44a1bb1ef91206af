/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The prepare-time checks on a fake host (VMHOOKS_ROOT): each refusal with
 * its one line and fix, and the findings that are only logged.  Expected
 * page counts are computed here from the pool values the test writes.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checks.h"
#include "domain.h"
#include "facts.h"
#include "policy.h"
#include "util.h"

#define POOL2M "/sys/kernel/mm/hugepages/hugepages-2048kB"

static void pool(const char *root, const char *dir, unsigned nr, unsigned free_, unsigned resv, unsigned over)
{
        char rel[256], v[32];
        static const char *const names[] = { "nr_hugepages", "free_hugepages", "resv_hugepages", "surplus_hugepages",
                                             "nr_overcommit_hugepages" };
        unsigned vals[] = { nr, free_, resv, 0, over };
        for (size_t i = 0; i < 5; i++) {
                if (i == 2 && resv == (unsigned)-1)
                        continue; /* per-node pools have no resv_hugepages */
                if (i == 4 && over == (unsigned)-1)
                        continue;
                snprintf(rel, sizeof(rel), "%s/%s", dir, names[i]);
                snprintf(v, sizeof(v), "%u\n", vals[i]);
                tu_write(root, rel, v);
        }
}

static void node_pool(const char *root, int node, unsigned free_)
{
        char dir[128];
        snprintf(dir, sizeof(dir), "/sys/devices/system/node/node%d/hugepages/hugepages-2048kB", node);
        pool(root, dir, free_, free_, (unsigned)-1, (unsigned)-1);
}

/* A domain with `top` (memory, numa, ...) and `devices` inside <devices>. */
static vh_domain *dom_of(const char *top, const char *devices)
{
        char *xml = NULL;
        assert_true(asprintf(&xml,
                             "<domain type='kvm'><name>g1</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
                             "%s<vcpu>1</vcpu><devices>%s</devices></domain>",
                             top, devices ? devices : "") > 0);
        vh_domain *d = NULL;
        vh_error *e = NULL;
        if (vh_domain_parse(xml, strlen(xml), "test XML", &d, &e) < 0)
                fail_msg("%s", vh_error_msg(e));
        free(xml);
        return d;
}

#define HP_1G "<memory unit='GiB'>1</memory><memoryBacking><hugepages><page size='2048' unit='KiB'/>" \
              "</hugepages></memoryBacking>"

static void run(const vh_domain *d, const vh_policy *p, vh_results *r)
{
        vh_policy empty = { 0 };
        /* the facts of the fake host, gathered as the hook does: only the parts the checks need */
        vh_facts f = { 0 };
        assert_int_equal(vh_facts_gather(&f, vh_checks_facts_needed(d, p ? p : &empty), NULL), 0);
        assert_int_equal(vh_checks_run(d, p ? p : &empty, &f, r, NULL), 0);
        vh_facts_done(&f);
}

static const vh_result *only(const vh_results *r, const char *check)
{
        const vh_result *found = NULL;
        for (size_t i = 0; i < r->n; i++) {
                if (strcmp(r->items[i].check, check) != 0)
                        continue;
                if (found)
                        fail_msg("more than one %s result", check);
                found = &r->items[i];
        }
        if (!found)
                fail_msg("no %s result", check);
        return found;
}

/* 1 GiB in 2 MiB pages = 512; 100 free, none reserved: refused with the knob and virsh allocpages. */
static void test_hugepages_short(void **state)
{
        const char *root = *state;
        pool(root, POOL2M, 100, 100, 0, 0);
        vh_domain *d = dom_of(HP_1G, NULL);
        vh_results r = { 0 };
        run(d, NULL, &r);
        const vh_result *x = only(&r, "hugepages");
        assert_true(x->refuse);
        assert_int_equal(x->level, VH_LEVEL_FAIL);
        unsigned need = 1048576 / 2048, usable = 100 - 0, missing = need - usable;
        char *msg = NULL, *fix = NULL;
        assert_true(asprintf(&msg, "VM g1 needs %u pages of 2 MiB (1 GiB), only %u usable (free 100 - reserved 0) "
                                   "in " POOL2M, need, usable) > 0);
        assert_true(asprintf(&fix, "echo %u > " POOL2M "/nr_hugepages (now 100), or: virsh allocpages 2048KiB %u "
                                   "--add", 100 + missing, missing) > 0);
        assert_string_equal(x->message, msg);
        assert_string_equal(x->fix, fix);
        assert_ptr_equal(vh_results_refusal(&r), x);
        char *line = vh_result_line(x);
        assert_null(strchr(line, '\n')); /* one line for virsh start's error */
        free(line);
        free(msg);
        free(fix);
        vh_results_done(&r);
        vh_domain_free(d);
}

/* Reserved pages are promised to other mappings: free 600 - resv 100 = 500 < 512. */
static void test_hugepages_reserved(void **state)
{
        const char *root = *state;
        vh_domain *d = dom_of(HP_1G, NULL);
        vh_results r = { 0 };
        pool(root, POOL2M, 600, 600, 100, 0);
        run(d, NULL, &r);
        assert_true(only(&r, "hugepages")->refuse);
        tu_assert_contains(only(&r, "hugepages")->message, "only 500 usable (free 600 - reserved 100)");
        vh_results_done(&r);
        pool(root, POOL2M, 612, 612, 100, 0); /* exactly enough */
        run(d, NULL, &r);
        assert_int_equal(only(&r, "hugepages")->level, VH_LEVEL_PASS);
        assert_string_equal(only(&r, "hugepages")->message, "VM g1 needs 512 pages of 2 MiB; 512 usable");
        vh_results_done(&r);
        /* overcommit may allocate the rest */
        pool(root, POOL2M, 0, 0, 0, 512);
        run(d, NULL, &r);
        assert_int_equal(only(&r, "hugepages")->level, VH_LEVEL_PASS);
        vh_results_done(&r);
        vh_domain_free(d);
}

/* Memory bound to host node 0 must come from node 0's pool. */
static void test_hugepages_numa(void **state)
{
        const char *root = *state;
        pool(root, POOL2M, 1000, 1000, 0, 0);
        node_pool(root, 0, 100);
        node_pool(root, 1, 900);
        vh_domain *d = dom_of(HP_1G "<numatune><memory mode='strict' nodeset='0'/></numatune>", NULL);
        vh_results r = { 0 };
        run(d, NULL, &r);
        const vh_result *x = only(&r, "hugepages");
        assert_true(x->refuse);
        assert_string_equal(x->message, "VM g1 needs 512 pages of 2 MiB on host NUMA node(s) 0 (<numatune>), only "
                                        "100 free there");
        assert_string_equal(x->fix, "raise /sys/devices/system/node/node0/hugepages/hugepages-2048kB/nr_hugepages "
                                    "by 412, or: virsh allocpages 2048KiB 412 --cellno 0 --add");
        vh_results_done(&r);
        vh_domain_free(d);

        d = dom_of(HP_1G "<numatune><memory mode='strict' nodeset='1'/></numatune>", NULL);
        run(d, NULL, &r);
        assert_int_equal(only(&r, "hugepages")->level, VH_LEVEL_PASS);
        vh_results_done(&r);
        vh_domain_free(d);
        d = dom_of(HP_1G "<numatune><memory mode='strict' nodeset='0-1'/></numatune>", NULL);
        run(d, NULL, &r);
        assert_int_equal(only(&r, "hugepages")->level, VH_LEVEL_PASS);
        vh_results_done(&r);
        vh_domain_free(d);
        /* preferred falls back to other nodes: not a binding */
        d = dom_of(HP_1G "<numatune><memory mode='preferred' nodeset='0'/></numatune>", NULL);
        run(d, NULL, &r);
        assert_int_equal(only(&r, "hugepages")->level, VH_LEVEL_PASS);
        vh_results_done(&r);
        vh_domain_free(d);
}

/* Guest cells: <page nodeset> covers its cells, a <memnode> binds a cell to a host node. */
static void test_hugepages_cells(void **state)
{
        const char *root = *state;
        pool(root, POOL2M, 300, 300, 0, 0);
        node_pool(root, 0, 300);
        node_pool(root, 1, 0);
        /* cell 0: 512 MiB in 2M pages (256) bound to node 0; cell 1: 512 MiB of 1G pages: no such pool */
        vh_domain *d = dom_of("<memory unit='GiB'>1</memory><memoryBacking><hugepages>"
                              "<page size='2' unit='MiB' nodeset='0'/><page size='1' unit='GiB' nodeset='1'/>"
                              "</hugepages></memoryBacking>"
                              "<cpu><numa><cell id='0' cpus='0' memory='512' unit='MiB'/>"
                              "<cell id='1' cpus='0' memory='512' unit='MiB'/></numa></cpu>"
                              "<numatune><memory mode='strict' nodeset='1'/><memnode cellid='0' mode='strict' "
                              "nodeset='0'/></numatune>",
                              NULL);
        vh_results r = { 0 };
        run(d, NULL, &r);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.items[0].level, VH_LEVEL_PASS);
        assert_string_equal(r.items[0].message, "VM g1 needs 256 pages of 2 MiB; 300 usable");
        assert_true(r.items[1].refuse);
        assert_string_equal(r.items[1].message, "VM g1 needs 1 pages of 1 GiB (1 GiB of memory), but this host has "
                                                "no pool of that size (/sys/kernel/mm/hugepages/hugepages-1048576kB "
                                                "does not exist)");
        tu_assert_contains(r.items[1].fix, "hugepagesz=1G hugepages=1");
        vh_results_done(&r);
        vh_domain_free(d);
}

/* No <page>: the host's default size from /proc/meminfo. */
static void test_hugepages_default_size(void **state)
{
        const char *root = *state;
        tu_write(root, "/proc/meminfo", "MemTotal: 1 kB\nHugepagesize:    1048576 kB\n");
        pool(root, "/sys/kernel/mm/hugepages/hugepages-1048576kB", 4, 2, 1, 0);
        vh_domain *d = dom_of("<memory unit='GiB'>2</memory><memoryBacking><hugepages/></memoryBacking>", NULL);
        vh_results r = { 0 };
        run(d, NULL, &r);
        assert_true(only(&r, "hugepages")->refuse);
        tu_assert_contains(only(&r, "hugepages")->message, "needs 2 pages of 1 GiB (2 GiB), only 1 usable");
        vh_results_done(&r);
        vh_domain_free(d);
        /* nothing is checked for a VM without hugepages */
        d = dom_of("<memory unit='GiB'>2</memory>", NULL);
        run(d, NULL, &r);
        assert_int_equal(r.n, 0);
        vh_results_done(&r);
        vh_domain_free(d);
}

#define HOSTDEV "<hostdev mode='subsystem' type='pci' managed='yes'><source>" \
                "<address domain='0x0000' bus='0x81' slot='0x00' function='0x1'/></source></hostdev>"

static void test_hostdev(void **state)
{
        const char *root = *state;
        vh_domain *d = dom_of("<memory unit='MiB'>64</memory>", HOSTDEV);
        vh_results r = { 0 };
        run(d, NULL, &r);
        const vh_result *x = only(&r, "hostdev");
        assert_true(x->refuse);
        assert_string_equal(x->message, "VM g1 passes through 1 PCI device(s), but the kernel uses no IOMMU "
                                        "(/sys/kernel/iommu_groups is empty)");
        tu_assert_contains(x->fix, "intel_iommu=on");
        vh_results_done(&r);

        tu_write(root, "/sys/kernel/iommu_groups/7/type", "DMA\n");
        tu_write(root, "/proc/interrupts", " 24: 0 IR-PCI-MSI 1-edge x\n");
        run(d, NULL, &r);
        assert_int_equal(r.n, 1);
        assert_true(r.items[0].refuse);
        assert_string_equal(r.items[0].message, "VM g1 passes through PCI device 0000:81:00.1, which this host does "
                                                "not have (/sys/bus/pci/devices/0000:81:00.1 is missing)");
        vh_results_done(&r);

        tu_write(root, "/sys/bus/pci/devices/0000:81:00.1/vendor", "0x8086\n");
        run(d, NULL, &r);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.items[0].level, VH_LEVEL_PASS);
        assert_string_equal(r.items[0].message, "VM g1: 1 PCI device(s) present, IOMMU on (1 groups)");
        vh_results_done(&r);

        /* no interrupt remapping: logged, not refused */
        tu_write(root, "/proc/interrupts", " 24: 0 PCI-MSI 1-edge x\n");
        run(d, NULL, &r);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.items[0].level, VH_LEVEL_WARN);
        assert_false(r.items[0].refuse);
        tu_assert_contains(r.items[0].message, "interrupt remapping is not active");
        assert_null(vh_results_refusal(&r));
        vh_results_done(&r);
        vh_domain_free(d);
}

#define TPM "<tpm model='tpm-crb'><backend type='emulator' version='2.0'/></tpm>"

static void tpm_host(const char *root)
{
        tu_write(root, "/etc/passwd", "root:x:0:0::/root:/bin/sh\ntss:x:59:59::/var/lib/tpm:/bin/false\n");
        tu_write(root, "/usr/bin/swtpm", "");
        tu_write(root, "/usr/bin/swtpm_setup", "");
        char *p = NULL;
        assert_true(asprintf(&p, "%s/usr/bin/swtpm", root) > 0);
        assert_int_equal(chmod(p, 0755), 0);
        free(p);
        assert_true(asprintf(&p, "%s/usr/bin/swtpm_setup", root) > 0);
        assert_int_equal(chmod(p, 0755), 0);
        free(p);
        tu_write(root, "/var/lib/swtpm-localca/.keep", "");
}

static void test_vtpm(void **state)
{
        const char *root = *state;
        vh_domain *d = dom_of("<memory unit='MiB'>64</memory>", TPM);
        vh_results r = { 0 };
        run(d, NULL, &r);
        assert_true(only(&r, "vtpm")->refuse);
        tu_assert_contains(only(&r, "vtpm")->message, "has an emulated TPM, but swtpm is not installed");
        tu_assert_contains(only(&r, "vtpm")->fix, "apt-get install swtpm swtpm-tools");
        vh_results_done(&r);

        if (geteuid() != 0) {
                vh_domain_free(d);
                tu_skip("needs root for the rest: the fixture chowns the swtpm state to tss");
        }
        tpm_host(root);
        /* libvirt's default user tss exists; the localca belongs to root: a new vTPM fails */
        run(d, NULL, &r);
        const vh_result *x = only(&r, "vtpm");
        assert_true(x->refuse);
        assert_string_equal(x->message, "VM g1 has a new vTPM: swtpm_setup would run as tss and fail: "
                                        "/var/lib/swtpm-localca is owned by uid 0, not by swtpm_user tss (uid 59)");
        assert_string_equal(x->fix, "chown -R tss /var/lib/swtpm-localca");
        assert_null(strstr(x->fix, "777"));
        vh_results_done(&r);

        /* existing state: swtpm_setup does not run; warn for the next new vTPM */
        tu_write(root, "/var/lib/libvirt/swtpm/11111111-2222-3333-4444-555555555555/tpm2/tpm2-00.permall", "x");
        run(d, NULL, &r);
        assert_int_equal(only(&r, "vtpm")->level, VH_LEVEL_WARN);
        assert_false(only(&r, "vtpm")->refuse);
        vh_results_done(&r);

        /* the right owner */
        char *p = NULL;
        assert_true(asprintf(&p, "%s/var/lib/swtpm-localca", root) > 0);
        assert_int_equal(chown(p, 59, 0), 0);
        run(d, NULL, &r);
        assert_int_equal(only(&r, "vtpm")->level, VH_LEVEL_PASS);
        assert_string_equal(only(&r, "vtpm")->message,
                            "VM g1: swtpm present; swtpm_user tss owns /var/lib/swtpm-localca");
        vh_results_done(&r);

        /* qemu.conf names another user; a missing localca gets created with the right owner */
        tu_write(root, "/etc/passwd",
                 "root:x:0:0::/root:/bin/sh\ntss:x:59:59::/:/bin/false\nswtpm:x:60:60::/:/bin/false\n");
        tu_write(root, "/etc/libvirt/qemu.conf", "swtpm_user = \"swtpm\"\n");
        char *keep = NULL;
        assert_true(asprintf(&keep, "%s/.keep", p) > 0);
        assert_int_equal(unlink(keep), 0);
        assert_int_equal(rmdir(p), 0);
        free(keep);
        run(d, NULL, &r);
        assert_int_equal(only(&r, "vtpm")->level, VH_LEVEL_WARN); /* state exists */
        assert_string_equal(only(&r, "vtpm")->fix, "install -d -o swtpm -g root -m 0750 /var/lib/swtpm-localca");
        vh_results_done(&r);

        /* swtpm as root can write anything */
        tu_write(root, "/etc/libvirt/qemu.conf", "swtpm_user = \"root\"\n");
        run(d, NULL, &r);
        assert_int_equal(only(&r, "vtpm")->level, VH_LEVEL_PASS);
        vh_results_done(&r);
        free(p);
        vh_domain_free(d);
}

static void test_seclabel_none(void **state)
{
        (void)state;
        vh_domain *d = dom_of("<memory unit='MiB'>64</memory><seclabel type='none'/>", NULL);
        vh_policy p = { 0 };
        p.present = p.enabled = 1u << VH_P_SVIRT;
        p.svirt = VH_SVIRT_ENFORCE;
        vh_results r = { 0 };
        run(d, &p, &r);
        const vh_result *x = only(&r, "seclabel");
        assert_true(x->refuse);
        assert_string_equal(x->message, "VM g1 has <seclabel type=\"none\">: QEMU would run without an sVirt label, "
                                        "and the policy says <svirt mode=\"enforce\"/>");
        vh_results_done(&r);
        p.svirt = VH_SVIRT_WARN;
        run(d, &p, &r);
        assert_int_equal(only(&r, "seclabel")->level, VH_LEVEL_WARN);
        assert_false(only(&r, "seclabel")->refuse);
        vh_results_done(&r);
        p.svirt = VH_SVIRT_OFF;
        run(d, &p, &r);
        assert_int_equal(r.n, 0);
        run(d, NULL, &r); /* no <svirt> at all: the shipped default */
        assert_int_equal(r.n, 0);
        vh_domain_free(d);

        /* model="dac" type="none" only turns off DAC relabelling */
        d = dom_of("<memory unit='MiB'>64</memory><seclabel type='none' model='dac'/>", NULL);
        p.svirt = VH_SVIRT_ENFORCE;
        run(d, &p, &r);
        assert_int_equal(only(&r, "seclabel")->level, VH_LEVEL_PASS);
        vh_results_done(&r);
        vh_domain_free(d);
}

static void test_table(void **state)
{
        (void)state;
        assert_int_equal(vh_checks_count(), 4);
        assert_string_equal(vh_checks_name(0), "hugepages");
        assert_null(vh_checks_name(4));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_hugepages_short, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_hugepages_reserved, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_hugepages_numa, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_hugepages_cells, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_hugepages_default_size, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_hostdev, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_vtpm, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_seclabel_none, tu_setup_root, tu_teardown_root),
                cmocka_unit_test(test_table),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
