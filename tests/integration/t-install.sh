#!/bin/bash
# make install / uninstall at real paths (inside the sandbox): a foreign
# qemu hook is never overwritten (vmhooks goes to qemu.d/ and libvirt runs
# both), an edited policy is kept, PREFIX and DESTDIR are honoured, and
# uninstall takes away only what is vmhooks'.
. "$(dirname "$(readlink -f "$0")")/lib.sh"
vh_seed_knobs
sandbox_setup

mk() { make -C "$repo" --no-print-directory BUILD="${BUILD:-build}" "$@" 2>&1; }
hooks=/etc/libvirt/hooks

# DESTDIR staging: links point at the final path, not into the stage
out=$(mk install DESTDIR=/run/vmhooks-sandbox/stage)
check "staged hook" test -x /run/vmhooks-sandbox/stage/usr/libexec/vmhooks/qemu-hook
is "staged link target" "$(readlink /run/vmhooks-sandbox/stage$hooks/qemu)" /usr/libexec/vmhooks/qemu-hook
check "staged schema" test -f /run/vmhooks-sandbox/stage/usr/share/vmhooks/policy.rng
check "nothing outside the stage" test ! -e /usr/libexec/vmhooks/qemu-hook
contains "a staged install signals no daemon, it says what to do" "$out" "restart libvirtd (or virtqemud), or send it SIGHUP"

# PREFIX
out=$(mk install PREFIX=/usr/local DESTDIR=/run/vmhooks-sandbox/local)
is "PREFIX=/usr/local link target" "$(readlink /run/vmhooks-sandbox/local$hooks/qemu)" /usr/local/libexec/vmhooks/qemu-hook

# A foreign hook that records its calls
mkdir -p $hooks
cat >$hooks/qemu <<'SH'
#!/bin/sh
echo "$1 $2 $3" >>/run/foreign-hook.calls
cat >/dev/null
SH
chmod 0755 $hooks/qemu
sum=$(sha256sum <$hooks/qemu)
out=$(mk install)
contains "install output" "$out" "a foreign qemu hook exists at /etc/libvirt/hooks/qemu; leaving it untouched"
contains "install output" "$out" "installed hook: /etc/libvirt/hooks/qemu.d/vmhooks -> /usr/libexec/vmhooks/qemu-hook"
contains "install output" "$out" "neither libvirtd nor virtqemud runs: the one you start runs the hook when it starts (nothing was started)"
check "make install started no daemon" bash -c '! pgrep -x libvirtd >/dev/null && ! pgrep -x virtqemud >/dev/null'
is "foreign hook untouched" "$(sha256sum <$hooks/qemu)" "$sum"
is "qemu.d link" "$(readlink $hooks/qemu.d/vmhooks)" /usr/libexec/vmhooks/qemu-hook
out=$(mk install)
contains "second install" "$out" "hook already installed: /etc/libvirt/hooks/qemu.d/vmhooks"

# libvirt runs both
sandbox_start_daemons || sandbox_die "libvirtd did not start"
vh_guest both 1 '<vmhooks:halt-poll ns="400000"/>'
check "start guest" sandbox_guest_start both
is "halt_poll_ns set by vmhooks in qemu.d" "$(knob $HALT)" 400000
contains "foreign hook ran too" "$(cat /run/foreign-hook.calls)" "both prepare begin"
check "destroy guest" sandbox_guest_destroy both
is "halt_poll_ns restored" "$(knob $HALT)" 200000

# make install reloads the daemon that runs, and starts none: libvirtd runs
# now (started above); a virtqemud is a stand-in process named virtqemud
# (no package here has the modular daemons), its pidfile where virtqemud
# writes it.  SIGHUP ends the stand-in: that is how the test sees it.
lpid=$(cat /run/libvirtd.pid)
out=$(mk install)
contains "install with libvirtd running" "$out" "sent SIGHUP to libvirtd (PID $lpid) so that it runs the hook"
check "libvirtd survived the SIGHUP (the same PID answers)" bash -c \
    "sleep 1; [ \"\$(cat /run/libvirtd.pid)\" = $lpid ] && kill -0 $lpid && virsh -q -c qemu:///system version >/dev/null"
