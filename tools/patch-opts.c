/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "patch-opts.h"

#include "facts.h"
#include "util.h"

/* One command per process: the facts --facts names live until it exits. */
static const char *facts_file;
static vh_facts facts;

int vh_patch_opt(int c, const char *arg, vh_patch_opts *po, bool *verbose)
{
        switch (c) {
        case 'F':
                facts_file = arg;
                return 1;
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

int vh_patch_opts_finish(vh_patch_opts *po, vh_error **err)
{
        if (!facts_file)
                return 0;
        vh_facts_done(&facts);
        int r = vh_facts_load(facts_file, &facts, err);
        if (r < 0)
                return r;
        po->facts = &facts;
        return 0;
}

bool vh_patch_opts_have_facts(void)
{
        return facts_file != NULL;
}
