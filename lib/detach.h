/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * detach.h — work that outlives the call that starts it: the background
 * retrier (retry.h) and the reader of an irqbalance reply a call gave up
 * on (irqbalance.c).
 *
 * Two forks and a new session: the grandchild is nobody's child to wait
 * for (init or the subreaper reaps it), has no controlling terminal, its
 * stdio on /dev/null, and no other descriptor of the caller's but
 * `keep_fd`: libvirt waits for the hook's pipes to close, and a lock the
 * caller holds must not live on in it.  No exec: the grandchild runs
 * fn(keep_fd, arg) and _exit(0)s.
 */
#ifndef VH_DETACH_H
#define VH_DETACH_H

/* 0 once the grandchild is forked (the intermediate child is reaped here), or a negative errno. */
int vh_detach(int keep_fd, void (*fn)(int keep_fd, void *arg), void *arg);

#endif
