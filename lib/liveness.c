/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "liveness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "root.h"
#include "util.h"

int vh_proc_starttime(int pid, uint64_t *ret)
{
        char rel[64];
        snprintf(rel, sizeof(rel), "/proc/%d/stat", pid);
        _cleanup_free_ char *path = vh_path(rel);
        if (!path)
                return -ENOMEM;
        /* open, read, close into the stack: the sweep reads a slice of these on every call */
        char text[4096];
        int r = vh_read_at(AT_FDCWD, path, text, sizeof(text), NULL, NULL);
        if (r < 0)
                return r;
        /* comm may hold spaces and parentheses: fields restart after the last ')'. */
        const char *p = strrchr(text, ')');
        if (!p)
                return -EINVAL;
        p++;
        /* p is at field 3 ("state"); start time is field 22. */
        for (int field = 3; field < 22; field++) {
                p += strspn(p, " ");
                p += strcspn(p, " ");
                if (!*p)
                        return -EINVAL;
        }
        p += strspn(p, " ");
        char num[32];
        size_t n = strcspn(p, " \n");
        if (n == 0 || n >= sizeof(num))
                return -EINVAL;
        memcpy(num, p, n);
        num[n] = '\0';
        return vh_parse_u64(num, UINT64_MAX, ret);
}

int vh_libvirt_escape_name(const char *name, char **ret)
{
        _cleanup_buf_ vh_buf b = { 0 };
        int r = vh_buf_puts(&b, "");
        for (const unsigned char *p = (const unsigned char *)name; r == 0 && *p; p++) {
                switch (*p) {
                case '<': r = vh_buf_puts(&b, "&lt;"); break;
                case '>': r = vh_buf_puts(&b, "&gt;"); break;
                case '&': r = vh_buf_puts(&b, "&amp;"); break;
                case '"': r = vh_buf_puts(&b, "&quot;"); break;
                case '\'': r = vh_buf_puts(&b, "&apos;"); break;
                default:
                        /* libvirt's list of dropped bytes: 0x01-0x19 except \t \n \r (0x1a-0x1f are kept) */
                        if (*p <= 0x19 && *p != '\t' && *p != '\n' && *p != '\r')
                                break;
                        r = vh_buf_append(&b, (const char *)p, 1);
                }
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(b.data);
        return 0;
}

/* libvirt refuses '/' in a domain name; "." and ".." would name directories. */
static bool name_ok(const char *name)
{
        return name && *name && !strchr(name, '/') && !streq(name, ".") && !streq(name, "..");
}

char *vh_libvirt_pidfile(const char *name)
{
        _cleanup_free_ char *esc = NULL;
        if (!name_ok(name) || vh_libvirt_escape_name(name, &esc) < 0)
                return NULL;
        return vh_pathf(VH_LIBVIRT_QEMU_RUN "/%s.pid", esc);
}

char *vh_libvirt_statusfile(const char *name)
{
        if (!name_ok(name))
                return NULL;
        return vh_pathf(VH_LIBVIRT_QEMU_RUN "/%s.xml", name);
}

int vh_lock_holder(const char *path, int *ret_pid)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
                return -errno;
        /* F_GETLK needs no write access; the one who would block a write lock on byte 0 */
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 1 };
        if (fcntl(fd, F_GETLK, &fl) < 0)
                return -errno;
        if (fl.l_type == F_UNLCK)
                return 0;
        *ret_pid = fl.l_pid > 0 ? (int)fl.l_pid : 0;
        return 1;
}

int vh_read_qemu_pid(const char *name, int *ret_pid, vh_error **err)
{
        if (!name_ok(name))
                return vh_fail_input(err, "VM name \"%s\" cannot name a pidfile", name);
        _cleanup_free_ char *path = vh_libvirt_pidfile(name);
        if (!path)
                return vh_fail(err, ENOMEM, "pidfile");
        _cleanup_free_ char *text = NULL;
        int r = vh_read_line(path, &text, err);
        if (r < 0)
                return r;
        uint64_t pid;
        if (vh_parse_u64(text, INT32_MAX, &pid) < 0 || pid == 0)
                return vh_fail_input(err, "%s reads \"%s\"; expected a PID", path, text);
        *ret_pid = (int)pid;
        return 0;
}

bool vh_qemu_holds_pidfile(const char *name, int pid)
{
        _cleanup_free_ char *path = vh_libvirt_pidfile(name);
        int holder = 0;
        return path && pid > 0 && vh_lock_holder(path, &holder) == 1 && holder == pid;
}

