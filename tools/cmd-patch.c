/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmhooks patch [--policy FILE] [--msix=wrapper|override] [--facts FILE] [-v] [FILE|-]
 *
 * Domain XML in (FILE, or stdin), patched XML out on stdout, what each rule
 * did on stderr.  The policy is /etc/vmhooks/policy.xml (or FILE given to
 * --policy) with the VM's <metadata> on top, exactly as `vmhooks apply`
 * uses it (lib/patch/plan.c).  No libvirt connection: the output can be
 * fed to `virsh define`.  The host is this one, or the one whose facts
 * --facts names (`vmhooks facts > FILE` there): the same domain, policy and
 * facts give the same XML on any machine.  When no rule changes anything, the input is
 * printed unchanged, byte for byte.  Exit 0, or 1 on an error, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "fileio.h"
#include "patch-opts.h"
#include "patch.h"
#include "util.h"
#include "xml.h"

int vh_cmd_patch(vh_cli *cli, int argc, char **argv, vh_error **err)
{
        static const struct option opts[] = { VH_PATCH_LONG_OPTS, { 0 } };
        vh_patch_opts po = { 0 };
        bool verbose = false;
        int c;
        while ((c = getopt_long(argc, argv, "+p:v", opts, NULL)) != -1)
                if (vh_patch_opt(c, optarg, &po, &verbose) <= 0)
                        return vh_cli_usage(cli);
        if (optind < argc - 1)
                return vh_cli_usage(cli);
        const char *file = optind < argc ? argv[optind] : "-";

        _cleanup_free_ char *xml = NULL;
        size_t len = 0;
        int r = vh_patch_opts_finish(&po, err);
        if (r < 0)
                return r;
        if (streq(file, "-"))
                r = vh_read_fd(STDIN_FILENO, VH_XML_MAX, &xml, &len, err) < 0 ? vh_error_wrap(err, "stdin") : 0;
        else
                r = vh_read_file(file, VH_XML_MAX, &xml, &len, err);
        if (r < 0)
                return r;
        _cleanup_patch_plan_ vh_patch_plan plan = { 0 };
        if ((r = vh_patch_plan_make(xml, len, streq(file, "-") ? "domain XML on stdin" : file, &po, &plan, err)) < 0)
                return r;

        _cleanup_buf_ vh_buf lines = { 0 };
        if ((verbose && vh_buf_printf(&lines, "policy: %s\n", plan.policy) < 0) ||
            vh_patch_report_format(&plan.report, verbose ? VH_PATCH_KINDS_ALL : VH_PATCH_KINDS_DEFAULT, &lines) < 0)
                return vh_fail(err, ENOMEM, "report");
        if (lines.data)
                fputs(lines.data, stderr);
        if (plan.report.changes)
                fprintf(stderr, "vmhooks patch: %s: %u change%s\n", plan.name, plan.report.changes,
                        plan.report.changes == 1 ? "" : "s");
        else
                fprintf(stderr, "vmhooks patch: %s: nothing to change\n", plan.name);
        const char *out = plan.after ? plan.after : xml;
        size_t out_len = plan.after ? strlen(plan.after) : len;
        if (fwrite(out, 1, out_len, stdout) != out_len || fflush(stdout) != 0)
                return vh_fail(err, errno ? errno : EIO, "stdout");
        return 0;
}
