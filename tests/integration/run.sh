#!/bin/bash
# make integration: every integration test against a real libvirtd + QEMU,
# each in its own sandbox (sandbox.sh).  Prints "N passed, N failed" and
# exits non-zero on any failure, and when it cannot run at all.
set -u
here=$(dirname "$(readlink -f "$0")")
. "$here/sandbox.sh"

if ! why=$(sandbox_preflight 2>&1); then
    echo "integration: cannot run here: ${why:-needs root, libvirtd, virtlogd, virsh and qemu-system}" >&2
    echo "integration: run as root after 'make deps' (CI does both)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

tests=("$here/smoke.sh" "$here"/t-*.sh)
[ $# -gt 0 ] && tests=("$@")
passed=0 failed=0 broken=()
t0=$(date +%s)
for t in "${tests[@]}"; do
    name=$(basename "$t" .sh)
    echo "=== $name"
    out=$(mktemp)
    bash "$t" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n1)
    p=${line%% passed*}
    f=${line#*passed, }
    f=${f%% failed}
    passed=$((passed + ${p:-0}))
    failed=$((failed + ${f:-0}))
    if [ "$rc" -ne 0 ] && [ "${f:-0}" = 0 ]; then
        failed=$((failed + 1))
        broken+=("$name (exit $rc)")
    fi
    rm -f "$out"
done
echo "=== integration: ${#tests[@]} scripts in $(($(date +%s) - t0)) s"
for b in "${broken[@]}"; do echo "broken: $b"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
