/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "cpuset.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void vh_cpuset_done(vh_cpuset *s)
{
        free(s->words);
        s->words = NULL;
        s->nwords = 0;
}

static int grow(vh_cpuset *s, size_t nwords)
{
        if (nwords <= s->nwords)
                return 0;
        uint64_t *w = realloc(s->words, nwords * sizeof(*w));
        if (!w)
                return -ENOMEM;
        memset(w + s->nwords, 0, (nwords - s->nwords) * sizeof(*w));
        s->words = w;
        s->nwords = nwords;
        return 0;
}

int vh_cpuset_set(vh_cpuset *s, unsigned cpu)
{
        if (cpu >= VH_CPUSET_MAX)
                return -ERANGE;
        int r = grow(s, cpu / 64 + 1);
        if (r < 0)
                return r;
        s->words[cpu / 64] |= UINT64_C(1) << (cpu % 64);
        return 0;
}

static void clear_bit(vh_cpuset *s, unsigned cpu)
{
        if (cpu / 64 < s->nwords)
                s->words[cpu / 64] &= ~(UINT64_C(1) << (cpu % 64));
}

bool vh_cpuset_test(const vh_cpuset *s, unsigned cpu)
{
        return cpu / 64 < s->nwords && (s->words[cpu / 64] >> (cpu % 64)) & 1;
}

bool vh_cpuset_is_empty(const vh_cpuset *s)
{
        for (size_t i = 0; i < s->nwords; i++)
                if (s->words[i])
                        return false;
        return true;
}

static uint64_t word(const vh_cpuset *s, size_t i)
{
        return i < s->nwords ? s->words[i] : 0;
}

bool vh_cpuset_equal(const vh_cpuset *a, const vh_cpuset *b)
{
        size_t n = a->nwords > b->nwords ? a->nwords : b->nwords;
        for (size_t i = 0; i < n; i++)
                if (word(a, i) != word(b, i))
                        return false;
        return true;
}

bool vh_cpuset_intersects(const vh_cpuset *a, const vh_cpuset *b)
{
        size_t n = a->nwords < b->nwords ? a->nwords : b->nwords;
        for (size_t i = 0; i < n; i++)
                if (a->words[i] & b->words[i])
                        return true;
        return false;
}

unsigned vh_cpuset_count(const vh_cpuset *s)
{
        unsigned n = 0;
        for (size_t i = 0; i < s->nwords; i++)
                n += (unsigned)__builtin_popcountll(s->words[i]);
        return n;
}

int vh_cpuset_copy(vh_cpuset *dst, const vh_cpuset *src)
{
        vh_cpuset_done(dst);
        int r = grow(dst, src->nwords);
        if (r < 0)
                return r;
        if (src->nwords)
                memcpy(dst->words, src->words, src->nwords * sizeof(*src->words));
        return 0;
}

int vh_cpuset_union(vh_cpuset *dst, const vh_cpuset *src)
{
        int r = grow(dst, src->nwords);
        if (r < 0)
                return r;
        for (size_t i = 0; i < src->nwords; i++)
                dst->words[i] |= src->words[i];
        return 0;
}

void vh_cpuset_subtract(vh_cpuset *dst, const vh_cpuset *src)
{
        for (size_t i = 0; i < dst->nwords && i < src->nwords; i++)
                dst->words[i] &= ~src->words[i];
}

void vh_cpuset_intersect(vh_cpuset *dst, const vh_cpuset *src)
{
        for (size_t i = 0; i < dst->nwords; i++)
                dst->words[i] &= word(src, i);
}

/* Parse a CPU number at *p, advancing it. */
static int parse_cpu(const char **p, unsigned *ret)
{
        if (!isdigit((unsigned char)**p))
                return -EINVAL;
        unsigned long v = 0;
        while (isdigit((unsigned char)**p)) {
                v = v * 10 + (unsigned long)(**p - '0');
                if (v >= VH_CPUSET_MAX)
                        return -ERANGE;
                (*p)++;
        }
        *ret = (unsigned)v;
        return 0;
}

/* The input as errors quote it: one line, control characters as %XX, at most 64 bytes. */
static char *quoted(const char *text)
{
        vh_buf b = { 0 };
        char head[65];
        snprintf(head, sizeof(head), "%s", text);
        if (vh_buf_puts(&b, "") < 0 || vh_buf_escape(&b, head, true) < 0 ||
            (strlen(text) > 64 && vh_buf_puts(&b, "...") < 0)) {
                vh_buf_free(&b);
                return NULL;
        }
        return b.data;
}

static int input_error(vh_error **err, const char *kind, const char *text, const char *what)
{
        _cleanup_free_ char *q = quoted(text);
        return vh_fail_input(err, "%s \"%s\": %s", kind, q ? q : "?", what);
}

