/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_cpuset — lib/cpuset.c: cpulists ("0-3,^2,8") and kernel masks
 * ("00000080,0000000f").
 *
 * The input is one or two texts separated by '|'.  Each is parsed as a
 * cpulist and as a mask, and checked against
 * - a reference parser written here from the documented grammar (a plain
 *   65536-bit bitmap): same accept/reject, same set;
 * - round trips: parse_list -> format_list -> parse_list gives the same set
 *   and format_list is a fixed point; parse_mask -> format_mask (with the
 *   input's digit count, and with none) -> parse_mask is numerically equal;
 *   a list written as a mask and a mask written as a list read back equal;
 * - the error rule: a bad text is -EINVAL with a message, never another errno;
 * - the set operations (union, intersect, subtract, intersects, equal,
 *   count, test, copy) on the two sets, against the bitmaps.
 */
#include "fuzz.h"

#include <errno.h>
#include <stdbool.h>

#include "cpuset.h"
#include "error.h"

#define NBITS VH_CPUSET_MAX
#define NW (NBITS / 64)

typedef struct bitmap {
        uint64_t w[NW];
} bitmap;

static void bm_set(bitmap *b, unsigned c)
{
        b->w[c / 64] |= UINT64_C(1) << (c % 64);
}

static void bm_clear(bitmap *b, unsigned c)
{
        b->w[c / 64] &= ~(UINT64_C(1) << (c % 64));
}

static bool bm_test(const bitmap *b, unsigned c)
{
        return (b->w[c / 64] >> (c % 64)) & 1;
}

/* The cpulist grammar of cpuset.h, slowly: 0 (valid), -1 (invalid), -2 (CPU number too large). */
static int ref_number(const char **p, unsigned long *ret)
{
        if (**p < '0' || **p > '9')
                return -1;
        unsigned long v = 0;
        for (; **p >= '0' && **p <= '9'; (*p)++) {
                v = v * 10 + (unsigned long)(**p - '0');
                if (v >= NBITS)
                        return -2;
        }
        *ret = v;
        return 0;
}

static int ref_list(const char *s, bitmap *b)
{
        memset(b, 0, sizeof(*b));
        while (*s == ' ' || *s == '\t')
                s++;
        if (*s == '\0' || (*s == '\n' && s[1] == '\0'))
                return 0;
        for (;;) {
                bool ex = *s == '^';
                if (ex)
                        s++;
                unsigned long lo, hi;
                int r = ref_number(&s, &lo);
                if (r < 0)
                        return r;
                hi = lo;
                if (*s == '-') {
                        s++;
                        r = ref_number(&s, &hi);
                        if (r < 0)
                                return r;
                        if (hi < lo || ex)
                                return -1;
                }
                for (unsigned long c = lo; c <= hi; c++) {
                        if (ex)
                                bm_clear(b, (unsigned)c);
                        else
                                bm_set(b, (unsigned)c);
                }
                /* the end, or one newline (as sysfs prints it) and nothing after it */
                if (*s == '\0' || (*s == '\n' && s[1] == '\0'))
                        return 0;
                if (*s != ',')
                        return -1;
                s++;
                if (*s == '\0' || *s == '\n')
                        return -1; /* trailing comma */
        }
}

static int hexdigit(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

/* Kernel mask: groups of 1-8 hex digits separated by ',', trailing '\n' and ' ' ignored. */
static int ref_mask(const char *s, bitmap *b)
{
        memset(b, 0, sizeof(*b));
        size_t len = strlen(s);
        while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' '))
                len--;
        if (len == 0 || len > NBITS / 4 + NBITS / 32)
                return -1;
        size_t ngroups = 1;
        for (size_t i = 0; i < len; i++)
                ngroups += s[i] == ',';
        size_t start = 0;
        for (size_t g = 0; g < ngroups; g++) {
                size_t end = start;
                while (end < len && s[end] != ',')
                        end++;
                if (end == start || end - start > 8)
                        return -1;
                uint32_t v = 0;
                for (size_t i = start; i < end; i++) {
                        int h = hexdigit(s[i]);
                        if (h < 0)
                                return -1;
                        v = v << 4 | (uint32_t)h;
                }
                size_t group = ngroups - 1 - g; /* the rightmost group is bits 0-31 */
                for (unsigned bit = 0; bit < 32; bit++) {
                        if (!((v >> bit) & 1))
                                continue;
                        if (group * 32 + bit >= NBITS)
                                return -2;
                        bm_set(b, (unsigned)(group * 32 + bit));
                }
                start = end + 1;
        }
        return 0;
}

