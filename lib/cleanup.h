/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cleanup.h — scope-bound ownership, after systemd's _cleanup_ helpers.
 *
 * A variable declared with one of these attributes is released when it goes
 * out of scope; TAKE_PTR / TAKE_FD hand ownership to the caller.
 */
#ifndef VH_CLEANUP_H
#define VH_CLEANUP_H

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void vh_freep(void *p)
{
        free(*(void **)p);
}

static inline void vh_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                (void)close(*fd);
                errno = saved;
        }
}

static inline void vh_fclosep(FILE **f)
{
        if (*f) {
                int saved = errno;
                (void)fclose(*f);
                errno = saved;
        }
}

static inline void vh_closedirp(DIR **d)
{
        if (*d) {
                int saved = errno;
                (void)closedir(*d);
                errno = saved;
        }
}

#define _cleanup_free_ _cleanup_(vh_freep)
#define _cleanup_close_ _cleanup_(vh_closep)
#define _cleanup_fclose_ _cleanup_(vh_fclosep)
#define _cleanup_closedir_ _cleanup_(vh_closedirp)

/* Define a cleanup function `namep` for a library type freed by `func`. */
#define VH_DEFINE_CLEANUP(type, func)                  \
        static inline void func##p(type *p)            \
        {                                              \
                if (*p)                                \
                        func(*p);                      \
        }

#define TAKE_PTR(p)                          \
        ({                                   \
                __typeof__(p) _taken = (p);  \
                (p) = NULL;                  \
                _taken;                      \
        })

#define TAKE_FD(fd)                  \
        ({                           \
                int _taken = (fd);   \
                (fd) = -1;           \
                _taken;              \
        })

#endif
