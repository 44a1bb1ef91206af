/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * reconcile.h — the one path for apply and restore.
 *
 * desired = f(original, demands of the registered VMs); only what differs
 * is written.  With no demands left, a knob goes back to its original and
 * is forgotten.  A knob that no longer reads what we last wrote was changed
 * by someone else: it is left alone (and forgotten once nobody demands it).
 * Every family of lib/knobs.h has its planner here:
 *
 *   thp:            never > always > madvise > original; "auto" demands
 *                   never when the VM has static hugepages, else nothing.
 *   thp_defrag:     the fewest stalls: never > defer > defer+madvise >
 *                   madvise > always.
 *   thp_shmem:      a VM whose RAM is shared memory (memfd, shared access)
 *                   and not static hugepages, with thp never/always/madvise,
 *                   demands shmem_enabled never/always/advise (never >
 *                   always > advise); auto demands nothing of it.
 *   halt_poll_ns:   the largest demand.
 *   IRQs:           (irq:N, irq_default) the original minus the CPUs the
 *                   VMs isolate from IRQs (first come first served, never
 *                   the last housekeeping CPU); an IRQ left with no CPU of
 *                   its own goes to the housekeeping CPUs; an IRQ of a
 *                   VM's own device follows that VM's CPUs (follow-vm).
 *                   Managed and per-CPU IRQs (EIO) cannot be tuned.
 *   kworker masks:  (workqueue_cpumask, wq_cpumask:QUEUE) the original minus
 *                   the CPUs the VMs isolate, first come first served: a
 *                   VM whose CPUs would leave no housekeeping CPU (online,
 *                   not isolcpus=/nohz_full=) in the mask is not isolated,
 *                   and told so (a CONFLICT note for that VM only); the VMs
 *                   that came before keep their isolation.  No mask without
 *                   a housekeeping CPU is ever written.
 *
 * A knob the host lacks is ABSENT, one it cannot write UNTUNABLE: notes,
 * never errors, and no original is saved for either.
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
        VH_CHANGE_FAILED,       /* could not read, compute or write: an error */
        VH_CHANGE_ABSENT,       /* demanded, but this host has no such knob: a note */
        VH_CHANGE_UNTUNABLE,    /* demanded, but it cannot be written here: a note */
        VH_CHANGE_CONFLICT,     /* one VM's demand not applied: it conflicts with VMs before it (note for `vm`) */
        VH_CHANGE_LOST,         /* demanded, original lost with a damaged state: left alone */
        VH_CHANGE_GONE,         /* a tuned knob disappeared (its workqueue went away): forgotten */
} vh_change_kind;

/* Is this kind something to tell, not a failure? */
static inline bool vh_change_is_note(vh_change_kind k)
{
        return k == VH_CHANGE_ABSENT || k == VH_CHANGE_UNTUNABLE || k == VH_CHANGE_CONFLICT || k == VH_CHANGE_LOST ||
               k == VH_CHANGE_GONE;
}

typedef struct vh_change {
        char *knob;             /* instance name */
        vh_family_id family;
        vh_change_kind kind;
        char *from, *to;        /* values (normalized) */
        char *why;              /* who demands it, or why it is restored/left */
        char *vm;               /* VH_CHANGE_CONFLICT: the VM it is about */
} vh_change;

typedef struct vh_report {
        vh_change *changes;
        size_t n;
        bool failed;            /* some VH_CHANGE_FAILED */
} vh_report;

void vh_report_done(vh_report *r);
#define _cleanup_report_ __attribute__((cleanup(vh_report_done)))

/* One VM whose demand on a knob was not applied, and why. */
typedef struct vh_conflict {
        char *vm;
        char *msg;
} vh_conflict;

/* The knob's desired value given the original and the state's demands. */
typedef struct vh_desired {
        bool demanded;
        char *value;            /* normalized, when demanded */
        char *why;              /* "A (thp never), B (thp auto, static hugepages)" */
        char *error;            /* demanded but impossible */
        vh_conflict *conflicts; /* VMs left out (kworker masks) */
        size_t n_conflicts;
} vh_desired;

void vh_desired_done(vh_desired *d);

/* What the planners need to know of the host, read once per call. */
typedef struct vh_follow_irq {
        unsigned irq;
        char *uuid;             /* the VM whose host device raises it */
} vh_follow_irq;

/* The host noise whose isolation is worked out once a call: the index of vh_plan_host.accepted[]. */
typedef enum vh_accept_source { VH_ACCEPT_IRQS, VH_ACCEPT_TASKS, VH_ACCEPT__N } vh_accept_source;

typedef struct vh_plan_host {
        bool have_cpus;
        vh_cpuset online;
        vh_cpuset housekeeping; /* online minus isolcpus= and nohz_full= */
        vh_follow_irq *follow;  /* IRQs of the devices of VMs with isolate irqs="follow-vm" */
        size_t n_follow;
        /*
         * Which VMs are isolated from IRQs and from host tasks (indexed by
         * vh_accept_source), worked out once a call by vh_plan_host_accept
         * rather than once a knob (64 IRQs are 64 knobs); a planner works
         * it out itself when it is not known.
         */
        struct vh_accepted {
                bool known;
                vh_cpuset cpus;         /* the CPUs kept clear */
                vh_desired notes;       /* its .why and .conflicts, told on each knob of the source */
        } accepted[VH_ACCEPT__N];
} vh_plan_host;

void vh_plan_host_done(vh_plan_host *h);
/*
 * Read online and housekeeping CPUs (the CPUs part of the host facts,
 * lib/facts.h); on failure have_cpus stays false and *err says why.
 */
int vh_plan_host_load(vh_plan_host *h, vh_error **err);
typedef struct vh_facts vh_facts;
int vh_plan_host_from_facts(vh_plan_host *h, const vh_facts *f, vh_error **err);
/*
 * Find the IRQs of the PCI devices whose IRQs follow their VM
 * (/sys/bus/pci/devices/ADDR/msi_irqs/N and .../irq).  A device without
 * IRQs yet (vfio-pci asks for them when the guest's driver enables MSI-X)
 * has none: it is found by a later call.
 */
int vh_plan_host_load_follow(vh_plan_host *h, const vh_state *st, vh_error **err);
/* Work out h->accepted for `st` (after the CPUs are loaded); -ENOMEM. */
int vh_plan_host_accept(vh_plan_host *h, const vh_state *st);

/* Does `d` demand anything of family `f`? */
bool vh_family_demanded_by(vh_family_id f, const vh_demands *d);
/* Is family `f` demanded by any registration? */
bool vh_reconcile_demanded(const vh_state *st, vh_family_id f);

/*
 * Pure planner: what knob `k` should be, from `original` and the demands
 * in `st`.  `host` may be NULL (then masks are checked only for emptiness).
 */
int vh_reconcile_desired(const vh_state *st, const vh_knob *k, const char *original, const vh_plan_host *host,
                         vh_desired *ret, vh_error **err);

/*
 * The knobs a reconcile looks at: every instance present on this host of
 * every demanded family, and every knob the state has a record of (in
 * that order, without duplicates).  For a demanded family with no instance
 * here, an ABSENT note goes to `rep` (may be NULL).
 */
int vh_reconcile_knobs(const vh_state *st, vh_knob **ret, size_t *ret_n, vh_report *rep, vh_error **err);
void vh_knobs_free(vh_knob *list, size_t n);

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

/* Does the state hold something a reconcile must settle even when no registration changed? */
bool vh_reconcile_unsettled(const vh_state *st);

#endif
