/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmhooks check [--json] [--facts FILE] DOMAIN | --file FILE: the checks the hook runs at
 * `prepare begin` (lib/checks), on a defined domain's configuration or on a
 * domain XML file ("-": stdin), under its effective policy.  Exit 1 when a
 * check fails (the hook would refuse the start), 0 otherwise, 2 on bad usage.
 * --facts FILE checks against the host whose facts FILE holds (lib/facts.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checks.h"
#include "hugepool.h"
#include "facts.h"
#include "commands.h"
#include "domain.h"
#include "fileio.h"
#include "policy.h"
#include "report.h"
#include "util.h"
#include "virt.h"
#include "xml.h"

int vh_cmd_check(vh_cli *cli, int argc, char **argv, vh_error **err)
{
        static const struct option opts[] = {
                { "file", required_argument, NULL, 'f' },
                { "json", no_argument, NULL, 'j' },
                { "facts", required_argument, NULL, 'F' },
                { 0 },
        };
        const char *file = NULL, *facts_file = NULL;
        bool json = false;
        int c;
        while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
                switch (c) {
                case 'f': file = optarg; break;
                case 'j': json = true; break;
                case 'F': facts_file = optarg; break;
                default: return vh_cli_usage(cli);
                }
        }
        if ((file && optind != argc) || (!file && optind != argc - 1))
                return vh_cli_usage(cli);
        const char *ref = file ? NULL : argv[optind];

        _cleanup_domain_ vh_domain *dom = NULL;
        int r = vh_virt_load_domain(cli->uri, file, ref, &dom, err);
        if (r < 0)
                return r;
        _cleanup_policy_ vh_policy pol = { 0 };
        _cleanup_error_ vh_error *host_err = NULL, *vm_err = NULL;
        if ((r = vh_policy_effective(dom, &pol, &host_err, &vm_err)) < 0)
                return vh_fail(err, -r, "policy of VM %s", dom->name);
        _cleanup_results_ vh_results res = { 0 };
        /* what the hook logs at prepare, in the same words */
        if (host_err && vh_results_add(&res, "policy", VH_LEVEL_WARN, false, "fix the file; meanwhile the hook "
                                       "ignores it: none of its defaults apply, only the VM's metadata",
                                       "%s", vh_error_msg(host_err)) < 0)
                return vh_fail(err, ENOMEM, "check");
        if (vm_err && vh_results_add(&res, "policy", VH_LEVEL_WARN, false, "fix the VM's metadata; meanwhile the "
                                     "host policy alone applies", "%s", vh_error_msg(vm_err)) < 0)
                return vh_fail(err, ENOMEM, "check");
        /* this host's facts (the parts the checks read, as the hook gathers them), or another host's */
        _cleanup_facts_ vh_facts facts = { 0 };
        if ((r = facts_file ? vh_facts_load(facts_file, &facts, err)
                            : vh_facts_gather(&facts, vh_checks_facts_needed(dom, &pol), err)) < 0)
                return r;
        if ((r = vh_checks_run(dom, &pol, &facts, &res, err)) < 0)
                return r;
        /* <hugepage-pool allocate="yes">: what the start would add to this host's pools */
        if (!facts_file && (r = vh_hugepool_preview(dom, &pol, &res)) < 0)
                return vh_fail(err, -r, "check");
        if (res.n == 0 && vh_results_add(&res, "checks", VH_LEVEL_NOTE, false, NULL,
                                         "VM %s uses nothing a prepare-time check looks at (static hugepages, PCI "
                                         "passthrough by <hostdev> or <interface type='hostdev'>, an emulated TPM, "
                                         "or an sVirt policy)", dom->name) < 0)
                return vh_fail(err, ENOMEM, "check");
        return vh_report_print(stdout, &res, json, "check", err);
}
