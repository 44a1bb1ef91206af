# shellcheck shell=bash
# tests/integration/sandbox.sh — run a real libvirtd + QEMU without touching
# the host.  Source it from a bash test script (see smoke.sh):
#
#   . "$(dirname "$(readlink -f "$0")")/sandbox.sh"
#   sandbox_reexec "$@"          # re-runs this script inside the namespaces
#   sandbox_knob_seed /sys/kernel/mm/transparent_hugepage/enabled "always [madvise] never"
#   sandbox_setup                # private /run, /etc/libvirt, knobs, ...
#   sandbox_install_hook build/qemu-hook qemu      # before libvirtd starts
#   sandbox_start_daemons        # virtlogd -d; libvirtd -d; wait for virsh
#   sandbox_guest_define g1; sandbox_guest_start g1
#   ...                          # cleanup (destroy guests, stop daemons) is
#                                # an EXIT trap; the PID namespace does the rest
#
# Functions
#   outside:  sandbox_reexec "$@"      re-exec in namespaces, check host after;
#                                      exits 77 (skip) if not root / no libvirt
#             sandbox_preflight        the root/libvirtd/qemu checks alone
#   setup:    sandbox_knob_seed PATH CONTENT   (before sandbox_setup)
#             sandbox_setup            mounts; sets SANDBOX_DOMTYPE (kvm|qemu),
#                                      SANDBOX_QEMU_USER/GROUP, SANDBOX_T_SETUP
#             sandbox_knob_write PATH CONTENT / sandbox_knob_read PATH
#             sandbox_install_hook SRC [qemu|qemu.d/NAME]
#   daemons:  sandbox_start_daemons | sandbox_start_virtlogd | sandbox_start_libvirtd
#             (sets SANDBOX_T_LIBVIRTD), sandbox_stop_daemons,
#             sandbox_stop_libvirtd, sandbox_restart_libvirtd,
#             sandbox_reload_libvirtd (SIGHUP), sandbox_kill9_libvirtd,
#             sandbox_libvirtd_log_tail [N], sandbox_virsh ARGS...
#   guests:   sandbox_guest_xml NAME [TOP_XML] [DEVICES_XML] (prints XML),
#             sandbox_guest_define NAME [XMLFILE], sandbox_guest_start NAME,
#             sandbox_guest_destroy NAME, sandbox_guest_undefine NAME,
#             sandbox_guest_state NAME, sandbox_guest_pid NAME
#   misc:     sandbox_at_exit CMD, sandbox_cleanup (the EXIT trap),
#             sandbox_now, sandbox_elapsed T0, sandbox_log, sandbox_die
#
# What is private (inside the namespace only):
#   - every process: unshare --pid --fork --mount-proc; the test script is
#     PID 1 of the namespace and when it exits the kernel kills libvirtd,
#     virtlogd, QEMU and any hook left behind (checked: also on SIGKILL of
#     the script; libvirtd reconnects to QEMU fine inside the namespace);
#   - the network: --net (no bridge/firewall change can reach the host);
#     SANDBOX_NET=host to keep the host network namespace;
#   - tmpfs over /run, /var/lib/libvirt, /var/log/libvirt (directory tree,
#     owners and modes recreated from the host, files not copied), and empty
#     tmpfs over /etc/vmhooks, /var/log/vmhooks, /usr/libexec/vmhooks;
#     /run/vmhooks is a plain dir on the private /run;
#   - overlays (tmpfs upper) over SANDBOX_OVERLAYS (default "/etc /usr /var/lib
#     /var/log"): anything a test installs into /etc, /usr or /var/log, such
#     as `make install` with real paths, lands only in the namespace, and the
#     missing mount points above are created without touching the host;
#   - a cleaned copy of /etc/libvirt bind-mounted over /etc/libvirt (no host
#     hooks, no host domains, nothing autostarted; libvirtd logs hook calls
#     to /var/log/libvirt/libvirtd.log);
#   - plain files bind-mounted over the host knobs in SANDBOX_KNOB_PATHS,
#     seeded from SANDBOX_KNOBS[path] or, if unset, from the host's value.
#     They are regular files: `echo never > enabled` (O_TRUNC) works, but
#     they read back what was written ("never", not "always madvise [never]").
# Shared on purpose: /var/cache/libvirt (QEMU capabilities cache), /dev, /sys
# (except the knobs), /tmp.  With SANDBOX_CGROUPS=0 (default) the sandbox's
# qemu.conf has cgroup_controllers = [ ], so libvirt creates no cgroup on the
# host (it then logs a harmless "At least one cgroup controller is required"
# error at each guest start).
# sandbox_reexec compares, from outside, the host's knob values, the vmhooks
# dirs, /etc/libvirt/hooks, the mount table, libvirt cgroups and libvirt/QEMU
# processes before and after the run, and exits 3 if anything changed.
#
# Environment variables a test may set before sandbox_setup:
#   SANDBOX_KNOBS[path]=content  seed of a knob (or sandbox_knob_seed)
#   SANDBOX_OVERLAYS             dirs to overlay (default "/etc /usr /var/log /var/lib")
#   SANDBOX_KVM=auto|0|1         1: <domain type='kvm'>; if the QEMU user cannot
#                                open /dev/kvm (root-only node), bind a
#                                namespace-only node root:kvm 0660 over it, as
#                                udev does on a normal host (host node untouched).
#                                0: TCG, <domain type='qemu'>.  auto (default):
#                                1 if root can open /dev/kvm, else 0.
#                                Note: with TCG and a root-only /dev/kvm, libvirt
#                                9.0 finds its capabilities cache stale on every
#                                lookup ("KVM was enabled when probing ..., but it
#                                is not available now") and re-probes QEMU: a
#                                smoke run takes ~10 s instead of ~1.2 s.
#   SANDBOX_CGROUPS=0|1          let libvirt use host cgroups (default 0); the
#                                empty "machine" cgroups libvirt leaves behind
#                                are removed by sandbox_reexec
#   SANDBOX_NET=private|host
#   SANDBOX_SERIAL=file|pty      guest serial console (default file)
#   SANDBOX_EMULATOR=PATH        <emulator> of generated guests
#   SANDBOX_ARTIFACTS=DIR        copy /var/log/libvirt and /var/log/vmhooks
#                                there on exit (a shared path such as /tmp/x,
#                                not under /etc, /usr, /var/log or /run)
#   SANDBOX_LIBVIRTD_TIMEOUT     seconds to wait for libvirtd (default 120)
#   SANDBOX_VERBOSE=1            log each step to stderr
#   VH_REAL_KNOBS=1              no stand-ins: the REAL sysfs knobs of this kernel
#                                (THP, workqueue masks, halt_poll_ns, CPUs online)
#                                are driven; SANDBOX_KNOBS seeds are ignored.  Only
#                                on a disposable machine (make realhost uses it):
#                                sandbox_reexec saves every knob first
#                                (tests/realknobs.sh), restores it from a trap
#                                and fails the run (exit 3) if the test left one
#                                changed.  Needs root and VMHOOKS_REALHOST != 0.

