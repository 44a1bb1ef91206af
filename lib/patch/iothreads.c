/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * iothreads — <iothreads count="N|auto" cpuset="..."/>
 *
 * Gives the VM IOThreads and every virtio-blk disk (<disk device='disk'
 * or 'lun'> on bus virtio) and virtio-scsi controller that has none an
 * IOThread of its own where there are enough, else the least used one
 * (round-robin on a VM that had none), and pins every IOThread to cpuset.
 *
 * count="auto": one IOThread per virtio-blk disk and virtio-scsi
 * controller, at most one per vCPU and at most 8 (AUTO_MAX); an IOThread is
 * a host thread that polls, and past one per vCPU they only compete for
 * host CPUs.  The VM keeps IOThreads it already has beyond that count, and
 * keeps the IOThread a device already has.
 *
 * Under VH_PATCH_ABI_SAFE (migrate, restore) only the <iothreadpin> part runs.
 */
#include "rule.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xml.h"

#define AUTO_MAX 8u
#define MAX_IOTHREADS 1024u     /* more than any sane VM; bounds the id arrays */

typedef struct cand {
        xmlNodePtr node;
        char *label;            /* "disk vda", "controller scsi 0 (virtio-scsi)" */
        bool is_disk;
        bool has;               /* already names an IOThread */
        unsigned id;
} cand;

typedef struct state {
        cand *c;
        size_t n;
        unsigned *ids;          /* the VM's IOThread ids */
        size_t n_ids;
} state;

static void state_done(state *s)
{
        for (size_t i = 0; i < s->n; i++)
                free(s->c[i].label);
        free(s->c);
        free(s->ids);
}

static bool attr_uint(const xmlNode *n, const char *name, uint64_t max, unsigned *ret)
{
        _cleanup_free_ char *v = n ? vh_xml_prop(n, name) : NULL;
        uint64_t x;
        if (!v || vh_parse_u64(v, max, &x) < 0)
                return false;
        *ret = (unsigned)x;
        return true;
}

static bool is_virtio_blk(const xmlNode *disk)
{
        _cleanup_free_ char *device = vh_xml_prop(disk, "device");
        _cleanup_free_ char *type = vh_xml_prop(disk, "type");
        xmlNodePtr tgt = vh_pdom_child(disk, "target");
        xmlNodePtr drv = vh_pdom_child(disk, "driver");
        _cleanup_free_ char *drv_name = drv ? vh_xml_prop(drv, "name") : NULL;
        if (device && !streq(device, "disk") && !streq(device, "lun"))
                return false;
        if (streq(type, "vhostuser") || streq(type, "vhostvdpa")) /* no IOThread in QEMU for these */
                return false;
        if (drv_name && !streq(drv_name, "qemu"))
                return false;
        return tgt && vh_xml_prop_is(tgt, "bus", "virtio");
}

static bool is_virtio_scsi(const xmlNode *ctl)
{
        if (!vh_xml_prop_is(ctl, "type", "scsi"))
                return false;
        return vh_xml_prop_is(ctl, "model", "virtio-scsi") || vh_xml_prop_is(ctl, "model", "virtio-transitional") ||
               vh_xml_prop_is(ctl, "model", "virtio-non-transitional");
}

static int add_cand(state *s, xmlNodePtr node, bool is_disk, unsigned pos)
{
        cand *t = realloc(s->c, (s->n + 1) * sizeof(*t));
        if (!t)
                return -ENOMEM;
        s->c = t;
        cand *k = &s->c[s->n];
        *k = (cand){ .node = node, .is_disk = is_disk };
        xmlNodePtr drv = vh_pdom_child(node, "driver");
        k->has = attr_uint(drv, "iothread", UINT32_MAX, &k->id);
        int r;
        if (is_disk) {
                _cleanup_free_ char *name = vh_pdom_disk_name(node, pos);
                r = name ? asprintf(&k->label, "disk %s", name) : -1;
        } else {
                _cleanup_free_ char *idx = vh_xml_prop(node, "index");
                _cleanup_free_ char *model = vh_xml_prop(node, "model");
                r = asprintf(&k->label, "controller scsi %s (%s)", idx ? idx : "?", model ? model : "?");
        }
        if (r < 0) {
                k->label = NULL;
                return -ENOMEM;
        }
        s->n++;
        return 0;
}

static bool has_id(const state *s, unsigned id)
{
        for (size_t i = 0; i < s->n_ids; i++)
                if (s->ids[i] == id)
                        return true;
        return false;
}

static int add_id(state *s, unsigned id)
{
        unsigned *t = realloc(s->ids, (s->n_ids + 1) * sizeof(*t));
        if (!t)
                return -ENOMEM;
        s->ids = t;
        s->ids[s->n_ids++] = id;
        return 0;
}

/* The lowest id >= 1 the VM does not have. */
static unsigned free_id(const state *s)
{
        unsigned id = 1;
        while (has_id(s, id))
                id++;
        return id;
}

