#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Make the libvirt daemon that runs the QEMU driver look for hooks again
# (libvirt reads /etc/libvirt/hooks at start and on SIGHUP: FACTS.md §6):
# libvirtd on a monolithic host, virtqemud on a modular one (libvirt's
# remote_daemon.c: SIGHUP reloads every daemon built from it; their systemd
# units map `systemctl reload` to SIGHUP).  Only a daemon that runs now is
# reloaded; none is ever started or restarted: a socket-activated virtqemud
# that is not running reads the hook when its socket next starts it.
#   reload-libvirt.sh WHY      e.g. "runs the hook", "forgets the hook"
# Environment (tests): RUN_DIR (/run), PROC_DIR (/proc), SYSTEMCTL (systemctl)
set -u
why=${1:-loads the hook}
run=${RUN_DIR:-/run} proc=${PROC_DIR:-/proc} systemctl=${SYSTEMCTL:-systemctl}
reloaded=no
for d in libvirtd virtqemud; do
    if [ -d "$run/systemd/system" ] && "$systemctl" is-active --quiet "$d.service" 2>/dev/null; then
        if "$systemctl" reload "$d.service"; then
            echo "reloaded $d (systemctl reload: SIGHUP) so that it $why"
        else
            echo "warning: systemctl reload $d.service failed: restart $d so that it $why" >&2
        fi
        reloaded=yes
        continue
    fi
    pid=$(cat "$run/$d.pid" 2>/dev/null) || continue
    case $pid in '' | *[!0-9]*) continue ;; esac
    # a stale pidfile, or its PID reused by another program, is not the daemon
    [ "$(cat "$proc/$pid/comm" 2>/dev/null)" = "$d" ] || continue
    if kill -HUP "$pid" 2>/dev/null; then
        echo "sent SIGHUP to $d (PID $pid) so that it $why"
    else
        echo "warning: could not signal $d (PID $pid): restart it or send it SIGHUP so that it $why" >&2
    fi
    reloaded=yes
done
[ $reloaded = yes ] || echo "neither libvirtd nor virtqemud runs: the one you start $why when it starts (nothing was started)"
exit 0
