/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * cpuset.h — sets of CPUs in the three spellings vmhooks meets:
 * libvirt/kernel cpulists ("0-3,8", libvirt also "^2"), bitmaps, and the
 * kernel's hex masks in comma-separated 32-bit groups ("00000000,0000000f").
 * Any number of CPUs up to VH_CPUSET_MAX; comparisons are numerical.
 */
#ifndef VH_CPUSET_H
#define VH_CPUSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define VH_CPUSET_MAX 65536u /* CPUs; the kernel's NR_CPUS tops out at 8192 */

typedef struct vh_cpuset {
        uint64_t *words; /* bit n of words[n / 64]; absent words are zero */
        size_t nwords;
} vh_cpuset;

void vh_cpuset_done(vh_cpuset *s);
#define _cleanup_cpuset_ __attribute__((cleanup(vh_cpuset_done)))

int vh_cpuset_parse_list(const char *text, vh_cpuset *ret, vh_error **err);
int vh_cpuset_parse_mask(const char *text, vh_cpuset *ret, vh_error **err);

/* "0-3,8"; "" for the empty set.  NULL on allocation failure. */
char *vh_cpuset_format_list(const vh_cpuset *s);
/*
 * Kernel style: hex digits in comma-separated groups of 8 (from the right),
 * zero-padded to at least `min_digits` digits.  NULL on allocation failure.
 */
char *vh_cpuset_format_mask(const vh_cpuset *s, size_t min_digits);
/* Number of hex digits (commas excluded) in a mask as the kernel printed it. */
size_t vh_cpuset_mask_digits(const char *text);

int vh_cpuset_set(vh_cpuset *s, unsigned cpu);
bool vh_cpuset_test(const vh_cpuset *s, unsigned cpu);
bool vh_cpuset_is_empty(const vh_cpuset *s);
bool vh_cpuset_equal(const vh_cpuset *a, const vh_cpuset *b);
bool vh_cpuset_intersects(const vh_cpuset *a, const vh_cpuset *b);
unsigned vh_cpuset_count(const vh_cpuset *s);
int vh_cpuset_copy(vh_cpuset *dst, const vh_cpuset *src);
int vh_cpuset_union(vh_cpuset *dst, const vh_cpuset *src);
void vh_cpuset_subtract(vh_cpuset *dst, const vh_cpuset *src);
void vh_cpuset_intersect(vh_cpuset *dst, const vh_cpuset *src);

#endif
