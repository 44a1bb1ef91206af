/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Least trust in files (lib/fileio.h): atomic writes make a temporary
 * file of their own (O_EXCL, random name) with its mode set on the fd
 * before the rename; every directory vmhooks writes into is created with
 * its mode, or checked and refused with the fix (a symlink, a file, owned
 * by another user, writable by group or others, /run/vmhooks open to
 * anyone).  One case each, then the same through the hook.
 */
#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "util.h"

static char *at(const char *root, const char *rel)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s%s", root, rel) > 0);
        return p;
}

static mode_t mode_of(const char *path)
{
        struct stat st;
        assert_int_equal(lstat(path, &st), 0);
        return st.st_mode & 07777;
}

static void test_write_atomic(void **state)
{
        const char *root = *state;
        char *f = at(root, "/f");
        mode_t old = umask(077);
        assert_int_equal(vh_write_atomic(f, "x\n", 2, 0644, NULL), 0);
        umask(old);
        assert_int_equal(mode_of(f), 0644); /* set on the fd, not left to the umask */

        /* a planted symlink at the old, guessable temp name (f.tmp.PID) is not followed */
        char *victim = at(root, "/victim");
        tu_write(root, "/victim", "keep\n");
        char *guess = NULL;
        assert_true(asprintf(&guess, "%s.tmp.%ld", f, (long)getpid()) > 0);
        assert_int_equal(symlink(victim, guess), 0);
        assert_int_equal(vh_write_atomic(f, "y\n", 2, 0600, NULL), 0);
        char *v = tu_slurp(victim);
        assert_string_equal(v, "keep\n");
        free(v);
        assert_int_equal(mode_of(f), 0600);
        /* the final name a symlink: replaced, its target untouched */
        assert_int_equal(unlink(f), 0);
        assert_int_equal(symlink(victim, f), 0);
        assert_int_equal(vh_write_atomic(f, "z\n", 2, 0644, NULL), 0);
        v = tu_slurp(victim);
        assert_string_equal(v, "keep\n");
        free(v);
        struct stat st;
        assert_int_equal(lstat(f, &st), 0);
        assert_true(S_ISREG(st.st_mode));
        free(guess);
        free(victim);
        free(f);
}

typedef struct dcase {
        const char *what;
        void (*setup)(const char *path);
        bool private_dir;
        mode_t mode;
        const char *want;       /* NULL: accepted */
} dcase;

static void mk_0755(const char *p) { assert_int_equal(mkdir(p, 0755), 0); assert_int_equal(chmod(p, 0755), 0); }
static void mk_0700(const char *p) { assert_int_equal(mkdir(p, 0700), 0); }
static void mk_0775(const char *p) { mk_0755(p); assert_int_equal(chmod(p, 0775), 0); }
static void mk_0757(const char *p) { mk_0755(p); assert_int_equal(chmod(p, 0757), 0); }
static void mk_1777(const char *p) { mk_0755(p); assert_int_equal(chmod(p, 01777), 0); }
static void mk_link(const char *p)
{
        char *t = NULL;
        assert_true(asprintf(&t, "%s.target", p) > 0);
        assert_int_equal(mkdir(t, 0755), 0);
        assert_int_equal(symlink(t, p), 0);
        free(t);
}
static void mk_file(const char *p)
{
        FILE *f = fopen(p, "we");
        assert_non_null(f);
        fclose(f);
}

static const dcase dcases[] = {
        { "missing: created 0700", NULL, true, 0700, NULL },
        { "missing: created 0755", NULL, false, 0755, NULL },
        { "0755 exists", mk_0755, false, 0755, NULL },
        { "0700 exists (private)", mk_0700, true, 0700, NULL },
        { "group-writable", mk_0775, false, 0755, "is writable by its group (mode 0775); not using it; fix: chown "
                                                  "root:root DIR && chmod 0755 DIR" },
        { "other-writable", mk_0757, false, 0755, "is writable by everyone (mode 0757)" },
        { "sticky world-writable", mk_1777, false, 0755, "is writable by everyone (mode 1777)" },
        { "private but 0755", mk_0755, true, 0700, "is open to others (mode 0755, expected 0700); not using it; "
                                                   "fix: chown root:root DIR && chmod 0700 DIR" },
        { "a symlink to a directory", mk_link, false, 0755, "is not a directory (a symlink or a file); not using it" },
        { "a file", mk_file, false, 0755, "is not a directory (a symlink or a file)" },
};

