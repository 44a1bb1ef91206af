/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vtpm — <vtpm version="2.0"/>
 *
 * Gives a VM without a TPM one emulated by swtpm:
 * <tpm model='M'><backend type='emulator' version='2.0'/></tpm>, with the
 * model right for the guest: tpm-crb on x86 q35 machines, tpm-tis on other
 * x86 machines and on aarch64 (libvirt turns it into QEMU's
 * tpm-tis-device there), tpm-spapr on ppc64.  A VM that has a TPM keeps it
 * as it is: never a second TPM, never a changed one (its state would be
 * lost).
 */
#include "rule.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xml.h"

#define SWTPM "/usr/bin/swtpm"

static const char *model_for(const vh_domain *d, const char *arch)
{
        if (streq(arch, "x86_64") || streq(arch, "i686"))
                return d->machine && strstr(d->machine, "q35") ? "tpm-crb" : "tpm-tis";
        if (streq(arch, "aarch64"))
                return "tpm-tis";
        if (streq(arch, "ppc64") || streq(arch, "ppc64le"))
                return "tpm-spapr";
        return NULL;
}

int vh_rule_vtpm(vh_patch_ctx *c, vh_error **err)
{
        const char *version = c->pol->vtpm_version ? c->pol->vtpm_version : "2.0";
        xmlNodePtr devices = vh_pdom_child(c->root, "devices");
        xmlNodePtr tpm = vh_pdom_child(devices, "tpm");
        if (tpm) {
                _cleanup_free_ char *model = vh_xml_prop(tpm, "model");
                xmlNodePtr be = vh_pdom_child(tpm, "backend");
                _cleanup_free_ char *type = be ? vh_xml_prop(be, "type") : NULL;
                _cleanup_free_ char *ver = be ? vh_xml_prop(be, "version") : NULL;
                if (streq(type, "emulator") && streq(ver, version))
                        return vh_rule_say(c, err, VH_PATCH_UNCHANGED, "the VM has a TPM %s (%s, emulator)", version,
                                           model ? model : "libvirt's default model");
                return vh_rule_say(c, err, VH_PATCH_SKIPPED,
                                   "the VM already has a TPM (%s, backend %s%s%s); vmhooks never adds a second one nor "
                                   "changes one (its state would be lost)",
                                   model ? model : "libvirt's default model", type ? type : "?", ver ? " " : "",
                                   ver ? ver : "");
        }
        const char *arch = vh_rule_arch(c);
        const char *model = model_for(c->dom, arch);
        if (!model)
                return vh_rule_say(c, err, VH_PATCH_SKIPPED, "no TPM model for a guest of arch %s",
                                   arch ? arch : "(unknown)");
        if (!devices && !(devices = vh_pdom_ensure(c->root, "devices", vh_order_domain, NULL)))
                return vh_fail(err, ENOMEM, "vtpm");
        tpm = vh_pdom_add(devices, NULL, "tpm", vh_order_devices);
        xmlNodePtr be = tpm ? vh_pdom_add(tpm, NULL, "backend", NULL) : NULL;
        if (!be || vh_pdom_set(tpm, "model", model) < 0 || vh_pdom_set(be, "type", "emulator") < 0 ||
            vh_pdom_set(be, "version", version) < 0)
                return vh_fail(err, ENOMEM, "vtpm");
        int r = vh_rule_say(c, err, VH_PATCH_CHANGED,
                            "<tpm model='%s'><backend type='emulator' version='%s'/>: a TPM %s emulated by swtpm", model,
                            version, version);
        if (r < 0)
                return r;
        if (!vh_facts_file_exec(c->facts, SWTPM))
                return vh_rule_say(c, err, VH_PATCH_WARNING,
                                   "swtpm is not installed (%s): libvirt will not start the VM until it is (Debian and "
                                   "openEuler: package swtpm)",
                                   SWTPM);
        return 0;
}
