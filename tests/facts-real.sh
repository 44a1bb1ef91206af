#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/facts-real.sh — `vmhooks facts` on this real machine says what its
# /sys and /proc say, each fact computed here independently (shell, stat -f,
# python3 for the JSON): the online, isolated and nohz_full CPUs and their
# count, every IRQ of /proc/irq, the cgroup layout (by file system type,
# not by the files vmhooks looks at), systemd as PID 1, the NUMA nodes with
# their CPUs, every hugepage pool with its counters, every PCI device with
# its ids.  Then `vmhooks facts > F; vmhooks patch --facts F` gives what
# `vmhooks patch` gives on this host.  Reads only; no root needed.
#
#   PROD=build bash tests/facts-real.sh      (make check runs it)
set -u
PROD=${PROD:-build}
. "$(dirname "$0")/count.sh"   # ok, nok, skip, check, count_line
tool=$PROD/vmhooks
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! "$tool" facts >"$work/facts" 2>"$work/err"; then
    nok "vmhooks facts: $(cat "$work/err")"
    count_report "${VH_SUITE:-unit}/facts-real"
    count_line
    exit 1
fi
ok "vmhooks facts runs ($(wc -l <"$work/facts") records)"
rec() { grep -E "^$1( |$)" "$work/facts"; }          # the records of a type
field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; } # one field of a record

# CPUs
sysline() { [[ -r $1 ]] && { read -r l <"$1"; [[ $l == "(null)" ]] && l=""; echo "$l"; } || echo ""; }
cpus=$(rec cpus)
for f in online present isolated nohz_full; do
    want=$(sysline /sys/devices/system/cpu/$f)
    got=$(field "$cpus" "$f")
    [[ $got == "$want" ]] && ok "cpus $f=$got as /sys/devices/system/cpu/$f" ||
        nok "cpus $f: facts say '$got', /sys/devices/system/cpu/$f '$want'"
done
# the count of online CPUs, from the list by hand
count=0
IFS=, read -ra ranges <<<"$(sysline /sys/devices/system/cpu/online)"
for r in "${ranges[@]}"; do
    [[ $r == *-* ]] && count=$((count + ${r#*-} - ${r%-*} + 1)) || count=$((count + 1))
done
"$tool" facts --json >"$work/json" 2>"$work/err" || nok "vmhooks facts --json: $(cat "$work/err")"
jcount=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["cpus"]["online_count"])' "$work/json" 2>&1)
[[ $jcount == "$count" ]] && ok "$count online CPUs (facts --json online_count)" ||
    nok "online CPUs: --json says '$jcount', /sys $count"

# IRQs: every numbered directory of /proc/irq
want=$(find /proc/irq -mindepth 1 -maxdepth 1 -name '[0-9]*' -printf '%f\n' | sort -n | tr '\n' ' ')
got=$(rec irq | cut -d' ' -f2 | tr '\n' ' ')
n=$(wc -w <<<"$want")
[[ $got == "$want" ]] && ok "$n IRQs, as /proc/irq" || nok "IRQs: facts '$got', /proc/irq '$want'"
jn=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["irqs"]))' "$work/json")
[[ $jn == "$n" ]] && ok "--json has the $n IRQs" || nok "--json has $jn IRQs, /proc/irq $n"

# cgroup layout, from the file system types (stat -f), and systemd
fstype() { stat -f -c %T "$1" 2>/dev/null; }
case $(fstype /sys/fs/cgroup) in
    cgroup2fs) want=v2 ;;
    tmpfs) [[ $(fstype /sys/fs/cgroup/unified) == cgroup2fs ]] && want=hybrid || want=v1 ;;
    *) want=none ;;
esac
got=$(field "$(rec cgroup)" layout)
[[ $got == "$want" ]] && ok "cgroup layout $got (stat -f /sys/fs/cgroup)" || nok "cgroup layout: facts '$got', stat -f '$want'"
[[ -d /run/systemd/system ]] && want=1 || want=0
got=$(field "$(rec cgroup)" systemd)
[[ $got == "$want" ]] && ok "systemd=$got (/run/systemd/system)" || nok "systemd: facts '$got', /run/systemd/system says $want"

# NUMA nodes and their CPUs
want="" got=""
for d in /sys/devices/system/node/node[0-9]*; do
    [[ -d $d ]] || continue
    want+="${d##*/node}:$(sysline "$d/cpulist") "
done
while read -r _ id rest; do got+="$id:$(field "$rest" cpus) "; done < <(rec node)
[[ $got == "$want" ]] && ok "NUMA nodes ${want% } as /sys/devices/system/node" || nok "NUMA: facts '$got', /sys '$want'"

