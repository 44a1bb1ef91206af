/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The domain XML rules (lib/patch/), KubeVirt style: one table of cases per
 * rule.  For every case the runner checks, independently of what the rule
 * prints about itself:
 *   - XPath expressions on the patched XML (what must and must not be there);
 *   - the report lines the rule must give (its changes, or which condition
 *     failed), and how many changes it made;
 *   - idempotence: the rules run on their own output change nothing, say
 *     so, and give the same bytes back;
 *   - the output is valid for libvirt's own schema (domain.rng, what
 *     virt-xml-validate uses) when libvirt's schemas are installed.
 * The host the rules look at (sysfs, /dev, the wrapper, swtpm) is a fake
 * root under VMHOOKS_ROOT.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/relaxng.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include "domain.h"
#include "patch.h"
#include "policy.h"
#include "root.h"
#include "util.h"
#include "xml.h"

#define LIBVIRT_RNG "/usr/share/libvirt/schemas/domain.rng"

typedef struct pcase {
        const char *name;
        const char *policy;             /* children of <policy> */
        const char *type, *arch, *machine; /* NULL: kvm, x86_64, pc-q35-7.2 */
        unsigned vcpus;                 /* 0: 2 */
        const char *memory;             /* NULL: <memory unit='KiB'>1048576</memory> */
        const char *top;                /* elements after <vcpu> */
        const char *devices;            /* children of <devices> after <emulator> */
        unsigned flags;
        const char *rule;               /* the rule whose lines and changes are checked */
        int changes;                    /* CHANGED lines of `rule`; -1: not checked */
        const char *lines[8];           /* formatted report lines that must appear */
        const char *match[8];           /* XPath that must select a node in the output */
        const char *nomatch[6];         /* XPath that must select nothing */
} pcase;

static char *root;
static xmlRelaxNGPtr libvirt_schema;

/* ---- the fake host ---- */

static void make_exec(const char *rel)
{
        tu_write(root, rel, "#!/bin/sh\nexit 0\n");
        char *p = NULL;
        assert_true(asprintf(&p, "%s%s", root, rel) > 0);
        assert_int_equal(chmod(p, 0755), 0);
        free(p);
}

static void make_link(const char *rel, const char *target)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s%s", root, rel) > 0);
        char *dir = strdup(p);
        *strrchr(dir, '/') = '\0';
        char *keep = NULL;
        assert_true(asprintf(&keep, "%s/.keep", dir + strlen(root)) > 0);
        tu_write(root, keep, "");
        assert_int_equal(symlink(target, p), 0);
        free(keep);
        free(dir);
        free(p);
}

static void fake_host(void)
{
        tu_write(root, "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages", "512\n");
        make_exec("/usr/bin/swtpm");
        make_exec("/usr/libexec/vmhooks/qemu-kvm");
        /* rdm: a whole SCSI disk, a partition, an LV, a multipath disk */
        tu_write(root, "/dev/sdd", "");
        tu_write(root, "/sys/devices/pci0000:00/host0/target0:0:0/0:0:0:3/block/sdd/dev", "8:48\n");
        make_link("/sys/class/block/sdd", "../../devices/pci0000:00/host0/target0:0:0/0:0:0:3/block/sdd");
        tu_write(root, "/dev/sde1", "");
        tu_write(root, "/sys/devices/pci0000:00/host0/target0:0:0/0:0:0:4/block/sde/sde1/partition", "1\n");
        make_link("/sys/class/block/sde1", "../../devices/pci0000:00/host0/target0:0:0/0:0:0:4/block/sde/sde1");
        tu_write(root, "/dev/dm-3", "");
        make_link("/dev/vg0/data", "../dm-3");
        tu_write(root, "/sys/devices/virtual/block/dm-3/dm/uuid", "LVM-Zp3V0cQ1bT0kXGdE2mFj0aR9n7sLwK4uYt8hJ5qO6eI1cVb2nM3xZ4aS5dF6gH7j\n");
        tu_write(root, "/sys/devices/virtual/block/dm-3/dm/name", "vg0-data\n");
        make_link("/sys/class/block/dm-3", "../../devices/virtual/block/dm-3");
        tu_write(root, "/dev/dm-4", "");
        make_link("/dev/mapper/mpatha", "../dm-4");
        tu_write(root, "/sys/devices/virtual/block/dm-4/dm/uuid", "mpath-3600508b400105e210000900000490000\n");
        tu_write(root, "/sys/devices/virtual/block/dm-4/dm/name", "mpatha\n");
        make_link("/sys/class/block/dm-4", "../../devices/virtual/block/dm-4");
        /* msix: an NVMe controller and a NIC */
        tu_write(root, "/sys/bus/pci/devices/0000:81:00.0/vendor", "0x144d\n");
        tu_write(root, "/sys/bus/pci/devices/0000:81:00.0/device", "0xa808\n");
        tu_write(root, "/sys/bus/pci/devices/0000:81:00.0/class", "0x010802\n");
        tu_write(root, "/sys/bus/pci/devices/0000:3b:00.0/vendor", "0x8086\n");
        tu_write(root, "/sys/bus/pci/devices/0000:3b:00.0/device", "0x1572\n");
        tu_write(root, "/sys/bus/pci/devices/0000:3b:00.0/class", "0x020000\n");
}

static int group_setup(void **state)
{
        (void)state;
        root = tu_mkroot();
        fake_host();
        if (access(LIBVIRT_RNG, R_OK) == 0) {
                xmlRelaxNGParserCtxtPtr pc = xmlRelaxNGNewParserCtxt(LIBVIRT_RNG);
                libvirt_schema = pc ? xmlRelaxNGParse(pc) : NULL;
                xmlRelaxNGFreeParserCtxt(pc);
        }
        if (!libvirt_schema)
                print_message("note: %s not available: outputs are not checked against libvirt's schema here "
                              "(tests/integration/t-patch.sh runs virt-xml-validate)\n",
                              LIBVIRT_RNG);
        return 0;
}

static int group_teardown(void **state)
{
        (void)state;
        if (libvirt_schema)
                xmlRelaxNGFree(libvirt_schema);
        tu_rmroot(root);
        root = NULL;
        return 0;
}

/* ---- helpers ---- */

static char *mkdom(const pcase *c)
{
        char *s = NULL;
        const char *arch = c->arch ? c->arch : "x86_64";
        const char *emu = streq(arch, "aarch64") ? "/usr/bin/qemu-system-aarch64" : "/usr/bin/qemu-system-x86_64";
        assert_true(asprintf(&s,
                             "<domain type='%s'>\n"
                             "  <name>t</name>\n"
                             "  <uuid>0b9f6e2a-7d1c-4e3b-8a5f-2c6d9e0f1a2b</uuid>\n"
                             "  %s\n"
                             "  <vcpu placement='static'>%u</vcpu>\n"
                             "%s%s"
                             "  <os>\n"
                             "    <type arch='%s' machine='%s'>hvm</type>\n"
                             "  </os>\n"
                             "  <devices>\n"
                             "    <emulator>%s</emulator>\n"
                             "%s%s"
                             "  </devices>\n"
                             "</domain>\n",
                             c->type ? c->type : "kvm",
                             c->memory ? c->memory : "<memory unit='KiB'>1048576</memory>", c->vcpus ? c->vcpus : 2,
                             c->top ? c->top : "", c->top ? "\n" : "", arch,
                             c->machine ? c->machine : (streq(arch, "aarch64") ? "virt" : "pc-q35-7.2"), emu,
                             c->devices ? c->devices : "", c->devices ? "\n" : "") > 0);
        return s;
}

