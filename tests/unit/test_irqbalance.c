/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * lib/irqbalance.c against a fake irqbalance: a thread listening on the
 * socket under a fake root, speaking irqbalance 1.9's protocol (one command
 * per connection, SCM_CREDENTIALS, "setup" answered, "settings" not), and
 * misbehaving on purpose: garbage, oversized replies, silence, a dribble, a
 * full listen backlog, nobody listening.  The real irqbalance is asked in
 * tests/integration/t-irqbalance.sh.
 */
#include "testutil.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "error.h"
#include "irqbalance.h"
#include "root.h"

#define SOCK_REL "/run/irqbalance/irqbalance4242.sock"

enum behaviour {
        B_REPLY,      /* read the command, send `reply`, close */
        B_CLOSE,      /* read the command, close without a word (what "settings" gets) */
        B_SILENT,     /* read the command, hold the connection open until the client closes it */
        B_DRIBBLE,    /* send one byte every 100 ms, for 2 s or until the client closes */
        B_BIG,        /* send more than VH_IRQBALANCE_REPLY_MAX bytes */
        B_NO_ACCEPT,  /* never accept (the listener exists) */
        B_LATE,       /* read the command, answer `reply` 1.5 s later (after the client's timeout) */
};

typedef struct fake {
        int lfd;
        enum behaviour b;
        const char *reply;
        char got[1024]; /* the command as received */
        size_t got_len;
        int got_cred;   /* 1: SCM_CREDENTIALS with our uid and pid came with it */
        int accepted;
        int late_sent;  /* B_LATE: the late answer went out whole (no EPIPE: someone still reads) */
        pthread_t th;
} fake;

static void *serve(void *arg)
{
        fake *f = arg;
        if (f->b == B_NO_ACCEPT)
                return NULL;
        struct timeval tv = {.tv_sec = 3};
        (void)setsockopt(f->lfd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        int c = accept(f->lfd, NULL, NULL);
        if (c < 0)
                return NULL;
        f->accepted = 1;
        char ctl[CMSG_SPACE(sizeof(struct ucred))];
        struct iovec iov = {.iov_base = f->got, .iov_len = sizeof(f->got) - 1};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = sizeof(ctl)};
        ssize_t r = recvmsg(c, &m, 0); /* one recvmsg, as irqbalance does */
        if (r > 0) {
                f->got_len = (size_t)r;
                struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
                if (cm && cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_CREDENTIALS) {
                        struct ucred u;
                        memcpy(&u, CMSG_DATA(cm), sizeof(u));
                        f->got_cred = u.uid == geteuid() && u.pid == getpid();
                }
        }
        switch (f->b) {
        case B_REPLY:
                (void)!send(c, f->reply, strlen(f->reply), MSG_NOSIGNAL);
                break;
        case B_SILENT: {
                /* until the client gives up (its timeout) or 3 s */
                char b;
                (void)setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
                while (recv(c, &b, 1, 0) > 0)
                        ;
                break;
        }
        case B_LATE: {
                usleep(1500000);
                size_t n = strlen(f->reply);
                f->late_sent = send(c, f->reply, n, MSG_NOSIGNAL) == (ssize_t)n;
                break;
        }
        case B_DRIBBLE:
                for (int i = 0; i < 20; i++) {
                        if (send(c, "S", 1, MSG_NOSIGNAL) != 1)
                                break;
                        usleep(100000);
                }
                break;
        case B_BIG: {
                size_t n = VH_IRQBALANCE_REPLY_MAX + 4096;
                char *big = malloc(n);
                memset(big, 'A', n);
                size_t off = 0;
                while (off < n) {
                        ssize_t w = send(c, big + off, n - off, MSG_NOSIGNAL);
                        if (w <= 0)
                                break;
                        off += (size_t)w;
                }
                free(big);
                break;
        }
        default:
                break;
        }
        close(c);
        return NULL;
}

static int bind_at(const char *addr_path, int abstract)
{
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        socklen_t len = sizeof(sa);
        if (abstract) {
                memcpy(sa.sun_path + 1, addr_path, strlen(addr_path));
                len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(addr_path));
        } else {
                assert_true(strlen(addr_path) < sizeof(sa.sun_path));
                memcpy(sa.sun_path, addr_path, strlen(addr_path));
        }
        assert_int_equal(bind(fd, (struct sockaddr *)&sa, len), 0);
        int one = 1;
        assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)), 0);
        assert_int_equal(listen(fd, 1), 0);
        return fd;
}

