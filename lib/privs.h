/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * privs.h — least privilege for the hook.  libvirt runs the hook as root
 * with every capability; right after it starts the hook keeps only the
 * capabilities its work needs (the table in privs.c says which and why),
 * clears the bounding and ambient sets, locks the securebits so that no
 * execve can win root's capabilities back, and sets no_new_privs.
 *
 * uid 0 stays uid 0: without capabilities it still owns, reads and writes
 * root's files (the sysfs knobs, /run/vmhooks, /var/log/vmhooks, qemu.conf
 * 0600) through ordinary owner permissions, and files it creates are
 * root-owned with its umask.  What needs a capability is access to what
 * root does not own (see privs.c).
 */
#ifndef VH_PRIVS_H
#define VH_PRIVS_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* One capability the hook keeps, and why. */
typedef struct vh_priv {
        int cap;                /* CAP_* */
        const char *why;
} vh_priv;

/* The hook's capabilities (exposed for docs and tests): none today, see privs.c. */
extern const vh_priv *const vh_hook_privs;
extern const size_t vh_hook_privs_n;

/*
 * Keep only vh_hook_privs (effective and permitted), clear inheritable,
 * ambient and bounding sets, lock the securebits, set no_new_privs.  A
 * process that holds no capability (tests as a normal user) only gets
 * no_new_privs.  On failure the process may hold fewer capabilities than
 * before but never more; the caller logs the error and goes on.
 */
int vh_privs_drop(vh_error **err);

/* Same with an explicit list of CAP_* values (caps may be NULL when n is 0). */
int vh_privs_keep(const int *caps, size_t n, vh_error **err);

/* The effective set as text ("sys_ptrace, net_admin", or "none"); malloc'd. */
char *vh_privs_describe(void);

/* The bounding set is empty. */
bool vh_privs_bounding_empty(void);

#endif
