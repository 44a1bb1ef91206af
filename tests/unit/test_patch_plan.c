/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The planner of `vmhooks patch`, `diff` and `apply` on real-world domain
 * XML (tests/data/domain/: virt-install's defaults, an OpenStack Nova
 * pinned guest, the openEuler document's examples, aarch64 guests), the
 * writer that keeps libvirt's own bytes, the two functions the hook calls
 * (vh_patch_incoming at migrate/restore, vh_patch_drift at prepare), and
 * the `vmhooks patch` command itself.
 */
#include "testutil.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxml/relaxng.h>
#include <libxml/xpath.h>

#include "domain.h"
#include "patch.h"
#include "policy.h"
#include "root.h"
#include "util.h"
#include "xml.h"

#define DATA "tests/data/domain/"
#define LIBVIRT_RNG "/usr/share/libvirt/schemas/domain.rng"

#define POLICY_ALL                                                                                              \
        "<policy xmlns='urn:vmhooks:policy:1'>\n"                                                               \
        "  <iothreads count='auto' cpuset='0-1'/>\n  <hugepages size='2M'/>\n  <dedicated-hint/>\n"              \
        "  <pvspinlock/>\n  <vtpm version='2.0'/>\n  <disk-io cache='none' io='native'/>\n"                     \
        "  <msix-relocation bar='bar2' devices='nvme'/>\n</policy>\n"


/* The fake host's facts for the rules run under `flags` on d (kept until the next call). */
static const vh_facts *host_facts(const vh_domain *d, const vh_policy *p, unsigned flags)
{
        static vh_facts f;
        vh_facts_done(&f);
        (void)vh_facts_gather(&f, vh_patch_facts_needed(d, p, flags), NULL); /* unreadable parts: the rules say so */
        return &f;
}

static char *root;
static xmlRelaxNGPtr schema;

static const char *const fixtures[] = {
        "virt-install-q35.xml", "virt-install-aarch64-tcg.xml", "openstack-nova-pinned.xml", "openeuler-iothreads.xml",
        "openeuler-rdm.xml", "openeuler-aarch64.xml", "nvme-passthrough.xml", "pinned-nvme.xml",
};

/* Written by libvirt itself (virsh dumpxml --inactive, or the live XML of a hook call). */
static const char *const libvirt_written[] = {
        "virt-install-q35.xml", "virt-install-aarch64-tcg.xml", "pinned-nvme.xml",
};

static void make_exec(const char *rel)
{
        tu_write(root, rel, "#!/bin/sh\nexit 0\n");
        char *p = NULL;
        assert_true(asprintf(&p, "%s%s", root, rel) > 0);
        assert_int_equal(chmod(p, 0755), 0);
        free(p);
}

static int group_setup(void **state)
{
        (void)state;
        root = tu_mkroot();
        tu_write(root, "/etc/vmhooks/policy.xml", POLICY_ALL);
        tu_write(root, "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "1024\n");
        make_exec("/usr/bin/swtpm");
        make_exec("/usr/libexec/vmhooks/qemu-kvm");
        tu_write(root, "/sys/bus/pci/devices/0000:81:00.0/vendor", "0x144d\n");
        tu_write(root, "/sys/bus/pci/devices/0000:81:00.0/device", "0xa808\n");
        tu_write(root, "/sys/bus/pci/devices/0000:81:00.0/class", "0x010802\n");
        tu_write(root, "/sys/bus/pci/devices/0000:81:00.1/vendor", "0x126f\n");
        tu_write(root, "/sys/bus/pci/devices/0000:81:00.1/device", "0x2262\n");
        tu_write(root, "/sys/bus/pci/devices/0000:81:00.1/class", "0x010802\n");
        tu_write(root, "/sys/bus/pci/devices/0000:3b:00.0/vendor", "0x8086\n");
        tu_write(root, "/sys/bus/pci/devices/0000:3b:00.0/device", "0x1572\n");
        tu_write(root, "/sys/bus/pci/devices/0000:3b:00.0/class", "0x020000\n");
        if (access(LIBVIRT_RNG, R_OK) == 0) {
                xmlRelaxNGParserCtxtPtr pc = xmlRelaxNGNewParserCtxt(LIBVIRT_RNG);
                schema = pc ? xmlRelaxNGParse(pc) : NULL;
                xmlRelaxNGFreeParserCtxt(pc);
        } else {
                print_message("note: %s not available: outputs are not checked against libvirt's schema here\n",
                              LIBVIRT_RNG);
        }
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        if (schema)
                xmlRelaxNGFree(schema);
        tu_rmroot(root);
        return 0;
}

static char *fixture(const char *name)
{
        char *p = NULL;
        assert_true(asprintf(&p, DATA "%s", name) > 0);
        char *s = tu_slurp(p);
        if (!s)
                fail_msg("cannot read %s", p);
        free(p);
        return s;
}

static void plan(const char *xml, const vh_patch_opts *o, vh_patch_plan *ret)
{
        vh_error *e = NULL;
        if (vh_patch_plan_make(xml, strlen(xml), "test", o, ret, &e) < 0)
                fail_msg("plan: %s", vh_error_msg(e));
}

static char *report(const vh_patch_plan *p)
{
        vh_buf b = { 0 };
        assert_int_equal(vh_buf_puts(&b, ""), 0);
        assert_int_equal(vh_patch_report_format(&p->report, VH_PATCH_KINDS_ALL, &b), 0);
        return b.data;
}

static void validate(const char *name, const char *xml)
{
        if (!schema)
                return;
        xmlDocPtr doc = NULL;
        vh_error *e = NULL;
        assert_int_equal(vh_xml_parse(xml, strlen(xml), name, &doc, &e), 0);
        xmlRelaxNGValidCtxtPtr v = xmlRelaxNGNewValidCtxt(schema);
        xmlRelaxNGSetValidErrors(v, NULL, NULL, NULL);
        int r = xmlRelaxNGValidateDoc(v, doc);
        xmlRelaxNGFreeValidCtxt(v);
        xmlFreeDoc(doc);
        if (r != 0)
                fail_msg("%s: not valid for libvirt's schema:\n%s", name, xml);
}

/* ---- the writer ---- */

static void test_writer_keeps_libvirts_bytes(void **state)
{
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(libvirt_written); i++) {
                char *x = fixture(libvirt_written[i]);
                xmlDocPtr doc = NULL;
                vh_error *e = NULL;
                assert_int_equal(vh_xml_parse(x, strlen(x), libvirt_written[i], &doc, &e), 0);
                char *y = vh_patch_xml_format(doc);
                if (strcmp(x, y) != 0) {
                        char *d = NULL;
                        assert_int_equal(vh_udiff(x, y, "fixture", "written", 1, &d, &e), 0);
                        fail_msg("%s is not written back byte for byte:\n%s", libvirt_written[i], d);
                }
                free(y);
                xmlFreeDoc(doc);
                free(x);
        }
}

static void test_writer_escapes(void **state)
{
        (void)state;
        const char *x = "<!-- kept -->\n<domain type=\"kvm\" xmlns:qemu=\"http://libvirt.org/schemas/domain/qemu/1.0\">"
                        "<name>a&amp;b</name><description>it's \"x\" &lt;y&gt;</description>"
                        "<metadata><m:x xmlns:m=\"urn:m\" a=\"q'&quot;\">t&gt;</m:x></metadata><devices/></domain>";
        xmlDocPtr doc = NULL;
        vh_error *e = NULL;
        assert_int_equal(vh_xml_parse(x, strlen(x), "x", &doc, &e), 0);
        char *y = vh_patch_xml_format(doc);
        assert_string_equal(y, "<!-- kept -->\n<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>"
                               "<name>a&amp;b</name><description>it&apos;s &quot;x&quot; &lt;y&gt;</description>"
                               "<metadata><m:x xmlns:m=\"urn:m\" a=\"q'&quot;\">t&gt;</m:x></metadata><devices/></domain>\n");
        free(y);
        xmlFreeDoc(doc);
}

/* ---- every fixture under every rule ---- */

typedef struct expect {
        const char *fixture;
        const char *lines[6];
} expect;

static const expect expects[] = {
        { "virt-install-q35.xml",
          { "iothreads: <iothreads> 0 -> 1 (new IOThread 1)", "iothreads: disk vda: iothread 1",
            "dedicated-hint: skipped: no vCPU is pinned (<cputune><vcpupin>)", "pvspinlock: <features><pvspinlock state='on'/>",
            "vtpm: <tpm model='tpm-crb'>",
            "disk-io: skipped: disk vda (/var/lib/libvirt/images/web-01.qcow2): file-backed (type='file')" } },
        { "virt-install-aarch64-tcg.xml",
          { "dedicated-hint: skipped: the guest is aarch64, not x86_64",
            "pvspinlock: note: the guest needs arm_pvspin on its kernel command line",
            "vtpm: unchanged: the VM has a TPM 2.0 (tpm-tis, emulator)" } },
        { "openstack-nova-pinned.xml",
          { "hugepages: skipped: the VM sets hugepage sizes per guest NUMA node (<page nodeset='0'>); left alone",
            "dedicated-hint: <features><kvm><hint-dedicated state='on'/>: every vCPU has a host CPU of its own (2-5)",
            "dedicated-hint: warning: <emulatorpin cpuset='2-5'> shares host CPUs with the vCPUs (2-5)",
            "disk-io: unchanged: disk vda (/dev/nova-vg/8d3b7e6a-4c2f-4b7e-9d2a-1f6c0a9e5b11_disk): cache=none io=native",
            "disk-io: skipped: disk sda (/var/lib/nova/instances/8d3b7e6a-4c2f-4b7e-9d2a-1f6c0a9e5b11/disk.config): a cdrom" } },
        { "openeuler-iothreads.xml",
          { "iothreads: disk vdc: iothread 1", "iothreads: iothreadpin 1: cpuset 1-3,5,7-12 -> 0-1",
            "iothreads: iothreadpin 3: cpuset 0-1", "dedicated-hint: skipped: CPU mode is not set (<cpu mode>), not host-passthrough",
            "vtpm: <tpm model='tpm-crb'>" } },
        { "openeuler-rdm.xml",
          { "hugepages: hugepage size 1 GiB -> 2 MiB", "rdm: warning: disk sdd: cannot check /dev/sdd",
            "rdm: warning: disk sde: cannot check /dev/sde1", "vtpm: <tpm model='tpm-tis'>",
            "disk-io: unchanged: disk sdc (/dev/sdc): cache=none io=native",
            "disk-io: disk sde (/dev/sde1): cache (unset) -> none, io (unset) -> native" } },
        { "openeuler-aarch64.xml",
          { "dedicated-hint: skipped: the guest is aarch64, not x86_64",
            "pvspinlock: skipped: aarch64: libvirt has no XML setting for PV spinlocks", "vtpm: <tpm model='tpm-tis'>",
            "iothreads: controller scsi 0 (virtio-scsi): iothread 3",
            "disk-io: disk vdb (/dev/disk/by-id/wwn-0x5000c500a1b2c3d4): cache (unset) -> none, io (unset) -> native" } },
        { "nvme-passthrough.xml",
          { "msix: <emulator> /usr/bin/qemu-system-x86_64 -> /usr/libexec/vmhooks/qemu-kvm: the wrapper adds "
            "x-msix-relocation=bar2 to 0000:81:00.0 (NVMe 144d:a808)" } },
        { "pinned-nvme.xml",
          { "hugepages: skipped: the VM sets hugepage sizes per guest NUMA node", "vtpm: unchanged: the VM has a TPM 2.0",
            "msix: <emulator> /usr/bin/qemu-system-x86_64 -> /usr/libexec/vmhooks/qemu-kvm: the wrapper adds "
            "x-msix-relocation=bar2 to 0000:81:00.1 (NVMe 126f:2262)",
            "dedicated-hint: <features><kvm><hint-dedicated state='on'/>: every vCPU has a host CPU of its own (4-5,36-37)" } },
};

static void test_fixtures_patched_valid_idempotent(void **state)
{
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(fixtures); i++) {
                char *x = fixture(fixtures[i]);
                validate(fixtures[i], x);
                vh_patch_plan p = { 0 };
                plan(x, NULL, &p);
                char *txt = report(&p);
                if (!p.after)
                        fail_msg("%s: no rule changed anything:\n%s", fixtures[i], txt);
                assert_non_null(p.diff);
                validate(fixtures[i], p.after);
                for (size_t k = 0; k < ELEMENTSOF(expects); k++) {
                        if (!streq(expects[k].fixture, fixtures[i]))
                                continue;
                        for (size_t j = 0; j < ELEMENTSOF(expects[k].lines) && expects[k].lines[j]; j++)
                                if (!strstr(txt, expects[k].lines[j]))
                                        fail_msg("%s: report lacks\n  %s\nreport:\n%s", fixtures[i], expects[k].lines[j], txt);
                }
                /* a second run changes nothing and says so, rule by rule */
                vh_patch_plan q = { 0 };
                plan(p.after, NULL, &q);
                char *txt2 = report(&q);
                if (q.report.changes || q.after || q.diff)
                        fail_msg("%s: the second run changes:\n%s", fixtures[i], txt2);
                static const char *const rules[] = { "iothreads", "hugepages", "dedicated-hint", "pvspinlock",
                                                     "vtpm", "disk-io", "rdm", "msix" };
                for (size_t r = 0; r < ELEMENTSOF(rules); r++) {
                        bool said = false;
                        for (size_t l = 0; l < q.report.n; l++)
                                said |= streq(q.report.lines[l].rule, rules[r]) &&
                                        q.report.lines[l].kind != VH_PATCH_CHANGED &&
                                        q.report.lines[l].kind != VH_PATCH_WARNING && q.report.lines[l].kind != VH_PATCH_NOTE;
                        if (!said)
                                fail_msg("%s: the second run says nothing of %s:\n%s", fixtures[i], rules[r], txt2);
                }
                free(txt2);
                vh_patch_plan_done(&q);
                free(txt);
                vh_patch_plan_done(&p);
                free(x);
        }
}

