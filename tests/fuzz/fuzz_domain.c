/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_domain — lib/domain.c (and lib/xml.c under it): the libvirt domain
 * XML the hook reads from stdin on every call, then what the hook does with
 * the model before touching the host: the VM's policy in <metadata>, the
 * effective policy, the vCPUs' host CPUs and the MSI-X plan.
 *
 * The input is given as an exact-size buffer (vh_domain_parse takes a
 * length), so a read past the end is an ASan report.  The private
 * VMHOOKS_ROOT holds a host policy and a fake sysfs with a few PCI devices
 * (NVMe, a quirk, a NIC) so that the plan reads something.
 *
 * Invariants, for any bytes:
 * - parse fails with -EINVAL and a message naming the input, or succeeds
 *   with a named domain; a DOCTYPE anywhere in the prolog is refused;
 * - the model is consistent: counts match the XML, a PCI hostdev address
 *   is a normalized BDF;
 * - vh_policy_apply on the VM's <policy> fails cleanly or succeeds;
 *   vh_policy_effective never fails (bad sources are reported, not fatal);
 * - the MSI-X plan made from the domain survives format -> parse.
 */
#include "fuzz.h"

#include <errno.h>

#include "domain.h"
#include "msix.h"
#include "policy.h"
#include "util.h"
#include "xml.h"

#define WHAT "domain XML on stdin"

static const char host_policy[] =
        "<policy xmlns=\"urn:vmhooks:policy:1\">\n"
        "  <thp mode=\"auto\"/>\n"
        "  <kworkers isolate=\"yes\"/>\n"
        "  <msix-relocation bar=\"bar2\" devices=\"nvme quirks 0000:06:12.3 8086:1572\"/>\n"
        "  <on-error action=\"continue\"/>\n"
        "</policy>\n";

static void fake_pci(const char *bdf, const char *vendor, const char *device, const char *class)
{
        char path[128];
        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", bdf);
        fuzz_write_root_file(path, vendor);
        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", bdf);
        fuzz_write_root_file(path, device);
        snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/class", bdf);
        fuzz_write_root_file(path, class);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        fuzz_init();
        fuzz_write_root_file(VH_POLICY_FILE, host_policy);
        fake_pci("0000:81:00.1", "0x144d\n", "0xa808\n", "0x010802\n");  /* Samsung NVMe */
        fake_pci("0000:82:00.0", "0x126f\n", "0x2262\n", "0x010802\n");  /* SM2262: a quirk */
        fake_pci("0000:06:12.1", "0x8086\n", "0x1572\n", "0x020000\n");  /* Intel NIC, listed by id */
        fake_pci("0000:06:12.2", "0x8086\n", "0x10fb\n", "0x020000\n");  /* not selected */
        fake_pci("0000:06:12.4", "0xzz\n", "0x10fb\n", "0x020000\n");    /* unreadable vendor */
        return 0;
}

static size_t count_children(xmlNodePtr parent, const char *name)
{
        size_t n = 0;
        vh_xml_foreach(c, parent, name)
                n++;
        return n;
}

static void check_model(const vh_domain *d)
{
        FUZZ_CHECK(d->name && *d->name, "accepted a domain without a name");
        FUZZ_CHECK(d->doc, "no document kept");
        xmlNodePtr root = xmlDocGetRootElement(d->doc);
        FUZZ_CHECK(root && strcmp((const char *)root->name, "domain") == 0, "root is not <domain>");
        xmlNodePtr devs = vh_xml_child(root, "devices");
        FUZZ_CHECK(d->n_disks == (devs ? count_children(devs, "disk") : 0), "%zu disks", d->n_disks);
        FUZZ_CHECK(d->n_hostdevs == (devs ? count_children(devs, "hostdev") : 0), "%zu hostdevs", d->n_hostdevs);
        FUZZ_CHECK(d->n_controllers == (devs ? count_children(devs, "controller") : 0), "%zu controllers",
                   d->n_controllers);
        FUZZ_CHECK(d->n_tpms == (devs ? count_children(devs, "tpm") : 0), "%zu tpms", d->n_tpms);
        FUZZ_CHECK(d->n_seclabels == count_children(root, "seclabel"), "%zu seclabels", d->n_seclabels);
        for (size_t i = 0; i < d->n_hostdevs; i++) {
                const vh_hostdev *h = &d->hostdevs[i];
                if (!h->has_pci_address)
                        continue;
                char norm[13];
                FUZZ_CHECK(vh_pci_bdf_normalize(h->bdf, norm) == 0 && strcmp(norm, h->bdf) == 0,
                           "hostdev %zu: address \"%s\" is not a normalized BDF", i, h->bdf);
        }
        for (size_t i = 0; i < d->n_vcpupins; i++)
                FUZZ_CHECK(d->vcpupins[i].cpus.nwords <= VH_CPUSET_MAX / 64, "vcpupin %zu: a cpuset too large", i);
        if (d->policy) {
                FUZZ_CHECK(d->policy->type == XML_ELEMENT_NODE &&
                                   strcmp((const char *)d->policy->name, "policy") == 0 && d->policy->ns &&
                                   strcmp((const char *)d->policy->ns->href, VH_POLICY_NS) == 0,
                           "d->policy is not <policy xmlns=\"%s\">", VH_POLICY_NS);
        }
}

