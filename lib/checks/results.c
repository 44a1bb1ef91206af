/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The result list shared by the checks and the audit. */
#include "checks.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

void vh_results_done(vh_results *r)
{
        for (size_t i = 0; i < r->n; i++) {
                free(r->items[i].message);
                free(r->items[i].fix);
        }
        free(r->items);
        r->items = NULL;
        r->n = 0;
}

char *vh_strf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        char *s = NULL;
        if (vasprintf(&s, fmt, ap) < 0)
                s = NULL;
        va_end(ap);
        return s;
}

int vh_results_add(vh_results *r, const char *check, vh_level level, bool refuse, const char *fix,
                   const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *msg = NULL;
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        _cleanup_free_ char *f = fix ? strdup(fix) : NULL;
        if (!msg || (fix && !f))
                return -ENOMEM;
        vh_result *items = realloc(r->items, (r->n + 1) * sizeof(*items));
        if (!items)
                return -ENOMEM;
        r->items = items;
        items[r->n++] = (vh_result){
                .check = check,
                .level = refuse ? VH_LEVEL_FAIL : level,
                .refuse = refuse,
                .message = TAKE_PTR(msg),
                .fix = TAKE_PTR(f),
        };
        return 0;
}

const char *vh_level_name(vh_level l)
{
        static const char *const names[] = { "PASS", "NOTE", "WARN", "FAIL" };
        return (unsigned)l < 4 ? names[l] : "?";
}

vh_level vh_results_worst(const vh_results *r)
{
        vh_level w = VH_LEVEL_PASS;
        for (size_t i = 0; i < r->n; i++)
                if (r->items[i].level > w)
                        w = r->items[i].level;
        return w;
}

const vh_result *vh_results_refusal(const vh_results *r)
{
        for (size_t i = 0; i < r->n; i++)
                if (r->items[i].refuse)
                        return &r->items[i];
        return NULL;
}

char *vh_result_line(const vh_result *res)
{
        if (res->fix)
                return vh_strf("%s %s: %s; fix: %s", vh_level_name(res->level), res->check, res->message, res->fix);
        return vh_strf("%s %s: %s", vh_level_name(res->level), res->check, res->message);
}

char *vh_result_refusal_line(const vh_result *res)
{
        if (res->fix)
                return vh_strf("%s: %s; fix: %s", res->check, res->message, res->fix);
        return vh_strf("%s: %s", res->check, res->message);
}
