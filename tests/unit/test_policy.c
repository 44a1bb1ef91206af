/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The policy vocabulary: parsing, errors, merge, and agreement with the schema. */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "policy.h"
#include "root.h"
#include "xml.h"

#define NS "xmlns=\"urn:vmhooks:policy:1\""

static int apply(vh_policy *p, const char *xml, const char *where, bool host, vh_error **e)
{
        xmlDocPtr doc = NULL;
        int r = vh_xml_parse(xml, strlen(xml), where, &doc, e);
        if (r < 0)
                return r;
        r = vh_policy_apply(p, xmlDocGetRootElement(doc), where, host, e);
        xmlFreeDoc(doc);
        return r;
}

static void test_full_vocabulary(void **state)
{
        (void)state;
        vh_policy p = { 0 };
        vh_error *e = NULL;
        const char *xml = "<policy " NS ">\n"
                          "  <thp mode=\"auto\"/>\n  <halt-poll ns=\"400000\"/>\n"
                          "  <kworkers isolate=\"yes\" cpus=\"2-5\"/>\n  <svirt mode=\"enforce\"/>\n"
                          "  <msix-relocation bar=\"bar2\" devices=\"nvme 126f:2262,0000:81:00.1\"/>\n"
                          "  <iothreads count=\"auto\" cpuset=\"0-1\"/>\n  <hugepages size=\"1G\"/>\n"
                          "  <dedicated-hint/>  <pvspinlock/>  <vtpm version=\"2.0\"/>\n"
                          "  <disk-io cache=\"none\" io=\"native\"/>\n"
                          "  <guest-agent block-rpcs=\"guest-exec,guest-file-open\"/>\n"
                          "  <on-error action=\"refuse\"/>\n  <wrapper emulator=\"/usr/libexec/qemu-kvm\"/>\n"
                          "</policy>\n";
        assert_int_equal(apply(&p, xml, "/etc/vmhooks/policy.xml", true, &e), 0);
        assert_null(e);
        assert_int_equal(p.thp, VH_THP_AUTO);
        assert_int_equal(p.halt_poll_ns, 400000);
        assert_true(p.kworkers_isolate && p.has_kworkers_cpus);
        assert_int_equal(p.svirt, VH_SVIRT_ENFORCE);
        assert_string_equal(p.msix_bar, "bar2");
        assert_string_equal(p.msix_devices, "nvme 126f:2262,0000:81:00.1");
        assert_true(p.iothreads_auto);
        assert_int_equal(p.hugepages_kib, 1048576);
        assert_true(vh_policy_on(&p, VH_P_DEDICATED_HINT) && vh_policy_on(&p, VH_P_PVSPINLOCK));
        assert_string_equal(p.vtpm_version, "2.0");
        assert_string_equal(p.disk_cache, "none");
        assert_string_equal(p.disk_io, "native");
        assert_int_equal(p.on_error, VH_ON_ERROR_REFUSE);
        assert_string_equal(p.wrapper_emulator, "/usr/libexec/qemu-kvm");
        char *d = vh_policy_describe(&p);
        tu_assert_contains(d, "thp auto, halt-poll 400000, kworkers isolate=yes cpus=2-5");
        free(d);
        vh_policy_done(&p);
}

