/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hugepages just in time (lib/hugepool.h): planning over sizes and nodes, the guard, the record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#include "domain.h"
#include "fault.h"
#include "hugepool.h"
#include "lifecycle.h"
#include "root.h"
#include "state.h"
#include "util.h"

static vh_domain *parse(const char *body)
{
        char *xml = NULL;
        assert_true(asprintf(&xml, "<domain type='kvm'><name>a</name><uuid>u-a</uuid>%s</domain>", body) > 0);
        vh_domain *d = NULL;
        vh_error *e = NULL;
        assert_int_equal(vh_domain_parse(xml, strlen(xml), "t", &d, &e), 0);
        free(xml);
        return d;
}

/* pieces of one domain as "SIZE@NODES=KIB;..." in their order */
static char *pieces_text(const char *body, uint64_t default_kib)
{
        vh_domain *d = parse(body);
        vh_hp_pieces pl = { 0 };
        assert_int_equal(vh_hp_pieces_from(d, default_kib, &pl), 0);
        char buf[1024] = "";
        size_t off = 0;
        for (size_t i = 0; i < pl.n; i++)
                off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s%llu@%s=%llu", i ? ";" : "",
                                        (unsigned long long)pl.p[i].size_kib,
                                        pl.p[i].host_nodes ? pl.p[i].host_nodes : "any",
                                        (unsigned long long)pl.p[i].kib);
        vh_hp_pieces_done(&pl);
        vh_domain_free(d);
        return strdup(buf);
}

static void expect_pieces(const char *body, const char *want)
{
        char *got = pieces_text(body, 2048);
        if (strcmp(got, want) != 0)
                fail_msg("pieces of %s: got %s, want %s", body, got, want);
        free(got);
}

static void test_pieces(void **state)
{
        (void)state;
        /* no hugepages: nothing */
        expect_pieces("<memory unit='MiB'>1024</memory>", "");
        /* the default size, all memory, unbound */
        expect_pieces("<memory unit='MiB'>1024</memory><memoryBacking><hugepages/></memoryBacking>",
                      "2048@any=1048576");
        /* bound by <numatune><memory>; preferred binds nothing */
        expect_pieces("<memory unit='MiB'>1024</memory><memoryBacking><hugepages/></memoryBacking>"
                      "<numatune><memory mode='strict' nodeset='0-1'/></numatune>",
                      "2048@0-1=1048576");
        expect_pieces("<memory unit='MiB'>1024</memory><memoryBacking><hugepages/></memoryBacking>"
                      "<numatune><memory mode='preferred' nodeset='1'/></numatune>",
                      "2048@any=1048576");
        /* guest cells: a 1 GiB page for cell 0 bound by its memnode, the rest 2 MiB on the global binding */
        expect_pieces("<memory unit='MiB'>3072</memory><memoryBacking><hugepages>"
                      "<page size='1' unit='GiB' nodeset='0'/><page size='2048' unit='KiB'/></hugepages>"
                      "</memoryBacking><numatune><memory mode='strict' nodeset='0'/>"
                      "<memnode cellid='0' mode='strict' nodeset='1'/></numatune>"
                      "<cpu><numa><cell id='0' cpus='0' memory='2' unit='GiB'/>"
                      "<cell id='1' cpus='1' memory='1' unit='GiB'/></numa></cpu>",
                      "1048576@1=2097152;2048@0=1048576");
}

/* A host: pools as "SIZE:NODE:NR:FREE" (node -1: global), node availability in MiB per node. */
static void facts(vh_hp_facts *f, bool numa, const char *const *pools, size_t n, const uint64_t *node_mib,
                  size_t n_nodes, uint64_t avail_mib)
{
        memset(f, 0, sizeof(*f));
        f->pools = calloc(n, sizeof(*f->pools));
        for (size_t i = 0; i < n; i++) {
                unsigned long long sz, nr, fr;
                int node;
                assert_int_equal(sscanf(pools[i], "%llu:%d:%llu:%llu", &sz, &node, &nr, &fr), 4);
                f->pools[i] = (vh_hp_pool){ .size_kib = sz, .node = node, .nr = nr, .free = fr };
        }
        f->n_pools = n;
        f->numa = numa;
        f->default_kib = 2048;
        f->mem_available_kib = avail_mib * 1024;
        f->node_avail_kib = calloc(n_nodes ? n_nodes : 1, sizeof(uint64_t));
        for (size_t i = 0; i < n_nodes; i++)
                f->node_avail_kib[i] = node_mib[i] * 1024;
        f->n_nodes = n_nodes;
}

