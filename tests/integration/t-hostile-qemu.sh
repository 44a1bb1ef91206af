#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A hostile QEMU: as the QEMU user (libvirt-qemu, with its groups), try to
# create, replace, remove or symlink every file and directory the root
# hook, or another guest's wrapper, later reads or writes: /run/vmhooks
# (state, lock), /run/vmhooks-wrapper and a plan, /var/lib/vmhooks and
# wrapper.conf, /var/log/vmhooks and a log, and the QEMU pidfile the hook
# reads.  Every attempt must fail and leave the file as it was.  Then, as if such an attempt had succeeded on
# a badly set up host (root plants them), the hook must not follow what it
# did not create: a symlinked log, a symlinked plan directory, a plan
# directory open to the QEMU user; and the wrapper must not trust a plan
# the QEMU user could have written.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup
HOOK=/usr/libexec/vmhooks/qemu-hook
QU=libvirt-qemu
id "$QU" >/dev/null 2>&1 || { echo "skip - no user $QU (Debian's QEMU user) here"; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
as_qemu() { setpriv --reuid="$QU" --regid="$(id -g "$QU")" --init-groups "$@"; }

# the files exist: a running guest (state, log), a plan of another guest, wrapper.conf
vh_guest g1 1 '<vmhooks:halt-poll ns="400000"/>'
check "virsh start g1" sandbox_guest_start g1
cat >/etc/vmhooks/policy.xml <<'XML'
<policy xmlns="urn:vmhooks:policy:1"><msix-relocation bar="bar2" devices="all"/></policy>
XML
pvxml="<domain type='kvm'><name>pv</name><uuid>5e1f0c3e-0000-4000-8000-0000000000aa</uuid><devices><hostdev mode='subsystem' type='pci'><source><address domain='0' bus='0x81' slot='0' function='1'/></source><alias name='hostdev0'/></hostdev></devices></domain>"
"$HOOK" pv start begin - <<<"$pvxml"
"$HOOK" --wrapper-config >/dev/null
files=(/run/vmhooks/state /run/vmhooks/lock /run/vmhooks-wrapper/pv.plan /var/lib/vmhooks/wrapper.conf /var/log/vmhooks/g1.log)
# libvirt 9.0 keeps /run/libvirt/qemu root's; libvirt 11 gives it to the QEMU user (FACTS.md), who can then
# replace any pidfile there: that is libvirt's to defend, and vmhooks does not yet check a PID against its process
if [[ $(stat -c %U /run/libvirt/qemu) == root ]]; then
    files=(/run/libvirt/qemu/g1.pid "${files[@]}")
else
    skip "QEMU pidfile: /run/libvirt/qemu is owned by $(stat -c %U /run/libvirt/qemu) on this libvirt, so the QEMU user can replace g1.pid (not vmhooks' file; the PID is not yet checked against its process)"
fi
dirs=(/run/vmhooks /run/vmhooks-wrapper /var/lib/vmhooks /var/log/vmhooks)
for f in "${files[@]}"; do check "$f exists" test -f "$f"; done
is "/run/vmhooks mode" "$(stat -c '%a %U' /run/vmhooks)" "700 root"

declare -A sum
snap() { local f; for f in "${files[@]}"; do sum[$f]=$(stat -c '%i %s %Y %a %U' "$f" 2>&1; md5sum <"$f" 2>&1); done; }
unchanged() { local f; for f in "${files[@]}"; do [[ ${sum[$f]} == "$(stat -c '%i %s %Y %a %U' "$f" 2>&1; md5sum <"$f" 2>&1)" ]] || { echo "changed: $f"; return 1; }; done; }
fails() { # fails WHAT CMD...: as the QEMU user, must not succeed
    local what=$1; shift
    if as_qemu "$@" >/dev/null 2>&1; then nok "as $QU: $what succeeded"; else ok "as $QU: $what fails"; fi
}
snap
for d in "${dirs[@]}"; do
    fails "create a file in $d" sh -c "echo x > '$d/evil'"
    fails "plant a symlink in $d" ln -s /etc/shadow "$d/evil.log"
    fails "create a directory in $d" mkdir "$d/evil.d"
    fails "rename $d" mv "$d" "$d.old"
    fails "replace $d by a symlink" sh -c "rm -rf '$d' && ln -s /tmp '$d'"
done
for f in "${files[@]}"; do
    fails "write to $f" sh -c "echo x >> '$f'"
    fails "truncate $f" truncate -s 0 "$f"
    fails "remove $f" rm -f "$f"
    fails "replace $f by a symlink" ln -sf /tmp/evil "$f"
    fails "replace $f by rename" sh -c "echo x > /tmp/vh-evil.\$\$ && mv -f /tmp/vh-evil.\$\$ '$f'"
    fails "chmod $f" chmod 0666 "$f"
done
for p in /run /var/lib /var/log; do
    fails "create $p/vmhooks-evil (a directory next to ours)" mkdir "$p/vmhooks-evil"
done
check "every file as it was" unchanged
for d in "${dirs[@]}"; do is "nothing new in $d" "$(ls -A "$d" | grep -c evil)" 0; done
rm -f /tmp/vh-evil.* /tmp/evil 2>/dev/null

# --- the hook never follows what it did not create (planted by root, as on a broken host) ---
echo "victim" >/run/vmhooks-sandbox/victim
ln -s /run/vmhooks-sandbox/victim /var/log/vmhooks/evil.log
"$HOOK" evil release end - </dev/null 2>/dev/null
is "a symlinked log: its target" "$(cat /run/vmhooks-sandbox/victim)" "victim"

mv /run/vmhooks-wrapper /run/vmhooks-wrapper.real
mkdir -p /run/vmhooks-sandbox/elsewhere
ln -s /run/vmhooks-sandbox/elsewhere /run/vmhooks-wrapper
"$HOOK" pv start begin - <<<"$pvxml"
is "a symlinked plan directory: nothing written through it" "$(ls -A /run/vmhooks-sandbox/elsewhere | wc -l)" 0
contains "pv.log" "$(vh_log pv)" "/run/vmhooks-wrapper is not a directory (a symlink or a file); not using it; fix: "
rm /run/vmhooks-wrapper && mv /run/vmhooks-wrapper.real /run/vmhooks-wrapper

chmod 0777 /run/vmhooks-wrapper
"$HOOK" pv start begin - <<<"$pvxml"
contains "pv.log" "$(vh_log pv)" "/run/vmhooks-wrapper is writable by everyone (mode 0777); not using it; fix: chown root:root /run/vmhooks-wrapper && chmod 0755 /run/vmhooks-wrapper"
chmod 0755 /run/vmhooks-wrapper
"$HOOK" pv start begin - <<<"$pvxml"   # the refused call removed the VM's old plan: write it again
check "the plan again" test -f /run/vmhooks-wrapper/pv.plan

# a plan the QEMU user could have written: the wrapper does not trust it
chmod 0666 /run/vmhooks-wrapper/pv.plan
out=$(as_qemu env VMHOOKS_EMULATOR=/bin/echo /usr/libexec/vmhooks/qemu-kvm -name guest=pv -uuid 5e1f0c3e-0000-4000-8000-0000000000aa \
    -device '{"driver":"vfio-pci","host":"0000:81:00.1","id":"hostdev0"}' 2>&1)
contains "the wrapper on a plan writable by others" "$out" "pv.plan is writable by everyone (mode 0666); not trusted"
chmod 0644 /run/vmhooks-wrapper/pv.plan
"$HOOK" pv release end - </dev/null
sandbox_guest_destroy g1
finish
