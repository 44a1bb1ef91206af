/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * liveness.h — is a registered VM still running?  libvirt writes QEMU's PID
 * to /run/libvirt/qemu/NAME.pid; /proc/PID/stat's start time guards
 * against a PID reused by another process.
 */
#ifndef VH_LIVENESS_H
#define VH_LIVENESS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "state.h"

/* A registration without a PID is "starting" for this long (seconds). */
#define VH_START_GRACE_S 600

/* Field 22 of /proc/PID/stat (clock ticks since boot). */
int vh_proc_starttime(int pid, uint64_t *ret);

/* PID from /run/libvirt/qemu/NAME.pid. */
int vh_read_qemu_pid(const char *name, int *ret_pid, vh_error **err);

/*
 * Record the PID libvirt wrote for this VM (and its start time) in `reg`.
 */
int vh_reg_learn_pid(vh_reg *reg, vh_error **err);

/* The PIDs that exist: one pass over /proc (a few getdents calls for thousands of processes). */
typedef struct vh_pidset {
        int *pids;              /* sorted */
        size_t n;
} vh_pidset;

int vh_pidset_load(vh_pidset *ret, vh_error **err);
bool vh_pidset_has(const vh_pidset *s, int pid);
void vh_pidset_done(vh_pidset *s);

/*
 * Is the VM behind `reg` running?  With a PID: that process, started at
 * pidstart, exists.  Without one (between prepare and started): its
 * pidfile names a live process, or it registered less than
 * VH_START_GRACE_S ago.  May fill in reg's PID.
 */
bool vh_reg_running(vh_reg *reg, int64_t now);

#endif
