#!/bin/bash
# tests/integration/probe/hook-facts.sh — measure how libvirt calls the qemu
# hook, with the recording hook probe/rec-hook.sh, inside the sandbox.
# Not a test (it asserts nothing): it prints the evidence summarised in
# tests/integration/FACTS.md.  Run as root:
#   bash tests/integration/probe/hook-facts.sh > /tmp/hook-facts.log 2>&1
# It takes about a minute.
set -u
here=$(dirname "$(readlink -f "$0")")
. "$here/../sandbox.sh"
sandbox_reexec "$@"
sandbox_setup

R=/run/hookrec
mkdir -p $R/xml $R/ctl
: >$R/log
: >$R/detail
LOGPOS=0 DETPOS=0 LVPOS=0
LVLOG=/var/log/libvirt/libvirtd.log

section() {
    echo
    echo "######## $*"
    LOGPOS=$(wc -l <$R/log)
    DETPOS=$(wc -l <$R/detail)
    LVPOS=$(wc -l <$LVLOG 2>/dev/null || echo 0)
}
hooklog() { echo "--- hook calls:"; tail -n +$((LOGPOS + 1)) $R/log; }
detail()  { echo "--- hook details:"; tail -n +$((DETPOS + 1)) $R/detail; }
lvlog()   { echo "--- libvirtd.log ($*):"; tail -n +$((LVPOS + 1)) $LVLOG | grep -E "$*" | cut -c1-400; }
V() {
    local t0 rc
    t0=$(sandbox_now)
    echo "\$ virsh $*"
    timeout 60 virsh -c qemu:///system "$@" 2>&1
    rc=$?
    echo "[rc=$rc, $(sandbox_elapsed "$t0")s]"
}
ctl()   { printf '%s\n' "$2" >"$R/ctl/$1"; }
unctl() { rm -f "$R/ctl/"*; }
lastxml() { ls -1 $R/xml | grep -- "$1" | tail -1; }

# 7. variables of the shell that starts libvirtd
export VMHOOKS_ROOT=/from-the-shell FOO_FROM_SHELL=1 LANG=C.UTF-8 USER=root LOGNAME=root \
    TMPDIR=/tmp LD_LIBRARY_PATH=/nonexistent SHELL=/bin/bash
sandbox_install_hook "$here/rec-hook.sh" qemu
sandbox_start_daemons
echo "libvirtd environment has: $(tr '\0' '\n' </proc/$(cat /run/libvirtd.pid)/environ | grep -E '^(VMHOOKS_ROOT|FOO_FROM_SHELL|LANG|USER|LOGNAME|TMPDIR|LD_LIBRARY_PATH|SHELL)=' | tr '\n' ' ')"
unset VMHOOKS_ROOT FOO_FROM_SHELL LD_LIBRARY_PATH

sandbox_guest_define g1

section "1a. virsh start; virsh destroy (guest g1)"
V start g1
qp=$(sandbox_guest_pid g1)
echo "QEMU $qp: $(grep -E '^(Uid|Gid|Groups)' /proc/$qp/status | tr -s '\t\n' '  ')"
V destroy g1
hooklog
detail
lvlog 'hook'

section "2b. hook exits without reading stdin (small XML, ~2 KB)"
ctl noread 1
V start g1
V destroy g1
hooklog
unctl

section "2c. hook exits without reading stdin, 1 MB XML (big <description>)"
big=$(head -c 750000 /dev/urandom | base64 -w0)
sandbox_guest_xml g2 "<description>$big</description>" >$SANDBOX_DIR/g2.xml
sandbox_guest_define g2 $SANDBOX_DIR/g2.xml
ctl noread 1
V start g2
V domstate g2
V destroy g2
hooklog
lvlog 'error|warn|hook'
unctl
V start g2
V destroy g2
hooklog | tail -6
V undefine g2

for k in prepare.begin start.begin started.begin; do
    section "1b/3. $k hook exits 1 with one line on stderr"
    ctl "fail.$k" 1
    ctl "msg.$k" "vmhooks: refused by policy ($k)"
    V start g1
    V domstate g1
    hooklog
    lvlog 'error|hook'
    unctl
done

section "3b. prepare hook exits 1 with three lines on stderr and stdout text"
ctl fail.prepare.begin 1
printf 'line one\nline two\nline three\n' >$R/ctl/msg.prepare.begin
V start g1
hooklog
unctl

