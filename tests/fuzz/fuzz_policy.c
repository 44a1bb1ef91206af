/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_policy — lib/policy.c, the typed policy parser (vh_policy_apply),
 * on any bytes read as XML the way /etc/vmhooks/policy.xml is read.  (The
 * agreement with etc/policy.rng is fuzz_policy_diff's job.)
 *
 * Invariants, for any bytes:
 * - vh_xml_parse fails with -EINVAL and a message naming the file, or
 *   gives a document;
 * - vh_policy_apply, on top of an empty policy and on top of a full host
 *   policy, as the host file and as a VM's metadata:
 *   - fails with -EINVAL, a message naming the source, and the policy
 *     left exactly as it was; or
 *   - succeeds, and then every element the document gives replaces that
 *     element, every element it does not give is kept, an element given
 *     with enabled="no" is present and off, and <wrapper> is accepted only
 *     from the host file;
 *   - applying the same document again changes nothing;
 * - vh_policy_describe always gives a line.
 */
#include "fuzz.h"

#include <errno.h>

#include "policy.h"
#include "xml.h"

#define WHERE "/etc/vmhooks/policy.xml"

static const char full_host[] =
        "<policy xmlns=\"urn:vmhooks:policy:1\">\n"
        "  <thp mode=\"auto\"/>\n  <halt-poll ns=\"400000\"/>\n"
        "  <kworkers isolate=\"yes\" cpus=\"2-5\"/>\n  <svirt mode=\"enforce\"/>\n"
        "  <isolate irqs=\"follow-vm\" tasks=\"no\" cpus=\"3-4\"/>\n"
        "  <hugepage-pool margin=\"1G\" drop-caches=\"yes\"/>\n"
        "  <msix-relocation bar=\"bar2\" devices=\"nvme 126f:2262,0000:81:00.1\"/>\n"
        "  <iothreads count=\"auto\" cpuset=\"0-1\"/>\n  <hugepages size=\"1G\"/>\n"
        "  <dedicated-hint/>  <pvspinlock enabled=\"no\"/>  <vtpm version=\"2.0\"/>\n"
        "  <disk-io cache=\"none\" io=\"native\"/>\n"
        "  <guest-agent block-rpcs=\"guest-exec,guest-file-open\"/>\n"
        "  <on-error action=\"refuse\"/>\n  <wrapper emulator=\"/usr/libexec/qemu-kvm\"/>\n"
        "</policy>\n";

static xmlDocPtr full_host_doc;

static bool cpuset_eq(bool ha, const vh_cpuset *a, bool hb, const vh_cpuset *b)
{
        return ha == hb && (!ha || vh_cpuset_equal(a, b));
}

/* Element e of a and b, field by field. */
static bool elem_equal(const vh_policy *a, const vh_policy *b, vh_policy_elem e)
{
        unsigned bit = 1u << e;
        if ((a->present & bit) != (b->present & bit) || (a->enabled & bit) != (b->enabled & bit))
                return false;
        switch (e) {
        case VH_P_THP: return a->thp == b->thp && a->thp_defrag == b->thp_defrag;
        case VH_P_HALT_POLL: return a->halt_poll_ns == b->halt_poll_ns;
        case VH_P_KWORKERS:
                return a->kworkers_isolate == b->kworkers_isolate &&
                       cpuset_eq(a->has_kworkers_cpus, &a->kworkers_cpus, b->has_kworkers_cpus, &b->kworkers_cpus);
        case VH_P_ISOLATE:
                return a->isolate_from == b->isolate_from && a->isolate_cpus_from == b->isolate_cpus_from &&
                       cpuset_eq(a->isolate_cpus_from == VH_ISO_CPUS_LIST, &a->isolate_cpus,
                                 b->isolate_cpus_from == VH_ISO_CPUS_LIST, &b->isolate_cpus);
        case VH_P_SVIRT: return a->svirt == b->svirt;
        case VH_P_MSIX: return fuzz_streq0(a->msix_bar, b->msix_bar) && fuzz_streq0(a->msix_devices, b->msix_devices);
        case VH_P_IOTHREADS:
                return a->iothreads_auto == b->iothreads_auto && a->iothreads_count == b->iothreads_count &&
                       cpuset_eq(a->has_iothreads_cpuset, &a->iothreads_cpuset, b->has_iothreads_cpuset,
                                 &b->iothreads_cpuset);
        case VH_P_HUGEPAGES: return a->hugepages_kib == b->hugepages_kib;
        case VH_P_VTPM: return fuzz_streq0(a->vtpm_version, b->vtpm_version);
        case VH_P_DISK_IO: return fuzz_streq0(a->disk_cache, b->disk_cache) && fuzz_streq0(a->disk_io, b->disk_io);
        case VH_P_GUEST_AGENT: return fuzz_streq0(a->guest_agent_block, b->guest_agent_block);
        case VH_P_ON_ERROR: return a->on_error == b->on_error;
        case VH_P_WRAPPER: return fuzz_streq0(a->wrapper_emulator, b->wrapper_emulator);
        case VH_P_HUGEPOOL:
                return a->hugepool_allocate == b->hugepool_allocate && a->hugepool_compact == b->hugepool_compact &&
                       a->hugepool_drop_caches == b->hugepool_drop_caches &&
                       a->hugepool_margin_kib == b->hugepool_margin_kib;
        case VH_P_DEDICATED_HINT: case VH_P_PVSPINLOCK: case VH_P_COUNT: return true;
        }
        return true;
}

static void same_policy(const vh_policy *a, const vh_policy *b, const char *what)
{
        for (int e = 0; e < VH_P_COUNT; e++)
                FUZZ_CHECK(elem_equal(a, b, (vh_policy_elem)e), "%s: <%s> differs", what,
                           vh_policy_elem_name((vh_policy_elem)e));
}

static int apply_text(vh_policy *p, xmlDocPtr doc, bool host)
{
        return vh_policy_apply(p, xmlDocGetRootElement(doc), WHERE, host, NULL);
}

static void check_apply(xmlNodePtr root, bool host, bool on_full)
{
        vh_policy base = { 0 }, before = { 0 }, only = { 0 };
        if (on_full) {
                FUZZ_CHECK(apply_text(&base, full_host_doc, true) == 0, "the full host policy is refused");
                FUZZ_CHECK(apply_text(&before, full_host_doc, true) == 0, "the full host policy is refused");
        }
        const char *where = host ? WHERE : "metadata of VM fuzz";
        vh_error *e = NULL;
        int r = vh_policy_apply(&base, root, where, host, &e);
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL, "apply failed with %d (%s); bad input must be -EINVAL", r, vh_error_msg(e));
                FUZZ_CHECK(e && e->msg && strncmp(e->msg, where, strlen(where)) == 0 && e->msg[strlen(where)] == ':',
                           "the message does not start with the source: %s", vh_error_msg(e));
                same_policy(&base, &before, "a failed apply changed the policy");
                vh_error_free(e);
                vh_policy_done(&base);
                vh_policy_done(&before);
                return;
        }
        FUZZ_CHECK(!e, "applied with an error set: %s", vh_error_msg(e));
        /* what the document alone says */
        FUZZ_CHECK(vh_policy_apply(&only, root, where, host, NULL) == 0, "the document is accepted once only");
        FUZZ_CHECK(host || !(only.present & (1u << VH_P_WRAPPER)), "<wrapper> accepted from a VM's metadata");
        FUZZ_CHECK((only.enabled & ~only.present) == 0, "enabled without present");
        for (int i = 0; i < VH_P_COUNT; i++) {
                vh_policy_elem el = (vh_policy_elem)i;
                const vh_policy *want = (only.present >> i) & 1 ? &only : &before;
                FUZZ_CHECK(elem_equal(&base, want, el), "after the merge, <%s> is not the %s's",
                           vh_policy_elem_name(el), (only.present >> i) & 1 ? "document" : "base policy");
        }
        char *d = vh_policy_describe(&base);
        FUZZ_CHECK(d && *d && !strchr(d, '\n'), "describe gave no line");
        free(d);
        /* applying it again changes nothing */
        vh_policy again = { 0 };
        if (on_full)
                FUZZ_CHECK(apply_text(&again, full_host_doc, true) == 0, "the full host policy is refused");
        FUZZ_CHECK(vh_policy_apply(&again, root, where, host, NULL) == 0, "refused the second time");
        FUZZ_CHECK(vh_policy_apply(&again, root, where, host, NULL) == 0, "refused the third time");
        same_policy(&again, &base, "applying the document twice");
        vh_policy_done(&again);
        vh_policy_done(&only);
        vh_policy_done(&base);
        vh_policy_done(&before);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        fuzz_init();
        if (vh_xml_parse(full_host, sizeof(full_host) - 1, "full", &full_host_doc, NULL) < 0)
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *buf = fuzz_memdup(data, size);
        xmlDocPtr doc = NULL;
        vh_error *e = NULL;
        int r = vh_xml_parse(buf, size, WHERE, &doc, &e);
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL, "xml_parse failed with %d (%s); bad input must be -EINVAL", r,
                           vh_error_msg(e));
                FUZZ_CHECK(e && e->msg && strncmp(e->msg, WHERE ": ", strlen(WHERE) + 2) == 0,
                           "the message does not name the file: %s", vh_error_msg(e));
                FUZZ_CHECK(!doc, "*ret set on failure");
                vh_error_free(e);
                free(buf);
                return 0;
        }
        FUZZ_CHECK(!doc->intSubset && !doc->extSubset, "a document with a DOCTYPE was accepted");
        xmlNodePtr root = xmlDocGetRootElement(doc);
        for (int host = 0; host < 2; host++)
                for (int full = 0; full < 2; full++)
                        check_apply(root, host, full);
        xmlFreeDoc(doc);
        free(buf);
        return 0;
}
