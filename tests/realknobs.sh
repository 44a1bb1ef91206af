# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/realknobs.sh — save, compare and restore the REAL host knobs of this
# kernel, for the tests that drive them (make realhost, and the integration
# scripts run with VH_REAL_KNOBS=1).  Only on a machine whose knobs may be
# changed (the disposable build and CI VMs): everything here runs as root.
#
#   rk_begin          take the lock, repair what a dead earlier run left,
#                     save every knob (kernel format) to $RK_SAVED
#   rk_compare [F]    one line per knob that differs from the save; status 1 if any
#   rk_restore [F]    write back every writable knob that differs; status 1
#                     if one still differs afterwards
#   rk_end            restore, check, drop the save and the lock (for a trap)
#
# The save is a file, not a variable: a run that dies (even SIGKILL, where
# no trap runs) leaves it, and the next rk_begin puts those values back.
# Knob files are single lines; a THP file reads "always [madvise] never" and
# is written back as "madvise"; the unbound workqueue mask is written back
# from cpumask_requested where the kernel has it (cpumask reads the
# effective mask, requested minus isolated CPUs: tests/integration/FACTS.md).

: "${RK_DIR:=/var/tmp}"
RK_SAVED=$RK_DIR/vmhooks-realknobs.saved
RK_LOCK=$RK_DIR/vmhooks-realknobs.lock
_RK_LOCKFD=
_RK_ACTIVE=0

# Every knob file of this kernel vmhooks may change, and the read-only ones
# that follow them (cpumask_requested, cpumask_isolated): all are compared,
# the writable ones restored.
rk_files() {
    local f
    for f in /sys/kernel/mm/transparent_hugepage/enabled /sys/kernel/mm/transparent_hugepage/defrag \
        /sys/kernel/mm/transparent_hugepage/shmem_enabled /sys/kernel/mm/transparent_hugepage/khugepaged/defrag \
        /sys/kernel/mm/transparent_hugepage/hugepages-*/enabled \
        /sys/kernel/mm/transparent_hugepage/hugepages-*/shmem_enabled \
        /sys/devices/virtual/workqueue/cpumask /sys/devices/virtual/workqueue/cpumask_requested \
        /sys/devices/virtual/workqueue/cpumask_isolated /sys/devices/virtual/workqueue/*/cpumask \
        /sys/module/kvm/parameters/halt_poll_ns \
        /sys/kernel/mm/hugepages/hugepages-*/nr_hugepages \
        /sys/kernel/mm/hugepages/hugepages-*/nr_overcommit_hugepages \
        /sys/devices/system/node/node*/hugepages/hugepages-*/nr_hugepages \
        /proc/irq/default_smp_affinity /proc/irq/*/smp_affinity_list; do
        [[ -f $f ]] && printf '%s\n' "$f"
    done
}

# rk_read VAR FILE: VAR = the file's (first) line, without a fork; "<unreadable>" when it cannot be read
rk_read() { IFS= read -r "$1" <"$2" 2>/dev/null || [[ -n ${!1} ]] || printf -v "$1" '%s' "<unreadable>"; }

# rk_snapshot: "PATH<TAB>CONTENT" for every knob file
rk_snapshot() {
    local f v
    while IFS= read -r f; do
        v=""; rk_read v "$f"
        printf '%s\t%s\n' "$f" "$v"
    done < <(rk_files)
}

# rk_saved_value FILE PATH: the saved content of PATH
rk_saved_value() { awk -F'\t' -v p="$2" '$1 == p { print substr($0, length($1) + 2); exit }' "$1"; }

rk_compare() {
    local saved=${1:-$RK_SAVED} f v now n=0
    while IFS=$'\t' read -r f v; do
        now=""; rk_read now "$f"
        if [[ $now != "$v" ]]; then
            printf '%s: was "%s", now "%s"\n' "$f" "$v" "$now"
            n=$((n + 1))
        fi
    done <"$saved"
    ((n == 0))
}

_rk_writable() { [[ $(stat -c %A "$1" 2>/dev/null) == ?*w* ]]; }

# _rk_write PATH VALUE: like `echo VALUE > PATH`; says what it did
_rk_write() {
    if { printf '%s\n' "$2" >"$1"; } 2>/dev/null; then
        echo "realknobs: restored $1 = $2"
    else
        echo "realknobs: could not restore $1 = $2" >&2
    fi
}

rk_restore() {
    local saved=${1:-$RK_SAVED} f v now w
    local G=/sys/devices/virtual/workqueue/cpumask R=/sys/devices/virtual/workqueue/cpumask_requested
    [[ -f $saved ]] || return 0
    # the unbound mask first, written back as what the administrator set
    # (cpumask_requested), not as what cpumask reads (requested minus isolated)
    v=$(rk_saved_value "$saved" "$R")
    [[ -n $v ]] || v=$(rk_saved_value "$saved" "$G")
    if [[ -n $v ]] && { [[ $(cat "$G") != "$(rk_saved_value "$saved" "$G")" ]] ||
                        [[ -f $R && $(cat "$R") != "$v" ]]; }; then
        _rk_write "$G" "$v"
    fi
    while IFS=$'\t' read -r f v; do
        [[ $f == "$G" || $f == "$R" || $f == */workqueue/cpumask_isolated ]] && continue
        now=$(cat "$f" 2>/dev/null)
        [[ $now == "$v" ]] && continue
        _rk_writable "$f" || { echo "realknobs: $f differs but is read-only: was \"$v\", now \"$now\"" >&2; continue; }
        w=$v
        [[ $v =~ \[([^]]*)\] ]] && w=${BASH_REMATCH[1]}
        _rk_write "$f" "$w"
    done <"$saved"
    rk_compare "$saved" >/dev/null
}

