/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dom.c — editing a domain XML the way a person (or libvirt) would write
 * it: new elements where libvirt puts them, indented like their siblings,
 * so that a diff of the result shows only what changed.
 */
#include "rule.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xml.h"

/* virDomainDefFormatInternal (libvirt 9.0) */
const char *const vh_order_domain[] = {
        "name", "uuid", "genid", "title", "description", "metadata", "maxMemory", "memory", "currentMemory",
        "blkiotune", "memtune", "memoryBacking", "vcpu", "vcpus", "iothreads", "iothreadids", "defaultiothread",
        "cputune", "numatune", "resource", "sysinfo", "bootloader", "bootloader_args", "os", "idmap", "features",
        "cpu", "clock", "on_poweroff", "on_reboot", "on_crash", "on_lockfailure", "pm", "perf", "devices",
        "seclabel", "keywrap", "launchSecurity", NULL,
};
const char *const vh_order_cputune[] = {
        "shares", "global_period", "global_quota", "period", "quota", "emulator_period", "emulator_quota",
        "iothread_period", "iothread_quota", "vcpupin", "emulatorpin", "iothreadpin", "vcpusched",
        "iothreadsched", "emulatorsched", "cachetune", "memorytune", NULL,
};
const char *const vh_order_features[] = {
        "acpi", "apic", "pae", "hap", "viridian", "privnet", "hyperv", "kvm", "pvspinlock", "capabilities",
        "pmu", "vmport", "gic", "smm", "ioapic", "hpt", "vmcoreinfo", "htm", "nested-hv", "msrs", "ccf-assist",
        "xen", "cfpc", "sbbc", "ibs", "tcg", "async-teardown", NULL,
};
const char *const vh_order_kvm[] = { "hidden", "hint-dedicated", "poll-control", "pv-ipi", "dirty-ring", NULL };
const char *const vh_order_devices[] = {
        "emulator", "disk", "controller", "lease", "filesystem", "interface", "smartcard", "serial", "parallel",
        "console", "channel", "input", "tpm", "graphics", "sound", "audio", "video", "hostdev", "redirdev",
        "redirfilter", "hub", "watchdog", "memballoon", "rng", "nvram", "panic", "shmem", "memory", "iommu",
        "vsock", "crypto", NULL,
};
const char *const vh_order_disk[] = {
        "driver", "auth", "source", "backingStore", "backenddomain", "geometry", "blockio", "mirror", "target",
        "iotune", "boot", "readonly", "shareable", "transient", "serial", "wwn", "vendor", "product",
        "encryption", "alias", "address", NULL,
};
const char *const vh_order_controller[] = { "model", "driver", "target", "alias", "address", NULL };
const char *const vh_order_memory_backing[] = {
        "hugepages", "nosharepages", "locked", "source", "access", "allocation", "discard", NULL,
};
const char *const vh_order_hostdev[] = { "driver", "source", "origstates", "boot", "rom", "alias", "address", NULL };

static bool plain_element(const xmlNode *n, const char *name)
{
        return n->type == XML_ELEMENT_NODE && !n->ns && (!name || strcmp((const char *)n->name, name) == 0);
}

xmlNodePtr vh_pdom_child(const xmlNode *parent, const char *name)
{
        if (!parent)
                return NULL;
        for (xmlNodePtr n = parent->children; n; n = n->next)
                if (plain_element(n, name))
                        return n;
        return NULL;
}

xmlNodePtr vh_pdom_next(const xmlNode *prev, const char *name)
{
        for (xmlNodePtr n = prev->next; n; n = n->next)
                if (plain_element(n, name))
                        return n;
        return NULL;
}

static int order_index(const char *const *order, const xmlNode *n)
{
        if (n->ns)
                return INT_MAX; /* qemu:commandline and friends come after libvirt's own elements */
        for (int i = 0; order && order[i]; i++)
                if (strcmp(order[i], (const char *)n->name) == 0)
                        return i;
        return -1;
}

/* The indentation of `n`: what follows the last newline of the text node before it, or NULL. */
static const char *indent_of(const xmlNode *n)
{
        const xmlNode *p = n->prev;
        if (!p || p->type != XML_TEXT_NODE || !p->content)
                return NULL;
        const char *nl = strrchr((const char *)p->content, '\n');
        if (!nl)
                return NULL;
        for (const char *s = nl + 1; *s; s++)
                if (*s != ' ' && *s != '\t')
                        return NULL;
        return nl + 1;
}

static bool blank_text(const xmlNode *n)
{
        if (n->type != XML_TEXT_NODE)
                return false;
        for (const char *s = (const char *)n->content; s && *s; s++)
                if (*s != ' ' && *s != '\t' && *s != '\n' && *s != '\r')
                        return false;
        return true;
}

