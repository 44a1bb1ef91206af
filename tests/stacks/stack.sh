#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/stacks/stack.sh — a second (or third) libvirt + QEMU generation for
# the real-stack tests: a Debian root made with debootstrap, cached under
# $(BUILD)/stacks/NAME, entered with a private mount namespace and pivot_root.
# Inside it vmhooks is built with that root's compilers and libraries and
# tests/integration/run.sh runs as usual: every test script still makes its
# own sandbox (sandbox.sh: mount, PID and network namespaces) there.
#
#   stack.sh NAME prepare         make or update the root (root only)
#   stack.sh NAME run CMD...      run CMD in the root, cwd = this tree
#   stack.sh NAME integration [TEST...]
#                                 build there (BUILD=build/stack-NAME), then
#                                 tests/integration/run.sh [TEST...]
#   stack.sh NAME build [TARGET...]  make [TARGET...] there (default: all)
#   stack.sh host                 prints the host's codename (the stack
#                                 `make integration` runs directly)
#
# NAME is a Debian suite (bookworm, trixie).  If NAME is the host's own
# codename, `run` runs CMD directly on the host (no root is made).
#
# The root: `debootstrap --variant=minbase NAME` from the host's configured
# Debian mirror, then `.ci/deps.sh` run inside it (the same package list CI
# installs on the host: compilers, libxml2, libvirt-daemon-system,
# qemu-system-x86/arm, swtpm, ...), with a policy-rc.d that forbids
# starting daemons.  A stamp records the hash of .ci/deps.sh and ROOT_FORMAT
# below: when either changes, `prepare` runs deps.sh again in the same root
# (installs what is missing) instead of making a new one.  Delete
# $(BUILD)/stacks/NAME to start over.
#
# Entering (`run`): `unshare --mount --propagation private`, then binds of
# /dev, /proc, /sys (recursive) and of this tree at its own path into the
# root, the host's resolv.conf, then pivot_root into it (the host's root
# is detached from that namespace).  Nothing is mounted on the
# host's namespace; the root's files are owned by root and stay in build/.
set -euo pipefail

