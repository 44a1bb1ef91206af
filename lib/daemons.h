/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * daemons.h — which libvirt daemons run the QEMU driver on this host: the
 * monolithic libvirtd (Debian, Ubuntu, openEuler by default), or the
 * modular virtqemud with virtproxyd for remote access (Fedora, RHEL 9 and
 * later).  Read from their pidfiles (/run/NAME.pid naming a live process
 * whose comm is NAME: what libvirt's remote_daemon.c writes for every
 * daemon when run as root) and from systemd's enablement links
 * (/etc/systemd/system/{multi-user,sockets}.target.wants/NAME.{service,socket}),
 * all under VMHOOKS_ROOT.  A modular daemon that is enabled but not running
 * is normal: its socket starts it at the first connection and it exits
 * after 120 s idle (--timeout 120 in its unit).
 */
#ifndef VH_DAEMONS_H
#define VH_DAEMONS_H

#include <stdbool.h>

typedef struct vh_daemon {
        const char *name;       /* "libvirtd", "virtqemud", "virtproxyd" */
        int pid;                /* > 0: running */
        bool enabled;           /* a .service or .socket unit of it is enabled */
        bool tcp_socket;        /* NAME-tcp.socket is enabled (plain TCP by socket activation) */
        bool tls_socket;        /* NAME-tls.socket is enabled */
} vh_daemon;

typedef enum vh_layout {
        VH_LAYOUT_NONE,         /* neither libvirtd nor virtqemud runs or is enabled */
        VH_LAYOUT_MONOLITHIC,   /* libvirtd */
        VH_LAYOUT_MODULAR,      /* virtqemud */
        VH_LAYOUT_MIXED,        /* both: two QEMU drivers that do not know each other */
} vh_layout;

typedef struct vh_daemons {
        vh_daemon libvirtd, virtqemud, virtproxyd;
        vh_layout layout;       /* running daemons decide; if none runs, the enabled ones */
} vh_daemons;

void vh_daemons_probe(vh_daemons *ret);

/* "monolithic", "modular", "mixed", "none" */
const char *vh_layout_name(vh_layout l);

/*
 * One line: "modular: virtqemud running (PID 812), virtproxyd enabled, not
 * running; libvirtd not installed or disabled".  NULL on allocation failure.
 */
char *vh_daemons_describe(const vh_daemons *d);

#endif
