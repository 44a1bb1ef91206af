/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmhooks audit on a fake host (VMHOOKS_ROOT): a well-kept host where every
 * line passes, a neglected one where each finding has its level and fix,
 * libvirt's config syntax, and the guest agent's reply.
 */
#include "testutil.h"

#include <fcntl.h>
#include <time.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "audit.h"
#include "audit/audit-int.h"
#include "util.h"
#include "virtconf.h"

#define DATA "tests/data/audit/"

static void put(const char *root, const char *rel, const char *fixture)
{
        char *text = tu_slurp(fixture);
        if (!text)
                fail_msg("missing fixture %s", fixture);
        tu_write(root, rel, text);
        free(text);
}

static void put_exec(const char *root, const char *rel)
{
        tu_write(root, rel, "#!/bin/sh\n");
        char *p = NULL;
        assert_true(asprintf(&p, "%s%s", root, rel) > 0);
        assert_int_equal(chmod(p, 0755), 0);
        free(p);
}

static void own(const char *root, const char *rel, uid_t uid)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s%s", root, rel) > 0);
        assert_int_equal(chown(p, uid, 0), 0);
        free(p);
}

static void link_hook(const char *root, const char *rel)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s%s", root, rel) > 0);
        tu_write(root, rel, "");
        assert_int_equal(unlink(p), 0);
        assert_int_equal(symlink("/usr/libexec/vmhooks/qemu-hook", p), 0);
        free(p);
}

typedef struct want {
        const char *check;
        vh_level level;
        const char *in_message;         /* NULL: not checked */
        const char *in_fix;             /* NULL: no fix expected */
} want;

static void expect_results(const vh_results *r, const want *w, size_t n)
{
        for (size_t i = 0; i < r->n && i < n; i++) {
                const vh_result *x = &r->items[i];
                char *line = vh_result_line(x);
                if (strcmp(x->check, w[i].check) != 0 || x->level != w[i].level)
                        fail_msg("result %zu: got \"%s\", expected %s %s", i, line, vh_level_name(w[i].level),
                                 w[i].check);
                if (w[i].in_message)
                        tu_assert_contains(x->message, w[i].in_message);
                if (w[i].in_fix)
                        tu_assert_contains(x->fix, w[i].in_fix);
                else if (x->fix && x->level == VH_LEVEL_PASS)
                        fail_msg("result %zu has a fix but passes: %s", i, line);
                assert_true(!x->refuse); /* the audit never refuses anything */
                if (x->fix)
                        assert_null(strstr(x->fix, "777"));
                free(line);
        }
        if (r->n != n) {
                for (size_t i = 0; i < r->n; i++) {
                        char *line = vh_result_line(&r->items[i]);
                        print_error("  %s\n", line);
                        free(line);
                }
                fail_msg("%zu results, expected %zu", r->n, n);
        }
}

/* What both hosts share: hugepage pools, a QEMU binary, passwd with tss. */
static void common_host(const char *root)
{
        tu_write(root, "/etc/passwd", "root:x:0:0:root:/root:/bin/bash\ntss:x:59:59:TPM:/var/lib/tpm:/bin/false\n");
        tu_write(root, "/proc/meminfo", "MemTotal: 16000000 kB\nHugepagesize:       2048 kB\n");
        static const char *const f[] = { "nr_hugepages", "free_hugepages", "resv_hugepages", "surplus_hugepages",
                                         "nr_overcommit_hugepages" };
        static const char *const v[] = { "512\n", "500\n", "10\n", "0\n", "0\n" };
        for (size_t i = 0; i < 5; i++) {
                char rel[128];
                snprintf(rel, sizeof(rel), "/sys/kernel/mm/hugepages/hugepages-2048kB/%s", f[i]);
                tu_write(root, rel, v[i]);
        }
        put_exec(root, "/usr/bin/swtpm");
        put_exec(root, "/usr/bin/qemu-system-x86_64");
        tu_write(root, "/var/lib/swtpm-localca/.keep", "");
}