[[ -n ${BASH_VERSION:-} ]] || { echo "sandbox.sh: needs bash" >&2; return 2 2>/dev/null || exit 2; }

: "${SANDBOX_OVERLAYS=/etc /usr /var/log /var/lib}"
: "${SANDBOX_KVM:=auto}"
: "${SANDBOX_CGROUPS:=0}"
: "${SANDBOX_NET:=private}"
: "${SANDBOX_LIBVIRTD_TIMEOUT:=120}"
: "${SANDBOX_VERBOSE:=0}"
SANDBOX_URI=qemu:///system
SANDBOX_KNOB_PATHS=(
    /sys/kernel/mm/transparent_hugepage/enabled
    /sys/kernel/mm/transparent_hugepage/defrag
    /sys/kernel/mm/transparent_hugepage/shmem_enabled
    /sys/module/kvm/parameters/halt_poll_ns
    /sys/devices/virtual/workqueue/cpumask
    /sys/bus/workqueue/devices/writeback/cpumask
    /sys/devices/system/cpu/online
)
SANDBOX_PRIVATE_DIRS=(/etc/vmhooks /var/log/vmhooks /usr/libexec/vmhooks /run/vmhooks /var/lib/vmhooks)
declare -gA SANDBOX_KNOBS 2>/dev/null || true
SANDBOX_DIR=/run/vmhooks-sandbox          # workspace, on the private /run
SANDBOX_AT_EXIT=()                        # commands run by sandbox_cleanup first
_SANDBOX_DAEMONS=0
_SANDBOX_CLEANED=0