static vh_domain *parse_dom(const char *xml)
{
        vh_domain *d = NULL;
        vh_error *e = NULL;
        if (vh_domain_parse(xml, strlen(xml), "test XML", &d, &e) < 0)
                fail_msg("%s\n%s", vh_error_msg(e), xml);
        return d;
}

static void load_policy(vh_policy *p, const char *inner)
{
        char *s = NULL;
        assert_true(asprintf(&s, "<policy xmlns='urn:vmhooks:policy:1'>%s</policy>", inner ? inner : "") > 0);
        xmlDocPtr doc = NULL;
        vh_error *e = NULL;
        if (vh_xml_parse(s, strlen(s), "test policy", &doc, &e) < 0 ||
            vh_policy_apply(p, xmlDocGetRootElement(doc), "test policy", true, &e) < 0)
                fail_msg("%s", vh_error_msg(e));
        xmlFreeDoc(doc);
        free(s);
}

static char *report_text(const vh_patch_report *r)
{
        vh_buf b = { 0 };
        assert_int_equal(vh_buf_puts(&b, ""), 0);
        assert_int_equal(vh_patch_report_format(r, VH_PATCH_KINDS_ALL, &b), 0);
        return b.data;
}

/* Run the rules; the serialized output. */
static char *run(const char *xml, const char *policy, unsigned flags, vh_patch_report *rep)
{
        vh_domain *d = parse_dom(xml);
        vh_policy p = { 0 };
        load_policy(&p, policy);
        xmlDocPtr out = NULL;
        vh_error *e = NULL;
        /* the fake host's facts, the parts the rules need (as the planner and the hook gather them) */
        vh_facts f = { 0 };
        (void)vh_facts_gather(&f, vh_patch_facts_needed(d, &p, flags), NULL); /* unreadable parts: the rules say so */
        if (vh_patch_run(d, &p, &f, flags, &out, rep, &e) < 0)
                fail_msg("vh_patch_run: %s", vh_error_msg(e));
        vh_facts_done(&f);
        char *s = vh_patch_xml_format(out);
        assert_non_null(s);
        xmlFreeDoc(out);
        vh_policy_done(&p);
        vh_domain_free(d);
        return s;
}

static int xpath_count(const char *xml, const char *expr)
{
        xmlDocPtr doc = NULL;
        vh_error *e = NULL;
        if (vh_xml_parse(xml, strlen(xml), "output", &doc, &e) < 0)
                fail_msg("output does not parse: %s\n%s", vh_error_msg(e), xml);
        xmlXPathContextPtr ctx = xmlXPathNewContext(doc);
        xmlXPathRegisterNs(ctx, (const xmlChar *)"qemu", (const xmlChar *)VH_QEMU_NS);
        xmlXPathObjectPtr o = xmlXPathEvalExpression((const xmlChar *)expr, ctx);
        if (!o)
                fail_msg("bad XPath %s", expr);
        int n = o->type == XPATH_NODESET ? (o->nodesetval ? o->nodesetval->nodeNr : 0)
                                              : (o->type == XPATH_BOOLEAN ? o->boolval : (int)o->floatval);
        xmlXPathFreeObject(o);
        xmlXPathFreeContext(ctx);
        xmlFreeDoc(doc);
        return n;
}

static void validate(const char *name, const char *xml)
{
        if (!libvirt_schema)
                return;
        xmlDocPtr doc = NULL;
        vh_error *e = NULL;
        assert_int_equal(vh_xml_parse(xml, strlen(xml), "output", &doc, &e), 0);
        xmlRelaxNGValidCtxtPtr v = xmlRelaxNGNewValidCtxt(libvirt_schema);
        xmlRelaxNGSetValidErrors(v, NULL, NULL, NULL);
        int r = xmlRelaxNGValidateDoc(v, doc);
        xmlRelaxNGFreeValidCtxt(v);
        xmlFreeDoc(doc);
        if (r != 0)
                fail_msg("%s: output is not valid for libvirt's schema:\n%s", name, xml);
}

static unsigned rule_changes(const vh_patch_report *r, const char *rule)
{
        unsigned n = 0;
        for (size_t i = 0; i < r->n; i++)
                n += r->lines[i].kind == VH_PATCH_CHANGED && streq(r->lines[i].rule, rule);
        return n;
}

static size_t rule_lines(const vh_patch_report *r, const char *rule)
{
        size_t n = 0;
        for (size_t i = 0; i < r->n; i++)
                n += streq(r->lines[i].rule, rule);
        return n;
}

static void check_case(const pcase *c)
{
        char *xml = mkdom(c);
        vh_patch_report rep = { 0 };
        char *out = run(xml, c->policy, c->flags, &rep);
        char *txt = report_text(&rep);
        for (size_t i = 0; i < ELEMENTSOF(c->lines) && c->lines[i]; i++)
                if (!strstr(txt, c->lines[i]))
                        fail_msg("case \"%s\": report lacks\n  %s\nreport:\n%s", c->name, c->lines[i], txt);
        for (size_t i = 0; i < ELEMENTSOF(c->match) && c->match[i]; i++)
                if (xpath_count(out, c->match[i]) == 0)
                        fail_msg("case \"%s\": nothing matches %s in\n%s\nreport:\n%s", c->name, c->match[i], out, txt);
        for (size_t i = 0; i < ELEMENTSOF(c->nomatch) && c->nomatch[i]; i++)
                if (xpath_count(out, c->nomatch[i]) != 0)
                        fail_msg("case \"%s\": %s matches in\n%s", c->name, c->nomatch[i], out);
        if (c->changes >= 0 && rule_changes(&rep, c->rule) != (unsigned)c->changes)
                fail_msg("case \"%s\": %u changes by %s, expected %d\n%s", c->name, rule_changes(&rep, c->rule), c->rule,
                         c->changes, txt);
        if (rep.changes == 0 && strcmp(out, xml) != 0)
                fail_msg("case \"%s\": no change reported, but the XML differs:\n%s\n---\n%s", c->name, xml, out);
        /* idempotence: a second run changes nothing, says so, and gives the same bytes */
        vh_patch_report again = { 0 };
        char *out2 = run(out, c->policy, c->flags, &again);
        char *txt2 = report_text(&again);
        if (again.changes != 0 || strcmp(out, out2) != 0)
                fail_msg("case \"%s\": not idempotent; second run:\n%s\n%s", c->name, txt2, out2);
        bool said = rule_lines(&rep, c->rule) == 0; /* a rule that does not run here (pinning outside migrate) */
        for (size_t i = 0; i < again.n; i++)
                said |= streq(again.lines[i].rule, c->rule) &&
                        (again.lines[i].kind == VH_PATCH_UNCHANGED || again.lines[i].kind == VH_PATCH_SKIPPED ||
                         again.lines[i].kind == VH_PATCH_OFF);
        if (!said)
                fail_msg("case \"%s\": the second run of %s does not say it changes nothing:\n%s", c->name, c->rule, txt2);
        validate(c->name, out);
        free(txt2);
        free(out2);
        vh_patch_report_done(&again);
        free(txt);
        free(out);
        vh_patch_report_done(&rep);
        free(xml);
}

