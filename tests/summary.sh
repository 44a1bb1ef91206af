#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/summary.sh FILE — what make test prints at the end: each suite's
# counts, the total, and every skip with its reason (FILE is what the
# suites appended to $VH_TEST_SUMMARY, see tests/count.sh).
set -u
f=${1:?usage: summary.sh FILE}
[[ -s $f ]] || { echo "summary: no suite reported into $f" >&2; exit 1; }
echo "=== make test: every suite"
awk -F'\t' '
$1 == "suite" { printf "  %-28s %d passed, %d failed, %d skipped\n", $2, $3, $4, $5; p += $3; f += $4; s += $5 }
END { printf "=== total: %d passed, %d failed, %d skipped\n", p, f, s }' "$f"
if grep -q '^skip' "$f"; then
    echo "=== skipped, and why:"
    awk -F'\t' '$1 == "skip" { printf "  %s: %s\n", $2, $3 }' "$f"
fi
! awk -F'\t' '$1 == "suite" && $4 > 0 { bad = 1 } END { exit !bad }' "$f"