/* Word by word (the words are public); `bits`: also ask vh_cpuset_test() about every CPU. */
static void same_set_ex(const vh_cpuset *s, const bitmap *b, const char *what, const char *text, bool bits)
{
        for (size_t i = 0; i < NW || i < s->nwords; i++) {
                uint64_t got = i < s->nwords ? s->words[i] : 0, want = i < NW ? b->w[i] : 0;
                if (got != want)
                        fuzz_die("%s \"%.200s\": CPUs %zu-%zu are %016llx, the reference says %016llx", what, text,
                                 i * 64, i * 64 + 63, (unsigned long long)got, (unsigned long long)want);
        }
        for (size_t i = 0; bits && i < NW; i++)
                for (unsigned c = (unsigned)i * 64; b->w[i] && c < (unsigned)i * 64 + 64; c++)
                        FUZZ_CHECK(vh_cpuset_test(s, c) == bm_test(b, c), "%s \"%.200s\": test(%u) wrong", what,
                                   text, c);
        FUZZ_CHECK(!vh_cpuset_test(s, NBITS) && !vh_cpuset_test(s, NBITS + 63) && !vh_cpuset_test(s, 4000000000u),
                   "%s \"%.200s\": a CPU at or above %u is set", what, text, NBITS);
}

static void same_set(const vh_cpuset *s, const bitmap *b, const char *what, const char *text)
{
        same_set_ex(s, b, what, text, false);
}

static void check_error(int r, vh_error *e, const char *what, const char *text)
{
        FUZZ_CHECK(r == -EINVAL, "%s \"%.200s\": rejected with %d (%s); bad input must be -EINVAL", what, text, r,
                   vh_error_msg(e));
        FUZZ_CHECK(e && e->msg && *e->msg, "%s \"%.200s\": rejected without a message", what, text);
        /* one line: the input is quoted with its control characters escaped */
        FUZZ_CHECK(!strpbrk(e->msg, "\n\r"), "%s \"%.200s\": the message is not one line: %s", what, text, e->msg);
}

typedef struct parsed {
        bool list_ok, mask_ok;
        vh_cpuset list, mask;
        bitmap list_ref, mask_ref;
} parsed;

