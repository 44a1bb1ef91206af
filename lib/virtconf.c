/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "virtconf.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "util.h"

typedef struct parser {
        const char *p, *end;
        unsigned line;
        const char *what;
} parser;

static void value_done(vh_conf_value *v)
{
        free(v->str);
        for (size_t i = 0; i < v->n; i++)
                value_done(&v->items[i]);
        free(v->items);
        memset(v, 0, sizeof(*v));
}

void vh_conf_done(vh_conf *c)
{
        for (size_t i = 0; i < c->n; i++) {
                free(c->entries[i].key);
                value_done(&c->entries[i].value);
        }
        free(c->entries);
        free(c->what);
        memset(c, 0, sizeof(*c));
}

__attribute__((format(printf, 3, 4))) static int syntax(const parser *ps, vh_error **err, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        _cleanup_free_ char *m = NULL;
        if (vasprintf(&m, fmt, ap) < 0)
                m = NULL;
        va_end(ap);
        return vh_fail_input(err, "%s: line %u: %s", ps->what, ps->line, m ? m : "syntax error");
}

static bool at_end(const parser *ps)
{
        return ps->p >= ps->end;
}

/* Skip blanks and a comment; newlines only when `newlines`. */
static void skip(parser *ps, bool newlines)
{
        while (!at_end(ps)) {
                char c = *ps->p;
                if (c == ' ' || c == '\t' || c == '\r') {
                        ps->p++;
                } else if (c == '#') {
                        while (!at_end(ps) && *ps->p != '\n')
                                ps->p++;
                } else if (c == '\n' && newlines) {
                        ps->line++;
                        ps->p++;
                } else {
                        break;
                }
        }
}

