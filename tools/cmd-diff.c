/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmhooks [-c URI] diff [--policy FILE] [--msix=wrapper|override] [--facts FILE] [-v] DOMAIN
 *
 * What `vmhooks apply DOMAIN` would change in the domain's persistent
 * definition, as a unified diff on stdout (what each rule did on stderr).
 * It is `vmhooks apply --dry-run` with diff(1)'s exit status: 0 nothing to
 * change, 1 changes (or an error, with its message on stderr), 2 bad usage.
 * The planner is the one of apply (tools/cmd-apply.c, lib/patch/plan.c).
 */
#include "commands.h"

int vh_cmd_diff(vh_cli *cli, int argc, char **argv, vh_error **err)
{
        /* vh_cmd_apply reads cli->command ("diff") and only plans and shows. */
        return vh_cmd_apply(cli, argc, argv, err);
}