/* <hugepage-pool/> alone: allocate and compact, no drop-caches, the default margin; each attribute read. */
static void test_hugepage_pool(void **state)
{
        (void)state;
        vh_policy p = { 0 };
        vh_error *e = NULL;
        assert_int_equal(apply(&p, "<policy " NS "><hugepage-pool/></policy>", "/etc/vmhooks/policy.xml", true, &e), 0);
        assert_true(vh_policy_on(&p, VH_P_HUGEPOOL));
        assert_true(p.hugepool_allocate && p.hugepool_compact && !p.hugepool_drop_caches);
        assert_int_equal(p.hugepool_margin_kib, VH_HUGEPOOL_DEFAULT_MARGIN_KIB);
        vh_policy_done(&p);
        assert_int_equal(apply(&p, "<policy " NS "><hugepage-pool allocate=\"no\" compact=\"no\" drop-caches=\"yes\" "
                                   "margin=\"2G\"/></policy>", "metadata of VM a", false, &e), 0);
        assert_true(!p.hugepool_allocate && !p.hugepool_compact && p.hugepool_drop_caches);
        assert_int_equal(p.hugepool_margin_kib, 2ull * 1024 * 1024);
        char *d = vh_policy_describe(&p);
        tu_assert_contains(d, "hugepage-pool allocate=no compact=no drop-caches=yes margin=2048M");
        free(d);
        vh_policy_done(&p);
        assert_int_equal(apply(&p, "<policy " NS "><hugepage-pool margin=\"64K\"/></policy>", "t", true, &e), 0);
        assert_int_equal(p.hugepool_margin_kib, 64);
        vh_policy_done(&p);
        /* the shipped policy leaves it off: a fresh install changes no pool */
        char *shipped = tu_slurp("etc/policy.xml");
        assert_non_null(shipped);
        assert_int_equal(apply(&p, shipped, "etc/policy.xml", true, &e), 0);
        assert_false(vh_policy_on(&p, VH_P_HUGEPOOL));
        free(shipped);
        vh_policy_done(&p);
}

