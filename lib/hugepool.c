/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "hugepool.h"

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "checks/check.h"
#include "cpuset.h"
#include "fileio.h"
#include "root.h"
#include "util.h"
#include "xml.h"

#define MAX_CELLS 1024u
#define GLOBAL_DIR "/sys/kernel/mm/hugepages"
#define NODE_DIR "/sys/devices/system/node"

/* ---- the memory of a VM, by page size and binding ---- */

void vh_hp_pieces_done(vh_hp_pieces *pl)
{
        for (size_t i = 0; i < pl->n; i++)
                free(pl->p[i].host_nodes);
        free(pl->p);
        pl->p = NULL;
        pl->n = 0;
}

static int pieces_add(vh_hp_pieces *pl, uint64_t size_kib, const char *nodes, uint64_t kib)
{
        for (size_t i = 0; i < pl->n; i++)
                if (pl->p[i].size_kib == size_kib && streq_ptr(pl->p[i].host_nodes, nodes)) {
                        pl->p[i].kib += kib;
                        return 0;
                }
        vh_hp_piece *np = realloc(pl->p, (pl->n + 1) * sizeof(*np));
        if (!np)
                return -ENOMEM;
        pl->p = np;
        np[pl->n] = (vh_hp_piece){ size_kib, nodes ? strdup(nodes) : NULL, kib };
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

static void cells_free(cell *c, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(c[i].host_nodes);
        free(c);
}

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
                        cells_free(cells, i);
                        return 0; /* libvirt would not have accepted it */
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
                        cells_free(cells, n);
                        return -ENOMEM;
                }
        }
        *ret = cells;
        *ret_n = n;
        return 0;
}

int vh_hp_pieces_from(const vh_domain *dom, uint64_t default_kib, vh_hp_pieces *ret)
{
        vh_hp_pieces pl = { 0 };
        if (!dom->hugepages) {
                *ret = pl;
                return 0;
        }
        xmlNodePtr root = dom->doc ? xmlDocGetRootElement(dom->doc) : NULL;
        _cleanup_free_ char *global = binding(vh_xml_child(vh_xml_child(root, "numatune"), "memory"));
        cell *cells;
        size_t nc;
        int r = read_cells(dom, global, &cells, &nc);
        if (r < 0)
                return r;
        const vh_hugepage *rest = NULL;
        bool any_page = dom->n_pages > 0;
        for (size_t k = 0; r == 0 && k < dom->n_pages; k++) {
                const vh_hugepage *pg = &dom->pages[k];
                uint64_t size = pg->size_kib ? pg->size_kib : default_kib;
                if (!pg->nodeset) {
                        if (!rest)
                                rest = pg;
                        continue;
                }
                _cleanup_cpuset_ vh_cpuset set = { 0 };
                if (vh_cpuset_parse_list(pg->nodeset, &set, NULL) < 0)
                        continue; /* libvirt validates it */
                for (size_t i = 0; r == 0 && i < nc; i++) {
                        if (cells[i].covered || !vh_cpuset_test(&set, cells[i].id))
                                continue;
                        cells[i].covered = true;
                        r = pieces_add(&pl, size, cells[i].host_nodes, cells[i].kib);
                }
        }
        uint64_t rest_size = !any_page ? default_kib : rest ? (rest->size_kib ? rest->size_kib : default_kib) : 0;
        if (r == 0 && (rest || !any_page)) {
                if (nc == 0)
                        r = pieces_add(&pl, rest_size, global, dom->memory_kib);
                for (size_t i = 0; r == 0 && i < nc; i++)
                        if (!cells[i].covered)
                                r = pieces_add(&pl, rest_size, cells[i].host_nodes, cells[i].kib);
        }
        cells_free(cells, nc);
        if (r < 0) {
                vh_hp_pieces_done(&pl);
                return r;
        }
        /* a size 0 (no default known) cannot be planned: dropped (the hugepages check says so) */
        for (size_t i = 0; i < pl.n;) {
                if (pl.p[i].size_kib) {
                        i++;
                        continue;
                }
                free(pl.p[i].host_nodes);
                memmove(&pl.p[i], &pl.p[i + 1], (pl.n - i - 1) * sizeof(pl.p[0]));
                pl.n--;
        }
        *ret = pl;
        return 0;
}

/* ---- names and paths ---- */

char *vh_hugepool_instance(uint64_t size_kib, int node)
{
        if (node < 0)
                return vh_strf(VH_HUGEPOOL_FAMILY ":%llukB", (unsigned long long)size_kib);
        return vh_strf(VH_HUGEPOOL_FAMILY ":%llukB:node%d", (unsigned long long)size_kib, node);
}

int vh_hugepool_parse_instance(const char *name, uint64_t *ret_size_kib, int *ret_node)
{
        const char *p = startswith(name, VH_HUGEPOOL_FAMILY ":");
        if (!p)
                return -EINVAL;
        size_t n = strspn(p, "0123456789");
        if (n == 0 || n > 10 || (p[0] == '0') || strncmp(p + n, "kB", 2) != 0)
                return -EINVAL;
        _cleanup_free_ char *digits = strndup(p, n);
        uint64_t size;
        if (!digits || vh_parse_u64(digits, UINT32_MAX, &size) < 0 || size == 0)
                return -EINVAL;
        p += n + 2;
        int node = -1;
        if (*p) {
                const char *q = startswith(p, ":node");
                uint64_t v;
                if (!q || !*q || (q[0] == '0' && q[1]) || strspn(q, "0123456789") != strlen(q) ||
                    vh_parse_u64(q, VH_HUGEPOOL_MAX_NODES - 1, &v) < 0)
                        return -EINVAL;
                node = (int)v;
        }
        *ret_size_kib = size;
        *ret_node = node;
        return 0;
}

char *vh_hugepool_path(uint64_t size_kib, int node, const char *file)
{
        if (node < 0)
                return vh_strf(GLOBAL_DIR "/hugepages-%llukB/%s", (unsigned long long)size_kib, file);
        return vh_strf(NODE_DIR "/node%d/hugepages/hugepages-%llukB/%s", node, (unsigned long long)size_kib, file);
}

/* ---- facts ---- */

void vh_hp_facts_done(vh_hp_facts *f)
{
        free(f->pools);
        free(f->node_avail_kib);
        memset(f, 0, sizeof(*f));
}

const vh_hp_pool *vh_hp_facts_pool(const vh_hp_facts *f, uint64_t size_kib, int node)
{
        for (size_t i = 0; i < f->n_pools; i++)
                if (f->pools[i].size_kib == size_kib && f->pools[i].node == node)
                        return &f->pools[i];
        return NULL;
}

