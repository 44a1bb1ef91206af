/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vh_udiff, the unified line diff of `vmhooks diff` and `apply`, against
 * two oracles that share nothing with it: a small patch program (the diff
 * applied to the old text must give the new one, hunk counts included)
 * and the textbook O(nm) LCS table (the diff must be minimal: deletions +
 * insertions = n + m - 2 LCS).  Plus the exact format of GNU diff -u.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "patch.h"
#include "util.h"

typedef struct lines {
        char **v;       /* each with its "\n" when it had one */
        size_t n;
} lines;

static lines split(const char *t)
{
        lines l = { 0 };
        for (const char *p = t; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
                l.v = realloc(l.v, (l.n + 1) * sizeof(char *));
                assert_non_null(l.v);
                l.v[l.n++] = strndup(p, len);
                p += len;
        }
        return l;
}

static void lines_free(lines *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
}

static size_t lcs(const lines *a, const lines *b)
{
        size_t *t = calloc((a->n + 1) * (b->n + 1), sizeof(size_t));
        assert_non_null(t);
#define T(i, j) t[(i) * (b->n + 1) + (j)]
        for (size_t i = a->n; i-- > 0;)
                for (size_t j = b->n; j-- > 0;)
                        T(i, j) = strcmp(a->v[i], b->v[j]) == 0 ? T(i + 1, j + 1) + 1
                                                                 : (T(i + 1, j) > T(i, j + 1) ? T(i + 1, j) : T(i, j + 1));
        size_t r = T(0, 0);
#undef T
        free(t);
        return r;
}

/* Apply a unified diff to `a`; the result, and the number of - and + lines. */
static char *apply(const char *a, const char *diff, size_t *ret_edits)
{
        lines al = split(a), dl = split(diff);
        vh_buf out = { 0 };
        assert_int_equal(vh_buf_puts(&out, ""), 0);
        size_t ai = 0, edits = 0, d = 0;
        if (dl.n) {
                assert_true(strncmp(dl.v[0], "--- ", 4) == 0);
                assert_true(strncmp(dl.v[1], "+++ ", 4) == 0);
                d = 2;
        }
        while (d < dl.n) {
                unsigned long as, ac = 1, bs, bc = 1;
                const char *h = dl.v[d++];
                if (sscanf(h, "@@ -%lu,%lu +%lu,%lu @@", &as, &ac, &bs, &bc) != 4) {
                        ac = 1, bc = 1;
                        if (sscanf(h, "@@ -%lu +%lu,%lu @@", &as, &bs, &bc) != 3 &&
                            sscanf(h, "@@ -%lu,%lu +%lu @@", &as, &ac, &bs) != 3 &&
                            sscanf(h, "@@ -%lu +%lu @@", &as, &bs) != 2)
                                fail_msg("bad hunk header: %s", h);
                }
                size_t start = ac ? as - 1 : as; /* lines before the hunk */
                assert_true(start >= ai);
                while (ai < start)
                        assert_int_equal(vh_buf_puts(&out, al.v[ai++]), 0);
                unsigned long seen_a = 0, seen_b = 0;
                while (d < dl.n && dl.v[d][0] != '@') {
                        char tag = dl.v[d][0];
                        char *text = strdup(dl.v[d] + 1);
                        d++;
                        if (d < dl.n && strcmp(dl.v[d], "\\ No newline at end of file\n") == 0) {
                                text[strlen(text) - 1] = '\0';
                                d++;
                        }
                        if (tag == ' ' || tag == '-') {
                                assert_true(ai < al.n);
                                assert_string_equal(al.v[ai], text);
                                ai++;
                                seen_a++;
                        }
                        if (tag == ' ' || tag == '+') {
                                assert_int_equal(vh_buf_puts(&out, text), 0);
                                seen_b++;
                        }
                        if (tag == '-' || tag == '+')
                                edits++;
                        else
                                assert_int_equal(tag, ' ');
                        free(text);
                }
                assert_int_equal(seen_a, ac);
                assert_int_equal(seen_b, bc);
        }
        while (ai < al.n)
                assert_int_equal(vh_buf_puts(&out, al.v[ai++]), 0);
        lines_free(&al);
        lines_free(&dl);
        *ret_edits = edits;
        return out.data;
}

static char *diff(const char *a, const char *b)
{
        char *d = NULL;
        vh_error *e = NULL;
        if (vh_udiff(a, b, "A", "B", 3, &d, &e) < 0)
                fail_msg("vh_udiff: %s", vh_error_msg(e));
        return d;
}

static void check_pair(const char *a, const char *b, bool minimal)
{
        char *d = diff(a, b);
        size_t edits = 0;
        char *got = apply(a, d, &edits);
        if (strcmp(got, b) != 0)
                fail_msg("patching A with the diff does not give B\nA:\n%s\nB:\n%s\ndiff:\n%s\ngot:\n%s", a, b, d, got);
        if (strcmp(a, b) == 0)
                assert_string_equal(d, "");
        if (minimal) {
                lines al = split(a), bl = split(b);
                size_t want = al.n + bl.n - 2 * lcs(&al, &bl);
                if (edits != want)
                        fail_msg("%zu edits, a shortest script has %zu\nA:\n%s\nB:\n%s\ndiff:\n%s", edits, want, a, b, d);
                lines_free(&al);
                lines_free(&bl);
        }
        free(got);
        free(d);
}

