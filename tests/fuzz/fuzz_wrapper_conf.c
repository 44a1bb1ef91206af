/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz_wrapper_conf — lib/wrapper_conf.c: /var/lib/vmhooks/wrapper.conf,
 * what the QEMU wrapper reads on every VM start instead of the policy.
 *
 * Invariants, for any text:
 * - parse fails with -EINVAL and a message, leaving *ret alone; or
 * - an accepted emulator is an absolute path; msix on means bar and
 *   devices are known;
 * - parse -> format -> parse gives the same configuration and format is
 *   then a fixed point.
 */
#include "fuzz.h"

#include <errno.h>

#include "wrapper_conf.h"

FUZZ_DEFAULT_INITIALIZE

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > (1u << 16)) /* vh_wrapper_conf_load reads at most 64 KiB */
                return 0;
        char *text = fuzz_strndup(data, size);
        /* *ret holds something: on failure it must be left as it is, on success it is replaced (and freed) */
        char *mark = strdup("untouched");
        FUZZ_CHECK(mark, "oom");
        vh_wrapper_conf a = { .stamp = mark };
        vh_error *e = NULL;
        int r = vh_wrapper_conf_parse(text, &a, &e);
        if (r < 0) {
                FUZZ_CHECK(r == -EINVAL, "parse failed with %d (%s); bad input must be -EINVAL", r, vh_error_msg(e));
                FUZZ_CHECK(e && e->msg && *e->msg, "parse failed without a message");
                FUZZ_CHECK(a.stamp == mark && strcmp(mark, "untouched") == 0 && !a.emulator && !a.msix && !a.bar &&
                                   !a.devices,
                           "a failed parse touched *ret");
                free(mark);
                vh_error_free(e);
                free(text);
                return 0;
        }
        FUZZ_CHECK(!a.emulator || a.emulator[0] == '/', "emulator \"%s\" is not absolute", a.emulator);
        FUZZ_CHECK(!a.msix || (a.bar && a.devices), "msix on without bar and devices");

        char *f1 = NULL, *f2 = NULL;
        FUZZ_CHECK(vh_wrapper_conf_format(&a, &f1, &e) == 0, "format failed: %s", vh_error_msg(e));
        vh_wrapper_conf b = { 0 };
        FUZZ_CHECK(vh_wrapper_conf_parse(f1, &b, &e) == 0, "the formatted configuration is not read back (%s):\n%s",
                   vh_error_msg(e), f1);
        FUZZ_CHECK(fuzz_streq0(a.stamp ? a.stamp : "none", b.stamp), "stamp \"%s\" became \"%s\"", a.stamp, b.stamp);
        FUZZ_CHECK(fuzz_streq0(a.emulator, b.emulator), "emulator \"%s\" became \"%s\"", a.emulator, b.emulator);
        FUZZ_CHECK(a.msix == b.msix, "msix %d became %d", a.msix, b.msix);
        if (a.msix) {
                FUZZ_CHECK(fuzz_streq0(a.bar, b.bar), "bar \"%s\" became \"%s\"", a.bar, b.bar);
                FUZZ_CHECK(fuzz_streq0(a.devices, b.devices), "devices \"%s\" became \"%s\"", a.devices, b.devices);
        }
        FUZZ_CHECK(vh_wrapper_conf_format(&b, &f2, &e) == 0, "format failed");
        FUZZ_CHECK(strcmp(f1, f2) == 0, "format is not a fixed point:\n%s---\n%s", f1, f2);

        vh_wrapper_conf_done(&a);
        vh_wrapper_conf_done(&b);
        free(f1);
        free(f2);
        free(text);
        return 0;
}
