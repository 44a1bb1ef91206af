/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "knobs.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cpuset.h"
#include "fileio.h"
#include "root.h"
#include "util.h"

const vh_knob_def vh_knobs[VH_KNOB_COUNT] = {
        [VH_KNOB_THP] = { "thp", "/sys/kernel/mm/transparent_hugepage/enabled", VH_KIND_THP },
        [VH_KNOB_HALT_POLL] = { "halt_poll_ns", "/sys/module/kvm/parameters/halt_poll_ns", VH_KIND_UINT },
        [VH_KNOB_WQ_MASK] = { "workqueue_cpumask", "/sys/devices/virtual/workqueue/cpumask", VH_KIND_MASK },
        [VH_KNOB_WB_MASK] = { "writeback_cpumask", "/sys/bus/workqueue/devices/writeback/cpumask",
                              VH_KIND_MASK },
};

int vh_knob_by_name(const char *name)
{
        for (int i = 0; i < VH_KNOB_COUNT; i++)
                if (streq(vh_knobs[i].name, name))
                        return i;
        return -1;
}

static const char *const thp_words[] = { "always", "madvise", "never", NULL };

/* "always [madvise] never" -> "madvise"; "never" -> "never". */
static int normalize_thp(const char *raw, char **ret)
{
        const char *open = strchr(raw, '[');
        const char *w = raw;
        size_t n;
        if (open) {
                const char *close = strchr(open, ']');
                if (!close)
                        return -EINVAL;
                w = open + 1;
                n = (size_t)(close - w);
        } else {
                w += strspn(w, " \t");
                n = strcspn(w, " \t\n");
                if (w[n + strspn(w + n, " \t\n")] != '\0')
                        return -EINVAL;
        }
        for (int i = 0; thp_words[i]; i++) {
                if (strlen(thp_words[i]) == n && strncmp(w, thp_words[i], n) == 0) {
                        *ret = strdup(thp_words[i]);
                        return *ret ? 0 : -ENOMEM;
                }
        }
        return -EINVAL;
}

int vh_knob_normalize(vh_knob_id id, const char *raw, char **ret, vh_error **err)
{
        const vh_knob_def *k = &vh_knobs[id];
        int r;
        switch (k->kind) {
        case VH_KIND_THP:
                r = normalize_thp(raw, ret);
                if (r == -ENOMEM)
                        return vh_fail(err, ENOMEM, "%s", k->path);
                if (r < 0)
                        return vh_fail_input(err, "%s reads \"%s\"; expected always, madvise or never", k->path,
                                             raw);
                return 0;
        case VH_KIND_UINT: {
                uint64_t v;
                if (vh_parse_u64(raw, UINT32_MAX, &v) < 0)
                        return vh_fail_input(err, "%s reads \"%s\"; expected a number", k->path, raw);
                if (asprintf(ret, "%llu", (unsigned long long)v) < 0)
                        return vh_fail(err, ENOMEM, "%s", k->path);
                return 0;
        }
        case VH_KIND_MASK: {
                _cleanup_cpuset_ vh_cpuset s = { 0 };
                _cleanup_error_ vh_error *inner = NULL;
                if (vh_cpuset_parse_mask(raw, &s, &inner) < 0)
                        return vh_fail_input(err, "%s reads \"%s\"; expected a hex CPU mask", k->path, raw);
                *ret = strdup(raw);
                if (!*ret)
                        return vh_fail(err, ENOMEM, "%s", k->path);
                vh_rstrip(*ret);
                return 0;
        }
        }
        return vh_fail_input(err, "%s: unknown knob kind", k->path);
}

int vh_knob_read(vh_knob_id id, char **ret, vh_error **err)
{
        _cleanup_free_ char *path = vh_path(vh_knobs[id].path);
        if (!path)
                return vh_fail(err, ENOMEM, "%s", vh_knobs[id].path);
        _cleanup_free_ char *raw = NULL;
        int r = vh_read_line(path, &raw, err);
        if (r < 0)
                return r;
        return vh_knob_normalize(id, raw, ret, err);
}

int vh_knob_write(vh_knob_id id, const char *value, vh_error **err)
{
        _cleanup_free_ char *path = vh_path(vh_knobs[id].path);
        if (!path)
                return vh_fail(err, ENOMEM, "%s", vh_knobs[id].path);
        return vh_write_sysfs(path, value, err);
}

bool vh_knob_equal(vh_knob_id id, const char *a, const char *b)
{
        if (!a || !b)
                return a == b;
        if (vh_knobs[id].kind != VH_KIND_MASK)
                return streq(a, b);
        _cleanup_cpuset_ vh_cpuset sa = { 0 }, sb = { 0 };
        if (vh_cpuset_parse_mask(a, &sa, NULL) < 0 || vh_cpuset_parse_mask(b, &sb, NULL) < 0)
                return streq(a, b);
        return vh_cpuset_equal(&sa, &sb);
}
