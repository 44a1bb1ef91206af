/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* report.h — print check and audit results: one line each, or JSON (--json). */
#ifndef VH_REPORT_H
#define VH_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "checks.h"
#include "error.h"

/*
 * Text: "LEVEL check: message; fix: ..." per result, then a count line.
 * JSON: {"results":[{"check","level","message","fix","refuse"}...],
 *        "counts":{"PASS":n,"NOTE":n,"WARN":n,"FAIL":n}}.
 * Returns 1 when a result is FAIL, else 0 (the command's exit status).
 */
int vh_report_print(FILE *f, const vh_results *r, bool json, const char *what, vh_error **err);

#endif
