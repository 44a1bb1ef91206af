/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "error.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Used only when the message itself cannot be allocated. */
static vh_error oom_error = { ENOMEM, (char *)"out of memory" };

__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
        char *s = NULL;
        if (vasprintf(&s, fmt, ap) < 0)
                return NULL;
        return s;
}

static int set_error(vh_error **err, int errnum, char *msg)
{
        int code = errnum > 0 ? errnum : EINVAL;
        if (!err || *err) {
                free(msg);
                return -code;
        }
        if (!msg) {
                *err = &oom_error;
                return -code;
        }
        vh_error *e = malloc(sizeof(*e));
        if (!e) {
                free(msg);
                *err = &oom_error;
                return -code;
        }
        e->code = code;
        e->msg = msg;
        *err = e;
        return -code;
}

/* The code a failure returns, when nobody takes its message (nothing formatted then). */
static int unwanted(vh_error **err, int errnum)
{
        return !err || *err ? -(errnum > 0 ? errnum : EINVAL) : 0;
}

int vh_fail(vh_error **err, int errnum, const char *fmt, ...)
{
        int code = unwanted(err, errnum);
        if (code)
                return code;
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *base = vformat(fmt, ap);
        va_end(ap);
        char *msg = NULL;
        if (base) {
                if (errnum > 0) {
                        if (asprintf(&msg, "%s: %s", base, strerror(errnum)) < 0)
                                msg = NULL;
                } else {
                        msg = TAKE_PTR(base);
                }
        }
        return set_error(err, errnum, msg);
}

int vh_fail_input(vh_error **err, const char *fmt, ...)
{
        int code = unwanted(err, EINVAL);
        if (code)
                return code;
        va_list ap;
        va_start(ap, fmt);
        char *msg = vformat(fmt, ap);
        va_end(ap);
        return set_error(err, EINVAL, msg);
}

int vh_error_wrap(vh_error **err, const char *fmt, ...)
{
        if (!err || !*err)
                return -EINVAL;
        int code = (*err)->code;
        if (*err == &oom_error)
                return -code;
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *ctx = vformat(fmt, ap);
        va_end(ap);
        char *msg = NULL;
        if (ctx && asprintf(&msg, "%s: %s", ctx, (*err)->msg) >= 0) {
                free((*err)->msg);
                (*err)->msg = msg;
        }
        return -code;
}

void vh_error_free(vh_error *e)
{
        if (!e || e == &oom_error)
                return;
        free(e->msg);
        free(e);
}

const char *vh_error_msg(const vh_error *e)
{
        return e && e->msg ? e->msg : "unknown error";
}
