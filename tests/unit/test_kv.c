/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* lib/kv.c: the record codec of the state, the plans and wrapper.conf. */
#include "testutil.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kv.h"

static void test_parse_fields(void **state)
{
        (void)state;
        static const char line[] = "knob wq_cpumask:writeback original=f expected=%31 xbar=1 bar=2";
        vh_kv_record r = { 0 };
        assert_int_equal(vh_kv_parse(line, strlen(line), &r), 0);
        assert_string_equal(r.type, "knob");
        assert_string_equal(r.name, "wq_cpumask:writeback");
        assert_int_equal(r.n, 4);
        assert_string_equal(vh_kv_get(&r, "expected"), "1"); /* unescaped */
        /* a field is found by its whole key: the old wrapper.conf parser found "bar=" inside "xbar=" */
        assert_string_equal(vh_kv_get(&r, "bar"), "2");
        assert_string_equal(vh_kv_get(&r, "xbar"), "1");
        assert_null(vh_kv_get(&r, "ar"));
        uint64_t v;
        assert_int_equal(vh_kv_get_u64(&r, "bar", 10, &v), 0);
        assert_int_equal(v, 2);
        assert_int_equal(vh_kv_get_u64(&r, "bar", 1, &v), -ERANGE);
        assert_int_equal(vh_kv_get_u64(&r, "original", 100, &v), -EINVAL);
        assert_int_equal(vh_kv_get_u64(&r, "nosuch", 100, &v), -ENOENT);
        vh_kv_record_done(&r);
        /* no name: the second word is a field */
        assert_int_equal(vh_kv_parse("vm uuid=u", 9, &r), 0);
        assert_null(r.name);
        assert_string_equal(vh_kv_get(&r, "uuid"), "u");
        vh_kv_record_done(&r);
        /* only `len` bytes count */
        assert_int_equal(vh_kv_parse("msix enabled=1 garbage", 14, &r), 0);
        assert_int_equal(r.n, 1);
        vh_kv_record_done(&r);
}

static void test_parse_rejects(void **state)
{
        (void)state;
        static const char *const bad[] = {
                "",                       /* no type */
                " knob",                  /* empty type */
                "Knob x=1",               /* type not [a-z0-9_] */
                "vm a=1 b",               /* a field without '=' after the name position */
                "vm A=1",                 /* bad key */
                "vm =1",                  /* empty key */
                "vm a=%zz",               /* bad escape */
                "vm a=%00",               /* NUL escape */
                "vm a=1 a=2",             /* a key twice */
                "vm a=b=c",               /* '=' never stands bare in a value */
                "vm a=x\ty",              /* control byte */
                "vm a=x\\y",              /* backslash is always escaped */
                "vm a=\xc3\xa9",          /* non-ASCII is always escaped */
                "vm  a=1",                /* an empty word (two spaces) */
                "knob bad\x01name a=1",   /* the name too */
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                vh_kv_record r = { 0 };
                if (vh_kv_parse(bad[i], strlen(bad[i]), &r) != -EINVAL)
                        fail_msg("accepted: \"%s\"", bad[i]);
                assert_null(r.buf);
        }
        char many[2048] = "vm";
        for (int i = 0; i <= VH_KV_MAX_FIELDS; i++)
                snprintf(many + strlen(many), sizeof(many) - strlen(many), " k%d=1", i);
        vh_kv_record r = { 0 };
        assert_int_equal(vh_kv_parse(many, strlen(many), &r), -EINVAL);
        assert_int_equal(vh_kv_parse("vm a\0b=1", 8, &r), -EINVAL); /* a NUL byte */
}

