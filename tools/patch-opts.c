/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "patch-opts.h"

#include "util.h"

int vh_patch_opt(int c, const char *arg, vh_patch_opts *po, bool *verbose)
{
        switch (c) {
        case 'p':
                po->policy_file = arg;
                return 1;
        case 'm':
                if (streq(arg, "override"))
                        po->flags |= VH_PATCH_MSIX_OVERRIDE;
                else if (!streq(arg, "wrapper"))
                        return -1;
                return 1;
        case 'v':
                *verbose = true;
                return 1;
        }
        return 0;
}
