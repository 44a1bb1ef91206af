/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "root.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

static const char *cached;
static const char *explicit_root;

const char *vh_root(void)
{
        if (!cached) {
                const char *r = explicit_root;
#ifdef VH_TEST_SEAMS
                /* test builds only (make test-binaries): a production build never reads it */
                if (!r)
                        r = secure_getenv("VMHOOKS_ROOT");
#endif
                cached = r ? r : "";
                /* "/" and "" mean the real root. */
                if (strcmp(cached, "/") == 0)
                        cached = "";
        }
        return cached;
}

void vh_root_reset(void)
{
        cached = NULL;
}

void vh_root_set(const char *dir)
{
        explicit_root = dir;
        cached = NULL;
}

char *vh_path(const char *abs)
{
        char *p = NULL;
        if (asprintf(&p, "%s%s", vh_root(), abs) < 0)
                return NULL;
        return p;
}

char *vh_pathf(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *rel = NULL;
        int n = vasprintf(&rel, fmt, ap);
        va_end(ap);
        if (n < 0)
                return NULL;
        return vh_path(rel);
}
