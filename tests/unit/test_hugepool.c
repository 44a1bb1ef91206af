/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Hugepages just in time (lib/hugepool.h): planning over sizes and nodes, the guard, the record. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#include "domain.h"
#include "hugepool.h"
#include "state.h"

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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pieces),
                cmocka_unit_test(test_needs_sizes_and_nodes),
                cmocka_unit_test(test_plan_usable_and_promised),
                cmocka_unit_test(test_guard_refuses_with_numbers),
                cmocka_unit_test(test_instance_names_and_record),
                cmocka_unit_test(test_state_round_trip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