sandbox_log()  { [[ $SANDBOX_VERBOSE == 1 ]] && printf 'sandbox: %s\n' "$*" >&2; return 0; }
sandbox_die()  { printf 'sandbox: error: %s\n' "$*" >&2; exit 2; }
sandbox_now()  { date +%s.%N; }
# sandbox_elapsed T0 -> seconds since T0 with 3 decimals
sandbox_elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.3f", b-a}'; }

# Checks done before entering the namespace; returns 2 with a clear message
# (sandbox_reexec then exits 77, the usual "skipped" status).
sandbox_preflight() {
    if [[ $(id -u) != 0 ]]; then
        echo "sandbox: must run as root (it mounts tmpfs/overlays and starts libvirtd); skipping" >&2
        return 2
    fi
    local c missing=()
    for c in unshare mount libvirtd virtlogd virsh; do
        command -v "$c" >/dev/null 2>&1 || missing+=("$c")
    done
    if ((${#missing[@]})); then
        echo "sandbox: missing: ${missing[*]} (install libvirt-daemon-system, libvirt-clients, util-linux)" >&2
        return 2
    fi
    if ! ls /usr/bin/qemu-system-* >/dev/null 2>&1; then
        echo "sandbox: no /usr/bin/qemu-system-* (install qemu-system-x86)" >&2
        return 2
    fi
    return 0
}

# What must be identical on the host before and after a sandboxed run.
_sandbox_host_snapshot() {
    local f
    for f in "${SANDBOX_KNOB_PATHS[@]}" /sys/devices/virtual/workqueue/cpumask_requested \
             /sys/devices/virtual/workqueue/*/cpumask; do
        printf 'knob %s = %s\n' "$f" "$(cat "$f" 2>&1)"
    done
    for f in "${SANDBOX_PRIVATE_DIRS[@]}" /etc/libvirt/hooks; do
        printf 'dir %s: %s\n' "$f" "$(ls -A "$f" 2>&1 | tr '\n' ' ')"
    done
    printf 'cgroups: %s\n' "$(find /sys/fs/cgroup -maxdepth 3 -type d \( -name machine -o -name 'machine.slice' -o -name '*libvirt*' \) 2>/dev/null | sort | tr '\n' ' ')"
    printf 'mounts: %s\n' "$(findmnt -rn -o TARGET | sort | tr '\n' ' ')"
    # libvirt/QEMU processes in the host's PID namespace (a parallel sandbox's
    # processes live in other PID namespaces and are ignored)
    local p myns procs=""
    myns=$(readlink /proc/self/ns/pid)
    for p in $(ps -e -o pid=,comm= | awk '$2 ~ /^(libvirtd|virtlogd|qemu-system-)/ {print $1}'); do
        [[ $(readlink "/proc/$p/ns/pid" 2>/dev/null) == "$myns" ]] && procs+="$p "
    done
    printf 'procs: %s\n' "$procs"
}

# sandbox_reexec "$@": call first thing in a test script.  Outside the
# sandbox it runs the script again inside new mount+PID(+net) namespaces,
# compares the host before/after, and exits with the script's status.
# Inside it returns.
sandbox_reexec() {
    if [[ ${VMHOOKS_SANDBOX_INSIDE:-} == 1 ]]; then
        [[ $$ == 1 ]] || sandbox_die "VMHOOKS_SANDBOX_INSIDE=1 but not PID 1 of a PID namespace"
        return 0
    fi
    sandbox_preflight || exit 77
    local script before after rc=0
    if [[ ${VH_REAL_KNOBS:-0} == 1 ]]; then
        if [[ ${VMHOOKS_REALHOST:-1} == 0 ]]; then
            echo "sandbox: VH_REAL_KNOBS=1 but VMHOOKS_REALHOST=0: the real knobs must not be changed here; skipping" >&2
            exit 77
        fi
        . "$(dirname "${BASH_SOURCE[0]}")/../realknobs.sh"
        rk_begin || sandbox_die "VH_REAL_KNOBS=1: could not save the real knobs"
        trap 'rk_end' EXIT
        trap 'exit 130' INT
        trap 'exit 143' TERM HUP
    fi
    script=$(readlink -f -- "$0")
    local -a flags=(--mount --propagation private --pid --fork --mount-proc)
    [[ $SANDBOX_NET == host ]] || flags+=(--net)
    before=$(_sandbox_host_snapshot)
    export VMHOOKS_SANDBOX_T0
    VMHOOKS_SANDBOX_T0=$(sandbox_now)
    VMHOOKS_SANDBOX_INSIDE=1 unshare "${flags[@]}" -- "$BASH" "$script" "$@" || rc=$?
    after=$(_sandbox_host_snapshot)
    if [[ $SANDBOX_CGROUPS == 1 ]]; then
        # libvirt leaves its (empty) "machine" partition behind: remove the
        # ones this run created
        local cg
        for cg in /sys/fs/cgroup/*/machine /sys/fs/cgroup/machine; do
            [[ -d $cg && $before != *" $cg "* && $before != *": $cg "* ]] || continue
            find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        after=$(_sandbox_host_snapshot)
    fi
    if [[ $before != "$after" ]]; then
        echo "sandbox: HOST CHANGED during the run (by this test, or by something running concurrently outside the sandbox):" >&2
        diff <(echo "$before") <(echo "$after") >&2
        ((rc)) || rc=3
    else
        sandbox_log "host knobs, vmhooks dirs, hooks, mounts, cgroups, processes: unchanged"
    fi
    if [[ ${VH_REAL_KNOBS:-0} == 1 ]]; then
        local d
        if ! d=$(rk_compare "$RK_SAVED"); then
            echo "sandbox: VH_REAL_KNOBS=1: the run left REAL knobs changed (restoring them now):" >&2
            printf '%s\n' "$d" >&2
            ((rc)) || rc=3
        fi
        rk_end || { echo "sandbox: could not restore every real knob" >&2; ((rc)) || rc=3; }
        trap - EXIT
    fi
    exit "$rc"
}

# Mount helpers -----------------------------------------------------------

_sandbox_overlay() { # DIR
    local d=$1 n
    n=${d//\//_}
    if findmnt -rn -o TARGET | grep -q "^$d/"; then
        sandbox_die "$d has submounts; an overlay would hide them (drop it from SANDBOX_OVERLAYS)"
    fi
    mkdir -p "$SANDBOX_DIR/ovl/$n/upper" "$SANDBOX_DIR/ovl/$n/work"
    mount -t overlay "sandbox-ovl$n" \
        -o "lowerdir=$d,upperdir=$SANDBOX_DIR/ovl/$n/upper,workdir=$SANDBOX_DIR/ovl/$n/work" "$d" \
        || sandbox_die "overlay over $d failed"
    sandbox_log "overlay over $d"
}

# _sandbox_is_private DIR: DIR is on a mount made by this sandbox
_sandbox_is_private() {
    local src
    src=$(findmnt -n -o SOURCE --target "$1" 2>/dev/null | tail -1)
    [[ $src == sandbox-* ]]
}

# tmpfs over DIR, recreating the host's directory tree (dirs only) with
# owners and modes.  Creates DIR if missing, but only on a sandbox mount.
_sandbox_tmpfs_tree() { # DIR
    local d=$1 tree="" mode uid gid rel
    if [[ -d $d ]]; then
        tree=$(cd "$d" && find . -mindepth 1 -type d -printf '%m %U %G %P\n')
        read -r mode uid gid < <(stat -c '%a %u %g' "$d")
    else
        _sandbox_is_private "$(dirname "$d")" ||
            sandbox_die "$d does not exist on the host and its parent is not overlaid; add $(dirname "$d") to SANDBOX_OVERLAYS"
        mkdir -p "$d"; mode=755 uid=0 gid=0
    fi
    mount -t tmpfs -o "mode=$mode,uid=$uid,gid=$gid" "sandbox-tmpfs" "$d" || sandbox_die "tmpfs over $d failed"
    while read -r mode uid gid rel; do
        [[ -n $rel ]] || continue
        mkdir -p "$d/$rel" && chown "$uid:$gid" "$d/$rel" && chmod "$mode" "$d/$rel"
    done <<<"$tree"
    sandbox_log "tmpfs over $d"
}

_sandbox_libvirt_config() { # DIR: the copy of /etc/libvirt to clean up
    local c=$1
    # nothing of the host's libvirt state may run here
    rm -rf "$c"/hooks/* "$c"/qemu/*.xml "$c"/qemu/autostart/* \
        "$c"/qemu/networks/autostart/* "$c"/storage/autostart/* 2>/dev/null
    mkdir -p "$c/hooks"
    cat >>"$c/libvirtd.conf" <<'EOF'

# --- vmhooks sandbox ---
log_filters="1:util.hook 3:util.command"
log_outputs="1:file:/var/log/libvirt/libvirtd.log"
EOF
    cat >>"$c/virtlogd.conf" <<'EOF'

# --- vmhooks sandbox ---
log_outputs="3:file:/var/log/libvirt/virtlogd.log"
EOF
    {
        echo
        echo "# --- vmhooks sandbox ---"
        [[ $SANDBOX_CGROUPS == 1 ]] || echo 'cgroup_controllers = [ ]'
    } >>"$c/qemu.conf"
}

_sandbox_kvm() {
    local mode=$SANDBOX_KVM
    if [[ $mode == auto ]]; then
        mode=0
        if [[ -c /dev/kvm ]] && { exec 9<>/dev/kvm; } 2>/dev/null; then
            exec 9>&-
            mode=1
        fi
    fi
    case $mode in
    1)
        [[ -c /dev/kvm ]] || sandbox_die "SANDBOX_KVM=1 but no /dev/kvm"
        if ! _sandbox_qemu_user_can_kvm; then
            # what udev does on a normal host, for this namespace only
            local maj min
            read -r maj min < <(stat -c '%t %T' /dev/kvm)
            mknod -m 0660 "$SANDBOX_DIR/kvm" c $((16#$maj)) $((16#$min)) &&
                chown root:kvm "$SANDBOX_DIR/kvm" &&
                mount --bind "$SANDBOX_DIR/kvm" /dev/kvm || sandbox_die "private /dev/kvm failed"
        fi
        SANDBOX_DOMTYPE=kvm ;;
    0) SANDBOX_DOMTYPE=qemu ;;
    *) sandbox_die "SANDBOX_KVM=$SANDBOX_KVM: want auto, 0 or 1" ;;
    esac
    sandbox_log "guests use <domain type='$SANDBOX_DOMTYPE'>"
}

_sandbox_qemu_user_can_kvm() {
    setpriv --reuid="$SANDBOX_QEMU_USER" --regid="$SANDBOX_QEMU_GROUP" --init-groups \
        sh -c 'test -r /dev/kvm && test -w /dev/kvm' 2>/dev/null
}

# sandbox_knob_seed PATH CONTENT: before sandbox_setup
sandbox_knob_seed() { SANDBOX_KNOBS[$1]=$2; }
# sandbox_knob_write PATH CONTENT: after sandbox_setup (like echo > file)
sandbox_knob_write() { printf '%s\n' "$2" >"$1"; }
sandbox_knob_read()  { cat "$1"; }

# sandbox_setup: build the private world.  Call right after sandbox_reexec.
sandbox_setup() {
    [[ ${VMHOOKS_SANDBOX_INSIDE:-} == 1 && $$ == 1 ]] || sandbox_die "sandbox_setup outside sandbox_reexec"
    local t0 d f
    t0=$(sandbox_now)
    # bash as PID 1 gets no default signal actions: install them now
    trap sandbox_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM HUP
    [[ $SANDBOX_NET == host ]] || ip link set lo up 2>/dev/null || true

    # 1. /run first: it holds the workspace (overlay uppers, copies, knobs)
    mount -t tmpfs -o mode=0755 sandbox-run /run || sandbox_die "tmpfs over /run failed"
    mkdir -p "$SANDBOX_DIR" /run/lock /run/libvirt && chmod 1777 /run/lock

    # 2. overlays, so that missing mount points can be created privately
    for d in $SANDBOX_OVERLAYS; do _sandbox_overlay "$d"; done

    # 3. libvirt state and logs, and our own dirs
    _sandbox_tmpfs_tree /var/lib/libvirt
    _sandbox_tmpfs_tree /var/log/libvirt
    for d in "${SANDBOX_PRIVATE_DIRS[@]}"; do
        # as etc/tmpfiles/vmhooks.conf makes them (the hook refuses a /run/vmhooks open to others)
        [[ $d == /run/* ]] && { mkdir -p "$d"; [[ $d == /run/vmhooks ]] && chmod 0700 "$d"; continue; }
        _sandbox_tmpfs_tree "$d"
    done

    # 4. a clean copy of /etc/libvirt
    cp -a /etc/libvirt "$SANDBOX_DIR/etc-libvirt"
    _sandbox_libvirt_config "$SANDBOX_DIR/etc-libvirt"
    mount --bind "$SANDBOX_DIR/etc-libvirt" /etc/libvirt

    # 5. the QEMU user/group libvirt will use (qemu.conf, else Debian default)
    SANDBOX_QEMU_USER=$(sed -n 's/^[[:space:]]*user[[:space:]]*=[[:space:]]*"\(.*\)".*/\1/p' /etc/libvirt/qemu.conf | tail -1)
    SANDBOX_QEMU_GROUP=$(sed -n 's/^[[:space:]]*group[[:space:]]*=[[:space:]]*"\(.*\)".*/\1/p' /etc/libvirt/qemu.conf | tail -1)
    : "${SANDBOX_QEMU_USER:=libvirt-qemu}" "${SANDBOX_QEMU_GROUP:=libvirt-qemu}"
    _sandbox_kvm

    # 6. host knobs -> plain files (with VH_REAL_KNOBS=1: the real ones,
    #    untouched).  vmhooks tunes every workqueue it finds, so
    #    the whole workqueue directory becomes a tmpfs of plain files: every
    #    queue's cpumask, and no cpumask_requested (a plain file cannot mirror
    #    what is written to cpumask as the kernel's does).
    local wq=/sys/devices/virtual/workqueue q top
    if [[ -d $wq && ${VH_REAL_KNOBS:-0} != 1 ]]; then
        local queues=()
        for q in "$wq"/*/cpumask; do [[ -e $q ]] && queues+=("$(basename "$(dirname "$q")")=$(cat "$q")"); done
        top=$(cat "$wq/cpumask_requested" 2>/dev/null || cat "$wq/cpumask")
        mount -t tmpfs -o mode=0755 vmhooks-sandbox-wq "$wq" || sandbox_die "tmpfs over $wq failed"
        printf '%s\n' "$top" >"$wq/cpumask"
        for q in "${queues[@]}"; do
            mkdir -p "$wq/${q%%=*}" && printf '%s\n' "${q#*=}" >"$wq/${q%%=*}/cpumask"
        done
    fi
    mkdir -p "$SANDBOX_DIR/knobs"
    [[ ${VH_REAL_KNOBS:-0} == 1 ]] && sandbox_log "VH_REAL_KNOBS=1: the real knobs, no stand-ins"
    for f in "${SANDBOX_KNOB_PATHS[@]}"; do
        [[ ${VH_REAL_KNOBS:-0} == 1 ]] && break
        if [[ ! -e $f ]]; then
            echo "sandbox: warning: $f does not exist here, not faked" >&2
            continue
        fi
        local k="$SANDBOX_DIR/knobs/${f//\//_}"
        if [[ -v SANDBOX_KNOBS[$f] ]]; then
            printf '%s\n' "${SANDBOX_KNOBS[$f]}" >"$k"
        else
            cat "$f" >"$k"
        fi
        chmod 0644 "$k"
        mount --bind "$k" "$f" || sandbox_die "bind over $f failed"
    done
    SANDBOX_T_SETUP=$(sandbox_elapsed "$t0")
    sandbox_log "setup done in ${SANDBOX_T_SETUP}s"
}

# Daemons -----------------------------------------------------------------

sandbox_virsh() { virsh -q -c "$SANDBOX_URI" "$@"; }

_sandbox_pid_alive() { # PIDFILE
    local p
    p=$(cat "$1" 2>/dev/null) && [[ -n $p ]] && kill -0 "$p" 2>/dev/null
}

sandbox_libvirtd_log_tail() { # [N]
    echo "---- tail of /var/log/libvirt/libvirtd.log ----" >&2
    tail -n "${1:-30}" /var/log/libvirt/libvirtd.log >&2 2>/dev/null || echo "(no log)" >&2
    echo "----" >&2
}

sandbox_start_virtlogd() {
    _sandbox_pid_alive /run/virtlogd.pid && return 0
    virtlogd -d || sandbox_die "virtlogd -d failed"
    local i
    for ((i = 0; i < 100; i++)); do
        [[ -S /run/libvirt/virtlogd-sock ]] && return 0
        sleep 0.05
    done
    tail -n 20 /var/log/libvirt/virtlogd.log >&2 2>/dev/null
    sandbox_die "virtlogd did not create /run/libvirt/virtlogd-sock"
}

# sandbox_start_libvirtd: libvirtd -d, wait until virsh answers.
# Sets SANDBOX_T_LIBVIRTD (seconds).  Hooks are read at this moment.
sandbox_start_libvirtd() {
    local t0 deadline
    t0=$(sandbox_now)
    _SANDBOX_DAEMONS=1
    libvirtd -d || { sandbox_libvirtd_log_tail 30; sandbox_die "libvirtd -d failed"; }
    deadline=$((SECONDS + SANDBOX_LIBVIRTD_TIMEOUT))
    until virsh -c "$SANDBOX_URI" version >/dev/null 2>&1; do
        if ((SECONDS > deadline)); then
            sandbox_libvirtd_log_tail 30
            sandbox_die "libvirtd did not answer 'virsh -c $SANDBOX_URI version' within ${SANDBOX_LIBVIRTD_TIMEOUT}s"
        fi
        if [[ -e /run/libvirtd.pid ]] && ! _sandbox_pid_alive /run/libvirtd.pid; then
            sandbox_libvirtd_log_tail 30
            sandbox_die "libvirtd exited during startup"
        fi
        sleep 0.1
    done
    SANDBOX_T_LIBVIRTD=$(sandbox_elapsed "$t0")
    sandbox_log "libvirtd answers after ${SANDBOX_T_LIBVIRTD}s"
}

sandbox_start_daemons() { sandbox_start_virtlogd && sandbox_start_libvirtd; }

_sandbox_stop_pidfile() { # PIDFILE NAME
    local p i
    p=$(cat "$1" 2>/dev/null) || return 0
    [[ -n $p ]] && kill -0 "$p" 2>/dev/null || return 0
    kill -TERM "$p" 2>/dev/null
    for ((i = 0; i < 100; i++)); do
        kill -0 "$p" 2>/dev/null || return 0
        sleep 0.1
    done
    echo "sandbox: $2 ($p) ignored SIGTERM for 10 s, killing" >&2
    kill -KILL "$p" 2>/dev/null
}

sandbox_stop_libvirtd() { _sandbox_stop_pidfile /run/libvirtd.pid libvirtd; }
# SIGKILL libvirtd (guests keep running), e.g. to test reconnect
sandbox_kill9_libvirtd() {
    local p
    p=$(cat /run/libvirtd.pid) && kill -KILL "$p"
    while kill -0 "$p" 2>/dev/null; do sleep 0.05; done
}
sandbox_restart_libvirtd() { sandbox_stop_libvirtd; sandbox_start_libvirtd; }
# SIGHUP: libvirtd reloads its drivers (and rescans the hooks dir)
sandbox_reload_libvirtd() { kill -HUP "$(cat /run/libvirtd.pid)"; }

sandbox_stop_daemons() {
    if _sandbox_pid_alive /run/libvirtd.pid; then
        local d
        for d in $(virsh -c "$SANDBOX_URI" list --name 2>/dev/null); do
            virsh -c "$SANDBOX_URI" destroy "$d" >/dev/null 2>&1
        done
    fi
    sandbox_stop_libvirtd
    _sandbox_stop_pidfile /run/virtlogd.pid virtlogd
}

# sandbox_install_hook SRC [NAME]: install SRC as /etc/libvirt/hooks/NAME
# (default "qemu"; e.g. "qemu.d/vmhooks").  libvirtd decides at start (and
# on SIGHUP) whether the qemu driver has hooks at all: call this before
# sandbox_start_libvirtd, or sandbox_reload_libvirtd afterwards (FACTS.md).
sandbox_install_hook() {
    local dst=/etc/libvirt/hooks/${2:-qemu}
    mkdir -p "$(dirname "$dst")"
    install -m 0755 "$1" "$dst"
}

# Guests ------------------------------------------------------------------

# sandbox_guest_xml NAME [TOP_XML] [DEVICES_XML]: a 64 MiB, 1 vCPU diskless
# guest with no network; serial and console to
# /var/log/libvirt/qemu/NAME-serial.log (SANDBOX_SERIAL=pty for a pty).
sandbox_guest_xml() {
    local name=$1 top=${2:-} devs=${3:-} serial
    if [[ ${SANDBOX_SERIAL:-file} == pty ]]; then
        serial="<serial type='pty'/><console type='pty'/>"
    else
        serial="<serial type='file'><source path='/var/log/libvirt/qemu/$name-serial.log'/></serial>
    <console type='file'><source path='/var/log/libvirt/qemu/$name-serial.log'/></console>"
    fi
    cat <<EOF
<domain type='${SANDBOX_DOMTYPE:-qemu}'>
  <name>$name</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type><boot dev='hd'/></os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  $top
  <devices>
    <emulator>${SANDBOX_EMULATOR:-/usr/bin/qemu-system-x86_64}</emulator>
    $serial
    <memballoon model='none'/>
    $devs
  </devices>
</domain>
EOF
}

# sandbox_guest_define NAME [XMLFILE]: define NAME (generated XML by default)
sandbox_guest_define() {
    local name=$1 xml=${2:-}
    if [[ -z $xml ]]; then
        xml=$SANDBOX_DIR/$name.xml
        sandbox_guest_xml "$name" >"$xml"
    fi
    sandbox_virsh define "$xml" >/dev/null
}
sandbox_guest_start()    { sandbox_virsh start "$1" >/dev/null; }
sandbox_guest_destroy()  { sandbox_virsh destroy "$1" >/dev/null; }
sandbox_guest_undefine() { sandbox_virsh undefine "$1" >/dev/null; }
sandbox_guest_state()    { sandbox_virsh domstate "$1" 2>/dev/null | head -1; }
# PID of the QEMU process of a running guest, from libvirt's pidfile
sandbox_guest_pid()      { cat "/run/libvirt/qemu/$1.pid" 2>/dev/null; }

# Cleanup -------------------------------------------------------------------

# sandbox_at_exit CMD...: run CMD (eval'd) at the start of sandbox_cleanup
sandbox_at_exit() { SANDBOX_AT_EXIT+=("$*"); }

sandbox_save_artifacts() {
    [[ -n ${SANDBOX_ARTIFACTS:-} ]] || return 0
    mkdir -p "$SANDBOX_ARTIFACTS" &&
        cp -a /var/log/libvirt/. "$SANDBOX_ARTIFACTS/" 2>/dev/null
    [[ -d /var/log/vmhooks ]] && cp -a /var/log/vmhooks "$SANDBOX_ARTIFACTS/" 2>/dev/null
    return 0
}

# Installed as the EXIT trap by sandbox_setup: destroy guests, stop daemons.
# Whatever survives dies with the PID namespace when the script exits.
sandbox_cleanup() {
    local rc=$?
    ((_SANDBOX_CLEANED)) && return $rc
    _SANDBOX_CLEANED=1
    sandbox_log "cleanup (exit status $rc)"
    local c
    for c in "${SANDBOX_AT_EXIT[@]}"; do eval "$c" || true; done
    if ((_SANDBOX_DAEMONS)); then
        sandbox_stop_daemons
    fi
    sandbox_save_artifacts
    return $rc
}
