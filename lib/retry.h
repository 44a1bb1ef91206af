/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * retry.h — a write that failed is retried soon, also when no VM is left
 * to make another hook call.
 *
 * A hook call whose transaction leaves a failed read or write of a knob
 * (irqbalance 1.9.0-1.9.3 answer nobody for their --interval after a
 * rescan; a knob read-only for a while) starts a background retrier: a
 * process of its own (two forks, a new session, /dev/null for stdio, no
 * inherited descriptor) that settles the state (vh_txn_settle: under the
 * lock, what any hook call reconciles first) after each delay of
 * VH_RETRY_DELAYS_MS, and stops at the first try that fails nothing and
 * leaves no record of a failed write.
 * Without it, a restore that fails at the last VM's stop waits for a next
 * call that may never come.  After the last delay the next hook call or
 * `vmhooks restore` retries, as before.
 *
 * At most one retrier runs and at most one waits for it (two flocks in
 * /run/vmhooks): a failure saved while one runs is seen by the one that
 * waits, whose delays start after the first one ends.  A call that finds
 * one waiting leaves it to that one, which has not looked yet.
 *
 * The retrier logs in the log of the VM whose call started it, with the
 * call "retry after CALL": every write, and how it ended.
 *
 * Test builds (-DVH_TEST_SEAMS) with a fake root (VMHOOKS_ROOT) or an
 * injected fault (VMHOOKS_FAULT) start one only when VMHOOKS_RETRY_DELAYS
 * gives the delays (milliseconds, comma-separated; "off": never).
 */
#ifndef VH_RETRY_H
#define VH_RETRY_H

#include <stddef.h>

#include "root.h"

#define VH_RETRY_RUN_LOCK VH_STATE_DIR "/retry.lock"
#define VH_RETRY_WAIT_LOCK VH_STATE_DIR "/retry-wait.lock"

/* 1 + 2 + ... + 64: the last try 127 s after the failure, past irqbalance's default 10 s --interval */
#define VH_RETRY_DELAYS_MS { 1000, 2000, 4000, 8000, 16000, 32000, 64000 }
#define VH_RETRY_MAX_DELAYS 16

/*
 * Start the background retrier for VM `vm`'s call `call` ("stopped end").
 * Returns at once: 0 (also when the build or environment says not to, see
 * above), or a negative errno when it could not fork.
 */
int vh_retry_spawn(const char *vm, const char *call);

typedef enum vh_retry_end {
        VH_RETRY_SETTLED,       /* nothing left to retry */
        VH_RETRY_GAVE_UP,       /* still some after the last delay */
        VH_RETRY_LEFT,          /* another retrier waits already: it will look */
        VH_RETRY_BROKEN,        /* the state cannot be locked or read: the next hook call says why */
} vh_retry_end;

/*
 * The retrier's work, in the calling process (exposed for tests): the
 * locks, then one vh_txn_settle after each of the `n` delays.
 */
vh_retry_end vh_retry_run(const char *vm, const char *call, const unsigned *delays_ms, size_t n);

/* Parse a VMHOOKS_RETRY_DELAYS value: the number of delays (0 for "off"), or -EINVAL. */
int vh_retry_parse_delays(const char *s, unsigned *ret, size_t max);

#endif