/* The VM's IOThread ids, as libvirt numbers them: <iothreadids>, then the lowest free ids up to <iothreads>. */
static int read_ids(vh_patch_ctx *c, state *s, unsigned *ret_count, vh_error **err)
{
        unsigned count = 0;
        xmlNodePtr iot = vh_pdom_child(c->root, "iothreads");
        if (iot) {
                _cleanup_free_ char *t = vh_xml_text(iot);
                uint64_t v;
                if (!t || vh_parse_u64(t, MAX_IOTHREADS, &v) < 0)
                        return vh_fail_input(err, "<iothreads>%s</iothreads>: expected a number up to %u", t ? t : "",
                                             MAX_IOTHREADS);
                count = (unsigned)v;
        }
        xmlNodePtr ids = vh_pdom_child(c->root, "iothreadids");
        vh_pdom_foreach(t, ids, "iothread") {
                unsigned id;
                if (!attr_uint(t, "id", UINT32_MAX, &id) || id == 0)
                        return vh_fail_input(err, "<iothreadids><iothread>: expected id= a number from 1");
                if (!has_id(s, id) && (s->n_ids >= MAX_IOTHREADS || add_id(s, id) < 0))
                        return vh_fail(err, s->n_ids >= MAX_IOTHREADS ? E2BIG : ENOMEM, "<iothreadids>");
        }
        while (s->n_ids < count)
                if (add_id(s, free_id(s)) < 0)
                        return vh_fail(err, ENOMEM, "iothreads");
        *ret_count = count > s->n_ids ? count : (unsigned)s->n_ids;
        return 0;
}

static unsigned wanted_count(const vh_patch_ctx *c, size_t n_cand)
{
        if (!c->pol->iothreads_auto)
                return c->pol->iothreads_count;
        unsigned vcpus = c->dom->vcpus ? c->dom->vcpus : 1;
        size_t n = n_cand;
        if (n > vcpus)
                n = vcpus;
        if (n > AUTO_MAX)
                n = AUTO_MAX;
        return (unsigned)n;
}

static int set_count(vh_patch_ctx *c, state *s, unsigned have, unsigned want, vh_error **err)
{
        xmlNodePtr ids = vh_pdom_child(c->root, "iothreadids");
        unsigned first = 0, last = 0;
        while (s->n_ids < want) {
                unsigned id = free_id(s);
                if (add_id(s, id) < 0)
                        return vh_fail(err, ENOMEM, "iothreads");
                if (!first)
                        first = id;
                last = id;
                if (ids) {
                        xmlNodePtr t = vh_pdom_add(ids, NULL, "iothread", NULL);
                        char v[16];
                        snprintf(v, sizeof(v), "%u", id);
                        if (!t || vh_pdom_set(t, "id", v) < 0)
                                return vh_fail(err, ENOMEM, "iothreads");
                }
        }
        bool created;
        xmlNodePtr iot = vh_pdom_ensure(c->root, "iothreads", vh_order_domain, &created);
        char v[16];
        snprintf(v, sizeof(v), "%u", want);
        if (!iot || vh_pdom_set_text(iot, v) < 0)
                return vh_fail(err, ENOMEM, "iothreads");
        if (first == last)
                return vh_rule_say(c, err, VH_PATCH_CHANGED, "<iothreads> %u -> %u (new IOThread %u)", have, want, first);
        return vh_rule_say(c, err, VH_PATCH_CHANGED, "<iothreads> %u -> %u (new IOThreads %u-%u)", have, want, first,
                           last);
}

