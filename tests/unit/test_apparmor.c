/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The AppArmor rule writer (lib/apparmor.h): the rule for one guest's
 * plan, the profile virt-aa-helper -c would make, adding and removing the
 * rule (pure), and the hook doing it at prepare begin and stopped/release
 * end on a fake host.  Whether the profiles it writes parse is checked by
 * apparmor_parser in tests/confinement.sh; what they allow at run time is
 * not testable here (no AppArmor in these machines' kernel).
 */
#include "testutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apparmor.h"
#include "util.h"

#define UUID "c7a5fdbd-edaf-9455-926a-d65c16db1809"
#define PNAME "libvirt-" UUID
#define PROFILE_REL "/etc/apparmor.d/libvirt/" PNAME

/* The shape of libvirt's TEMPLATE.qemu (written for this test). */
static const char tmpl[] = "#\n# a template\n#\n\n#include <tunables/global>\n\n"
                           "profile LIBVIRT_TEMPLATE flags=(attach_disconnected) {\n"
                           "  #include <abstractions/libvirt-qemu>\n}\n";

static void test_rule(void **state)
{
        (void)state;
        char *r = vh_aa_plan_rule("g1");
        assert_string_equal(r, "  \"/run/vmhooks-wrapper/g1.plan\" r, " VH_AA_MARK);
        free(r);
        /* nothing AppArmor reads as a pattern, a variable, a quote or a separator survives in the path */
        r = vh_aa_plan_rule("a b*{x}[y]?^,\"@{HOME}\\.");
        const char *path = r + 3, *end = strchr(path, '"');
        assert_non_null(end);
        for (const char *p = path; p < end; p++)
                if (strchr(" *{}[]?^,\"@\\\t\n", *p))
                        fail_msg("'%c' left in the rule's path: %s", *p, r);
        tu_assert_contains(r, "/run/vmhooks-wrapper/a%20b%2A%7Bx%7D");
        free(r);
}

static void test_profile_name(void **state)
{
        (void)state;
        char *n = vh_aa_profile_name(UUID);
        assert_string_equal(n, PNAME);
        free(n);
        n = vh_aa_profile_name("C7A5FDBD-EDAF-9455-926A-D65C16DB1809");
        assert_string_equal(n, PNAME); /* libvirt writes it in lower case */
        free(n);
        static const char *const bad[] = { "", "c7a5fdbd", UUID "0", "c7a5fdbd-edaf-9455-926a-d65c16db180",
                                           "../../../../etc/passwd", "c7a5fdbd-edaf-9455-926a_d65c16db1809",
                                           "g7a5fdbd-edaf-9455-926a-d65c16db1809", "c7a5fdbdedaf9455926ad65c16db1809" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_null(vh_aa_profile_name(bad[i]));
        assert_null(vh_aa_profile_name(NULL));
}

static void test_from_template(void **state)
{
        (void)state;
        char *p = NULL;
        assert_int_equal(vh_aa_profile_from_template(tmpl, PNAME, &p, NULL), 0);
        assert_string_equal(p, "#\n# a template\n#\n\n#include <tunables/global>\n\n"
                               "profile " PNAME " flags=(attach_disconnected) {\n"
                               "  #include <abstractions/libvirt-qemu>\n"
                               "  #include <libvirt/" PNAME ".files>\n\n}\n");
        free(p);
        const char *why = NULL;
        assert_int_equal(vh_aa_profile_from_template("profile x {\n}\n", PNAME, &p, &why), -EINVAL);
        tu_assert_contains(why, "LIBVIRT_TEMPLATE");
        assert_int_equal(vh_aa_profile_from_template("\nprofile LIBVIRT_TEMPLATE { }", PNAME, &p, &why), -EINVAL);
}

static void test_add_remove(void **state)
{
        (void)state;
        char *rule = vh_aa_plan_rule("g1");
        /* a profile with an inner block: the rule goes before the outer closing brace */
        const char *prof = "profile " PNAME " {\n  #include <abstractions/libvirt-qemu>\n  ^hat {\n    /x r,\n  }\n"
                           "  /admin/own/rule r,\n}\n# after\n";
        char *added = NULL;
        const char *why = NULL;
        assert_int_equal(vh_aa_profile_add(prof, rule, &added, &why), 0);
        char *want = NULL;
        assert_true(asprintf(&want, "profile " PNAME " {\n  #include <abstractions/libvirt-qemu>\n  ^hat {\n    /x r,\n"
                                    "  }\n  /admin/own/rule r,\n%s\n}\n# after\n", rule) > 0);
        assert_string_equal(added, want);
        /* idempotent */
        char *again = (char *)"unchanged";
        assert_int_equal(vh_aa_profile_add(added, rule, &again, &why), 0);
        assert_null(again);
        /* removal gives back the profile byte for byte */
        char *removed = NULL;
        assert_int_equal(vh_aa_profile_remove(added, rule, &removed), 0);
        assert_string_equal(removed, prof);
        free(removed);
        free(added);
        added = NULL;
        /* nothing to remove */
        removed = (char *)"unchanged";
        assert_int_equal(vh_aa_profile_remove(prof, rule, &removed), 0);
        assert_null(removed);
        /* another guest's rule is not this one's (g1 vs g10), and stays */
        char *other = vh_aa_plan_rule("g10");
        char *with_other = NULL;
        assert_int_equal(vh_aa_profile_add(prof, other, &with_other, &why), 0);
        assert_int_equal(vh_aa_profile_remove(with_other, rule, &removed), 0);
        assert_null(removed);
        free(with_other);
        free(other);
        /* no closing brace: not a profile virt-aa-helper made */
        assert_int_equal(vh_aa_profile_add("profile x {\n  /a r,", rule, &added, &why), -EINVAL);
        tu_assert_contains(why, "no closing brace");
        free(want);
        free(rule);
}

static const char *hostdev_xml =
        "<domain type='kvm'><name>pv</name><uuid>" UUID "</uuid><memory>65536</memory><devices>"
        "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x81' slot='0x00' "
        "function='0x1'/></source></hostdev></devices></domain>";

static char *host_with_apparmor(void)
{
        char *root = tu_mkroot();
        tu_write(root, "/etc/apparmor.d/libvirt/TEMPLATE.qemu", tmpl);
        tu_write(root, VH_AA_KERNEL, "");
        /* an IOMMU and the passed-through device, or prepare refuses the start before any of this */
        tu_write(root, "/sys/kernel/iommu_groups/7/type", "DMA\n");
        tu_write(root, "/proc/interrupts", " 24: 0 IR-PCI-MSI 1-edge x\n");
        tu_write(root, "/sys/bus/pci/devices/0000:81:00.1/vendor", "0x144d\n");
        tu_write(root, "/sys/bus/pci/devices/0000:81:00.1/device", "0xa808\n");
        tu_write(root, "/sys/bus/pci/devices/0000:81:00.1/class", "0x010802\n");
        char *d = NULL;
        assert_true(asprintf(&d, "%s/etc/apparmor.d/libvirt", root) > 0);
        assert_int_equal(chmod(d, 0755), 0);
        free(d);
        return root;
}

static int hook(const char *root, const char *xml, const char *op, const char *sub)
{
        char *err = NULL;
        int rc = tu_run_hook(root, xml, &err, NULL, "pv", op, sub);
        if (rc != 0)
                print_message("hook %s %s: exit %d: %s\n", op, sub, rc, err);
        free(err);
        return rc;
}

/* First start: no profile yet; the hook makes it as virt-aa-helper -c would, with the rule. */
static void test_hook_first_start(void **state)
{
        (void)state;
        char *root = host_with_apparmor();
        assert_int_equal(hook(root, hostdev_xml, "prepare", "begin"), 0);
        char *p = tu_read(root, PROFILE_REL);
        char *rule = vh_aa_plan_rule("pv");
        assert_non_null(p);
        tu_assert_contains(p, "profile " PNAME " flags=(attach_disconnected) {");
        tu_assert_contains(p, "  #include <libvirt/" PNAME ".files>");
        tu_assert_contains(p, rule);
        char *path = NULL;
        struct stat st;
        assert_true(asprintf(&path, "%s%s", root, PROFILE_REL) > 0);
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        char *log = tu_read(root, "/var/log/vmhooks/pv.log");
        tu_assert_contains(log, "prepare begin: apparmor: ");
        tu_assert_contains(log, PROFILE_REL ": created from " VH_AA_TEMPLATE " as virt-aa-helper -c would, with ");
        free(log);
        /* prepare again (a second start): nothing written */
        assert_int_equal(hook(root, hostdev_xml, "prepare", "begin"), 0);
        log = tu_read(root, "/var/log/vmhooks/pv.log");
        tu_assert_contains(log, "already allows this guest's plan (read only)");
        free(log);
        /* stop: the rule goes, libvirt's profile stays */
        assert_int_equal(hook(root, hostdev_xml, "stopped", "end"), 0);
        assert_int_equal(hook(root, hostdev_xml, "release", "end"), 0);
        free(p);
        p = tu_read(root, PROFILE_REL);
        assert_null(strstr(p, "vmhooks"));
        tu_assert_contains(p, "  #include <libvirt/" PNAME ".files>");
        log = tu_read(root, "/var/log/vmhooks/pv.log");
        tu_assert_contains(log, "stopped end: apparmor: ");
        tu_assert_contains(log, ": removed this guest's plan rule");
        assert_null(strstr(log, "release end: apparmor:"));
        free(log);
        free(path);
        free(rule);
        free(p);
        tu_rmroot(root);
}

/* A profile libvirt made earlier, with the admin's own rule: both kept, byte for byte after the stop. */
static void test_hook_existing_profile(void **state)
{
        (void)state;
        char *root = host_with_apparmor();
        const char *orig = "#include <tunables/global>\n\nprofile " PNAME " flags=(attach_disconnected) {\n"
                           "  #include <abstractions/libvirt-qemu>\n  #include <libvirt/" PNAME ".files>\n"
                           "  /srv/admin/rule r,\n}\n";
        tu_write(root, PROFILE_REL, orig);
        assert_int_equal(hook(root, hostdev_xml, "prepare", "begin"), 0);
        char *p = tu_read(root, PROFILE_REL);
        tu_assert_contains(p, "  /srv/admin/rule r,\n  \"/run/vmhooks-wrapper/pv.plan\" r, ");
        free(p);
        assert_int_equal(hook(root, hostdev_xml, "release", "end"), 0);
        char *path = NULL;
        assert_true(asprintf(&path, "%s%s", root, PROFILE_REL) > 0);
        p = tu_slurp(path);
        assert_string_equal(p, orig);
        free(p);
        free(path);
        tu_rmroot(root);
}

/* Where libvirt gives the guest no libvirt-UUID profile, nothing is written. */
static void test_hook_not_apparmor(void **state)
{
        (void)state;
        /* no AppArmor in the kernel (these machines) */
        char *root = host_with_apparmor();
        char *k = NULL;
        assert_true(asprintf(&k, "%s%s", root, VH_AA_KERNEL) > 0);
        assert_int_equal(unlink(k), 0);
        free(k);
        assert_int_equal(hook(root, hostdev_xml, "prepare", "begin"), 0);
        assert_false(tu_exists(root, PROFILE_REL));
        char *log = tu_read(root, "/var/log/vmhooks/pv.log");
        assert_null(strstr(log, "apparmor:"));
        free(log);
        tu_rmroot(root);
        /* no PCI host device: no plan, no rule */
        root = host_with_apparmor();
        char *x = tu_domain_xml("pv", UUID, NULL, false, NULL);
        assert_int_equal(hook(root, x, "prepare", "begin"), 0);
        assert_false(tu_exists(root, PROFILE_REL));
        free(x);
        tu_rmroot(root);
        /* <seclabel type='none'>: no profile at all; said once */
        root = host_with_apparmor();
        char *xn = NULL;
        assert_true(asprintf(&xn, "%.*s<seclabel type='none'/></domain>", (int)(strlen(hostdev_xml) - 9),
                             hostdev_xml) > 0);
        assert_int_equal(hook(root, xn, "prepare", "begin"), 0);
        assert_false(tu_exists(root, PROFILE_REL));
        log = tu_read(root, "/var/log/vmhooks/pv.log");
        tu_assert_contains(log, "apparmor: the domain XML has <seclabel type='none'>");
        free(log);
        free(xn);
        tu_rmroot(root);
}

/* What vmhooks did not make safe is not written: a symlink, a profile others may write. */
static void test_hook_untrusted(void **state)
{
        (void)state;
        char *root = host_with_apparmor();
        char *path = NULL, *target = NULL;
        assert_true(asprintf(&path, "%s%s", root, PROFILE_REL) > 0);
        assert_true(asprintf(&target, "%s/elsewhere", root) > 0);
        tu_write(root, "/elsewhere", "profile x {\n}\n");
        assert_int_equal(symlink(target, path), 0);
        assert_int_equal(hook(root, hostdev_xml, "prepare", "begin"), 0); /* the VM starts anyway */
        char *t = tu_slurp(target);
        assert_string_equal(t, "profile x {\n}\n");
        free(t);
        char *log = tu_read(root, "/var/log/vmhooks/pv.log");
        tu_assert_contains(log, "error: AppArmor: this guest's plan cannot be allowed in its profile: ");
        tu_assert_contains(log, "is a symlink");
        free(log);
        assert_int_equal(unlink(path), 0);
        /* writable by others */
        tu_write(root, PROFILE_REL, "profile " PNAME " {\n}\n");
        assert_int_equal(chmod(path, 0666), 0);
        assert_int_equal(hook(root, hostdev_xml, "prepare", "begin"), 0);
        t = tu_slurp(path);
        assert_null(strstr(t, "vmhooks"));
        free(t);
        free(target);
        free(path);
        tu_rmroot(root);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_rule),
                cmocka_unit_test(test_profile_name),
                cmocka_unit_test(test_from_template),
                cmocka_unit_test(test_add_remove),
                cmocka_unit_test(test_hook_first_start),
                cmocka_unit_test(test_hook_existing_profile),
                cmocka_unit_test(test_hook_not_apparmor),
                cmocka_unit_test(test_hook_untrusted),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
