#!/usr/bin/env bash
# Link vmhooks' hook where libvirt looks for it, never over a foreign hook.
#   /etc/libvirt/hooks/qemu          when that path is free (or already ours)
#   /etc/libvirt/hooks/qemu.d/vmhooks when another qemu hook is installed
# With --remove, take away only links that point at our hook.
# Environment: DESTDIR, SYSCONFDIR (/etc), HOOK (absolute path of qemu-hook).
set -euo pipefail

: "${SYSCONFDIR:=/etc}" "${DESTDIR:=}"
: "${HOOK:?HOOK must name the installed qemu-hook}"
hooks="$DESTDIR$SYSCONFDIR/libvirt/hooks"
main="$hooks/qemu"
dropin="$hooks/qemu.d/vmhooks"

ours() { [ -L "$1" ] && [ "$(readlink "$1")" = "$HOOK" ]; }

if [ "${1:-}" = --remove ]; then
    for link in "$main" "$dropin"; do
        if ours "$link"; then rm -f "$link"; echo "removed $link"; fi
    done
    rmdir "$hooks/qemu.d" 2>/dev/null || true
    # make uninstall then reloads the running daemon (tools/reload-libvirt.sh);
    # into a DESTDIR, the daemon of the target host is not ours to signal
    [ -z "$DESTDIR" ] || echo "restart libvirtd (or virtqemud), or send it SIGHUP, so that libvirt forgets the hook"
    exit 0
fi

mkdir -p "$hooks"
if ours "$main"; then
    echo "hook already installed: ${main#"$DESTDIR"} -> $HOOK"
elif [ ! -e "$main" ] && [ ! -L "$main" ]; then
    ln -s "$HOOK" "$main"
    echo "installed hook: ${main#"$DESTDIR"} -> $HOOK"
else
    echo "a foreign qemu hook exists at ${main#"$DESTDIR"}; leaving it untouched"
    mkdir -p "$hooks/qemu.d"
    if ours "$dropin"; then
        echo "hook already installed: ${dropin#"$DESTDIR"} -> $HOOK"
    elif [ -e "$dropin" ] || [ -L "$dropin" ]; then
        echo "error: ${dropin#"$DESTDIR"} exists and is not vmhooks' hook; not touching it" >&2
        exit 1
    else
        ln -s "$HOOK" "$dropin"
        echo "installed hook: ${dropin#"$DESTDIR"} -> $HOOK"
    fi
fi
# make install then reloads the daemon that runs (tools/reload-libvirt.sh)
if [ -n "$DESTDIR" ]; then
    echo "libvirt reads hooks only when it starts: restart libvirtd (or virtqemud), or send it SIGHUP"
    echo "  (systemctl reload libvirtd or virtqemud, or: kill -HUP \$(pidof libvirtd virtqemud))"
fi
