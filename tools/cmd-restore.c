/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vmhooks restore [--force]: put every knob original back now, for an
 * operator after a mishap or before removing vmhooks with VMs running.
 * The same transaction as the hook's (lib/lifecycle.h), under its lock.
 * Without --force it refuses while VMs are registered; with it, their
 * registrations are dropped first (they keep running, untuned), and each
 * such VM's log says so.  Every write is printed, logged in those VMs'
 * logs and sent to the system log.  Exit 0 when every knob is back (or
 * left alone because someone else changed it), 1 when a write failed or
 * it refused, 2 on bad usage.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <syslog.h>

#include "commands.h"
#include "lifecycle.h"
#include "log.h"
#include "syslogger.h"
#include "util.h"

const vh_option_help vh_help_restore[] = {
        { "--force", "also when VMs are registered: drop their registrations first (they keep running, untuned)" },
        { 0 },
};

int vh_cmd_restore(vh_cli *cli, int argc, char **argv, vh_error **err)
{
        static const struct option opts[] = {
                { "force", no_argument, NULL, 'f' },
                { 0 },
        };
        bool force = false;
        int c;
        while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
                switch (c) {
                case 'f': force = true; break;
                default: return vh_cli_usage(cli);
                }
        }
        if (optind != argc)
                return vh_cli_usage(cli);

        _cleanup_txn_ vh_txn_result res = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_txn_restore(force, &res, &e);
        if (r == -EBUSY) {
                fprintf(stderr, "vmhooks restore: %s\n", vh_error_msg(e));
                return 1;
        }
        /* a damaged state is reported, and restored from all the same */
        if (r < 0 && r != -EINVAL) {
                *err = TAKE_PTR(e);
                return r;
        }
        if (e)
                fprintf(stderr, "vmhooks restore: %s\n", vh_error_msg(e));

        unsigned restored = 0, failed = 0, left = 0;
        for (size_t i = 0; i < res.report.n; i++) {
                const vh_change *ch = &res.report.changes[i];
                restored += ch->kind == VH_CHANGE_RESTORE;
                failed += ch->kind == VH_CHANGE_FAILED;
                left += ch->kind == VH_CHANGE_DRIFT;
        }
        for (size_t i = 0; i < res.n_dropped; i++) {
                printf("dropped the registration of VM %s: it keeps running, untuned\n", res.dropped[i]);
                _cleanup_log_ vh_logger l = { 0 };
                vh_log_open(&l, res.dropped[i], "vmhooks restore --force");
                (void)vh_log(&l, "registration dropped by the administrator: this VM keeps running, untuned");
                (void)vh_log_report(&l, &res.report);
        }
        for (size_t i = 0; i < res.report.n; i++) {
                _cleanup_free_ char *line = vh_change_line(&res.report.changes[i]);
                if (!line)
                        return vh_fail(err, ENOMEM, "restore");
                printf("%s\n", line);
                if (res.report.changes[i].kind == VH_CHANGE_RESTORE || res.report.changes[i].kind == VH_CHANGE_FAILED)
                        vh_syslog(res.report.changes[i].kind == VH_CHANGE_FAILED ? LOG_ERR : LOG_NOTICE, NULL,
                                  "vmhooks restore", line);
        }
        printf("restore: %u knob%s restored, %u left alone (changed by someone else), %u failed; %zu registration%s "
               "dropped\n", restored, restored == 1 ? "" : "s", left, failed, res.n_dropped,
               res.n_dropped == 1 ? "" : "s");
        if (fflush(stdout) != 0)
                return vh_fail(err, errno, "write output");
        return failed ? 1 : 0;
}
