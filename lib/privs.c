/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "privs.h"

#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>

#include <cap-ng.h>

#include "util.h"

/*
 * What the hook does, and what each step needs, as uid 0.  Measured in the
 * integration sandbox: a patched hook that dropped to the set below at its
 * start ran prepare/start/started/stopped/release of a real guest (QEMU as
 * libvirt-qemu, CapEff 0) with THP, halt_poll_ns and both workqueue masks
 * written and restored, the state table, the log, and the sVirt read; the
 * log was the same as with sys_ptrace kept.  Reading /proc/PID/attr/current
 * of a libvirt-qemu process with no capability at all: open succeeds (the
 * kernel's proc_pid_attr_open ignores the ptrace check; only an LSM's own
 * getattr permission applies), while /proc/PID/environ, which does need
 * ptrace access, gives EACCES.
 *
 *   step                                          needs
 *   sysfs knobs (THP, halt_poll_ns, cpumasks)     nothing: root-owned 0644, written as owner
 *   /run/vmhooks (0700), state, lock              nothing: root-owned, created by uid 0
 *   /var/log/vmhooks (0750), NAME.log (0640)      nothing: root-owned, created by uid 0
 *   /run/libvirt/qemu/NAME.pid                    nothing: root 0644 in a root 0755 dir
 *   /proc/PID/stat of QEMU (start time)           nothing: world-readable
 *   /proc/PID/attr/current of QEMU (sVirt)        nothing (see above; SELinux checks process:getattr)
 *   /etc/libvirt/qemu.conf (root 0600)            nothing: root is the owner
 *   /var/lib/swtpm-localca (tss:root 0750), stat  nothing: stat needs search on /var/lib only
 *   /var/lib/libvirt/swtpm/UUID/tpm2, stat        nothing: libvirt makes UUID/ root 0711 ("allow others
 *                                                 to cd"); tpm2/ itself (tss 0700) is never opened
 *   /sys/kernel/mm/hugepages, /sys/bus/pci, ...   nothing: world-readable
 *
 * So the hook keeps no capability.  Files it creates are root-owned with
 * modes it chooses (0600 state, 0640 log); nothing it writes has to belong
 * to another user.  A later step that must hand a file to the QEMU user
 * (e.g. a per-VM plan for the wrapper) should make it world-readable 0644
 * in a 0755 directory rather than keep CAP_CHOWN; one that needs a
 * capability adds it to vh_hook_privs with its reason.
 */
const vh_priv *const vh_hook_privs = NULL;
const size_t vh_hook_privs_n = 0;

int vh_privs_keep(const int *caps, size_t n, vh_error **err)
{
        /* no_new_privs first: it needs no privilege and survives a failure below */
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return vh_fail(err, errno, "prctl(PR_SET_NO_NEW_PRIVS)");
        if (capng_get_caps_process() < 0)
                return vh_fail(err, errno ? errno : EPERM, "cannot read this process's capabilities");
        if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE)
                return 0; /* nothing to drop: a normal user (tests) */
        bool can_bound = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
        /* securebits (noroot, no setuid fixup, keep-caps off), locked: an execve cannot restore root's set */
        if (can_bound && capng_lock() < 0)
                return vh_fail(err, EPERM, "cannot lock the securebits");
        capng_clear(CAPNG_SELECT_ALL);
        for (size_t i = 0; i < n; i++)
                if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, (unsigned)caps[i]) < 0)
                        return vh_fail_input(err, "unknown capability %d", caps[i]);
        /* bounding (needs CAP_SETPCAP, still held), then the sets, then ambient */
        if (capng_apply(can_bound ? CAPNG_SELECT_ALL : CAPNG_SELECT_CAPS) < 0)
                return vh_fail(err, errno ? errno : EPERM, "cannot drop capabilities");
        return 0;
}

int vh_privs_drop(vh_error **err)
{
        int caps[8];
        size_t n = 0;
        for (size_t i = 0; i < vh_hook_privs_n && n < ELEMENTSOF(caps); i++)
                caps[n++] = vh_hook_privs[i].cap;
        return vh_privs_keep(n ? caps : NULL, n, err);
}

char *vh_privs_describe(void)
{
        if (capng_get_caps_process() < 0)
                return strdup("unknown");
        if (capng_have_capabilities(CAPNG_SELECT_CAPS) == CAPNG_NONE)
                return strdup("none");
        char *s = capng_print_caps_text(CAPNG_PRINT_BUFFER, CAPNG_EFFECTIVE);
        return s ? s : strdup("unknown");
}

bool vh_privs_bounding_empty(void)
{
        if (capng_get_caps_process() < 0)
                return false;
        return capng_have_capabilities(CAPNG_SELECT_BOUNDS) == CAPNG_NONE;
}
