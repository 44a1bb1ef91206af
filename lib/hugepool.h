/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * hugepool.h — static hugepage pools sized just in time (<hugepage-pool>).
 *
 * At prepare, a VM whose memory is backed by static hugepages gets the
 * pages it lacks added to the pool of its page size, on the host NUMA
 * nodes its memory is bound to; at release, vmhooks gives back what it
 * added for that VM, never going below the administrator's own pool.
 *
 * The pools are a knob family ("hugepages"): one instance per page size
 * and node, "hugepages:2048kB:node0" (/sys/devices/system/node/node0/
 * hugepages/hugepages-2048kB/nr_hugepages), or "hugepages:2048kB" (the
 * global pool) on a kernel without node pools; a host uses one or the
 * other, never both, so that a write to one never looks like someone
 * else's change to the other.  An instance's value is the persistent pool:
 * nr_hugepages - surplus_hugepages (pages still mapped when the pool is
 * lowered stay as surplus until their VM unmaps them; the kernel then
 * frees them itself).  Its original is saved once like every knob's, and
 * desired = original + what vmhooks added for the registered VMs (their
 * registrations record it per size and node: vh_hp_entry).
 *
 * Memory not bound to a node (no <numatune>, mode="preferred") on a host
 * with node pools is placed on the node with the most available memory.
 * Memory bound to several nodes is split evenly across them.
 *
 * The pieces: pure planning (vh_hugepool_needs, vh_hugepool_plan) over
 * facts read by vh_hugepool_facts_load, and the allocation
 * (vh_hugepool_allocate), which writes with compaction, optional
 * drop_caches and a bounded retry, and gives back what it added when the
 * kernel falls short.
 */
#ifndef VH_HUGEPOOL_H
#define VH_HUGEPOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "checks.h"
#include "domain.h"
#include "error.h"
#include "policy.h"
#include "reconcile.h"
#include "state.h"

#define VH_HUGEPOOL_FAMILY "hugepages"
#define VH_HUGEPOOL_MAX_NODES 1024

/* One piece of guest memory: its page size, the host nodes it is bound to (NULL: any), its size. */
typedef struct vh_hp_piece {
        uint64_t size_kib;
        char *host_nodes;
        uint64_t kib;
} vh_hp_piece;

typedef struct vh_hp_pieces {
        vh_hp_piece *p;
        size_t n;
} vh_hp_pieces;

void vh_hp_pieces_done(vh_hp_pieces *pl);

/*
 * The memory of a VM with <memoryBacking><hugepages> by page size and host
 * node binding: a <page nodeset=...> covers those guest NUMA cells, a
 * <page> without nodeset the cells no other names (all memory without
 * cells), no <page> the host's default size `default_kib`.  Bindings:
 * <numatune><memnode> of the cell, else <numatune><memory> (strict,
 * interleave, restrictive; preferred binds nothing).
 */
int vh_hp_pieces_from(const vh_domain *dom, uint64_t default_kib, vh_hp_pieces *ret);

/* One pool of the host, as read (the whole pool when node < 0). */
typedef struct vh_hp_pool {
        uint64_t size_kib;
        int node;
        uint64_t nr, free, resv, surplus;
} vh_hp_pool;

/* What the planner needs to know of the host. */
typedef struct vh_hp_facts {
        vh_hp_pool *pools;              /* every pool present: global ones, and node ones when numa */
        size_t n_pools;
        bool numa;                      /* the kernel has node pools (then only they are tuned) */
        uint64_t default_kib;           /* Hugepagesize of /proc/meminfo, 0 when unknown */
        uint64_t mem_available_kib;     /* MemAvailable of /proc/meminfo */
        uint64_t *node_avail_kib;       /* per node id (< n_nodes): an estimate of its available memory,
                                           UINT64_MAX when not known */
        size_t n_nodes;
} vh_hp_facts;

void vh_hp_facts_done(vh_hp_facts *f);
/* Read the pools and the available memory (under VMHOOKS_ROOT). */
int vh_hp_facts_load(vh_hp_facts *f, vh_error **err);
const vh_hp_pool *vh_hp_facts_pool(const vh_hp_facts *f, uint64_t size_kib, int node);

/*
 * Pure: the pages a VM needs per pool instance of this host (size, node;
 * node -1 on a host without node pools), `added` zero.  A size this host
 * has no pool of is still listed (the allocation then says so).
 */
int vh_hugepool_needs(const vh_hp_pieces *pieces, const vh_hp_facts *f, vh_hp_entry **ret, size_t *ret_n);

/* The instance name of (size, node): "hugepages:2048kB:node0", "hugepages:2048kB". */
char *vh_hugepool_instance(uint64_t size_kib, int node);
/* Parse an instance name; -EINVAL when it is not one. */
int vh_hugepool_parse_instance(const char *name, uint64_t *ret_size_kib, int *ret_node);
/* The nr_hugepages path of an instance (relative to VMHOOKS_ROOT), and its surplus_hugepages. */
char *vh_hugepool_path(uint64_t size_kib, int node, const char *file);