# hugepage pools: the sizes, and each counter (read again after: a pool that changed meanwhile is skipped, said why)
pools() {
    local d s
    for d in /sys/kernel/mm/hugepages/hugepages-*kB; do
        [[ -d $d ]] || continue
        s=${d##*hugepages-}
        s=${s%kB}
        echo "$s nr=$(<"$d/nr_hugepages") free=$(<"$d/free_hugepages") resv=$(<"$d/resv_hugepages") surplus=$(<"$d/surplus_hugepages")"
    done | sort -n
}
before=$(pools)
"$tool" facts >"$work/facts2" 2>/dev/null
after=$(pools)
got=$(grep '^pool ' "$work/facts2" | sed 's/^pool //; s/ overcommit=.*//' | sort -n)
sizes=$(cut -d' ' -f1 <<<"$before" | tr '\n' ' ')
gsizes=$(cut -d' ' -f1 <<<"$got" | tr '\n' ' ')
[[ $gsizes == "$sizes" ]] && ok "hugepage pools of ${sizes% } kB, as /sys/kernel/mm/hugepages" ||
    nok "hugepage pool sizes: facts '$gsizes', /sys '$sizes'"
if [[ $before != "$after" ]]; then
    skip "hugepage counters changed while they were read (another test allocates pages): not compared"
elif [[ $got == "$before" ]]; then
    ok "hugepage counters (nr, free, resv, surplus) as /sys"
else
    nok "hugepage counters: facts '$got', /sys '$before'"
fi
want=$(awk '/^Hugepagesize:/ {print $2}' /proc/meminfo)
got=$(field "$(rec hugepages)" default_kib)
[[ $got == "${want:-0}" ]] && ok "default hugepage size ${got}kB (/proc/meminfo)" || nok "Hugepagesize: facts '$got', /proc/meminfo '$want'"

# PCI devices and their vendor ids
want="" got=""
for d in /sys/bus/pci/devices/*; do
    [[ -e $d ]] || continue
    want+="${d##*/}:$(<"$d/vendor") "
done
while read -r _ bdf rest; do got+="$bdf:$(field "$rest" vendor) "; done < <(rec pci)
n=$(wc -w <<<"$want")
[[ $got == "$want" ]] && ok "$n PCI devices with their vendors, as /sys/bus/pci/devices" || nok "PCI: facts '$got', /sys '$want'"

# swtpm: where the programs are, and the localca's mode and owner (stat)
sw=$(rec swtpm)
for prog in swtpm swtpm_setup; do
    want=""
    for d in /usr/bin /usr/local/bin /bin /usr/sbin /usr/local/sbin; do
        [[ -f $d/$prog && -x $d/$prog ]] && { want=$d/$prog; break; }
    done
    got=$(field "$sw" "$prog")
    [[ $got == "$want" ]] && ok "swtpm $prog=${got:-(none)}" || nok "swtpm $prog: facts '$got', the file system '$want'"
done
if [[ -e /var/lib/swtpm-localca ]]; then
    want="0$(stat -c %f /var/lib/swtpm-localca | xargs -I{} printf '%o' 0x{}) $(stat -c %u /var/lib/swtpm-localca)"
else
    want="00 0"  # localca_errno says why; mode and owner are 0
fi
got="$(field "$sw" localca_mode) $(field "$sw" localca_uid)"
[[ $got == "$want" ]] && ok "swtpm-localca mode and owner $got (stat)" || nok "swtpm-localca: facts '$got', stat '$want'"

# the facts file read back: patch --facts on this host = patch
cat >"$work/g.xml" <<'EOF'
<domain type='kvm'>
  <name>facts-real</name>
  <memory unit='KiB'>1048576</memory>
  <vcpu placement='static'>2</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
  </os>
  <devices>
    <disk type='block' device='lun'>
      <source dev='/dev/vda'/>
      <target dev='sda' bus='scsi'/>
    </disk>
  </devices>
</domain>
EOF
printf '%s\n' "<policy xmlns='urn:vmhooks:policy:1'><hugepages size='2M'/><vtpm/><iothreads count='auto'/></policy>" >"$work/policy.xml"
"$tool" patch --policy "$work/policy.xml" "$work/g.xml" >"$work/plain.xml" 2>"$work/plain.err"
rc1=$?
"$tool" patch --policy "$work/policy.xml" --facts "$work/facts" "$work/g.xml" >"$work/facts.xml" 2>"$work/facts.err"
rc2=$?
if [[ $rc1 == 0 && $rc2 == 0 ]] && cmp -s "$work/plain.xml" "$work/facts.xml" && cmp -s "$work/plain.err" "$work/facts.err"; then
    ok "vmhooks facts > F; vmhooks patch --facts F: the XML and lines of vmhooks patch here"
else
    nok "patch --facts (exit $rc2) differs from patch (exit $rc1): $(diff "$work/plain.err" "$work/facts.err" | head -5)"
fi
printf 'vmhooks-facts 1 parts=cpus\ncpus online=0-1 present=0-1 isolated=x nohz_full=\n' >"$work/bad"
"$tool" patch --facts "$work/bad" "$work/g.xml" >/dev/null 2>"$work/bad.err"
rc=$?
msg=$(cat "$work/bad.err")
[[ $rc == 1 && $msg == "vmhooks patch: facts file $work/bad, line 2: cpus: isolated=\"x\": expected a CPU list"* && $(wc -l <"$work/bad.err") == 1 ]] &&
    ok "a malformed facts file: exit 1, one line naming the file and the line" || nok "malformed facts file: exit $rc: $msg"

count_report "${VH_SUITE:-unit}/facts-real"
count_line
((fail == 0))