static char *sock_abs(const char *root)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s%s", root, SOCK_REL) > 0);
        return p;
}

static void fake_start(fake *f, const char *root, enum behaviour b, const char *reply)
{
        memset(f, 0, sizeof(*f));
        tu_write(root, "/run/irqbalance/.keep", "");
        char *p = sock_abs(root);
        (void)unlink(p);
        f->lfd = bind_at(p, 0);
        free(p);
        f->b = b;
        f->reply = reply;
        assert_int_equal(pthread_create(&f->th, NULL, serve, f), 0);
}

static void fake_stop(fake *f)
{
        pthread_join(f->th, NULL);
        close(f->lfd);
        f->got[f->got_len] = '\0';
}

static int setup(void **state)
{
        *state = tu_mkroot();
        vh_root_reset();
        return 0;
}

static int teardown(void **state)
{
        tu_rmroot(*state);
        vh_root_reset();
        return 0;
}

static double elapsed_since(const struct timespec *t0)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- find ---- */

static void test_find(void **state)
{
        const char *root = *state;
        char *path = NULL, *why = NULL;

        tu_write(root, "/proc/1/comm", "init\n");
        tu_write(root, "/proc/77/comm", "irqbalance-ui\n");
        tu_write(root, "/proc/self/comm", "irqbalance\n"); /* not a PID: ignored */
        assert_int_equal(vh_irqbalance_find(0, &path, &why), -ENOENT);
        assert_null(path);
        tu_assert_contains(why, "irqbalance does not run");
        free(why);

        /* it runs, no socket anywhere: ENOTSUP, naming the PID and the way out */
        tu_write(root, "/proc/4242/comm", "irqbalance\n");
        tu_write(root, "/proc/net/unix", "Num       RefCount Protocol Flags    Type St Inode Path\n");
        /* quick (the hook): without a socket, /proc is scanned only when irqbalance is installed */
        assert_int_equal(vh_irqbalance_find(VH_IRQBALANCE_QUICK, &path, &why), -ENOENT);
        tu_assert_contains(why, "it is not installed, and no irqbalance socket exists");
        free(why);
        tu_write(root, "/usr/sbin/irqbalance", "#!/bin/sh\n");
        assert_int_equal(vh_irqbalance_find(VH_IRQBALANCE_QUICK, &path, &why), -ENOTSUP);
        free(why);
        assert_int_equal(vh_irqbalance_find(0, &path, &why), -ENOTSUP);
        assert_null(path);
        tu_assert_contains(why, "irqbalance (pid 4242) runs without a socket");
        tu_assert_contains(why, "/run/irqbalance/irqbalance4242.sock");
        tu_assert_contains(why, "IRQBALANCE_BANNED_CPULIST");
        free(why);

        /* a regular file by that name is not a socket */
        tu_write(root, SOCK_REL, "x");
        assert_int_equal(vh_irqbalance_find(0, &path, &why), -ENOTSUP);
        free(why);
        why = NULL;

        /* 1.2-1.4: the abstract name, listening (flags 00010000), stream; a non-listening one is not it */
        tu_write(root, "/proc/net/unix",
                 "Num       RefCount Protocol Flags    Type St Inode Path\n"
                 "0000000000000000: 00000003 00000000 00000000 0001 03 11111 @irqbalance4242.sock\n");
        assert_int_equal(vh_irqbalance_find(0, &path, &why), -ENOTSUP);
        free(why);
        why = NULL;
        tu_write(root, "/proc/net/unix",
                 "Num       RefCount Protocol Flags    Type St Inode Path\n"
                 "0000000000000000: 00000002 00000000 00010000 0001 01 22222 /run/other.sock\n"
                 "0000000000000000: 00000002 00000000 00010000 0001 01 12345 @irqbalance4242.sock\n");
        assert_int_equal(vh_irqbalance_find(0, &path, &why), 0);
        assert_null(why);
        assert_string_equal(path, "@irqbalance4242.sock");
        free(path);
        path = NULL;

        /* 1.5+ fallback: the all-zero abstract address, shown as 108 '@' */
        char line[400];
        char ats[109];
        memset(ats, '@', 108);
        ats[108] = '\0';
        snprintf(line, sizeof(line),
                 "Num       RefCount Protocol Flags    Type St Inode Path\n"
                 "0000000000000000: 00000002 00000000 00010000 0001 01 12345 %s\n", ats);
        tu_write(root, "/proc/net/unix", line);
        assert_int_equal(vh_irqbalance_find(0, &path, &why), 0);
        assert_string_equal(path, "@");
        free(path);
        path = NULL;

        tu_write(root, "/proc/net/unix", "Num       RefCount Protocol Flags    Type St Inode Path\n");
        /* a file socket wins over the abstract one; of two irqbalance processes with sockets, the lower PID */
        char *p = sock_abs(root);
        unlink(p);
        int fd = bind_at(p, 0);
        tu_write(root, "/proc/9999/comm", "irqbalance\n");
        char *p2 = NULL;
        assert_true(asprintf(&p2, "%s/run/irqbalance/irqbalance9999.sock", root) > 0);
        int fd2 = bind_at(p2, 0);
        assert_int_equal(vh_irqbalance_find(0, &path, &why), 0);
        assert_string_equal(path, SOCK_REL);
        free(path);
        path = NULL;
        /* a socket of its own is found in quick mode too, installed or not */
        char *bin = NULL;
        assert_true(asprintf(&bin, "%s/usr/sbin/irqbalance", root) > 0);
        unlink(bin);
        free(bin);
        assert_int_equal(vh_irqbalance_find(VH_IRQBALANCE_QUICK, &path, &why), 0);
        assert_string_equal(path, SOCK_REL);
        free(path);
        path = NULL;
        close(fd);
        unlink(p);
        assert_int_equal(vh_irqbalance_find(0, &path, &why), 0);
        assert_string_equal(path, "/run/irqbalance/irqbalance9999.sock");
        free(path);
        close(fd2);
        unlink(p2);
        free(p);
        free(p2);
}

