/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "retry.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "checks.h"
#include "cleanup.h"
#include "detach.h"
#include "fileio.h"
#include "lifecycle.h"
#include "liveness.h"
#include "log.h"
#include "root.h"
#include "util.h"

int vh_retry_parse_delays(const char *s, unsigned *ret, size_t max)
{
        if (streq(s, "off"))
                return 0;
        size_t n = 0;
        for (const char *p = s;; p++) {
                char num[16];
                size_t len = strcspn(p, ",");
                uint64_t v;
                if (len == 0 || len >= sizeof(num) || n == max)
                        return -EINVAL;
                memcpy(num, p, len);
                num[len] = '\0';
                if (vh_parse_u64(num, 600000, &v) < 0)
                        return -EINVAL;
                ret[n++] = (unsigned)v;
                p += len;
                if (!*p)
                        return (int)n;
        }
}

/* The delays this build and environment use; 0: no retrier. */
static size_t schedule(unsigned *delays)
{
        static const unsigned product[] = VH_RETRY_DELAYS_MS;
#ifdef VH_TEST_SEAMS
        const char *s = secure_getenv("VMHOOKS_RETRY_DELAYS");
        if (s) {
                int n = vh_retry_parse_delays(s, delays, VH_RETRY_MAX_DELAYS);
                return n > 0 ? (size_t)n : 0;
        }
        /* a fake root or an injected fault: the test says when, or there is none */
        if (secure_getenv("VMHOOKS_ROOT") || secure_getenv("VMHOOKS_FAULT"))
                return 0;
#endif
        memcpy(delays, product, sizeof(product));
        return ELEMENTSOF(product);
}

/* Open (creating it) and flock one of the retrier's lock files; -EWOULDBLOCK when `nonblocking` and held. */
static int take_lock(const char *rel, bool nonblocking, int *ret_fd)
{
        _cleanup_free_ char *dir = vh_path(VH_STATE_DIR);
        _cleanup_free_ char *path = vh_path(rel);
        if (!dir || !path)
                return -ENOMEM;
        int r = vh_dir_ensure(dir, 0700, true, NULL);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        while (flock(fd, LOCK_EX | (nonblocking ? LOCK_NB : 0)) < 0)
                if (errno != EINTR)
                        return -errno;
        *ret_fd = TAKE_FD(fd);
        return 0;
}

static void sleep_ms(unsigned ms)
{
        struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
        while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
                ;
}

typedef struct retrier {
        vh_logger log;
        bool last;      /* the last try: its failures are logged too */
} retrier;

static void retrier_done(retrier *rt)
{
        vh_txn_set_write_logger(NULL, NULL);
        vh_log_close(&rt->log);
}

/* Every write of a try as it happens; a failed one only at the last try (the call that started us logged it). */
static void log_writes(vh_txn_result *res, void *userdata)
{
        retrier *rt = userdata;
        for (size_t i = res->n_logged; i < res->report.n; i++) {
                const vh_change *c = &res->report.changes[i];
                if (!vh_change_is_note(c->kind) && (c->kind != VH_CHANGE_FAILED || rt->last))
                        (void)vh_log_change(&rt->log, c);
        }
        res->n_logged = res->report.n;
}

vh_retry_end vh_retry_run(const char *vm, const char *call, const unsigned *delays_ms, size_t n)
{
        /* one waits, one runs: a retrier that finds one waiting leaves the failure to it */
        _cleanup_close_ int wait_fd = -1, run_fd = -1;
        if (take_lock(VH_RETRY_WAIT_LOCK, true, &wait_fd) < 0)
                return VH_RETRY_LEFT;
        _cleanup_free_ char *what = vh_strf("retry after %s", call);
        _cleanup_(retrier_done) retrier rt = { 0 };
        vh_log_open(&rt.log, vm, what ? what : "retry");
        int r = take_lock(VH_RETRY_RUN_LOCK, false, &run_fd);
        if (r < 0) {
                (void)vh_log(&rt.log, "error: cannot lock %s%s: %s; the next hook call retries", vh_root(),
                             VH_RETRY_RUN_LOCK, strerror(-r));
                return VH_RETRY_BROKEN;
        }
        /* from here on, a failure saved by anyone is seen by one of our tries or by the next retrier */
        (void)close(TAKE_FD(wait_fd));
        vh_txn_set_write_logger(log_writes, &rt);
        unsigned waited = 0;
        bool acted = false;
        for (size_t i = 0; i < n; i++) {
                sleep_ms(delays_ms[i]);
                waited += delays_ms[i];
                rt.last = i + 1 == n;
                _cleanup_txn_ vh_txn_result res = { 0 };
                _cleanup_error_ vh_error *e = NULL;
                r = vh_txn_settle(&res, &e);
                vh_log_dropped(&rt.log, &res);
                log_writes(&res, &rt);
                if (r < 0 && r != -EINVAL) {
                        if (rt.last)
                                (void)vh_log(&rt.log, "error: %s", vh_error_msg(e));
                        continue;
                }
                acted = acted || res.report.n > 0 || res.n_dropped > 0;
                if (!res.retry_due) {
                        /* silent when an earlier retrier did it all (this one had waited for it) */
                        if (acted)
                                (void)vh_log(&rt.log, "nothing left to retry (try %zu, %u.%03u s after the call)",
                                             i + 1, waited / 1000, waited % 1000);
                        return VH_RETRY_SETTLED;
                }
        }
        (void)vh_log(&rt.log, "gave up after %zu tries over %u.%03u s; the next hook call or vmhooks restore "
                              "retries (vmhooks status shows what failed)",
                     n, waited / 1000, waited % 1000);
        return VH_RETRY_GAVE_UP;
}

typedef struct spawn_args {
        const char *vm, *call;
        const unsigned *delays;
        size_t n;
} spawn_args;

static void retrier_main(int keep_fd, void *arg)
{
        (void)keep_fd;
        spawn_args *a = arg;
        vh_liveness_set_caller(0); /* the daemon that called the hook is no witness any more */
        (void)vh_retry_run(a->vm, a->call, a->delays, a->n);
}

int vh_retry_spawn(const char *vm, const char *call)
{
        unsigned delays[VH_RETRY_MAX_DELAYS];
        size_t n = schedule(delays);
        if (n == 0)
                return 0;
        spawn_args a = { vm, call, delays, n };
        return vh_detach(-1, retrier_main, &a);
}
