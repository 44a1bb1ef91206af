/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "xml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlsave.h>

#include "cleanup.h"
#include "fileio.h"
#include "util.h"

VH_DEFINE_CLEANUP(xmlParserCtxtPtr, xmlFreeParserCtxt)

/*
 * A DOCTYPE can only appear in the prolog, before the root element, and
 * entities can only be declared there: look for it without parsing.
 */
static bool has_dtd(const char *buf, size_t len)
{
        const char *p = buf, *end = buf + len;
        while (p < end) {
                const char *lt = memchr(p, '<', (size_t)(end - p));
                if (!lt || lt + 1 >= end)
                        return false;
                if (lt[1] == '?') {                     /* XML declaration, PI */
                        const char *q = memmem(lt, (size_t)(end - lt), "?>", 2);
                        if (!q)
                                return false;
                        p = q + 2;
                } else if (end - lt >= 4 && memcmp(lt, "<!--", 4) == 0) {
                        const char *q = memmem(lt, (size_t)(end - lt), "-->", 3);
                        if (!q)
                                return false;
                        p = q + 3;
                } else {
                        return lt[1] == '!';            /* <!DOCTYPE (or junk) */
                }
        }
        return false;
}

int vh_xml_parse(const char *buf, size_t len, const char *what, xmlDocPtr *ret, vh_error **err)
{
        if (len > VH_XML_MAX)
                return vh_fail_input(err, "%s: larger than %u bytes", what, VH_XML_MAX);
        if (len > INT32_MAX)
                return vh_fail_input(err, "%s: too large", what);
        if (has_dtd(buf, len))
                return vh_fail_input(err, "%s: DOCTYPE and entity declarations are not accepted", what);

        _cleanup_(xmlFreeParserCtxtp) xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
        if (!ctxt)
                return vh_fail(err, ENOMEM, "%s", what);
        /* No XML_PARSE_NOENT (would expand entities), no DTDLOAD/DTDATTR. */
        int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA | XML_PARSE_COMPACT;
        xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, opts);
        if (!doc || !ctxt->wellFormed) {
                const xmlError *e = xmlCtxtGetLastError(ctxt);
                if (doc)
                        xmlFreeDoc(doc);
                if (e && e->message) {
                        _cleanup_free_ char *m = strdup(e->message);
                        if (m)
                                vh_rstrip(m);
                        return vh_fail_input(err, "%s: line %d: %s", what, e->line, m ? m : "");
                }
                return vh_fail_input(err, "%s: not well-formed XML", what);
        }
        if (doc->intSubset || doc->extSubset) {
                xmlFreeDoc(doc);
                return vh_fail_input(err, "%s: DOCTYPE and entity declarations are not accepted", what);
        }
        if (!xmlDocGetRootElement(doc)) {
                xmlFreeDoc(doc);
                return vh_fail_input(err, "%s: no root element", what);
        }
        *ret = doc;
        return 0;
}

int vh_xml_parse_file(const char *path, xmlDocPtr *ret, vh_error **err)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = vh_read_file(path, VH_XML_MAX, &buf, &len, err);
        if (r < 0)
                return r;
        return vh_xml_parse(buf, len, path, ret, err);
}

static bool is_element(const xmlNode *n, const char *name)
{
        return n->type == XML_ELEMENT_NODE && (!name || strcmp((const char *)n->name, name) == 0);
}

xmlNodePtr vh_xml_next(const xmlNode *prev, const char *name)
{
        for (xmlNodePtr n = prev->next; n; n = n->next)
                if (is_element(n, name))
                        return n;
        return NULL;
}

xmlNodePtr vh_xml_child(const xmlNode *parent, const char *name)
{
        if (!parent)
                return NULL;
        for (xmlNodePtr n = parent->children; n; n = n->next)
                if (is_element(n, name))
                        return n;
        return NULL;
}

xmlNodePtr vh_xml_first_element(const xmlNode *parent)
{
        return vh_xml_child(parent, NULL);
}

xmlNodePtr vh_xml_next_element(const xmlNode *prev)
{
        return vh_xml_next(prev, NULL);
}

static const xmlAttr *find_attr(const xmlNode *node, const char *name)
{
        for (const xmlAttr *a = node->properties; a; a = a->next)
                if (!a->ns && strcmp((const char *)a->name, name) == 0)
                        return a;
        return NULL;
}

static const char *attr_text(const xmlAttr *a)
{
        /* Without entity expansion an attribute value is one text node. */
        if (a && a->children && a->children->type == XML_TEXT_NODE && !a->children->next)
                return (const char *)a->children->content;
        return NULL;
}

char *vh_xml_prop(const xmlNode *node, const char *name)
{
        const xmlAttr *a = find_attr(node, name);
        if (!a)
                return NULL;
        const char *t = attr_text(a);
        if (t)
                return strdup(t);
        if (!a->children)
                return strdup("");
        xmlChar *v = xmlNodeListGetString(node->doc, a->children, 1);
        char *s = v ? strdup((const char *)v) : NULL;
        xmlFree(v);
        return s;
}

bool vh_xml_prop_is(const xmlNode *node, const char *name, const char *value)
{
        const xmlAttr *a = find_attr(node, name);
        const char *t = attr_text(a);
        if (t)
                return strcmp(t, value) == 0;
        if (!a)
                return false;
        _cleanup_free_ char *s = vh_xml_prop(node, name);
        return streq(s, value);
}

char *vh_xml_text(const xmlNode *node)
{
        xmlChar *v = xmlNodeGetContent(node);
        char *s = strdup(v ? (const char *)v : "");
        xmlFree(v);
        return s;
}

char *vh_xml_child_text(const xmlNode *parent, const char *name)
{
        xmlNodePtr c = vh_xml_child(parent, name);
        return c ? vh_xml_text(c) : NULL;
}

char *vh_xml_dump_node(xmlNodePtr node)
{
        xmlBufferPtr buf = xmlBufferCreate();
        if (!buf)
                return NULL;
        char *s = NULL;
        if (xmlNodeDump(buf, node->doc, node, 0, 0) >= 0)
                s = strdup((const char *)xmlBufferContent(buf));
        xmlBufferFree(buf);
        return s;
}