static void good_host(const char *root)
{
        common_host(root);
        put(root, "/etc/libvirt/libvirtd.conf", DATA "good/libvirtd.conf");
        put(root, "/etc/libvirt/virtproxyd.conf", DATA "good/virtproxyd.conf");
        put(root, "/etc/libvirt/virtqemud.conf", DATA "good/virtqemud.conf");
        put(root, "/etc/sasl2/libvirt.conf", DATA "good/sasl-libvirt.conf");
        put(root, "/etc/libvirt/qemu.conf", DATA "good/qemu.conf");
        tu_write(root, "/sys/fs/selinux/enforce", "1");
        own(root, "/var/lib/swtpm-localca", 59);
        tu_write(root, "/sys/kernel/iommu_groups/0/type", "DMA\n");
        tu_write(root, "/proc/interrupts", "           CPU0\n 24:   0  IR-PCI-MSI 512000-edge  nvme0q0\n");
        tu_write(root, "/proc/mounts", "hugetlbfs /dev/hugepages hugetlbfs rw,relatime,pagesize=2M 0 0\n");
        tu_write(root, "/etc/vmhooks/policy.xml",
                 "<policy xmlns=\"urn:vmhooks:policy:1\"><thp mode=\"auto\"/><halt-poll ns=\"400000\"/>"
                 "<wrapper emulator=\"/usr/bin/qemu-system-x86_64\"/></policy>\n");
        put_exec(root, "/usr/libexec/vmhooks/qemu-hook");
        put_exec(root, "/usr/libexec/vmhooks/qemu-kvm");
        link_hook(root, "/etc/libvirt/hooks/qemu");
        tu_write(root, "/var/cache/libvirt/qemu/capabilities/abc.xml",
                 "<qemuCaps>\n  <emulator>/usr/libexec/vmhooks/qemu-kvm</emulator>\n"
                 "  <qemuctime>99999999999</qemuctime>\n  <arch>x86_64</arch>\n</qemuCaps>\n");
        tu_write(root, "/var/cache/libvirt/qemu/capabilities/def.xml",
                 "<qemuCaps><emulator>/usr/bin/qemu-system-i386</emulator><qemuctime>1</qemuctime></qemuCaps>\n");
}

static void test_good_host(void **state)
{
        const char *root = *state;
        if (geteuid() != 0)
                tu_skip("needs root: the fixture chowns the swtpm localca to tss");
        good_host(root);
        vh_results r = { 0 };
        assert_int_equal(vh_audit_run(&r, NULL), 0);
        const want w[] = {
                { "daemons", VH_LEVEL_NOTE, "libvirt daemons: none: no libvirtd or virtqemud runs or is enabled",
                  NULL },
                { "listen", VH_LEVEL_PASS, "/etc/libvirt/libvirtd.conf: no plain TCP listener", NULL },
                { "listen", VH_LEVEL_PASS, "/etc/libvirt/virtproxyd.conf: no plain TCP listener", NULL },
                { "listen", VH_LEVEL_PASS, "/etc/libvirt/virtqemud.conf: UNIX sockets only", NULL },
                { "sasl", VH_LEVEL_PASS, "mech_list: gssapi", NULL },
                { "selinux", VH_LEVEL_PASS, "SELinux is enforcing", NULL },
                { "qemu-security", VH_LEVEL_PASS, "security_driver set", NULL },
                { "qemu-security", VH_LEVEL_PASS, "security_require_confined = 1", NULL },
                { "swtpm", VH_LEVEL_PASS, "swtpm_user tss owns /var/lib/swtpm-localca", NULL },
                { "iommu", VH_LEVEL_PASS, "IOMMU on (1 groups), interrupt remapping active", NULL },
                { "hugepages", VH_LEVEL_PASS, "2 MiB: 512 pages, 500 free, 10 reserved", NULL },
                { "thp", VH_LEVEL_PASS, "vmhooks manages it (policy <thp mode=\"auto\"/>)", NULL },
                { "halt-poll", VH_LEVEL_PASS, "the policy sets 400000 while VMs run", NULL },
                { "host-tasks", VH_LEVEL_NOTE, "systemd is not PID 1 here (no /run/systemd/system)", NULL },
                { "isolation", VH_LEVEL_NOTE, "no running VM is isolated from host noise now", NULL },
                { "irqbalance", VH_LEVEL_PASS, "irqbalance does not run", NULL },
                { "install", VH_LEVEL_PASS, "hook installed: /etc/libvirt/hooks/qemu", NULL },
                { "install", VH_LEVEL_PASS, "wrapper installed", NULL },
                { "policy", VH_LEVEL_PASS, "/etc/vmhooks/policy.xml: thp auto, halt-poll 400000, wrapper "
                                           "/usr/bin/qemu-system-x86_64", NULL },
                { "capcache", VH_LEVEL_PASS, "abc.xml (wrapper) is newer than /usr/bin/qemu-system-x86_64", NULL },
        };
        expect_results(&r, w, ELEMENTSOF(w));
        /* the daemon layout is a NOTE: information, nothing to fix */
        assert_int_equal(vh_results_worst(&r), VH_LEVEL_NOTE);
        vh_results_done(&r);
}