here=$(cd "$(dirname "$(readlink -f "$0")")" && pwd)
repo=$(cd "$here/../.." && pwd)
B=${BUILD:-build}
[[ $B == /* ]] || B=$repo/$B

die() { echo "stack: $*" >&2; exit 2; }
log() { echo "stack: $*" >&2; }

host_codename() { . /etc/os-release && echo "${VERSION_CODENAME:-unknown}"; }

# The Debian mirror the host is configured with (deb822 or one-line format).
host_mirror() {
    local m
    m=$(awk '/^URIs:/ && $2 ~ /debian\/?$/ && $2 !~ /security/ {print $2; exit}' \
        /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
    [[ -n $m ]] || m=$(awk '$1 == "deb" && $2 ~ /debian\/?$/ && $2 !~ /security/ {print $2; exit}' \
        /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true)
    echo "${m:-http://deb.debian.org/debian}"
}

# Bump when the way a root is made changes (debootstrap options, sources).
ROOT_FORMAT=1
stamp_of() { { echo "$ROOT_FORMAT"; cat "$repo/.ci/deps.sh"; } | sha256sum | cut -c1-16; }

[[ $# -ge 1 ]] || die "usage: stack.sh NAME prepare|run|build|integration ...  or  stack.sh host"
name=$1; shift
if [[ $name == host ]]; then host_codename; exit 0; fi
[[ $name =~ ^[a-z]+$ ]] || die "stack name '$name': want a Debian suite name such as trixie"
cmd=${1:-integration}; shift || true
root=$B/stacks/$name
on_host=0
[[ $name == "$(host_codename)" ]] && on_host=1

need_root() { [[ $(id -u) == 0 ]] || die "$1 needs root (debootstrap, mounts, pivot_root)"; }

# The repository of a git worktree when it lies outside the tree ("" if not)
git_common_dir() {
    local d
    d=$(git -C "$repo" rev-parse --path-format=absolute --git-common-dir 2>/dev/null) || return 0
    case $d in "$repo"/*) ;; *) echo "$d" ;; esac
}

# _enter ROOT CMD...: CMD in ROOT, private mount namespace, cwd = $repo
_enter() {
    local r=$1; shift
    # what crosses into the root's clean environment: make test's summary
    # file (under build/, the same path there) and the suite's name
    local pass=${VH_STACK_ENV:-} v
    for v in VH_TEST_SUMMARY VH_SUITE; do
        [[ -n ${!v:-} ]] && pass+=" $v=${!v}"
    done
    VH_STACK_ENV=$pass unshare --mount --propagation private --fork -- "$BASH" -c '
        set -e
        r=$1 repo=$2 gitdir=$3; shift 3
        # the root must be a mount point: the sandbox inside makes / private
        # (unshare --propagation private), which fails with EINVAL on a plain dir
        mount --bind "$r" "$r"
        mount --rbind /dev "$r/dev"
        mount --make-rslave "$r/dev"
        mount -t proc proc "$r/proc"
        mount --rbind /sys "$r/sys"
        mount --make-rslave "$r/sys"
        mkdir -p "$r$repo"
        mount --bind "$repo" "$r$repo"
        # a git worktree keeps its repository elsewhere: git ls-files (the
        # packaging, t-package) needs it too, read-only
        if [ -n "$gitdir" ]; then
            mkdir -p "$r$gitdir"
            mount --bind -o ro "$gitdir" "$r$gitdir"
        fi
        [ -e /etc/resolv.conf ] && cat /etc/resolv.conf > "$r/etc/resolv.conf" || true
        # pivot_root, not chroot: the root is then the root of this mount
        # namespace, also in the copies libvirt makes for QEMU
        # (qemu.conf namespaces), so /proc/PID/exe reads as on a real host
        cd "$r"
        mkdir -p .stack-oldroot
        pivot_root . .stack-oldroot
        umount -l /.stack-oldroot
        cd /
        exec /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
            HOME=/root LANG=C.UTF-8 TERM="${TERM:-dumb}" ${VH_STACK_ENV:-} \
            /bin/bash -c "cd \"\$0\" && exec \"\$@\"" "$repo" "$@"
    ' stack-enter "$r" "$repo" "$(git_common_dir)" "$@"
}

prepare() {
    if ((on_host)); then log "$name is the host's own release: nothing to prepare"; return 0; fi
    need_root prepare
    local want t0 mirror tmp
    want=$(stamp_of)
    if [[ -f $root/.vmhooks-stack ]] && [[ $(cat "$root/.vmhooks-stack") == "$want" ]]; then
        log "$root is ready (stamp $want)"
        return 0
    fi
    command -v debootstrap >/dev/null || die "debootstrap is missing (make deps installs it)"
    mirror=$(host_mirror)
    t0=$(date +%s)
    if [[ ! -x $root/usr/bin/apt-get ]]; then
        tmp=$root.tmp
        rm -rf "$tmp"
        mkdir -p "$(dirname "$root")"
        log "debootstrap --variant=minbase $name $tmp $mirror"
        debootstrap --variant=minbase "$name" "$tmp" "$mirror" >"$B/stacks/$name-debootstrap.log" 2>&1 ||
            { tail -n 20 "$B/stacks/$name-debootstrap.log" >&2; die "debootstrap failed (log: $B/stacks/$name-debootstrap.log)"; }
        cat >"$tmp/etc/apt/sources.list" <<EOF
deb $mirror $name main
deb $mirror $name-updates main
deb ${mirror%/debian*}/debian-security $name-security main
EOF
        printf '#!/bin/sh\n# vmhooks stack: package scripts never start daemons here\nexit 101\n' >"$tmp/usr/sbin/policy-rc.d"
        chmod 0755 "$tmp/usr/sbin/policy-rc.d"
        # no man pages, docs or locales beyond what the tests read
        mv "$tmp" "$root"
        log "debootstrap done in $(($(date +%s) - t0)) s ($(du -sh "$root" | cut -f1))"
    fi
    local t1
    t1=$(date +%s)
    _enter "$root" bash .ci/deps.sh || die "deps.sh in $root failed"
    log "packages installed in $(($(date +%s) - t1)) s ($(du -sh "$root" | cut -f1))"
    echo "$want" >"$root/.vmhooks-stack"
}

run() {
    if ((on_host)); then "$@"; return; fi
    need_root "entering $root"
    [[ -f $root/.vmhooks-stack ]] || die "$root is not made yet: run 'stack.sh $name prepare' (make stack STACK=$name)"
    [[ $(cat "$root/.vmhooks-stack") == "$(stamp_of)" ]] ||
        log "warning: $root was made by another .ci/deps.sh or stack.sh (run prepare to update it)"
    _enter "$root" "$@"
}

# The build directory for this stack's objects, relative to the tree
stack_build() { if ((on_host)); then echo "${BUILD:-build}"; else echo "${BUILD:-build}/stack-$name"; fi; }

case $cmd in
prepare) prepare ;;
run) run "$@" ;;
build)
    prepare
    run make --no-print-directory -j2 BUILD="$(stack_build)" "${@:-all}" ;;
integration)
    prepare
    sb=$(stack_build)
    run make --no-print-directory -j2 BUILD="$sb" all test-binaries
    log "integration on $name: $(run sh -c 'libvirtd --version; qemu-system-x86_64 --version | head -1' | tr '\n' ' ')"
    VH_STACK_ENV="BUILD=$sb VH_STACK=$name" run bash tests/integration/run.sh "$@" ;;
*) die "unknown command '$cmd' (prepare, run, build, integration)" ;;
esac
