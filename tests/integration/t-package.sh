#!/bin/bash
# The packages: the .deb builds from a clean copy of the tree and lists the
# expected files; the rpm builds (Debian's rpmbuild, --nodeps) and lists the
# same files; the .deb installed with dpkg into the sandbox (whose /etc,
# /usr, /var/lib and /var/log are private overlays) links the hook, makes
# the running libvirtd load it (SIGHUP) and tunes a guest; `vmhooks status`
# while two guests run; a foreign hook is kept (qemu.d); removal takes away
# only what the package installed, purge the state and the logs.
. "$(dirname "$(readlink -f "$0")")/lib.sh"

B=${BUILD:-build}
pkg=$repo/$B/pkg
ver=$(sed -n 's/^#define VH_VERSION "\(.*\)"/\1/p' "$repo/lib/version.h")
deb=$pkg/vmhooks_${ver}_$(dpkg --print-architecture).deb
rpmf=$pkg/vmhooks-$ver-1.$(uname -m).rpm
hooks=/etc/libvirt/hooks

for tool in dpkg-buildpackage dh rpmbuild; do
    command -v $tool >/dev/null || sandbox_die "$tool is missing: make deps installs debhelper and rpm"
done

# ---- the man pages render without a warning ----
for m in "$repo"/man/*.[58]; do
    check "man -l $(basename "$m") without warnings" bash -c \
        'LC_ALL=C.UTF-8 MANROFFSEQ="" MANWIDTH=80 man --warnings -l "$1" 2>&1 >/dev/null | (! grep .) &&
         groff -ww -man -Tutf8 "$1" 2>&1 >/dev/null | (! grep .)' sh "$m"
done

# ---- build both, as CI would from a fresh clone (the unit tests ran already) ----
t0=$(date +%s)
if ! out=$(make -C "$repo" --no-print-directory BUILD="$B" PKG_CHECK=0 deb 2>&1); then
    printf '%s\n' "$out" | tail -n 40
    sandbox_die "make deb failed"
fi
t_deb=$(($(date +%s) - t0))
check "the .deb is built" test -f "$deb"
t0=$(date +%s)
if ! out=$(make -C "$repo" --no-print-directory BUILD="$B" PKG_CHECK=0 rpm 2>&1); then
    printf '%s\n' "$out" | tail -n 40
    sandbox_die "make rpm failed"
fi
t_rpm=$(($(date +%s) - t0))
check "the rpm is built" test -f "$rpmf"
echo "# dpkg-buildpackage took ${t_deb} s, rpmbuild ${t_rpm} s (each compiles the whole tree once)"

# ---- what they contain ----
# Files and links (no directories); man pages without their compression;
# docs and rpm's build-id links differ by distribution and are left out.
expected() {
    printf '%s\n' /etc/logrotate.d/vmhooks /etc/vmhooks/policy.xml /usr/bin/vmhooks \
        /usr/lib/tmpfiles.d/vmhooks.conf /usr/libexec/vmhooks/qemu-hook /usr/libexec/vmhooks/qemu-kvm \
        /usr/share/bash-completion/completions/vmhooks /usr/share/man/man5/vmhooks-policy.5 \
        /usr/share/man/man8/vmhooks-hook.8 /usr/share/man/man8/vmhooks-wrapper.8 /usr/share/man/man8/vmhooks.8 \
        /usr/share/vmhooks/policy.rng /usr/share/vmhooks/policy.xml \
        /usr/share/vmhooks/selinux/vmhooks.fc /usr/share/vmhooks/selinux/vmhooks.te
    # the guest-side snippets of the tree the packages were built from: what
    # packaging.mk stages (in a git checkout the files git tracks or does not
    # ignore; in a release tarball, every file)
    guest_files | sed 's|^etc/guest|/usr/share/vmhooks/guest|'
}
guest_files() {
    if [[ $(git -C "$repo" rev-parse --show-toplevel 2>/dev/null) == "$(cd "$repo" && pwd -P)" ]]; then
        git -C "$repo" ls-files --cached --others --exclude-standard etc/guest
    else
        (cd "$repo" && find etc/guest -type f)
    fi
}
normalize() { sed -e 's/\.gz$//' | grep -v -e '^/usr/share/doc/' -e '^/usr/share/licenses/' -e '^/usr/lib/\.build-id/' | sort; }
deb_files=$(dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {print $6}' | sed 's|^\./|/|' | normalize)
rpm_dirs=$(rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpmf" 2>/dev/null | awk '$1 ~ /^d/ {print $2}')
rpm_files=$(rpm -qlp "$rpmf" 2>/dev/null | grep -vxF -f <(printf '%s\n' "$rpm_dirs") | normalize)
want=$(expected | sort)
deb_only=$'/etc/apparmor.d/vmhooks/libvirtd\n/etc/apparmor.d/vmhooks/qemu'
# same_list WHAT ACTUAL EXPECTED: one line, or the difference
same_list() {
    if [[ $2 == "$3" ]]; then
        ok "$1: $(wc -l <<<"$2") files"
    else
        nok "$1 differ (< has, > expected):"
        diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | sed 's/^/    | /'
    fi
}
same_list ".deb files (dpkg-deb -c)" "$deb_files" "$(printf '%s\n%s\n' "$want" "$deb_only" | sort)"
# the compiled SELinux module: built (packaging.mk) where the host has the refpolicy devel Makefile
rpm_only=""
[[ -f /usr/share/selinux/devel/Makefile ]] && rpm_only=/usr/share/selinux/packages/targeted/vmhooks.pp
same_list "rpm files (rpm -qlp)" "$rpm_files" "$(printf '%s\n%s\n' "$want" "$rpm_only" | grep -v '^$' | sort)"
same_list "the files of both, but AppArmor's and the compiled SELinux module" \
    "$(grep -v '^/etc/apparmor.d/' <<<"$deb_files")" "$(grep -vxF "${rpm_only:-/nonexistent}" <<<"$rpm_files")"
contains "rpm directories" "$rpm_dirs" "/var/lib/vmhooks"
# the license: the rpm ships LICENSE (%license), the .deb its copyright file
contains "rpm License tag" "$(rpm -qp --qf '%{LICENSE}' "$rpmf" 2>/dev/null)" "LGPL-2.1-or-later"
check "rpm %license LICENSE is the LGPL 2.1 text" bash -c \
    'lic=$(rpm -qp --licensefiles "$1" 2>/dev/null | grep -x "/usr/share/licenses/vmhooks[^/]*/LICENSE") &&
     rpm2archive - <"$1" | tar -xzOf - ".$lic" | cmp -s - "$2"' sh "$rpmf" "$repo/LICENSE"
