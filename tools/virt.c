/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "virt.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include <libvirt/virterror.h>

#include "domain.h"
#include "fileio.h"
#include "util.h"
#include "xml.h"

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

int vh_virt_load_domain_xml(const char *uri, const char *file, const char *ref, char **ret, size_t *ret_len, vh_error **err)
{
        if (file) {
                if (streq(file, "-"))
                        return vh_read_fd(STDIN_FILENO, VH_XML_MAX, ret, ret_len, err) < 0
                                       ? vh_error_wrap(err, "stdin")
                                       : 0;
                return vh_read_file(file, VH_XML_MAX, ret, ret_len, err);
        }
        _cleanup_conn_ virConnectPtr conn = NULL;
        _cleanup_virdomain_ virDomainPtr d = NULL;
        int r = vh_virt_open(uri, true, &conn, err);
        if (r < 0)
                return r;
        if ((r = vh_virt_domain(conn, ref, &d, err)) < 0)
                return r;
        /* the configuration the next start uses */
        if ((r = vh_virt_domain_xml(d, VIR_DOMAIN_XML_INACTIVE, ret, err)) < 0)
                return r;
        *ret_len = strlen(*ret);
        return 0;
}

int vh_virt_load_domain(const char *uri, const char *file, const char *ref, vh_domain **ret, vh_error **err)
{
        _cleanup_free_ char *xml = NULL;
        size_t len = 0;
        int r = vh_virt_load_domain_xml(uri, file, ref, &xml, &len, err);
        if (r < 0)
                return r;
        return vh_domain_parse(xml, len, file ? file : ref, ret, err);
}
