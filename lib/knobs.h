/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * knobs.h — the host knobs vmhooks tunes, as families of instances.
 *
 * A family is one table entry (lib/knobs.c): how the kernel spells its
 * values, where its instances live, and whether a host has them.  The
 * planning half of a family (who demands what) is in lib/reconcile.c.
 * A family is either one file (thp, halt_poll_ns, workqueue_cpumask) or
 * one file per directory entry (wq_cpumask: every WQ_SYSFS workqueue,
 * /sys/bus/workqueue/devices/NAME/cpumask), an instance being then
 * "FAMILY:NAME" in the state, the log and `vmhooks status`.
 *
 * Values are kept as strings in their normal form: a word ("madvise", not
 * "always [madvise] never"), a decimal number, or a CPU mask as the kernel
 * printed it (compared numerically).
 *
 * A knob the host does not have is "not present" (a NOTE, never an error);
 * one that exists but cannot be written (a read-only module parameter,
 * mode 0444) is "cannot be tuned here".  Neither gets an original saved.
 */
#ifndef VH_KNOBS_H
#define VH_KNOBS_H

#include <stdbool.h>
#include <stddef.h>

#include "cpuset.h"
#include "error.h"

/*
 * How values are spelled.  VH_KIND_LIST is a CPU list ("0-3,8"), kept in
 * canonical form; "" is a value of its own (no CPU, or for a systemd unit
 * "AllowedCPUs not set", which is not the same as every CPU).
 */
typedef enum vh_knob_kind { VH_KIND_WORD, VH_KIND_UINT, VH_KIND_MASK, VH_KIND_LIST } vh_knob_kind;

typedef enum vh_family_id {
        VH_FAM_THP,             /* transparent_hugepage/enabled */
        VH_FAM_THP_DEFRAG,      /* transparent_hugepage/defrag */
        VH_FAM_THP_SHMEM,       /* transparent_hugepage/shmem_enabled */
        VH_FAM_HALT_POLL,       /* kvm halt_poll_ns */
        VH_FAM_WQ_MASK,         /* the unbound workqueue mask (cpumask_requested where the kernel has it) */
        VH_FAM_WQ_QUEUE,        /* every WQ_SYSFS workqueue's own mask (writeback, blkcg_punt_bio, ...) */
        VH_FAM_IRQBALANCE,      /* the CPUs a running irqbalance is told to leave alone (its socket) */
        VH_FAM_IRQ_DEFAULT,     /* /proc/irq/default_smp_affinity: where new IRQs start */
        VH_FAM_IRQ,             /* every IRQ's /proc/irq/N/smp_affinity_list */
        VH_FAM_UNIT_CPUS,       /* AllowedCPUs of the host's systemd units (system.slice, user.slice, init.scope) */
        VH_FAM_HUGEPOOL,        /* hugepage pools by size and node (lib/hugepool.h): hugepages:2048kB:node0 */
        VH_FAM_COUNT
} vh_family_id;

typedef struct vh_knob vh_knob;

/*
 * A family that is not one plain file per instance (a daemon's socket, a
 * D-Bus property) brings its own access.  NULL members are the file ones.
 */
typedef struct vh_family_ops {
        /* Read the raw value; -ENOENT when the host does not have the instance. */
        int (*read)(const vh_knob *k, char **ret_raw, vh_error **err);
        int (*write)(const vh_knob *k, const char *value, vh_error **err);
        /* 0: tunable; -ENOENT: not here; -EROFS: here but cannot be tuned (*why says why, may be NULL). */
        int (*access)(const vh_knob *k, char **why);
        /* A family whose instances are neither files of a directory nor fixed: is this one of its names? */
        bool (*valid)(const char *instance);
} vh_family_ops;

typedef struct vh_family {
        const char *name;               /* state and log name; instances: NAME:INSTANCE */
        const char *title;              /* for people: "THP defrag" */
        vh_knob_kind kind;
        const char *const *words;       /* VH_KIND_WORD: the words the kernel knows */
        const char *path;               /* a one-file family: its path (written, and read unless read_prefer) */
        const char *read_prefer;        /* ... read instead when it exists: the kernel's "requested" value */
        const char *dir;                /* an enumerated family: one instance per entry of dir */
        const char *file;               /* ... whose file is dir/ENTRY/file */
        const char *const *fixed;       /* a family of named instances (not files): their names */
        const char *where;              /* ... how to show one: a prefix of the instance ("AllowedCPUs of ") */
        const vh_family_ops *ops;       /* NULL: the instances are files */
        bool eio_untunable;             /* the kernel answers EIO for instances nobody may tune (managed IRQs) */
        bool lagging_read;              /* a read shows a write only later (irqbalance: at its next rescan) */
        bool partial_writes;            /* VH_KIND_UINT: the kernel may give part of a write (a hugepage pool) */
} vh_family;

extern const vh_family vh_families[VH_FAM_COUNT];

/* One knob instance: a family member with its own file. */
struct vh_knob {
        vh_family_id family;
        char *name;             /* "thp", "wq_cpumask:writeback" */
        char *instance;         /* "writeback" (enumerated and fixed families), else NULL */
        char *path;             /* written (and read); relative to VMHOOKS_ROOT; for a family with ops, where
                                   it is for people ("AllowedCPUs of system.slice") */
        char *read_path;        /* read instead, when the family has a read_prefer file here; else NULL */
};

void vh_knob_done(vh_knob *k);

/*
 * Resolve a state name ("thp", "wq_cpumask:writeback", and the old name
 * "writeback_cpumask") into a knob; -EINVAL for a name no family has.
 * Whether read_prefer exists is looked up here.
 */
int vh_knob_resolve(const char *name, vh_knob *ret);

/* The state name for an old one ("writeback_cpumask" -> "wq_cpumask:writeback"), else `name`. */
const char *vh_knob_canonical_name(const char *name, char *buf, size_t size);

/*
 * The instances of family `f` present on this host, appended to *list
 * (one-file families: the one, when its file exists; enumerated ones:
 * every entry with the file).  Never an error for a missing directory.
 */
int vh_family_instances(vh_family_id f, vh_knob **list, size_t *n, vh_error **err);

/* Normalize a raw value as read from sysfs into *ret (malloc'd). */
int vh_knob_normalize(const vh_knob *k, const char *raw, char **ret, vh_error **err);

/* Read the knob's current value, normalized; -ENOENT when the host does not have it. */
int vh_knob_read(const vh_knob *k, char **ret, vh_error **err);

/* Write a normalized value (like `echo value > path`). */
int vh_knob_write(const vh_knob *k, const char *value, vh_error **err);

/*
 * Did a write of `pending` (recorded before a call was killed) take
 * effect?  The value reads `pending`, or, for a family whose writes the
 * kernel may meet in part, lies between `expected` and `pending`.
 */
bool vh_knob_pending_reached(const vh_knob *k, const char *current, const char *pending, const char *expected);

/* Do two normalized values mean the same (masks compared numerically)? */
bool vh_knob_equal(const vh_knob *k, const char *a, const char *b);

/*
 * Can the knob be tuned here?  0: yes.  -ENOENT: not present (*why: "not
 * present on this host (PATH does not exist)").  -EROFS: exists but cannot
 * be written (*why: "cannot be tuned here: PATH is read-only (mode 0444)").
 */
int vh_knob_access(const vh_knob *k, char **why);

/* Is this write error the kernel (or the file) saying "not tunable here" rather than a failure? */
bool vh_knob_untunable_errno(const vh_knob *k, int e);

#endif
