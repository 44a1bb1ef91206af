/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * status.h — `vmhooks status`: what vmhooks is doing to this host now.
 *
 * It reads the state table (/run/vmhooks/state) without taking the lock:
 * the hook replaces the file by rename, so one open and read sees one
 * whole version of it, and a status never makes a hook call wait.  It
 * writes nothing (not even the state.corrupt move vh_state_load makes).
 *
 * For each knob: the value it reads now, the original vmhooks saved, what
 * it last wrote, and the desired value, computed by the hook's own planner
 * (vh_reconcile_desired) on the table as it is, stale registrations
 * included (the next hook call drops them).  A knob is "changed by someone
 * else" when it is marked drifted or no longer reads what vmhooks expects
 * (nor the value a hook call is writing right now).  The install of the
 * hook and the wrapper is judged by the same checks as `vmhooks audit`
 * (lib/audit/install.c, lib/audit/capcache.c).
 *
 * The last error of a VM is the one its registration holds, else the last
 * error line of its log (/var/log/vmhooks/NAME.log, the last 64 KiB) written
 * since it registered.
 */
#ifndef VH_STATUS_H
#define VH_STATUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "checks.h"
#include "error.h"
#include "knobs.h"
#include "state.h"

typedef struct vh_status_knob {
        vh_knob knob;           /* which instance, and its file */
        char *note;             /* not present, cannot be tuned here, original lost: NULL otherwise */
        char *current;          /* normalized; NULL when it cannot be read */
        char *current_error;    /* why it cannot be read */
        bool saved;             /* vmhooks holds its original (tuned, or about to be) */
        bool demanded;          /* some registered VM demands it */
        char *desired;          /* demanded: the planner's value; saved and not demanded: the
                                   original (the next call restores it); else NULL */
        char *why;              /* who demands it, or why it goes back */
        char *desired_error;    /* demanded but impossible (a mask with no online CPU) */
        bool changed;           /* someone else changed it: drifted, or current != expected */
        bool off_target;        /* tuned, not changed by others, yet current != desired */
} vh_status_knob;

typedef struct vh_status_vm {
        bool running;           /* its QEMU runs (or it is starting); false: stale */
        char *demands;          /* "thp never; halt_poll_ns 400000" or "none" */
        char *log;              /* /var/log/vmhooks/NAME.log (escaped file name) */
        char *last_error;       /* the registration's, else the last "error:" or "refused the start:"
                                   line its log got since it registered; NULL: none */
} vh_status_vm;

typedef struct vh_status {
        char *state_path;       /* as read (with the root prefix) */
        bool state_exists;
        char *state_error;      /* the table cannot be parsed: shown, and treated as empty */
        vh_state st;            /* st.regs[i] goes with vms[i] */
        vh_status_vm *vms;
        vh_status_knob *knobs;  /* every one-file family, and every instance demanded or tuned */
        size_t n_knobs;
        vh_results install;     /* hook, wrapper, capability cache */
        unsigned attention;     /* things an administrator should look at */
} vh_status;

void vh_status_done(vh_status *s);
#define _cleanup_status_ __attribute__((cleanup(vh_status_done)))

/*
 * Gather the status.  `now`: seconds since the epoch (liveness of VMs
 * between prepare and started).  Fails when the state file exists but
 * cannot be read (not root) or on allocation failure; an unparsable table
 * is reported in state_error instead.
 */
int vh_status_collect(int64_t now, vh_status *ret, vh_error **err);

/* Text for people: one line per VM, per knob and per install finding, then a summary. */
int vh_status_format_text(const vh_status *s, char **ret, vh_error **err);

/*
 * JSON: {"version","state":{"path","exists","error"},"vms":[...],"knobs":[...],
 *        "install":[{"check","level","message","fix"}],"attention":N}.
 * See vmhooks(8) for the members.
 */
int vh_status_format_json(const vh_status *s, char **ret, vh_error **err);

#endif