static void run_table(const pcase *t, size_t n)
{
        for (size_t i = 0; i < n; i++)
                check_case(&t[i]);
}

#define VIRTIO_DISK(dev, extra) \
        "    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'" extra "/>\n" \
        "      <source file='/var/lib/libvirt/images/" dev ".qcow2'/>\n      <target dev='" dev "' bus='virtio'/>\n    </disk>\n"
#define VIRTIO_SCSI "    <controller type='scsi' index='0' model='virtio-scsi'/>\n"
#define X86_PINNED \
        "  <cputune>\n    <vcpupin vcpu='0' cpuset='2'/>\n    <vcpupin vcpu='1' cpuset='3'/>\n  </cputune>\n" \
        "  <cpu mode='host-passthrough' check='none'/>"

/* ---- iothreads ---- */

static const pcase iothreads_cases[] = {
        { .name = "auto: one per virtio device, capped by the vCPUs", .policy = "<iothreads count='auto'/>",
          .devices = VIRTIO_DISK("vda", "") VIRTIO_DISK("vdb", "") VIRTIO_SCSI, .rule = "iothreads", .changes = 4,
          .lines = { "iothreads: <iothreads> 0 -> 2 (new IOThreads 1-2)", "iothreads: disk vda: iothread 1",
                     "iothreads: disk vdb: iothread 2", "iothreads: controller scsi 0 (virtio-scsi): iothread 1" },
          .match = { "/domain/iothreads[.='2']", "//disk[target/@dev='vda']/driver[@iothread='1']",
                     "//disk[target/@dev='vdb']/driver[@iothread='2']", "//controller[@type='scsi']/driver[@iothread='1']" },
          .nomatch = { "//iothreadpin" } },
        { .name = "auto: one disk", .policy = "<iothreads count='auto'/>", .vcpus = 4, .devices = VIRTIO_DISK("vda", ""),
          .rule = "iothreads", .changes = 2, .match = { "/domain/iothreads[.='1']" } },
        { .name = "auto: at most 8", .policy = "<iothreads count='auto'/>", .vcpus = 16,
          .devices = VIRTIO_DISK("vda", "") VIRTIO_DISK("vdb", "") VIRTIO_DISK("vdc", "") VIRTIO_DISK("vdd", "")
                  VIRTIO_DISK("vde", "") VIRTIO_DISK("vdf", "") VIRTIO_DISK("vdg", "") VIRTIO_DISK("vdh", "")
                          VIRTIO_DISK("vdi", "") VIRTIO_DISK("vdj", ""),
          .rule = "iothreads", .changes = 11,
          .match = { "/domain/iothreads[.='8']", "//disk[target/@dev='vdi']/driver[@iothread='1']",
                     "//disk[target/@dev='vdj']/driver[@iothread='2']", "//disk[target/@dev='vdh']/driver[@iothread='8']" } },
        { .name = "count 4 on a VM with 2: new ones, devices keep theirs, the least used first",
          .policy = "<iothreads count='4'/>", .top = "  <iothreads>2</iothreads>",
          .devices = VIRTIO_DISK("vda", " iothread='1'") VIRTIO_DISK("vdb", "") VIRTIO_DISK("vdc", ""),
          .rule = "iothreads", .changes = 3,
          .lines = { "iothreads: <iothreads> 2 -> 4 (new IOThreads 3-4)", "iothreads: disk vdb: iothread 2",
                     "iothreads: disk vdc: iothread 3" },
          .match = { "/domain/iothreads[.='4']", "//disk[target/@dev='vda']/driver[@iothread='1']" } },
        { .name = "count 2 on a VM with 4: kept", .policy = "<iothreads count='2'/>", .top = "  <iothreads>4</iothreads>",
          .devices = VIRTIO_DISK("vda", " iothread='3'"), .rule = "iothreads", .changes = 0,
          .lines = { "iothreads: note: the VM keeps its 4 IOThreads (the policy asks for 2)" },
          .match = { "/domain/iothreads[.='4']" } },
        { .name = "no virtio-blk disk and no virtio-scsi controller: skipped", .policy = "<iothreads count='auto'/>",
          .devices = "    <disk type='file' device='cdrom'>\n      <target dev='sda' bus='sata'/>\n    </disk>\n"
                     "    <disk type='file' device='disk'>\n      <source file='/x.img'/>\n      <target dev='sdb' bus='sata'/>\n    </disk>\n"
                     "    <disk type='vhostuser' device='disk'>\n      <driver name='qemu' type='raw'/>\n"
                     "      <source type='unix' path='/tmp/vhost-blk.sock'>\n        <reconnect enabled='yes' timeout='10'/>\n"
                     "      </source>\n      <target dev='vdz' bus='virtio'/>\n    </disk>\n"
                     "    <controller type='scsi' index='0' model='lsilogic'/>\n",
          .memory = "<memory unit='KiB'>1048576</memory>\n  <memoryBacking>\n    <source type='memfd'/>\n"
                    "    <access mode='shared'/>\n  </memoryBacking>",
          .rule = "iothreads", .changes = 0,
          .lines = { "iothreads: skipped: the VM has no virtio-blk disk and no virtio-scsi controller" },
          .nomatch = { "/domain/iothreads", "//driver[@iothread]" } },
        { .name = "cpuset: pins added and changed", .policy = "<iothreads count='2' cpuset='0-1'/>",
          .top = "  <iothreads>2</iothreads>\n  <cputune>\n    <iothreadpin iothread='1' cpuset='2'/>\n  </cputune>",
          .devices = VIRTIO_DISK("vda", " iothread='1'") VIRTIO_DISK("vdb", " iothread='2'"), .rule = "iothreads",
          .changes = 2, .lines = { "iothreads: iothreadpin 1: cpuset 2 -> 0-1", "iothreads: iothreadpin 2: cpuset 0-1" },
          .match = { "//cputune/iothreadpin[@iothread='1'][@cpuset='0-1']",
                     "//cputune/iothreadpin[@iothread='2'][@cpuset='0-1']" } },
        { .name = "cpuset: numerically equal pins are left as written", .policy = "<iothreads count='1' cpuset='0-1'/>",
          .top = "  <iothreads>1</iothreads>\n  <cputune>\n    <iothreadpin iothread='1' cpuset='0,1'/>\n  </cputune>",
          .devices = VIRTIO_DISK("vda", " iothread='1'"), .rule = "iothreads", .changes = 0,
          .lines = { "iothreads: unchanged: 1 IOThread; every virtio-blk disk and virtio-scsi controller has one; pinned to 0-1" },
          .match = { "//iothreadpin[@cpuset='0,1']" } },
        { .name = "<iothreadids>: the new id goes there too", .policy = "<iothreads count='2'/>",
          .top = "  <iothreads>1</iothreads>\n  <iothreadids>\n    <iothread id='5'/>\n  </iothreadids>",
          .devices = VIRTIO_DISK("vda", " iothread='5'") VIRTIO_DISK("vdb", ""), .rule = "iothreads", .changes = 2,
          .lines = { "iothreads: <iothreads> 1 -> 2 (new IOThread 1)", "iothreads: disk vdb: iothread 1" },
          .match = { "/domain/iothreads[.='2']", "/domain/iothreadids/iothread[@id='1']",
                     "/domain/iothreadids/iothread[@id='5']" } },
        { .name = "a device naming an IOThread the VM lacks: warned", .policy = "<iothreads count='1'/>",
          .top = "  <iothreads>1</iothreads>", .devices = VIRTIO_DISK("vda", " iothread='7'"), .rule = "iothreads",
          .changes = 0, .lines = { "iothreads: warning: disk vda names IOThread 7, which the VM does not have" } },
        { .name = "migrate/restore: only the pins", .policy = "<iothreads count='auto' cpuset='1'/>",
          .top = "  <iothreads>1</iothreads>", .devices = VIRTIO_DISK("vda", "") VIRTIO_DISK("vdb", ""),
          .flags = VH_PATCH_ABI_SAFE, .rule = "iothreads", .changes = 1,
          .lines = { "iothreads: iothreadpin 1: cpuset 1" },
          .match = { "/domain/iothreads[.='1']", "//iothreadpin[@iothread='1'][@cpuset='1']" },
          .nomatch = { "//driver[@iothread]" } },
        { .name = "migrate/restore without cpuset: skipped", .policy = "<iothreads count='auto'/>",
          .top = "  <iothreads>1</iothreads>", .flags = VH_PATCH_ABI_SAFE, .rule = "iothreads", .changes = 0,
          .lines = { "iothreads: skipped: no cpuset= in <iothreads>: nothing host-side to set" } },
        { .name = "off in the policy", .policy = "<iothreads enabled='no'/>", .devices = VIRTIO_DISK("vda", ""),
          .rule = "iothreads", .changes = 0, .lines = { "iothreads: off: enabled=\"no\" in the policy" },
          .nomatch = { "/domain/iothreads" } },
        { .name = "not in the policy", .policy = "", .devices = VIRTIO_DISK("vda", ""), .rule = "iothreads", .changes = 0,
          .lines = { "iothreads: off: not in the policy" } },
};