/* ---- get ---- */

static void expect_get(const char *root, const char *reply, const char *want)
{
        fake f;
        fake_start(&f, root, B_REPLY, reply);
        char *list = NULL;
        vh_error *err = NULL;
        int r = vh_irqbalance_get_banned(SOCK_REL, &list, &err);
        fake_stop(&f);
        if (r < 0)
                fail_msg("reply '%s': %s", reply, vh_error_msg(err));
        assert_string_equal(list, want);
        assert_string_equal(f.got, "setup");
        assert_int_equal(f.got_cred, 1);
        free(list);
}

static void test_get(void **state)
{
        const char *root = *state;
        expect_get(root, "SLEEP 10 BANNED 00000000", "");
        expect_get(root, "SLEEP 10 BANNED 0", "");
        expect_get(root, "SLEEP 10 BANNED 00000002", "1");
        expect_get(root, "SLEEP 1 BANNED 0000001a", "1,3-4");
        /* banned IRQs come between */
        expect_get(root, "SLEEP 10 IRQ 5 LOAD 0 DIFF 0 CLASS 3 IRQ 29 LOAD 123 DIFF 7 CLASS 0 BANNED 00000003", "0-1");
        /* more than 32 CPUs: comma groups, high group first */
        expect_get(root, "SLEEP 10 BANNED 00000001,00000000", "32");
        expect_get(root, "SLEEP 10 BANNED 80000000,00000000,00000001", "0,95");
}

static void expect_get_fails(const char *root, enum behaviour b, const char *reply, const char *msg)
{
        fake f;
        fake_start(&f, root, b, reply);
        char *list = NULL;
        vh_error *err = NULL;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        int r = vh_irqbalance_get_banned(SOCK_REL, &list, &err);
        double took = elapsed_since(&t0);
        fake_stop(&f);
        assert_true(r < 0);
        assert_null(list);
        tu_assert_contains(vh_error_msg(err), msg);
        tu_assert_contains(vh_error_msg(err), SOCK_REL); /* names the socket */
        assert_null(strchr(vh_error_msg(err), '\n'));     /* one line */
        /* never hangs: the whole exchange is bounded by the timeout (plus scheduling slack) */
        assert_true(took < 2.0 * VH_IRQBALANCE_TIMEOUT_MS / 1000.0);
        vh_error_free(err);
}