int vh_reg_learn_pid(vh_reg *reg, vh_error **err)
{
        int pid;
        int r = vh_read_qemu_pid(reg->name, &pid, err);
        if (r < 0)
                return r;
        uint64_t start = 0;
        r = vh_proc_starttime(pid, &start);
        /* /proc may hide QEMU (hidepid=2, no capability): its lock on the pidfile says it runs */
        if (r < 0 && !vh_qemu_holds_pidfile(reg->name, pid))
                return vh_fail(err, -r, "QEMU PID %d of VM %s from its pidfile is not running", pid, reg->name);
        vh_reg_touch(reg);
        reg->pid = pid;
        reg->pidstart = r < 0 ? 0 : start;
        return 0;
}

static int caller_daemon;

void vh_liveness_set_caller(int ppid)
{
        caller_daemon = ppid > 1 ? ppid : 0;
}

void vh_reg_learn_daemon(vh_reg *reg)
{
        _cleanup_free_ char *path = vh_path(VH_LIBVIRT_DRIVER_PIDFILE);
        int holder = 0;
        /*
         * The daemon that runs the QEMU driver called us (a hook run by hand
         * names it too).  When no daemon holds the driver now, the one that
         * called us has died while we ran (we were waiting for the lock): it
         * is that parent, as the hook saw it at its start.  Neither known: 0,
         * and only the grace period judges the start.
         */
        int r = path ? vh_lock_holder(path, &holder) : -ENOMEM;
        if (r == 0)
                holder = caller_daemon > 0 ? caller_daemon : -1; /* the driver's lock is free: no daemon runs */
        else if (r < 0 || holder <= 0)
                holder = caller_daemon;
        uint64_t start = 0;
        if (holder <= 0 || vh_proc_starttime(holder, &start) < 0)
                start = 0;
        vh_reg_touch(reg);
        reg->daemon = holder;
        reg->daemonstart = start;
}

/* ---- decisions ---- */

vh_alive vh_decide_alive(int pid, uint64_t start, const vh_proc_facts *f, const char **why)
{
        const char *w;
        vh_alive a;
        if (pid <= 0) {
                w = "no PID";
                a = VH_ALIVE_UNKNOWN;
        } else if (f->proc_seen && (start == 0 || f->proc_start == start)) {
                w = "/proc shows it";
                a = VH_ALIVE_YES;
        } else if (f->proc_seen) {
                w = "its PID now belongs to another process";
                a = VH_ALIVE_NO;
        } else if (f->lock == 1 && f->lock_pid == pid) {
                w = "it holds its lock";
                a = VH_ALIVE_YES;
        } else if (f->lock == 1 && f->lock_pid > 0) {
                w = "another process holds its lock";
                a = VH_ALIVE_NO;
        } else if (f->lock == -ENOENT && f->file_while_alive) {
                w = "its pidfile is gone";
                a = VH_ALIVE_NO;
        } else if (f->kill_errno == ESRCH) {
                w = "no such process";
                a = VH_ALIVE_NO;
        } else if (f->lock == 0) {
                /* libvirt locks it for the process's whole life: a free lock is a dead holder */
                w = "its lock is free";
                a = VH_ALIVE_NO;
        } else {
                w = "neither /proc nor a lock tells";
                a = VH_ALIVE_UNKNOWN;
        }
        if (why)
                *why = w;
        return a;
}

vh_alive vh_decide_starting(const vh_reg *reg, const vh_proc_facts *qemu, const vh_proc_facts *daemon,
                            const char **why)
{
        if (qemu->lock == 1) {
                if (why)
                        *why = "QEMU holds its pidfile";
                return VH_ALIVE_YES;
        }
        if (reg->daemon < 0) {
                /* registered while no daemon ran the QEMU driver (its daemon died before the call began) */
                if (why)
                        *why = "no daemon ran the QEMU driver when it registered";
                return VH_ALIVE_NO;
        }
        if (reg->daemon == 0) {
                if (why)
                        *why = "registered without its daemon";
                return VH_ALIVE_UNKNOWN;
        }
        const char *dwhy = NULL;
        vh_alive d = vh_decide_alive(reg->daemon, reg->daemonstart, daemon, &dwhy);
        if (why)
                *why = dwhy;
        /* daemon alive: still starting, or a stop we were not told of; only time decides */
        return d == VH_ALIVE_NO ? VH_ALIVE_NO : VH_ALIVE_UNKNOWN;
}

/* The facts about `pid`, whose libvirt lock file is `lockpath` (may be NULL). */
static void gather(int pid, const char *lockpath, vh_proc_facts *f)
{
        *f = (vh_proc_facts){ .lock = -ENOENT, .kill_errno = -1 };
        if (pid > 0 && vh_proc_starttime(pid, &f->proc_start) == 0) {
                f->proc_seen = true;
                return;
        }
        if (lockpath)
                f->lock = vh_lock_holder(lockpath, &f->lock_pid);
        /* kill(0) probes the real host: not under a test root */
        if (pid > 0 && !*vh_root())
                f->kill_errno = kill(pid, 0) == 0 ? 0 : errno;
}

