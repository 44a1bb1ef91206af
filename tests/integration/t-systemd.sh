#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Host tasks (issue 17): AllowedCPUs of system.slice, user.slice and
# init.scope set and reset through lib/sdunits.c (sd-bus, libsystemd
# dlopen()ed) against a REAL systemd, never a mock, in two places:
#
#  1. systemd as PID 1 of a systemd-nspawn container (a debootstrap'd
#     Debian root, cached in $BUILD/stacks/systemd-bookworm): sdunits-cli on
#     the host, pointed at the container's /run/systemd/private through
#     VMHOOKS_ROOT=/proc/PID/root, sets and resets; `systemctl show` inside
#     the container reads back.  vh_systemd_usable must describe the
#     container's cgroup layout (this build host is cgroup v1/v2 hybrid: the
#     container is too, and systemd applies no cpuset there).
#  2. the same root booted as a TCG guest (no /dev/kvm needed) with its own
#     kernel on cgroup v2 with the cpuset controller: systemd-guest.sh runs
#     there as the only unit and checks the cgroup files and the tasks'
#     affinities, including issue 43846 (a reset while machine.slice keeps
#     the cpuset controller on); its "VH: ok/FAIL" lines are counted here.
#
# Nothing on the host is changed: the container and the guest have their
# own systemd; the guest's disk is a throw-away image (snapshot=on).
# VH_SYSTEMD_GUEST=0 skips part 2 (and says so).
set -u
here=$(dirname "$(readlink -f "$0")")
repo=$(cd "$here/../.." && pwd)
. "$here/../count.sh"
B=${BUILD:-build}
[[ $B == /* ]] || B=$repo/$B
root=$B/stacks/systemd-bookworm
cli=$B/test/tests/sdunits-cli
t0=$(date +%s)

is() { if [[ $2 == "$3" ]]; then ok "$1"; else nok "$1: got '$2', expected '$3'"; fi; }
finish() { count_line; exit $((fail > 0)); }

if [[ -n ${VH_STACK:-} ]]; then
    skip "runs once, on the host's stack (it brings its own bookworm root with systemd; VH_STACK=$VH_STACK)"
    finish
fi
if [[ $(id -u) != 0 ]]; then skip "needs root (debootstrap, systemd-nspawn)"; finish; fi
for c in debootstrap systemd-nspawn nsenter mke2fs; do
    command -v "$c" >/dev/null || { skip "$c is not installed (.ci/deps.sh installs it)"; finish; }
done
if ! ldconfig -p | grep -q 'libsystemd.so.0 '; then skip "libsystemd.so.0 is not installed on this host"; finish; fi
make -s -C "$repo" BUILD="$B/test" TEST_SEAMS=1 "$cli" >/dev/null || { nok "build $cli"; finish; }

# The root: minbase bookworm with systemd and a kernel (for part 2), made once.
mirror() {
    local m
    m=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null)
    [[ -n $m ]] || m=$(awk '$1 == "deb" && $2 ~ /debian\/?$/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null)
    echo "${m:-http://deb.debian.org/debian}"
}
# Part 2 runs a real libvirtd with two TCG guests and irqbalance in the guest
# (section 5 of systemd-guest.sh): dbus and systemd-container for
# systemd-machined (libvirt's machine.slice), libpam-systemd for polkitd
# (default-logind, a virtual package debootstrap does not resolve), no Recommends.  The stamp holds
# the package list: a root made for another list is made again.
pkgs=systemd,systemd-sysv,linux-image-cloud-amd64,libxml2,dbus,systemd-container,libpam-systemd,libvirt-daemon-system,qemu-system-x86,irqbalance
if [[ $(cat "$root/.vmhooks-ready" 2>/dev/null) != "$pkgs" ]]; then
    echo "t-systemd: making $root (debootstrap, 3-6 minutes, once per package list)"
    rm -rf "$root"
    mkdir -p "$(dirname "$root")"
    if ! debootstrap --variant=minbase --include="$pkgs" bookworm "$root" "$(mirror)" \
        >"$B/stacks/systemd-bookworm.log" 2>&1; then
        nok "debootstrap bookworm with systemd (see $B/stacks/systemd-bookworm.log)"
        finish
    fi
    echo 'vmhooks-systemd' >"$root/etc/hostname"
    echo '/dev/nvme0n1 / ext4 rw 0 1' >"$root/etc/fstab"
    # libvirt's default network would need dnsmasq: the guests have no NIC
    rm -f "$root/etc/libvirt/qemu/networks/autostart/default.xml"
    echo "$pkgs" >"$root/.vmhooks-ready"
fi

# the daemons the packages enable stay off both boots (part 2 starts libvirtd and
# its own irqbalance itself); in the container they would share the host's kernel
rm -f "$root"/etc/systemd/system/multi-user.target.wants/{libvirtd,libvirt-guests,irqbalance,cron,e2scrub_reap}.service

# the test program and the guest's script go into the root (both parts use them)
mkdir -p "$root/usr/local/lib/vmhooks-test"
install -m 0755 "$cli" "$root/usr/local/lib/vmhooks-test/sdunits-cli"
install -m 0755 "$here/systemd-guest.sh" "$root/usr/local/lib/vmhooks-test/systemd-guest.sh"
install -m 0644 "$here/systemd-libvirt.sh" "$root/usr/local/lib/vmhooks-test/systemd-libvirt.sh"
# the real hook too, when this tree's hook knows the allowed_cpus family (<isolate tasks>)
# and, for the real libvirtd of section 5, what make install puts on a host (the
# guest copies it over its /, as sandbox.sh's vh_install does)
rm -rf "$root/usr/local/lib/vmhooks-test/qemu-hook" "$root/usr/local/lib/vmhooks-test/vmhooks" "$root/usr/local/lib/vmhooks-test/dest"
hook_level=0
if grep -q '"allowed_cpus"' "$repo/lib/knobs.c" 2>/dev/null; then
    make -s -C "$repo" BUILD="$B" test-binaries >/dev/null && install -m 0755 "$B/test/qemu-hook" "$root/usr/local/lib/vmhooks-test/qemu-hook" &&
        install -m 0755 "$B/test/vmhooks" "$root/usr/local/lib/vmhooks-test/vmhooks" &&
        hook_level=1
    if ((hook_level)) && ! make -s -C "$repo" --no-print-directory install BUILD="$B/test" TEST_SEAMS=1 \
        DESTDIR="$root/usr/local/lib/vmhooks-test/dest" >"$B/stacks/systemd-install.log" 2>&1; then
        nok "make install DESTDIR=... for the guest's libvirtd: $(tail -n3 "$B/stacks/systemd-install.log" | tr '\n' ' ')"
        rm -rf "$root/usr/local/lib/vmhooks-test/dest"
    fi
fi
printf '[Unit]\nDescription=vmhooks t-systemd guest part\nDefaultDependencies=no\n[Service]\nType=oneshot\nExecStart=/usr/local/lib/vmhooks-test/systemd-guest.sh\n' \
    >"$root/etc/systemd/system/vh-t.service"

# ---- 1. systemd in a container ----
log=$(mktemp)
nspawn_pid=
cleanup() {
    if [[ -n $nspawn_pid ]]; then
        kill "$nspawn_pid" 2>/dev/null
        for ((i = 0; i < 50; i++)); do kill -0 "$nspawn_pid" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$nspawn_pid" 2>/dev/null
    fi
    rm -f "$log"
}
trap cleanup EXIT
systemd-nspawn --register=no --keep-unit --console=passive -q -D "$root" -b >"$log" 2>&1 </dev/null &
nspawn_pid=$!
ct=
for ((i = 0; i < 150; i++)); do
    ct=$(pgrep -P "$nspawn_pid" | head -n1)
    [[ -n $ct && -S /proc/$ct/root/run/systemd/private ]] && break
    sleep 0.2
done
in_ct() { nsenter -t "$ct" -m -p -- "$@"; }
if [[ -z $ct || ! -S /proc/$ct/root/run/systemd/private ]]; then
    nok "systemd boots in the container: $(tail -n3 "$log" | tr '\n' ' ')"
else
    state=$(timeout 60 nsenter -t "$ct" -m -p -- systemctl is-system-running --wait 2>&1)
    check "systemd is PID 1 of the container and up ($state)" test "$(in_ct cat /proc/1/comm)" = systemd
    # sdunits-cli runs inside the container (its PID namespace: systemd refuses a private-socket peer whose
    # PID it cannot see, "Incoming private connection from unprivileged client"), at the real paths
    X() { in_ct /usr/local/lib/vmhooks-test/sdunits-cli "$@"; }
    getv() { X get "$1" 2>&1 || echo "<exit $?>"; }
    setv() { X set "$1" "$2" 2>&1 || echo "<exit $?>"; }
    # what vh_systemd_usable must say is the container's own cgroup layout
    why=$(X usable); rc=$?
    cg=/proc/$ct/root/sys/fs/cgroup
    if [[ -e $cg/cgroup.controllers ]] && grep -qw cpuset "$cg/cgroup.controllers"; then
        is "vh_systemd_usable: 0 on cgroup v2 with cpuset ($why)" "$rc" 0
    elif [[ -e $cg/cgroup.controllers ]]; then
        is "vh_systemd_usable: ENOTSUP on cgroup v2 without cpuset" "$rc:$(grep -c 'without the cpuset controller' <<<"$why")" "95:1"
    else
        is "vh_systemd_usable: ENOTSUP on the container's v1/hybrid layout, saying nothing is done" \
            "$rc:$(grep -c 'layout.*nothing is done' <<<"$why")" "95:1"
        echo "    ($why)"
    fi
    ncpu=$(in_ct nproc)
    hi=$((ncpu - 1))
    for u in system.slice user.slice init.scope; do
        shown() { in_ct systemctl show -p AllowedCPUs --value "$u"; }
        orig=$(shown)
        is "$u: vh_unit_get_allowed_cpus reads what systemctl shows ('$orig')" "$(getv "$u")" "$orig"
        is "$u: set AllowedCPUs=$hi" "$(setv "$u" "$hi")" ""
        is "$u: systemctl show reads $hi back" "$(shown)" "$hi"
        is "$u: vh_unit_get_allowed_cpus reads $hi" "$(getv "$u")" "$hi"
        check "$u: a runtime drop-in below /run/systemd, none in /etc" \
            in_ct sh -c "grep -rlqx 'AllowedCPUs=$hi' /run/systemd/system.control /run/systemd/transient 2>/dev/null && ! test -e /etc/systemd/system.control/$u.d"
        if ((ncpu > 1)); then
            is "$u: set 0-$hi" "$(setv "$u" "0-$hi")" ""
            is "$u: systemctl shows 0-$hi (all CPUs: not the same as unset)" "$(shown)" "0-$hi"
        fi
        is "$u: reset (\"\")" "$(setv "$u" "")" ""
        is "$u: systemctl shows AllowedCPUs unset again" "$(shown)" ""
        is "$u: vh_unit_get_allowed_cpus reads ''" "$(getv "$u")" ""
    done
    # the same through VMHOOKS_ROOT from the host's mount namespace (only the container's PID namespace entered)
    X set init.scope 0 >/dev/null
    is "VMHOOKS_ROOT=/proc/PID/root: vh_path leads to the container's /run/systemd/private" \
        "$(nsenter -t "$ct" -p -- env VMHOOKS_ROOT="/proc/$ct/root" "$cli" get init.scope 2>&1)" 0
    X set init.scope "" >/dev/null
    before=$(in_ct systemctl show -p AllowedCPUs --value machine.slice)
    out=$(X set machine.slice 0 2>&1); rc=$?
    is "machine.slice refused ($out)" "$rc:$(grep -c 'never touched' <<<"$out")" "1:1"
    is "machine.slice unchanged" "$(in_ct systemctl show -p AllowedCPUs --value machine.slice)" "$before"
    out=$(X set system.slice "0-" 2>&1); rc=$?
    is "a bad CPU list is refused before the bus ($out)" "$rc:$(in_ct systemctl show -p AllowedCPUs --value system.slice)" "1:"
    out=$(X get vmhooks-nosuch.service 2>&1); rc=$?
    is "a unit systemd does not have: not present ($out)" "$rc:$(grep -c 'not present here' <<<"$out")" "1:1"
    if [[ -e $cg/cgroup.controllers ]] && grep -qw cpuset "$cg/cgroup.controllers"; then
        ok "the container has cpuset on cgroup v2 (the cgroup files are checked in part 2 anyway)"
    else
        skip "container: cgroup files not checked here: this host's cgroup layout is v1/v2 hybrid (cpuset is a v1 controller), so systemd applies no cpuset in the container; part 2 checks them on cgroup v2"
    fi
fi
cleanup
nspawn_pid=
trap - EXIT
echo "t-systemd: container part in $(($(date +%s) - t0)) s"

# ---- 2. systemd on cgroup v2 in a TCG guest: the cgroup files ----
t1=$(date +%s)
kernel=$(ls "$root"/boot/vmlinuz-* 2>/dev/null | head -n1)
config=${kernel/vmlinuz/config}
qemu=$(command -v qemu-system-x86_64)
if [[ ${VH_SYSTEMD_GUEST:-1} == 0 ]]; then
    skip "guest part: VH_SYSTEMD_GUEST=0"
elif [[ -z $qemu ]]; then
    skip "guest part: qemu-system-x86_64 is not installed"
elif [[ -z $kernel ]] || ! grep -q '^CONFIG_BLK_DEV_NVME=y' "$config" || ! grep -q '^CONFIG_EXT4_FS=y' "$config"; then
    skip "guest part: $root has no kernel with NVMe and ext4 built in (linux-image-cloud-amd64)"
else
    img=$(mktemp "$B/stacks/systemd-guest.XXXXXX.img")
    out=$(mktemp)
    if ! mke2fs -q -F -t ext4 -d "$root" "$img" 2G; then
        nok "mke2fs -d $root"
    else
        # 2 vCPUs; KVM when /dev/kvm is usable, else TCG
        accel=tcg
        [[ -w /dev/kvm ]] && accel=kvm
        timeout 1500 "$qemu" -M q35 -accel "$accel" -smp 2 -m 1024 -nographic -no-reboot -nic none \
            -kernel "$kernel" -append "root=/dev/nvme0n1 rw console=ttyS0 quiet panic=-1 systemd.unit=vh-t.service" \
            -drive "file=$img,if=none,id=d0,format=raw,snapshot=on" -device nvme,drive=d0,serial=vh >"$out" 2>&1 </dev/null
        while IFS= read -r l; do
            l=${l%$'\r'}
            case $l in
            "VH: ok   - "*) ok "guest: ${l#VH: ok   - }" ;;
            "VH: FAIL - "*) nok "guest: ${l#VH: FAIL - }" ;;
            "VH: skip - "*) skip "guest: ${l#VH: skip - }" ;;
            "VH: # "*) echo "    ${l#VH: # }" ;;
            esac
        done < <(tr -d '\000' <"$out" | grep -a '^VH: ')
        if tr -d '\000' <"$out" | grep -aq '^VH-END'; then
            ok "guest: systemd-guest.sh ran to its end ($accel, $(tr -d '\000' <"$out" | grep -a '^VH-END' | cut -d' ' -f2) s of guest uptime)"
        else
            nok "guest: systemd-guest.sh did not finish: $(tr -d '\000' <"$out" | tail -n5 | tr '\n' ' ')"
        fi
    fi
    if [[ $hook_level == 0 ]]; then
        skip "guest: the hook itself is not run: this tree's lib/knobs.c has no allowed_cpus family yet"
    fi
    rm -f "$img" "$out"
    echo "t-systemd: guest part in $(($(date +%s) - t1)) s"
fi
echo "t-systemd: $(($(date +%s) - t0)) s in all"
count_line
exit $((fail > 0))