static void bad_host(const char *root)
{
        /* systemd on cgroup v1 (openEuler 22.03's default): host tasks cannot be confined */
        tu_write(root, "/run/systemd/system/.keep", "");
        tu_write(root, "/sys/fs/cgroup/cpuset/cpuset.cpus", "0-3\n");
        common_host(root);
        put(root, "/etc/libvirt/libvirtd.conf", DATA "bad/libvirtd.conf");
        put(root, "/etc/libvirt/virtproxyd.conf", DATA "bad/virtproxyd.conf");
        put(root, "/etc/libvirt/virtqemud.conf", DATA "bad/virtqemud.conf");
        /* both layouts at once: libvirtd and virtqemud run */
        tu_write(root, "/run/libvirtd.pid", "812\n");
        tu_write(root, "/proc/812/comm", "libvirtd\n");
        tu_write(root, "/run/virtqemud.pid", "1501\n");
        tu_write(root, "/proc/1501/comm", "virtqemud\n");
        /* an irqbalance without its socket (before 1.2, or built without irqbalance-ui) */
        tu_write(root, "/proc/4242/comm", "irqbalance\n");
        put(root, "/etc/sasl2/libvirt.conf", DATA "bad/sasl-libvirt.conf");
        put(root, "/etc/libvirt/qemu.conf", DATA "bad/qemu.conf");
        tu_write(root, "/sys/fs/selinux/enforce", "0");
        tu_write(root, "/sys/kernel/mm/transparent_hugepage/enabled", "[always] madvise never\n");
        tu_write(root, "/proc/mounts", "proc /proc proc rw 0 0\n");
        tu_write(root, "/sys/firmware/acpi/tables/DMAR", "x");
        tu_write(root, "/var/cache/libvirt/qemu/capabilities/abc.xml",
                 "<qemuCaps><emulator>/usr/libexec/vmhooks/qemu-kvm</emulator><qemuctime>1000</qemuctime>"
                 "<arch>x86_64</arch></qemuCaps>\n");
}

