/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * MSI-X relocation (lib/msix.h): device selection on a fake sysfs, the
 * per-VM plan (format, write, read, UUID check, removal), and the targets
 * the wrapper derives from a plan or from the host policy.
 */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "argv.h"
#include "domain.h"
#include "msix.h"
#include "policy.h"
#include "util.h"

/* A fake PCI device below the root. */
static void pci(const char *root, const char *bdf, const char *vendor, const char *device, const char *cls)
{
        char *p = NULL;
        assert_true(asprintf(&p, "/sys/bus/pci/devices/%s/vendor", bdf) > 0);
        tu_write(root, p, vendor);
        free(p);
        assert_true(asprintf(&p, "/sys/bus/pci/devices/%s/device", bdf) > 0);
        tu_write(root, p, device);
        free(p);
        assert_true(asprintf(&p, "/sys/bus/pci/devices/%s/class", bdf) > 0);
        tu_write(root, p, cls);
        free(p);
}

/* A host: an NVMe drive (Samsung 970), an SM2262 drive, an Intel NIC. */
static void host(const char *root)
{
        pci(root, "0000:81:00.1", "0x144d\n", "0xa808\n", "0x010802\n");
        pci(root, "0000:82:00.0", "0x126f\n", "0x2262\n", "0x010802\n");
        pci(root, "0000:03:00.0", "0x8086\n", "0x1572\n", "0x020000\n");
}

static vh_policy policy(const char *bar, const char *devices)
{
        vh_policy p = { 0 };
        p.present = p.enabled = 1u << VH_P_MSIX;
        p.msix_bar = strdup(bar);
        p.msix_devices = strdup(devices);
        assert_non_null(p.msix_bar);
        assert_non_null(p.msix_devices);
        return p;
}

/* 1 or 0 and the reason; fails the test on an error. */
static int sel(const char *devices, const char *bdf, char **why)
{
        vh_policy p = policy("bar2", devices);
        vh_error *e = NULL;
        int r = vh_msix_select(&p, bdf, NULL, why, &e);
        if (r < 0)
                fail_msg("%s %s: %s", devices, bdf, vh_error_msg(e));
        vh_policy_done(&p);
        return r;
}

static void expect_sel(const char *devices, const char *bdf, int want, const char *want_why)
{
        char *why = NULL;
        int r = sel(devices, bdf, &why);
        if (r != want || strcmp(why, want_why) != 0)
                fail_msg("devices=\"%s\" %s: got %d \"%s\", want %d \"%s\"", devices, bdf, r, why, want, want_why);
        free(why);
}

static void test_bdf_and_quirks(void **state)
{
        (void)state;
        char b[13];
        assert_int_equal(vh_pci_bdf_normalize("0000:81:00.1", b), 0);
        assert_string_equal(b, "0000:81:00.1");
        assert_int_equal(vh_pci_bdf_normalize("81:1F.7", b), 0);
        assert_string_equal(b, "0000:81:1f.7");
        assert_int_equal(vh_pci_bdf_normalize("ABCD:ff:00.0", b), 0);
        assert_string_equal(b, "abcd:ff:00.0");
        assert_int_equal(vh_pci_bdf_normalize("81:20.0", b), -EINVAL); /* device > 0x1f */
        assert_int_equal(vh_pci_bdf_normalize("81:00.8", b), -EINVAL);
        assert_int_equal(vh_pci_bdf_normalize("126f:2262", b), -EINVAL);
        assert_int_equal(vh_pci_bdf_normalize("0000-81:00.1", b), -EINVAL);
        assert_int_equal(vh_pci_bdf_normalize("", b), -EINVAL);

        assert_string_equal(vh_msix_quirk(0x8086, 0xf1a6), "Intel 760p (SM2262)");
        assert_string_equal(vh_msix_quirk(0x126f, 0x2262), "ADATA SX8200 (SM2262)");
        assert_string_equal(vh_msix_quirk(0x126f, 0x2263), "aigo P2000 (SM2263)");
        assert_null(vh_msix_quirk(0x144d, 0xa808));
}

