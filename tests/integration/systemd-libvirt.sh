# SPDX-License-Identifier: LGPL-2.1-or-later
# Section 5 of systemd-guest.sh (sourced by it, INSIDE the guest of
# t-systemd.sh: systemd PID 1 on cgroup v2 with cpuset): the hook installed
# as make install links it (/etc/libvirt/hooks/qemu), a REAL libvirtd
# (systemctl start libvirtd, systemd-machined for machine.slice), irqbalance
# running with its socket, and two TCG guests each with one vCPU pinned to
# CPU 1 under <vmhooks:isolate/>: all four sources (workqueue mask, IRQs and
# default_smp_affinity, irqbalance's banned CPUs, AllowedCPUs of
# system.slice, user.slice and init.scope).  Destroyed in the order g1 g2,
# then g2 g1: after the first destroy everything still isolated, after the
# second everything exactly as saved before the round.
# Uses ok/nok/is/f/aff/state/shown of systemd-guest.sh.
t5=$(cut -d' ' -f1 /proc/uptime)
dest=/usr/local/lib/vmhooks-test/dest  # make install DESTDIR=... made on the host by t-systemd.sh
WQ=/sys/devices/virtual/workqueue/cpumask
DEF=/proc/irq/default_smp_affinity
ISO=1
hexval() { echo $((16#$(tr -d ',\n' <"$1"))); }
list_bits() { local b=0 r a z c; IFS=, read -ra r <<<"$1"; for a in "${r[@]}"; do z=${a#*-}; a=${a%-*}; for ((c = a; c <= z; c++)); do b=$((b | 1 << c)); done; done; echo $b; }
up() { cut -d' ' -f1 /proc/uptime; }
contains() { case $2 in *"$3"*) ok "$1" ;; *) nok "$1: '$3' not found" ;; esac; }
since() { awk -v a="$1" -v b="$(up)" 'BEGIN { printf "%.1f", b - a }'; }

# the hook, installed by make install (the stage copied over /), as libvirt finds it
cp -a $dest/. /
is "make install linked the hook: /etc/libvirt/hooks/qemu -> /usr/libexec/vmhooks/qemu-hook" \
    "$(readlink /etc/libvirt/hooks/qemu)" /usr/libexec/vmhooks/qemu-hook
is "the installed hook is this tree's test build" "$(cmp -s /usr/libexec/vmhooks/qemu-hook /usr/local/lib/vmhooks-test/qemu-hook && echo same)" same
vmh=/usr/bin/vmhooks
systemctl stop vhx.service vhm.service vhm2.service 2>/dev/null
rm -rf /var/log/vmhooks /run/vmhooks

# the IRQs, and the ones the kernel keeps (writing their own value back fails)
declare -A b_irq fixed
irqs=()
for q in /proc/irq/*/smp_affinity_list; do [ -f "$q" ] && { irqs+=("$q"); b_irq[$q]=$(cat "$q"); }; done
for q in "${irqs[@]}"; do { printf '%s\n' "${b_irq[$q]}" >"$q"; } 2>/dev/null || fixed[$q]=1; done
fixed_n=$(for q in "${!fixed[@]}"; do n=${q#/proc/irq/}; echo "${n%%/*}"; done | sort -n | paste -sd' ')
fixed_l=$(for n in $fixed_n; do echo "$n=${b_irq[/proc/irq/$n/smp_affinity_list]}"; done | paste -sd' ')
say "# ${#irqs[@]} IRQs, ${#fixed[@]} of them the kernel's own (it refuses their own value back: ${fixed_l:-none}), default_smp_affinity $(cat $DEF), workqueue mask $(cat $WQ)"

# irqbalance (Debian's 1.9.2), its socket in /run/irqbalance as its own unit makes it.  Every IRQ is
# --banirq'ed: it keeps its hands off them (so that "exactly as before" can be checked for every IRQ)
# but runs, answers on its socket and takes the CPU ban; --debug logs "Banned CPUs" at each rescan.
ib=0
if command -v irqbalance >/dev/null; then
    banirq=()
    for q in "${irqs[@]}"; do n=${q#/proc/irq/}; banirq+=("--banirq=${n%%/*}"); done
    systemd-run -q --unit=vhib -p RuntimeDirectory=irqbalance -p StandardOutput=file:/run/vhib.log -p StandardError=file:/run/vhib.log \
        /usr/sbin/irqbalance --foreground --debug --interval=1 "${banirq[@]}"
    for ((i = 0; i < 100; i++)); do ls /run/irqbalance/irqbalance*.sock >/dev/null 2>&1 && break; sleep 0.1; done
    if sock=$(ls /run/irqbalance/irqbalance*.sock 2>/dev/null); then
        ib=1
        ok "irqbalance $(systemctl show -p MainPID --value vhib) runs (a unit of system.slice) with its socket $sock"
    else
        nok "irqbalance started, but no socket in /run/irqbalance: $(tail -n3 /run/vhib.log | tr '\n' ' ')"
    fi
else
    say "skip - irqbalance is not installed in the guest's root: its ban is not exercised here (t-irqbalance.sh and the realhost test cover it)"
fi
# irqbalance's own word, in its debug log: the last "Banned CPUs" it printed (a rescan after the ban)
ib_banned() { grep -a 'Banned CPUs' /run/vhib.log | tail -n1 | sed 's/.*Banned CPUs: *//'; }
ib_wait() { # HEX: until irqbalance's last "Banned CPUs" line names that mask
    local i
    for ((i = 0; i < 150; i++)); do [ "$(ib_banned)" = "$1" ] && return 0; sleep 0.1; done
    return 1
}

t=$(up)
if timeout 300 systemctl start libvirtd; then
    ok "systemctl start libvirtd: $(libvirtd --version | head -n1), up in $(since "$t") s"
else
    nok "systemctl start libvirtd: $(systemctl status libvirtd 2>&1 | tail -n5 | tr '\n' ' ')"
fi
V() { timeout 300 virsh -q -c qemu:///system "$@"; }
define() { # NAME UUID-TAIL
    cat >/run/$1.xml <<X
<domain type='qemu'>
  <name>$1</name><uuid>8a6c1f0e-4d4e-4bb5-9a3c-1f5e0c0d1e$2</uuid>
  <memory unit='MiB'>32</memory><vcpu placement='static'>1</vcpu>
  <cputune><vcpupin vcpu='0' cpuset='$ISO'/></cputune>
  <metadata><vmhooks:policy xmlns:vmhooks="urn:vmhooks:policy:1"><vmhooks:isolate/></vmhooks:policy></metadata>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator><controller type='usb' model='none'/><memballoon model='none'/></devices>
</domain>
X
    V define /run/$1.xml >/dev/null
}

# every IRQ the kernel lets anyone move, the default mask and the workqueue mask off CPU 1; the units at 0
expect_isolated() { # WHAT
    local q bad="" n=0
    for q in "${irqs[@]}"; do
        [ -n "${fixed[$q]:-}" ] && continue
        (($(list_bits "$(cat "$q")") & (1 << ISO))) && bad+=" ${q#/proc/irq/}=$(cat "$q")"
        n=$((n + 1))
    done
    if [ -z "$bad" ]; then ok "$1: none of the $n IRQs that can be moved is on CPU $ISO"; else nok "$1: IRQs still on CPU $ISO:$bad"; fi
    is "$1: default_smp_affinity $(cat $DEF) (as a number) leaves CPU $ISO out" "$(hexval $DEF)" $((b_def & ~(1 << ISO)))
    is "$1: workqueue mask $(cat $WQ) (as a number) leaves CPU $ISO out" "$(hexval $WQ)" $((b_wq & ~(1 << ISO)))
    is "$1: systemctl shows AllowedCPUs=0 on system.slice, user.slice, init.scope" "$(shown)" "0|0|0"
    is "$1: PID 1 and the tasks in system.slice and user.slice on CPU 0 only" \
        "$(aff 1) $(aff "$(head -n1 $C/system.slice/vhc.service/cgroup.procs)") $(aff "$(head -n1 $C/user.slice/vhu.service/cgroup.procs)")" "0 0 0"
    if ((ib)); then
        if ib_wait 00000002; then ok "$1: irqbalance's own debug log: Banned CPUs: 00000002"; else nok "$1: irqbalance's last 'Banned CPUs' is '$(ib_banned)', expected 00000002"; fi
    fi
}
irq_now() { local q; for q in "${irqs[@]}"; do echo "${q#/proc/irq/} $(cat "$q")"; done; }
ban_errs() { grep -h "error: irqbalance:banned: .*\(did not take it\|accepted no connection\|no complete reply\)" /var/log/vmhooks/g?.log 2>/dev/null | wc -l; }

if ! V list --all >/dev/null; then
    nok "virsh reaches libvirtd: $(V list --all 2>&1 | tail -n2 | tr '\n' ' ')"
else
    define g1 01 && define g2 02 && ok "virsh define g1 and g2 (type qemu, 32 MiB, vCPU 0 pinned to CPU $ISO, <vmhooks:isolate/>)" ||
        nok "virsh define g1 g2"
    round=0
    for order in "g1 g2" "g2 g1"; do
        round=$((round + 1))
        say "# round $round: start g1, g2; destroy $order"
        rm -f /var/log/vmhooks/g1.log /var/log/vmhooks/g2.log
        b_def=$(hexval $DEF) b_wq=$(hexval $WQ) b_defs=$(cat $DEF) b_wqs=$(cat $WQ)
        b_irqs=$(irq_now) b_shown=$(shown) b_state=$(state)
        ((ib)) && b_ib=$(ib_banned)
        t=$(up)
        if out=$(V start g1 2>&1); then ok "round $round: virsh start g1 ($(since "$t") s)"; else nok "round $round: virsh start g1: $out"; fi
        expect_isolated "round $round: g1 running"
        lg=$(cat /var/log/vmhooks/g1.log 2>/dev/null)
        is "round $round: g1.log names allowed_cpus of the three units" \
            "$(grep -o 'allowed_cpus:\(system.slice\|user.slice\|init.scope\)' <<<"$lg" | sort -u | wc -l)" 3
        contains "round $round: g1.log: the workqueue mask" "$lg" "workqueue_cpumask"
        contains "round $round: g1.log: default_smp_affinity $b_defs -> " "$lg" "irq_default: $b_defs -> "
        ((ib)) && contains "round $round: g1.log: irqbalance told to ban CPU $ISO" "$lg" "irqbalance:banned: "
        # the IRQs the hook names as "cannot be tuned here": counted, not a failure; each must be one the kernel refuses
        noted=$(grep 'note: irq: .* cannot be tuned here' <<<"$lg" | head -n1 | sed -n 's/.*cannot be tuned here (\([0-9, ]*\)).*/\1/p' | tr -d ' ' | tr ',' ' ')
        stray=""
        for n in $noted; do [ -n "${fixed[/proc/irq/$n/smp_affinity_list]:-}" ] || stray+=" $n"; done
        is "round $round: g1.log: the IRQs noted as 'cannot be tuned here' ($noted) are all ones the kernel refuses ($fixed_n)" "${stray:-none}" none
        say "# round $round: $(wc -w <<<"$noted") IRQ(s) noted as 'cannot be tuned here' in g1.log; the kernel refuses ${#fixed[@]} (${fixed_n:-none}); $(grep -c 'cannot be tuned here' <<<"$lg") such line(s)"
        grep 'cannot be tuned here' <<<"$lg" | head -n3 | sed 's/^/VH: # g1.log: /'
        t=$(up)
        if out=$(V start g2 2>&1); then ok "round $round: virsh start g2 ($(since "$t") s)"; else nok "round $round: virsh start g2: $out"; fi
        expect_isolated "round $round: g1 and g2 running"
        is "round $round: two VMs registered in /run/vmhooks/state" "$(grep -c '^vm ' /run/vmhooks/state)" 2
        is "round $round: machine.slice untouched" "$(systemctl show -p AllowedCPUs --value machine.slice)" ""
        for g in g1 g2; do
            vt=$(grep -lx 'CPU 0/TCG' /proc/"$(cat /run/libvirt/qemu/$g.pid)"/task/*/comm 2>/dev/null | head -n1)
            is "round $round: $g's vCPU thread (CPU 0/TCG) runs on CPU $ISO only, its pin" "$( [ -n "$vt" ] && aff "$(basename "$(dirname "$vt")")")" $ISO
        done
        say "# round $round: QEMU g1 in $(grep -o 'machine.slice/[^ ]*' /proc/$(cat /run/libvirt/qemu/g1.pid)/cgroup 2>/dev/null | head -n1), vCPU affinity $(taskset -acp "$(cat /run/libvirt/qemu/g1.pid)" 2>/dev/null | sed 's/.*: //' | sort -u | paste -sd/)"
        if [ "$round" = 1 ]; then
            au=$($vmh audit 2>&1 | grep 'kept off host tasks')
            case $au in
            "PASS isolation: no host process may run on the CPUs 1 kept off host tasks ("*) ok "vmhooks audit with both running: $au" ;;
            *) nok "vmhooks audit with both running: expected a PASS for host tasks, got: '$au'" ;;
            esac
        fi
        set -- $order
        t=$(up)
        if out=$(V destroy "$1" 2>&1); then ok "round $round: virsh destroy $1 ($(since "$t") s)"; else nok "round $round: virsh destroy $1: $out"; fi
        expect_isolated "round $round: $1 destroyed, $2 running"
        is "round $round: one VM registered" "$(grep -c '^vm ' /run/vmhooks/state)" 1
        t=$(up)
        if out=$(V destroy "$2" 2>&1); then ok "round $round: virsh destroy $2 ($(since "$t") s)"; else nok "round $round: virsh destroy $2: $out"; fi
        is "round $round: no registration left in /run/vmhooks/state" "$(grep -c '^vm ' /run/vmhooks/state)" 0
        is "round $round: no knob record left" "$(grep -c '^knob ' /run/vmhooks/state)" 0
        grep '^knob ' /run/vmhooks/state | head -n5 | sed 's/^/VH: # left: /'
        is "round $round: AllowedCPUs unset again on the three units" "$(shown)" "$b_shown"
        is "round $round: workqueue mask as before" "$(cat $WQ)" "$b_wqs"
        is "round $round: default_smp_affinity as before" "$(cat $DEF)" "$b_defs"
        d=$(diff <(echo "$b_irqs") <(irq_now) | grep '^[<>]' | paste -sd' ')
        if [ -z "$d" ]; then ok "round $round: all ${#irqs[@]} IRQs' smp_affinity_list as before"; else nok "round $round: IRQs differ (before < > after): $d"; fi
        if ((ib)); then
            if ib_wait "$b_ib"; then ok "round $round: irqbalance's own debug log: Banned CPUs: $b_ib again"; else nok "round $round: irqbalance's last 'Banned CPUs' is '$(ib_banned)', expected '$b_ib'"; fi
        fi
        # systemd drops cpuset from the root once machine.slice's scopes are gone: wait for that
        t=$(up)
        for ((i = 0; i < 50; i++)); do [ "$(state)" = "$b_state" ] && break; sleep 0.2; done
        s1=$(state)
        if [ "$s1" = "$b_state" ]; then
            ok "round $round: cgroup files and every task's affinity exactly as before (root subtree_control [$(cat $C/cgroup.subtree_control)], after $(since "$t") s)"
        else
            nok "round $round: cgroup state: before: $b_state // after: $s1"
        fi
        e=$(grep -h 'error:' /var/log/vmhooks/g1.log /var/log/vmhooks/g2.log | grep -vc "error: irqbalance:banned: .*\(did not take it\|accepted no connection\|no complete reply\)")
        is "round $round: no error line in g1.log and g2.log but irqbalance's busy ones ($(ban_errs) of those)" "$e" 0
        grep -h 'error:' /var/log/vmhooks/g1.log /var/log/vmhooks/g2.log | head -n5 | sed 's/^/VH: # /'
    done
    V undefine g1 >/dev/null; V undefine g2 >/dev/null
fi
grep -h 'allowed_cpus\|irqbalance' /var/log/vmhooks/g1.log | head -n8 | sed 's/^/VH: # g1.log: /'
systemctl stop vhib.service 2>/dev/null
say "# section 5 (libvirtd, two guests, two rounds) took $(since "$t5") s of guest uptime"