static const vh_hp_entry *find(const vh_hp_entry *l, size_t n, uint64_t size, int node)
{
        for (size_t i = 0; i < n; i++)
                if (l[i].size_kib == size && l[i].node == node)
                        return &l[i];
        return NULL;
}

static void test_needs_sizes_and_nodes(void **state)
{
        (void)state;
        vh_hp_pieces pl = { 0 };
        vh_hp_piece p[] = {
                { 2048, NULL, 1048576 + 1 },    /* 513 pages (rounded up), unbound */
                { 2048, (char *)"0-1", 2049 * 2048 }, /* 2049 pages over two nodes: 1025 + 1024 */
                { 1048576, (char *)"1", 2 * 1048576 },
        };
        pl.p = p;
        pl.n = 3;
        /* without node pools: everything in the global pools */
        vh_hp_facts f;
        const char *const flat[] = { "2048:-1:0:0", "1048576:-1:0:0" };
        facts(&f, false, flat, 2, NULL, 0, 8192);
        vh_hp_entry *l = NULL;
        size_t n = 0;
        assert_int_equal(vh_hugepool_needs(&pl, &f, &l, &n), 0);
        assert_int_equal(n, 2);
        assert_int_equal(find(l, n, 2048, -1)->need, 513 + 2049);
        assert_int_equal(find(l, n, 1048576, -1)->need, 2);
        free(l);
        vh_hp_facts_done(&f);
        /* node pools: bound memory split evenly, unbound on the node with the most available memory */
        const char *const nodes[] = { "2048:-1:0:0", "2048:0:0:0", "2048:1:0:0", "1048576:-1:0:0",
                                      "1048576:0:0:0", "1048576:1:0:0" };
        const uint64_t mib[] = { 1000, 3000 };
        facts(&f, true, nodes, 6, mib, 2, 4000);
        assert_int_equal(vh_hugepool_needs(&pl, &f, &l, &n), 0);
        assert_int_equal(n, 3);
        assert_int_equal(find(l, n, 2048, 1)->need, 513 + 1024);
        assert_int_equal(find(l, n, 2048, 0)->need, 1025);
        assert_int_equal(find(l, n, 1048576, 1)->need, 2);
        assert_null(find(l, n, 2048, -1));
        for (size_t i = 0; i < n; i++)
                assert_int_equal(l[i].added, 0);
        free(l);
        vh_hp_facts_done(&f);
}

static void add_reg(vh_state *st, const char *uuid, int pid, const vh_hp_entry *hp, size_t n)
{
        vh_reg *g = vh_state_add(st);
        assert_non_null(g);
        g->uuid = strdup(uuid);
        g->name = strdup(uuid);
        g->pid = pid;
        g->demands.hp = calloc(n ? n : 1, sizeof(*hp));
        memcpy(g->demands.hp, hp, n * sizeof(*hp));
        g->demands.n_hp = n;
}

static void test_plan_usable_and_promised(void **state)
{
        (void)state;
        vh_hp_facts f;
        const char *const pools[] = { "2048:-1:300:200" };
        facts(&f, false, pools, 1, NULL, 0, 16384);
        f.pools[0].resv = 50;
        f.pools[0].surplus = 20;
        vh_state st = { 0 };
        /* B is still starting (no PID) and needs 100 of the free pages; C runs (its pages are mapped) */
        vh_hp_entry b[] = { { 2048, -1, 100, 100 } }, c[] = { { 2048, -1, 400, 0 } };
        add_reg(&st, "B", 0, b, 1);
        add_reg(&st, "C", 1234, c, 1);
        vh_hp_entry need[] = { { 2048, -1, 512, 0 } };
        vh_hp_plan p = { 0 };
        assert_int_equal(vh_hugepool_plan(&st, "A", need, 1, &f, 512 * 1024, &p), 0);
        assert_false(p.refused);
        assert_int_equal(p.steps[0].usable, 200 - 50 - 100);
        assert_int_equal(p.steps[0].lacks, 512 - 50);
        assert_int_equal(p.steps[0].pool, 300 - 20);
        vh_hp_plan_done(&p);
        /* its own registration promises nothing to itself */
        assert_int_equal(vh_hugepool_plan(&st, "B", b, 1, &f, 0, &p), 0);
        assert_int_equal(p.steps[0].usable, 150);
        assert_int_equal(p.steps[0].lacks, 0);
        vh_hp_plan_done(&p);
        /* a size without a pool */
        vh_hp_entry gig[] = { { 1048576, -1, 2, 0 } };
        assert_int_equal(vh_hugepool_plan(&st, "A", gig, 1, &f, 0, &p), 0);
        assert_true(p.steps[0].missing);
        assert_int_equal(p.steps[0].lacks, 0);
        vh_hp_plan_done(&p);
        /* desired: original + what was added for registered VMs */
        assert_int_equal(vh_hugepool_desired(&st, 2048, -1, 7), 107);
        assert_int_equal(vh_hugepool_desired(&st, 2048, 0, 7), 7);
        vh_state_done(&st);
        vh_hp_facts_done(&f);
}

