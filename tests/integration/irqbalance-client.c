/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tests/integration/irqbalance-client.c — lib/irqbalance.c as a command, for
 * t-irqbalance.sh (compiled there against build/test/libvmhooks.a):
 *   irqbalance-client find [quick]  the socket path (quick: VH_IRQBALANCE_QUICK, the hook's search);
 *                                   exit 2 ENOENT, 3 ENOTSUP (the reason on stderr)
 *   irqbalance-client get PATH      the banned CPUs, "" printed as an empty line
 *   irqbalance-client set PATH LIST ban LIST ("" lifts the ban)
 * Errors on stderr, exit 1.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "irqbalance.h"

int main(int argc, char **argv)
{
        vh_error *err = NULL;
        int r;
        if ((argc == 2 || (argc == 3 && strcmp(argv[2], "quick") == 0)) && strcmp(argv[1], "find") == 0) {
                char *path = NULL, *why = NULL;
                r = vh_irqbalance_find(argc == 3 ? VH_IRQBALANCE_QUICK : 0, &path, &why);
                if (r < 0) {
                        fprintf(stderr, "%s\n", why ? why : strerror(-r));
                        return r == -ENOENT ? 2 : r == -ENOTSUP ? 3 : 1;
                }
                printf("%s\n", path);
                free(path);
                return 0;
        }
        if (argc == 3 && strcmp(argv[1], "get") == 0) {
                char *list = NULL;
                r = vh_irqbalance_get_banned(argv[2], &list, &err);
                if (r < 0) {
                        fprintf(stderr, "%s\n", vh_error_msg(err));
                        return 1;
                }
                printf("%s\n", list);
                free(list);
                return 0;
        }
        if (argc == 4 && strcmp(argv[1], "set") == 0) {
                r = vh_irqbalance_set_banned(argv[2], argv[3], &err);
                if (r < 0) {
                        fprintf(stderr, "%s\n", vh_error_msg(err));
                        return 1;
                }
                return 0;
        }
        fprintf(stderr, "usage: irqbalance-client find | get PATH | set PATH LIST\n");
        return 1;
}
