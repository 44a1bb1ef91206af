/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * disk-io — <disk-io cache="none" io="native"/>
 *
 * Sets cache= and io= on the <driver> of every disk that is a raw block
 * device: <disk type='block' device='disk|lun'> whose format is raw (or
 * not given: libvirt then writes type='raw').  Every other disk is left
 * alone with the reason (file, network or pool volume, another format, a
 * CD-ROM).  io='native' needs O_DIRECT (cache none or directsync): on a
 * disk whose cache would stay another mode, io is left alone and the
 * rule says why, instead of writing a definition QEMU refuses.
 */
#include "rule.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xml.h"

static const char *source_of(const xmlNode *disk, char **owned)
{
        xmlNodePtr src = vh_pdom_child(disk, "source");
        static const char *const keys[] = { "dev", "file", "name", "volume" };
        for (size_t i = 0; src && i < ELEMENTSOF(keys); i++)
                if ((*owned = vh_xml_prop(src, keys[i])))
                        return *owned;
        return "no source";
}

/* NULL when the disk is a raw block device, else why not (static or in *owned). */
static const char *why_not(const xmlNode *disk, char **owned)
{
        _cleanup_free_ char *device = vh_xml_prop(disk, "device");
        _cleanup_free_ char *type = vh_xml_prop(disk, "type");
        xmlNodePtr drv = vh_pdom_child(disk, "driver");
        _cleanup_free_ char *name = drv ? vh_xml_prop(drv, "name") : NULL;
        _cleanup_free_ char *format = drv ? vh_xml_prop(drv, "type") : NULL;
        int r = 0;
        if (device && !streq(device, "disk") && !streq(device, "lun"))
                r = asprintf(owned, "a %s, not a disk", device);
        else if (!streq(type, "block"))
                r = asprintf(owned, "%s-backed (type='%s'); cache and io are set on raw block devices only",
                             type ? type : "file", type ? type : "file");
        else if (name && !streq(name, "qemu"))
                r = asprintf(owned, "driver %s, not qemu", name);
        else if (format && !streq(format, "raw"))
                r = asprintf(owned, "format %s, not raw", format);
        else
                return NULL;
        return r < 0 ? "?" : *owned;
}

static bool direct(const char *cache)
{
        return streq(cache, "none") || streq(cache, "directsync");
}

static int one_disk(vh_patch_ctx *c, xmlNodePtr disk, unsigned pos, vh_error **err)
{
        _cleanup_free_ char *name = vh_pdom_disk_name(disk, pos);
        _cleanup_free_ char *src_owned = NULL, *why_owned = NULL;
        const char *src = source_of(disk, &src_owned);
        if (!name)
                return vh_fail(err, ENOMEM, "disk-io");
        const char *why = why_not(disk, &why_owned);
        if (why)
                return vh_rule_say(c, err, VH_PATCH_SKIPPED, "disk %s (%s): %s", name, src, why);

        xmlNodePtr drv = vh_pdom_child(disk, "driver");
        _cleanup_free_ char *cache = drv ? vh_xml_prop(drv, "cache") : NULL;
        _cleanup_free_ char *io = drv ? vh_xml_prop(drv, "io") : NULL;
        const char *want_cache = c->pol->disk_cache ? c->pol->disk_cache : cache;
        const char *want_io = c->pol->disk_io;
        int r;
        if (streq(want_io, "native") && !direct(want_cache)) {
                r = vh_rule_say(c, err, VH_PATCH_SKIPPED,
                                "disk %s (%s): io='native' needs cache='none' or 'directsync' (cache is %s); io left "
                                "alone",
                                name, src, want_cache ? want_cache : "not set: writeback");
                if (r < 0)
                        return r;
                want_io = NULL;
        }
        bool set_cache = want_cache && !streq(want_cache, cache);
        bool set_io = want_io && !streq(want_io, io);
        if (!set_cache && !set_io) {
                if (!want_cache && !want_io)
                        return 0;
                return vh_rule_say(c, err, VH_PATCH_UNCHANGED, "disk %s (%s):%s%s%s%s", name, src,
                                   want_cache ? " cache=" : "", want_cache ? want_cache : "", want_io ? " io=" : "",
                                   want_io ? want_io : "");
        }
        if (!drv && !(drv = vh_pdom_ensure(disk, "driver", vh_order_disk, NULL)))
                return vh_fail(err, ENOMEM, "disk-io");
        if ((set_cache && vh_pdom_set(drv, "cache", want_cache) < 0) || (set_io && vh_pdom_set(drv, "io", want_io) < 0))
                return vh_fail(err, ENOMEM, "disk-io");
        _cleanup_free_ char *a = NULL, *b = NULL;
        if (set_cache && asprintf(&a, "cache %s -> %s", cache ? cache : "(unset)", want_cache) < 0)
                return vh_fail(err, ENOMEM, "disk-io");
        if (set_io && asprintf(&b, "io %s -> %s", io ? io : "(unset)", want_io) < 0)
                return vh_fail(err, ENOMEM, "disk-io");
        return vh_rule_say(c, err, VH_PATCH_CHANGED, "disk %s (%s): %s%s%s", name, src, a ? a : "", a && b ? ", " : "",
                           b ? b : "");
}

int vh_rule_disk_io(vh_patch_ctx *c, vh_error **err)
{
        xmlNodePtr devices = vh_pdom_child(c->root, "devices");
        unsigned pos = 0;
        vh_pdom_foreach(d, devices, "disk") {
                int r = one_disk(c, d, ++pos, err);
                if (r < 0)
                        return r;
        }
        if (pos == 0)
                return vh_rule_say(c, err, VH_PATCH_SKIPPED, "the VM has no disk");
        return 0;
}
