/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * help.c — one line per option of each command, for `vmhooks help COMMAND`
 * and `vmhooks COMMAND --help`.  vmhooks(8) gives the same options (the
 * unit tests hold every option here to a line of the man page).
 */
#include "commands.h"

#define VH_HELP_PATCH_SHARED                                                                                   \
        { "--policy FILE", "use FILE as the host policy instead of /etc/vmhooks/policy.xml (checked against "  \
                           "the schema)" },                                                                    \
        { "--msix=wrapper", "MSI-X relocation through the QEMU wrapper as <emulator> (the default)" },         \
        { "--msix=override", "MSI-X relocation as <qemu:override> in the domain XML (libvirt >= 8.2)" },       \
        { "--facts FILE", "patch for the host whose facts FILE holds (vmhooks facts > FILE there), not this one" }, \
        { "-v, --verbose", "also say what each rule left alone and why, and the policy used" }

const vh_option_help vh_help_patch[] = {
        VH_HELP_PATCH_SHARED,
        { "FILE|-", "the domain XML to patch (default: stdin); the patched XML goes to stdout" },
        { 0 },
};

const vh_option_help vh_help_diff[] = {
        VH_HELP_PATCH_SHARED,
        { "DOMAIN", "a defined domain (name, UUID or ID); exit 0: nothing to change, 1: changes" },
        { 0 },
};

const vh_option_help vh_help_apply[] = {
        { "--dry-run", "show the diff and what each rule did; redefine nothing" },
        VH_HELP_PATCH_SHARED,
        { "DOMAIN", "a defined domain (name, UUID or ID); its persistent definition is redefined" },
        { 0 },
};

const vh_option_help vh_help_check[] = {
        { "--json", "the results as JSON (results, counts)" },
        { "--facts FILE", "check against the host whose facts FILE holds (vmhooks facts > FILE there)" },
        { "--file FILE", "check a domain XML file (-: stdin) instead of a defined domain" },
        { "DOMAIN", "a defined domain: its configuration for the next start" },
        { 0 },
};

const vh_option_help vh_help_policy[] = {
        { "--file FILE", "the policy of a domain XML file (-: stdin) instead of a defined domain's" },
        { "DOMAIN", "a defined domain: the host policy with the <metadata> of its configuration on top" },
        { 0 },
};

const vh_option_help vh_help_audit[] = {
        { "--json", "the results as JSON (results, counts)" },
        { "--guest DOMAIN", "ask DOMAIN's running guest agent which RPCs it still allows" },
        { 0 },
};

const vh_option_help vh_help_facts[] = {
        { "--json", "the facts as JSON (parts, arch, cpus, irqs, cgroup, numa, hugepages, pci, block, files, swtpm)" },
        { 0 },
};

const vh_option_help vh_help_status[] = {
        { "--json", "the status as JSON (state, vms, knobs, install, attention)" },
        { 0 },
};

const vh_option_help vh_help_help[] = {
        { "COMMAND", "the usage and options of COMMAND (the same as vmhooks COMMAND --help)" },
        { 0 },
};
