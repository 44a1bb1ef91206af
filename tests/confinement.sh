#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/confinement.sh — vmhooks' SELinux module and AppArmor rules compile.
#   the SELinux module (etc/selinux/vmhooks.te, .fc) with the policy devel
#   Makefile (Debian: selinux-policy-dev + checkpolicy; Fedora/openEuler:
#   selinux-policy-devel); the AppArmor rules (etc/apparmor/*) inside a
#   profile, parsed by apparmor_parser without loading (-Q).
# These machines have no SELinux and no AppArmor in the kernel: what the
# rules allow at run time is not tested here.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
pass=0 fail=0 skip=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -f /usr/share/selinux/devel/Makefile ]] && command -v checkmodule >/dev/null; then
    cp "$here/etc/selinux/vmhooks.te" "$here/etc/selinux/vmhooks.fc" "$work/"
    if out=$(make -s -C "$work" -f /usr/share/selinux/devel/Makefile vmhooks.pp 2>&1) && [[ -s $work/vmhooks.pp ]]; then
        pass=$((pass + 1)); echo "ok   - SELinux module vmhooks.pp compiles"
    else
        fail=$((fail + 1)); echo "FAIL - SELinux module: $out"
    fi
else
    skip=$((skip + 1)); echo "skip - SELinux module: no /usr/share/selinux/devel/Makefile or checkmodule (make deps installs selinux-policy-dev, checkpolicy)"
fi
if command -v apparmor_parser >/dev/null; then
    for f in vmhooks-qemu vmhooks-libvirtd; do
        mkdir -p "$work/aa/vmhooks"
        cp "$here/etc/apparmor/$f" "$work/aa/vmhooks/$f"
        printf 'abi <abi/3.0>,\nprofile vmhooks-test-%s {\n  include <vmhooks/%s>\n}\n' "$f" "$f" >"$work/aa/p-$f"
        if out=$(apparmor_parser -Q -K -I "$work/aa" -I /etc/apparmor.d "$work/aa/p-$f" 2>&1); then
            pass=$((pass + 1)); echo "ok   - AppArmor rules $f parse"
        else
            fail=$((fail + 1)); echo "FAIL - AppArmor rules $f: $out"
        fi
    done
else
    skip=$((skip + 1)); echo "skip - AppArmor rules: no apparmor_parser (make deps installs apparmor)"
fi
echo "$pass passed, $fail failed, $skip skipped"
((fail == 0))
