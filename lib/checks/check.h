/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * checks/check.h — inside lib/checks and lib/audit: the check table and
 * the host readers (lib/checks/host.c) the audit uses.  The checks read
 * sysfs and /proc only through the host facts (facts.h) they are given;
 * the readers below are for the audit and for gathering the facts
 * (lib/facts.c).  Every path goes through vh_path(); a fact
 * that cannot be read is reported by the caller as a finding, never as an
 * error of vmhooks.
 */
#ifndef VH_CHECKS_CHECK_H
#define VH_CHECKS_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "checks.h"
#include "facts.h"

/* A prepare-time check: appends results; returns 0 or -ENOMEM. */
/* A prepare-time check reads the host only through `f` (facts.h). */
typedef int (*vh_check_fn)(const vh_domain *dom, const vh_policy *p, const vh_facts *f, vh_results *out);

typedef struct vh_check_def {
        const char *name;
        vh_check_fn fn;
} vh_check_def;

int vh_check_hugepages(const vh_domain *dom, const vh_policy *p, const vh_facts *f, vh_results *out);
int vh_check_hostdev(const vh_domain *dom, const vh_policy *p, const vh_facts *f, vh_results *out);
int vh_check_vtpm(const vh_domain *dom, const vh_policy *p, const vh_facts *f, vh_results *out);
int vh_check_seclabel(const vh_domain *dom, const vh_policy *p, const vh_facts *f, vh_results *out);

/* ---- host facts (lib/checks/host.c) ---- */

/* Read a one-line file below the root as a number.  0, -ENOENT, -EINVAL, ... */
int vh_host_read_u64(const char *abs, uint64_t max, uint64_t *ret);

/* Does abs (below the root) exist?  lstat-free: follows links like the kernel's users do. */
bool vh_host_exists(const char *abs);

/* Entries of /sys/kernel/iommu_groups (0 when missing or empty). */
size_t vh_host_iommu_groups(void);

/*
 * Interrupt remapping is active: /proc/interrupts names an "IR-" chip
 * (IR-PCI-MSI, IR-IO-APIC), as it does on Intel VT-d and AMD-Vi with
 * remapping on.  -ENOENT when /proc/interrupts cannot be read.
 */
int vh_host_irq_remapping(bool *ret);

/* A hugepage pool: /sys/kernel/mm/hugepages/hugepages-NkB (node < 0) or a NUMA node's. */
typedef struct vh_hugepool {
        uint64_t nr, free, resv, surplus, overcommit;
        bool has_resv;          /* per-node pools have no resv_hugepages */
} vh_hugepool;

/* The pool's directory below the root (malloc'd). */
char *vh_host_hugepool_dir(uint64_t size_kib, int node);
/* -ENOENT when the kernel has no pool of that size (or no such node). */
int vh_host_hugepool(uint64_t size_kib, int node, vh_hugepool *ret);

/* Hugepagesize from /proc/meminfo, in KiB; -ENOENT when absent. */
int vh_host_default_hugepage_kib(uint64_t *ret);

/* "2048 KiB" / "1 GiB" for messages (static buffer per call site: caller passes one). */
const char *vh_size_text(uint64_t kib, char *buf, size_t len);

/*
 * The user libvirt runs swtpm as: qemu.conf's swtpm_user ("name" or
 * "+uid"), else libvirt's default "tss" when that user exists, else root
 * (libvirt's virQEMUDriverConfigNew).  Debian's swtpm-tools creates tss
 * and /var/lib/swtpm-localca (tss:root 0750).
 */
typedef struct vh_swtpm_user {
        char *name;             /* as configured, or "tss"/"root" */
        uid_t uid;
        bool from_conf;         /* set in qemu.conf */
        bool unknown;           /* the name does not resolve to a user */
} vh_swtpm_user;

void vh_swtpm_user_done(vh_swtpm_user *u);
/* Fails only on allocation failure or an unparsable qemu.conf (*err names the file and line). */
int vh_host_swtpm_user(vh_swtpm_user *ret, vh_error **err);

/*
 * Can swtpm user `u` write /var/lib/swtpm-localca?  0 yes (root always
 * can); 1 no, with *problem (what is wrong) and *fix (the install or chown
 * that fixes it; never a world-writable mode) set; -ENOMEM.
 */
int vh_host_localca(const vh_swtpm_user *u, char **problem, char **fix);

/* What stat(2) says of /var/lib/swtpm-localca: err (errno) or its mode and owner. */
typedef struct vh_localca {
        int err;
        mode_t mode;
        uid_t uid;
} vh_localca;
int vh_host_localca_stat(vh_localca *ret);
/* vh_host_localca on what vh_host_localca_stat read (or the host facts hold): pure. */
int vh_localca_judge(const vh_swtpm_user *u, const vh_localca *l, char **problem, char **fix);

/* uid of a user from /etc/passwd below the root (and NSS when the root is "/"). */
int vh_host_user_uid(const char *name, uid_t *ret);

/* The first of /usr/bin, /usr/local/bin, /bin, /usr/sbin that holds an executable `prog` (malloc'd, unrooted). */
char *vh_host_find_program(const char *prog);

#define VH_SWTPM_LOCALCA "/var/lib/swtpm-localca"
#define VH_QEMU_CONF "/etc/libvirt/qemu.conf"
#define VH_SWTPM_STORAGE "/var/lib/libvirt/swtpm"

#endif