static void test_get_garbage(void **state)
{
        const char *root = *state;
        expect_get_fails(root, B_CLOSE, NULL, "empty reply");
        expect_get_fails(root, B_REPLY, "hello", "does not start with 'SLEEP N '");
        expect_get_fails(root, B_REPLY, "SLEEP x BANNED 1", "does not start with 'SLEEP N '");
        expect_get_fails(root, B_REPLY, "SLEEP 10 ", "no 'BANNED HEXMASK'");
        expect_get_fails(root, B_REPLY, "SLEEP 10 BANNED ", "no 'BANNED HEXMASK'");
        expect_get_fails(root, B_REPLY, "SLEEP 10 BANNED zz", "is not a hex CPU mask");
        expect_get_fails(root, B_REPLY, "SLEEP 10 BANNED 1 2", "is not a hex CPU mask");
        expect_get_fails(root, B_REPLY, "SLEEP 10 BANNED 1\n", "is not a hex CPU mask");
        expect_get_fails(root, B_REPLY, "SLEEP 10 IRQ 5 LOAD x DIFF 0 CLASS 3 BANNED 1", "malformed banned-IRQ entry");
        expect_get_fails(root, B_REPLY, "SLEEP 10 IRQ 5 BANNED 1", "malformed banned-IRQ entry");
        expect_get_fails(root, B_REPLY, "SLEEP 99999999999 BANNED 1", "does not start with 'SLEEP N '");
        expect_get_fails(root, B_BIG, NULL, "longer than");
}

static void test_get_timeouts(void **state)
{
        const char *root = *state;
        /* accepted, read, never answered */
        expect_get_fails(root, B_SILENT, NULL, "no complete reply to 'setup' within 1000 ms (0 bytes came");
        /* a byte every 100 ms: the timeout is for the whole reply, not per read */
        expect_get_fails(root, B_DRIBBLE, NULL, "no complete reply to 'setup' within 1000 ms");
}

/*
 * The answer to a 'setup' the client gave up on still finds a reader:
 * irqbalance writes it without MSG_NOSIGNAL and does not ignore SIGPIPE.
 */
static void test_late_answer_is_read(void **state)
{
        const char *root = *state;
        fake f;
        fake_start(&f, root, B_LATE, "SLEEP 10 BANNED 2");
        char *list = NULL;
        vh_error *err = NULL;
        assert_true(vh_irqbalance_get_banned(SOCK_REL, &list, &err) < 0);
        tu_assert_contains(vh_error_msg(err), "no complete reply to 'setup' within 1000 ms");
        vh_error_free(err);
        fake_stop(&f);
        assert_int_equal(f.late_sent, 1);
}

