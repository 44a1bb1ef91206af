/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * argv.h — the QEMU command line libvirt builds, as data, and the one
 * rewrite the wrapper makes (DESIGN.md, "The wrapper").  Pure functions:
 * no file, no environment.
 *
 * The model: -name (guest=NAME), -uuid, -machine (to recognise libvirt's
 * capability probe, "-machine none"), every -device in either syntax QEMU
 * accepts, and every -set.
 *
 *   JSON       -device {"driver":"vfio-pci","host":"0000:81:00.1","id":"hostdev0",...}
 *              (what libvirt >= 8.1 passes to QEMU >= 7.0; QEMU picks this
 *              syntax when the argument starts with '{')
 *   key=value  -device vfio-pci,host=0000:81:00.1,id=hostdev0,...
 *              (QemuOpts: "," separates, ",," is a literal comma, the first
 *              element without "=" is the driver)
 *
 * The rewrite, checked on QEMU 7.2:
 *
 * - x-msix-relocation (an enum: a JSON string, "bar2") is added inside a
 *   JSON device and inline to a key=value one, unless the device, or a -set
 *   aimed at it, already gives a value.
 * - `-set device.ID.PROP=VALUE` only reaches key=value devices; aimed at a
 *   JSON device, QEMU 7.2 exits with 'there is no device "ID" defined'.  The
 *   target device is rewritten as key=value (exactly: strings with ",,",
 *   integers in decimal, booleans as on/off) and the -set stays after it.
 *   QEMU creates every key=value device before every JSON device, so a
 *   device whose bus is provided by a JSON device (q35: "bus":"pci.5", a
 *   pcie-root-port) would not find its bus: the devices that provide its
 *   bus, transitively, are rewritten too.  A device that key=value cannot
 *   express (a nested object, an array, a float, null, a key with "," or
 *   "=", an id QemuOpts refuses) is left as it is, with the reason.
 * - A capability probe (-machine none), a -device that is not valid JSON
 *   (QEMU will say so itself) and a command line with nothing to change are
 *   passed through byte for byte.
 */
#ifndef VH_ARGV_H
#define VH_ARGV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "error.h"
#include "util.h"

struct json_object;

#define VH_MSIX_PROP "x-msix-relocation"
#define VH_QARGV_MAX_ARGS 100000
#define VH_QARGV_MAX_DEVICES 10000

/* One element of a key=value option ("host=0000:81:00.1"), unescaped. */
typedef struct vh_qopt {
        char *key, *value;
} vh_qopt;

typedef struct vh_qopts {
        vh_qopt *v;
        size_t n;
        bool trailing_comma;    /* "a=b," : a new element must not start with "," */
} vh_qopts;

/*
 * Parse a key=value option the way QEMU's QemuOpts does: elements split at
 * ",", ",," is a literal comma in a value, the first element without "="
 * is the value of `implied` ("driver", "guest", "type"; NULL: none), any
 * later element without "=" is a flag ("x" = on, "nox" = off).
 */
int vh_qopts_parse(const char *s, const char *implied, vh_qopts *ret, vh_error **err);
void vh_qopts_done(vh_qopts *o);
/* The value QEMU uses for `key` (the last one given), or NULL. */
const char *vh_qopts_get(const vh_qopts *o, const char *key);
/* Append `s` as a key=value value: "," doubled. */
int vh_qopts_escape(vh_buf *b, const char *s);

typedef enum vh_qdev_form {
        VH_QDEV_KEYVAL,
        VH_QDEV_JSON,
} vh_qdev_form;

typedef struct vh_qdev {
        int arg;                        /* index in argv of the -device value */
        vh_qdev_form form;
        char *driver, *id, *bus, *host; /* NULL when absent (or not a string) */
        bool has_msix;                  /* gives x-msix-relocation itself */
        struct json_object *json;       /* VH_QDEV_JSON */
        vh_qopts opts;                  /* VH_QDEV_KEYVAL */
} vh_qdev;

typedef struct vh_qset {
        int arg;                        /* index in argv of the -set value */
        char *group, *id, *prop, *value;
} vh_qset;

typedef struct vh_qargv {
        int argc;
        char *const *argv;              /* borrowed */
        char *name;                     /* -name guest=NAME */
        char *uuid;                     /* -uuid */
        bool probe;                     /* -machine none: a capability probe */
        char *bad;                      /* why the command line must pass through untouched, or NULL */
        vh_qdev *devs;
        size_t n_devs;
        vh_qset *sets;                  /* group "device" only */
        size_t n_sets;
} vh_qargv;

/*
 * Parse argv (argv[0] is the program).  Fails only on allocation failure
 * and limits (VH_QARGV_MAX_*); a command line the rewrite must not touch
 * (an option without its argument, a -device that is not valid JSON) sets
 * ret->bad instead.
 */
int vh_qargv_parse(int argc, char *const *argv, vh_qargv *ret, vh_error **err);
void vh_qargv_done(vh_qargv *q);
#define _cleanup_qargv_ __attribute__((cleanup(vh_qargv_done)))

/* The device with this id (the first one), or NULL. */
const vh_qdev *vh_qargv_find(const vh_qargv *q, const char *id);

/* A device that should get x-msix-relocation=bar. */
typedef struct vh_qrelocate {
        char *id;       /* the libvirt alias: hostdev0, ua-nvme1 */
        char *bar;      /* bar2, auto, ... */
        char *why;      /* "NVMe 126f:2262", "quirk: ...", "listed", "all" */
} vh_qrelocate;

/* Inline so that lib/msix.c (linked into the hook, without json-c) needs nothing from argv.c. */
static inline void vh_qrelocate_free_all(vh_qrelocate *r, size_t n)
{
        for (size_t i = 0; r && i < n; i++) {
                free(r[i].id);
                free(r[i].bar);
                free(r[i].why);
        }
        free(r);
}

typedef struct vh_qrewrite {
        char **argv;    /* argc entries and a NULL; argv[0] is the input's */
        int argc;
        bool changed;
        vh_buf changes; /* one line per change, "\n"-terminated */
        vh_buf notes;   /* one line per thing left as it was, and why */
} vh_qrewrite;

void vh_qrewrite_done(vh_qrewrite *w);
#define _cleanup_qrewrite_ __attribute__((cleanup(vh_qrewrite_done)))

/*
 * The rewritten command line.  Never fails on odd input (that is left as
 * it is and explained in notes); only on allocation failure.
 */
int vh_qargv_rewrite(const vh_qargv *q, const vh_qrelocate *rel, size_t n_rel, vh_qrewrite *ret, vh_error **err);

/*
 * A JSON -device written as key=value, exactly, plus `extra_key=extra_value`
 * when extra_key is non-NULL.  -EINVAL with the reason when key=value
 * cannot express it.
 */
int vh_qdev_json_to_keyval(struct json_object *obj, const char *extra_key, const char *extra_value, char **ret,
                           vh_error **err);

/* QEMU's id_wellformed(): a letter, then letters, digits, '-', '.', '_'. */
bool vh_qemu_id_wellformed(const char *id);

#endif