static int assign(vh_patch_ctx *c, state *s, vh_error **err)
{
        _cleanup_free_ unsigned *load = calloc(s->n_ids ? s->n_ids : 1, sizeof(unsigned));
        if (!load)
                return vh_fail(err, ENOMEM, "iothreads");
        for (size_t i = 0; i < s->n; i++) {
                if (!s->c[i].has)
                        continue;
                size_t k = 0;
                while (k < s->n_ids && s->ids[k] != s->c[i].id)
                        k++;
                if (k < s->n_ids) {
                        load[k]++;
                        continue;
                }
                int r = vh_rule_say(c, err, VH_PATCH_WARNING, "%s names IOThread %u, which the VM does not have",
                                    s->c[i].label, s->c[i].id);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < s->n && s->n_ids; i++) {
                cand *k = &s->c[i];
                if (k->has)
                        continue;
                size_t best = 0;
                for (size_t j = 1; j < s->n_ids; j++)
                        if (load[j] < load[best] || (load[j] == load[best] && s->ids[j] < s->ids[best]))
                                best = j;
                load[best]++;
                xmlNodePtr drv = vh_pdom_ensure(k->node, "driver", k->is_disk ? vh_order_disk : vh_order_controller, NULL);
                char v[16];
                snprintf(v, sizeof(v), "%u", s->ids[best]);
                if (!drv || vh_pdom_set(drv, "iothread", v) < 0)
                        return vh_fail(err, ENOMEM, "iothreads");
                k->has = true;
                k->id = s->ids[best];
                int r = vh_rule_say(c, err, VH_PATCH_CHANGED, "%s: iothread %u", k->label, k->id);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int pin(vh_patch_ctx *c, const state *s, vh_error **err)
{
        _cleanup_free_ char *want = vh_cpuset_format_list(&c->pol->iothreads_cpuset);
        if (!want)
                return vh_fail(err, ENOMEM, "iothreads");
        xmlNodePtr cputune = NULL;
        for (size_t i = 0; i < s->n_ids; i++) {
                unsigned id = s->ids[i];
                xmlNodePtr found = NULL;
                cputune = cputune ? cputune : vh_pdom_child(c->root, "cputune");
                vh_pdom_foreach(p, cputune, "iothreadpin") {
                        unsigned pid;
                        if (attr_uint(p, "iothread", UINT32_MAX, &pid) && pid == id) {
                                found = p;
                                break;
                        }
                }
                int r;
                if (found) {
                        _cleanup_free_ char *have = vh_xml_prop(found, "cpuset");
                        _cleanup_cpuset_ vh_cpuset hs = { 0 };
                        _cleanup_error_ vh_error *e = NULL;
                        if (have && vh_cpuset_parse_list(have, &hs, &e) == 0 &&
                            vh_cpuset_equal(&hs, &c->pol->iothreads_cpuset))
                                continue;
                        if (vh_pdom_set(found, "cpuset", want) < 0)
                                return vh_fail(err, ENOMEM, "iothreads");
                        r = vh_rule_say(c, err, VH_PATCH_CHANGED, "iothreadpin %u: cpuset %s -> %s", id,
                                        have ? have : "(none)", want);
                } else {
                        if (!cputune && !(cputune = vh_pdom_ensure(c->root, "cputune", vh_order_domain, NULL)))
                                return vh_fail(err, ENOMEM, "iothreads");
                        xmlNodePtr p = vh_pdom_add(cputune, NULL, "iothreadpin", vh_order_cputune);
                        char v[16];
                        snprintf(v, sizeof(v), "%u", id);
                        if (!p || vh_pdom_set(p, "iothread", v) < 0 || vh_pdom_set(p, "cpuset", want) < 0)
                                return vh_fail(err, ENOMEM, "iothreads");
                        r = vh_rule_say(c, err, VH_PATCH_CHANGED, "iothreadpin %u: cpuset %s", id, want);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int vh_rule_iothreads(vh_patch_ctx *c, vh_error **err)
{
        _cleanup_(state_done) state s = { 0 };
        xmlNodePtr devices = vh_pdom_child(c->root, "devices");
        unsigned pos = 0;
        vh_pdom_foreach(d, devices, "disk") {
                pos++;
                if (is_virtio_blk(d) && add_cand(&s, d, true, pos) < 0)
                        return vh_fail(err, ENOMEM, "iothreads");
        }
        vh_pdom_foreach(k, devices, "controller")
                if (is_virtio_scsi(k) && add_cand(&s, k, false, 0) < 0)
                        return vh_fail(err, ENOMEM, "iothreads");
        unsigned have = 0;
        int r = read_ids(c, &s, &have, err);
        if (r < 0)
                return r;
        unsigned changes = c->rep->changes;
        bool abi_safe = c->flags & VH_PATCH_ABI_SAFE;

        if (!abi_safe) {
                if (s.n == 0 && have == 0)
                        return vh_rule_say(c, err, VH_PATCH_SKIPPED,
                                           "the VM has no virtio-blk disk and no virtio-scsi controller");
                unsigned want = wanted_count(c, s.n);
                if (want > have) {
                        if ((r = set_count(c, &s, have, want, err)) < 0)
                                return r;
                } else if (want < have && !c->pol->iothreads_auto) {
                        r = vh_rule_say(c, err, VH_PATCH_NOTE, "the VM keeps its %u IOThreads (the policy asks for %u)",
                                        have, want);
                        if (r < 0)
                                return r;
                }
                if ((r = assign(c, &s, err)) < 0)
                        return r;
        } else if (s.n_ids == 0) {
                return vh_rule_say(c, err, VH_PATCH_SKIPPED, "the VM has no IOThread to pin");
        } else if (!c->pol->has_iothreads_cpuset) {
                return vh_rule_say(c, err, VH_PATCH_SKIPPED, "no cpuset= in <iothreads>: nothing host-side to set");
        }
        if (c->pol->has_iothreads_cpuset && (r = pin(c, &s, err)) < 0)
                return r;
        if (c->rep->changes != changes)
                return 0;
        _cleanup_free_ char *cpus = c->pol->has_iothreads_cpuset ? vh_cpuset_format_list(&c->pol->iothreads_cpuset) : NULL;
        if (abi_safe)
                return vh_rule_say(c, err, VH_PATCH_UNCHANGED, "%zu IOThread%s, pinned to %s", s.n_ids,
                                   s.n_ids == 1 ? "" : "s", cpus ? cpus : "?");
        return vh_rule_say(c, err, VH_PATCH_UNCHANGED,
                           "%zu IOThread%s; every virtio-blk disk and virtio-scsi controller has one%s%s", s.n_ids,
                           s.n_ids == 1 ? "" : "s", cpus ? "; pinned to " : "", cpus ? cpus : "");
}
