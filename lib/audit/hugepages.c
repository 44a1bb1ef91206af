/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Hugepage pools: one line with every pool (size, pages, free, reserved).
 * Pages reserved but no hugetlbfs mounted: libvirt cannot back a VM with
 * them (it needs a hugetlbfs mount per size): WARN.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit-int.h"
#include "fileio.h"
#include "root.h"
#include "util.h"

static bool hugetlbfs_mounted(void)
{
        _cleanup_free_ char *path = vh_path("/proc/mounts");
        _cleanup_free_ char *text = NULL;
        if (!path || vh_read_file(path, 16u << 20, &text, NULL, NULL) < 0)
                return true; /* cannot tell: do not warn */
        return strstr(text, " hugetlbfs ") != NULL;
}

int vh_audit_hugepages(vh_results *out)
{
        _cleanup_free_ char *dir = vh_path("/sys/kernel/mm/hugepages");
        if (!dir)
                return -ENOMEM;
        DIR *d = opendir(dir);
        if (!d)
                return vh_results_add(out, "hugepages", VH_LEVEL_NOTE, false, NULL,
                                      "no hugepage support (/sys/kernel/mm/hugepages is missing)");
        uint64_t sizes[16];
        size_t n = 0;
        for (struct dirent *e; (e = readdir(d)) && n < ELEMENTSOF(sizes);) {
                const char *s = startswith(e->d_name, "hugepages-");
                char num[32];
                size_t len = s ? strcspn(s, "k") : 0;
                if (!s || len == 0 || len >= sizeof(num) || !streq(s + len, "kB"))
                        continue;
                memcpy(num, s, len);
                num[len] = '\0';
                if (vh_parse_u64(num, UINT64_MAX / 1024, &sizes[n]) == 0)
                        n++;
        }
        closedir(d);
        for (size_t i = 1; i < n; i++) /* insertion sort: a handful of sizes */
                for (size_t j = i; j > 0 && sizes[j - 1] > sizes[j]; j--) {
                        uint64_t t = sizes[j];
                        sizes[j] = sizes[j - 1];
                        sizes[j - 1] = t;
                }
        _cleanup_buf_ vh_buf b = { 0 };
        uint64_t total = 0;
        int r = vh_buf_puts(&b, "");
        for (size_t i = 0; r == 0 && i < n; i++) {
                vh_hugepool p;
                char sz[32];
                vh_size_text(sizes[i], sz, sizeof(sz));
                if (vh_host_hugepool(sizes[i], -1, &p) < 0)
                        continue;
                total += p.nr;
                r = vh_buf_printf(&b, "%s%s: %llu pages, %llu free, %llu reserved", b.len ? "; " : "", sz,
                                  (unsigned long long)p.nr, (unsigned long long)p.free, (unsigned long long)p.resv);
        }
        if (r < 0)
                return r;
        if (total == 0)
                return vh_results_add(out, "hugepages", VH_LEVEL_NOTE, false, NULL,
                                      "no static hugepages reserved (%s); VMs with <hugepages/> cannot start "
                                      "(vmhooks check refuses them)", b.len ? b.data : "no pools");
        if (!hugetlbfs_mounted())
                return vh_results_add(out, "hugepages", VH_LEVEL_WARN, false,
                                      "mount -t hugetlbfs hugetlbfs /dev/hugepages (and in /etc/fstab), then "
                                      "restart libvirtd",
                                      "%s, but no hugetlbfs is mounted: libvirt cannot use them", b.data);
        return vh_results_add(out, "hugepages", VH_LEVEL_PASS, false, NULL, "%s", b.data);
}
