/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sVirt through the hook (build/test/qemu-hook on a fake host): every
 * outcome of `started begin` under enforce and warn, one table, and the
 * duplicate MCS check across a libvirtd restart (`reconnect begin`):
 *   - the label recorded at started stays with the registration that
 *     reconnect renews (it used to be dropped: a restart blinded the check);
 *   - reconnect reads the running QEMU's label again (pidfile +
 *     /proc/PID/attr/current), so a VM whose label was never recorded is
 *     seen after the restart;
 *   - what cannot be verified (no pidfile, unreadable or empty attr, a
 *     label that does not parse, libselinux missing, SELinux not enforcing)
 *     refuses under enforce with one line, and is logged under warn.
 */
#include "testutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "domain.h"
#include "svirt.h"
#include "util.h"

#define UUID_A "aaaaaaaa-0000-4000-8000-00000000000a"
#define UUID_B "bbbbbbbb-0000-4000-8000-00000000000b"
#define LABEL_A "system_u:system_r:svirt_t:s0:c1,c2"
#define LABEL_B "system_u:system_r:svirt_t:s0:c7,c9"

static char *xml(const char *name, const char *uuid, const char *label)
{
        char *x = NULL;
        assert_true(asprintf(&x,
                             "<domain type='kvm' id='1'><name>%s</name><uuid>%s</uuid><memory>65536</memory>"
                             "<vcpu>1</vcpu><os><type>hvm</type></os>"
                             "<seclabel type='dynamic' model='selinux' relabel='yes'><label>%s</label>"
                             "</seclabel></domain>",
                             name, uuid, label) > 0);
        return x;
}

typedef enum proc_kind {
        PROC_QEMU,              /* the VM's QEMU: -uuid its UUID */
        PROC_NO_CMDLINE,        /* /proc/PID/cmdline unreadable (absent) */
        PROC_OTHER_PROGRAM,     /* the PID was reused by another program */
        PROC_OTHER_VM,          /* the pidfile names the QEMU of another VM */
        PROC_EMPTY_CMDLINE,     /* a zombie or kernel thread */
        PROC_GONE,              /* no /proc/PID at all */
} proc_kind;

static const char *uuid_of(const char *name)
{
        return streq(name, "A") ? UUID_A : UUID_B;
}

static void rm_rel(const char *root, const char *rel)
{
        char *cmd = NULL;
        assert_true(asprintf(&cmd, "%s%s", root, rel) > 0);
        /* only files and the (fake) /proc/PID directory tree below the test root */
        struct stat st;
        if (lstat(cmd, &st) == 0 && S_ISDIR(st.st_mode)) {
                char *sub = NULL;
                static const char *const files[] = { "attr/current", "stat", "cmdline" };
                for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                        assert_true(asprintf(&sub, "%s/%s", cmd, files[i]) > 0);
                        (void)unlink(sub);
                        free(sub);
                }
                assert_true(asprintf(&sub, "%s/attr", cmd) > 0);
                (void)rmdir(sub);
                free(sub);
                (void)rmdir(cmd);
        } else {
                (void)unlink(cmd);
        }
        free(cmd);
}

/* A running fake process behind VM `name`'s pidfile: /proc/PID/{stat,cmdline}, its label (NULL: no attr file). */
static void proc_as(const char *root, const char *name, int pid, const char *label, proc_kind kind)
{
        char rel[128], stat[256];
        snprintf(rel, sizeof(rel), "/run/libvirt/qemu/%s.pid", name);
        snprintf(stat, sizeof(stat), "%d\n", pid);
        tu_write(root, rel, stat);
        snprintf(rel, sizeof(rel), "/proc/%d", pid);
        rm_rel(root, rel);
        if (kind == PROC_GONE)
                return;
        snprintf(rel, sizeof(rel), "/proc/%d/stat", pid);
        snprintf(stat, sizeof(stat), "%d (qemu-system-x86) S 1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 %d 0 0\n", pid,
                 1000 + pid);
        tu_write(root, rel, stat);
        snprintf(rel, sizeof(rel), "/proc/%d/cmdline", pid);
        char cmd[512];
        int n = 0;
        switch (kind) {
        case PROC_QEMU:
        case PROC_OTHER_VM:
                n = snprintf(cmd, sizeof(cmd), "/usr/bin/qemu-system-x86_64%c-name%cguest=%s,debug-threads=on%c"
                             "-uuid%c%s%c-S%c", 0, 0, name, 0, 0,
                             kind == PROC_QEMU ? uuid_of(name) : "cccccccc-0000-4000-8000-00000000000c", 0, 0);
                break;
        case PROC_OTHER_PROGRAM:
                n = snprintf(cmd, sizeof(cmd), "/usr/sbin/sshd%c-D%c", 0, 0);
                break;
        case PROC_EMPTY_CMDLINE:
        case PROC_NO_CMDLINE:
        case PROC_GONE:
                break;
        }
        if (kind != PROC_NO_CMDLINE)
                tu_write_bytes(root, rel, cmd, (size_t)n);
        snprintf(rel, sizeof(rel), "/proc/%d/attr/current", pid);
        if (label)
                tu_write(root, rel, label);
        else
                rm_rel(root, rel);
}

