/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* demands.h — what one VM, under its effective policy, asks of the host. */
#ifndef VH_DEMANDS_H
#define VH_DEMANDS_H

#include "domain.h"
#include "error.h"
#include "policy.h"
#include "state.h"
#include "util.h"

/*
 * Fill *ret from the domain and its effective policy.  Lines that explain
 * a demand not made (e.g. "kworkers: isolate=yes but no vCPU is pinned")
 * are appended to `notes`, one per line.
 */
int vh_demands_from(const vh_domain *dom, const vh_policy *p, vh_demands *ret, vh_buf *notes, vh_error **err);

/* One line describing the demands ("thp never; halt_poll_ns 400000; ..."). */
int vh_demands_describe(const vh_demands *d, vh_buf *out);

#endif
