/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cli.h — the `vmhooks` command: one file per subcommand (cmd-NAME.c), each
 * exporting vh_cmd_NAME() and listed in the commands[] table of vmhooks.c.
 *
 * A subcommand returns its exit status (0 ok, 1 a finding such as a FAIL
 * or a difference, 2 bad usage), or a negative errno with *err set; only
 * main() prints errors ("vmhooks NAME: message").
 */
#ifndef VH_CLI_H
#define VH_CLI_H

#include <stdbool.h>

#include "error.h"

typedef struct vh_cli {
        const char *prog;       /* "vmhooks" */
        const char *command;    /* "patch" */
        const char *uri;        /* -c URI (NULL: libvirt's default, qemu:///system as root) */
} vh_cli;

typedef int (*vh_cmd_fn)(vh_cli *cli, int argc, char **argv, vh_error **err);

/* One option (or argument) of a command, for `vmhooks help COMMAND`: "--policy FILE", "its meaning". */
typedef struct vh_option_help {
        const char *option;
        const char *help;
} vh_option_help;

typedef struct vh_command {
        const char *name;
        vh_cmd_fn run;
        const char *usage;      /* "patch [--policy FILE] [FILE|-]" */
        const char *summary;    /* one line */
        const vh_option_help *options;  /* ended by { NULL }; NULL: none */
} vh_command;

/* Print "usage: vmhooks USAGE" for the current command to stderr; returns 2. */
int vh_cli_usage(const vh_cli *cli);

/* True when argv[i] is -h/--help (the command then prints its usage to stdout). */
bool vh_cli_wants_help(int argc, char **argv);


#endif
