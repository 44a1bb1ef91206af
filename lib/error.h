/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * error.h — the one error rule of vmhooks.
 *
 * Every fallible function returns a negative errno-style number on failure
 * (0 or a positive count on success) and, when it fails, fills *err with a
 * message that carries its context: the file, element or sysfs path, what
 * was found and what is expected.  Callers that add context wrap the
 * message (vh_error_wrap) instead of replacing it.  Only the mains print.
 */
#ifndef VH_ERROR_H
#define VH_ERROR_H

#include <stdarg.h>

#include "cleanup.h"

typedef struct vh_error {
        int code;       /* positive errno, or EINVAL for bad input */
        char *msg;      /* one line, no trailing newline */
} vh_error;

/*
 * Set *err (if err is non-NULL and *err is still empty) and return -errnum.
 * errnum <= 0 is treated as EINVAL.  When errnum names a system error,
 * ": strerror(errnum)" is appended.
 */
int vh_fail(vh_error **err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Like vh_fail, without the strerror suffix (for bad input). */
int vh_fail_input(vh_error **err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Prepend "context: " to the message in *err; returns -(*err)->code. */
int vh_error_wrap(vh_error **err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

void vh_error_free(vh_error *e);
VH_DEFINE_CLEANUP(vh_error *, vh_error_free)
#define _cleanup_error_ _cleanup_(vh_error_freep)

/* The message, or a fallback when err is empty. */
const char *vh_error_msg(const vh_error *e);

#endif
