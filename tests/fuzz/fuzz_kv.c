/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_kv — lib/kv.c, the one codec of the state, the plans and
 * wrapper.conf.  Invariants, for any line:
 * - a parse that succeeds re-formats (type, name, every field through
 *   vh_kv_put) into a line that parses to the same record, and that line
 *   is a fixed point;
 * - every field is found by its whole key: vh_kv_get(k) returns the value
 *   of field k and of no other (no "bar=" inside "xbar=");
 * - the input split as "TYPE k=V" with any bytes in V formats and parses
 *   back to V exactly (escaping is total);
 * - no leak, no overflow (ASan, LSan, UBSan).
 */
#include "fuzz.h"

#include <errno.h>

#include "kv.h"

static char *reformat(const vh_kv_record *r)
{
        vh_buf b = { 0 };
        FUZZ_CHECK(vh_buf_puts(&b, r->type) == 0, "out of memory");
        if (r->name) {
                FUZZ_CHECK(vh_buf_puts(&b, " ") == 0 && vh_buf_escape(&b, r->name, false) == 0, "out of memory");
        }
        for (size_t i = 0; i < r->n; i++)
                FUZZ_CHECK(vh_kv_put(&b, r->fields[i].key, r->fields[i].value) == 0, "out of memory");
        return b.data;
}

static void same(const vh_kv_record *a, const vh_kv_record *b, const char *line)
{
        FUZZ_CHECK(fuzz_streq0(a->type, b->type) && fuzz_streq0(a->name, b->name) && a->n == b->n,
                   "record changed through a re-format: %s", line);
        for (size_t i = 0; i < a->n; i++) {
                FUZZ_CHECK(fuzz_streq0(a->fields[i].key, b->fields[i].key) &&
                                   fuzz_streq0(a->fields[i].value, b->fields[i].value),
                           "field %zu changed through a re-format: %s", i, line);
                /* found by its whole key, and only that */
                FUZZ_CHECK(vh_kv_get(a, a->fields[i].key) == a->fields[i].value, "get(%s) found another field",
                           a->fields[i].key);
        }
}

FUZZ_DEFAULT_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        vh_kv_record a = { 0 };
        int r = vh_kv_parse((const char *)data, size, &a);
        FUZZ_CHECK(r == 0 || r == -EINVAL, "parse returned %d", r);
        if (r == 0) {
                char *line = reformat(&a);
                vh_kv_record b = { 0 };
                FUZZ_CHECK(vh_kv_parse(line, strlen(line), &b) == 0, "a formatted record is not read back: %s", line);
                same(&a, &b, line);
                char *again = reformat(&b);
                FUZZ_CHECK(strcmp(line, again) == 0, "format is not a fixed point: %s | %s", line, again);
                free(again);
                vh_kv_record_done(&b);
                free(line);
                vh_kv_record_done(&a);
        }
        /* escaping is total: any bytes (but NUL) as a value come back as they were */
        char *value = fuzz_strndup(data, size);
        vh_buf b = { 0 };
        FUZZ_CHECK(vh_buf_puts(&b, "t") == 0 && vh_kv_put(&b, "k", value) == 0 && vh_kv_put(&b, "k2", "x") == 0,
                   "out of memory");
        vh_kv_record c = { 0 };
        FUZZ_CHECK(vh_kv_parse(b.data, b.len, &c) == 0, "an escaped value is not read back: %s", b.data);
        FUZZ_CHECK(fuzz_streq0(vh_kv_get(&c, "k"), value), "value \"%s\" came back as \"%s\"", value,
                   vh_kv_get(&c, "k"));
        FUZZ_CHECK(fuzz_streq0(vh_kv_get(&c, "k2"), "x"), "the next field was swallowed");
        vh_kv_record_done(&c);
        vh_buf_free(&b);
        free(value);
        return 0;
}
