#!/usr/bin/env bash
# Install what vmhooks needs to build and test, on Debian/Ubuntu, and only
# what is missing.  `make deps`, `make test` and `make demo` call it.
#   --build   only the build and unit-test dependencies
# tests/stacks/stack.sh runs it inside the trixie root too (make integration
# STACK=trixie): the same list, on that release.
set -euo pipefail

# clang's runtimes (ASan for the fuzzers) are versioned: the clang of the release
codename=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")
case $codename in
bookworm) clang_rt=libclang-rt-14-dev ;;
trixie)   clang_rt=libclang-rt-19-dev ;;
*)        clang_rt=libclang-rt-dev ;;
esac
build_pkgs=(build-essential gcc make git libc6-dev pkg-config clang "$clang_rt" valgrind python3 debhelper rpm logrotate man-db groff-base
            libxml2-dev libselinux1-dev libcap-ng-dev libjson-c-dev libvirt-dev libcmocka-dev
            libxml2-utils bash-completion checkpolicy selinux-policy-dev)
stack_pkgs=(libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-system-arm swtpm swtpm-tools util-linux procps apparmor
            iproute2 debootstrap qemu-guest-agent irqbalance
            systemd-container e2fsprogs libsystemd0)  # t-systemd.sh: nspawn, mke2fs -d, sd-bus (dlopen()ed)

pkgs=("${build_pkgs[@]}")
[ "${1:-}" = --build ] || pkgs+=("${stack_pkgs[@]}")

if ! command -v dpkg-query >/dev/null; then
    echo "deps: not a Debian-like system; install the equivalents of: ${pkgs[*]}" >&2
    exit 1
fi
missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#pkgs[@]} packages present"
    exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing packages: ${missing[*]}; run as root (sudo make deps) to install them" >&2
    exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# Keep package scripts from starting daemons on the host: the tests run their own in a namespace.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$policy" && chmod 0755 "$policy" && created_policy=1
fi
trap '[ $created_policy = 1 ] && rm -f "$policy"' EXIT
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "deps: done"
