/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_virtconf — lib/virtconf.c: libvirt's configuration syntax
 * (libvirtd.conf, qemu.conf), read by `vmhooks audit`.
 *
 * The input is given as an exact-size buffer without a terminator (the
 * parser takes a length), so a read past the end is an ASan report.
 *
 * Invariants, for any text:
 * - parse fails with -EINVAL and a "WHAT: line N: ..." message, leaving
 *   *ret alone; or
 * - every entry has a well-formed name and a line within the text; a list
 *   holds strings and integers only;
 * - the typed lookups agree with the entry types, and the first entry of a
 *   name wins;
 * - written back here in the same syntax (each string quoted with a quote
 *   it does not contain), the text parses to the same entries.
 */
#include "fuzz.h"

#include <errno.h>
#include <inttypes.h>

#include "util.h"
#include "virtconf.h"

static bool name_ok(const char *s)
{
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_'))
                return false;
        for (s++; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
                      *s == '.'))
                        return false;
        return true;
}

/* Write a scalar back; false when the syntax cannot hold it (a string with every kind of quote). */
static bool put_scalar(vh_buf *b, const vh_conf_value *v)
{
        if (v->type == VH_CONF_INT)
                return vh_buf_printf(b, "%" PRId64, v->num) == 0;
        FUZZ_CHECK(v->type == VH_CONF_STRING && v->str, "a scalar that is neither a string nor an integer");
        const char *s = v->str;
        if (!strchr(s, '\n') && !strchr(s, '"'))
                return vh_buf_printf(b, "\"%s\"", s) == 0;
        if (!strchr(s, '\n') && !strchr(s, '\''))
                return vh_buf_printf(b, "'%s'", s) == 0;
        size_t n = strlen(s);
        if (!strstr(s, "\"\"\"") && (n == 0 || s[n - 1] != '"'))
                return vh_buf_printf(b, "\"\"\"%s\"\"\"", s) == 0;
        return false;
}

static bool same_value(const vh_conf_value *a, const vh_conf_value *b)
{
        if (a->type != b->type)
                return false;
        switch (a->type) {
        case VH_CONF_STRING: return strcmp(a->str, b->str) == 0;
        case VH_CONF_INT: return a->num == b->num;
        case VH_CONF_LIST:
                if (a->n != b->n)
                        return false;
                for (size_t i = 0; i < a->n; i++)
                        if (!same_value(&a->items[i], &b->items[i]))
                                return false;
                return true;
        }
        return false;
}

FUZZ_DEFAULT_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_memdup(data, size);
        unsigned lines = 1;
        for (size_t i = 0; i < size; i++)
                lines += data[i] == '\n';

        /* *ret holds something: on failure it must be left as it is, on success it is replaced (and freed) */
        char *mark = strdup("untouched");
        FUZZ_CHECK(mark, "oom");
        vh_conf c = { .what = mark };
        vh_error *e = NULL;
        int r = vh_conf_parse(text, size, "fuzz.conf", &c, &e);
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL, "parse failed with %d (%s); bad input must be -EINVAL", r, vh_error_msg(e));
                FUZZ_CHECK(e && e->msg && strncmp(e->msg, "fuzz.conf: ", 11) == 0, "message without the file: %s",
                           vh_error_msg(e));
                FUZZ_CHECK(c.what == mark && strcmp(mark, "untouched") == 0 && c.n == 0 && !c.entries,
                           "a failed parse touched *ret");
                free(mark);
                vh_error_free(e);
                free(text);
                return 0;
        }
        FUZZ_CHECK(c.n <= VH_CONF_MAX_ITEMS, "%zu entries", c.n);

        vh_buf out = { 0 };
        bool writable = vh_buf_puts(&out, "# written back by fuzz_virtconf\n") == 0;
        for (size_t i = 0; i < c.n; i++) {
                const vh_conf_entry *en = &c.entries[i];
                FUZZ_CHECK(name_ok(en->key), "entry %zu: name \"%s\"", i, en->key);
                FUZZ_CHECK(en->line >= 1 && en->line <= lines, "entry %s: line %u of %u", en->key, en->line, lines);
                const vh_conf_entry *first = vh_conf_get(&c, en->key);
                FUZZ_CHECK(first && first <= en && strcmp(first->key, en->key) == 0, "get(%s) is not the first",
                           en->key);

                const char *s = NULL;
                int64_t num = 0;
                bool bl = false;
                vh_error *te = NULL;
                int rs = vh_conf_get_string(&c, en->key, &s, &te);
                vh_error_free(te), te = NULL;
                int ri = vh_conf_get_int(&c, en->key, &num, &te);
                vh_error_free(te), te = NULL;
                int rb = vh_conf_get_bool(&c, en->key, &bl, &te);
                vh_error_free(te), te = NULL;
                FUZZ_CHECK((rs == 1) == (first->value.type == VH_CONF_STRING) && (rs == 1 || rs == -EINVAL),
                           "get_string(%s) = %d", en->key, rs);
                FUZZ_CHECK((ri == 1) == (first->value.type == VH_CONF_INT) && (ri == 1 || ri == -EINVAL),
                           "get_int(%s) = %d", en->key, ri);
                bool is_bool = first->value.type == VH_CONF_INT && (first->value.num == 0 || first->value.num == 1);
                FUZZ_CHECK((rb == 1) == is_bool && (rb != 1 || bl == (first->value.num == 1)), "get_bool(%s) = %d",
                           en->key, rb);

                writable = writable && vh_buf_printf(&out, "%s = ", en->key) == 0;
                if (en->value.type == VH_CONF_LIST) {
                        writable = writable && vh_buf_puts(&out, "[") == 0;
                        for (size_t k = 0; k < en->value.n; k++) {
                                FUZZ_CHECK(en->value.items[k].type != VH_CONF_LIST, "a list in a list");
                                writable = writable && (k == 0 || vh_buf_puts(&out, ",\n  ") == 0) &&
                                           put_scalar(&out, &en->value.items[k]);
                        }
                        writable = writable && vh_buf_puts(&out, "]") == 0;
                } else {
                        writable = writable && put_scalar(&out, &en->value);
                }
                writable = writable && vh_buf_puts(&out, i % 2 ? ";" : "\n") == 0;
        }
        if (writable) {
                vh_conf back = { 0 };
                vh_error *be = NULL;
                FUZZ_CHECK(vh_conf_parse(out.data, out.len, "back.conf", &back, &be) == 0,
                           "written back, the text is refused (%s):\n%s", vh_error_msg(be), out.data);
                FUZZ_CHECK(back.n == c.n, "%zu entries written back, %zu read", c.n, back.n);
                for (size_t i = 0; i < c.n; i++)
                        FUZZ_CHECK(strcmp(back.entries[i].key, c.entries[i].key) == 0 &&
                                           same_value(&back.entries[i].value, &c.entries[i].value),
                                   "entry %zu (%s) differs when written back:\n%s", i, c.entries[i].key, out.data);
                vh_conf_done(&back);
        }
        vh_buf_free(&out);
        vh_conf_done(&c);
        free(text);
        return 0;
}
