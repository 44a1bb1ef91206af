#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/integration/probe/argv-facts.sh OUTDIR — record the QEMU command
# lines this stack's libvirt writes, for tests/data/argv: the capabilities
# probe (a recording <emulator> that execs the real QEMU) and guests with
# PCI hostdevs, a virtio balloon and a `-set` from <qemu:commandline>, on
# the pc and q35 machines (`virsh domxml-to-native qemu-argv`: what libvirt
# would exec, without the host devices having to exist).  Not a test: it
# prints what it found and writes OUTDIR/NAME.args, one argument per line
# without argv[0].  Run on a stack with
#   bash tests/stacks/stack.sh trixie run bash tests/integration/probe/argv-facts.sh /tmp/argv-trixie
set -u
here=$(dirname "$(readlink -f "$0")")
out=$(readlink -f "${1:?usage: argv-facts.sh OUTDIR}")
mkdir -p "$out"
. "$here/../sandbox.sh"
sandbox_reexec "$@"
sandbox_setup
# libvirt writes a hostdev's -device only where it believes VFIO works
# (an IOMMU group in /sys/kernel/iommu_groups and /dev/vfio/vfio); the
# build machines have neither.  Fake both in this namespace only: a tmpfs
# over the (empty) iommu_groups and a private /dev whose nodes are the
# host's, bound one by one.  No QEMU is started with a hostdev: only
# `domxml-to-native` reads them.
mount -t tmpfs sandbox-iommu /sys/kernel/iommu_groups && mkdir -p /sys/kernel/iommu_groups/0/devices
hd=/run/vmhooks-sandbox/host-dev
mkdir -p "$hd" && mount --rbind /dev "$hd" && mount -t tmpfs -o mode=0755 sandbox-dev /dev
for n in null zero full random urandom tty ptmx kvm; do
    [[ -e $hd/$n ]] || continue
    touch "/dev/$n" && mount --bind "$hd/$n" "/dev/$n"
done
mkdir -p /dev/pts /dev/shm /dev/vfio && mount --rbind "$hd/pts" /dev/pts && mount -t tmpfs sandbox-shm /dev/shm
mknod -m 0666 /dev/vfio/vfio c 10 196
sandbox_start_daemons
echo "libvirt $(libvirtd --version | awk '{print $NF}'), $(qemu-system-x86_64 --version | head -1)"

# 1. the probe: libvirt runs the <emulator> to learn its capabilities
rec=/run/vmhooks-sandbox/rec-qemu
cat >"$rec" <<'SH'
#!/bin/sh
n=$(ls /run/vmhooks-sandbox/rec.* 2>/dev/null | wc -l)
for a in "$@"; do printf '%s\n' "$a"; done >/run/vmhooks-sandbox/rec.$n
exec /usr/bin/qemu-system-x86_64 "$@"
SH
chmod 0755 "$rec"
sandbox_virsh domcapabilities --emulatorbin "$rec" --virttype qemu >/dev/null
for f in /run/vmhooks-sandbox/rec.*; do
    echo "--- probe call $f: $(tr '\n' ' ' <"$f")"
done
# the run with the monitor (the last one) is the probe proper
last=$(ls /run/vmhooks-sandbox/rec.* | sort -t. -k2 -n | tail -1)
cp "$last" "$out/probe.args"

# 2. guests with hostdevs, a balloon and -set
guest() { # NAME MACHINE
    cat <<XML
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$1</name>
  <uuid>3c0e9d5e-0000-4000-8000-00000000001$2</uuid>
  <memory unit='MiB'>256</memory>
  <vcpu>2</vcpu>
  <os><type arch='x86_64' machine='$3'>hvm</type></os>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source><address domain='0x0000' bus='0x81' slot='0x00' function='0x0'/></source>
    </hostdev>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <source><address domain='0x0000' bus='0x82' slot='0x00' function='0x0'/></source>
      <alias name='ua-nvme1'/>
    </hostdev>
    <memballoon model='virtio'><alias name='balloon0'/></memballoon>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-set'/>
    <qemu:arg value='device.balloon0.deflate-on-oom=on'/>
  </qemu:commandline>
</domain>
XML
}
for m in pc q35; do
    n=hd-$m
    guest $n $([[ $m == pc ]] && echo 1 || echo 2) $m >/run/vmhooks-sandbox/$n.xml
    sandbox_virsh define /run/vmhooks-sandbox/$n.xml >/dev/null || continue
    if argv=$(sandbox_virsh domxml-to-native qemu-argv --domain $n 2>&1); then
        echo "--- $n: $argv"
        # one argument per line; libvirt quotes arguments with a space or a
        # quote in '...' (no argument here has a single quote in it)
        python3 - "$argv" >"$out/libvirt11-$m-hostdevs.args" <<'PY'
import shlex, sys
words = shlex.split(sys.argv[1])
while words and '=' in words[0] and not words[0].startswith('-'):
    words.pop(0)              # the environment libvirt prints first
print('\n'.join(words[1:]))   # without argv[0]
PY
    else
        echo "--- $n: domxml-to-native failed: $argv"
    fi
done
ls -l "$out"