check ".deb copyright: LGPL-2.1+, pointing at common-licenses" bash -c \
    'dpkg-deb --fsys-tarfile "$1" | tar -xOf - ./usr/share/doc/vmhooks/copyright |
     grep -q "^License: LGPL-2.1+" && dpkg-deb --fsys-tarfile "$1" | tar -xOf - ./usr/share/doc/vmhooks/copyright |
     grep -q /usr/share/common-licenses/LGPL-2.1' sh "$deb"
# Debian 13's base-files carries the FSF's later revision of the same text
# (a web address instead of the postal one, "Moe Ghoul" for "Ty Coon" in
# the example disclaimer): those lines aside, the two must be identical
lgpl_terms() {
    sed -e '/Franklin Street\|fsf\.org\|gnu\.org\/licenses\|License along with this library/d' \
        -e '/Foundation, Inc\.,\? *51\|Ty Coon\|Moe Ghoul/d' "$1"
}
check "LICENSE is the LGPL 2.1 text (the terms of /usr/share/common-licenses/LGPL-2.1)" \
    cmp -s <(lgpl_terms "$repo/LICENSE") <(lgpl_terms /usr/share/common-licenses/LGPL-2.1)
check "no MIT SPDX header left" bash -c '! git -C "$1" grep -q "SPDX-License-Identifier: [M]IT"' sh "$repo"
contains "rpm directories" "$rpm_dirs" "/var/log/vmhooks"
ctl=$(mktemp -d)
dpkg-deb -e "$deb" "$ctl"
same_list ".deb conffiles" "$(sort "$ctl/conffiles")" "$(printf '%s\n' /etc/apparmor.d/vmhooks/libvirtd \
    /etc/apparmor.d/vmhooks/qemu /etc/logrotate.d/vmhooks /etc/vmhooks/policy.xml)"