static void test_iothreads(void **state)
{
        (void)state;
        run_table(iothreads_cases, ELEMENTSOF(iothreads_cases));
}

/* ---- hugepages ---- */

static const pcase hugepages_cases[] = {
        { .name = "2M pages added", .policy = "<hugepages size='2M'/>", .rule = "hugepages", .changes = 1,
          .lines = { "hugepages: <memoryBacking><hugepages><page size='2048' unit='KiB'/>: memory backed by 2 MiB hugepages" },
          .match = { "/domain/memoryBacking/hugepages/page[@size='2048'][@unit='KiB']" },
          .nomatch = { "/domain/memoryBacking/hugepages/page[@nodeset]" } },
        { .name = "memory not a multiple of 1G; no 1G pool", .policy = "<hugepages size='1G'/>",
          .memory = "<memory unit='MiB'>1536</memory>", .rule = "hugepages", .changes = 1,
          .lines = { "hugepages: warning: memory 1536 MiB is not a multiple of the 1 GiB page size: QEMU rounds the "
                     "backing up to 2 GiB and the rest of the last page is wasted",
                     "hugepages: warning: this host has no 1 GiB hugepages" },
          .match = { "//hugepages/page[@size='1048576']" } },
        { .name = "memory smaller than one page: skipped", .policy = "<hugepages size='1G'/>",
          .memory = "<memory unit='MiB'>512</memory>", .rule = "hugepages", .changes = 0,
          .lines = { "hugepages: skipped: memory 512 MiB is smaller than one 1 GiB page (QEMU would refuse to start)" },
          .nomatch = { "//memoryBacking" } },
        { .name = "another page size changed", .policy = "<hugepages size='2M'/>",
          .memory = "<memory unit='GiB'>4</memory>\n  <memoryBacking>\n    <hugepages>\n      <page size='1' unit='GiB'/>\n"
                    "    </hugepages>\n  </memoryBacking>",
          .rule = "hugepages", .changes = 1, .lines = { "hugepages: hugepage size 1 GiB -> 2 MiB" },
          .match = { "//hugepages/page[@size='2048'][@unit='KiB']" } },
        { .name = "<hugepages/> of the host's default size", .policy = "<hugepages size='2M'/>",
          .memory = "<memory unit='KiB'>1048576</memory>\n  <memoryBacking><hugepages/></memoryBacking>",
          .rule = "hugepages", .changes = 1, .lines = { "hugepages: hugepage size: the host's default -> 2 MiB" },
          .match = { "//hugepages/page[@size='2048']" } },
        { .name = "per-node sizes: left alone", .policy = "<hugepages size='2M'/>",
          .memory = "<memory unit='GiB'>4</memory>\n  <memoryBacking>\n    <hugepages>\n"
                    "      <page size='1048576' unit='KiB' nodeset='0'/>\n    </hugepages>\n  </memoryBacking>",
          .rule = "hugepages", .changes = 0,
          .lines = { "hugepages: skipped: the VM sets hugepage sizes per guest NUMA node (<page nodeset='0'>); left alone" },
          .match = { "//hugepages/page[@nodeset='0'][@size='1048576']" } },
        { .name = "already so", .policy = "<hugepages size='2M'/>",
          .memory = "<memory unit='KiB'>1048576</memory>\n  <memoryBacking>\n    <hugepages>\n"
                    "      <page size='2' unit='MiB'/>\n    </hugepages>\n  </memoryBacking>",
          .rule = "hugepages", .changes = 0, .lines = { "hugepages: unchanged: memory is backed by 2 MiB hugepages" } },
};

static void test_hugepages(void **state)
{
        (void)state;
        run_table(hugepages_cases, ELEMENTSOF(hugepages_cases));
}

/* ---- dedicated-hint ---- */

