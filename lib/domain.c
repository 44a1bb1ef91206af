/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "domain.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util.h"
#include "xml.h"

#define MAX_ITEMS 100000u /* devices of one kind; libvirt itself has no such domain */

/* libvirt's units (virScaleInteger): b/bytes, k/KiB = 1024, KB = 1000, ... */
static int unit_multiplier(const char *unit, uint64_t *ret)
{
        if (!unit)
                unit = "KiB";
        if (strcasecmp(unit, "b") == 0 || strcasecmp(unit, "byte") == 0 || strcasecmp(unit, "bytes") == 0) {
                *ret = 1;
                return 0;
        }
        static const char powers[] = "kmgtpe";
        const char *p = *unit ? strchr(powers, tolower((unsigned char)unit[0])) : NULL;
        if (!p)
                return -EINVAL;
        unsigned n = (unsigned)(p - powers) + 1;
        uint64_t base;
        if (unit[1] == '\0' || strcasecmp(unit + 1, "ib") == 0)
                base = 1024;
        else if (strcasecmp(unit + 1, "b") == 0)
                base = 1000;
        else
                return -EINVAL;
        uint64_t m = 1;
        while (n--)
                m *= base;
        *ret = m;
        return 0;
}

int vh_memory_to_kib(const char *value, const char *unit, uint64_t *ret)
{
        uint64_t v, mult;
        int r = vh_parse_u64(value, UINT64_MAX, &v);
        if (r < 0)
                return r;
        r = unit_multiplier(unit, &mult);
        if (r < 0)
                return r;
        if (mult >= 1024 && mult % 1024 == 0) {
                uint64_t k = mult / 1024;
                if (v > UINT64_MAX / k)
                        return -ERANGE;
                *ret = v * k;
                return 0;
        }
        if (v > UINT64_MAX / mult)
                return -ERANGE;
        uint64_t bytes = v * mult;
        *ret = bytes / 1024 + (bytes % 1024 ? 1 : 0);
        return 0;
}

static void pins_free(vh_pin *p, size_t n)
{
        for (size_t i = 0; i < n; i++)
                vh_cpuset_done(&p[i].cpus);
        free(p);
}

void vh_domain_free(vh_domain *d)
{
        if (!d)
                return;
        free(d->name);
        free(d->uuid);
        free(d->virt_type);
        free(d->arch);
        free(d->machine);
        free(d->emulator);
        free(d->cpu_mode);
        vh_cpuset_done(&d->vcpu_cpuset);
        pins_free(d->vcpupins, d->n_vcpupins);
        vh_cpuset_done(&d->emulatorpin);
        pins_free(d->iothreadpins, d->n_iothreadpins);
        for (size_t i = 0; i < d->n_pages; i++)
                free(d->pages[i].nodeset);
        free(d->pages);
        free(d->numa_nodeset);
        for (size_t i = 0; i < d->n_disks; i++) {
                vh_disk *k = &d->disks[i];
                free(k->type);
                free(k->device);
                free(k->driver_name);
                free(k->driver_type);
                free(k->cache);
                free(k->io);
                free(k->source);
                free(k->target_dev);
                free(k->target_bus);
                free(k->alias);
        }
        free(d->disks);
        for (size_t i = 0; i < d->n_controllers; i++) {
                free(d->controllers[i].type);
                free(d->controllers[i].model);
                free(d->controllers[i].alias);
        }
        free(d->controllers);
        for (size_t i = 0; i < d->n_hostdevs; i++) {
                free(d->hostdevs[i].mode);
                free(d->hostdevs[i].type);
                free(d->hostdevs[i].alias);
        }
        free(d->hostdevs);
        for (size_t i = 0; i < d->n_tpms; i++) {
                free(d->tpms[i].model);
                free(d->tpms[i].backend_type);
                free(d->tpms[i].backend_version);
        }
        free(d->tpms);
        for (size_t i = 0; i < d->n_seclabels; i++) {
                vh_seclabel *s = &d->seclabels[i];
                free(s->type);
                free(s->model);
                free(s->relabel);
                free(s->label);
                free(s->imagelabel);
                free(s->baselabel);
        }
        free(d->seclabels);
        if (d->doc)
                xmlFreeDoc(d->doc);
        free(d);
}

