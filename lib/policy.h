/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * policy.h — the vmhooks policy vocabulary (see etc/policy.rng and
 * vmhooks-policy(5)).  Host defaults come from /etc/vmhooks/policy.xml; a
 * VM's <metadata> may hold the same elements, each overriding the host's
 * element of the same name.  Any element may say enabled="no".
 */
#ifndef VH_POLICY_H
#define VH_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "cpuset.h"
#include "domain.h"
#include "error.h"
#include "util.h"

typedef enum vh_policy_elem {
        VH_P_THP,
        VH_P_HALT_POLL,
        VH_P_KWORKERS,
        VH_P_ISOLATE,
        VH_P_SVIRT,
        VH_P_MSIX,
        VH_P_IOTHREADS,
        VH_P_HUGEPAGES,
        VH_P_DEDICATED_HINT,
        VH_P_PVSPINLOCK,
        VH_P_VTPM,
        VH_P_DISK_IO,
        VH_P_GUEST_AGENT,
        VH_P_ON_ERROR,
        VH_P_WRAPPER,
        VH_P_HUGEPOOL,          /* <hugepage-pool>: size the hugepage pools just in time (lib/hugepool.h) */
        VH_P_COUNT
} vh_policy_elem;

typedef enum vh_thp_mode {
        VH_THP_NONE = 0,        /* no demand */
        VH_THP_AUTO,
        VH_THP_MADVISE,
        VH_THP_ALWAYS,
        VH_THP_NEVER,           /* order matters: never > always > madvise */
} vh_thp_mode;

/* THP defrag, ordered by precedence: the fewest allocation stalls wins (never > defer > ... > always). */
typedef enum vh_thp_defrag {
        VH_DEFRAG_NONE = 0,     /* no demand */
        VH_DEFRAG_ALWAYS,
        VH_DEFRAG_MADVISE,
        VH_DEFRAG_DEFER_MADVISE,
        VH_DEFRAG_DEFER,
        VH_DEFRAG_NEVER,
} vh_thp_defrag;

/*
 * What <isolate> keeps off the VM's CPUs (bits), and which CPUs those are:
 * the vCPUs' (vcpupin, <vcpu cpuset>), every pinned thread's (vCPUs,
 * IOThreads, emulator), or a list.
 */
#define VH_ISO_WQ 1u            /* unbound and per-queue workqueues (kworkers) */
#define VH_ISO_IRQS 2u          /* IRQ affinity, and irqbalance's banned CPUs */
#define VH_ISO_IRQS_FOLLOW 4u   /* ... the IRQs of the VM's own host devices follow the VM's CPUs */
#define VH_ISO_TASKS 8u         /* host tasks: AllowedCPUs of system.slice, user.slice, init.scope */
#define VH_ISO_ALL (VH_ISO_WQ | VH_ISO_IRQS | VH_ISO_TASKS)
typedef enum vh_isolate_cpus { VH_ISO_CPUS_VCPUS = 0, VH_ISO_CPUS_PINNED, VH_ISO_CPUS_LIST } vh_isolate_cpus;

typedef enum vh_svirt_mode { VH_SVIRT_OFF = 0, VH_SVIRT_WARN, VH_SVIRT_ENFORCE } vh_svirt_mode;
typedef enum vh_on_error { VH_ON_ERROR_CONTINUE = 0, VH_ON_ERROR_REFUSE } vh_on_error;

