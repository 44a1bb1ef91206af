#!/usr/bin/env bash
# Make the wrapper and the hook run under AppArmor and SELinux (make install).
#   AppArmor: etc/apparmor/* -> /etc/apparmor.d/vmhooks/, included from the
#             local/ files of libvirtd's profile and of the guests'
#             abstraction; profiles reloaded when AppArmor is active.
#   SELinux:  the wrapper labelled qemu_exec_t (semanage fcontext, restorecon),
#             and the vmhooks policy module (etc/selinux) when the policy
#             devel files are there; only when SELinux is enabled.
# --remove undoes it.  Environment: DESTDIR, SYSCONFDIR (/etc), SRC (repo etc/),
# WRAPPER (installed wrapper path).
set -euo pipefail
: "${SYSCONFDIR:=/etc}" "${DESTDIR:=}" "${SRC:?}" "${WRAPPER:?}"
aa=$DESTDIR$SYSCONFDIR/apparmor.d
remove=0
[ "${1:-}" = --remove ] && remove=1

# add_include FILE LINE / drop_include FILE LINE: idempotent, keeps the rest of FILE
add_include() {
    mkdir -p "$(dirname "$1")"
    touch "$1"
    grep -qxF "$2" "$1" || printf '%s\n' "$2" >>"$1"
}
drop_include() {
    [ -f "$1" ] || return 0
    local tmp
    tmp=$(mktemp)
    grep -vxF "$2" "$1" >"$tmp" || true
    cat "$tmp" >"$1"
    rm -f "$tmp"
}

if [ -d "$aa" ] || [ -d "$SYSCONFDIR/apparmor.d" ]; then
    if [ $remove = 1 ]; then
        drop_include "$aa/local/usr.sbin.libvirtd" "include <vmhooks/libvirtd>"
        drop_include "$aa/local/abstractions/libvirt-qemu" "include <vmhooks/qemu>"
        rm -f "$aa/vmhooks/libvirtd" "$aa/vmhooks/qemu"
        rmdir "$aa/vmhooks" 2>/dev/null || true
        echo "AppArmor: removed vmhooks' rules"
    else
        install -d "$aa/vmhooks"
        install -m 0644 "$SRC/apparmor/vmhooks-libvirtd" "$aa/vmhooks/libvirtd"
        install -m 0644 "$SRC/apparmor/vmhooks-qemu" "$aa/vmhooks/qemu"
        add_include "$aa/local/usr.sbin.libvirtd" "include <vmhooks/libvirtd>"
        add_include "$aa/local/abstractions/libvirt-qemu" "include <vmhooks/qemu>"
        echo "AppArmor: rules in ${aa#"$DESTDIR"}/vmhooks/, included from local/usr.sbin.libvirtd and local/abstractions/libvirt-qemu"
    fi
    if [ -z "$DESTDIR" ] && [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] &&
        command -v apparmor_parser >/dev/null && [ -f "$aa/usr.sbin.libvirtd" ]; then
        apparmor_parser -r "$aa/usr.sbin.libvirtd" && echo "AppArmor: reloaded libvirtd's profile"
        echo "AppArmor: guests pick up the abstraction at their next start"
    fi
fi

if [ -z "$DESTDIR" ] && command -v selinuxenabled >/dev/null && selinuxenabled; then
    if [ $remove = 1 ]; then
        semodule -r vmhooks 2>/dev/null || true
        semanage fcontext -d "$WRAPPER" 2>/dev/null || true
        echo "SELinux: removed vmhooks' module and file context"
    else
        if ! semanage fcontext -a -t qemu_exec_t "$WRAPPER" 2>/dev/null; then
            semanage fcontext -m -t qemu_exec_t "$WRAPPER"
        fi
        restorecon -v "$WRAPPER"
        if [ -f /usr/share/selinux/devel/Makefile ]; then
            build=$(mktemp -d)
            cp "$SRC/selinux/vmhooks.te" "$SRC/selinux/vmhooks.fc" "$build/"
            make -s -C "$build" -f /usr/share/selinux/devel/Makefile vmhooks.pp
            semodule -i "$build/vmhooks.pp"
            rm -rf "$build"
            restorecon -R /var/lib/vmhooks /run/vmhooks-wrapper 2>/dev/null || true
            echo "SELinux: $WRAPPER is qemu_exec_t; module vmhooks installed"
        else
            echo "SELinux: $WRAPPER is qemu_exec_t; install the policy devel files" \
                "(selinux-policy-devel) and re-run make install for the vmhooks module" \
                "that lets guests read /var/lib/vmhooks and /run/vmhooks-wrapper"
        fi
    fi
fi
