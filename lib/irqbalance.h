/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * irqbalance.h — a client of irqbalance's runtime UNIX socket, the one
 * irqbalance-ui and Intel's lpmd use, to ban CPUs from IRQ balancing while
 * VMs run on them and to lift the ban afterwards.  Never a restart, never
 * an edit of /etc/default/irqbalance or /etc/sysconfig/irqbalance.
 *
 * The protocol, as irqbalance 1.9 (Debian 12: 1.9.2) speaks it:
 *   - a SOCK_STREAM socket, /run/irqbalance/irqbalancePID.sock (1.7 and
 *     later; 1.6: /run/irqbalance//...; 1.5: /var/run/irqbalancePID.sock).
 *     When that bind fails, 1.5 and later fall back to the abstract address
 *     whose sun_path is all zeros (written "@" here); 1.2-1.4 listen only
 *     on the abstract "\0irqbalancePID.sock" (written "@irqbalancePID.sock").
 *     Before 1.2 there is no socket; from 1.9.0 on, none either when
 *     irqbalance was built without irqbalance-ui;
 *   - one command per connection, read by a single recvmsg() of at most 500
 *     bytes (16384 from 1.9.5), not NUL-terminated; the client passes its
 *     credentials (SCM_CREDENTIALS) and only uid 0 is obeyed: anyone else
 *     is dropped silently (irqbalance logs "Permission denied");
 *   - "settings cpus LIST" bans the CPUs of a cpulist, replacing what
 *     irqbalance banned on its own (isolcpus=, nohz_full=,
 *     IRQBALANCE_BANNED_CPULIST); "settings cpus NULL" goes back to that;
 *     no reply, irqbalance closes the connection.  The ban takes effect at
 *     irqbalance's next rescan (its --interval, 10 s by default);
 *   - "setup" answers "SLEEP N [IRQ N LOAD N DIFF N CLASS N ]...BANNED MASK"
 *     (MASK in the kernel's hex groups) and closes: the CPUs irqbalance
 *     bans now, i.e. after the last rescan.
 *
 * irqbalance 1.9.0-1.9.3 stop answering for one --interval after a rescan
 * (it sleeps in its main loop; fixed in 1.9.4): every step here has a
 * timeout (VH_IRQBALANCE_TIMEOUT_MS) so that a hook call never hangs on it.
 *
 * Paths go through vh_path() (tests point VMHOOKS_ROOT at a fake /proc and
 * /run); an abstract address is never prefixed.
 */
#ifndef VH_IRQBALANCE_H
#define VH_IRQBALANCE_H

#include "error.h"

/* Each of connect, send and the whole reply must finish within this. */
#define VH_IRQBALANCE_TIMEOUT_MS 1000
/*
 * A connection irqbalance has not answered when the timeout ends is kept
 * open by a detached reader for at most this long (irqbalance.c says why).
 */
#define VH_IRQBALANCE_DRAIN_S 300
/* A longer "setup" reply is refused (a 1.9 reply lists the banned IRQs). */
#define VH_IRQBALANCE_REPLY_MAX (256u * 1024u)
/* The longest command irqbalance before 1.9.5 reads in one piece. */
#define VH_IRQBALANCE_CMD_MAX 500u

/* What the admin can do when irqbalance has no socket (the end of vh_irqbalance_find's -ENOTSUP reason). */
#define VH_IRQBALANCE_NOSOCKET_FIX                                                                              \
        "upgrade to an irqbalance with its socket (1.5 or later, built with irqbalance-ui), or ban the CPUs with " \
        "IRQBALANCE_BANNED_CPULIST in /etc/default/irqbalance (/etc/sysconfig/irqbalance) and restart it, or "   \
        "stop irqbalance"

/*
 * Find the running irqbalance's socket: 0 and *ret_path (a file path as
 * seen from the real root, or "@NAME" / "@" for an abstract address).
 * -ENOENT: no irqbalance runs, *why says so.  -ENOTSUP: one runs but has no
 * socket, and *why says so and what the admin can do ("...; fix: "
 * VH_IRQBALANCE_NOSOCKET_FIX).  Other errors
 * (reading /proc) also fill *why.  *why is NULL on success.
 *
 * A socket named after its PID (the file in /run/irqbalance/, the
 * abstract @irqbalancePID.sock) is found without looking at every process.
 * Without one, every /proc/PID/comm is read, a few ms with 1000 processes;
 * VH_IRQBALANCE_QUICK (the hook, once a call) skips that when no irqbalance
 * executable is installed where the packages put it (/usr/sbin, /sbin,
 * /usr/local/sbin, /usr/bin, /usr/local/bin) and no all-zero abstract
 * listener exists: -ENOENT then.  `vmhooks audit` always looks.
 */
#define VH_IRQBALANCE_QUICK 1u
int vh_irqbalance_find(unsigned flags, char **ret_path, char **why);

/* The CPUs irqbalance bans now, as a canonical cpulist ("1,3-4"); "" when none. */
int vh_irqbalance_get_banned(const char *path, char **ret_list, vh_error **err);

/*
 * Ban the CPUs of `list` (a cpulist, written canonically); "" lifts the ban ("settings cpus NULL").
 * -EINPROGRESS (and *err says so): sent, but irqbalance has not taken it yet (busy, before 1.9.4 for
 * its --interval after a rescan); it is queued in the socket and applied when irqbalance reads it.
 */
int vh_irqbalance_set_banned(const char *path, const char *list, vh_error **err);

/* Parse a "setup" reply (exposed for tests): the banned CPUs as a canonical cpulist. */
int vh_irqbalance_parse_setup(const char *reply, size_t len, char **ret_list, vh_error **err);

#endif
