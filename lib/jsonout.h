/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* jsonout.h — building --json output with json-c, one allocation rule. */
#ifndef VH_JSONOUT_H
#define VH_JSONOUT_H

#include <json-c/json.h>

#include "cleanup.h"

VH_DEFINE_CLEANUP(json_object *, json_object_put)
#define _cleanup_json_put_ _cleanup_(json_object_putp)

/* Add `v` (NULL: an allocation failed) under `key`; `v` is freed on failure.  0 or -ENOMEM. */
int vh_json_add(json_object *o, const char *key, json_object *v);

#endif
