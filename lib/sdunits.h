/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * sdunits.h — AllowedCPUs of systemd units (system.slice, user.slice,
 * init.scope: the host's own tasks), read and set through systemd's D-Bus
 * API with sd-bus.
 *
 * libsystemd is not linked: it is dlopen()ed ("libsystemd.so.0") the first
 * time one of these functions needs the bus, so a hook call whose VMs demand
 * nothing of systemd never loads it.  As root the connection goes to
 * systemd's private socket /run/systemd/private (what systemctl does as
 * root: no dbus-daemon needed), else to the system bus; every call is
 * bounded by VH_SDUNITS_TIMEOUT_USEC.
 *
 * AllowedCPUs on the bus is an "ay": byte i, bit j (least significant
 * first) is CPU 8*i+j, systemd's own layout (cpu_set_to_dbus).  An empty
 * array is "unset" (AllowedCPUs=), which is NOT "all CPUs": see
 * docs/DECISIONS.md, "Host tasks".
 */
#ifndef VH_SDUNITS_H
#define VH_SDUNITS_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The bound on each bus round trip (connect and authenticate, each call). */
#define VH_SDUNITS_TIMEOUT_USEC (2u * 1000u * 1000u)

/*
 * 0 when systemd is PID 1 here, the cgroup layout is unified (v2) with the
 * cpuset controller, libsystemd loads and its bus is reachable; *why NULL.
 * Otherwise a negative errno and *why (malloc'd, one line) says why host
 * tasks cannot be confined here and that nothing is done:
 *   -ENOENT   no systemd (/run/systemd/system missing)
 *   -ENOTSUP  cgroup v1 or hybrid, or v2 without the cpuset controller
 *   -ELIBACC  libsystemd.so.0 cannot be loaded
 *   other     the bus cannot be reached (the connect's errno)
 * `why` may be NULL.
 */
int vh_systemd_usable(char **why);

/*
 * The unit's AllowedCPUs as a CPU list ("0-3,8"); "" when unset.  `unit` is
 * a .slice, .scope or .service name; -ENOENT when systemd has no such unit.
 */
int vh_unit_get_allowed_cpus(const char *unit, char **ret_list, vh_error **err);

/*
 * SetUnitProperties(unit, runtime=true, AllowedCPUs=list): "" resets it to
 * unset.  machine.slice and its sub-slices (the VMs) are refused (-EPERM).
 * When it returns, the unit's cgroup shows the change.  0, or 1 after a
 * reset that systemd did not carry to the cgroup (systemd issue 43846: the
 * cgroup's cpuset.cpus kept its confined value because the cpuset
 * controller stays on for a sibling such as machine.slice, and the kernel
 * refuses "" on a populated cgroup): the unit was then widened through
 * systemd to its parent's effective CPUs and unset again, so that its
 * cpuset.cpus reads those CPUs instead of ""; the caller logs it.
 */
int vh_unit_set_allowed_cpus(const char *unit, const char *list, vh_error **err);

/* Drop the cached bus connection (tests; the hook simply exits). */
void vh_systemd_disconnect(void);

/* --- pure parts, exposed for the unit tests --- */

/* A CPU list ("" allowed: the empty array) -> systemd's "ay" bitmask, no
 * trailing zero bytes.  *ret is NULL (and *ret_len 0) for "". */
int vh_allowed_cpus_to_bytes(const char *list, uint8_t **ret, size_t *ret_len, vh_error **err);

/* systemd's "ay" bitmask (any length, trailing zeros allowed) -> CPU list;
 * "" for an empty or all-zero array.  -ENOMEM, -E2BIG past VH_CPUSET_MAX. */
int vh_allowed_cpus_from_bytes(const uint8_t *bytes, size_t len, char **ret_list);

/* Whether `unit` is a name vmhooks may change: a .slice/.scope/.service
 * name of systemd's alphabet, not machine.slice or below it.  0, or
 * -EINVAL / -EPERM with *err saying why. */
int vh_unit_name_check(const char *unit, vh_error **err);

#endif
