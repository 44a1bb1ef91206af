/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * /etc/sasl2/libvirt.conf (Cyrus SASL's "key: value" lines): mech_list.
 * DIGEST-MD5 is deprecated (RFC 6331) and libvirt ships gssapi: FAIL.
 * Recommended: gssapi (Kerberos) on plain TCP, where libvirt demands a
 * SASL security layer and only GSSAPI provides one; scram-sha-256 on TLS
 * or UNIX sockets.  No mech_list: every installed mechanism is offered.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "audit/audit-int.h"
#include "fileio.h"
#include "root.h"
#include "util.h"

static const char fix_mechs[] = "mech_list: gssapi for TCP (Kerberos, keytab /etc/libvirt/krb5.tab), or mech_list: "
                                "scram-sha-256 for TLS and UNIX sockets (saslpasswd2 -a libvirt USER)";

/* The value of "mech_list:" (malloc'd, lower case), NULL when absent. */
static char *mech_list(char *text)
{
        for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
                nl = strchr(line, '\n');
                if (nl)
                        *nl = '\0';
                line += strspn(line, " \t");
                const char *v = startswith(line, "mech_list:");
                if (!v)
                        continue;
                char *m = strdup(v + strspn(v, " \t"));
                if (!m)
                        return NULL;
                for (char *p = m; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
                vh_rstrip(m);
                return m;
        }
        return NULL;
}

static bool has_mech(const char *list, const char *mech)
{
        size_t n = strlen(mech);
        for (const char *p = list; (p = strstr(p, mech)); p += n) {
                bool start = p == list || strchr(" \t,", p[-1]);
                bool end = !p[n] || strchr(" \t,", p[n]);
                if (start && end)
                        return true;
        }
        return false;
}

int vh_audit_sasl(vh_results *out)
{
        _cleanup_free_ char *path = vh_path(VH_SASL_CONF);
        if (!path)
                return -ENOMEM;
        _cleanup_free_ char *text = NULL;
        int r = vh_read_file(path, 1u << 20, &text, NULL, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0 && r != -ENOENT) {
                int n = vh_audit_needs_root(out, "sasl", r, VH_SASL_CONF);
                if (n != 0)
                        return n < 0 ? n : 0;
        }
        _cleanup_free_ char *mechs = r == 0 ? mech_list(text) : NULL;
        if (!mechs)
                return vh_results_add(out, "sasl", VH_LEVEL_WARN, false, fix_mechs,
                                      "%s: %s: every installed SASL mechanism is offered", VH_SASL_CONF,
                                      r < 0 ? "missing" : "no mech_list");
        if (has_mech(mechs, "digest-md5"))
                return vh_results_add(out, "sasl", VH_LEVEL_FAIL, false, fix_mechs,
                                      "%s: mech_list: %s offers DIGEST-MD5, deprecated by RFC 6331", VH_SASL_CONF,
                                      mechs);
        static const char *const weak[] = { "cram-md5", "plain", "login", "anonymous", "scram-sha-1" };
        for (size_t i = 0; i < ELEMENTSOF(weak); i++)
                if (has_mech(mechs, weak[i]))
                        return vh_results_add(out, "sasl", VH_LEVEL_WARN, false, fix_mechs,
                                              "%s: mech_list: %s offers %s", VH_SASL_CONF, mechs, weak[i]);
        if (vh_audit_tcp_enabled() && !has_mech(mechs, "gssapi"))
                return vh_results_add(out, "sasl", VH_LEVEL_WARN, false,
                                      "add gssapi to mech_list, or turn plain TCP off (listen_tcp = 0)",
                                      "%s: mech_list: %s, but plain TCP is on and only gssapi encrypts it",
                                      VH_SASL_CONF, mechs);
        return vh_results_add(out, "sasl", VH_LEVEL_PASS, false, NULL, "%s: mech_list: %s", VH_SASL_CONF, mechs);
}
