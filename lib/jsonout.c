/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "jsonout.h"

#include <errno.h>

int vh_json_add(json_object *o, const char *key, json_object *v)
{
        if (!v)
                return -ENOMEM;
        if (json_object_object_add(o, key, v) < 0) {
                json_object_put(v);
                return -ENOMEM;
        }
        return 0;
}