static void check_plan(const vh_domain *d, const vh_policy *p)
{
        vh_msix_plan plan = { 0 };
        vh_buf lines = { 0 };
        vh_error *e = NULL;
        int r = vh_msix_plan_make(d, p, &plan, &lines, &e);
        FUZZ_CHECK(r == 0 || r == -E2BIG, "plan_make failed with %d: %s", r, vh_error_msg(e));
        vh_error_free(e);
        e = NULL;
        if (r == 0 && plan.uuid) {
                for (size_t i = 0; i < plan.n_picks; i++)
                        FUZZ_CHECK(plan.picks[i].alias && plan.picks[i].bdf && plan.picks[i].bar && plan.picks[i].why,
                                   "pick %zu incomplete", i);
                char *text = NULL;
                FUZZ_CHECK(vh_msix_plan_format(&plan, &text, &e) == 0, "plan_format: %s", vh_error_msg(e));
                vh_msix_plan back = { 0 };
                int pr = vh_msix_plan_parse(text, &back, &e);
                FUZZ_CHECK(pr == 0, "the plan made from the domain is not read back (%s):\n%s", vh_error_msg(e), text);
                FUZZ_CHECK(back.n_picks == plan.n_picks && back.enabled == plan.enabled &&
                                   fuzz_streq0(back.uuid, plan.uuid) && fuzz_streq0(back.name, plan.name),
                           "the plan changed when read back:\n%s", text);
                for (size_t i = 0; i < plan.n_picks; i++)
                        FUZZ_CHECK(fuzz_streq0(back.picks[i].alias, plan.picks[i].alias) &&
                                           fuzz_streq0(back.picks[i].bdf, plan.picks[i].bdf) &&
                                           fuzz_streq0(back.picks[i].why, plan.picks[i].why),
                                   "pick %zu changed when read back:\n%s", i, text);
                vh_msix_plan_done(&back);
                free(text);
        }
        vh_msix_plan_done(&plan);
        vh_buf_free(&lines);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *xml = fuzz_memdup(data, size);
        vh_domain *d = NULL;
        vh_error *e = NULL;
        int r = vh_domain_parse(xml, size, WHAT, &d, &e);
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL, "parse failed with %d (%s); bad input must be -EINVAL", r, vh_error_msg(e));
                FUZZ_CHECK(e && e->msg && strstr(e->msg, WHAT), "the message does not name the input: %s",
                           vh_error_msg(e));
                FUZZ_CHECK(!d, "*ret set on failure");
                vh_error_free(e);
                free(xml);
                return 0;
        }
        FUZZ_CHECK(!e, "parsed with an error set: %s", vh_error_msg(e));
        FUZZ_CHECK(!d->doc->intSubset && !d->doc->extSubset, "a document with a DOCTYPE was accepted");
        check_model(d);

        vh_cpuset cpus = { 0 };
        FUZZ_CHECK(vh_domain_vcpu_cpus(d, &cpus) == 0, "vcpu_cpus failed");
        for (size_t i = 0; i < d->n_vcpupins; i++) {
                vh_cpuset t = { 0 };
                FUZZ_CHECK(vh_cpuset_copy(&t, &d->vcpupins[i].cpus) == 0, "copy");
                vh_cpuset_subtract(&t, &cpus);
                FUZZ_CHECK(vh_cpuset_is_empty(&t), "vcpupin %zu has CPUs outside vcpu_cpus", i);
                vh_cpuset_done(&t);
        }
        vh_cpuset_done(&cpus);

        if (d->policy) {
                vh_policy p = { 0 };
                r = vh_policy_apply(&p, d->policy, "metadata of VM fuzz", false, &e);
                FUZZ_CHECK(r == 0 || r == -EINVAL, "policy_apply failed with %d: %s", r, vh_error_msg(e));
                FUZZ_CHECK(r == 0 || p.present == 0, "a failed policy_apply changed the policy");
                char *desc = vh_policy_describe(&p);
                FUZZ_CHECK(desc, "describe failed");
                free(desc);
                vh_policy_done(&p);
                vh_error_free(e);
                e = NULL;
        }

        vh_policy eff = { 0 };
        vh_error *host_err = NULL, *vm_err = NULL;
        FUZZ_CHECK(vh_policy_effective(d, &eff, &host_err, &vm_err) == 0, "policy_effective failed");
        FUZZ_CHECK(!host_err, "the fixed host policy was refused: %s", vh_error_msg(host_err));
        FUZZ_CHECK(!vm_err || d->policy, "an error about a policy the VM does not have: %s", vh_error_msg(vm_err));
        check_plan(d, &eff);
        vh_error_free(vm_err);
        vh_policy_done(&eff);

        vh_domain_free(d);
        free(xml);
        return 0;
}