/* Count element children named `name` and allocate that many items. */
static int alloc_items(const xmlNode *parent, const char *name, size_t size, void **ret, size_t *ret_n,
                       const char *what, vh_error **err)
{
        size_t n = 0;
        vh_xml_foreach(c, parent, name)
                n++;
        *ret_n = 0;
        if (n == 0)
                return 0;
        if (n > MAX_ITEMS)
                return vh_fail_input(err, "%s: more than %u <%s> elements", what, MAX_ITEMS, name);
        void *p = calloc(n, size);
        if (!p)
                return vh_fail(err, ENOMEM, "%s", what);
        *ret = p;
        return 0;
}

static int parse_uint_attr(const xmlNode *n, const char *attr, unsigned *ret, const char *what, vh_error **err)
{
        _cleanup_free_ char *v = vh_xml_prop(n, attr);
        uint64_t x;
        if (!v || vh_parse_u64(v, UINT32_MAX, &x) < 0)
                return vh_fail_input(err, "%s: <%s %s=\"%s\">: expected a number", what, vh_xml_name(n), attr,
                                     v ? v : "");
        *ret = (unsigned)x;
        return 0;
}

static int parse_cpuset_attr(const xmlNode *n, const char *attr, vh_cpuset *ret, const char *what,
                             vh_error **err)
{
        _cleanup_free_ char *v = vh_xml_prop(n, attr);
        if (!v)
                return vh_fail_input(err, "%s: <%s> has no %s attribute", what, vh_xml_name(n), attr);
        int r = vh_cpuset_parse_list(v, ret, err);
        if (r < 0)
                return vh_error_wrap(err, "%s: <%s %s>", what, vh_xml_name(n), attr);
        return 0;
}

