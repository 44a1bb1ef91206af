/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reconcile.h — the one path for apply and restore.
 *
 * desired = f(original, demands of the registered VMs); only what differs
 * is written.  With no demands left, a knob goes back to its original and
 * is forgotten.  A knob that no longer reads what we last wrote was changed
 * by someone else: it is left alone (and forgotten once nobody demands it).
 *
 *   THP:            never > always > madvise > original; "auto" demands
 *                   never when the VM has static hugepages, else nothing.
 *   halt_poll_ns:   the largest demand.
 *   kworker masks:  original minus the union of isolated CPUs; a mask with
 *                   no online CPU is never written (original kept, error).
 */
#ifndef VH_RECONCILE_H
#define VH_RECONCILE_H

#include <stdbool.h>

#include "cpuset.h"
#include "error.h"
#include "knobs.h"
#include "state.h"

typedef enum vh_change_kind {
        VH_CHANGE_SET,          /* written because VMs demand it */
        VH_CHANGE_RESTORE,      /* written back to the original */
        VH_CHANGE_DRIFT,        /* someone else changed it: left alone */
        VH_CHANGE_FAILED,       /* could not read, compute or write */
} vh_change_kind;

typedef struct vh_change {
        vh_knob_id knob;
        vh_change_kind kind;
        char *from, *to;        /* values (normalized) */
        char *why;              /* who demands it, or why it is restored/left */
} vh_change;

typedef struct vh_report {
        vh_change *changes;
        size_t n;
        bool failed;            /* some VH_CHANGE_FAILED */
} vh_report;

void vh_report_done(vh_report *r);
#define _cleanup_report_ __attribute__((cleanup(vh_report_done)))

/* The knob's desired value given the original and the state's demands. */
typedef struct vh_desired {
        bool demanded;
        char *value;            /* normalized, when demanded */
        char *why;              /* "A (thp never), B (thp auto, static hugepages)" */
        char *error;            /* demanded but impossible (mask without online CPU) */
} vh_desired;

void vh_desired_done(vh_desired *d);

/*
 * Pure planner: what knob `id` should be, from `original` and the demands
 * in `st`.  `online` is needed for masks (may be NULL for other knobs).
 */
int vh_reconcile_desired(const vh_state *st, vh_knob_id id, const char *original, const vh_cpuset *online,
                         vh_desired *ret, vh_error **err);

/* Is knob `id` demanded by any registration? */
bool vh_reconcile_demanded(const vh_state *st, vh_knob_id id);

/* Records the state (the transaction's save); used before the first write. */
typedef int (*vh_persist_fn)(const vh_state *st, void *userdata, vh_error **err);

/*
 * Bring every knob to its desired value (reading, writing, and updating
 * the knob state in `st`), and report each change.  Errors of single
 * knobs are reported (failed = true), not returned.  When anything is to
 * be written, `persist` first records the values about to be written
 * (pending); if it fails, nothing is written.
 */
int vh_reconcile(vh_state *st, vh_persist_fn persist, void *userdata, vh_report *rep, vh_error **err);

#endif
