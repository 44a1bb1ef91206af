/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "xml.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>
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

/* libxml2 2.12 made the structured error const. */
#if LIBXML_VERSION >= 21200
#define VH_XML_ERROR const xmlError
#else
#define VH_XML_ERROR xmlError
#endif

/*
 * The first error libxml2 reports, not its last: after a tag left open on
 * line 16 the last is "Premature end of data in tag policy line 12" at the
 * end of the file, the first "Opening and ending tag mismatch: thp line 16
 * and policy".
 */
typedef struct first_error {
        int line;
        int code;
        char *message;
} first_error;

static void keep_first(void *data, VH_XML_ERROR *e)
{
        xmlParserCtxtPtr ctxt = data;
        first_error *fe = ctxt ? ctxt->_private : NULL;
        if (!fe || fe->message || !e || !e->message || e->level < XML_ERR_ERROR)
                return;
        fe->message = strdup(e->message);
        if (fe->message)
                vh_rstrip(fe->message);
        fe->line = e->line;
        fe->code = e->code;
}

/*
 * "Opening and ending tag mismatch: thp line 16 and policy", "Premature end
 * of data in tag thp line 16": the element left open, the line of its start
 * tag, and (for a mismatch) the end tag found instead.
 */
static bool open_tag(const char *msg, char *name, size_t name_size, long *line, char *end, size_t end_size)
{
        static const char *const leads[] = { "Opening and ending tag mismatch: ", "Premature end of data in tag " };
        for (size_t i = 0; i < ELEMENTSOF(leads); i++) {
                size_t n = strlen(leads[i]);
                if (strncmp(msg, leads[i], n) != 0)
                        continue;
                const char *p = msg + n;
                size_t len = strcspn(p, " ");
                if (len == 0 || len >= name_size || strncmp(p + len, " line ", 6) != 0)
                        return false;
                const char *num = p + len + 6;
                size_t dl = strspn(num, "0123456789");
                char digits[16];
                uint64_t v;
                if (dl == 0 || dl >= sizeof(digits))
                        return false;
                memcpy(digits, num, dl);
                digits[dl] = '\0';
                if (vh_parse_u64(digits, INT32_MAX, &v) < 0)
                        return false;
                memcpy(name, p, len);
                name[len] = '\0';
                *line = (long)v;
                end[0] = '\0';
                const char *and = num + dl;
                if (i == 0 && strncmp(and, " and ", 5) == 0 && strlen(and + 5) < end_size)
                        strcpy(end, and + 5);
                return true;
        }
        return false;
}

static int parse_error(const char *what, const first_error *fe, const xmlError *last, vh_error **err)
{
        const char *msg = fe->message ? fe->message : last && last->message ? last->message : NULL;
        int line = fe->message ? fe->line : last ? last->line : 0;
        if (!msg)
                return vh_fail_input(err, "%s: not well-formed XML", what);
        _cleanup_free_ char *m = strdup(msg);
        if (!m)
                return vh_fail(err, ENOMEM, "%s", what);
        vh_rstrip(m);
        char name[128], end[128];
        long open_line;
        if (!open_tag(m, name, sizeof(name), &open_line, end, sizeof(end)))
                return vh_fail_input(err, "%s: line %d: %s", what, line, m);
        if (*end)
                return vh_fail_input(err, "%s: line %ld: <%s> is not closed before </%s> on line %d: expected "
                                     "<%s .../> or </%s>", what, open_line, name, end, line, name, name);
        return vh_fail_input(err, "%s: line %ld: <%s> is not closed: expected <%s .../> or </%s> before the end",
                             what, open_line, name, name, name);
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
        first_error fe = { 0 };
        ctxt->_private = &fe;
        ctxt->sax->serror = keep_first; /* called with ctxt->userData, the context itself */
        ctxt->userData = ctxt;
        /* No XML_PARSE_NOENT (would expand entities), no DTDLOAD/DTDATTR. */
        int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA | XML_PARSE_COMPACT;
        xmlDocPtr doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL, opts);
        if (!doc || !ctxt->wellFormed) {
                if (doc)
                        xmlFreeDoc(doc);
                int r = parse_error(what, &fe, xmlCtxtGetLastError(ctxt), err);
                free(fe.message);
                return r;
        }
        free(fe.message);
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
