/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The guest agent's RPCs (`vmhooks audit --guest`): guest-info lists every
 * command the agent has and whether it is enabled.  Each RPC of the
 * policy's blocklist that is still enabled is a FAIL, with the fix for the
 * agent's version: qemu-ga 7.2 renamed --blacklist / blacklist= to
 * --block-rpcs / block-rpcs= and 9.1 removed the old name (etc/guest/).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "audit.h"
#include "util.h"

const char vh_guest_agent_default_block[] =
        "guest-exec,guest-exec-status,guest-file-open,guest-file-close,guest-file-read,guest-file-write,"
        "guest-file-seek,guest-file-flush,guest-set-user-password,guest-ssh-add-authorized-keys,"
        "guest-ssh-remove-authorized-keys";

VH_DEFINE_CLEANUP(json_object *, json_object_put)

/* "7.2.0" or "8.2.2 (Debian 1:8.2.2+ds-0ubuntu1)" -> 7 * 1000 + 2; 0 when unknown. */
static unsigned version_of(const char *v)
{
        unsigned major = 0, minor = 0;
        if (!v || sscanf(v, "%3u.%3u", &major, &minor) != 2)
                return 0;
        return major * 1000 + minor;
}

static const char *fix_for(unsigned version)
{
        if (version >= 7002)
                return "add it to block-rpcs= in [general] of /etc/qemu/qemu-ga.conf in the guest (vmhooks ships "
                       "/usr/share/vmhooks/guest/qemu-ga.conf) and restart qemu-guest-agent";
        return "add it to blacklist= in [general] of /etc/qemu/qemu-ga.conf in the guest, or to -b on the "
               "agent's command line (this qemu-ga is older than 7.2; vmhooks ships /usr/share/vmhooks/guest/qemu-ga-legacy.conf) "
               "and restart qemu-guest-agent";
}

int vh_audit_guest_agent(const char *vm, const char *reply, const char *blocklist, vh_results *out, vh_error **err)
{
        bool from_policy = blocklist != NULL;
        if (!blocklist)
                blocklist = vh_guest_agent_default_block;
        _cleanup_(json_object_putp) json_object *root = json_tokener_parse(reply ? reply : "");
        json_object *ret = NULL, *cmds = NULL, *ver = NULL;
        if (!root || !json_object_is_type(root, json_type_object) ||
            !json_object_object_get_ex(root, "return", &ret) || !json_object_is_type(ret, json_type_object) ||
            !json_object_object_get_ex(ret, "supported_commands", &cmds) ||
            !json_object_is_type(cmds, json_type_array))
                return vh_fail_input(err, "guest agent of VM %s: the guest-info reply has no "
                                          "return.supported_commands", vm);
        const char *version = json_object_object_get_ex(ret, "version", &ver) ? json_object_get_string(ver) : NULL;
        unsigned v = version_of(version);
        _cleanup_free_ char *list = strdup(blocklist);
        if (!list)
                return vh_fail(err, ENOMEM, "guest agent");
        size_t n_enabled = 0, n_checked = 0;
        char *save = NULL;
        for (char *name = strtok_r(list, ", ", &save); name; name = strtok_r(NULL, ", ", &save)) {
                n_checked++;
                int found = -1; /* -1 unknown to the agent, 0 disabled, 1 enabled */
                size_t n = json_object_array_length(cmds);
                for (size_t i = 0; i < n && found < 0; i++) {
                        json_object *c = json_object_array_get_idx(cmds, i), *nm, *en;
                        if (!json_object_object_get_ex(c, "name", &nm) ||
                            !streq(json_object_get_string(nm), name))
                                continue;
                        found = json_object_object_get_ex(c, "enabled", &en) && json_object_get_boolean(en);
                }
                if (found == 1) {
                        n_enabled++;
                        if (vh_results_add(out, "guest-agent", VH_LEVEL_FAIL, false, fix_for(v),
                                           "VM %s: the guest agent (qemu-ga %s) still allows %s", vm,
                                           version ? version : "?", name) < 0)
                                return vh_fail(err, ENOMEM, "guest agent");
                }
        }
        if (n_enabled == 0 && vh_results_add(out, "guest-agent", VH_LEVEL_PASS, false, NULL,
                                             "VM %s: the guest agent (qemu-ga %s) blocks all %zu RPCs of %s", vm,
                                             version ? version : "?", n_checked,
                                             from_policy ? "the policy's <guest-agent block-rpcs>"
                                                         : "vmhooks' default blocklist") < 0)
                return vh_fail(err, ENOMEM, "guest agent");
        return 0;
}