static const pcase dedicated_cases[] = {
        { .name = "x86_64, kvm, host-passthrough, one CPU each", .policy = "<dedicated-hint/>", .top = X86_PINNED,
          .rule = "dedicated-hint", .changes = 1,
          .lines = { "dedicated-hint: <features><kvm><hint-dedicated state='on'/>: every vCPU has a host CPU of its own (2-3)",
                     "dedicated-hint: note: Linux guests then poll before halting (cpuidle-haltpoll)" },
          .match = { "/domain/features/kvm/hint-dedicated[@state='on']" } },
        { .name = "aarch64", .policy = "<dedicated-hint/>", .arch = "aarch64", .top = X86_PINNED,
          .rule = "dedicated-hint", .changes = 0, .lines = { "dedicated-hint: skipped: the guest is aarch64, not x86_64" },
          .nomatch = { "//hint-dedicated", "/domain/features" } },
        { .name = "TCG", .policy = "<dedicated-hint/>", .type = "qemu", .top = X86_PINNED, .rule = "dedicated-hint",
          .changes = 0, .lines = { "dedicated-hint: skipped: domain type is 'qemu', not 'kvm'" } },
        { .name = "host-model", .policy = "<dedicated-hint/>",
          .top = "  <cputune>\n    <vcpupin vcpu='0' cpuset='2'/>\n    <vcpupin vcpu='1' cpuset='3'/>\n  </cputune>\n"
                 "  <cpu mode='host-model'/>",
          .rule = "dedicated-hint", .changes = 0,
          .lines = { "dedicated-hint: skipped: CPU mode is host-model, not host-passthrough" } },
        { .name = "no <cpu>", .policy = "<dedicated-hint/>",
          .top = "  <cputune>\n    <vcpupin vcpu='0' cpuset='2'/>\n    <vcpupin vcpu='1' cpuset='3'/>\n  </cputune>",
          .rule = "dedicated-hint", .changes = 0,
          .lines = { "dedicated-hint: skipped: CPU mode is not set (<cpu mode>), not host-passthrough" } },
        { .name = "no pins", .policy = "<dedicated-hint/>", .top = "  <cpu mode='host-passthrough'/>",
          .rule = "dedicated-hint", .changes = 0,
          .lines = { "dedicated-hint: skipped: no vCPU is pinned (<cputune><vcpupin>)" } },
        { .name = "a vCPU without a pin (hot-pluggable ones count)", .policy = "<dedicated-hint/>", .vcpus = 3,
          .top = X86_PINNED, .rule = "dedicated-hint", .changes = 0,
          .lines = { "dedicated-hint: skipped: vCPU 2 has no <vcpupin>" } },
        { .name = "a vCPU on two host CPUs", .policy = "<dedicated-hint/>",
          .top = "  <cputune>\n    <vcpupin vcpu='0' cpuset='2-3'/>\n    <vcpupin vcpu='1' cpuset='4'/>\n  </cputune>\n"
                 "  <cpu mode='host-passthrough'/>",
          .rule = "dedicated-hint", .changes = 0,
          .lines = { "dedicated-hint: skipped: vCPU 0 is pinned to 2-3, not to one host CPU" } },
        { .name = "two vCPUs on one host CPU", .policy = "<dedicated-hint/>",
          .top = "  <cputune>\n    <vcpupin vcpu='0' cpuset='2'/>\n    <vcpupin vcpu='1' cpuset='2'/>\n  </cputune>\n"
                 "  <cpu mode='host-passthrough'/>",
          .rule = "dedicated-hint", .changes = 0, .lines = { "dedicated-hint: skipped: vCPUs 0 and 1 share host CPU 2" } },
        { .name = "state off becomes on; emulator on a vCPU's CPU is warned", .policy = "<dedicated-hint/>",
          .top = "  <cputune>\n    <vcpupin vcpu='0' cpuset='2'/>\n    <vcpupin vcpu='1' cpuset='3'/>\n"
                 "    <emulatorpin cpuset='3-4'/>\n  </cputune>\n"
                 "  <features>\n    <acpi/>\n    <kvm>\n      <hint-dedicated state='off'/>\n    </kvm>\n  </features>\n"
                 "  <cpu mode='host-passthrough'/>",
          .rule = "dedicated-hint", .changes = 1,
          .lines = { "dedicated-hint: hint-dedicated state off -> on", "dedicated-hint: warning: <emulatorpin cpuset='3-4'> "
                                                                      "shares host CPUs with the vCPUs (2-3)" },
          .match = { "/domain/features/kvm/hint-dedicated[@state='on']", "/domain/features/acpi" },
          .nomatch = { "/domain/features/kvm/hint-dedicated[@state='off']" } },
};

static void test_dedicated_hint(void **state)
{
        (void)state;
        run_table(dedicated_cases, ELEMENTSOF(dedicated_cases));
}

/* ---- pvspinlock ---- */

static const pcase pvspinlock_cases[] = {
        { .name = "x86_64 kvm", .policy = "<pvspinlock/>", .rule = "pvspinlock", .changes = 1,
          .lines = { "pvspinlock: <features><pvspinlock state='on'/>" },
          .match = { "/domain/features/pvspinlock[@state='on']" } },
        { .name = "aarch64: the guest's kernel command line", .policy = "<pvspinlock/>", .arch = "aarch64",
          .rule = "pvspinlock", .changes = 0,
          .lines = { "pvspinlock: skipped: aarch64: libvirt has no XML setting for PV spinlocks",
                     "pvspinlock: note: the guest needs arm_pvspin on its kernel command line" },
          .nomatch = { "//pvspinlock" } },
        { .name = "ppc64", .policy = "<pvspinlock/>", .arch = "ppc64le", .machine = "pseries", .rule = "pvspinlock",
          .changes = 0, .lines = { "pvspinlock: skipped: the guest is ppc64le: PV spinlocks are an x86 domain feature" } },
        { .name = "TCG", .policy = "<pvspinlock/>", .type = "qemu", .rule = "pvspinlock", .changes = 0,
          .lines = { "pvspinlock: skipped: domain type is 'qemu', not 'kvm'" } },
        { .name = "state off", .policy = "<pvspinlock/>",
          .top = "  <features><acpi/><apic/><pvspinlock state='off'/></features>", .rule = "pvspinlock", .changes = 1,
          .lines = { "pvspinlock: pvspinlock state off -> on" }, .match = { "/domain/features/pvspinlock[@state='on']" } },
        { .name = "with the dedicated hint", .policy = "<pvspinlock/><dedicated-hint/>", .top = X86_PINNED,
          .rule = "pvspinlock", .changes = 1,
          .lines = { "pvspinlock: note: with hint-dedicated on, Linux guests use native spinlocks" } },
};

static void test_pvspinlock(void **state)
{
        (void)state;
        run_table(pvspinlock_cases, ELEMENTSOF(pvspinlock_cases));
}

/* ---- vtpm ---- */

