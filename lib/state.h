/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * state.h — what vmhooks remembers between hook calls, in /run/vmhooks:
 * one table (state) of knob originals and VM registrations, rewritten
 * atomically under one flock (lock).  One file, not one per VM: scanning
 * 1000 small files costs ~3 ms, a whole hook call's budget.
 *
 * The file is text, one record per line in the key=value %XX format of
 * lib/kv.h, so an administrator can read it:
 *
 *   vmhooks-state 1
 *   sweep cursor=64
 *   knob thp original=madvise expected=never
 *   knob wq_cpumask:writeback original=3 expected=1 written=1
 *   vm uuid=... name=A since=1764028800 daemon=117 daemonstart=4321 pid=4242 pidstart=123456 thp=never
 *      halt_poll_ns=400000 isolate=2-3   (one line)
 *
 * Damage is contained per record: a line that cannot be parsed is copied
 * to state.damaged.TIME.PID (every damaged copy is kept) and reported, and
 * every intact record survives.  A damaged knob record whose name can
 * still be read leaves that knob "lost": its original is unknown, so it is
 * left alone (never tuned, never restored, never given the value it reads
 * as a new original) until no VM demands it.  Since the damage may be in
 * the name itself, any damaged line but a registration also makes every
 * knob without a record lost in the same way, until no VM is registered.
 * A well-formed record of a type this vmhooks does not know (a newer one)
 * is kept as it is across saves; since it may be about a knob this one
 * knows under another record, knobs without a record are then left alone
 * too while VMs run.
 */
#ifndef VH_STATE_H
#define VH_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "cpuset.h"
#include "error.h"
#include "knobs.h"
#include "policy.h"

#define VH_STATE_FILE VH_STATE_DIR "/state"
#define VH_LOCK_FILE VH_STATE_DIR "/lock"
#define VH_INTENT_FILE VH_STATE_DIR "/intent"
#define VH_STATE_MAX_VMS 100000u

typedef struct vh_knob_state {
        char *name;             /* the knob instance ("thp", "wq_cpumask:writeback") */
        bool saved;             /* we hold the original */
        bool lost;              /* its record was damaged: the original is unknown; left alone */
        char *original;         /* value before any VM demanded the knob */
        char *expected;         /* what the knob should read: the last value we wrote, or the original */
        bool drifted;           /* someone else changed it; we leave it alone */
        char *last_written;     /* for status; NULL when we never wrote */
        char *pending;          /* about to be written (write-ahead); NULL otherwise */
        char *failure;          /* why the last write failed (retried at the next call); NULL otherwise */
} vh_knob_state;

/* A VM's share of one hugepage pool (lib/hugepool.h): node -1 is the global pool. */
typedef struct vh_hp_entry {
        uint64_t size_kib;
        int node;
        uint64_t need;          /* pages of this size its memory needs there */
        uint64_t added;         /* pages vmhooks added to the pool for it (given back at its release) */
} vh_hp_entry;

/* The demands one running VM makes on the host. */
typedef struct vh_demands {
        vh_thp_mode thp;        /* VH_THP_NONE: none; AUTO resolved by reconcile */
        vh_thp_defrag defrag;   /* VH_DEFRAG_NONE: none */
        bool static_hugepages;  /* <memoryBacking><hugepages/> */
        bool shared_memory;     /* memfd or shared memory backing: THP of shmem applies */
        bool has_halt_poll;
        uint32_t halt_poll_ns;
        vh_cpuset isolate;      /* the VM's CPUs that host noise must leave; empty: none */
        unsigned isolate_from;  /* which noise (VH_ISO_* of policy.h); states of vmhooks <= 0.2: kworkers */
        char *follow_devices;   /* VH_ISO_IRQS_FOLLOW: the PCI addresses ("0000:01:00.0,...") whose IRQs
                                   follow the VM's CPUs; NULL: none */
        vh_hp_entry *hp;        /* <hugepage-pool>: its hugepage needs, and what vmhooks added for it */
        size_t n_hp;
} vh_demands;

/* Deep copy (dst's old contents freed). */
int vh_demands_copy(vh_demands *dst, const vh_demands *src);