/* Every bad input: one line naming the source, the element and what is expected. */
static void test_errors_name_file_element_expectation(void **state)
{
        (void)state;
        static const struct {
                const char *xml, *needle;
        } cases[] = {
                { "<policy " NS "><thp mode=\"sometimes\"/></policy>",
                  "line 1: <thp mode=\"sometimes\">: expected one of auto, madvise, always, never" },
                { "<policy " NS "><thp/></policy>", "<thp>: expected attribute mode=" },
                { "<policy " NS "><halt-poll ns=\"-1\"/></policy>",
                  "<halt-poll ns=\"-1\">: expected nanoseconds, an integer from 0 to 4294967295" },
                { "<policy " NS "><halt-poll ns=\"99999999999999999999\"/></policy>", "<halt-poll ns=" },
                { "<policy " NS "><halt-poll ns=\"4294967296\"/></policy>", "expected nanoseconds" },
                { "<policy " NS "><kworkers isolate=\"maybe\"/></policy>", "<kworkers isolate=\"maybe\">: expected one of no, yes" },
                { "<policy " NS "><kworkers isolate=\"yes\" cpus=\"x\"/></policy>", "<kworkers cpus=\"x\">: expected a cpulist such as \"2-5,8\"" },
                { "<policy " NS "><kworkers isolate=\"yes\" cpus=\"3-1\"/></policy>", "<kworkers cpus=\"3-1\">: expected a cpulist whose ranges go upwards" },
                { "<policy " NS "><kworkers isolate=\"yes\" cpus=\"1,^1\"/></policy>", "names at least one CPU" },
                { "<policy " NS "><thp mode=\" never\"/></policy>", "<thp mode=\" never\">: expected one of" },
                { "<policy " NS "><halt-poll ns=\" 5\"/></policy>", "<halt-poll ns=\" 5\">: expected nanoseconds" },
                { "<policy " NS "><msix-relocation devices=\"nvme,\"/></policy>", "<msix-relocation devices=\"nvme,\">" },
                { "<policy " NS "><guest-agent block-rpcs=\",guest-exec\"/></policy>", "<guest-agent block-rpcs=" },
                { "<policy " NS "><thp mode=\"never\">x</thp></policy>", "<thp>: expected no text inside the element" },
                { "<policy " NS "><frobnicate/></policy>", "unknown element <frobnicate>; expected one of thp, halt-poll" },
                { "<policy " NS "><thp mode=\"never\" colour=\"red\"/></policy>", "<thp>: unknown attribute colour; expected mode, defrag, enabled" },
                { "<policy " NS "><thp mode=\"never\"/><thp mode=\"always\"/></policy>", "<thp> given twice" },
                { "<policy " NS "><iothreads count=\"65\"/></policy>", "<iothreads count=\"65\">: expected \"auto\" or a number from 1 to 64" },
                { "<policy " NS "><msix-relocation devices=\"nvme,zz\"/></policy>", "<msix-relocation devices=\"nvme,zz\">" },
                { "<policy " NS "><msix-relocation bar=\"bar9\"/></policy>", "<msix-relocation bar=\"bar9\">: expected one of auto, bar0" },
                { "<policy " NS "><thp enabled=\"no\" mode=\"never\"/></policy>", "no other attributes with enabled=\"no\"" },
                { "<policy " NS "><thp enabled=\"perhaps\" mode=\"never\"/></policy>", "<thp enabled=\"perhaps\">: expected yes or no" },
                { "<policy " NS "><disk-io/></policy>", "<disk-io>: expected attribute cache= or io=" },
                { "<policy " NS "><wrapper emulator=\"qemu\"/></policy>", "<wrapper emulator=\"qemu\">: expected an absolute path" },
                { "<policy " NS "><thp mode=\"never\"><x/></thp></policy>", "<thp>: expected an empty element" },
                { "<policy " NS ">text</policy>", "unexpected text" },
                { "<policy xmlns=\"urn:other\"/>", "root element <policy>: expected <policy xmlns=\"urn:vmhooks:policy:1\">" },
                { "<rules " NS "/>", "root element <rules>" },
                { "<policy " NS "><thp mode=\"never\">", "line 1:" }, /* not well-formed */
                { "<policy " NS "><hugepage-pool margin=\"5T\"/></policy>",
                  "<hugepage-pool margin=\"5T\">: expected a size such as \"512M\"" },
                { "<policy " NS "><hugepage-pool drop-caches=\"1\"/></policy>",
                  "<hugepage-pool drop-caches=\"1\">: expected one of no, yes" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                vh_policy p = { 0 };
                vh_error *e = NULL;
                assert_true(apply(&p, cases[i].xml, "/etc/vmhooks/policy.xml", true, &e) < 0);
                assert_non_null(e);
                tu_assert_contains(e->msg, "/etc/vmhooks/policy.xml: ");
                tu_assert_contains(e->msg, cases[i].needle);
                assert_null(strchr(e->msg, '\n'));
                assert_int_equal(p.present, 0); /* nothing applied */
                vh_error_free(e);
                vh_policy_done(&p);
        }
}

/*
 * A typo in a policy file is reported at its own line: the first error
 * libxml2 finds, and for a tag left open, the line of that tag (not
 * "line 37: Premature end of data in tag policy line 12").
 */
static void test_malformed_file_right_line(void **state)
{
        (void)state;
        /* the shipped policy with one typo on line 16 */
        static const struct {
                const char *from, *to, *needle;
        } typos[] = {
                { "<thp mode=\"auto\"/>", "<thp mode=\"auto\">",
                  "/etc/vmhooks/policy.xml: line 16: <thp> is not closed before </policy> on line 35: expected "
                  "<thp .../> or </thp>" },
                { "<thp mode=\"auto\"/>", "<thp mode=auto/>", "/etc/vmhooks/policy.xml: line 16: " },
                { "<thp mode=\"auto\"/>", "<thp mode=\"auto\"/", "/etc/vmhooks/policy.xml: line 16: " },
                { "<thp mode=\"auto\"/>", "<thp mode=\"auto\"/></thp>", "before </thp> on line 16" },
        };
        char *text = tu_slurp("etc/policy.xml");
        assert_non_null(text);
        for (size_t i = 0; i < sizeof(typos) / sizeof(typos[0]); i++) {
                char *at = strstr(text, typos[i].from);
                assert_non_null(at);
                char *bad = NULL;
                assert_true(asprintf(&bad, "%.*s%s%s", (int)(at - text), text, typos[i].to,
                                     at + strlen(typos[i].from)) > 0);
                vh_policy p = { 0 };
                vh_error *e = NULL;
                assert_true(apply(&p, bad, "/etc/vmhooks/policy.xml", true, &e) < 0);
                tu_assert_contains(e->msg, typos[i].needle);
                assert_null(strstr(e->msg, "line 35: Premature"));
                assert_null(strchr(e->msg, '\n'));
                vh_error_free(e);
                vh_policy_done(&p);
                free(bad);
        }
        free(text);
}

/* Metadata: the line within the <policy> element, and the message says so. */
static void test_metadata_line_within_policy(void **state)
{
        (void)state;
        const char *dom = "<domain type='kvm'>\n  <name>web1</name>\n  <metadata>\n"
                          "    <vmhooks:policy xmlns:vmhooks=\"urn:vmhooks:policy:1\">\n"
                          "      <vmhooks:thp mode=\"never\"/>\n"
                          "      <vmhooks:halt-poll ns=\"-3\"/>\n"
                          "    </vmhooks:policy>\n  </metadata>\n</domain>\n";
        xmlDocPtr doc = NULL;
        vh_error *e = NULL;
        assert_int_equal(vh_xml_parse(dom, strlen(dom), "t", &doc, &e), 0);
        xmlNodePtr meta = vh_xml_child(xmlDocGetRootElement(doc), "metadata");
        xmlNodePtr pol = vh_xml_child(meta, "policy");
        assert_non_null(pol);
        vh_policy p = { 0 };
        assert_true(vh_policy_apply(&p, pol, "metadata of VM web1", false, &e) < 0);
        assert_string_equal(e->msg, "metadata of VM web1: line 3 of the <policy> element: <halt-poll ns=\"-3\">: "
                                    "expected nanoseconds, an integer from 0 to 4294967295");
        vh_error_free(e);
        e = NULL;
        /* and where each element came from, for `vmhooks policy` */
        xmlNodePtr bad = vh_xml_next_element(vh_xml_first_element(pol));
        xmlUnlinkNode(bad);
        xmlFreeNode(bad);
        assert_int_equal(vh_policy_apply(&p, pol, "metadata of VM web1", false, &e), 0);
        assert_true((p.from_vm >> VH_P_THP) & 1);
        assert_int_equal(p.line[VH_P_THP], 2);
        vh_policy_done(&p);
        xmlFreeDoc(doc);
}

static void test_host_only_in_metadata(void **state)
{
        (void)state;
        vh_policy p = { 0 };
        vh_error *e = NULL;
        assert_true(apply(&p, "<policy " NS "><wrapper emulator=\"/bin/x\"/></policy>", "metadata of VM web1", false,
                          &e) < 0);
        tu_assert_contains(e->msg, "metadata of VM web1: line 1 of the <policy> element: <wrapper>: allowed only in /etc/vmhooks/policy.xml");
        vh_error_free(e);
        vh_policy_done(&p);
}

/* The VM's elements replace the host's, element by element; enabled="no" switches one off. */
static void test_merge_element_by_element(void **state)
{
        (void)state;
        vh_policy p = { 0 };
        vh_error *e = NULL;
        assert_int_equal(apply(&p, "<policy " NS "><thp mode=\"auto\"/><halt-poll ns=\"100\"/>"
                                   "<kworkers isolate=\"yes\" cpus=\"1\"/><on-error action=\"refuse\"/></policy>",
                               "host", true, &e), 0);
        assert_int_equal(apply(&p, "<policy " NS "><halt-poll ns=\"500\"/><kworkers enabled=\"no\"/>"
                                   "<svirt mode=\"warn\"/></policy>",
                               "vm", false, &e), 0);
        assert_null(e);
        assert_int_equal(p.thp, VH_THP_AUTO);           /* host's, untouched */
        assert_int_equal(p.halt_poll_ns, 500);          /* VM's */
        assert_false(vh_policy_on(&p, VH_P_KWORKERS));  /* switched off */
        assert_true((p.present >> VH_P_KWORKERS) & 1);
        assert_false(p.has_kworkers_cpus);
        assert_int_equal(p.svirt, VH_SVIRT_WARN);       /* VM only */
        assert_int_equal(p.on_error, VH_ON_ERROR_REFUSE);
        /* a failed apply leaves the policy as it was */
        assert_true(apply(&p, "<policy " NS "><halt-poll ns=\"7\"/><thp mode=\"bad\"/></policy>", "vm", false, &e) < 0);
        assert_int_equal(p.halt_poll_ns, 500);
        vh_error_free(e);
        vh_policy_done(&p);
}

/* virsh metadata --set leaves the children without a namespace: accepted. */
static void test_prefixed_root_bare_children(void **state)
{
        (void)state;
        vh_policy p = { 0 };
        vh_error *e = NULL;
        assert_int_equal(apply(&p, "<vmhooks:policy xmlns:vmhooks=\"urn:vmhooks:policy:1\"><thp mode=\"never\"/>"
                                   "</vmhooks:policy>", "vm", false, &e), 0);
        assert_int_equal(p.thp, VH_THP_NEVER);
        /* and a child in a foreign namespace is not ours */
        assert_true(apply(&p, "<policy " NS " xmlns:o=\"urn:x\"><o:thp mode=\"never\"/></policy>", "vm", false, &e) < 0);
        tu_assert_contains(e->msg, "unknown element <thp>");
        vh_error_free(e);
        vh_policy_done(&p);
}

/* The typed parser and the RelaxNG schema judge every sample alike. */
static void test_schema_agrees(void **state)
{
        (void)state;
        static const char *const samples[] = {
                "<thp mode=\"never\"/>", "<thp mode=\"x\"/>", "<thp enabled=\"no\"/>", "<thp enabled=\"yes\" mode=\"always\"/>",
                "<halt-poll ns=\"0\"/>", "<halt-poll ns=\"4294967295\"/>", "<halt-poll ns=\"4294967296\"/>",
                "<halt-poll ns=\"+5\"/>", "<halt-poll ns=\"\"/>", "<kworkers isolate=\"no\"/>",
                "<kworkers isolate=\"yes\" cpus=\"0-3,^2\"/>", "<kworkers isolate=\"yes\" cpus=\"a\"/>",
                "<svirt mode=\"enforce\"/>", "<svirt/>", "<msix-relocation/>", "<msix-relocation devices=\"all\"/>",
                "<msix-relocation devices=\"81:00.0\"/>", "<msix-relocation devices=\"8086:f1a6 nvme\"/>",
                "<msix-relocation devices=\"\"/>", "<iothreads count=\"1\"/>", "<iothreads count=\"0\"/>",
                "<iothreads count=\"64\" cpuset=\"1\"/>", "<hugepages size=\"2M\"/>", "<hugepages size=\"4M\"/>",
                "<dedicated-hint/>", "<dedicated-hint x=\"1\"/>", "<pvspinlock enabled=\"no\"/>", "<vtpm/>",
                "<vtpm version=\"1.2\"/>", "<disk-io cache=\"none\"/>", "<disk-io io=\"io_uring\"/>",
                "<disk-io cache=\"fast\"/>", "<guest-agent block-rpcs=\"guest-exec\"/>",
                "<guest-agent block-rpcs=\"Guest\"/>", "<on-error action=\"refuse\"/>", "<on-error/>",
                "<on-error enabled=\"no\"/>", "<wrapper emulator=\"/usr/bin/qemu\"/>", "<wrapper emulator=\"rel\"/>",
                "<thp mode=\"never\"/><thp mode=\"never\"/>", "<nope/>", "",
                /* found by tests/fuzz/fuzz_policy_diff.c */
                "<disk-io/>", "<thp mode=\" never\"/>", "<thp enabled=\" no\"/>", "<halt-poll ns=\" 5\"/>",
                "<halt-poll ns=\"5 \"/>", "<iothreads count=\" 8\"/>", "<kworkers isolate=\"yes\" cpus=\"^2-3\"/>",
                "<kworkers isolate=\"yes\" cpus=\"65536\"/>", "<kworkers isolate=\"yes\" cpus=\" 1\"/>",
                "<kworkers isolate=\"yes\" cpus=\"007\"/>", "<msix-relocation devices=\"0x12:0x34\"/>",
                "<msix-relocation devices=\"nvme,\"/>", "<msix-relocation devices=\",nvme\"/>",
                "<msix-relocation devices=\"nvme,all\"/>", "<msix-relocation devices=\"00:20.0\"/>",
                "<msix-relocation devices=\"all nvme\"/>", "<guest-agent block-rpcs=\"guest-exec,\"/>",
                "<guest-agent block-rpcs=\" \"/>", "<wrapper emulator=\"/usr/bin/qemu&#13;x\"/>",
                "<thp mode=\"never\">x</thp>", "<dedicated-hint>x</dedicated-hint>", "<dedicated-hint>  </dedicated-hint>",
                "<hugepage-pool/>", "<hugepage-pool allocate=\"no\" margin=\"1G\"/>", "<hugepage-pool margin=\"512\"/>",
                "<hugepage-pool margin=\"1T\"/>", "<hugepage-pool drop-caches=\"maybe\"/>",
                "<hugepage-pool margin=\"1234567890M\"/>", "<hugepage-pool margin=\"0M\" compact=\"no\"/>",
                "<hugepage-pool enabled=\"no\"/>", "<hugepage-pool size=\"2M\"/>", "<hugepage-pool margin=\" 5M\"/>",
        };
        for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
                char *xml = NULL;
                assert_true(asprintf(&xml, "<policy " NS ">%s</policy>", samples[i]) > 0);
                xmlDocPtr doc = NULL;
                assert_int_equal(vh_xml_parse(xml, strlen(xml), "t", &doc, NULL), 0);
                vh_error *e1 = NULL, *e2 = NULL;
                vh_policy p = { 0 };
                bool typed = vh_policy_apply(&p, xmlDocGetRootElement(doc), "t", true, &e1) == 0;
                bool schema = vh_policy_validate_schema(xmlDocGetRootElement(doc), "t", &e2) == 0;
                if (typed != schema)
                        fail_msg("%s: typed parser %s, schema %s (%s / %s)", samples[i], typed ? "accepts" : "rejects",
                                 schema ? "accepts" : "rejects", vh_error_msg(e1), vh_error_msg(e2));
                vh_error_free(e1);
                vh_error_free(e2);
                vh_policy_done(&p);
                xmlFreeDoc(doc);
                free(xml);
        }
}