/* A running fake QEMU: pidfile, /proc/PID/stat and cmdline, and its label (NULL: no attr file). */
static void qemu(const char *root, const char *name, int pid, const char *label)
{
        proc_as(root, name, pid, label, PROC_QEMU);
}

static void policy(const char *root, const char *mode)
{
        char *p = NULL;
        assert_true(asprintf(&p, "<policy xmlns='urn:vmhooks:policy:1'><svirt mode='%s'/></policy>\n", mode) > 0);
        tu_write(root, "/etc/vmhooks/policy.xml", p);
        free(p);
}

static int call(const char *root, const char *name, const char *uuid, const char *label, const char *op,
                const char *sub, const char *env, char **err)
{
        char *x = xml(name, uuid, label);
        int rc = tu_run_hook(root, x, err, env, name, op, sub);
        free(x);
        return rc;
}

/* prepare + started of A; returns started's exit status, *err its stderr. */
static int start_a(const char *root, const char *env, char **err)
{
        char *e0 = NULL;
        assert_int_equal(call(root, "A", UUID_A, LABEL_A, "prepare", "begin", NULL, &e0), 0);
        free(e0);
        return call(root, "A", UUID_A, LABEL_A, "started", "begin", env, err);
}

typedef struct row {
        const char *what;
        const char *enforce;    /* /sys/fs/selinux/enforce, NULL: absent */
        bool pidfile;
        const char *attr;       /* A's /proc/PID/attr/current; NULL: absent */
        const char *env;        /* extra environment of started */
        const char *line;       /* what the refusal (enforce) / the log line (warn) says; NULL: passes */
        proc_kind proc;         /* what the pidfile's PID is */
} row;

#define NOT_QEMU "/run/libvirt/qemu/A.pid is not QEMU of VM A (-uuid " UUID_A "): "

static const row rows[] = {
        { "match", "1", true, LABEL_A, NULL, NULL, PROC_QEMU },
        { "no pidfile", "1", false, LABEL_A, NULL, "/run/libvirt/qemu/A.pid", PROC_QEMU },
        { "attr unreadable", "1", true, NULL, NULL, "cannot open ", PROC_QEMU },
        { "attr empty", "1", true, "", NULL, "/attr/current is empty", PROC_QEMU },
        { "label does not parse", "1", true, "garbage", NULL, "\"garbage\" is not an SELinux context", PROC_QEMU },
        { "libselinux missing", "1", true, LABEL_A, "VMHOOKS_LIBSELINUX=libselinux-missing.so.1",
          "libselinux.so.1 cannot be loaded to parse the label " LABEL_A, PROC_QEMU },
        { "permissive", "0", true, LABEL_A, NULL, "SELinux is not enforcing", PROC_QEMU },
        { "SELinux disabled", NULL, true, LABEL_A, NULL, "SELinux is disabled", PROC_QEMU },
        { "other label", "1", true, "system_u:system_r:svirt_t:s0:c1,c3", NULL,
          "it differs from the domain XML's <label>", PROC_QEMU },
        /* the pidfile's PID is not this VM's QEMU: its (right) label must not be taken for QEMU's */
        { "PID reused by another program", "1", true, LABEL_A, NULL,
          NOT_QEMU "its command line has no -uuid (not a QEMU that libvirt started) (/usr/sbin/sshd)", PROC_OTHER_PROGRAM },
        { "PID of another VM's QEMU", "1", true, LABEL_A, NULL,
          NOT_QEMU "its command line has another -uuid (/usr/bin/qemu-system-x86_64)", PROC_OTHER_VM },
        { "PID a zombie", "1", true, LABEL_A, NULL, NOT_QEMU "its command line is empty", PROC_EMPTY_CMDLINE },
        { "cmdline unreadable", "1", true, LABEL_A, NULL,
          "/run/libvirt/qemu/A.pid is QEMU of VM A: cannot read ", PROC_NO_CMDLINE },
        { "cmdline unreadable (its reason)", "1", true, LABEL_A, NULL, "/proc/4242/cmdline: No such file or directory",
          PROC_NO_CMDLINE },
        { "PID gone", "1", true, LABEL_A, NULL, "QEMU PID 4242 of VM A from its pidfile is not running",
          PROC_GONE },
};

