#!/bin/bash
# make bench: measured speed, side by side in one run (see BENCHMARKS.md).
#   hook cost per call (prepare, release), small and large domain XML,
#     1, 100 and 1000 VMs registered, against /bin/cat fed the same stdin
#     and a minimal bash dispatcher hook;
#   instruction counts (callgrind: repeatable on a noisy machine);
#   the wrapper against the emulator alone (when build/qemu-kvm exists);
#   virsh start + destroy with vmhooks installed against none (root).
# Prints a Markdown report; writes it to $BUILD/bench/report.md too.
set -eu
# the test build checks every unchanged state line it writes back (lib/state.h): not what is measured
export VMHOOKS_STATE_CHECK=0
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$repo/build}
ROUNDS=${ROUNDS:-200}
out=$BUILD/bench
mkdir -p "$out"
cc -O2 -o "$out/bench" "$here/bench.c"
hook=$BUILD/qemu-hook
# /run is tmpfs on a real host: keep the fake host on tmpfs too
work=$(mktemp -d -p /dev/shm 2>/dev/null || mktemp -d)
trap 'rm -rf "$work"' EXIT
report=$out/report.md
exec > >(tee "$report")

echo "# vmhooks bench"
echo
echo "$(date -u +%Y-%m-%d), $(uname -srm), $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo
echo "Wall time of fork + exec + wait in µs: median (p10-p90) over $ROUNDS rounds, every variant once per round."
echo "Ratio: median against /bin/cat fed the same XML."
echo
echo "| XML | VMs registered | /bin/cat | bash hook | vmhooks prepare | ratio | vmhooks release | ratio |"
echo "|---|---|---|---|---|---|---|---|"
declare -A prep_med
for size in small large; do
    "$here/mkxml.sh" $size >"$work/$size.xml"
    for n in 1 100 1000; do
        "$here/mkroot.sh" "$work/root" $n
        res=$(VMHOOKS_ROOT=$work/root "$out/bench" "$ROUNDS" \
            cat "$work/$size.xml" /bin/cat ::: \
            bash "$work/$size.xml" "$here/bash-hook" bench prepare begin - ::: \
            prepare "$work/$size.xml" "$hook" bench prepare begin - ::: \
            release "$work/$size.xml" "$hook" bench release end -)
        row() { awk -v n="$1" '$1 == n { printf "%s (%s-%s)", $2, $3, $4 }' <<<"$res"; }
        ratio() { awk -v n="$1" '$1 == n { print $5 }' <<<"$res"; }
        prep_med[$size.$n]=$(awk '$1 == "prepare" { print $2 }' <<<"$res")
        echo "| $size ($(wc -c <"$work/$size.xml") B) | $n | $(row cat) | $(row bash) | $(row prepare) | $(ratio prepare)x | $(row release) | $(ratio release)x |"
    done
done
# isolation: 64 IRQs in play; each round's prepare narrows all of them
# (and the two workqueue masks), its release puts them back
"$here/mkxml.sh" isolate >"$work/isolate.xml"
for n in 1 1000; do
    ISOLATE=1 "$here/mkroot.sh" "$work/root" $n
    res=$(VMHOOKS_ROOT=$work/root "$out/bench" "$ROUNDS" \
        cat "$work/isolate.xml" /bin/cat ::: \
        bash "$work/isolate.xml" "$here/bash-hook" bench prepare begin - ::: \
        prepare "$work/isolate.xml" "$hook" bench prepare begin - ::: \
        release "$work/isolate.xml" "$hook" bench release end -)
    row() { awk -v n="$1" '$1 == n { printf "%s (%s-%s)", $2, $3, $4 }' <<<"$res"; }
    ratio() { awk -v n="$1" '$1 == n { print $5 }' <<<"$res"; }
    prep_med[isolate.$n]=$(awk '$1 == "prepare" { print $2 }' <<<"$res")
    echo "| isolate, 64 IRQs ($(wc -c <"$work/isolate.xml") B) | $n | $(row cat) | $(row bash) | $(row prepare) | $(ratio prepare)x | $(row release) | $(ratio release)x |"
done
echo
for size in small large isolate; do
    echo "1000 VMs registered add $(( ${prep_med[$size.1000]} - ${prep_med[$size.1]} )) µs to a $size prepare (median 1000 minus median 1)."
done
echo
if command -v valgrind >/dev/null; then
    echo "Instructions per call (callgrind; the same count on every run):"
    echo
    echo "| call | 1 VM registered | 1000 VMs registered |"
    echo "|---|---|---|"
    for call in "prepare begin" "release end"; do
        counts=()
        for n in 1 1000; do
            "$here/mkroot.sh" "$work/root" $n
            # shellcheck disable=SC2086
            c=$(VMHOOKS_ROOT=$work/root valgrind --tool=callgrind --callgrind-out-file=/dev/null \
                "$hook" bench $call - <"$work/small.xml" 2>&1 | sed -n 's/.*Collected : //p')
            counts+=("$c")
        done
        echo "| $call (small XML) | ${counts[0]} | ${counts[1]} |"
    done
    c=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null /bin/cat <"$work/small.xml" 2>&1 >/dev/null | sed -n 's/.*Collected : //p')
    echo "| /bin/cat (small XML) | $c | |"
    echo
fi
BUILD=$BUILD bash "$here/loader.sh"
echo
if [ -x "$BUILD/qemu-kvm" ] && [ -f "$here/wrapper.sh" ]; then
    BUILD=$BUILD ROUNDS=$ROUNDS bash "$here/wrapper.sh"
fi
if [ "$(id -u)" = 0 ] && [ -f "$here/hugepool.sh" ]; then
    echo
    BUILD=$BUILD bash "$here/hugepool.sh"
fi
if [ "$(id -u)" = 0 ] && [ -f "$here/startstop.sh" ]; then
    BUILD=$BUILD bash "$here/startstop.sh" | grep -v -E '^(ok|FAIL) '
fi
