/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rule.h — what the rules of lib/patch/ share (private to lib/patch/).
 *
 * A rule is one function `vh_rule_NAME(ctx, err)` in its own file.  It
 * reads the domain model (ctx->dom: the XML as it came in) and the policy,
 * edits the copy ctx->doc through the helpers below, and reports every
 * finding with vh_rule_say().  A rule that needs to see what an earlier
 * rule changed reads ctx->doc, not ctx->dom.  Rules never print, never
 * call libvirt and never read the host: what they need of it is in
 * ctx->facts (facts.h), so a rule is a pure function of (domain, policy,
 * facts).  tests/unit/test_patch.c greps lib/patch/ for host reads.
 */
#ifndef VH_PATCH_RULE_H
#define VH_PATCH_RULE_H

#include <stdbool.h>

#include <libxml/tree.h>

#include "cpuset.h"
#include "domain.h"
#include "error.h"
#include "facts.h"
#include "patch.h"
#include "policy.h"

typedef struct vh_patch_ctx {
        const vh_domain *dom;   /* the domain as it came in */
        const vh_policy *pol;   /* its effective policy */
        const vh_facts *facts;  /* the host: the rules read nothing else of it */
        unsigned flags;         /* VH_PATCH_ABI_SAFE, VH_PATCH_MSIX_OVERRIDE */
        xmlDocPtr doc;          /* the copy being patched */
        xmlNodePtr root;        /* its <domain> */
        const char *rule;       /* the running rule's name, for its lines */
        vh_patch_report *rep;
} vh_patch_ctx;

typedef int (*vh_rule_fn)(vh_patch_ctx *c, vh_error **err);

int vh_rule_iothreads(vh_patch_ctx *c, vh_error **err);
int vh_rule_hugepages(vh_patch_ctx *c, vh_error **err);
int vh_rule_dedicated_hint(vh_patch_ctx *c, vh_error **err);
int vh_rule_pvspinlock(vh_patch_ctx *c, vh_error **err);
int vh_rule_vtpm(vh_patch_ctx *c, vh_error **err);
int vh_rule_disk_io(vh_patch_ctx *c, vh_error **err);
int vh_rule_rdm(vh_patch_ctx *c, vh_error **err);
int vh_rule_msix(vh_patch_ctx *c, vh_error **err);
int vh_rule_pinning(vh_patch_ctx *c, vh_error **err);

/*
 * The guest's arch: <os><type arch>, or, when the XML names none (as Nova
 * writes it), the host's, which is what libvirt then uses.
 */
const char *vh_rule_arch(const vh_patch_ctx *c);

/* Add a line of `kind` for the running rule.  0 or -ENOMEM (err set). */
int vh_rule_say(vh_patch_ctx *c, vh_error **err, vh_patch_kind kind, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* ---- the DOM (lib/patch/dom.c) ---- */

/* libvirt's order of the children of these elements, for inserting new ones where libvirt would write them. */
extern const char *const vh_order_domain[];
extern const char *const vh_order_cputune[];
extern const char *const vh_order_features[];
extern const char *const vh_order_kvm[];
extern const char *const vh_order_devices[];
extern const char *const vh_order_disk[];
extern const char *const vh_order_controller[];
extern const char *const vh_order_memory_backing[];
extern const char *const vh_order_hostdev[];

/* The first child element `name` without a namespace (libvirt's own elements), or NULL. */
xmlNodePtr vh_pdom_child(const xmlNode *parent, const char *name);
xmlNodePtr vh_pdom_next(const xmlNode *prev, const char *name);
#define vh_pdom_foreach(child, parent, name) \
        for (xmlNodePtr child = vh_pdom_child(parent, name); child; child = vh_pdom_next(child, name))

/*
 * Insert `node` (unlinked) into `parent` where libvirt's `order` puts it
 * (NULL: at the end), indented like its siblings: on a line of its own when
 * the parent's children are, inline when they are not.
 */
void vh_pdom_insert(xmlNodePtr parent, xmlNodePtr node, const char *const *order);

/* A new element `name` (namespace `ns`, may be NULL) inserted as above; NULL on ENOMEM. */
xmlNodePtr vh_pdom_add(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *const *order);

/* The child `name`, added when missing (*created says so, may be NULL); NULL on ENOMEM. */
xmlNodePtr vh_pdom_ensure(xmlNodePtr parent, const char *name, const char *const *order, bool *created);

/* Set attribute `name` (no namespace).  0 or -ENOMEM. */
int vh_pdom_set(xmlNodePtr n, const char *name, const char *value);

/* Replace the text content of `n`.  0 or -ENOMEM. */
int vh_pdom_set_text(xmlNodePtr n, const char *text);

/* "vda", "sdc": the disk's <target dev>, else its source, else "#N" (1-based position); malloc'd. */
char *vh_pdom_disk_name(const xmlNode *disk, unsigned position);

#endif
