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
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "xml.h"

static int check(vh_patch_ctx *c, const char *disk, const char *dev, vh_error **err)
{
        if (!(c->facts->parts & VH_FACTS_BLOCK))
                return vh_rule_say(c, err, VH_PATCH_WARNING, "disk %s: cannot check %s: the host facts have no block devices",
                                   disk, dev);
        const char *name = vh_facts_block_resolve(c->facts, dev);
        if (!name)
                return vh_rule_say(c, err, VH_PATCH_WARNING,
                                   "disk %s: cannot check %s: no block device of this host has that path", disk, dev);
        const vh_facts_block *b = vh_facts_block_find(c->facts, name);
        if (!b)
                return vh_rule_say(c, err, VH_PATCH_WARNING,
                                   "disk %s: %s (%s) is not a block device the kernel knows (no /sys/class/block/%s)",
                                   disk, dev, name, name);
        if (b->partition) {
                return vh_rule_say(c, err, VH_PATCH_WARNING,
                                   "disk %s: %s is partition %u of %s, not a whole disk: physical RDM (device='lun') "
                                   "needs the whole disk (/dev/%s), or use device='disk' (virtual RDM)",
                                   disk, dev, b->partition, b->parent ? b->parent : "a disk",
                                   b->parent ? b->parent : "...");
        }
        if (b->dm) {
                const char *u = b->dm_uuid ? b->dm_uuid : "";
                const char *dmname = b->dm_name ? b->dm_name : name;
                if (startswith(u, "mpath-"))
                        return vh_rule_say(c, err, VH_PATCH_UNCHANGED, "disk %s: %s is a whole (multipath) disk (%s)", disk,
                                           dev, dmname);
                if (startswith(u, "LVM-"))
                        return vh_rule_say(c, err, VH_PATCH_WARNING,
                                           "disk %s: %s is an LVM logical volume (%s), not a whole disk: physical RDM "
                                           "(device='lun') needs a whole disk; use device='disk' (virtual RDM) for a "
                                           "volume",
                                           disk, dev, dmname);
                if (startswith(u, "part"))
                        return vh_rule_say(c, err, VH_PATCH_WARNING,
                                           "disk %s: %s is a partition of a multipath disk (%s), not a whole disk: "
                                           "physical RDM (device='lun') needs the whole disk",
                                           disk, dev, dmname);
                return vh_rule_say(c, err, VH_PATCH_WARNING,
                                   "disk %s: %s is a device-mapper device (%s, uuid %s), not a whole disk: physical "
                                   "RDM (device='lun') needs a whole disk",
                                   disk, dev, dmname, *u ? u : "none");
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
