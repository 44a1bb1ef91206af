/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmhooks facts [--json]
 *
 * The host facts the patch rules and the prepare-time checks read
 * (lib/facts.h): CPUs (online, present, isolated, nohz_full), IRQs, the
 * cgroup layout and systemd, NUMA nodes, hugepage pools, PCI devices and
 * the IOMMU, block devices and their /dev links, the files the rules look
 * for, swtpm and its user's /var/lib/swtpm-localca.  Without --json, in the facts file format that `vmhooks patch
 * --facts FILE` (and diff, apply --dry-run, check) reads, so that
 * `vmhooks facts > host-b.facts` on host B lets host A patch for B.  Reads
 * only; exit 0, 1 when the online CPUs cannot be read, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "facts.h"
#include "jsonout.h"
#include "util.h"

static json_object *set_json(const vh_cpuset *s)
{
        _cleanup_free_ char *l = vh_cpuset_format_list(s);
        return l ? json_object_new_string(l) : NULL;
}

static json_object *hex_json(uint32_t v, int digits)
{
        char s[16];
        snprintf(s, sizeof(s), "0x%0*x", digits, (unsigned)v);
        return json_object_new_string(s);
}

/* Each part the facts hold, under its name. */
static int facts_json(const vh_facts *f, json_object *o)
{
        int r = 0;
        json_object *parts = json_object_new_array();
        r = vh_json_add(o, "parts", parts);
        for (unsigned bit = 1; r == 0 && (bit & VH_FACTS_ALL); bit <<= 1) {
                _cleanup_free_ char *name = (f->parts & bit) ? vh_facts_parts_text(bit) : NULL;
                if ((f->parts & bit) && (!name || json_object_array_add(parts, json_object_new_string(name)) < 0))
                        r = -ENOMEM;
        }
        if (r == 0 && f->arch)
                r = vh_json_add(o, "arch", json_object_new_string(f->arch));
        if (r == 0 && (f->parts & VH_FACTS_CPUS)) {
                json_object *c = json_object_new_object();
                r = vh_json_add(o, "cpus", c);
                if (r == 0)
                        r = vh_json_add(c, "online", set_json(&f->online));
                if (r == 0)
                        r = vh_json_add(c, "online_count", json_object_new_int((int)vh_cpuset_count(&f->online)));
                if (r == 0)
                        r = vh_json_add(c, "present", set_json(&f->present));
                if (r == 0)
                        r = vh_json_add(c, "isolated", set_json(&f->isolated));
                if (r == 0)
                        r = vh_json_add(c, "nohz_full", set_json(&f->nohz_full));
        }
        if (r == 0 && (f->parts & VH_FACTS_IRQS)) {
                json_object *a = json_object_new_array();
                r = vh_json_add(o, "irqs", a);
                for (size_t i = 0; r == 0 && i < f->n_irqs; i++)
                        if (json_object_array_add(a, json_object_new_int64(f->irqs[i])) < 0)
                                r = -ENOMEM;
        }
        if (r == 0 && (f->parts & VH_FACTS_CGROUP)) {
                json_object *c = json_object_new_object();
                r = vh_json_add(o, "cgroup", c);
                if (r == 0)
                        r = vh_json_add(c, "layout", json_object_new_string(vh_cgroup_layout_name(f->cgroup)));
                if (r == 0)
                        r = vh_json_add(c, "systemd", json_object_new_boolean(f->systemd));
        }
        if (r == 0 && (f->parts & VH_FACTS_NUMA)) {
                json_object *a = json_object_new_array();
                r = vh_json_add(o, "numa", a);
                for (size_t i = 0; r == 0 && i < f->n_nodes; i++) {
                        json_object *n = json_object_new_object();
                        if (!n || json_object_array_add(a, n) < 0) {
                                json_object_put(n);
                                r = -ENOMEM;
                                break;
                        }
                        r = vh_json_add(n, "node", json_object_new_int((int)f->nodes[i].id));
                        if (r == 0)
                                r = vh_json_add(n, "cpus", set_json(&f->nodes[i].cpus));
                        if (r == 0)
                                r = vh_json_add(n, "memory_kib", json_object_new_int64((int64_t)f->nodes[i].memory_kib));
                }
        }
        if (r == 0 && (f->parts & VH_FACTS_HUGEPAGES)) {
                json_object *h = json_object_new_object(), *pools = json_object_new_array();
                r = vh_json_add(o, "hugepages", h);
                if (r == 0)
                        r = vh_json_add(h, "default_kib", json_object_new_int64((int64_t)f->default_hugepage_kib));
                if (r == 0)
                        r = vh_json_add(h, "pools", pools);
                else
                        json_object_put(pools);
                for (size_t i = 0; r == 0 && i < f->n_pools; i++) {
                        const vh_facts_pool *p = &f->pools[i];
                        json_object *j = json_object_new_object();
                        if (!j || json_object_array_add(pools, j) < 0) {
                                json_object_put(j);
                                r = -ENOMEM;
                                break;
                        }
                        r = vh_json_add(j, "size_kib", json_object_new_int64((int64_t)p->size_kib));
                        if (r == 0)
                                r = vh_json_add(j, "node", p->node < 0 ? json_object_new_string("all")
                                                                       : json_object_new_int(p->node));
                        if (r == 0)
                                r = vh_json_add(j, "nr", json_object_new_int64((int64_t)p->nr));
                        if (r == 0)
                                r = vh_json_add(j, "free", json_object_new_int64((int64_t)p->free));
                        if (r == 0)
                                r = vh_json_add(j, "surplus", json_object_new_int64((int64_t)p->surplus));
                        if (r == 0 && p->node < 0)
                                r = vh_json_add(j, "resv", json_object_new_int64((int64_t)p->resv));
                        if (r == 0 && p->node < 0)
                                r = vh_json_add(j, "overcommit", json_object_new_int64((int64_t)p->overcommit));
                }
        }
        if (r == 0 && (f->parts & VH_FACTS_PCI)) {
                json_object *c = json_object_new_object(), *devs = json_object_new_array();
                r = vh_json_add(o, "pci", c);
                if (r == 0)
                        r = vh_json_add(c, "iommu_groups", json_object_new_int64((int64_t)f->iommu_groups));
                if (r == 0)
                        r = vh_json_add(c, "irq_remapping",
                                        json_object_new_string(f->irq_remapping == VH_YES  ? "yes"
                                                               : f->irq_remapping == VH_NO ? "no"
                                                                                           : "unknown"));
                if (r == 0)
                        r = vh_json_add(c, "allow_unsafe_interrupts", json_object_new_boolean(f->allow_unsafe_interrupts));
                if (r == 0)
                        r = vh_json_add(c, "devices", devs);
                else
                        json_object_put(devs);
                for (size_t i = 0; r == 0 && i < f->n_pci; i++) {
                        const vh_facts_pci *p = &f->pci[i];
                        json_object *j = json_object_new_object();
                        if (!j || json_object_array_add(devs, j) < 0) {
                                json_object_put(j);
                                r = -ENOMEM;
                                break;
                        }
                        r = vh_json_add(j, "address", json_object_new_string(p->bdf));
                        if (r == 0 && p->has_ids)
                                r = vh_json_add(j, "vendor", hex_json(p->vendor, 4));
                        if (r == 0 && p->has_ids)
                                r = vh_json_add(j, "device", hex_json(p->device, 4));
                        if (r == 0 && p->has_ids)
                                r = vh_json_add(j, "class", hex_json(p->class_, 6));
                        /* json-c's null is a NULL value */
                        if (r == 0)
                                r = p->driver ? vh_json_add(j, "driver", json_object_new_string(p->driver))
                                              : (json_object_object_add(j, "driver", NULL) < 0 ? -ENOMEM : 0);
                        if (r == 0)
                                r = p->iommu_group >= 0
                                            ? vh_json_add(j, "iommu_group", json_object_new_int(p->iommu_group))
                                            : (json_object_object_add(j, "iommu_group", NULL) < 0 ? -ENOMEM : 0);
                }
        }
        if (r == 0 && (f->parts & VH_FACTS_BLOCK)) {
                json_object *c = json_object_new_object(), *devs = json_object_new_array(),
                            *links = json_object_new_object();
                r = vh_json_add(o, "block", c);
                if (r == 0)
                        r = vh_json_add(c, "devices", devs);
                else
                        json_object_put(devs);
                if (r == 0)
                        r = vh_json_add(c, "links", links);
                else
                        json_object_put(links);
                for (size_t i = 0; r == 0 && i < f->n_blocks; i++) {
                        const vh_facts_block *b = &f->blocks[i];
                        json_object *j = json_object_new_object();
                        if (!j || json_object_array_add(devs, j) < 0) {
                                json_object_put(j);
                                r = -ENOMEM;
                                break;
                        }
                        r = vh_json_add(j, "name", json_object_new_string(b->name));
                        if (r == 0)
                                r = vh_json_add(j, "partition", json_object_new_int64(b->partition));
                        if (r == 0 && b->parent)
                                r = vh_json_add(j, "parent", json_object_new_string(b->parent));
                        if (r == 0 && b->dm)
                                r = vh_json_add(j, "dm_uuid", json_object_new_string(b->dm_uuid ? b->dm_uuid : ""));
                        if (r == 0 && b->dm)
                                r = vh_json_add(j, "dm_name", json_object_new_string(b->dm_name ? b->dm_name : ""));
                }
                for (size_t i = 0; r == 0 && i < f->n_links; i++)
                        r = vh_json_add(links, f->links[i].path, json_object_new_string(f->links[i].name));
        }
        if (r == 0 && (f->parts & VH_FACTS_FILES)) {
                json_object *c = json_object_new_object();
                r = vh_json_add(o, "files", c);
                for (size_t i = 0; r == 0 && i < f->n_files; i++)
                        r = vh_json_add(c, f->files[i].path, json_object_new_boolean(f->files[i].exec));
        }
        if (r == 0 && (f->parts & VH_FACTS_SWTPM)) {
                const vh_facts_swtpm *t = &f->swtpm;
                json_object *c = json_object_new_object();
                r = vh_json_add(o, "swtpm", c);
                const char *const keys[] = { "swtpm", "swtpm_setup", "user", "user_error" };
                const char *const vals[] = { t->swtpm, t->swtpm_setup, t->user, t->user_error };
                for (size_t i = 0; r == 0 && i < ELEMENTSOF(keys); i++)
                        r = vals[i] ? vh_json_add(c, keys[i], json_object_new_string(vals[i]))
                                    : (json_object_object_add(c, keys[i], NULL) < 0 ? -ENOMEM : 0);
                if (r == 0 && t->user)
                        r = vh_json_add(c, "uid", json_object_new_int64(t->uid));
                if (r == 0 && t->user)
                        r = vh_json_add(c, "from_conf", json_object_new_boolean(t->from_conf));
                if (r == 0 && t->user)
                        r = vh_json_add(c, "unknown", json_object_new_boolean(t->unknown));
                char mode[16];
                snprintf(mode, sizeof(mode), "0%o", t->localca_mode);
                if (r == 0)
                        r = t->localca_errno ? vh_json_add(c, "localca_error", json_object_new_string(strerror(t->localca_errno)))
                                             : vh_json_add(c, "localca_mode", json_object_new_string(mode));
                if (r == 0 && !t->localca_errno)
                        r = vh_json_add(c, "localca_uid", json_object_new_int64(t->localca_uid));
        }
        return r;
}

int vh_cmd_facts(vh_cli *cli, int argc, char **argv, vh_error **err)
{
        static const struct option opts[] = { { "json", no_argument, NULL, 'j' }, { 0 } };
        bool json = false;
        int c;
        while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
                if (c != 'j')
                        return vh_cli_usage(cli);
                json = true;
        }
        if (optind != argc)
                return vh_cli_usage(cli);
        _cleanup_facts_ vh_facts f = { 0 };
        int r = vh_facts_gather(&f, VH_FACTS_ALL, err);
        if (r < 0)
                return r;
        if (!json) {
                _cleanup_free_ char *text = NULL;
                if ((r = vh_facts_format(&f, &text, err)) < 0)
                        return r;
                if (fputs(text, stdout) == EOF || fflush(stdout) != 0)
                        return vh_fail(err, errno ? errno : EIO, "stdout");
                return 0;
        }
        _cleanup_json_put_ json_object *o = json_object_new_object();
        if (!o || facts_json(&f, o) < 0)
                return vh_fail(err, ENOMEM, "facts");
        const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s || puts(s) == EOF || fflush(stdout) != 0)
                return vh_fail(err, errno ? errno : EIO, "stdout");
        return 0;
}
