/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fault.h — a fault-injection seam for robustness tests.
 *
 * Code calls vh_fault_point("name") before each step that changes something:
 * "sysfs-write", "write:BASENAME" for atomic file writes ("write:state"),
 * "log-write".  Only in test builds (-DVH_TEST_SEAMS, `make test-binaries`):
 * in a production build it always returns 0 and never reads the
 * environment.  With VMHOOKS_FAULT unset it returns 0 at the cost of one
 * cached getenv.  VMHOOKS_FAULT="NAME@N=ACTION" makes the Nth call of point
 * NAME ("*" = any point) either die with SIGKILL (ACTION "kill") or fail
 * with an errno (ACTION "EIO", "ENOSPC", "EROFS", "EACCES", "EINVAL").
 */
#ifndef VH_FAULT_H
#define VH_FAULT_H

/* 0, or a negative errno the caller must treat as the step's failure. */
int vh_fault_point(const char *name);

/* Forget the parsed VMHOOKS_FAULT (unit tests). */
void vh_fault_reset(void);

#endif
