#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The guest-side snippets of etc/guest/ against the release's real qemu-ga
# (package qemu-guest-agent; `qemu-ga -D` prints the configuration the agent
# would run with and exits): qemu-ga.conf's block-rpcs= list is applied; the
# systemd drop-in's command line is accepted and blocks the same list;
# qemu-ga-legacy.conf's blacklist= is applied before 9.1 and silently
# ignored from 9.1 on; --blacklist is refused from 9.1 on.  Runs on every
# stack (make integration STACK=...), so on qemu-ga 7.2 and 10.0.
. "$(dirname "$(readlink -f "$0")")/lib.sh"

ga=$(command -v qemu-ga || ls /usr/sbin/qemu-ga /usr/bin/qemu-ga 2>/dev/null | head -n1)
[[ -x $ga ]] || sandbox_die "qemu-ga is missing: make deps installs qemu-guest-agent"
ver=$("$ga" --version | sed -n 's/.*Agent \([0-9]*\.[0-9]*\).*/\1/p')
[[ -n $ver ]] || sandbox_die "cannot read the version of $ga: $("$ga" --version 2>&1)"
v=$((${ver%%.*} * 1000 + ${ver#*.}))
echo "qemu-ga $ver ($ga)"
G=$repo/etc/guest
# the effective block list of a dump (-D), sorted, one line
blocked() { sed -n 's/^block-rpcs=//p; s/^blacklist=//p' | tr ',' '\n' | sed '/^$/d' | sort | tr '\n' ' '; }
list_of() { sed -n "s/^$1=//p" "$2" | tr ',' '\n' | sort | tr '\n' ' '; }
want=$(list_of block-rpcs "$G/qemu-ga.conf")
check "qemu-ga.conf names RPCs" test -n "$want"
is "qemu-ga.conf's list is what qemu-ga $ver blocks" \
    "$(QGA_CONF=$G/qemu-ga.conf "$ga" -D 2>/dev/null | blocked)" "$want"

# the drop-in: its ExecStart arguments (the binary's path differs per distro)
dropin=$G/qemu-guest-agent.service.d/vmhooks-blacklist.conf
read -r -a args < <(sed -n 's/^ExecStart=[^ ]*qemu-ga //p' "$dropin")
check "the drop-in has an ExecStart with arguments" test ${#args[@]} -gt 0
out=$(QGA_CONF=/nonexistent "$ga" "${args[@]}" -D 2>&1)
rc=$?
is "qemu-ga $ver accepts the drop-in's command line (exit status)" $rc 0
is "the drop-in blocks the same list" "$(printf '%s\n' "$out" | blocked)" "$want"

# the legacy key and the removed long option
legacy=$(QGA_CONF=$G/qemu-ga-legacy.conf "$ga" -D 2>/dev/null | blocked)
"$ga" --blacklist=guest-exec -D >/dev/null 2>&1
long_rc=$?
if ((v >= 9001)); then
    is "qemu-ga $ver ignores qemu-ga-legacy.conf's blacklist= (as its comment warns)" "$legacy" ""
    check "qemu-ga $ver refuses --blacklist (exit $long_rc)" test $long_rc -ne 0
else
    is "qemu-ga $ver applies qemu-ga-legacy.conf's blacklist=" "$legacy" "$want"
    is "qemu-ga $ver still takes --blacklist (exit status)" $long_rc 0
fi
finish
