/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * root.h — every host path vmhooks reads or writes goes through vh_path(),
 * which prefixes $VMHOOKS_ROOT when set (tests only; libvirt never sets it).
 */
#ifndef VH_ROOT_H
#define VH_ROOT_H

/* The prefix ("" when unset); read once. */
const char *vh_root(void);

/* Forget the cached prefix (unit tests that change VMHOOKS_ROOT). */
void vh_root_reset(void);

/* Newly allocated "$VMHOOKS_ROOT" + abs; NULL on allocation failure. */
char *vh_path(const char *abs);

/* Same, printf-style; NULL on allocation failure. */
char *vh_pathf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Well-known paths, relative to the root. */
#define VH_POLICY_FILE "/etc/vmhooks/policy.xml"
#define VH_STATE_DIR "/run/vmhooks"
#define VH_LOG_DIR "/var/log/vmhooks"
#define VH_LIBVIRT_QEMU_RUN "/run/libvirt/qemu"

#endif
