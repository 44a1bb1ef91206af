# shellcheck shell=bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tests/count.sh — the counting every shell suite shares, so that each one
# ends with the same closing line and every skip says why.
#
#   . tests/count.sh
#   ok WHAT | nok WHAT | skip WHY     one line each: "ok   - ", "FAIL - ", "skip - "
#   check WHAT CMD ARGS...            ok or nok by CMD's exit status
#   count_line                        "N passed, N failed, N skipped"
#   count_report SUITE                appends the counts and the skip reasons to
#                                     $VH_TEST_SUMMARY (when set; make test sets
#                                     it and prints the total at the end)
#
# A skip is never a pass: it is counted apart and its reason is kept.
pass=0 fail=0 skipped=0
skip_reasons=()
ok()   { pass=$((pass + 1)); echo "ok   - $*"; }
nok()  { fail=$((fail + 1)); echo "FAIL - $*"; }
skip() { skipped=$((skipped + 1)); skip_reasons+=("$*"); echo "skip - $*"; }
check() { local what=$1; shift; if "$@"; then ok "$what"; else nok "$what"; fi; }
count_line() { echo "$pass passed, $fail failed, $skipped skipped"; }

# count_summary_add SUITE P F S [REASON...]: one suite's counts into $VH_TEST_SUMMARY
count_summary_add() {
    [[ -n ${VH_TEST_SUMMARY:-} ]] || return 0
    local suite=$1 p=$2 f=$3 s=$4 r
    shift 4
    {
        printf 'suite\t%s\t%s\t%s\t%s\n' "$suite" "$p" "$f" "$s"
        for r in "$@"; do printf 'skip\t%s\t%s\n' "$suite" "$r"; done
    } >>"$VH_TEST_SUMMARY"
}
count_report() { count_summary_add "$1" "$pass" "$fail" "$skipped" "${skip_reasons[@]}"; }

# A line "N passed, N failed[, N skipped]" -> "P F S" (S is 0 on the old form)
count_parse_line() {
    local l=$1 p f s=0
    [[ $l =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed(,\ ([0-9]+)\ skipped)? ]] || return 1
    p=${BASH_REMATCH[1]} f=${BASH_REMATCH[2]}
    [[ -n ${BASH_REMATCH[4]} ]] && s=${BASH_REMATCH[4]}
    echo "$p $f $s"
}
# The closing line of a suite's output (the last one that matches)
count_closing_re='^[0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?( |$)'
