#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Runs INSIDE the TCG guest of tests/integration/t-systemd.sh, as the one
# unit systemd starts (systemd.unit=vh-t.service): systemd is PID 1 on
# cgroup v2 with the cpuset controller.  lib/sdunits.c (sdunits-cli) sets
# and resets AllowedCPUs of system.slice, user.slice and init.scope;
# systemctl, the cgroup files and the affinity of a task in each unit are
# the oracles.  Section 5 (systemd-libvirt.sh) runs the installed hook
# under a real libvirtd: two guests pinned to CPU 1 under <isolate/>, all
# four sources, irqbalance running.  Every line of the result goes to the serial console as
# "VH: ok   - ..." / "VH: FAIL - ...", then "VH-END"; the host counts them.
exec >/dev/ttyS0 2>&1
cli=/usr/local/lib/vmhooks-test/sdunits-cli
C=/sys/fs/cgroup
units=(system.slice user.slice init.scope)
say() { echo "VH: $*"; }
ok() { say "ok   - $*"; }
nok() { say "FAIL - $*"; }
is() { if [ "$2" = "$3" ]; then ok "$1"; else nok "$1: got '$2', expected '$3'"; fi; }

f() { if [ -e "$1" ]; then echo "[$(cat "$1")]"; else echo absent; fi; }
aff() { taskset -cp "$1" | sed 's/.*: //'; }
# Everything a reset must leave as it was: per unit its cgroup's cpuset.cpus
# and cpuset.cpus.effective (absent when the controller is off there), the
# affinity of a task in it (PID 1 for init.scope; a child service's task for
# the slices: the children's effective CPUs), and the root's controllers.
state() {
    echo "root subtree_control [$(cat $C/cgroup.subtree_control)]"
    local u
    for u in "${units[@]}"; do
        echo "$u cpus=$(f $C/$u/cpuset.cpus) effective=$(f $C/$u/cpuset.cpus.effective)"
    done
    echo "system.slice/vhc.service effective=$(f $C/system.slice/vhc.service/cpuset.cpus.effective) task=$(aff "$(head -n1 $C/system.slice/vhc.service/cgroup.procs)")"
    echo "user.slice/vhu.service effective=$(f $C/user.slice/vhu.service/cpuset.cpus.effective) task=$(aff "$(head -n1 $C/user.slice/vhu.service/cgroup.procs)")"
    echo "init.scope task (PID 1)=$(aff 1)"
}
# AllowedCPUs of the three units as systemctl shows them, one line
shown() { systemctl show -p AllowedCPUs "${units[@]}" | sed -n 's/^AllowedCPUs=//p' | paste -sd'|'; }
# vh_unit_set_allowed_cpus on each unit; the lines it printed
set_all() {
    local u out=""
    for u in "${units[@]}"; do
        out+="$($cli set "$u" "$1" 2>&1 || echo "exit $?") "
    done
    echo "$out" | sed 's/  */ /g; s/ $//'
}

echo "VH-BEGIN $(cut -d' ' -f1 /proc/uptime)"
last=$(($(nproc) - 1))
full=$(aff 1) # every CPU, as taskset spells it
is "the guest has 2 CPUs" "$last" 1
out=$($cli usable); rc=$?
is "vh_systemd_usable: systemd PID 1, cgroup v2 with cpuset, bus reachable ($out)" "$rc" 0
# a task in system.slice and one in user.slice (user.slice has no cgroup until something runs there)
systemd-run -q --unit=vhc sleep 100000
systemd-run -q --unit=vhu --slice=user.slice sleep 100000

# 1. the cpuset controller used by nobody else
s_initial=$(state)
s0=$s_initial
is "AllowedCPUs unset on all three before" "$(shown)" "||"
is "vh_unit_get_allowed_cpus: '' for each" "$($cli get system.slice)|$($cli get user.slice)|$($cli get init.scope)" "||"
is "set AllowedCPUs=1 on all three" "$(set_all 1)" ""
is "systemctl shows AllowedCPUs=1 for all three" "$(shown)" "1|1|1"
is "vh_unit_get_allowed_cpus reads 1 back" "$($cli get system.slice)|$($cli get user.slice)|$($cli get init.scope)" "1|1|1"
is "the three cgroups: cpuset.cpus 1" "$(f $C/system.slice/cpuset.cpus)$(f $C/user.slice/cpuset.cpus)$(f $C/init.scope/cpuset.cpus)" "[1][1][1]"
is "a task of a service in system.slice runs on CPU 1 only" "$(aff "$(head -n1 $C/system.slice/vhc.service/cgroup.procs)")" 1
is "a task in user.slice runs on CPU 1 only" "$(aff "$(head -n1 $C/user.slice/vhu.service/cgroup.procs)")" 1
is "PID 1 (init.scope) runs on CPU 1 only" "$(aff 1)" 1
is "runtime drop-in, not a persistent one" \
    "$(ls /run/systemd/system.control/system.slice.d/ 2>&1 | grep -c AllowedCPUs) $(ls /etc/systemd/system.control 2>/dev/null | wc -l)" "1 0"
