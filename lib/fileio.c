/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "fault.h"
#include "util.h"

int vh_write_all(int fd, const char *buf, size_t len)
{
        while (len > 0) {
                ssize_t n = write(fd, buf, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        return -EIO;
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

int vh_read_fd(int fd, size_t limit, char **ret, size_t *ret_len, vh_error **err)
{
        _cleanup_buf_ vh_buf b = { 0 };
        char chunk[16384];
        if (vh_buf_puts(&b, "") < 0)
                return vh_fail(err, ENOMEM, "read");
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return vh_fail(err, errno, "read");
                }
                if (n == 0)
                        break;
                if (b.len + (size_t)n > limit)
                        return vh_fail(err, EFBIG, "more than %zu bytes", limit);
                if (vh_buf_append(&b, chunk, (size_t)n) < 0)
                        return vh_fail(err, ENOMEM, "read");
        }
        if (memchr(b.data, '\0', b.len))
                return vh_fail_input(err, "contains a NUL byte");
        if (ret_len)
                *ret_len = b.len;
        *ret = TAKE_PTR(b.data);
        return 0;
}

int vh_read_file(const char *path, size_t limit, char **ret, size_t *ret_len, vh_error **err)
{
        /* O_NONBLOCK: a FIFO in place of a config file must not hang libvirt. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return vh_fail(err, errno, "cannot open %s", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return vh_fail(err, errno, "cannot stat %s", path);
        if (S_ISDIR(st.st_mode))
                return vh_fail(err, EISDIR, "cannot read %s", path);
        if (!S_ISREG(st.st_mode))
                return vh_fail_input(err, "cannot read %s: not a regular file", path);
        int r = vh_read_fd(fd, limit, ret, ret_len, err);
        if (r < 0)
                return vh_error_wrap(err, "%s", path);
        return 0;
}

int vh_read_line(const char *path, char **ret, vh_error **err)
{
        char *s = NULL;
        int r = vh_read_file(path, 1 << 16, &s, NULL, err);
        if (r < 0)
                return r;
        vh_rstrip(s);
        *ret = s;
        return 0;
}

int vh_write_sysfs(const char *path, const char *value, vh_error **err)
{
        int r = vh_fault_point("sysfs-write");
        if (r < 0)
                return vh_fail(err, -r, "cannot write \"%s\" to %s", value, path);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return vh_fail(err, errno, "cannot open %s for writing", path);
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "%s\n", value) < 0)
                return vh_fail(err, ENOMEM, "write %s", path);
        r = vh_write_all(fd, line, strlen(line));
        if (r < 0)
                return vh_fail(err, -r, "cannot write \"%s\" to %s", value, path);
        int fd2 = TAKE_FD(fd);
        if (close(fd2) < 0 && errno != EINTR)
                return vh_fail(err, errno, "cannot write \"%s\" to %s", value, path);
        return 0;
}

int vh_write_atomic(const char *path, const char *data, size_t len, mode_t mode, vh_error **err)
{
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s.tmp.%ld", path, (long)getpid()) < 0)
                return vh_fail(err, ENOMEM, "write %s", path);
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
        if (fd < 0)
                return vh_fail(err, errno, "cannot create %s", tmp);
        /*
         * No fsync: the state lives on tmpfs (/run), which a power loss
         * wipes along with the VMs it describes; write + rename is what
         * keeps it whole when a process dies halfway.
         */
        /* fault point "write:BASENAME": write:state, write:wrapper.conf, ... */
        char point[64];
        const char *base = strrchr(path, '/');
        snprintf(point, sizeof(point), "write:%s", base ? base + 1 : path);
        int r = vh_fault_point(point);
        if (r == 0)
                r = vh_write_all(fd, data, len);
        if (r == 0) {
                int fd2 = TAKE_FD(fd);
                if (close(fd2) < 0 && errno != EINTR)
                        r = -errno;
        }
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void)unlink(tmp);
                return vh_fail(err, -r, "cannot write %s", path);
        }
        return 0;
}

int vh_mkdir_p(const char *path, mode_t mode, vh_error **err)
{
        /* The common case, on every hook call: it exists. */
        struct stat st;
        if (stat(path, &st) == 0) {
                if (!S_ISDIR(st.st_mode))
                        return vh_fail(err, ENOTDIR, "%s", path);
                return 0;
        }
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return vh_fail(err, ENOMEM, "mkdir %s", path);
        for (char *s = p + 1; *s; s++) {
                if (*s != '/')
                        continue;
                *s = '\0';
                if (mkdir(p, mode) < 0 && errno != EEXIST)
                        return vh_fail(err, errno, "cannot create directory %s", p);
                *s = '/';
        }
        if (mkdir(p, mode) < 0 && errno != EEXIST)
                return vh_fail(err, errno, "cannot create directory %s", p);
        if (stat(p, &st) < 0)
                return vh_fail(err, errno, "cannot stat %s", p);
        if (!S_ISDIR(st.st_mode))
                return vh_fail(err, ENOTDIR, "%s", p);
        return 0;
}
