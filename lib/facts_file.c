/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * facts_file.c — the host facts as a file (facts.h): written with the
 * project's line records (kv.h), read back strictly.
 */
#include "facts.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "fileio.h"
#include "kv.h"

#define FACTS_MAGIC "vmhooks-facts"
#define FACTS_VERSION 1
#define FACTS_MAX_BYTES (64u << 20)

static const struct {
        unsigned bit;
        const char *name;
} part_names[] = {
        { VH_FACTS_CPUS, "cpus" },           { VH_FACTS_IRQS, "irqs" }, { VH_FACTS_CGROUP, "cgroup" },
        { VH_FACTS_NUMA, "numa" },           { VH_FACTS_HUGEPAGES, "hugepages" }, { VH_FACTS_PCI, "pci" },
        { VH_FACTS_BLOCK, "block" },         { VH_FACTS_FILES, "files" },     { VH_FACTS_SWTPM, "swtpm" },
};

char *vh_facts_parts_text(unsigned parts)
{
        _cleanup_buf_ vh_buf b = { 0 };
        if (vh_buf_puts(&b, "") < 0)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(part_names); i++)
                if ((parts & part_names[i].bit) &&
                    vh_buf_printf(&b, "%s%s", b.len ? "," : "", part_names[i].name) < 0)
                        return NULL;
        return TAKE_PTR(b.data);
}

/* ---- writing ---- */

static int put_set(vh_buf *b, const char *key, const vh_cpuset *s)
{
        _cleanup_free_ char *l = vh_cpuset_format_list(s);
        return l ? vh_kv_put(b, key, l) : -ENOMEM;
}

static int put_hex(vh_buf *b, const char *key, uint32_t v, int digits)
{
        char s[16];
        snprintf(s, sizeof(s), "0x%0*x", digits, (unsigned)v);
        return vh_kv_put(b, key, s);
}

/* "TYPE NAME" (name escaped; may be NULL) */
static int put_head(vh_buf *b, const char *type, const char *name)
{
        int r = vh_buf_puts(b, type);
        if (r == 0 && name && (r = vh_buf_puts(b, " ")) == 0)
                r = vh_buf_escape(b, name, false);
        return r;
}

