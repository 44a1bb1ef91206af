/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * msix.h — MSI-X relocation (vfio-pci's x-msix-relocation): which
 * passed-through PCI devices get it, and the per-VM plan that carries the
 * decision from the hook to the wrapper.
 *
 * Which devices: <msix-relocation bar="bar2" devices="..."/>, devices being
 * any of
 *   nvme         PCI class 0x0108xx (/sys/bus/pci/devices/BDF/class)
 *   quirks       the built-in table of controllers known to need it (below)
 *   all          every PCI hostdev
 *   0000:81:00.1 / 81:00.1 / 126f:2262   a PCI address or a vendor:device id
 *
 * The plan.  The hook writes it at `start begin` (aliases are assigned
 * then), from the VM's effective policy; the wrapper, which runs as the
 * QEMU user and cannot read /run/vmhooks (0700), reads it from
 * /run/vmhooks-wrapper (0755, root's; files 0644), one file per VM named
 * like its log (vh_log_file_name) with ".plan" for ".log".  Text, one record
 * per line, fields key=value with %XX escapes, as in /run/vmhooks/state:
 *
 *   vmhooks-wrapper-plan 1
 *   vm uuid=4dea22b3-1d52-d8f3-2516-782e98ab3fa0 name=db-01
 *   msix enabled=1 bar=bar2 devices=nvme
 *   relocate alias=hostdev0 bdf=0000:81:00.1 bar=bar2 why=NVMe%20126f:2262
 *
 * A plan is written even when the VM's policy has msix-relocation off
 * ("msix enabled=0"), so that the wrapper does nothing for that VM.  The
 * wrapper ignores a plan whose UUID differs from its -uuid and then falls
 * back on the host policy, looking at every vfio-pci device of the command
 * line.
 *
 * lib/msix.c is linked into the hook, which does not link json-c: it uses
 * the types of argv.h but no function of argv.c.
 */
#ifndef VH_MSIX_H
#define VH_MSIX_H

#include <stdbool.h>
#include <stddef.h>

#include "argv.h"
#include "domain.h"
#include "error.h"
#include "facts.h"
#include "policy.h"
#include "util.h"

#define VH_WRAPPER_DIR "/run/vmhooks-wrapper"
#define VH_MSIX_PLAN_MAX_BYTES (1u << 20)
#define VH_MSIX_PLAN_MAX_PICKS 4096u

/* One device the plan relocates. */
typedef struct vh_msix_pick {
        char *alias;    /* hostdev0, ua-nvme1 */
        char *bdf;      /* 0000:81:00.1 */
        char *bar;      /* bar2 */
        char *why;      /* "NVMe 126f:2262", "quirk: ADATA SX8200 (SM2262)", "listed", "all" */
} vh_msix_pick;

typedef struct vh_msix_plan {
        char *uuid, *name;
        bool enabled;           /* the VM's policy has <msix-relocation> on */
        char *bar, *devices;    /* the policy, for the reader (NULL when off) */
        vh_msix_pick *picks;
        size_t n_picks;
} vh_msix_plan;

void vh_msix_plan_done(vh_msix_plan *p);
#define _cleanup_msix_plan_ __attribute__((cleanup(vh_msix_plan_done)))

/* "0000:81:00.1" from "0000:81:00.1" or "81:00.1", any case; -EINVAL otherwise. */
int vh_pci_bdf_normalize(const char *s, char ret[static 13]);

/* The built-in table: a controller known to need relocation, or NULL. */
const char *vh_msix_quirk(unsigned vendor, unsigned device);

/*
 * Does policy `p` select host PCI device `bdf`?  1: yes, *ret_why says why
 * ("NVMe 126f:2262", "quirk: ...", "listed", "all"); 0: no, *ret_why says
 * why not.  Reads vendor, device and class from sysfs only when the answer
 * depends on them; fails when they cannot be read.  With host facts `f`
 * (facts.h; NULL: read sysfs) the ids come from f's PCI part instead: the
 * patch rule reads the host only through its facts.
 */
int vh_msix_select(const vh_policy *p, const char *bdf, const vh_facts *f, char **ret_why, vh_error **err);

/*
 * The plan for a VM at `start begin`: one pick per PCI hostdev (with an
 * alias) that `p` selects.  `lines` receives one "\n"-terminated line per
 * hostdev for the VM's log (selected, not selected and why, unreadable).
 */
int vh_msix_plan_make(const vh_domain *dom, const vh_policy *p, vh_msix_plan *ret, vh_buf *lines, vh_error **err);

int vh_msix_plan_format(const vh_msix_plan *plan, char **ret, vh_error **err);
int vh_msix_plan_parse(const char *text, vh_msix_plan *ret, vh_error **err);

/* The plan file of VM `name` (below VMHOOKS_ROOT); NULL on allocation failure. */
char *vh_msix_plan_path(const char *name);

/*
 * The hook, at `start begin`: make the plan (vh_msix_plan_make) and write
 * it atomically, 0644 in a 0755 directory.  `lines` as above.
 */
int vh_msix_plan_write(const vh_domain *dom, const vh_policy *p, vh_buf *lines, vh_error **err);

/*
 * The same, the plan file labelled `selinux_ctx` (NULL: not labelled) before
 * its rename: on SELinux hosts the guest's own MCS categories
 * (vh_svirt_plan_context), so that no other guest's QEMU can read it.
 */
int vh_msix_plan_write_labeled(const vh_domain *dom, const vh_policy *p, const char *selinux_ctx, vh_buf *lines,
                               vh_error **err);

/* The hook, at `stopped end` and `release end`: remove the plan; a missing one is fine. */
int vh_msix_plan_remove(const char *name, vh_error **err);

/*
 * The wrapper: the plan of VM `name` with UUID `uuid`.  -ENOENT when there
 * is none, -ESTALE when it belongs to another UUID (err says so).
 */
int vh_msix_plan_load(const char *name, const char *uuid, vh_msix_plan *ret, vh_error **err);

/*
 * The wrapper: the devices of command line `q` that get x-msix-relocation.
 * From `plan` when non-NULL (its alias and host must both match a vfio-pci
 * -device), else from policy `p` (NULL: none) for every vfio-pci -device
 * with an id and a host.  `notes` receives a line per planned device that
 * cannot be matched, or whose sysfs cannot be read.
 */
int vh_msix_targets(const vh_qargv *q, const vh_msix_plan *plan, const vh_policy *p, vh_qrelocate **ret,
                    size_t *ret_n, vh_buf *notes, vh_error **err);

#endif