static void check_text(const char *text, parsed *out)
{
        /* cpulist */
        vh_error *e = NULL;
        int r = vh_cpuset_parse_list(text, &out->list, &e);
        int ref = ref_list(text, &out->list_ref);
        FUZZ_CHECK((r == 0) == (ref == 0), "cpulist \"%.200s\": parse_list %s (%s), the reference %s", text,
                   r == 0 ? "accepts" : "rejects", vh_error_msg(e), ref == 0 ? "accepts" : "rejects");
        if (r == 0) {
                out->list_ok = true;
                FUZZ_CHECK(!e, "cpulist \"%.200s\": accepted with an error set", text);
                same_set_ex(&out->list, &out->list_ref, "cpulist", text, true);
                char *f = vh_cpuset_format_list(&out->list);
                FUZZ_CHECK(f, "format_list failed");
                FUZZ_CHECK(strspn(f, "0123456789,-") == strlen(f), "format_list \"%.200s\": unexpected characters", f);
                vh_cpuset back = { 0 };
                vh_error *e2 = NULL;
                FUZZ_CHECK(vh_cpuset_parse_list(f, &back, &e2) == 0,
                           "cpulist \"%.200s\" -> \"%.200s\": not read back: %s", text, f, vh_error_msg(e2));
                FUZZ_CHECK(vh_cpuset_equal(&out->list, &back), "cpulist \"%.200s\" -> \"%.200s\": a different set",
                           text, f);
                char *f2 = vh_cpuset_format_list(&back);
                FUZZ_CHECK(f2 && strcmp(f, f2) == 0, "format_list not a fixed point: \"%.200s\" then \"%.200s\"", f,
                           f2 ? f2 : "(null)");
                /* as a mask and back */
                char *m = vh_cpuset_format_mask(&out->list, 0);
                FUZZ_CHECK(m, "format_mask failed");
                vh_cpuset viamask = { 0 };
                FUZZ_CHECK(vh_cpuset_parse_mask(m, &viamask, &e2) == 0, "cpulist \"%.200s\" as mask \"%.200s\": %s",
                           text, m, vh_error_msg(e2));
                FUZZ_CHECK(vh_cpuset_equal(&out->list, &viamask), "cpulist \"%.200s\" as mask \"%.200s\": another set",
                           text, m);
                vh_cpuset_done(&viamask);
                vh_cpuset_done(&back);
                free(m);
                free(f2);
                free(f);
        } else {
                check_error(r, e, "cpulist", text);
                FUZZ_CHECK(out->list.nwords == 0 && !out->list.words, "cpulist \"%.200s\": *ret touched on failure",
                           text);
        }
        vh_error_free(e);

        /* mask */
        e = NULL;
        r = vh_cpuset_parse_mask(text, &out->mask, &e);
        ref = ref_mask(text, &out->mask_ref);
        FUZZ_CHECK((r == 0) == (ref == 0), "mask \"%.200s\": parse_mask %s (%s), the reference %s", text,
                   r == 0 ? "accepts" : "rejects", vh_error_msg(e), ref == 0 ? "accepts" : "rejects");
        if (r == 0) {
                out->mask_ok = true;
                same_set_ex(&out->mask, &out->mask_ref, "mask", text, true);
                size_t digits = vh_cpuset_mask_digits(text);
                for (int pass = 0; pass < 2; pass++) {
                        size_t want = pass ? digits : 0;
                        char *f = vh_cpuset_format_mask(&out->mask, want);
                        FUZZ_CHECK(f, "format_mask failed");
                        size_t nd = vh_cpuset_mask_digits(f), len = strlen(f);
                        FUZZ_CHECK(nd >= want && nd >= 1, "format_mask(%zu) of \"%.200s\" = \"%.200s\": %zu digits",
                                   want, text, f, nd);
                        /* kernel style: groups of 8 from the right, the leftmost 1-8 */
                        for (size_t i = 0; i < len; i++) {
                                size_t from_right = len - i;
                                bool comma = from_right % 9 == 0;
                                FUZZ_CHECK(comma ? f[i] == ',' : hexdigit(f[i]) >= 0 && !(f[i] >= 'A' && f[i] <= 'F'),
                                           "format_mask \"%.200s\": not lowercase hex in groups of 8", f);
                        }
                        vh_cpuset back = { 0 };
                        vh_error *e2 = NULL;
                        FUZZ_CHECK(vh_cpuset_parse_mask(f, &back, &e2) == 0, "mask \"%.200s\" -> \"%.200s\": %s", text,
                                   f, vh_error_msg(e2));
                        FUZZ_CHECK(vh_cpuset_equal(&out->mask, &back), "mask \"%.200s\" -> \"%.200s\": another value",
                                   text, f);
                        vh_cpuset_done(&back);
                        free(f);
                }
                char *l = vh_cpuset_format_list(&out->mask);
                FUZZ_CHECK(l, "format_list failed");
                vh_cpuset back = { 0 };
                FUZZ_CHECK(vh_cpuset_parse_list(l, &back, NULL) == 0,
                           "mask \"%.200s\" as list \"%.200s\": not read back", text, l);
                FUZZ_CHECK(vh_cpuset_equal(&out->mask, &back), "mask \"%.200s\" as list \"%.200s\": another set",
                           text, l);
                vh_cpuset_done(&back);
                free(l);
        } else {
                check_error(r, e, "mask", text);
                FUZZ_CHECK(out->mask.nwords == 0 && !out->mask.words, "mask \"%.200s\": *ret touched on failure", text);
        }
        vh_error_free(e);
}

