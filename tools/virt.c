/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "virt.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

static void silence(void *data, virErrorPtr e)
{
        (void)data;
        (void)e; /* kept for virGetLastErrorMessage(); printed by main() */
}

int vh_virt_fail(vh_error **err, const char *what)
{
        const char *m = virGetLastErrorMessage();
        return vh_fail_input(err, "%s: %s", what, m && *m ? m : "libvirt failed without a message");
}

int vh_virt_open(const char *uri, bool readonly, virConnectPtr *ret, vh_error **err)
{
        /* vmhooks manages the system instance: qemu:///system unless told otherwise */
        if (!uri && !getenv("LIBVIRT_DEFAULT_URI"))
                uri = "qemu:///system";
        virSetErrorFunc(NULL, silence);
        virConnectPtr c = readonly ? virConnectOpenReadOnly(uri) : virConnectOpen(uri);
        if (!c)
                return vh_virt_fail(err, uri ? uri : "cannot connect to libvirt");
        *ret = c;
        return 0;
}

int vh_virt_domain(virConnectPtr conn, const char *ref, virDomainPtr *ret, vh_error **err)
{
        virDomainPtr d = virDomainLookupByName(conn, ref);
        if (!d && strlen(ref) == 36)
                d = virDomainLookupByUUIDString(conn, ref);
        if (!d) {
                char *end;
                errno = 0;
                long id = strtol(ref, &end, 10);
                if (!errno && *ref && !*end && id >= 0 && id <= INT32_MAX)
                        d = virDomainLookupByID(conn, (int)id);
        }
        if (!d)
                return vh_fail_input(err, "domain \"%s\": %s", ref,
                                     virGetLastErrorMessage() ? virGetLastErrorMessage() : "not found");
        *ret = d;
        return 0;
}

int vh_virt_domain_xml(virDomainPtr dom, unsigned flags, char **ret, vh_error **err)
{
        char *x = virDomainGetXMLDesc(dom, flags);
        if (!x)
                return vh_virt_fail(err, virDomainGetName(dom));
        *ret = x;
        return 0;
}