static bool name_start(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool name_char(char c)
{
        return name_start(c) || (c >= '0' && c <= '9') || c == '.';
}

static int parse_string(parser *ps, vh_conf_value *v, vh_error **err)
{
        char q = *ps->p;
        const char *start;
        size_t len;
        unsigned first = ps->line;
        if (q == '"' && ps->end - ps->p >= 3 && strncmp(ps->p, "\"\"\"", 3) == 0) {
                ps->p += 3;
                start = ps->p;
                while (!at_end(ps) && !(ps->end - ps->p >= 3 && strncmp(ps->p, "\"\"\"", 3) == 0)) {
                        if (*ps->p == '\n')
                                ps->line++;
                        ps->p++;
                }
                if (at_end(ps)) {
                        ps->line = first;
                        return syntax(ps, err, "unterminated \"\"\" string");
                }
                len = (size_t)(ps->p - start);
                ps->p += 3;
        } else {
                ps->p++;
                start = ps->p;
                while (!at_end(ps) && *ps->p != q && *ps->p != '\n')
                        ps->p++;
                if (at_end(ps) || *ps->p != q)
                        return syntax(ps, err, "unterminated string (a %c string ends on its line)", q);
                len = (size_t)(ps->p - start);
                ps->p++;
        }
        if (memchr(start, '\0', len))
                return syntax(ps, err, "NUL byte in a string");
        v->type = VH_CONF_STRING;
        v->str = strndup(start, len);
        return v->str ? 0 : vh_fail(err, ENOMEM, "%s", ps->what);
}

static int parse_number(parser *ps, vh_conf_value *v, vh_error **err)
{
        bool neg = false;
        if (*ps->p == '-' || *ps->p == '+') {
                neg = *ps->p == '-';
                ps->p++;
        }
        const char *start = ps->p;
        while (!at_end(ps) && *ps->p >= '0' && *ps->p <= '9')
                ps->p++;
        size_t n = (size_t)(ps->p - start);
        char digits[24];
        uint64_t x;
        if (n == 0 || n >= sizeof(digits))
                return syntax(ps, err, "expected a number");
        memcpy(digits, start, n);
        digits[n] = '\0';
        if (vh_parse_u64(digits, neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX, &x) < 0)
                return syntax(ps, err, "number %s%s out of range", neg ? "-" : "", digits);
        v->type = VH_CONF_INT;
        v->num = neg ? (int64_t)(0 - x) : (int64_t)x;
        return 0;
}

static int parse_scalar(parser *ps, vh_conf_value *v, vh_error **err)
{
        if (at_end(ps))
                return syntax(ps, err, "expected a value");
        char c = *ps->p;
        if (c == '"' || c == '\'')
                return parse_string(ps, v, err);
        if (c == '-' || c == '+' || (c >= '0' && c <= '9'))
                return parse_number(ps, v, err);
        if (c == '[')
                return syntax(ps, err, "a list inside a list is not allowed");
        return syntax(ps, err, "expected a value (\"string\", number or [ list ]), found '%c'", c);
}

static int parse_list(parser *ps, vh_conf_value *v, vh_error **err)
{
        unsigned first = ps->line;
        ps->p++; /* '[' */
        v->type = VH_CONF_LIST;
        for (;;) {
                skip(ps, true);
                if (at_end(ps)) {
                        ps->line = first;
                        return syntax(ps, err, "unterminated list: expected ']'");
                }
                if (*ps->p == ']') {
                        ps->p++;
                        return 0;
                }
                if (v->n > 0) {
                        if (*ps->p != ',')
                                return syntax(ps, err, "expected ',' or ']' in a list");
                        ps->p++;
                        skip(ps, true);
                        if (!at_end(ps) && *ps->p == ']') { /* a trailing comma, as libvirt allows */
                                ps->p++;
                                return 0;
                        }
                }
                if (v->n >= VH_CONF_MAX_ITEMS)
                        return syntax(ps, err, "more than %u items in a list", VH_CONF_MAX_ITEMS);
                vh_conf_value *items = realloc(v->items, (v->n + 1) * sizeof(*items));
                if (!items)
                        return vh_fail(err, ENOMEM, "%s", ps->what);
                v->items = items;
                memset(&items[v->n], 0, sizeof(*items));
                v->n++;
                int r = parse_scalar(ps, &items[v->n - 1], err);
                if (r < 0)
                        return r;
        }
}

static int parse_entry(parser *ps, vh_conf *c, vh_error **err)
{
        const char *start = ps->p;
        if (!name_start(*ps->p))
                return syntax(ps, err, "expected a setting name, found '%c'", *ps->p);
        while (!at_end(ps) && name_char(*ps->p))
                ps->p++;
        size_t name_len = (size_t)(ps->p - start);
        vh_conf_entry e = { .line = ps->line };
        skip(ps, false);
        if (at_end(ps) || *ps->p != '=')
                return syntax(ps, err, "expected '=' after %.*s", (int)name_len, start);
        ps->p++;
        skip(ps, false);
        int r;
        if (!(e.key = strndup(start, name_len)))
                return vh_fail(err, ENOMEM, "%s", ps->what);
        if (!at_end(ps) && *ps->p == '[')
                r = parse_list(ps, &e.value, err);
        else
                r = parse_scalar(ps, &e.value, err);
        if (r == 0) {
                skip(ps, false);
                if (!at_end(ps) && *ps->p != '\n' && *ps->p != ';')
                        r = syntax(ps, err, "unexpected '%c' after the value of %s", *ps->p, e.key);
        }
        if (r == 0 && c->n >= VH_CONF_MAX_ITEMS)
                r = syntax(ps, err, "more than %u settings", VH_CONF_MAX_ITEMS);
        vh_conf_entry *es = r == 0 ? realloc(c->entries, (c->n + 1) * sizeof(*es)) : NULL;
        if (r == 0 && !es)
                r = vh_fail(err, ENOMEM, "%s", ps->what);
        if (r < 0) {
                free(e.key);
                value_done(&e.value);
                return r;
        }
        c->entries = es;
        c->entries[c->n++] = e;
        return 0;
}

int vh_conf_parse(const char *text, size_t len, const char *what, vh_conf *ret, vh_error **err)
{
        _cleanup_conf_ vh_conf c = { 0 };
        if (len > VH_CONF_MAX_BYTES)
                return vh_fail_input(err, "%s: more than %u bytes", what, VH_CONF_MAX_BYTES);
        if (memchr(text, '\0', len))
                return vh_fail_input(err, "%s: contains a NUL byte", what);
        if (!(c.what = strdup(what)))
                return vh_fail(err, ENOMEM, "%s", what);
        parser ps = { text, text + len, 1, what };
        for (;;) {
                skip(&ps, false);
                if (at_end(&ps))
                        break;
                if (*ps.p == '\n' || *ps.p == ';') {
                        if (*ps.p == '\n')
                                ps.line++;
                        ps.p++;
                        continue;
                }
                int r = parse_entry(&ps, &c, err);
                if (r < 0)
                        return r;
        }
        vh_conf_done(ret);
        *ret = c;
        memset(&c, 0, sizeof(c));
        return 0;
}

int vh_conf_load(const char *path, vh_conf *ret, vh_error **err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_read_file(path, VH_CONF_MAX_BYTES, &text, &len, &e);
        if (r < 0) {
                if (err && !*err)
                        *err = TAKE_PTR(e);
                return r;
        }
        return vh_conf_parse(text, len, path, ret, err);
}

const vh_conf_entry *vh_conf_get(const vh_conf *c, const char *key)
{
        for (size_t i = 0; c && i < c->n; i++)
                if (streq(c->entries[i].key, key))
                        return &c->entries[i];
        return NULL;
}

static int wrong_type(const vh_conf *c, const vh_conf_entry *e, const char *expected, vh_error **err)
{
        return vh_fail_input(err, "%s: line %u: %s: expected %s", c->what, e->line, e->key, expected);
}

int vh_conf_get_string(const vh_conf *c, const char *key, const char **ret, vh_error **err)
{
        const vh_conf_entry *e = vh_conf_get(c, key);
        if (!e)
                return 0;
        if (e->value.type != VH_CONF_STRING)
                return wrong_type(c, e, "a \"string\"", err);
        *ret = e->value.str;
        return 1;
}

int vh_conf_get_int(const vh_conf *c, const char *key, int64_t *ret, vh_error **err)
{
        const vh_conf_entry *e = vh_conf_get(c, key);
        if (!e)
                return 0;
        if (e->value.type != VH_CONF_INT)
                return wrong_type(c, e, "a number", err);
        *ret = e->value.num;
        return 1;
}

int vh_conf_get_bool(const vh_conf *c, const char *key, bool *ret, vh_error **err)
{
        const vh_conf_entry *e = vh_conf_get(c, key);
        if (!e)
                return 0;
        if (e->value.type != VH_CONF_INT || (e->value.num != 0 && e->value.num != 1))
                return wrong_type(c, e, "0 or 1", err);
        *ret = e->value.num == 1;
        return 1;
}
