/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvirtd.conf and virtproxyd.conf: remote access.  listen_tcp = 1 with
 * auth_tcp = "none" lets anyone on the network run VMs as root: FAIL.
 * listen_tcp = 1 at all sends the protocol unencrypted unless SASL GSSAPI
 * adds a security layer: WARN, prefer TLS.  tls_no_verify_certificate = 1
 * accepts any client certificate: WARN.  (The settings take effect with
 * libvirtd --listen or the daemon's -tcp/-tls sockets; the file is what an
 * administrator reads, so it is audited as written.)
 */
#include <errno.h>

#include "audit/audit-int.h"
#include "root.h"
#include "util.h"
#include "virtconf.h"

static int audit_file(const char *rel, vh_results *out)
{
        _cleanup_free_ char *path = vh_path(rel);
        if (!path)
                return -ENOMEM;
        _cleanup_conf_ vh_conf c = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_conf_load(path, &c, &e);
        if (r == -ENOENT)
                return vh_results_add(out, "listen", VH_LEVEL_NOTE, false, NULL, "%s: not present", rel);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                int n = vh_audit_needs_root(out, "listen", e ? e->code : -r, rel);
                if (n != 0)
                        return n < 0 ? n : 0;
                return vh_results_add(out, "listen", VH_LEVEL_FAIL, false,
                                      "correct the file: the daemon refuses to start with it", "%s",
                                      vh_error_msg(e));
        }
        bool tcp = false, noverify = false;
        const char *auth = "sasl"; /* libvirt's default for auth_tcp */
        if (vh_conf_get_bool(&c, "listen_tcp", &tcp, &e) < 0 || vh_conf_get_string(&c, "auth_tcp", &auth, &e) < 0 ||
            vh_conf_get_bool(&c, "tls_no_verify_certificate", &noverify, &e) < 0)
                return vh_results_add(out, "listen", VH_LEVEL_FAIL, false,
                                      "correct the value: the daemon refuses to start with it", "%s",
                                      vh_error_msg(e));
        if (tcp && streq(auth, "none"))
                r = vh_results_add(out, "listen", VH_LEVEL_FAIL, false,
                                   "set auth_tcp = \"sasl\" (with mech_list: gssapi), or better listen_tcp = 0 and "
                                   "use TLS (listen_tls = 1)",
                                   "%s: listen_tcp = 1 with auth_tcp = \"none\": anyone who reaches TCP port 16509 "
                                   "controls every VM", rel);
        else if (tcp)
                r = vh_results_add(out, "listen", VH_LEVEL_WARN, false,
                                   "set listen_tcp = 0 and use TLS (listen_tls = 1, certificates in /etc/pki), or "
                                   "keep SASL with mech_list: gssapi, the only mechanism that encrypts plain TCP",
                                   "%s: listen_tcp = 1 (auth_tcp = \"%s\"): the connection is not TLS", rel, auth);
        else
                r = vh_results_add(out, "listen", VH_LEVEL_PASS, false, NULL, "%s: no plain TCP listener", rel);
        if (r == 0 && noverify)
                r = vh_results_add(out, "listen", VH_LEVEL_WARN, false, "remove tls_no_verify_certificate",
                                   "%s: tls_no_verify_certificate = 1: any client certificate is accepted", rel);
        return r;
}

int vh_audit_listen(vh_results *out)
{
        int r = audit_file(VH_LIBVIRTD_CONF, out);
        return r < 0 ? r : audit_file(VH_VIRTPROXYD_CONF, out);
}
