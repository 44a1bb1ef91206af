/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wrapper_conf_write.c — the hook's side of wrapper.conf (see
 * wrapper_conf.h).  Apart from wrapper_conf.c because it needs the policy
 * parser, hence libxml2, which the wrapper must not link.
 */
#include "wrapper_conf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "root.h"
#include "util.h"

/* size:mtime of policy.xml, or "none" when it does not exist. */
static int policy_stamp(char **ret, vh_error **err)
{
        _cleanup_free_ char *path = vh_path(VH_POLICY_FILE);
        if (!path)
                return vh_fail(err, ENOMEM, "%s", VH_POLICY_FILE);
        struct stat st;
        int r;
        if (stat(path, &st) < 0) {
                if (errno != ENOENT)
                        return vh_fail(err, errno, "cannot stat %s", path);
                r = asprintf(ret, "none");
        } else {
                /* size and mtime (ns): what an edit changes, and what a copy (cp -a, packages) keeps */
                r = asprintf(ret, "%lld:%lld%09ld", (long long)st.st_size, (long long)st.st_mtim.tv_sec,
                             st.st_mtim.tv_nsec);
        }
        if (r < 0)
                return vh_fail(err, ENOMEM, "%s", VH_POLICY_FILE);
        return 0;
}

int vh_wrapper_conf_refresh_policy(bool force, vh_error **ret_policy_err, vh_error **err)
{
        _cleanup_free_ char *stamp = NULL;
        int r = policy_stamp(&stamp, err);
        if (r < 0)
                return r;
        if (!force) {
                _cleanup_wrapper_conf_ vh_wrapper_conf old = { 0 };
                if (vh_wrapper_conf_load(&old, NULL) == 0 && streq(old.stamp, stamp))
                        return 0;
        }
        _cleanup_policy_ vh_policy host = { 0 };
        _cleanup_error_ vh_error *perr = NULL;
        /* A bad policy file means no host policy (the hook logs it at each prepare); the caller may say so. */
        if (vh_policy_load_host(&host, &perr) < 0)
                vh_policy_done(&host);
        vh_wrapper_conf c = {
                .stamp = stamp,
                .emulator = host.wrapper_emulator,
                .msix = vh_policy_on(&host, VH_P_MSIX),
                .bar = host.msix_bar,
                .devices = host.msix_devices,
        };
        _cleanup_free_ char *text = NULL;
        r = vh_wrapper_conf_format(&c, &text, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *dir = vh_path("/var/lib/vmhooks");
        _cleanup_free_ char *path = vh_path(VH_WRAPPER_CONF);
        if (!dir || !path)
                return vh_fail(err, ENOMEM, "%s", VH_WRAPPER_CONF);
        r = vh_dir_ensure(dir, 0755, false, err);
        if (r < 0)
                return r;
        /* 0644 set on the new file before the rename: readable by the QEMU user whatever the umask */
        r = vh_write_atomic(path, text, strlen(text), 0644, err);
        if (r < 0)
                return r;
        if (ret_policy_err && perr)
                *ret_policy_err = TAKE_PTR(perr);
        return 1;
}

int vh_wrapper_conf_refresh(bool force, vh_error **err)
{
        return vh_wrapper_conf_refresh_policy(force, NULL, err);
}
