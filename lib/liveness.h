/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * liveness.h — is a registered VM still running, or still starting?
 *
 * libvirt's own files are the witnesses, because the hook runs without
 * capabilities and /proc may be mounted hidepid=2 (tests/integration/FACTS.md):
 *   - /run/libvirt/qemu/ESCAPED.pid holds QEMU's PID, and QEMU holds a
 *     POSIX write lock on it for its whole life (libvirt locks it in the
 *     child before exec).  ESCAPED is the name XML-escaped as libvirt's
 *     virBufferEscapeString() does it (R&D -> R&amp;D.pid).
 *   - /run/libvirt/qemu/NAME.xml, the status file (name not escaped),
 *     exists while libvirt considers the domain active.
 *   - /run/libvirt/qemu/driver.pid is locked by the daemon that runs the
 *     QEMU driver (libvirtd or virtqemud): it tells whether the daemon that
 *     called prepare still runs.
 * /proc/PID/stat's start time guards against reused PIDs where /proc shows
 * the process.
 */
#ifndef VH_LIVENESS_H
#define VH_LIVENESS_H

#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "state.h"

/* A registration without a PID whose daemon still runs is "starting" for this long (seconds). */
#define VH_START_GRACE_S 600

#define VH_LIBVIRT_DRIVER_PIDFILE VH_LIBVIRT_QEMU_RUN "/driver.pid"

/* Field 22 of /proc/PID/stat (clock ticks since boot). */
int vh_proc_starttime(int pid, uint64_t *ret);

/*
 * The domain name as libvirt puts it into the pidfile's name: < > & ' "
 * become &lt; &gt; &amp; &apos; &quot;, the control characters 0x01-0x08,
 * 0x0B, 0x0C and 0x0E-0x19 are dropped, everything else is kept
 * (virBufferEscapeString, libvirt 9.0 to 11).
 */
int vh_libvirt_escape_name(const char *name, char **ret);

/* Paths (under the root) of libvirt's per-VM pidfile and status file; NULL on bad name or ENOMEM. */
char *vh_libvirt_pidfile(const char *name);
char *vh_libvirt_statusfile(const char *name);

/*
 * Who holds a POSIX lock on the first byte of `path`: 1 with *ret_pid set
 * (0 when the holder is outside this PID namespace), 0 when nobody, or a
 * negative errno (-ENOENT: no such file).
 */
int vh_lock_holder(const char *path, int *ret_pid);

/* PID from libvirt's pidfile of this VM. */
int vh_read_qemu_pid(const char *name, int *ret_pid, vh_error **err);

/*
 * Record the PID libvirt wrote for this VM (and its start time when /proc
 * shows it; 0 otherwise) in `reg`.  The PID must be alive: its pidfile is
 * locked by it, or /proc shows it.
 */
int vh_reg_learn_pid(vh_reg *reg, vh_error **err);

/*
 * The hook's parent at its start (libvirt's daemon), for a call whose daemon
 * dies before it registers; 0 or 1 (reparented already): unknown.
 */
void vh_liveness_set_caller(int ppid);

/*
 * Record the daemon that runs this hook call: the holder of the QEMU
 * driver's lock, else the caller set above (0 when neither).
 */
void vh_reg_learn_daemon(vh_reg *reg);

/* The PIDs that exist: one pass over /proc (a few getdents calls for thousands of processes). */
typedef struct vh_pidset {
        int *pids;              /* sorted */
        size_t n;
} vh_pidset;

int vh_pidset_load(vh_pidset *ret, vh_error **err);
bool vh_pidset_has(const vh_pidset *s, int pid);
void vh_pidset_done(vh_pidset *s);

/* ---- the decisions, pure (tests/unit/test_liveness.c) ---- */

typedef enum vh_alive {
        VH_ALIVE_YES,
        VH_ALIVE_NO,
        VH_ALIVE_UNKNOWN,
} vh_alive;

/* What was observed about a process: each fact may be unknown. */
typedef struct vh_proc_facts {
        int lock;               /* its libvirt lock file: 1 locked (lock_pid), 0 unlocked, < 0 no file/unreadable */
        int lock_pid;           /* holder (0: outside this PID namespace) */
        bool proc_seen;         /* /proc/PID/stat read */
        uint64_t proc_start;
        int kill_errno;         /* kill(PID, 0): 0 exists, EPERM exists, ESRCH gone, -1 not tried */
        bool file_while_alive;  /* the lock file exists for the process's whole life (QEMU's pidfile) */
} vh_proc_facts;

/* Does the process (pid, start; start 0 = unknown) still run? `why` says how it was decided. */
vh_alive vh_decide_alive(int pid, uint64_t start, const vh_proc_facts *f, const char **why);

/*
 * A registration without a PID.  `qemu` are the facts of its pidfile (lock
 * held: QEMU runs), `daemon` the facts of the daemon that called prepare.
 * Returns YES (starting or runs), NO (abandoned: *why says why) or UNKNOWN
 * (cannot be decided: the grace period applies).
 */
vh_alive vh_decide_starting(const vh_reg *reg, const vh_proc_facts *qemu, const vh_proc_facts *daemon,
                            const char **why);

/*
 * Is the VM behind `reg` running (or starting)?  May fill in reg's PID.
 * When not, *why (may be NULL) says why, for the log line.
 */
bool vh_reg_alive(vh_reg *reg, int64_t now, char **ret_why);
bool vh_reg_running(vh_reg *reg, int64_t now);

/* Whether the QEMU with this PID still holds the pidfile of VM `name` (hidepid: /proc shows no QEMU). */
bool vh_qemu_holds_pidfile(const char *name, int pid);

#endif