static void test_gnu_format(void **state)
{
        (void)state;
        char *d = diff("a\nb\nc\n", "a\nB\nc\n");
        assert_string_equal(d, "--- A\n+++ B\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n");
        free(d);
        d = diff("", "x\n");
        assert_string_equal(d, "--- A\n+++ B\n@@ -0,0 +1 @@\n+x\n");
        free(d);
        d = diff("x\n", "");
        assert_string_equal(d, "--- A\n+++ B\n@@ -1 +0,0 @@\n-x\n");
        free(d);
        d = diff("x\ny", "x\ny\n");
        assert_string_equal(d, "--- A\n+++ B\n@@ -1,2 +1,2 @@\n x\n-y\n\\ No newline at end of file\n+y\n");
        free(d);
        d = diff("same\n", "same\n");
        assert_string_equal(d, "");
        free(d);
}

static char *numbered(unsigned n, unsigned change1, unsigned change2)
{
        vh_buf b = { 0 };
        assert_int_equal(vh_buf_puts(&b, ""), 0);
        for (unsigned i = 1; i <= n; i++)
                assert_int_equal(vh_buf_printf(&b, i == change1 || i == change2 ? "line %u changed\n" : "line %u\n", i), 0);
        return b.data;
}

static unsigned hunks(const char *d)
{
        unsigned n = 0;
        for (const char *p = d; (p = strstr(p, "\n@@ ")); p++)
                n++;
        return n;
}

static void test_hunks_merge_within_twice_the_context(void **state)
{
        (void)state;
        char *a = numbered(20, 0, 0);
        char *b = numbered(20, 3, 10); /* 6 unchanged lines between: one hunk */
        char *d = diff(a, b);
        assert_int_equal(hunks(d), 1);
        tu_assert_contains(d, "@@ -1,13 +1,13 @@\n");
        free(b);
        free(d);
        b = numbered(20, 3, 11); /* 7 between: two hunks */
        d = diff(a, b);
        assert_int_equal(hunks(d), 2);
        tu_assert_contains(d, "@@ -1,6 +1,6 @@\n");
        tu_assert_contains(d, "@@ -8,7 +8,7 @@\n");
        free(b);
        free(d);
        free(a);
}

static char *random_text(unsigned *seed, unsigned maxlines)
{
        static const char *const words[] = { "a", "b", "c", "<disk/>", "  <x y='1'/>", "" };
        vh_buf b = { 0 };
        assert_int_equal(vh_buf_puts(&b, ""), 0);
        unsigned n = (unsigned)rand_r(seed) % (maxlines + 1);
        for (unsigned i = 0; i < n; i++)
                assert_int_equal(vh_buf_printf(&b, "%s\n", words[rand_r(seed) % ELEMENTSOF(words)]), 0);
        if (b.len && rand_r(seed) % 5 == 0)
                b.data[--b.len] = '\0'; /* no newline at the end */
        return b.data;
}

static void test_random_pairs_are_exact_and_minimal(void **state)
{
        (void)state;
        unsigned seed = 20240611;
        for (int i = 0; i < 3000; i++) {
                char *a = random_text(&seed, 30);
                char *b = random_text(&seed, 30);
                check_pair(a, b, true);
                check_pair(b, a, true);
                check_pair(a, a, true);
                free(a);
                free(b);
        }
}

static void test_large_and_beyond_the_limit(void **state)
{
        (void)state;
        /* 20,000 lines, a few changes: fast and exact */
        vh_buf a = { 0 }, b = { 0 };
        for (unsigned i = 0; i < 20000; i++) {
                assert_int_equal(vh_buf_printf(&a, "    <disk n='%u'/>\n", i), 0);
                assert_int_equal(vh_buf_printf(&b, i % 4999 == 7 ? "    <disk n='%u' x='1'/>\n" : "    <disk n='%u'/>\n", i), 0);
        }
        check_pair(a.data, b.data, false);
        char *d = diff(a.data, b.data);
        assert_int_equal(hunks(d), 4);
        free(d);
        vh_buf_free(&a);
        vh_buf_free(&b);
        /* more differences than the script may hold: still a correct diff */
        for (unsigned i = 0; i < 4000; i++) {
                assert_int_equal(vh_buf_printf(&a, "a%u\n", i), 0);
                assert_int_equal(vh_buf_printf(&b, "b%u\n", i), 0);
        }
        check_pair(a.data, b.data, false);
        vh_buf_free(&a);
        vh_buf_free(&b);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_gnu_format),
                cmocka_unit_test(test_hunks_merge_within_twice_the_context),
                cmocka_unit_test(test_random_pairs_are_exact_and_minimal),
                cmocka_unit_test(test_large_and_beyond_the_limit),
        };
        return cmocka_run_group_tests_name("patch diff", tests, NULL, NULL);
}
