/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmhooks [-c URI] apply [--dry-run] [--policy FILE] [--msix=wrapper|override] [--facts FILE] [-v] DOMAIN
 * (and `vmhooks diff`, which is apply --dry-run with diff(1)'s exit status)
 *
 * Reads the domain's persistent definition through libvirt, patches it
 * with the host policy and the VM's <metadata> (lib/patch/plan.c, the one
 * planner of patch, diff, apply and apply --dry-run), shows what each rule
 * did (stderr) and the unified diff (stdout), and redefines the domain with
 * virDomainDefineXMLFlags(VALIDATE).  Then it reads the definition back
 * and plans again: a second apply must change nothing, and when libvirt
 * did not keep a change the command says so and exits 1.  --facts FILE
 * plans for the host whose facts FILE holds (`vmhooks facts > FILE`
 * there): only with --dry-run (and diff), since apply redefines the domain
 * here.
 *
 * The definition is read with VIR_DOMAIN_XML_SECURE for the redefinition
 * (without it, libvirt would drop graphics passwords and the like), but
 * what is shown comes from the plain one.  Errors from libvirt are shown as
 * libvirt gives them.  Exit: 0 done or nothing to change; 1 an error, or a
 * change libvirt did not keep; 2 bad usage.  diff: 0 nothing to change, 1
 * changes.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "patch-opts.h"
#include "patch.h"
#include "util.h"
#include "virt.h"

