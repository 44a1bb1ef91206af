/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/relaxng.h>
#include <libxml/xmlversion.h>

#include "domain.h"
#include "root.h"
#include "util.h"
#include "xml.h"

#include "policy_rng.h" /* generated from etc/policy.rng: policy_rng[] */

typedef struct elem_def {
        const char *name;
        const char *const *attrs;       /* allowed besides "enabled" */
        bool can_disable;
        bool host_only;
} elem_def;

#define ATTRS(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const elem_def elems[VH_P_COUNT] = {
        [VH_P_THP] = { "thp", ATTRS("mode", "defrag"), true, false },
        [VH_P_HALT_POLL] = { "halt-poll", ATTRS("ns"), true, false },
        [VH_P_KWORKERS] = { "kworkers", ATTRS("isolate", "cpus"), true, false },
        [VH_P_ISOLATE] = { "isolate", ATTRS("workqueues", "irqs", "tasks", "cpus"), true, false },
        [VH_P_SVIRT] = { "svirt", ATTRS("mode"), true, false },
        [VH_P_MSIX] = { "msix-relocation", ATTRS("bar", "devices"), true, false },
        [VH_P_IOTHREADS] = { "iothreads", ATTRS("count", "cpuset"), true, false },
        [VH_P_HUGEPAGES] = { "hugepages", ATTRS("size"), true, false },
        [VH_P_DEDICATED_HINT] = { "dedicated-hint", ATTRS(NULL), true, false },
        [VH_P_PVSPINLOCK] = { "pvspinlock", ATTRS(NULL), true, false },
        [VH_P_VTPM] = { "vtpm", ATTRS("version"), true, false },
        [VH_P_DISK_IO] = { "disk-io", ATTRS("cache", "io"), true, false },
        [VH_P_GUEST_AGENT] = { "guest-agent", ATTRS("block-rpcs"), true, false },
        [VH_P_ON_ERROR] = { "on-error", ATTRS("action"), false, false },
        [VH_P_WRAPPER] = { "wrapper", ATTRS("emulator"), false, true },
        [VH_P_HUGEPOOL] = { "hugepage-pool", ATTRS("allocate", "compact", "drop-caches", "margin"), true, false },
};

static const char *const thp_names[] = {
        [VH_THP_NONE] = "none", [VH_THP_AUTO] = "auto", [VH_THP_MADVISE] = "madvise",
        [VH_THP_ALWAYS] = "always", [VH_THP_NEVER] = "never",
};

static const char *const defrag_names[] = {
        [VH_DEFRAG_NONE] = "none", [VH_DEFRAG_ALWAYS] = "always", [VH_DEFRAG_MADVISE] = "madvise",
        [VH_DEFRAG_DEFER_MADVISE] = "defer+madvise", [VH_DEFRAG_DEFER] = "defer", [VH_DEFRAG_NEVER] = "never",
};

const char *vh_thp_defrag_name(vh_thp_defrag d)
{
        return d <= VH_DEFRAG_NEVER ? defrag_names[d] : "?";
}

const char *vh_policy_elem_name(vh_policy_elem e)
{
        return e < VH_P_COUNT ? elems[e].name : "?";
}

const char *vh_thp_mode_name(vh_thp_mode m)
{
        return m <= VH_THP_NEVER ? thp_names[m] : "?";
}

static void clear_elem(vh_policy *p, vh_policy_elem e)
{
        switch (e) {
        case VH_P_THP: p->thp = VH_THP_NONE; p->thp_defrag = VH_DEFRAG_NONE; break;
        case VH_P_HALT_POLL: p->halt_poll_ns = 0; break;
        case VH_P_KWORKERS:
                p->kworkers_isolate = false;
                p->has_kworkers_cpus = false;
                vh_cpuset_done(&p->kworkers_cpus);
                break;
        case VH_P_ISOLATE:
                p->isolate_from = 0;
                p->isolate_cpus_from = VH_ISO_CPUS_VCPUS;
                vh_cpuset_done(&p->isolate_cpus);
                break;
        case VH_P_SVIRT: p->svirt = VH_SVIRT_OFF; break;
        case VH_P_MSIX:
                free(p->msix_bar);
                free(p->msix_devices);
                p->msix_bar = p->msix_devices = NULL;
                break;
        case VH_P_IOTHREADS:
                p->iothreads_auto = false;
                p->iothreads_count = 0;
                p->has_iothreads_cpuset = false;
                vh_cpuset_done(&p->iothreads_cpuset);
                break;
        case VH_P_HUGEPAGES: p->hugepages_kib = 0; break;
        case VH_P_DEDICATED_HINT: case VH_P_PVSPINLOCK: break;
        case VH_P_VTPM: free(p->vtpm_version); p->vtpm_version = NULL; break;
        case VH_P_DISK_IO:
                free(p->disk_cache);
                free(p->disk_io);
                p->disk_cache = p->disk_io = NULL;
                break;
        case VH_P_GUEST_AGENT: free(p->guest_agent_block); p->guest_agent_block = NULL; break;
        case VH_P_ON_ERROR: p->on_error = VH_ON_ERROR_CONTINUE; break;
        case VH_P_WRAPPER: free(p->wrapper_emulator); p->wrapper_emulator = NULL; break;
        case VH_P_HUGEPOOL:
                p->hugepool_allocate = p->hugepool_compact = p->hugepool_drop_caches = false;
                p->hugepool_margin_kib = 0;
                break;
        case VH_P_COUNT: break;
        }
        p->present &= ~(1u << e);
        p->enabled &= ~(1u << e);
        p->from_vm &= ~(1u << e);
        p->line[e] = 0;
}

