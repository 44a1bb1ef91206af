/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * msix — <msix-relocation bar="bar2" devices="nvme|quirks|all|list"/>
 *
 * vfio-pci's x-msix-relocation moves a device's MSI-X table to a BAR of
 * its own.  libvirt has no element for it, so for a VM with PCI hostdevs
 * that the policy selects (vh_msix_select, lib/msix.h) the rule either
 *   - names the vmhooks wrapper as <emulator> (default): the wrapper adds
 *     the property to those devices on QEMU's command line, or
 *   - with VH_PATCH_MSIX_OVERRIDE (`--msix=override`), writes libvirt's
 *     own <qemu:override> (libvirt >= 8.2.0) for each of them:
 *       <qemu:override>
 *         <qemu:device alias='ua-vmhooks-0000-81-00-1'>
 *           <qemu:frontend>
 *             <qemu:property name='x-msix-relocation' type='string' value='bar2'/>
 *           </qemu:frontend>
 *         </qemu:device>
 *       </qemu:override>
 *     which needs an alias that survives redefinition: a user alias
 *     ("ua-" prefix) is given to the hostdev when it has none.
 * Under VH_PATCH_ABI_SAFE (migrate, restore) only the wrapper mode runs.
 */
#include "rule.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "msix.h"
#include "root.h"
#include "util.h"
#include "xml.h"

typedef struct pick {
        xmlNodePtr node;
        const char *bdf;
        char *why;
} pick;

typedef struct picks {
        pick *v;
        size_t n;
} picks;

static void picks_done(picks *p)
{
        for (size_t i = 0; i < p->n; i++)
                free(p->v[i].why);
        free(p->v);
}

static xmlNodePtr ns_child(const xmlNode *parent, const char *href, const char *name)
{
        for (xmlNodePtr n = parent ? parent->children : NULL; n; n = n->next)
                if (n->type == XML_ELEMENT_NODE && n->ns && n->ns->href && strcmp((const char *)n->ns->href, href) == 0 &&
                    strcmp((const char *)n->name, name) == 0)
                        return n;
        return NULL;
}

static int wrapper(vh_patch_ctx *c, const picks *p, vh_error **err)
{
        const char *bar = c->pol->msix_bar ? c->pol->msix_bar : "bar2";
        _cleanup_buf_ vh_buf which = { 0 };
        for (size_t i = 0; i < p->n; i++)
                if (vh_buf_printf(&which, "%s%s (%s)", i ? ", " : "", p->v[i].bdf, p->v[i].why) < 0)
                        return vh_fail(err, ENOMEM, "msix");
        xmlNodePtr devices = vh_pdom_child(c->root, "devices");
        xmlNodePtr em = vh_pdom_child(devices, "emulator");
        _cleanup_free_ char *old = em ? vh_xml_text(em) : NULL;
        if (old && streq(old, VH_PATCH_WRAPPER))
                return vh_rule_say(c, err, VH_PATCH_UNCHANGED, "<emulator> is the wrapper, which adds x-msix-relocation=%s to %s",
                                   bar, which.data);
        if (!vh_facts_file_exec(c->facts, VH_PATCH_WRAPPER))
                return vh_rule_say(c, err, VH_PATCH_SKIPPED,
                                   "the wrapper %s is not installed (make install), so %s cannot get x-msix-relocation",
                                   VH_PATCH_WRAPPER, which.data);
        if (!devices && !(devices = vh_pdom_ensure(c->root, "devices", vh_order_domain, NULL)))
                return vh_fail(err, ENOMEM, "msix");
        if (!em && !(em = vh_pdom_add(devices, NULL, "emulator", vh_order_devices)))
                return vh_fail(err, ENOMEM, "msix");
        if (vh_pdom_set_text(em, VH_PATCH_WRAPPER) < 0)
                return vh_fail(err, ENOMEM, "msix");
        int r = vh_rule_say(c, err, VH_PATCH_CHANGED, "<emulator> %s -> %s: the wrapper adds x-msix-relocation=%s to %s",
                            old ? old : "(libvirt's default)", VH_PATCH_WRAPPER, bar, which.data);
        if (r < 0)
                return r;
        const char *real = c->pol->wrapper_emulator;
        if (real && old && streq(real, old))
                return 0;
        return vh_rule_say(c, err, VH_PATCH_NOTE, "the wrapper runs %s%s%s%s", real ? real : "<wrapper emulator> of "
                                                                                          VH_POLICY_FILE " or its built-in default",
                           old ? ", not " : "", old ? old : "", old ? " as before" : "");
}