static void test_diff_shows_the_change_in_context(void **state)
{
        (void)state;
        char *x = fixture("virt-install-q35.xml");
        vh_patch_plan p = { 0 };
        plan(x, NULL, &p);
        tu_assert_contains(p.diff, "--- web-01 (current)\n+++ web-01 (patched)\n");
        tu_assert_contains(p.diff, "@@ -8,7 +8,16 @@\n   </metadata>\n");
        tu_assert_contains(p.diff, "   <vcpu placement='static'>2</vcpu>\n+  <iothreads>1</iothreads>\n+  <cputune>\n"
                                   "+    <iothreadpin iothread='1' cpuset='0-1'/>\n+  </cputune>\n   <os>\n");
        tu_assert_contains(p.diff, "-      <driver name='qemu' type='qcow2' discard='unmap'/>\n"
                                   "+      <driver name='qemu' type='qcow2' discard='unmap' iothread='1'/>\n");
        tu_assert_contains(p.diff, "+    <tpm model='tpm-crb'>\n+      <backend type='emulator' version='2.0'/>\n+    </tpm>\n");
        assert_false(p.uses_override);
        vh_patch_plan_done(&p);
        free(x);
}

static void test_policy_sources(void **state)
{
        (void)state;
        char *x = fixture("virt-install-q35.xml");
        /* the VM's metadata switches a host element off */
        char *y = NULL;
        const char *md = "<metadata>\n    <vmhooks:policy xmlns:vmhooks=\"urn:vmhooks:policy:1\">\n"
                         "      <vmhooks:iothreads enabled=\"no\"/>\n    </vmhooks:policy>\n";
        char *at = strstr(x, "<metadata>\n");
        assert_non_null(at);
        assert_true(asprintf(&y, "%.*s%s%s", (int)(at - x), x, md, at + strlen("<metadata>\n")) > 0);
        vh_patch_plan p = { 0 };
        plan(y, NULL, &p);
        char *txt = report(&p);
        tu_assert_contains(txt, "iothreads: off: enabled=\"no\" in the policy");
        tu_assert_contains(p.policy, "iothreads off");
        free(txt);
        vh_patch_plan_done(&p);

        /* --policy FILE instead of the host's */
        tu_write(root, "/tmp/p.xml", "<policy xmlns='urn:vmhooks:policy:1'><vtpm/></policy>");
        char *pf = NULL;
        assert_true(asprintf(&pf, "%s/tmp/p.xml", root) > 0);
        vh_patch_opts o = { .policy_file = pf };
        plan(x, &o, &p);
        assert_int_equal(p.report.changes, 1);
        txt = report(&p);
        tu_assert_contains(txt, "iothreads: off: not in the policy");
        free(txt);
        vh_patch_plan_done(&p);

        /* a bad file or bad metadata stops the command, saying where */
        tu_write(root, "/tmp/p.xml", "<policy xmlns='urn:vmhooks:policy:1'>\n<hugepages size='3M'/></policy>");
        vh_error *e = NULL;
        assert_true(vh_patch_plan_make(x, strlen(x), "test", &o, &p, &e) < 0);
        tu_assert_contains(vh_error_msg(e), "/tmp/p.xml: line 2: <hugepages size=\"3M\">: expected one of 2M, 1G");
        vh_error_free(e);
        e = NULL;
        free(y);
        md = "<metadata>\n    <vmhooks:policy xmlns:vmhooks=\"urn:vmhooks:policy:1\"><vmhooks:iothreads/></vmhooks:policy>\n";
        assert_true(asprintf(&y, "%.*s%s%s", (int)(at - x), x, md, at + strlen("<metadata>\n")) > 0);
        assert_true(vh_patch_plan_make(y, strlen(y), "test", NULL, &p, &e) < 0);
        tu_assert_contains(vh_error_msg(e), "metadata of VM web-01");
        vh_error_free(e);
        free(y);
        free(pf);
        free(x);
}