static int plan_domain(virDomainPtr d, unsigned xml_flags, const vh_patch_opts *po, vh_patch_plan *ret, vh_error **err)
{
        _cleanup_free_ char *xml = NULL;
        int r = vh_virt_domain_xml(d, VIR_DOMAIN_XML_INACTIVE | xml_flags, &xml, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *what = NULL;
        if (asprintf(&what, "persistent definition of %s", virDomainGetName(d)) < 0)
                return vh_fail(err, ENOMEM, "%s", virDomainGetName(d));
        return vh_patch_plan_make(xml, strlen(xml), what, po, ret, err);
}

static int print_report(const vh_patch_plan *p, bool verbose, vh_error **err)
{
        _cleanup_buf_ vh_buf lines = { 0 };
        if ((verbose && vh_buf_printf(&lines, "policy: %s\n", p->policy) < 0) ||
            vh_patch_report_format(&p->report, verbose ? VH_PATCH_KINDS_ALL : VH_PATCH_KINDS_DEFAULT, &lines) < 0)
                return vh_fail(err, ENOMEM, "report");
        if (lines.data)
                fputs(lines.data, stderr);
        return 0;
}

static int check_override(virConnectPtr conn, vh_error **err)
{
        unsigned long v = 0;
        if (virConnectGetLibVersion(conn, &v) < 0)
                return vh_virt_fail(err, "libvirt version");
        if (v < VH_QEMU_OVERRIDE_MIN_LIBVIRT)
                return vh_fail_input(err,
                                     "--msix=override writes <qemu:override>, which libvirt %lu.%lu.%lu does not know "
                                     "(it needs 8.2.0); use --msix=wrapper (the default)",
                                     v / 1000000, v / 1000 % 1000, v % 1000);
        return 0;
}

/* After the redefinition: a second plan must change nothing. */
static int verify(virDomainPtr d, const vh_patch_opts *po, const char *cmd, vh_error **err)
{
        _cleanup_patch_plan_ vh_patch_plan again = { 0 };
        int r = plan_domain(d, 0, po, &again, err);
        if (r < 0)
                return vh_error_wrap(err, "reading the new definition back");
        if (again.report.changes == 0)
                return 0;
        for (size_t i = 0; i < again.report.n; i++) {
                if (again.report.lines[i].kind != VH_PATCH_CHANGED)
                        continue;
                _cleanup_free_ char *s = vh_patch_line_format(&again.report.lines[i]);
                fprintf(stderr, "vmhooks %s: %s: libvirt did not keep: %s\n", cmd, again.name, s ? s : "?");
        }
        return 1;
}

int vh_cmd_apply(vh_cli *cli, int argc, char **argv, vh_error **err)
{
        bool diff_mode = streq(cli->command, "diff");
        static const struct option opts[] = { { "dry-run", no_argument, NULL, 'n' }, VH_PATCH_LONG_OPTS, { 0 } };
        vh_patch_opts po = { 0 };
        bool dry_run = diff_mode, verbose = false;
        int c;
        while ((c = getopt_long(argc, argv, "+np:v", opts, NULL)) != -1) {
                if (c == 'n' && !diff_mode)
                        dry_run = true;
                else if (c == 'n' || vh_patch_opt(c, optarg, &po, &verbose) <= 0)
                        return vh_cli_usage(cli);
        }
        if (optind != argc - 1)
                return vh_cli_usage(cli);
        const char *ref = argv[optind];
        const char *cmd = diff_mode ? "diff" : "apply";
        if (vh_patch_opts_have_facts() && !dry_run)
                return vh_fail_input(err, "apply --facts FILE: the facts of another host are for planning only: use "
                                          "apply --dry-run --facts FILE (or diff --facts FILE); apply redefines the "
                                          "domain for this host's own facts");
        int fr = vh_patch_opts_finish(&po, err);
        if (fr < 0)
                return fr;

        _cleanup_conn_ virConnectPtr conn = NULL;
        _cleanup_virdomain_ virDomainPtr d = NULL;
        int r = vh_virt_open(cli->uri, dry_run, &conn, err);
        if (r < 0 || (r = vh_virt_domain(conn, ref, &d, err)) < 0)
                return r;
        const char *name = virDomainGetName(d);
        int persistent = virDomainIsPersistent(d);
        if (persistent < 0)
                return vh_virt_fail(err, name);
        if (persistent == 0)
                return vh_fail_input(err,
                                     "%s is a transient domain: it has no persistent definition to patch (vmhooks patch "
                                     "works on its XML: virsh dumpxml %s | vmhooks patch)",
                                     name, name);

        _cleanup_patch_plan_ vh_patch_plan plan = { 0 };
        if ((r = plan_domain(d, 0, &po, &plan, err)) < 0 || (r = print_report(&plan, verbose, err)) < 0)
                return r;
        if (plan.report.changes == 0) {
                fprintf(diff_mode ? stderr : stdout, "vmhooks %s: %s: nothing to change\n", cmd, name);
                return 0;
        }
        fputs(plan.diff ? plan.diff : "", stdout);
        unsigned n = plan.report.changes;
        const char *s = n == 1 ? "" : "s";
        if (diff_mode) {
                fprintf(stderr, "vmhooks diff: %s: %u change%s (vmhooks apply %s)\n", name, n, s, name);
                return 1;
        }
        if (dry_run) {
                printf("vmhooks apply: %s: %u change%s; dry run, nothing redefined\n", name, n, s);
                return 0;
        }
        if (plan.uses_override && (r = check_override(conn, err)) < 0)
                return r;

        _cleanup_patch_plan_ vh_patch_plan secure = { 0 };
        if ((r = plan_domain(d, VIR_DOMAIN_XML_SECURE, &po, &secure, err)) < 0)
                return r;
        if (!secure.after)
                return vh_fail_input(err, "%s: the definition changed while it was being read; run vmhooks apply again",
                                     name);
        virDomainPtr nd = virDomainDefineXMLFlags(conn, secure.after, VIR_DOMAIN_DEFINE_VALIDATE);
        if (!nd)
                return vh_virt_fail(err, name);
        virDomainFree(nd);
        printf("vmhooks apply: %s: redefined (%u change%s)\n", name, n, s);
        if (virDomainIsActive(d) == 1)
                printf("vmhooks apply: %s is running: the new definition applies from its next start (shut it down "
                       "and start it; a reboot inside the guest is not enough)\n",
                       name);
        return verify(d, &po, cmd, err);
}
