#!/bin/bash
# vmhooks patch / diff / apply against a real libvirtd:
#  1. every fixture of tests/data/domain, and its patched form under a
#     policy with every XML rule, validates (virt-xml-validate) and libvirt
#     defines it; once defined, `vmhooks diff` finds nothing left to change
#     (the rules are idempotent through libvirt's own rewriting too);
#  2. `vmhooks apply` on a defined guest: diff, dry run, apply, a second
#     apply that changes nothing and says so, then the guest starts with
#     what was applied (IOThread, PV spinlocks; the KVM dedicated hint where
#     host-passthrough guests start at all);
#  3. errors as libvirt gives them; a transient domain is refused.
#  4. restore through the hook: save a running guest, take its CPU offline
#     (the sandbox's online knob), restore, and find the pin remapped by
#     the hook at `restore begin` and the restore logged.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup

VMH=$repo/${BUILD:-build}/test/vmhooks
work=/run/vmhooks-sandbox/patch
mkdir -p "$work"
arch=$(uname -m)

cat >/etc/vmhooks/policy.xml <<'XML'
<policy xmlns="urn:vmhooks:policy:1">
  <iothreads count="auto" cpuset="0"/>
  <hugepages size="2M"/>
  <dedicated-hint/>
  <pvspinlock/>
  <vtpm version="2.0"/>
  <disk-io cache="none" io="native"/>
  <msix-relocation bar="bar2" devices="all"/>
</policy>
XML

