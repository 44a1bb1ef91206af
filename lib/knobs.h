/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * knobs.h — the host knobs vmhooks tunes: where they live, how the kernel
 * spells their values, how to compare and write them.
 *
 * Values are kept as strings in their normal form: a THP mode word
 * ("madvise", not "always [madvise] never"), a decimal number, or a CPU
 * mask as the kernel printed it (compared numerically).
 */
#ifndef VH_KNOBS_H
#define VH_KNOBS_H

#include <stdbool.h>

#include "error.h"

typedef enum vh_knob_id {
        VH_KNOB_THP,
        VH_KNOB_HALT_POLL,
        VH_KNOB_WQ_MASK,
        VH_KNOB_WB_MASK,
        VH_KNOB_COUNT
} vh_knob_id;

typedef enum vh_knob_kind { VH_KIND_THP, VH_KIND_UINT, VH_KIND_MASK } vh_knob_kind;

typedef struct vh_knob_def {
        const char *name;       /* state and log name */
        const char *path;       /* sysfs path, relative to VMHOOKS_ROOT */
        vh_knob_kind kind;
} vh_knob_def;

extern const vh_knob_def vh_knobs[VH_KNOB_COUNT];

/* The CPUs online (/sys/devices/system/cpu/online). */
#define VH_CPU_ONLINE_PATH "/sys/devices/system/cpu/online"

/* Look a knob up by its state name; -1 when unknown. */
int vh_knob_by_name(const char *name);

/* Normalize a raw value as read from sysfs into *ret (malloc'd). */
int vh_knob_normalize(vh_knob_id id, const char *raw, char **ret, vh_error **err);

/* Read the knob's current value, normalized. */
int vh_knob_read(vh_knob_id id, char **ret, vh_error **err);

/* Write a normalized value (like `echo value > path`). */
int vh_knob_write(vh_knob_id id, const char *value, vh_error **err);

/* Do two normalized values mean the same (masks compared numerically)? */
bool vh_knob_equal(vh_knob_id id, const char *a, const char *b);

#endif
