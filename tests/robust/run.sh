#!/bin/bash
# make robust: nothing lost under concurrency, crashes and hostile input.
# Drives build/qemu-hook on a fake host (VMHOOKS_ROOT on tmpfs) the way
# libvirt calls it; prints "N passed, N failed, N skipped".
#   1. 64 guests' lifecycles concurrently against one root, 3 rounds
#   2. the hook SIGKILLed at every fault point of every call of a scenario
#   3. a registration whose VM no longer runs
#   4. hostile input: entities, 1 MB XML, 10,000 disks, every byte in names,
#      bad numbers and non-files in the policy
#   5. state that cannot be written (disk full, read-only /run)
set -u
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
HOOK=${VH_HOOK:-$repo/build/test/qemu-hook}
. "$repo/tests/count.sh"
[ -x "$HOOK" ] || { echo "robust: $HOOK is missing; run make first"; count_summary_add robust 0 1 0; echo "0 passed, 1 failed, 0 skipped"; exit 1; }
base=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$base"' EXIT

# ok, nok, skip: tests/count.sh
is()  { if [[ $2 == "$3" ]]; then ok "$1 = $3"; else nok "$1 = '$2', expected '$3'"; fi; }

THP=/sys/kernel/mm/transparent_hugepage/enabled
HALT=/sys/module/kvm/parameters/halt_poll_ns
WQ=/sys/devices/virtual/workqueue/cpumask
WB=/sys/bus/workqueue/devices/writeback/cpumask

newroot() { # newroot DIR: the knobs of issue 3's scenario, 64 CPUs
    R=$1
    rm -rf "$R"
    mkdir -p "$R/sys/kernel/mm/transparent_hugepage" "$R/sys/devices/virtual/workqueue" \
        "$R/sys/bus/workqueue/devices/writeback" "$R/sys/devices/system/cpu" \
        "$R/sys/module/kvm/parameters" "$R/proc" "$R/run/libvirt/qemu" "$R/etc/vmhooks"
    echo "always [madvise] never" >"$R$THP"
    echo ffffffff,ffffffff >"$R$WQ"
    echo ffffffff,ffffffff >"$R$WB"
    echo 0-63 >"$R/sys/devices/system/cpu/online"
    echo 200000 >"$R$HALT"
    cp "$repo/etc/policy.xml" "$R/etc/vmhooks/policy.xml"
}
records() { local n; n=$(grep -c -E '^(vm|knob) ' "$R/run/vmhooks/state" 2>/dev/null); echo "${n:-0}"; }
originals() { # originals WHAT: every knob back, nothing registered
    [[ $(cat "$R$THP") == madvise || $(cat "$R$THP") == "always [madvise] never" ]] && ok "$1: THP at its original" \
        || nok "$1: THP is $(cat "$R$THP")"
    is "$1: halt_poll_ns" "$(cat "$R$HALT")" 200000
    is "$1: workqueue mask" "$(cat "$R$WQ")" ffffffff,ffffffff
    is "$1: writeback mask" "$(cat "$R$WB")" ffffffff,ffffffff
    is "$1: registrations and knob records left" "$(records)" 0
}
xml() { # xml NAME UUID CPU POLICY
    printf "<domain type='kvm'><name>%s</name><uuid>%s</uuid><memory unit='KiB'>65536</memory>" "$1" "$2"
    printf "<vcpu placement='static'>1</vcpu><cputune><vcpupin vcpu='0' cpuset='%s'/></cputune>" "$3"
    printf "<metadata><vmhooks:policy xmlns:vmhooks='urn:vmhooks:policy:1'>%s</vmhooks:policy></metadata>" "$4"
    printf "<os><type arch='x86_64'>hvm</type></os></domain>\n"
}
call() { # call NAME OP SUBOP XMLFILE [ENV...]: as libvirt does, with an empty environment
    local name=$1 op=$2 sub=$3 f=$4
    shift 4
    env -i VMHOOKS_ROOT="$R" "$@" "$HOOK" "$name" "$op" "$sub" - <"$f"
}
qemu_up()   { echo "$2" >"$R/run/libvirt/qemu/$1.pid"; mkdir -p "$R/proc/$2"; echo "$2 (qemu) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 777 0 0" >"$R/proc/$2/stat"; }
qemu_down() { rm -rf "$R/proc/$2"; rm -f "$R/run/libvirt/qemu/$1.pid"; }

