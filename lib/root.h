/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * root.h — every host path vmhooks reads or writes goes through vh_path(),
 * which prefixes a root directory: the one given with vh_root_set() (an
 * explicit command-line option, e.g. `qemu-hook --wrapper-config --root=DIR`
 * for make install DESTDIR=), else, in test builds only (-DVH_TEST_SEAMS,
 * `make test-binaries`), $VMHOOKS_ROOT.  A production build never reads
 * VMHOOKS_ROOT: a root process that inherits it (sudo -E, a package script)
 * must not be redirected by it.
 */
#ifndef VH_ROOT_H
#define VH_ROOT_H

/* The prefix ("" when unset); read once. */
const char *vh_root(void);

/* Forget the cached prefix (unit tests that change VMHOOKS_ROOT). */
void vh_root_reset(void);

/* Use `dir` ("" or "/": the real root) as the prefix from now on; NULL
 * forgets it.  `dir` must outlive every later call. */
void vh_root_set(const char *dir);

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