static int read_u64_file(const char *rel, uint64_t *ret)
{
        _cleanup_free_ char *path = vh_path(rel);
        _cleanup_free_ char *line = NULL;
        if (!path)
                return -ENOMEM;
        int r = vh_read_line(path, &line, NULL);
        if (r < 0)
                return r;
        return vh_parse_u64(line, UINT64_MAX / 2, ret) < 0 ? -EINVAL : 0;
}

static int read_pool(uint64_t size_kib, int node, vh_hp_pool *ret)
{
        vh_hp_pool p = { .size_kib = size_kib, .node = node };
        static const char *const files[] = { "nr_hugepages", "free_hugepages", "surplus_hugepages" };
        uint64_t *dst[] = { &p.nr, &p.free, &p.surplus };
        for (size_t i = 0; i < 3; i++) {
                _cleanup_free_ char *rel = vh_hugepool_path(size_kib, node, files[i]);
                if (!rel)
                        return -ENOMEM;
                int r = read_u64_file(rel, dst[i]);
                if (r < 0)
                        return r;
        }
        if (node < 0) {
                _cleanup_free_ char *rel = vh_hugepool_path(size_kib, node, "resv_hugepages");
                if (!rel)
                        return -ENOMEM;
                int r = read_u64_file(rel, &p.resv);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        *ret = p;
        return 0;
}

static int push_pool(vh_hp_facts *f, const vh_hp_pool *p)
{
        vh_hp_pool *n = realloc(f->pools, (f->n_pools + 1) * sizeof(*n));
        if (!n)
                return -ENOMEM;
        f->pools = n;
        n[f->n_pools++] = *p;
        return 0;
}

/* "hugepages-2048kB" -> 2048 */
static bool size_dir(const char *name, uint64_t *ret)
{
        const char *p = startswith(name, "hugepages-");
        size_t n = p ? strspn(p, "0123456789") : 0;
        if (!n || !streq(p + n, "kB"))
                return false;
        char digits[24];
        if (n >= sizeof(digits))
                return false;
        memcpy(digits, p, n);
        digits[n] = '\0';
        return vh_parse_u64(digits, UINT32_MAX, ret) == 0 && *ret > 0;
}

/* "Key:   1234 kB" lines of a meminfo file (node files prefix "Node N "); missing keys stay untouched. */
static void meminfo_get(const char *text, const char *key, uint64_t *ret)
{
        for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                const char *k = l;
                if (startswith(k, "Node ")) {
                        k += 5;
                        k += strspn(k, "0123456789");
                        k += strspn(k, " ");
                }
                size_t n = strlen(key);
                if (strncmp(k, key, n) != 0 || k[n] != ':')
                        continue;
                k += n + 1;
                k += strspn(k, " \t");
                size_t d = strspn(k, "0123456789");
                char digits[24];
                if (d == 0 || d >= sizeof(digits))
                        return;
                memcpy(digits, k, d);
                digits[d] = '\0';
                (void)vh_parse_u64(digits, UINT64_MAX / 2, ret); /* unparsable: left as it was */
                return;
        }
}

static char *slurp(const char *rel)
{
        _cleanup_free_ char *path = vh_path(rel);
        char *text = NULL;
        size_t len;
        if (!path || vh_read_file(path, 1 << 20, &text, &len, NULL) < 0)
                return NULL;
        return text;
}

int vh_hp_facts_load(vh_hp_facts *f, vh_error **err)
{
        vh_hp_facts_done(f);
        _cleanup_free_ char *gdir = vh_path(GLOBAL_DIR);
        if (!gdir)
                return vh_fail(err, ENOMEM, "hugepages");
        int r = 0;
        DIR *d = opendir(gdir);
        uint64_t sizes[16];
        size_t n_sizes = 0;
        for (struct dirent *de; d && (de = readdir(d));) {
                uint64_t sz;
                if (size_dir(de->d_name, &sz) && n_sizes < 16)
                        sizes[n_sizes++] = sz;
        }
        if (d)
                closedir(d);
        for (size_t i = 0; i < n_sizes && r == 0; i++) {
                vh_hp_pool p;
                if (read_pool(sizes[i], -1, &p) == 0)
                        r = push_pool(f, &p);
        }
        /* node pools */
        _cleanup_free_ char *ndir = vh_path(NODE_DIR);
        if (!ndir)
                r = -ENOMEM;
        d = r == 0 ? opendir(ndir) : NULL;
        for (struct dirent *de; d && r == 0 && (de = readdir(d));) {
                const char *num = startswith(de->d_name, "node");
                uint64_t node;
                if (!num || !*num || strspn(num, "0123456789") != strlen(num) ||
                    vh_parse_u64(num, VH_HUGEPOOL_MAX_NODES - 1, &node) < 0)
                        continue;
                for (size_t i = 0; i < n_sizes && r == 0; i++) {
                        vh_hp_pool p;
                        if (read_pool(sizes[i], (int)node, &p) == 0) {
                                r = push_pool(f, &p);
                                f->numa = true;
                        }
                }
                if (r == 0 && (size_t)node + 1 > f->n_nodes) {
                        uint64_t *na = realloc(f->node_avail_kib, ((size_t)node + 1) * sizeof(*na));
                        if (!na) {
                                r = -ENOMEM;
                                break;
                        }
                        for (size_t k = f->n_nodes; k <= node; k++)
                                na[k] = UINT64_MAX;
                        f->node_avail_kib = na;
                        f->n_nodes = (size_t)node + 1;
                }
                if (r == 0) {
                        _cleanup_free_ char *rel = vh_strf(NODE_DIR "/node%llu/meminfo", (unsigned long long)node);
                        _cleanup_free_ char *text = rel ? slurp(rel) : NULL;
                        if (text) {
                                /* the kernel keeps no MemAvailable per node: free + inactive file pages +
                                   reclaimable slab, an estimate capped by the host's MemAvailable below */
                                uint64_t fr = 0, inact = 0, recl = 0;
                                meminfo_get(text, "MemFree", &fr);
                                meminfo_get(text, "Inactive(file)", &inact);
                                meminfo_get(text, "SReclaimable", &recl);
                                f->node_avail_kib[node] = fr + inact + recl;
                        }
                }
        }
        if (d)
                closedir(d);
        if (r < 0) {
                vh_hp_facts_done(f);
                return vh_fail(err, -r, "hugepages");
        }
        _cleanup_free_ char *mi = slurp("/proc/meminfo");
        if (!mi) {
                vh_hp_facts_done(f);
                return vh_fail(err, EIO, "cannot read /proc/meminfo");
        }
        f->mem_available_kib = UINT64_MAX;
        meminfo_get(mi, "MemAvailable", &f->mem_available_kib);
        meminfo_get(mi, "Hugepagesize", &f->default_kib);
        for (size_t i = 0; i < f->n_nodes; i++)
                if (f->node_avail_kib[i] != UINT64_MAX && f->node_avail_kib[i] > f->mem_available_kib)
                        f->node_avail_kib[i] = f->mem_available_kib;
        return 0;
}

