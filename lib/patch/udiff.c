/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * udiff.c — a unified line diff for `vmhooks diff` and `vmhooks apply`, so
 * that vmhooks needs no diff program (and no shell).
 *
 * The edit script is a shortest one, i.e. the lines kept are a longest
 * common subsequence: the common head and tail are trimmed, and Myers'
 * O((N+M)D) greedy algorithm ("An O(ND) Difference Algorithm and Its
 * Variations", 1986) runs on the rest, keeping each round's furthest
 * reaching paths to walk the script back.  That costs (D+1)^2 integers for
 * D differing lines; past MAX_D the middle is shown as replaced whole (still
 * a correct diff, no longer a minimal one).  Hunks are laid out as GNU diff
 * -u does: `context` lines around changes, changes closer than 2*context
 * lines share a hunk, deletions before insertions, "@@ -l,n +l,n @@" with
 * ",1" left out, and "\ No newline at end of file".
 */
#include "patch.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define MAX_D 3000

typedef struct line {
        const char *s;
        size_t len;             /* without the "\n" */
        uint64_t h;
        bool nl;                /* ends in "\n" (only the last line may not) */
} line;

static uint64_t fnv1a(const char *s, size_t n)
{
        uint64_t h = 1469598103934665603ULL;
        for (size_t i = 0; i < n; i++) {
                h ^= (unsigned char)s[i];
                h *= 1099511628211ULL;
        }
        return h;
}

static int split(const char *text, line **ret, size_t *ret_n)
{
        size_t n = 0, cap = 0;
        line *v = NULL;
        for (const char *p = text; *p;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);
                if (n == cap) {
                        cap = cap ? cap * 2 : 64;
                        line *t = realloc(v, cap * sizeof(*v));
                        if (!t) {
                                free(v);
                                return -ENOMEM;
                        }
                        v = t;
                }
                v[n++] = (line){ p, len, fnv1a(p, len), nl != NULL };
                p += len + (nl ? 1 : 0);
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

static bool same(const line *a, const line *b)
{
        return a->h == b->h && a->len == b->len && a->nl == b->nl && memcmp(a->s, b->s, a->len) == 0;
}

typedef struct myers_mem {
        int *v;
        int **trace;
        int rounds;
} myers_mem;

static void myers_mem_done(myers_mem *mm)
{
        for (int d = 0; mm->trace && d < mm->rounds; d++)
                free(mm->trace[d]);
        free(mm->trace);
        free(mm->v);
}

/*
 * Mark deleted lines of a[0..n) and inserted lines of b[0..m) along a
 * shortest edit script.  0, -ENOMEM, or -E2BIG when it is longer than MAX_D.
 */
static int myers(const line *a, int n, const line *b, int m, bool *del, bool *ins)
{
        int max = n + m;
        if (max == 0)
                return 0;
        int dmax = max < MAX_D ? max : MAX_D;
        _cleanup_(myers_mem_done) myers_mem mm = {
                .v = calloc((size_t)(2 * dmax + 3), sizeof(int)),
                .trace = calloc((size_t)dmax + 1, sizeof(int *)),
        };
        if (!mm.v || !mm.trace)
                return -ENOMEM;
        int *v = mm.v, off = dmax + 1; /* v[off + k] for diagonal k */
        int dend = -1;
        for (int d = 0; d <= dmax && dend < 0; d++) {
                for (int k = -d; k <= d; k += 2) {
                        int x;
                        if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
                                x = v[off + k + 1];             /* down: insert b[y] */
                        else
                                x = v[off + k - 1] + 1;         /* right: delete a[x] */
                        int y = x - k;
                        while (x < n && y < m && same(&a[x], &b[y])) {
                                x++;
                                y++;
                        }
                        v[off + k] = x;
                        if (x >= n && y >= m) {
                                dend = d;
                                break;
                        }
                }
                if (!(mm.trace[d] = malloc((size_t)(2 * d + 1) * sizeof(int))))
                        return -ENOMEM;
                mm.rounds = d + 1;
                memcpy(mm.trace[d], &v[off - d], (size_t)(2 * d + 1) * sizeof(int));
        }
        if (dend < 0)
                return -E2BIG;
        /* walk back from (n, m) */
        int x = n, y = m;
        for (int d = dend; d > 0; d--) {
                const int *pv = mm.trace[d - 1] + (d - 1); /* pv[k] for k in [-(d-1), d-1] */
                int k = x - y, pk;
                if (k == -d || (k != d && pv[k - 1] < pv[k + 1]))
                        pk = k + 1;
                else
                        pk = k - 1;
                int px = pv[pk], py = px - pk;
                while (x > px && y > py) {
                        x--;
                        y--;
                }
                if (pk == k + 1)
                        ins[--y] = true;
                else
                        del[--x] = true;
        }
        return 0;
}

static int put_line(vh_buf *b, char tag, const line *l)
{
        if (vh_buf_append(b, &tag, 1) < 0 || vh_buf_append(b, l->s, l->len) < 0 || vh_buf_puts(b, "\n") < 0)
                return -ENOMEM;
        return l->nl ? 0 : vh_buf_puts(b, "\\ No newline at end of file\n");
}

static int put_range(vh_buf *b, char tag, size_t start, size_t len)
{
        if (len == 1)
                return vh_buf_printf(b, " %c%zu", tag, start + 1);
        return vh_buf_printf(b, " %c%zu,%zu", tag, len ? start + 1 : start, len);
}

typedef struct block {
        size_t a0, a1, b0, b1; /* a[a0..a1) deleted, b[b0..b1) inserted */
} block;

int vh_udiff(const char *ta, const char *tb, const char *label_a, const char *label_b, unsigned context, char **ret,
             vh_error **err)
{
        _cleanup_free_ line *a = NULL;
        _cleanup_free_ line *b = NULL;
        size_t n = 0, m = 0;
        if (split(ta, &a, &n) < 0 || split(tb, &b, &m) < 0)
                return vh_fail(err, ENOMEM, "diff");
        if (n > INT32_MAX / 4 || m > INT32_MAX / 4)
                return vh_fail_input(err, "diff: too many lines");
        _cleanup_free_ bool *del = calloc(n + 1, sizeof(bool));
        _cleanup_free_ bool *ins = calloc(m + 1, sizeof(bool));
        if (!del || !ins)
                return vh_fail(err, ENOMEM, "diff");

        size_t head = 0, tail = 0;
        while (head < n && head < m && same(&a[head], &b[head]))
                head++;
        while (tail < n - head && tail < m - head && same(&a[n - 1 - tail], &b[m - 1 - tail]))
                tail++;
        int r = myers(a + head, (int)(n - head - tail), b + head, (int)(m - head - tail), del + head, ins + head);
        if (r == -ENOMEM)
                return vh_fail(err, ENOMEM, "diff");
        if (r == -E2BIG) {
                for (size_t i = head; i < n - tail; i++)
                        del[i] = true;
                for (size_t j = head; j < m - tail; j++)
                        ins[j] = true;
        }

        /* blocks of changes */
        _cleanup_free_ block *blocks = NULL;
        size_t nb = 0, cb = 0;
        for (size_t i = 0, j = 0; i < n || j < m;) {
                if ((i < n && del[i]) || (j < m && ins[j])) {
                        block k = { i, i, j, j };
                        while (k.a1 < n && del[k.a1])
                                k.a1++;
                        while (k.b1 < m && ins[k.b1])
                                k.b1++;
                        if (nb == cb) {
                                cb = cb ? cb * 2 : 16;
                                block *t = realloc(blocks, cb * sizeof(*t));
                                if (!t)
                                        return vh_fail(err, ENOMEM, "diff");
                                blocks = t;
                        }
                        blocks[nb++] = k;
                        i = k.a1;
                        j = k.b1;
                } else {
                        i++;
                        j++;
                }
        }

        _cleanup_buf_ vh_buf out = { 0 };
        if (vh_buf_puts(&out, "") < 0)
                return vh_fail(err, ENOMEM, "diff");
        if (nb && vh_buf_printf(&out, "--- %s\n+++ %s\n", label_a, label_b) < 0)
                return vh_fail(err, ENOMEM, "diff");
        for (size_t h = 0; h < nb;) {
                size_t last = h;
                while (last + 1 < nb && blocks[last + 1].a0 - blocks[last].a1 <= 2 * (size_t)context)
                        last++;
                size_t a0 = blocks[h].a0 > context ? blocks[h].a0 - context : 0;
                size_t b0 = blocks[h].b0 - (blocks[h].a0 - a0);
                size_t a1 = blocks[last].a1 + context < n ? blocks[last].a1 + context : n;
                size_t b1 = blocks[last].b1 + (a1 - blocks[last].a1);
                if (vh_buf_puts(&out, "@@") < 0 || put_range(&out, '-', a0, a1 - a0) < 0 ||
                    put_range(&out, '+', b0, b1 - b0) < 0 || vh_buf_puts(&out, " @@\n") < 0)
                        return vh_fail(err, ENOMEM, "diff");
                size_t i = a0, j = b0;
                for (size_t k = h; k <= last; k++) {
                        for (; i < blocks[k].a0; i++, j++)
                                if (put_line(&out, ' ', &a[i]) < 0)
                                        return vh_fail(err, ENOMEM, "diff");
                        for (; i < blocks[k].a1; i++)
                                if (put_line(&out, '-', &a[i]) < 0)
                                        return vh_fail(err, ENOMEM, "diff");
                        for (; j < blocks[k].b1; j++)
                                if (put_line(&out, '+', &b[j]) < 0)
                                        return vh_fail(err, ENOMEM, "diff");
                }
                for (; i < a1; i++, j++)
                        if (put_line(&out, ' ', &a[i]) < 0)
                                return vh_fail(err, ENOMEM, "diff");
                h = last + 1;
        }
        *ret = TAKE_PTR(out.data);
        return 0;
}
