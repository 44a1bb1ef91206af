#!/bin/bash
# mkroot.sh DIR NVMS: a fake host for the hook bench: the knobs of issue 3's
# scenario, the shipped policy, and NVMS running VMs already registered
# (each with a live-looking /proc/PID/stat), as the hook's state holds them.
set -eu
root=$1 n=$2 repo=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$root"
mkdir -p "$root/sys/kernel/mm/transparent_hugepage" "$root/sys/devices/virtual/workqueue" \
    "$root/sys/bus/workqueue/devices/writeback" "$root/sys/devices/system/cpu" \
    "$root/sys/module/kvm/parameters" "$root/etc/vmhooks" "$root/run/vmhooks" "$root/proc"
echo "always [madvise] never" >"$root/sys/kernel/mm/transparent_hugepage/enabled"
echo ffffffff,ffffffff >"$root/sys/devices/virtual/workqueue/cpumask"
echo ffffffff,ffffffff >"$root/sys/bus/workqueue/devices/writeback/cpumask"
echo 0-63 >"$root/sys/devices/system/cpu/online"
echo 200000 >"$root/sys/module/kvm/parameters/halt_poll_ns"
cp "$repo/etc/policy.xml" "$root/etc/vmhooks/policy.xml"
# ISOLATE=1: 64 IRQs and the default IRQ mask; systemd "present" (its bus
# is not: the three units are looked up and found unreachable, no D-Bus
# round trip is measured here)
if [ "${ISOLATE:-0}" = 1 ]; then
    for i in $(seq 0 63); do mkdir -p "$root/proc/irq/$i" && echo 0-63 >"$root/proc/irq/$i/smp_affinity_list"; done
    echo ffffffff,ffffffff >"$root/proc/irq/default_smp_affinity"
    mkdir -p "$root/run/systemd/system"
fi
{
    echo "vmhooks-state 1"
    if [ "$n" -gt 0 ]; then
        echo "knob halt_poll_ns original=200000 expected=300000 written=300000"
    fi
    for i in $(seq 1 "$n"); do
        pid=$((100000 + i))
        printf 'vm uuid=00000000-0000-0000-0000-%012d name=vm%d since=1764000000 pid=%d pidstart=4242 halt_poll_ns=300000\n' \
            "$i" "$i" "$pid"
        mkdir -p "$root/proc/$pid"
        echo "$pid (qemu-system-x86) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 4242 0 0" >"$root/proc/$pid/stat"
    done
} >"$root/run/vmhooks/state"
chmod 0700 "$root/run/vmhooks"
