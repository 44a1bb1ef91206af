/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * irqbalance.c — irqbalance's runtime socket: find it, read the banned CPUs
 * ("setup"), ban or unban ("settings cpus LIST|NULL").  The protocol and
 * its history are in irqbalance.h.
 */
#include "irqbalance.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cpuset.h"
#include "detach.h"
#include "fileio.h"
#include "root.h"
#include "util.h"

#define PID_MAX_VALUE 4194304u /* the kernel's PID_MAX_LIMIT */

/*
 * Is /proc/PID/comm "irqbalance"?  Read relative to the /proc directory
 * into the stack.  A process that exits meanwhile is not there.
 */
static bool named_irqbalance(DIR *proc, unsigned pid)
{
        char rel[32], comm[32];
        (void)snprintf(rel, sizeof(rel), "%u/comm", pid);
        return vh_read_at(dirfd(proc), rel, comm, sizeof(comm), NULL, NULL) == 0 && streq(comm, "irqbalance\n");
}

/* A candidate socket of irqbalance PID: kept when PID is a running irqbalance and lower than the one kept. */
static int consider(DIR *proc, unsigned pid, const char *name, unsigned *best, char **best_path)
{
        if ((*best && pid >= *best) || !named_irqbalance(proc, pid))
                return 0;
        char *n = strdup(name);
        if (!n)
                return -ENOMEM;
        free(*best_path);
        *best_path = n;
        *best = pid;
        return 0;
}

/*
 * The file sockets irqbalance names after its PID: 1.7+ in /run/irqbalance/,
 * 1.6 (SOCKET_TMPFS had a trailing slash: the same file), 1.5 in /var/run/
 * (often /run itself).  A few small directories, not every process.
 */
static int file_sockets(DIR *proc, unsigned *best, char **best_path)
{
        static const char *const dirs[] = { "/run/irqbalance/", "/var/run/", "/run/" };
        int r = 0;
        for (size_t i = 0; i < ELEMENTSOF(dirs) && r == 0 && !*best; i++) {
                _cleanup_free_ char *p = vh_path(dirs[i]);
                if (!p)
                        return -ENOMEM;
                _cleanup_closedir_ DIR *d = opendir(p);
                struct dirent *de;
                while (d && r == 0 && (de = readdir(d))) {
                        unsigned pid;
                        int end = 0;
                        struct stat st;
                        if (sscanf(de->d_name, "irqbalance%u.sock%n", &pid, &end) != 1 || de->d_name[end] != '\0' ||
                            pid == 0 || fstatat(dirfd(d), de->d_name, &st, 0) < 0 || !S_ISSOCK(st.st_mode))
                                continue;
                        char rel[96];
                        int at = snprintf(rel, sizeof(rel), "%s", dirs[i]);
                        (void)snprintf(rel + at, sizeof(rel) - (size_t)at, "irqbalance%u.sock", pid);
                        if (streq(rel + at, de->d_name)) /* the name irqbalance gives it (no leading zeros) */
                                r = consider(proc, pid, rel, best, best_path);
                }
        }
        return r;
}

/*
 * The abstract listening sockets in /proc/net/unix (this network
 * namespace): "@irqbalancePID.sock" (1.2-1.4) are candidates; *zero tells
 * whether a listener on the all-zero address exists (the fallback of 1.5
 * and later, which names no PID).
 */
static int abstract_sockets(DIR *proc, unsigned *best, char **best_path, bool *zero)
{
        *zero = false;
        _cleanup_free_ char *p = vh_path("/proc/net/unix");
        _cleanup_free_ char *text = NULL;
        if (!p)
                return -ENOMEM;
        if (vh_read_file(p, 16u * 1024 * 1024, &text, NULL, NULL) < 0)
                return 0;
        int r = 0;
        for (char *line = text, *next; r == 0 && line && *line; line = next) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                /* Num RefCount Protocol Flags Type St Inode Path; Flags 00010000: listening */
                unsigned long flags = 0, type = 0;
                int off = -1;
                if (sscanf(line, "%*s %*s %*s %lx %lx %*s %*s %n", &flags, &type, &off) < 2 || off < 0)
                        continue;
                if (!(flags & 0x10000ul) || type != 1)
                        continue;
                const char *name = line + off;
                unsigned pid;
                int end = 0;
                if (sscanf(name, "@irqbalance%u.sock%n", &pid, &end) == 1 && name[end] == '\0' && pid)
                        r = consider(proc, pid, name, best, best_path);
                else if (name[0] == '@' && strspn(name, "@") == strlen(name) &&
                         strlen(name) == sizeof(((struct sockaddr_un *)0)->sun_path))
                        *zero = true;
        }
        return r;
}

