/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pinning — host CPUs the VM is pinned to that are not online here
 * (`migrate begin` and `restore begin` only: VH_PATCH_ABI_SAFE)
 *
 * A VM that migrates, or is restored, onto a host with fewer CPUs would
 * fail to start when its <vcpupin>, <emulatorpin>, <iothreadpin> or <vcpu
 * cpuset> name CPUs that are not in /sys/devices/system/cpu/online.  Pins
 * are host-side: changing them keeps the guest ABI.  Each missing CPU is
 * mapped to the lowest online CPU that no pin of the VM uses yet, taking
 * the vCPU pins first (so vCPUs pinned one-to-one stay one-to-one while
 * there are enough CPUs), then the emulator's, the IOThreads' and <vcpu
 * cpuset>; when no free CPU is left, round-robin over the online CPUs.  The
 * same missing CPU maps to the same CPU in every pin.  CPUs that are online
 * stay.
 */
#include "rule.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "root.h"
#include "util.h"
#include "xml.h"

#define ONLINE "/sys/devices/system/cpu/online"

typedef struct item {
        xmlNodePtr node;
        const char *attr;       /* "cpuset" */
        char *label;            /* "vcpupin 2" */
        int prio;               /* the order in which missing CPUs get a new one */
        vh_cpuset set;
} item;

typedef struct items {
        item *v;
        size_t n;
} items;

static void items_done(items *s)
{
        for (size_t i = 0; i < s->n; i++) {
                free(s->v[i].label);
                vh_cpuset_done(&s->v[i].set);
        }
        free(s->v);
}

/* 0, -ENOMEM, or 1 when the cpuset does not parse (left to libvirt to complain about). */
static int add_item(items *s, xmlNodePtr node, const char *label, const char *idattr, int prio)
{
        _cleanup_free_ char *v = vh_xml_prop(node, "cpuset");
        if (!v)
                return 1;
        _cleanup_cpuset_ vh_cpuset set = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        if (vh_cpuset_parse_list(v, &set, &e) < 0)
                return e && e->code == ENOMEM ? -ENOMEM : 1;
        item *t = realloc(s->v, (s->n + 1) * sizeof(*t));
        if (!t)
                return -ENOMEM;
        s->v = t;
        item *k = &s->v[s->n];
        *k = (item){ .node = node, .attr = "cpuset", .prio = prio, .set = set };
        _cleanup_free_ char *id = idattr ? vh_xml_prop(node, idattr) : NULL;
        if (asprintf(&k->label, "%s%s%s", label, id ? " " : "", id ? id : "") < 0)
                return -ENOMEM;
        set = (vh_cpuset){ 0 };
        s->n++;
        return 0;
}

static bool next_cpu(const vh_cpuset *s, unsigned from, unsigned *ret)
{
        for (size_t w = from / 64; w < s->nwords; w++) {
                uint64_t bits = s->words[w];
                if (w == from / 64)
                        bits &= ~0ULL << (from % 64);
                if (bits) {
                        *ret = (unsigned)(w * 64 + (unsigned)__builtin_ctzll(bits));
                        return true;
                }
        }
        return false;
}

typedef struct map {
        unsigned *from, *to;
        size_t n;
} map;

static void map_done(map *m)
{
        free(m->from);
        free(m->to);
}

static unsigned map_of(const map *m, unsigned cpu)
{
        for (size_t i = 0; i < m->n; i++)
                if (m->from[i] == cpu)
                        return m->to[i];
        return cpu;
}

static bool mapped(const map *m, unsigned cpu)
{
        for (size_t i = 0; i < m->n; i++)
                if (m->from[i] == cpu)
                        return true;
        return false;
}

/*
 * Missing CPUs get new ones in this order: those of the vCPU pins (so that
 * one-to-one pins stay one-to-one while free CPUs last), then the
 * emulator's, the IOThreads', <vcpu cpuset>'s; each the lowest free online
 * CPU, then round-robin over the online CPUs.
 */
static int build_map(const items *s, const vh_cpuset *missing, const vh_cpuset *online, const vh_cpuset *used, map *m)
{
        size_t n = vh_cpuset_count(missing);
        m->from = calloc(n ? n : 1, sizeof(unsigned));
        m->to = calloc(n ? n : 1, sizeof(unsigned));
        if (!m->from || !m->to)
                return -ENOMEM;
        _cleanup_cpuset_ vh_cpuset free_cpus = { 0 };
        if (vh_cpuset_copy(&free_cpus, online) < 0)
                return -ENOMEM;
        vh_cpuset_subtract(&free_cpus, used);
        unsigned cursor = 0, f = 0;
        for (int prio = 0; prio <= 3; prio++) {
                for (size_t i = 0; i < s->n; i++) {
                        if (s->v[i].prio != prio)
                                continue;
                        unsigned cpu = 0;
                        for (unsigned from = 0; next_cpu(&s->v[i].set, from, &cpu); from = cpu + 1) {
                                if (vh_cpuset_test(online, cpu) || mapped(m, cpu) || m->n >= n)
                                        continue;
                                unsigned to;
                                if (next_cpu(&free_cpus, f, &to)) {
                                        f = to + 1;
                                } else {
                                        if (!next_cpu(online, cursor, &to) && !next_cpu(online, 0, &to))
                                                return -EINVAL; /* no online CPU: checked by the caller */
                                        cursor = to + 1;
                                }
                                m->from[m->n] = cpu;
                                m->to[m->n++] = to;
                        }
                }
        }
        return 0;
}