static void set_facts(const char *root, const row *w)
{
        if (w->enforce)
                tu_write(root, "/sys/fs/selinux/enforce", w->enforce);
        else
                rm_rel(root, "/sys/fs/selinux/enforce");
        proc_as(root, "A", 4242, w->attr, w->proc);
        if (!w->pidfile)
                rm_rel(root, "/run/libvirt/qemu/A.pid");
}

static void run_row(const char *mode, const row *w)
{
        char *root = tu_mkroot();
        policy(root, mode);
        set_facts(root, w);
        char *err = NULL;
        int rc = start_a(root, w->env, &err);
        char *log = tu_read(root, "/var/log/vmhooks/A.log");
        bool enforce = streq(mode, "enforce");
        if (!w->line) {
                if (rc != 0)
                        fail_msg("%s/%s: exit %d: %s", mode, w->what, rc, err);
                assert_null(strstr(log ? log : "", "svirt:"));
                /* judged, and the label recorded for the duplicate check of later starts */
                char *st = tu_read(root, "/run/vmhooks/state");
                tu_assert_contains(st, "label=");
                free(st);
        } else if (enforce) {
                if (rc != 1)
                        fail_msg("%s/%s: exit %d, expected a refusal", mode, w->what, rc);
                /* one line on stderr, saying what */
                assert_true(startswith(err, "vmhooks: svirt: "));
                assert_non_null(strchr(err, '\n'));
                assert_int_equal(strchr(err, '\n')[1], '\0');
                tu_assert_contains(err, w->line);
        } else {
                if (rc != 0)
                        fail_msg("%s/%s: exit %d under warn: %s", mode, w->what, rc, err);
                tu_assert_contains(log, "WARN svirt: ");
                tu_assert_contains(log, w->line);
        }
        if (w->line && w->proc != PROC_QEMU) {
                /* a label that is not QEMU's is never recorded as this VM's */
                char *st = tu_read(root, "/run/vmhooks/state");
                assert_null(strstr(st ? st : "", "label="));
                free(st);
        }
        free(log);
        free(err);
        tu_rmroot(root);
}

/*
 * The same outcomes at reconnect begin (libvirtd restarted): A started
 * verified; then the facts change.  Reconnect cannot stop a running VM: it
 * logs the finding (FAIL under enforce, WARN under warn), exits 0, and a
 * label it could not verify leaves the one recorded at started.
 */
static void run_row_reconnect(const char *mode, const row *w)
{
        char *root = tu_mkroot();
        policy(root, mode);
        tu_write(root, "/sys/fs/selinux/enforce", "1");
        qemu(root, "A", 4242, LABEL_A);
        char *err = NULL;
        int rc = start_a(root, NULL, &err);
        if (rc != 0)
                fail_msg("%s/%s: started: exit %d: %s", mode, w->what, rc, err);
        free(err);
        err = NULL;
        set_facts(root, w);
        char *x = xml("A", UUID_A, LABEL_A);
        rc = tu_run_hook(root, x, &err, w->env, "A", "reconnect", "begin");
        free(x);
        if (rc != 0)
                fail_msg("%s/%s: reconnect: exit %d: %s", mode, w->what, rc, err);
        char *log = tu_read(root, "/var/log/vmhooks/A.log");
        char *st = tu_read(root, "/run/vmhooks/state");
        const char *from = strstr(log, "reconnect begin:");
        assert_non_null(from);
        if (!w->line) {
                assert_null(strstr(from, "svirt:"));
        } else {
                tu_assert_contains(from, streq(mode, "enforce") ? "reconnect begin: FAIL svirt: "
                                                                : "reconnect begin: WARN svirt: ");
                tu_assert_contains(from, w->line);
        }
        /* the label recorded at started is still there (re-read or kept) */
        tu_assert_contains(st, "label=");
        free(st);
        free(log);
        free(err);
        tu_rmroot(root);
}

