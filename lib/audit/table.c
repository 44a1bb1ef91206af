/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The host audit: every check, in the order `vmhooks audit` prints them. */
#include "audit/audit-int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemons.h"
#include "fileio.h"
#include "root.h"
#include "util.h"
#include "virtconf.h"

static const struct {
        const char *name;
        vh_audit_fn fn;
} table[] = {
        { "daemons", vh_audit_daemons },
        { "listen", vh_audit_listen },
        { "sasl", vh_audit_sasl },
        { "selinux", vh_audit_selinux },
        { "qemu-security", vh_audit_qemu_security },
        { "swtpm", vh_audit_swtpm },
        { "iommu", vh_audit_iommu },
        { "hugepages", vh_audit_hugepages },
        { "thp", vh_audit_thp },
        { "halt-poll", vh_audit_halt_poll },
        { "host-tasks", vh_audit_host_tasks },
        { "isolation", vh_audit_isolation },
        { "irqbalance", vh_audit_irqbalance },
        { "install", vh_audit_install },
        { "policy", vh_audit_policy },
        { "capcache", vh_audit_capcache },
};

size_t vh_audit_count(void)
{
        return ELEMENTSOF(table);
}

const char *vh_audit_name(size_t i)
{
        return i < ELEMENTSOF(table) ? table[i].name : NULL;
}

int vh_audit_run(vh_results *ret, vh_error **err)
{
        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                int r = table[i].fn(ret);
                if (r < 0)
                        return vh_fail(err, -r, "audit %s", table[i].name);
        }
        return 0;
}

int vh_audit_needs_root(vh_results *out, const char *check, int code, const char *what)
{
        if (code < 0)
                code = -code;
        if ((code != EACCES && code != EPERM) || geteuid() == 0)
                return 0;
        int r = vh_results_add(out, check, VH_LEVEL_NOTE, false, VH_AUDIT_RUN_AS_ROOT, "cannot read %s as uid %u",
                               what, (unsigned)geteuid());
        return r < 0 ? r : 1;
}

void vh_audit_mac(vh_mac *ret)
{
        vh_mac m = { 0 };
        _cleanup_free_ char *enf = vh_path("/sys/fs/selinux/enforce");
        _cleanup_free_ char *v = NULL;
        if (enf && vh_read_line(enf, &v, NULL) == 0) {
                m.selinux = true;
                m.enforcing = streq(v, "1");
        }
        _cleanup_free_ char *aa = vh_path("/sys/module/apparmor/parameters/enabled");
        _cleanup_free_ char *a = NULL;
        m.apparmor = aa && vh_read_line(aa, &a, NULL) == 0 && streq(a, "Y");
        *ret = m;
}

bool vh_audit_tcp_enabled(void)
{
        vh_daemons d;
        vh_daemons_probe(&d);
        if (d.libvirtd.tcp_socket || d.virtproxyd.tcp_socket)
                return true;
        static const char *const files[] = { VH_LIBVIRTD_CONF, VH_VIRTPROXYD_CONF };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                _cleanup_free_ char *path = vh_path(files[i]);
                _cleanup_conf_ vh_conf c = { 0 };
                bool on = false;
                if (path && vh_conf_load(path, &c, NULL) == 0 && vh_conf_get_bool(&c, "listen_tcp", &on, NULL) == 1 &&
                    on)
                        return true;
        }
        return false;
}
