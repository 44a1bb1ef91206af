/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmhooks status [--json]: the registered VMs and their demands, every
 * knob's current, original, desired and last written value and whether
 * someone else changed it, the last error of each VM, and whether the hook
 * and the wrapper are installed where libvirt runs them (lib/status.h).
 * It reads the state without the lock and changes nothing.
 * Exit 0 when nothing needs attention, 1 when something does (a knob
 * changed by someone else or off its desired value, an unreadable state,
 * an install WARN or FAIL), 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "commands.h"
#include "status.h"

int vh_cmd_status(vh_cli *cli, int argc, char **argv, vh_error **err)
{
        static const struct option opts[] = {
                { "json", no_argument, NULL, 'j' },
                { 0 },
        };
        bool json = false;
        int c;
        while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
                switch (c) {
                case 'j': json = true; break;
                default: return vh_cli_usage(cli);
                }
        }
        if (optind != argc)
                return vh_cli_usage(cli);

        _cleanup_status_ vh_status s = { 0 };
        int r = vh_status_collect((int64_t)time(NULL), &s, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = NULL;
        r = json ? vh_status_format_json(&s, &text, err) : vh_status_format_text(&s, &text, err);
        if (r < 0)
                return r;
        if (fputs(text, stdout) < 0 || fflush(stdout) != 0)
                return vh_fail(err, errno, "write output");
        return s.attention ? 1 : 0;
}