/* A user alias ("ua-"), given to the hostdev when it has none; the alias in *ret (owned by the DOM). */
static int user_alias(vh_patch_ctx *c, const pick *k, const char **ret, vh_error **err)
{
        xmlNodePtr al = vh_pdom_child(k->node, "alias");
        _cleanup_free_ char *have = al ? vh_xml_prop(al, "name") : NULL;
        if (have && startswith(have, "ua-")) {
                xmlAttrPtr a = xmlHasProp(al, (const xmlChar *)"name");
                *ret = (const char *)a->children->content;
                return 0;
        }
        char name[64] = "ua-vmhooks-";
        size_t off = strlen(name);
        for (const char *s = k->bdf; *s && off + 1 < sizeof(name); s++)
                name[off++] = (*s == ':' || *s == '.') ? '-' : *s;
        name[off] = '\0';
        if (!al && !(al = vh_pdom_add(k->node, NULL, "alias", vh_order_hostdev)))
                return vh_fail(err, ENOMEM, "msix");
        if (vh_pdom_set(al, "name", name) < 0)
                return vh_fail(err, ENOMEM, "msix");
        int r = vh_rule_say(c, err, VH_PATCH_CHANGED, "hostdev %s: <alias name='%s'/>%s%s%s", k->bdf, name,
                            have ? " (was " : " (a name <qemu:override> can refer to)", have ? have : "",
                            have ? ", which libvirt does not keep)" : "");
        if (r < 0)
                return r;
        xmlAttrPtr a = xmlHasProp(al, (const xmlChar *)"name");
        *ret = (const char *)a->children->content;
        return 0;
}

static int override(vh_patch_ctx *c, const picks *p, vh_error **err)
{
        const char *bar = c->pol->msix_bar ? c->pol->msix_bar : "bar2";
        xmlNsPtr ns = xmlSearchNsByHref(c->doc, c->root, (const xmlChar *)VH_QEMU_NS);
        if (!ns)
                ns = xmlNewNs(c->root, (const xmlChar *)VH_QEMU_NS, (const xmlChar *)"qemu");
        if (!ns) /* "qemu" names another namespace here */
                ns = xmlNewNs(c->root, (const xmlChar *)VH_QEMU_NS, (const xmlChar *)"vmhooks-qemu");
        if (!ns)
                return vh_fail(err, ENOMEM, "msix");
        for (size_t i = 0; i < p->n; i++) {
                const char *alias = NULL;
                int r = user_alias(c, &p->v[i], &alias, err);
                if (r < 0)
                        return r;
                xmlNodePtr ov = ns_child(c->root, VH_QEMU_NS, "override");
                if (!ov && !(ov = vh_pdom_add(c->root, ns, "override", NULL)))
                        return vh_fail(err, ENOMEM, "msix");
                xmlNodePtr dev = NULL;
                for (xmlNodePtr n = ov->children; n && !dev; n = n->next)
                        if (n->type == XML_ELEMENT_NODE && n->ns && streq((const char *)n->ns->href, VH_QEMU_NS) &&
                            streq((const char *)n->name, "device") && vh_xml_prop_is(n, "alias", alias))
                                dev = n;
                if (!dev && (!(dev = vh_pdom_add(ov, ns, "device", NULL)) || vh_pdom_set(dev, "alias", alias) < 0))
                        return vh_fail(err, ENOMEM, "msix");
                xmlNodePtr fe = ns_child(dev, VH_QEMU_NS, "frontend");
                if (!fe && !(fe = vh_pdom_add(dev, ns, "frontend", NULL)))
                        return vh_fail(err, ENOMEM, "msix");
                xmlNodePtr prop = NULL;
                for (xmlNodePtr n = fe->children; n && !prop; n = n->next)
                        if (n->type == XML_ELEMENT_NODE && n->ns && streq((const char *)n->ns->href, VH_QEMU_NS) &&
                            streq((const char *)n->name, "property") && vh_xml_prop_is(n, "name", VH_MSIX_PROP))
                                prop = n;
                if (prop && vh_xml_prop_is(prop, "type", "string") && vh_xml_prop_is(prop, "value", bar)) {
                        r = vh_rule_say(c, err, VH_PATCH_UNCHANGED, "<qemu:override> gives %s (%s) %s=%s", p->v[i].bdf,
                                        alias, VH_MSIX_PROP, bar);
                } else {
                        if (!prop && (!(prop = vh_pdom_add(fe, ns, "property", NULL)) ||
                                      vh_pdom_set(prop, "name", VH_MSIX_PROP) < 0))
                                return vh_fail(err, ENOMEM, "msix");
                        if (vh_pdom_set(prop, "type", "string") < 0 || vh_pdom_set(prop, "value", bar) < 0)
                                return vh_fail(err, ENOMEM, "msix");
                        r = vh_rule_say(c, err, VH_PATCH_CHANGED,
                                        "<qemu:override> for %s (%s, %s): %s='%s' (needs libvirt >= 8.2)", alias,
                                        p->v[i].bdf, p->v[i].why, VH_MSIX_PROP, bar);
                }
                if (r < 0)
                        return r;
        }
        return 0;
}

