/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/xattr.h>
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

int vh_write_all_iov(int fd, const struct iovec *iov, size_t n)
{
        for (size_t i = 0; i < n;) {
                ssize_t w = writev(fd, iov + i, (int)(n - i < IOV_MAX ? n - i : IOV_MAX));
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                size_t left = (size_t)w, before = i;
                while (i < n && left >= iov[i].iov_len) /* whole pieces, empty ones too */
                        left -= iov[i++].iov_len;
                if (left > 0) {
                        /* a short write cut piece i: its rest, then on from the next one */
                        int r = vh_write_all(fd, (const char *)iov[i].iov_base + left, iov[i].iov_len - left);
                        if (r < 0)
                                return r;
                        i++;
                } else if (i == before) {
                        return -EIO; /* nothing written of a piece that is not empty */
                }
        }
        return 0;
}

/*
 * Straight into the buffer, which starts at `hint` bytes (the size fstat
 * gave; 0: unknown) and doubles when the file is longer: the state table
 * of 1000 VMs (130 KB) is one read, not nine reads copied and reallocated.
 */
static int read_fd_sized(int fd, size_t limit, size_t hint, char **ret, size_t *ret_len, vh_error **err)
{
        _cleanup_buf_ vh_buf b = { 0 };
        if (limit > SIZE_MAX / 4)
                limit = SIZE_MAX / 4;
        size_t want = hint > 0 && hint < limit ? hint + 1 : 16384;
        if (vh_buf_reserve(&b, want) < 0)
                return vh_fail(err, ENOMEM, "read");
        b.data[0] = '\0';
        for (;;) {
                if (b.cap - b.len < 2 && vh_buf_reserve(&b, b.cap) < 0)
                        return vh_fail(err, ENOMEM, "read");
                /* at most one byte past the limit: enough to tell that it is too long */
                size_t room = b.cap - 1 - b.len;
                if (room > limit + 1 - b.len)
                        room = limit + 1 - b.len;
                ssize_t n = read(fd, b.data + b.len, room);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return vh_fail(err, errno, "read");
                }
                if (n == 0)
                        break;
                b.len += (size_t)n;
                b.data[b.len] = '\0';
                if (b.len > limit)
                        return vh_fail(err, EFBIG, "more than %zu bytes", limit);
        }
        if (memchr(b.data, '\0', b.len))
                return vh_fail_input(err, "contains a NUL byte");
        if (ret_len)
                *ret_len = b.len;
        *ret = TAKE_PTR(b.data);
        return 0;
}

int vh_read_fd(int fd, size_t limit, char **ret, size_t *ret_len, vh_error **err)
{
        return read_fd_sized(fd, limit, 0, ret, ret_len, err);
}

static int read_file(const char *path, bool trusted, size_t limit, char **ret, size_t *ret_len, vh_error **err)
{
        /* O_NONBLOCK: a FIFO in place of a config file must not hang libvirt. */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (trusted ? O_NOFOLLOW : 0));
        if (fd < 0) {
                if (trusted && errno == ELOOP)
                        return vh_fail(err, ELOOP, "%s is a symlink; not trusted (vmhooks writes a file there)", path);
                return vh_fail(err, errno, "cannot open %s", path);
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return vh_fail(err, errno, "cannot stat %s", path);
        if (S_ISDIR(st.st_mode))
                return vh_fail(err, EISDIR, "cannot read %s", path);
        if (!S_ISREG(st.st_mode))
                return vh_fail_input(err, "cannot read %s: not a regular file", path);
        if (trusted && st.st_uid != 0 && st.st_uid != geteuid())
                return vh_fail(err, EPERM, "%s is owned by uid %u, not root; not trusted", path, (unsigned)st.st_uid);
        if (trusted && (st.st_mode & (S_IWGRP | S_IWOTH)))
                return vh_fail(err, EPERM, "%s is writable by %s (mode %04o); not trusted", path,
                               (st.st_mode & S_IWOTH) ? "everyone" : "its group", (unsigned)(st.st_mode & 07777));
        int r = read_fd_sized(fd, limit, (size_t)st.st_size, ret, ret_len, err);
        if (r < 0)
                return vh_error_wrap(err, "%s", path);
        return 0;
}

int vh_read_file(const char *path, size_t limit, char **ret, size_t *ret_len, vh_error **err)
{
        return read_file(path, false, limit, ret, ret_len, err);
}