rk_begin() {
    mkdir -p "$RK_DIR"
    exec {_RK_LOCKFD}>>"$RK_LOCK"
    flock -w 900 "$_RK_LOCKFD" || { echo "realknobs: $RK_LOCK held for 15 min by another run" >&2; return 1; }
    if [[ -s $RK_SAVED ]]; then
        echo "realknobs: an earlier run died before it restored the knobs ($RK_SAVED); restoring them now" >&2
        rk_restore "$RK_SAVED" >&2 || { echo "realknobs: could not restore every knob from $RK_SAVED:" >&2
                                        rk_compare "$RK_SAVED" >&2; return 1; }
    fi
    rk_snapshot >"$RK_SAVED.tmp" && mv "$RK_SAVED.tmp" "$RK_SAVED" || return 1
    _RK_ACTIVE=1
}

# rk_end: restore and release; status 1 when something could not be restored
rk_end() {
    ((_RK_ACTIVE)) || return 0
    _RK_ACTIVE=0
    local rc=0
    rk_restore "$RK_SAVED" || { rc=1; echo "realknobs: NOT RESTORED:" >&2; rk_compare "$RK_SAVED" >&2; }
    ((rc)) || rm -f "$RK_SAVED"
    [[ -n $_RK_LOCKFD ]] && exec {_RK_LOCKFD}>&-
    return $rc
}

# Kernel format helpers -----------------------------------------------------

# rk_word LINE: the selected word of "always [madvise] never"
rk_word() { local l=$1; [[ $l =~ \[([^]]*)\] ]] && echo "${BASH_REMATCH[1]}" || echo "$l"; }
# rk_select LINE WORD: LINE as the kernel prints it once WORD is selected
rk_select() {
    local out="" w
    for w in ${1//[\[\]]/}; do
        [[ $w == "$2" ]] && w="[$w]"
        out+="${out:+ }$w"
    done
    echo "$out"
}
# rk_mask FILE-or-STRING -> a number (comma groups joined)
rk_maskval() { local m=${1//,/}; echo $((16#${m:-0})); }