int vh_rule_msix(vh_patch_ctx *c, vh_error **err)
{
        const vh_domain *d = c->dom;
        _cleanup_(picks_done) picks p = { 0 };
        _cleanup_buf_ vh_buf notsel = { 0 };
        size_t i = 0, n_pci = 0;
        xmlNodePtr devices = vh_pdom_child(c->root, "devices");
        /*
         * dom->hostdevs[i] is the i-th <hostdev> or <interface type='hostdev'> of
         * <devices> (domain.c walks them the same way): an SR-IOV VF given as a NIC
         * is the same vfio-pci device to QEMU.
         */
        for (xmlNodePtr node = vh_xml_first_element(devices); node; node = vh_xml_next_element(node)) {
                if (!vh_domain_is_hostdev(node))
                        continue;
                if (i >= d->n_hostdevs)
                        break;
                const vh_hostdev *h = &d->hostdevs[i++];
                if (!streq(h->mode, "subsystem") || !streq(h->type, "pci") || !h->has_pci_address)
                        continue;
                n_pci++;
                _cleanup_free_ char *why = NULL;
                _cleanup_error_ vh_error *e = NULL;
                int s = vh_msix_select(c->pol, h->bdf, c->facts, &why, &e);
                if (s == -ENOMEM)
                        return vh_fail(err, ENOMEM, "msix");
                int r = 0;
                if (s < 0)
                        r = vh_rule_say(c, err, VH_PATCH_WARNING, "hostdev %s: %s; not relocated", h->bdf, vh_error_msg(e));
                else if (s == 0)
                        r = vh_buf_printf(&notsel, "%s%s: %s", notsel.len ? "; " : "", h->bdf, why) < 0 ? -ENOMEM : 0;
                if (r < 0)
                        return r == -ENOMEM ? vh_fail(err, ENOMEM, "msix") : r;
                if (s != 1)
                        continue;
                pick *t = realloc(p.v, (p.n + 1) * sizeof(*t));
                if (!t)
                        return vh_fail(err, ENOMEM, "msix");
                p.v = t;
                p.v[p.n++] = (pick){ node, h->bdf, TAKE_PTR(why) };
        }
        if (n_pci == 0)
                return vh_rule_say(c, err, VH_PATCH_SKIPPED,
                                   "the VM passes through no PCI device (<hostdev> or <interface type='hostdev'>)");
        if (p.n == 0)
                return notsel.len ? vh_rule_say(c, err, VH_PATCH_SKIPPED, "no PCI hostdev is selected: %s", notsel.data)
                                  : vh_rule_say(c, err, VH_PATCH_SKIPPED, "no PCI hostdev is selected by devices=\"%s\"",
                                                c->pol->msix_devices ? c->pol->msix_devices : "");
        if ((c->flags & VH_PATCH_MSIX_OVERRIDE) && !(c->flags & VH_PATCH_ABI_SAFE))
                return override(c, &p, err);
        return wrapper(c, &p, err);
}
