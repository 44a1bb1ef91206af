/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * fileio.h — reading and writing whole files the way vmhooks needs:
 * bounded reads, sysfs-style writes (like `echo v > file`), and atomic
 * replacement (temp file + rename).  Every fd is O_CLOEXEC.
 */
#ifndef VH_FILEIO_H
#define VH_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "error.h"

/* Read at most `limit` bytes of `path`; more is an error (EFBIG). */
int vh_read_file(const char *path, size_t limit, char **ret, size_t *ret_len, vh_error **err);

/*
 * The same for a file vmhooks itself wrote and others must not have
 * replaced (the wrapper's plan, wrapper.conf): not a symlink (O_NOFOLLOW),
 * a regular file owned by root (or the caller), writable by no group or
 * other; otherwise an error that says which.
 */
int vh_read_file_trusted(const char *path, size_t limit, char **ret, size_t *ret_len, vh_error **err);

/* Read an fd to EOF, at most `limit` bytes (EFBIG beyond). */
int vh_read_fd(int fd, size_t limit, char **ret, size_t *ret_len, vh_error **err);

/* Read a one-line file (sysfs knob) with trailing whitespace stripped. */
int vh_read_line(const char *path, char **ret, vh_error **err);

/*
 * Read the small file `path`, relative to the open directory `dir_fd`
 * (openat: /proc/PID/comm with /proc open, no path built for each
 * process), into `buf`, NUL-terminated, with one read(2) and no
 * allocation: procfs and sysfs hand a small file whole to a read with room
 * for it.  -EFBIG when it fills `size - 1` bytes (it may be longer),
 * -EINVAL when it holds a NUL byte; on failure `buf` holds nothing to use.
 * *ret_len (may be NULL) is its length.
 */
int vh_read_at(int dir_fd, const char *path, char *buf, size_t size, size_t *ret_len, vh_error **err);

/*
 * Write "value\n" with O_WRONLY|O_TRUNC, as `echo value > path` does, and
 * report the kernel's answer (EINVAL, EACCES, EROFS, ...).
 */
int vh_write_sysfs(const char *path, const char *value, vh_error **err);

/* Write data to path atomically: path.tmp.PID, then rename (no fsync: for tmpfs). */
int vh_write_atomic(const char *path, const char *data, size_t len, mode_t mode, vh_error **err);
/* The same for data in pieces (writev): the state table writes its unchanged lines from where it read them. */
int vh_write_atomic_iov(const char *path, const struct iovec *iov, size_t n, mode_t mode, vh_error **err);

/*
 * The directory vmhooks writes into: created (parents 0755) with `mode`
 * exactly, or, when it exists, checked: a directory (not a symlink), owned
 * by root (or by the calling user: tests, the wrapper), writable by no
 * group or other, and with `private_dir` open to nobody else (0700).
 * Otherwise -EPERM/-ELOOP/-ENOTDIR with one line that names it, what is
 * wrong and the fix: vmhooks then writes nothing there.
 */
int vh_dir_ensure(const char *path, mode_t mode, bool private_dir, vh_error **err);

/* The same, the new file labelled `selinux_ctx` (security.selinux) before the rename. */
int vh_write_atomic_labeled(const char *path, const char *data, size_t len, mode_t mode, const char *selinux_ctx,
                            vh_error **err);

/* The same, fsync'd before the rename: for files on a disk (/etc/apparmor.d), not tmpfs. */
int vh_write_atomic_durable(const char *path, const char *data, size_t len, mode_t mode, vh_error **err);

/* mkdir -p with the given mode for created components. */
int vh_mkdir_p(const char *path, mode_t mode, vh_error **err);

/* Write all of buf to fd, retrying on EINTR and short writes. */
int vh_write_all(int fd, const char *buf, size_t len);
/* The same for iov[0..n) in order (any n: IOV_MAX pieces a writev). */
int vh_write_all_iov(int fd, const struct iovec *iov, size_t n);

#endif