static void test_msix_override_plan(void **state)
{
        (void)state;
        char *x = fixture("nvme-passthrough.xml");
        vh_patch_opts o = { .flags = VH_PATCH_MSIX_OVERRIDE };
        vh_patch_plan p = { 0 };
        plan(x, &o, &p);
        assert_true(p.uses_override);
        tu_assert_contains(p.after, "<domain type='kvm' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>");
        tu_assert_contains(p.after, "  <qemu:override>\n    <qemu:device alias='ua-vmhooks-0000-81-00-0'>\n"
                                    "      <qemu:frontend>\n"
                                    "        <qemu:property name='x-msix-relocation' type='string' value='bar2'/>\n"
                                    "      </qemu:frontend>\n    </qemu:device>\n  </qemu:override>\n</domain>\n");
        validate("override", p.after);
        vh_patch_plan q = { 0 };
        plan(p.after, &o, &q);
        assert_int_equal(q.report.changes, 0);
        assert_false(q.uses_override);
        vh_patch_plan_done(&q);
        vh_patch_plan_done(&p);
        free(x);
}

static void test_no_change_means_no_output(void **state)
{
        (void)state;
        char *x = fixture("virt-install-q35.xml");
        tu_write(root, "/tmp/empty.xml", "<policy xmlns='urn:vmhooks:policy:1'/>");
        char *pf = NULL;
        assert_true(asprintf(&pf, "%s/tmp/empty.xml", root) > 0);
        vh_patch_opts o = { .policy_file = pf };
        vh_patch_plan p = { 0 };
        plan(x, &o, &p);
        assert_int_equal(p.report.changes, 0);
        assert_null(p.after);
        assert_null(p.diff);
        vh_patch_plan_done(&p);
        free(pf);
        free(x);
}