typedef struct vh_reg {
        char *uuid;
        char *name;
        int64_t since;          /* registration time (s since epoch) */
        int pid;                /* QEMU's PID once known, else 0 */
        uint64_t pidstart;      /* its start time (/proc/PID/stat field 22); 0 when /proc hid it */
        int daemon;             /* the libvirt daemon that called prepare (or reconnect), 0 if unknown,
                                 * -1 (daemon=none) when none ran the QEMU driver as it registered */
        uint64_t daemonstart;   /* its start time, 0 when /proc hid it */
        vh_demands demands;
        char *last_error;       /* the last error logged for this VM (for status) */
        char *seclabel;         /* QEMU's SELinux label, learnt at started (duplicate MCS check) */
        /* Its line as vh_state_load read it (in vh_state.text, without the newline), written back as it is
           while nothing of it changes: formatting 1000 registrations cost more than the rest of a call.
           NULL once anything may have changed: vh_reg_touch. */
        const char *raw;
        size_t raw_len;
} vh_reg;

/*
 * Say that *g is about to change: its next save formats it instead of
 * writing the line it was loaded from.  Every function that changes a
 * registration it did not just create calls this first; vh_state_find
 * does it for what it returns.  Test builds (VH_TEST_SEAMS) check at
 * every save that a line written back as it is says what the
 * registration holds, and abort when it does not (VMHOOKS_STATE_CHECK=0
 * turns the check off, for the benchmarks).
 */
static inline void vh_reg_touch(vh_reg *g)
{
        g->raw = NULL;
        g->raw_len = 0;
}

typedef struct vh_state {
        vh_knob_state *knobs;   /* in the order they were first saved */
        size_t n_knobs;
        bool lost_unknown;      /* a damaged line hid which knob it was: knobs without a record are lost */
        vh_reg *regs;
        size_t n_regs, regs_cap;
        uint32_t sweep_cursor;  /* where the next PID-reuse check starts */
        char **extra;           /* records of types this vmhooks does not know, kept as they are */
        size_t n_extra;
        char **damaged;         /* lines that could not be parsed at the last load (not saved) */
        size_t n_damaged;
        char *damaged_copy;     /* where vh_state_load copied them, NULL when it did not */
        char *text;             /* the table as vh_state_load read it: what vh_reg.raw points into */
} vh_state;

void vh_demands_done(vh_demands *d);
void vh_reg_done(vh_reg *r);
void vh_state_done(vh_state *st);
#define _cleanup_state_ __attribute__((cleanup(vh_state_done)))

/* Take the state lock (creating /run/vmhooks 0700); gives up after `timeout_ms`. */
int vh_state_lock(int timeout_ms, int *ret_fd, vh_error **err);

/*
 * Load the table; a missing file is an empty state.  Damaged lines are
 * contained (see above): copied aside and reported in *err with -EINVAL,
 * the intact records loaded into *st all the same, so that the caller can
 * go on.  Other errors (unreadable) leave *st empty.
 */
int vh_state_load(vh_state *st, vh_error **err);
int vh_state_save(const vh_state *st, vh_error **err);

/*
 * Write-ahead for knob writes: /run/vmhooks/intent holds only the knob
 * records (with the values about to be written), a few lines whatever the
 * number of VMs; the next load prefers them to the table's, and the next
 * save removes the file.
 */
int vh_state_save_intent(const vh_state *st, vh_error **err);

/*
 * Serialize / parse (exposed for tests and `vmhooks status`).  Parsing
 * never fails on damage: damaged lines land in st->damaged (and lost
 * knobs are marked); it fails only for allocation.
 */
int vh_state_format(const vh_state *st, char **ret, vh_error **err);
int vh_state_parse(const char *text, vh_state *st, vh_error **err);

/* The registration of `uuid`, or NULL; it is touched (vh_reg_touch): the callers change what they find. */
vh_reg *vh_state_find(vh_state *st, const char *uuid);
/* Append a zeroed registration; NULL on allocation failure. */
vh_reg *vh_state_add(vh_state *st);
void vh_state_remove(vh_state *st, vh_reg *r);
/* The knob record of instance `name`, or NULL; _add appends an empty one (NULL on allocation failure). */
vh_knob_state *vh_state_knob(const vh_state *st, const char *name);
vh_knob_state *vh_state_knob_add(vh_state *st, const char *name);
/* Forget what we knew of a knob (the record stays, empty, until the next save drops it). */
void vh_knob_state_forget(vh_knob_state *k);

#endif
