/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmhooks policy DOMAIN | --file FILE: the effective policy of a VM, the
 * one the hook uses at its next start (the host file, then the <metadata>
 * of its configuration on top, element by element), and where each
 * element comes from: the host file's line, or the VM's metadata (the line
 * within its <policy> element).  A source with an error is shown with it,
 * and what the hook does about it.  Exit 0; 1 when a source has an error
 * (or on any other error); 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "commands.h"
#include "domain.h"
#include "policy.h"
#include "root.h"
#include "util.h"
#include "virt.h"

static int print_policy(const vh_domain *dom, const vh_policy *host, const vh_error *host_err, const vh_policy *pol,
                        const vh_error *vm_err, const char *host_path)
{
        printf("effective policy of VM %s: %s, then the VM's <metadata> (%s)\n", dom->name, host_path,
               host_err ? "host file ignored" : dom->policy ? vm_err ? "metadata ignored" : "present" : "none");
        if (host_err)
                printf("ERROR host policy: %s\n  the host file is ignored (none of its defaults apply) and the VM's "
                       "metadata applies alone; fix the file (vmhooks-policy(5))\n", vh_error_msg(host_err));
        if (vm_err)
                printf("ERROR metadata: %s\n  the metadata is ignored and the host policy applies alone; fix it with "
                       "virsh metadata %s --uri %s --key vmhooks --config --edit\n", vh_error_msg(vm_err), dom->name,
                       VH_POLICY_NS);
        int w = 0;
        for (int e = 0; e < VH_P_COUNT; e++)
                if ((pol->present >> e) & 1 && (int)strlen(vh_policy_elem_name((vh_policy_elem)e)) > w)
                        w = (int)strlen(vh_policy_elem_name((vh_policy_elem)e));
        _cleanup_buf_ vh_buf unset = { 0 };
        for (int e = 0; e < VH_P_COUNT; e++) {
                vh_policy_elem el = (vh_policy_elem)e;
                if (!((pol->present >> e) & 1)) {
                        if (vh_buf_printf(&unset, "%s%s", unset.len ? ", " : "", vh_policy_elem_name(el)) < 0)
                                return -ENOMEM;
                        continue;
                }
                _cleanup_buf_ vh_buf v = { 0 };
                if (vh_policy_describe_elem(pol, el, &v) < 0)
                        return -ENOMEM;
                _cleanup_free_ char *from = NULL;
                if (((pol->from_vm >> e) & 1) && ((host->present >> e) & 1))
                        from = vh_strf("metadata of VM %s, line %ld of the <policy> element (replaces %s line %ld)",
                                       dom->name, pol->line[e], host_path, host->line[e]);
                else if ((pol->from_vm >> e) & 1)
                        from = vh_strf("metadata of VM %s, line %ld of the <policy> element", dom->name, pol->line[e]);
                else
                        from = vh_strf("%s line %ld", host_path, pol->line[e]);
                if (!from)
                        return -ENOMEM;
                printf("  %-*s  %-24s  %s\n", w, vh_policy_elem_name(el), v.data ? v.data : "", from);
        }
        if (pol->present == 0)
                printf("  (empty: vmhooks tunes nothing for this VM)\n");
        if (unset.len)
                printf("not set: %s\n", unset.data);
        return 0;
}

int vh_cmd_policy(vh_cli *cli, int argc, char **argv, vh_error **err)
{
        static const struct option opts[] = {
                { "file", required_argument, NULL, 'f' },
                { 0 },
        };
        const char *file = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "+f:", opts, NULL)) != -1) {
                switch (c) {
                case 'f': file = optarg; break;
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
        _cleanup_policy_ vh_policy host = { 0 }, pol = { 0 };
        _cleanup_error_ vh_error *host_err = NULL, *vm_err = NULL, *ignored = NULL;
        if ((r = vh_policy_load_host(&host, &ignored)) == -ENOMEM ||
            (r = vh_policy_effective(dom, &pol, &host_err, &vm_err)) < 0)
                return vh_fail(err, ENOMEM, "policy of VM %s", dom->name);
        _cleanup_free_ char *host_path = vh_path(VH_POLICY_FILE);
        if (!host_path || print_policy(dom, &host, host_err, &pol, vm_err, host_path) < 0)
                return vh_fail(err, ENOMEM, "output");
        if (fflush(stdout) != 0)
                return vh_fail(err, errno, "write output");
        return host_err || vm_err ? 1 : 0;
}
