/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "detach.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

static void close_from(unsigned first, unsigned last)
{
        if (first > last)
                return;
        if (close_range(first, last, 0) == 0)
                return;
        long max = sysconf(_SC_OPEN_MAX);
        unsigned top = max > 0 && max < 65536 ? (unsigned)max : 65536u;
        for (unsigned fd = first; fd <= last && fd < top; fd++)
                (void)close((int)fd);
}

/* stdio on /dev/null, every other descriptor but keep_fd closed */
static void detach_fds(int keep_fd)
{
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
                for (int fd = 0; fd <= 2; fd++)
                        if (fd != keep_fd)
                                (void)dup2(null, fd);
                if (null > 2 && null != keep_fd)
                        (void)close(null);
        }
        if (keep_fd >= 3) {
                close_from(3, (unsigned)keep_fd - 1);
                close_from((unsigned)keep_fd + 1, ~0u);
        } else {
                close_from(3, ~0u);
        }
}

int vh_detach(int keep_fd, void (*fn)(int keep_fd, void *arg), void *arg)
{
        (void)fflush(NULL);
        pid_t child = fork();
        if (child < 0)
                return -errno;
        if (child == 0) {
                (void)setsid();
                detach_fds(keep_fd);
                pid_t g = fork();
                if (g != 0)
                        _exit(g < 0 ? 1 : 0);
                fn(keep_fd, arg);
                _exit(0);
        }
        int status;
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -ECHILD;
}