static const pcase vtpm_cases[] = {
        { .name = "x86 q35: tpm-crb", .policy = "<vtpm/>", .rule = "vtpm", .changes = 1,
          .lines = { "vtpm: <tpm model='tpm-crb'><backend type='emulator' version='2.0'/>: a TPM 2.0 emulated by swtpm" },
          .match = { "/domain/devices/tpm[@model='tpm-crb']/backend[@type='emulator'][@version='2.0']" } },
        { .name = "x86 i440fx: tpm-tis", .policy = "<vtpm version='2.0'/>", .machine = "pc-i440fx-7.2", .rule = "vtpm",
          .changes = 1, .match = { "/domain/devices/tpm[@model='tpm-tis']" } },
        { .name = "aarch64: tpm-tis", .policy = "<vtpm/>", .arch = "aarch64", .rule = "vtpm", .changes = 1,
          .match = { "/domain/devices/tpm[@model='tpm-tis']" } },
        { .name = "ppc64: tpm-spapr", .policy = "<vtpm/>", .arch = "ppc64", .machine = "pseries", .rule = "vtpm",
          .changes = 1, .match = { "/domain/devices/tpm[@model='tpm-spapr']" } },
        { .name = "s390x: none", .policy = "<vtpm/>", .arch = "s390x", .machine = "s390-ccw-virtio", .rule = "vtpm",
          .changes = 0, .lines = { "vtpm: skipped: no TPM model for a guest of arch s390x" }, .nomatch = { "//tpm" } },
        { .name = "a TPM already", .policy = "<vtpm/>",
          .devices = "    <tpm model='tpm-tis'>\n      <backend type='emulator' version='2.0'/>\n    </tpm>\n",
          .rule = "vtpm", .changes = 0, .lines = { "vtpm: unchanged: the VM has a TPM 2.0 (tpm-tis, emulator)" },
          .match = { "count(//tpm) = 1" } },
        { .name = "never a second TPM, never a changed one", .policy = "<vtpm/>",
          .devices = "    <tpm model='tpm-tis'>\n      <backend type='passthrough'>\n        <device path='/dev/tpm0'/>\n"
                     "      </backend>\n    </tpm>\n",
          .rule = "vtpm", .changes = 0,
          .lines = { "vtpm: skipped: the VM already has a TPM (tpm-tis, backend passthrough); vmhooks never adds a second "
                     "one nor changes one" },
          .match = { "count(//tpm) = 1", "//tpm/backend[@type='passthrough']" } },
};

static void test_vtpm(void **state)
{
        (void)state;
        run_table(vtpm_cases, ELEMENTSOF(vtpm_cases));
}

static void test_vtpm_without_swtpm(void **state)
{
        (void)state;
        char *p = NULL;
        assert_true(asprintf(&p, "%s/usr/bin/swtpm", root) > 0);
        assert_int_equal(unlink(p), 0);
        const pcase c = { .name = "no swtpm", .policy = "<vtpm/>", .rule = "vtpm", .changes = 1,
                          .lines = { "vtpm: warning: swtpm is not installed" } };
        check_case(&c);
        make_exec("/usr/bin/swtpm");
        free(p);
}

/* ---- disk-io ---- */

#define BLOCK_DISK(dev, src, driver) \
        "    <disk type='block' device='disk'>\n      " driver "\n      <source dev='" src "'/>\n" \
        "      <target dev='" dev "' bus='virtio'/>\n    </disk>\n"

static const pcase disk_io_cases[] = {
        { .name = "raw block disks get cache and io", .policy = "<disk-io cache='none' io='native'/>",
          .devices = BLOCK_DISK("vda", "/dev/vg0/root", "<driver name='qemu' type='raw'/>")
                  BLOCK_DISK("vdb", "/dev/sdb", "<driver name='qemu' type='raw' cache='writeback' io='threads'/>")
                          "    <disk type='block' device='disk'>\n      <source dev='/dev/sdc'/>\n"
                          "      <target dev='vdc' bus='virtio'/>\n    </disk>\n",
          .rule = "disk-io", .changes = 3,
          .lines = { "disk-io: disk vda (/dev/vg0/root): cache (unset) -> none, io (unset) -> native",
                     "disk-io: disk vdb (/dev/sdb): cache writeback -> none, io threads -> native" },
          .match = { "count(//disk/driver[@cache='none'][@io='native']) = 3", "//disk[target/@dev='vdc']/driver" } },
        { .name = "other disks left alone, with the reason", .policy = "<disk-io cache='none' io='native'/>",
          .devices = VIRTIO_DISK("vda", "") BLOCK_DISK("vdb", "/dev/sdb", "<driver name='qemu' type='qcow2'/>")
                  "    <disk type='network' device='disk'>\n      <driver name='qemu' type='raw'/>\n"
                  "      <source protocol='rbd' name='pool/image'>\n        <host name='ceph-mon' port='6789'/>\n"
                  "      </source>\n      <target dev='vdc' bus='virtio'/>\n    </disk>\n"
                  "    <disk type='block' device='cdrom'>\n      <driver name='qemu' type='raw'/>\n"
                  "      <source dev='/dev/sr0'/>\n      <target dev='sda' bus='sata'/>\n      <readonly/>\n    </disk>\n",
          .rule = "disk-io", .changes = 0,
          .lines = { "disk-io: skipped: disk vda (/var/lib/libvirt/images/vda.qcow2): file-backed (type='file'); cache "
                     "and io are set on raw block devices only",
                     "disk-io: skipped: disk vdb (/dev/sdb): format qcow2, not raw",
                     "disk-io: skipped: disk vdc (pool/image): network-backed (type='network')",
                     "disk-io: skipped: disk sda (/dev/sr0): a cdrom, not a disk" },
          .nomatch = { "//driver[@cache]", "//driver[@io]" } },
        { .name = "io=native needs O_DIRECT", .policy = "<disk-io io='native'/>",
          .devices = BLOCK_DISK("vda", "/dev/sdb", "<driver name='qemu' type='raw' cache='writeback'/>")
                  BLOCK_DISK("vdb", "/dev/sdc", "<driver name='qemu' type='raw' cache='directsync'/>"),
          .rule = "disk-io", .changes = 1,
          .lines = { "disk-io: skipped: disk vda (/dev/sdb): io='native' needs cache='none' or 'directsync' (cache is "
                     "writeback); io left alone",
                     "disk-io: disk vdb (/dev/sdc): io (unset) -> native" },
          .nomatch = { "//disk[target/@dev='vda']/driver[@io]" } },
        { .name = "already so", .policy = "<disk-io cache='none' io='native'/>",
          .devices = BLOCK_DISK("vda", "/dev/sdb", "<driver name='qemu' type='raw' cache='none' io='native'/>"),
          .rule = "disk-io", .changes = 0, .lines = { "disk-io: unchanged: disk vda (/dev/sdb): cache=none io=native" } },
        { .name = "no disk", .policy = "<disk-io cache='none'/>", .rule = "disk-io", .changes = 0,
          .lines = { "disk-io: skipped: the VM has no disk" } },
};

static void test_disk_io(void **state)
{
        (void)state;
        run_table(disk_io_cases, ELEMENTSOF(disk_io_cases));
}

/* ---- rdm ---- */

#define LUN(dev, src) \
        "    <disk type='block' device='lun' rawio='yes'>\n      <driver name='qemu' type='raw'/>\n" \
        "      <source dev='" src "'/>\n      <target dev='" dev "' bus='scsi'/>\n    </disk>\n"