lifecycle() { # lifecycle I: vm$I from prepare to release, with tiny random pauses
    local i=$1 f="$base/xml/vm$1.xml" pid=$((300000 + $1))
    call "vm$i" prepare begin "$f" || return 1
    call "vm$i" start begin "$f" || return 1
    qemu_up "vm$i" $pid
    call "vm$i" started begin "$f" || return 1
    sleep "0.0$((RANDOM % 10))"
    qemu_down "vm$i" $pid
    call "vm$i" stopped end "$f" || return 1
    call "vm$i" release end "$f" || return 1
}

echo "=== 1. 64 guests, concurrently, 3 rounds"
newroot "$base/r1"
mkdir -p "$base/xml"
for i in $(seq 1 64); do
    xml "vm$i" "$(printf '10000000-0000-0000-0000-%012d' "$i")" $((i - 1)) \
        "<vmhooks:halt-poll ns='$((200000 + i * 1000))'/><vmhooks:thp mode='$([ $((i % 3)) = 0 ] && echo never || echo madvise)'/><vmhooks:kworkers isolate='yes'/>" \
        >"$base/xml/vm$i.xml"
done
for round in 1 2 3; do
    # phase A: all start at once; the knobs are what all 64 demand
    pids=()
    for i in $(seq 1 64); do
        ( f="$base/xml/vm$i.xml"; call "vm$i" prepare begin "$f" && call "vm$i" start begin "$f" &&
          qemu_up "vm$i" $((300000 + i)) && call "vm$i" started begin "$f" ) & pids+=($!)
    done
    bad=0; for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
    is "round $round: starts that failed" $bad 0
    is "round $round: THP with 64 running" "$(cat "$R$THP")" never
    is "round $round: halt_poll_ns with 64 running" "$(cat "$R$HALT")" 264000
    # CPUs 0-63 all demanded: first come, first served, and a mask without a housekeeping CPU is never
    # written: 63 VMs got their CPU isolated, the last one to register kept its CPU in the mask (one bit)
    m=$(cat "$R$WQ"); m=${m//,/}
    bits=$(python3 -c "print(bin(int('$m', 16)).count('1'))")
    is "round $round: workqueue mask (64 VMs isolate every CPU: one CPU left, never none)" "$bits" 1
    told=$(cat "$R"/var/log/vmhooks/*.log | grep -c 'note: kworkers: this VM.s CPUs .* stay open to unbound kworkers')
    if [[ $told -ge 1 ]]; then ok "round $round: the VM left out is told so in its own log ($told lines so far)"
    else nok "round $round: no VM was told that its CPU stays open to kworkers"; fi
    is "round $round: registrations" "$(grep -c '^vm ' "$R/run/vmhooks/state")" 64
    # phase B: all stop at once
    pids=()
    for i in $(seq 1 64); do
        ( f="$base/xml/vm$i.xml"; qemu_down "vm$i" $((300000 + i)); call "vm$i" stopped end "$f" &&
          call "vm$i" release end "$f" ) & pids+=($!)
    done
    bad=0; for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
    is "round $round: stops that failed" $bad 0
    originals "round $round"
done
# interleaved: whole lifecycles of 64 guests racing each other
pids=()
for i in $(seq 1 64); do lifecycle "$i" & pids+=($!); done
bad=0; for p in "${pids[@]}"; do wait "$p" || bad=$((bad + 1)); done
is "interleaved lifecycles that failed" $bad 0
originals "interleaved lifecycles"
! grep -l "changed by someone else" "$R"/var/log/vmhooks/*.log >/dev/null 2>&1 && ok "no false drift under concurrency" \
    || nok "a knob looked changed by someone else under concurrency: $(grep -h 'changed by someone else' "$R"/var/log/vmhooks/*.log | head -3)"

echo "=== 2. SIGKILL at every fault point of every call"
# Scenario: A starts, B starts, B stops, A stops, then Z (the next calls) starts and stops.
xml A a0000000-0000-0000-0000-000000000001 2 "<vmhooks:halt-poll ns='400000'/><vmhooks:thp mode='never'/><vmhooks:kworkers isolate='yes'/>" >"$base/A.xml"
xml B b0000000-0000-0000-0000-000000000002 3 "<vmhooks:halt-poll ns='300000'/><vmhooks:thp mode='always'/><vmhooks:kworkers isolate='yes'/>" >"$base/B.xml"
xml Z f0000000-0000-0000-0000-000000000009 4 "<vmhooks:halt-poll ns='250000'/>" >"$base/Z.xml"
steps=(
    "A prepare begin" "A start begin" "A up" "A started begin"
    "B prepare begin" "B start begin" "B up" "B started begin"
    "B down" "B stopped end" "B release end"
    "A down" "A stopped end" "A release end"
    "Z prepare begin" "Z down" "Z stopped end" "Z release end"
)
pid_of() { case $1 in A) echo 4001 ;; B) echo 4002 ;; Z) echo 4009 ;; esac; }
run_scenario() { # run_scenario KILL_STEP KILL_POINT: prints "killed" when the kill hit
    local k=$1 n=$2 idx=0 dead="" killed=0
    for s in "${steps[@]}"; do
        read -r vm op sub <<<"$s"
        if [[ $op == up ]]; then [[ $dead == *"$vm"* ]] || qemu_up "$vm" "$(pid_of "$vm")"; idx=$((idx + 1)); continue; fi
        if [[ $op == down ]]; then qemu_down "$vm" "$(pid_of "$vm")"; idx=$((idx + 1)); continue; fi
        # after a failed start libvirt sends only stopped and release for that VM
        if [[ $dead == *"$vm"* && $op != stopped && $op != release ]]; then idx=$((idx + 1)); continue; fi
        local env=()
        [[ $idx == "$k" ]] && env=(VMHOOKS_FAULT="*@$n=kill")
        call "$vm" "$op" "$sub" "$base/$vm.xml" "${env[@]}" 2>/dev/null
        local rc=$?
        if [[ $rc == 137 ]]; then
            killed=1
            # a start that died: libvirt stops the VM (stopped, release follow in the steps)
            [[ $op == prepare || $op == start || $op == started ]] && { dead+=" $vm"; qemu_down "$vm" "$(pid_of "$vm")"; }
        fi
        idx=$((idx + 1))
    done
    echo $killed
}
kills=0 bad=()
for k in $(seq 0 $((${#steps[@]} - 1))); do
    [[ ${steps[$k]} == *" up"* || ${steps[$k]} == *" down"* ]] && continue
    for n in $(seq 1 12); do
        newroot "$base/r2"
        hit=$(run_scenario "$k" "$n")
        [[ $hit == 1 ]] || break
        kills=$((kills + 1))
        st=$(records)
        if [[ $(cat "$R$HALT") != 200000 || $(cat "$R$WQ") != ffffffff,ffffffff || $(cat "$R$WB") != ffffffff,ffffffff ||
              ( $(cat "$R$THP") != madvise && $(cat "$R$THP") != "always [madvise] never" ) || $st != 0 ]]; then
            bad+=("${steps[$k]} killed at point $n: thp=$(cat "$R$THP") halt=$(cat "$R$HALT") wq=$(cat "$R$WQ") records=$st")
        fi
    done
done
[ $kills -gt 20 ] && ok "the hook was killed at $kills different points" || nok "only $kills kills happened"
[ ${#bad[@]} = 0 ] && ok "after every kill the next calls restored every knob and left no record" \
    || { nok "${#bad[@]} kills left the host changed"; printf '    %s\n' "${bad[@]:0:10}"; }

echo "=== 3. a registration whose VM no longer runs"
newroot "$base/r3"
call A prepare begin "$base/A.xml"; qemu_up A 4001; call A started begin "$base/A.xml"
is "A's demand applied" "$(cat "$R$HALT")" 400000
qemu_down A 4001   # QEMU died and libvirt never told us
call Z prepare begin "$base/Z.xml"
grep -q "dropped the registration of VM A: its QEMU (PID 4001) no longer runs" "$R/var/log/vmhooks/Z.log" && ok "A's stale registration dropped" \
    || nok "A's stale registration was not dropped"
is "halt_poll_ns now Z's" "$(cat "$R$HALT")" 250000
call Z release end "$base/Z.xml"
originals "after the stale registration"

echo "=== 4. hostile input"
newroot "$base/r4"
{ echo '<?xml version="1.0"?><!DOCTYPE domain [<!ENTITY a "aaaaaaaaaa">'
  for i in $(seq 1 20); do printf '<!ENTITY a%d "%s">' $i "$(printf '&a%s;' $([ $i = 1 ] && echo "" || echo $((i - 1))) | sed 's/&a;/\&a;/')$(printf '&a%s;' $([ $i = 1 ] && echo "" || echo $((i - 1))))"; done
  echo ']><domain><name>&a20;</name></domain>'; } >"$base/laughs.xml"
t0=$(date +%s%N); call laughs prepare begin "$base/laughs.xml"; rc=$?; t1=$(date +%s%N)
is "billion laughs: exit status" $rc 0
[ $(((t1 - t0) / 1000000)) -lt 1000 ] && ok "billion laughs rejected in $(((t1 - t0) / 1000000)) ms" || nok "billion laughs took $(((t1 - t0) / 1000000)) ms"
grep -q "DOCTYPE and entity declarations are not accepted" "$R/var/log/vmhooks/laughs.log" && ok "billion laughs: logged, not expanded" || nok "billion laughs not reported"
printf '<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/shadow">]><domain><name>&x;</name></domain>' >"$base/xxe.xml"
call xxe prepare begin "$base/xxe.xml"; is "external entity: exit status" $? 0
! grep -q root: "$R/var/log/vmhooks/xxe.log" && ok "external entity not expanded" || nok "external entity expanded"
{ printf "<domain><name>big</name><uuid>b1000000-0000-0000-0000-000000000001</uuid><description>"
  head -c 1000000 /dev/zero | tr '\0' 'x'
  printf "</description><metadata><vmhooks:policy xmlns:vmhooks='urn:vmhooks:policy:1'><vmhooks:halt-poll ns='333000'/></vmhooks:policy></metadata></domain>\n"; } >"$base/big.xml"
call big prepare begin "$base/big.xml"; is "1 MB domain XML: halt_poll_ns" "$(cat "$R$HALT")" 333000
call big release end "$base/big.xml"
{ printf "<domain><name>disks</name><uuid>d1000000-0000-0000-0000-000000000001</uuid><devices>"
  for i in $(seq 1 10000); do printf "<disk type='file' device='disk'><source file='/i/%d.img'/><target dev='vd%d' bus='virtio'/></disk>" $i $i; done
  printf "</devices><metadata><vmhooks:policy xmlns:vmhooks='urn:vmhooks:policy:1'><vmhooks:halt-poll ns='334000'/></vmhooks:policy></metadata></domain>\n"; } >"$base/disks.xml"
call disks prepare begin "$base/disks.xml"; is "10,000 disks: halt_poll_ns" "$(cat "$R$HALT")" 334000
call disks release end "$base/disks.xml"
# every byte value 1..255 in a name
xml placeholder c0000000-0000-0000-0000-000000000000 1 "<vmhooks:halt-poll ns='335000'/>" >"$base/p.xml"
bad=0
for b in $(seq 1 255); do
    name=$(printf "vm-\\$(printf %03o "$b")-x")
    [[ ${#name} -ge 5 ]] || name="vm-$b-nl"   # $( ) strips a trailing newline byte
    sed "s/c0000000-0000-0000-0000-000000000000/c0000000-0000-0000-0000-$(printf %012d "$b")/" "$base/p.xml" >"$base/p$b.xml"
    call "$name" prepare begin "$base/p$b.xml" || bad=$((bad + 1))
    call "$name" release end "$base/p$b.xml" || bad=$((bad + 1))
done
is "names with every byte value: failed calls" $bad 0
is "names with every byte value: log files, all inside the log directory" \
    "$(find "$R/var/log" -type f | grep -c -v "^$R/var/log/vmhooks/[^/]*\.log$")" 0
originals "after hostile names"
for pol in "<halt-poll ns='99999999999999999999999'/>" "<halt-poll ns='-400000'/>" "<iothreads count='-1'/>" \
           "<kworkers isolate='yes' cpus='0-99999999'/>" "<thp mode='&#x1;'/>"; do
    printf '<policy xmlns="urn:vmhooks:policy:1">%s</policy>' "$pol" >"$R/etc/vmhooks/policy.xml"
    : >"$R/var/log/vmhooks/A.log"
    call A prepare begin "$base/A.xml"; rc=$?
    is "policy $pol: the VM starts" $rc 0
    grep -q "prepare begin: error: $R/etc/vmhooks/policy.xml: line 1: " "$R/var/log/vmhooks/A.log" && ok "policy $pol: one line names the file and what is wrong" \
        || nok "policy $pol: no clear error in the log"
    call A release end "$base/A.xml"
done
rm -f "$R/etc/vmhooks/policy.xml"; mkdir "$R/etc/vmhooks/policy.xml"
call A prepare begin "$base/A.xml"; is "policy.xml a directory: the VM starts" $? 0
grep -q "cannot read $R/etc/vmhooks/policy.xml: Is a directory" "$R/var/log/vmhooks/A.log" && ok "policy.xml a directory: said so" || nok "policy.xml a directory: not reported"
call A release end "$base/A.xml"; rmdir "$R/etc/vmhooks/policy.xml"
mkfifo "$R/etc/vmhooks/policy.xml"
timeout 5 env -i VMHOOKS_ROOT="$R" "$HOOK" A prepare begin - <"$base/A.xml"; rc=$?
is "policy.xml a FIFO: the hook neither hangs nor fails" $rc 0
grep -q "not a regular file" "$R/var/log/vmhooks/A.log" && ok "policy.xml a FIFO: said so" || nok "policy.xml a FIFO: not reported"
call A release end "$base/A.xml"; rm -f "$R/etc/vmhooks/policy.xml"
ln -s /nonexistent "$R/etc/vmhooks/policy.xml"
call A prepare begin "$base/A.xml"; is "policy.xml a dangling link: the VM starts" $? 0
call A release end "$base/A.xml"; rm -f "$R/etc/vmhooks/policy.xml"
originals "after hostile policies"

echo "=== 5. state that cannot be written"
newroot "$base/r5"
out=$(call A prepare begin "$base/A.xml" VMHOOKS_FAULT="write:state@1=ENOSPC" 2>&1); rc=$?
is "disk full: the VM starts" $rc 0
grep -q "No space left on device" "$R/var/log/vmhooks/A.log" && ok "disk full: the log says why" || nok "disk full: not in the log"
is "disk full: no knob changed (it could not be restored later)" "$(cat "$R$HALT")" 200000
call A release end "$base/A.xml"
originals "after disk full"
# read-only /run: a real read-only mount in a private mount namespace
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
    rm -rf "$R/run/vmhooks"
    out=$(unshare --mount bash -c "mount -t tmpfs -o ro vmhooks-ro '$R/run' && env -i VMHOOKS_ROOT='$R' '$HOOK' A prepare begin - <'$base/A.xml'; echo rc=\$?" 2>&1)
    [[ $out == *rc=0* ]] && ok "read-only /run: the VM starts" || nok "read-only /run: $out"
    grep -q "Read-only file system" "$R/var/log/vmhooks/A.log" && ok "read-only /run: the log says why" || nok "read-only /run: not in the log"
    is "read-only /run: no knob changed" "$(cat "$R$HALT")" 200000
    # and the log itself read-only: stderr says it
    out=$(unshare --mount bash -c "mount -t tmpfs -o ro vmhooks-ro '$R/run' && mount -t tmpfs -o ro vmhooks-ro2 '$R/var/log' && env -i VMHOOKS_ROOT='$R' '$HOOK' A prepare begin - <'$base/A.xml'; echo rc=\$?" 2>&1)
    [[ $out == *"vmhooks: A: prepare begin: error: cannot create directory"* || $out == *"Read-only file system"* ]] && ok "log read-only too: stderr says why" \
        || nok "log read-only: stderr was: $out"
    [[ $out == *rc=0* ]] && ok "log read-only too: the VM starts" || nok "log read-only: exit status"
else
    skip "read-only /run and read-only log: a read-only mount needs root and unshare (uid $(id -u))"
fi
count_report robust
count_line
[ $fail = 0 ]
