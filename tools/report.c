/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "report.h"

#include <errno.h>
#include <stdlib.h>

#include <json-c/json.h>

#include "jsonout.h"

#include "cleanup.h"



static int print_json(FILE *f, const vh_results *r, const unsigned counts[4])
{
        _cleanup_(json_object_putp) json_object *root = json_object_new_object();
        json_object *arr = json_object_new_array();
        if (!root || vh_json_add(root, "results", arr) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < r->n; i++) {
                const vh_result *x = &r->items[i];
                json_object *o = json_object_new_object();
                if (!o || json_object_array_add(arr, o) < 0) {
                        json_object_put(o);
                        return -ENOMEM;
                }
                if (vh_json_add(o, "check", json_object_new_string(x->check)) < 0 ||
                    vh_json_add(o, "level", json_object_new_string(vh_level_name(x->level))) < 0 ||
                    vh_json_add(o, "message", json_object_new_string(x->message)) < 0 ||
                    (x->fix ? vh_json_add(o, "fix", json_object_new_string(x->fix))
                            : json_object_object_add(o, "fix", NULL)) < 0 ||
                    vh_json_add(o, "refuse", json_object_new_boolean(x->refuse)) < 0)
                        return -ENOMEM;
        }
        json_object *c = json_object_new_object();
        if (vh_json_add(root, "counts", c) < 0)
                return -ENOMEM;
        for (int l = 0; l < 4; l++)
                if (vh_json_add(c, vh_level_name((vh_level)l), json_object_new_int((int)counts[l])) < 0)
                        return -ENOMEM;
        const char *s = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
        if (!s)
                return -ENOMEM;
        fprintf(f, "%s\n", s);
        return 0;
}

int vh_report_print(FILE *f, const vh_results *r, bool json, const char *what, vh_error **err)
{
        unsigned counts[4] = { 0 };
        for (size_t i = 0; i < r->n; i++)
                counts[r->items[i].level]++;
        if (json) {
                if (print_json(f, r, counts) < 0)
                        return vh_fail(err, ENOMEM, "JSON output");
        } else {
                for (size_t i = 0; i < r->n; i++) {
                        _cleanup_free_ char *line = vh_result_line(&r->items[i]);
                        if (!line)
                                return vh_fail(err, ENOMEM, "output");
                        fprintf(f, "%s\n", line);
                }
                fprintf(f, "%s: %u PASS, %u NOTE, %u WARN, %u FAIL\n", what, counts[VH_LEVEL_PASS],
                        counts[VH_LEVEL_NOTE], counts[VH_LEVEL_WARN], counts[VH_LEVEL_FAIL]);
        }
        if (fflush(f) != 0)
                return vh_fail(err, errno, "write output");
        return counts[VH_LEVEL_FAIL] ? 1 : 0;
}