static void test_started_table(void **state)
{
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                run_row("enforce", &rows[i]);
                run_row("warn", &rows[i]);
        }
}

static void test_reconnect_table(void **state)
{
        (void)state;
        for (size_t i = 0; i < ELEMENTSOF(rows); i++) {
                run_row_reconnect("enforce", &rows[i]);
                run_row_reconnect("warn", &rows[i]);
        }
}

/* B runs with A's categories; A's start must be refused. */
static void expect_duplicate_refused(const char *root)
{
        char *err = NULL;
        int rc = start_a(root, NULL, &err);
        if (rc != 1)
                fail_msg("A started beside B with the same MCS: exit %d: %s", rc, err);
        tu_assert_contains(err, "vmhooks: svirt: ");
        tu_assert_contains(err, "MCS s0:c1,c2 is also used by running VM B");
        free(err);
}

static void test_duplicate_across_reconnect(void **state)
{
        char *root = *state;
        policy(root, "enforce");
        tu_write(root, "/sys/fs/selinux/enforce", "1");
        qemu(root, "A", 4242, LABEL_A);
        /* B runs with A's categories (c2,c1 is the same MCS) */
        const char *b_label = "system_u:system_r:svirt_t:s0:c2,c1";
        qemu(root, "B", 5151, b_label);
        char *err = NULL;
        assert_int_equal(call(root, "B", UUID_B, b_label, "prepare", "begin", NULL, &err), 0);
        free(err);
        assert_int_equal(call(root, "B", UUID_B, b_label, "started", "begin", NULL, &err), 0);
        free(err);
        char *st = tu_read(root, "/run/vmhooks/state");
        tu_assert_contains(st, "label=");
        free(st);

        /* libvirtd is killed and restarted: reconnect begin for B.  Its attr is unreadable
         * now, so only the recorded label can keep the check seeing B. */
        qemu(root, "B", 5151, NULL);
        assert_int_equal(call(root, "B", UUID_B, b_label, "reconnect", "begin", NULL, &err), 0);
        free(err);
        char *log = tu_read(root, "/var/log/vmhooks/B.log");
        tu_assert_contains(log, "reconnect begin: FAIL svirt: QEMU of VM B (PID 5151) runs as (unknown)");
        free(log);
        expect_duplicate_refused(root);
        assert_int_equal(call(root, "A", UUID_A, LABEL_A, "release", "end", NULL, &err), 0);
        free(err);

        /* a second restart, B readable again: still refused */
        qemu(root, "B", 5151, b_label);
        assert_int_equal(call(root, "B", UUID_B, b_label, "reconnect", "begin", NULL, &err), 0);
        free(err);
        expect_duplicate_refused(root);
}

static void test_reconnect_reads_label(void **state)
{
        char *root = *state;
        tu_write(root, "/sys/fs/selinux/enforce", "1");
        qemu(root, "A", 4242, LABEL_A);
        const char *b_label = "system_u:system_r:svirt_t:s0:c1,c2";
        qemu(root, "B", 5151, b_label);
        /* B started while the policy was off: no label recorded */
        policy(root, "off");
        char *err = NULL;
        assert_int_equal(call(root, "B", UUID_B, b_label, "prepare", "begin", NULL, &err), 0);
        free(err);
        assert_int_equal(call(root, "B", UUID_B, b_label, "started", "begin", NULL, &err), 0);
        free(err);
        char *st = tu_read(root, "/run/vmhooks/state");
        assert_null(strstr(st, "label="));
        free(st);
        /* the admin turns enforce on and restarts libvirtd: reconnect reads B's label from /proc */
        policy(root, "enforce");
        assert_int_equal(call(root, "B", UUID_B, b_label, "reconnect", "begin", NULL, &err), 0);
        free(err);
        st = tu_read(root, "/run/vmhooks/state");
        tu_assert_contains(st, "label=");
        free(st);
        expect_duplicate_refused(root);

        /* a different MCS passes */
        char *e2 = NULL;
        assert_int_equal(call(root, "A", UUID_A, LABEL_A, "release", "end", NULL, &e2), 0);
        free(e2);
        qemu(root, "B", 5151, LABEL_B);
        assert_int_equal(call(root, "B", UUID_B, LABEL_B, "reconnect", "begin", NULL, &err), 0);
        free(err);
        assert_int_equal(start_a(root, NULL, &err), 0);
        free(err);
}

