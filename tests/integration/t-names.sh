#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hostile VM names on the real libvirtd: libvirt names the pidfile after the
# XML-escaped name (R&D -> R&amp;D.pid) and the status file after the name
# itself.  vmhooks must learn every such VM's QEMU PID at `started`, keep it
# registered for its whole life, notice its crash, and restore at the end.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup

shopt -u patsub_replacement 2>/dev/null   # bash 5.2: "&" in a replacement is the match
xml_escape() { local s=$1; s=${s//&/&amp;}; s=${s//</&lt;}; s=${s//>/&gt;}; s=${s//\'/&apos;}; s=${s//\"/&quot;}; s=${s//$'\t'/&#9;}; printf '%s' "$s"; }
# what libvirt's virBufferEscapeString makes of a name (lib/liveness.c has the C)
pid_name() { local s=$1; s=${s//&/&amp;}; s=${s//</&lt;}; s=${s//>/&gt;}; s=${s//\'/&apos;}; s=${s//\"/&quot;}; printf '%s' "$s"; }

names=('R&D' 'db&cache' 'a<b>c' "q'x\"y" 'sp ace' $'tab\tx' '100%s' 'caf'$'\xc3\xa9')
i=0
for n in "${names[@]}"; do
    i=$((i + 1))
    f=/run/vmhooks-sandbox/n$i.xml
    top="<metadata><vmhooks:policy xmlns:vmhooks='urn:vmhooks:policy:1'><vmhooks:halt-poll ns='$((300000 + i * 1000))'/></vmhooks:policy></metadata>"
    sandbox_guest_xml "$(xml_escape "$n")" "$top" >"$f"
    sed -i "s|<source path='/var/log/libvirt/qemu/[^']*'/>|<source path='/var/log/libvirt/qemu/n$i-serial.log'/>|" "$f"
    check "define '$n'" sandbox_guest_define "$n" "$f"
done

# libvirt refuses what cannot name a file
sandbox_guest_xml 'a/b' >/run/vmhooks-sandbox/slash.xml
check "libvirt refuses a name with '/'" bash -c '! virsh -q -c qemu:///system define /run/vmhooks-sandbox/slash.xml 2>/dev/null'

for n in "${names[@]}"; do check "start '$n'" sandbox_guest_start "$n"; done
is "halt_poll_ns with all running" "$(knob $HALT)" $((300000 + ${#names[@]} * 1000))
is "registrations" "$(vh_registered)" ${#names[@]}

for n in "${names[@]}"; do
    pidf="/run/libvirt/qemu/$(pid_name "$n").pid"
    check "libvirt's pidfile of '$n' is $pidf" test -s "$pidf"
    check "libvirt's status file of '$n' is /run/libvirt/qemu/$n.xml" test -s "/run/libvirt/qemu/$n.xml"
    pid=$(cat "$pidf")
    # the state escapes the name (%XX); its PID is what libvirt wrote
    line=$(vh_state | grep "^vm " | grep " pid=$pid ")
    check "'$n' registered with QEMU PID $pid" test -n "$line"
done
check "no error in any log" bash -c '! grep -h "error:" /var/log/vmhooks/*.log'
out=$(vmhooks status 2>&1)
is "vmhooks status: VMs running with their QEMU PID" "$(grep -c ': running, QEMU PID [0-9]*,' <<<"$out")" ${#names[@]}

# QEMU of R&D dies behind libvirt's back: libvirt reports it, the host follows
pid=$(cat '/run/libvirt/qemu/R&amp;D.pid')
check "kill -9 QEMU of R&D" kill -9 "$pid"
for ((t = 0; t < 50; t++)); do [[ $(sandbox_guest_state 'R&D') == "shut off" ]] && break; sleep 0.1; done
is "R&D shut off" "$(sandbox_guest_state 'R&D')" "shut off"
is "registrations after R&D crashed" "$(vh_registered)" $((${#names[@]} - 1))

# sweep by liveness: a VM whose QEMU died while libvirtd was down is dropped at the next call of another VM
pid=$(cat '/run/libvirt/qemu/db&amp;cache.pid')
check "kill -9 libvirtd" sandbox_kill9_libvirtd
check "kill -9 QEMU of db&cache" kill -9 "$pid"
sleep 0.3
f=/run/vmhooks-sandbox/probe.xml
sandbox_guest_xml probe >"$f"
# a hook call of a VM that libvirt is not running (as a prepare of another start would be)
/usr/libexec/vmhooks/qemu-hook probe prepare begin - <"$f" >/dev/null 2>&1
contains "probe.log" "$(vh_log probe)" "dropped the registration of VM db&cache: its QEMU (PID $pid) no longer runs"
/usr/libexec/vmhooks/qemu-hook probe release end - <"$f" >/dev/null 2>&1
check "libvirtd starts again" sandbox_start_libvirtd

for n in "${names[@]}"; do
    [[ $(sandbox_guest_state "$n") == running ]] && sandbox_guest_destroy "$n"
done
is "halt_poll_ns restored" "$(knob $HALT)" 200000
is "registrations left" "$(vh_registered)" 0
check "no error in any log" bash -c '! grep -h "error:" /var/log/vmhooks/*.log'
finish