# one by one: the first two find the controller still on for the others (widened), the last turns it off
out=$(set_all '')
ok "reset (\"\") all three, one after the other (printed: '$out')"
is "systemctl shows AllowedCPUs unset again" "$(shown)" "||"
s1=$(state)
if [ "$s1" = "$s0" ]; then ok "cgroup files and affinities exactly as before"; else nok "cgroup state after the reset differs: before: $s0 // after: $s1"; fi

# 2. the cpuset controller kept on by a sibling: a pinned VM in machine.slice
#    (libvirt's vCPU cgroups need it); systemd issue 43846
systemd-run -q --unit=vhm --slice=machine.slice -p AllowedCPUs=0-$last sleep 100000
m0=$(f $C/machine.slice/vhm.service/cpuset.cpus)
s0=$(state)
is "machine.slice busy: the three cgroups have cpuset.cpus '' (the parent's CPUs)" \
    "$(f $C/system.slice/cpuset.cpus)$(f $C/user.slice/cpuset.cpus)$(f $C/init.scope/cpuset.cpus)" "[][][]"
# what systemd alone does (systemctl, no vmhooks)
systemctl set-property --runtime system.slice AllowedCPUs=1
systemctl set-property --runtime system.slice AllowedCPUs=
is "systemd alone: systemctl set-property system.slice AllowedCPUs=1, then AllowedCPUs=: unset" \
    "$(systemctl show -p AllowedCPUs --value system.slice)" ""
x=$(f $C/system.slice/cpuset.cpus)
t=$(aff "$(head -n1 $C/system.slice/vhc.service/cgroup.procs)")
if [ "$x" = "[1]" ] && [ "$t" = 1 ]; then
    ok "systemd alone leaves system.slice confined: cpuset.cpus [1], its tasks on CPU 1 (issue 43846, systemd $(systemctl --version | head -n1 | cut -d' ' -f2))"
else
    ok "systemd alone leaves system.slice at cpuset.cpus $x, tasks on $t (issue 43846 not seen on this systemd)"
fi
is "vmhooks' reset repairs it (widened through systemd)" "$($cli set system.slice '' 2>&1)" "$([ "$x" = "[1]" ] && echo cleared-stale-cpuset)"
is "system.slice's task may use every CPU again" "$(aff "$(head -n1 $C/system.slice/vhc.service/cgroup.procs)")" "$full"
is "set AllowedCPUs=1 on all three, machine.slice busy" "$(set_all 1)" ""
is "systemctl shows AllowedCPUs=1 for all three" "$(shown)" "1|1|1"
is "PID 1 on CPU 1 only" "$(aff 1)" 1
is "reset all three: each widened (systemd would leave it confined)" "$(set_all '')" \
    "cleared-stale-cpuset cleared-stale-cpuset cleared-stale-cpuset"
is "systemctl shows AllowedCPUs unset" "$(shown)" "||"
s1=$(state)
want=$(sed -E "s/^(system.slice|user.slice|init.scope) cpus=\[\]/\1 cpus=[0-$last]/" <<<"$s0")
if [ "$s1" = "$want" ]; then
    ok "effective CPUs and affinities exactly as before; cpuset.cpus reads 0-$last instead of '' (the kernel refuses '' on a populated cgroup)"
else
    nok "state differs: before: $s0 // expected: $want // after: $s1"
fi
is "machine.slice's VM cgroup never touched" "$(f $C/machine.slice/vhm.service/cpuset.cpus)" "$m0"
out=$($cli set machine.slice 1 2>&1); rc=$?
is "machine.slice refused ($out)" "$rc" 1
systemctl stop vhm.service
s2=$(state)
if [ "$s2" = "$s_initial" ]; then
    ok "once machine.slice needs no cpuset, systemd turns it off: everything exactly as at the start"
else
    nok "after the VM stopped: start: $s_initial // now: $s2"
fi

# 3. an AllowedCPUs of the admin's own comes back as it was
systemctl set-property --runtime system.slice AllowedCPUs=0
orig=$($cli get system.slice)
is "the admin's AllowedCPUs=0 read back" "$orig" 0
$cli set system.slice 1 >/dev/null
is "system.slice moved to 1" "$(systemctl show -p AllowedCPUs --value system.slice)|$(f $C/system.slice/cpuset.cpus)" "1|[1]"
is "restore the admin's value" "$($cli set system.slice "$orig" 2>&1)" ""
is "system.slice back at 0, its cgroup too" "$(systemctl show -p AllowedCPUs --value system.slice)|$(f $C/system.slice/cpuset.cpus)" "0|[0]"
systemctl set-property --runtime system.slice AllowedCPUs=
# 4. the real hook (build/test/qemu-hook) for a VM pinned to CPU 1 with <isolate tasks="yes"/>,
#    while a VM in machine.slice holds the cpuset controller (as libvirt's pinned VMs do)
hook=/usr/local/lib/vmhooks-test/qemu-hook
if [ -x $hook ]; then
    systemctl start vhm.service 2>/dev/null || systemd-run -q --unit=vhm2 --slice=machine.slice -p AllowedCPUs=0-$last sleep 100000
    xml=/run/g1.xml
    cat >$xml <<X