int vh_cpuset_parse_list(const char *text, vh_cpuset *ret, vh_error **err)
{
        _cleanup_cpuset_ vh_cpuset s = { 0 };
        const char *p = text;
        while (*p == ' ' || *p == '\t')
                p++;
        while (*p && *p != '\n') {
                bool exclude = false;
                if (*p == '^') {
                        exclude = true;
                        p++;
                }
                unsigned lo, hi;
                int r = parse_cpu(&p, &lo);
                if (r == 0) {
                        hi = lo;
                        if (*p == '-') {
                                p++;
                                r = parse_cpu(&p, &hi);
                                if (r == 0 && hi < lo)
                                        r = -EINVAL;
                                if (r == 0 && exclude)
                                        r = -EINVAL;
                        }
                }
                if (r == -ERANGE)
                        return input_error(err, "cpulist", text, "CPU number above 65535");
                if (r < 0)
                        return input_error(err, "cpulist", text, "expected CPU numbers and ranges like \"0-3,8\"");
                for (unsigned c = lo; c <= hi; c++) {
                        if (exclude) {
                                clear_bit(&s, c);
                        } else if (vh_cpuset_set(&s, c) < 0) {
                                return vh_fail(err, ENOMEM, "cpulist");
                        }
                }
                if (*p == ',') {
                        p++;
                        if (!*p || *p == '\n')
                                return input_error(err, "cpulist", text, "trailing comma");
                } else if (*p && *p != '\n') {
                        return input_error(err, "cpulist", text, "expected CPU numbers and ranges like \"0-3,8\"");
                }
        }
        /* one trailing newline (as sysfs prints it) and nothing after it */
        if (*p == '\n' && p[1])
                return input_error(err, "cpulist", text, "text after the end of the line");
        vh_cpuset_done(ret);
        *ret = s;
        s.words = NULL;
        s.nwords = 0;
        return 0;
}

size_t vh_cpuset_mask_digits(const char *text)
{
        size_t n = 0;
        for (const char *p = text; *p; p++)
                if (vh_hexval(*p) >= 0)
                        n++;
        return n;
}

int vh_cpuset_parse_mask(const char *text, vh_cpuset *ret, vh_error **err)
{
        size_t len = strlen(text);
        while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == ' '))
                len--;
        if (len == 0)
                return vh_fail_input(err, "CPU mask is empty; expected hex groups like \"0000000f\"");
        if (len > VH_CPUSET_MAX / 4 + VH_CPUSET_MAX / 32)
                return vh_fail_input(err, "CPU mask longer than %u CPUs", VH_CPUSET_MAX);

        _cleanup_cpuset_ vh_cpuset s = { 0 };
        /* Walk groups from the right: group g covers bits 32g..32g+31. */
        unsigned group = 0;
        size_t end = len;
        for (;;) {
                size_t start = end;
                while (start > 0 && text[start - 1] != ',')
                        start--;
                size_t digits = end - start;
                if (digits == 0 || digits > 8)
                        return input_error(err, "CPU mask", text, "expected comma-separated groups of 1-8 hex digits");
                uint32_t v = 0;
                for (size_t i = start; i < end; i++) {
                        int h = vh_hexval(text[i]);
                        if (h < 0)
                                return input_error(err, "CPU mask", text, "expected hex digits");
                        v = v << 4 | (uint32_t)h;
                }
                for (unsigned b = 0; b < 32; b++) {
                        if (!((v >> b) & 1))
                                continue;
                        int sr = group * 32 + b < VH_CPUSET_MAX ? vh_cpuset_set(&s, group * 32 + b) : -ERANGE;
                        if (sr == -ERANGE)
                                return vh_fail_input(err, "CPU mask: CPU %u is above %u", group * 32 + b,
                                                     VH_CPUSET_MAX - 1);
                        if (sr < 0)
                                return vh_fail(err, ENOMEM, "CPU mask");
                }
                group++;
                if (start == 0)
                        break;
                end = start - 1;
                if (end == 0)
                        return input_error(err, "CPU mask", text, "leading comma");
        }
        vh_cpuset_done(ret);
        *ret = s;
        s.words = NULL;
        s.nwords = 0;
        return 0;
}

char *vh_cpuset_format_list(const vh_cpuset *s)
{
        _cleanup_buf_ vh_buf b = { 0 };
        if (vh_buf_puts(&b, "") < 0)
                return NULL;
        unsigned nbits = (unsigned)(s->nwords * 64);
        for (unsigned c = 0; c < nbits; c++) {
                if (!vh_cpuset_test(s, c))
                        continue;
                unsigned hi = c;
                while (hi + 1 < nbits && vh_cpuset_test(s, hi + 1))
                        hi++;
                /* without printf: reconcile formats a list per IRQ (64 IRQs: 0.5M instructions with it) */
                int r = b.len ? vh_buf_puts(&b, ",") : 0;
                if (r == 0)
                        r = vh_buf_put_u64(&b, c);
                if (r == 0 && hi != c)
                        r = vh_buf_puts(&b, "-");
                if (r == 0 && hi != c)
                        r = vh_buf_put_u64(&b, hi);
                if (r < 0)
                        return NULL;
                c = hi;
        }
        return TAKE_PTR(b.data);
}

char *vh_cpuset_format_mask(const vh_cpuset *s, size_t min_digits)
{
        static const char hex[] = "0123456789abcdef";
        size_t digits = 1;
        for (size_t i = s->nwords; i > 0; i--) {
                if (s->words[i - 1]) {
                        unsigned top = 63 - (unsigned)__builtin_clzll(s->words[i - 1]);
                        digits = ((i - 1) * 64 + top) / 4 + 1;
                        break;
                }
        }
        if (digits < min_digits)
                digits = min_digits;
        size_t len = digits + (digits - 1) / 8;
        char *out = malloc(len + 1);
        if (!out)
                return NULL;
        char *w = out + len;
        *w = '\0';
        for (size_t d = 0; d < digits; d++) {
                if (d > 0 && d % 8 == 0)
                        *--w = ',';
                size_t bit = d * 4;
                unsigned nib = (unsigned)((word(s, bit / 64) >> (bit % 64)) & 0xf);
                *--w = hex[nib];
        }
        return out;
}