static void test_select(void **state)
{
        const char *root = *state;
        host(root);
        expect_sel("nvme", "0000:81:00.1", 1, "NVMe 144d:a808");
        expect_sel("nvme", "81:00.1", 1, "NVMe 144d:a808");
        expect_sel("nvme", "0000:03:00.0", 0, "8086:1572, class 0x020000: not selected by devices=\"nvme\"");
        expect_sel("quirks", "0000:82:00.0", 1, "quirk: ADATA SX8200 (SM2262)");
        expect_sel("quirks", "0000:81:00.1", 0, "144d:a808: not selected by devices=\"quirks\"");
        /* a quirk says more than the class */
        expect_sel("nvme quirks", "0000:82:00.0", 1, "quirk: ADATA SX8200 (SM2262)");
        expect_sel("nvme,quirks", "0000:81:00.1", 1, "NVMe 144d:a808");
        expect_sel("0000:03:00.0", "0000:03:00.0", 1, "listed");
        expect_sel("03:00.0", "0000:03:00.0", 1, "listed");
        expect_sel("8086:1572", "0000:03:00.0", 1, "listed");
        expect_sel("8086:1572, 0000:82:00.0", "0000:82:00.0", 1, "listed");
        expect_sel("8086:1573", "0000:03:00.0", 0, "8086:1572: not selected by devices=\"8086:1573\"");
        expect_sel("all", "0000:03:00.0", 1, "all");
        expect_sel("0000:81:00.1", "0000:03:00.0", 0, "not selected by devices=\"0000:81:00.1\"");
        /* sysfs needed and missing: an error, unless "all" takes it anyway */
        expect_sel("nvme all", "0000:09:00.0", 1, "all");
        expect_sel("0000:09:00.0 nvme", "0000:09:00.0", 1, "listed");
        vh_policy p = policy("bar2", "nvme");
        char *why = NULL;
        vh_error *e = NULL;
        assert_int_equal(vh_msix_select(&p, "0000:09:00.0", NULL, &why, &e), -ENOENT);
        tu_assert_contains(vh_error_msg(e), "/sys/bus/pci/devices/0000:09:00.0/vendor");
        vh_error_free(e);
        e = NULL;
        /* junk in sysfs */
        tu_write(root, "/sys/bus/pci/devices/0000:03:00.0/class", "bogus\n");
        assert_int_equal(vh_msix_select(&p, "0000:03:00.0", NULL, &why, &e), -EINVAL);
        tu_assert_contains(vh_error_msg(e), "is not a hexadecimal id");
        vh_error_free(e);
        e = NULL;
        /* off */
        p.enabled = 0;
        assert_int_equal(vh_msix_select(&p, "0000:81:00.1", NULL, &why, &e), 0);
        assert_string_equal(why, "msix-relocation is off");
        free(why);
        assert_int_equal(vh_msix_select(NULL, "0000:81:00.1", NULL, &why, &e), 0);
        free(why);
        vh_policy_done(&p);
}

static const char *const domain_xml =
        "<domain type='kvm'>\n"
        "  <name>db 01</name>\n"
        "  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>\n"
        "  <memory unit='KiB'>1048576</memory>\n"
        "  <devices>\n"
        "    <emulator>/usr/libexec/vmhooks/qemu-kvm</emulator>\n"
        "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
        "      <source><address domain='0x0000' bus='0x81' slot='0x00' function='0x1'/></source>\n"
        "      <alias name='hostdev0'/>\n"
        "    </hostdev>\n"
        "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
        "      <source><address domain='0x0000' bus='0x82' slot='0x00' function='0x0'/></source>\n"
        "      <alias name='ua-sm2262'/>\n"
        "    </hostdev>\n"
        "    <hostdev mode='subsystem' type='pci' managed='yes'>\n"
        "      <source><address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source>\n"
        "      <alias name='hostdev1'/>\n"
        "    </hostdev>\n"
        "    <hostdev mode='subsystem' type='usb'>\n"
        "      <source><vendor id='0x1234'/><product id='0xbeef'/></source>\n"
        "      <alias name='hostdev2'/>\n"
        "    </hostdev>\n"
        "  </devices>\n"
        "</domain>\n";

static vh_domain *domain(void)
{
        vh_domain *d = NULL;
        vh_error *e = NULL;
        if (vh_domain_parse(domain_xml, strlen(domain_xml), "test", &d, &e) < 0)
                fail_msg("%s", vh_error_msg(e));
        return d;
}

