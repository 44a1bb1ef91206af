/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * log.h — the per-VM log, /var/log/vmhooks/NAME.log: one line per action,
 *
 *   2026-11-24T23:59:43Z prepare begin: halt_poll_ns: 200000 -> 400000; demanded by A (halt-poll 400000)
 *
 * UTC timestamp, the libvirt call, the message with control characters
 * escaped.  Each line is one write(2) on an O_APPEND fd (or, between
 * vh_log_batch_begin and vh_log_batch_flush, the batch of whole lines is),
 * so concurrent writers never interleave inside a line.  When the log
 * cannot be opened or written, lines go to stderr instead.
 */
#ifndef VH_LOG_H
#define VH_LOG_H

#include <stdbool.h>

#include "error.h"
#include "reconcile.h"
#include "util.h"

typedef struct vh_logger {
        int fd;                 /* -1: lines go to stderr */
        char *call;             /* "prepare begin" */
        char *vm;               /* VM name (for stderr lines) */
        bool to_stderr_too;     /* also echo (tests, `vmhooks` commands) */
        bool batching;          /* lines wait in `batch` for vh_log_batch_flush */
        vh_buf batch;
} vh_logger;

/*
 * File name for a VM's log: bytes outside [A-Za-z0-9_+.-], a leading '.',
 * and '%' are written %XX; names longer than 200 bytes after escaping are
 * cut and end in "~" plus a hash, so no name leaves the log directory.
 */
char *vh_log_file_name(const char *vm);

/* Open (create 0640, directory 0750) the VM's log. Never fails: falls back to stderr. */
void vh_log_open(vh_logger *l, const char *vm, const char *call);
void vh_log_close(vh_logger *l);
#define _cleanup_log_ __attribute__((cleanup(vh_log_close)))

/*
 * Lines logged from _begin on wait in memory and _flush writes them in one
 * write(2) (a prepare that narrows 64 IRQs logs 66 lines: one syscall, not
 * 66); lines that cannot be written go to stderr, as single ones do.
 * vh_log_close flushes what is left.  The caller flushes before anything
 * the lines must precede (the state's save).
 */
void vh_log_batch_begin(vh_logger *l);
int vh_log_batch_flush(vh_logger *l);

/*
 * One line.  Returns 0, or a negative errno when it went to stderr instead
 * (while batching: 0; vh_log_batch_flush says how the batch went).
 */
int vh_log(vh_logger *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * One line per change in a reconcile report: every write, every drift,
 * every failure.  Notes (a knob not present or not tunable here, a VM's
 * isolation conflict) are left out: they concern one VM, whose call logs
 * them with vh_log_change.
 */
int vh_log_report(vh_logger *l, const vh_report *rep);
int vh_log_change(vh_logger *l, const vh_change *c);
/* One line per registration a transaction dropped (lifecycle.h), with why. */
typedef struct vh_txn_result vh_txn_result;
void vh_log_dropped(vh_logger *l, const vh_txn_result *res);
/* The line vh_log_change logs (malloc'd; NULL on allocation failure). */
char *vh_change_line(const vh_change *c);

#endif