/* ---- planning ---- */

static int needs_add(vh_hp_entry **list, size_t *n, uint64_t size_kib, int node, uint64_t pages)
{
        for (size_t i = 0; i < *n; i++)
                if ((*list)[i].size_kib == size_kib && (*list)[i].node == node) {
                        (*list)[i].need += pages;
                        return 0;
                }
        vh_hp_entry *l = realloc(*list, (*n + 1) * sizeof(*l));
        if (!l)
                return -ENOMEM;
        *list = l;
        l[(*n)++] = (vh_hp_entry){ size_kib, node, pages, 0 };
        return 0;
}

/* The node with the most available memory that has a pool of this size; -1 when none. */
static int roomiest_node(const vh_hp_facts *f, uint64_t size_kib)
{
        int best = -1;
        uint64_t best_avail = 0;
        for (size_t i = 0; i < f->n_pools; i++) {
                const vh_hp_pool *p = &f->pools[i];
                if (p->size_kib != size_kib || p->node < 0)
                        continue;
                uint64_t a = (size_t)p->node < f->n_nodes ? f->node_avail_kib[p->node] : 0;
                if (a == UINT64_MAX)
                        a = 0;
                if (best < 0 || a > best_avail) {
                        best = p->node;
                        best_avail = a;
                }
        }
        return best;
}

int vh_hugepool_needs(const vh_hp_pieces *pieces, const vh_hp_facts *f, vh_hp_entry **ret, size_t *ret_n)
{
        vh_hp_entry *list = NULL;
        size_t n = 0;
        int r = 0;
        for (size_t i = 0; i < pieces->n && r == 0; i++) {
                const vh_hp_piece *pc = &pieces->p[i];
                uint64_t pages = pc->kib / pc->size_kib + (pc->kib % pc->size_kib ? 1 : 0);
                if (!f->numa) {
                        r = needs_add(&list, &n, pc->size_kib, -1, pages);
                        continue;
                }
                _cleanup_cpuset_ vh_cpuset set = { 0 };
                unsigned nodes[VH_HUGEPOOL_MAX_NODES];
                size_t k = 0;
                if (pc->host_nodes && vh_cpuset_parse_list(pc->host_nodes, &set, NULL) == 0)
                        for (unsigned node = 0; node < VH_HUGEPOOL_MAX_NODES; node++)
                                if (vh_cpuset_test(&set, node))
                                        nodes[k++] = node;
                if (k == 0) {
                        int best = roomiest_node(f, pc->size_kib);
                        r = needs_add(&list, &n, pc->size_kib, best, pages);
                        continue;
                }
                /* split evenly; the first nodes take the remainder */
                for (size_t j = 0; j < k && r == 0; j++) {
                        uint64_t share = pages / k + (j < pages % k ? 1 : 0);
                        if (share)
                                r = needs_add(&list, &n, pc->size_kib, (int)nodes[j], share);
                }
        }
        if (r < 0) {
                free(list);
                return r;
        }
        *ret = list;
        *ret_n = n;
        return 0;
}

void vh_hp_plan_done(vh_hp_plan *p)
{
        free(p->steps);
        free(p->why);
        memset(p, 0, sizeof(*p));
}

/* Pages of (size, node) promised to other VMs that are still starting (no QEMU PID yet). */
static uint64_t promised(const vh_state *st, const char *uuid, uint64_t size_kib, int node)
{
        uint64_t sum = 0;
        for (size_t i = 0; i < st->n_regs; i++) {
                const vh_reg *g = &st->regs[i];
                if (g->pid > 0 || streq(g->uuid, uuid))
                        continue;
                for (size_t j = 0; j < g->demands.n_hp; j++)
                        if (g->demands.hp[j].size_kib == size_kib && g->demands.hp[j].node == node)
                                sum += g->demands.hp[j].need;
        }
        return sum;
}

static const char *node_text(int node, char buf[32])
{
        if (node < 0)
                snprintf(buf, 32, "the host");
        else
                snprintf(buf, 32, "node %d", node);
        return buf;
}

int vh_hugepool_plan(const vh_state *st, const char *uuid, const vh_hp_entry *needs, size_t n_needs,
                     const vh_hp_facts *f, uint64_t margin_kib, vh_hp_plan *ret)
{
        vh_hp_plan p = { 0 };
        p.steps = calloc(n_needs ? n_needs : 1, sizeof(*p.steps));
        if (!p.steps)
                return -ENOMEM;
        p.n = n_needs;
        uint64_t total_kib = 0;
        for (size_t i = 0; i < n_needs; i++) {
                vh_hp_step *s = &p.steps[i];
                s->size_kib = needs[i].size_kib;
                s->node = needs[i].node;
                s->need = needs[i].need;
                const vh_hp_pool *pool = vh_hp_facts_pool(f, s->size_kib, s->node);
                const vh_hp_pool *global = vh_hp_facts_pool(f, s->size_kib, -1);
                if (!pool) {
                        s->missing = true;
                        continue;
                }
                /* the kernel keeps reservations for the whole pool only: counted against every node */
                uint64_t resv = global ? global->resv : 0;
                uint64_t taken = resv + promised(st, uuid, s->size_kib, s->node);
                s->usable = pool->free > taken ? pool->free - taken : 0;
                s->pool = pool->nr > pool->surplus ? pool->nr - pool->surplus : 0;
                s->lacks = s->need > s->usable ? s->need - s->usable : 0;
                total_kib += s->lacks * s->size_kib;
        }
        /* the guard: per node, then for the host */
        char sz[32], nt[32];
        for (size_t i = 0; i < p.n && !p.refused; i++) {
                const vh_hp_step *s = &p.steps[i];
                if (!s->lacks || s->node < 0 || (size_t)s->node >= f->n_nodes ||
                    f->node_avail_kib[s->node] == UINT64_MAX)
                        continue;
                uint64_t on_node = 0;
                for (size_t j = 0; j < p.n; j++)
                        if (p.steps[j].node == s->node)
                                on_node += p.steps[j].lacks * p.steps[j].size_kib;
                uint64_t avail = f->node_avail_kib[s->node];
                if (on_node + margin_kib > avail) {
                        p.refused = true;
                        p.why = vh_strf("adding %llu pages of %s (%llu MiB) on %s would leave less than the margin "
                                        "of %llu MiB: only %llu MiB is available there (free + reclaimable); "
                                        "nothing allocated",
                                        (unsigned long long)s->lacks, vh_size_text(s->size_kib, sz, sizeof(sz)),
                                        (unsigned long long)(on_node / 1024), node_text(s->node, nt),
                                        (unsigned long long)(margin_kib / 1024), (unsigned long long)(avail / 1024));
                        if (!p.why) {
                                vh_hp_plan_done(&p);
                                return -ENOMEM;
                        }
                }
        }
        if (!p.refused && total_kib && f->mem_available_kib != UINT64_MAX &&
            total_kib + margin_kib > f->mem_available_kib) {
                p.refused = true;
                p.why = vh_strf("adding %llu MiB of hugepages would leave less than the margin of %llu MiB: "
                                "MemAvailable is %llu MiB; nothing allocated",
                                (unsigned long long)(total_kib / 1024), (unsigned long long)(margin_kib / 1024),
                                (unsigned long long)(f->mem_available_kib / 1024));
                if (!p.why) {
                        vh_hp_plan_done(&p);
                        return -ENOMEM;
                }
        }
        *ret = p;
        return 0;
}