static void test_plan_make_and_format(void **state)
{
        const char *root = *state;
        host(root);
        vh_domain *d = domain();
        vh_policy p = policy("bar2", "nvme quirks");
        vh_msix_plan plan = { 0 };
        vh_buf lines = { 0 };
        assert_int_equal(vh_buf_puts(&lines, ""), 0);
        assert_int_equal(vh_msix_plan_make(d, &p, &plan, &lines, NULL), 0);
        assert_string_equal(lines.data,
                            "MSI-X relocation: hostdev0 (0000:81:00.1, NVMe 144d:a808): x-msix-relocation=bar2, added "
                            "by the wrapper\n"
                            "MSI-X relocation: ua-sm2262 (0000:82:00.0, quirk: ADATA SX8200 (SM2262)): "
                            "x-msix-relocation=bar2, added by the wrapper\n"
                            "MSI-X relocation: hostdev1 (0000:03:00.0): 8086:1572, class 0x020000: not selected by "
                            "devices=\"nvme quirks\"\n");
        char *text = NULL;
        assert_int_equal(vh_msix_plan_format(&plan, &text, NULL), 0);
        const char *want = "vmhooks-wrapper-plan 1\n"
                           "vm uuid=4dea22b3-1d52-d8f3-2516-782e98ab3fa0 name=db%2001\n"
                           "msix enabled=1 bar=bar2 devices=nvme%20quirks\n"
                           "relocate alias=hostdev0 bdf=0000:81:00.1 bar=bar2 why=NVMe%20144d:a808\n"
                           "relocate alias=ua-sm2262 bdf=0000:82:00.0 bar=bar2 "
                           "why=quirk:%20ADATA%20SX8200%20(SM2262)\n";
        assert_string_equal(text, want);

        /* and back */
        vh_msix_plan back = { 0 };
        assert_int_equal(vh_msix_plan_parse(text, &back, NULL), 0);
        assert_string_equal(back.uuid, "4dea22b3-1d52-d8f3-2516-782e98ab3fa0");
        assert_string_equal(back.name, "db 01");
        assert_true(back.enabled);
        assert_int_equal(back.n_picks, 2);
        assert_string_equal(back.picks[1].alias, "ua-sm2262");
        assert_string_equal(back.picks[1].bdf, "0000:82:00.0");
        assert_string_equal(back.picks[1].bar, "bar2");
        assert_string_equal(back.picks[1].why, "quirk: ADATA SX8200 (SM2262)");
        vh_msix_plan_done(&back);
        free(text);
        vh_msix_plan_done(&plan);
        vh_buf_free(&lines);

        /* off: a plan that says so, no lines */
        p.enabled = 0;
        assert_int_equal(vh_buf_puts(&lines, ""), 0);
        assert_int_equal(vh_msix_plan_make(d, &p, &plan, &lines, NULL), 0);
        assert_int_equal(vh_msix_plan_format(&plan, &text, NULL), 0);
        assert_string_equal(text, "vmhooks-wrapper-plan 1\nvm uuid=4dea22b3-1d52-d8f3-2516-782e98ab3fa0 "
                                  "name=db%2001\nmsix enabled=0\n");
        assert_string_equal(lines.data, "");
        free(text);
        vh_msix_plan_done(&plan);
        vh_buf_free(&lines);

        /* an emulator that is not the wrapper: said in the log */
        free(d->emulator);
        d->emulator = strdup("/usr/bin/qemu-system-x86_64");
        p.enabled = 1u << VH_P_MSIX;
        assert_int_equal(vh_msix_plan_make(d, &p, &plan, &lines, NULL), 0);
        tu_assert_contains(lines.data, "MSI-X relocation will not happen: the domain's <emulator> is "
                                       "/usr/bin/qemu-system-x86_64, not the vmhooks wrapper");
        vh_msix_plan_done(&plan);
        vh_buf_free(&lines);
        vh_policy_done(&p);
        vh_domain_free(d);
}

