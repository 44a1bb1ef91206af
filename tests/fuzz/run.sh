#!/bin/bash
# tests/fuzz/run.sh — run the libFuzzer harnesses built by tests/fuzz/fuzz.mk.
#
#   FUZZ_DIR=build/fuzz FUZZ_TIME=10 bash tests/fuzz/run.sh NAME...
#   FUZZ_DIR=build/fuzz bash tests/fuzz/run.sh --minimize NAME...
#
# Each harness runs FUZZ_TIME seconds on a copy of tests/fuzz/corpus/NAME
# (new inputs go to the copy, $FUZZ_DIR/work/NAME, never to the source
# tree), with tests/fuzz/NAME.dict when there is one and the inputs of
# tests/fuzz/regressions/NAME, which must keep passing.  A crash, an
# invariant broken (abort), a leak, a timeout (FUZZ_TIMEOUT seconds for one
# input, 10 by default) or an out-of-memory fails the harness; the input is
# kept in $FUZZ_DIR/crashes/NAME/ with the log (.log) and the command that
# reproduces it (.repro).
#
# --minimize: rebuild tests/fuzz/corpus/NAME from its seed-* files and,
# merged in with -merge=1, the inputs of the corpus and of the last run
# ($FUZZ_DIR/work/NAME) that add coverage (edges; FUZZ_MINIMIZE_COUNTERS=1:
# hit counts too), each at most FUZZ_MINIMIZE_MAX_BYTES (1000) long; inputs
# that fail on their own are dropped.
set -u

dir=${FUZZ_DIR:?FUZZ_DIR is the build directory of the harnesses}
time=${FUZZ_TIME:-10}
per_input=${FUZZ_TIMEOUT:-10}
src=tests/fuzz
minimize=0
if [ "${1:-}" = --minimize ]; then
        minimize=1
        shift
fi
case $time in ''|*[!0-9]*) echo "FUZZ_TIME=$time: expected a number of seconds" >&2; exit 2;; esac

mkdir -p "$dir/work" "$dir/crashes" "$dir/logs" "$dir/tmp"
# The harnesses make their private VMHOOKS_ROOT under TMPDIR: keep it in the build directory.
export TMPDIR
TMPDIR=$(cd "$dir/tmp" && pwd)
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}

