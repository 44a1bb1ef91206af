/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which libvirt daemons run the QEMU driver (daemons.h): monolithic
 * libvirtd or modular virtqemud, said as a NOTE by `vmhooks audit` and
 * `vmhooks status`.  Both at once is a WARN: each runs its own QEMU driver
 * over the same /run/libvirt/qemu and /etc/libvirt/qemu, and a guest
 * started through one is not managed by the other.
 */
#include <errno.h>

#include "audit/audit-int.h"
#include "cleanup.h"
#include "daemons.h"

int vh_audit_daemons(vh_results *out)
{
        vh_daemons d;
        vh_daemons_probe(&d);
        _cleanup_free_ char *line = vh_daemons_describe(&d);
        if (!line)
                return -ENOMEM;
        if (d.layout == VH_LAYOUT_MIXED)
                return vh_results_add(out, "daemons", VH_LEVEL_WARN, false,
                                      "keep one layout: systemctl disable --now libvirtd.service libvirtd.socket "
                                      "libvirtd-ro.socket libvirtd-admin.socket for the modular daemons, or the "
                                      "virtqemud units for libvirtd",
                                      "libvirt daemons: %s: libvirtd and virtqemud each run a QEMU driver on the same "
                                      "guests' files",
                                      line);
        return vh_results_add(out, "daemons", VH_LEVEL_NOTE, false, NULL, "libvirt daemons: %s", line);
}