static void test_plan_parse_errors(void **state)
{
        (void)state;
        static const char *const bad[] = {
                "",
                "vmhooks-wrapper-plan 2\nvm uuid=x\n",
                "vmhooks-wrapper-plan 1\n",
                "vmhooks-wrapper-plan 1\nvm name=x\n",
                "vmhooks-wrapper-plan 1\nvm uuid=x\nmsix enabled=yes\n",
                "vmhooks-wrapper-plan 1\nvm uuid=x\nrelocate alias=a bdf=0000:81:00.1 bar=bar9\n",
                "vmhooks-wrapper-plan 1\nvm uuid=x\nrelocate alias=a bdf=81-00 bar=bar2\n",
                "vmhooks-wrapper-plan 1\nvm uuid=x\nrelocate bdf=0000:81:00.1 bar=bar2\n",
                "vmhooks-wrapper-plan 1\nvm uuid=%zz\n",
                "vmhooks-wrapper-plan 1\nvm uuid\n",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                vh_msix_plan p = { 0 };
                vh_error *e = NULL;
                if (vh_msix_plan_parse(bad[i], &p, &e) != -EINVAL)
                        fail_msg("accepted: %s", bad[i]);
                vh_error_free(e);
                vh_msix_plan_done(&p);
        }
        /* records of a newer vmhooks are ignored; a short BDF is normalised */
        vh_msix_plan p = { 0 };
        assert_int_equal(vh_msix_plan_parse("vmhooks-wrapper-plan 1\nvm uuid=x future=1\nnew thing=1\n"
                                            "relocate alias=a bdf=81:00.1 bar=auto\n",
                                            &p, NULL),
                         0);
        assert_int_equal(p.n_picks, 1);
        assert_string_equal(p.picks[0].bdf, "0000:81:00.1");
        assert_string_equal(p.picks[0].why, "planned");
        vh_msix_plan_done(&p);
}