check ".deb maintainer scripts" test -x "$ctl/postinst" -a -x "$ctl/prerm" -a -x "$ctl/postrm"
contains ".deb postinst" "$(cat "$ctl/postinst")" "systemd-tmpfiles"
rm -rf "$ctl"
flags=$(rpm -qp --qf '[%{FILEFLAGS:fflags} %{FILENAMES}\n]' "$rpmf" 2>/dev/null)
contains "rpm %config(noreplace)" "$flags" "cn /etc/vmhooks/policy.xml"
contains "rpm %config(noreplace)" "$flags" "cn /etc/logrotate.d/vmhooks"
scripts=$(rpm -qp --scripts "$rpmf" 2>/dev/null)
contains "rpm %post" "$scripts" 'ln -s "$HOOK" "$HOOKS/qemu.d/vmhooks"'
contains "rpm %post" "$scripts" "semanage fcontext -a -t qemu_exec_t"
contains "rpm %post" "$scripts" "kill -HUP"
contains "rpm %post" "$scripts" "--wrapper-config"
contains "rpm Requires" "$(rpm -qp --requires "$rpmf" 2>/dev/null)" "libvirt-daemon-driver-qemu"

# ---- make uninstall mirrors make install (with and without HOST_SETUP) ----
for hs in 1 0; do
    stage=$(mktemp -d)
    mkdir -p "$stage/etc/apparmor.d/local/abstractions"   # as libvirt-daemon-system leaves them
    : >"$stage/etc/apparmor.d/local/usr.sbin.libvirtd"
    : >"$stage/etc/apparmor.d/local/abstractions/libvirt-qemu"
    files() { (cd "$stage" && find . \( -type f -o -type l \) ! -path ./etc/vmhooks/policy.xml | sort); }
    before=$(files)
    make -C "$repo" --no-print-directory BUILD="$B" DESTDIR="$stage" HOST_SETUP=$hs install >/dev/null 2>&1 ||
        nok "make install HOST_SETUP=$hs"
    check "make install HOST_SETUP=$hs installed vmhooks(8)" test -f "$stage/usr/share/man/man8/vmhooks.8"
    make -C "$repo" --no-print-directory BUILD="$B" DESTDIR="$stage" HOST_SETUP=$hs uninstall >/dev/null 2>&1 ||
        nok "make uninstall HOST_SETUP=$hs"
    # kept on purpose: the administrator's policy (and the system's directories)
    same_list "make uninstall HOST_SETUP=$hs leaves the files that were there" "$(files)" "$before"
    check "make uninstall HOST_SETUP=$hs removes vmhooks' directories" bash -c "cd '$stage' &&
        test ! -e usr/libexec/vmhooks -a ! -e usr/share/vmhooks -a ! -e var/lib/vmhooks -a ! -e etc/apparmor.d/vmhooks"
    check "make uninstall HOST_SETUP=$hs: AppArmor include lines gone" \
        bash -c "! grep -rq vmhooks '$stage/etc/apparmor.d/local'"
    rm -rf "$stage"
done

# ---- the .deb on a host whose libvirtd already runs, without any hook ----
# In the sandbox /etc, /usr, /var/lib (the dpkg database) and /var/log are
# overlays: dpkg changes nothing on the host.  Our directories are plain
# directories here, as on a real host (no tmpfs over them), and any vmhooks
# of the host is hidden.
SANDBOX_PRIVATE_DIRS=(/run/vmhooks)
vh_seed_knobs
sandbox_setup
rm -rf /etc/vmhooks /usr/libexec/vmhooks /var/lib/vmhooks /var/log/vmhooks /usr/share/vmhooks
# container images forbid daemon actions to package scripts (exit 101); a host does not
rm -f /usr/sbin/policy-rc.d
sandbox_start_daemons || sandbox_die "libvirtd did not start"
libvirtd_pid=$(cat /run/libvirtd.pid)
sleep 1.1 # the link must be visibly younger than the daemon (times in seconds), as on a real host
# --no-triggers: man-db's trigger would index the pages in the shared /var/cache/man
dpkgq() { dpkg --no-triggers --force-confdef --force-confold "$@" 2>&1; }

