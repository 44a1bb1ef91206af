/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "kv.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

void vh_kv_record_done(vh_kv_record *r)
{
        free(r->buf);
        memset(r, 0, sizeof(*r));
}

/*
 * The class of every byte, looked up once a byte by the parser (a state
 * table of 1000 VMs is 118 KB a call): a key byte is [a-z0-9_]; a plain
 * one is what vh_buf_escape leaves as it is (printable ASCII but space,
 * '=' and '\\'; '%' starts an escape); NUL and space end a token.
 * Ranges (a GNU C extension gcc and clang share) that never overlap.
 */
const unsigned char vh_kv_class[256] = {
        [0] = VH_KV_END, [' '] = VH_KV_END,
        ['!' ... '$'] = VH_KV_PLAIN, ['%'] = VH_KV_PLAIN | VH_KV_PCT, ['&' ... '/'] = VH_KV_PLAIN,
        ['0' ... '9'] = VH_KV_PLAIN | VH_KV_KEY, [':' ... '<'] = VH_KV_PLAIN, ['>' ... '['] = VH_KV_PLAIN,
        [']' ... '^'] = VH_KV_PLAIN, ['_'] = VH_KV_PLAIN | VH_KV_KEY, ['`'] = VH_KV_PLAIN,
        ['a' ... 'z'] = VH_KV_PLAIN | VH_KV_KEY, ['{' ... '~'] = VH_KV_PLAIN,
};

static inline bool key_char(char c)
{
        return vh_kv_class[(unsigned char)c] & VH_KV_KEY;
}

bool vh_kv_key_valid(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!key_char(s[i]))
                        return false;
        return true;
}

/* Is fields[0..n) free of a key of `len` bytes equal to `key`?  (The value follows its key's '='.) */
static bool key_new(const vh_kv_field *f, size_t n, const char *key, size_t len)
{
        for (size_t i = 0; i < n; i++)
                if ((size_t)(f[i].value - f[i].key) == len + 1 && memcmp(f[i].key, key, len) == 0)
                        return false;
        return true;
}

/*
 * One pass over the line (a state table of 1000 VMs is 1000 of them a
 * call): each token is scanned once for its key, its end and whether its
 * value is an escaped word, i.e. what vh_buf_escape leaves unescaped
 * (printable ASCII but space, '=', '\\'; '%' starts an escape).
 */
int vh_kv_parse(const char *line, size_t len, vh_kv_record *ret)
{
        if (memchr(line, '\0', len))
                return -EINVAL;
        _cleanup_free_ char *buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        memcpy(buf, line, len);
        buf[len] = '\0';
        int r = vh_kv_parse_in_place(buf, ret);
        if (r == 0)
                ret->buf = TAKE_PTR(buf);
        return r;
}

int vh_kv_parse_in_place(char *line, vh_kv_record *ret)
{
        /* straight into *ret: the fields array is written as far as it is used, never copied */
        vh_kv_record *r = ret;
        r->buf = NULL;
        r->type = r->name = NULL;
        r->n = 0;
        int rc = 0;
        size_t word = 0;
        for (char *tok = line, *next; rc == 0 && tok; tok = next, word++) {
                char *p = tok;
                while (key_char(*p))
                        p++;
                size_t key_len = (size_t)(p - tok);
                bool field = key_len > 0 && *p == '=';
                char *value = field ? p + 1 : tok;
                unsigned all = VH_KV_PLAIN, any = 0, c;
                const unsigned char *q = (const unsigned char *)value;
                while (!((c = vh_kv_class[*q]) & VH_KV_END)) {
                        all &= c;
                        any |= c;
                        q++;
                }
                p = (char *)q;
                bool plain = all & VH_KV_PLAIN, escapes = any & VH_KV_PCT;
                next = *p ? p + 1 : NULL;
                *p = '\0';
                if (word == 0) {
                        /* the type: a bare word */
                        if (field || key_len == 0 || tok[key_len] != '\0')
                                rc = -EINVAL;
                        r->type = tok;
                        continue;
                }
                if (!plain || (escapes && vh_unescape(value) < 0)) {
                        rc = -EINVAL;
                        continue;
                }
                if (word == 1 && !field) {
                        /* the record's name: any escaped word */
                        if (!*tok)
                                rc = -EINVAL;
                        r->name = tok;
                        continue;
                }
                if (!field || r->n == VH_KV_MAX_FIELDS || !key_new(r->fields, r->n, tok, key_len)) {
                        rc = -EINVAL;
                        continue;
                }
                tok[key_len] = '\0';
                r->fields[r->n++] = (vh_kv_field){ tok, value };
        }
        if (rc < 0) {
                r->type = r->name = NULL;
                r->n = 0;
        }
        return rc;
}

const char *vh_kv_get(const vh_kv_record *r, const char *key)
{
        for (size_t i = 0; i < r->n; i++)
                if (streq(r->fields[i].key, key))
                        return r->fields[i].value;
        return NULL;
}