static int format_all(const vh_facts *f, vh_buf *b)
{
        _cleanup_free_ char *parts = vh_facts_parts_text(f->parts);
        if (!parts)
                return -ENOMEM;
        int r = vh_buf_printf(b, FACTS_MAGIC " %d", FACTS_VERSION);
        if (r == 0)
                r = vh_kv_put(b, "parts", parts);
        if (r == 0 && f->arch)
                r = vh_kv_put(b, "arch", f->arch);
        if (r == 0)
                r = vh_buf_puts(b, "\n");
        if (r == 0 && (f->parts & VH_FACTS_CPUS)) {
                r = vh_buf_puts(b, "cpus");
                if (r == 0)
                        r = put_set(b, "online", &f->online);
                if (r == 0)
                        r = put_set(b, "present", &f->present);
                if (r == 0)
                        r = put_set(b, "isolated", &f->isolated);
                if (r == 0)
                        r = put_set(b, "nohz_full", &f->nohz_full);
                if (r == 0)
                        r = vh_buf_puts(b, "\n");
        }
        for (size_t i = 0; r == 0 && (f->parts & VH_FACTS_IRQS) && i < f->n_irqs; i++)
                r = vh_buf_printf(b, "irq %u\n", f->irqs[i]);
        if (r == 0 && (f->parts & VH_FACTS_CGROUP))
                r = vh_buf_printf(b, "cgroup layout=%s systemd=%d\n", vh_cgroup_layout_name(f->cgroup),
                                  f->systemd ? 1 : 0);
        for (size_t i = 0; r == 0 && (f->parts & VH_FACTS_NUMA) && i < f->n_nodes; i++) {
                r = vh_buf_printf(b, "node %u", f->nodes[i].id);
                if (r == 0)
                        r = put_set(b, "cpus", &f->nodes[i].cpus);
                if (r == 0)
                        r = vh_kv_put_u64(b, "memory_kib", f->nodes[i].memory_kib);
                if (r == 0)
                        r = vh_buf_puts(b, "\n");
        }
        if (r == 0 && (f->parts & VH_FACTS_HUGEPAGES))
                r = vh_buf_printf(b, "hugepages default_kib=%llu\n", (unsigned long long)f->default_hugepage_kib);
        for (size_t i = 0; r == 0 && (f->parts & VH_FACTS_HUGEPAGES) && i < f->n_pools; i++) {
                const vh_facts_pool *p = &f->pools[i];
                if (p->node < 0)
                        r = vh_buf_printf(b, "pool %llu nr=%llu free=%llu resv=%llu surplus=%llu overcommit=%llu\n",
                                          (unsigned long long)p->size_kib, (unsigned long long)p->nr,
                                          (unsigned long long)p->free, (unsigned long long)p->resv,
                                          (unsigned long long)p->surplus, (unsigned long long)p->overcommit);
                else
                        r = vh_buf_printf(b, "nodepool %llu node=%d nr=%llu free=%llu surplus=%llu\n",
                                          (unsigned long long)p->size_kib, p->node, (unsigned long long)p->nr,
                                          (unsigned long long)p->free, (unsigned long long)p->surplus);
        }
        if (r == 0 && (f->parts & VH_FACTS_PCI))
                r = vh_buf_printf(b, "iommu groups=%zu irq_remapping=%s allow_unsafe_interrupts=%d\n", f->iommu_groups,
                                  f->irq_remapping == VH_YES  ? "yes"
                                  : f->irq_remapping == VH_NO ? "no"
                                                              : "unknown",
                                  f->allow_unsafe_interrupts ? 1 : 0);
        for (size_t i = 0; r == 0 && (f->parts & VH_FACTS_PCI) && i < f->n_pci; i++) {
                const vh_facts_pci *p = &f->pci[i];
                r = put_head(b, "pci", p->bdf);
                if (r == 0 && p->has_ids) {
                        r = put_hex(b, "vendor", p->vendor, 4);
                        if (r == 0)
                                r = put_hex(b, "device", p->device, 4);
                        if (r == 0)
                                r = put_hex(b, "class", p->class_, 6);
                }
                if (r == 0)
                        r = vh_kv_put(b, "driver", p->driver);
                if (r == 0 && p->iommu_group >= 0)
                        r = vh_kv_put_u64(b, "iommu_group", (uint64_t)p->iommu_group);
                if (r == 0)
                        r = vh_buf_puts(b, "\n");
        }
        for (size_t i = 0; r == 0 && (f->parts & VH_FACTS_BLOCK) && i < f->n_blocks; i++) {
                const vh_facts_block *k = &f->blocks[i];
                r = put_head(b, "block", k->name);
                if (r == 0)
                        r = vh_kv_put_u64(b, "partition", k->partition);
                if (r == 0)
                        r = vh_kv_put(b, "parent", k->parent);
                if (r == 0 && k->dm)
                        r = vh_kv_put(b, "dm", "1");
                if (r == 0)
                        r = vh_kv_put(b, "dm_uuid", k->dm_uuid);
                if (r == 0)
                        r = vh_kv_put(b, "dm_name", k->dm_name);
                if (r == 0)
                        r = vh_buf_puts(b, "\n");
        }
        for (size_t i = 0; r == 0 && (f->parts & VH_FACTS_BLOCK) && i < f->n_links; i++) {
                r = put_head(b, "link", f->links[i].path);
                if (r == 0)
                        r = vh_kv_put(b, "name", f->links[i].name);
                if (r == 0)
                        r = vh_buf_puts(b, "\n");
        }
        for (size_t i = 0; r == 0 && (f->parts & VH_FACTS_FILES) && i < f->n_files; i++) {
                r = put_head(b, "file", f->files[i].path);
                if (r == 0)
                        r = vh_buf_printf(b, " exec=%d\n", f->files[i].exec ? 1 : 0);
        }
        if (r == 0 && (f->parts & VH_FACTS_SWTPM)) {
                const vh_facts_swtpm *t = &f->swtpm;
                r = vh_buf_puts(b, "swtpm");
                if (r == 0)
                        r = vh_kv_put(b, "swtpm", t->swtpm);
                if (r == 0)
                        r = vh_kv_put(b, "swtpm_setup", t->swtpm_setup);
                if (r == 0)
                        r = vh_kv_put(b, "user", t->user);
                if (r == 0 && t->user)
                        r = vh_buf_printf(b, " uid=%u from_conf=%d unknown=%d", t->uid, t->from_conf ? 1 : 0,
                                          t->unknown ? 1 : 0);
                if (r == 0)
                        r = vh_kv_put(b, "user_error", t->user_error);
                if (r == 0)
                        r = vh_buf_printf(b, " localca_errno=%d localca_mode=0%o localca_uid=%u\n", t->localca_errno,
                                          t->localca_mode, t->localca_uid);
        }
        return r;
}

int vh_facts_format(const vh_facts *f, char **ret, vh_error **err)
{
        _cleanup_buf_ vh_buf b = { 0 };
        if (format_all(f, &b) < 0)
                return vh_fail(err, ENOMEM, "host facts");
        *ret = TAKE_PTR(b.data);
        return 0;
}

