/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * state.h — what vmhooks remembers between hook calls, in /run/vmhooks:
 * one table (state) of knob originals and VM registrations, rewritten
 * atomically under one flock (lock).  One file, not one per VM: scanning
 * 1000 small files costs ~3 ms, a whole hook call's budget.
 *
 * The file is text, one record per line, fields key=value with %XX
 * escapes, so an administrator can read it:
 *
 *   vmhooks-state 1
 *   sweep cursor=64
 *   knob thp original=madvise expected=never
 *   vm uuid=... name=A since=1764028800 pid=4242 pidstart=123456 thp=never halt_poll_ns=400000 isolate=2-3
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
        bool saved;             /* we hold the original */
        char *original;         /* value before any VM demanded the knob */
        char *expected;         /* what the knob should read: the last value we wrote, or the original */
        bool drifted;           /* someone else changed it; we leave it alone */
        char *last_written;     /* for status; NULL when we never wrote */
        char *pending;          /* about to be written (write-ahead); NULL otherwise */
} vh_knob_state;

/* The demands one running VM makes on the host. */
typedef struct vh_demands {
        vh_thp_mode thp;        /* VH_THP_NONE: none; AUTO resolved by reconcile */
        bool static_hugepages;  /* <memoryBacking><hugepages/> */
        bool has_halt_poll;
        uint32_t halt_poll_ns;
        vh_cpuset isolate;      /* CPUs kworkers must leave; empty: none */
} vh_demands;

typedef struct vh_reg {
        char *uuid;
        char *name;
        int64_t since;          /* registration time (s since epoch) */
        int pid;                /* QEMU's PID once known, else 0 */
        uint64_t pidstart;      /* its start time (/proc/PID/stat field 22) */
        vh_demands demands;
        char *last_error;       /* the last error logged for this VM (for status) */
        char *seclabel;         /* QEMU's SELinux label, learnt at started (duplicate MCS check) */
} vh_reg;

typedef struct vh_state {
        vh_knob_state knobs[VH_KNOB_COUNT];
        vh_reg *regs;
        size_t n_regs, regs_cap;
        uint32_t sweep_cursor;  /* where the next PID-reuse check starts */
} vh_state;

void vh_demands_done(vh_demands *d);
void vh_reg_done(vh_reg *r);
void vh_state_done(vh_state *st);
#define _cleanup_state_ __attribute__((cleanup(vh_state_done)))

/* Take the state lock (creating /run/vmhooks 0700); gives up after `timeout_ms`. */
int vh_state_lock(int timeout_ms, int *ret_fd, vh_error **err);

/*
 * Load the table; a missing file is an empty state.  A file that cannot be
 * parsed is moved aside (state.corrupt) and reported as an error, with *st
 * left empty so that the caller can go on.
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

/* Serialize / parse (exposed for tests and `vmhooks status`). */
int vh_state_format(const vh_state *st, char **ret, vh_error **err);
int vh_state_parse(const char *text, vh_state *st, vh_error **err);

vh_reg *vh_state_find(vh_state *st, const char *uuid);
/* Append a zeroed registration; NULL on allocation failure. */
vh_reg *vh_state_add(vh_state *st);
void vh_state_remove(vh_state *st, vh_reg *r);
void vh_knob_state_forget(vh_knob_state *k);

#endif
