/* SPDX-License-Identifier: MIT */
#include "liveness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "root.h"
#include "util.h"

int vh_proc_starttime(int pid, uint64_t *ret)
{
        char rel[64];
        snprintf(rel, sizeof(rel), "/proc/%d/stat", pid);
        _cleanup_free_ char *path = vh_path(rel);
        if (!path)
                return -ENOMEM;
        _cleanup_free_ char *text = NULL;
        int r = vh_read_file(path, 4096, &text, NULL, NULL);
        if (r < 0)
                return r;
        /* comm may hold spaces and parentheses: fields restart after the last ')'. */
        const char *p = strrchr(text, ')');
        if (!p)
                return -EINVAL;
        p++;
        /* p is at field 3 ("state"); start time is field 22. */
        for (int field = 3; field < 22; field++) {
                p += strspn(p, " ");
                p += strcspn(p, " ");
                if (!*p)
                        return -EINVAL;
        }
        p += strspn(p, " ");
        char num[32];
        size_t n = strcspn(p, " \n");
        if (n == 0 || n >= sizeof(num))
                return -EINVAL;
        memcpy(num, p, n);
        num[n] = '\0';
        return vh_parse_u64(num, UINT64_MAX, ret);
}

/* libvirt names the pidfile after the domain; '/' cannot occur in a name. */
int vh_read_qemu_pid(const char *name, int *ret_pid, vh_error **err)
{
        if (strchr(name, '/') || streq(name, ".") || streq(name, ".."))
                return vh_fail_input(err, "VM name \"%s\" cannot name a pidfile", name);
        _cleanup_free_ char *path = vh_pathf(VH_LIBVIRT_QEMU_RUN "/%s.pid", name);
        if (!path)
                return vh_fail(err, ENOMEM, "pidfile");
        _cleanup_free_ char *text = NULL;
        int r = vh_read_line(path, &text, err);
        if (r < 0)
                return r;
        uint64_t pid;
        if (vh_parse_u64(text, INT32_MAX, &pid) < 0 || pid == 0)
                return vh_fail_input(err, "%s reads \"%s\"; expected a PID", path, text);
        *ret_pid = (int)pid;
        return 0;
}

int vh_reg_learn_pid(vh_reg *reg, vh_error **err)
{
        int pid;
        int r = vh_read_qemu_pid(reg->name, &pid, err);
        if (r < 0)
                return r;
        uint64_t start;
        r = vh_proc_starttime(pid, &start);
        if (r < 0)
                return vh_fail(err, -r, "QEMU PID %d of VM %s from its pidfile is not running", pid, reg->name);
        reg->pid = pid;
        reg->pidstart = start;
        return 0;
}

bool vh_reg_running(vh_reg *reg, int64_t now)
{
        if (reg->pid > 0) {
                uint64_t start;
                return vh_proc_starttime(reg->pid, &start) == 0 && start == reg->pidstart;
        }
        if (vh_reg_learn_pid(reg, NULL) == 0)
                return true;
        return now - reg->since < VH_START_GRACE_S;
}