void vh_policy_done(vh_policy *p)
{
        for (int e = 0; e < VH_P_COUNT; e++)
                clear_elem(p, (vh_policy_elem)e);
}

#define MOVE(field) do { dst->field = src->field; } while (0)
#define MOVE_PTR(field) do { dst->field = src->field; src->field = NULL; } while (0)

/* Move element e from src to dst (dst's old value freed). */
static void move_elem(vh_policy *dst, vh_policy *src, vh_policy_elem e)
{
        clear_elem(dst, e);
        switch (e) {
        case VH_P_THP: MOVE(thp); MOVE(thp_defrag); break;
        case VH_P_HALT_POLL: MOVE(halt_poll_ns); break;
        case VH_P_KWORKERS:
                MOVE(kworkers_isolate);
                MOVE(has_kworkers_cpus);
                dst->kworkers_cpus = src->kworkers_cpus;
                src->kworkers_cpus = (vh_cpuset){ 0 };
                break;
        case VH_P_ISOLATE:
                MOVE(isolate_from);
                MOVE(isolate_cpus_from);
                dst->isolate_cpus = src->isolate_cpus;
                src->isolate_cpus = (vh_cpuset){ 0 };
                break;
        case VH_P_SVIRT: MOVE(svirt); break;
        case VH_P_MSIX: MOVE_PTR(msix_bar); MOVE_PTR(msix_devices); break;
        case VH_P_IOTHREADS:
                MOVE(iothreads_auto);
                MOVE(iothreads_count);
                MOVE(has_iothreads_cpuset);
                dst->iothreads_cpuset = src->iothreads_cpuset;
                src->iothreads_cpuset = (vh_cpuset){ 0 };
                break;
        case VH_P_HUGEPAGES: MOVE(hugepages_kib); break;
        case VH_P_DEDICATED_HINT: case VH_P_PVSPINLOCK: break;
        case VH_P_VTPM: MOVE_PTR(vtpm_version); break;
        case VH_P_DISK_IO: MOVE_PTR(disk_cache); MOVE_PTR(disk_io); break;
        case VH_P_GUEST_AGENT: MOVE_PTR(guest_agent_block); break;
        case VH_P_ON_ERROR: MOVE(on_error); break;
        case VH_P_WRAPPER: MOVE_PTR(wrapper_emulator); break;
        case VH_P_HUGEPOOL:
                MOVE(hugepool_allocate);
                MOVE(hugepool_compact);
                MOVE(hugepool_drop_caches);
                MOVE(hugepool_margin_kib);
                break;
        case VH_P_COUNT: break;
        }
        dst->present |= src->present & (1u << e);
        dst->enabled |= src->enabled & (1u << e);
        dst->from_vm |= src->from_vm & (1u << e);
        dst->line[e] = src->line[e];
}

/* Context for one element's errors: "WHERE: line N: <name attr=...>: " */
typedef struct ectx {
        const char *where;
        const xmlNode *node;
        const xmlNode *root;    /* <policy> */
        bool relative;          /* metadata: lines count from <policy>, not from libvirt's document */
        char line[64];          /* "line 16", "line 2 of the <policy> element" */
} ectx;

/*
 * The line of n as the administrator knows it: the file's own line for a
 * policy file; for metadata, the line within the <policy> element (libvirt
 * stores it inside a whole domain definition, reindented), and it says so.
 */
static long elem_line(const ectx *c, const xmlNode *n)
{
        long l = xmlGetLineNo(n), base = xmlGetLineNo(c->root);
        return c->relative && l >= base ? l - base + 1 : l;
}

static void set_line(ectx *c, const xmlNode *n)
{
        snprintf(c->line, sizeof(c->line), "line %ld%s", elem_line(c, n),
                 c->relative ? " of the <policy> element" : "");
}

static int bad(const ectx *c, vh_error **err, const char *attr, const char *value, const char *expected)
{
        if (attr)
                return vh_fail_input(err, "%s: %s: <%s %s=\"%s\">: expected %s", c->where, c->line,
                                     c->node->name, attr, value ? value : "", expected);
        return vh_fail_input(err, "%s: %s: <%s>: expected %s", c->where, c->line, c->node->name, expected);
}

/* Required attribute `name` must be one of the NULL-terminated `choices`. */
static int parse_choice(const ectx *c, const char *name, const char *const *choices, bool required,
                        int *ret, vh_error **err)
{
        _cleanup_free_ char *v = vh_xml_prop(c->node, name);
        if (!v) {
                if (!required)
                        return 0;
                char msg[256] = "";
                size_t off = (size_t)snprintf(msg, sizeof(msg), "attribute %s=", name);
                for (int i = 0; choices[i] && off < sizeof(msg); i++)
                        off += (size_t)snprintf(msg + off, sizeof(msg) - off, "%s\"%s\"", i ? "|" : "",
                                                choices[i]);
                return bad(c, err, NULL, NULL, msg);
        }
        for (int i = 0; choices[i]; i++) {
                if (streq(v, choices[i])) {
                        *ret = i;
                        return 1;
                }
        }
        char msg[256] = "";
        size_t off = 0;
        for (int i = 0; choices[i] && off < sizeof(msg); i++)
                off += (size_t)snprintf(msg + off, sizeof(msg) - off, "%s%s", i ? ", " : "one of ",
                                        choices[i]);
        return bad(c, err, name, v, msg);
}

