/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* cpulists <-> bitmaps <-> kernel hex masks, any number of CPUs. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#include "cpuset.h"

static char *list_roundtrip(const char *text)
{
        vh_cpuset s = { 0 };
        vh_error *e = NULL;
        assert_int_equal(vh_cpuset_parse_list(text, &s, &e), 0);
        char *out = vh_cpuset_format_list(&s);
        vh_cpuset_done(&s);
        return out;
}

static void test_list_parse_format(void **state)
{
        (void)state;
        static const char *const cases[][2] = {
                { "0-3,8", "0-3,8" },   { "3,2,1,0", "0-3" }, { "0", "0" },
                { "1-4,^3,6", "1-2,4,6" }, { "0-3\n", "0-3" }, { "", "" },
                { "63-65", "63-65" },   { "8191", "8191" },   { "1,1,1", "1" },
        };
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                char *out = list_roundtrip(cases[i][0]);
                assert_string_equal(out, cases[i][1]);
                free(out);
        }
}

static void test_list_errors(void **state)
{
        (void)state;
        static const char *const bad[] = { "a", "1-", "3-1", "1,", ",1", "1;2", "65536", "-1", "1--2", "^1-2" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                vh_cpuset s = { 0 };
                vh_error *e = NULL;
                assert_true(vh_cpuset_parse_list(bad[i], &s, &e) < 0);
                assert_non_null(e);
                assert_non_null(strstr(e->msg, "cpulist"));
                vh_error_free(e);
                vh_cpuset_done(&s);
        }
}

static void test_mask_beyond_32(void **state)
{
        (void)state;
        vh_cpuset s = { 0 };
        vh_error *e = NULL;
        /* CPUs 0-3 and 32 and 71: three groups, the kernel's zero padding */
        assert_int_equal(vh_cpuset_parse_mask("00000080,00000001,0000000f\n", &s, &e), 0);
        char *l = vh_cpuset_format_list(&s);
        assert_string_equal(l, "0-3,32,71");
        free(l);
        char *m = vh_cpuset_format_mask(&s, 24);
        assert_string_equal(m, "00000080,00000001,0000000f");
        free(m);
        m = vh_cpuset_format_mask(&s, 0);
        assert_string_equal(m, "80,00000001,0000000f");
        free(m);
        assert_int_equal(vh_cpuset_mask_digits("00000080,00000001,0000000f"), 24);
        vh_cpuset_done(&s);
}

static void test_mask_padding_and_equality(void **state)
{
        (void)state;
        vh_cpuset a = { 0 }, b = { 0 }, c = { 0 };
        assert_int_equal(vh_cpuset_parse_mask("f", &a, NULL), 0);
        assert_int_equal(vh_cpuset_parse_mask("0000000f", &b, NULL), 0);
        assert_int_equal(vh_cpuset_parse_mask("00000000,0000000f", &c, NULL), 0);
        assert_true(vh_cpuset_equal(&a, &b));
        assert_true(vh_cpuset_equal(&a, &c));
        char *m = vh_cpuset_format_mask(&a, 1);
        assert_string_equal(m, "f");
        free(m);
        m = vh_cpuset_format_mask(&a, 16);
        assert_string_equal(m, "00000000,0000000f");
        free(m);
        vh_cpuset_subtract(&c, &b);
        assert_true(vh_cpuset_is_empty(&c));
        m = vh_cpuset_format_mask(&c, 1);
        assert_string_equal(m, "0");
        free(m);
        vh_cpuset_done(&a);
        vh_cpuset_done(&b);
        vh_cpuset_done(&c);
}