static unsigned bm_count(const bitmap *b)
{
        unsigned n = 0;
        for (size_t i = 0; i < NW; i++)
                n += (unsigned)__builtin_popcountll(b->w[i]);
        return n;
}

static void check_ops(const vh_cpuset *a, const bitmap *ra, const vh_cpuset *b, const bitmap *rb)
{
        static bitmap want;
        vh_cpuset x = { 0 };

        FUZZ_CHECK(vh_cpuset_count(a) == bm_count(ra), "count %u, reference %u", vh_cpuset_count(a), bm_count(ra));
        FUZZ_CHECK(vh_cpuset_is_empty(a) == (bm_count(ra) == 0), "is_empty wrong");
        FUZZ_CHECK(vh_cpuset_equal(a, b) == (memcmp(ra, rb, sizeof(*ra)) == 0), "equal wrong");
        bool inter = false;
        for (size_t i = 0; i < NW; i++)
                inter = inter || (ra->w[i] & rb->w[i]);
        FUZZ_CHECK(vh_cpuset_intersects(a, b) == inter, "intersects says %d, reference %d", vh_cpuset_intersects(a, b),
                   inter);

        FUZZ_CHECK(vh_cpuset_copy(&x, a) == 0, "copy failed");
        FUZZ_CHECK(vh_cpuset_union(&x, b) == 0, "union failed");
        for (size_t i = 0; i < NW; i++)
                want.w[i] = ra->w[i] | rb->w[i];
        same_set(&x, &want, "union", "");

        FUZZ_CHECK(vh_cpuset_copy(&x, a) == 0, "copy failed");
        vh_cpuset_intersect(&x, b);
        for (size_t i = 0; i < NW; i++)
                want.w[i] = ra->w[i] & rb->w[i];
        same_set(&x, &want, "intersect", "");

        FUZZ_CHECK(vh_cpuset_copy(&x, a) == 0, "copy failed");
        vh_cpuset_subtract(&x, b);
        for (size_t i = 0; i < NW; i++)
                want.w[i] = ra->w[i] & ~rb->w[i];
        same_set(&x, &want, "subtract", "");
        vh_cpuset_done(&x);
}

FUZZ_DEFAULT_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char *text = fuzz_strndup(data, size);
        char *second = strchr(text, '|');
        if (second)
                *second++ = '\0';
        static parsed p1, p2; /* the reference bitmaps are 8 KiB each */
        memset(&p1, 0, sizeof(p1));
        memset(&p2, 0, sizeof(p2));
        check_text(text, &p1);
        if (second)
                check_text(second, &p2);

        /* every pair of the sets that parsed, including a set with itself and with the empty set */
        const vh_cpuset *sets[5];
        const bitmap *refs[5];
        size_t n = 0;
        static const vh_cpuset empty;
        static const bitmap empty_ref;
        sets[n] = &empty, refs[n++] = &empty_ref;
        if (p1.list_ok)
                sets[n] = &p1.list, refs[n++] = &p1.list_ref;
        if (p1.mask_ok)
                sets[n] = &p1.mask, refs[n++] = &p1.mask_ref;
        if (p2.list_ok)
                sets[n] = &p2.list, refs[n++] = &p2.list_ref;
        if (p2.mask_ok)
                sets[n] = &p2.mask, refs[n++] = &p2.mask_ref;
        for (size_t i = 0; i < n; i++)
                for (size_t j = 0; j < n; j++)
                        check_ops(sets[i], refs[i], sets[j], refs[j]);

        vh_cpuset_done(&p1.list);
        vh_cpuset_done(&p1.mask);
        vh_cpuset_done(&p2.list);
        vh_cpuset_done(&p2.mask);
        free(text);
        return 0;
}
