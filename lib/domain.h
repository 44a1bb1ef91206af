/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * domain.h — the parts of a libvirt domain XML that vmhooks reasons about.
 * Parsed once per hook call from stdin; the document is kept so that the
 * policy in <metadata> (and, for `vmhooks patch`, the DOM) can be read.
 */
#ifndef VH_DOMAIN_H
#define VH_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "cpuset.h"
#include "error.h"

#define VH_POLICY_NS "urn:vmhooks:policy:1"

typedef struct vh_pin {
        unsigned id;            /* vCPU or IOThread number */
        vh_cpuset cpus;
} vh_pin;

typedef struct vh_hugepage {
        uint64_t size_kib;      /* 0: the host's default hugepage size */
        char *nodeset;          /* NULL: all guest NUMA nodes */
} vh_hugepage;

typedef struct vh_disk {
        char *type;             /* file, block, network, volume, ... */
        char *device;           /* disk, cdrom, lun, floppy */
        char *driver_name, *driver_type, *cache, *io;
        bool has_iothread;
        unsigned iothread;
        char *source;           /* file=, dev=, name= or volume= */
        char *target_dev, *target_bus;
        char *alias;
} vh_disk;

typedef struct vh_controller {
        char *type, *model, *alias;
        unsigned index;
        bool has_iothread;
} vh_controller;

/*
 * A host device passed through: a <hostdev>, or an <interface type='hostdev'>
 * (an SR-IOV VF as a NIC), which libvirt turns into the same vfio-pci
 * -device.  For an interface, mode is "subsystem" and type the <source>
 * <address type=...> ("pci"), so that every consumer treats both alike.
 */
typedef struct vh_hostdev {
        char *mode, *type;      /* subsystem / pci, usb, scsi, mdev ... */
        char *alias;
        bool interface;         /* from <interface type='hostdev'> */
        bool managed;
        bool has_pci_address;   /* source address of a PCI hostdev */
        char bdf[16];           /* "0000:81:00.1" */
} vh_hostdev;

typedef struct vh_tpm {
        char *model, *backend_type, *backend_version;
} vh_tpm;

typedef struct vh_seclabel {
        char *type, *model, *relabel;
        char *label, *imagelabel, *baselabel;
} vh_seclabel;

typedef struct vh_domain {
        char *name, *uuid;
        char *virt_type;        /* kvm, qemu */
        char *arch, *machine, *emulator, *cpu_mode;
        uint64_t memory_kib;
        unsigned vcpus;
        vh_cpuset vcpu_cpuset;  /* <vcpu cpuset=...>, empty when absent */
        vh_pin *vcpupins;
        size_t n_vcpupins;
        bool has_emulatorpin;
        vh_cpuset emulatorpin;
        unsigned iothreads;
        vh_pin *iothreadpins;
        size_t n_iothreadpins;
        bool hugepages;         /* <memoryBacking><hugepages> present */
        bool shared_memory;     /* guest RAM is shmem: <source type="memfd"/>, <access mode="shared"/> or a
                                   NUMA cell with memAccess="shared" (virtiofs, vhost-user) */
        vh_hugepage *pages;
        size_t n_pages;
        char *numa_nodeset;     /* <numatune><memory nodeset=...> */
        vh_disk *disks;
        size_t n_disks;
        vh_controller *controllers;
        size_t n_controllers;
        vh_hostdev *hostdevs;   /* <hostdev> and <interface type='hostdev'>, in document order */
        size_t n_hostdevs;
        vh_tpm *tpms;
        size_t n_tpms;
        vh_seclabel *seclabels;
        size_t n_seclabels;

        xmlDocPtr doc;
        xmlNodePtr policy;      /* <policy xmlns="urn:vmhooks:policy:1"> in <metadata>, or NULL */
} vh_domain;

/* A child of <devices> that is a host device: <hostdev> or <interface type='hostdev'>. */
bool vh_domain_is_hostdev(const xmlNode *n);

/* Parse libvirt domain XML.  `what` names the input in errors. */
int vh_domain_parse(const char *xml, size_t len, const char *what, vh_domain **ret, vh_error **err);
void vh_domain_free(vh_domain *d);
VH_DEFINE_CLEANUP(vh_domain *, vh_domain_free)
#define _cleanup_domain_ _cleanup_(vh_domain_freep)

/*
 * The host CPUs the VM's vCPUs are pinned to: the union of <vcpupin>, plus
 * <vcpu cpuset> when some vCPU has no <vcpupin> of its own.  Empty when
 * the vCPUs float.
 */
int vh_domain_vcpu_cpus(const vh_domain *d, vh_cpuset *ret);

/* Memory size with libvirt's units ("KiB" when unit is NULL) -> KiB. */
int vh_memory_to_kib(const char *value, const char *unit, uint64_t *ret);

#endif