static void test_dir_ensure(void **state)
{
        const char *root = *state;
        for (size_t i = 0; i < ELEMENTSOF(dcases); i++) {
                const dcase *c = &dcases[i];
                char rel[32];
                snprintf(rel, sizeof(rel), "/d%zu/sub", i);
                char *p = at(root, rel);
                char *parent = strdup(p);
                *strrchr(parent, '/') = '\0';
                assert_int_equal(mkdir(parent, 0755), 0);
                if (c->setup)
                        c->setup(p);
                mode_t old = umask(077);
                vh_error *e = NULL;
                int r = vh_dir_ensure(p, c->mode, c->private_dir, &e);
                umask(old);
                if (!c->want) {
                        if (r != 0)
                                fail_msg("%s: %s", c->what, vh_error_msg(e));
                        assert_int_equal(mode_of(p), c->mode);
                } else {
                        if (r >= 0)
                                fail_msg("%s: accepted", c->what);
                        /* DIR in the expectation stands for the path */
                        vh_buf want = { 0 };
                        for (const char *s = c->want; *s;) {
                                const char *d = strstr(s, "DIR");
                                size_t n = d ? (size_t)(d - s) : strlen(s);
                                assert_int_equal(vh_buf_append(&want, s, n), 0);
                                if (!d)
                                        break;
                                assert_int_equal(vh_buf_puts(&want, p), 0);
                                s = d + 3;
                        }
                        tu_assert_contains(vh_error_msg(e), want.data);
                        assert_true(startswith(vh_error_msg(e), p));
                        vh_buf_free(&want);
                        vh_error_free(e);
                }
                free(parent);
                free(p);
        }
}

static void test_dir_owner(void **state)
{
        const char *root = *state;
        if (geteuid() != 0) {
                print_message("note: chown to another user needs root; run make check as root (CI does)\n");
                skip();
        }
        char *p = at(root, "/owned");
        assert_int_equal(mkdir(p, 0755), 0);
        assert_int_equal(chown(p, 64055, 64055), 0);
        vh_error *e = NULL;
        assert_true(vh_dir_ensure(p, 0755, false, &e) < 0);
        tu_assert_contains(vh_error_msg(e), "is owned by uid 64055, not root; not using it; fix: chown root:root ");
        vh_error_free(e);
        free(p);
}

static void test_read_trusted(void **state)
{
        const char *root = *state;
        tu_write(root, "/ok", "x\n");
        tu_write(root, "/victim", "secret\n");
        char *ok = at(root, "/ok"), *victim = at(root, "/victim"), *link = at(root, "/link");
        assert_int_equal(chmod(ok, 0644), 0);
        char *text = NULL;
        vh_error *e = NULL;
        assert_int_equal(vh_read_file_trusted(ok, 100, &text, NULL, &e), 0);
        assert_string_equal(text, "x\n");
        free(text);
        text = NULL;
        assert_int_equal(symlink(victim, link), 0);
        assert_true(vh_read_file_trusted(link, 100, &text, NULL, &e) < 0);
        tu_assert_contains(vh_error_msg(e), "/link is a symlink; not trusted");
        assert_null(text);
        vh_error_free(e);
        e = NULL;
        assert_int_equal(chmod(ok, 0664), 0);
        assert_true(vh_read_file_trusted(ok, 100, &text, NULL, &e) < 0);
        tu_assert_contains(vh_error_msg(e), "/ok is writable by its group (mode 0664); not trusted");
        vh_error_free(e);
        e = NULL;
        assert_int_equal(chmod(ok, 0646), 0);
        assert_true(vh_read_file_trusted(ok, 100, &text, NULL, &e) < 0);
        tu_assert_contains(vh_error_msg(e), "is writable by everyone (mode 0646)");
        vh_error_free(e);
        free(ok);
        free(victim);
        free(link);
}

/* A small file read relative to an open directory: whole, too big, gone, with a NUL; and the real /proc. */
static void test_read_at(void **state)
{
        const char *root = *state;
        tu_write(root, "/proc/42/comm", "irqbalance\n");
        tu_write(root, "/proc/43/comm", "0123456789012345678901234567890"); /* 31 bytes */
        tu_write(root, "/proc/44/comm", "012345678901234567890123456789");  /* 30 bytes */
        tu_write_bytes(root, "/proc/45/comm", "irq\0balance\n", 12);
        char *proc = at(root, "/proc");
        int dfd = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        char buf[32];
        size_t len = 0;
        vh_error *e = NULL;
        assert_int_equal(vh_read_at(dfd, "42/comm", buf, sizeof(buf), &len, &e), 0);
        assert_string_equal(buf, "irqbalance\n");
        assert_int_equal(len, 11);
        assert_int_equal(vh_read_at(dfd, "44/comm", buf, sizeof(buf), NULL, &e), 0);
        assert_int_equal(strlen(buf), 30);
        assert_int_equal(vh_read_at(dfd, "43/comm", buf, sizeof(buf), &len, &e), -EFBIG);
        tu_assert_contains(vh_error_msg(e), "43/comm: 31 bytes or more");
        assert_int_equal(len, 11); /* untouched on failure */
        vh_error_free(e);
        e = NULL;
        assert_int_equal(vh_read_at(dfd, "46/comm", buf, sizeof(buf), NULL, &e), -ENOENT);
        tu_assert_contains(vh_error_msg(e), "cannot open 46/comm");
        vh_error_free(e);
        e = NULL;
        assert_int_equal(vh_read_at(dfd, "45/comm", buf, sizeof(buf), NULL, &e), -EINVAL);
        tu_assert_contains(vh_error_msg(e), "45/comm contains a NUL byte");
        vh_error_free(e);
        e = NULL;
        assert_int_equal(close(dfd), 0);
        free(proc);
        /* the kernel's own: /proc/self/comm is the name prctl reports, and a newline */
        dfd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        char name[17] = { 0 }, want[20];
        assert_int_equal(prctl(PR_GET_NAME, name), 0);
        (void)snprintf(want, sizeof(want), "%s\n", name);
        assert_int_equal(vh_read_at(dfd, "self/comm", buf, sizeof(buf), &len, NULL), 0);
        assert_string_equal(buf, want);
        assert_int_equal(len, strlen(want));
        assert_int_equal(close(dfd), 0);
}