/* ---- reading ---- */

typedef struct spec {
        const char *type;
        unsigned part;          /* 0: the header */
        int name;               /* 1: a name is required, 0: none allowed */
        bool once;
        const char *keys;       /* allowed, space-separated; a leading '!' marks a required one */
} spec;

static const spec specs[] = {
        { "cpus", VH_FACTS_CPUS, 0, true, "!online !present !isolated !nohz_full" },
        { "irq", VH_FACTS_IRQS, 1, false, "" },
        { "cgroup", VH_FACTS_CGROUP, 0, true, "!layout !systemd" },
        { "node", VH_FACTS_NUMA, 1, false, "!cpus !memory_kib" },
        { "hugepages", VH_FACTS_HUGEPAGES, 0, true, "!default_kib" },
        { "pool", VH_FACTS_HUGEPAGES, 1, false, "!nr !free !resv !surplus !overcommit" },
        { "nodepool", VH_FACTS_HUGEPAGES, 1, false, "!node !nr !free !surplus" },
        { "iommu", VH_FACTS_PCI, 0, true, "!groups !irq_remapping !allow_unsafe_interrupts" },
        { "pci", VH_FACTS_PCI, 1, false, "vendor device class driver iommu_group" },
        { "block", VH_FACTS_BLOCK, 1, false, "!partition parent dm dm_uuid dm_name" },
        { "link", VH_FACTS_BLOCK, 1, false, "!name" },
        { "file", VH_FACTS_FILES, 1, false, "!exec" },
        { "swtpm", VH_FACTS_SWTPM, 0, true,
          "swtpm swtpm_setup user uid from_conf unknown user_error !localca_errno !localca_mode !localca_uid" },
};

typedef struct reader {
        const char *what;
        size_t line;
        vh_error **err;
        unsigned declared;      /* the header's parts */
        unsigned seen_once;     /* specs[] indices seen, for `once` */
} reader;

