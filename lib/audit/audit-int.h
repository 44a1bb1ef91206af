/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* audit/audit-int.h — inside lib/audit: the check table and shared facts. */
#ifndef VH_AUDIT_INT_H
#define VH_AUDIT_INT_H

#include <stdbool.h>

#include "audit.h"
#include "checks/check.h"

/* An audit check: appends results; 0 or -ENOMEM. */
typedef int (*vh_audit_fn)(vh_results *out);

int vh_audit_daemons(vh_results *out);
int vh_audit_listen(vh_results *out);
int vh_audit_sasl(vh_results *out);
int vh_audit_selinux(vh_results *out);
int vh_audit_qemu_security(vh_results *out);
int vh_audit_swtpm(vh_results *out);
int vh_audit_iommu(vh_results *out);
int vh_audit_hugepages(vh_results *out);
int vh_audit_thp(vh_results *out);
int vh_audit_halt_poll(vh_results *out);
int vh_audit_host_tasks(vh_results *out);
int vh_audit_isolation(vh_results *out);
int vh_audit_install(vh_results *out);
int vh_audit_policy(vh_results *out);
int vh_audit_capcache(vh_results *out);
int vh_audit_irqbalance(vh_results *out);

/*
 * A file this check needs could not be read because the audit does not run
 * as root (EACCES/EPERM and euid != 0): adds the NOTE "cannot read WHAT as
 * uid N" with the fix "run as root to check this" and returns 1; 0 when
 * that is not the reason (the caller judges the error itself); -ENOMEM.
 * Never a FAIL, and never a fix that touches libvirt's files.
 */
#define VH_AUDIT_RUN_AS_ROOT "run as root to check this"
int vh_audit_needs_root(vh_results *out, const char *check, int code, const char *what);

/* Mandatory access control on this host. */
typedef struct vh_mac {
        bool selinux, enforcing, apparmor;
} vh_mac;
void vh_audit_mac(vh_mac *ret);

/* Does any libvirt daemon listen on plain TCP (listen_tcp = 1, or an enabled -tcp.socket)? */
bool vh_audit_tcp_enabled(void);

#define VH_LIBVIRTD_CONF "/etc/libvirt/libvirtd.conf"
#define VH_VIRTPROXYD_CONF "/etc/libvirt/virtproxyd.conf"
#define VH_VIRTQEMUD_CONF "/etc/libvirt/virtqemud.conf"
#define VH_SASL_CONF "/etc/sasl2/libvirt.conf"
#define VH_HOOK_PATH "/usr/libexec/vmhooks/qemu-hook"
#define VH_WRAPPER_PATH "/usr/libexec/vmhooks/qemu-kvm"
/* written by the packages' scripts after a successful reload of libvirtd/virtqemud (lib/audit/install.c) */
#define VH_RELOAD_STAMP "/run/vmhooks/reloaded"

#endif