void vh_kv_pick(const vh_kv_record *r, const char *const *keys, size_t n, const char **vals)
{
        for (size_t i = 0; i < n; i++)
                vals[i] = NULL;
        /* the search for a field's key starts after the last key found: a line
           written in the order of `keys` costs one comparison a field */
        size_t at = 0;
        for (size_t i = 0; i < r->n && n > 0; i++)
                for (size_t tried = 0; tried < n; tried++, at = (at + 1) % n)
                        if (streq(r->fields[i].key, keys[at])) {
                                vals[at] = r->fields[i].value;
                                at = (at + 1) % n;
                                break;
                        }
}

int vh_kv_pick_line(char *line, const char *type, const char *const *keys, size_t n, const char **vals)
{
        size_t type_len = strlen(type);
        if (n > 32 || strncmp(line, type, type_len) != 0 || (line[type_len] != ' ' && line[type_len] != '\0'))
                return -EAGAIN;
        for (size_t i = 0; i < n; i++)
                vals[i] = NULL;
        if (line[type_len] == '\0')
                return 0; /* no field */
        uint32_t seen = 0;
        size_t at = 0; /* where the search for the next key starts: one comparison a field in the writer's order */
        for (char *tok = line + type_len + 1;;) {
                char *p = tok;
                while (key_char(*p))
                        p++;
                size_t key_len = (size_t)(p - tok);
                if (key_len == 0 || *p != '=')
                        return -EAGAIN;
                size_t k = n;
                for (size_t tried = 0; tried < n; tried++, at = at + 1 == n ? 0 : at + 1)
                        /* strncmp: it stops at the end of a key shorter than key_len */
                        if (keys[at][0] == tok[0] && strncmp(keys[at], tok, key_len) == 0 && keys[at][key_len] == '\0') {
                                k = at;
                                at = at + 1 == n ? 0 : at + 1;
                                break;
                        }
                if (k == n || (seen & (1u << k)))
                        return -EAGAIN;
                /* the value: what vh_kv_parse_in_place accepts, one table look-up a byte */
                char *value = p + 1;
                bool escapes = false;
                unsigned char *q = (unsigned char *)value;
                for (;; q++) {
                        unsigned c = vh_kv_class[*q];
                        if ((c & (VH_KV_PLAIN | VH_KV_PCT)) == VH_KV_PLAIN)
                                continue;
                        if (c & VH_KV_PCT)
                                escapes = true;
                        else
                                break;
                }
                if (!(vh_kv_class[*q] & VH_KV_END))
                        return -EAGAIN; /* a byte the escaping never leaves as it is */
                bool last = *q == '\0';
                *q = '\0';
                if (escapes && vh_unescape(value) < 0)
                        return -EAGAIN;
                seen |= 1u << k;
                vals[k] = value;
                if (last)
                        return 0;
                tok = (char *)q + 1;
        }
}

int vh_kv_get_u64(const vh_kv_record *r, const char *key, uint64_t max, uint64_t *ret)
{
        return vh_kv_value_u64(vh_kv_get(r, key), max, ret);
}

int vh_kv_value_u64(const char *v, uint64_t max, uint64_t *ret)
{
        if (!v)
                return -ENOENT;
        /* digits only: unlike vh_parse_u64 (sysfs), a field never has whitespace around it */
        if (!*v)
                return -EINVAL;
        uint64_t x = 0;
        for (size_t i = 0; v[i]; i++) {
                unsigned d = (unsigned)(unsigned char)v[i] - '0';
                if (d > 9)
                        return -EINVAL;
                /* 19 digits cannot overflow: the check only from the 20th on */
                if (i >= 19 && (x > UINT64_MAX / 10 || (x == UINT64_MAX / 10 && d > UINT64_MAX % 10)))
                        return -ERANGE;
                x = x * 10 + d;
        }
        if (x > max)
                return -ERANGE;
        *ret = x;
        return 0;
}

int vh_kv_dup(const vh_kv_record *r, const char *key, char **dst)
{
        return vh_kv_value_dup(vh_kv_get(r, key), dst);
}

int vh_kv_value_dup(const char *v, char **dst)
{
        if (!v)
                return -ENOENT;
        char *n = strdup(v);
        if (!n)
                return -ENOMEM;
        free(*dst);
        *dst = n;
        return 0;
}

/* " key=" in one append: a state line is mostly these */
static int put_key(vh_buf *b, const char *key)
{
        size_t n = strlen(key);
        int r = vh_buf_reserve(b, n + 2);
        if (r < 0)
                return r;
        b->data[b->len++] = ' ';
        memcpy(b->data + b->len, key, n);
        b->len += n;
        b->data[b->len++] = '=';
        b->data[b->len] = '\0';
        return 0;
}

int vh_kv_put(vh_buf *b, const char *key, const char *value)
{
        if (!value)
                return 0;
        int r = put_key(b, key);
        return r < 0 ? r : vh_buf_escape(b, value, false);
}

int vh_kv_put_u64(vh_buf *b, const char *key, uint64_t value)
{
        int r = put_key(b, key);
        return r < 0 ? r : vh_buf_put_u64(b, value);
}
