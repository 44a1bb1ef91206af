#!/usr/bin/env bash
# Run the cmocka unit test binaries given as arguments and sum them up:
# each prints its own cmocka report; the last line is
# "N passed, N failed, N skipped".  A test that skips says why with
# tu_skip() (tests/unit/testutil.h), which prints "skip - TEST: why"; a skip
# without a reason counts as a failure.  VALGRIND=1 runs each under
# valgrind's memcheck (errors fail the test).  VH_SUITE names the run in
# $VH_TEST_SUMMARY (tests/count.sh).
set -u
. "$(dirname "$0")/count.sh"
passed=0 failed=0 skips=0 broken=() reasons=()
for t in "$@"; do
    out=$(mktemp)
    if [ "${VALGRIND:-}" = 1 ]; then
        VH_HOOK_PREFIX="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
        valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
            --trace-children=no "$t" 2>&1 | tee "$out"
        rc=${PIPESTATUS[0]}
    else
        "$t" 2>&1 | tee "$out"
        rc=${PIPESTATUS[0]}
    fi
    name=$(basename "$t")
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n1)
    s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$out" | tail -n1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    skips=$((skips + ${s:-0}))
    why=()
    while IFS= read -r l; do why+=("$name: ${l#skip - }"); done < <(grep '^skip - ' "$out")
    reasons+=("${why[@]}")
    if [ "${s:-0}" -gt "${#why[@]}" ]; then
        failed=$((failed + 1))
        broken+=("$t: ${s} skipped, only ${#why[@]} said why (use tu_skip(), tests/unit/testutil.h)")
    fi
    if [ "$rc" -ne 0 ] && [ "${f:-0}" = 0 ]; then
        failed=$((failed + 1)); broken+=("$t (crashed or leaked: exit $rc)")
    fi
    rm -f "$out"
done
for b in "${broken[@]}"; do echo "broken: $b"; done
for r in "${reasons[@]}"; do echo "skipped: $r"; done
count_summary_add "${VH_SUITE:-unit}" "$passed" "$failed" "$skips" "${reasons[@]}"
echo "$passed passed, $failed failed, $skips skipped"
[ "$failed" -eq 0 ]