static void test_mask_many_cpus(void **state)
{
        (void)state;
        /* 8192 CPUs: 256 groups of ffffffff */
        size_t len = 256 * 9;
        char *text = malloc(len);
        assert_non_null(text);
        for (size_t g = 0; g < 256; g++)
                memcpy(text + g * 9, g == 255 ? "ffffffff\0" : "ffffffff,", 9);
        vh_cpuset s = { 0 };
        assert_int_equal(vh_cpuset_parse_mask(text, &s, NULL), 0);
        assert_int_equal(vh_cpuset_count(&s), 8192);
        char *l = vh_cpuset_format_list(&s);
        assert_string_equal(l, "0-8191");
        char *m = vh_cpuset_format_mask(&s, 0);
        assert_string_equal(m, text);
        free(l);
        free(m);
        free(text);
        vh_cpuset_done(&s);
}

static void test_mask_errors(void **state)
{
        (void)state;
        static const char *const bad[] = { "", "g", "123456789", "f,", ",f", "f,,f", "0x3", "f f" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                vh_cpuset s = { 0 };
                vh_error *e = NULL;
                assert_true(vh_cpuset_parse_mask(bad[i], &s, &e) < 0);
                assert_non_null(e);
                vh_error_free(e);
                vh_cpuset_done(&s);
        }
}

/* errors are one line whatever the input holds */
static void test_errors_are_one_line(void **state)
{
        (void)state;
        static const char *const bad[] = { "1\n2x", "1,\r\n\t9z", "\x01\x7f" };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                vh_cpuset s = { 0 };
                vh_error *e = NULL;
                assert_true(vh_cpuset_parse_list(bad[i], &s, &e) < 0);
                assert_null(strpbrk(e->msg, "\n\r\t\x01\x7f"));
                vh_error_free(e);
                e = NULL;
                assert_true(vh_cpuset_parse_mask(bad[i], &s, &e) < 0);
                assert_null(strpbrk(e->msg, "\n\r\t\x01\x7f"));
                vh_error_free(e);
                vh_cpuset_done(&s);
        }
        /* a mask naming a CPU above the limit is bad input, not a lack of memory */
        char big[2048 * 2 + 2];
        for (size_t g = 0; g < 2048; g++)
                memcpy(big + g * 2, "0,", 2);
        memcpy(big + 4096, "1", 2);
        vh_cpuset s = { 0 };
        vh_error *e = NULL;
        memcpy(big, "1,", 2); /* group 2048 (CPU 65536) set */
        assert_int_equal(vh_cpuset_parse_mask(big, &s, &e), -EINVAL);
        tu_assert_contains(e->msg, "CPU 65536 is above 65535");
        vh_error_free(e);
        vh_cpuset_done(&s);
}

static void test_set_ops(void **state)
{
        (void)state;
        vh_cpuset a = { 0 }, b = { 0 }, c = { 0 };
        assert_int_equal(vh_cpuset_parse_list("0-3", &a, NULL), 0);
        assert_int_equal(vh_cpuset_parse_list("2-3,100", &b, NULL), 0);
        assert_true(vh_cpuset_intersects(&a, &b));
        assert_int_equal(vh_cpuset_copy(&c, &a), 0);
        vh_cpuset_subtract(&c, &b);
        char *l = vh_cpuset_format_list(&c);
        assert_string_equal(l, "0-1");
        free(l);
        assert_int_equal(vh_cpuset_union(&c, &b), 0);
        l = vh_cpuset_format_list(&c);
        assert_string_equal(l, "0-3,100");
        free(l);
        vh_cpuset_intersect(&c, &a);
        assert_true(vh_cpuset_equal(&c, &a));
        assert_false(vh_cpuset_test(&c, 100));
        assert_int_equal(vh_cpuset_set(&c, VH_CPUSET_MAX), -ERANGE);
        vh_cpuset_done(&a);
        vh_cpuset_done(&b);
        vh_cpuset_done(&c);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_list_parse_format), cmocka_unit_test(test_list_errors),
                cmocka_unit_test(test_mask_beyond_32),   cmocka_unit_test(test_mask_padding_and_equality),
                cmocka_unit_test(test_mask_many_cpus),   cmocka_unit_test(test_mask_errors),
                cmocka_unit_test(test_set_ops),          cmocka_unit_test(test_errors_are_one_line),
        };
        return cmocka_run_group_tests_name("cpuset", tests, NULL, NULL);
}