out=$(dpkgq -i "$deb")
check "dpkg -i" test "$(dpkg-query -W -f='${Status}' vmhooks 2>/dev/null)" = "install ok installed"
contains "postinst" "$out" "vmhooks: installed the hook: $hooks/qemu -> /usr/libexec/vmhooks/qemu-hook"
contains "postinst" "$out" "vmhooks: sent SIGHUP to libvirtd (PID $libvirtd_pid) so that it runs the hook"
contains "postinst" "$out" "vmhooks: wrote /var/lib/vmhooks/wrapper.conf from /etc/vmhooks/policy.xml"
is "hook link" "$(readlink $hooks/qemu)" /usr/libexec/vmhooks/qemu-hook
check "wrapper.conf written" test -s /var/lib/vmhooks/wrapper.conf
is "tmpfiles: /run/vmhooks" "$(stat -c %a /run/vmhooks)" 700
is "tmpfiles: /run/vmhooks-wrapper" "$(stat -c %a /run/vmhooks-wrapper)" 755
is "tmpfiles: /var/log/vmhooks" "$(stat -c %a /var/log/vmhooks)" 750
is "tmpfiles: /var/lib/vmhooks" "$(stat -c %a /var/lib/vmhooks)" 755
check "vmhooks on PATH" test -x /usr/bin/vmhooks
check "the installed man page renders" bash -c \
    'LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l /usr/share/man/man8/vmhooks.8.gz 2>&1 >/dev/null | (! grep .)'
check "logrotate -d accepts /etc/logrotate.d/vmhooks" bash -c \
    'out=$(logrotate -d /etc/logrotate.d/vmhooks 2>&1) && ! grep -qi "error" <<<"$out" && grep -q "rotating pattern: /var/log/vmhooks/\*.log" <<<"$out"'
check "bash completion parses" bash -n /usr/share/bash-completion/completions/vmhooks
# Right after the install, before any VM start: libvirtd started before the
# hook, and postinst's reload stamp shows it looked again (no false WARN).
st_rc=0
st=$(vmhooks status 2>&1) || st_rc=$?
is "status right after install exits" "$st_rc" 0
contains "status right after install" "$st" "PASS install: hook installed: $hooks/qemu -> /usr/libexec/vmhooks/qemu-hook; libvirt runs it (libvirtd, PID $libvirtd_pid, was reloaded at "
contains "status right after install" "$st" "PASS policy: host policy /etc/vmhooks/policy.xml: thp auto, kworkers isolate=yes, on-error continue"
check "audit right after install: no WARN or FAIL about the install" bash -c '! vmhooks audit | grep -E "^(WARN|FAIL) (install|policy):"'