typedef struct vh_policy {
        unsigned present;       /* bit per vh_policy_elem: element given (on or off) */
        unsigned enabled;       /* bit per vh_policy_elem: given and not enabled="no" */
        unsigned from_vm;       /* bit per vh_policy_elem: given by the VM's metadata (else by the host file) */
        long line[VH_P_COUNT];  /* where each given element is: the file's line, or for metadata the line
                                   within its <policy> element */

        vh_thp_mode thp;        /* VH_THP_NONE when <thp> gives only defrag */
        vh_thp_defrag thp_defrag;
        uint32_t halt_poll_ns;
        bool kworkers_isolate;
        bool has_kworkers_cpus;
        vh_cpuset kworkers_cpus;
        unsigned isolate_from;  /* <isolate>: VH_ISO_* bits of the sources kept off the VM's CPUs */
        vh_isolate_cpus isolate_cpus_from;
        vh_cpuset isolate_cpus; /* VH_ISO_CPUS_LIST */
        vh_svirt_mode svirt;
        char *msix_bar;         /* "bar2" */
        char *msix_devices;     /* "nvme", "quirks", "all" or a list */
        bool iothreads_auto;
        unsigned iothreads_count;
        bool has_iothreads_cpuset;
        vh_cpuset iothreads_cpuset;
        uint64_t hugepages_kib;
        char *vtpm_version;
        char *disk_cache, *disk_io;
        char *guest_agent_block;
        vh_on_error on_error;
        char *wrapper_emulator;
        bool hugepool_allocate;         /* <hugepage-pool allocate="yes"> (the default) */
        bool hugepool_compact;          /* compact="yes" (the default) */
        bool hugepool_drop_caches;      /* drop-caches="yes" (default no) */
        uint64_t hugepool_margin_kib;   /* margin=: memory left available after allocating */
} vh_policy;

/* <hugepage-pool> without margin=: this much memory must stay available (MemAvailable) after allocating. */
#define VH_HUGEPOOL_DEFAULT_MARGIN_KIB (512ull * 1024)

static inline bool vh_policy_on(const vh_policy *p, vh_policy_elem e)
{
        return (p->enabled >> e) & 1;
}

/*
 * What a policy cpulist must mean beyond its syntax (ranges that go
 * upwards, at least one CPU): the one check the schema cannot make.
 */
#define VH_POLICY_CPULIST_SEMANTICS "a cpulist whose ranges go upwards and that names at least one CPU"

const char *vh_policy_elem_name(vh_policy_elem e);
const char *vh_thp_mode_name(vh_thp_mode m);
/* The kernel's word for a defrag demand ("defer+madvise"). */
const char *vh_thp_defrag_name(vh_thp_defrag d);

void vh_policy_done(vh_policy *p);
#define _cleanup_policy_ __attribute__((cleanup(vh_policy_done)))

/*
 * Apply the elements of <policy> in `root` on top of `p`: each element
 * given replaces that element of `p`.  The typed parser is strict (unknown
 * elements and attributes are errors) and is held equal to etc/policy.rng
 * by the unit tests; the RelaxNG check itself (vh_policy_validate_schema)
 * costs 3.3M instructions, half a hook call, so the hook does not run it.  `where` names the source in errors
 * ("/etc/vmhooks/policy.xml", "metadata of VM x").  `host` allows the
 * host-only elements.  On error, `p` is left unchanged.
 */
int vh_policy_apply(vh_policy *p, xmlNodePtr root, const char *where, bool host, vh_error **err);

/* Load the host policy file; a missing file is an empty policy. */
int vh_policy_load_host(vh_policy *p, vh_error **err);

/* Validate `root` against the built-in copy of etc/policy.rng. */
int vh_policy_validate_schema(xmlNodePtr root, const char *where, vh_error **err);

/*
 * The effective policy of a VM: the host file, then the VM's metadata on
 * top.  A bad host file or bad metadata is reported in *host_err / *vm_err
 * and left out (the other source still applies); the function itself only
 * fails on allocation failure.
 */
int vh_policy_effective(const vh_domain *dom, vh_policy *ret, vh_error **host_err, vh_error **vm_err);

/* One line listing the enabled elements ("thp never, halt-poll 400000, ..."). */
char *vh_policy_describe(const vh_policy *p);

/* One element's value as vh_policy_describe words it ("never", "isolate=yes cpus=2-5", "off", "not set"). */
int vh_policy_describe_elem(const vh_policy *p, vh_policy_elem e, vh_buf *b);

#endif
