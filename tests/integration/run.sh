#!/bin/bash
# make integration: every integration test against a real libvirtd + QEMU,
# each in its own sandbox (sandbox.sh).  Each script ends with
# "N passed, N failed, N skipped" and says why it skipped ("skip - why");
# this sums them up in the same form, lists every skip with its script, and
# exits non-zero on any failure, and when it cannot run at all.  A script
# that exits 77 (sandbox_reexec: not root, no libvirt) counts as skipped,
# with the reason it printed.  VH_STACK (tests/stacks/stack.sh sets it in
# another release's root) names the stack in the summary: integration-trixie/NAME.
set -u
here=$(dirname "$(readlink -f "$0")")
. "$here/sandbox.sh"
. "$here/../count.sh"

if ! why=$(sandbox_preflight 2>&1); then
    echo "integration: cannot run here: ${why:-needs root, libvirtd, virtlogd, virsh and qemu-system}" >&2
    echo "integration: run as root after 'make deps' (CI does both)" >&2
    count_summary_add "integration${VH_STACK:+-$VH_STACK}" 0 1 0
    echo "0 passed, 1 failed, 0 skipped"
    exit 1
fi

tests=("$here/smoke.sh" "$here"/t-*.sh)
[ $# -gt 0 ] && tests=("$@")
passed=0 failed=0 skips=0 broken=() reasons=()
t0=$(date +%s)
for t in "${tests[@]}"; do
    name=$(basename "$t" .sh)
    echo "=== $name"
    out=$(mktemp)
    bash "$t" 2>&1 | tee "$out"
    rc=${PIPESTATUS[0]}
    read -r p f s < <(count_parse_line "$(grep -E "$count_closing_re" "$out" | tail -n1)" || echo "0 0 0")
    why=()
    while IFS= read -r l; do why+=("${l#skip - }"); done < <(grep '^skip - ' "$out")
    if [ "$rc" = 77 ]; then
        # the whole script skipped (sandbox_reexec): its last line on stderr says why
        s=$((s + 1))
        why+=("$(grep -v '^$' "$out" | tail -n1)")
    elif [ "$rc" -ne 0 ] && [ "$f" = 0 ]; then
        f=1
        broken+=("$name (exit $rc)")
    fi
    if [ "$s" -gt "${#why[@]}" ]; then
        f=$((f + 1))
        broken+=("$name: $s skipped, only ${#why[@]} said why")
    fi
    passed=$((passed + p)) failed=$((failed + f)) skips=$((skips + s))
    count_summary_add "integration${VH_STACK:+-$VH_STACK}/$name" "$p" "$f" "$s" "${why[@]}"
    for w in "${why[@]}"; do reasons+=("$name: $w"); done
    rm -f "$out"
done
echo "=== integration${VH_STACK:+ on $VH_STACK}: ${#tests[@]} scripts in $(($(date +%s) - t0)) s"
for b in "${broken[@]}"; do echo "broken: $b"; done
for r in "${reasons[@]}"; do echo "skipped: $r"; done
echo "$passed passed, $failed failed, $skips skipped"
[ "$failed" -eq 0 ]