static int parse_pins(const xmlNode *cputune, const char *elem, const char *idattr, vh_pin **ret,
                      size_t *ret_n, const char *what, vh_error **err)
{
        int r = alloc_items(cputune, elem, sizeof(vh_pin), (void **)ret, ret_n, what, err);
        if (r < 0)
                return r;
        vh_xml_foreach(p, cputune, elem) {
                vh_pin *pin = &(*ret)[*ret_n];
                (*ret_n)++;
                r = parse_uint_attr(p, idattr, &pin->id, what, err);
                if (r < 0)
                        return r;
                r = parse_cpuset_attr(p, "cpuset", &pin->cpus, what, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_cpu_section(vh_domain *d, const xmlNode *root, const char *what, vh_error **err)
{
        xmlNodePtr vcpu = vh_xml_child(root, "vcpu");
        if (vcpu) {
                _cleanup_free_ char *t = vh_xml_text(vcpu);
                uint64_t n;
                if (!t || vh_parse_u64(t, 16384, &n) < 0)
                        return vh_fail_input(err, "%s: <vcpu>%s</vcpu>: expected a vCPU count", what,
                                             t ? t : "");
                d->vcpus = (unsigned)n;
                _cleanup_free_ char *cs = vh_xml_prop(vcpu, "cpuset");
                if (cs) {
                        int r = vh_cpuset_parse_list(cs, &d->vcpu_cpuset, err);
                        if (r < 0)
                                return vh_error_wrap(err, "%s: <vcpu cpuset>", what);
                }
        }
        xmlNodePtr cputune = vh_xml_child(root, "cputune");
        if (cputune) {
                int r = parse_pins(cputune, "vcpupin", "vcpu", &d->vcpupins, &d->n_vcpupins, what, err);
                if (r < 0)
                        return r;
                r = parse_pins(cputune, "iothreadpin", "iothread", &d->iothreadpins, &d->n_iothreadpins,
                               what, err);
                if (r < 0)
                        return r;
                xmlNodePtr ep = vh_xml_child(cputune, "emulatorpin");
                if (ep) {
                        d->has_emulatorpin = true;
                        r = parse_cpuset_attr(ep, "cpuset", &d->emulatorpin, what, err);
                        if (r < 0)
                                return r;
                }
        }
        _cleanup_free_ char *iot = vh_xml_child_text(root, "iothreads");
        if (iot) {
                uint64_t n;
                if (vh_parse_u64(iot, UINT32_MAX, &n) < 0)
                        return vh_fail_input(err, "%s: <iothreads>%s</iothreads>: expected a number", what, iot);
                d->iothreads = (unsigned)n;
        }
        xmlNodePtr cpu = vh_xml_child(root, "cpu");
        if (cpu)
                d->cpu_mode = vh_xml_prop(cpu, "mode");
        return 0;
}


/* Is guest RAM shared memory (memfd or shared access), which THP's shmem_enabled governs? */
static bool shared_backing(const xmlNode *root, const xmlNode *mb)
{
        xmlNodePtr src = mb ? vh_xml_child(mb, "source") : NULL;
        xmlNodePtr acc = mb ? vh_xml_child(mb, "access") : NULL;
        if ((src && vh_xml_prop_is(src, "type", "memfd")) || (acc && vh_xml_prop_is(acc, "mode", "shared")))
                return true;
        xmlNodePtr cpu = vh_xml_child(root, "cpu");
        xmlNodePtr numa = cpu ? vh_xml_child(cpu, "numa") : NULL;
        for (xmlNodePtr c = numa ? vh_xml_child(numa, "cell") : NULL; c; c = vh_xml_next(c, "cell"))
                if (vh_xml_prop_is(c, "memAccess", "shared"))
                        return true;
        return false;
}

static int parse_memory(vh_domain *d, const xmlNode *root, const char *what, vh_error **err)
{
        xmlNodePtr mem = vh_xml_child(root, "memory");
        if (mem) {
                _cleanup_free_ char *v = vh_xml_text(mem);
                _cleanup_free_ char *unit = vh_xml_prop(mem, "unit");
                if (!v || vh_memory_to_kib(v, unit, &d->memory_kib) < 0)
                        return vh_fail_input(err, "%s: <memory unit=\"%s\">%s</memory>: expected a size", what,
                                             unit ? unit : "KiB", v ? v : "");
        }
        xmlNodePtr mb = vh_xml_child(root, "memoryBacking");
        xmlNodePtr hp = mb ? vh_xml_child(mb, "hugepages") : NULL;
        d->shared_memory = shared_backing(root, mb);
        if (hp) {
                d->hugepages = true;
                int r = alloc_items(hp, "page", sizeof(vh_hugepage), (void **)&d->pages, &d->n_pages, what,
                                    err);
                if (r < 0)
                        return r;
                vh_xml_foreach(pg, hp, "page") {
                        vh_hugepage *p = &d->pages[d->n_pages++];
                        _cleanup_free_ char *size = vh_xml_prop(pg, "size");
                        _cleanup_free_ char *unit = vh_xml_prop(pg, "unit");
                        if (!size || vh_memory_to_kib(size, unit, &p->size_kib) < 0)
                                return vh_fail_input(err, "%s: <hugepages><page size=\"%s\">: expected a size",
                                                     what, size ? size : "");
                        p->nodeset = vh_xml_prop(pg, "nodeset");
                }
        }
        xmlNodePtr nt = vh_xml_child(root, "numatune");
        xmlNodePtr ntm = nt ? vh_xml_child(nt, "memory") : NULL;
        if (ntm)
                d->numa_nodeset = vh_xml_prop(ntm, "nodeset");
        return 0;
}

static void parse_disk(vh_disk *k, const xmlNode *n)
{
        k->type = vh_xml_prop(n, "type");
        k->device = vh_xml_prop(n, "device");
        xmlNodePtr drv = vh_xml_child(n, "driver");
        if (drv) {
                k->driver_name = vh_xml_prop(drv, "name");
                k->driver_type = vh_xml_prop(drv, "type");
                k->cache = vh_xml_prop(drv, "cache");
                k->io = vh_xml_prop(drv, "io");
                _cleanup_free_ char *iot = vh_xml_prop(drv, "iothread");
                uint64_t v;
                if (iot && vh_parse_u64(iot, UINT32_MAX, &v) == 0) {
                        k->has_iothread = true;
                        k->iothread = (unsigned)v;
                }
        }
        xmlNodePtr src = vh_xml_child(n, "source");
        if (src) {
                static const char *const keys[] = { "dev", "file", "name", "volume", "dir" };
                for (size_t i = 0; i < ELEMENTSOF(keys) && !k->source; i++)
                        k->source = vh_xml_prop(src, keys[i]);
        }
        xmlNodePtr tgt = vh_xml_child(n, "target");
        if (tgt) {
                k->target_dev = vh_xml_prop(tgt, "dev");
                k->target_bus = vh_xml_prop(tgt, "bus");
        }
        xmlNodePtr al = vh_xml_child(n, "alias");
        if (al)
                k->alias = vh_xml_prop(al, "name");
}

static void parse_pci_source(vh_hostdev *h, const xmlNode *n)
{
        xmlNodePtr src = vh_xml_child(n, "source");
        xmlNodePtr addr = src ? vh_xml_child(src, "address") : NULL;
        if (!addr)
                return;
        static const char *const keys[] = { "domain", "bus", "slot", "function" };
        unsigned long v[4] = { 0 };
        for (size_t i = 0; i < 4; i++) {
                _cleanup_free_ char *s = vh_xml_prop(addr, keys[i]);
                if (!s) {
                        if (i == 0)
                                continue; /* domain defaults to 0 */
                        return;
                }
                char *end;
                errno = 0;
                v[i] = strtoul(s, &end, 0);
                if (errno || end == s || *end)
                        return;
        }
        if (v[0] > 0xffff || v[1] > 0xff || v[2] > 0x1f || v[3] > 7)
                return;
        snprintf(h->bdf, sizeof(h->bdf), "%04lx:%02lx:%02lx.%lx", v[0], v[1], v[2], v[3]);
        h->has_pci_address = true;
}

bool vh_domain_is_hostdev(const xmlNode *n)
{
        if (!n || n->type != XML_ELEMENT_NODE)
                return false;
        if (streq((const char *)n->name, "hostdev"))
                return true;
        return streq((const char *)n->name, "interface") && vh_xml_prop_is(n, "type", "hostdev");
}

static void parse_hostdev(vh_hostdev *h, const xmlNode *n)
{
        if (streq((const char *)n->name, "interface")) {
                /* <interface type='hostdev'><source><address type='pci' .../> */
                h->interface = true;
                h->mode = strdup("subsystem");
                xmlNodePtr src = vh_xml_child(n, "source");
                xmlNodePtr addr = src ? vh_xml_child(src, "address") : NULL;
                h->type = addr ? vh_xml_prop(addr, "type") : NULL;
        } else {
                h->mode = vh_xml_prop(n, "mode");
                h->type = vh_xml_prop(n, "type");
        }
        h->managed = vh_xml_prop_is(n, "managed", "yes");
        if (streq(h->type, "pci"))
                parse_pci_source(h, n);
        xmlNodePtr al = vh_xml_child(n, "alias");
        if (al)
                h->alias = vh_xml_prop(al, "name");
}

static int parse_devices(vh_domain *d, const xmlNode *root, const char *what, vh_error **err)
{
        xmlNodePtr devs = vh_xml_child(root, "devices");
        if (!devs)
                return 0;
        d->emulator = vh_xml_child_text(devs, "emulator");
        int r = alloc_items(devs, "disk", sizeof(vh_disk), (void **)&d->disks, &d->n_disks, what, err);
        if (r < 0)
                return r;
        vh_xml_foreach(n, devs, "disk")
                parse_disk(&d->disks[d->n_disks++], n);

        r = alloc_items(devs, "controller", sizeof(vh_controller), (void **)&d->controllers,
                        &d->n_controllers, what, err);
        if (r < 0)
                return r;
        vh_xml_foreach(n, devs, "controller") {
                vh_controller *c = &d->controllers[d->n_controllers++];
                c->type = vh_xml_prop(n, "type");
                c->model = vh_xml_prop(n, "model");
                _cleanup_free_ char *idx = vh_xml_prop(n, "index");
                uint64_t v;
                if (idx && vh_parse_u64(idx, UINT32_MAX, &v) == 0)
                        c->index = (unsigned)v;
                xmlNodePtr drv = vh_xml_child(n, "driver");
                c->has_iothread = drv && xmlHasProp(drv, (const xmlChar *)"iothread");
                xmlNodePtr al = vh_xml_child(n, "alias");
                if (al)
                        c->alias = vh_xml_prop(al, "name");
        }

        /* <hostdev> and <interface type='hostdev'> in one array, in document order */
        size_t nh = 0;
        for (xmlNodePtr n = vh_xml_first_element(devs); n; n = vh_xml_next_element(n))
                nh += vh_domain_is_hostdev(n);
        if (nh > MAX_ITEMS)
                return vh_fail_input(err, "%s: more than %u host devices (<hostdev>, <interface type='hostdev'>)",
                                     what, MAX_ITEMS);
        if (nh > 0 && !(d->hostdevs = calloc(nh, sizeof(*d->hostdevs))))
                return vh_fail(err, ENOMEM, "%s", what);
        for (xmlNodePtr n = vh_xml_first_element(devs); n; n = vh_xml_next_element(n))
                if (vh_domain_is_hostdev(n))
                        parse_hostdev(&d->hostdevs[d->n_hostdevs++], n);

        r = alloc_items(devs, "tpm", sizeof(vh_tpm), (void **)&d->tpms, &d->n_tpms, what, err);
        if (r < 0)
                return r;
        vh_xml_foreach(n, devs, "tpm") {
                vh_tpm *t = &d->tpms[d->n_tpms++];
                t->model = vh_xml_prop(n, "model");
                xmlNodePtr be = vh_xml_child(n, "backend");
                if (be) {
                        t->backend_type = vh_xml_prop(be, "type");
                        t->backend_version = vh_xml_prop(be, "version");
                }
        }
        return 0;
}

static int parse_seclabels(vh_domain *d, const xmlNode *root, const char *what, vh_error **err)
{
        int r = alloc_items(root, "seclabel", sizeof(vh_seclabel), (void **)&d->seclabels, &d->n_seclabels,
                            what, err);
        if (r < 0)
                return r;
        vh_xml_foreach(n, root, "seclabel") {
                vh_seclabel *s = &d->seclabels[d->n_seclabels++];
                s->type = vh_xml_prop(n, "type");
                s->model = vh_xml_prop(n, "model");
                s->relabel = vh_xml_prop(n, "relabel");
                s->label = vh_xml_child_text(n, "label");
                s->imagelabel = vh_xml_child_text(n, "imagelabel");
                s->baselabel = vh_xml_child_text(n, "baselabel");
        }
        return 0;
}

static int find_policy(vh_domain *d, const xmlNode *root, const char *what, vh_error **err)
{
        xmlNodePtr md = vh_xml_child(root, "metadata");
        if (!md)
                return 0;
        for (xmlNodePtr n = vh_xml_first_element(md); n; n = vh_xml_next_element(n)) {
                if (!n->ns || !n->ns->href || strcmp((const char *)n->ns->href, VH_POLICY_NS) != 0)
                        continue;
                if (strcmp((const char *)n->name, "policy") != 0)
                        return vh_fail_input(err,
                                             "%s: <metadata>: element <%s> in namespace %s: expected <policy>",
                                             what, n->name, VH_POLICY_NS);
                if (d->policy)
                        return vh_fail_input(err, "%s: <metadata>: more than one <policy> in namespace %s",
                                             what, VH_POLICY_NS);
                d->policy = n;
        }
        return 0;
}

int vh_domain_parse(const char *xml, size_t len, const char *what, vh_domain **ret, vh_error **err)
{
        _cleanup_domain_ vh_domain *d = calloc(1, sizeof(*d));
        if (!d)
                return vh_fail(err, ENOMEM, "%s", what);
        int r = vh_xml_parse(xml, len, what, &d->doc, err);
        if (r < 0)
                return r;
        xmlNodePtr root = xmlDocGetRootElement(d->doc);
        if (strcmp((const char *)root->name, "domain") != 0)
                return vh_fail_input(err, "%s: root element is <%s>; expected <domain>", what, root->name);
        d->virt_type = vh_xml_prop(root, "type");
        d->name = vh_xml_child_text(root, "name");
        if (!d->name || !*d->name)
                return vh_fail_input(err, "%s: <domain> has no <name>", what);
        d->uuid = vh_xml_child_text(root, "uuid");
        xmlNodePtr os = vh_xml_child(root, "os");
        xmlNodePtr ostype = os ? vh_xml_child(os, "type") : NULL;
        if (ostype) {
                d->arch = vh_xml_prop(ostype, "arch");
                d->machine = vh_xml_prop(ostype, "machine");
        }
        if ((r = parse_cpu_section(d, root, what, err)) < 0 || (r = parse_memory(d, root, what, err)) < 0 ||
            (r = parse_devices(d, root, what, err)) < 0 || (r = parse_seclabels(d, root, what, err)) < 0 ||
            (r = find_policy(d, root, what, err)) < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

int vh_domain_vcpu_cpus(const vh_domain *d, vh_cpuset *ret)
{
        _cleanup_cpuset_ vh_cpuset set = { 0 };
        bool all_pinned = d->vcpus > 0;
        for (unsigned v = 0; v < d->vcpus && all_pinned; v++) {
                bool found = false;
                for (size_t i = 0; i < d->n_vcpupins && !found; i++)
                        found = d->vcpupins[i].id == v;
                all_pinned = found;
        }
        for (size_t i = 0; i < d->n_vcpupins; i++) {
                int r = vh_cpuset_union(&set, &d->vcpupins[i].cpus);
                if (r < 0)
                        return r;
        }
        if (!all_pinned) {
                int r = vh_cpuset_union(&set, &d->vcpu_cpuset);
                if (r < 0)
                        return r;
        }
        vh_cpuset_done(ret);
        *ret = set;
        set.words = NULL;
        set.nwords = 0;
        return 0;
}