sandbox_stop_daemons
mkdir -p /run/vmhooks-sandbox/fake && cp "$(command -v sleep)" /run/vmhooks-sandbox/fake/virtqemud
# SIGHUP at its default even when the test runs under nohup (an ignored signal survives exec)
env --default-signal=HUP /run/vmhooks-sandbox/fake/virtqemud 300 &
fake=$!
echo $fake >/run/virtqemud.pid
out=$(mk install)
contains "install with virtqemud running" "$out" "sent SIGHUP to virtqemud (PID $fake) so that it runs the hook"
wait $fake
is "the stand-in virtqemud got SIGHUP (exit status 128+1)" $? 129
check "libvirtd, which did not run, was not started" bash -c '! pgrep -x libvirtd >/dev/null && ! pgrep -x virtqemud >/dev/null'
# a stale pidfile (its PID now another program) is not a daemon
sleep 300 &
other=$!
echo $other >/run/virtqemud.pid
out=$(mk install)
contains "install with a stale virtqemud pidfile" "$out" "neither libvirtd nor virtqemud runs"
check "the process behind the stale pidfile was not signalled" kill -0 $other
kill $other
rm -f /run/virtqemud.pid

# AppArmor: the rules parse inside Debian's real libvirtd profile and guest abstraction
if command -v apparmor_parser >/dev/null && [ -f /etc/apparmor.d/usr.sbin.libvirtd ]; then
    contains "install output" "$out" "AppArmor: rules in /etc/apparmor.d/vmhooks/"
    contains "local/usr.sbin.libvirtd" "$(cat /etc/apparmor.d/local/usr.sbin.libvirtd)" "include <vmhooks/libvirtd>"
    is "include added once" "$(grep -c 'include <vmhooks/qemu>' /etc/apparmor.d/local/abstractions/libvirt-qemu)" 1
    check "libvirtd's profile parses with vmhooks' rules" \
        bash -c 'apparmor_parser -Q -K /etc/apparmor.d/usr.sbin.libvirtd 2>&1 | grep -v "^Cache read/write disabled"; exit ${PIPESTATUS[0]}'
    printf '#include <tunables/global>\nprofile libvirt-vmhooks-test {\n  #include <abstractions/libvirt-qemu>\n}\n' >/run/aa-test
    check "the guests' abstraction parses with vmhooks' rules" \
        bash -c 'apparmor_parser -Q -K /run/aa-test 2>&1 | grep -v "^Cache read/write disabled"; exit ${PIPESTATUS[0]}'
else
    nok "apparmor_parser and Debian's libvirtd profile are needed for this check (make deps installs apparmor)"
fi

# An edited policy survives reinstall
echo '<policy xmlns="urn:vmhooks:policy:1"><halt-poll ns="1"/></policy>' >/etc/vmhooks/policy.xml
out=$(mk install)
contains "reinstall" "$out" "kept existing /etc/vmhooks/policy.xml"
contains "edited policy kept" "$(cat /etc/vmhooks/policy.xml)" 'ns="1"'

# uninstall: ours only
out=$(mk uninstall)
check "qemu.d link removed" test ! -e $hooks/qemu.d/vmhooks
is "foreign hook kept" "$(sha256sum <$hooks/qemu)" "$sum"
check "hook binary removed" test ! -e /usr/libexec/vmhooks/qemu-hook
check "policy kept" test -f /etc/vmhooks/policy.xml
if [ -f /etc/apparmor.d/local/usr.sbin.libvirtd ]; then
    check "AppArmor include removed" bash -c '! grep -q vmhooks /etc/apparmor.d/local/usr.sbin.libvirtd /etc/apparmor.d/local/abstractions/libvirt-qemu'
fi

# without a foreign hook: /etc/libvirt/hooks/qemu
rm -f $hooks/qemu
out=$(mk install)
is "main link" "$(readlink $hooks/qemu)" /usr/libexec/vmhooks/qemu-hook
# a dangling foreign symlink is still foreign
out=$(mk uninstall)
ln -s /nonexistent/hook $hooks/qemu
out=$(mk install)
is "dangling foreign link kept" "$(readlink $hooks/qemu)" /nonexistent/hook
is "vmhooks in qemu.d" "$(readlink $hooks/qemu.d/vmhooks)" /usr/libexec/vmhooks/qemu-hook
finish
