/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * qemu.conf: security_driver, security_default_confined,
 * security_require_confined, and the user QEMU runs as.
 *   security_driver = "none"             FAIL: sVirt off for every VM
 *   security_default_confined = 0        FAIL: VMs unconfined unless they ask
 *   security_require_confined = 0/unset  WARN (with SELinux or AppArmor): a
 *                                        domain may still say <seclabel type='none'>
 *   user = "root"                        FAIL: QEMU runs as root
 * Without SELinux or AppArmor, requiring confinement would refuse every
 * VM: that is a NOTE, never advice to set it.
 */
#include <errno.h>

#include "audit/audit-int.h"
#include "root.h"
#include "util.h"
#include "virtconf.h"

#define CHECK "qemu-security"

static bool driver_none(const vh_conf *c)
{
        const vh_conf_entry *e = vh_conf_get(c, "security_driver");
        if (!e)
                return false;
        if (e->value.type == VH_CONF_STRING)
                return streq(e->value.str, "none");
        for (size_t i = 0; e->value.type == VH_CONF_LIST && i < e->value.n; i++)
                if (e->value.items[i].type == VH_CONF_STRING && streq(e->value.items[i].str, "none"))
                        return true;
        return false;
}

int vh_audit_qemu_security(vh_results *out)
{
        _cleanup_free_ char *path = vh_path(VH_QEMU_CONF);
        if (!path)
                return -ENOMEM;
        _cleanup_conf_ vh_conf c = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_conf_load(path, &c, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && r != -ENOENT) {
                int n = vh_audit_needs_root(out, CHECK, e ? e->code : -r, VH_QEMU_CONF);
                if (n != 0)
                        return n < 0 ? n : 0;
                return vh_results_add(out, CHECK, VH_LEVEL_FAIL, false, "correct the file: libvirtd's QEMU driver "
                                      "does not load with it", "%s", vh_error_msg(e));
        }
        vh_mac m;
        vh_audit_mac(&m);
        bool mac = m.selinux || m.apparmor;
        bool def = true, req = false;
        const char *user = NULL;
        if (vh_conf_get_bool(&c, "security_default_confined", &def, &e) < 0 ||
            vh_conf_get_bool(&c, "security_require_confined", &req, &e) < 0 ||
            vh_conf_get_string(&c, "user", &user, &e) < 0)
                return vh_results_add(out, CHECK, VH_LEVEL_FAIL, false, "correct the value", "%s", vh_error_msg(e));

        if (driver_none(&c))
                r = vh_results_add(out, CHECK, VH_LEVEL_FAIL, false,
                                   "remove security_driver = \"none\" from " VH_QEMU_CONF " (libvirt then uses "
                                   "SELinux or AppArmor) and restart libvirtd",
                                   VH_QEMU_CONF ": security_driver = \"none\": no VM gets an sVirt label");
        else
                r = vh_results_add(out, CHECK, VH_LEVEL_PASS, false, NULL, VH_QEMU_CONF ": security_driver %s",
                                   vh_conf_get(&c, "security_driver") ? "set" : "unset (the host's MAC driver)");
        if (r == 0 && !def)
                r = vh_results_add(out, CHECK, VH_LEVEL_FAIL, false,
                                   "set security_default_confined = 1 and restart libvirtd",
                                   VH_QEMU_CONF ": security_default_confined = 0: VMs run unconfined unless their "
                                   "XML asks for a label");
        if (r == 0 && !req && mac)
                r = vh_results_add(out, CHECK, VH_LEVEL_WARN, false,
                                   "set security_require_confined = 1 and restart libvirtd",
                                   VH_QEMU_CONF ": security_require_confined is off: a domain may opt out of sVirt "
                                   "with <seclabel type='none'/>");
        else if (r == 0 && !req)
                r = vh_results_add(out, CHECK, VH_LEVEL_NOTE, false, NULL,
                                   VH_QEMU_CONF ": security_require_confined is off; without SELinux or AppArmor "
                                   "turning it on would refuse every VM");
        else if (r == 0)
                r = vh_results_add(out, CHECK, VH_LEVEL_PASS, false, NULL,
                                   VH_QEMU_CONF ": security_require_confined = 1");
        if (r == 0 && streq(user, "root"))
                r = vh_results_add(out, CHECK, VH_LEVEL_FAIL, false,
                                   "remove user = \"root\" (Debian's default is libvirt-qemu, Fedora's qemu) and "
                                   "restart libvirtd",
                                   VH_QEMU_CONF ": user = \"root\": QEMU runs as root");
        return r;
}
