/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Host facts shared by the prepare-time checks and the audit. */
#include "checks/check.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "root.h"
#include "util.h"
#include "virtconf.h"

int vh_host_read_u64(const char *abs, uint64_t max, uint64_t *ret)
{
        _cleanup_free_ char *path = vh_path(abs);
        if (!path)
                return -ENOMEM;
        _cleanup_free_ char *line = NULL;
        int r = vh_read_line(path, &line, NULL);
        if (r < 0)
                return r;
        return vh_parse_u64(line, max, ret);
}

bool vh_host_exists(const char *abs)
{
        _cleanup_free_ char *path = vh_path(abs);
        struct stat st;
        return path && stat(path, &st) == 0;
}

size_t vh_host_iommu_groups(void)
{
        _cleanup_free_ char *path = vh_path("/sys/kernel/iommu_groups");
        DIR *d = path ? opendir(path) : NULL;
        if (!d)
                return 0;
        size_t n = 0;
        for (struct dirent *e; (e = readdir(d));)
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

int vh_host_irq_remapping(bool *ret)
{
        _cleanup_free_ char *path = vh_path("/proc/interrupts");
        if (!path)
                return -ENOMEM;
        _cleanup_free_ char *text = NULL;
        int r = vh_read_file(path, 16u << 20, &text, NULL, NULL);
        if (r < 0)
                return r;
        /* chip names are whole words: " IR-PCI-MSI ", " IR-IO-APIC " */
        bool found = false;
        for (const char *p = text; !found && (p = strstr(p, "IR-")); p += 3)
                found = p == text || p[-1] == ' ' || p[-1] == '\t';
        *ret = found;
        return 0;
}

char *vh_host_hugepool_dir(uint64_t size_kib, int node)
{
        if (node < 0)
                return vh_pathf("/sys/kernel/mm/hugepages/hugepages-%llukB", (unsigned long long)size_kib);
        return vh_pathf("/sys/devices/system/node/node%d/hugepages/hugepages-%llukB", node,
                        (unsigned long long)size_kib);
}

static int pool_value(const char *dir, const char *name, uint64_t *ret)
{
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        _cleanup_free_ char *line = NULL;
        int r = vh_read_line(path, &line, NULL);
        if (r < 0)
                return r;
        return vh_parse_u64(line, UINT64_MAX / 2, ret);
}

int vh_host_hugepool(uint64_t size_kib, int node, vh_hugepool *ret)
{
        _cleanup_free_ char *dir = vh_host_hugepool_dir(size_kib, node);
        if (!dir)
                return -ENOMEM;
        vh_hugepool p = { 0 };
        int r = pool_value(dir, "nr_hugepages", &p.nr);
        if (r == 0)
                r = pool_value(dir, "free_hugepages", &p.free);
        if (r == 0)
                r = pool_value(dir, "surplus_hugepages", &p.surplus);
        if (r < 0)
                return r;
        if (node < 0) {
                if ((r = pool_value(dir, "resv_hugepages", &p.resv)) < 0)
                        return r;
                p.has_resv = true;
                /* absent on old kernels: no overcommit */
                if (pool_value(dir, "nr_overcommit_hugepages", &p.overcommit) < 0)
                        p.overcommit = 0;
        }
        *ret = p;
        return 0;
}

int vh_host_default_hugepage_kib(uint64_t *ret)
{
        _cleanup_free_ char *path = vh_path("/proc/meminfo");
        if (!path)
                return -ENOMEM;
        _cleanup_free_ char *text = NULL;
        int r = vh_read_file(path, 1u << 20, &text, NULL, NULL);
        if (r < 0)
                return r;
        for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
                nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                const char *v = startswith(line, "Hugepagesize:");
                if (!v)
                        continue;
                _cleanup_free_ char *num = strdup(v);
                if (!num)
                        return -ENOMEM;
                char *kb = strstr(num, "kB");
                if (kb)
                        *kb = '\0';
                return vh_parse_u64(num, UINT64_MAX / 1024, ret);
        }
        return -ENOENT;
}

const char *vh_size_text(uint64_t kib, char *buf, size_t len)
{
        if (kib >= 1048576 && kib % 1048576 == 0)
                snprintf(buf, len, "%llu GiB", (unsigned long long)(kib / 1048576));
        else if (kib >= 1024 && kib % 1024 == 0)
                snprintf(buf, len, "%llu MiB", (unsigned long long)(kib / 1024));
        else
                snprintf(buf, len, "%llu KiB", (unsigned long long)kib);
        return buf;
}

void vh_swtpm_user_done(vh_swtpm_user *u)
{
        free(u->name);
        u->name = NULL;
}

/* /etc/passwd below the root: name:x:uid:... */
static int passwd_uid(const char *name, uid_t *ret)
{
        _cleanup_free_ char *path = vh_path("/etc/passwd");
        if (!path)
                return -ENOMEM;
        _cleanup_free_ char *text = NULL;
        int r = vh_read_file(path, 16u << 20, &text, NULL, NULL);
        if (r < 0)
                return r;
        size_t nlen = strlen(name);
        for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
                nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                if (strncmp(line, name, nlen) != 0 || line[nlen] != ':')
                        continue;
                char *f = strchr(line + nlen + 1, ':'); /* after the password field */
                if (!f)
                        return -EINVAL;
                char *end = strchr(f + 1, ':');
                if (end)
                        *end = '\0';
                uint64_t uid;
                if (vh_parse_u64(f + 1, UINT32_MAX - 1, &uid) < 0)
                        return -EINVAL;
                *ret = (uid_t)uid;
                return 0;
        }
        return -ENOENT;
}

