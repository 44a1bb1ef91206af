/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util.h — small string and number helpers used everywhere. */
#ifndef VH_UTIL_H
#define VH_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

static inline bool streq(const char *a, const char *b)
{
        return a && b && strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
        return (!a && !b) || streq(a, b);
}

static inline const char *startswith(const char *s, const char *prefix)
{
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/*
 * Parse a whole string as an unsigned decimal number in [0, max].
 * Leading/trailing whitespace (a sysfs newline) is accepted; signs,
 * empty strings and trailing garbage are not.
 * Returns 0, -EINVAL (not a number) or -ERANGE (above max).
 */
int vh_parse_u64(const char *s, uint64_t max, uint64_t *ret);

/* Growable byte buffer, always NUL-terminated. */
typedef struct vh_buf {
        char *data;
        size_t len;
        size_t cap;
} vh_buf;

/* Make room for `extra` more bytes (avoids repeated growth). */
int vh_buf_reserve(vh_buf *b, size_t extra);
int vh_buf_append(vh_buf *b, const char *s, size_t n);
int vh_buf_puts(vh_buf *b, const char *s);
int vh_buf_printf(vh_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void vh_buf_free(vh_buf *b)
{
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
}
#define _cleanup_buf_ _cleanup_(vh_buf_free)

/*
 * Append s escaped for a one-line log or state field: bytes outside
 * printable ASCII, '%', '\\', and (when `space` is false) ' ' and '='
 * become %XX.
 */
int vh_buf_escape(vh_buf *b, const char *s, bool keep_space);

/* Append a decimal number (no printf: the state file has thousands). */
int vh_buf_put_u64(vh_buf *b, uint64_t v);

/* The value of a hex digit, or -1. */
int vh_hexval(char c);

/* Decode %XX escapes in place; returns -EINVAL on a malformed escape. */
int vh_unescape(char *s);

/* strdup that returns NULL for NULL. */
char *vh_strdup0(const char *s);

/* Strip trailing whitespace in place. */
void vh_rstrip(char *s);

#endif
