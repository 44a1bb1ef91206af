/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sVirt verification at `started begin`: every outcome (match, mismatch,
 * unconfined, duplicate MCS, the same category twice, permissive host,
 * SELinux disabled, seclabel none, baselabel) under each mode, and the
 * reading of a QEMU label from a fake /proc.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "svirt.h"
#include "util.h"

#define LABEL "system_u:system_r:svirt_t:s0:c12,c345"

static vh_domain *dom_with(const char *seclabel)
{
        char *xml = NULL;
        assert_true(asprintf(&xml,
                             "<domain type='kvm' id='3'><name>g1</name><uuid>u1</uuid><memory>65536</memory>"
                             "%s<seclabel type='dynamic' model='dac' relabel='yes'><label>+64055:+64055</label>"
                             "</seclabel></domain>",
                             seclabel) > 0);
        vh_domain *d = NULL;
        vh_error *e = NULL;
        if (vh_domain_parse(xml, strlen(xml), "test XML", &d, &e) < 0)
                fail_msg("%s", vh_error_msg(e));
        free(xml);
        return d;
}

static vh_domain *dom_dynamic(void)
{
        return dom_with("<seclabel type='dynamic' model='selinux' relabel='yes'><label>" LABEL "</label>"
                        "<imagelabel>system_u:object_r:svirt_image_t:s0:c12,c345</imagelabel></seclabel>");
}

/* Judge `found` for dom under mode; returns the one result (caller frees r). */
static const vh_result *judge(vh_domain *d, vh_svirt_mode mode, bool enforcing, const char *found,
                              const vh_svirt_peer *peers, size_t n, vh_results *r)
{
        vh_svirt_facts f = { .selinux = true, .enforcing = enforcing, .pid = 4242, .label = (char *)found };
        assert_int_equal(vh_svirt_judge(d, mode, &f, peers, n, r), 0);
        assert_int_equal(r->n, 1);
        assert_string_equal(r->items[0].check, "svirt");
        return &r->items[0];
}

static void expect_violation(const vh_result *x, bool enforce, const char *found, const char *expected,
                             const char *why)
{
        char *msg = NULL;
        assert_true(asprintf(&msg, "QEMU of VM g1 (PID 4242) runs as %s, expected %s: %s", found, expected, why) > 0);
        assert_string_equal(x->message, msg);
        assert_int_equal(x->refuse, enforce);
        assert_int_equal(x->level, enforce ? VH_LEVEL_FAIL : VH_LEVEL_WARN);
        free(msg);
}

static void test_match(void **state)
{
        (void)state;
        vh_domain *d = dom_dynamic();
        vh_results r = { 0 };
        const vh_svirt_peer peers[] = { { "g2", "system_u:system_r:svirt_t:s0:c12,c346" }, { "g3", NULL } };
        const vh_result *x = judge(d, VH_SVIRT_ENFORCE, true, LABEL, peers, 2, &r);
        assert_int_equal(x->level, VH_LEVEL_PASS);
        assert_string_equal(x->message, "QEMU of VM g1 (PID 4242) runs confined as " LABEL " (SELinux enforcing)");
        vh_results_done(&r);
        /* svirt_tcg_t (TCG guests) is the other accepted type */
        vh_domain_free(d);
        d = dom_with("<seclabel type='dynamic' model='selinux'><label>system_u:system_r:svirt_tcg_t:s0:c1,c2</label>"
                     "</seclabel>");
        x = judge(d, VH_SVIRT_ENFORCE, true, "system_u:system_r:svirt_tcg_t:s0:c1,c2", NULL, 0, &r);
        assert_int_equal(x->level, VH_LEVEL_PASS);
        vh_results_done(&r);
        vh_domain_free(d);
}