# ---- 1. fixtures ----------------------------------------------------------
have_swtpm=1; command -v swtpm >/dev/null || have_swtpm=0
for f in "$repo"/tests/data/domain/*.xml; do
    base=$(basename "$f" .xml)
    name=$(sed -n 's#.*<name>\(.*\)</name>.*#\1#p' "$f" | head -1)
    farch=$(sed -n "s#.*<type[^>]*arch=['\"]\([^'\"]*\)['\"].*#\1#p" "$f" | head -1)
    farch=${farch:-$arch}
    check "$base: virt-xml-validate" virt-xml-validate "$f" domain
    if ! "$VMH" patch "$f" >"$work/$base.xml" 2>"$work/$base.report"; then
        nok "$base: vmhooks patch: $(cat "$work/$base.report")"
        continue
    fi
    ok "$base: vmhooks patch ($(tail -1 "$work/$base.report"))"
    check "$base: patched: virt-xml-validate" virt-xml-validate "$work/$base.xml" domain
    if [[ $farch != "$arch" ]] && ! command -v "qemu-system-$farch" >/dev/null; then
        echo "SKIP $base: defining a $farch guest needs qemu-system-$farch (package qemu-system-arm)"
        continue
    fi
    if ((!have_swtpm)) && grep -q "<backend type='emulator'" "$work/$base.xml"; then
        echo "SKIP $base: libvirt defines a guest with an emulated TPM only with swtpm installed (package swtpm)"
        continue
    fi
    x=$work/$base.xml orig=$f
    if [[ $farch != "$arch" || $SANDBOX_DOMTYPE != kvm ]]; then
        # libvirt cannot define a KVM guest of a foreign arch, or any KVM
        # guest on a host without /dev/kvm: TCG
        sed "s/<domain type=[\"']kvm[\"']/<domain type='qemu'/" "$x" >"$work/$base.tcg.xml"
        sed "s/<domain type=[\"']kvm[\"']/<domain type='qemu'/" "$f" >"$work/$base.orig.tcg.xml"
        x=$work/$base.tcg.xml orig=$work/$base.orig.tcg.xml
    fi
    # a fixture from another host (NUMA nodes, ...) that libvirt refuses here as it is says nothing of the patch
    if ! why=$(sandbox_virsh define "$orig" 2>&1); then
        echo "SKIP $base: libvirt refuses the unpatched fixture on this host: ${why//$'\n'/ }"
        continue
    fi
    sandbox_virsh undefine --nvram "$name" >/dev/null 2>&1 || sandbox_virsh undefine "$name" >/dev/null
    if out=$(sandbox_virsh define "$x" 2>&1); then
        ok "$base: patched: virsh define"
        "$VMH" diff "$name" >"$work/$base.diff" 2>"$work/$base.diff.err"
        rc=$?
        is "$base: vmhooks diff after define (exit)" "$rc" 0
        contains "$base: vmhooks diff after define" "$(cat "$work/$base.diff.err")" "vmhooks diff: $name: nothing to change"
        sandbox_virsh undefine --nvram "$name" >/dev/null 2>&1 || sandbox_virsh undefine "$name" >/dev/null
    else
        nok "$base: patched: virsh define: $out"
    fi
done
# the same with <qemu:override> (libvirt >= 8.2) instead of the wrapper
"$VMH" patch --msix=override "$repo/tests/data/domain/nvme-passthrough.xml" >"$work/override.xml" 2>"$work/override.report"
contains "--msix=override" "$(cat "$work/override.xml")" "<qemu:property name='x-msix-relocation' type='string' value='bar2'/>"
check "--msix=override: virt-xml-validate" virt-xml-validate "$work/override.xml" domain
if ((have_swtpm)); then
    # what is checked is that libvirt keeps <qemu:override>; without KVM
    # (SANDBOX_DOMTYPE=qemu) libvirt refuses a type='kvm' guest: TCG then
    [[ $SANDBOX_DOMTYPE == kvm ]] || sed -i "s/<domain type='kvm'/<domain type='qemu'/" "$work/override.xml"
    check "--msix=override: virsh define" sandbox_virsh define "$work/override.xml"
    contains "--msix=override: libvirt kept it" "$(sandbox_virsh dumpxml --inactive nvme-db)" \
        "<qemu:device alias='ua-vmhooks-0000-81-00-0'>"
    sandbox_virsh undefine nvme-db >/dev/null
fi

# ---- 2. apply on a defined guest, then it starts ----------------------------
cat >/etc/vmhooks/policy.xml <<'XML'
<policy xmlns="urn:vmhooks:policy:1">
  <iothreads count="auto" cpuset="0"/>
  <dedicated-hint/>
  <pvspinlock/>
  <disk-io cache="none" io="native"/>
</policy>
XML
same() { [[ $1 == "$2" ]]; }
# g1: the guest the practices are meant for (host-passthrough, pinned); g1u: its unpatched twin
truncate -s 16M "$work/g1.img" "$work/g1u.img"
top="<cputune><vcpupin vcpu='0' cpuset='1'/></cputune><cpu mode='host-passthrough'/>"
for g in g1 g1u; do
    disk="<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$work/$g.img'/><target dev='vda' bus='virtio'/></disk>"
    sandbox_guest_xml $g "$top" "$disk" >"$work/$g.def.xml"
    check "virsh define $g" sandbox_virsh define "$work/$g.def.xml"
done
before=$(sandbox_virsh dumpxml --inactive g1)

out=$("$VMH" diff g1 2>"$work/err"); rc=$?
is "vmhooks diff g1 (exit: changes pending)" "$rc" 1
contains "vmhooks diff g1" "$out" "+  <iothreads>1</iothreads>"
contains "vmhooks diff g1" "$out" "--- g1 (current)"
contains "vmhooks diff g1 (stderr)" "$(cat "$work/err")" "iothreads: disk vda: iothread 1"
if [[ $SANDBOX_DOMTYPE == kvm ]]; then
    contains "vmhooks diff g1 (stderr)" "$(cat "$work/err")" "dedicated-hint: <features><kvm><hint-dedicated state='on'/>"
fi
contains "vmhooks diff g1 (stderr)" "$(cat "$work/err")" "disk-io: skipped: disk vda ($work/g1.img): file-backed"

out=$("$VMH" apply --dry-run g1 2>&1); rc=$?
is "vmhooks apply --dry-run g1 (exit)" "$rc" 0
contains "vmhooks apply --dry-run g1" "$out" "dry run, nothing redefined"
check "dry run leaves the definition" same "$(sandbox_virsh dumpxml --inactive g1)" "$before"

out=$("$VMH" apply g1 2>&1); rc=$?
is "vmhooks apply g1 (exit)" "$rc" 0
contains "vmhooks apply g1" "$out" "vmhooks apply: g1: redefined ("
after=$(sandbox_virsh dumpxml --inactive g1)
contains "g1 after apply" "$after" "<iothreads>1</iothreads>"
contains "g1 after apply" "$after" "<iothreadpin iothread='1' cpuset='0'/>"
contains "g1 after apply" "$after" "<driver name='qemu' type='raw' iothread='1'/>"
if [[ $SANDBOX_DOMTYPE == kvm ]]; then
    contains "g1 after apply" "$after" "<hint-dedicated state='on'/>"
    contains "g1 after apply" "$after" "<pvspinlock state='on'/>"
fi

out=$("$VMH" apply g1 2>&1); rc=$?
is "second vmhooks apply g1 (exit)" "$rc" 0
contains "second vmhooks apply g1" "$out" "vmhooks apply: g1: nothing to change"
contains "second vmhooks apply g1" "$out" "iothreads: unchanged: 1 IOThread"
check "second apply leaves the definition" same "$(sandbox_virsh dumpxml --inactive g1)" "$after"
"$VMH" diff g1 >/dev/null 2>&1; is "vmhooks diff g1 after apply (exit)" "$?" 0

# The patched guest starts wherever its unpatched twin does.  (Nested
# virtualization may refuse host-passthrough CPUs altogether: "failed to
# set MSR 0x10a".)  g2, with QEMU's default CPU, always starts.
if why=$(sandbox_virsh start g1u 2>&1); then
    sandbox_guest_destroy g1u
    check "virsh start g1 (patched; its unpatched twin starts)" sandbox_guest_start g1
    cmdline=$(tr '\0' ' ' <"/proc/$(sandbox_guest_pid g1)/cmdline")
    contains "QEMU of g1" "$cmdline" '"qom-type":"iothread","id":"iothread1"'
    [[ $SANDBOX_DOMTYPE == kvm ]] && contains "QEMU of g1" "$cmdline" "kvm-hint-dedicated=on"
    out=$("$VMH" apply g1 2>&1)
    contains "vmhooks apply on the running g1" "$out" "nothing to change"
    sandbox_guest_destroy g1
else
    echo "SKIP start of g1: its unpatched twin does not start here either: ${why//$'\n'/ }"
fi
truncate -s 16M "$work/g2.img"
disk="<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='$work/g2.img'/><target dev='vda' bus='virtio'/></disk>"
sandbox_guest_xml g2 "<cputune><vcpupin vcpu='0' cpuset='1'/></cputune>" "$disk" >"$work/g2.def.xml"
check "virsh define g2" sandbox_virsh define "$work/g2.def.xml"
out=$("$VMH" apply g2 2>&1); rc=$?
is "vmhooks apply g2 (exit)" "$rc" 0
if [[ $SANDBOX_DOMTYPE == kvm ]]; then
    contains "vmhooks apply g2" "$out" "dedicated-hint: skipped: CPU mode is custom, not host-passthrough"
else # the first reason it gives on a host without KVM
    contains "vmhooks apply g2" "$out" "dedicated-hint: skipped: domain type is 'qemu', not 'kvm'"
fi
check "virsh start g2 (patched)" sandbox_guest_start g2
is "domstate g2" "$(sandbox_guest_state g2)" running
cmdline=$(tr '\0' ' ' <"/proc/$(sandbox_guest_pid g2)/cmdline")
contains "QEMU of g2" "$cmdline" '"qom-type":"iothread","id":"iothread1"'
contains "QEMU of g2" "$cmdline" '"iothread":"iothread1"'
[[ $SANDBOX_DOMTYPE == kvm ]] && contains "QEMU of g2" "$cmdline" "kvm-pv-unhalt=on"
out=$("$VMH" apply g2 2>&1)
contains "vmhooks apply on the running g2" "$out" "vmhooks apply: g2: nothing to change"

# ---- 3. errors -----------------------------------------------------------------
out=$("$VMH" apply no-such-vm 2>&1); rc=$?
is "vmhooks apply no-such-vm (exit)" "$rc" 1
contains "vmhooks apply no-such-vm" "$out" "vmhooks apply: domain \"no-such-vm\": "
contains "vmhooks apply no-such-vm (libvirt's words)" "$out" "Domain not found"
sandbox_guest_xml t1 >"$work/t1.xml"
check "virsh create t1 (transient)" sandbox_virsh create "$work/t1.xml"
out=$("$VMH" apply t1 2>&1); rc=$?
is "vmhooks apply t1 (exit)" "$rc" 1
contains "vmhooks apply t1" "$out" "t1 is a transient domain"
out=$("$VMH" -c qemu:///nowhere diff g1 2>&1); rc=$?
is "vmhooks -c qemu:///nowhere diff (exit)" "$rc" 1
contains "vmhooks -c qemu:///nowhere diff" "$out" "vmhooks diff: qemu:///nowhere: "

# ---- 4. restore through the hook (vh_patch_incoming) -----------------------------
if true; then
    check "virsh save g2" sandbox_virsh save g2 "$work/g2.save"
    sandbox_knob_write "$ONLINE" 0            # CPU 1, g2's, is "offline" for the hook
    check "virsh restore g2" sandbox_virsh restore "$work/g2.save"
    is "domstate g2 after restore" "$(sandbox_guest_state g2)" running
    check "vcpupin of the restored g2: vCPU 0 on CPU 0" \
        bash -c "virsh -q -c qemu:///system vcpupin g2 --live | grep -Eq '^ *0 +0 *\$'"
    contains "g2.log" "$(vh_log g2)" "restore begin: pinning: vcpupin 0: cpuset 1 -> 0"
    sandbox_knob_write "$ONLINE" 0-3
fi
finish
