/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Remote and local access to the libvirt daemons, as libvirt's
 * remote_daemon.c and remote_daemon_config.c read their files:
 *
 * libvirtd.conf, virtproxyd.conf (the daemons built WITH_IP): listen_tcp =
 * 1 with auth_tcp = "none" lets anyone on the network run VMs as root:
 * FAIL.  Plain TCP at all sends the protocol unencrypted unless SASL
 * GSSAPI adds a security layer: WARN, prefer TLS.  tls_no_verify_certificate
 * = 1 accepts any client certificate: WARN.  Plain TCP is on when the file
 * says listen_tcp = 1 (libvirtd: with --listen; virtproxyd: always, it has
 * no --listen) or when systemd's NAME-tcp.socket is enabled: under socket
 * activation the daemon serves the socket systemd hands it whatever
 * listen_tcp says, with the file's auth_tcp.  (For libvirtd the file is
 * audited as written: it is what an administrator reads.)
 *
 * virtqemud.conf: virtqemud is built without WITH_IP.  It listens on its
 * UNIX sockets only and ignores listen_tcp, listen_tls and auth_tcp (a
 * NOTE when the file sets them: remote access is virtproxyd's).
 *
 * All three: auth_unix_rw = "none" with a read-write socket that others
 * may write (unix_sock_rw_perms; default "0777" on the polkit builds every
 * distribution ships, because the default auth is polkit) gives every
 * local user root on the host through the VMs: FAIL.
 */
#include <errno.h>

#include "audit/audit-int.h"
#include "daemons.h"
#include "root.h"
#include "util.h"
#include "virtconf.h"

typedef struct target {
        const char *rel;                /* the file */
        const vh_daemon *daemon;        /* its systemd units */
        bool ip;                        /* built WITH_IP: TCP and TLS listeners */
} target;

static int conf_error(vh_results *out, const vh_error *e)
{
        return vh_results_add(out, "listen", VH_LEVEL_FAIL, false,
                              "correct the value: the daemon refuses to start with it", "%s", vh_error_msg(e));
}

/* unix_sock_rw_perms (octal, as the daemon parses it) lets others write */
static bool others_write(const char *perms)
{
        unsigned long m = 0;
        for (const char *p = perms; *p; p++) {
                if (*p < '0' || *p > '7')
                        return false; /* libvirtd refuses it: not ours to judge */
                m = m * 8 + (unsigned long)(*p - '0');
                if (m > 07777)
                        return false;
        }
        return (m & 02) != 0;
}

static int audit_unix(const target *t, const vh_conf *c, vh_results *out)
{
        _cleanup_error_ vh_error *e = NULL;
        const char *auth = NULL, *perms = NULL;
        if (vh_conf_get_string(c, "auth_unix_rw", &auth, &e) < 0 ||
            vh_conf_get_string(c, "unix_sock_rw_perms", &perms, &e) < 0)
                return conf_error(out, e);
        if (!auth || !streq(auth, "none"))
                return 0;
        if (!perms)
                perms = "0777"; /* the default that comes with polkit stays when auth_unix_rw is changed */
        if (!others_write(perms))
                return 0;
        return vh_results_add(out, "listen", VH_LEVEL_FAIL, false,
                              "remove auth_unix_rw = \"none\" (polkit is the default), or set unix_sock_group = "
                              "\"libvirt\" and unix_sock_rw_perms = \"0770\"",
                              "%s: auth_unix_rw = \"none\" with unix_sock_rw_perms = \"%s\": every local user "
                              "controls every VM", t->rel, perms);
}

static int audit_ip(const target *t, const vh_conf *c, vh_results *out)
{
        _cleanup_error_ vh_error *e = NULL;
        bool tcp = false, noverify = false;
        const char *auth = "sasl"; /* libvirt's default for auth_tcp */
        if (vh_conf_get_bool(c, "listen_tcp", &tcp, &e) < 0 || vh_conf_get_string(c, "auth_tcp", &auth, &e) < 0 ||
            vh_conf_get_bool(c, "tls_no_verify_certificate", &noverify, &e) < 0)
                return conf_error(out, e);
        /* what turns plain TCP on, for the message */
        char why[160];
        if (t->daemon && t->daemon->tcp_socket)
                snprintf(why, sizeof(why), "%s-tcp.socket is enabled (systemd listens on TCP for it, whatever "
                         "listen_tcp says)", t->daemon->name);
        else
                snprintf(why, sizeof(why), "listen_tcp = 1");
        tcp = tcp || (t->daemon && t->daemon->tcp_socket);
        int r;
        if (tcp && streq(auth, "none"))
                r = vh_results_add(out, "listen", VH_LEVEL_FAIL, false,
                                   "set auth_tcp = \"sasl\" (with mech_list: gssapi), or better turn plain TCP off "
                                   "and use TLS (listen_tls = 1, or the -tls.socket)",
                                   "%s: %s with auth_tcp = \"none\": anyone who reaches TCP port 16509 "
                                   "controls every VM", t->rel, why);
        else if (tcp)
                r = vh_results_add(out, "listen", VH_LEVEL_WARN, false,
                                   "turn plain TCP off (listen_tcp = 0, or systemctl disable --now the -tcp.socket) "
                                   "and use TLS (listen_tls = 1 or the -tls.socket, certificates in /etc/pki), or "
                                   "keep SASL with mech_list: gssapi, the only mechanism that encrypts plain TCP",
                                   "%s: %s (auth_tcp = \"%s\"): the connection is not TLS", t->rel, why, auth);
        else
                r = vh_results_add(out, "listen", VH_LEVEL_PASS, false, NULL, "%s: no plain TCP listener", t->rel);
        if (r == 0 && noverify)
                r = vh_results_add(out, "listen", VH_LEVEL_WARN, false, "remove tls_no_verify_certificate",
                                   "%s: tls_no_verify_certificate = 1: any client certificate is accepted", t->rel);
        return r;
}

static int audit_local_only(const target *t, const vh_conf *c, vh_results *out)
{
        static const char *const ip_keys[] = { "listen_tcp", "listen_tls", "auth_tcp", "tcp_port", "listen_addr" };
        for (size_t i = 0; i < ELEMENTSOF(ip_keys); i++) {
                const vh_conf_entry *x = vh_conf_get(c, ip_keys[i]);
                if (x)
                        return vh_results_add(out, "listen", VH_LEVEL_NOTE, false,
                                              "set remote access in /etc/libvirt/virtproxyd.conf",
                                              "%s: line %u: %s has no effect: virtqemud listens on its UNIX sockets "
                                              "only; remote access is virtproxyd's", t->rel, x->line, x->key);
        }
        return vh_results_add(out, "listen", VH_LEVEL_PASS, false, NULL,
                              "%s: UNIX sockets only (remote access goes through virtproxyd)", t->rel);
}

static int audit_file(const target *t, vh_results *out)
{
        _cleanup_free_ char *path = vh_path(t->rel);
        if (!path)
                return -ENOMEM;
        _cleanup_conf_ vh_conf c = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        int r = vh_conf_load(path, &c, &e);
        if (r == -ENOENT) {
                if (t->ip && t->daemon && t->daemon->tcp_socket)
                        return vh_results_add(out, "listen", VH_LEVEL_WARN, false,
                                              "use TLS (the -tls.socket) and disable the -tcp.socket, or set auth_tcp "
                                              "= \"sasl\" with mech_list: gssapi explicitly",
                                              "%s: not present, and %s-tcp.socket is enabled: plain TCP with the "
                                              "default auth_tcp (\"sasl\")", t->rel, t->daemon->name);
                return vh_results_add(out, "listen", VH_LEVEL_NOTE, false, NULL, "%s: not present", t->rel);
        }
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                int n = vh_audit_needs_root(out, "listen", e ? e->code : -r, t->rel);
                if (n != 0)
                        return n < 0 ? n : 0;
                return vh_results_add(out, "listen", VH_LEVEL_FAIL, false,
                                      "correct the file: the daemon refuses to start with it", "%s",
                                      vh_error_msg(e));
        }
        r = t->ip ? audit_ip(t, &c, out) : audit_local_only(t, &c, out);
        return r < 0 ? r : audit_unix(t, &c, out);
}

int vh_audit_listen(vh_results *out)
{
        vh_daemons d;
        vh_daemons_probe(&d);
        const target targets[] = {
                { VH_LIBVIRTD_CONF, &d.libvirtd, true },
                { VH_VIRTPROXYD_CONF, &d.virtproxyd, true },
                { VH_VIRTQEMUD_CONF, &d.virtqemud, false },
        };
        for (size_t i = 0; i < ELEMENTSOF(targets); i++) {
                int r = audit_file(&targets[i], out);
                if (r < 0)
                        return r;
        }
        return 0;
}