section "3c. prepare hook exits 2, no stderr"
ctl fail.prepare.begin 2
V start g1
hooklog
unctl

section "1c. stopped/release hooks fail on destroy (exit 1) — does destroy fail?"
V start g1
ctl fail.stopped.end 1
ctl msg.stopped.end "stopped failed"
ctl fail.release.end 1
ctl msg.release.end "release failed"
V destroy g1
V domstate g1
hooklog
lvlog 'error|warn'
unctl

section "5a. hook leaves a background child (sleep 5) holding stderr"
ctl bg.stderr 1
V start g1
hooklog
unctl
V destroy g1
sleep 5

section "5b. hook leaves a background child (sleep 5) holding stdout"
ctl bg.stdout 1
V start g1
hooklog
unctl
V destroy g1
sleep 5

section "5c. slow hook (2 s per call) — does libvirt wait?"
ctl slow 2
V start g1
V destroy g1
hooklog
unctl

section "1d. libvirtd killed with SIGKILL while g1 runs, then libvirtd -d again"
V start g1
qpid=$(sandbox_guest_pid g1)
sandbox_kill9_libvirtd
echo "killed libvirtd; QEMU $qpid alive: $(kill -0 "$qpid" && echo yes)"
sandbox_start_libvirtd
V domstate g1
hooklog
lvlog 'hook|reconnect|error'

section "1e. libvirtd stopped with SIGTERM while g1 runs, then started again"
sandbox_stop_libvirtd
echo "QEMU $qpid alive after libvirtd SIGTERM: $(kill -0 "$qpid" && echo yes)"
sandbox_start_libvirtd
V domstate g1
hooklog

section "1f. QEMU of g1 killed with SIGKILL (guest dies behind libvirt's back)"
kill -9 "$qpid"
sleep 2
V domstate g1
V domstate --reason g1
hooklog

section "1g. virsh save; virsh restore"
V start g1
V save g1 $SANDBOX_DIR/g1.sav
V domstate g1
V restore $SANDBOX_DIR/g1.sav
V domstate g1
hooklog
x=$(lastxml 'restore-begin')
echo "--- XML given to restore begin ($x):"
head -5 "$R/xml/$x"; echo "..."
grep -E '<alias|<seclabel|<label>|<uuid>' "$R/xml/$x" | head -8
V destroy g1

section "1h. virsh managedsave; virsh start"
V start g1
V managedsave g1
V domstate g1
V start g1
V domstate g1
hooklog
x=$(lastxml 'restore-begin') && {
    echo "--- XML given to restore begin after managedsave ($x):"
    grep -E '<alias|<seclabel|<label>' "$R/xml/$x" | head -4
}
V destroy g1

section "8. virsh metadata --config on a defined guest"
V metadata g1 --uri urn:vmhooks:policy:1 --key vmhooks --set '<policy><thp mode="never"/></policy>' --config
echo "--- virsh dumpxml --inactive g1 | metadata:"
virsh -c qemu:///system dumpxml --inactive g1 | sed -n '/<metadata>/,/<\/metadata>/p'
echo "--- /etc/libvirt/qemu/g1.xml | metadata:"
sed -n '/<metadata>/,/<\/metadata>/p' /etc/libvirt/qemu/g1.xml
V metadata g1 --uri urn:vmhooks:policy:1
V start g1
hooklog
for op in prepare-begin start-begin started-begin; do
    x=$(lastxml "$op")
    echo "--- metadata in $x:"
    sed -n '/<metadata>/,/<\/metadata>/p' "$R/xml/$x"
done
section "8b. virsh metadata --live on the running guest, then destroy"
V metadata g1 --uri urn:vmhooks:policy:1 --key vmhooks --set '<policy><thp mode="madvise"/></policy>' --live
V destroy g1
hooklog
for op in stopped-end release-end; do
    x=$(lastxml "$op")
    echo "--- metadata in $x:"
    sed -n '/<metadata>/,/<\/metadata>/p' "$R/xml/$x"
done

section "6a. only /etc/libvirt/hooks/qemu.d/rec (no hooks/qemu), libvirtd restarted"
sandbox_stop_libvirtd
rm -f /etc/libvirt/hooks/qemu
sandbox_install_hook "$here/rec-hook.sh" qemu.d/rec
sandbox_start_libvirtd
V start g1
V destroy g1
hooklog
lvlog 'virHookCheck.*qemu'