static void test_bad_host(void **state)
{
        const char *root = *state;
        bad_host(root);
        vh_results r = { 0 };
        assert_int_equal(vh_audit_run(&r, NULL), 0);
        /* the fixture's files belong to whoever runs the test (make check needs no root) */
        char owned[96];
        snprintf(owned, sizeof(owned), "is owned by uid %u, not by swtpm_user tss (uid 59)", (unsigned)geteuid());
        const want w[] = {
                { "daemons", VH_LEVEL_WARN, "mixed: libvirtd running (PID 812), virtqemud running (PID 1501)",
                  "systemctl disable --now" },
                { "listen", VH_LEVEL_FAIL, "listen_tcp = 1 with auth_tcp = \"none\"", "auth_tcp = \"sasl\"" },
                { "listen", VH_LEVEL_WARN, "tls_no_verify_certificate = 1", "remove tls_no_verify_certificate" },
                { "listen", VH_LEVEL_WARN, "virtproxyd.conf: listen_tcp = 1 (auth_tcp = \"sasl\"): the connection "
                                           "is not TLS", "listen_tls = 1" },
                { "listen", VH_LEVEL_NOTE, "virtqemud.conf: line 2: listen_tcp has no effect", "virtproxyd.conf" },
                { "listen", VH_LEVEL_FAIL, "virtqemud.conf: auth_unix_rw = \"none\" with unix_sock_rw_perms = "
                                           "\"0777\"", "unix_sock_rw_perms = \"0770\"" },
                { "sasl", VH_LEVEL_FAIL, "DIGEST-MD5, deprecated by RFC 6331",
                  "mech_list: gssapi for TCP (Kerberos" },
                { "selinux", VH_LEVEL_WARN, "SELinux is permissive", "setenforce 1" },
                { "qemu-security", VH_LEVEL_FAIL, "security_driver = \"none\"", "remove security_driver = \"none\"" },
                { "qemu-security", VH_LEVEL_FAIL, "security_default_confined = 0",
                  "security_default_confined = 1" },
                { "qemu-security", VH_LEVEL_WARN, "security_require_confined is off",
                  "security_require_confined = 1" },
                { "qemu-security", VH_LEVEL_FAIL, "user = \"root\"", "remove user = \"root\"" },
                { "swtpm", VH_LEVEL_FAIL, owned,
                  "chown -R tss /var/lib/swtpm-localca" },
                { "iommu", VH_LEVEL_WARN, "although the firmware has one", "intel_iommu=on" },
                { "hugepages", VH_LEVEL_WARN, "no hugetlbfs is mounted", "mount -t hugetlbfs" },
                { "thp", VH_LEVEL_WARN, "THP is always while static hugepages are reserved",
                  "<thp mode=\"auto\"/>" },
                { "halt-poll", VH_LEVEL_NOTE, "halt_poll_ns is 200000", NULL },
                { "host-tasks", VH_LEVEL_NOTE, "host tasks cannot be kept off the VMs' CPUs (<isolate tasks>): cgroup v1 layout",
                  "systemd.unified_cgroup_hierarchy=1" },
                { "isolation", VH_LEVEL_NOTE, "no running VM is isolated from host noise now", NULL },
                { "irqbalance", VH_LEVEL_WARN, "irqbalance (pid 4242) runs without a socket: no "
                                               "/run/irqbalance/irqbalance4242.sock and no abstract one",
                  "IRQBALANCE_BANNED_CPULIST in /etc/default/irqbalance" },
                { "install", VH_LEVEL_FAIL, "the vmhooks hook is not installed", "make install" },
                { "install", VH_LEVEL_WARN, "the wrapper /usr/libexec/vmhooks/qemu-kvm is not installed",
                  "make install" },
                { "policy", VH_LEVEL_NOTE, "no host policy ", "/usr/share/vmhooks/policy.xml" },
                { "capcache", VH_LEVEL_FAIL, "abc.xml was probed through the wrapper before "
                                             "/usr/bin/qemu-system-x86_64 changed",
                  "touch /usr/libexec/vmhooks/qemu-kvm" },
        };
        expect_results(&r, w, ELEMENTSOF(w));
        assert_int_equal(vh_results_worst(&r), VH_LEVEL_FAIL);
        vh_results_done(&r);
}

