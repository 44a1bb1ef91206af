#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/bench/loader.sh: where a prepare call's instructions go, counted by
# callgrind (the same count on every run): the whole call, the part from
# main() on (--toggle-collect=main), and the rest, which is the dynamic
# loader before main (relocations of every linked library: the hook is
# linked with -z now) plus exit; and the libraries libxml2 pulls in (ldd).
# Run by tests/bench/run.sh; BUILD names the test build (its qemu-hook).
set -eu
# the test build checks every unchanged state line it writes back (lib/state.h): not what is measured
export VMHOOKS_STATE_CHECK=0
here=$(cd "$(dirname "$0")" && pwd)
hook=${BUILD:?}/qemu-hook
command -v valgrind >/dev/null || { echo "(no valgrind: loader instructions not counted)"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$here/mkroot.sh" "$work/root" 1
count() { # SIZE VALGRIND-ARGS... : instructions collected
    local size=$1
    shift
    VMHOOKS_ROOT=$work/root valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" \
        "$hook" bench prepare begin - <"$work/$size.xml" 2>&1 | sed -n 's/.*Collected : //p'
}
xml=$(ldd "$hook" | awk '$1 ~ /^libxml2/ {print $3}')
echo "Instructions of one prepare call (1 VM registered), callgrind:"
echo
echo "| XML | whole call | from main() on | before main() and exit (loader) |"
echo "|---|---|---|---|"
for size in small large; do
    "$here/mkxml.sh" $size >"$work/$size.xml"
    all=$(count $size)
    inmain=$(count $size --collect-atstart=no --toggle-collect=main)
    echo "| $size ($(wc -c <"$work/$size.xml") B) | $all | $inmain | $((all - inmain)) |"
done
echo
echo "Libraries of the hook: $(ldd "$hook" | awk '{print $1}' | grep -v -e '^linux-vdso' -e '^/' | sed 's/\.so.*//' | tr '\n' ' ')"
echo "libxml2 ($xml) links: $(ldd "$xml" | awk '{print $1}' | grep -v -e '^linux-vdso' -e '^/' | sed 's/\.so.*//' | tr '\n' ' ')"