/* What one start would add to one pool. */
typedef struct vh_hp_step {
        uint64_t size_kib;
        int node;
        uint64_t need;          /* pages the VM needs from this pool */
        uint64_t usable;        /* pages free for it now: free - reserved - promised to VMs still starting */
        uint64_t lacks;         /* need - usable: what vmhooks would add */
        uint64_t pool;          /* the persistent pool now (nr_hugepages - surplus) */
        bool missing;           /* the host has no pool of this size (or node) */
} vh_hp_step;

typedef struct vh_hp_plan {
        vh_hp_step *steps;
        size_t n;
        bool refused;           /* the guard: more than the available memory (minus margin) would be asked */
        char *why;              /* refused: one line with the numbers */
} vh_hp_plan;

void vh_hp_plan_done(vh_hp_plan *p);

/*
 * Pure: what the start of VM `uuid` (needs as from vh_hugepool_needs)
 * would add to each pool, given the facts and the other registrations of
 * `st` (those without a QEMU PID yet are still starting: the pages they
 * need are promised to them, even while free).  The guard refuses a plan
 * whose pages (plus `margin_kib`) exceed MemAvailable, or a node's
 * available memory: nothing is to be allocated then.
 */
int vh_hugepool_plan(const vh_state *st, const char *uuid, const vh_hp_entry *needs, size_t n_needs,
                     const vh_hp_facts *f, uint64_t margin_kib, vh_hp_plan *ret);

/* Pure: the desired persistent pool of instance (size, node): original + what registered VMs added. */
uint64_t vh_hugepool_desired(const vh_state *st, uint64_t size_kib, int node, uint64_t original);

/* The registration's record of d->hp ("2048:0:512:512,1048576:-:2:0": size KiB, node or -, need, added). */
int vh_hp_format(const vh_demands *d, char **ret);
/* -EINVAL for a damaged record (d untouched). */
int vh_hp_parse(const char *text, vh_demands *d);

/* Does the VM hold pages vmhooks added for it? */
bool vh_hugepool_demanded_by(const vh_demands *d);

/* The family's access (lib/knobs.h): read = nr_hugepages - surplus_hugepages, write = nr_hugepages. */
extern const vh_family_ops vh_hugepool_ops;

/* The family's planner (lib/reconcile.c): original + what registered VMs added, and who. */
int vh_hugepool_want(const vh_state *st, const vh_knob *k, const char *original, vh_desired *out, vh_buf *why,
                     vh_error **err);

/* What the policy asks of one start. */
typedef struct vh_hp_request {
        const vh_domain *dom;
        bool compact, drop_caches;
        uint64_t margin_kib;
        unsigned max_rounds;            /* compaction rounds after the first write; 0: VH_HUGEPOOL_ROUNDS */
        unsigned max_ms;                /* the whole allocation's time bound; 0: VH_HUGEPOOL_MAX_MS */
} vh_hp_request;

#define VH_HUGEPOOL_ROUNDS 3
#define VH_HUGEPOOL_MAX_MS 10000

/* What sizing the pools did at one start. */
typedef struct vh_hp_outcome {
        bool attempted;         /* the VM needs hugepages and vmhooks looked at the pools */
        bool short_of_pages;    /* refused by the guard, or the kernel gave fewer: nothing of this call kept */
        uint64_t added;         /* pages added (and kept) for the VM, all sizes */
        char *tried;            /* one line: what was asked and got, or why nothing was asked; NULL: nothing to say */
} vh_hp_outcome;

void vh_hp_outcome_done(vh_hp_outcome *o);

/*
 * Under the state lock, in the registration of VM `g` (just made): plan
 * its needs, and add what it lacks to each pool.  The value about to be
 * written is recorded first (the write-ahead intent, vh_state_save_intent);
 * a write the kernel meets in part is retried after compacting (and
 * dropping caches, when asked) within the request's bounds; when still
 * short, what this call added is given back.  `old` are the entries of an
 * earlier registration of the same VM (their pages stay its own).  Every
 * write is reported in `rep` (SET / RESTORE of family hugepages).  With
 * `req` NULL only `old` is carried over.  Errors of the host are in
 * out->tried, not returned; only allocation failure is.
 */
int vh_hugepool_allocate(vh_state *st, vh_reg *g, const vh_hp_entry *old, size_t n_old, const vh_hp_request *req,
                         vh_report *rep, vh_hp_outcome *out, vh_error **err);

/* vmhooks check: what a start of `dom` would add to each pool (NOTE), or why it would be refused (FAIL). */
int vh_hugepool_preview(const vh_domain *dom, const vh_policy *p, vh_results *out);

/* vmhooks status: per page size and node, the administrator's pool, what was added for whom, free, in use. */
int vh_hugepool_status(const vh_state *st, vh_buf *b);

#ifdef VH_TEST_SEAMS
/*
 * Unit tests: a model of the kernel behind the plain files of a fake root,
 * called after each write of nr_hugepages (path below the root, the value
 * written); it rewrites the files as the kernel would (a shortfall, free
 * pages, surplus).  NULL: none.
 */
typedef void (*vh_hugepool_kernel_fn)(const char *path, uint64_t value, void *userdata);
void vh_hugepool_set_kernel(vh_hugepool_kernel_fn fn, void *userdata);
#endif

#endif
