#!/bin/bash
# Prepare-time checks on the real stack (issue 7): a guest that asks for
# more static hugepages than the host has free is refused at prepare, and
# `virsh start` shows vmhooks' one line with the knob to raise; `vmhooks
# check` says the same before any start; `vmhooks audit` runs on the host.
# The 2 MiB pool is faked (plain files bound over its sysfs files) so the
# test does not depend on the machine's hugepages.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_setup
# VH_T_CHECKS_HOOK=PATH: run this hook binary instead of the installed one (development)
if [[ -n ${VH_T_CHECKS_HOOK:-} ]]; then install -m 0755 "$VH_T_CHECKS_HOOK" /usr/libexec/vmhooks/qemu-hook; fi

VMHOOKS=$repo/${BUILD:-build}/test/vmhooks
POOL=/sys/kernel/mm/hugepages/hugepages-2048kB
pool() { # pool NR FREE RESV
    local f v
    for f in nr_hugepages free_hugepages resv_hugepages surplus_hugepages nr_overcommit_hugepages; do
        case $f in nr_*hugepages) v=$1 ;; free_*) v=$2 ;; resv_*) v=$3 ;; *) v=0 ;; esac
        [[ $f == nr_overcommit_hugepages ]] && v=0
        printf '%s\n' "$v" >"$SANDBOX_DIR/hp-$f"
        findmnt -rn "$POOL/$f" >/dev/null || mount --bind "$SANDBOX_DIR/hp-$f" "$POOL/$f"
    done
}
if [[ ! -d $POOL ]]; then
    skip "hugepage refusal at prepare and in vmhooks check: this kernel has no 2 MiB hugepage pool ($POOL)"
else
    pool 10 10 2

    hp="<memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages></memoryBacking>"
    sandbox_guest_xml hp1 "$hp" >"$SANDBOX_DIR/hp1.xml"
    sandbox_guest_define hp1 "$SANDBOX_DIR/hp1.xml"

    # 64 MiB in 2 MiB pages = 32 pages; usable = free 10 - reserved 2 = 8; missing 24; nr 10 + 24 = 34
    line="hugepages: VM hp1 needs 32 pages of 2 MiB (64 MiB), only 8 usable (free 10 - reserved 2) in $POOL; fix: echo 34 > $POOL/nr_hugepages (now 10), or: virsh allocpages 2048KiB 24 --add"
    out=$(sandbox_virsh start hp1 2>&1) && nok "virsh start hp1 should fail" || ok "virsh start hp1 fails"
    contains "virsh start's error" "$out" "Hook script execution failed"
    contains "virsh start's error" "$out" "hp1 prepare begin -) unexpected exit status 1: vmhooks: $line"
    is "vmhooks lines in the error" "$(grep -c 'vmhooks:' <<<"$out")" 1
    is "hp1 state" "$(sandbox_guest_state hp1)" "shut off"
    is "registrations" "$(vh_registered)" 0
    contains "hp1.log" "$(vh_log hp1)" "prepare begin: refused the start: $line"
    is "THP untouched by a refused start" "$(knob $THP)" "always [madvise] never"

    # the same verdict before any start, from the configuration and from a file
    out=$("$VMHOOKS" check hp1); rc=$?
    is "vmhooks check hp1 exit status" "$rc" 1
    contains "vmhooks check hp1" "$out" "FAIL ${line/hugepages: /hugepages: }"
    out=$("$VMHOOKS" check --file "$SANDBOX_DIR/hp1.xml"); rc=$?
    is "vmhooks check --file exit status" "$rc" 1
    contains "vmhooks check --file" "$out" "only 8 usable"
    pool 40 40 2
    out=$("$VMHOOKS" check hp1); rc=$?
    is "vmhooks check hp1 with 38 usable pages" "$rc" 0
    contains "vmhooks check hp1" "$out" "PASS hugepages: VM hp1 needs 32 pages of 2 MiB; 38 usable"
fi

# a guest without hugepages is not affected
vh_guest plain 1
check "virsh start plain" sandbox_guest_start plain
is "plain state" "$(sandbox_guest_state plain)" running
check "no check finding logged for plain" bash -c '! grep -qE "(WARN|FAIL) " /var/log/vmhooks/plain.log'
check "destroy plain" sandbox_guest_destroy plain

# the host audit: one line per finding, the hook found where make install put it
out=$("$VMHOOKS" audit); rc=$?
check "vmhooks audit exits 0 or 1" test "$rc" -le 1
contains "vmhooks audit" "$out" "PASS install: hook installed: /etc/libvirt/hooks/qemu -> /usr/libexec/vmhooks/qemu-hook"
# the daemon layout of the real stack: Debian runs the monolithic libvirtd
contains "vmhooks audit names the daemon layout" "$out" \
    "NOTE daemons: libvirt daemons: monolithic: libvirtd running (PID $(cat /run/libvirtd.pid))"
contains "vmhooks status names it too" "$("$VMHOOKS" status 2>&1)" "daemons: libvirt daemons: monolithic: libvirtd running"
check "every audit line has a level" bash -c '! grep -vqE "^(PASS|NOTE|WARN|FAIL) [a-z-]+: |^audit: " <<<"$1"' _ "$out"
json=$("$VMHOOKS" audit --json); rc=$?
check "vmhooks audit --json is JSON" python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["results"] and "FAIL" in d["counts"]' "$json"
finish
