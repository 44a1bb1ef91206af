/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fuzz.h — what every libFuzzer harness of tests/fuzz shares.
 *
 * - A private, empty VMHOOKS_ROOT (under $TMPDIR, which tests/fuzz/run.sh
 *   points into the build directory): every host path of lib/ goes through
 *   vh_path(), so nothing a harness calls can reach the real /etc, /run or
 *   /sys.  Removed at exit; a crashed harness leaves it in the build
 *   directory.
 * - libxml2 initialised once and silenced (the library asks for errors as
 *   values; a stray message on stderr would only hide libFuzzer's).
 * - FUZZ_CHECK(): an invariant; on failure print what was expected and
 *   abort(), which libFuzzer reports as a crash and keeps the input.
 */
#ifndef VH_FUZZ_H
#define VH_FUZZ_H

#include <ftw.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

#include "root.h"

#define FUZZ_UNUSED __attribute__((unused))

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char vh_fuzz_root_dir[4096];

__attribute__((format(printf, 1, 2), noreturn)) static void fuzz_die(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("\n==vmhooks-fuzz== INVARIANT BROKEN: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
        abort();
}

#define FUZZ_CHECK(cond, ...)                                                                       \
        do {                                                                                        \
                if (!(cond)) {                                                                      \
                        fprintf(stderr, "\n==vmhooks-fuzz== %s:%d: %s\n", __FILE__, __LINE__, #cond); \
                        fuzz_die(__VA_ARGS__);                                                      \
                }                                                                                   \
        } while (0)

static void fuzz_xml_silent(void *ctx, const char *msg, ...)
{
        (void)ctx;
        (void)msg;
}

/* libxml2 2.12 made the structured error const. */
#if LIBXML_VERSION >= 21200
static void fuzz_xml_silent_structured(void *ctx, const xmlError *e)
#else
static void fuzz_xml_silent_structured(void *ctx, xmlErrorPtr e)
#endif
{
        (void)ctx;
        (void)e;
}

static int fuzz_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st;
        (void)flag;
        (void)ftw;
        return remove(path);
}

static void fuzz_remove_root(void)
{
        if (vh_fuzz_root_dir[0])
                (void)nftw(vh_fuzz_root_dir, fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS); /* best effort at exit */
}

/* Create the private VMHOOKS_ROOT and point lib/root.c at it; returns its path. */
FUZZ_UNUSED static const char *fuzz_init(void)
{
        const char *tmp = getenv("TMPDIR");
        if (!tmp || !*tmp)
                tmp = "/tmp";
        if (snprintf(vh_fuzz_root_dir, sizeof(vh_fuzz_root_dir), "%s/vmhooks-fuzz-root-XXXXXX", tmp) >=
                    (int)sizeof(vh_fuzz_root_dir) ||
            !mkdtemp(vh_fuzz_root_dir)) {
                perror("vmhooks-fuzz: mkdtemp");
                abort();
        }
        if (setenv("VMHOOKS_ROOT", vh_fuzz_root_dir, 1) < 0)
                abort();
        vh_root_reset();
        if (strcmp(vh_root(), vh_fuzz_root_dir) != 0) {
                fprintf(stderr, "vmhooks-fuzz: VMHOOKS_ROOT is not honoured\n");
                abort();
        }
        atexit(fuzz_remove_root);
        xmlInitParser();
        xmlSetGenericErrorFunc(NULL, fuzz_xml_silent);
        xmlSetStructuredErrorFunc(NULL, fuzz_xml_silent_structured);
        return vh_fuzz_root_dir;
}

/* Write a file below the private root (harness set-up only). */
FUZZ_UNUSED static void fuzz_write_root_file(const char *rel, const char *text)
{
        char path[8192];
        if (snprintf(path, sizeof(path), "%s%s", vh_fuzz_root_dir, rel) >= (int)sizeof(path))
                abort();
        for (char *s = path + strlen(vh_fuzz_root_dir) + 1; (s = strchr(s, '/')); s++) {
                *s = '\0';
                (void)mkdir(path, 0700); /* EEXIST is fine; a real failure shows at fopen */
                *s = '/';
        }
        FILE *f = fopen(path, "we");
        if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
                perror(path);
                abort();
        }
}

/* The input as a NUL-terminated string (embedded NULs end it early, as in a C string). */
FUZZ_UNUSED static char *fuzz_strndup(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);
        if (!s)
                abort();
        if (size)
                memcpy(s, data, size);
        s[size] = '\0';
        return s;
}

/* The input as an exact-size buffer without a terminator, so that ASan catches reads past `size`. */
FUZZ_UNUSED static char *fuzz_memdup(const uint8_t *data, size_t size)
{
        char *s = malloc(size ? size : 1);
        if (!s)
                abort();
        if (size)
                memcpy(s, data, size);
        return s;
}

FUZZ_UNUSED static inline int fuzz_streq0(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The LLVMFuzzerInitialize of a harness that needs nothing but the private root. */
#define FUZZ_DEFAULT_INITIALIZE                                 \
        int LLVMFuzzerInitialize(int *argc, char ***argv)       \
        {                                                       \
                (void)argc;                                     \
                (void)argv;                                     \
                fuzz_init();                                    \
                return 0;                                       \
        }

#endif
