/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The domain model from libvirt's XML, and hostile XML. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain.h"
#include "util.h"

static vh_domain *parse_file(const char *path)
{
        char *xml = tu_slurp(path);
        assert_non_null(xml);
        vh_domain *d = NULL;
        vh_error *e = NULL;
        if (vh_domain_parse(xml, strlen(xml), path, &d, &e) < 0)
                fail_msg("%s", vh_error_msg(e));
        free(xml);
        return d;
}

static void test_pinned_nvme_fixture(void **state)
{
        (void)state;
        vh_domain *d = parse_file("tests/data/domain/pinned-nvme.xml");
        assert_string_equal(d->name, "db-01");
        assert_string_equal(d->uuid, "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
        assert_string_equal(d->virt_type, "kvm");
        assert_string_equal(d->arch, "x86_64");
        assert_string_equal(d->machine, "pc-q35-7.2");
        assert_string_equal(d->cpu_mode, "host-passthrough");
        assert_int_equal(d->memory_kib, 8 * 1024 * 1024);
        assert_int_equal(d->vcpus, 4);
        assert_int_equal(d->n_vcpupins, 4);
        assert_int_equal(d->vcpupins[2].id, 2);
        assert_true(vh_cpuset_test(&d->vcpupins[2].cpus, 36));
        assert_true(d->has_emulatorpin);
        assert_int_equal(d->iothreads, 2);
        assert_int_equal(d->n_iothreadpins, 2);
        assert_true(d->hugepages);
        assert_int_equal(d->n_pages, 1);
        assert_int_equal(d->pages[0].size_kib, 1048576);
        assert_string_equal(d->pages[0].nodeset, "0");
        assert_string_equal(d->numa_nodeset, "0");
        assert_int_equal(d->n_disks, 2);
        assert_string_equal(d->disks[0].type, "block");
        assert_string_equal(d->disks[0].source, "/dev/vg0/db01-root");
        assert_true(d->disks[0].has_iothread);
        assert_string_equal(d->disks[0].alias, "virtio-disk0");
        assert_string_equal(d->disks[1].device, "cdrom");
        assert_int_equal(d->n_controllers, 2);
        assert_true(d->controllers[0].has_iothread);
        assert_int_equal(d->n_hostdevs, 1);
        assert_string_equal(d->hostdevs[0].bdf, "0000:81:00.1");
        assert_string_equal(d->hostdevs[0].alias, "hostdev0");
        assert_true(d->hostdevs[0].managed);
        assert_int_equal(d->n_tpms, 1);
        assert_string_equal(d->tpms[0].model, "tpm-crb");
        assert_string_equal(d->tpms[0].backend_version, "2.0");
        assert_int_equal(d->n_seclabels, 2);
        assert_string_equal(d->seclabels[0].label, "system_u:system_r:svirt_t:s0:c392,c662");
        assert_string_equal(d->seclabels[1].model, "dac");
        assert_non_null(d->policy);
        assert_string_equal((const char *)d->policy->name, "policy");
        vh_cpuset cpus = { 0 };
        assert_int_equal(vh_domain_vcpu_cpus(d, &cpus), 0);
        char *l = vh_cpuset_format_list(&cpus);
        assert_string_equal(l, "4-5,36-37"); /* all vCPUs pinned: <vcpu cpuset> does not count */
        free(l);
        vh_cpuset_done(&cpus);
        vh_domain_free(d);
}

static void test_vcpu_cpuset_applies_to_unpinned(void **state)
{
        (void)state;
        const char *xml = "<domain><name>x</name><vcpu cpuset='8-9'>2</vcpu>"
                          "<cputune><vcpupin vcpu='0' cpuset='3'/></cputune></domain>";
        vh_domain *d = NULL;
        assert_int_equal(vh_domain_parse(xml, strlen(xml), "t", &d, NULL), 0);
        vh_cpuset cpus = { 0 };
        assert_int_equal(vh_domain_vcpu_cpus(d, &cpus), 0);
        char *l = vh_cpuset_format_list(&cpus);
        assert_string_equal(l, "3,8-9");
        free(l);
        vh_cpuset_done(&cpus);
        vh_domain_free(d);
}

static void test_memory_units(void **state)
{
        (void)state;
        static const struct {
                const char *v, *unit;
                uint64_t kib;
        } cases[] = {
                { "1048576", NULL, 1048576 }, { "1", "GiB", 1048576 }, { "1", "G", 1048576 },
                { "1024", "MiB", 1048576 },  { "1", "KB", 1 },         { "2000", "b", 2 },
                { "1", "TB", 976562500 },    { "1", "bytes", 1 },      { "3", "k", 3 },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                uint64_t kib = 0;
                assert_int_equal(vh_memory_to_kib(cases[i].v, cases[i].unit, &kib), 0);
                assert_int_equal(kib, cases[i].kib);
        }
        uint64_t k;
        assert_true(vh_memory_to_kib("1", "parsecs", &k) < 0);
        assert_true(vh_memory_to_kib("-1", "KiB", &k) < 0);
        assert_true(vh_memory_to_kib("99999999999999999999", "KiB", &k) < 0);
        assert_true(vh_memory_to_kib("18446744073709551615", "EiB", &k) < 0);
}

static void expect_error(const char *xml, const char *needle)
{
        vh_domain *d = NULL;
        vh_error *e = NULL;
        assert_true(vh_domain_parse(xml, strlen(xml), "domain XML on stdin", &d, &e) < 0);
        assert_null(d);
        tu_assert_contains(e->msg, "domain XML on stdin");
        tu_assert_contains(e->msg, needle);
        assert_null(strchr(e->msg, '\n'));
        vh_error_free(e);
}

static void test_malformed(void **state)
{
        (void)state;
        expect_error("", "");
        expect_error("<domain>", "line 1");
        expect_error("<notdomain/>", "root element is <notdomain>; expected <domain>");
        expect_error("<domain><name></name></domain>", "has no <name>");
        expect_error("<domain><name>x</name><vcpu>lots</vcpu></domain>", "<vcpu>lots</vcpu>: expected a vCPU count");
        expect_error("<domain><name>x</name><cputune><vcpupin vcpu='0' cpuset='z'/></cputune></domain>",
                     "<vcpupin cpuset>");
        expect_error("<domain><name>x</name><memory unit='parsec'>1</memory></domain>", "<memory unit=\"parsec\">");
        expect_error("<domain><name>x</name><metadata><p:rules xmlns:p='urn:vmhooks:policy:1'/></metadata></domain>",
                     "element <rules> in namespace urn:vmhooks:policy:1: expected <policy>");
}

static double now_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Billion laughs and external entities: refused before libxml2 sees a DTD. */
static void test_entities_refused(void **state)
{
        (void)state;
        vh_buf b = { 0 };
        assert_int_equal(vh_buf_puts(&b, "<?xml version=\"1.0\"?>\n<!-- hi -->\n<!DOCTYPE domain [\n<!ENTITY l0 \"ha\">\n"), 0);
        for (int i = 1; i < 30; i++)
                assert_int_equal(vh_buf_printf(&b, "<!ENTITY l%d \"&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;&l%d;\">\n", i,
                                               i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1), 0);
        assert_int_equal(vh_buf_puts(&b, "]>\n<domain><name>&l29;</name></domain>\n"), 0);
        double t0 = now_s();
        expect_error(b.data, "DOCTYPE and entity declarations are not accepted");
        assert_true(now_s() - t0 < 1.0);
        free(b.data);
        expect_error("<!DOCTYPE domain [<!ENTITY x SYSTEM \"file:///etc/shadow\">]><domain><name>&x;</name></domain>",
                     "DOCTYPE");
        expect_error("<!DOCTYPE domain SYSTEM \"http://example.com/x.dtd\"><domain><name>x</name></domain>", "DOCTYPE");
        /* an undeclared entity reference is a well-formedness error, not a lookup */
        expect_error("<domain><name>&x;</name></domain>", "line 1");
}

static void test_many_disks(void **state)
{
        (void)state;
        vh_buf b = { 0 };
        assert_int_equal(vh_buf_puts(&b, "<domain><name>big</name><devices>"), 0);
        for (int i = 0; i < 10000; i++)
                assert_int_equal(vh_buf_printf(&b, "<disk type='file' device='disk'><source file='/var/lib/d%d.img'/>"
                                                   "<target dev='vd%d' bus='virtio'/></disk>", i, i), 0);
        assert_int_equal(vh_buf_puts(&b, "</devices></domain>"), 0);
        vh_domain *d = NULL;
        assert_int_equal(vh_domain_parse(b.data, b.len, "t", &d, NULL), 0);
        assert_int_equal(d->n_disks, 10000);
        assert_string_equal(d->disks[9999].source, "/var/lib/d9999.img");
        vh_domain_free(d);
        free(b.data);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pinned_nvme_fixture), cmocka_unit_test(test_vcpu_cpuset_applies_to_unpinned),
                cmocka_unit_test(test_memory_units),        cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_entities_refused),    cmocka_unit_test(test_many_disks),
        };
        return cmocka_run_group_tests_name("domain", tests, NULL, NULL);
}
