/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * virtconf.h — libvirt's configuration file syntax (libvirtd.conf,
 * virtproxyd.conf, qemu.conf), as libvirt's virconf.c reads it:
 *
 *   # comment
 *   listen_tcp = 1
 *   auth_tcp = "sasl"                  (or 'sasl', or """multi
 *                                       line""")
 *   security_driver = [ "selinux", "apparmor", ]   (lists span lines)
 *
 * Names are [A-Za-z_][A-Za-z0-9_.]*; values are strings, signed integers
 * or lists of those; entries end at a newline or ';'.  Like libvirt, the
 * first entry of a name wins.  The parser is strict: anything else is an
 * error naming the file and the line.
 */
#ifndef VH_VIRTCONF_H
#define VH_VIRTCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define VH_CONF_MAX_BYTES (1u << 20)
#define VH_CONF_MAX_ITEMS 4096u

typedef enum vh_conf_type { VH_CONF_STRING, VH_CONF_INT, VH_CONF_LIST } vh_conf_type;

typedef struct vh_conf_value {
        vh_conf_type type;
        char *str;                      /* VH_CONF_STRING */
        int64_t num;                    /* VH_CONF_INT */
        struct vh_conf_value *items;    /* VH_CONF_LIST (strings and integers only) */
        size_t n;
} vh_conf_value;

typedef struct vh_conf_entry {
        char *key;
        unsigned line;
        vh_conf_value value;
} vh_conf_entry;

typedef struct vh_conf {
        char *what;                     /* the file, for messages */
        vh_conf_entry *entries;
        size_t n;
} vh_conf;

void vh_conf_done(vh_conf *c);
#define _cleanup_conf_ __attribute__((cleanup(vh_conf_done)))

/* Parse text; `what` names it in errors ("/etc/libvirt/qemu.conf: line 3: ..."). */
int vh_conf_parse(const char *text, size_t len, const char *what, vh_conf *ret, vh_error **err);

/* Read and parse a file (path as given: the caller applies vh_path()).  -ENOENT when missing. */
int vh_conf_load(const char *path, vh_conf *ret, vh_error **err);

/* The first entry named `key`, or NULL. */
const vh_conf_entry *vh_conf_get(const vh_conf *c, const char *key);

/*
 * Typed lookups: 1 and *ret set when present, 0 when absent (*ret
 * untouched), or -EINVAL with "FILE: line N: KEY = ...: expected ..." when
 * the value has another type.  A string pointer stays owned by `c`.
 */
int vh_conf_get_string(const vh_conf *c, const char *key, const char **ret, vh_error **err);
int vh_conf_get_int(const vh_conf *c, const char *key, int64_t *ret, vh_error **err);
/* A boolean is an integer 0 or 1, as libvirt wants it. */
int vh_conf_get_bool(const vh_conf *c, const char *key, bool *ret, vh_error **err);

#endif
