/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmhooks audit [--json]: the host against the security and performance
 * practices (lib/audit), one line per finding with its fix.
 * vmhooks audit [--json] --guest DOMAIN: which RPCs of the VM's
 * <guest-agent block-rpcs> (or vmhooks' default list) its running guest
 * agent still allows, asked through libvirt (guest-info).
 * Exit 1 when anything FAILs, 0 otherwise, 2 on bad usage.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt-qemu.h>

#include "audit.h"
#include "commands.h"
#include "domain.h"
#include "policy.h"
#include "report.h"
#include "util.h"
#include "virt.h"

static int audit_guest(const vh_cli *cli, const char *ref, vh_results *res, vh_error **err)
{
        _cleanup_conn_ virConnectPtr conn = NULL;
        _cleanup_virdomain_ virDomainPtr d = NULL;
        int r = vh_virt_open(cli->uri, false, &conn, err); /* agent commands need a read-write connection */
        if (r < 0)
                return r;
        if ((r = vh_virt_domain(conn, ref, &d, err)) < 0)
                return r;
        _cleanup_free_ char *xml = NULL;
        if ((r = vh_virt_domain_xml(d, 0, &xml, err)) < 0)
                return r;
        _cleanup_domain_ vh_domain *dom = NULL;
        if ((r = vh_domain_parse(xml, strlen(xml), ref, &dom, err)) < 0)
                return r;
        _cleanup_policy_ vh_policy pol = { 0 };
        _cleanup_error_ vh_error *host_err = NULL, *vm_err = NULL;
        if ((r = vh_policy_effective(dom, &pol, &host_err, &vm_err)) < 0)
                return vh_fail(err, -r, "policy of VM %s", dom->name);
        const char *block = vh_policy_on(&pol, VH_P_GUEST_AGENT) ? pol.guest_agent_block : NULL;
        _cleanup_free_ char *reply = virDomainQemuAgentCommand(d, "{\"execute\":\"guest-info\"}",
                                                               VIR_DOMAIN_QEMU_AGENT_COMMAND_DEFAULT, 0);
        if (!reply)
                return vh_virt_fail(err, "guest-info through the guest agent");
        return vh_audit_guest_agent(dom->name, reply, block, res, err);
}

int vh_cmd_audit(vh_cli *cli, int argc, char **argv, vh_error **err)
{
        static const struct option opts[] = {
                { "guest", required_argument, NULL, 'g' },
                { "json", no_argument, NULL, 'j' },
                { 0 },
        };
        const char *guest = NULL;
        bool json = false;
        int c;
        while ((c = getopt_long(argc, argv, "+g:", opts, NULL)) != -1) {
                switch (c) {
                case 'g': guest = optarg; break;
                case 'j': json = true; break;
                default: return vh_cli_usage(cli);
                }
        }
        if (optind != argc)
                return vh_cli_usage(cli);
        _cleanup_results_ vh_results res = { 0 };
        int r = guest ? audit_guest(cli, guest, &res, err) : vh_audit_run(&res, err);
        if (r < 0)
                return r;
        return vh_report_print(stdout, &res, json, guest ? "audit --guest" : "audit", err);
}
