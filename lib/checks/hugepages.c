/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Static hugepages: are there enough free pages of the size the VM asks for?
 *
 * Without them QEMU fails late with "unable to map backing store for guest
 * RAM: Cannot allocate memory"; refusing at prepare says which knob to
 * raise instead.  hugetlbfs reserves the pages of a mapping when QEMU maps
 * it, so what counts is free_hugepages - resv_hugepages (pages free but
 * promised to another mapping), plus what overcommit may still add
 * (nr_overcommit_hugepages - surplus_hugepages).
 *
 * Memory bound to host NUMA nodes (<numatune><memory mode="strict|
 * interleave|restrictive" nodeset=...>, or a <memnode> of the guest cell)
 * must come from those nodes.  The kernel keeps resv_hugepages only for the
 * whole pool, so a node's free_hugepages is an upper bound of what it can
 * give: the check refuses only when even that bound (or the whole pool's
 * usable count) is short, and never refuses a start that could work.
 *
 * The memory that needs pages of a size: a <page nodeset=...> covers those
 * guest NUMA cells (<cpu><numa><cell memory>), a <page> without nodeset the
 * cells no other <page> names (all memory when there are no cells), and no
 * <page> at all means the host's default size (Hugepagesize in /proc/meminfo).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks/check.h"
#include "cpuset.h"
#include "facts.h"
#include "util.h"
#include "xml.h"

#define MAX_CELLS 1024u

/* One piece of guest memory: its page size and the host nodes it is bound to. */
typedef struct piece {
        uint64_t size_kib;
        char *host_nodes;       /* NULL: any node */
        uint64_t kib;
} piece;

typedef struct plan {
        piece *p;
        size_t n;
} plan;

static void plan_done(plan *pl)
{
        for (size_t i = 0; i < pl->n; i++)
                free(pl->p[i].host_nodes);
        free(pl->p);
}

/* Add kib to the piece of (size, nodes), merging equal keys. */
static int plan_add(plan *pl, uint64_t size_kib, const char *nodes, uint64_t kib)
{
        for (size_t i = 0; i < pl->n; i++)
                if (pl->p[i].size_kib == size_kib && streq_ptr(pl->p[i].host_nodes, nodes)) {
                        pl->p[i].kib += kib;
                        return 0;
                }
        piece *np = realloc(pl->p, (pl->n + 1) * sizeof(*np));
        if (!np)
                return -ENOMEM;
        pl->p = np;
        np[pl->n] = (piece){ size_kib, nodes ? strdup(nodes) : NULL, kib };
        if (nodes && !np[pl->n].host_nodes)
                return -ENOMEM;
        pl->n++;
        return 0;
}

/* Host nodes a <numatune> element binds to, or NULL (mode preferred, or none). */
static char *binding(const xmlNode *n)
{
        if (!n || vh_xml_prop_is(n, "mode", "preferred"))
                return NULL;
        return vh_xml_prop(n, "nodeset");
}

typedef struct cell {
        unsigned id;
        uint64_t kib;
        bool covered;
        char *host_nodes;
} cell;

static void cells_done(cell *c, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(c[i].host_nodes);
        free(c);
}

/* Guest NUMA cells with their memory and host binding; *ret_n = 0 when none (or unparsable). */
static int read_cells(const vh_domain *dom, const char *global_nodes, cell **ret, size_t *ret_n)
{
        *ret = NULL;
        *ret_n = 0;
        xmlNodePtr root = dom->doc ? xmlDocGetRootElement(dom->doc) : NULL;
        xmlNodePtr numa = vh_xml_child(vh_xml_child(root, "cpu"), "numa");
        size_t n = 0;
        vh_xml_foreach(c, numa, "cell")
                n++;
        if (n == 0 || n > MAX_CELLS)
                return 0;
        cell *cells = calloc(n, sizeof(*cells));
        if (!cells)
                return -ENOMEM;
        size_t i = 0;
        vh_xml_foreach(c, numa, "cell") {
                _cleanup_free_ char *id = vh_xml_prop(c, "id");
                _cleanup_free_ char *mem = vh_xml_prop(c, "memory");
                _cleanup_free_ char *unit = vh_xml_prop(c, "unit");
                uint64_t v;
                if (!id || vh_parse_u64(id, MAX_CELLS, &v) < 0 || !mem ||
                    vh_memory_to_kib(mem, unit, &cells[i].kib) < 0) {
                        cells_done(cells, i);
                        return 0; /* libvirt would not have accepted it; nothing to check */
                }
                cells[i].id = (unsigned)v;
                i++;
        }
        xmlNodePtr nt = vh_xml_child(root, "numatune");
        for (i = 0; i < n; i++) {
                xmlNodePtr mn = NULL;
                vh_xml_foreach(m, nt, "memnode") {
                        _cleanup_free_ char *cid = vh_xml_prop(m, "cellid");
                        uint64_t v;
                        if (cid && vh_parse_u64(cid, MAX_CELLS, &v) == 0 && v == cells[i].id)
                                mn = m;
                }
                cells[i].host_nodes = mn ? binding(mn) : (global_nodes ? strdup(global_nodes) : NULL);
                if (!mn && global_nodes && !cells[i].host_nodes) {
                        cells_done(cells, n);
                        return -ENOMEM;
                }
        }
        *ret = cells;
        *ret_n = n;
        return 0;
}

static int build_plan(const vh_domain *dom, uint64_t default_kib, plan *pl)
{
        xmlNodePtr root = dom->doc ? xmlDocGetRootElement(dom->doc) : NULL;
        _cleanup_free_ char *global = binding(vh_xml_child(vh_xml_child(root, "numatune"), "memory"));
        cell *cells;
        size_t nc;
        int r = read_cells(dom, global, &cells, &nc);
        if (r < 0)
                return r;
        if (dom->n_pages == 0) {
                if (nc == 0)
                        r = plan_add(pl, default_kib, global, dom->memory_kib);
                for (size_t i = 0; r == 0 && i < nc; i++)
                        r = plan_add(pl, default_kib, cells[i].host_nodes, cells[i].kib);
                cells_done(cells, nc);
                return r;
        }
        /* pages with a nodeset first: they claim their cells */
        const vh_hugepage *rest = NULL;
        for (size_t k = 0; r == 0 && k < dom->n_pages; k++) {
                const vh_hugepage *pg = &dom->pages[k];
                if (!pg->nodeset) {
                        if (!rest)
                                rest = pg;
                        continue;
                }
                _cleanup_cpuset_ vh_cpuset set = { 0 };
                if (vh_cpuset_parse_list(pg->nodeset, &set, NULL) < 0)
                        continue; /* libvirt validates it; nothing we can check */
                for (size_t i = 0; r == 0 && i < nc; i++) {
                        if (cells[i].covered || !vh_cpuset_test(&set, cells[i].id))
                                continue;
                        cells[i].covered = true;
                        r = plan_add(pl, pg->size_kib, cells[i].host_nodes, cells[i].kib);
                }
        }
        if (r == 0 && rest) {
                if (nc == 0)
                        r = plan_add(pl, rest->size_kib, global, dom->memory_kib);
                for (size_t i = 0; r == 0 && i < nc; i++)
                        if (!cells[i].covered)
                                r = plan_add(pl, rest->size_kib, cells[i].host_nodes, cells[i].kib);
        }
        cells_done(cells, nc);
        return r;
}

static uint64_t pages_for(uint64_t kib, uint64_t size_kib)
{
        return kib / size_kib + (kib % size_kib ? 1 : 0);
}

/* Pages the overcommit may still allocate. */
static uint64_t headroom(const vh_hugepool *g)
{
        return g->overcommit > g->surplus ? g->overcommit - g->surplus : 0;
}

/* The pool's directory on the host (malloc'd), for messages and fixes. */
static char *pool_dir(uint64_t size_kib, int node)
{
        char *s = NULL;
        int n = node < 0 ? asprintf(&s, "/sys/kernel/mm/hugepages/hugepages-%llukB", (unsigned long long)size_kib)
                         : asprintf(&s, "/sys/devices/system/node/node%d/hugepages/hugepages-%llukB", node,
                                    (unsigned long long)size_kib);
        if (n < 0)
                return NULL;
        return s;
}

/* The pool from the host facts: 0, -ENOENT (the host has none), -ENODATA (hugepages not gathered). */
static int facts_pool(const vh_facts *f, uint64_t size_kib, int node, vh_hugepool *ret)
{
        if (!(f->parts & VH_FACTS_HUGEPAGES))
                return -ENODATA;
        const vh_facts_pool *p = vh_facts_pool_find(f, size_kib, node);
        if (!p)
                return -ENOENT;
        *ret = (vh_hugepool){ .nr = p->nr, .free = p->free, .resv = p->resv, .surplus = p->surplus,
                              .overcommit = p->overcommit, .has_resv = node < 0 };
        return 0;
}

static int check_size(const vh_domain *dom, const vh_facts *f, uint64_t size_kib, uint64_t need, vh_results *out,
                      vh_hugepool *ret_pool, bool *ret_ok)
{
        char sz[32], mem[32];
        vh_size_text(size_kib, sz, sizeof(sz));
        vh_size_text(need * size_kib, mem, sizeof(mem));
        _cleanup_free_ char *dir = pool_dir(size_kib, -1);
        if (!dir)
                return -ENOMEM;
        const char *rel = dir;
        vh_hugepool g;
        int r = facts_pool(f, size_kib, -1, &g);
        *ret_ok = false;
        if (r == -ENOENT) {
                _cleanup_free_ char *fix = vh_strf("reserve %s pages at boot: add \"hugepagesz=%s hugepages=%llu\" to "
                                                   "the kernel command line (or pick a size this host has)",
                                                   sz, size_kib >= 1048576 ? "1G" : "2M",
                                                   (unsigned long long)need);
                return vh_results_add(out, "hugepages", VH_LEVEL_FAIL, true, fix,
                                      "VM %s needs %llu pages of %s (%s of memory), but this host has no pool "
                                      "of that size (%s does not exist)",
                                      dom->name, (unsigned long long)need, sz, mem, rel);
        }
        if (r < 0)
                return r == -ENOMEM ? r
                                    : vh_results_add(out, "hugepages", VH_LEVEL_WARN, false, NULL,
                                                     "cannot read the pool %s: %s; not checked", rel, strerror(-r));
        uint64_t usable = (g.free > g.resv ? g.free - g.resv : 0) + headroom(&g);
        *ret_pool = g;
        if (need > usable) {
                uint64_t missing = need - usable;
                _cleanup_free_ char *fix =
                        vh_strf("echo %llu > %s/nr_hugepages (now %llu), or: virsh allocpages %lluKiB %llu --add",
                                (unsigned long long)(g.nr + missing), rel, (unsigned long long)g.nr,
                                (unsigned long long)size_kib, (unsigned long long)missing);
                return vh_results_add(out, "hugepages", VH_LEVEL_FAIL, true, fix,
                                      "VM %s needs %llu pages of %s (%s), only %llu usable (free %llu - reserved "
                                      "%llu%s) in %s",
                                      dom->name, (unsigned long long)need, sz, mem, (unsigned long long)usable,
                                      (unsigned long long)g.free, (unsigned long long)g.resv,
                                      headroom(&g) ? " + overcommit" : "", rel);
        }
        *ret_ok = true;
        return 0;
}

static int check_nodes(const vh_domain *dom, const vh_facts *f, const piece *pc, const vh_hugepool *global,
                       vh_results *out, bool *ret_ok)
{
        char sz[32];
        vh_size_text(pc->size_kib, sz, sizeof(sz));
        _cleanup_cpuset_ vh_cpuset set = { 0 };
        *ret_ok = true;
        if (vh_cpuset_parse_list(pc->host_nodes, &set, NULL) < 0 || vh_cpuset_is_empty(&set))
                return 0; /* libvirt rejects it itself */
        uint64_t need = pages_for(pc->kib, pc->size_kib), free_sum = 0;
        int first = -1;
        for (unsigned node = 0; node < 4096; node++) {
                if (!vh_cpuset_test(&set, node))
                        continue;
                if (first < 0)
                        first = (int)node;
                vh_hugepool np;
                int r = facts_pool(f, pc->size_kib, (int)node, &np);
                if (r == -ENOMEM)
                        return r;
                if (r == 0)
                        free_sum += np.free;
        }
        uint64_t bound = free_sum + headroom(global);
        if (need <= bound)
                return 0;
        *ret_ok = false;
        uint64_t missing = need - bound;
        _cleanup_free_ char *dir = pool_dir(pc->size_kib, first);
        if (!dir)
                return -ENOMEM;
        _cleanup_free_ char *fix = vh_strf("raise %s/nr_hugepages by %llu, or: virsh allocpages %lluKiB %llu "
                                           "--cellno %d --add",
                                           dir, (unsigned long long)missing,
                                           (unsigned long long)pc->size_kib, (unsigned long long)missing, first);
        return vh_results_add(out, "hugepages", VH_LEVEL_FAIL, true, fix,
                              "VM %s needs %llu pages of %s on host NUMA node(s) %s (<numatune>), only %llu free "
                              "there",
                              dom->name, (unsigned long long)need, sz, pc->host_nodes,
                              (unsigned long long)bound);
}

int vh_check_hugepages(const vh_domain *dom, const vh_policy *p, const vh_facts *f, vh_results *out)
{
        if (!dom->hugepages)
                return 0;
        /* <hugepage-pool allocate="yes">: checked after vmhooks sized the pools (the hook, lib/hugepool.h) */
        if (p && vh_policy_on(p, VH_P_HUGEPOOL) && p->hugepool_allocate)
                return 0;
        uint64_t default_kib = 0;
        bool need_default = dom->n_pages == 0;
        for (size_t i = 0; i < dom->n_pages; i++)
                need_default |= dom->pages[i].size_kib == 0;
        if (need_default && !(default_kib = (f->parts & VH_FACTS_HUGEPAGES) ? f->default_hugepage_kib : 0))
                return vh_results_add(out, "hugepages", VH_LEVEL_WARN, false, NULL,
                                      "VM %s wants hugepages of the default size, but /proc/meminfo has no "
                                      "Hugepagesize; not checked",
                                      dom->name);
        plan pl = { 0 };
        int r = build_plan(dom, default_kib, &pl);
        /* one pass per page size: the whole pool, then each node binding */
        for (size_t i = 0; r == 0 && i < pl.n; i++) {
                bool seen = false;
                for (size_t j = 0; j < i; j++)
                        seen |= pl.p[j].size_kib == pl.p[i].size_kib;
                if (seen || pl.p[i].size_kib == 0)
                        continue;
                uint64_t need = 0;
                for (size_t j = i; j < pl.n; j++)
                        if (pl.p[j].size_kib == pl.p[i].size_kib)
                                need += pages_for(pl.p[j].kib, pl.p[j].size_kib);
                vh_hugepool g = { 0 };
                bool ok;
                r = check_size(dom, f, pl.p[i].size_kib, need, out, &g, &ok);
                for (size_t j = i; r == 0 && ok && j < pl.n; j++)
                        if (pl.p[j].size_kib == pl.p[i].size_kib && pl.p[j].host_nodes)
                                r = check_nodes(dom, f, &pl.p[j], &g, out, &ok);
                if (r == 0 && ok) {
                        char sz[32];
                        vh_size_text(pl.p[i].size_kib, sz, sizeof(sz));
                        r = vh_results_add(out, "hugepages", VH_LEVEL_PASS, false, NULL,
                                           "VM %s needs %llu pages of %s; %llu usable", dom->name,
                                           (unsigned long long)need, sz,
                                           (unsigned long long)((g.free > g.resv ? g.free - g.resv : 0) +
                                                                headroom(&g)));
                }
        }
        plan_done(&pl);
        return r;
}
