#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/seams.sh — the test seams exist only in the test build.
#
#   PROD=build TEST=build/test bash tests/seams.sh
#
# The production programs (make: build/qemu-hook, build/qemu-kvm,
# build/vmhooks) must ignore VMHOOKS_ROOT, VMHOOKS_FAULT and
# VMHOOKS_EMULATOR; the test ones (make test-binaries: build/test/) must
# honour them, so that each check can fail.  Nothing here writes outside a
# temporary directory: the production hook is run as an unprivileged user
# (nobody when we are root), so that the real /run/vmhooks and
# /var/log/vmhooks it would use stay out of its reach.
set -u
PROD=${PROD:-build} TEST=${TEST:-build/test}
. "$(dirname "$0")/count.sh"   # ok, nok, skip, count_line
work=$(mktemp -d)
chmod 0711 "$work"  # the unprivileged hook below must reach its root
trap 'rm -rf "$work"' EXIT

# 1. The names are not even in the production programs.
for p in qemu-hook qemu-kvm vmhooks; do
    for v in VMHOOKS_ROOT VMHOOKS_FAULT VMHOOKS_EMULATOR VMHOOKS_LIBSELINUX VMHOOKS_FAKE_HUGEPAGES; do
        if grep -q -a "$v" "$PROD/$p"; then nok "$PROD/$p contains $v"; else ok "$PROD/$p does not contain $v"; fi
    done
    if grep -q -a VMHOOKS_ROOT "$TEST/$p"; then ok "$TEST/$p reads VMHOOKS_ROOT"; else nok "$TEST/$p lacks VMHOOKS_ROOT"; fi
done
grep -q -a VMHOOKS_EMULATOR "$TEST/qemu-kvm" && ok "$TEST/qemu-kvm reads VMHOOKS_EMULATOR" ||
    nok "$TEST/qemu-kvm lacks VMHOOKS_EMULATOR"
grep -q -a VMHOOKS_FAULT "$TEST/qemu-hook" && ok "$TEST/qemu-hook reads VMHOOKS_FAULT" ||
    nok "$TEST/qemu-hook lacks VMHOOKS_FAULT"

# 2. vmhooks version names its paths: under VMHOOKS_ROOT only in the test build.
out=$(env VMHOOKS_ROOT="$work/x" "$PROD/vmhooks" version 2>&1)
[[ $out == *"policy: /etc/vmhooks/policy.xml"* ]] && ok "production vmhooks ignores VMHOOKS_ROOT" ||
    nok "production vmhooks: $out"
out=$(env VMHOOKS_ROOT="$work/x" "$TEST/vmhooks" version 2>&1)
[[ $out == *"policy: $work/x/etc/vmhooks/policy.xml"* ]] && ok "test vmhooks honours VMHOOKS_ROOT" ||
    nok "test vmhooks: $out"

# 3. The hook: VMHOOKS_FAULT kills the test hook at its write, not the production one.
for b in PROD TEST; do
    d=$work/wc-$b
    mkdir -p "$d/etc/vmhooks"
    { env VMHOOKS_FAULT="write:wrapper.conf@1=kill" "${!b}/qemu-hook" --wrapper-config --root="$d" >/dev/null; } 2>/dev/null
    rc=$?
    if [[ $b == PROD ]]; then
        [[ $rc == 0 && -f $d/var/lib/vmhooks/wrapper.conf ]] && ok "production hook ignores VMHOOKS_FAULT" ||
            nok "production hook with VMHOOKS_FAULT: exit $rc"
    else
        [[ $rc == 137 && ! -f $d/var/lib/vmhooks/wrapper.conf ]] && ok "test hook dies at VMHOOKS_FAULT's point" ||
            nok "test hook with VMHOOKS_FAULT: exit $rc"
    fi
done

# 4. The hook: VMHOOKS_ROOT redirects the test hook's state and log, never the production one's.
as=()
if [[ $(id -u) == 0 ]]; then
    if command -v setpriv >/dev/null; then
        as=(setpriv --reuid=65534 --regid=65534 --clear-groups)
    fi
fi
if [[ $(id -u) == 0 && ${#as[@]} == 0 ]]; then
    skip "production hook and VMHOOKS_ROOT: root without setpriv (util-linux) cannot run it unprivileged"
else
    xml='<domain type="qemu"><name>seam</name><uuid>6a1e0c3e-0000-4000-8000-00000000000a</uuid><memory>65536</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>'
    for b in PROD TEST; do
        d=$work/root-$b
        mkdir -p "$d" && chmod 0777 "$d"
        printf '%s' "$xml" | env -i PATH=/usr/bin:/bin VMHOOKS_ROOT="$d" "${as[@]}" "${!b}/qemu-hook" seam prepare begin - >/dev/null 2>&1
        n=$(find "$d" -mindepth 1 | wc -l)
        if [[ $b == PROD ]]; then
            ((n == 0)) && ok "production hook ignores VMHOOKS_ROOT (nothing under it)" ||
                nok "production hook wrote under VMHOOKS_ROOT: $(find "$d" -mindepth 1 | head -3 | tr '\n' ' ')"
        else
            [[ -e $d/var/log/vmhooks/seam.log ]] && ok "test hook honours VMHOOKS_ROOT (its log is under it)" ||
                nok "test hook did not log under VMHOOKS_ROOT ($n entries)"
        fi
    done
fi

# 5. The wrapper: VMHOOKS_EMULATOR names the emulator only in the test build.
# (-version: what the real emulator, if the production wrapper finds one, answers harmlessly)
out=$(env VMHOOKS_ROOT="$work/none" VMHOOKS_EMULATOR=/bin/echo "$TEST/qemu-kvm" -version 2>/dev/null)
[[ $out == "-version" ]] && ok "test wrapper execs VMHOOKS_EMULATOR" || nok "test wrapper: '$out'"
out=$(env VMHOOKS_ROOT="$work/none" VMHOOKS_EMULATOR=/bin/echo "${as[@]}" "$PROD/qemu-kvm" -version 2>/dev/null)
[[ $out != "-version" ]] && ok "production wrapper ignores VMHOOKS_EMULATOR" ||
    nok "production wrapper ran VMHOOKS_EMULATOR"

count_report "${VH_SUITE:-unit}/seams"
count_line
((fail == 0))
