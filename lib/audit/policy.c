/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The host policy, /etc/vmhooks/policy.xml: FAIL when it cannot be used
 * (not well-formed, outside the vocabulary, or against the schema), since
 * the hook then ignores it as a whole: none of its defaults apply, only
 * VMs' own metadata does (docs/DECISIONS.md, vmhooks-policy(5)).  NOTE
 * when there is none; PASS with what it says otherwise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit-int.h"
#include "fileio.h"
#include "policy.h"
#include "root.h"
#include "util.h"
#include "xml.h"

int vh_audit_policy(vh_results *out)
{
        _cleanup_free_ char *path = vh_path(VH_POLICY_FILE);
        if (!path)
                return -ENOMEM;
        if (access(path, F_OK) < 0 && errno == ENOENT)
                return vh_results_add(out, "policy", VH_LEVEL_NOTE, false,
                                      "copy /usr/share/vmhooks/policy.xml there for the shipped defaults",
                                      "no host policy %s: vmhooks applies only what VMs' metadata demands", path);
        if (access(path, R_OK) < 0 && errno == EACCES && geteuid() != 0)
                return vh_results_add(out, "policy", VH_LEVEL_NOTE, false, "run as root to check this",
                                      "cannot read %s as uid %u", path, (unsigned)geteuid());
        _cleanup_policy_ vh_policy p = { 0 };
        _cleanup_error_ vh_error *e = NULL;
        _cleanup_xmldoc_ xmlDocPtr doc = NULL;
        int r = vh_xml_parse_file(path, &doc, &e);
        if (r == 0)
                r = vh_policy_apply(&p, xmlDocGetRootElement(doc), path, true, &e);
        if (r == 0)
                r = vh_policy_validate_schema(xmlDocGetRootElement(doc), path, &e);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return vh_results_add(out, "policy", VH_LEVEL_FAIL, false,
                                      "correct the file (vmhooks-policy(5); vmhooks policy --file GUEST.xml shows "
                                      "what a VM gets); the next VM start reads it again",
                                      "%s; until it is fixed the hook ignores the host policy: none of its defaults "
                                      "apply (only VMs' own metadata does) and <on-error> is the VM's",
                                      vh_error_msg(e));
        _cleanup_free_ char *d = vh_policy_describe(&p);
        if (!d)
                return -ENOMEM;
        return vh_results_add(out, "policy", VH_LEVEL_PASS, false, NULL, "host policy %s: %s", path, d);
}