static const pcase rdm_cases[] = {
        { .name = "a whole disk", .devices = VIRTIO_SCSI LUN("sdd", "/dev/sdd"), .rule = "rdm", .changes = 0,
          .lines = { "rdm: unchanged: disk sdd: /dev/sdd is a whole disk (sdd)" } },
        { .name = "a partition", .devices = VIRTIO_SCSI LUN("sde", "/dev/sde1"), .rule = "rdm", .changes = 0,
          .lines = { "rdm: warning: disk sde: /dev/sde1 is partition 1 of sde, not a whole disk: physical RDM "
                     "(device='lun') needs the whole disk (/dev/sde), or use device='disk' (virtual RDM)" } },
        { .name = "a logical volume", .devices = VIRTIO_SCSI LUN("sdf", "/dev/vg0/data"), .rule = "rdm", .changes = 0,
          .lines = { "rdm: warning: disk sdf: /dev/vg0/data is an LVM logical volume (vg0-data), not a whole disk" } },
        { .name = "a multipath disk", .devices = VIRTIO_SCSI LUN("sdg", "/dev/mapper/mpatha"), .rule = "rdm",
          .changes = 0, .lines = { "rdm: unchanged: disk sdg: /dev/mapper/mpatha is a whole (multipath) disk (mpatha)" } },
        { .name = "a missing device", .devices = VIRTIO_SCSI LUN("sdh", "/dev/sdx"), .rule = "rdm", .changes = 0,
          .lines = { "rdm: warning: disk sdh: cannot check /dev/sdx: no block device of this host has that path" } },
        { .name = "an iSCSI LUN", .rule = "rdm", .changes = 0,
          .devices = VIRTIO_SCSI "    <disk type='network' device='lun'>\n      <driver name='qemu' type='raw'/>\n"
                                 "      <source protocol='iscsi' name='iqn.2013-07.com.example:iscsi-nopool/1'>\n"
                                 "        <host name='example.com' port='3260'/>\n      </source>\n"
                                 "      <target dev='sdi' bus='scsi'/>\n    </disk>\n",
          .lines = { "rdm: skipped: disk sdi: a LUN of type 'network': nothing to check on this host" } },
        { .name = "no LUN", .devices = VIRTIO_DISK("vda", ""), .rule = "rdm", .changes = 0,
          .lines = { "rdm: skipped: no <disk device='lun'> (physical raw device mapping)" } },
};

static void test_rdm(void **state)
{
        (void)state;
        run_table(rdm_cases, ELEMENTSOF(rdm_cases));
}

/* ---- msix ---- */

#define HOSTDEV(bus) \
        "    <hostdev mode='subsystem' type='pci' managed='yes'>\n      <source>\n" \
        "        <address domain='0x0000' bus='" bus "' slot='0x00' function='0x0'/>\n      </source>\n    </hostdev>\n"

static const pcase msix_cases[] = {
        { .name = "an NVMe hostdev: the wrapper", .policy = "<msix-relocation bar='bar2' devices='nvme'/>",
          .devices = HOSTDEV("0x81") HOSTDEV("0x3b"), .rule = "msix", .changes = 1,
          .lines = { "msix: <emulator> /usr/bin/qemu-system-x86_64 -> /usr/libexec/vmhooks/qemu-kvm: the wrapper adds "
                     "x-msix-relocation=bar2 to 0000:81:00.0 (NVMe 144d:a808)",
                     "msix: note: the wrapper runs <wrapper emulator> of /etc/vmhooks/policy.xml or its built-in default, "
                     "not /usr/bin/qemu-system-x86_64 as before" },
          .match = { "/domain/devices/emulator[.='/usr/libexec/vmhooks/qemu-kvm']" } },
        { .name = "the wrapper's emulator is the one the VM had", .policy =
                  "<msix-relocation devices='all'/><wrapper emulator='/usr/bin/qemu-system-x86_64'/>",
          .devices = HOSTDEV("0x3b"), .rule = "msix", .changes = 1,
          .nomatch = { "/domain/devices/emulator[.='/usr/bin/qemu-system-x86_64']" } },
        { .name = "nothing selected", .policy = "<msix-relocation devices='nvme'/>", .devices = HOSTDEV("0x3b"),
          .rule = "msix", .changes = 0,
          .lines = { "msix: skipped: no PCI hostdev is selected: 0000:3b:00.0: 8086:1572, class 0x020000: not selected by "
                     "devices=\"nvme\"" },
          .match = { "/domain/devices/emulator[.='/usr/bin/qemu-system-x86_64']" } },
        { .name = "no hostdev", .policy = "<msix-relocation/>", .rule = "msix", .changes = 0,
          .lines = { "msix: skipped: the VM passes through no PCI device (<hostdev> or <interface type='hostdev'>)" } },
        { .name = "sysfs unreadable", .policy = "<msix-relocation devices='nvme'/>", .devices = HOSTDEV("0x5e"),
          .rule = "msix", .changes = 0, .lines = { "msix: warning: hostdev 0000:5e:00.0: " } },
        { .name = "override", .policy = "<msix-relocation bar='bar2' devices='nvme'/>",
          .devices = HOSTDEV("0x81") HOSTDEV("0x3b"), .flags = VH_PATCH_MSIX_OVERRIDE, .rule = "msix", .changes = 2,
          .lines = { "msix: hostdev 0000:81:00.0: <alias name='ua-vmhooks-0000-81-00-0'/>",
                     "msix: <qemu:override> for ua-vmhooks-0000-81-00-0 (0000:81:00.0, NVMe 144d:a808): "
                     "x-msix-relocation='bar2' (needs libvirt >= 8.2)" },
          .match = { "//hostdev[source/address/@bus='0x81']/alias[@name='ua-vmhooks-0000-81-00-0']",
                     "/domain/qemu:override/qemu:device[@alias='ua-vmhooks-0000-81-00-0']/qemu:frontend/"
                     "qemu:property[@name='x-msix-relocation'][@type='string'][@value='bar2']",
                     "/domain/devices/emulator[.='/usr/bin/qemu-system-x86_64']" },
          .nomatch = { "//hostdev[source/address/@bus='0x3b']/alias" } },
        { .name = "override keeps a user alias", .policy = "<msix-relocation bar='bar1' devices='0000:3b:00.0'/>",
          .devices = "    <hostdev mode='subsystem' type='pci' managed='yes'>\n      <source>\n"
                     "        <address domain='0x0000' bus='0x3b' slot='0x00' function='0x0'/>\n      </source>\n"
                     "      <alias name='ua-nic0'/>\n    </hostdev>\n",
          .flags = VH_PATCH_MSIX_OVERRIDE, .rule = "msix", .changes = 1,
          .match = { "/domain/qemu:override/qemu:device[@alias='ua-nic0']/qemu:frontend/qemu:property[@value='bar1']" } },
        { .name = "migrate/restore: the wrapper even with override", .policy = "<msix-relocation devices='nvme'/>",
          .devices = HOSTDEV("0x81"), .flags = VH_PATCH_ABI_SAFE | VH_PATCH_MSIX_OVERRIDE, .rule = "msix", .changes = 1,
          .match = { "/domain/devices/emulator[.='/usr/libexec/vmhooks/qemu-kvm']" }, .nomatch = { "//qemu:override" } },
};

static void test_msix(void **state)
{
        (void)state;
        run_table(msix_cases, ELEMENTSOF(msix_cases));
}

