/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lifecycle.h — the state transactions of the hook: each one takes the
 * lock, loads the table, drops registrations of VMs that no longer run,
 * makes its change, reconciles the knobs, saves, and unlocks.
 */
#ifndef VH_LIFECYCLE_H
#define VH_LIFECYCLE_H

#include <stdint.h>

#include "error.h"
#include "hugepool.h"
#include "reconcile.h"
#include "state.h"

#define VH_LOCK_TIMEOUT_MS 30000
#define VH_SWEEP_SLICE 32       /* registrations whose PID reuse is checked per call */

typedef struct vh_txn_result {
        vh_report report;       /* knob changes */
        char **dropped;         /* names of stale registrations dropped */
        char **dropped_why;     /* and why, one line each */
        char **removed_temps;   /* temp files of dead writers removed */
        size_t n_removed_temps;
        size_t n_dropped;
        bool was_registered;    /* the VM had a registration before */
        bool registered_late;   /* vh_txn_started registered it (prepare could not) */
        char **peer_names;      /* vh_txn_started: the other running VMs with a label */
        char **peer_labels;
        size_t n_peers;
        size_t n_logged;        /* report.changes[0..n_logged) were logged by the write logger */
        vh_hp_outcome hp;       /* vh_txn_register_hp: what sizing the hugepage pools did */
        bool retry_due;         /* a read or write failed, or a saved record says one did: lib/retry.h retries */
} vh_txn_result;

/*
 * The writes of a transaction are told before its state is saved: a call
 * killed after the save but before its own log line would otherwise leave
 * a write no log shows.  The hook sets a logger once; it gets each
 * transaction's report right after the knobs are written, and sets
 * res->n_logged.  (A call killed before the save leaves its write-ahead
 * value, and the next call logs the write it finds.)
 */
typedef void (*vh_write_logger_fn)(vh_txn_result *res, void *userdata);
void vh_txn_set_write_logger(vh_write_logger_fn fn, void *userdata);

void vh_txn_result_done(vh_txn_result *r);
#define _cleanup_txn_ __attribute__((cleanup(vh_txn_result_done)))

/*
 * Register (or re-register) a VM with its demands and reconcile.
 * `learn_pid`: record the PID from libvirt's pidfile (reconnect).
 */
int vh_txn_register(const char *uuid, const char *name, const vh_demands *d, bool learn_pid,
                    vh_txn_result *res, vh_error **err);

/*
 * prepare with <hugepage-pool allocate="yes">: register, and add to the
 * hugepage pools the pages the VM lacks (lib/hugepool.h), under the same
 * lock; res->hp says what was done.  `hp` NULL: as vh_txn_register.
 */
int vh_txn_register_hp(const char *uuid, const char *name, const vh_demands *d, const vh_hp_request *hp,
                       vh_txn_result *res, vh_error **err);

/*
 * Drop the VM's registration (if any) and reconcile (restores the host).
 * With uuid NULL, every registration named `name` goes (the hook: no two
 * running domains share a name).
 */
int vh_txn_unregister(const char *uuid, const char *name, vh_txn_result *res, vh_error **err);

/*
 * Record the QEMU PID of a registered VM (started begin), and its SELinux
 * label when given.  With `d`, a VM that is not registered (its prepare
 * could not take the lock) is registered now.  res lists the other running VMs' labels, taken
 * under the same lock so that two concurrent starts see each other.
 */
int vh_txn_started(const char *uuid, const char *name, const char *label, const vh_demands *d, vh_txn_result *res,
                   vh_error **err);

/*
 * reconnect begin: a registered VM keeps its demands, label and PID (its
 * PID is learnt if missing, its daemon renewed); nothing is read again.
 * Only a VM with no registration is registered with `d`; with d NULL
 * nothing happens to it (res->was_registered tells).
 */
int vh_txn_reconnect(const char *uuid, const char *name, const vh_demands *d, vh_txn_result *res, vh_error **err);

/*
 * `vmhooks restore`: put every knob original back now.  With VMs
 * registered it refuses (-EBUSY, the VMs named in *err) unless `force`,
 * which drops their registrations first (their names in res->dropped;
 * the VMs keep running, untuned).  A lost-original mark is cleared: with
 * no VM left nothing can be told from the host's own values.  Knobs
 * changed by someone else are left as they are, as always.
 */
int vh_txn_restore(bool force, vh_txn_result *res, vh_error **err);

/*
 * Reconcile again, with no change of registrations but the sweep: what
 * earlier calls could not do (a failed write, a restore due, a demanded
 * knob whose first read failed and so has no record yet).  The background
 * retrier's transaction (lib/retry.h).
 */
int vh_txn_settle(vh_txn_result *res, vh_error **err);

/* Remember the last error of a VM for `vmhooks status`. */
int vh_txn_note_error(const char *uuid, const char *msg, vh_error **err);

/* Drop registrations whose VM no longer runs (except those of `keep_uuid` or `keep_name`, either may be NULL). */
int vh_state_sweep(vh_state *st, const char *keep_uuid, const char *keep_name, int64_t now, vh_txn_result *res);

#endif
