#!/bin/bash
# tests/integration/smoke.sh — the sandbox works: libvirtd answers, a
# diskless guest starts, runs and is destroyed; host knobs are private.
# Run as root:  bash tests/integration/smoke.sh   (SANDBOX_VERBOSE=1 for details)
set -u
here=$(dirname "$(readlink -f "$0")")
. "$here/sandbox.sh"
. "$here/../count.sh"
sandbox_reexec "$@"            # from here on: inside the namespaces

finish() {
    count_line
    ((fail == 0)) || exit 1
    exit 0
}

sandbox_knob_seed /sys/kernel/mm/transparent_hugepage/enabled "always [madvise] never"
sandbox_knob_seed /sys/module/kvm/parameters/halt_poll_ns 200000
sandbox_setup
T_NS=$(sandbox_elapsed "$VMHOOKS_SANDBOX_T0")

check "THP knob is the seeded plain file" \
    test "$(cat /sys/kernel/mm/transparent_hugepage/enabled)" = "always [madvise] never"
echo never >/sys/kernel/mm/transparent_hugepage/enabled   # O_WRONLY|O_TRUNC
check "echo never > THP knob truncates" \
    test "$(cat /sys/kernel/mm/transparent_hugepage/enabled)" = never
echo 400000 >/sys/module/kvm/parameters/halt_poll_ns
check "halt_poll_ns is writable" test "$(cat /sys/module/kvm/parameters/halt_poll_ns)" = 400000
check "/etc/vmhooks is a private tmpfs" sh -c 'touch /etc/vmhooks/x && findmnt -n /etc/vmhooks >/dev/null'
check "/usr/libexec/vmhooks is a private tmpfs" sh -c 'touch /usr/libexec/vmhooks/x && findmnt -n /usr/libexec/vmhooks >/dev/null'

if ! sandbox_start_daemons; then nok "daemons start"; finish; fi
ok "libvirtd answers (${SANDBOX_T_LIBVIRTD}s after libvirtd -d)"
T_UP=$(sandbox_elapsed "$VMHOOKS_SANDBOX_T0")

t=$(sandbox_now)
check "define guest" sandbox_guest_define smoke1
T_DEFINE=$(sandbox_elapsed "$t")
t=$(sandbox_now)
check "start guest" sandbox_guest_start smoke1
T_START=$(sandbox_elapsed "$t")
check "domstate is running" test "$(sandbox_guest_state smoke1)" = running
check "QEMU pid is alive" kill -0 "$(sandbox_guest_pid smoke1)"
check "QEMU runs as $SANDBOX_QEMU_USER" \
    test "$(ps -o user= -p "$(sandbox_guest_pid smoke1)")" = "$SANDBOX_QEMU_USER"
t=$(sandbox_now)
check "destroy guest" sandbox_guest_destroy smoke1
T_DESTROY=$(sandbox_elapsed "$t")
check "domstate is shut off" test "$(sandbox_guest_state smoke1)" = "shut off"

echo "timing: namespace->setup done ${T_NS}s, ->libvirtd answers ${T_UP}s" \
    "(libvirtd -d->answer ${SANDBOX_T_LIBVIRTD}s), define ${T_DEFINE}s, start ${T_START}s, destroy ${T_DESTROY}s" \
    "[domain type=${SANDBOX_DOMTYPE}]"
finish