/* The plan's label: the guest's own categories, so that only its QEMU may read it. */
static void test_plan_context(void **state)
{
        (void)state;
        static const struct {
                const char *seclabel, *want, *why;
        } cases[] = {
                { "<seclabel type='dynamic' model='selinux'><label>system_u:system_r:svirt_t:s0:c392,c62</label></seclabel>",
                  "system_u:object_r:vmhooks_wrapper_run_t:s0:c62,c392", NULL },
                { "<seclabel type='static' model='selinux' relabel='yes'><label>system_u:system_r:svirt_tcg_t:s0:c1,c2"
                  "</label></seclabel>", "system_u:object_r:vmhooks_wrapper_run_t:s0:c1,c2", NULL },
                { "<seclabel type='none' model='selinux'/>", NULL, "no SELinux <seclabel> with a <label>" },
                { "<seclabel type='dynamic' model='apparmor'><label>libvirt-x</label></seclabel>", NULL,
                  "no SELinux <seclabel>" },
                { "<seclabel type='dynamic' model='selinux'><label>system_u:system_r:svirt_t:s0:c0.c1023</label>"
                  "</seclabel>", NULL, "a category range, not two categories" },
                { "<seclabel type='dynamic' model='selinux'><label>garbage</label></seclabel>", NULL,
                  "not an SELinux context" },
                { "", NULL, "no SELinux <seclabel>" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *x = NULL;
                assert_true(asprintf(&x, "<domain type='kvm'><name>g</name>%s</domain>", cases[i].seclabel) > 0);
                vh_domain *d = NULL;
                assert_int_equal(vh_domain_parse(x, strlen(x), "x", &d, NULL), 0);
                const char *why = NULL;
                char *ctx = vh_svirt_plan_context(d, &why);
                if (cases[i].want) {
                        assert_non_null(ctx);
                        assert_string_equal(ctx, cases[i].want);
                } else {
                        assert_null(ctx);
                        tu_assert_contains(why, cases[i].why);
                }
                free(ctx);
                vh_domain_free(d);
                free(x);
        }
}

/* On an SELinux host the hook labels the plan; where the file system cannot (here), it says so and writes it. */
static void test_plan_label_hook(void **state)
{
        char *root = *state;
        tu_write(root, "/sys/fs/selinux/enforce", "1");
        tu_write(root, "/etc/vmhooks/policy.xml",
                 "<policy xmlns='urn:vmhooks:policy:1'><msix-relocation bar='bar2' devices='all'/></policy>\n");
        const char *x = "<domain type='kvm'><name>pv</name><uuid>" UUID_A "</uuid><devices><hostdev mode='subsystem' "
                        "type='pci'><source><address domain='0' bus='0x81' slot='0' function='1'/></source>"
                        "<alias name='hostdev0'/></hostdev></devices><seclabel type='dynamic' model='selinux'>"
                        "<label>" LABEL_A "</label></seclabel></domain>";
        char *err = NULL;
        assert_int_equal(tu_run_hook(root, x, &err, NULL, "pv", "start", "begin"), 0);
        free(err);
        assert_true(tu_exists(root, "/run/vmhooks-wrapper/pv.plan"));
        char *p = NULL;
        assert_true(asprintf(&p, "%s/run/vmhooks-wrapper/pv.plan", root) > 0);
        char buf[256] = "";
        ssize_t n = getxattr(p, "security.selinux", buf, sizeof(buf) - 1);
        char *log = tu_read(root, "/var/log/vmhooks/pv.log");
        if (n > 0) {
                /* a file system that keeps the label (an SELinux host) */
                assert_string_equal(buf, "system_u:object_r:vmhooks_wrapper_run_t:s0:c1,c2");
        } else {
                tu_assert_contains(log, "error: cannot label ");
                tu_assert_contains(log, " system_u:object_r:vmhooks_wrapper_run_t:s0:c1,c2: ");
                tu_assert_contains(log, "; the plan is written unlabelled (every guest may read it)");
        }
        free(log);
        free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_started_table),
                cmocka_unit_test(test_reconnect_table),
                cmocka_unit_test_setup_teardown(test_duplicate_across_reconnect, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_reconnect_reads_label, tu_setup_root, tu_teardown_root),
                cmocka_unit_test(test_plan_context),
                cmocka_unit_test_setup_teardown(test_plan_label_hook, tu_setup_root, tu_teardown_root),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
