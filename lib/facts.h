/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * facts.h — the host facts the patch rules and the prepare-time checks
 * read, gathered once per call into one structure, so that a rule or a
 * check is a pure function of (domain, policy, facts): the same facts give
 * the same XML and the same findings on any host.
 *
 * vh_facts_gather() reads the host (every path through vh_path(), so a
 * test's VMHOOKS_ROOT is the host) for the parts asked for, one bit each:
 * the hook asks only for what the VM's checks and rules need
 * (vh_facts_needed), `vmhooks facts` for all of them.  A part that was not
 * gathered is not "empty": `parts` says which ones are known, and a rule
 * that needs one that is not says so instead of guessing.
 *
 * vh_facts_format() writes them in the project's line records (lib/kv.h),
 * vh_facts_load() reads that text back, strictly: an unknown record or
 * field, a missing field, a bad number or CPU list, a record of a part the
 * header does not list, or a part given twice is one line naming the file,
 * the line and what is expected.
 *
 *   vmhooks-facts 1 parts=cpus,irqs,cgroup,numa,hugepages,pci,block,files,swtpm
 *   arch name=x86_64
 *   cpus online=0-1 present=0-1 isolated= nohz_full=
 *   irq 24
 *   cgroup layout=hybrid systemd=0
 *   node 0 cpus=0-1 memory_kib=6514424
 *   hugepages default_kib=2048
 *   pool 2048 nr=0 free=0 resv=0 surplus=0 overcommit=0
 *   nodepool 2048 node=0 nr=0 free=0 surplus=0
 *   iommu groups=0 irq_remapping=no allow_unsafe_interrupts=0
 *   pci 0000:00:01.0 vendor=0x8086 device=0x7000 class=0x060100 driver=ata_piix iommu_group=-
 *   block sda partition=0
 *   block sda1 partition=1 parent=sda
 *   block dm-0 partition=0 dm=1 dm_uuid=LVM-... dm_name=vg-lv
 *   link /dev/sda name=sda
 *   link /dev/vg/lv name=dm-0
 *   file /usr/libexec/vmhooks/qemu-kvm exec=1
 *   swtpm swtpm=/usr/bin/swtpm swtpm_setup=/usr/bin/swtpm_setup user=tss uid=105 from_conf=0 unknown=0
 *         localca_errno=0 localca_mode=040750 localca_uid=105           (one line)
 */
#ifndef VH_FACTS_H
#define VH_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpuset.h"
#include "error.h"
#include "util.h"

/* The parts, one bit each (vh_facts_gather's `what`, vh_facts.parts). */
enum {
        VH_FACTS_CPUS = 1u << 0,        /* online, present, isolated, nohz_full; the host's arch */
        VH_FACTS_IRQS = 1u << 1,        /* the IRQ numbers of /proc/irq */
        VH_FACTS_CGROUP = 1u << 2,      /* cgroup v2 / v1 / hybrid; systemd as PID 1 */
        VH_FACTS_NUMA = 1u << 3,        /* NUMA nodes: CPUs and memory */
        VH_FACTS_HUGEPAGES = 1u << 4,   /* the default size; every pool, whole and per node */
        VH_FACTS_PCI = 1u << 5,         /* PCI devices; IOMMU groups, interrupt remapping */
        VH_FACTS_BLOCK = 1u << 6,       /* block devices (partition, device-mapper) and the /dev links to them */
        VH_FACTS_FILES = 1u << 7,       /* the programs the rules and checks look for (wrapper, swtpm) */
        VH_FACTS_SWTPM = 1u << 8,       /* swtpm, swtpm_setup, qemu.conf's swtpm_user, /var/lib/swtpm-localca */
        VH_FACTS_ALL = (1u << 9) - 1,
};

#define VH_FACTS_MAX_ITEMS 65536u       /* IRQs, nodes, pools, devices, links, each */

typedef enum vh_cgroup_layout {
        VH_CGROUP_NONE = 0,     /* nothing mounted at /sys/fs/cgroup */
        VH_CGROUP_V1,
        VH_CGROUP_V2,           /* unified */
        VH_CGROUP_HYBRID,       /* v1 controllers with the unified hierarchy at /sys/fs/cgroup/unified */
} vh_cgroup_layout;

typedef enum vh_tristate {
        VH_UNKNOWN = 0,
        VH_NO,
        VH_YES,
} vh_tristate;

typedef struct vh_facts_node {
        unsigned id;
        vh_cpuset cpus;
        uint64_t memory_kib;    /* MemTotal of the node */
} vh_facts_node;

/* A hugepage pool: /sys/kernel/mm/hugepages/hugepages-NkB (node < 0) or a NUMA node's. */
typedef struct vh_facts_pool {
        uint64_t size_kib;
        int node;               /* -1: the whole pool */
        uint64_t nr, free, resv, surplus, overcommit;   /* resv, overcommit: whole pools only */
} vh_facts_pool;

typedef struct vh_facts_pci {
        char bdf[13];           /* 0000:81:00.1 */
        bool has_ids;           /* vendor, device and class were readable */
        uint32_t vendor, device, class_;
        char *driver;           /* NULL: none bound */
        int iommu_group;        /* -1: none */
} vh_facts_pci;

typedef struct vh_facts_block {
        char *name;             /* sda, sda1, dm-3, nvme0n1p2 */
        unsigned partition;     /* 0: not a partition */
        char *parent;           /* the disk of a partition, or NULL */
        bool dm;                /* a device-mapper device */
        char *dm_uuid, *dm_name;
} vh_facts_block;

/* A path under /dev that resolves (symlinks) to block device `name`. */
typedef struct vh_facts_link {
        char *path;
        char *name;
} vh_facts_link;

/* A file the rules and checks look for, and whether it is there (executable). */
typedef struct vh_facts_file {
        char *path;
        bool exec;
} vh_facts_file;

/* What the vTPM check needs: libvirt runs swtpm_setup as swtpm_user, which must own swtpm-localca. */
typedef struct vh_facts_swtpm {
        char *swtpm, *swtpm_setup;      /* where found (/usr/bin/swtpm), or NULL */
        char *user;                     /* qemu.conf's swtpm_user, or libvirt's default; NULL: see user_error */
        char *user_error;               /* qemu.conf could not be read or parsed: why */
        unsigned uid;
        bool from_conf;                 /* set in qemu.conf */
        bool unknown;                   /* the name is no user of this host */
        int localca_errno;              /* stat() of /var/lib/swtpm-localca failed with it; 0: mode and owner below */
        unsigned localca_mode, localca_uid;
} vh_facts_swtpm;

typedef struct vh_facts {
        unsigned parts;         /* VH_FACTS_*: what is known */
        /* cpus */
        char *arch;             /* libvirt's name: x86_64, aarch64 */
        vh_cpuset online, present, isolated, nohz_full;
        /* irqs */
        unsigned *irqs;
        size_t n_irqs;
        /* cgroup */
        vh_cgroup_layout cgroup;
        bool systemd;           /* /run/systemd/system exists: systemd is PID 1 */
        /* numa */
        vh_facts_node *nodes;
        size_t n_nodes;
        /* hugepages */
        uint64_t default_hugepage_kib;  /* 0: /proc/meminfo has no Hugepagesize */
        vh_facts_pool *pools;
        size_t n_pools;
        /* pci */
        size_t iommu_groups;
        vh_tristate irq_remapping;      /* an IR- chip in /proc/interrupts; UNKNOWN when unreadable */
        bool allow_unsafe_interrupts;   /* vfio_iommu_type1.allow_unsafe_interrupts=1 */
        vh_facts_pci *pci;
        size_t n_pci;
        /* block */
        vh_facts_block *blocks;
        size_t n_blocks;
        vh_facts_link *links;
        size_t n_links;
        /* files */
        vh_facts_file *files;
        size_t n_files;
        /* swtpm */
        vh_facts_swtpm swtpm;
} vh_facts;

void vh_facts_done(vh_facts *f);
#define _cleanup_facts_ __attribute__((cleanup(vh_facts_done)))

/*
 * Read the parts in `what` from the host into *f (zeroed by the caller, or
 * holding other parts: those are kept).  A fact the host does not have
 * (no nohz_full, no NUMA directory, no hugepage pool) is a fact, not an
 * error; fails on allocation failure and when the host's online CPUs
 * cannot be read (*err names the file): the other parts asked for are
 * still gathered then, and f->parts says which are known.
 */
int vh_facts_gather(vh_facts *f, unsigned what, vh_error **err);

/* Text for a file (the format above); *ret malloc'd. */
int vh_facts_format(const vh_facts *f, char **ret, vh_error **err);

/* Parse that text; `what` names it in errors ("facts file F").  *ret untouched on failure. */
int vh_facts_parse(const char *text, size_t len, const char *what, vh_facts *ret, vh_error **err);

/* Read and parse file `path` (not below the root: a file the user names). */
int vh_facts_load(const char *path, vh_facts *ret, vh_error **err);

/* The part names ("cpus", "irqs", ...), for messages: "cpus,hugepages" (malloc'd). */
char *vh_facts_parts_text(unsigned parts);

/* ---- lookups for the rules and checks ---- */

/* The pool of `size_kib` (node -1: the whole pool), or NULL when the host has none. */
const vh_facts_pool *vh_facts_pool_find(const vh_facts *f, uint64_t size_kib, int node);
const vh_facts_pci *vh_facts_pci_find(const vh_facts *f, const char *bdf);
const vh_facts_block *vh_facts_block_find(const vh_facts *f, const char *name);
/* The kernel name of the block device a /dev path resolves to (through links), or NULL when none. */
const char *vh_facts_block_resolve(const vh_facts *f, const char *dev_path);
/* The file `path` (one of VH_FACTS_FILES_LIST), or NULL when not gathered. */
const vh_facts_file *vh_facts_file_find(const vh_facts *f, const char *path);
/* Is `path` there and executable?  false when unknown. */
bool vh_facts_file_exec(const vh_facts *f, const char *path);

const char *vh_cgroup_layout_name(vh_cgroup_layout l);  /* "none", "v1", "v2", "hybrid" */

#endif
