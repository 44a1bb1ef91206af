/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virt.h — the `vmhooks` command's libvirt connection.  libvirt's own
 * messages are kept as libvirt gives them (the error rule's context is
 * prepended), and libvirt never prints on its own.
 */
#ifndef VH_VIRT_H
#define VH_VIRT_H

#include <stdbool.h>
#include <stddef.h>

#include <libvirt/libvirt.h>

#include "cleanup.h"
#include "error.h"

VH_DEFINE_CLEANUP(virConnectPtr, virConnectClose)
VH_DEFINE_CLEANUP(virDomainPtr, virDomainFree)
#define _cleanup_conn_ _cleanup_(virConnectClosep)
#define _cleanup_virdomain_ _cleanup_(virDomainFreep)

/* Open `uri` (NULL: $LIBVIRT_DEFAULT_URI, else qemu:///system). */
int vh_virt_open(const char *uri, bool readonly, virConnectPtr *ret, vh_error **err);

/* A domain by name, UUID or ID. */
int vh_virt_domain(virConnectPtr conn, const char *ref, virDomainPtr *ret, vh_error **err);

/* A domain's XML (flags: VIR_DOMAIN_XML_INACTIVE, ...), malloc'd. */
int vh_virt_domain_xml(virDomainPtr dom, unsigned flags, char **ret, vh_error **err);

/*
 * The XML of a domain for the commands that take DOMAIN | --file FILE:
 * FILE ("-": stdin) when given, else the configuration of domain `ref`
 * (the one its next start uses) on `uri`.
 */
/* The same, parsed (errors name FILE or the domain). */
struct vh_domain;
int vh_virt_load_domain(const char *uri, const char *file, const char *ref, struct vh_domain **ret, vh_error **err);

int vh_virt_load_domain_xml(const char *uri, const char *file, const char *ref, char **ret, size_t *ret_len,
                            vh_error **err);

/* Fail with libvirt's last error message, prefixed with "what". */
int vh_virt_fail(vh_error **err, const char *what);

#endif