static xmlNodePtr newline_text(xmlDocPtr doc, const char *indent)
{
        size_t n = strlen(indent);
        char *s = malloc(n + 2);
        if (!s)
                return NULL;
        s[0] = '\n';
        memcpy(s + 1, indent, n + 1);
        xmlNodePtr t = xmlNewDocText(doc, (const xmlChar *)s);
        free(s);
        return t;
}

void vh_pdom_insert(xmlNodePtr parent, xmlNodePtr node, const char *const *order)
{
        int idx = order ? order_index(order, node) : -1;
        xmlNodePtr first = NULL, last = NULL, before = NULL;
        for (xmlNodePtr n = parent->children; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE)
                        continue;
                if (!first)
                        first = n;
                last = n;
                if (!before && idx >= 0) {
                        int k = order_index(order, n);
                        if (k > idx)
                                before = n;
                }
        }
        /* Pretty when the existing children sit on lines of their own, or, for
         * an empty parent, when the parent itself does (or is the root). */
        const char *child_indent = first ? indent_of(first) : NULL;
        char *own = NULL;
        if (!first) {
                const char *pi = parent->parent && parent->parent->type == XML_DOCUMENT_NODE ? "" : indent_of(parent);
                if (pi && asprintf(&own, "%s  ", pi) < 0)
                        own = NULL;
                child_indent = own;
        }
        xmlNodePtr text = child_indent ? newline_text(parent->doc, child_indent) : NULL;
        if (before) {
                xmlAddPrevSibling(before, node);
                if (text)
                        xmlAddNextSibling(node, text);
        } else if (last) {
                xmlAddNextSibling(last, node);
                if (text)
                        xmlAddPrevSibling(node, text);
        } else {
                /* no element child: drop blank text, then "\n  <node/>\n" */
                for (xmlNodePtr n = parent->children, next; n; n = next) {
                        next = n->next;
                        if (blank_text(n)) {
                                xmlUnlinkNode(n);
                                xmlFreeNode(n);
                        }
                }
                if (text) {
                        const char *pi = parent->parent && parent->parent->type == XML_DOCUMENT_NODE ? ""
                                                                                                  : indent_of(parent);
                        xmlNodePtr closing = newline_text(parent->doc, pi ? pi : "");
                        xmlAddChild(parent, text);
                        xmlAddChild(parent, node);
                        if (closing)
                                xmlAddChild(parent, closing);
                } else {
                        xmlAddChild(parent, node);
                }
        }
        free(own);
}

xmlNodePtr vh_pdom_add(xmlNodePtr parent, xmlNsPtr ns, const char *name, const char *const *order)
{
        xmlNodePtr n = xmlNewDocNode(parent->doc, ns, (const xmlChar *)name, NULL);
        if (!n)
                return NULL;
        vh_pdom_insert(parent, n, order);
        return n;
}

xmlNodePtr vh_pdom_ensure(xmlNodePtr parent, const char *name, const char *const *order, bool *created)
{
        xmlNodePtr n = vh_pdom_child(parent, name);
        if (created)
                *created = !n;
        if (n)
                return n;
        return vh_pdom_add(parent, NULL, name, order);
}

int vh_pdom_set(xmlNodePtr n, const char *name, const char *value)
{
        return xmlSetProp(n, (const xmlChar *)name, (const xmlChar *)value) ? 0 : -ENOMEM;
}

int vh_pdom_set_text(xmlNodePtr n, const char *text)
{
        /* xmlNodeSetContent takes entity syntax; xmlNodeSetContentLen... too: escape through a text node. */
        for (xmlNodePtr c = n->children, next; c; c = next) {
                next = c->next;
                xmlUnlinkNode(c);
                xmlFreeNode(c);
        }
        xmlNodePtr t = xmlNewDocText(n->doc, (const xmlChar *)text);
        if (!t)
                return -ENOMEM;
        xmlAddChild(n, t);
        return 0;
}

char *vh_pdom_disk_name(const xmlNode *disk, unsigned position)
{
        xmlNodePtr tgt = vh_pdom_child(disk, "target");
        char *s = tgt ? vh_xml_prop(tgt, "dev") : NULL;
        if (s)
                return s;
        xmlNodePtr src = vh_pdom_child(disk, "source");
        static const char *const keys[] = { "dev", "file", "name", "volume", "dir" };
        for (size_t i = 0; src && i < ELEMENTSOF(keys); i++)
                if ((s = vh_xml_prop(src, keys[i])))
                        return s;
        return asprintf(&s, "#%u", position) < 0 ? NULL : s;
}