int vh_rule_pinning(vh_patch_ctx *c, vh_error **err)
{
        const vh_cpuset *online = &c->facts->online;
        if (!(c->facts->parts & VH_FACTS_CPUS) || vh_cpuset_is_empty(online))
                return vh_rule_say(c, err, VH_PATCH_SKIPPED,
                                   "cannot tell which CPUs are online here (the host facts have no %s); pins left as "
                                   "they are",
                                   ONLINE);

        _cleanup_(items_done) items s = { 0 };
        int r = 0;
        xmlNodePtr vcpu = vh_pdom_child(c->root, "vcpu");
        if (vcpu && (r = add_item(&s, vcpu, "<vcpu cpuset>", NULL, 3)) < 0)
                return vh_fail(err, ENOMEM, "pinning");
        xmlNodePtr cputune = vh_pdom_child(c->root, "cputune");
        for (xmlNodePtr n = cputune ? vh_xml_first_element(cputune) : NULL; n; n = vh_xml_next_element(n)) {
                if (n->ns)
                        continue;
                const char *name = (const char *)n->name;
                if (streq(name, "vcpupin"))
                        r = add_item(&s, n, "vcpupin", "vcpu", 0);
                else if (streq(name, "emulatorpin"))
                        r = add_item(&s, n, "emulatorpin", NULL, 1);
                else if (streq(name, "iothreadpin"))
                        r = add_item(&s, n, "iothreadpin", "iothread", 2);
                if (r < 0)
                        return vh_fail(err, ENOMEM, "pinning");
        }
        if (s.n == 0)
                return vh_rule_say(c, err, VH_PATCH_SKIPPED, "the VM pins nothing to host CPUs");

        _cleanup_cpuset_ vh_cpuset used = { 0 }, missing = { 0 };
        for (size_t i = 0; i < s.n; i++) {
                _cleanup_cpuset_ vh_cpuset t = { 0 };
                if (vh_cpuset_copy(&t, &s.v[i].set) < 0)
                        return vh_fail(err, ENOMEM, "pinning");
                vh_cpuset_intersect(&t, online);
                if (vh_cpuset_union(&used, &t) < 0 || vh_cpuset_copy(&t, &s.v[i].set) < 0)
                        return vh_fail(err, ENOMEM, "pinning");
                vh_cpuset_subtract(&t, online);
                if (vh_cpuset_union(&missing, &t) < 0)
                        return vh_fail(err, ENOMEM, "pinning");
        }
        _cleanup_free_ char *online_l = vh_cpuset_format_list(online);
        if (!online_l)
                return vh_fail(err, ENOMEM, "pinning");
        if (vh_cpuset_is_empty(&missing))
                return vh_rule_say(c, err, VH_PATCH_UNCHANGED, "every pinned host CPU is online here (%s)", online_l);

        _cleanup_(map_done) map m = { 0 };
        if (build_map(&s, &missing, online, &used, &m) < 0)
                return vh_fail(err, ENOMEM, "pinning");
        for (size_t i = 0; i < s.n; i++) {
                item *k = &s.v[i];
                _cleanup_cpuset_ vh_cpuset gone = { 0 }, next = { 0 };
                if (vh_cpuset_copy(&gone, &k->set) < 0 || vh_cpuset_copy(&next, &k->set) < 0)
                        return vh_fail(err, ENOMEM, "pinning");
                vh_cpuset_subtract(&gone, online);
                if (vh_cpuset_is_empty(&gone))
                        continue;
                vh_cpuset_intersect(&next, online);
                unsigned cpu = 0;
                for (unsigned from = 0; next_cpu(&gone, from, &cpu); from = cpu + 1)
                        if (vh_cpuset_set(&next, map_of(&m, cpu)) < 0)
                                return vh_fail(err, ENOMEM, "pinning");
                _cleanup_free_ char *old = vh_cpuset_format_list(&k->set);
                _cleanup_free_ char *new = vh_cpuset_format_list(&next);
                _cleanup_free_ char *g = vh_cpuset_format_list(&gone);
                if (!old || !new || !g || vh_pdom_set(k->node, k->attr, new) < 0)
                        return vh_fail(err, ENOMEM, "pinning");
                r = vh_rule_say(c, err, VH_PATCH_CHANGED, "%s: cpuset %s -> %s (CPU%s %s not online here: %s)", k->label,
                                old, new, vh_cpuset_count(&gone) > 1 ? "s" : "", g, online_l);
                if (r < 0)
                        return r;
        }
        return 0;
}
