/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * patch.h — the domain XML half of the best practices: rules that rewrite
 * a libvirt domain XML under a VM's effective policy, one rule per file in
 * lib/patch/ (after KubeVirt's converters), run in a fixed order by
 * lib/patch/patch.c on a copy of the document.
 *
 *   rule            policy element       what it does
 *   iothreads       <iothreads>          <iothreads>, an IOThread for every virtio-blk disk
 *                                        and virtio-scsi controller, <iothreadpin>
 *   hugepages       <hugepages>          <memoryBacking><hugepages><page>
 *   dedicated-hint  <dedicated-hint>     <features><kvm><hint-dedicated state='on'>
 *   pvspinlock      <pvspinlock>         <features><pvspinlock state='on'> (x86)
 *   vtpm            <vtpm>               <tpm> with an emulator backend, never a second one
 *   disk-io         <disk-io>            cache= and io= on raw block-backed disks
 *   rdm             (always)             a check: device='lun' must be a whole disk
 *   msix            <msix-relocation>    <emulator> = the wrapper, or <qemu:override>
 *   pinning         (incoming only)      CPUs of vcpupin/emulatorpin/iothreadpin/<vcpu cpuset>
 *                                        that are not online here are remapped
 *
 * Every rule is idempotent: run on its own output it changes nothing and
 * says so.  Every rule reports what it did as readable lines: a change, the
 * fact that nothing needed changing, or why it was skipped (which
 * condition failed), plus warnings and guest-side notes.
 *
 * Entry points:
 *   vh_patch_run       the rules on a parsed domain (all, or the ABI-safe subset)
 *   vh_patch_plan_make the planner shared by `vmhooks patch`, `diff`, `apply` and `apply --dry-run`
 *   vh_patch_incoming  the hook at `migrate begin` / `restore begin`
 *   vh_patch_drift     the hook at `prepare begin`
 */
#ifndef VH_PATCH_H
#define VH_PATCH_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "domain.h"
#include "error.h"
#include "facts.h"
#include "policy.h"
#include "util.h"

/* The emulator wrapper a patched <emulator> names (below VMHOOKS_ROOT when checking it exists). */
#define VH_PATCH_WRAPPER "/usr/libexec/vmhooks/qemu-kvm"
#define VH_QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"
/* libvirt version (major * 1000000 + minor * 1000 + micro) that introduced <qemu:override>. */
#define VH_QEMU_OVERRIDE_MIN_LIBVIRT 8002000UL

typedef enum vh_patch_kind {
        VH_PATCH_CHANGED,       /* the rule changed the XML */
        VH_PATCH_UNCHANGED,     /* the rule applies and the XML already is as it wants */
        VH_PATCH_SKIPPED,       /* the rule does not apply here: the line says which condition failed */
        VH_PATCH_WARNING,       /* something to fix or know (a partition as a LUN, odd memory size) */
        VH_PATCH_NOTE,          /* advice outside the XML (guest kernel command line, host packages) */
        VH_PATCH_OFF,           /* the policy does not ask for the rule */
} vh_patch_kind;

typedef struct vh_patch_line {
        vh_patch_kind kind;
        const char *rule;       /* static: "iothreads" */
        char *text;
} vh_patch_line;

typedef struct vh_patch_report {
        vh_patch_line *lines;
        size_t n, cap;
        unsigned changes;       /* lines of kind VH_PATCH_CHANGED */
        unsigned warnings;
} vh_patch_report;

void vh_patch_report_done(vh_patch_report *r);
#define _cleanup_patch_report_ __attribute__((cleanup(vh_patch_report_done)))

/*
 * One line for people: "iothreads: disk vda: iothread 1",
 * "dedicated-hint: skipped: vCPU 1 is pinned to 2-3, not to one host CPU",
 * "iothreads: nothing to change: ...", "rdm: warning: ...",
 * "pvspinlock: note: ...", "vtpm: off (not in the policy)".  NULL on ENOMEM.
 */
char *vh_patch_line_format(const vh_patch_line *l);

/* All lines of `kinds` (a bit per vh_patch_kind), each "\n"-terminated, appended to out. */
int vh_patch_report_format(const vh_patch_report *r, unsigned kinds, vh_buf *out);
#define VH_PATCH_KINDS_DEFAULT \
        ((1u << VH_PATCH_CHANGED) | (1u << VH_PATCH_UNCHANGED) | (1u << VH_PATCH_SKIPPED) | \
         (1u << VH_PATCH_WARNING) | (1u << VH_PATCH_NOTE))
#define VH_PATCH_KINDS_ALL (VH_PATCH_KINDS_DEFAULT | (1u << VH_PATCH_OFF))

enum {
        /* Only what keeps the guest ABI (migrate/restore): iothreadpin, the
         * wrapper as <emulator>, and the remap of pinned CPUs not online here. */
        VH_PATCH_ABI_SAFE = 1u << 0,
        /* msix: write <qemu:override> (libvirt >= 8.2) instead of naming the wrapper. */
        VH_PATCH_MSIX_OVERRIDE = 1u << 1,
};

/*
 * Run the rules on a copy of dom->doc under policy `pol`.  *ret_doc gets
 * the patched copy (always, even when nothing changed: rep->changes says),
 * `rep` one line per finding.  The rules read the host only through
 * `facts` (facts.h: the hugepage pools, the PCI devices for msix, the block
 * devices for rdm, the wrapper's and swtpm's files, the online CPUs for the
 * remap, the host's arch), holding at least vh_patch_facts_needed's parts:
 * the same (domain, policy, facts) give the same XML on any host.
 */
int vh_patch_run(const vh_domain *dom, const vh_policy *pol, const vh_facts *facts, unsigned flags,
                 xmlDocPtr *ret_doc, vh_patch_report *rep, vh_error **err);

/* The parts of the host facts (VH_FACTS_*) the rules run under `flags` read for `dom` under `pol`. */
unsigned vh_patch_facts_needed(const vh_domain *dom, const vh_policy *pol, unsigned flags);

/*
 * The document as libvirt writes it: attributes in single quotes, the
 * <metadata> subtrees as libxml2 writes them (double quotes), whitespace as
 * it was, one "\n" after each top-level node and no XML declaration.  For
 * libvirt's own output, vh_patch_xml_format(parse(x)) == x.  NULL on ENOMEM.
 */
char *vh_patch_xml_format(xmlDocPtr doc);

/*
 * Unified diff of two texts, line by line (a shortest edit script, i.e. a
 * longest common subsequence, by Myers' algorithm after trimming the common
 * head and tail), `context` lines around each change, headers "--- label_a"
 * and "+++ label_b".  *ret is "" when the texts are equal.
 */
int vh_udiff(const char *a, const char *b, const char *label_a, const char *label_b, unsigned context, char **ret,
             vh_error **err);

/* ---- the planner: `vmhooks patch`, `diff`, `apply` and `apply --dry-run` ---- */

typedef struct vh_patch_opts {
        const char *policy_file;        /* NULL: /etc/vmhooks/policy.xml (below VMHOOKS_ROOT) */
        const vh_facts *facts;          /* the host to patch for (vmhooks patch --facts); NULL: this host's */
        unsigned flags;                 /* VH_PATCH_MSIX_OVERRIDE */
} vh_patch_opts;

typedef struct vh_patch_plan {
        char *name;             /* the VM's <name> */
        char *policy;           /* the effective policy, one line (vh_policy_describe) */
        vh_patch_report report;
        char *after;            /* the patched XML; NULL when no rule changed anything */
        char *diff;             /* unified diff, input -> after (both written by vh_patch_xml_format); NULL when unchanged */
        bool uses_override;     /* after has <qemu:override> (needs libvirt >= 8.2) */
} vh_patch_plan;

void vh_patch_plan_done(vh_patch_plan *p);
#define _cleanup_patch_plan_ __attribute__((cleanup(vh_patch_plan_done)))

/*
 * Parse `xml` (`what` names it in errors), take the policy (the host file,
 * or opts->policy_file, checked against the schema, then the VM's
 * <metadata> on top; either one bad is an error here, unlike in the hook),
 * run every rule and diff the result.
 */
int vh_patch_plan_make(const char *xml, size_t len, const char *what, const vh_patch_opts *opts,
                       vh_patch_plan *ret, vh_error **err);

/* ---- the hook ---- */

/*
 * `migrate begin` and `restore begin`: libvirt reads the XML to use from
 * the hook's stdout and checks that it keeps the guest ABI.  `dom` is the
 * XML from stdin, `pol` the VM's effective policy on this host.  Only the
 * ABI-safe rules run: iothreadpin from <iothreads cpuset> for the
 * IOThreads the VM has, the wrapper as <emulator> (msix), and the remap of
 * vcpupin / emulatorpin / iothreadpin / <vcpu cpuset> CPUs that are not
 * online (facts->online).  *ret_xml: the whole new XML for stdout,
 * or NULL when nothing changes (print nothing then).  `rep` (may be NULL)
 * gets the lines to log.
 */
int vh_patch_incoming(const vh_domain *dom, const vh_policy *pol, const vh_facts *facts, char **ret_xml,
                      vh_patch_report *rep, vh_error **err);

/*
 * `prepare begin`: what `vmhooks apply NAME` would change, as one line
 * "vmhooks apply NAME would change: iothreads: <iothreads> 0 -> 1; disk-io:
 * disk vdb ...", or *ret_line = NULL when nothing (drift).  Never refuses.
 */
int vh_patch_drift(const vh_domain *dom, const vh_policy *pol, const vh_facts *facts, char **ret_line,
                   vh_error **err);

#endif