static void test_mismatch(void **state)
{
        (void)state;
        vh_domain *d = dom_dynamic();
        vh_results r = { 0 };
        const char *found = "system_u:system_r:svirt_t:s0:c12,c999";
        expect_violation(judge(d, VH_SVIRT_ENFORCE, true, found, NULL, 0, &r), true, found, LABEL,
                         "it differs from the domain XML's <label>");
        vh_results_done(&r);
        expect_violation(judge(d, VH_SVIRT_WARN, true, found, NULL, 0, &r), false, found, LABEL,
                         "it differs from the domain XML's <label>");
        vh_results_done(&r);
        /* off: nothing is judged */
        vh_svirt_facts f = { .selinux = true, .enforcing = true, .pid = 1, .label = (char *)found };
        assert_int_equal(vh_svirt_judge(d, VH_SVIRT_OFF, &f, NULL, 0, &r), 0);
        assert_int_equal(r.n, 0);
        vh_domain_free(d);
}

static void test_unconfined(void **state)
{
        (void)state;
        vh_domain *d = dom_dynamic();
        vh_results r = { 0 };
        const char *found = "unconfined_u:unconfined_r:unconfined_t:s0-s0:c0.c1023";
        expect_violation(judge(d, VH_SVIRT_ENFORCE, true, found, NULL, 0, &r), true, found, LABEL,
                         "type unconfined_t is not svirt_t or svirt_tcg_t (QEMU is unconfined); MCS range "
                         "s0-s0:c0.c1023: not an MCS level sN:cA,cB; it differs from the domain XML's <label>");
        vh_results_done(&r);
        vh_domain_free(d);
}

static void test_duplicate_mcs(void **state)
{
        (void)state;
        vh_domain *d = dom_dynamic();
        vh_results r = { 0 };
        /* the same categories in the other order are the same MCS */
        const vh_svirt_peer peers[] = { { "g0", "garbage" }, { "g2", "system_u:system_r:svirt_t:s0:c345,c12" } };
        expect_violation(judge(d, VH_SVIRT_ENFORCE, true, LABEL, peers, 2, &r), true, LABEL, LABEL,
                         "MCS s0:c12,c345 is also used by running VM g2");
        vh_results_done(&r);
        vh_domain_free(d);
}

static void test_same_category_twice(void **state)
{
        (void)state;
        const char *l = "system_u:system_r:svirt_t:s0:c7,c7";
        vh_domain *d = dom_with("<seclabel type='static' model='selinux' relabel='yes'><label>system_u:system_r:"
                                "svirt_t:s0:c7,c7</label></seclabel>");
        vh_results r = { 0 };
        expect_violation(judge(d, VH_SVIRT_ENFORCE, true, l, NULL, 0, &r), true, l, l,
                         "MCS range s0:c7,c7: the same category twice");
        vh_results_done(&r);
        vh_domain_free(d);
}

static void test_permissive_and_disabled(void **state)
{
        (void)state;
        vh_domain *d = dom_dynamic();
        vh_results r = { 0 };
        const vh_result *x = judge(d, VH_SVIRT_ENFORCE, false, LABEL, NULL, 0, &r);
        expect_violation(x, true, LABEL, LABEL, "SELinux is not enforcing (/sys/fs/selinux/enforce is not 1)");
        tu_assert_contains(x->fix, "setenforce 1");
        vh_results_done(&r);
        /* disabled: no label to read either */
        vh_svirt_facts f = { .selinux = false, .pid = 4242, .why = (char *)"cannot read /proc/4242/attr/current: "
                                                                             "Invalid argument" };
        assert_int_equal(vh_svirt_judge(d, VH_SVIRT_ENFORCE, &f, NULL, 0, &r), 0);
        expect_violation(&r.items[0], true, "(unknown)", LABEL,
                         "SELinux is disabled (no /sys/fs/selinux/enforce); cannot read /proc/4242/attr/current: "
                         "Invalid argument");
        vh_results_done(&r);
        vh_domain_free(d);
}

static void test_seclabel_none(void **state)
{
        (void)state;
        vh_domain *d = dom_with("<seclabel type='none' model='selinux'/>");
        vh_results r = { 0 };
        const char *found = "system_u:system_r:svirt_t:s0:c1,c2";
        expect_violation(judge(d, VH_SVIRT_ENFORCE, true, found, NULL, 0, &r), true, found,
                         "a label with type svirt_t or svirt_tcg_t and two distinct MCS categories",
                         "the domain XML has <seclabel type=\"none\">");
        vh_results_done(&r);
        vh_domain_free(d);
        /* a host without SELinux labels: only the DAC seclabel */
        d = dom_with("");
        expect_violation(judge(d, VH_SVIRT_WARN, true, found, NULL, 0, &r), false, found,
                         "a label with type svirt_t or svirt_tcg_t and two distinct MCS categories",
                         "the domain XML has no SELinux <seclabel>");
        vh_results_done(&r);
        vh_domain_free(d);
}