int vh_read_file_trusted(const char *path, size_t limit, char **ret, size_t *ret_len, vh_error **err)
{
        return read_file(path, true, limit, ret, ret_len, err);
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

int vh_read_at(int dir_fd, const char *path, char *buf, size_t size, size_t *ret_len, vh_error **err)
{
        if (size < 2)
                return vh_fail(err, EINVAL, "%s: no room to read it into", path);
        _cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return vh_fail(err, errno, "cannot open %s", path);
        ssize_t n;
        do
                n = read(fd, buf, size - 1);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return vh_fail(err, errno, "cannot read %s", path);
        if ((size_t)n == size - 1)
                return vh_fail(err, EFBIG, "%s: %zu bytes or more", path, size - 1);
        if (memchr(buf, '\0', (size_t)n))
                return vh_fail_input(err, "%s contains a NUL byte", path);
        buf[n] = '\0';
        if (ret_len)
                *ret_len = (size_t)n;
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

static int write_atomic(const char *path, const struct iovec *iov, size_t n, mode_t mode, const char *selinux_ctx,
                        bool durable, vh_error **err);

int vh_write_atomic(const char *path, const char *data, size_t len, mode_t mode, vh_error **err)
{
        struct iovec one = { (void *)data, len };
        return write_atomic(path, &one, 1, mode, NULL, false, err);
}

int vh_write_atomic_iov(const char *path, const struct iovec *iov, size_t n, mode_t mode, vh_error **err)
{
        return write_atomic(path, iov, n, mode, NULL, false, err);
}

int vh_write_atomic_labeled(const char *path, const char *data, size_t len, mode_t mode, const char *selinux_ctx,
                            vh_error **err)
{
        struct iovec one = { (void *)data, len };
        return write_atomic(path, &one, 1, mode, selinux_ctx, false, err);
}

int vh_write_atomic_durable(const char *path, const char *data, size_t len, mode_t mode, vh_error **err)
{
        struct iovec one = { (void *)data, len };
        return write_atomic(path, &one, 1, mode, NULL, true, err);
}

static int write_atomic(const char *path, const struct iovec *iov, size_t n, mode_t mode, const char *selinux_ctx,
                        bool durable, vh_error **err)
{
        /*
         * A new temporary file of our own (O_EXCL, a random name: nothing
         * planted there is opened or followed), its mode set on the fd
         * before the rename (whatever the umask; never a window with the
         * final name and another mode).  The owner is the creator: root in
         * the hook, so no fchown is needed.
         */
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0)
                return vh_fail(err, ENOMEM, "write %s", path);
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return vh_fail(err, errno, "cannot create a temporary file next to %s", path);
        if (fchmod(fd, mode) < 0) {
                int e = errno;
                (void)unlink(tmp);
                return vh_fail(err, e, "cannot set the mode of %s", tmp);
        }
        /* the SELinux label, like the mode, before the file has its name */
        if (selinux_ctx && fsetxattr(fd, "security.selinux", selinux_ctx, strlen(selinux_ctx) + 1, 0) < 0) {
                int e = errno;
                (void)unlink(tmp);
                return vh_fail(err, e, "cannot label %s %s", path, selinux_ctx);
        }
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
                r = vh_write_all_iov(fd, iov, n);
        /* on a disk (/etc): the data before the name, or a crash may leave an empty file under it */
        if (r == 0 && durable && fsync(fd) < 0)
                r = -errno;
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

/* "chmod/chown ..." that makes `path` what vh_dir_ensure wants. */
static char *dir_fix(const char *path, mode_t mode)
{
        char *s = NULL;
        if (asprintf(&s, "fix: chown root:root %s && chmod %04o %s (or remove it: vmhooks recreates it)", path,
                     (unsigned)mode, path) < 0)
                return NULL;
        return s;
}

int vh_dir_ensure(const char *path, mode_t mode, bool private_dir, vh_error **err)
{
        _cleanup_free_ char *parent = strdup(path);
        if (!parent)
                return vh_fail(err, ENOMEM, "mkdir %s", path);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
                *slash = '\0';
                int r = vh_mkdir_p(parent, 0755, err);
                if (r < 0)
                        return r;
        }
        bool created = mkdir(path, mode) == 0;
        if (!created && errno != EEXIST)
                return vh_fail(err, errno, "cannot create directory %s", path);
        /* O_NOFOLLOW: a symlink planted at the name is refused, not followed */
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                int e = errno;
                _cleanup_free_ char *fix = dir_fix(path, mode);
                if (e == ELOOP || e == ENOTDIR)
                        return vh_fail(err, e, "%s is not a directory (a symlink or a file); not using it; %s", path,
                                       fix ? fix : "");
                return vh_fail(err, e, "cannot open directory %s", path);
        }
        /* ours: the mode we asked for, whatever the umask */
        if (created && fchmod(fd, mode) < 0)
                return vh_fail(err, errno, "cannot chmod %s", path);
        struct stat st;
        if (fstat(fd, &st) < 0)
                return vh_fail(err, errno, "cannot stat %s", path);
        uid_t me = geteuid();
        const char *bad = NULL;
        char what[96];
        if (st.st_uid != 0 && st.st_uid != me) {
                snprintf(what, sizeof(what), "is owned by uid %u, not root", (unsigned)st.st_uid);
                bad = what;
        } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
                snprintf(what, sizeof(what), "is writable by %s (mode %04o)",
                         (st.st_mode & S_IWOTH) ? "everyone" : "its group", (unsigned)(st.st_mode & 07777));
                bad = what;
        } else if (private_dir && (st.st_mode & 077)) {
                snprintf(what, sizeof(what), "is open to others (mode %04o, expected %04o)",
                         (unsigned)(st.st_mode & 07777), (unsigned)mode);
                bad = what;
        }
        if (bad) {
                _cleanup_free_ char *fix = dir_fix(path, mode);
                return vh_fail(err, EPERM, "%s %s; not using it; %s", path, bad, fix ? fix : "");
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
