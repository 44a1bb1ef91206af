/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * audit.h — `vmhooks audit`: the host against the security and performance
 * practices, one result per finding (PASS, NOTE, WARN, FAIL) with the fix,
 * after libvirt's virt-host-validate.  The checks (lib/audit/NAME.c, one
 * each, listed in lib/audit/table.c) read host files through vh_path() and
 * never stop at the first failure; only FAIL makes `vmhooks audit` exit 1.
 *
 * `vmhooks audit --guest DOMAIN` asks the guest agent (guest-info, through
 * libvirt) which RPCs it still offers; vh_audit_guest_agent() judges the
 * reply against the policy's <guest-agent block-rpcs="...">.
 */
#ifndef VH_AUDIT_H
#define VH_AUDIT_H

#include <stdbool.h>
#include <stddef.h>

#include "checks.h"
#include "error.h"

/* Run every host check; results are appended to *ret.  -ENOMEM only. */
int vh_audit_run(vh_results *ret, vh_error **err);

size_t vh_audit_count(void);
const char *vh_audit_name(size_t i);

/*
 * The RPCs vmhooks recommends blocking when the policy names none: running
 * commands and reading or writing files in the guest, and changing its
 * passwords or SSH keys, from the host.
 */
extern const char vh_guest_agent_default_block[];

/*
 * Judge a guest-info reply of VM `vm` (the JSON text libvirt returns)
 * against `blocklist` ("a,b c"; NULL: the default above).  One FAIL per
 * blocked RPC the agent still has enabled, with the fix for its version
 * (qemu-ga >= 7.2 reads block-rpcs=, older ones blacklist=, 9.1 dropped
 * blacklist).  -EINVAL with *err when the reply is not guest-info's.
 */
int vh_audit_guest_agent(const char *vm, const char *reply, const char *blocklist, vh_results *out, vh_error **err);

#endif
