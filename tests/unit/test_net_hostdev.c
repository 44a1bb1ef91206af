/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * <interface type='hostdev'> (an SR-IOV VF given as a NIC) is PCI
 * passthrough like <hostdev>: libvirt turns both into the same vfio-pci
 * -device (its net-hostdev-vfio.x86_64-latest.args:
 * -device {"driver":"vfio-pci","host":"0000:06:12.1","id":"hostdev0",...}).
 * Domain parsing, the MSI-X plan, the prepare-time checks, the hook's
 * start begin (which writes the wrapper's plan), the wrapper, and
 * `vmhooks patch` see it.  Fixtures: libvirt's own test data
 * (tests/data/domain/net-hostdev*.xml) and a VM with both kinds.
 */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checks.h"
#include "facts.h"
#include "domain.h"
#include "msix.h"
#include "policy.h"
#include "util.h"

#define DATA "tests/data/domain/"


/* The checks on the facts of the fake host, as the hook gathers them. */
static int run_checks(const vh_domain *d, const vh_policy *p, vh_results *r)
{
        vh_facts f = { 0 };
        int k = vh_facts_gather(&f, vh_checks_facts_needed(d, p), NULL);
        if (k == 0)
                k = vh_checks_run(d, p, &f, r, NULL);
        vh_facts_done(&f);
        return k;
}

static vh_domain *parse_file(const char *file)
{
        char *xml = tu_slurp(file);
        if (!xml)
                fail_msg("cannot read %s", file);
        vh_domain *d = NULL;
        vh_error *e = NULL;
        if (vh_domain_parse(xml, strlen(xml), file, &d, &e) < 0)
                fail_msg("%s", vh_error_msg(e));
        free(xml);
        return d;
}

static void pci(const char *root, const char *bdf, const char *vendor, const char *device, const char *cls)
{
        const char *files[] = { "vendor", "device", "class" };
        const char *vals[] = { vendor, device, cls };
        for (size_t i = 0; i < 3; i++) {
                char *p = NULL;
                assert_true(asprintf(&p, "/sys/bus/pci/devices/%s/%s", bdf, files[i]) > 0);
                tu_write(root, p, vals[i]);
                free(p);
        }
}

static vh_policy msix_policy(const char *devices)
{
        vh_policy p = { 0 };
        p.present = p.enabled = 1u << VH_P_MSIX;
        p.msix_bar = strdup("bar2");
        p.msix_devices = strdup(devices);
        assert_non_null(p.msix_bar);
        assert_non_null(p.msix_devices);
        return p;
}

static void test_parse_libvirt_fixtures(void **state)
{
        (void)state;
        static const struct {
                const char *file, *bdf;
        } cases[] = {
                { DATA "net-hostdev.xml", "0000:03:07.1" },
                { DATA "net-hostdev-vfio.xml", "0000:06:12.1" },
                { DATA "net-hostdev-vfio-multidomain.xml", "0021:de:1f.1" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                vh_domain *d = parse_file(cases[i].file);
                assert_int_equal(d->n_hostdevs, 1);
                const vh_hostdev *h = &d->hostdevs[0];
                assert_true(h->interface);
                assert_string_equal(h->mode, "subsystem");
                assert_string_equal(h->type, "pci");
                assert_true(h->managed);
                assert_true(h->has_pci_address);
                assert_string_equal(h->bdf, cases[i].bdf);
                assert_null(h->alias); /* inactive XML: libvirt assigns hostdev0 at start */
                vh_domain_free(d);
        }
        /* both kinds, in document order: the VF (an interface) first */
        vh_domain *d = parse_file(DATA "sriov-and-nvme.xml");
        assert_int_equal(d->n_hostdevs, 2);
        assert_true(d->hostdevs[0].interface);
        assert_string_equal(d->hostdevs[0].bdf, "0000:3b:02.3");
        assert_string_equal(d->hostdevs[0].alias, "hostdev0");
        assert_false(d->hostdevs[1].interface);
        assert_string_equal(d->hostdevs[1].bdf, "0000:81:00.1");
        assert_string_equal(d->hostdevs[1].alias, "hostdev1");
        vh_domain_free(d);

        /* other interfaces are not host devices */
        const char *xml = "<domain type='kvm'><name>n</name><devices>"
                          "<interface type='network'><source network='default'/></interface>"
                          "<interface type='bridge'><source bridge='br0'/></interface>"
                          "<interface type='hostdev'><source><address type='pci' domain='0' bus='1' slot='2' "
                          "function='3'/></source></interface></devices></domain>";
        vh_error *e = NULL;
        assert_int_equal(vh_domain_parse(xml, strlen(xml), "x", &d, &e), 0);
        assert_int_equal(d->n_hostdevs, 1);
        assert_string_equal(d->hostdevs[0].bdf, "0000:01:02.3");
        assert_false(d->hostdevs[0].managed);
        vh_domain_free(d);
}

/* The host: the VF (Intel X710 VF) and an NVMe drive. */
static void host(const char *root)
{
        pci(root, "0000:3b:02.3", "0x8086\n", "0x154c\n", "0x020000\n");
        pci(root, "0000:81:00.1", "0x144d\n", "0xa808\n", "0x010802\n");
}

static void test_plan(void **state)
{
        const char *root = *state;
        host(root);
        vh_domain *d = parse_file(DATA "sriov-and-nvme.xml");
        vh_policy p = msix_policy("all");
        vh_msix_plan plan = { 0 };
        vh_buf lines = { 0 };
        assert_int_equal(vh_buf_puts(&lines, ""), 0);
        assert_int_equal(vh_msix_plan_make(d, &p, &plan, &lines, NULL), 0);
        assert_int_equal(plan.n_picks, 2);
        assert_string_equal(plan.picks[0].alias, "hostdev0");
        assert_string_equal(plan.picks[0].bdf, "0000:3b:02.3");
        assert_string_equal(plan.picks[1].alias, "hostdev1");
        tu_assert_contains(lines.data, "MSI-X relocation: hostdev0 (0000:3b:02.3, all): x-msix-relocation=bar2");
        vh_msix_plan_done(&plan);
        vh_buf_free(&lines);
        vh_policy_done(&p);

        /* devices="nvme": the VF is in the log as not selected, not silently left out */
        p = msix_policy("nvme");
        assert_int_equal(vh_buf_puts(&lines, ""), 0);
        assert_int_equal(vh_msix_plan_make(d, &p, &plan, &lines, NULL), 0);
        assert_int_equal(plan.n_picks, 1);
        assert_string_equal(plan.picks[0].alias, "hostdev1");
        tu_assert_contains(lines.data, "MSI-X relocation: hostdev0 (0000:3b:02.3): 8086:154c, class 0x020000: not "
                                       "selected by devices=\"nvme\"");
        vh_msix_plan_done(&plan);
        vh_buf_free(&lines);
        vh_policy_done(&p);
        vh_domain_free(d);
}

static const vh_result *find(const vh_results *r, const char *check)
{
        const vh_result *x = NULL;
        for (size_t i = 0; i < r->n; i++)
                if (streq(r->items[i].check, check) && r->items[i].level != VH_LEVEL_WARN) {
                        assert_null(x);
                        x = &r->items[i];
                }
        assert_non_null(x);
        return x;
}

static void test_checks(void **state)
{
        const char *root = *state;
        vh_domain *d = parse_file(DATA "sriov-and-nvme.xml");
        vh_policy p = { 0 };
        vh_results r = { 0 };
        assert_int_equal(run_checks(d, &p, &r), 0);
        const vh_result *x = find(&r, "hostdev");
        assert_true(x->refuse);
        assert_string_equal(x->message, "VM web-7 passes through 2 PCI device(s), but the kernel uses no IOMMU "
                                        "(/sys/kernel/iommu_groups is empty)");
        vh_results_done(&r);

        /* the VF missing: refused by its address */
        tu_write(root, "/sys/kernel/iommu_groups/7/type", "DMA\n");
        tu_write(root, "/proc/interrupts", " 24: 0 IR-PCI-MSI 1-edge x\n");
        pci(root, "0000:81:00.1", "0x144d\n", "0xa808\n", "0x010802\n");
        assert_int_equal(run_checks(d, &p, &r), 0);
        x = find(&r, "hostdev");
        assert_true(x->refuse);
        assert_string_equal(x->message, "VM web-7 passes through PCI device 0000:3b:02.3, which this host does not "
                                        "have (/sys/bus/pci/devices/0000:3b:02.3 is missing)");
        vh_results_done(&r);

        host(root);
        assert_int_equal(run_checks(d, &p, &r), 0);
        x = find(&r, "hostdev");
        assert_false(x->refuse);
        assert_string_equal(x->message, "VM web-7: 2 PCI device(s) present, IOMMU on (1 groups)");
        vh_results_done(&r);
        vh_domain_free(d);
}

/* The VF-only VM of libvirt's net-hostdev-vfio as `start begin` has it (alias assigned), with `meta` in <metadata>. */
static char *start_xml(const char *meta)
{
        char *x = tu_slurp(DATA "net-hostdev-vfio.xml");
        assert_non_null(x);
        vh_buf b = { 0 };
        const char *dev = strstr(x, "      <model type='rtl8139'/>");
        const char *os = strstr(x, "  <os>");
        assert_non_null(dev);
        assert_non_null(os);
        assert_int_equal(vh_buf_printf(&b, "%.*s", (int)(os - x), x), 0);
        if (meta)
                assert_int_equal(vh_buf_printf(&b, "  <metadata><vmhooks:policy xmlns:vmhooks='urn:vmhooks:policy:1'>"
                                                   "%s</vmhooks:policy></metadata>\n", meta), 0);
        assert_int_equal(vh_buf_printf(&b, "%.*s      <alias name='hostdev0'/>\n%s", (int)(dev - os), os, dev), 0);
        free(x);
        return b.data;
}

static void test_hook_start_writes_plan(void **state)
{
        const char *root = *state;
        pci(root, "0000:06:12.1", "0x8086\n", "0x154c\n", "0x020000\n");
        tu_write(root, "/etc/vmhooks/policy.xml",
                 "<policy xmlns='urn:vmhooks:policy:1'><msix-relocation bar='bar2' devices='all'/></policy>\n");
        /* the host policy relocates every device: the VF too */
        char *xml = start_xml(NULL);
        char *err = NULL;
        assert_int_equal(tu_run_hook(root, xml, &err, NULL, "QEMUGuest1", "start", "begin"), 0);
        char *plan = tu_read(root, "/run/vmhooks-wrapper/QEMUGuest1.plan");
        assert_non_null(plan);
        tu_assert_contains(plan, "relocate alias=hostdev0 bdf=0000:06:12.1 bar=bar2 why=all");
        free(plan);
        free(xml);
        free(err);

        /* the VM says no: its plan says so, and the wrapper does not fall back on the host policy */
        xml = start_xml("<msix-relocation enabled='no'/>");
        assert_int_equal(tu_run_hook(root, xml, &err, NULL, "QEMUGuest1", "start", "begin"), 0);
        plan = tu_read(root, "/run/vmhooks-wrapper/QEMUGuest1.plan");
        assert_non_null(plan);
        tu_assert_contains(plan, "msix enabled=0");
        assert_null(strstr(plan, "relocate"));
        free(plan);
        free(xml);
        free(err);
}

/* What the test wrapper passes to the emulator (/bin/echo) for libvirt's net-hostdev-vfio command line. */
static char *wrapper_out(const char *root)
{
        const char *w = getenv("VH_WRAPPER");
        char *cmd = NULL;
        assert_true(asprintf(&cmd, "env -i PATH=/usr/bin:/bin VMHOOKS_ROOT='%s' VMHOOKS_EMULATOR=/bin/echo "
                                   "xargs -d '\\n' -a tests/data/argv/net-hostdev-vfio.args '%s' 2>/dev/null",
                             root, w && *w ? w : "build/test/qemu-kvm") > 0);
        FILE *f = popen(cmd, "r");
        assert_non_null(f);
        char buf[8192];
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        buf[n] = '\0';
        assert_int_equal(pclose(f), 0);
        free(cmd);
        return strdup(buf);
}

static void test_wrapper(void **state)
{
        const char *root = *state;
        const char *hook = getenv("VH_HOOK");
        pci(root, "0000:06:12.1", "0x8086\n", "0x154c\n", "0x020000\n");
        tu_write(root, "/etc/vmhooks/policy.xml",
                 "<policy xmlns='urn:vmhooks:policy:1'><msix-relocation bar='bar2' devices='all'/></policy>\n");
        char *cmd = NULL;
        assert_true(asprintf(&cmd, "'%s' --wrapper-config --root='%s' >/dev/null", hook && *hook ? hook : "build/test/qemu-hook",
                             root) > 0);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        static const char relocated[] = "\"id\":\"hostdev0\",\"bus\":\"pci.0\",\"addr\":\"0x2\",\"x-msix-relocation\":\"bar2\"";

        /* the plan of start begin for the VF: relocated */
        char *xml = start_xml(NULL);
        assert_int_equal(tu_run_hook(root, xml, NULL, NULL, "QEMUGuest1", "start", "begin"), 0);
        free(xml);
        char *out = wrapper_out(root);
        tu_assert_contains(out, relocated);
        free(out);

        /* the VM's <msix-relocation enabled='no'/>: the host policy does not override it */
        xml = start_xml("<msix-relocation enabled='no'/>");
        assert_int_equal(tu_run_hook(root, xml, NULL, NULL, "QEMUGuest1", "start", "begin"), 0);
        free(xml);
        out = wrapper_out(root);
        tu_assert_contains(out, "\"driver\":\"vfio-pci\",\"host\":\"0000:06:12.1\"");
        assert_null(strstr(out, "x-msix-relocation"));
        free(out);
}

static void test_patch_rule(void **state)
{
        const char *root = *state;
        if (access(tu_tool(), X_OK) < 0) {
                print_message("note: %s not built\n", tu_tool());
                skip();
        }
        pci(root, "0000:06:12.1", "0x8086\n", "0x154c\n", "0x020000\n");
        tu_write(root, "/usr/libexec/vmhooks/qemu-kvm", "#!/bin/sh\n");
        char *w = NULL;
        assert_true(asprintf(&w, "%s/usr/libexec/vmhooks/qemu-kvm", root) > 0);
        assert_int_equal(chmod(w, 0755), 0);
        free(w);
        tu_write(root, "/tmp/p.xml",
                 "<policy xmlns='urn:vmhooks:policy:1'><msix-relocation bar='bar2' devices='all'/></policy>\n");
        char *pf = NULL;
        assert_true(asprintf(&pf, "%s/tmp/p.xml", root) > 0);
        char *out = NULL, *err = NULL;
        int rc = tu_run_tool(NULL, &out, &err,
                             (const char *const[]){ "patch", "--policy", pf, DATA "net-hostdev-vfio.xml", NULL });
        if (rc != 0)
                fail_msg("exit %d: %s", rc, err);
        tu_assert_contains(err, "<emulator> /usr/bin/qemu-system-i386 -> /usr/libexec/vmhooks/qemu-kvm: the wrapper "
                                "adds x-msix-relocation=bar2 to 0000:06:12.1 (all)");
        tu_assert_contains(out, "<emulator>/usr/libexec/vmhooks/qemu-kvm</emulator>");
        free(out);
        free(err);
        /* --msix=override: the <qemu:override> names the interface's user alias */
        rc = tu_run_tool(NULL, &out, &err, (const char *const[]){ "patch", "--policy", pf, "--msix=override",
                                                                 DATA "net-hostdev-vfio.xml", NULL });
        if (rc != 0)
                fail_msg("exit %d: %s", rc, err);
        tu_assert_contains(out, "<alias name='ua-vmhooks-0000-06-12-1'/>");
        tu_assert_contains(out, "<qemu:device alias='ua-vmhooks-0000-06-12-1'>");
        const char *iface = strstr(out, "<interface type='hostdev'");
        const char *alias = strstr(out, "<alias name='ua-vmhooks-0000-06-12-1'/>");
        const char *end = iface ? strstr(iface, "</interface>") : NULL;
        assert_true(iface && alias && end && alias > iface && alias < end);
        free(out);
        free(err);
        free(pf);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_libvirt_fixtures),
                cmocka_unit_test_setup_teardown(test_plan, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_checks, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_hook_start_writes_plan, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_wrapper, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_patch_rule, tu_setup_root, tu_teardown_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
