/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void vh_kv_record_done(vh_kv_record *r)
{
        free(r->buf);
        memset(r, 0, sizeof(*r));
}

bool vh_kv_key_valid(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
                        return false;
        }
        return true;
}

/* What vh_buf_escape leaves unescaped: printable ASCII but space, '=', '\\' (and '%' starts an escape). */
static bool escaped_word(const char *s)
{
        for (; *s; s++)
                if (*s <= 0x20 || *s >= 0x7f || *s == '=' || *s == '\\')
                        return false;
        return true;
}

int vh_kv_parse(const char *line, size_t len, vh_kv_record *ret)
{
        if (memchr(line, '\0', len))
                return -EINVAL;
        vh_kv_record r = { 0 };
        r.buf = malloc(len + 1);
        if (!r.buf)
                return -ENOMEM;
        memcpy(r.buf, line, len);
        r.buf[len] = '\0';
        int rc = 0;
        size_t word = 0;
        for (char *tok = r.buf, *next; rc == 0 && tok; tok = next, word++) {
                next = strchr(tok, ' ');
                if (next)
                        *next++ = '\0';
                char *eq = strchr(tok, '=');
                if (word == 0) {
                        /* the type: a bare word */
                        if (eq || !vh_kv_key_valid(tok, strlen(tok)))
                                rc = -EINVAL;
                        r.type = tok;
                        continue;
                }
                if (word == 1 && !eq) {
                        /* the record's name: any escaped word */
                        if (!*tok || !escaped_word(tok) || vh_unescape(tok) < 0)
                                rc = -EINVAL;
                        r.name = tok;
                        continue;
                }
                if (!eq || r.n == VH_KV_MAX_FIELDS || !vh_kv_key_valid(tok, (size_t)(eq - tok))) {
                        rc = -EINVAL;
                        continue;
                }
                *eq = '\0';
                if (!escaped_word(eq + 1) || vh_unescape(eq + 1) < 0 || vh_kv_get(&r, tok)) {
                        rc = -EINVAL;
                        continue;
                }
                r.fields[r.n++] = (vh_kv_field){ tok, eq + 1 };
        }
        if (rc < 0) {
                vh_kv_record_done(&r);
                return rc;
        }
        *ret = r;
        return 0;
}

const char *vh_kv_get(const vh_kv_record *r, const char *key)
{
        for (size_t i = 0; i < r->n; i++)
                if (streq(r->fields[i].key, key))
                        return r->fields[i].value;
        return NULL;
}

int vh_kv_get_u64(const vh_kv_record *r, const char *key, uint64_t max, uint64_t *ret)
{
        const char *v = vh_kv_get(r, key);
        if (!v)
                return -ENOENT;
        /* vh_parse_u64 allows surrounding whitespace (sysfs); a field never has any */
        if (!*v || v[strspn(v, "0123456789")] != '\0')
                return -EINVAL;
        return vh_parse_u64(v, max, ret);
}

int vh_kv_dup(const vh_kv_record *r, const char *key, char **dst)
{
        const char *v = vh_kv_get(r, key);
        if (!v)
                return -ENOENT;
        char *n = strdup(v);
        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

int vh_kv_put(vh_buf *b, const char *key, const char *value)
{
        if (!value)
                return 0;
        int r = vh_buf_puts(b, " ");
        if (r == 0)
                r = vh_buf_puts(b, key);
        if (r == 0)
                r = vh_buf_puts(b, "=");
        return r < 0 ? r : vh_buf_escape(b, value, false);
}

int vh_kv_put_u64(vh_buf *b, const char *key, uint64_t value)
{
        int r = vh_buf_puts(b, " ");
        if (r == 0)
                r = vh_buf_puts(b, key);
        if (r == 0)
                r = vh_buf_puts(b, "=");
        return r < 0 ? r : vh_buf_put_u64(b, value);
}
