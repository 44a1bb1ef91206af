/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * xml.h — libxml2, safely: no network, no DTD, no entity expansion, a size
 * limit, errors as one line ("WHAT: line N: message").  Small DOM helpers.
 */
#ifndef VH_XML_H
#define VH_XML_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "error.h"

#define VH_XML_MAX (64u << 20) /* bytes: a domain with 10,000 disks is ~5 MB */

VH_DEFINE_CLEANUP(xmlDocPtr, xmlFreeDoc)
#define _cleanup_xmldoc_ _cleanup_(xmlFreeDocp)

/*
 * Parse `len` bytes as XML.  `what` names the input in errors (a path,
 * "domain XML on stdin", "metadata of VM x").  Documents with a DOCTYPE
 * (and thus entity declarations) are rejected before libxml2 sees them.
 */
int vh_xml_parse(const char *buf, size_t len, const char *what, xmlDocPtr *ret, vh_error **err);

/* Read and parse a file (bounded by VH_XML_MAX). */
int vh_xml_parse_file(const char *path, xmlDocPtr *ret, vh_error **err);

/* Element children by local name (namespace ignored); NULL when none. */
xmlNodePtr vh_xml_child(const xmlNode *parent, const char *name);
xmlNodePtr vh_xml_next(const xmlNode *prev, const char *name);
#define vh_xml_foreach(child, parent, name) \
        for (xmlNodePtr child = vh_xml_child(parent, name); child; child = vh_xml_next(child, name))

/* Element children (any name). */
xmlNodePtr vh_xml_first_element(const xmlNode *parent);
xmlNodePtr vh_xml_next_element(const xmlNode *prev);

/* Attribute (no namespace) as a malloc'd string, NULL when absent. */
char *vh_xml_prop(const xmlNode *node, const char *name);
/* Attribute compared without allocating. */
bool vh_xml_prop_is(const xmlNode *node, const char *name, const char *value);
/* Text content as a malloc'd string ("" when empty); NULL on OOM. */
char *vh_xml_text(const xmlNode *node);
/* Text of the first child element `name`, or NULL. */
char *vh_xml_child_text(const xmlNode *parent, const char *name);

/* The element's name as written, e.g. "thp". */
static inline const char *vh_xml_name(const xmlNode *n)
{
        return (const char *)n->name;
}

/* Serialize a node (and its subtree) to a malloc'd string. */
char *vh_xml_dump_node(xmlNodePtr node);

#endif
