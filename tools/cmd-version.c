/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* vmhooks version: the version and the paths this build uses. */
#include <stdio.h>

#include "commands.h"
#include "root.h"
#include "version.h"


int vh_cmd_version(vh_cli *cli, int argc, char **argv, vh_error **err)
{
        (void)err;
        (void)argv;
        if (argc > 1)
                return vh_cli_usage(cli);
        printf("vmhooks %s\npolicy: %s%s\nstate:  %s%s\nlogs:   %s%s\n", VH_VERSION, vh_root(), VH_POLICY_FILE,
               vh_root(), VH_STATE_DIR, vh_root(), VH_LOG_DIR);
        return 0;
}
