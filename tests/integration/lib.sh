# shellcheck shell=bash
# tests/integration/lib.sh — what every vmhooks integration test shares:
# checks that count, vmhooks installed into the sandbox at its real paths
# (make install DESTDIR=stage, copied over /), and guests with a policy.
#
#   . "$here/lib.sh"          # sources sandbox.sh and re-execs into it
#   vh_setup                  # seed knobs, sandbox_setup, install, daemons
#   check "what" cmd args...  # ok/FAIL line, counted
#   skip "why"                # a skip line, counted apart (never a pass)
#   finish                    # "N passed, N failed, N skipped"; exit status
set -u
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
repo=$(cd "$here/../.." && pwd)
. "$here/sandbox.sh"
. "$here/../count.sh"
sandbox_reexec "$@"            # from here on: inside the namespaces

THP=/sys/kernel/mm/transparent_hugepage/enabled
HALT=/sys/module/kvm/parameters/halt_poll_ns
WQ=/sys/devices/virtual/workqueue/cpumask
WB=/sys/bus/workqueue/devices/writeback/cpumask
ONLINE=/sys/devices/system/cpu/online

# ok, nok, skip, check: tests/count.sh
finish() {
    count_line
    ((fail == 0)) || exit 1
    exit 0
}
# the host-side values a test expects, with a message when they differ
is() { # is WHAT ACTUAL EXPECTED
    if [[ $2 == "$3" ]]; then ok "$1 = $3"; else nok "$1 = '$2', expected '$3'"; fi
}
contains() { # contains WHAT HAYSTACK NEEDLE
    if [[ $2 == *"$3"* ]]; then ok "$1 has: $3"; else nok "$1 lacks: $3"; printf '%s\n' "$2" | sed 's/^/    | /'; fi
}
knob() { cat "$1"; }
# a mask's value as a number, whatever its padding
maskval() { local m; m=$(tr -d ',\n' <"$1"); echo $((16#$m)); }

# The knobs of issue 3's scenario.
vh_seed_knobs() {
    sandbox_knob_seed "$THP" "always [madvise] never"
    sandbox_knob_seed "$HALT" 200000
    sandbox_knob_seed "$WQ" f
    sandbox_knob_seed "$WB" f
    sandbox_knob_seed "$ONLINE" 0-3
}

# make install into a staging dir, then copy it over / (private overlays).
vh_install() {
    local stage=/run/vmhooks-sandbox/stage out tb=${BUILD:-build}
    [[ $tb == */test ]] || tb=$tb/test  # the test binaries (make test-binaries)
    rm -rf "$stage"
    if ! out=$(make -C "$repo" --no-print-directory install BUILD="$tb" TEST_SEAMS=1 DESTDIR="$stage" 2>&1); then
        printf '%s\n' "$out" >&2
        sandbox_die "make install failed"
    fi
    cp -a "$stage/." /
    VH_INSTALL_OUTPUT=$out
}

vh_setup() {
    vh_seed_knobs
    sandbox_setup
    vh_install
    sandbox_start_daemons || sandbox_die "libvirtd did not start"
}

# vh_guest NAME [CPU] [POLICY_INNER_XML]: define a 1-vCPU guest pinned to CPU
# (default 1; "" = unpinned) with the policy in its metadata.
vh_guest() {
    local name=$1 cpu=${2-1} policy=${3:-} top="" f=/run/vmhooks-sandbox/$1.xml
    [[ -n $cpu ]] && top+="<cputune><vcpupin vcpu='0' cpuset='$cpu'/></cputune>"
    [[ -n $policy ]] && top+="<metadata><vmhooks:policy xmlns:vmhooks='urn:vmhooks:policy:1'>$policy</vmhooks:policy></metadata>"
    sandbox_guest_xml "$name" "$top" >"$f"
    sandbox_guest_define "$name" "$f"
}

vh_log() { cat "/var/log/vmhooks/$1.log" 2>/dev/null; }
vh_state() { cat /run/vmhooks/state 2>/dev/null; }
vh_registered() { vh_state | grep -c '^vm ' || true; }
