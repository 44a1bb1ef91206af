/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_msix_plan — lib/msix.c: the per-VM plan the hook writes and the
 * QEMU wrapper reads (/run/vmhooks-wrapper/NAME.plan), and the small
 * parsers next to it (vh_pci_bdf_normalize).
 *
 * Invariants, for any text:
 * - parse fails with -EINVAL (or -E2BIG's message for too many devices,
 *   also -EINVAL) and a message, leaving *ret alone; or
 * - parse -> format -> parse succeeds and gives the same plan in every
 *   field the format writes (bar and devices only when enabled), every
 *   pick with a normalized BDF, a valid BAR and an alias; format is then a
 *   fixed point;
 * - vh_pci_bdf_normalize of each line's words: accepted ones are
 *   "dddd:bb:dd.f" in lower case and normalize to themselves.
 */
#include "fuzz.h"

#include <ctype.h>
#include <errno.h>

#include "msix.h"

static void check_bdf(const char *s)
{
        char out[13];
        memset(out, 'X', sizeof(out));
        if (vh_pci_bdf_normalize(s, out) < 0)
                return;
        FUZZ_CHECK(strlen(out) == 12, "normalize(\"%s\") = \"%.13s\": not 12 characters", s, out);
        for (int i = 0; i < 12; i++) {
                bool sep = i == 4 || i == 7 || i == 10;
                FUZZ_CHECK(sep ? out[i] == (i == 10 ? '.' : ':')
                               : (isdigit((unsigned char)out[i]) || (out[i] >= 'a' && out[i] <= 'f')),
                           "normalize(\"%s\") = \"%s\": not dddd:bb:dd.f in lower case", s, out);
        }
        FUZZ_CHECK(out[8] <= '1' && out[11] <= '7', "normalize(\"%s\") = \"%s\": device > 0x1f or function > 7", s,
                   out);
        char again[13];
        FUZZ_CHECK(vh_pci_bdf_normalize(out, again) == 0 && strcmp(out, again) == 0,
                   "normalize(\"%s\") = \"%s\" is not a fixed point", s, out);
}

static void same_plan(const vh_msix_plan *a, const vh_msix_plan *b)
{
        FUZZ_CHECK(fuzz_streq0(a->uuid, b->uuid), "uuid \"%s\" became \"%s\"", a->uuid, b->uuid);
        FUZZ_CHECK(fuzz_streq0(a->name, b->name), "name \"%s\" became \"%s\"", a->name, b->name);
        FUZZ_CHECK(a->enabled == b->enabled, "enabled changed");
        if (a->enabled) {
                FUZZ_CHECK(fuzz_streq0(a->bar, b->bar), "bar \"%s\" became \"%s\"", a->bar, b->bar);
                FUZZ_CHECK(fuzz_streq0(a->devices, b->devices), "devices \"%s\" became \"%s\"", a->devices, b->devices);
        }
        FUZZ_CHECK(a->n_picks == b->n_picks, "%zu picks became %zu", a->n_picks, b->n_picks);
        for (size_t i = 0; i < a->n_picks; i++) {
                const vh_msix_pick *x = &a->picks[i], *y = &b->picks[i];
                FUZZ_CHECK(fuzz_streq0(x->alias, y->alias), "pick %zu: alias \"%s\" became \"%s\"", i, x->alias,
                           y->alias);
                FUZZ_CHECK(fuzz_streq0(x->bdf, y->bdf), "pick %zu: bdf \"%s\" became \"%s\"", i, x->bdf, y->bdf);
                FUZZ_CHECK(fuzz_streq0(x->bar, y->bar), "pick %zu: bar \"%s\" became \"%s\"", i, x->bar, y->bar);
                FUZZ_CHECK(fuzz_streq0(x->why, y->why), "pick %zu: why \"%s\" became \"%s\"", i, x->why, y->why);
        }
}

FUZZ_DEFAULT_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > VH_MSIX_PLAN_MAX_BYTES)
                return 0;
        char *text = fuzz_strndup(data, size);

        /* every word as a BDF */
        char *words = strdup(text);
        FUZZ_CHECK(words, "oom");
        for (char *save = NULL, *w = strtok_r(words, " \n=", &save); w; w = strtok_r(NULL, " \n=", &save))
                check_bdf(w);
        free(words);

        /* *ret holds something: on failure it must be left as it is, on success it is replaced (and freed) */
        char *mark = strdup("untouched");
        FUZZ_CHECK(mark, "oom");
        vh_msix_plan a = { .uuid = mark };
        vh_error *e = NULL;
        int r = vh_msix_plan_parse(text, &a, &e);
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL, "parse failed with %d (%s); bad input must be -EINVAL", r, vh_error_msg(e));
                FUZZ_CHECK(e && e->msg && *e->msg, "parse failed without a message");
                FUZZ_CHECK(a.uuid == mark && strcmp(mark, "untouched") == 0 && !a.name && !a.picks && !a.n_picks,
                           "a failed parse touched *ret");
                free(mark);
                vh_error_free(e);
                free(text);
                return 0;
        }
        FUZZ_CHECK(a.uuid, "accepted without a uuid");
        for (size_t i = 0; i < a.n_picks; i++) {
                const vh_msix_pick *k = &a.picks[i];
                FUZZ_CHECK(k->alias && *k->alias && k->bar && k->why && k->bdf, "pick %zu incomplete", i);
                char norm[13];
                FUZZ_CHECK(vh_pci_bdf_normalize(k->bdf, norm) == 0 && strcmp(norm, k->bdf) == 0,
                           "pick %zu: bdf \"%s\" not normalized", i, k->bdf);
        }

        char *f1 = NULL, *f2 = NULL;
        FUZZ_CHECK(vh_msix_plan_format(&a, &f1, &e) == 0, "format failed: %s", vh_error_msg(e));
        vh_msix_plan b = { 0 };
        FUZZ_CHECK(vh_msix_plan_parse(f1, &b, &e) == 0, "the formatted plan is not read back (%s):\n%s",
                   vh_error_msg(e), f1);
        same_plan(&a, &b);
        FUZZ_CHECK(vh_msix_plan_format(&b, &f2, &e) == 0, "format failed");
        FUZZ_CHECK(strcmp(f1, f2) == 0, "format is not a fixed point:\n%s---\n%s", f1, f2);

        vh_msix_plan_done(&a);
        vh_msix_plan_done(&b);
        free(f1);
        free(f2);
        free(text);
        return 0;
}