static void test_msix_without_wrapper(void **state)
{
        (void)state;
        char *p = NULL;
        assert_true(asprintf(&p, "%s/usr/libexec/vmhooks/qemu-kvm", root) > 0);
        assert_int_equal(unlink(p), 0);
        const pcase c = { .name = "no wrapper", .policy = "<msix-relocation devices='nvme'/>", .devices = HOSTDEV("0x81"),
                          .rule = "msix", .changes = 0,
                          .lines = { "msix: skipped: the wrapper ", "/usr/libexec/vmhooks/qemu-kvm is not installed" } };
        check_case(&c);
        make_exec("/usr/libexec/vmhooks/qemu-kvm");
        free(p);
}

/* ---- pinning (migrate, restore) ---- */

static const pcase pinning_cases[] = {
        { .name = "every CPU online", .flags = VH_PATCH_ABI_SAFE, .top = X86_PINNED, .rule = "pinning", .changes = 0,
          .lines = { "pinning: unchanged: every pinned host CPU is online here (0-3)" } },
        { .name = "missing CPUs map to free ones, one to one", .flags = VH_PATCH_ABI_SAFE, .vcpus = 2,
          .top = "  <cputune>\n    <vcpupin vcpu='0' cpuset='36'/>\n    <vcpupin vcpu='1' cpuset='37'/>\n"
                 "    <emulatorpin cpuset='0-1'/>\n  </cputune>",
          .rule = "pinning", .changes = 2,
          .lines = { "pinning: vcpupin 0: cpuset 36 -> 2 (CPU 36 not online here: 0-3)",
                     "pinning: vcpupin 1: cpuset 37 -> 3 (CPU 37 not online here: 0-3)" },
          .match = { "//vcpupin[@vcpu='0'][@cpuset='2']", "//vcpupin[@vcpu='1'][@cpuset='3']",
                     "//emulatorpin[@cpuset='0-1']" } },
        { .name = "not run by vmhooks patch/apply", .top = "  <cputune>\n    <vcpupin vcpu='0' cpuset='36'/>\n  </cputune>",
          .rule = "pinning", .changes = 0, .match = { "//vcpupin[@cpuset='36']" } },
};

static void test_pinning(void **state)
{
        (void)state;
        run_table(pinning_cases, 2);
        /* <vcpu cpuset>: a domain of its own (mkdom writes one <vcpu>) */
        const char *xml = "<domain type='kvm'>\n  <name>p</name>\n  <memory unit='KiB'>1048576</memory>\n"
                          "  <vcpu placement='static' cpuset='8-11'>4</vcpu>\n  <iothreads>1</iothreads>\n"
                          "  <cputune>\n    <vcpupin vcpu='0' cpuset='8'/>\n    <vcpupin vcpu='1' cpuset='9'/>\n"
                          "    <vcpupin vcpu='2' cpuset='10'/>\n    <vcpupin vcpu='3' cpuset='11'/>\n"
                          "    <emulatorpin cpuset='1,8'/>\n    <iothreadpin iothread='1' cpuset='9'/>\n  </cputune>\n"
                          "  <os>\n    <type arch='x86_64' machine='pc-q35-7.2'>hvm</type>\n  </os>\n</domain>\n";
        vh_patch_report rep = { 0 };
        char *out = run(xml, "", VH_PATCH_ABI_SAFE, &rep);
        char *txt = report_text(&rep);
        /* online 0-3; CPU 1 is used; free: 0, 2, 3; missing 8, 9, 10, 11 -> 0, 2, 3, then round-robin from 0 */
        static const char *const want[] = {
                "/domain/vcpu[@cpuset='0,2-3']", "//vcpupin[@vcpu='0'][@cpuset='0']", "//vcpupin[@vcpu='1'][@cpuset='2']",
                "//vcpupin[@vcpu='2'][@cpuset='3']", "//vcpupin[@vcpu='3'][@cpuset='0']", "//emulatorpin[@cpuset='0-1']",
                "//iothreadpin[@cpuset='2']",
        };
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                if (xpath_count(out, want[i]) == 0)
                        fail_msg("%s does not match in\n%s\n%s", want[i], out, txt);
        assert_int_equal(rule_changes(&rep, "pinning"), 7);
        vh_patch_report again = { 0 };
        char *out2 = run(out, "", VH_PATCH_ABI_SAFE, &again);
        assert_int_equal(again.changes, 0);
        assert_string_equal(out, out2);
        free(out2);
        vh_patch_report_done(&again);
        free(txt);
        free(out);
        vh_patch_report_done(&rep);
        check_case(&pinning_cases[2]);

        /* online CPUs unknown: pins left, and said why */
        char *p = NULL;
        assert_true(asprintf(&p, "%s/sys/devices/system/cpu/online", root) > 0);
        assert_int_equal(unlink(p), 0);
        const pcase c = { .name = "online unknown", .flags = VH_PATCH_ABI_SAFE, .top = X86_PINNED, .rule = "pinning",
                          .changes = 0, .lines = { "pinning: skipped: cannot tell which CPUs are online here" } };
        check_case(&c);
        tu_write(root, "/sys/devices/system/cpu/online", "0-3\n");
        free(p);
}

/* ---- all rules together, ABI-safe subset ---- */

static void test_abi_safe_runs_only_host_side_rules(void **state)
{
        (void)state;
        const pcase c = {
                .name = "ABI-safe", .flags = VH_PATCH_ABI_SAFE, .rule = "iothreads", .changes = 0,
                .policy = "<iothreads count='auto'/><hugepages size='2M'/><dedicated-hint/><pvspinlock/><vtpm/>"
                          "<disk-io cache='none' io='native'/>",
                .top = X86_PINNED, .devices = BLOCK_DISK("vda", "/dev/sdb", "<driver name='qemu' type='raw'/>"),
                .nomatch = { "//memoryBacking", "//hint-dedicated", "//pvspinlock", "//tpm", "//driver[@cache]",
                             "/domain/iothreads" },
        };
        check_case(&c);
        vh_patch_report rep = { 0 };
        char *xml = mkdom(&c);
        char *out = run(xml, c.policy, c.flags, &rep);
        for (size_t i = 0; i < rep.n; i++)
                if (streq(rep.lines[i].rule, "hugepages") || streq(rep.lines[i].rule, "vtpm") ||
                    streq(rep.lines[i].rule, "disk-io") || streq(rep.lines[i].rule, "rdm"))
                        fail_msg("rule %s ran under VH_PATCH_ABI_SAFE", rep.lines[i].rule);
        free(out);
        free(xml);
        vh_patch_report_done(&rep);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_iothreads),
                cmocka_unit_test(test_hugepages),
                cmocka_unit_test(test_dedicated_hint),
                cmocka_unit_test(test_pvspinlock),
                cmocka_unit_test(test_vtpm),
                cmocka_unit_test(test_vtpm_without_swtpm),
                cmocka_unit_test(test_disk_io),
                cmocka_unit_test(test_rdm),
                cmocka_unit_test(test_msix),
                cmocka_unit_test(test_msix_without_wrapper),
                cmocka_unit_test(test_pinning),
                cmocka_unit_test(test_abi_safe_runs_only_host_side_rules),
        };
        return cmocka_run_group_tests_name("patch rules", tests, group_setup, group_teardown);
}
