/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* patch-opts.h — the options patch, diff and apply share: --policy, --msix, --facts, -v. */
#ifndef VH_PATCH_OPTS_H
#define VH_PATCH_OPTS_H

#include <stdbool.h>

#include "patch.h"

#define VH_PATCH_LONG_OPTS                                      \
        { "policy", required_argument, NULL, 'p' },             \
        { "msix", required_argument, NULL, 'm' },               \
        { "facts", required_argument, NULL, 'F' },              \
        { "verbose", no_argument, NULL, 'v' }

/*
 * Handle one getopt result `c` of the shared options.  1: handled; 0: not
 * one of them; -1: a bad value (the caller prints its usage).
 */
int vh_patch_opt(int c, const char *arg, vh_patch_opts *po, bool *verbose);

/*
 * After the options: load the facts file --facts named (`vmhooks facts >
 * FILE` on the host to patch for) into po->facts.  0 (also without
 * --facts); < 0 with one line naming the file, the line and what is
 * expected.
 */
int vh_patch_opts_finish(vh_patch_opts *po, vh_error **err);

/* Was --facts given? */
bool vh_patch_opts_have_facts(void);

#endif