/*
 * The lexical rules below are the schema's (etc/policy.rng), character for
 * character, so that the typed parser and the schema judge alike (the unit
 * tests and tests/fuzz/fuzz_policy_diff.c hold them to it).
 */

/* A CPU number 0..65535 without leading zeros, at *p of length n. */
static bool cpu_number(const char *p, size_t n)
{
        if (n == 0 || n > 5 || (n > 1 && p[0] == '0'))
                return false;
        unsigned long v = 0;
        for (size_t i = 0; i < n; i++) {
                if (p[i] < '0' || p[i] > '9')
                        return false;
                v = v * 10 + (unsigned long)(p[i] - '0');
        }
        return v <= 65535;
}

/* N, N-M or ^N, comma-separated: the schema's cpulist pattern. */
static bool cpulist_syntax(const char *v)
{
        const char *p = v;
        for (;;) {
                size_t n = strcspn(p, ",");
                const char *dash = memchr(p, '-', n);
                bool ok;
                if (n > 0 && p[0] == '^')
                        ok = cpu_number(p + 1, n - 1);
                else if (dash)
                        ok = cpu_number(p, (size_t)(dash - p)) && cpu_number(dash + 1, n - (size_t)(dash - p) - 1);
                else
                        ok = cpu_number(p, n);
                if (!ok)
                        return false;
                if (!p[n])
                        return true;
                p += n + 1;
        }
}

/* Digits only (no blanks, no sign): the schema's pattern for numbers. */
static int parse_number(const char *v, uint64_t max, uint64_t *ret)
{
        if (!v || !*v || strspn(v, "0123456789") != strlen(v))
                return -EINVAL;
        return vh_parse_u64(v, max, ret);
}

static int parse_cpus(const ectx *c, const char *name, bool *has, vh_cpuset *set, vh_error **err)
{
        _cleanup_free_ char *v = vh_xml_prop(c->node, name);
        if (!v)
                return 0;
        if (!cpulist_syntax(v))
                return bad(c, err, name, v, "a cpulist such as \"2-5,8\" or \"0-7,^3\" (CPUs 0 to 65535)");
        /* what a pattern cannot say, and the schema therefore does not check */
        _cleanup_error_ vh_error *inner = NULL;
        if (vh_cpuset_parse_list(v, set, &inner) < 0 || vh_cpuset_is_empty(set))
                return bad(c, err, name, v, VH_POLICY_CPULIST_SEMANTICS);
        *has = true;
        return 0;
}

static int parse_thp(vh_policy *p, const ectx *c, vh_error **err)
{
        static const char *const modes[] = { "auto", "madvise", "always", "never", NULL };
        static const vh_thp_mode vals[] = { VH_THP_AUTO, VH_THP_MADVISE, VH_THP_ALWAYS, VH_THP_NEVER };
        static const char *const defrags[] = { "always", "madvise", "defer+madvise", "defer", "never", NULL };
        static const vh_thp_defrag dvals[] = { VH_DEFRAG_ALWAYS, VH_DEFRAG_MADVISE, VH_DEFRAG_DEFER_MADVISE,
                                               VH_DEFRAG_DEFER, VH_DEFRAG_NEVER };
        int i = 0, r = parse_choice(c, "mode", modes, false, &i, err);
        if (r < 0)
                return r;
        int j = 0, rd = parse_choice(c, "defrag", defrags, false, &j, err);
        if (rd < 0)
                return rd;
        if (r == 0 && rd == 0)
                return bad(c, err, NULL, NULL, "attribute mode=\"auto\"|\"never\"|\"madvise\"|\"always\", "
                                               "or defrag=, or both");
        p->thp = r > 0 ? vals[i] : VH_THP_NONE;
        p->thp_defrag = rd > 0 ? dvals[j] : VH_DEFRAG_NONE;
        return 0;
}

static int parse_halt_poll(vh_policy *p, const ectx *c, vh_error **err)
{
        _cleanup_free_ char *v = vh_xml_prop(c->node, "ns");
        uint64_t ns;
        if (parse_number(v, UINT32_MAX, &ns) < 0)
                return bad(c, err, "ns", v, "nanoseconds, an integer from 0 to 4294967295");
        p->halt_poll_ns = (uint32_t)ns;
        return 0;
}

static int parse_kworkers(vh_policy *p, const ectx *c, vh_error **err)
{
        static const char *const yn[] = { "no", "yes", NULL };
        int i = 0, r = parse_choice(c, "isolate", yn, true, &i, err);
        if (r < 0)
                return r;
        p->kworkers_isolate = i == 1;
        return parse_cpus(c, "cpus", &p->has_kworkers_cpus, &p->kworkers_cpus, err);
}

