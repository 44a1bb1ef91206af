/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu-kvm — vmhooks' emulator wrapper, installed as
 * /usr/libexec/vmhooks/qemu-kvm and named by a domain's <emulator>.
 *
 * libvirt runs it as the QEMU user, with a minimal environment and the fds
 * it expects QEMU to keep.  It rewrites the command line (lib/argv.h): adds
 * x-msix-relocation to the vfio-pci devices the VM's plan names
 * (lib/msix.h; without a plan, those the host policy selects), and rescues
 * `-set device.ID.P=V` aimed at JSON devices; then it execs the real
 * emulator, so that the PID libvirt records is QEMU's.  Every fd it opens
 * is O_CLOEXEC; every inherited fd stays open.
 *
 * The real emulator: <wrapper emulator="..."/> in /etc/vmhooks/policy.xml,
 * else, in test builds only, $VMHOOKS_EMULATOR, else the build's default.  The wrapper
 * reads the host policy from /var/lib/vmhooks/wrapper.conf, the text the
 * hook derives from policy.xml (lib/wrapper_conf.h): it starts with every
 * VM and must not pay for loading libxml2.
 *
 * stderr (libvirt keeps it in /var/log/libvirt/qemu/NAME.log): one
 * "vmhooks: ..." line per change and per thing left as it was.  The same
 * lines go to /var/log/vmhooks/NAME.log when the QEMU user may write there.
 * Exit status: QEMU's; 127 when the emulator cannot be executed, 1 when
 * it names the wrapper itself.  An error of the wrapper's own never stops
 * a VM: QEMU gets the original command line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "argv.h"
#include "error.h"
#include "log.h"
#include "msix.h"
#include "policy.h"
#include "wrapper_conf.h"
#include "root.h"
#include "util.h"

#ifndef VH_DEFAULT_EMULATOR
#define VH_DEFAULT_EMULATOR "/usr/bin/qemu-system-x86_64"
#endif

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("vmhooks: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
        va_end(ap);
}

/* Each "\n"-terminated line of `b` on stderr, and in the VM's log when open. */
static void say_lines(const vh_buf *b, vh_logger *log)
{
        for (const char *p = b->data; p && *p;) {
                const char *nl = strchrnul(p, '\n');
                say("%.*s", (int)(nl - p), p);
                if (log->fd >= 0)
                        (void)vh_log(log, "%.*s", (int)(nl - p), p); /* best effort: the stderr line is kept */
                p = *nl ? nl + 1 : nl;
        }
}

static const char *emulator_path(const vh_wrapper_conf *conf)
{
        if (conf->emulator)
                return conf->emulator;
#ifdef VH_TEST_SEAMS
        /* test builds only (make test-binaries) */
        const char *env = secure_getenv("VMHOOKS_EMULATOR");
        if (env && *env)
                return env;
#endif
        return VH_DEFAULT_EMULATOR;
}

static bool is_this_wrapper(const char *path)
{
        struct stat a, b;
        return stat(path, &a) == 0 && stat("/proc/self/exe", &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

__attribute__((noreturn)) static void run(const char *emulator, char **argv)
{
        argv[0] = (char *)emulator;
        execv(emulator, argv);
        int e = errno;
        say("cannot execute the emulator %s: %s (set <wrapper emulator=\"...\"/> in %s)", emulator, strerror(e),
            VH_POLICY_FILE);
        exit(127);
}

int main(int argc, char **argv)
{
        _cleanup_wrapper_conf_ vh_wrapper_conf conf = { 0 };
        _cleanup_error_ vh_error *conf_err = NULL;
        int cr = vh_wrapper_conf_load(&conf, &conf_err);
        /* The host's <msix-relocation> as a policy (only these fields: no vh_policy_done, no libxml2). */
        vh_policy host = { 0 };
        if (cr == 0 && conf.msix) {
                host.present = host.enabled = 1u << VH_P_MSIX;
                host.msix_bar = conf.bar;
                host.msix_devices = conf.devices;
        }
        bool have_policy = cr == 0;
        const char *emulator = emulator_path(&conf);
        if (emulator[0] != '/') {
                say("the emulator \"%s\" is not an absolute path", emulator);
                return 127;
        }
        if (is_this_wrapper(emulator)) {
                say("the emulator %s is this wrapper itself; set <wrapper emulator=\"...\"/> in %s to the real QEMU",
                    emulator, VH_POLICY_FILE);
                return 1;
        }

        _cleanup_qargv_ vh_qargv q = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        if (vh_qargv_parse(argc, argv, &q, &e) < 0) {
                say("%s; the command line goes to QEMU as it is", vh_error_msg(e));
                run(emulator, argv);
        }
        if (q.probe)
                run(emulator, argv); /* libvirt's capability probe: untouched, silent */

        _cleanup_buf_ vh_buf notes = { 0 };
        if (cr < 0 && cr != -ENOENT)
                (void)vh_buf_printf(&notes, "%s; no host policy\n", vh_error_msg(conf_err));

        _cleanup_msix_plan_ vh_msix_plan plan = { 0 };
        _cleanup_error_ vh_error *plan_err = NULL;
        int r = vh_msix_plan_load(q.name, q.uuid, &plan, &plan_err);
        if (r < 0 && r != -ENOENT)
                (void)vh_buf_printf(&notes, "%s; using the host policy\n", vh_error_msg(plan_err));

        vh_qrelocate *rel = NULL;
        size_t n_rel = 0;
        if (vh_msix_targets(&q, r == 0 ? &plan : NULL, have_policy ? &host : NULL, &rel, &n_rel, &notes, &e) < 0) {
                say("%s; the command line goes to QEMU as it is", vh_error_msg(e));
                run(emulator, argv);
        }
        _cleanup_qrewrite_ vh_qrewrite w = { 0 };
        r = vh_qargv_rewrite(&q, rel, n_rel, &w, &e);
        vh_qrelocate_free_all(rel, n_rel);
        if (r < 0) {
                say("%s; the command line goes to QEMU as it is", vh_error_msg(e));
                run(emulator, argv);
        }

        if (notes.len > 0 || w.notes.len > 0 || w.changes.len > 0) {
                _cleanup_log_ vh_logger log = { .fd = -1 };
                if (q.name)
                        vh_log_open(&log, q.name, "qemu wrapper");
                say_lines(&notes, &log);
                say_lines(&w.notes, &log);
                say_lines(&w.changes, &log);
        }
        run(emulator, w.changed ? w.argv : argv);
}