section "6b. both hooks/qemu and hooks/qemu.d/rec, libvirtd restarted"
sandbox_stop_libvirtd
sandbox_install_hook "$here/rec-hook.sh" qemu
sandbox_start_libvirtd
V start g1
V destroy g1
hooklog

section "6c. hooks/qemu fails at prepare, qemu.d/rec succeeds"
ctl fail.prepare.begin.qemu 1
ctl msg.prepare.begin.qemu "error from hooks/qemu"
V start g1
hooklog
unctl

section "6c2. hooks/qemu succeeds at prepare, qemu.d/rec fails"
ctl fail.prepare.begin.rec 1
ctl msg.prepare.begin.rec "error from qemu.d/rec"
V start g1
hooklog
unctl

section "6c3. both fail at prepare"
ctl fail.prepare.begin 1
ctl msg.prepare.begin.qemu "error from hooks/qemu"
ctl msg.prepare.begin.rec "error from qemu.d/rec"
ctl fail.prepare.begin.qemu 1
ctl fail.prepare.begin.rec 1
V start g1
hooklog
unctl

section "6d. a hook added to qemu.d while libvirtd runs (no reload), then SIGHUP"
sandbox_install_hook "$here/rec-hook.sh" qemu.d/zz-added
V start g1
V destroy g1
hooklog
section "6d2. ... after SIGHUP"
sandbox_reload_libvirtd
sleep 1
V start g1
V destroy g1
hooklog
rm -f /etc/libvirt/hooks/qemu.d/zz-added

section "6e. hooks/qemu removed and re-added while running; a daemon started with no hook at all gets one later"
sandbox_stop_libvirtd
rm -rf /etc/libvirt/hooks/qemu /etc/libvirt/hooks/qemu.d
sandbox_start_libvirtd
sandbox_install_hook "$here/rec-hook.sh" qemu
V start g1
V destroy g1
echo "(before SIGHUP)"; hooklog
sandbox_reload_libvirtd
sleep 1
V start g1
V destroy g1
echo "(after SIGHUP)"; hooklog
lvlog 'virHookCheck.*qemu|SIGHUP|[Rr]eload'

section "6f. libvirtd started with an EMPTY hooks/qemu.d (no hooks/qemu), then qemu.d/rec added"
sandbox_stop_libvirtd
rm -rf /etc/libvirt/hooks/qemu /etc/libvirt/hooks/qemu.d
mkdir /etc/libvirt/hooks/qemu.d
sandbox_start_libvirtd
sandbox_install_hook "$here/rec-hook.sh" qemu.d/rec
V start g1
V destroy g1
hooklog
lvlog 'virHookCheck.*qemu'
section "6g. ... then hooks/qemu added too (no SIGHUP)"
sandbox_install_hook "$here/rec-hook.sh" qemu
V start g1
V destroy g1
hooklog

section "6h. ... then SIGHUP (daemon has hooks/qemu and qemu.d/rec now)"
sandbox_reload_libvirtd
sleep 1
V start g1
V destroy g1
hooklog
lvlog 'virHookCheck.*qemu'

section "1i. libvirtd SIGKILLed, QEMU dies while libvirtd is down, libvirtd started"
sandbox_stop_libvirtd
rm -rf /etc/libvirt/hooks/qemu.d
sandbox_start_libvirtd
V start g1
qpid=$(sandbox_guest_pid g1)
sandbox_kill9_libvirtd
kill -9 "$qpid"
sleep 1
sandbox_start_libvirtd
V domstate --reason g1
hooklog

section "1j. XML differences: prepare begin on plain start vs after restore"
a=$(ls -1 $R/xml | grep -- '-prepare-begin' | head -1)
b=$(ls -1 $R/xml | grep -B1 -- '-prepare-begin' | grep -A1 -- '-restore-begin' | tail -1)
echo "diff $a $b"
diff "$R/xml/$a" "$R/xml/$b"
a=$(ls -1 $R/xml | grep -- '-start-begin' | head -1)
echo "--- full start begin XML ($a):"
cat "$R/xml/$a"

section "all libvirtd.log lines about hooks (first 16)"
grep -iE 'hook' $LVLOG | head -16 | cut -c1-300
