/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * commands.h — the subcommands of `vmhooks`, one file each (cmd-NAME.c).
 * To add one: write tools/cmd-NAME.c with vh_cmd_NAME(), declare it here,
 * and add its line to VH_COMMAND_TABLE.
 */
#ifndef VH_COMMANDS_H
#define VH_COMMANDS_H

#include "cli.h"

int vh_cmd_version(vh_cli *cli, int argc, char **argv, vh_error **err);
int vh_cmd_patch(vh_cli *cli, int argc, char **argv, vh_error **err);
int vh_cmd_diff(vh_cli *cli, int argc, char **argv, vh_error **err);
int vh_cmd_apply(vh_cli *cli, int argc, char **argv, vh_error **err);
int vh_cmd_check(vh_cli *cli, int argc, char **argv, vh_error **err);
int vh_cmd_audit(vh_cli *cli, int argc, char **argv, vh_error **err);
int vh_cmd_status(vh_cli *cli, int argc, char **argv, vh_error **err);
int vh_cmd_policy(vh_cli *cli, int argc, char **argv, vh_error **err);
int vh_cmd_help(vh_cli *cli, int argc, char **argv, vh_error **err);
int vh_cmd_restore(vh_cli *cli, int argc, char **argv, vh_error **err);
int vh_cmd_facts(vh_cli *cli, int argc, char **argv, vh_error **err);

/* The options of each command, one line each (tools/help.c; vmhooks(8) has the same lines). */
extern const vh_option_help vh_help_patch[], vh_help_diff[], vh_help_apply[], vh_help_check[], vh_help_audit[],
        vh_help_status[], vh_help_policy[], vh_help_help[], vh_help_restore[], vh_help_facts[];

#define VH_COMMAND_TABLE \
        { "patch", vh_cmd_patch, "patch [--policy FILE] [--msix=wrapper|override] [--facts FILE] [-v] [FILE|-]", "patch domain XML with the policy: XML in, XML out, changes on stderr", vh_help_patch }, \
        { "diff", vh_cmd_diff, "diff [--policy FILE] [--msix=wrapper|override] [--facts FILE] [-v] DOMAIN", "what apply would change in a domain's definition, as a unified diff", vh_help_diff }, \
        { "apply", vh_cmd_apply, "apply [--dry-run] [--policy FILE] [--msix=wrapper|override] [--facts FILE] [-v] DOMAIN", "patch a domain's persistent definition and redefine it", vh_help_apply }, \
        { "check", vh_cmd_check, "check [--json] [--facts FILE] DOMAIN | --file FILE", "the checks the hook runs at prepare", vh_help_check }, \
        { "policy", vh_cmd_policy, "policy DOMAIN | --file FILE", "a VM's effective policy, and where each element comes from", vh_help_policy }, \
        { "audit", vh_cmd_audit, "audit [--json] [--guest DOMAIN]", "audit the host or a guest agent", vh_help_audit }, \
        { "facts", vh_cmd_facts, "facts [--json]", "the host facts the rules and checks read (for patch --facts)", vh_help_facts }, \
        { "status", vh_cmd_status, "status [--json]", "what vmhooks does to this host now: VMs, knobs, install", vh_help_status }, \
        { "restore", vh_cmd_restore, "restore [--force]", "put every knob original back now (before removing vmhooks, after a mishap)", vh_help_restore }, \
        { "version", vh_cmd_version, "version", "print the version and the paths vmhooks uses", NULL }, \
        { "help", vh_cmd_help, "help [COMMAND]", "this list, or a command's options", vh_help_help },

#endif