/* <isolate workqueues= irqs= tasks= cpus=>: every source not given is on. */
static int parse_isolate(vh_policy *p, const ectx *c, vh_error **err)
{
        static const char *const yn[] = { "no", "yes", NULL };
        static const char *const irq[] = { "no", "yes", "follow-vm", NULL };
        int wq = 1, irqs = 1, tasks = 1;
        int r = parse_choice(c, "workqueues", yn, false, &wq, err);
        if (r >= 0)
                r = parse_choice(c, "irqs", irq, false, &irqs, err);
        if (r >= 0)
                r = parse_choice(c, "tasks", yn, false, &tasks, err);
        if (r < 0)
                return r;
        p->isolate_from = (wq ? VH_ISO_WQ : 0) | (irqs ? VH_ISO_IRQS : 0) | (irqs == 2 ? VH_ISO_IRQS_FOLLOW : 0) |
                          (tasks ? VH_ISO_TASKS : 0);
        _cleanup_free_ char *v = vh_xml_prop(c->node, "cpus");
        if (!v || streq(v, "vcpus")) {
                p->isolate_cpus_from = VH_ISO_CPUS_VCPUS;
                return 0;
        }
        if (streq(v, "pinned")) {
                p->isolate_cpus_from = VH_ISO_CPUS_PINNED;
                return 0;
        }
        if (!cpulist_syntax(v))
                return bad(c, err, "cpus", v,
                           "\"vcpus\", \"pinned\" (vCPUs, IOThreads and emulator) or a cpulist such as \"2-5,8\"");
        bool has = false;
        r = parse_cpus(c, "cpus", &has, &p->isolate_cpus, err);
        if (r == 0)
                p->isolate_cpus_from = VH_ISO_CPUS_LIST;
        return r;
}

static int parse_svirt(vh_policy *p, const ectx *c, vh_error **err)
{
        static const char *const modes[] = { "off", "warn", "enforce", NULL };
        int i = 0, r = parse_choice(c, "mode", modes, true, &i, err);
        if (r < 0)
                return r;
        p->svirt = (vh_svirt_mode)i;
        return 0;
}

static bool hex_digits(const char *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (vh_hexval(p[i]) < 0)
                        return false;
        return true;
}

/* 81:00.1 (bus, slot 00-1f, function 0-7), with or without a 0000: domain */
static bool short_bdf(const char *t, size_t n)
{
        return n == 7 && hex_digits(t, 2) && t[2] == ':' && (t[3] == '0' || t[3] == '1') && hex_digits(t + 4, 1) &&
               t[5] == '.' && t[6] >= '0' && t[6] <= '7';
}

/* One word of devices=: nvme, quirks, all (first and alone in meaning), a PCI address, a vendor:device id. */
static bool msix_token(const char *t, size_t n, bool first)
{
        if ((n == 4 && !memcmp(t, "nvme", 4)) || (n == 6 && !memcmp(t, "quirks", 6)) ||
            (first && n == 3 && !memcmp(t, "all", 3)))
                return true;
        if (short_bdf(t, n) || (n == 12 && hex_digits(t, 4) && t[4] == ':' && short_bdf(t + 5, 7)))
                return true;
        return n == 9 && hex_digits(t, 4) && t[4] == ':' && hex_digits(t + 5, 4);
}

/* Words separated by runs of blanks and commas, none before the first or after the last. */
static bool word_list(const char *v, bool (*word)(const char *, size_t, bool))
{
        const char *p = v;
        if (!*p)
                return false;
        for (bool first = true;; first = false) {
                size_t n = strcspn(p, " ,");
                if (!word(p, n, first))
                        return false;
                p += n;
                if (!*p)
                        return true;
                p += strspn(p, " ,");
                if (!*p)
                        return false; /* a separator at the end */
        }
}