/* A host policy the hook cannot use is a FAIL that says what the hook does instead. */
static void test_broken_policy(void **state)
{
        const char *root = *state;
        static const struct {
                const char *xml, *needle;
        } cases[] = {
                { "<policy xmlns=\"urn:vmhooks:policy:1\">\n  <thp mode=\"auto\">\n</policy>\n",
                  "policy.xml: line 2: <thp> is not closed before </policy> on line 3" },
                { "<policy xmlns=\"urn:vmhooks:policy:1\">\n  <thp mode=\"sometimes\"/>\n</policy>\n",
                  "policy.xml: line 2: <thp mode=\"sometimes\">: expected one of" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                tu_write(root, "/etc/vmhooks/policy.xml", cases[i].xml);
                vh_results r = { 0 };
                assert_int_equal(vh_audit_policy(&r), 0);
                assert_int_equal(r.n, 1);
                assert_int_equal(r.items[0].level, VH_LEVEL_FAIL);
                tu_assert_contains(r.items[0].message, cases[i].needle);
                tu_assert_contains(r.items[0].message, "the hook ignores the host policy: none of its defaults apply");
                tu_assert_contains(r.items[0].fix, "correct the file");
                vh_results_done(&r);
        }
}

static void chmod_rel(const char *root, const char *rel, mode_t mode)
{
        char *p = NULL;
        assert_true(asprintf(&p, "%s%s", root, rel) > 0);
        assert_int_equal(chmod(p, mode), 0);
        free(p);
}

/*
 * As an ordinary user: what only root may read is a NOTE "run as root to
 * check this", never a FAIL, and no fix suggests deleting libvirt's files.
 * The real `vmhooks audit` (the test build) run as uid 65534.
 */
static void test_not_root(void **state)
{
        const char *root = *state;
        if (geteuid() != 0) {
                printf("[  SKIP    ] test_not_root needs root to run the audit as another uid\n");
                skip();
        }
        good_host(root);
        chmod_rel(root, "", 0755);
        chmod_rel(root, "/etc/libvirt/qemu.conf", 0600);        /* Debian's mode */
        chmod_rel(root, "/etc/sasl2/libvirt.conf", 0600);
        chmod_rel(root, "/var/cache/libvirt/qemu/capabilities/abc.xml", 0600);
        chmod_rel(root, "/var/cache/libvirt/qemu/capabilities/def.xml", 0600);
        tu_write(root, "/run/vmhooks/state", "vmhooks-state 1\n");
        chmod_rel(root, "/run/vmhooks", 0700);
        /* a libvirtd that started before the link, so that the hook-discovery check needs /run/vmhooks */
        tu_write(root, "/run/libvirtd.pid", "777\n");
        char stat[256];
        snprintf(stat, sizeof(stat), "777 (libvirtd) S 1 777 777 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 17 0 %ld 0\n",
                 100 * sysconf(_SC_CLK_TCK));
        tu_write(root, "/proc/777/stat", stat);
        tu_write(root, "/proc/stat", "cpu  1 2 3\nbtime 1000000000\n");
        char *cmd = NULL;
        assert_true(asprintf(&cmd, "setpriv --reuid=65534 --regid=65534 --clear-groups env VMHOOKS_ROOT='%s' '%s' "
                                   "audit >'%s/audit.out' 2>&1; echo \"rc=$?\" >>'%s/audit.out'",
                             root, tu_tool(), root, root) > 0);
        assert_int_equal(system(cmd), 0);
        free(cmd);
        char *out = tu_read(root, "/audit.out");
        tu_assert_contains(out, "NOTE qemu-security: cannot read /etc/libvirt/qemu.conf as uid 65534; fix: run as "
                                "root to check this");
        tu_assert_contains(out, "NOTE swtpm: cannot read /etc/libvirt/qemu.conf (for swtpm_user) as uid 65534; fix: "
                                "run as root to check this");
        tu_assert_contains(out, "NOTE sasl: cannot read /etc/sasl2/libvirt.conf as uid 65534; fix: run as root");
        tu_assert_contains(out, "NOTE capcache: cannot read 2 files in /var/cache/libvirt/qemu/capabilities as uid "
                                "65534; fix: run as root to check this");
        tu_assert_contains(out, "NOTE install: hook installed: /etc/libvirt/hooks/qemu -> ");
        tu_assert_contains(out, "which uid 65534 cannot read; fix: run as root to check this");
        if (strstr(out, "FAIL "))
                fail_msg("a FAIL as uid 65534:\n%s", out);
        assert_null(strstr(out, "rm "));
        assert_null(strstr(out, "correct the file"));
        tu_assert_contains(out, "0 FAIL\nrc=0");
        free(out);
}

/* A config libvirt would refuse is a FAIL naming the file and line, not a crash or a PASS. */
static void test_unparsable_config(void **state)
{
        const char *root = *state;
        put(root, "/etc/libvirt/qemu.conf", DATA "bad/qemu-syntax.conf");
        vh_results r = { 0 };
        assert_int_equal(vh_audit_run(&r, NULL), 0);
        bool seen = false;
        for (size_t i = 0; i < r.n; i++) {
                if (strcmp(r.items[i].check, "qemu-security") != 0)
                        continue;
                seen = true;
                assert_int_equal(r.items[i].level, VH_LEVEL_FAIL);
                tu_assert_contains(r.items[i].message, "/etc/libvirt/qemu.conf: line 2: unterminated list");
        }
        assert_true(seen);
        vh_results_done(&r);
}

/* The daemon started before the hook was linked: it will not call it (FACTS.md §6). */
static void test_hook_newer_than_daemon(void **state)
{
        const char *root = *state;
        put_exec(root, "/usr/libexec/vmhooks/qemu-hook");
        link_hook(root, "/etc/libvirt/hooks/qemu.d/vmhooks");
        tu_write(root, "/run/libvirtd.pid", "777\n");
        long tck = sysconf(_SC_CLK_TCK);
        char stat[256];
        /* start time 100 s after boot (field 22) */
        snprintf(stat, sizeof(stat), "777 (libvirtd) S 1 777 777 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 17 0 %ld 0\n",
                 100 * tck);
        tu_write(root, "/proc/777/stat", stat);
        tu_write(root, "/proc/stat", "cpu  1 2 3\nbtime 1000000000\n");
        vh_results r = { 0 };
        assert_int_equal(vh_audit_install(&r), 0);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.items[0].level, VH_LEVEL_WARN);
        tu_assert_contains(r.items[0].message, "/etc/libvirt/hooks/qemu.d/vmhooks is installed, but libvirtd "
                                               "(PID 777) started at 2001-09-09T01:48:20Z, before it, had no hook "
                                               "then and has not been reloaded since");
        tu_assert_contains(r.items[0].fix, "kill -HUP");
        vh_results_done(&r);

        /* the package scripts reloaded that daemon after the link was made (their stamp): no WARN */
        struct timespec pause = { 0, 20 * 1000 * 1000 };
        nanosleep(&pause, NULL);
        tu_write(root, "/run/vmhooks/reloaded", "vmhooks-reloaded 1\nlibvirtd 777\n");
        assert_int_equal(vh_audit_install(&r), 0);
        assert_int_equal(r.items[0].level, VH_LEVEL_PASS);
        tu_assert_contains(r.items[0].message, "libvirt runs it (libvirtd, PID 777, was reloaded at ");
        vh_results_done(&r);
        /* a stamp of another daemon process (restarted since, or another one) proves nothing */
        tu_write(root, "/run/vmhooks/reloaded", "vmhooks-reloaded 1\nlibvirtd 778\n");
        assert_int_equal(vh_audit_install(&r), 0);
        assert_int_equal(r.items[0].level, VH_LEVEL_WARN);
        vh_results_done(&r);
        tu_write(root, "/run/vmhooks/reloaded", "vmhooks-reloaded 1\nvirtqemud 777\n");
        assert_int_equal(vh_audit_install(&r), 0);
        assert_int_equal(r.items[0].level, VH_LEVEL_WARN);
        vh_results_done(&r);
        /* a stamp older than the link: the reload came before it */
        tu_write(root, "/run/vmhooks/reloaded", "vmhooks-reloaded 1\nlibvirtd 777\n");
        nanosleep(&pause, NULL);
        char *lp = NULL;
        assert_true(asprintf(&lp, "%s/etc/libvirt/hooks/qemu.d/vmhooks", root) > 0);
        assert_int_equal(unlink(lp), 0);
        free(lp);
        link_hook(root, "/etc/libvirt/hooks/qemu.d/vmhooks");
        assert_int_equal(vh_audit_install(&r), 0);
        assert_int_equal(r.items[0].level, VH_LEVEL_WARN);
        vh_results_done(&r);

        /* a foreign hook, also newer than the daemon: the message names it */
        tu_write(root, "/etc/libvirt/hooks/qemu", "#!/bin/sh\n");
        assert_int_equal(vh_audit_install(&r), 0);
        assert_int_equal(r.items[0].level, VH_LEVEL_WARN);
        tu_assert_contains(r.items[0].message, "before any qemu hook existed (/etc/libvirt/hooks/qemu is newer too) "
                                               "and has not been reloaded since: it runs neither");
        vh_results_done(&r);
        /* ... and reloaded after both: PASS */
        nanosleep(&pause, NULL);
        tu_write(root, "/run/vmhooks/reloaded", "vmhooks-reloaded 1\nlibvirtd 777\n");
        assert_int_equal(vh_audit_install(&r), 0);
        assert_int_equal(r.items[0].level, VH_LEVEL_PASS);
        vh_results_done(&r);
        /* a foreign hook older than the daemon: libvirtd had hooks at start and lists qemu.d at every call */
        char *fh = NULL;
        assert_true(asprintf(&fh, "%s/etc/libvirt/hooks/qemu", root) > 0);
        struct timespec old[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
        assert_int_equal(utimensat(AT_FDCWD, fh, old, AT_SYMLINK_NOFOLLOW), 0);
        free(fh);
        tu_write(root, "/run/vmhooks/reloaded", "x\n");
        assert_int_equal(vh_audit_install(&r), 0);
        assert_int_equal(r.items[0].level, VH_LEVEL_PASS);
        vh_results_done(&r);
        tu_write(root, "/etc/libvirt/hooks/qemu", "#!/bin/sh\n");
        char *p = NULL;
        assert_true(asprintf(&p, "%s/etc/libvirt/hooks/qemu", root) > 0);
        unlink(p);
        free(p);
        /* started after the link: fine */
        tu_write(root, "/proc/stat", "cpu  1 2 3\nbtime 4000000000\n");
        assert_int_equal(vh_audit_install(&r), 0);
        assert_int_equal(r.items[0].level, VH_LEVEL_PASS);
        vh_results_done(&r);
}

/* ---- libvirt's config syntax ---- */

static void test_conf_syntax(void **state)
{
        (void)state;
        const char *text = "# comment\n"
                           "a = 1   # trailing comment\n"
                           "b = \"two\" ; c = 'three'\n"
                           "d = [ \"x\",\n  # inside\n  \"y\", ]\n"
                           "e = \"\"\"multi\nline\"\"\"\n"
                           "f = -5\n"
                           "a = 2\n"
                           "g.h_1 = []\n";
        vh_conf c = { 0 };
        vh_error *e = NULL;
        assert_int_equal(vh_conf_parse(text, strlen(text), "t.conf", &c, &e), 0);
        int64_t n = 0;
        const char *s = NULL;
        bool b = false;
        assert_int_equal(vh_conf_get_int(&c, "a", &n, NULL), 1);
        assert_int_equal(n, 1); /* the first entry wins, as in libvirt */
        assert_int_equal(vh_conf_get_bool(&c, "a", &b, NULL), 1);
        assert_true(b);
        assert_int_equal(vh_conf_get_string(&c, "b", &s, NULL), 1);
        assert_string_equal(s, "two");
        assert_int_equal(vh_conf_get_string(&c, "c", &s, NULL), 1);
        assert_string_equal(s, "three");
        const vh_conf_entry *d = vh_conf_get(&c, "d");
        assert_non_null(d);
        assert_int_equal(d->value.type, VH_CONF_LIST);
        assert_int_equal(d->value.n, 2);
        assert_string_equal(d->value.items[1].str, "y");
        assert_int_equal(d->line, 4);
        assert_int_equal(vh_conf_get_string(&c, "e", &s, NULL), 1);
        assert_string_equal(s, "multi\nline");
        assert_int_equal(vh_conf_get_int(&c, "f", &n, NULL), 1);
        assert_int_equal(n, -5);
        assert_int_equal(vh_conf_get(&c, "g.h_1")->value.n, 0);
        assert_int_equal(vh_conf_get_int(&c, "missing", &n, NULL), 0);
        /* a type error names the file, line and key */
        assert_int_equal(vh_conf_get_int(&c, "b", &n, &e), -EINVAL);
        assert_string_equal(vh_error_msg(e), "t.conf: line 3: b: expected a number");
        vh_error_free(e);
        e = NULL;
        assert_int_equal(vh_conf_get_bool(&c, "f", &b, &e), -EINVAL);
        assert_string_equal(vh_error_msg(e), "t.conf: line 9: f: expected 0 or 1");
        vh_error_free(e);
        vh_conf_done(&c);
}

static void test_conf_errors(void **state)
{
        (void)state;
        static const struct {
                const char *text, *msg;
        } cases[] = {
                { "a = \"open\n", "x.conf: line 1: unterminated string (a \" string ends on its line)" },
                { "ok = 1\nb 1\n", "x.conf: line 2: expected '=' after b" },
                { "a = [ 1 2 ]\n", "x.conf: line 1: expected ',' or ']' in a list" },
                { "a = [ [ 1 ] ]\n", "x.conf: line 1: a list inside a list is not allowed" },
                { "\n\na = [ 1,\n 2\n", "x.conf: line 3: unterminated list: expected ']'" },
                { "a = yes\n", "x.conf: line 1: expected a value (\"string\", number or [ list ]), found 'y'" },
                { "a = 1 2\n", "x.conf: line 1: unexpected '2' after the value of a" },
                { "a = 99999999999999999999\n", "x.conf: line 1: number 99999999999999999999 out of range" },
                { "1a = 1\n", "x.conf: line 1: expected a setting name, found '1'" },
                { "a = \"\"\"never closed\n\n", "x.conf: line 1: unterminated \"\"\" string" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                vh_conf c = { 0 };
                vh_error *e = NULL;
                assert_int_equal(vh_conf_parse(cases[i].text, strlen(cases[i].text), "x.conf", &c, &e), -EINVAL);
                if (strcmp(vh_error_msg(e), cases[i].msg) != 0)
                        fail_msg("case %zu: \"%s\", expected \"%s\"", i, vh_error_msg(e), cases[i].msg);
                vh_error_free(e);
                assert_int_equal(c.n, 0);
        }
}

/* The Debian files as shipped parse (they are all comments and defaults). */
static void test_conf_real_files(void **state)
{
        (void)state;
        const char *files[] = { "/etc/libvirt/libvirtd.conf", "/etc/libvirt/qemu.conf", "/etc/libvirt/virtlogd.conf" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                vh_conf c = { 0 };
                vh_error *e = NULL;
                int r = vh_conf_load(files[i], &c, &e);
                if (r == -ENOENT || r == -EACCES) {
                        vh_error_free(e);
                        continue;
                }
                if (r < 0)
                        fail_msg("%s", vh_error_msg(e));
                vh_conf_done(&c);
        }
}

/* ---- the guest agent ---- */

static void test_guest_agent_72(void **state)
{
        (void)state;
        char *reply = tu_slurp(DATA "guest-info-7.2.json");
        assert_non_null(reply);
        vh_results r = { 0 };
        assert_int_equal(vh_audit_guest_agent("g1", reply, "guest-exec, guest-file-open guest-exec-status,guest-nope",
                                              &r, NULL), 0);
        assert_int_equal(r.n, 2);
        assert_int_equal(r.items[0].level, VH_LEVEL_FAIL);
        assert_string_equal(r.items[0].message, "VM g1: the guest agent (qemu-ga 7.2.0) still allows guest-exec");
        tu_assert_contains(r.items[0].fix, "block-rpcs= in [general] of /etc/qemu/qemu-ga.conf");
        assert_string_equal(r.items[1].message,
                            "VM g1: the guest agent (qemu-ga 7.2.0) still allows guest-exec-status");
        vh_results_done(&r);
        /* the default list when the policy has none */
        assert_int_equal(vh_audit_guest_agent("g1", reply, NULL, &r, NULL), 0);
        assert_int_equal(r.n, 2);
        vh_results_done(&r);
        /* everything blocked */
        assert_int_equal(vh_audit_guest_agent("g1", reply, "guest-file-open", &r, NULL), 0);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.items[0].level, VH_LEVEL_PASS);
        tu_assert_contains(r.items[0].message, "blocks all 1 RPCs of the policy's <guest-agent block-rpcs>");
        vh_results_done(&r);
        free(reply);
}

static void test_guest_agent_old(void **state)
{
        (void)state;
        char *reply = tu_slurp(DATA "guest-info-6.2.json");
        vh_results r = { 0 };
        assert_int_equal(vh_audit_guest_agent("g2", reply, "guest-exec,guest-file-open", &r, NULL), 0);
        assert_int_equal(r.n, 1);
        tu_assert_contains(r.items[0].message, "still allows guest-file-open");
        tu_assert_contains(r.items[0].fix, "blacklist= in [general]");
        tu_assert_contains(r.items[0].fix, "older than 7.2");
        vh_results_done(&r);
        free(reply);
        vh_error *e = NULL;
        assert_int_equal(vh_audit_guest_agent("g2", "{\"return\":{}}", NULL, &r, &e), -EINVAL);
        assert_string_equal(vh_error_msg(e), "guest agent of VM g2: the guest-info reply has no "
                                             "return.supported_commands");
        vh_error_free(e);
        e = NULL;
        assert_int_equal(vh_audit_guest_agent("g2", "not json", NULL, &r, &e), -EINVAL);
        vh_error_free(e);
        assert_int_equal(r.n, 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_good_host, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_bad_host, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_broken_policy, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_not_root, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_unparsable_config, tu_setup_root, tu_teardown_root),
                cmocka_unit_test_setup_teardown(test_hook_newer_than_daemon, tu_setup_root, tu_teardown_root),
                cmocka_unit_test(test_conf_syntax),
                cmocka_unit_test(test_conf_errors),
                cmocka_unit_test(test_conf_real_files),
                cmocka_unit_test(test_guest_agent_72),
                cmocka_unit_test(test_guest_agent_old),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
