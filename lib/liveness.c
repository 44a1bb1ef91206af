/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "liveness.h"

#include <dirent.h>
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
        /* Starting (prepare .. started): cheap first, the pidfile only after the grace period. */
        if (now - reg->since < VH_START_GRACE_S)
                return true;
        return vh_reg_learn_pid(reg, NULL) == 0;
}

static int cmp_int(const void *a, const void *b)
{
        int x = *(const int *)a, y = *(const int *)b;
        return (x > y) - (x < y);
}

void vh_pidset_done(vh_pidset *s)
{
        free(s->pids);
        s->pids = NULL;
        s->n = 0;
}

int vh_pidset_load(vh_pidset *ret, vh_error **err)
{
        _cleanup_free_ char *path = vh_path("/proc");
        if (!path)
                return vh_fail(err, ENOMEM, "/proc");
        DIR *d = opendir(path);
        if (!d)
                return vh_fail(err, errno, "cannot list %s", path);
        vh_pidset s = { 0 };
        size_t cap = 0;
        int r = 0;
        for (struct dirent *de; (de = readdir(d));) {
                uint64_t pid;
                if (de->d_name[0] < '1' || de->d_name[0] > '9' || vh_parse_u64(de->d_name, INT32_MAX, &pid) < 0)
                        continue;
                if (s.n == cap) {
                        cap = cap ? cap * 2 : 1024;
                        int *p = realloc(s.pids, cap * sizeof(*p));
                        if (!p) {
                                r = vh_fail(err, ENOMEM, "/proc");
                                break;
                        }
                        s.pids = p;
                }
                s.pids[s.n++] = (int)pid;
        }
        closedir(d);
        if (r < 0) {
                vh_pidset_done(&s);
                return r;
        }
        /* procfs lists PIDs in ascending order (tmpfs, in tests, in descending): sort only otherwise */
        bool up = true, down = true;
        for (size_t i = 1; i < s.n && (up || down); i++) {
                up = up && s.pids[i - 1] < s.pids[i];
                down = down && s.pids[i - 1] > s.pids[i];
        }
        if (down && !up)
                for (size_t i = 0, j = s.n - 1; i < j; i++, j--) {
                        int t = s.pids[i];
                        s.pids[i] = s.pids[j];
                        s.pids[j] = t;
                }
        else if (!up)
                qsort(s.pids, s.n, sizeof(*s.pids), cmp_int);
        vh_pidset_done(ret);
        *ret = s;
        return 0;
}

bool vh_pidset_has(const vh_pidset *s, int pid)
{
        return s->n && bsearch(&pid, s->pids, s->n, sizeof(*s->pids), cmp_int);
}