/* The same through the hook: what it refuses, it says with the fix, and writes nothing there. */
static void test_hook_refuses_dirs(void **state)
{
        const char *root = *state;
        char *xml = tu_domain_xml("g1", "11111111-2222-3333-4444-555555555555", NULL, false, NULL);
        /* /run/vmhooks open to others: no state written, the error logged with the fix */
        char *sd = at(root, "/run/vmhooks");
        char *run = at(root, "/run");
        assert_int_equal(mkdir(run, 0755), 0);
        assert_int_equal(mkdir(sd, 0755), 0);
        assert_int_equal(chmod(sd, 0755), 0);
        char *err = NULL;
        assert_int_equal(tu_run_hook(root, xml, &err, NULL, "g1", "prepare", "begin"), 0);
        assert_false(tu_exists(root, "/run/vmhooks/state"));
        char *log = tu_read(root, "/var/log/vmhooks/g1.log");
        tu_assert_contains(log, "/run/vmhooks is open to others (mode 0755, expected 0700); not using it; fix: "
                                "chown root:root ");
        free(log);
        free(err);
        assert_int_equal(chmod(sd, 0700), 0);
        assert_int_equal(tu_run_hook(root, xml, &err, NULL, "g1", "prepare", "begin"), 0);
        assert_true(tu_exists(root, "/run/vmhooks/state"));
        free(err);

        /* /var/log/vmhooks writable by its group: not logged there, said on stderr */
        char *ld = at(root, "/var/log/vmhooks");
        assert_int_equal(chmod(ld, 0770), 0);
        assert_int_equal(tu_run_hook(root, xml, &err, NULL, "g1", "release", "end"), 0);
        tu_assert_contains(err, "vmhooks: not logging: ");
        tu_assert_contains(err, "/var/log/vmhooks is writable by its group (mode 0770)");
        free(err);
        assert_int_equal(chmod(ld, 0750), 0);

        /* /run/vmhooks-wrapper a symlink: no plan written through it */
        char *wd = at(root, "/run/vmhooks-wrapper");
        char *elsewhere = at(root, "/elsewhere");
        assert_int_equal(mkdir(elsewhere, 0755), 0);
        assert_int_equal(symlink(elsewhere, wd), 0);
        char *hx = NULL;
        assert_true(asprintf(&hx,
                             "<domain type='kvm'><name>g1</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
                             "<devices><hostdev mode='subsystem' type='pci'><source><address domain='0' bus='0x81' "
                             "slot='0' function='1'/></source><alias name='hostdev0'/></hostdev></devices></domain>") > 0);
        tu_write(root, "/etc/vmhooks/policy.xml",
                 "<policy xmlns='urn:vmhooks:policy:1'><msix-relocation bar='bar2' devices='all'/></policy>\n");
        assert_int_equal(tu_run_hook(root, hx, &err, NULL, "g1", "start", "begin"), 0);
        assert_false(tu_exists(root, "/elsewhere/g1.plan"));
        log = tu_read(root, "/var/log/vmhooks/g1.log");
        tu_assert_contains(log, "/run/vmhooks-wrapper is not a directory (a symlink or a file); not using it");
        free(log);
        free(err);

        /* /var/lib/vmhooks writable by others: wrapper.conf is not written there */
        char *vl = at(root, "/var/lib/vmhooks");
        (void)mkdir(vl, 0755);
        assert_int_equal(chmod(vl, 0777), 0);
        char *wc = at(root, "/var/lib/vmhooks/wrapper.conf");
        (void)unlink(wc); /* written by the calls above, when the directory was right */
        free(wc);
        tu_write(root, "/etc/vmhooks/policy.xml", "<policy xmlns='urn:vmhooks:policy:1'/>\n");
        assert_int_equal(tu_run_hook(root, xml, &err, NULL, "g1", "prepare", "begin"), 0);
        assert_false(tu_exists(root, "/var/lib/vmhooks/wrapper.conf"));
        log = tu_read(root, "/var/log/vmhooks/g1.log");
        tu_assert_contains(log, "/var/lib/vmhooks is writable by everyone (mode 0777); not using it");
        free(log);
        free(err);
        assert_int_equal(chmod(vl, 0755), 0);
        free(vl);
        free(hx);
        free(wd);
        free(elsewhere);
        free(ld);
        free(run);
        free(sd);
        free(xml);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_write_atomic, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_dir_ensure, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_dir_owner, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_read_trusted, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_read_at, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_hook_refuses_dirs, tu_setup_root, tu_teardown_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