static void test_plan_files(void **state)
{
        const char *root = *state;
        host(root);
        vh_domain *d = domain();
        vh_policy p = policy("bar2", "nvme");
        vh_error *e = NULL;
        assert_int_equal(vh_msix_plan_write(d, &p, NULL, &e), 0);

        /* where the QEMU user can read it */
        char *dir = NULL, *file = NULL;
        assert_true(asprintf(&dir, "%s/run/vmhooks-wrapper", root) > 0);
        assert_true(asprintf(&file, "%s/run/vmhooks-wrapper/db%%2001.plan", root) > 0);
        struct stat st;
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0755);
        assert_int_equal(stat(file, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        char *path = vh_msix_plan_path("db 01");
        assert_string_equal(path, file);
        free(path);

        vh_msix_plan plan = { 0 };
        assert_int_equal(vh_msix_plan_load("db 01", "4DEA22B3-1D52-D8F3-2516-782E98AB3FA0", &plan, &e), 0);
        assert_int_equal(plan.n_picks, 2); /* both drives are NVMe; the NIC is not */
        assert_string_equal(plan.picks[0].alias, "hostdev0");
        assert_string_equal(plan.picks[1].alias, "ua-sm2262");
        vh_msix_plan_done(&plan);

        /* another VM with the same name */
        assert_int_equal(vh_msix_plan_load("db 01", "11111111-1111-1111-1111-111111111111", &plan, &e), -ESTALE);
        tu_assert_contains(vh_error_msg(e), "db%2001.plan is for UUID 4dea22b3-1d52-d8f3-2516-782e98ab3fa0, not "
                                            "11111111-1111-1111-1111-111111111111; ignored");
        vh_error_free(e);
        e = NULL;
        assert_null(plan.picks);
        assert_int_equal(vh_msix_plan_load("other", "x", &plan, &e), -ENOENT);
        vh_error_free(e);
        e = NULL;
        assert_int_equal(vh_msix_plan_load(NULL, "x", &plan, &e), -ENOENT);
        vh_error_free(e);
        e = NULL;

        /* a hostile name stays inside the directory */
        path = vh_msix_plan_path("../../etc/passwd");
        tu_assert_contains(path, "/run/vmhooks-wrapper/%2E.%2F..%2Fetc%2Fpasswd.plan");
        free(path);

        assert_int_equal(vh_msix_plan_remove("db 01", &e), 0);
        assert_int_equal(access(file, F_OK), -1);
        assert_int_equal(vh_msix_plan_remove("db 01", &e), 0); /* already gone: fine */
        free(dir);
        free(file);
        vh_policy_done(&p);
        vh_domain_free(d);
}

static vh_qargv cmdline(char **argv, int argc)
{
        vh_qargv q = { 0 };
        assert_int_equal(vh_qargv_parse(argc, argv, &q, NULL), 0);
        return q;
}

static void test_targets(void **state)
{
        const char *root = *state;
        host(root);
        char *argv[] = { (char *)"qemu-kvm",
                         (char *)"-device",
                         (char *)"{\"driver\":\"vfio-pci\",\"host\":\"0000:81:00.1\",\"id\":\"hostdev0\"}",
                         (char *)"-device",
                         (char *)"vfio-pci,host=82:00.0,id=ua-sm2262",
                         (char *)"-device",
                         (char *)"{\"driver\":\"vfio-pci\",\"host\":\"0000:03:00.0\",\"id\":\"hostdev1\"}",
                         (char *)"-device",
                         (char *)"{\"driver\":\"virtio-rng-pci\",\"id\":\"rng0\"}",
                         NULL };
        vh_qargv q = cmdline(argv, 9);

        /* from the plan: alias and host must match */
        vh_msix_plan plan = { 0 };
        assert_int_equal(vh_msix_plan_parse("vmhooks-wrapper-plan 1\nvm uuid=u\nmsix enabled=1\n"
                                            "relocate alias=hostdev0 bdf=0000:81:00.1 bar=bar2 why=NVMe\n"
                                            "relocate alias=ua-sm2262 bdf=0000:82:00.0 bar=bar4 why=quirk\n"
                                            "relocate alias=hostdev1 bdf=0000:04:00.0 bar=bar2 why=listed\n"
                                            "relocate alias=rng0 bdf=0000:05:00.0 bar=bar2 why=all\n"
                                            "relocate alias=gone bdf=0000:06:00.0 bar=bar2 why=all\n",
                                            &plan, NULL),
                         0);
        vh_qrelocate *rel = NULL;
        size_t n = 0;
        vh_buf notes = { 0 };
        assert_int_equal(vh_buf_puts(&notes, ""), 0);
        assert_int_equal(vh_msix_targets(&q, &plan, NULL, &rel, &n, &notes, NULL), 0);
        assert_int_equal(n, 2);
        assert_string_equal(rel[0].id, "hostdev0");
        assert_string_equal(rel[0].bar, "bar2");
        assert_string_equal(rel[0].why, "NVMe");
        assert_string_equal(rel[1].id, "ua-sm2262");
        assert_string_equal(rel[1].bar, "bar4");
        assert_string_equal(notes.data,
                            "hostdev1: planned for host 0000:04:00.0, but the -device has host=0000:03:00.0; left as "
                            "is\n"
                            "rng0 (0000:05:00.0): planned, but there is no vfio-pci -device with this id\n"
                            "gone (0000:06:00.0): planned, but there is no vfio-pci -device with this id\n");
        vh_qrelocate_free_all(rel, n);
        vh_buf_free(&notes);

        /* a plan that says off wins over the host policy */
        plan.enabled = false;
        vh_policy p = policy("bar2", "all");
        assert_int_equal(vh_msix_targets(&q, &plan, &p, &rel, &n, NULL, NULL), 0);
        assert_int_equal(n, 0);
        vh_qrelocate_free_all(rel, n);
        vh_msix_plan_done(&plan);

        /* no plan: the host policy, for every vfio-pci device */
        vh_policy_done(&p);
        p = policy("bar5", "nvme");
        assert_int_equal(vh_msix_targets(&q, NULL, &p, &rel, &n, NULL, NULL), 0);
        assert_int_equal(n, 2);
        assert_string_equal(rel[0].id, "hostdev0");
        assert_string_equal(rel[0].why, "NVMe 144d:a808");
        assert_string_equal(rel[1].id, "ua-sm2262");
        assert_string_equal(rel[1].bar, "bar5");
        vh_qrelocate_free_all(rel, n);
        vh_policy_done(&p);

        /* neither: nothing */
        assert_int_equal(vh_msix_targets(&q, NULL, NULL, &rel, &n, NULL, NULL), 0);
        assert_int_equal(n, 0);
        vh_qrelocate_free_all(rel, n);
        vh_qargv_done(&q);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bdf_and_quirks),
                cmocka_unit_test_setup_teardown(test_select, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_plan_make_and_format, tu_setup_root, tu_teardown_root),
                cmocka_unit_test(test_plan_parse_errors),
                cmocka_unit_test_setup_teardown(test_plan_files, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_targets, tu_setup_root, tu_teardown_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