<domain type='kvm'>
  <name>g1</name><uuid>8a6c1f0e-4d4e-4bb5-9a3c-1f5e0c0d1e01</uuid><memory unit='KiB'>65536</memory>
  <vcpu placement='static'>1</vcpu>
  <cputune><vcpupin vcpu='0' cpuset='1'/></cputune>
  <metadata><vmhooks:policy xmlns:vmhooks="urn:vmhooks:policy:1"><vmhooks:isolate tasks="yes" workqueues="no" irqs="no"/></vmhooks:policy></metadata>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
</domain>
X
    s0=$(state)
    out=$($hook g1 prepare begin - <$xml 2>&1); rc=$?
    is "hook: prepare begin of g1 (vCPU pinned to CPU 1, <isolate tasks=\"yes\"/>) exits 0 ($out)" "$rc" 0
    is "hook: systemctl shows AllowedCPUs=0 (the housekeeping CPUs) on all three" "$(shown)" "0|0|0"
    is "hook: PID 1 and the tasks of system.slice and user.slice on CPU 0 only" \
        "$(aff 1) $(aff "$(head -n1 $C/system.slice/vhc.service/cgroup.procs)") $(aff "$(head -n1 $C/user.slice/vhu.service/cgroup.procs)")" "0 0 0"
    is "hook: machine.slice untouched" "$(systemctl show -p AllowedCPUs --value machine.slice)" ""
    is "hook: g1.log names the three units" \
        "$(grep -o 'allowed_cpus:\(system.slice\|user.slice\|init.scope\)' /var/log/vmhooks/g1.log | sort -u | wc -l)" 3
    # vmhooks audit on this /proc: nothing of the host's own may run on CPU 1 now, then a stray in a slice of its own
    vmh=/usr/local/lib/vmhooks-test/vmhooks
    au=$($vmh audit 2>&1 | grep 'kept off host tasks')
    case $au in
    "PASS isolation: no host process may run on the CPUs 1 kept off host tasks ("*) ok "audit: $au" ;;
    *) nok "audit: no host process on CPU 1 expected, got: '$au'" ;;
    esac
    systemd-run -q --unit=vhx --slice=vhx.slice sleep 100000
    au=$($vmh audit 2>&1 | grep 'kept off host tasks')
    case $au in
    "WARN isolation: 1 of "*" host processes may still run on the CPUs 1 kept off host tasks: sleep ("*) ok "audit: a task in a slice of its own: $au" ;;
    *) nok "audit: the stray sleep in vhx.slice expected as a WARN, got: '$au'" ;;
    esac
    systemctl stop vhx.service 2>/dev/null
    out=$($hook g1 release end - <$xml 2>&1); rc=$?
    is "hook: release end of g1 exits 0 ($out)" "$rc" 0
    is "hook: AllowedCPUs unset again on all three, as the admin had it" "$(shown)" "||"
    s1=$(state)
    want=$(sed -E "s/^(system.slice|user.slice|init.scope) cpus=\[\]/\1 cpus=[0-$last]/" <<<"$s0")
    if [ "$s1" = "$want" ]; then
        ok "hook: effective CPUs and every task's affinity exactly as before the VM"
    else
        nok "hook: state differs: before: $s0 // expected: $want // after: $s1"
    fi
    grep 'allowed_cpus' /var/log/vmhooks/g1.log | sed 's/^/VH: # g1.log: /'
    systemctl stop vhm.service vhm2.service 2>/dev/null
    s2=$(state)
    if [ "$s2" = "$s_initial" ]; then ok "hook: once machine.slice needs no cpuset, everything exactly as at the start"; else nok "hook: start: $s_initial // now: $s2"; fi
fi
# 5. a real libvirtd, two pinned guests, all four sources (systemd-libvirt.sh)
if [ -x $hook ] && [ -d /usr/local/lib/vmhooks-test/dest ] && command -v libvirtd >/dev/null; then
    . /usr/local/lib/vmhooks-test/systemd-libvirt.sh
elif [ -x $hook ]; then
    say "skip - section 5 (real libvirtd): no make-install stage or no libvirtd in the guest's root"
fi
echo "VH-END $(cut -d' ' -f1 /proc/uptime)"
systemctl --force --force poweroff