static void test_shipped_policy_is_valid_and_safe(void **state)
{
        char *root = *state;
        char *shipped = tu_slurp("etc/policy.xml");
        assert_non_null(shipped);
        tu_write(root, "/etc/vmhooks/policy.xml", shipped);
        free(shipped);
        vh_policy p = { 0 };
        vh_error *e = NULL;
        assert_int_equal(vh_policy_load_host(&p, &e), 0);
        assert_int_equal(p.on_error, VH_ON_ERROR_CONTINUE);     /* never refuses by default */
        assert_false(vh_policy_on(&p, VH_P_SVIRT) && p.svirt == VH_SVIRT_ENFORCE);
        assert_int_equal(p.thp, VH_THP_AUTO);
        vh_policy_done(&p);
}

static void test_host_file_errors(void **state)
{
        char *root = *state;
        vh_policy p = { 0 };
        vh_error *e = NULL;
        /* missing: empty policy */
        assert_int_equal(vh_policy_load_host(&p, &e), 0);
        assert_int_equal(p.present, 0);
        /* a directory */
        char *dir = NULL;
        assert_true(asprintf(&dir, "%s/etc/vmhooks/policy.xml", root) > 0);
        tu_write(root, "/etc/vmhooks/x", "");
        assert_int_equal(mkdir(dir, 0755), 0);
        assert_true(vh_policy_load_host(&p, &e) < 0);
        tu_assert_contains(e->msg, "policy.xml");
        vh_error_free(e);
        e = NULL;
        assert_int_equal(rmdir(dir), 0);
        /* entities are refused, not expanded */
        tu_write(root, "/etc/vmhooks/policy.xml",
                 "<?xml version=\"1.0\"?><!DOCTYPE policy [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
                 "<policy " NS "><thp mode=\"&b;\"/></policy>");
        assert_true(vh_policy_load_host(&p, &e) < 0);
        tu_assert_contains(e->msg, "policy.xml: DOCTYPE and entity declarations are not accepted");
        vh_error_free(e);
        free(dir);
        vh_policy_done(&p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full_vocabulary),
                cmocka_unit_test(test_errors_name_file_element_expectation),
                cmocka_unit_test(test_host_only_in_metadata),
                cmocka_unit_test(test_malformed_file_right_line),
                cmocka_unit_test(test_metadata_line_within_policy),
                cmocka_unit_test(test_merge_element_by_element),
                cmocka_unit_test(test_prefixed_root_bare_children),
                cmocka_unit_test(test_schema_agrees),
                cmocka_unit_test(test_hugepage_pool),
                cmocka_unit_test_setup_teardown(test_shipped_policy_is_valid_and_safe, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_host_file_errors, tu_setup_root, tu_teardown_root),
        };
        return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
