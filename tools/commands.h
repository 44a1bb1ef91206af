/* SPDX-License-Identifier: MIT */
/*
 * commands.h — the subcommands of `vmhooks`, one file each (cmd-NAME.c).
 * To add one: write tools/cmd-NAME.c with vh_cmd_NAME(), declare it here,
 * and add its line to VH_COMMAND_TABLE.
 */
#ifndef VH_COMMANDS_H
#define VH_COMMANDS_H

#include "cli.h"

int vh_cmd_version(vh_cli *cli, int argc, char **argv, vh_error **err);

#define VH_COMMAND_TABLE \
        { "version", vh_cmd_version, "version", "print the version and the paths vmhooks uses" },

#endif