static void test_baselabel(void **state)
{
        (void)state;
        const char *l = "system_u:system_r:svirt_custom_t:s0:c3,c4";
        vh_domain *d = dom_with("<seclabel type='dynamic' model='selinux'><baselabel>system_u:system_r:svirt_custom_t:"
                                "s0</baselabel><label>system_u:system_r:svirt_custom_t:s0:c3,c4</label></seclabel>");
        vh_results r = { 0 };
        assert_int_equal(judge(d, VH_SVIRT_ENFORCE, true, l, NULL, 0, &r)->level, VH_LEVEL_PASS);
        vh_results_done(&r);
        vh_domain_free(d);
}

static void test_mcs_parse(void **state)
{
        (void)state;
        static const struct {
                const char *range, *mcs, *why;
        } cases[] = {
                { "s0:c1,c2", "s0:c1,c2", NULL },
                { "s0:c1023,c0", "s0:c0,c1023", NULL },
                { "s0:c5,c5", NULL, "the same category twice" },
                { "s0:c0.c1023", NULL, "a category range, not two categories" },
                { "s0:c1", NULL, "one category, not two" },
                { "s0:c1,c2,c3", NULL, "more than two categories" },
                { "s0", NULL, "no MCS categories" },
                { "s0:c1,c1024", NULL, "categories are not cN,cM" },
                { "s0:c1,x2", NULL, "categories are not cN,cM" },
                { "t0:c1,c2", NULL, "not an MCS level sN:cA,cB" },
                { NULL, NULL, "no MCS range" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *why = NULL;
                char *m = vh_svirt_mcs(cases[i].range, &why);
                if (cases[i].mcs) {
                        assert_non_null(m);
                        assert_string_equal(m, cases[i].mcs);
                } else {
                        assert_null(m);
                        assert_string_equal(why, cases[i].why);
                }
                free(m);
        }
        vh_secctx c = { 0 };
        assert_int_equal(vh_secctx_parse(LABEL, &c), 0);
        assert_string_equal(c.user, "system_u");
        assert_string_equal(c.role, "system_r");
        assert_string_equal(c.type, "svirt_t");
        assert_string_equal(c.range, "s0:c12,c345");
        vh_secctx_done(&c);
        assert_int_equal(vh_secctx_parse("unconfined_u:unconfined_r:unconfined_t", &c), 0);
        assert_null(c.range);
        vh_secctx_done(&c);
        assert_int_equal(vh_secctx_parse("libvirt-u1 (enforce)", &c), -EINVAL); /* an AppArmor label */
        assert_int_equal(vh_secctx_parse("", &c), -EINVAL);
}

#define READ_UUID "c7a5fdbd-edaf-9455-926a-d65c16db1809"

/* Reading the label: the kernel ends it with a NUL; a missing pidfile is a reason, not an error. */
static void test_read(void **state)
{
        const char *root = *state;
        vh_svirt_facts f = { 0 };
        assert_int_equal(vh_svirt_read("g1", READ_UUID, &f, NULL), 0);
        assert_false(f.selinux);
        assert_int_equal(f.pid, 0);
        assert_null(f.label);
        tu_assert_contains(f.why, "/run/libvirt/qemu/g1.pid");
        vh_svirt_facts_done(&f);

        tu_write(root, "/sys/fs/selinux/enforce", "1");
        tu_write(root, "/run/libvirt/qemu/g1.pid", "4242\n");
        static const char cmdline[] = "/usr/bin/qemu-system-x86_64\0-name\0guest=g1,debug-threads=on\0-uuid\0"
                                      READ_UUID "\0-S";
        tu_write_bytes(root, "/proc/4242/cmdline", cmdline, sizeof(cmdline));
        char *path = NULL;
        assert_true(asprintf(&path, "%s/proc/4242/attr/current", root) > 0);
        tu_write(root, "/proc/4242/attr/current", "");
        FILE *fp = fopen(path, "we");
        assert_non_null(fp);
        assert_int_equal(fwrite(LABEL, 1, sizeof(LABEL), fp), sizeof(LABEL)); /* with its NUL */
        fclose(fp);
        free(path);
        assert_int_equal(vh_svirt_read("g1", READ_UUID, &f, NULL), 0);
        assert_true(f.selinux && f.enforcing);
        assert_int_equal(f.pid, 4242);
        assert_string_equal(f.label, LABEL);
        assert_null(f.why);
        vh_svirt_facts_done(&f);

        tu_write(root, "/sys/fs/selinux/enforce", "0");
        tu_write(root, "/proc/4242/attr/current", "");
        assert_int_equal(vh_svirt_read("g1", READ_UUID, &f, NULL), 0);
        assert_true(f.selinux);
        assert_false(f.enforcing);
        assert_null(f.label);
        tu_assert_contains(f.why, "/proc/4242/attr/current is empty");
        vh_svirt_facts_done(&f);
}

/* Is the pidfile's PID the VM's QEMU?  Its command line has libvirt's "-uuid UUID". */
static void test_cmdline_check(void **state)
{
        (void)state;
        static const struct {
                const char *what;
                const char *cmd;
                size_t len;
                const char *why; /* NULL: it is */
        } cases[] = {
#define C(what, s, why) { what, s, sizeof(s), why }
#define C_NONUL(what, s, why) { what, s, sizeof(s) - 1, why }
                C("libvirt's", "/usr/bin/qemu-system-x86_64\0-name\0guest=g1,debug-threads=on\0-uuid\0" READ_UUID
                  "\0-S", NULL),
                C("upper case", "qemu\0-uuid\0C7A5FDBD-EDAF-9455-926A-D65C16DB1809", NULL),
                C_NONUL("last, without its NUL", "qemu\0-uuid\0" READ_UUID, NULL),
                C("another VM", "qemu\0-uuid\0c7a5fdbd-edaf-9455-926a-d65c16db1808", "another -uuid"),
                C("a longer uuid", "qemu\0-uuid\0" READ_UUID "0", "another -uuid"),
                C("a shorter uuid", "qemu\0-uuid\0c7a5fdbd-edaf-9455-926a-d65c16db180", "another -uuid"),
                C("-uuid without a value", "qemu\0-S\0-uuid", "no -uuid"),
                C("the uuid elsewhere", "qemu\0-name\0" READ_UUID, "no -uuid"),
                C("-uuidX", "qemu\0-uuidX\0" READ_UUID, "no -uuid"),
                C("another program", "/usr/sbin/sshd\0-D", "no -uuid"),
                { "empty (zombie)", "", 0, "empty" },
#undef C
#undef C_NONUL
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const char *why = NULL;
                int r = vh_svirt_cmdline_check(cases[i].cmd, cases[i].len, READ_UUID, &why);
                if (!cases[i].why) {
                        if (r != 0)
                                fail_msg("%s: %d %s", cases[i].what, r, why);
                } else {
                        if (r != -ESRCH)
                                fail_msg("%s: accepted", cases[i].what);
                        tu_assert_contains(why, cases[i].why);
                }
        }
        /* no uuid to look for: never QEMU of this VM */
        const char *why = NULL;
        assert_int_equal(vh_svirt_cmdline_check("qemu\0-uuid\0x", 12, NULL, &why), -ESRCH);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_match),
                cmocka_unit_test(test_mismatch),
                cmocka_unit_test(test_unconfined),
                cmocka_unit_test(test_duplicate_mcs),
                cmocka_unit_test(test_same_category_twice),
                cmocka_unit_test(test_permissive_and_disabled),
                cmocka_unit_test(test_seclabel_none),
                cmocka_unit_test(test_baselabel),
                cmocka_unit_test(test_mcs_parse),
                cmocka_unit_test_setup_teardown(test_read, tu_setup_root, tu_teardown_root),
                cmocka_unit_test(test_cmdline_check),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