static int parse_msix(vh_policy *p, const ectx *c, vh_error **err)
{
        static const char *const bars[] = { "auto", "bar0", "bar1", "bar2", "bar3", "bar4", "bar5", NULL };
        int i = 3, r = parse_choice(c, "bar", bars, false, &i, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *devs = vh_xml_prop(c->node, "devices");
        if (devs && !word_list(devs, msix_token))
                return bad(c, err, "devices", devs,
                           "nvme, quirks, all, or a list of them with PCI addresses (0000:81:00.1) and "
                           "vendor:device ids (126f:2262), separated by commas or blanks");
        p->msix_bar = strdup(bars[i]);
        p->msix_devices = devs ? TAKE_PTR(devs) : strdup("nvme");
        if (!p->msix_bar || !p->msix_devices)
                return vh_fail(err, ENOMEM, "%s", c->where);
        return 0;
}

static int parse_iothreads(vh_policy *p, const ectx *c, vh_error **err)
{
        _cleanup_free_ char *v = vh_xml_prop(c->node, "count");
        uint64_t n;
        if (streq(v, "auto"))
                p->iothreads_auto = true;
        else if (parse_number(v, 64, &n) == 0 && n >= 1)
                p->iothreads_count = (unsigned)n;
        else
                return bad(c, err, "count", v, "\"auto\" or a number from 1 to 64");
        return parse_cpus(c, "cpuset", &p->has_iothreads_cpuset, &p->iothreads_cpuset, err);
}

static int parse_hugepages(vh_policy *p, const ectx *c, vh_error **err)
{
        static const char *const sizes[] = { "2M", "1G", NULL };
        static const uint64_t kib[] = { 2048, 1048576 };
        int i = 0, r = parse_choice(c, "size", sizes, true, &i, err);
        if (r < 0)
                return r;
        p->hugepages_kib = kib[i];
        return 0;
}

static int parse_flag(vh_policy *p, const ectx *c, vh_error **err)
{
        (void)p;
        if (vh_xml_first_element(c->node))
                return bad(c, err, NULL, NULL, "an empty element");
        return 0;
}

static int parse_vtpm(vh_policy *p, const ectx *c, vh_error **err)
{
        static const char *const versions[] = { "2.0", NULL };
        int i = 0, r = parse_choice(c, "version", versions, false, &i, err);
        if (r < 0)
                return r;
        p->vtpm_version = strdup(versions[i]);
        return p->vtpm_version ? 0 : vh_fail(err, ENOMEM, "%s", c->where);
}

static int parse_disk_io(vh_policy *p, const ectx *c, vh_error **err)
{
        static const char *const caches[] = { "none", "writethrough", "writeback", "directsync", "unsafe", NULL };
        static const char *const ios[] = { "native", "threads", "io_uring", NULL };
        int ci = -1, ii = -1;
        int r = parse_choice(c, "cache", caches, false, &ci, err);
        if (r < 0)
                return r;
        r = parse_choice(c, "io", ios, false, &ii, err);
        if (r < 0)
                return r;
        if (ci < 0 && ii < 0)
                return bad(c, err, NULL, NULL, "attribute cache= or io= (or both)");
        if (ci >= 0 && !(p->disk_cache = strdup(caches[ci])))
                return vh_fail(err, ENOMEM, "%s", c->where);
        if (ii >= 0 && !(p->disk_io = strdup(ios[ii])))
                return vh_fail(err, ENOMEM, "%s", c->where);
        return 0;
}

/* A qemu-ga command: lower-case letters, digits and dashes. */
static bool rpc_name(const char *t, size_t n, bool first)
{
        (void)first;
        return n > 0 && strspn(t, "abcdefghijklmnopqrstuvwxyz0123456789-") >= n;
}

static int parse_guest_agent(vh_policy *p, const ectx *c, vh_error **err)
{
        _cleanup_free_ char *v = vh_xml_prop(c->node, "block-rpcs");
        if (!v || !word_list(v, rpc_name))
                return bad(c, err, "block-rpcs", v, "a list of qemu-ga commands such as \"guest-exec,guest-file-open\"");
        p->guest_agent_block = TAKE_PTR(v);
        return 0;
}

static int parse_on_error(vh_policy *p, const ectx *c, vh_error **err)
{
        static const char *const actions[] = { "continue", "refuse", NULL };
        int i = 0, r = parse_choice(c, "action", actions, true, &i, err);
        if (r < 0)
                return r;
        p->on_error = (vh_on_error)i;
        return 0;
}

static int parse_wrapper(vh_policy *p, const ectx *c, vh_error **err)
{
        _cleanup_free_ char *v = vh_xml_prop(c->node, "emulator");
        if (!v || v[0] != '/' || strpbrk(v, " \t\n\r"))
                return bad(c, err, "emulator", v, "an absolute path such as /usr/libexec/qemu-kvm");
        p->wrapper_emulator = TAKE_PTR(v);
        return 0;
}

/* yes|no attribute `name`, `dflt` when absent */
static int parse_yes_no(const ectx *c, const char *name, bool dflt, bool *ret, vh_error **err)
{
        static const char *const yn[] = { "no", "yes", NULL };
        int i = dflt ? 1 : 0, r = parse_choice(c, name, yn, false, &i, err);
        if (r < 0)
                return r;
        *ret = i == 1;
        return 0;
}

/* margin="512M": 1 to 9 digits and a unit K, M or G (the schema's pattern), at most 1 TiB... of KiB */
static int parse_size_kib(const char *v, uint64_t *ret)
{
        size_t n = v ? strlen(v) : 0;
        if (n < 2 || n > 10 || strspn(v, "0123456789") != n - 1)
                return -EINVAL;
        uint64_t mult = v[n - 1] == 'K' ? 1 : v[n - 1] == 'M' ? 1024 : v[n - 1] == 'G' ? 1024 * 1024 : 0;
        _cleanup_free_ char *digits = strndup(v, n - 1);
        uint64_t x;
        if (!mult || !digits || vh_parse_u64(digits, 999999999, &x) < 0)
                return -EINVAL;
        *ret = x * mult;
        return 0;
}

static int parse_hugepool(vh_policy *p, const ectx *c, vh_error **err)
{
        int r = parse_yes_no(c, "allocate", true, &p->hugepool_allocate, err);
        if (r == 0)
                r = parse_yes_no(c, "compact", true, &p->hugepool_compact, err);
        if (r == 0)
                r = parse_yes_no(c, "drop-caches", false, &p->hugepool_drop_caches, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *m = vh_xml_prop(c->node, "margin");
        p->hugepool_margin_kib = VH_HUGEPOOL_DEFAULT_MARGIN_KIB;
        if (m && parse_size_kib(m, &p->hugepool_margin_kib) < 0)
                return bad(c, err, "margin", m, "a size such as \"512M\" or \"2G\" (digits and a unit K, M or G)");
        return 0;
}

typedef int (*parse_fn)(vh_policy *, const ectx *, vh_error **);
static const parse_fn parsers[VH_P_COUNT] = {
        [VH_P_THP] = parse_thp,
        [VH_P_HALT_POLL] = parse_halt_poll,
        [VH_P_KWORKERS] = parse_kworkers,
        [VH_P_ISOLATE] = parse_isolate,
        [VH_P_SVIRT] = parse_svirt,
        [VH_P_MSIX] = parse_msix,
        [VH_P_IOTHREADS] = parse_iothreads,
        [VH_P_HUGEPAGES] = parse_hugepages,
        [VH_P_DEDICATED_HINT] = parse_flag,
        [VH_P_PVSPINLOCK] = parse_flag,
        [VH_P_VTPM] = parse_vtpm,
        [VH_P_DISK_IO] = parse_disk_io,
        [VH_P_GUEST_AGENT] = parse_guest_agent,
        [VH_P_ON_ERROR] = parse_on_error,
        [VH_P_WRAPPER] = parse_wrapper,
        [VH_P_HUGEPOOL] = parse_hugepool,
};

static bool in_our_ns(const xmlNode *n)
{
        return !n->ns || (n->ns->href && strcmp((const char *)n->ns->href, VH_POLICY_NS) == 0);
}

static const char *expected_elements(void)
{
        return "thp, halt-poll, kworkers, isolate, svirt, msix-relocation, iothreads, hugepages, dedicated-hint, "
               "pvspinlock, vtpm, disk-io, guest-agent, on-error, wrapper, hugepage-pool";
}

static int check_attrs(const ectx *c, const elem_def *def, vh_error **err)
{
        for (const xmlAttr *a = c->node->properties; a; a = a->next) {
                const char *an = (const char *)a->name;
                bool ok = !a->ns && def->can_disable && streq(an, "enabled");
                for (int i = 0; !ok && def->attrs[i]; i++)
                        ok = !a->ns && streq(an, def->attrs[i]);
                if (ok)
                        continue;
                char allowed[160] = "";
                size_t off = 0;
                for (int i = 0; def->attrs[i] && off < sizeof(allowed); i++)
                        off += (size_t)snprintf(allowed + off, sizeof(allowed) - off, "%s%s", i ? ", " : "",
                                                def->attrs[i]);
                if (def->can_disable && off < sizeof(allowed))
                        snprintf(allowed + off, sizeof(allowed) - off, "%senabled", off ? ", " : "");
                return vh_fail_input(err, "%s: %s: <%s>: unknown attribute %s; expected %s", c->where, c->line,
                                     c->node->name, an, *allowed ? allowed : "no attributes");
        }
        return 0;
}

int vh_policy_apply(vh_policy *p, xmlNodePtr root, const char *where, bool host, vh_error **err)
{
        ectx c = { .where = where, .node = root, .root = root, .relative = !host };
        set_line(&c, root);
        if (!in_our_ns(root) || strcmp((const char *)root->name, "policy") != 0)
                return vh_fail_input(err, "%s: %s: root element <%s>: expected <policy xmlns=\"%s\">", where, c.line,
                                     root->name, VH_POLICY_NS);
        if (root->properties)
                return vh_fail_input(err, "%s: %s: <policy>: unknown attribute %s; expected none", where, c.line,
                                     root->properties->name);

        _cleanup_policy_ vh_policy t = { 0 };
        for (xmlNodePtr n = root->children; n; n = n->next) {
                c.node = n;
                set_line(&c, n);
                if (n->type == XML_TEXT_NODE) {
                        if (!xmlIsBlankNode(n))
                                return vh_fail_input(err, "%s: %s: <policy>: unexpected text; expected elements",
                                                     where, c.line);
                        continue;
                }
                if (n->type != XML_ELEMENT_NODE)
                        continue; /* comments, PIs */
                int e = -1;
                for (int i = 0; i < VH_P_COUNT && e < 0; i++)
                        if (streq((const char *)n->name, elems[i].name))
                                e = i;
                if (e < 0 || !in_our_ns(n))
                        return vh_fail_input(err, "%s: %s: unknown element <%s>; expected one of %s", where, c.line,
                                             n->name, expected_elements());
                if (elems[e].host_only && !host)
                        return vh_fail_input(err, "%s: %s: <%s>: allowed only in %s", where, c.line, n->name,
                                             VH_POLICY_FILE);
                if ((t.present >> e) & 1)
                        return vh_fail_input(err, "%s: %s: <%s> given twice; expected at most one", where, c.line,
                                             n->name);
                int r = check_attrs(&c, &elems[e], err);
                if (r < 0)
                        return r;
                if (vh_xml_first_element(n))
                        return bad(&c, err, NULL, NULL, "an empty element");
                for (xmlNodePtr k = n->children; k; k = k->next)
                        if ((k->type == XML_TEXT_NODE || k->type == XML_CDATA_SECTION_NODE) && !xmlIsBlankNode(k))
                                return bad(&c, err, NULL, NULL, "no text inside the element");
                t.present |= 1u << e;
                t.line[e] = elem_line(&c, n);
                if (!host)
                        t.from_vm |= 1u << e;
                _cleanup_free_ char *en = vh_xml_prop(n, "enabled");
                if (streq(en, "no")) {
                        if (xmlHasProp(n, (const xmlChar *)"enabled") && n->properties->next)
                                return bad(&c, err, "enabled", en, "no other attributes with enabled=\"no\"");
                        continue;
                }
                if (en && !streq(en, "yes"))
                        return bad(&c, err, "enabled", en, "yes or no");
                r = parsers[e](&t, &c, err);
                if (r < 0)
                        return r;
                t.enabled |= 1u << e;
        }

        for (int e = 0; e < VH_P_COUNT; e++)
                if ((t.present >> e) & 1)
                        move_elem(p, &t, (vh_policy_elem)e);
        return 0;
}

int vh_policy_load_host(vh_policy *p, vh_error **err)
{
        _cleanup_free_ char *path = vh_path(VH_POLICY_FILE);
        if (!path)
                return vh_fail(err, ENOMEM, "policy");
        if (access(path, F_OK) < 0 && errno == ENOENT)
                return 0;
        _cleanup_xmldoc_ xmlDocPtr doc = NULL;
        int r = vh_xml_parse_file(path, &doc, err);
        if (r < 0)
                return r;
        return vh_policy_apply(p, xmlDocGetRootElement(doc), path, true, err);
}

/* ---- schema ---- */

VH_DEFINE_CLEANUP(xmlRelaxNGParserCtxtPtr, xmlRelaxNGFreeParserCtxt)
VH_DEFINE_CLEANUP(xmlRelaxNGPtr, xmlRelaxNGFree)
VH_DEFINE_CLEANUP(xmlRelaxNGValidCtxtPtr, xmlRelaxNGFreeValidCtxt)

typedef struct schema_errors {
        char *first;
} schema_errors;

/* libxml2 2.12 made the structured error const. */
#if LIBXML_VERSION >= 21200
#define VH_XML_ERROR const xmlError
#else
#define VH_XML_ERROR xmlError
#endif

static void collect_error(void *data, VH_XML_ERROR *e)
{
        schema_errors *se = data;
        if (se->first || !e || !e->message)
                return;
        _cleanup_free_ char *m = strdup(e->message);
        if (!m)
                return;
        vh_rstrip(m);
        const xmlNode *n = e->node;
        char *s = NULL;
        if (n && n->type == XML_ELEMENT_NODE) {
                if (asprintf(&s, "line %ld: <%s>: %s", xmlGetLineNo(n), n->name, m) < 0)
                        s = NULL;
        } else if (e->line > 0 ? asprintf(&s, "line %d: %s", e->line, m) < 0 : !(s = strdup(m))) {
                s = NULL;
        }
        se->first = s;
}

/* Put every element without a namespace into ours (virsh metadata --set leaves children bare). */
static void adopt_ns(xmlNodePtr n, xmlNsPtr ns)
{
        for (; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE)
                        continue;
                if (!n->ns)
                        xmlSetNs(n, ns);
                adopt_ns(n->children, ns);
        }
}

int vh_policy_validate_schema(xmlNodePtr root, const char *where, vh_error **err)
{
        _cleanup_xmldoc_ xmlDocPtr doc = xmlNewDoc((const xmlChar *)"1.0");
        xmlNodePtr copy = doc ? xmlDocCopyNode(root, doc, 1) : NULL;
        if (!copy)
                return vh_fail(err, ENOMEM, "%s", where);
        xmlDocSetRootElement(doc, copy);
        xmlNsPtr ns = xmlSearchNsByHref(doc, copy, (const xmlChar *)VH_POLICY_NS);
        if (!ns)
                ns = xmlNewNs(copy, (const xmlChar *)VH_POLICY_NS, NULL);
        if (!ns) /* a default namespace of another URI is declared */
                ns = xmlNewNs(copy, (const xmlChar *)VH_POLICY_NS, (const xmlChar *)"vmhooks-policy");
        if (!ns)
                return vh_fail(err, ENOMEM, "%s", where);
        xmlSetNs(copy, ns);
        adopt_ns(copy->children, ns);

        _cleanup_(xmlRelaxNGFreeParserCtxtp) xmlRelaxNGParserCtxtPtr pctxt =
                xmlRelaxNGNewMemParserCtxt((const char *)policy_rng, (int)sizeof(policy_rng));
        if (!pctxt)
                return vh_fail(err, ENOMEM, "policy schema");
        schema_errors se = { 0 };
        xmlRelaxNGSetParserStructuredErrors(pctxt, collect_error, &se);
        _cleanup_(xmlRelaxNGFreep) xmlRelaxNGPtr schema = xmlRelaxNGParse(pctxt);
        if (!schema) {
                _cleanup_free_ char *m = se.first;
                return vh_fail_input(err, "built-in policy schema does not compile: %s", m ? m : "?");
        }
        _cleanup_(xmlRelaxNGFreeValidCtxtp) xmlRelaxNGValidCtxtPtr vctxt = xmlRelaxNGNewValidCtxt(schema);
        if (!vctxt)
                return vh_fail(err, ENOMEM, "policy schema");
        xmlRelaxNGSetValidStructuredErrors(vctxt, collect_error, &se);
        int r = xmlRelaxNGValidateDoc(vctxt, doc);
        _cleanup_free_ char *m = se.first;
        if (r != 0)
                return vh_fail_input(err, "%s: %s (see vmhooks-policy(5))", where,
                                     m ? m : "does not match the policy schema");
        return 0;
}

int vh_policy_effective(const vh_domain *dom, vh_policy *ret, vh_error **host_err, vh_error **vm_err)
{
        _cleanup_policy_ vh_policy p = { 0 };
        int r = vh_policy_load_host(&p, host_err);
        if (r == -ENOMEM)
                return r;
        if (dom && dom->policy) {
                _cleanup_free_ char *where = NULL;
                if (asprintf(&where, "metadata of VM %s", dom->name) < 0)
                        return -ENOMEM;
                r = vh_policy_apply(&p, dom->policy, where, false, vm_err);
                if (r == -ENOMEM)
                        return r;
        }
        vh_policy_done(ret);
        *ret = p;
        memset(&p, 0, sizeof(p));
        return 0;
}

int vh_policy_describe_elem(const vh_policy *p, vh_policy_elem e, vh_buf *b)
{
        if (!((p->present >> e) & 1))
                return vh_buf_puts(b, "not set");
        if (!vh_policy_on(p, e))
                return vh_buf_puts(b, "off");
        int r = 0;
        switch (e) {
        case VH_P_THP:
                if (p->thp != VH_THP_NONE)
                        r = vh_buf_printf(b, "%s", vh_thp_mode_name(p->thp));
                if (r == 0 && p->thp_defrag != VH_DEFRAG_NONE)
                        r = vh_buf_printf(b, "%sdefrag %s", p->thp != VH_THP_NONE ? " " : "",
                                          vh_thp_defrag_name(p->thp_defrag));
                break;
        case VH_P_HALT_POLL: r = vh_buf_printf(b, "%u", p->halt_poll_ns); break;
        case VH_P_KWORKERS: {
                r = vh_buf_printf(b, "isolate=%s", p->kworkers_isolate ? "yes" : "no");
                if (r == 0 && p->has_kworkers_cpus) {
                        _cleanup_free_ char *l = vh_cpuset_format_list(&p->kworkers_cpus);
                        r = l ? vh_buf_printf(b, " cpus=%s", l) : -ENOMEM;
                }
                break;
        }
        case VH_P_ISOLATE: {
                unsigned f = p->isolate_from;
                r = vh_buf_printf(b, "workqueues=%s irqs=%s tasks=%s", f & VH_ISO_WQ ? "yes" : "no",
                                  f & VH_ISO_IRQS_FOLLOW ? "follow-vm" : f & VH_ISO_IRQS ? "yes" : "no",
                                  f & VH_ISO_TASKS ? "yes" : "no");
                if (r == 0 && p->isolate_cpus_from == VH_ISO_CPUS_LIST) {
                        _cleanup_free_ char *l = vh_cpuset_format_list(&p->isolate_cpus);
                        r = l ? vh_buf_printf(b, " cpus=%s", l) : -ENOMEM;
                } else if (r == 0) {
                        r = vh_buf_printf(b, " cpus=%s", p->isolate_cpus_from == VH_ISO_CPUS_PINNED ? "pinned" : "vcpus");
                }
                break;
        }
        case VH_P_SVIRT: {
                static const char *const m[] = { "off", "warn", "enforce" };
                r = vh_buf_printf(b, "%s", m[p->svirt]);
                break;
        }
        case VH_P_MSIX: r = vh_buf_printf(b, "%s devices=%s", p->msix_bar, p->msix_devices); break;
        case VH_P_IOTHREADS:
                if (p->iothreads_auto)
                        r = vh_buf_puts(b, "auto");
                else
                        r = vh_buf_printf(b, "%u", p->iothreads_count);
                if (r == 0 && p->has_iothreads_cpuset) {
                        _cleanup_free_ char *l = vh_cpuset_format_list(&p->iothreads_cpuset);
                        r = l ? vh_buf_printf(b, " cpuset=%s", l) : -ENOMEM;
                }
                break;
        case VH_P_HUGEPAGES: r = vh_buf_puts(b, p->hugepages_kib == 2048 ? "2M" : "1G"); break;
        case VH_P_VTPM: r = vh_buf_printf(b, "%s", p->vtpm_version); break;
        case VH_P_DISK_IO:
                r = vh_buf_printf(b, "%s%s%s%s%s", p->disk_cache ? "cache=" : "", p->disk_cache ? p->disk_cache : "",
                                  p->disk_cache && p->disk_io ? " " : "", p->disk_io ? "io=" : "",
                                  p->disk_io ? p->disk_io : "");
                break;
        case VH_P_GUEST_AGENT: r = vh_buf_printf(b, "block-rpcs=%s", p->guest_agent_block); break;
        case VH_P_ON_ERROR: r = vh_buf_puts(b, p->on_error == VH_ON_ERROR_REFUSE ? "refuse" : "continue"); break;
        case VH_P_WRAPPER: r = vh_buf_printf(b, "%s", p->wrapper_emulator); break;
        case VH_P_HUGEPOOL:
                r = vh_buf_printf(b, "allocate=%s compact=%s drop-caches=%s margin=%lluM",
                                  p->hugepool_allocate ? "yes" : "no", p->hugepool_compact ? "yes" : "no",
                                  p->hugepool_drop_caches ? "yes" : "no",
                                  (unsigned long long)(p->hugepool_margin_kib / 1024));
                break;
        case VH_P_DEDICATED_HINT: case VH_P_PVSPINLOCK: r = vh_buf_puts(b, "on"); break;
        case VH_P_COUNT: break;
        }
        return r;
}

char *vh_policy_describe(const vh_policy *p)
{
        _cleanup_buf_ vh_buf b = { 0 };
        int r = vh_buf_puts(&b, "");
        for (int e = 0; r == 0 && e < VH_P_COUNT; e++) {
                if (!((p->present >> e) & 1))
                        continue;
                r = vh_buf_printf(&b, "%s%s", b.len ? ", " : "", elems[e].name);
                if (r < 0)
                        break;
                if (e == VH_P_DEDICATED_HINT || e == VH_P_PVSPINLOCK) {
                        if (!vh_policy_on(p, (vh_policy_elem)e))
                                r = vh_buf_puts(&b, " off");
                        continue;
                }
                r = vh_buf_puts(&b, " ");
                if (r == 0)
                        r = vh_policy_describe_elem(p, (vh_policy_elem)e, &b);
        }
        if (r < 0)
                return NULL;
        if (b.len == 0 && vh_buf_puts(&b, "empty") < 0)
                return NULL;
        return TAKE_PTR(b.data);
}
