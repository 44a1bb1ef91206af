/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* testutil.h — fixtures for the unit tests: a fake host under VMHOOKS_ROOT. */
#ifndef VH_TESTUTIL_H
#define VH_TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>

/*
 * A temporary root with the knobs of issue 3's scenario: THP
 * "always [madvise] never", both workqueue masks "f", CPUs online "0-3",
 * halt_poll_ns 200000, a pool of 2048 free 2 MiB hugepages.  Sets VMHOOKS_ROOT.  Returns the malloc'd path.
 */
char *tu_mkroot(void);
void tu_rmroot(char *root);

/* cmocka setup/teardown that keep the root in *state. */
int tu_setup_root(void **state);
int tu_teardown_root(void **state);

/*
 * Skip the running test and say why (printf-like), on the line that
 * tests/run-unit.sh collects: "skip - test_name: why".  A bare skip()
 * counts as a failure there: every skip says why.
 */
#define tu_skip(...)                                                    \
        do {                                                            \
                print_message("skip - %s: ", __func__);                 \
                print_message(__VA_ARGS__);                             \
                print_message("\n");                                    \
                skip();                                                 \
        } while (0)

/* Write / read a file below the root (read strips trailing whitespace). */
void tu_write(const char *root, const char *rel, const char *content);
char *tu_read(const char *root, const char *rel);
bool tu_exists(const char *root, const char *rel);
/* Write `len` bytes as they are (NULs included: /proc/PID/cmdline). */
void tu_write_bytes(const char *root, const char *rel, const void *data, size_t len);

/* Read a whole file (absolute path); NULL when missing. */
char *tu_slurp(const char *path);

/*
 * Run build/qemu-hook (or $VH_HOOK) with argv[1..], the given stdin, and an
 * environment of only VMHOOKS_ROOT=root (plus `extra_env`, may be NULL).
 * Returns the exit status; *ret_stderr gets what it printed (may be NULL).
 */
int tu_run_hook(const char *root, const char *stdin_data, char **ret_stderr, const char *extra_env,
                const char *name, const char *op, const char *subop);

/* Same, also capturing stdout. */
int tu_run_hook_out(const char *root, const char *stdin_data, char **ret_stdout, char **ret_stderr,
                    const char *extra_env, const char *name, const char *op, const char *subop);

/*
 * A libvirt-like domain XML: `pins` is a list of cpulists, one per vCPU
 * (NULL: no <cputune>), `hugepages` adds static 2M hugepages, `policy` is
 * the inner XML of a <vmhooks:policy> in <metadata> (NULL: none).
 */
char *tu_domain_xml(const char *name, const char *uuid, const char *const *pins, bool hugepages,
                    const char *policy);

/* build/vmhooks (or $VH_TOOL). */
const char *tu_tool(void);

/*
 * Run `vmhooks ARGS` (NULL-terminated) with stdin from `in_path` (NULL:
 * /dev/null) and the test's environment (VMHOOKS_ROOT included); returns
 * the exit status, *ret_out and *ret_err what it printed.  VH_HOOK_PREFIX
 * (valgrind) applies as for the hook.
 */
int tu_run_tool(const char *in_path, char **ret_out, char **ret_err, const char *const *args);

/* Assert that `haystack` contains `needle`, printing both when not. */
#define tu_assert_contains(haystack, needle) tu_assert_contains_impl((haystack), (needle), __FILE__, __LINE__)
void tu_assert_contains_impl(const char *haystack, const char *needle, const char *file, int line);

#endif