int vh_host_user_uid(const char *name, uid_t *ret)
{
        int r = passwd_uid(name, ret);
        if (r != -ENOENT || *vh_root())
                return r;
        /* the real root: users may come from NSS (LDAP, sssd) */
        struct passwd pw, *res = NULL;
        char buf[4096];
        if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || !res)
                return -ENOENT;
        *ret = res->pw_uid;
        return 0;
}

int vh_host_swtpm_user(vh_swtpm_user *ret, vh_error **err)
{
        _cleanup_free_ char *path = vh_path(VH_QEMU_CONF);
        if (!path)
                return vh_fail(err, ENOMEM, "swtpm user");
        _cleanup_conf_ vh_conf conf = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_conf_load(path, &conf, &e);
        if (r < 0 && r != -ENOENT) {
                *err = TAKE_PTR(e);
                return r;
        }
        const char *name = NULL;
        r = vh_conf_get_string(&conf, "swtpm_user", &name, err);
        if (r < 0)
                return r;
        vh_swtpm_user u = { .from_conf = r == 1 };
        if (!name) {
                uid_t tss;
                name = vh_host_user_uid("tss", &tss) == 0 ? "tss" : "root";
        }
        if (!(u.name = strdup(name)))
                return vh_fail(err, ENOMEM, "swtpm user");
        uint64_t uid;
        if (name[0] == '+') {
                if (vh_parse_u64(name + 1, UINT32_MAX - 1, &uid) < 0) {
                        vh_swtpm_user_done(&u);
                        return vh_fail_input(err, "%s: swtpm_user = \"%s\": expected a user name or +UID", path,
                                             name);
                }
                u.uid = (uid_t)uid;
        } else if (streq(name, "root")) {
                u.uid = 0;
        } else if (vh_host_user_uid(name, &u.uid) < 0) {
                u.unknown = true;
        }
        *ret = u;
        return 0;
}

char *vh_host_find_program(const char *prog)
{
        static const char *const dirs[] = { "/usr/bin", "/usr/local/bin", "/bin", "/usr/sbin", "/usr/local/sbin" };
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                char *rel = NULL;
                if (asprintf(&rel, "%s/%s", dirs[i], prog) < 0)
                        return NULL;
                _cleanup_free_ char *path = vh_path(rel);
                struct stat st;
                if (path && stat(path, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111))
                        return rel;
                free(rel);
        }
        return NULL;
}

int vh_host_localca_stat(vh_localca *ret)
{
        _cleanup_free_ char *path = vh_path(VH_SWTPM_LOCALCA);
        if (!path)
                return -ENOMEM;
        struct stat st;
        vh_localca l = { 0 };
        if (stat(path, &st) < 0) {
                l.err = errno;
        } else {
                l.mode = st.st_mode;
                l.uid = st.st_uid;
        }
        *ret = l;
        return 0;
}

int vh_localca_judge(const vh_swtpm_user *u, const vh_localca *l, char **problem, char **fix)
{
        if (u->uid == 0)
                return 0;
        struct stat st = { .st_mode = l->mode, .st_uid = l->uid };
        _cleanup_free_ char *p = NULL, *f = NULL;
        if (l->err) {
                p = vh_strf(VH_SWTPM_LOCALCA " is missing (%s)", strerror(l->err));
                f = vh_strf("install -d -o %s -g root -m 0750 " VH_SWTPM_LOCALCA, u->name);
        } else if (!S_ISDIR(st.st_mode)) {
                p = vh_strf(VH_SWTPM_LOCALCA " is not a directory");
                f = vh_strf("rm " VH_SWTPM_LOCALCA "; install -d -o %s -g root -m 0750 " VH_SWTPM_LOCALCA, u->name);
        } else if (st.st_uid != u->uid) {
                p = vh_strf(VH_SWTPM_LOCALCA " is owned by uid %u, not by swtpm_user %s (uid %u)",
                            (unsigned)st.st_uid, u->name, (unsigned)u->uid);
                f = vh_strf("chown -R %s " VH_SWTPM_LOCALCA, u->name);
        } else if ((st.st_mode & 0700) != 0700) {
                p = vh_strf(VH_SWTPM_LOCALCA " has mode %04o: its owner %s cannot write it",
                            (unsigned)(st.st_mode & 07777), u->name);
                f = vh_strf("chmod u+rwx " VH_SWTPM_LOCALCA);
        } else {
                return 0;
        }
        if (!p || !f)
                return -ENOMEM;
        *problem = TAKE_PTR(p);
        *fix = TAKE_PTR(f);
        return 1;
}

int vh_host_localca(const vh_swtpm_user *u, char **problem, char **fix)
{
        if (u->uid == 0)
                return 0;
        vh_localca l;
        int r = vh_host_localca_stat(&l);
        return r < 0 ? r : vh_localca_judge(u, &l, problem, fix);
}
