#!/usr/bin/env bash
# Run the cmocka unit test binaries given as arguments and sum them up:
# each prints its own cmocka report; the last line is "N passed, N failed".
# VALGRIND=1 runs each under valgrind's memcheck (errors fail the test).
set -u
passed=0 failed=0 broken=()
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
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n1)
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ "$rc" -ne 0 ] && [ "${f:-0}" = 0 ]; then
        failed=$((failed + 1)); broken+=("$t (exit $rc)")
    fi
    rm -f "$out"
done
for b in "${broken[@]}"; do echo "crashed or leaked: $b"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