static void test_guard_refuses_with_numbers(void **state)
{
        (void)state;
        vh_hp_facts f;
        const char *const pools[] = { "2048:-1:0:0", "2048:0:0:0", "2048:1:0:0" };
        const uint64_t mib[] = { 1600, 6000 };
        facts(&f, true, pools, 3, mib, 2, 7000);
        vh_state st = { 0 };
        /* 1 GiB on node 0 with a 512 MiB margin: fits in 1600 MiB */
        vh_hp_entry fits[] = { { 2048, 0, 512, 0 } };
        vh_hp_plan p = { 0 };
        assert_int_equal(vh_hugepool_plan(&st, "A", fits, 1, &f, 512 * 1024, &p), 0);
        assert_false(p.refused);
        vh_hp_plan_done(&p);
        /* 1.5 GiB on node 0 does not */
        vh_hp_entry big[] = { { 2048, 0, 768, 0 } };
        assert_int_equal(vh_hugepool_plan(&st, "A", big, 1, &f, 512 * 1024, &p), 0);
        assert_true(p.refused);
        tu_assert_contains(p.why, "adding 768 pages of 2 MiB (1536 MiB) on node 0 would leave less than the margin "
                                  "of 512 MiB: only 1600 MiB is available there");
        vh_hp_plan_done(&p);
        /* per node fine, together more than MemAvailable */
        vh_hp_entry both[] = { { 2048, 0, 400, 0 }, { 2048, 1, 2500, 0 } };
        f.mem_available_kib = 6000 * 1024;
        assert_int_equal(vh_hugepool_plan(&st, "A", both, 2, &f, 512 * 1024, &p), 0);
        assert_true(p.refused);
        tu_assert_contains(p.why, "adding 5800 MiB of hugepages would leave less than the margin of 512 MiB: "
                                  "MemAvailable is 6000 MiB; nothing allocated");
        vh_hp_plan_done(&p);
        /* free pages cover it: nothing to add, nothing to guard */
        f.pools[1].free = 800;
        assert_int_equal(vh_hugepool_plan(&st, "A", big, 1, &f, 512 * 1024, &p), 0);
        assert_false(p.refused);
        assert_int_equal(p.steps[0].lacks, 0);
        vh_hp_plan_done(&p);
        vh_hp_facts_done(&f);
}