/* ---- the hook's two functions ---- */

static vh_domain *parse(const char *xml)
{
        vh_domain *d = NULL;
        vh_error *e = NULL;
        if (vh_domain_parse(xml, strlen(xml), "test", &d, &e) < 0)
                fail_msg("%s", vh_error_msg(e));
        return d;
}

static void effective(const vh_domain *d, vh_policy *p)
{
        vh_error *he = NULL, *ve = NULL;
        assert_int_equal(vh_policy_effective(d, p, &he, &ve), 0);
        if (he || ve)
                fail_msg("policy: %s %s", vh_error_msg(he), vh_error_msg(ve));
}

static void test_incoming_remaps_pins_and_keeps_the_abi(void **state)
{
        (void)state;
        /* pinned-nvme.xml pins vCPUs to 4,5,36,37 and iothreads to 2,3; online here: 0-3 */
        char *x = fixture("pinned-nvme.xml");
        vh_domain *d = parse(x);
        vh_policy p = { 0 };
        effective(d, &p);
        char *out = NULL;
        vh_patch_report rep = { 0 };
        vh_error *e = NULL;
        assert_int_equal(vh_patch_incoming(d, &p, host_facts(d, &p, VH_PATCH_ABI_SAFE), &out, &rep, &e), 0);
        assert_non_null(out);
        vh_buf b = { 0 };
        assert_int_equal(vh_patch_report_format(&rep, VH_PATCH_KINDS_DEFAULT, &b), 0);
        /* iothreadpins first become 0-1 (the policy); the vCPUs' CPUs go to the free ones (2, 3), then
         * round-robin (0, 1); <vcpu cpuset> 4-5,7-11: 4, 5 as the vCPUs', 7-11 round-robin on (2, 3, 0, 1, 2) */
        tu_assert_contains(b.data, "iothreads: iothreadpin 1: cpuset 2 -> 0-1");
        tu_assert_contains(b.data, "pinning: vcpupin 0: cpuset 4 -> 2 (CPU 4 not online here: 0-3)");
        tu_assert_contains(b.data, "pinning: vcpupin 1: cpuset 5 -> 3 (CPU 5 not online here: 0-3)");
        tu_assert_contains(b.data, "pinning: vcpupin 2: cpuset 36 -> 0 (CPU 36 not online here: 0-3)");
        tu_assert_contains(b.data, "pinning: vcpupin 3: cpuset 37 -> 1 (CPU 37 not online here: 0-3)");
        tu_assert_contains(b.data, "pinning: <vcpu cpuset>: cpuset 4-5,7-11 -> ");
        tu_assert_contains(b.data, "msix: <emulator> /usr/bin/qemu-system-x86_64 -> /usr/libexec/vmhooks/qemu-kvm");
        assert_null(strstr(b.data, "hugepages"));
        assert_null(strstr(b.data, "hint-dedicated"));
        /* the guest-visible parts are those of the input */
        vh_domain *o = parse(out);
        assert_int_equal(o->vcpus, d->vcpus);
        assert_int_equal(o->iothreads, d->iothreads);
        assert_int_equal(o->n_disks, d->n_disks);
        assert_int_equal(o->n_tpms, d->n_tpms);
        assert_int_equal(o->n_pages, d->n_pages);
        assert_null(strstr(out, "hint-dedicated"));
        assert_null(strstr(out, "pvspinlock"));
        validate("incoming", out);
        /* run again on its own output: nothing to print */
        char *again = NULL;
        assert_int_equal(vh_patch_incoming(o, &p, host_facts(o, &p, VH_PATCH_ABI_SAFE), &again, NULL, &e), 0);
        assert_null(again);
        vh_domain_free(o);
        vh_buf_free(&b);
        vh_patch_report_done(&rep);
        free(out);
        vh_policy_done(&p);
        vh_domain_free(d);
        free(x);
}