/* Is an irqbalance executable where the packages put it? */
static bool installed(void)
{
        static const char *const places[] = { "/usr/sbin/irqbalance", "/sbin/irqbalance", "/usr/local/sbin/irqbalance",
                                              "/usr/bin/irqbalance", "/usr/local/bin/irqbalance" };
        for (size_t i = 0; i < ELEMENTSOF(places); i++) {
                _cleanup_free_ char *p = vh_path(places[i]);
                struct stat st;
                if (p && stat(p, &st) == 0 && S_ISREG(st.st_mode))
                        return true;
        }
        return false;
}

int vh_irqbalance_find(unsigned flags, char **ret_path, char **why)
{
        *why = NULL;
        _cleanup_free_ char *proc = vh_path("/proc");
        if (!proc)
                return -ENOMEM;
        _cleanup_closedir_ DIR *d = opendir(proc);
        if (!d) {
                int e = errno;
                if (asprintf(why, "cannot look for irqbalance in %s: %s", proc, strerror(e)) < 0)
                        *why = NULL;
                /* -ENOENT means "no irqbalance runs", not "no /proc" */
                return e == ENOENT ? -ENXIO : -e;
        }
        /* 1. a socket named after a running irqbalance: the lowest PID's; file sockets first */
        unsigned best = 0;
        _cleanup_free_ char *best_path = NULL;
        bool zero = false;
        int r = file_sockets(d, &best, &best_path);
        if (r == 0 && !best)
                r = abstract_sockets(d, &best, &best_path, &zero);
        if (r < 0)
                return r;
        if (best) {
                *ret_path = TAKE_PTR(best_path);
                return 0;
        }
        /* 2. none: does one run at all?  Every process is looked at (1000 VMs are 1000 QEMUs) */
        if ((flags & VH_IRQBALANCE_QUICK) && !zero && !installed()) {
                *why = strdup("irqbalance does not run (it is not installed, and no irqbalance socket exists)");
                return -ENOENT;
        }
        unsigned first = 0, n = 0;
        struct dirent *de;
        while ((de = readdir(d))) {
                uint64_t pid;
                if (vh_parse_u64(de->d_name, PID_MAX_VALUE, &pid) < 0 || pid == 0 || !named_irqbalance(d, (unsigned)pid))
                        continue;
                n++;
                if (!first || pid < first)
                        first = (unsigned)pid;
        }
        if (n == 0) {
                *why = strdup("irqbalance does not run (no process named irqbalance in /proc)");
                return -ENOENT;
        }
        if (zero)
                return (*ret_path = strdup("@")) ? 0 : -ENOMEM;
        if (asprintf(why,
                     "irqbalance (pid %u) runs without a socket: no /run/irqbalance/irqbalance%u.sock and no "
                     "abstract one (irqbalance older than 1.2, or 1.9 or later built without irqbalance-ui, or "
                     "/run/irqbalance missing when it started), so vmhooks cannot ban the VMs' CPUs in it and "
                     "it may move IRQs back onto them; fix: " VH_IRQBALANCE_NOSOCKET_FIX,
                     first, first) < 0)
                *why = NULL;
        return -ENOTSUP;
}