/* The parser's byte table says what the codec's rules say, for every byte. */
static void test_byte_classes(void **state)
{
        (void)state;
        for (unsigned c = 0; c < 256; c++) {
                bool key = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                bool plain = c > ' ' && c < 0x7f && c != '=' && c != '\\';
                bool end = c == 0 || c == ' ';
                unsigned want = (key ? VH_KV_KEY : 0) | (plain ? VH_KV_PLAIN : 0) | (c == '%' ? VH_KV_PCT : 0) |
                                (end ? VH_KV_END : 0);
                if (vh_kv_class[c] != want)
                        fail_msg("byte 0x%02x: class %u, expected %u", c, vh_kv_class[c], want);
        }
        /* numbers: digits only, no sign or space, overflow refused */
        uint64_t v;
        assert_int_equal(vh_kv_value_u64("18446744073709551615", UINT64_MAX, &v), 0);
        assert_true(v == UINT64_MAX);
        assert_int_equal(vh_kv_value_u64("18446744073709551616", UINT64_MAX, &v), -ERANGE);
        assert_int_equal(vh_kv_value_u64("99999999999999999999", UINT64_MAX, &v), -ERANGE);
        assert_int_equal(vh_kv_value_u64("11", 10, &v), -ERANGE);
        assert_int_equal(vh_kv_value_u64("10", 10, &v), 0);
        assert_int_equal(v, 10);
        assert_int_equal(vh_kv_value_u64("007", 10, &v), 0);
        assert_int_equal(v, 7);
        static const char *const bad[] = { "", " 1", "1 ", "+1", "-1", "1a", "0x1" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                assert_int_equal(vh_kv_value_u64(bad[i], UINT64_MAX, &v), -EINVAL);
        assert_int_equal(vh_kv_value_u64(NULL, UINT64_MAX, &v), -ENOENT);
        assert_int_equal(vh_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
        assert_int_equal(vh_parse_u64("18446744073709551616", UINT64_MAX, &v), -ERANGE);
        assert_int_equal(vh_parse_u64(" 42\n", UINT64_MAX, &v), 0);
        assert_int_equal(v, 42);
}

static void test_roundtrip_any_value(void **state)
{
        (void)state;
        static const char *const values[] = { "", "plain", "a b", "k=v", "100%", "back\\slash", "tab\there",
                                               "new\nline", "\xff\x01", "R&D <x> 'q' \"qq\"" };
        for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
                vh_buf b = { 0 };
                assert_int_equal(vh_buf_puts(&b, "vm"), 0);
                assert_int_equal(vh_kv_put(&b, "name", values[i]), 0);
                assert_int_equal(vh_kv_put_u64(&b, "pid", 4242), 0);
                assert_int_equal(vh_kv_put(&b, "absent", NULL), 0); /* NULL: nothing written */
                vh_kv_record r = { 0 };
                if (vh_kv_parse(b.data, b.len, &r) != 0)
                        fail_msg("not read back: %s", b.data);
                assert_string_equal(vh_kv_get(&r, "name"), values[i]);
                assert_string_equal(vh_kv_get(&r, "pid"), "4242");
                assert_null(vh_kv_get(&r, "absent"));
                char *dup = strdup("old");
                assert_int_equal(vh_kv_dup(&r, "name", &dup), 0);
                assert_string_equal(dup, values[i]);
                assert_int_equal(vh_kv_dup(&r, "absent", &dup), -ENOENT);
                assert_string_equal(dup, values[i]); /* untouched */
                free(dup);
                vh_kv_record_done(&r);
                vh_buf_free(&b);
        }
}

/* vh_kv_pick_line takes what vh_kv_parse_in_place + vh_kv_pick take and gives the same; the rest it leaves. */
static const char *const pick_keys[] = { "uuid", "name", "since", "pid", "x_1", "error" };
#define N_PICK (sizeof(pick_keys) / sizeof(pick_keys[0]))

static bool picks_alike(const char *line, bool *fast)
{
        char *a = strdup(line), *b = strdup(line);
        const char *va[N_PICK], *vb[N_PICK];
        *fast = vh_kv_pick_line(a, "vm", pick_keys, N_PICK, va) == 0;
        vh_kv_record r = { 0 };
        bool general = vh_kv_parse_in_place(b, &r) == 0 && streq(r.type, "vm") && !r.name;
        bool all_known = general;
        for (size_t i = 0; general && i < r.n; i++) {
                bool known = false;
                for (size_t k = 0; k < N_PICK; k++)
                        known = known || streq(r.fields[i].key, pick_keys[k]);
                all_known = all_known && known;
        }
        bool ok = *fast == (general && all_known); /* the writer's lines all take the fast way */
        if (ok && *fast) {
                vh_kv_pick(&r, pick_keys, N_PICK, vb);
                for (size_t k = 0; k < N_PICK; k++)
                        ok = ok && (va[k] == vb[k] || (va[k] && vb[k] && streq(va[k], vb[k])));
        }
        free(a);
        free(b);
        return ok;
}

static void test_pick_line(void **state)
{
        (void)state;
        static const char *const cases[] = {
                "vm uuid=u name=a%20b since=1 pid=2",  /* the writer's order, an escape */
                "vm pid=2 uuid=u",                     /* any order */
                "vm uuid=u name=",                     /* an empty value */
                "vm uuid=u future=1",                  /* a newer field: the general parser */
                "vm uuid=u uuid=v",                    /* twice: damaged */
                "vm n uuid=u",                         /* a name */
                "vm", /* no field (not a registration, but a record) */
                "vmx uuid=u",  "v uuid=u", "vm ", "vm uuid=u ", "vm  uuid=u", "vm uuid=%zz",
                "vm uuid=a=b", "vm uuid=\x01", "vm Uuid=u", "vm =u", "vm uuid", "knob uuid=u",
        };
        bool fast;
        unsigned took = 0;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                if (!picks_alike(cases[i], &fast))
                        fail_msg("pick_line and the general parser disagree on \"%s\"", cases[i]);
                took += fast;
        }
        assert_int_equal(took, 4); /* the first three and "vm" */
        /* mutations of a line as the writer writes it: every byte replaced by bytes the codec treats apart */
        static const char base[] = "vm uuid=0-1 name=n%25x since=12 pid=3 x_1=y error=e";
        static const char subst[] = " =%_aZ9\t\x01\xc3\n";
        char line[sizeof(base)];
        unsigned seed = 12345, n_fast = 0;
        for (unsigned round = 0; round < 20000; round++) {
                memcpy(line, base, sizeof(base));
                for (unsigned m = 0; m < 1 + round % 3; m++) {
                        seed = seed * 1103515245u + 12345u;
                        size_t at = (seed >> 8) % (sizeof(base) - 1);
                        line[at] = subst[(seed >> 20) % (sizeof(subst) - 1)];
                }
                if (!picks_alike(line, &fast))
                        fail_msg("pick_line and the general parser disagree on \"%s\"", line);
                n_fast += fast;
        }
        assert_true(n_fast > 500); /* 847: many mutations keep a well-formed line, and pick_line takes them */
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_fields),
                cmocka_unit_test(test_parse_rejects),
                cmocka_unit_test(test_byte_classes),
                cmocka_unit_test(test_roundtrip_any_value),
                cmocka_unit_test(test_pick_line),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