# one guest, started after the install: libvirtd runs the hook since the SIGHUP
vh_guest g1 1 '<vmhooks:halt-poll ns="400000"/>'
check "virsh start g1" sandbox_guest_start g1
is "halt_poll_ns while g1 runs" "$(knob $HALT)" 400000
is "workqueue mask while g1 runs" "$(maskval $WQ)" $((16#d))
contains "g1.log" "$(vh_log g1)" "prepare begin: halt_poll_ns: 200000 -> 400000; demanded by g1 (halt-poll 400000)"

# vmhooks status while two guests run
vh_guest g2 0 '<vmhooks:halt-poll ns="300000"/>'
check "virsh start g2" sandbox_guest_start g2
st=$(vmhooks status 2>&1)
contains "status" "$st" "vm g1 (uuid $(sandbox_virsh domuuid g1)): running, QEMU PID $(sandbox_guest_pid g1), registered "
contains "status" "$st" "vm g2 (uuid $(sandbox_virsh domuuid g2)): running, QEMU PID $(sandbox_guest_pid g2), registered "
contains "status" "$st" "  demands: thp auto (no static hugepages: none); halt_poll_ns 300000; kworkers off CPUs 0
  last error: none"
contains "status" "$st" "knob halt_poll_ns (/sys/module/kvm/parameters/halt_poll_ns): current 400000; desired 400000 (demanded by g1 (halt-poll 400000), g2 (halt-poll 300000)); original 200000; last written 400000"
# f without CPUs 1 and 0
contains "status" "$st" "knob workqueue_cpumask (/sys/devices/virtual/workqueue/cpumask): current c; desired c"
# libvirtd started before the package: the SIGHUP is what made it run the hook
contains "status" "$st" "PASS install: hook installed: $hooks/qemu -> /usr/libexec/vmhooks/qemu-hook; libvirt runs it"
contains "status" "$st" "PASS install: wrapper installed: /usr/libexec/vmhooks/qemu-kvm"
contains "status" "$st" "status: 2 VMs registered (0 not running), 4 knobs tuned, 0 changed by someone else, 0 things to look at"
check "status exits 0: nothing to look at" bash -c 'vmhooks status >/dev/null'
json=$(vmhooks status --json 2>/dev/null)
check "status --json is JSON with both guests running" python3 -c '
import json, sys
s = json.loads(sys.argv[1])
vms = {v["name"]: v for v in s["vms"]}
assert set(vms) == {"g1", "g2"} and all(v["running"] for v in vms.values()), vms
assert int(vms["g1"]["pid"]) == int(sys.argv[2]), vms["g1"]
k = {x["name"]: x for x in s["knobs"]}
assert k["halt_poll_ns"]["desired"] == "400000" and k["halt_poll_ns"]["current"] == "400000", k
assert not any(x["changed_by_someone_else"] for x in s["knobs"]), k
' "$json" "$(sandbox_guest_pid g1)"
check "virsh destroy g2" sandbox_guest_destroy g2
check "virsh destroy g1" sandbox_guest_destroy g1
is "halt_poll_ns restored" "$(knob $HALT)" 200000
is "workqueue mask restored" "$(maskval $WQ)" 15

# an edited conffile survives reinstalling
echo '<policy xmlns="urn:vmhooks:policy:1"><halt-poll ns="1"/></policy>' >/etc/vmhooks/policy.xml
out=$(dpkgq -i "$deb")
contains "edited policy kept" "$(cat /etc/vmhooks/policy.xml)" 'ns="1"'
contains "reinstall" "$out" "vmhooks: hook in place: $hooks/qemu -> /usr/libexec/vmhooks/qemu-hook"
# a policy-rc.d that forbids daemon actions is obeyed, and the script says so
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod 0755 /usr/sbin/policy-rc.d
out=$(dpkgq -i "$deb")
contains "reinstall under policy-rc.d" "$out" "vmhooks: policy-rc.d forbids reloading libvirtd: restart it or send it SIGHUP"
rm -f /usr/sbin/policy-rc.d
echo '<policy xmlns="urn:vmhooks:policy:1"><thp mode="auto"/><kworkers isolate="yes"/><halt-poll ns="1"/></policy>' >/etc/vmhooks/policy.xml

# ---- upgrade to a rebuilt higher version while a guest runs ----
# The same files as a higher version whose shipped policy.xml changed: with
# the policy edited, an unattended upgrade keeps it (--force-confold, as the
# README says) instead of stopping at dpkg's prompt.
up=$(mktemp -d)
dpkg-deb -R "$deb" "$up/x"
sed -i "s/^Version: .*/Version: ${ver}-99/" "$up/x/DEBIAN/control"
sed -i 's|</policy>|  <!-- changed in the upgrade -->\n</policy>|' "$up/x/etc/vmhooks/policy.xml"
(cd "$up/x" && find . -type f ! -path './DEBIAN/*' -printf '%P\0' | sort -z | xargs -0 md5sum >DEBIAN/md5sums)
dpkg-deb --root-owner-group -b "$up/x" "$up/vmhooks-up.deb" >/dev/null || nok "dpkg-deb -b of the higher version"
check "virsh start g1 before the upgrade" sandbox_guest_start g1
is "halt_poll_ns while g1 runs" "$(knob $HALT)" 400000
out=$(dpkgq -i "$up/vmhooks-up.deb" </dev/null)
is "upgraded" "$(dpkg-query -W -f='${Version}' vmhooks)" "${ver}-99"
contains "edited policy kept by the upgrade" "$(cat /etc/vmhooks/policy.xml)" 'ns="1"'
check "the new shipped policy beside it (.dpkg-dist)" grep -q "changed in the upgrade" /etc/vmhooks/policy.xml.dpkg-dist
is "halt_poll_ns kept across the upgrade" "$(knob $HALT)" 400000
is "workqueue mask kept across the upgrade" "$(maskval $WQ)" $((16#d))
is "g1 still registered" "$(vh_registered)" 1
check "the upgrade restored nothing" bash -c '! grep -q "restored" <<<"$1"' sh "$out"
st_rc=0
st=$(vmhooks status 2>&1) || st_rc=$?
is "status right after the upgrade exits" "$st_rc" 0
contains "status right after the upgrade" "$st" "libvirt runs it (libvirtd, PID $libvirtd_pid, was reloaded at "
rm -f /etc/vmhooks/policy.xml.dpkg-dist

# ---- remove while a guest runs: every knob back, the guest runs on ----
out=$(dpkgq -r vmhooks)
contains "prerm" "$out" "vmhooks: removed the hook $hooks/qemu"
contains "prerm" "$out" "so that it forgets the hook"
contains "prerm" "$out" "vmhooks: 1 VM(s) registered: putting back every knob original; they keep running, untuned"
contains "prerm" "$out" "vmhooks: dropped the registration of VM g1: it keeps running, untuned"
contains "prerm" "$out" "vmhooks: halt_poll_ns: 400000 -> 200000; restored the original"
contains "prerm" "$out" "vmhooks: workqueue_cpumask: d -> f; restored the original"
contains "prerm" "$out" "vmhooks: restore: "
is "halt_poll_ns restored by the removal" "$(knob $HALT)" 200000
is "workqueue mask restored by the removal" "$(maskval $WQ)" 15
is "g1 keeps running" "$(sandbox_guest_state g1)" running
contains "g1.log" "$(vh_log g1)" "registration dropped by the administrator: this VM keeps running, untuned"
check "no knob original left in the state" bash -c '! grep -q "^knob .*original=" /run/vmhooks/state 2>/dev/null'
check "virsh destroy g1 (untuned)" sandbox_guest_destroy g1
is "halt_poll_ns untouched by g1's stop" "$(knob $HALT)" 200000
check "hook link gone" test ! -e $hooks/qemu -a ! -L $hooks/qemu
check "binaries gone" test ! -e /usr/libexec/vmhooks/qemu-hook -a ! -e /usr/bin/vmhooks
check "wrapper.conf gone" test ! -e /var/lib/vmhooks/wrapper.conf
check "conffile kept until purge" test -f /etc/vmhooks/policy.xml
check "logs kept until purge" test -f /var/log/vmhooks/g1.log
# libvirtd forgot the hook: a guest still starts
check "a guest starts after removal" sandbox_guest_start g1
check "and stops" sandbox_guest_destroy g1
is "halt_poll_ns untouched without vmhooks" "$(knob $HALT)" 200000

out=$(dpkgq -P vmhooks)
for d in /run/vmhooks /run/vmhooks-wrapper /var/log/vmhooks /var/lib/vmhooks /etc/vmhooks; do
    check "purge removed $d" test ! -e $d
done
check "purged: dpkg knows no vmhooks" bash -c '! dpkg-query -W vmhooks 2>/dev/null | grep -q .'
is "originals after purge: halt_poll_ns" "$(knob $HALT)" 200000
is "originals after purge: workqueue mask" "$(maskval $WQ)" 15

# ---- a knob that cannot be restored: its original stays, purge refuses to delete it ----
out=$(dpkgq -i "$deb")
check "virsh start g1" sandbox_guest_start g1
is "halt_poll_ns while g1 runs" "$(knob $HALT)" 400000
mount -o remount,bind,ro "$HALT" || nok "remount $HALT read-only"
out=$(dpkgq -r vmhooks)
contains "prerm, a knob that cannot be written" "$out" "vmhooks: error: halt_poll_ns: "
contains "prerm, a knob that cannot be written" "$out" "vmhooks: WARNING: vmhooks restore failed (exit 1): the originals it could not restore stay in /run/vmhooks/state"
is "the other knobs restored" "$(maskval $WQ)" 15
contains "the state keeps the original" "$(vh_state)" "knob halt_poll_ns original=200000"
rc=0
out=$(dpkgq -P vmhooks) || rc=$?
check "purge fails" test "$rc" != 0
contains "purge" "$out" "vmhooks: NOT deleting /run/vmhooks: it holds the originals of knobs vmhooks could not restore"
contains "purge" "$out" "knob halt_poll_ns original=200000"
contains "the state is still there" "$(vh_state)" "knob halt_poll_ns original=200000"
# the administrator puts it back by hand, as the message says, and purges again
mount -o remount,bind,rw "$HALT" || nok "remount $HALT read-write"
echo 200000 >"$HALT"
rm -rf /run/vmhooks
out=$(dpkgq -P vmhooks)
check "purge after the manual restore" bash -c '! dpkg-query -W vmhooks 2>/dev/null | grep -q .'
check "virsh destroy g1" sandbox_guest_destroy g1
is "halt_poll_ns" "$(knob $HALT)" 200000

# ---- a foreign hook: vmhooks goes to qemu.d and libvirt runs both ----
cat >$hooks/qemu <<'SH'
#!/bin/sh
echo "$1 $2 $3" >>/run/foreign-hook.calls
cat >/dev/null
SH
chmod 0755 $hooks/qemu
sum=$(sha256sum <$hooks/qemu)
out=$(dpkgq -i "$deb")
contains "postinst" "$out" "a foreign qemu hook is $hooks/qemu: left untouched; installed the hook as $hooks/qemu.d/vmhooks"
is "foreign hook untouched" "$(sha256sum <$hooks/qemu)" "$sum"
is "qemu.d link" "$(readlink $hooks/qemu.d/vmhooks)" /usr/libexec/vmhooks/qemu-hook
check "virsh start g1 with both hooks" sandbox_guest_start g1
is "halt_poll_ns set by vmhooks from qemu.d" "$(knob $HALT)" 400000
contains "the foreign hook ran too" "$(cat /run/foreign-hook.calls 2>/dev/null)" "g1 prepare begin"
st_rc=0
st=$(vmhooks status 2>&1) || st_rc=$?
is "status with a foreign hook exits" "$st_rc" 0
contains "status with a foreign hook" "$st" "PASS install: hook installed: $hooks/qemu.d/vmhooks -> /usr/libexec/vmhooks/qemu-hook; libvirt runs it"
out=$(dpkgq -r vmhooks)
contains "prerm with a foreign hook, g1 running" "$out" "vmhooks: halt_poll_ns: 400000 -> 200000; restored the original"
is "halt_poll_ns restored" "$(knob $HALT)" 200000
is "g1 keeps running" "$(sandbox_guest_state g1)" running
check "virsh destroy g1" sandbox_guest_destroy g1
out=$(dpkgq -P vmhooks)
check "qemu.d link gone" test ! -e $hooks/qemu.d/vmhooks
is "foreign hook kept" "$(sha256sum <$hooks/qemu)" "$sum"
check "purge with a foreign hook removed /run/vmhooks" test ! -e /run/vmhooks

# ---- the rpm's scripts: rpm -i into a separate database inside the sandbox ----
# Debian's rpm runs the scriptlets with /bin/sh like dnf would; --nodeps
# since this database knows none of the Requires.  Not exercised here: an
# rpm upgrade (rpm -U needs a second rpmbuild), SELinux labelling (no
# SELinux in this kernel), systemctl reload (no systemd in the sandbox).
rpmdb=$(mktemp -d)
rpmq() { rpm --dbpath "$rpmdb" --nodeps "$@" 2>&1; }
out=$(rpmq -i "$rpmf")
check "rpm -i" rpm --dbpath "$rpmdb" -q vmhooks
contains "%post" "$out" "vmhooks: a foreign qemu hook is $hooks/qemu: left untouched; installed the hook as $hooks/qemu.d/vmhooks"
contains "%post" "$out" "vmhooks: sent SIGHUP to libvirtd (PID $libvirtd_pid) so that it runs the hook"
st_rc=0
st=$(vmhooks status 2>&1) || st_rc=$?
is "status after rpm -i exits" "$st_rc" 0
contains "status after rpm -i" "$st" "libvirt runs it (libvirtd, PID $libvirtd_pid, was reloaded at "
check "virsh start g1 (rpm)" sandbox_guest_start g1
is "halt_poll_ns while g1 runs (rpm)" "$(knob $HALT)" 400000
out=$(rpmq -e vmhooks)
contains "%preun" "$out" "vmhooks: removed the hook $hooks/qemu.d/vmhooks"
contains "%preun" "$out" "vmhooks: dropped the registration of VM g1: it keeps running, untuned"
contains "%preun" "$out" "vmhooks: halt_poll_ns: 400000 -> 200000; restored the original"
is "halt_poll_ns restored by rpm -e" "$(knob $HALT)" 200000
is "workqueue mask restored by rpm -e" "$(maskval $WQ)" 15
is "g1 keeps running (rpm)" "$(sandbox_guest_state g1)" running
check "rpm -e removed the binaries" test ! -e /usr/bin/vmhooks -a ! -e /usr/libexec/vmhooks/qemu-hook
is "foreign hook kept (rpm)" "$(sha256sum <$hooks/qemu)" "$sum"
check "virsh destroy g1" sandbox_guest_destroy g1
skip "rpm -U (an upgrade) is not exercised: it needs a second rpmbuild of a higher release"
rm -rf "$rpmdb" "$up"
finish
