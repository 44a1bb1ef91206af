/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * wrapper_conf.h — what the QEMU wrapper needs of the host policy, kept as
 * text in /var/lib/vmhooks/wrapper.conf so that the wrapper, which runs on
 * every VM start, never loads libxml2 (Debian's pulls in ICU and libstdc++:
 * 2.8M instructions, about 1.5 ms, for every exec).
 *
 *   vmhooks-wrapper-config 1
 *   source /etc/vmhooks/policy.xml stamp=1234:1764000000123456789
 *   emulator path=/usr/bin/qemu-system-x86_64
 *   msix enabled=1 bar=bar2 devices=nvme
 *
 * The hook rewrites it whenever policy.xml changed since (stamp: size and
 * mtime); `qemu-hook --wrapper-config` writes it at install time.
 * It is persistent (/var/lib, not /run) because libvirt may probe the
 * emulator's capabilities after a reboot before any hook has run.
 */
#ifndef VH_WRAPPER_CONF_H
#define VH_WRAPPER_CONF_H

#include <stdbool.h>

#include "error.h"
#include "policy.h"

#define VH_WRAPPER_CONF "/var/lib/vmhooks/wrapper.conf"

typedef struct vh_wrapper_conf {
        char *stamp;            /* of policy.xml when written */
        char *emulator;         /* NULL: the build-time default */
        bool msix;              /* <msix-relocation> on in the host policy */
        char *bar, *devices;
} vh_wrapper_conf;

void vh_wrapper_conf_done(vh_wrapper_conf *c);
#define _cleanup_wrapper_conf_ __attribute__((cleanup(vh_wrapper_conf_done)))

/* The wrapper: read it.  -ENOENT when there is none. */
int vh_wrapper_conf_load(vh_wrapper_conf *ret, vh_error **err);

/*
 * The hook: rewrite it from the host policy when policy.xml changed since it
 * was written (a stat and a small read otherwise).  Returns 1 when it wrote.
 */
int vh_wrapper_conf_refresh(bool force, vh_error **err);

/*
 * The same, and when it wrote the file from a policy.xml that has an error
 * (the file is then written from no host policy: no <wrapper>, no
 * <msix-relocation>), that error in *ret_policy_err.
 */
int vh_wrapper_conf_refresh_policy(bool force, vh_error **ret_policy_err, vh_error **err);

/* Text form (exposed for tests). */
int vh_wrapper_conf_format(const vh_wrapper_conf *c, char **ret, vh_error **err);
int vh_wrapper_conf_parse(const char *text, vh_wrapper_conf *ret, vh_error **err);

#endif