static void test_instance_names_and_record(void **state)
{
        (void)state;
        char *a = vh_hugepool_instance(2048, 0), *b = vh_hugepool_instance(1048576, -1);
        assert_string_equal(a, "hugepages:2048kB:node0");
        assert_string_equal(b, "hugepages:1048576kB");
        uint64_t sz;
        int node;
        assert_int_equal(vh_hugepool_parse_instance(a, &sz, &node), 0);
        assert_true(sz == 2048 && node == 0);
        assert_int_equal(vh_hugepool_parse_instance(b, &sz, &node), 0);
        assert_true(sz == 1048576 && node == -1);
        static const char *const bad[] = { "hugepages", "hugepages:", "hugepages:2048", "hugepages:02048kB",
                                           "hugepages:2048kB:node", "hugepages:2048kB:node01",
                                           "hugepages:2048kB:node1x", "hugepages:2048kB:nodes", "thp:2048kB",
                                           "hugepages:2048kB:node4096" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                if (vh_hugepool_parse_instance(bad[i], &sz, &node) == 0)
                        fail_msg("accepted %s", bad[i]);
        free(a);
        free(b);
        char *p = vh_hugepool_path(2048, 1, "nr_hugepages");
        assert_string_equal(p, "/sys/devices/system/node/node1/hugepages/hugepages-2048kB/nr_hugepages");
        free(p);

        vh_demands d = { 0 };
        assert_int_equal(vh_hp_parse("2048:0:512:500,1048576:-:2:0", &d), 0);
        assert_int_equal(d.n_hp, 2);
        assert_true(d.hp[0].size_kib == 2048 && d.hp[0].node == 0 && d.hp[0].need == 512 && d.hp[0].added == 500);
        assert_true(d.hp[1].size_kib == 1048576 && d.hp[1].node == -1 && d.hp[1].need == 2 && !d.hp[1].added);
        assert_true(vh_hugepool_demanded_by(&d));
        char *t = NULL;
        assert_int_equal(vh_hp_format(&d, &t), 0);
        assert_string_equal(t, "2048:0:512:500,1048576:-:2:0");
        free(t);
        static const char *const damaged[] = { "2048:0:512", "x:0:1:1", "2048:0:1:1,", "0:0:1:1", "2048::1:1",
                                               "2048:0:1:1;2048:1:1:1", "2048:-1:1:1" };
        for (size_t i = 0; i < sizeof(damaged) / sizeof(damaged[0]); i++)
                if (vh_hp_parse(damaged[i], &d) == 0)
                        fail_msg("accepted the record %s", damaged[i]);
        assert_int_equal(d.n_hp, 2); /* untouched */
        vh_demands_done(&d);
}

/* The registration record survives the state codec. */
static void test_state_round_trip(void **state)
{
        (void)state;
        vh_state st = { 0 };
        vh_hp_entry hp[] = { { 2048, 0, 512, 512 }, { 2048, 1, 3, 0 } };
        add_reg(&st, "A", 0, hp, 2);
        char *text = NULL;
        vh_error *e = NULL;
        assert_int_equal(vh_state_format(&st, &text, &e), 0);
        tu_assert_contains(text, " hugepool=2048:0:512:512,2048:1:3:0");
        vh_state back = { 0 };
        assert_int_equal(vh_state_parse(text, &back, &e), 0);
        assert_int_equal(back.n_regs, 1);
        assert_int_equal(back.n_damaged, 0);
        assert_int_equal(back.regs[0].demands.n_hp, 2);
        assert_int_equal(back.regs[0].demands.hp[0].added, 512);
        assert_int_equal(back.regs[0].demands.hp[1].node, 1);
        free(text);
        vh_state_done(&back);
        vh_state_done(&st);
}

/* ---- the lifecycle against a model of the kernel, and an oracle ---- */

#define POOL "/sys/kernel/mm/hugepages/hugepages-2048kB/"

/* The kernel behind the fake root's plain files: persistent = nr - surplus, a cap on what it can find. */
typedef struct kmodel {
        const char *root;
        uint64_t cap;           /* the most persistent pages it can reach (contiguous memory) */
        unsigned writes;
} kmodel;

static uint64_t rd(const char *root, const char *file)
{
        char rel[256];
        snprintf(rel, sizeof(rel), POOL "%s", file);
        char *s = tu_read(root, rel);
        uint64_t v = strtoull(s, NULL, 10);
        free(s);
        return v;
}

static void wr(const char *root, const char *file, uint64_t v)
{
        char rel[256], val[32];
        snprintf(rel, sizeof(rel), POOL "%s", file);
        snprintf(val, sizeof(val), "%llu\n", (unsigned long long)v);
        tu_write(root, rel, val);
}

/* The pool file just written holds the value asked for; turn it into what the kernel would show. */
static void kernel(const char *path, uint64_t value, void *userdata)
{
        kmodel *m = userdata;
        m->writes++;
        assert_non_null(strstr(path, "hugepages-2048kB/nr_hugepages"));
        /* the model keeps the state in side files: the real counters before this write */
        uint64_t nr = rd(m->root, ".nr"), fr = rd(m->root, "free_hugepages"), sur = rd(m->root, "surplus_hugepages");
        uint64_t persist = nr - sur;
        if (value >= persist) {
                uint64_t from_surplus = sur < value - persist ? sur : value - persist;
                sur -= from_surplus;
                persist += from_surplus;
                uint64_t want = value - persist, room = m->cap > nr ? m->cap - nr : 0;
                uint64_t fresh = want < room ? want : room;
                nr += fresh;
                fr += fresh;
        } else {
                uint64_t remove = persist - value, f = remove < fr ? remove : fr;
                nr -= f;
                fr -= f;
                sur += remove - f; /* in use: surplus until unmapped */
        }
        wr(m->root, ".nr", nr);
        wr(m->root, "nr_hugepages", nr);
        wr(m->root, "free_hugepages", fr);
        wr(m->root, "surplus_hugepages", sur);
}

static void qemu_maps(const char *root, uint64_t pages)
{
        wr(root, "free_hugepages", rd(root, "free_hugepages") - pages);
}

/* QEMU exits: its pages go back to the pool, surplus ones to the kernel. */
static void qemu_unmaps(const char *root, uint64_t pages)
{
        uint64_t nr = rd(root, ".nr"), fr = rd(root, "free_hugepages"), sur = rd(root, "surplus_hugepages");
        uint64_t k = sur < pages ? sur : pages;
        nr -= k;
        sur -= k;
        fr += pages - k;
        wr(root, ".nr", nr);
        wr(root, "nr_hugepages", nr);
        wr(root, "free_hugepages", fr);
        wr(root, "surplus_hugepages", sur);
}

static void host(const char *root, uint64_t pool, uint64_t cap, kmodel *m)
{
        wr(root, ".nr", pool);
        wr(root, "nr_hugepages", pool);
        wr(root, "free_hugepages", pool);
        wr(root, "surplus_hugepages", 0);
        wr(root, "resv_hugepages", 0);
        tu_write(root, "/proc/meminfo", "MemTotal:       32000000 kB\nMemAvailable:   24000000 kB\n"
                                        "Hugepagesize:       2048 kB\n");
        tu_write(root, "/proc/sys/vm/compact_memory", "0\n");
        tu_write(root, "/proc/sys/vm/drop_caches", "0\n");
        *m = (kmodel){ .root = root, .cap = cap };
        vh_hugepool_set_kernel(kernel, m);
}

static char *vm_xml(const char *name, uint64_t pages)
{
        char *x = NULL;
        assert_true(asprintf(&x, "<domain type='kvm'><name>%s</name><uuid>uuid-%s</uuid><memory unit='KiB'>%llu"
                                 "</memory><memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages>"
                                 "</memoryBacking></domain>",
                             name, name, (unsigned long long)(pages * 2048)) > 0);
        return x;
}

/* prepare (allocating), QEMU started (its PID known: this process), QEMU maps its pages. */
static int start_vm(const char *root, const char *name, uint64_t pages, vh_hp_outcome *ret, vh_report *rep)
{
        char *xml = vm_xml(name, pages), uuid[64], pidfile[128], pid[32];
        vh_domain *dom = NULL;
        assert_int_equal(vh_domain_parse(xml, strlen(xml), "t", &dom, NULL), 0);
        snprintf(uuid, sizeof(uuid), "uuid-%s", name);
        vh_demands d = { .static_hugepages = true };
        vh_hp_request req = { .dom = dom, .compact = true, .margin_kib = 0 };
        vh_txn_result res = { 0 };
        vh_error *e = NULL;
        assert_int_equal(vh_txn_register_hp(uuid, name, &d, &req, &res, &e), 0);
        bool ok = !res.hp.short_of_pages;
        if (ok) {
                snprintf(pidfile, sizeof(pidfile), "/run/libvirt/qemu/%s.pid", name);
                snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
                tu_write(root, pidfile, pid);
                vh_txn_result r2 = { 0 };
                assert_int_equal(vh_txn_started(uuid, name, NULL, NULL, &r2, &e), 0);
                vh_txn_result_done(&r2);
                qemu_maps(root, pages);
        }
        if (ret) {
                *ret = res.hp;
                memset(&res.hp, 0, sizeof(res.hp));
        }
        if (rep) {
                *rep = res.report;
                memset(&res.report, 0, sizeof(res.report));
        }
        vh_txn_result_done(&res);
        vh_domain_free(dom);
        free(xml);
        return ok;
}

static void stop_vm(const char *root, const char *name, uint64_t pages)
{
        char uuid[64], pidfile[128];
        snprintf(uuid, sizeof(uuid), "uuid-%s", name);
        snprintf(pidfile, sizeof(pidfile), "%s/run/libvirt/qemu/%s.pid", root, name);
        qemu_unmaps(root, pages);
        (void)unlink(pidfile);
        vh_txn_result res = { 0 };
        vh_error *e = NULL;
        assert_int_equal(vh_txn_unregister(uuid, name, &res, &e), 0);
        vh_txn_result_done(&res);
}

static const char *const vm_names[] = { "A", "B", "C" };
static const uint64_t vm_need[] = { 8, 5, 3 };
#define ORIGINAL 10

/* Replay one sequence of events (VM i: start i, stop i + 3) and compare every step with the oracle. */
static void replay(const char *root, const unsigned *ev, unsigned n)
{
        kmodel m;
        host(root, ORIGINAL, 100000, &m);
        char *st = vh_path("/run/vmhooks/state");
        (void)unlink(st);
        free(st);
        uint64_t P = ORIGINAL, F = ORIGINAL, added[3] = { 0 };
        for (unsigned s = 0; s < n; s++) {
                unsigned v = ev[s] % 3;
                if (ev[s] < 3) {
                        assert_true(start_vm(root, vm_names[v], vm_need[v], NULL, NULL));
                        /* the oracle: what it lacks of the free pages is added, then QEMU maps its pages */
                        added[v] = vm_need[v] > F ? vm_need[v] - F : 0;
                        P += added[v];
                        F = F + added[v] - vm_need[v];
                } else {
                        stop_vm(root, vm_names[v], vm_need[v]);
                        F += vm_need[v];
                        /* what was added for it goes back, free pages first (all free now) */
                        F -= added[v];
                        P -= added[v];
                        added[v] = 0;
                }
                uint64_t persist = rd(root, "nr_hugepages") - rd(root, "surplus_hugepages");
                if (persist != P || rd(root, "free_hugepages") != F)
                        fail_msg("step %u (%s %s): pool %llu free %llu, oracle %llu %llu", s,
                                 ev[s] < 3 ? "start" : "stop", vm_names[v], (unsigned long long)persist,
                                 (unsigned long long)rd(root, "free_hugepages"), (unsigned long long)P,
                                 (unsigned long long)F);
                assert_true(persist >= ORIGINAL);
        }
        assert_int_equal(rd(root, "nr_hugepages"), ORIGINAL);
        assert_int_equal(rd(root, "free_hugepages"), ORIGINAL);
        assert_int_equal(rd(root, "surplus_hugepages"), 0);
        vh_hugepool_set_kernel(NULL, NULL);
}

/* All interleavings of k VMs' start and stop (each start before its stop). */
static unsigned enumerate(const char *root, unsigned k, unsigned *ev, unsigned depth, unsigned *phase)
{
        if (depth == 2 * k) {
                replay(root, ev, depth);
                return 1;
        }
        unsigned count = 0;
        for (unsigned v = 0; v < k; v++) {
                if (phase[v] == 2)
                        continue;
                ev[depth] = phase[v] == 0 ? v : v + 3;
                phase[v]++;
                count += enumerate(root, k, ev, depth + 1, phase);
                phase[v]--;
        }
        return count;
}

/* Every order of starts and stops of 1-3 VMs: after each step the pool is what an oracle computes. */
static void test_orders_against_oracle(void **state)
{
        const char *root = *state;
        /* this process plays every QEMU: /proc of the fake root shows it */
        char *stat = tu_slurp("/proc/self/stat"), rel[64];
        snprintf(rel, sizeof(rel), "/proc/%d/stat", (int)getpid());
        tu_write(root, rel, stat);
        free(stat);
        unsigned total = 0;
        for (unsigned k = 1; k <= 3; k++) {
                unsigned ev[6], phase[3] = { 0 };
                total += enumerate(root, k, ev, 0, phase);
        }
        assert_int_equal(total, 1 + 6 + 90);
}

static void fake_proc(const char *root)
{
        char *stat = tu_slurp("/proc/self/stat"), rel[64];
        snprintf(rel, sizeof(rel), "/proc/%d/stat", (int)getpid());
        tu_write(root, rel, stat);
        free(stat);
}

static bool has_change(const vh_report *rep, vh_change_kind kind, const char *from, const char *to)
{
        for (size_t i = 0; i < rep->n; i++)
                if (rep->changes[i].kind == kind && streq(rep->changes[i].from, from) && streq(rep->changes[i].to, to) &&
                    rep->changes[i].family == VH_FAM_HUGEPOOL)
                        return true;
        return false;
}

/* The kernel finds fewer pages than asked: this call's pages go back, the numbers are told. */
static void test_shortfall_rolls_back(void **state)
{
        const char *root = *state;
        fake_proc(root);
        kmodel m;
        host(root, ORIGINAL, 14, &m);
        assert_true(start_vm(root, "A", 8, NULL, NULL)); /* 10 free: nothing added */
        assert_int_equal(rd(root, "nr_hugepages"), 10);
        vh_hp_outcome o = { 0 };
        vh_report rep = { 0 };
        /* B needs 8, 2 are free: 6 asked, the kernel reaches 14 (4 more) whatever it compacts */
        assert_false(start_vm(root, "B", 8, &o, &rep));
        assert_true(o.short_of_pages);
        assert_int_equal(o.added, 0);
        tu_assert_contains(o.tried, "vmhooks asked the kernel for 6 more pages of 2 MiB on the host and got 4 after "
                                    "compacting (3 rounds), gave them back");
        assert_true(has_change(&rep, VH_CHANGE_SET, "10", "14"));
        assert_true(has_change(&rep, VH_CHANGE_RESTORE, "14", "10"));
        assert_int_equal(rd(root, "nr_hugepages"), 10);
        assert_int_equal(rd(root, "free_hugepages"), 2);
        assert_int_equal(m.writes, 1 + 3 + 1); /* the ask, three retries after compacting, the give-back */
        char *cm = tu_read(root, "/proc/sys/vm/compact_memory");
        assert_string_equal(cm, "1");
        free(cm);
        vh_hp_outcome_done(&o);
        vh_report_done(&rep);
        /* B's registration holds nothing: its unregister (the hook's refusal path) changes no pool */
        vh_txn_result res = { 0 };
        assert_int_equal(vh_txn_unregister("uuid-B", "B", &res, NULL), 0);
        vh_txn_result_done(&res);
        assert_int_equal(rd(root, "nr_hugepages"), 10);
        /* the guard: more than MemAvailable minus the margin is not even asked */
        tu_write(root, "/proc/meminfo", "MemAvailable:      20000 kB\nHugepagesize:       2048 kB\n");
        unsigned before = m.writes;
        assert_false(start_vm(root, "C", 100, &o, NULL));
        tu_assert_contains(o.tried, "vmhooks did not allocate: adding 196 MiB of hugepages would leave less than "
                                    "the margin of 0 MiB: MemAvailable is 19 MiB; nothing allocated");
        assert_int_equal(m.writes, before);
        vh_hp_outcome_done(&o);
        stop_vm(root, "A", 8);
        assert_int_equal(rd(root, "nr_hugepages"), 10);
        assert_int_equal(rd(root, "free_hugepages"), 10);
        vh_hugepool_set_kernel(NULL, NULL);
}

/* Pages still mapped when the pool is lowered stay surplus, and the kernel frees them when QEMU exits. */
static void test_in_use_pages_become_surplus(void **state)
{
        const char *root = *state;
        fake_proc(root);
        kmodel m;
        host(root, 0, 100000, &m);
        assert_true(start_vm(root, "A", 8, NULL, NULL));
        assert_int_equal(rd(root, "nr_hugepages"), 8);
        /* release comes while its pages are still mapped (a QEMU that lingers) */
        vh_txn_result res = { 0 };
        assert_int_equal(vh_txn_unregister("uuid-A", "A", &res, NULL), 0);
        vh_txn_result_done(&res);
        assert_int_equal(rd(root, "nr_hugepages") - rd(root, "surplus_hugepages"), 0);
        assert_int_equal(rd(root, "surplus_hugepages"), 8);
        qemu_unmaps(root, 8);
        assert_int_equal(rd(root, "nr_hugepages"), 0);
        assert_int_equal(rd(root, "surplus_hugepages"), 0);
        /* the next call finds nothing to do: the persistent pool is the original */
        vh_txn_result r2 = { 0 };
        assert_int_equal(vh_txn_unregister("uuid-X", "X", &r2, NULL), 0);
        assert_int_equal(r2.report.n, 0);
        vh_txn_result_done(&r2);
        vh_hugepool_set_kernel(NULL, NULL);
}

/* A prepare killed at `fault`, then an unrelated call: the pool is the original again, the write told. */
static void crash_at(const char *root, const char *fault, uint64_t cap, bool expect_told)
{
        kmodel m;
        host(root, ORIGINAL, cap, &m);
        char *st = vh_path("/run/vmhooks/state"), *in = vh_path("/run/vmhooks/intent");
        (void)unlink(st);
        (void)unlink(in);
        free(st);
        free(in);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                setenv("VMHOOKS_FAULT", fault, 1);
                vh_fault_reset();
                (void)start_vm(root, "A", 16, NULL, NULL);
                _exit(0);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
                fail_msg("%s: the call was not killed (status %d)", fault, status);
        vh_txn_result res = { 0 };
        assert_int_equal(vh_txn_unregister("uuid-other", "other", &res, NULL), 0);
        if (rd(root, "nr_hugepages") != ORIGINAL || rd(root, "free_hugepages") != ORIGINAL)
                fail_msg("%s: pool %llu free %llu after the next call", fault,
                         (unsigned long long)rd(root, "nr_hugepages"), (unsigned long long)rd(root, "free_hugepages"));
        bool told = false;
        for (size_t i = 0; i < res.report.n; i++)
                told |= res.report.changes[i].family == VH_FAM_HUGEPOOL &&
                        strstr(res.report.changes[i].why, "killed") != NULL;
        if (told != expect_told)
                fail_msg("%s: the killed write was %stold", fault, told ? "" : "not ");
        vh_txn_result_done(&res);
        vh_hugepool_set_kernel(NULL, NULL);
}

static void test_write_ahead_crash_points(void **state)
{
        const char *root = *state;
        fake_proc(root);
        /* killed before the pool write (the intent holds it): nothing was written, nothing to tell */
        crash_at(root, "sysfs-write@1=kill", 100000, false);
        /* killed after the pool write, before the table was saved: the next call tells it and gives it back */
        crash_at(root, "write:state@1=kill", 100000, true);
        /* a write the kernel met in part (14 of 16), killed before any retry: also ours */
        crash_at(root, "sysfs-write@2=kill", 14, true);
        /* killed while giving back a shortfall (after the partial write and three compactions) */
        crash_at(root, "sysfs-write@8=kill", 14, true);
}

/* The hook itself: prepare adds what the VM lacks, release gives it back; allocate="no" refuses as before. */
static void test_hook_prepare_release(void **state)
{
        const char *root = *state;
        wr(root, "nr_hugepages", 0);
        wr(root, "free_hugepages", 0);
        tu_write(root, "/proc/meminfo", "MemAvailable:   24000000 kB\nHugepagesize:       2048 kB\n");
        tu_write(root, "/etc/vmhooks/policy.xml", "<policy xmlns=\"urn:vmhooks:policy:1\"><hugepage-pool/></policy>\n");
        char *xml = tu_domain_xml("hp", "11111111-2222-3333-4444-555555555555", NULL, true, NULL);
        char *err = NULL;
        if (tu_run_hook(root, xml, &err, "VMHOOKS_FAKE_HUGEPAGES=1", "hp", "prepare", "begin") != 0)
                fail_msg("prepare refused: %s", err);
        free(err);
        assert_int_equal(rd(root, "nr_hugepages"), 512); /* 1 GiB of 2 MiB pages */
        char *log = tu_read(root, "/var/log/vmhooks/hp.log");
        tu_assert_contains(log, "hugepage-pool: added 512 pages for this VM (given back at its release)");
        tu_assert_contains(log, "hugepages:2048kB");
        free(log);
        /* vmhooks status: per size and node, the administrator's pool, what was added for whom, free, in use */
        char *out = NULL, *terr = NULL;
        const char *const st_args[] = { "status", NULL };
        (void)tu_run_tool(NULL, &out, &terr, st_args); /* exit 1: something to look at (no hook installed) */
        tu_assert_contains(out, "2 MiB on the host: the administrator's pool 0; added by vmhooks: hp 512; now 512 "
                                "pages, 512 free, 0 in use");
        free(out);
        free(terr);
        /* vmhooks check: what another start would add (this one's pages are free, and promised to it) */
        char xml_path[512];
        snprintf(xml_path, sizeof(xml_path), "%s/other.xml", root);
        char *other = tu_domain_xml("other", "99999999-2222-3333-4444-555555555555", NULL, true, NULL);
        FILE *fx = fopen(xml_path, "w");
        assert_non_null(fx);
        fputs(other, fx);
        fclose(fx);
        free(other);
        const char *const ck_args[] = { "check", "--file", xml_path, NULL };
        (void)tu_run_tool(NULL, &out, &terr, ck_args);
        tu_assert_contains(out, "a start of VM other would add 512 pages of 2 MiB to hugepages:2048kB (needs 512, 0 "
                                "usable; the pool is 512 now)");
        free(out);
        free(terr);
        char *state_text = tu_read(root, "/run/vmhooks/state");
        tu_assert_contains(state_text, "hugepool=2048:-:512:512");
        tu_assert_contains(state_text, "knob hugepages:2048kB original=0");
        free(state_text);
        assert_int_equal(tu_run_hook(root, xml, &err, "VMHOOKS_FAKE_HUGEPAGES=1", "hp", "release", "end"), 0);
        free(err);
        assert_int_equal(rd(root, "nr_hugepages"), 0);
        log = tu_read(root, "/var/log/vmhooks/hp.log");
        tu_assert_contains(log, "512 -> 0");
        free(log);
        /* allocate="no": the pool is only checked, and the start refused with the numbers */
        tu_write(root, "/etc/vmhooks/policy.xml",
                 "<policy xmlns=\"urn:vmhooks:policy:1\"><hugepage-pool allocate=\"no\"/></policy>\n");
        assert_int_equal(tu_run_hook(root, xml, &err, "VMHOOKS_FAKE_HUGEPAGES=1", "hp", "prepare", "begin"), 1);
        tu_assert_contains(err, "needs 512 pages of 2 MiB");
        tu_assert_contains(err, "only 0 usable");
        free(err);
        assert_int_equal(rd(root, "nr_hugepages"), 0);
        free(xml);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pieces),
                cmocka_unit_test(test_needs_sizes_and_nodes),
                cmocka_unit_test(test_plan_usable_and_promised),
                cmocka_unit_test(test_guard_refuses_with_numbers),
                cmocka_unit_test(test_instance_names_and_record),
                cmocka_unit_test(test_state_round_trip),
                cmocka_unit_test_setup_teardown(test_orders_against_oracle, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_shortfall_rolls_back, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_in_use_pages_become_surplus, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_write_ahead_crash_points, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_hook_prepare_release, tu_setup_root, tu_teardown_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
