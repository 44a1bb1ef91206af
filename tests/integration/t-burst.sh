#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# 24 guests started in parallel, libvirtd SIGKILLed in the middle of the
# burst, restarted; after destroying whatever runs, every knob is at its
# original and no registration is left (no ghost of a start that libvirt
# abandoned).  Three rounds.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup
N=24
for i in $(seq 1 $N); do
    if ((i % 2)); then
        vh_guest "b$i" 1 "<vmhooks:thp mode=\"never\"/><vmhooks:halt-poll ns=\"$((300000 + i * 1000))\"/><vmhooks:kworkers isolate=\"yes\"/>"
    else
        vh_guest "b$i" 0 "<vmhooks:thp mode=\"madvise\"/><vmhooks:kworkers isolate=\"yes\"/>"
    fi
done
hooks_idle() { local t; for ((t = 0; t < 600; t++)); do pgrep -f /usr/libexec/vmhooks/qemu-hook >/dev/null || return 0; sleep 0.1; done; return 1; }
running() { sandbox_virsh list --name | grep -c . || true; }

# hook calls libvirtd made so far (its log, kept across restarts)
hook_calls() { grep -c "Calling hook" /var/log/libvirt/libvirtd.log 2>/dev/null || echo 0; }
for round in 1 2 3; do
    pids=()
    for i in $(seq 1 $N); do sandbox_virsh start "b$i" >/dev/null 2>&1 & pids+=($!); done
    # SIGKILL libvirtd once some starts registered and others have not yet
    for ((t = 0; t < 300; t++)); do (($(vh_registered) >= 6)) && break; sleep 0.02; done
    regs=$(vh_registered)
    check "round $round: kill -9 libvirtd mid-burst (with $regs registrations)" sandbox_kill9_libvirtd
    for p in "${pids[@]}"; do wait "$p"; done
    check "round $round: hook calls left running finish" hooks_idle
    ghosts=$(vh_registered)
    calls_at_restart=$(hook_calls)
    check "round $round: libvirtd starts again" sandbox_start_libvirtd
    check "round $round: its reconnect/stop calls finish" hooks_idle
    r=$(running)
    echo "    # round $round: $regs registered at the kill, $ghosts after the burst, $r guests running after the restart"
    for d in $(sandbox_virsh list --name); do sandbox_guest_destroy "$d"; done
    check "round $round: the stop calls finish" hooks_idle
    calls=$(hook_calls)
    if ((calls == calls_at_restart)); then
        # libvirt sent no call at all after the restart (no guest had a status file): the ghosts
        # are dropped at the next call of any VM, which here is one more start and stop
        echo "    # round $round: no hook call after the restart; one start/destroy as the next call"
        check "round $round: start b1" sandbox_guest_start b1
        check "round $round: destroy b1" sandbox_guest_destroy b1
    fi
    is "round $round: guests running" "$(running)" 0
    is "round $round: registrations left" "$(vh_registered)" 0 || true
    if (($(vh_registered))); then
        vh_state | grep '^vm ' | sed 's/^/    # left: /'
        cat /run/libvirt/qemu/driver.pid 2>/dev/null | sed 's/^/    # driver.pid: /'
        for n in $(vh_state | sed -n 's/^vm .* name=\([^ ]*\) .*/\1/p'); do sed 's/^/    # '"$n"'.log: /' "/var/log/vmhooks/$n.log" | tail -8; done
    fi
    is "round $round: THP original" "$(knob $THP)" madvise
    is "round $round: halt_poll_ns original" "$(knob $HALT)" 200000
    is "round $round: workqueue mask original" "$(maskval $WQ)" 15
    is "round $round: writeback mask original" "$(maskval $WB)" 15
    is "round $round: knob records left" "$(vh_state | grep -c '^knob ' || true)" 0
    n=$(grep -h "its start was abandoned" /var/log/vmhooks/*.log 2>/dev/null | wc -l)
    echo "    # round $round: abandoned starts dropped so far: $n"
done
# a hook libvirtd had started but not yet fed when it was killed reads an empty stdin: that is said, and
# the VM starts untuned (it cannot: libvirtd is gone); any other error is ours
check "no error in any log but an empty XML on stdin" \
    bash -c '! grep -h "error:" /var/log/vmhooks/*.log | grep -v "domain XML on stdin: line 1: Document is empty"'
finish
