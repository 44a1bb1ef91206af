/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * serialize.c — write a domain XML back the way libvirt writes it, so that
 * `vmhooks diff` shows only what a rule changed and `vmhooks patch` of
 * `virsh dumpxml` output changes nothing else:
 *
 *   - attributes in single quotes; text and attribute values with
 *     < > & ' " escaped (libvirt's virBufferEscapeString);
 *   - on the root, the attributes before the namespace declarations
 *     (<domain type='kvm' xmlns:qemu='...'>);
 *   - the children of <metadata> as libxml2's xmlNodeDump writes them,
 *     which is what libvirt does (double quotes);
 *   - whitespace as it was; an element without children as <x/>;
 *   - each top-level node (a comment, the root) followed by "\n".
 */
#include "rule.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

static int put_escaped(vh_buf *b, const char *s, bool attr)
{
        const char *start = s;
        for (; *s; s++) {
                const char *rep = NULL;
                switch (*s) {
                case '<': rep = "&lt;"; break;
                case '>': rep = "&gt;"; break;
                case '&': rep = "&amp;"; break;
                case '\'': rep = "&apos;"; break;
                case '"': rep = "&quot;"; break;
                case '\n': rep = attr ? "&#10;" : NULL; break;
                case '\r': rep = "&#13;"; break;
                case '\t': rep = attr ? "&#9;" : NULL; break;
                default: break;
                }
                if (!rep)
                        continue;
                if (vh_buf_append(b, start, (size_t)(s - start)) < 0 || vh_buf_puts(b, rep) < 0)
                        return -ENOMEM;
                start = s + 1;
        }
        return vh_buf_append(b, start, (size_t)(s - start));
}

static int put_qname(vh_buf *b, const xmlNs *ns, const xmlChar *name)
{
        if (ns && ns->prefix && vh_buf_printf(b, "%s:", (const char *)ns->prefix) < 0)
                return -ENOMEM;
        return vh_buf_puts(b, (const char *)name);
}

/* A subtree inside <metadata>: exactly as libxml2 (and so libvirt) writes it. */
static int put_foreign(vh_buf *b, xmlNodePtr n)
{
        xmlBufferPtr xb = xmlBufferCreate();
        if (!xb)
                return -ENOMEM;
        int r = xmlNodeDump(xb, n->doc, n, 0, 0) < 0 ? -ENOMEM : vh_buf_puts(b, (const char *)xmlBufferContent(xb));
        xmlBufferFree(xb);
        return r;
}

static int put_node(vh_buf *b, xmlNodePtr n, unsigned depth);

static int put_element(vh_buf *b, xmlNodePtr n, unsigned depth)
{
        if (depth > 1000)
                return -ELOOP; /* libxml2 refuses deeper documents anyway */
        if (vh_buf_puts(b, "<") < 0 || put_qname(b, n->ns, n->name) < 0)
                return -ENOMEM;
        for (xmlAttrPtr a = n->properties; a; a = a->next) {
                xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
                int r = vh_buf_puts(b, " ");
                if (r == 0)
                        r = put_qname(b, a->ns, a->name);
                if (r == 0)
                        r = vh_buf_puts(b, "='");
                if (r == 0)
                        r = put_escaped(b, v ? (const char *)v : "", true);
                if (r == 0)
                        r = vh_buf_puts(b, "'");
                xmlFree(v);
                if (r < 0)
                        return -ENOMEM;
        }
        for (xmlNsPtr ns = n->nsDef; ns; ns = ns->next) {
                int r = ns->prefix ? vh_buf_printf(b, " xmlns:%s='", (const char *)ns->prefix) : vh_buf_puts(b, " xmlns='");
                if (r == 0)
                        r = put_escaped(b, ns->href ? (const char *)ns->href : "", true);
                if (r == 0)
                        r = vh_buf_puts(b, "'");
                if (r < 0)
                        return -ENOMEM;
        }
        if (!n->children)
                return vh_buf_puts(b, "/>");
        if (vh_buf_puts(b, ">") < 0)
                return -ENOMEM;
        /* <metadata> of the root <domain> */
        bool meta = !n->ns && strcmp((const char *)n->name, "metadata") == 0 && n->parent &&
                    n->parent->parent && n->parent->parent->type == XML_DOCUMENT_NODE;
        for (xmlNodePtr c = n->children; c; c = c->next) {
                int r = meta && c->type == XML_ELEMENT_NODE ? put_foreign(b, c) : put_node(b, c, depth + 1);
                if (r < 0)
                        return r;
        }
        if (vh_buf_puts(b, "</") < 0 || put_qname(b, n->ns, n->name) < 0 || vh_buf_puts(b, ">") < 0)
                return -ENOMEM;
        return 0;
}

static int put_node(vh_buf *b, xmlNodePtr n, unsigned depth)
{
        switch (n->type) {
        case XML_ELEMENT_NODE:
                return put_element(b, n, depth);
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
                return put_escaped(b, n->content ? (const char *)n->content : "", false);
        case XML_COMMENT_NODE:
                return vh_buf_printf(b, "<!--%s-->", n->content ? (const char *)n->content : "");
        case XML_PI_NODE:
                return n->content ? vh_buf_printf(b, "<?%s %s?>", (const char *)n->name, (const char *)n->content)
                                  : vh_buf_printf(b, "<?%s?>", (const char *)n->name);
        default:
                return 0; /* entity references and DTD nodes cannot occur (vh_xml_parse) */
        }
}

char *vh_patch_xml_format(xmlDocPtr doc)
{
        _cleanup_buf_ vh_buf b = { 0 };
        if (vh_buf_puts(&b, "") < 0)
                return NULL;
        for (xmlNodePtr n = doc->children; n; n = n->next) {
                if (n->type != XML_ELEMENT_NODE && n->type != XML_COMMENT_NODE && n->type != XML_PI_NODE)
                        continue;
                if (put_node(&b, n, 1) < 0 || vh_buf_puts(&b, "\n") < 0)
                        return NULL;
        }
        return TAKE_PTR(b.data);
}
