#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run TAP-producing commands and sum them up.
#
#   tests/run-suite.sh 'CMD1 ARGS' 'CMD2 ARGS' ...
#
# Each argument is one shell command whose stdout is TAP (glib's --tap,
# tests/guest/run.sh, scripts/checkpatch-tap.sh ...).  Output is shown as it
# comes and kept in build/test-logs/.  The last line is
#
#   N passed, N failed[, N skipped]
#
# and the exit status is non-zero when anything failed, when a command exited
# non-zero, bailed out or ran fewer tests than it planned, or when no test ran
# at all.  SUITE_TIMEOUT (seconds, default 2700) bounds each command: a
# guard against hangs, not a time limit (the guest suite once ran past 20
# minutes on a 2-core machine loaded by other builds).

set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOGDIR=${SUITE_LOGDIR:-$TOP/build/test-logs}
TIMEOUT=${SUITE_TIMEOUT:-2700}
mkdir -p "$LOGDIR"

pass=0 fail=0 skip=0 n=0
res=$(mktemp)
trap 'rm -f "$res"' EXIT

for cmd in "$@"; do
    n=$((n + 1))
    log=$LOGDIR/$n-$(printf '%s' "$cmd" | awk '{ print $1 }' | tr -c 'A-Za-z0-9._-' '_' | tail -c 40).log
    echo "# run: $cmd"
    { timeout --kill-after=10 "$TIMEOUT" bash -c "$cmd" 2>&1 </dev/null
      echo "EXIT-STATUS $?"; } |
    tee "$log" |
    awk -v res="$res" '
        /^EXIT-STATUS / { status = $2; next }
        { print; fflush() }
        /^1\.\.[0-9]+/ { split($1, p, "\\.\\."); plan = p[2]; next }
        /^ok / {
            if ($0 ~ /# *(SKIP|TODO|skip|todo)/) skip++
            else pass++
            next
        }
        /^not ok / {
            if ($0 ~ /# *(TODO|todo)/) skip++
            else fail++
            next
        }
        /^Bail out!/ { bail = 1 }
        END {
            seen = pass + fail + skip
            if (bail) { print "not ok - bailed out"; fail++ }
            else if (plan != "" && seen < plan) {
                printf "not ok - planned %d tests, ran %d\n", plan, seen
                fail++
            }
            if (status != 0 && fail == 0) {
                printf "not ok - exited with status %d\n", status
                fail++
            }
            printf "%d %d %d\n", pass, fail, skip > res
        }'
    read -r p f s < "$res" || true
    pass=$((pass + ${p:-0}))
    fail=$((fail + ${f:-1}))
    skip=$((skip + ${s:-0}))
done

summary="$pass passed, $fail failed"
[ "$skip" -gt 0 ] && summary="$summary, $skip skipped"
echo "$summary"
[ "$fail" -eq 0 ] && [ $((pass + fail)) -gt 0 ]