static void test_incoming_nothing_to_do(void **state)
{
        (void)state;
        char *x = fixture("virt-install-q35.xml");
        vh_domain *d = parse(x);
        vh_policy p = { 0 };
        effective(d, &p);
        char *out = (char *)"unset";
        vh_error *e = NULL;
        assert_int_equal(vh_patch_incoming(d, &p, host_facts(d, &p, VH_PATCH_ABI_SAFE), &out, NULL, &e), 0);
        assert_null(out);
        vh_policy_done(&p);
        vh_domain_free(d);
        free(x);
}

static void test_drift_line(void **state)
{
        (void)state;
        char *x = fixture("virt-install-q35.xml");
        vh_domain *d = parse(x);
        vh_policy p = { 0 };
        effective(d, &p);
        char *line = NULL;
        vh_error *e = NULL;
        assert_int_equal(vh_patch_drift(d, &p, host_facts(d, &p, 0), &line, &e), 0);
        assert_non_null(line);
        tu_assert_contains(line, "vmhooks apply web-01 would change: iothreads: <iothreads> 0 -> 1 (new IOThread 1); "
                                 "iothreads: disk vda: iothread 1; iothreads: iothreadpin 1: cpuset 0-1; ");
        assert_null(strchr(line, '\n'));
        free(line);
        vh_policy_done(&p);
        vh_domain_free(d);

        /* after apply: no drift */
        vh_patch_plan pl = { 0 };
        plan(x, NULL, &pl);
        d = parse(pl.after);
        effective(d, &p);
        line = (char *)"unset";
        assert_int_equal(vh_patch_drift(d, &p, host_facts(d, &p, 0), &line, &e), 0);
        assert_null(line);
        vh_policy_done(&p);
        vh_domain_free(d);
        vh_patch_plan_done(&pl);

        /* many changes: the line stays one line, with a count of the rest */
        vh_buf b = { 0 };
        assert_int_equal(vh_buf_puts(&b, "<domain type='kvm'><name>many</name><vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices>"), 0);
        for (int i = 0; i < 30; i++)
                assert_int_equal(vh_buf_printf(&b, "<disk type='block' device='disk'><source dev='/dev/sd%c'/>"
                                                   "<target dev='sd%c' bus='sata'/></disk>", 'a' + i % 26, 'a' + i % 26), 0);
        assert_int_equal(vh_buf_puts(&b, "</devices></domain>"), 0);
        d = parse(b.data);
        effective(d, &p);
        assert_int_equal(vh_patch_drift(d, &p, host_facts(d, &p, 0), &line, &e), 0);
        tu_assert_contains(line, "; and 13 more");
        free(line);
        vh_policy_done(&p);
        vh_domain_free(d);
        vh_buf_free(&b);
        free(x);
}