uint64_t vh_hugepool_desired(const vh_state *st, uint64_t size_kib, int node, uint64_t original)
{
        uint64_t v = original;
        for (size_t i = 0; i < st->n_regs; i++) {
                const vh_demands *d = &st->regs[i].demands;
                for (size_t j = 0; j < d->n_hp; j++)
                        if (d->hp[j].size_kib == size_kib && d->hp[j].node == node)
                                v += d->hp[j].added;
        }
        return v;
}

bool vh_hugepool_demanded_by(const vh_demands *d)
{
        for (size_t j = 0; j < d->n_hp; j++)
                if (d->hp[j].added)
                        return true;
        return false;
}

/* ---- the registration's record: "2048:0:512:512,1048576:-:2:0" (size KiB, node or -, need, added) ---- */

int vh_hp_format(const vh_demands *d, char **ret)
{
        _cleanup_buf_ vh_buf b = { 0 };
        int r = vh_buf_puts(&b, "");
        for (size_t i = 0; r == 0 && i < d->n_hp; i++) {
                const vh_hp_entry *e = &d->hp[i];
                char node[16];
                if (e->node < 0)
                        snprintf(node, sizeof(node), "-");
                else
                        snprintf(node, sizeof(node), "%d", e->node);
                r = vh_buf_printf(&b, "%s%llu:%s:%llu:%llu", i ? "," : "", (unsigned long long)e->size_kib, node,
                                  (unsigned long long)e->need, (unsigned long long)e->added);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(b.data);
        return 0;
}

static int field_u64(const char **p, char end, uint64_t max, uint64_t *ret)
{
        size_t n = strspn(*p, "0123456789");
        char digits[24];
        if (n == 0 || n >= sizeof(digits) || ((*p)[n] != end && !(end == ',' && (*p)[n] == '\0')))
                return -EINVAL;
        memcpy(digits, *p, n);
        digits[n] = '\0';
        if (vh_parse_u64(digits, max, ret) < 0)
                return -EINVAL;
        *p += n + ((*p)[n] ? 1 : 0);
        return 0;
}

int vh_hp_parse(const char *text, vh_demands *d)
{
        vh_hp_entry *list = NULL;
        size_t n = 0;
        const char *p = text;
        while (*p) {
                uint64_t size, node = 0, need, added;
                int nd = -1;
                bool ok = field_u64(&p, ':', UINT32_MAX, &size) == 0 && size > 0;
                if (ok && p[0] == '-' && p[1] == ':')
                        p += 2;
                else if (ok) {
                        ok = field_u64(&p, ':', VH_HUGEPOOL_MAX_NODES - 1, &node) == 0;
                        nd = (int)node;
                }
                ok = ok && field_u64(&p, ':', UINT32_MAX, &need) == 0 && field_u64(&p, ',', UINT32_MAX, &added) == 0;
                if (ok && !*p && p[-1] == ',')
                        ok = false; /* a comma at the end */
                if (!ok || n >= 4096) {
                        free(list);
                        return -EINVAL;
                }
                vh_hp_entry *l = realloc(list, (n + 1) * sizeof(*l));
                if (!l) {
                        free(list);
                        return -ENOMEM;
                }
                list = l;
                list[n++] = (vh_hp_entry){ size, nd, need, added };
        }
        free(d->hp);
        d->hp = list;
        d->n_hp = n;
        return 0;
}

/* ---- the family: access and planner ---- */

static bool instance_ok(const char *instance)
{
        _cleanup_free_ char *name = vh_strf(VH_HUGEPOOL_FAMILY ":%s", instance);
        uint64_t sz;
        int node;
        return name && vh_hugepool_parse_instance(name, &sz, &node) == 0;
}

static int knob_pool(const vh_knob *k, uint64_t *size, int *node)
{
        return vh_hugepool_parse_instance(k->name, size, node);
}

static int pool_read(const vh_knob *k, char **ret_raw, vh_error **err)
{
        uint64_t size;
        int node;
        if (knob_pool(k, &size, &node) < 0)
                return vh_fail_input(err, "%s: not a hugepage pool", k->name);
        vh_hp_pool p;
        int r = read_pool(size, node, &p);
        if (r == -ENOENT)
                return r;
        if (r < 0) {
                _cleanup_free_ char *rel = vh_hugepool_path(size, node, "nr_hugepages");
                return vh_fail(err, -r, "%s", rel ? rel : k->name);
        }
        *ret_raw = vh_strf("%llu", (unsigned long long)(p.nr > p.surplus ? p.nr - p.surplus : 0));
        return *ret_raw ? 0 : vh_fail(err, ENOMEM, "%s", k->name);
}

#ifdef VH_TEST_SEAMS
static vh_hugepool_kernel_fn test_kernel;
static void *test_kernel_data;

void vh_hugepool_set_kernel(vh_hugepool_kernel_fn fn, void *userdata)
{
        test_kernel = fn;
        test_kernel_data = userdata;
}
#endif

static int pool_write(const vh_knob *k, const char *value, vh_error **err)
{
        uint64_t size, v;
        int node;
        if (knob_pool(k, &size, &node) < 0 || vh_parse_u64(value, UINT32_MAX, &v) < 0)
                return vh_fail_input(err, "%s: cannot write \"%s\"", k->name, value);
        _cleanup_free_ char *rel = vh_hugepool_path(size, node, "nr_hugepages");
        _cleanup_free_ char *path = rel ? vh_path(rel) : NULL;
        if (!path)
                return vh_fail(err, ENOMEM, "%s", k->name);
#ifdef VH_TEST_SEAMS
        /* VMHOOKS_FAKE_HUGEPAGES=1 (tests of whole programs): plain files whose free pages follow the pool */
        uint64_t old_nr = 0, old_free = 0;
        _cleanup_free_ char *free_rel = vh_hugepool_path(size, node, "free_hugepages");
        bool fake = secure_getenv("VMHOOKS_FAKE_HUGEPAGES") && free_rel && read_u64_file(rel, &old_nr) == 0 &&
                    read_u64_file(free_rel, &old_free) == 0;
#endif
        int r = vh_write_sysfs(path, value, err);
#ifdef VH_TEST_SEAMS
        if (r == 0 && test_kernel)
                test_kernel(rel, v, test_kernel_data);
        if (r == 0 && fake && !test_kernel) {
                uint64_t nf = v >= old_nr ? old_free + (v - old_nr) : (old_free > old_nr - v ? old_free - (old_nr - v) : 0);
                _cleanup_free_ char *fp = vh_path(free_rel);
                _cleanup_free_ char *fv = vh_strf("%llu", (unsigned long long)nf);
                if (fp && fv)
                        (void)vh_write_sysfs(fp, fv, NULL); /* the stand-in's own bookkeeping */
        }
#endif
        return r;
}

static int pool_access(const vh_knob *k, char **why)
{
        uint64_t size;
        int node;
        if (knob_pool(k, &size, &node) < 0)
                return -ENOENT;
        _cleanup_free_ char *rel = vh_hugepool_path(size, node, "nr_hugepages");
        _cleanup_free_ char *path = rel ? vh_path(rel) : NULL;
        if (!path)
                return -ENOMEM;
        if (access(path, F_OK) < 0) {
                if (why)
                        *why = vh_strf("not present on this host (%s does not exist)", rel);
                return -ENOENT;
        }
        if (access(path, W_OK) < 0 && errno != EACCES) {
                if (why)
                        *why = vh_strf("cannot be tuned here: %s: %s", rel, strerror(errno));
                return -EROFS;
        }
        return 0;
}

const vh_family_ops vh_hugepool_ops = { .read = pool_read, .write = pool_write, .access = pool_access,
                                        .valid = instance_ok };

int vh_hugepool_want(const vh_state *st, const vh_knob *k, const char *original, vh_desired *out, vh_buf *why,
                     vh_error **err)
{
        uint64_t size, orig;
        int node;
        if (knob_pool(k, &size, &node) < 0 || vh_parse_u64(original, UINT32_MAX, &orig) < 0)
                return vh_fail_input(err, "%s: original \"%s\" is not a page count", k->name, original);
        out->demanded = true;
        unsigned count = 0;
        int r = 0;
        for (size_t i = 0; i < st->n_regs && r == 0; i++) {
                const vh_demands *d = &st->regs[i].demands;
                for (size_t j = 0; j < d->n_hp && r == 0; j++) {
                        if (d->hp[j].size_kib != size || d->hp[j].node != node || !d->hp[j].added)
                                continue;
                        if (++count > 8)
                                continue;
                        r = vh_buf_puts(why, why->len ? ", " : "");
                        if (r == 0)
                                r = vh_buf_escape(why, st->regs[i].name, true);
                        if (r == 0)
                                r = vh_buf_printf(why, " (%llu pages added)", (unsigned long long)d->hp[j].added);
                }
        }
        if (r == 0 && count > 8)
                r = vh_buf_printf(why, " and %u more", count - 8);
        if (r == 0 && !count)
                r = vh_buf_puts(why, "no VM (the administrator's own pool)");
        if (r < 0)
                return vh_fail(err, ENOMEM, "%s", k->name);
        out->value = vh_strf("%llu", (unsigned long long)vh_hugepool_desired(st, size, node, orig));
        return out->value ? 0 : vh_fail(err, ENOMEM, "%s", k->name);
}

/* ---- allocation ---- */

void vh_hp_outcome_done(vh_hp_outcome *o)
{
        free(o->tried);
        memset(o, 0, sizeof(*o));
}

static int report(vh_report *rep, const char *knob, vh_change_kind kind, uint64_t from, uint64_t to, const char *why)
{
        vh_change *c = realloc(rep->changes, (rep->n + 1) * sizeof(*c));
        if (!c)
                return -ENOMEM;
        rep->changes = c;
        c = &c[rep->n];
        memset(c, 0, sizeof(*c));
        c->knob = strdup(knob);
        c->family = VH_FAM_HUGEPOOL;
        c->kind = kind;
        c->from = vh_strf("%llu", (unsigned long long)from);
        c->to = vh_strf("%llu", (unsigned long long)to);
        c->why = strdup(why);
        rep->n++;
        if (kind == VH_CHANGE_FAILED)
                rep->failed = true;
        return c->knob && c->from && c->to && c->why ? 0 : -ENOMEM;
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The persistent pool as it reads now; UINT64_MAX when it cannot be read. */
static uint64_t persistent(const vh_knob *k)
{
        _cleanup_free_ char *raw = NULL;
        uint64_t v;
        if (pool_read(k, &raw, NULL) < 0 || vh_parse_u64(raw, UINT64_MAX, &v) < 0)
                return UINT64_MAX;
        return v;
}

static int set_num(char **dst, uint64_t v)
{
        char *n = vh_strf("%llu", (unsigned long long)v);
        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

static bool num_is(const char *s, uint64_t v)
{
        uint64_t x;
        return s && vh_parse_u64(s, UINT64_MAX, &x) == 0 && x == v;
}

/* Write-ahead: the value about to be written, recorded before the write. */
static int intend(vh_state *st, vh_knob_state *ks, uint64_t value, vh_error **err)
{
        int r = set_num(&ks->pending, value);
        if (r < 0)
                return r;
        r = vh_state_save_intent(st, err);
        if (r < 0) {
                free(ks->pending);
                ks->pending = NULL;
        }
        return r;
}

/* Ask the kernel to compact memory (the node's, where it has it) and, when asked, drop the page cache. */
static void make_room(int node, bool compact, bool drop, unsigned *compacted, unsigned *dropped)
{
        if (drop) {
                _cleanup_free_ char *p = vh_path("/proc/sys/vm/drop_caches");
                if (p && vh_write_sysfs(p, "3", NULL) == 0)
                        (*dropped)++;
        }
        if (!compact)
                return;
        _cleanup_free_ char *rel = node >= 0 ? vh_strf(NODE_DIR "/node%d/compact", node) : NULL;
        _cleanup_free_ char *p = rel ? vh_path(rel) : NULL;
        if (!p || access(p, F_OK) < 0) {
                free(p);
                p = vh_path("/proc/sys/vm/compact_memory");
        }
        if (p && vh_write_sysfs(p, "1", NULL) == 0)
                (*compacted)++;
}

static int tried_add(vh_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int tried_add(vh_buf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *s = NULL;
        int n = vasprintf(&s, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        int r = vh_buf_puts(b, b->len ? "; " : "");
        return r < 0 ? r : vh_buf_puts(b, s);
}

/* Give back what this call added (each entry's added beyond `kept`), newest first. */
static int give_back(vh_state *st, vh_reg *g, const uint64_t *kept, vh_report *rep, vh_buf *tried, const char *why)
{
        for (size_t i = g->demands.n_hp; i-- > 0;) {
                vh_hp_entry *e = &g->demands.hp[i];
                if (e->added <= kept[i])
                        continue;
                _cleanup_free_ char *name = vh_hugepool_instance(e->size_kib, e->node);
                _cleanup_(vh_knob_done) vh_knob k = { 0 };
                if (!name || vh_knob_resolve(name, &k) < 0)
                        return -ENOMEM;
                vh_knob_state *ks = vh_state_knob(st, name);
                uint64_t now = persistent(&k), back = e->added - kept[i];
                if (!ks || now == UINT64_MAX)
                        continue;
                uint64_t target = now > back ? now - back : 0;
                _cleanup_error_ vh_error *we = NULL;
                _cleanup_free_ char *value = vh_strf("%llu", (unsigned long long)target);
                if (!value)
                        return -ENOMEM;
                /* no new intent: the one of the allocation (expected before, pending its target) covers this */
                int r = pool_write(&k, value, &we);
                uint64_t after = persistent(&k);
                if (r < 0 || after == UINT64_MAX) {
                        /* the pages stay recorded as this VM's: its release gives them back */
                        r = tried_add(tried, "could not give back %llu pages of %s: %s", (unsigned long long)back,
                                      name, we ? vh_error_msg(we) : "unreadable");
                        if (r < 0)
                                return r;
                        continue;
                }
                uint64_t gone = now > after ? now - after : 0;
                e->added -= gone < back ? gone : back;
                if ((r = report(rep, name, num_is(ks->original, after)
                                                   ? VH_CHANGE_RESTORE : VH_CHANGE_SET,
                                now, after, why)) < 0)
                        return r;
        }
        return 0;
}

int vh_hugepool_allocate(vh_state *st, vh_reg *g, const vh_hp_entry *old, size_t n_old, const vh_hp_request *req,
                         vh_report *rep, vh_hp_outcome *out, vh_error **err)
{
        vh_reg_touch(g);
        /* what an earlier registration of this VM added stays its own */
        free(g->demands.hp);
        g->demands.hp = NULL;
        g->demands.n_hp = 0;
        if (!req || !req->dom || !req->dom->hugepages) {
                if (n_old && !(g->demands.hp = malloc(n_old * sizeof(*old))))
                        return vh_fail(err, ENOMEM, "hugepages");
                if (n_old)
                        memcpy(g->demands.hp, old, n_old * sizeof(*old));
                g->demands.n_hp = n_old;
                return 0;
        }
        out->attempted = true;
        _cleanup_buf_ vh_buf tried = { 0 };
        _cleanup_(vh_hp_facts_done) vh_hp_facts f = { 0 };
        _cleanup_error_ vh_error *fe = NULL;
        int r = vh_buf_puts(&tried, "");
        if (r == 0 && vh_hp_facts_load(&f, &fe) < 0) {
                out->tried = vh_strf("vmhooks could not read the hugepage pools (%s): nothing allocated",
                                     vh_error_msg(fe));
                return out->tried ? 0 : vh_fail(err, ENOMEM, "hugepages");
        }
        _cleanup_(vh_hp_pieces_done) vh_hp_pieces pieces = { 0 };
        vh_hp_entry *needs = NULL;
        size_t n = 0;
        if (r == 0)
                r = vh_hp_pieces_from(req->dom, f.default_kib, &pieces);
        if (r == 0)
                r = vh_hugepool_needs(&pieces, &f, &needs, &n);
        if (r < 0)
                return vh_fail(err, -r, "hugepages");
        /* entries of the earlier registration: kept (merged by key) */
        for (size_t i = 0; i < n_old && r == 0; i++) {
                bool merged = false;
                for (size_t j = 0; j < n && !merged; j++)
                        if (needs[j].size_kib == old[i].size_kib && needs[j].node == old[i].node) {
                                needs[j].added += old[i].added;
                                merged = true;
                        }
                if (!merged && old[i].added) {
                        vh_hp_entry *l = realloc(needs, (n + 1) * sizeof(*l));
                        if (!l)
                                r = -ENOMEM;
                        else {
                                needs = l;
                                needs[n] = old[i];
                                needs[n++].need = 0;
                        }
                }
        }
        g->demands.hp = needs;
        g->demands.n_hp = n;
        if (r < 0)
                return vh_fail(err, ENOMEM, "hugepages");
        _cleanup_free_ uint64_t *kept = calloc(n ? n : 1, sizeof(*kept));
        if (!kept)
                return vh_fail(err, ENOMEM, "hugepages");
        for (size_t i = 0; i < n; i++)
                kept[i] = needs[i].added;
        _cleanup_free_ bool *touched = calloc(n ? n : 1, sizeof(*touched));
        if (!touched)
                return vh_fail(err, ENOMEM, "hugepages");

        _cleanup_(vh_hp_plan_done) vh_hp_plan plan = { 0 };
        /* the plan's "usable" must not count pages this VM already holds twice: they are free, and its own */
        if (vh_hugepool_plan(st, g->uuid, needs, n, &f, req->margin_kib, &plan) < 0)
                return vh_fail(err, ENOMEM, "hugepages");
        if (plan.refused) {
                out->short_of_pages = true;
                out->tried = vh_strf("vmhooks did not allocate: %s", plan.why);
                return out->tried ? 0 : vh_fail(err, ENOMEM, "hugepages");
        }
        unsigned rounds = req->max_rounds ? req->max_rounds : VH_HUGEPOOL_ROUNDS;
        int64_t deadline = now_ms() + (req->max_ms ? req->max_ms : VH_HUGEPOOL_MAX_MS);
        bool short_of = false;
        char sz[32];
        for (size_t i = 0; i < plan.n && r == 0 && !short_of; i++) {
                const vh_hp_step *s = &plan.steps[i];
                uint64_t lacks = s->lacks > kept[i] ? s->lacks - kept[i] : 0; /* its own pages are in `usable` */
                if (!lacks)
                        continue;
                vh_size_text(s->size_kib, sz, sizeof(sz));
                _cleanup_free_ char *name = vh_hugepool_instance(s->size_kib, s->node);
                _cleanup_(vh_knob_done) vh_knob k = { 0 };
                if (!name || vh_knob_resolve(name, &k) < 0)
                        return vh_fail(err, ENOMEM, "hugepages");
                vh_knob_state *ks = vh_state_knob(st, name);
                uint64_t before = persistent(&k);
                if (ks && (ks->drifted || ks->lost)) {
                        r = tried_add(&tried, "%s left alone (%s): not allocated", name,
                                      ks->lost ? "its original was lost with a damaged state" : "changed by someone else");
                        continue;
                }
                if (!ks && st->lost_unknown) {
                        r = tried_add(&tried, "%s left alone (the state was damaged): not allocated", name);
                        continue;
                }
                if (before == UINT64_MAX) {
                        r = tried_add(&tried, "cannot read %s: not allocated", name);
                        continue;
                }
                if (ks && ks->saved && ks->expected) {
                        uint64_t exp;
                        if (vh_parse_u64(ks->expected, UINT64_MAX, &exp) == 0 && exp != before) {
                                /* reconcile tells the drift; the pool is not ours to change now */
                                r = tried_add(&tried, "%s reads %llu, vmhooks expected %llu (changed by someone "
                                              "else): not allocated", name, (unsigned long long)before,
                                              (unsigned long long)exp);
                                continue;
                        }
                }
                if (!ks || !ks->saved) {
                        if (!ks && !(ks = vh_state_knob_add(st, name)))
                                return vh_fail(err, ENOMEM, "hugepages");
                        if (set_num(&ks->original, before) < 0 || set_num(&ks->expected, before) < 0)
                                return vh_fail(err, ENOMEM, "hugepages");
                        ks->saved = true;
                }
                uint64_t target = before + lacks, got = before;
                _cleanup_free_ char *value = vh_strf("%llu", (unsigned long long)target);
                if (!value)
                        return vh_fail(err, ENOMEM, "hugepages");
                _cleanup_error_ vh_error *we = NULL;
                if (intend(st, ks, target, &we) < 0) {
                        r = tried_add(&tried, "%s not changed: %s", name, vh_error_msg(we));
                        short_of = true;
                        break;
                }
                unsigned compacted = 0, dropped = 0, round = 0;
                for (;;) {
                        vh_error_free(TAKE_PTR(we));
                        int wr = pool_write(&k, value, &we);
                        uint64_t now = persistent(&k);
                        if (now != UINT64_MAX)
                                got = now;
                        if (got >= target || (wr < 0 && !vh_knob_untunable_errno(&k, we ? we->code : 0) &&
                                              we && we->code != ENOMEM && we->code != EINVAL && got == before &&
                                              round > 0))
                                break;
                        if (round >= rounds || now_ms() >= deadline || (!req->compact && !req->drop_caches))
                                break;
                        make_room(s->node, req->compact, req->drop_caches, &compacted, &dropped);
                        round++;
                }
                /* pending and expected stay as the intent has them until the end (finish): a call killed
                   before its save leaves a value between them, which the next call takes as ours */
                touched[i] = true;
                uint64_t added = got > before ? got - before : 0;
                needs[i].added += added;
                _cleanup_free_ char *why = vh_strf("allocated for VM %s: it needs %llu pages of %s, %llu were usable",
                                                   g->name, (unsigned long long)s->need, sz,
                                                   (unsigned long long)s->usable);
                if (!why || (added && report(rep, name, VH_CHANGE_SET, before, got, why) < 0))
                        return vh_fail(err, ENOMEM, "hugepages");
                out->added += added;
                if (got < target) {
                        short_of = true;
                        char where[32];
                        r = tried_add(&tried, "vmhooks asked the kernel for %llu more pages of %s on %s and got %llu",
                                      (unsigned long long)lacks, sz, node_text(s->node, where),
                                      (unsigned long long)added);
                        if (r == 0)
                                r = vh_buf_printf(&tried, "%s%s", compacted || dropped ? " after " : "",
                                                  compacted && dropped ? "compacting and dropping caches"
                                                  : compacted          ? "compacting"
                                                  : dropped            ? "dropping caches"
                                                                       : "");
                        if (r == 0 && (compacted || dropped))
                                r = vh_buf_printf(&tried, " (%u round%s)", round, round == 1 ? "" : "s");
                        if (r == 0 && we)
                                r = vh_buf_printf(&tried, " (%s)", vh_error_msg(we));
                        if (r == 0 && s->size_kib >= 1048576)
                                r = vh_buf_printf(&tried, "; the kernel rarely finds contiguous %s blocks once the "
                                                  "host has run a while: reserve them at boot (hugepagesz=1G "
                                                  "hugepages=%llu on the kernel command line)",
                                                  sz, (unsigned long long)(s->need + s->pool));
                }
        }
        if (r < 0)
                return vh_fail(err, -r, "hugepages");
        if (short_of) {
                out->short_of_pages = true;
                _cleanup_free_ char *why = vh_strf("given back: the kernel could not give VM %s all the pages it lacks",
                                                   g->name);
                if (!why || give_back(st, g, kept, rep, &tried, why) < 0)
                        return vh_fail(err, ENOMEM, "hugepages");
                out->added = 0;
                r = vh_buf_puts(&tried, ", gave them back");
                if (r < 0)
                        return vh_fail(err, ENOMEM, "hugepages");
        }
        /* what each touched pool reads now is what vmhooks expects of it */
        for (size_t i = 0; i < n; i++) {
                if (!touched[i])
                        continue;
                _cleanup_free_ char *name = vh_hugepool_instance(needs[i].size_kib, needs[i].node);
                _cleanup_(vh_knob_done) vh_knob k = { 0 };
                vh_knob_state *ks = name ? vh_state_knob(st, name) : NULL;
                if (!ks || vh_knob_resolve(name, &k) < 0)
                        return vh_fail(err, ENOMEM, "hugepages");
                uint64_t now = persistent(&k);
                if (now != UINT64_MAX && (set_num(&ks->expected, now) < 0 || set_num(&ks->last_written, now) < 0))
                        return vh_fail(err, ENOMEM, "hugepages");
                free(ks->pending);
                ks->pending = NULL;
        }
        if (tried.len)
                out->tried = TAKE_PTR(tried.data);
        return 0;
}

/* ---- what a start would do (vmhooks check), and the pools now (vmhooks status) ---- */

int vh_hugepool_preview(const vh_domain *dom, const vh_policy *p, vh_results *out)
{
        if (!dom->hugepages || !vh_policy_on(p, VH_P_HUGEPOOL) || !p->hugepool_allocate)
                return 0;
        _cleanup_(vh_hp_facts_done) vh_hp_facts f = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        if (vh_hp_facts_load(&f, &e) < 0)
                return vh_results_add(out, "hugepage-pool", VH_LEVEL_WARN, false, NULL,
                                      "cannot read the hugepage pools: %s", vh_error_msg(e));
        /* the registrations as they are (read without the lock: a preview); none when unreadable */
        _cleanup_state_ vh_state st = { 0 };
        _cleanup_error_ vh_error *se = NULL;
        if (vh_state_load(&st, &se) < 0 && se && se->code != EINVAL)
                vh_state_done(&st);
        _cleanup_(vh_hp_pieces_done) vh_hp_pieces pieces = { 0 };
        _cleanup_free_ vh_hp_entry *needs = NULL;
        size_t n = 0;
        if (vh_hp_pieces_from(dom, f.default_kib, &pieces) < 0 || vh_hugepool_needs(&pieces, &f, &needs, &n) < 0)
                return -ENOMEM;
        _cleanup_(vh_hp_plan_done) vh_hp_plan plan = { 0 };
        const char *uuid = dom->uuid ? dom->uuid : dom->name;
        if (vh_hugepool_plan(&st, uuid, needs, n, &f, p->hugepool_margin_kib, &plan) < 0)
                return -ENOMEM;
        if (plan.refused)
                return vh_results_add(out, "hugepage-pool", VH_LEVEL_FAIL, true, NULL,
                                      "a start of VM %s would be refused: %s", dom->name, plan.why);
        int r = 0;
        for (size_t i = 0; r == 0 && i < plan.n; i++) {
                const vh_hp_step *s = &plan.steps[i];
                char sz[32], where[32];
                vh_size_text(s->size_kib, sz, sizeof(sz));
                _cleanup_free_ char *name = vh_hugepool_instance(s->size_kib, s->node);
                if (!name)
                        return -ENOMEM;
                if (s->missing)
                        r = vh_results_add(out, "hugepage-pool", VH_LEVEL_WARN, false, NULL,
                                           "VM %s needs %llu pages of %s on %s, where this host has no pool of that "
                                           "size: nothing to allocate (boot-time reservation: hugepagesz=%s "
                                           "hugepages=%llu)", dom->name, (unsigned long long)s->need, sz,
                                           node_text(s->node, where), s->size_kib >= 1048576 ? "1G" : "2M",
                                           (unsigned long long)s->need);
                else
                        r = vh_results_add(out, "hugepage-pool", VH_LEVEL_NOTE, false, NULL,
                                           "a start of VM %s would add %llu pages of %s to %s (needs %llu, %llu "
                                           "usable; the pool is %llu now)%s",
                                           dom->name, (unsigned long long)s->lacks, sz, name,
                                           (unsigned long long)s->need, (unsigned long long)s->usable,
                                           (unsigned long long)s->pool,
                                           s->lacks && s->size_kib >= 1048576
                                                   ? "; 1 GiB pages at run time need contiguous memory the kernel "
                                                     "may not find"
                                                   : "");
        }
        return r;
}

int vh_hugepool_status(const vh_state *st, vh_buf *b)
{
        bool any = false;
        for (size_t i = 0; i < st->n_knobs && !any; i++)
                any = startswith(st->knobs[i].name, VH_HUGEPOOL_FAMILY ":") != NULL;
        for (size_t i = 0; i < st->n_regs && !any; i++)
                any = st->regs[i].demands.n_hp > 0;
        if (!any)
                return 0;
        _cleanup_(vh_hp_facts_done) vh_hp_facts f = { 0 };
        if (vh_hp_facts_load(&f, NULL) < 0)
                return vh_buf_puts(b, "hugepage pools: cannot be read\n");
        int r = vh_buf_puts(b, "hugepage pools (vmhooks adds pages at a VM's start, gives them back at its stop):\n");
        for (size_t i = 0; r == 0 && i < f.n_pools; i++) {
                const vh_hp_pool *p = &f.pools[i];
                if (f.numa && p->node < 0)
                        continue; /* tuned per node: the node lines say it */
                char sz[32], where[32];
                vh_size_text(p->size_kib, sz, sizeof(sz));
                _cleanup_free_ char *name = vh_hugepool_instance(p->size_kib, p->node);
                if (!name)
                        return -ENOMEM;
                const vh_knob_state *ks = vh_state_knob(st, name);
                uint64_t persist = p->nr > p->surplus ? p->nr - p->surplus : 0;
                uint64_t in_use = p->nr > p->free ? p->nr - p->free : 0;
                r = vh_buf_printf(b, "  %s on %s: the administrator's pool %s", sz, node_text(p->node, where),
                                  ks && ks->saved && ks->original ? ks->original : "");
                if (r == 0 && !(ks && ks->saved))
                        r = vh_buf_printf(b, "%llu", (unsigned long long)persist);
                if (r == 0)
                        r = vh_buf_puts(b, "; added by vmhooks:");
                unsigned count = 0;
                for (size_t j = 0; r == 0 && j < st->n_regs; j++) {
                        const vh_demands *d = &st->regs[j].demands;
                        for (size_t k = 0; r == 0 && k < d->n_hp; k++) {
                                if (d->hp[k].size_kib != p->size_kib || d->hp[k].node != p->node || !d->hp[k].added)
                                        continue;
                                r = vh_buf_puts(b, count++ ? ", " : " ");
                                if (r == 0)
                                        r = vh_buf_escape(b, st->regs[j].name, true);
                                if (r == 0)
                                        r = vh_buf_printf(b, " %llu", (unsigned long long)d->hp[k].added);
                        }
                }
                if (r == 0)
                        r = vh_buf_printf(b, "%s; now %llu pages, %llu free, %llu in use%s", count ? "" : " none",
                                          (unsigned long long)persist, (unsigned long long)p->free,
                                          (unsigned long long)in_use, p->surplus ? "" : "\n");
                if (r == 0 && p->surplus)
                        r = vh_buf_printf(b, " (%llu surplus: still mapped after their VM's release, freed by the "
                                             "kernel when unmapped)\n", (unsigned long long)p->surplus);
        }
        return r;
}
