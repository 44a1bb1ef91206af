/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * rdm — physical raw device mapping (always checked; changes nothing)
 *
 * A <disk type='block' device='lun'> passes SCSI commands to the host
 * device, which only works for a whole disk: for a partition or a logical
 * volume the guest cannot identify the disk (and the kernel refuses SG_IO
 * on partitions).  The source is resolved (symlinks such as /dev/vg/lv ->
 * ../dm-3 or /dev/disk/by-id/... -> ../../sdc) to its kernel name, and
 * sysfs says what it is:
 *   /sys/class/block/NAME/partition   a partition (of the parent directory's disk)
 *   /sys/class/block/NAME/dm/uuid     LVM-...: a logical volume; mpath-...: a
 *                                     multipath disk (a whole disk); part*-...:
 *                                     a partition of one; anything else: not a disk
 * Findings are warnings: use the whole disk, or device='disk' (virtual RDM).
 */
#include "rule.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fileio.h"
#include "root.h"
#include "util.h"
#include "xml.h"

static char *base_name(const char *path)
{
        const char *s = strrchr(path, '/');
        return strdup(s ? s + 1 : path);
}

static bool sys_exists(const char *name, const char *rel)
{
        _cleanup_free_ char *p = vh_pathf("/sys/class/block/%s%s", name, rel);
        return p && access(p, F_OK) == 0;
}

static char *sys_line(const char *name, const char *rel)
{
        _cleanup_free_ char *p = vh_pathf("/sys/class/block/%s%s", name, rel);
        _cleanup_error_ vh_error *e = NULL;
        char *v = NULL;
        if (!p || vh_read_line(p, &v, &e) < 0)
                return NULL;
        return v;
}

/* The disk a partition belongs to: the parent directory of /sys/class/block/NAME's target. */
static char *parent_disk(const char *name)
{
        _cleanup_free_ char *p = vh_pathf("/sys/class/block/%s", name);
        _cleanup_free_ char *real = p ? realpath(p, NULL) : NULL;
        if (!real)
                return NULL;
        char *slash = strrchr(real, '/');
        if (!slash)
                return NULL;
        *slash = '\0';
        return base_name(real);
}

static int check(vh_patch_ctx *c, const char *disk, const char *dev, vh_error **err)
{
        _cleanup_free_ char *path = vh_path(dev);
        if (!path)
                return vh_fail(err, ENOMEM, "rdm");
        _cleanup_free_ char *real = realpath(path, NULL);
        if (!real)
                return vh_rule_say(c, err, VH_PATCH_WARNING, "disk %s: cannot check %s: %s", disk, dev, strerror(errno));
        _cleanup_free_ char *name = base_name(real);
        if (!name)
                return vh_fail(err, ENOMEM, "rdm");
        if (!sys_exists(name, ""))
                return vh_rule_say(c, err, VH_PATCH_WARNING,
                                   "disk %s: %s (%s) is not a block device the kernel knows (no /sys/class/block/%s)",
                                   disk, dev, name, name);
        if (sys_exists(name, "/partition")) {
                _cleanup_free_ char *num = sys_line(name, "/partition");
                _cleanup_free_ char *parent = parent_disk(name);
                return vh_rule_say(c, err, VH_PATCH_WARNING,
                                   "disk %s: %s is partition %s of %s, not a whole disk: physical RDM (device='lun') "
                                   "needs the whole disk (/dev/%s), or use device='disk' (virtual RDM)",
                                   disk, dev, num ? num : "?", parent ? parent : "a disk", parent ? parent : "...");
        }
        if (sys_exists(name, "/dm")) {
                _cleanup_free_ char *uuid = sys_line(name, "/dm/uuid");
                _cleanup_free_ char *dmname = sys_line(name, "/dm/name");
                const char *u = uuid ? uuid : "";
                if (startswith(u, "mpath-"))
                        return vh_rule_say(c, err, VH_PATCH_UNCHANGED, "disk %s: %s is a whole (multipath) disk (%s)", disk,
                                           dev, dmname ? dmname : name);
                if (startswith(u, "LVM-"))
                        return vh_rule_say(c, err, VH_PATCH_WARNING,
                                           "disk %s: %s is an LVM logical volume (%s), not a whole disk: physical RDM "
                                           "(device='lun') needs a whole disk; use device='disk' (virtual RDM) for a "
                                           "volume",
                                           disk, dev, dmname ? dmname : name);
                if (startswith(u, "part"))
                        return vh_rule_say(c, err, VH_PATCH_WARNING,
                                           "disk %s: %s is a partition of a multipath disk (%s), not a whole disk: "
                                           "physical RDM (device='lun') needs the whole disk",
                                           disk, dev, dmname ? dmname : name);
                return vh_rule_say(c, err, VH_PATCH_WARNING,
                                   "disk %s: %s is a device-mapper device (%s, uuid %s), not a whole disk: physical "
                                   "RDM (device='lun') needs a whole disk",
                                   disk, dev, dmname ? dmname : name, *u ? u : "none");
        }
        return vh_rule_say(c, err, VH_PATCH_UNCHANGED, "disk %s: %s is a whole disk (%s)", disk, dev, name);
}

int vh_rule_rdm(vh_patch_ctx *c, vh_error **err)
{
        xmlNodePtr devices = vh_pdom_child(c->root, "devices");
        unsigned pos = 0, luns = 0;
        vh_pdom_foreach(d, devices, "disk") {
                pos++;
                if (!vh_xml_prop_is(d, "device", "lun"))
                        continue;
                luns++;
                _cleanup_free_ char *name = vh_pdom_disk_name(d, pos);
                _cleanup_free_ char *type = vh_xml_prop(d, "type");
                xmlNodePtr src = vh_pdom_child(d, "source");
                _cleanup_free_ char *dev = src ? vh_xml_prop(src, "dev") : NULL;
                if (!name)
                        return vh_fail(err, ENOMEM, "rdm");
                int r;
                if (!streq(type, "block"))
                        r = vh_rule_say(c, err, VH_PATCH_SKIPPED, "disk %s: a LUN of type '%s': nothing to check on this host",
                                        name, type ? type : "file");
                else if (!dev || dev[0] != '/')
                        r = vh_rule_say(c, err, VH_PATCH_WARNING, "disk %s: device='lun' without <source dev='/dev/...'>", name);
                else
                        r = check(c, name, dev, err);
                if (r < 0)
                        return r;
        }
        if (luns == 0)
                return vh_rule_say(c, err, VH_PATCH_SKIPPED, "no <disk device='lun'> (physical raw device mapping)");
        return 0;
}
