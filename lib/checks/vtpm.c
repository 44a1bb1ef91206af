/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vTPM (<tpm><backend type="emulator">): libvirt runs swtpm and, for a TPM
 * without state yet, swtpm_setup, which creates the EK certificate with
 * swtpm-localca as qemu.conf's swtpm_user (default tss, else root).  That
 * user must own /var/lib/swtpm-localca, or the first start of every new
 * vTPM fails.  The fix is the chown, never a world-writable directory.
 *
 * Refused: no swtpm (libvirt: "Unable to find 'swtpm' binary"), and a
 * localca the swtpm user cannot write when this VM's TPM state does not
 * exist yet (/var/lib/libvirt/swtpm/UUID/tpm2 or tpm1.2), because that
 * start would run swtpm_setup and fail.  With existing state swtpm_setup
 * does not run: then it is a warning for the next new vTPM.
 *
 * swtpm, swtpm_setup, the swtpm user and the localca come from the host
 * facts (their swtpm part); only this VM's own state directory is looked
 * at here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checks/check.h"
#include "root.h"
#include "util.h"

/* Does the VM's TPM state exist?  1 yes, 0 no, -1 cannot tell (EACCES). */
static int state_exists(const vh_domain *dom, const vh_tpm *t)
{
        if (!dom->uuid || !*dom->uuid || strchr(dom->uuid, '/'))
                return -1;
        static const char *const dirs[] = { "tpm2", "tpm1.2" };
        int result = 0;
        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                if (t->backend_version && !streq(dirs[i], streq(t->backend_version, "1.2") ? "tpm1.2" : "tpm2"))
                        continue;
                _cleanup_free_ char *path = vh_pathf(VH_SWTPM_STORAGE "/%s/%s", dom->uuid, dirs[i]);
                struct stat st;
                if (!path)
                        return -1;
                if (stat(path, &st) == 0)
                        return 1;
                if (errno != ENOENT)
                        result = -1;
        }
        return result;
}

static int check_localca(const vh_domain *dom, const vh_tpm *t, const vh_facts_swtpm *ft, vh_results *out)
{
        if (!ft->user)
                return vh_results_add(out, "vtpm", VH_LEVEL_WARN, false, NULL, "%s; swtpm-localca not checked",
                                      ft->user_error ? ft->user_error : "swtpm_user unknown");
        vh_swtpm_user u = { .name = ft->user, .uid = (uid_t)ft->uid, .from_conf = ft->from_conf,
                            .unknown = ft->unknown };
        if (u.unknown)
                return vh_results_add(out, "vtpm", VH_LEVEL_WARN, false,
                                      "create the user or fix swtpm_user in " VH_QEMU_CONF,
                                      "swtpm_user \"%s\" (%s) is not a user of this host", u.name,
                                      u.from_conf ? VH_QEMU_CONF : "libvirt's default");
        vh_localca l = { .err = ft->localca_errno, .mode = (mode_t)ft->localca_mode, .uid = (uid_t)ft->localca_uid };
        _cleanup_free_ char *problem = NULL, *fix = NULL;
        int r = vh_localca_judge(&u, &l, &problem, &fix);
        if (r < 0)
                return r;
        if (r == 0)
                return vh_results_add(out, "vtpm", VH_LEVEL_PASS, false, NULL,
                                      "VM %s: swtpm present; swtpm_user %s %s " VH_SWTPM_LOCALCA, dom->name,
                                      u.name, u.uid == 0 ? "(root) can write" : "owns");
        if (!problem || !fix)
                return -ENOMEM;
        if (state_exists(dom, t) == 0)
                return vh_results_add(out, "vtpm", VH_LEVEL_FAIL, true, fix,
                                      "VM %s has a new vTPM: swtpm_setup would run as %s and fail: %s", dom->name,
                                      u.name, problem);
        return vh_results_add(out, "vtpm", VH_LEVEL_WARN, false, fix,
                              "%s; VM %s keeps its existing vTPM state, but a new vTPM would fail to start", problem,
                              dom->name);
}

int vh_check_vtpm(const vh_domain *dom, const vh_policy *p, const vh_facts *f, vh_results *out)
{
        (void)p;
        for (size_t i = 0; i < dom->n_tpms; i++) {
                const vh_tpm *t = &dom->tpms[i];
                if (!streq(t->backend_type, "emulator"))
                        continue;
                if (!(f->parts & VH_FACTS_SWTPM))
                        return vh_results_add(out, "vtpm", VH_LEVEL_WARN, false, NULL,
                                              "VM %s has an emulated TPM; the host facts have no swtpm part: not "
                                              "checked",
                                              dom->name);
                const char *const progs[] = { "swtpm", "swtpm_setup" };
                const char *const found[] = { f->swtpm.swtpm, f->swtpm.swtpm_setup };
                for (size_t k = 0; k < ELEMENTSOF(progs); k++) {
                        if (!found[k])
                                return vh_results_add(out, "vtpm", VH_LEVEL_FAIL, true,
                                                      "install swtpm and swtpm-tools (apt-get install swtpm "
                                                      "swtpm-tools, or dnf install swtpm swtpm-tools)",
                                                      "VM %s has an emulated TPM, but %s is not installed "
                                                      "(not in /usr/bin, /usr/local/bin, /bin, /usr/sbin)",
                                                      dom->name, progs[k]);
                }
                return check_localca(dom, t, &f->swtpm, out); /* one emulated TPM per VM */
        }
        return 0;
}