if [ "$minimize" = 1 ]; then
        max=${FUZZ_MINIMIZE_MAX_BYTES:-1000}
        # FUZZ_MINIMIZE_COUNTERS=1: keep what adds hit counts too (a corpus about 4 times larger)
        counters=-use_counters=0
        # what crashes while merging is written here, not into the current directory
        junk=$dir/minimize-crashes
        mkdir -p "$junk"
        [ "${FUZZ_MINIMIZE_COUNTERS:-0}" = 1 ] && counters=-use_counters=1
        for name in "$@"; do
                bin=$dir/fuzz_$name
                new=$dir/minimized/$name
                cand=$dir/minimize-candidates/$name
                rm -rf "$new" "$cand" && mkdir -p "$new" "$cand" "$src/corpus/$name" "$dir/work/$name"
                # the named seeds (from tests/data and tests/unit) stay, as long as they pass
                for f in "$src/corpus/$name"/seed-*; do
                        [ -f "$f" ] && "$bin" -artifact_prefix="$junk/" "$f" >/dev/null 2>&1 && cp "$f" "$new/"
                done
                # of the rest, what adds coverage; small inputs only, to keep the tree small
                find "$src/corpus/$name" "$dir/work/$name" -type f -size -"${max}"c ! -name 'seed-*' \
                        -exec cp {} "$cand/" \;
                if ! ASAN_OPTIONS=detect_leaks=0 "$bin" -merge=1 $counters -timeout="$per_input" \
                        -artifact_prefix="$junk/" "$new" "$cand" \
                        >"$dir/logs/$name.merge.log" 2>&1; then
                        echo "$name: merge failed, see $dir/logs/$name.merge.log"
                        exit 1
                fi
                # an input that fails on its own is a bug: it belongs in regressions/ once fixed, not here
                for f in "$new"/*; do
                        "$bin" -artifact_prefix="$junk/" "$f" >/dev/null 2>&1 || rm -f "$f"
                done
                rm -rf "$src/corpus/$name" && cp -r "$new" "$src/corpus/$name"
                echo "$name: $(find "$src/corpus/$name" -type f | wc -l) inputs," \
                     "$(du -sb "$src/corpus/$name" | cut -f1) bytes"
        done
        exit 0
fi

# the line of a log that says what was found
findings='INVARIANT BROKEN|ERROR: (Address|Leak)Sanitizer|ERROR: libFuzzer|runtime error'
pass=0
fail=0
failed=
for name in "$@"; do
        bin=$dir/fuzz_$name
        if [ ! -x "$bin" ]; then
                echo "FAIL $name: no harness $bin"
                fail=$((fail + 1)); failed="$failed $name"
                continue
        fi
        work=$dir/work/$name
        crashes=$dir/crashes/$name
        log=$dir/logs/$name.log
        rm -rf "$work"
        mkdir -p "$work" "$crashes"
        [ -d "$src/corpus/$name" ] && cp -r "$src/corpus/$name/." "$work/"
        args=(-max_total_time="$time" -timeout="$per_input" -rss_limit_mb=2048 -print_final_stats=1
              -artifact_prefix="$crashes/")
        [ -f "$src/$name.dict" ] && args+=(-dict="$src/$name.dict")
        if [ -f "$src/$name.options" ]; then
                while read -r o; do args+=("$o"); done < <(grep -v -e '^#' -e '^$' "$src/$name.options")
        fi
        dirs=("$work")
        [ -d "$src/regressions/$name" ] && dirs+=("$src/regressions/$name")
        # shellcheck disable=SC2086 # FUZZ_ARGS is a list of flags
        timeout -k 10 $((time * 2 + per_input * 4 + 60)) "$bin" "${args[@]}" ${FUZZ_ARGS:-} "${dirs[@]}" >"$log" 2>&1
        rc=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
        cov=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 | grep -oE 'cov: [0-9]+ ft: [0-9]+')
        corpus=$(ls "$work" | wc -l)
        new=$(sed -n 's/.*Test unit written to //p' "$log" | sort -u)
        if [ "$rc" = 0 ] && [ -z "$new" ]; then
                echo "ok   $name: ${execs:-?} executions in ${time}s, ${cov:-cov: ?}, corpus $corpus: nothing found"
                pass=$((pass + 1))
                continue
        fi
        fail=$((fail + 1)); failed="$failed $name"
        if [ -z "$new" ] && { [ "$rc" = 124 ] || [ "$rc" = 137 ]; }; then
                echo "FAIL $name: the harness hung (killed after $((time * 2 + per_input * 4 + 60))s); log: $log"
                continue
        fi
        if [ -z "$new" ]; then
                what=$(grep -m1 -E "$findings|^==[0-9]+==" "$log")
                echo "FAIL $name: exit $rc, ${execs:-?} executions, no input kept: ${what:-see $log}"
                continue
        fi
        for input in $new; do
                f=$(basename "$input")
                kind=${f%%-*}
                cp "$log" "$input.log"
                {
                        echo '#!/bin/sh'
                        echo "# $name: $kind found by tests/fuzz/fuzz_$name.c; run from the top of the tree"
                        echo "# (ASAN_OPTIONS=fast_unwind_on_malloc=0 for whole stacks through libc)"
                        echo "$bin $input"
                } >"$input.repro"
                chmod +x "$input.repro"
                # the finding, and for a broken invariant the lines that explain it (up to the stack)
                what=$(awk -v re="$findings" '
                        n == 0 && $0 ~ re { print; n = 1; inv = /INVARIANT/; next }
                        n > 0 && inv && n < 8 && !/^==[0-9]+==/ { print "     " $0; n++; next }
                        n > 0 { exit }' "$log")
                echo "FAIL $name: $kind after ${execs:-?} executions: ${what:-see $input.log}"
                # where in lib/ (the first frame of the report that is in the library)
                at=$(grep -m1 -oE ' in [^ ]+ [^ ]*/lib/[^ ]+\.c:[0-9]+' "$log")
                [ -n "$at" ] && echo "     at:${at# in}"
                echo "     input: $input"
                echo "     reproduce: $bin $input   (log: $input.log)"
        done
done
# count.sh starts its own counters: keep this run's
fuzz_pass=$pass fuzz_fail=$fail
. tests/count.sh
pass=$fuzz_pass fail=$fuzz_fail
count_summary_add fuzz "$pass" "$fail" 0
echo "$pass passed, $fail failed, 0 skipped${failed:+ (failed:$failed)}"
[ "$fail" = 0 ]
