/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * apparmor.h — a VM's wrapper plan readable by that VM's QEMU only, on
 * AppArmor hosts: the hook adds exactly the plan's path, read only, to the
 * VM's own libvirt profile, and takes it out again when the VM stops.
 *
 * What libvirt does (libvirt 9.0 to 11: src/security/security_apparmor.c,
 * virt-aa-helper.c):
 *   - /etc/apparmor.d/libvirt/libvirt-UUID, the VM's profile, is made by
 *     `virt-aa-helper -c` from TEMPLATE.qemu only when the file does not
 *     exist ("\nprofile LIBVIRT_TEMPLATE" renamed, "  #include
 *     <libvirt/libvirt-UUID.files>" put before the closing brace), and is
 *     never rewritten or deleted by libvirt after that: it is the place for
 *     per-VM rules of one's own.
 *   - libvirt-UUID.files is regenerated from the domain XML at every start
 *     (-c or -r) and deleted at every stop (-D): nothing of ours can live
 *     there.
 *   - qemuProcessStart: qemuProcessInit runs the `prepare begin` hook, then
 *     qemuProcessPrepareDomain -> qemuSecurityGenLabel ->
 *     AppArmorGenSecurityLabel loads the profile into the kernel (-c when
 *     libvirt-UUID is missing, else -r); QEMU is exec'd under that loaded
 *     profile.  So a rule written at `prepare begin` is in the profile
 *     QEMU runs under, from the first start on.
 * At the first start the file does not exist yet: the hook creates it the
 * way virt-aa-helper -c would (same template, same two substitutions) plus
 * its rule, and libvirt then takes the -r path (rewrites .files, loads our
 * file).  Only when /etc/apparmor.d/libvirt exists and the kernel has
 * AppArmor (/sys/kernel/security/apparmor/profiles, what libvirt's driver
 * probes), and only for VMs with PCI host devices (the only ones with a plan).
 */
#ifndef VH_APPARMOR_H
#define VH_APPARMOR_H

#include "domain.h"
#include "error.h"
#include "util.h"

#define VH_AA_LIBVIRT_DIR "/etc/apparmor.d/libvirt"
#define VH_AA_TEMPLATE VH_AA_LIBVIRT_DIR "/TEMPLATE.qemu"
#define VH_AA_KERNEL "/sys/kernel/security/apparmor/profiles"
#define VH_AA_PROFILE_MAX (1u << 20)
#define VH_AA_MARK "# vmhooks: this guest's wrapper plan, read only (vmhooks-hook(8))"

/*
 * The rule for VM `name`'s plan: `  "/run/vmhooks-wrapper/FILE.plan" r, # vmhooks: ...`
 * (FILE as vh_msix_plan_path names it: only [A-Za-z0-9_+.%~-], nothing
 * AppArmor would take for a pattern).  NULL on allocation failure.  Pure.
 */
char *vh_aa_plan_rule(const char *name);

/* Pure.  "libvirt-UUID" for a well-formed UUID (8-4-4-4-12 hex digits), NULL otherwise. */
char *vh_aa_profile_name(const char *uuid);

/*
 * Pure.  What `virt-aa-helper -c` makes of TEMPLATE.qemu `tmpl` for
 * profile `pname`.  -EINVAL (with *why) when the template lacks what
 * virt-aa-helper replaces.
 */
int vh_aa_profile_from_template(const char *tmpl, const char *pname, char **ret, const char **why);

/*
 * Pure.  `profile` with `rule` as its own line before the profile's
 * closing brace (the last "\n}"); *ret NULL when the line is there
 * already.  -EINVAL (with *why) when there is no closing brace.
 */
int vh_aa_profile_add(const char *profile, const char *rule, char **ret, const char **why);

/* Pure.  `profile` without the lines that are exactly `rule`; *ret NULL when there is none. */
int vh_aa_profile_remove(const char *profile, const char *rule, char **ret);

/*
 * prepare begin: add VM `dom`'s plan rule to its profile (creating the
 * profile from the template when missing).  Appends what it did, one line
 * each, to `lines` (nothing when AppArmor is not in use or the VM has no
 * PCI host device).  Files are read only when root owns them and no one
 * else can write them; written through a new temporary file, fsync'd,
 * mode 0644, renamed.
 */
int vh_aa_plan_allow(const vh_domain *dom, vh_buf *lines, vh_error **err);

/* stopped end / release end: take the rule out of the profile of VM `name` with `uuid` (if there). */
int vh_aa_plan_revoke(const char *name, const char *uuid, vh_buf *lines, vh_error **err);

#endif
