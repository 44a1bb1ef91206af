/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

int vh_parse_u64(const char *s, uint64_t max, uint64_t *ret)
{
        if (!s)
                return -EINVAL;
        while (*s == ' ' || *s == '\t')
                s++;
        if (*s < '0' || *s > '9')
                return -EINVAL;
        uint64_t v = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
                unsigned d = (unsigned)(*s - '0');
                /* no division a digit: UINT64_MAX / 10 and % 10 are constants */
                if (v > UINT64_MAX / 10 || (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
                        return -ERANGE;
                v = v * 10 + d;
        }
        while (*s == ' ' || *s == '\t' || *s == '\n')
                s++;
        if (*s)
                return -EINVAL;
        if (v > max)
                return -ERANGE;
        *ret = v;
        return 0;
}

int vh_buf_reserve(vh_buf *b, size_t extra)
{
        if (extra > SIZE_MAX / 2 - b->len)
                return -ENOMEM;
        size_t need = b->len + extra + 1;
        if (need <= b->cap)
                return 0;
        size_t cap = b->cap ? b->cap : 64;
        while (cap < need)
                cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p)
                return -ENOMEM;
        b->data = p;
        b->cap = cap;
        return 0;
}

int vh_buf_append(vh_buf *b, const char *s, size_t n)
{
        int r = vh_buf_reserve(b, n);
        if (r < 0)
                return r;
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = '\0';
        return 0;
}

int vh_buf_puts(vh_buf *b, const char *s)
{
        return vh_buf_append(b, s, strlen(s));
}

int vh_buf_printf(vh_buf *b, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        int r = vh_buf_reserve(b, (size_t)n);
        if (r < 0)
                return r;
        va_start(ap, fmt);
        n = vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -EINVAL;
        b->len += (size_t)n;
        return 0;
}

static inline bool plain_byte(unsigned char c, bool keep_space)
{
        if (c > 0x20 && c < 0x7f && c != '%' && c != '\\' && c != '=')
                return true;
        return keep_space && (c == ' ' || c == '=');
}

int vh_buf_escape(vh_buf *b, const char *s, bool keep_space)
{
        static const char hex[] = "0123456789ABCDEF";
        const unsigned char *p = (const unsigned char *)s;
        while (*p) {
                const unsigned char *run = p;
                while (*p && plain_byte(*p, keep_space))
                        p++;
                int r = p > run ? vh_buf_append(b, (const char *)run, (size_t)(p - run)) : 0;
                if (r == 0 && *p) {
                        char e[3] = { '%', hex[*p >> 4], hex[*p & 15] };
                        r = vh_buf_append(b, e, 3);
                        p++;
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int vh_buf_put_u64(vh_buf *b, uint64_t v)
{
        char tmp[20];
        char *w = tmp + sizeof(tmp);
        do {
                *--w = (char)('0' + v % 10);
                v /= 10;
        } while (v);
        return vh_buf_append(b, w, (size_t)(tmp + sizeof(tmp) - w));
}

int vh_hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int vh_unescape(char *s)
{
        s = strchr(s, '%');
        if (!s)
                return 0; /* nothing escaped: the common case */
        char *w = s;
        for (char *r = s; *r; r++) {
                if (*r != '%') {
                        *w++ = *r;
                        continue;
                }
                int hi = vh_hexval(r[1]);
                int lo = hi < 0 ? -1 : vh_hexval(r[2]);
                if (lo < 0 || (hi == 0 && lo == 0))
                        return -EINVAL;
                *w++ = (char)(hi << 4 | lo);
                r += 2;
        }
        *w = '\0';
        return 0;
}

char *vh_strdup0(const char *s)
{
        return s ? strdup(s) : NULL;
}

void vh_rstrip(char *s)
{
        size_t n = strlen(s);
        while (n > 0 && isspace((unsigned char)s[n - 1]))
                s[--n] = '\0';
}
