#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Hugepages just in time on the real libvirtd: a guest whose memory is
# static 2 MiB hugepages starts on a host with an EMPTY pool because
# vmhooks allocated for it (<hugepage-pool/>), and the pool is empty again
# after destroy; with allocate="no" the same start is refused with the
# numbers.  hugetlbfs is mounted in the sandbox (qemu.conf hugetlbfs_mount).
#
# The sandbox shares /sys with the host: this changes the REAL 2 MiB pool.
# Root on a disposable machine only (VMHOOKS_REALHOST=0 skips it); the
# pools are saved first and put back at exit.
. "$(dirname "$(readlink -f "$0")")/lib.sh"

G=/sys/kernel/mm/hugepages/hugepages-2048kB
N=/sys/devices/system/node/node0/hugepages/hugepages-2048kB
[[ -d $N ]] || N=$G
if [[ ${VMHOOKS_REALHOST:-1} == 0 ]]; then
    skip "hugepages on the real libvirtd: VMHOOKS_REALHOST=0 (this machine's hugepage pool must not be changed)"
    finish
fi
if [[ ! -w $G/nr_hugepages ]] || ! grep -qw hugetlbfs /proc/filesystems; then
    skip "hugepages on the real libvirtd: no writable 2 MiB pool or no hugetlbfs here"
    finish
fi
saved=()
for f in $G/nr_hugepages /sys/devices/system/node/node*/hugepages/hugepages-2048kB/nr_hugepages; do
    [[ -f $f ]] && saved+=("$f=$(cat "$f")")
done
restore_pools() { local e; for e in "${saved[@]}"; do echo "${e#*=}" >"${e%%=*}" 2>/dev/null; done; }

vh_seed_knobs
sandbox_setup
sandbox_at_exit restore_pools
vh_install
mkdir -p /run/hugepages2M
mount -t hugetlbfs -o pagesize=2M,mode=0755 vmhooks-huge /run/hugepages2M || sandbox_die "hugetlbfs mount failed"
echo 'hugetlbfs_mount = "/run/hugepages2M"' >>/etc/libvirt/qemu.conf
sandbox_start_daemons || sandbox_die "libvirtd did not start"

# an empty pool: whatever the host had is put back at exit
for e in "${saved[@]}"; do echo 0 >"${e%%=*}"; done
is "the pool before the start" "$(cat $G/nr_hugepages)" 0

hp_guest() { # NAME POLICY
    local f=/run/vmhooks-sandbox/$1.xml
    sandbox_guest_xml "$1" "<memoryBacking><hugepages><page size='2048' unit='KiB'/></hugepages></memoryBacking>
  <metadata><vmhooks:policy xmlns:vmhooks='urn:vmhooks:policy:1'>$2</vmhooks:policy></metadata>" >"$f"
    sandbox_guest_define "$1" "$f"
}

hp_guest hp1 '<vmhooks:hugepage-pool/>'
if out=$(sandbox_virsh start hp1 2>&1); then ok "virsh start hp1 (64 MiB of 2 MiB pages, empty pool)"; else nok "virsh start hp1: $out"; fi
is "domstate" "$(sandbox_guest_state hp1)" running
is "the pool while hp1 runs ($N)" "$(($(cat $N/nr_hugepages) - $(cat $N/surplus_hugepages)))" 32
is "free pages while hp1 runs (QEMU took them)" "$(($(cat $G/free_hugepages) - $(cat $G/resv_hugepages)))" 0
contains "hp1.log" "$(vh_log hp1)" "hugepage-pool: added 32 pages for this VM (given back at its release)"
contains "state" "$(vh_state)" "hugepool=2048:"
st=$("$repo/${BUILD:-build}/test/vmhooks" status 2>&1 || true)
contains "vmhooks status" "$st" "2 MiB on node 0: the administrator's pool 0; added by vmhooks: hp1 32"
check "virsh destroy hp1" sandbox_guest_destroy hp1
is "the pool after destroy" "$(cat $G/nr_hugepages)" 0
is "surplus after destroy" "$(cat $G/surplus_hugepages)" 0
contains "hp1.log" "$(vh_log hp1)" "32 -> 0"

hp_guest hp2 '<vmhooks:hugepage-pool allocate="no"/>'
if out=$(sandbox_virsh start hp2 2>&1); then
    nok "virsh start hp2 with allocate=no and an empty pool started"
    sandbox_guest_destroy hp2
else
    ok "virsh start hp2 (allocate=no, empty pool) is refused"
    contains "the refusal" "$out" "VM hp2 needs 32 pages of 2 MiB (64 MiB), only 0 usable"
fi
is "the pool after the refusal" "$(cat $G/nr_hugepages)" 0
finish