static void test_connect_timeout(void **state)
{
        const char *root = *state;
        /* a listener that never accepts, its backlog filled by two other clients: connect() would block forever */
        fake f;
        fake_start(&f, root, B_NO_ACCEPT, NULL);
        char *p = sock_abs(root);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        memcpy(sa.sun_path, p, strlen(p));
        int fill[4];
        int nfill = 0;
        for (; nfill < 4; nfill++) {
                fill[nfill] = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
                if (connect(fill[nfill], (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                        close(fill[nfill]);
                        break;
                }
        }
        assert_true(nfill >= 1 && nfill < 4); /* the backlog is full now */
        char *list = NULL;
        vh_error *err = NULL;
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_true(vh_irqbalance_get_banned(SOCK_REL, &list, &err) < 0);
        assert_true(elapsed_since(&t0) < 2.0);
        tu_assert_contains(vh_error_msg(err), "accepted no connection within 1000 ms");
        vh_error_free(err);
        err = NULL;
        assert_true(vh_irqbalance_set_banned(SOCK_REL, "1", &err) < 0);
        tu_assert_contains(vh_error_msg(err), "nothing was sent");
        vh_error_free(err);
        for (int i = 0; i < nfill; i++)
                close(fill[i]);
        fake_stop(&f);
        free(p);
}

static void test_nobody_listens(void **state)
{
        const char *root = *state;
        /* a stale socket file (irqbalance was killed) */
        tu_write(root, "/run/irqbalance/.keep", "");
        char *p = sock_abs(root);
        unlink(p);
        int fd = bind_at(p, 0);
        close(fd);
        vh_error *err = NULL;
        char *list = NULL;
        assert_int_equal(vh_irqbalance_get_banned(SOCK_REL, &list, &err), -ECONNREFUSED);
        tu_assert_contains(vh_error_msg(err), "nobody listens");
        vh_error_free(err);
        err = NULL;
        unlink(p);
        assert_int_equal(vh_irqbalance_set_banned(SOCK_REL, "1", &err), -ENOENT);
        tu_assert_contains(vh_error_msg(err), SOCK_REL);
        vh_error_free(err);
        free(p);
}

/* ---- set ---- */

static void expect_set(const char *root, const char *list, const char *want_cmd)
{
        fake f;
        fake_start(&f, root, B_CLOSE, NULL);
        vh_error *err = NULL;
        int r = vh_irqbalance_set_banned(SOCK_REL, list, &err);
        fake_stop(&f);
        if (r < 0)
                fail_msg("set '%s': %s", list, vh_error_msg(err));
        assert_string_equal(f.got, want_cmd);
        assert_int_equal(f.got_len, strlen(want_cmd)); /* no NUL, no newline: irqbalance parses the bytes it got */
        assert_int_equal(f.got_cred, 1);
}

static void test_set(void **state)
{
        const char *root = *state;
        expect_set(root, "1", "settings cpus 1");
        expect_set(root, "3,1-2,5", "settings cpus 1-3,5"); /* canonical */
        expect_set(root, "", "settings cpus NULL");          /* the ban lifted */
}

static void test_set_refused(void **state)
{
        const char *root = *state;
        vh_error *err = NULL;
        /* bad list: nothing is sent (no listener even exists) */
        assert_int_equal(vh_irqbalance_set_banned(SOCK_REL, "1-x", &err), -EINVAL);
        tu_assert_contains(vh_error_msg(err), "banned CPUs '1-x'");
        vh_error_free(err);
        err = NULL;
        /* a list irqbalance before 1.9.5 would cut at 500 bytes */
        char big[2000] = "";
        for (int c = 0; c < 400; c += 2)
                snprintf(big + strlen(big), sizeof(big) - strlen(big), "%s%d", c ? "," : "", c);
        assert_int_equal(vh_irqbalance_set_banned(SOCK_REL, big, &err), -EINVAL);
        tu_assert_contains(vh_error_msg(err), "reads at most 500");
        vh_error_free(err);
        err = NULL;

        /* a reply where none is due */
        fake f;
        fake_start(&f, root, B_REPLY, "SLEEP 10 BANNED 0");
        assert_true(vh_irqbalance_set_banned(SOCK_REL, "1", &err) < 0);
        fake_stop(&f);
        tu_assert_contains(vh_error_msg(err), "unexpected reply to 'settings cpus 1'");
        vh_error_free(err);
        err = NULL;

        /* taken but never closed: bounded, and says the command is on its way */
        fake_start(&f, root, B_SILENT, NULL);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(vh_irqbalance_set_banned(SOCK_REL, "1", &err), -EINPROGRESS); /* queued */
        assert_true(elapsed_since(&t0) < 2.0);
        fake_stop(&f);
        assert_string_equal(f.got, "settings cpus 1");
        tu_assert_contains(vh_error_msg(err), "'settings cpus 1' sent, but irqbalance did not take it within 1000 ms");
        vh_error_free(err);
}

static void test_abstract(void **state)
{
        (void)state;
        /* an abstract listener, as irqbalance 1.2-1.4 had; a name of our own so as not to meet a real one */
        char name[64];
        snprintf(name, sizeof(name), "vmhooks-test-irqbalance%d.sock", (int)getpid());
        fake f;
        memset(&f, 0, sizeof(f));
        f.lfd = bind_at(name, 1);
        f.b = B_REPLY;
        f.reply = "SLEEP 10 BANNED 00000004";
        assert_int_equal(pthread_create(&f.th, NULL, serve, &f), 0);
        char at[80];
        snprintf(at, sizeof(at), "@%s", name);
        char *list = NULL;
        vh_error *err = NULL;
        int r = vh_irqbalance_get_banned(at, &list, &err);
        fake_stop(&f);
        if (r < 0)
                fail_msg("%s", vh_error_msg(err));
        assert_string_equal(list, "2");
        free(list);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_find, setup, teardown),
                cmocka_unit_test_setup_teardown(test_get, setup, teardown),
                cmocka_unit_test_setup_teardown(test_get_garbage, setup, teardown),
                cmocka_unit_test_setup_teardown(test_get_timeouts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_late_answer_is_read, setup, teardown),
                cmocka_unit_test_setup_teardown(test_connect_timeout, setup, teardown),
                cmocka_unit_test_setup_teardown(test_nobody_listens, setup, teardown),
                cmocka_unit_test_setup_teardown(test_set, setup, teardown),
                cmocka_unit_test_setup_teardown(test_set_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_abstract, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
