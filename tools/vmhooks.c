/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmhooks — the administrator's command: patch domain XML, audit the host,
 * check a VM before it starts, show what vmhooks is doing.  See vmhooks(8).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "util.h"
#include "version.h"


static const vh_command commands[] = {
        VH_COMMAND_TABLE
};

static const vh_command *current;

int vh_cli_usage(const vh_cli *cli)
{
        fprintf(stderr, "usage: %s %s\n", cli->prog, current ? current->usage : "COMMAND [ARGS]");
        return 2;
}

bool vh_cli_wants_help(int argc, char **argv)
{
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--"))
                        return false;
                if (streq(argv[i], "-h") || streq(argv[i], "--help"))
                        return true;
        }
        return false;
}

/* The name column: wide enough for the longest command name. */
static int name_width(void)
{
        size_t w = 0;
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (strlen(commands[i].name) > w)
                        w = strlen(commands[i].name);
        return (int)w;
}

static void help(FILE *f)
{
        fprintf(f, "usage: vmhooks [-c URI] COMMAND [ARGS]\n\n"
                   "vmhooks applies the openEuler virtualization best practices to a libvirt/KVM host.\n\n"
                   "commands:\n");
        int w = name_width();
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %-*s  %s\n", w, commands[i].name, commands[i].summary);
        fprintf(f, "\noptions:\n"
                   "  -c, --connect URI  libvirt connection (default: $LIBVIRT_DEFAULT_URI, else qemu:///system)\n"
                   "  -h, --help         this help\n"
                   "  -V, --version      print the version\n\n"
                   "vmhooks help COMMAND (or vmhooks COMMAND --help) shows a command's usage and options.\n"
                   "See vmhooks(8), vmhooks-policy(5), /var/log/vmhooks/NAME.log.\n");
}

static const vh_command *find(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                if (streq(commands[i].name, name))
                        return &commands[i];
        return NULL;
}

/* usage, summary, then one line per option in two columns */
static void command_help(FILE *f, const vh_command *cmd)
{
        fprintf(f, "usage: vmhooks %s\n%s\n", cmd->usage, cmd->summary);
        if (!cmd->options || !cmd->options[0].option) {
                fprintf(f, "\nno options (-h, --help: this help)\n");
                return;
        }
        size_t w = strlen("-h, --help");
        for (const vh_option_help *o = cmd->options; o->option; o++)
                if (strlen(o->option) > w)
                        w = strlen(o->option);
        fprintf(f, "\noptions:\n");
        for (const vh_option_help *o = cmd->options; o->option; o++)
                fprintf(f, "  %-*s  %s\n", (int)w, o->option, o->help);
        fprintf(f, "  %-*s  %s\n", (int)w, "-h, --help", "this help");
}

int vh_cmd_help(vh_cli *cli, int argc, char **argv, vh_error **err)
{
        (void)err;
        if (argc == 1) {
                help(stdout);
                return 0;
        }
        if (argc != 2)
                return vh_cli_usage(cli);
        const vh_command *cmd = find(argv[1]);
        if (!cmd) {
                fprintf(stderr, "vmhooks help: unknown command \"%s\"; the commands are listed by vmhooks help\n",
                        argv[1]);
                return 2;
        }
        command_help(stdout, cmd);
        return 0;
}

int main(int argc, char **argv)
{
        vh_cli cli = { .prog = "vmhooks" };
        static const struct option opts[] = {
                { "connect", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, 'V' },
                { 0 },
        };
        int c;
        /* "+": stop at the first non-option, the command name */
        while ((c = getopt_long(argc, argv, "+c:hV", opts, NULL)) != -1) {
                switch (c) {
                case 'c': cli.uri = optarg; break;
                case 'h': help(stdout); return 0;
                case 'V': printf("vmhooks %s\n", VH_VERSION); return 0;
                default: help(stderr); return 2;
                }
        }
        if (optind >= argc) {
                help(stderr);
                return 2;
        }
        const char *name = argv[optind];
        const vh_command *cmd = find(name);
        if (!cmd) {
                fprintf(stderr, "vmhooks: unknown command \"%s\"; see vmhooks --help\n", name);
                return 2;
        }
        current = cmd;
        cli.command = name;
        int sub_argc = argc - optind;
        char **sub_argv = argv + optind;
        if (vh_cli_wants_help(sub_argc, sub_argv)) {
                command_help(stdout, current);
                return 0;
        }
        optind = 1; /* each command parses its own options */
        vh_error *err = NULL;
        int r = current->run(&cli, sub_argc, sub_argv, &err);
        if (r < 0) {
                fprintf(stderr, "vmhooks %s: %s\n", name, vh_error_msg(err));
                vh_error_free(err);
                return 1;
        }
        vh_error_free(err);
        return r;
}