static void set_why(char **ret, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_why(char **ret, const char *fmt, ...)
{
        if (!ret)
                return;
        va_list ap;
        va_start(ap, fmt);
        if (vasprintf(ret, fmt, ap) < 0)
                *ret = NULL;
        va_end(ap);
}

bool vh_reg_alive(vh_reg *reg, int64_t now, char **ret_why)
{
        _cleanup_free_ char *pidfile = vh_libvirt_pidfile(reg->name);
        vh_proc_facts qf;
        const char *w = NULL;
        if (reg->pid > 0) {
                gather(reg->pid, pidfile, &qf);
                qf.file_while_alive = true; /* libvirt removes it when QEMU stops */
                if (vh_decide_alive(reg->pid, reg->pidstart, &qf, &w) != VH_ALIVE_NO)
                        return true;
                set_why(ret_why, "its QEMU (PID %d) no longer runs: %s", reg->pid, w);
                return false;
        }
        /* Starting (prepare .. started) */
        qf = (vh_proc_facts){ .lock = -ENOENT, .kill_errno = -1 };
        if (pidfile)
                qf.lock = vh_lock_holder(pidfile, &qf.lock_pid);
        _cleanup_free_ char *driver = vh_path(VH_LIBVIRT_DRIVER_PIDFILE);
        vh_proc_facts df;
        gather(reg->daemon, driver, &df);
        vh_alive a = vh_decide_starting(reg, &qf, &df, &w);
        if (a == VH_ALIVE_YES) {
                (void)vh_reg_learn_pid(reg, NULL); /* QEMU runs: learn its PID when the file names it */
                return true;
        }
        if (a == VH_ALIVE_NO && reg->daemon < 0) {
                set_why(ret_why, "its start was abandoned: %s, and no QEMU runs for it", w);
                return false;
        }
        if (a == VH_ALIVE_NO) {
                set_why(ret_why, "its start was abandoned: the libvirt daemon that started it (PID %d) is gone (%s) "
                                 "and no QEMU runs for it", reg->daemon, w);
                return false;
        }
        if (now - reg->since < VH_START_GRACE_S)
                return true;
        if (vh_reg_learn_pid(reg, NULL) == 0)
                return true;
        set_why(ret_why, "no QEMU runs for it %lld s after prepare (%s)", (long long)(now - reg->since), w);
        return false;
}

bool vh_reg_running(vh_reg *reg, int64_t now)
{
        return vh_reg_alive(reg, now, NULL);
}

static int cmp_int(const void *a, const void *b)
{
        int x = *(const int *)a, y = *(const int *)b;
        return (x > y) - (x < y);
}

void vh_pidset_done(vh_pidset *s)
{
        free(s->pids);
        s->pids = NULL;
        s->n = 0;
}

int vh_pidset_load(vh_pidset *ret, vh_error **err)
{
        _cleanup_free_ char *path = vh_path("/proc");
        if (!path)
                return vh_fail(err, ENOMEM, "/proc");
        DIR *d = opendir(path);
        if (!d)
                return vh_fail(err, errno, "cannot list %s", path);
        vh_pidset s = { 0 };
        size_t cap = 0;
        int r = 0;
        for (struct dirent *de; (de = readdir(d));) {
                uint64_t pid;
                if (de->d_name[0] < '1' || de->d_name[0] > '9' || vh_parse_u64(de->d_name, INT32_MAX, &pid) < 0)
                        continue;
                if (s.n == cap) {
                        cap = cap ? cap * 2 : 1024;
                        int *p = realloc(s.pids, cap * sizeof(*p));
                        if (!p) {
                                r = vh_fail(err, ENOMEM, "/proc");
                                break;
                        }
                        s.pids = p;
                }
                s.pids[s.n++] = (int)pid;
        }
        closedir(d);
        if (r < 0) {
                vh_pidset_done(&s);
                return r;
        }
        /* procfs lists PIDs in ascending order (tmpfs, in tests, in descending): sort only otherwise */
        bool up = true, down = true;
        for (size_t i = 1; i < s.n && (up || down); i++) {
                up = up && s.pids[i - 1] < s.pids[i];
                down = down && s.pids[i - 1] > s.pids[i];
        }
        if (down && !up)
                for (size_t i = 0, j = s.n - 1; i < j; i++, j--) {
                        int t = s.pids[i];
                        s.pids[i] = s.pids[j];
                        s.pids[j] = t;
                }
        else if (!up)
                qsort(s.pids, s.n, sizeof(*s.pids), cmp_int);
        vh_pidset_done(ret);
        *ret = s;
        return 0;
}

bool vh_pidset_has(const vh_pidset *s, int pid)
{
        return s->n && bsearch(&pid, s->pids, s->n, sizeof(*s->pids), cmp_int);
}
