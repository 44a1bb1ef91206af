#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/confinement.sh — vmhooks' SELinux module and AppArmor rules compile.
#   the SELinux module (etc/selinux/vmhooks.te, .fc) with the policy devel
#   Makefile (Debian: selinux-policy-dev + checkpolicy; Fedora/openEuler:
#   selinux-policy-devel); the AppArmor rules (etc/apparmor/*) inside a
#   profile, parsed by apparmor_parser without loading (-Q).
#   The per-VM profiles the hook writes (lib/apparmor.h), made by the test
#   build ($TEST/qemu-hook) on a fake host from libvirt's real TEMPLATE.qemu.
# These machines have no SELinux and no AppArmor in the kernel: what the
# rules allow at run time is not tested here (parse checks only, -Q: no load).
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
        printf 'abi <abi/3.0>,\ninclude <tunables/global>\nprofile vmhooks-test-%s {\n  include <vmhooks/%s>\n}\n' "$f" "$f" >"$work/aa/p-$f"
        if out=$(apparmor_parser -Q -K -I "$work/aa" -I /etc/apparmor.d "$work/aa/p-$f" 2>&1); then
            pass=$((pass + 1)); echo "ok   - AppArmor rules $f parse"
        else
            fail=$((fail + 1)); echo "FAIL - AppArmor rules $f: $out"
        fi
    done
    # inside the distribution's own libvirtd profile (the child profile vmhooks_hook, the Cx rule)
    if [[ -f /etc/apparmor.d/usr.sbin.libvirtd ]]; then
        mkdir -p "$work/aa/vmhooks"
        cp "$here/etc/apparmor/vmhooks-libvirtd" "$work/aa/vmhooks/libvirtd"
        # bookworm (AppArmor 3): "#include <local/...>"; trixie (AppArmor 4): "include if exists <local/...>"
        sed -E 's@^ *#?include( if exists)? <local/usr.sbin.libvirtd>@  include <vmhooks/libvirtd>@' /etc/apparmor.d/usr.sbin.libvirtd >"$work/aa/libvirtd"
        if ! grep -q 'include <vmhooks/libvirtd>' "$work/aa/libvirtd"; then
            fail=$((fail + 1)); echo "FAIL - usr.sbin.libvirtd has no #include <local/usr.sbin.libvirtd> to hang vmhooks-libvirtd on"
        elif out=$(apparmor_parser -Q -K -I "$work/aa" -I /etc/apparmor.d "$work/aa/libvirtd" 2>&1); then
            pass=$((pass + 1)); echo "ok   - libvirtd's own profile with vmhooks-libvirtd (child profile vmhooks_hook) parses"
        else
            fail=$((fail + 1)); echo "FAIL - libvirtd's profile with vmhooks-libvirtd: $out"
        fi
    else
        skip=$((skip + 1)); echo "skip - libvirtd's profile: no /etc/apparmor.d/usr.sbin.libvirtd (libvirt-daemon-system not installed)"
    fi
    # no rule lets every guest read every plan
    if grep -Eq '^[^#]*vmhooks-wrapper' "$here/etc/apparmor/vmhooks-qemu"; then
        fail=$((fail + 1)); echo "FAIL - vmhooks-qemu (every guest's abstraction) still names the plans"
    else
        pass=$((pass + 1)); echo "ok   - vmhooks-qemu grants no guest the plans (each is allowed in its own guest's profile)"
    fi
    # the per-VM profiles the hook writes (lib/apparmor.h), on a fake host with libvirt's real template
    hook=${TEST:-}/qemu-hook
    if [[ -z ${TEST:-} || ! -x $hook ]]; then
        skip=$((skip + 1)); echo "skip - per-VM profiles: no test-build hook (TEST=build/test, make check sets it)"
    elif [[ ! -f /etc/apparmor.d/libvirt/TEMPLATE.qemu ]]; then
        skip=$((skip + 1)); echo "skip - per-VM profiles: no /etc/apparmor.d/libvirt/TEMPLATE.qemu (libvirt-daemon-system not installed)"
    else
        uuid=c7a5fdbd-edaf-9455-926a-d65c16db1809
        r=$work/root
        mkdir -p "$r/etc/apparmor.d/libvirt" "$r/sys/kernel/security/apparmor" "$r/sys/kernel/iommu_groups/7" \
            "$r/sys/bus/pci/devices/0000:81:00.1" "$r/proc"
        cp /etc/apparmor.d/libvirt/TEMPLATE.qemu "$r/etc/apparmor.d/libvirt/"
        : >"$r/sys/kernel/security/apparmor/profiles"
        echo DMA >"$r/sys/kernel/iommu_groups/7/type"
        echo " 24: 0 IR-PCI-MSI 1-edge x" >"$r/proc/interrupts"
        echo 0x144d >"$r/sys/bus/pci/devices/0000:81:00.1/vendor"
        echo 0xa808 >"$r/sys/bus/pci/devices/0000:81:00.1/device"
        echo 0x010802 >"$r/sys/bus/pci/devices/0000:81:00.1/class"
        # libvirt's part: the .files virt-aa-helper regenerates at every start (here one rule of its kind)
        printf '# DO NOT EDIT THIS FILE DIRECTLY. IT IS MANAGED BY LIBVIRT.\n  "/var/log/libvirt/**/%s.log" w,\n' 'we%20b' \
            >"$r/etc/apparmor.d/libvirt/libvirt-$uuid.files"
        xml="<domain type='kvm'><name>we b</name><uuid>$uuid</uuid><memory>65536</memory><devices><hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x0000' bus='0x81' slot='0x00' function='0x1'/></source></hostdev></devices></domain>"
        prof=$r/etc/apparmor.d/libvirt/libvirt-$uuid
        parse() { apparmor_parser -Q -K -I "$r/etc/apparmor.d" -I /etc/apparmor.d "$prof" 2>&1; }
        if ! out=$(printf '%s' "$xml" | env -i VMHOOKS_ROOT="$r" "$hook" "we b" prepare begin 2>&1); then
            fail=$((fail + 1)); echo "FAIL - per-VM profile: prepare begin: $out"
        elif ! grep -q '^  "/run/vmhooks-wrapper/we%20b.plan" r, # vmhooks' "$prof" 2>/dev/null; then
            fail=$((fail + 1)); echo "FAIL - per-VM profile: no plan rule in $prof: $(cat "$prof" 2>&1)"
        elif out=$(parse); then
            pass=$((pass + 1)); echo "ok   - per-VM profile the hook makes from libvirt's TEMPLATE.qemu at the first start (with its plan rule) parses"
        else
            fail=$((fail + 1)); echo "FAIL - per-VM profile from the template: $out"
        fi
        # a later start: libvirt's profile exists, with an admin's rule; the rule comes and goes
        printf '%s' "$xml" | env -i VMHOOKS_ROOT="$r" "$hook" "we b" release end >/dev/null 2>&1
        sed -i 's|^}|  /srv/images/admin-own.iso r,\n}|' "$prof"
        cp "$prof" "$work/before"
        printf '%s' "$xml" | env -i VMHOOKS_ROOT="$r" "$hook" "we b" prepare begin >/dev/null 2>&1
        if grep -q 'vmhooks-wrapper/we%20b.plan' "$prof" && out=$(parse); then
            pass=$((pass + 1)); echo "ok   - libvirt's existing per-VM profile with the plan rule added parses"
        else
            fail=$((fail + 1)); echo "FAIL - existing per-VM profile: $out $(cat "$prof")"
        fi
        printf '%s' "$xml" | env -i VMHOOKS_ROOT="$r" "$hook" "we b" stopped end >/dev/null 2>&1
        if cmp -s "$prof" "$work/before"; then
            pass=$((pass + 1)); echo "ok   - stopped end takes the rule out: the profile is byte for byte what it was"
        else
            fail=$((fail + 1)); echo "FAIL - after stopped end: $(diff "$work/before" "$prof")"
        fi
    fi
    # parse checks only: whether the guest's QEMU may read its own plan and not another's, and what the
    # hook may do under vmhooks_hook, needs an AppArmor kernel
    if [[ -e /sys/kernel/security/apparmor/profiles ]]; then
        skip=$((skip + 1)); echo "skip - AppArmor at run time: no test loads these profiles yet (docs/DECISIONS.md)"
    else
        skip=$((skip + 1)); echo "skip - AppArmor at run time: this kernel has no AppArmor (no /sys/kernel/security/apparmor): the per-VM plan rule and vmhooks_hook are only parsed, never enforced here"
    fi
else
    skip=$((skip + 1)); echo "skip - AppArmor rules: no apparmor_parser (make deps installs apparmor)"
fi
echo "$pass passed, $fail failed, $skip skipped"
((fail == 0))