static int64_t now_ms(void)
{
        struct timespec ts;
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Connect to PATH ("@NAME"/"@": abstract) with the timeout; *ret_fd. */
static int irqb_connect(const char *path, int *ret_fd, vh_error **err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        socklen_t len;
        if (path[0] == '@') {
                size_t n = strlen(path + 1);
                if (n + 1 > sizeof(sa.sun_path))
                        return vh_fail_input(err, "irqbalance socket %s: name too long (at most %zu bytes)", path,
                                             sizeof(sa.sun_path) - 1);
                memcpy(sa.sun_path + 1, path + 1, n);
                /* "@": the all-zero address of full length, as irqbalance binds its fallback */
                len = n ? (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n) : (socklen_t)sizeof(sa);
        } else {
                _cleanup_free_ char *p = vh_path(path);
                if (!p)
                        return -ENOMEM;
                if (strlen(p) >= sizeof(sa.sun_path))
                        return vh_fail_input(err, "irqbalance socket %s: path too long for a UNIX socket (at most %zu bytes)",
                                             p, sizeof(sa.sun_path) - 1);
                memcpy(sa.sun_path, p, strlen(p));
                len = (socklen_t)sizeof(sa);
        }
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return vh_fail(err, errno, "irqbalance socket %s: socket()", path);
        struct timeval tv = {.tv_sec = VH_IRQBALANCE_TIMEOUT_MS / 1000,
                             .tv_usec = (VH_IRQBALANCE_TIMEOUT_MS % 1000) * 1000};
        /* SO_SNDTIMEO also bounds connect() on a UNIX socket whose listen backlog is full */
        if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0)
                return vh_fail(err, errno, "irqbalance socket %s: setting its timeouts", path);
        int r;
        do
                r = connect(fd, (struct sockaddr *)&sa, len);
        while (r < 0 && errno == EINTR);
        if (r < 0) {
                int e = errno;
                if (e == EAGAIN || e == EINPROGRESS || e == ETIMEDOUT)
                        return vh_fail_input(err,
                                             "irqbalance socket %s: irqbalance accepted no connection within %d ms "
                                             "(busy or stuck); nothing was sent",
                                             path, VH_IRQBALANCE_TIMEOUT_MS);
                if (e == ENOENT || e == ECONNREFUSED)
                        return vh_fail(err, e, "irqbalance socket %s: nobody listens (irqbalance stopped or restarted?)",
                                       path);
                return vh_fail(err, e, "irqbalance socket %s: connect", path);
        }
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* One command in one sendmsg(), with our credentials (irqbalance obeys uid 0 only). */
static int irqb_send(int fd, const char *path, const char *cmd, vh_error **err)
{
        size_t n = strlen(cmd);
        struct iovec iov = {.iov_base = (void *)cmd, .iov_len = n};
        union {
                char buf[CMSG_SPACE(sizeof(struct ucred))];
                struct cmsghdr align;
        } ctl;
        memset(&ctl, 0, sizeof(ctl));
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_CREDENTIALS;
        c->cmsg_len = CMSG_LEN(sizeof(struct ucred));
        struct ucred cred = {.pid = getpid(), .uid = geteuid(), .gid = getegid()};
        memcpy(CMSG_DATA(c), &cred, sizeof(cred));
        ssize_t w;
        do
                w = sendmsg(fd, &msg, MSG_NOSIGNAL);
        while (w < 0 && errno == EINTR);
        if (w < 0) {
                if (errno == EAGAIN)
                        return vh_fail_input(err, "irqbalance socket %s: '%s' not sent within %d ms", path, cmd,
                                             VH_IRQBALANCE_TIMEOUT_MS);
                return vh_fail(err, errno, "irqbalance socket %s: sending '%s'", path, cmd);
        }
        if ((size_t)w != n)
                return vh_fail_input(err, "irqbalance socket %s: '%s': only %zd of %zu bytes sent", path, cmd, w, n);
        return 0;
}

/*
 * Read until irqbalance closes the connection, at most `limit` bytes, within
 * the timeout overall.  -ETIMEDOUT (*ret_len: what came so far) or -EFBIG.
 */
static int irqb_read_all(int fd, size_t limit, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = malloc(limit + 1);
        if (!buf)
                return -ENOMEM;
        size_t len = 0;
        int64_t deadline = now_ms() + VH_IRQBALANCE_TIMEOUT_MS;
        for (;;) {
                int64_t left = deadline - now_ms();
                if (left <= 0) {
                        *ret_len = len;
                        return -ETIMEDOUT;
                }
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                int p = poll(&pfd, 1, (int)left);
                if (p < 0 && errno == EINTR)
                        continue;
                if (p < 0)
                        return -errno;
                if (p == 0)
                        continue; /* the deadline check above ends it */
                /* one byte more than allowed tells "too long" from "exactly the limit" */
                ssize_t r = recv(fd, buf + len, limit + 1 - len, MSG_DONTWAIT);
                if (r < 0 && (errno == EINTR || errno == EAGAIN))
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        break;
                len += (size_t)r;
                if (len > limit)
                        return -EFBIG;
        }
        buf[len] = '\0';
        *ret_len = len;
        *ret = TAKE_PTR(buf);
        return 0;
}

static void drain_main(int fd, void *arg)
{
        (void)arg;
        int64_t deadline = now_ms() + (int64_t)VH_IRQBALANCE_DRAIN_S * 1000;
        char buf[4096];
        for (;;) {
                int64_t left = deadline - now_ms();
                if (left <= 0)
                        return;
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                int p = poll(&pfd, 1, (int)left);
                if (p < 0 && errno == EINTR)
                        continue;
                if (p <= 0)
                        return;
                ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
                if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
                        return;
        }
}

/*
 * A connection irqbalance has not answered is never just closed: it
 * accepts it later and answers 'setup' (and an empty connection too: it
 * takes what its buffer held last); on a closed socket that answer is a
 * SIGPIPE, which kills irqbalance wherever it does not ignore it (all but
 * systemd services, IgnoreSIGPIPE=yes).  A detached reader keeps the
 * connection open until irqbalance has answered and closed it.
 */
static void irqb_abandon(int fd)
{
        (void)vh_detach(fd, drain_main, NULL);
}

static int irqb_refuse_uid(const char *path, vh_error **err)
{
        /* irqbalance drops commands of any other uid without a word; a fake root means a test's fake server */
        if (geteuid() != 0 && !vh_root()[0])
                return vh_fail_input(err, "irqbalance socket %s: irqbalance obeys only uid 0, and this runs as uid %u",
                                     path, (unsigned)geteuid());
        return 0;
}

/* At most 64 bytes of untrusted text for a one-line message: anything but printable ASCII as '?'. */
static void quote64(const char *s, char out[static 65])
{
        size_t i = 0;
        for (; i < 64 && s[i]; i++)
                out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
        out[i] = '\0';
}

/* One "NAME VALUE " pair at *p: the number, p moved past it. */
static bool take_num(const char **p, const char *end, const char *name, uint64_t max, uint64_t *ret)
{
        size_t nl = strlen(name);
        if ((size_t)(end - *p) < nl + 2 || memcmp(*p, name, nl) != 0 || (*p)[nl] != ' ')
                return false;
        const char *v = *p + nl + 1;
        const char *sp = memchr(v, ' ', (size_t)(end - v));
        if (!sp || sp == v || (size_t)(sp - v) > 20)
                return false;
        char num[21];
        memcpy(num, v, (size_t)(sp - v));
        num[sp - v] = '\0';
        if (vh_parse_u64(num, max, ret) < 0)
                return false;
        *p = sp + 1;
        return true;
}

int vh_irqbalance_parse_setup(const char *reply, size_t len, char **ret_list, vh_error **err)
{
        static const char expected[] = "expected 'SLEEP N [IRQ N LOAD N DIFF N CLASS N ]...BANNED HEXMASK'";
        if (len == 0)
                return vh_fail_input(err, "empty reply (irqbalance answers 'setup' only to uid 0); %s", expected);
        if (memchr(reply, '\0', len))
                return vh_fail_input(err, "reply contains a NUL byte; %s", expected);
        const char *p = reply, *end = reply + len;
        uint64_t v;
        if (!take_num(&p, end, "SLEEP", INT32_MAX, &v))
                return vh_fail_input(err, "reply does not start with 'SLEEP N '; %s", expected);
        for (unsigned irqs = 0; (size_t)(end - p) >= 4 && memcmp(p, "IRQ ", 4) == 0; irqs++) {
                uint64_t irq, load, diff, cls;
                if (irqs >= 65536u || !take_num(&p, end, "IRQ", INT32_MAX, &irq) ||
                    !take_num(&p, end, "LOAD", UINT64_MAX, &load) || !take_num(&p, end, "DIFF", UINT64_MAX, &diff) ||
                    !take_num(&p, end, "CLASS", INT32_MAX, &cls))
                        return vh_fail_input(err, "malformed banned-IRQ entry at byte %td; %s", p - reply, expected);
        }
        const char *mask = startswith(p, "BANNED ");
        if (!mask || !*mask)
                return vh_fail_input(err, "no 'BANNED HEXMASK' at byte %td; %s", p - reply, expected);
        char shown[65];
        quote64(mask, shown);
        if (strspn(mask, "0123456789abcdefABCDEF,") != strlen(mask))
                return vh_fail_input(err, "BANNED '%s' is not a hex CPU mask; %s", shown, expected);
        _cleanup_cpuset_ vh_cpuset s = {0};
        _cleanup_error_ vh_error *inner = NULL;
        if (vh_cpuset_parse_mask(mask, &s, &inner) < 0)
                return vh_fail_input(err, "BANNED '%s': %s", shown, vh_error_msg(inner));
        char *list = vh_cpuset_format_list(&s);
        if (!list)
                return -ENOMEM;
        *ret_list = list;
        return 0;
}

int vh_irqbalance_get_banned(const char *path, char **ret_list, vh_error **err)
{
        int r = irqb_refuse_uid(path, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = -1;
        if ((r = irqb_connect(path, &fd, err)) < 0)
                return r;
        if ((r = irqb_send(fd, path, "setup", err)) < 0) {
                irqb_abandon(fd);
                return r;
        }
        _cleanup_free_ char *reply = NULL;
        size_t len = 0;
        r = irqb_read_all(fd, VH_IRQBALANCE_REPLY_MAX, &reply, &len);
        if (r == -ETIMEDOUT || r == -EFBIG)
                irqb_abandon(fd); /* its answer is still to come */
        if (r == -ETIMEDOUT)
                return vh_fail_input(err,
                                     "irqbalance socket %s: no complete reply to 'setup' within %d ms (%zu bytes "
                                     "came; irqbalance before 1.9.4 stops answering for its --interval after a rescan)",
                                     path, VH_IRQBALANCE_TIMEOUT_MS, len);
        if (r == -EFBIG)
                return vh_fail_input(err, "irqbalance socket %s: reply to 'setup' longer than %u bytes", path,
                                     VH_IRQBALANCE_REPLY_MAX);
        if (r < 0)
                return vh_fail(err, -r, "irqbalance socket %s: reading the reply to 'setup'", path);
        r = vh_irqbalance_parse_setup(reply, len, ret_list, err);
        if (r < 0)
                return vh_error_wrap(err, "irqbalance socket %s: reply to 'setup'", path);
        return 0;
}

int vh_irqbalance_set_banned(const char *path, const char *list, vh_error **err)
{
        _cleanup_cpuset_ vh_cpuset s = {0};
        _cleanup_error_ vh_error *inner = NULL;
        if (vh_cpuset_parse_list(list, &s, &inner) < 0)
                return vh_fail_input(err, "irqbalance socket %s: banned CPUs '%s': %s", path, list,
                                     vh_error_msg(inner));
        _cleanup_free_ char *canon = vh_cpuset_format_list(&s);
        if (!canon)
                return -ENOMEM;
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "settings cpus %s", canon[0] ? canon : "NULL") < 0)
                return -ENOMEM;
        if (strlen(cmd) > VH_IRQBALANCE_CMD_MAX)
                return vh_fail_input(err,
                                     "irqbalance socket %s: 'settings cpus %s' is %zu bytes; irqbalance before 1.9.5 "
                                     "reads at most %u",
                                     path, canon, strlen(cmd), VH_IRQBALANCE_CMD_MAX);
        int r = irqb_refuse_uid(path, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = -1;
        if ((r = irqb_connect(path, &fd, err)) < 0)
                return r;
        if ((r = irqb_send(fd, path, cmd, err)) < 0) {
                irqb_abandon(fd); /* an empty connection */
                return r;
        }
        /* no reply: irqbalance closes the connection once it has taken the command */
        _cleanup_free_ char *reply = NULL;
        size_t len = 0;
        r = irqb_read_all(fd, 256, &reply, &len);
        if ((r == -ETIMEDOUT && len > 0) || r == -EFBIG)
                irqb_abandon(fd); /* it answers what it should not: let it finish */
        if (r == -ETIMEDOUT && len == 0) {
                /* queued in the socket: irqbalance reads it when it wakes (the caller may count that as done) */
                (void)vh_fail_input(err,
                                     "irqbalance socket %s: '%s' sent, but irqbalance did not take it within %d ms "
                                     "(busy: before 1.9.4 it stops answering for its --interval after a rescan); it "
                                     "applies it when it reads it",
                                     path, cmd, VH_IRQBALANCE_TIMEOUT_MS);
                return -EINPROGRESS;
        }
        if (r == -ETIMEDOUT || r == -EFBIG || (r == 0 && len > 0))
                return vh_fail_input(err, "irqbalance socket %s: unexpected reply to '%s' (expected none)", path, cmd);
        if (r < 0 && r != -ECONNRESET)
                return vh_fail(err, -r, "irqbalance socket %s: after '%s'", path, cmd);
        return 0;
}
