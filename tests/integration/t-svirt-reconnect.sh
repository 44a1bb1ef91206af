#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The duplicate MCS check survives a libvirtd SIGKILL + restart, on the
# real libvirtd and real QEMUs: B runs, libvirtd is killed and started
# again (reconnect begin), then A, whose label has B's categories, is
# refused at started begin; C, with its own categories, starts.
#
# What is real: libvirtd 9.0 calling the hook at prepare/start/started,
# the SIGKILL, the restart and its reconnect calls, QEMU's PIDs, pidfiles
# and /proc/PID/stat and cmdline (the hook checks that the pidfile's PID is
# the VM's QEMU by its -uuid), the state file surviving on /run.  What is faked,
# because these machines have no SELinux (no /sys/fs/selinux, EINVAL from
# /proc/PID/attr/current, and libvirt refuses a model='selinux' seclabel):
# the hook is the test build behind a shim (installed as the libvirt
# hook) that runs it with VMHOOKS_ROOT on a tree mirroring the host, in
# which /sys/fs/selinux/enforce is 1, each running QEMU's
# /proc/PID/attr/current holds the label the test gave its VM, and the
# domain XML gets that label as libvirt's SELinux driver would write it.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup
F=/run/vmhooks-sandbox/fake
mkdir -p "$F/etc/vmhooks" "$F/sys/fs/selinux" "$F/labels" "$F/proc" "$F/run/libvirt"
echo 1 >"$F/sys/fs/selinux/enforce"
echo '<policy xmlns="urn:vmhooks:policy:1"><svirt mode="enforce"/></policy>' >"$F/etc/vmhooks/policy.xml"
ln -sfn /run/libvirt/qemu "$F/run/libvirt/qemu"
echo "system_u:system_r:svirt_tcg_t:s0:c1,c2" >"$F/labels/B"
echo "system_u:system_r:svirt_tcg_t:s0:c2,c1" >"$F/labels/A"
echo "system_u:system_r:svirt_tcg_t:s0:c3,c4" >"$F/labels/C"
echo "system_u:system_r:svirt_tcg_t:s0:c5,c6" >"$F/labels/D"
mkdir -p "$F/notqemu"
rm -f /etc/libvirt/hooks/qemu
cat >/etc/libvirt/hooks/qemu <<SH
#!/bin/bash
# t-svirt-reconnect.sh's shim: the test-build hook with faked SELinux facts
F=$F
for pf in /run/libvirt/qemu/*.pid; do
    [ -e "\$pf" ] || continue
    pid=\$(cat "\$pf"); n=\$(basename "\$pf" .pid)
    [ -d /proc/\$pid ] || continue
    mkdir -p "\$F/proc/\$pid/attr"
    ln -sf "/proc/\$pid/stat" "\$F/proc/\$pid/stat"
    ln -sf "/proc/\$pid/cmdline" "\$F/proc/\$pid/cmdline"
    # notqemu/NAME: the pidfile's PID shows another program's command line (init's)
    [ -e "\$F/notqemu/\$n" ] && ln -sf /proc/1/cmdline "\$F/proc/\$pid/cmdline"
    if [ -f "\$F/labels/\$n" ]; then cp "\$F/labels/\$n" "\$F/proc/\$pid/attr/current"; else rm -f "\$F/proc/\$pid/attr/current"; fi
done
for d in "\$F"/proc/[0-9]*; do [ -d "/proc/\${d##*/}" ] || rm -rf "\$d"; done
xml=\$(cat)
if [ -f "\$F/labels/\$1" ]; then
    l=\$(cat "\$F/labels/\$1")
    xml=\${xml/<\/domain>/<seclabel type=\'dynamic\' model=\'selinux\' relabel=\'yes\'><label>\$l<\/label><\/seclabel><\/domain>}
fi
printf '%s' "\$xml" | VMHOOKS_ROOT=\$F /usr/libexec/vmhooks/qemu-hook "\$@"
SH
chmod 0755 /etc/libvirt/hooks/qemu
flog() { cat "$F/var/log/vmhooks/$1.log" 2>/dev/null; }

vh_guest B ""
vh_guest A ""
vh_guest C ""
check "start B" sandbox_guest_start B
contains "state: B's label" "$(cat "$F/run/vmhooks/state")" "label=system_u:system_r:svirt_tcg_t:s0:c1,c2"

# B's label cannot be read after the restart: only the recorded one keeps B visible
mv "$F/labels/B" "$F/labels/B.off"
check "kill -9 libvirtd" sandbox_kill9_libvirtd
check "libvirtd starts again" sandbox_start_libvirtd
is "B still running" "$(sandbox_guest_state B)" running
contains "B.log" "$(flog B)" "reconnect begin: libvirtd reconnected: registration kept as at its start"
contains "state after reconnect: B's label kept" "$(cat "$F/run/vmhooks/state")" "label=system_u:system_r:svirt_tcg_t:s0:c1,c2"

out=$(sandbox_virsh start A 2>&1) && nok "start A beside B (same MCS) should fail" || ok "start A beside B (same MCS) fails"
contains "virsh start A" "$out" "A started begin -) unexpected exit status 1: vmhooks: svirt: QEMU of VM A"
contains "virsh start A" "$out" "MCS s0:c1,c2 is also used by running VM B"
is "A state" "$(sandbox_guest_state A)" "shut off"
check "start C (its own MCS)" sandbox_guest_start C

# a second SIGKILL, B readable again: reconnect reads it from /proc; still refused
mv "$F/labels/B.off" "$F/labels/B"
check "kill -9 libvirtd again" sandbox_kill9_libvirtd
check "libvirtd starts again" sandbox_start_libvirtd
out=$(sandbox_virsh start A 2>&1) && nok "start A after the second restart should fail" || ok "start A after the second restart fails"
contains "virsh start A" "$out" "MCS s0:c1,c2 is also used by running VM B"
check "destroy B" sandbox_guest_destroy B
check "start A once B is gone" sandbox_guest_start A
check "destroy A" sandbox_guest_destroy A
check "destroy C" sandbox_guest_destroy C

# D's label is right, but the PID its pidfile names does not run D's QEMU
# (the shim shows init's command line for it): its label is not taken for QEMU's
vh_guest D ""
touch "$F/notqemu/D"
out=$(sandbox_virsh start D 2>&1) && nok "start D (PID not its QEMU) should fail" || ok "start D (PID not its QEMU) fails"
contains "virsh start D" "$out" "D started begin -) unexpected exit status 1: vmhooks: svirt: "
contains "virsh start D" "$out" "/run/libvirt/qemu/D.pid is not QEMU of VM D (-uuid "
is "D state" "$(sandbox_guest_state D)" "shut off"
rm -f "$F/notqemu/D"
check "start D (its own QEMU)" sandbox_guest_start D
check "destroy D" sandbox_guest_destroy D
finish
