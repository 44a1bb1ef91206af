/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sdunits-cli — lib/sdunits.c from the command line, for
 * tests/integration/t-systemd.sh (a test program: never installed).
 *
 *   sdunits-cli usable            exit 0, or print why and exit with -errno
 *   sdunits-cli get UNIT          print AllowedCPUs ("" when unset)
 *   sdunits-cli set UNIT LIST     "" resets; prints "cleared-stale-cpuset" when it had to
 *
 * VMHOOKS_ROOT (test builds) points it at another root, e.g. /proc/PID/root
 * of a container whose systemd listens on /run/systemd/private.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sdunits.h"

int main(int argc, char **argv)
{
        vh_error *e = NULL;
        int r;
        if (argc == 2 && strcmp(argv[1], "usable") == 0) {
                char *why = NULL;
                r = vh_systemd_usable(&why);
                if (r < 0)
                        printf("%s\n", why ? why : "(no reason)");
                free(why);
                vh_systemd_disconnect();
                return r < 0 ? (-r & 0x7f) : 0;
        }
        if (argc == 3 && strcmp(argv[1], "get") == 0) {
                char *list = NULL;
                r = vh_unit_get_allowed_cpus(argv[2], &list, &e);
                if (r >= 0)
                        printf("%s\n", list);
                free(list);
        } else if (argc == 4 && strcmp(argv[1], "set") == 0) {
                r = vh_unit_set_allowed_cpus(argv[2], argv[3], &e);
                if (r > 0)
                        printf("cleared-stale-cpuset\n");
        } else {
                fprintf(stderr, "usage: sdunits-cli usable | get UNIT | set UNIT LIST\n");
                return 2;
        }
        vh_systemd_disconnect();
        if (r < 0) {
                fprintf(stderr, "sdunits-cli: %s\n", vh_error_msg(e));
                vh_error_free(e);
                return 1;
        }
        return 0;
}
