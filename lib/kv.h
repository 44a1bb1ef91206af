/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * kv.h — the one codec for vmhooks' line records: the state table
 * (/run/vmhooks/state), the wrapper's plans (/run/vmhooks-wrapper/NAME.plan)
 * and /var/lib/vmhooks/wrapper.conf all write
 *
 *   TYPE [NAME] key=value key=value ...
 *
 * one record a line, fields separated by one space, values %XX-escaped
 * (vh_buf_escape: no space, '=', '%' or control byte survives unescaped),
 * so a value can never run into the next field.  A key is [a-z0-9_]+.
 * A field is found by its whole key only: "bar=" never matches "xbar=".
 */
#ifndef VH_KV_H
#define VH_KV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define VH_KV_MAX_FIELDS 32

/* Byte classes of the codec (exposed for tests): vh_kv_class[c] is a mask of these. */
enum { VH_KV_KEY = 1, VH_KV_PLAIN = 2, VH_KV_PCT = 4, VH_KV_END = 8 };
extern const unsigned char vh_kv_class[256];

typedef struct vh_kv_field {
        const char *key;
        const char *value;      /* unescaped */
} vh_kv_field;

typedef struct vh_kv_record {
        char *buf;              /* owns every string below (NULL: they are in the caller's line) */
        const char *type;       /* first word */
        const char *name;       /* second word when it is not key=value (e.g. "knob thp ..."), else NULL */
        vh_kv_field fields[VH_KV_MAX_FIELDS];
        size_t n;
} vh_kv_record;

void vh_kv_record_done(vh_kv_record *r);
#define _cleanup_kv_ __attribute__((cleanup(vh_kv_record_done)))

/*
 * Parse one line (without its newline; `len` bytes, no NUL needed).
 * -EINVAL when malformed: an empty type, a field without '=', a bad key,
 * a byte the escaping never leaves as it is (space, '=', '\\', control and
 * non-ASCII bytes) or a bad %XX escape in a value, a key given twice, more than VH_KV_MAX_FIELDS fields,
 * a NUL byte; -ENOMEM.  On failure *ret is left empty.
 */
int vh_kv_parse(const char *line, size_t len, vh_kv_record *ret);
/*
 * The same on a NUL-terminated line the caller owns and lets be cut up (the
 * state table parses its copy of the whole file this way, without a copy a
 * line): the record points into `line` (ret->buf stays NULL); `line` is
 * changed, also on failure.
 */
int vh_kv_parse_in_place(char *line, vh_kv_record *ret);

/* The value of `key`, or NULL. */
const char *vh_kv_get(const vh_kv_record *r, const char *key);

/* The value of `key` parsed as a decimal number <= max: 0, -ENOENT (absent), -EINVAL, -ERANGE. */
int vh_kv_get_u64(const vh_kv_record *r, const char *key, uint64_t max, uint64_t *ret);

/* Copy the value of `key` into *dst (replacing it): 0, -ENOENT (absent; *dst untouched), -ENOMEM. */
int vh_kv_dup(const vh_kv_record *r, const char *key, char **dst);

/*
 * Many keys in one pass over the record's fields (a record read key by key
 * costs a field scan per key): vals[i] is set to the value of keys[i], or
 * NULL.  Any order of fields works; a line whose fields come in the order
 * of `keys` (list them in the order the writer puts them) costs one
 * comparison a field.  Fields whose key is not among them are passed over
 * (a newer vmhooks' fields).
 */
void vh_kv_pick(const vh_kv_record *r, const char *const *keys, size_t n, const char **vals);

/*
 * vh_kv_parse_in_place and vh_kv_pick in one pass, for a line of type
 * `type` without a name whose every key is among keys[0..n) (n <= 32) and
 * given once: what the state table's own writer writes, 1000 of them a
 * call.  -EAGAIN for any other line, well-formed or not (a newer field, a
 * name, damage): the caller then parses it with vh_kv_parse_in_place,
 * which judges it.  `line` is cut up in place, also on failure.  For the
 * lines it takes, vals[] is what vh_kv_pick gives after vh_kv_parse_in_place.
 */
int vh_kv_pick_line(char *line, const char *type, const char *const *keys, size_t n, const char **vals);

/* A picked value: as vh_kv_get_u64 and vh_kv_dup, with -ENOENT when v is NULL. */
int vh_kv_value_u64(const char *v, uint64_t max, uint64_t *ret);
int vh_kv_value_dup(const char *v, char **dst);

/* Append " key=value" (value escaped); nothing when value is NULL. */
int vh_kv_put(vh_buf *b, const char *key, const char *value);
int vh_kv_put_u64(vh_buf *b, const char *key, uint64_t value);

/* Is `s` a valid key ([a-z0-9_]+)? */
bool vh_kv_key_valid(const char *s, size_t n);

#endif