static int bad(reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(reader *rd, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = NULL;
        int n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return vh_fail(rd->err, ENOMEM, "%s", rd->what);
        return vh_fail_input(rd->err, "%s, line %zu: %s", rd->what, rd->line, msg);
}

/* Only the keys of `s`, and every required one. */
static int check_keys(reader *rd, const spec *s, const vh_kv_record *rec)
{
        for (size_t i = 0; i < rec->n; i++) {
                const char *k = rec->fields[i].key;
                bool ok = false;
                for (const char *p = s->keys; *p && !ok;) {
                        p += *p == '!';
                        size_t n = strcspn(p, " ");
                        ok = strlen(k) == n && strncmp(p, k, n) == 0;
                        p += n;
                        p += strspn(p, " ");
                }
                if (!ok)
                        return bad(rd, "%s: unknown field \"%s\" (expected %s%s)", s->type, k,
                                   *s->keys ? "only: " : "none", s->keys);
        }
        for (const char *p = s->keys; *p;) {
                bool req = *p == '!';
                p += req;
                size_t n = strcspn(p, " ");
                char key[32] = "";
                if (n < sizeof(key))
                        memcpy(key, p, n);
                if (req && !vh_kv_get(rec, key))
                        return bad(rd, "%s: missing field %s=", s->type, key);
                p += n;
                p += strspn(p, " ");
        }
        return 0;
}

static int get_u64(reader *rd, const vh_kv_record *rec, const char *key, uint64_t max, uint64_t *ret)
{
        int r = vh_kv_get_u64(rec, key, max, ret);
        if (r < 0)
                return bad(rd, "%s: %s=\"%s\": expected a decimal number <= %llu", rec->type, key,
                           vh_kv_get(rec, key) ? vh_kv_get(rec, key) : "", (unsigned long long)max);
        return 0;
}

static int get_bool(reader *rd, const vh_kv_record *rec, const char *key, bool *ret)
{
        const char *v = vh_kv_get(rec, key);
        if (streq(v, "0") || streq(v, "1")) {
                *ret = streq(v, "1");
                return 0;
        }
        return bad(rd, "%s: %s=\"%s\": expected 0 or 1", rec->type, key, v ? v : "");
}

static int get_set(reader *rd, const vh_kv_record *rec, const char *key, vh_cpuset *ret)
{
        const char *v = vh_kv_get(rec, key);
        vh_cpuset s = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        if (v && *v && vh_cpuset_parse_list(v, &s, &e) < 0)
                return bad(rd, "%s: %s=\"%s\": expected a CPU list such as 0-3,8 (%s)", rec->type, key, v,
                           vh_error_msg(e));
        vh_cpuset_done(ret);
        *ret = s;
        return 0;
}

static int get_hex(reader *rd, const vh_kv_record *rec, const char *key, uint32_t max, uint32_t *ret)
{
        const char *v = vh_kv_get(rec, key);
        const char *p = v ? startswith(v, "0x") : NULL;
        if (!p || !*p || strlen(p) > 8 || strspn(p, "0123456789abcdef") != strlen(p) || strtoul(p, NULL, 16) > max)
                return bad(rd, "%s: %s=\"%s\": expected a hexadecimal id such as 0x%0*x", rec->type, key, v ? v : "",
                           max > 0xffff ? 6 : 4, 0x1af4);
        *ret = (uint32_t)strtoul(p, NULL, 16);
        return 0;
}

static int dup_opt(const vh_kv_record *rec, const char *key, char **dst)
{
        int r = vh_kv_dup(rec, key, dst);
        return r == -ENOENT ? 0 : r;
}

static int parse_record(reader *rd, const vh_kv_record *rec, vh_facts *f)
{
        const spec *s = NULL;
        size_t si = 0;
        for (; si < ELEMENTSOF(specs); si++)
                if (streq(specs[si].type, rec->type)) {
                        s = &specs[si];
                        break;
                }
        if (!s)
                return bad(rd, "unknown record \"%s\" (expected one of cpus, irq, cgroup, node, hugepages, pool, "
                               "nodepool, iommu, pci, block, link, file, swtpm)",
                           rec->type);
        if (!(rd->declared & s->part)) {
                _cleanup_free_ char *p = vh_facts_parts_text(s->part);
                return bad(rd, "a %s record, but the header's parts= does not list %s", s->type, p ? p : "its part");
        }
        if (s->once) {
                if (rd->seen_once & (1u << si))
                        return bad(rd, "a second %s record (expected one)", s->type);
                rd->seen_once |= 1u << si;
        }
        if (s->name && !rec->name)
                return bad(rd, "%s: missing its name after the type (\"%s NAME key=value ...\")", s->type, s->type);
        if (!s->name && rec->name)
                return bad(rd, "%s: unexpected word \"%s\" (expected key=value fields only)", s->type, rec->name);
        int r = check_keys(rd, s, rec);
        if (r < 0)
                return r;
        uint64_t v;
        if (streq(s->type, "cpus")) {
                if ((r = get_set(rd, rec, "online", &f->online)) < 0 || (r = get_set(rd, rec, "present", &f->present)) < 0 ||
                    (r = get_set(rd, rec, "isolated", &f->isolated)) < 0 ||
                    (r = get_set(rd, rec, "nohz_full", &f->nohz_full)) < 0)
                        return r;
                if (vh_cpuset_is_empty(&f->online))
                        return bad(rd, "cpus: online= is empty (expected the online CPUs, such as 0-3)");
                return 0;
        }
        if (streq(s->type, "irq")) {
                if (vh_parse_u64(rec->name, UINT32_MAX, &v) < 0 || rec->name[strspn(rec->name, "0123456789")])
                        return bad(rd, "irq \"%s\": expected an IRQ number", rec->name);
                if (f->n_irqs && f->irqs[f->n_irqs - 1] >= v)
                        return bad(rd, "irq %s: not above the previous one (expected each IRQ once, ascending)",
                                   rec->name);
                if (f->n_irqs >= VH_FACTS_MAX_ITEMS)
                        return bad(rd, "more than %u irq records", VH_FACTS_MAX_ITEMS);
                unsigned *n = realloc(f->irqs, (f->n_irqs + 1) * sizeof(*n));
                if (!n)
                        return vh_fail(rd->err, ENOMEM, "%s", rd->what);
                f->irqs = n;
                f->irqs[f->n_irqs++] = (unsigned)v;
                return 0;
        }
        if (streq(s->type, "cgroup")) {
                const char *l = vh_kv_get(rec, "layout");
                static const vh_cgroup_layout all[] = { VH_CGROUP_NONE, VH_CGROUP_V1, VH_CGROUP_V2, VH_CGROUP_HYBRID };
                bool found = false;
                for (size_t i = 0; i < ELEMENTSOF(all); i++)
                        if (streq(l, vh_cgroup_layout_name(all[i]))) {
                                f->cgroup = all[i];
                                found = true;
                        }
                if (!found)
                        return bad(rd, "cgroup: layout=\"%s\": expected none, v1, v2 or hybrid", l);
                return get_bool(rd, rec, "systemd", &f->systemd);
        }
        if (streq(s->type, "node")) {
                if (vh_parse_u64(rec->name, 65535, &v) < 0 || rec->name[strspn(rec->name, "0123456789")])
                        return bad(rd, "node \"%s\": expected a NUMA node number <= 65535", rec->name);
                for (size_t i = 0; i < f->n_nodes; i++)
                        if (f->nodes[i].id == v)
                                return bad(rd, "node %s given twice", rec->name);
                if (f->n_nodes >= VH_FACTS_MAX_ITEMS)
                        return bad(rd, "more than %u node records", VH_FACTS_MAX_ITEMS);
                vh_facts_node *n = realloc(f->nodes, (f->n_nodes + 1) * sizeof(*n));
                if (!n)
                        return vh_fail(rd->err, ENOMEM, "%s", rd->what);
                f->nodes = n;
                vh_facts_node *nd = &f->nodes[f->n_nodes++];
                *nd = (vh_facts_node){ .id = (unsigned)v };
                if ((r = get_set(rd, rec, "cpus", &nd->cpus)) < 0)
                        return r;
                return get_u64(rd, rec, "memory_kib", UINT64_MAX / 1024, &nd->memory_kib);
        }
        if (streq(s->type, "hugepages"))
                return get_u64(rd, rec, "default_kib", UINT64_MAX / 1024, &f->default_hugepage_kib);
        if (streq(s->type, "pool") || streq(s->type, "nodepool")) {
                vh_facts_pool p = { .node = -1 };
                if (vh_parse_u64(rec->name, UINT64_MAX / 1024, &p.size_kib) < 0 || !p.size_kib ||
                    rec->name[strspn(rec->name, "0123456789")])
                        return bad(rd, "%s \"%s\": expected the page size in KiB, such as 2048", s->type, rec->name);
                bool whole = streq(s->type, "pool");
                if (!whole) {
                        if ((r = get_u64(rd, rec, "node", 65535, &v)) < 0)
                                return r;
                        p.node = (int)v;
                }
                if ((r = get_u64(rd, rec, "nr", UINT64_MAX / 2, &p.nr)) < 0 ||
                    (r = get_u64(rd, rec, "free", UINT64_MAX / 2, &p.free)) < 0 ||
                    (r = get_u64(rd, rec, "surplus", UINT64_MAX / 2, &p.surplus)) < 0)
                        return r;
                if (whole && ((r = get_u64(rd, rec, "resv", UINT64_MAX / 2, &p.resv)) < 0 ||
                              (r = get_u64(rd, rec, "overcommit", UINT64_MAX / 2, &p.overcommit)) < 0))
                        return r;
                if (vh_facts_pool_find(f, p.size_kib, p.node))
                        return bad(rd, "%s %s%s given twice", s->type, rec->name, whole ? "" : " of that node");
                if (f->n_pools >= VH_FACTS_MAX_ITEMS)
                        return bad(rd, "more than %u pools", VH_FACTS_MAX_ITEMS);
                vh_facts_pool *n = realloc(f->pools, (f->n_pools + 1) * sizeof(*n));
                if (!n)
                        return vh_fail(rd->err, ENOMEM, "%s", rd->what);
                f->pools = n;
                f->pools[f->n_pools++] = p;
                return 0;
        }
        if (streq(s->type, "iommu")) {
                if ((r = get_u64(rd, rec, "groups", UINT32_MAX, &v)) < 0)
                        return r;
                f->iommu_groups = (size_t)v;
                const char *ir = vh_kv_get(rec, "irq_remapping");
                if (streq(ir, "yes"))
                        f->irq_remapping = VH_YES;
                else if (streq(ir, "no"))
                        f->irq_remapping = VH_NO;
                else if (streq(ir, "unknown"))
                        f->irq_remapping = VH_UNKNOWN;
                else
                        return bad(rd, "iommu: irq_remapping=\"%s\": expected yes, no or unknown", ir);
                return get_bool(rd, rec, "allow_unsafe_interrupts", &f->allow_unsafe_interrupts);
        }
        if (streq(s->type, "pci")) {
                char bdf[13];
                if (strlen(rec->name) != 12 || strspn(rec->name, "0123456789abcdef:.") != 12 ||
                    rec->name[4] != ':' || rec->name[7] != ':' || rec->name[10] != '.')
                        return bad(rd, "pci \"%s\": expected a PCI address such as 0000:81:00.1 (lower case)",
                                   rec->name);
                memcpy(bdf, rec->name, 13);
                if (vh_facts_pci_find(f, bdf))
                        return bad(rd, "pci %s given twice", bdf);
                bool ids = vh_kv_get(rec, "vendor") || vh_kv_get(rec, "device") || vh_kv_get(rec, "class");
                if (ids && !(vh_kv_get(rec, "vendor") && vh_kv_get(rec, "device") && vh_kv_get(rec, "class")))
                        return bad(rd, "pci %s: vendor=, device= and class= go together (all or none)", bdf);
                if (f->n_pci >= VH_FACTS_MAX_ITEMS)
                        return bad(rd, "more than %u pci records", VH_FACTS_MAX_ITEMS);
                vh_facts_pci p = { .iommu_group = -1, .has_ids = ids };
                memcpy(p.bdf, bdf, 13);
                if (ids && ((r = get_hex(rd, rec, "vendor", 0xffff, &p.vendor)) < 0 ||
                            (r = get_hex(rd, rec, "device", 0xffff, &p.device)) < 0 ||
                            (r = get_hex(rd, rec, "class", 0xffffff, &p.class_)) < 0))
                        return r;
                if (vh_kv_get(rec, "iommu_group")) {
                        if ((r = get_u64(rd, rec, "iommu_group", INT32_MAX, &v)) < 0)
                                return r;
                        p.iommu_group = (int)v;
                }
                vh_facts_pci *n = realloc(f->pci, (f->n_pci + 1) * sizeof(*n));
                if (!n)
                        return vh_fail(rd->err, ENOMEM, "%s", rd->what);
                f->pci = n;
                if (dup_opt(rec, "driver", &p.driver) < 0)
                        return vh_fail(rd->err, ENOMEM, "%s", rd->what);
                f->pci[f->n_pci++] = p;
                return 0;
        }
        if (streq(s->type, "block")) {
                if (strchr(rec->name, '/'))
                        return bad(rd, "block \"%s\": expected a kernel device name such as sda or dm-3", rec->name);
                if (vh_facts_block_find(f, rec->name))
                        return bad(rd, "block %s given twice", rec->name);
                vh_facts_block k = { 0 };
                if ((r = get_u64(rd, rec, "partition", UINT32_MAX, &v)) < 0)
                        return r;
                k.partition = (unsigned)v;
                if (vh_kv_get(rec, "dm") && (r = get_bool(rd, rec, "dm", &k.dm)) < 0)
                        return r;
                if (!k.dm && (vh_kv_get(rec, "dm_uuid") || vh_kv_get(rec, "dm_name")))
                        return bad(rd, "block %s: dm_uuid= or dm_name= without dm=1", rec->name);
                if (f->n_blocks >= VH_FACTS_MAX_ITEMS)
                        return bad(rd, "more than %u block records", VH_FACTS_MAX_ITEMS);
                vh_facts_block *n = realloc(f->blocks, (f->n_blocks + 1) * sizeof(*n));
                if (!n)
                        return vh_fail(rd->err, ENOMEM, "%s", rd->what);
                f->blocks = n;
                f->blocks[f->n_blocks] = k;
                vh_facts_block *kb = &f->blocks[f->n_blocks++];
                if (!(kb->name = strdup(rec->name)) || dup_opt(rec, "parent", &kb->parent) < 0 ||
                    dup_opt(rec, "dm_uuid", &kb->dm_uuid) < 0 || dup_opt(rec, "dm_name", &kb->dm_name) < 0)
                        return vh_fail(rd->err, ENOMEM, "%s", rd->what);
                return 0;
        }
        if (streq(s->type, "link")) {
                if (!startswith(rec->name, "/dev/"))
                        return bad(rd, "link \"%s\": expected a path under /dev/", rec->name);
                const char *name = vh_kv_get(rec, "name");
                if (!vh_facts_block_find(f, name))
                        return bad(rd, "link %s: name=\"%s\" is no block record above (expected the block "
                                       "records first)",
                                   rec->name, name);
                if (vh_facts_block_resolve(f, rec->name))
                        return bad(rd, "link %s given twice", rec->name);
                if (f->n_links >= VH_FACTS_MAX_ITEMS)
                        return bad(rd, "more than %u link records", VH_FACTS_MAX_ITEMS);
                vh_facts_link *n = realloc(f->links, (f->n_links + 1) * sizeof(*n));
                if (!n)
                        return vh_fail(rd->err, ENOMEM, "%s", rd->what);
                f->links = n;
                vh_facts_link *l = &f->links[f->n_links];
                *l = (vh_facts_link){ strdup(rec->name), strdup(name) };
                f->n_links++;
                if (!l->path || !l->name)
                        return vh_fail(rd->err, ENOMEM, "%s", rd->what);
                return 0;
        }
        if (streq(s->type, "swtpm")) {
                vh_facts_swtpm *t = &f->swtpm;
                bool user = vh_kv_get(rec, "user");
                if (user == !!vh_kv_get(rec, "user_error"))
                        return bad(rd, "swtpm: expected user= (with uid=, from_conf=, unknown=) or user_error=, "
                                       "one of them");
                if (user && (!vh_kv_get(rec, "uid") || !vh_kv_get(rec, "from_conf") || !vh_kv_get(rec, "unknown")))
                        return bad(rd, "swtpm: user= needs uid=, from_conf= and unknown=");
                if (!user && (vh_kv_get(rec, "uid") || vh_kv_get(rec, "from_conf") || vh_kv_get(rec, "unknown")))
                        return bad(rd, "swtpm: uid=, from_conf= and unknown= go with user=");
                for (const char *const *k = (const char *const[]){ "swtpm", "swtpm_setup", NULL }; *k; k++) {
                        const char *pv = vh_kv_get(rec, *k);
                        if (pv && pv[0] != '/')
                                return bad(rd, "swtpm: %s=\"%s\": expected an absolute path", *k, pv);
                }
                if (user) {
                        if ((r = get_u64(rd, rec, "uid", UINT32_MAX - 1, &v)) < 0)
                                return r;
                        t->uid = (unsigned)v;
                        if ((r = get_bool(rd, rec, "from_conf", &t->from_conf)) < 0 ||
                            (r = get_bool(rd, rec, "unknown", &t->unknown)) < 0)
                                return r;
                }
                if ((r = get_u64(rd, rec, "localca_errno", 4095, &v)) < 0)
                        return r;
                t->localca_errno = (int)v;
                const char *m = vh_kv_get(rec, "localca_mode");
                if (!m || m[0] != '0' || strlen(m) > 8 || strspn(m, "01234567") != strlen(m))
                        return bad(rd, "swtpm: localca_mode=\"%s\": expected an octal st_mode such as 040750",
                                   m ? m : "");
                t->localca_mode = (unsigned)strtoul(m, NULL, 8);
                if ((r = get_u64(rd, rec, "localca_uid", UINT32_MAX - 1, &v)) < 0)
                        return r;
                t->localca_uid = (unsigned)v;
                if (dup_opt(rec, "swtpm", &t->swtpm) < 0 || dup_opt(rec, "swtpm_setup", &t->swtpm_setup) < 0 ||
                    dup_opt(rec, "user", &t->user) < 0 || dup_opt(rec, "user_error", &t->user_error) < 0)
                        return vh_fail(rd->err, ENOMEM, "%s", rd->what);
                return 0;
        }
        /* file */
        if (rec->name[0] != '/')
                return bad(rd, "file \"%s\": expected an absolute path", rec->name);
        if (vh_facts_file_find(f, rec->name))
                return bad(rd, "file %s given twice", rec->name);
        bool exec;
        if ((r = get_bool(rd, rec, "exec", &exec)) < 0)
                return r;
        if (f->n_files >= VH_FACTS_MAX_ITEMS)
                return bad(rd, "more than %u file records", VH_FACTS_MAX_ITEMS);
        vh_facts_file *n = realloc(f->files, (f->n_files + 1) * sizeof(*n));
        if (!n)
                return vh_fail(rd->err, ENOMEM, "%s", rd->what);
        f->files = n;
        f->files[f->n_files] = (vh_facts_file){ strdup(rec->name), exec };
        if (!f->files[f->n_files++].path)
                return vh_fail(rd->err, ENOMEM, "%s", rd->what);
        return 0;
}

/* "vmhooks-facts 1 parts=a,b arch=x" */
static int read_header(reader *rd, const char *line, size_t len, vh_facts *f)
{
        const char *magic = FACTS_MAGIC " ";
        size_t ml = strlen(magic);
        if (len < ml || strncmp(line, magic, ml) != 0)
                return bad(rd, "expected the header \"" FACTS_MAGIC " %d parts=...\" (is this a file written by "
                               "`vmhooks facts`?)",
                           FACTS_VERSION);
        /* the rest parses as a record typed by the version */
        _cleanup_(vh_kv_record_done) vh_kv_record rec = { 0 };
        _cleanup_free_ char *rest = NULL;
        if (asprintf(&rest, "v%.*s", (int)(len - ml), line + ml) < 0)
                return vh_fail(rd->err, ENOMEM, "%s", rd->what);
        int r = vh_kv_parse(rest, strlen(rest), &rec);
        if (r == -ENOMEM)
                return vh_fail(rd->err, ENOMEM, "%s", rd->what);
        char want[8];
        snprintf(want, sizeof(want), "v%d", FACTS_VERSION);
        if (r < 0 || !streq(rec.type, want) || rec.name)
                return bad(rd, "expected the header \"" FACTS_MAGIC " %d parts=...\" (version %d)", FACTS_VERSION,
                           FACTS_VERSION);
        spec hs = { FACTS_MAGIC, 0, 0, true, "!parts arch" };
        if ((r = check_keys(rd, &hs, &rec)) < 0)
                return r;
        const char *parts = vh_kv_get(&rec, "parts");
        for (const char *p = parts; *p;) {
                size_t n = strcspn(p, ",");
                bool found = false;
                for (size_t i = 0; i < ELEMENTSOF(part_names); i++)
                        if (strlen(part_names[i].name) == n && strncmp(part_names[i].name, p, n) == 0) {
                                if (rd->declared & part_names[i].bit)
                                        return bad(rd, "parts=: \"%.*s\" given twice", (int)n, p);
                                rd->declared |= part_names[i].bit;
                                found = true;
                        }
                if (!found)
                        return bad(rd, "parts=: unknown part \"%.*s\" (expected a comma-separated list of cpus, "
                                       "irqs, cgroup, numa, hugepages, pci, block, files, swtpm)",
                                   (int)n, p);
                p += n;
                p += *p == ',';
        }
        if (vh_kv_dup(&rec, "arch", &f->arch) == -ENOMEM)
                return vh_fail(rd->err, ENOMEM, "%s", rd->what);
        return 0;
}

int vh_facts_parse(const char *text, size_t len, const char *what, vh_facts *ret, vh_error **err)
{
        _cleanup_facts_ vh_facts f = { 0 };
        reader rd = { .what = what, .err = err };
        if (memchr(text, '\0', len)) {
                rd.line = 1;
                for (const char *p = text; *p; p++)
                        rd.line += *p == '\n';
                return bad(&rd, "a NUL byte (expected text)");
        }
        const char *p = text, *end = text + len;
        bool header = false;
        while (p < end) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
                rd.line++;
                int r;
                if (!header) {
                        if ((r = read_header(&rd, p, n, &f)) < 0)
                                return r;
                        header = true;
                } else if (n == 0 || *p == '#') {
                        /* empty lines and comments are allowed */
                } else {
                        _cleanup_(vh_kv_record_done) vh_kv_record rec = { 0 };
                        r = vh_kv_parse(p, n, &rec);
                        if (r == -ENOMEM)
                                return vh_fail(err, ENOMEM, "%s", what);
                        if (r < 0)
                                return bad(&rd, "\"%.*s\": expected a record \"TYPE [NAME] key=value ...\" "
                                                "(values %%XX-escaped)",
                                           (int)(n > 80 ? 80 : n), p);
                        if ((r = parse_record(&rd, &rec, &f)) < 0)
                                return r;
                }
                p = nl ? nl + 1 : end;
        }
        if (!header) {
                rd.line = 1;
                return bad(&rd, "empty (expected the header \"" FACTS_MAGIC " %d parts=...\")", FACTS_VERSION);
        }
        if ((rd.declared & VH_FACTS_CPUS) && !(rd.seen_once & (1u << 0)))
                return vh_fail_input(err, "%s: parts= lists cpus, but there is no cpus record", what);
        if ((rd.declared & VH_FACTS_CGROUP) && !(rd.seen_once & (1u << 2)))
                return vh_fail_input(err, "%s: parts= lists cgroup, but there is no cgroup record", what);
        if ((rd.declared & VH_FACTS_HUGEPAGES) && !(rd.seen_once & (1u << 4)))
                return vh_fail_input(err, "%s: parts= lists hugepages, but there is no hugepages record", what);
        if ((rd.declared & VH_FACTS_PCI) && !(rd.seen_once & (1u << 7)))
                return vh_fail_input(err, "%s: parts= lists pci, but there is no iommu record", what);
        if ((rd.declared & VH_FACTS_SWTPM) && !(rd.seen_once & (1u << 12)))
                return vh_fail_input(err, "%s: parts= lists swtpm, but there is no swtpm record", what);
        f.parts = rd.declared;
        *ret = f;
        memset(&f, 0, sizeof(f));
        return 0;
}

int vh_facts_load(const char *path, vh_facts *ret, vh_error **err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = vh_read_file(path, FACTS_MAX_BYTES, &text, &len, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *what = NULL;
        if (asprintf(&what, "facts file %s", path) < 0)
                return vh_fail(err, ENOMEM, "%s", path);
        return vh_facts_parse(text, len, what, ret, err);
}