/* ---- the command ---- */


static void test_command_patch(void **state)
{
        (void)state;
        if (access(tu_tool(), X_OK) < 0) {
                tu_skip("%s is not built (make all); t-patch.sh tests the command too", tu_tool());
        }
        char *out = NULL, *err = NULL;
        /* FILE in, the planner's XML out, the report on stderr */
        int rc = tu_run_tool(NULL, &out, &err, (const char *const[]){ "patch", DATA "virt-install-q35.xml", NULL });
        if (rc != 0)
                fail_msg("exit %d: %s", rc, err);
        char *x = fixture("virt-install-q35.xml");
        vh_patch_plan p = { 0 };
        plan(x, NULL, &p);
        assert_string_equal(out, p.after);
        tu_assert_contains(err, "iothreads: disk vda: iothread 1\n");
        tu_assert_contains(err, "vmhooks patch: web-01: ");
        assert_null(strstr(err, "off:"));
        free(out);
        free(err);
        /* stdin, nothing to change: the input byte for byte */
        tu_write(root, "/tmp/empty.xml", "<policy xmlns='urn:vmhooks:policy:1'/>");
        char *pf = NULL;
        assert_true(asprintf(&pf, "%s/tmp/empty.xml", root) > 0);
        rc = tu_run_tool(DATA "openeuler-iothreads.xml", &out, &err, (const char *const[]){ "patch", "--policy", pf, "-v", "-", NULL });
        assert_int_equal(rc, 0);
        char *y = fixture("openeuler-iothreads.xml");
        assert_string_equal(out, y);
        tu_assert_contains(err, "vmhooks patch: VMName: nothing to change\n");
        tu_assert_contains(err, "vtpm: off: not in the policy\n");
        tu_assert_contains(err, "policy: empty\n");
        free(out);
        free(err);
        /* errors: exit 1 with one line naming the file; usage: exit 2 */
        tu_write(root, "/tmp/bad.xml", "<policy xmlns='urn:vmhooks:policy:1'>\n  <vtpm version='1.2'/>\n</policy>\n");
        char *bad = NULL;
        assert_true(asprintf(&bad, "%s/tmp/bad.xml", root) > 0);
        rc = tu_run_tool(NULL, &out, &err, (const char *const[]){ "patch", "--policy", bad, DATA "virt-install-q35.xml", NULL });
        assert_int_equal(rc, 1);
        tu_assert_contains(err, "vmhooks patch: ");
        tu_assert_contains(err, "/tmp/bad.xml: line 2: <vtpm version=\"1.2\">: expected one of 2.0\n");
        assert_string_equal(out, "");
        free(out);
        free(err);
        rc = tu_run_tool(NULL, &out, &err, (const char *const[]){ "patch", "--msix=sometimes", NULL });
        assert_int_equal(rc, 2);
        tu_assert_contains(err, "usage: vmhooks patch");
        free(out);
        free(err);
        rc = tu_run_tool(NULL, &out, &err, (const char *const[]){ "patch", "a", "b", NULL });
        assert_int_equal(rc, 2);
        free(out);
        free(err);
        rc = tu_run_tool(NULL, &out, &err, (const char *const[]){ "patch", DATA "does-not-exist.xml", NULL });
        assert_int_equal(rc, 1);
        tu_assert_contains(err, "does-not-exist.xml");
        free(out);
        free(err);
        free(bad);
        free(y);
        free(pf);
        vh_patch_plan_done(&p);
        free(x);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_writer_keeps_libvirts_bytes),
                cmocka_unit_test(test_writer_escapes),
                cmocka_unit_test(test_fixtures_patched_valid_idempotent),
                cmocka_unit_test(test_diff_shows_the_change_in_context),
                cmocka_unit_test(test_policy_sources),
                cmocka_unit_test(test_msix_override_plan),
                cmocka_unit_test(test_no_change_means_no_output),
                cmocka_unit_test(test_incoming_remaps_pins_and_keeps_the_abi),
                cmocka_unit_test(test_incoming_nothing_to_do),
                cmocka_unit_test(test_drift_line),
                cmocka_unit_test(test_command_patch),
        };
        return cmocka_run_group_tests_name("patch planner", tests, group_setup, group_teardown);
}
