#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# make test: every suite CI runs, in this order, each one even when an
# earlier one failed; then each suite's counts, the total and every skip
# with its reason (tests/summary.sh).  Exits non-zero when any suite failed
# or could not count.  Run by the Makefile (MAKE, BUILD set).
set -u
cd "$(dirname "$0")/.."
MAKE=${MAKE:-make}
B=${BUILD:-build}
mkdir -p "$B"
export VH_TEST_SUMMARY
VH_TEST_SUMMARY=$(cd "$B" && pwd)/test-summary.tsv
rm -f "$VH_TEST_SUMMARY"
rc=0
# step SUITE MAKE-ARGS...: a suite that fails before it counted is recorded as one failure
step() {
    local suite=$1 before after
    shift
    before=$(grep -c '^suite' "$VH_TEST_SUMMARY" 2>/dev/null)
    echo "=== $suite: make $*"
    if ! VH_SUITE=$suite "$MAKE" --no-print-directory "$@"; then
        rc=1
        after=$(grep -c '^suite' "$VH_TEST_SUMMARY" 2>/dev/null)
        [[ ${after:-0} != "${before:-0}" ]] ||
            printf 'suite\t%s (failed before it counted)\t0\t1\t0\n' "$suite" >>"$VH_TEST_SUMMARY"
    fi
}
step unit check
step unit-valgrind check VALGRIND=1
step unit-asan check BUILD="$B/asan" SANITIZE=1
step unit-clang check BUILD="$B/clang" CC=clang
step fuzz fuzz FUZZ_TIME=10
step robust robust
# the other libvirt + QEMU generation (tests/stacks/stack.sh): built with its
# compilers and unit-tested there, then the same integration suite
host=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
others=()
for s in bookworm trixie; do [[ $s == "$host" ]] || others+=("$s"); done
for s in "${others[@]}"; do step "unit-$s" stack-check STACK="$s"; done
step integration integration
for s in "${others[@]}"; do step "integration-$s" integration STACK="$s"; done
step realhost realhost
bash tests/summary.sh "$VH_TEST_SUMMARY" || rc=1
exit $rc
