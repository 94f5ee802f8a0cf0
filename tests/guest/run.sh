#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Run splitnet's guest tests and report them as TAP on stdout (progress and
# diagnostics go to stderr and, as "# " lines, to stdout).
#
# Usage: tests/guest/run.sh [-l] [--soak] [NAME...]
#   NAME   run only these tests (file names in tests/guest/cases/ without the
#          number prefix and .sh, e.g. virtio-net-enum; globs allowed)
#   -l     list the tests
#   --soak the long tests in tests/guest/soak/ instead (`make soak`)
#
# Each test is tests/guest/cases/NN-NAME.sh, a bash fragment run in its own
# subshell with tests/guest/lib.sh loaded.  It passes when it exits 0; it is
# skipped when it calls `skip REASON`.  Its first "# TEST: " line describes it.
# What it reports with `diag TEXT` follows its result as "# TEXT" lines.
# Guest serial logs: build/guest/logs/NAME.log.  Exits 1 when a test failed.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/guest/lib.sh
. "$HERE/lib.sh"

list=0
want=()
dir=cases
for arg in "$@"; do
    case $arg in
    -l) list=1 ;;
    --soak) dir=soak ;;
    -h|--help) sed -n '3,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) die "unknown option $arg" ;;
    *) want+=("$arg") ;;
    esac
done

case_name() { local b; b=$(basename "$1" .sh); echo "${b#[0-9][0-9]-}"; }
case_desc() { sed -n 's/^# TEST: //p' "$1" | head -n1; }

cases=()
for f in "$HERE/$dir"/*.sh; do
    [ -f "$f" ] || continue
    n=$(case_name "$f")
    if [ "${#want[@]}" -gt 0 ]; then
        m=0
        for w in "${want[@]}"; do
            # shellcheck disable=SC2053
            [[ $n == $w ]] && m=1
        done
        [ "$m" = 1 ] || continue
    fi
    cases+=("$f")
done
[ "${#cases[@]}" -gt 0 ] || die "no guest tests match: ${want[*]}"

if [ "$list" = 1 ]; then
    for f in "${cases[@]}"; do
        printf '%-24s %s\n' "$(case_name "$f")" "$(case_desc "$f")"
    done
    exit 0
fi

# Build or check the guest once, up front, and show what the tests run on.
say "preparing the guest (scripts/fetch-guest.sh)"
guest_prepare
QEMU_BIN=$(guest_qemu)
trap guest_cleanup EXIT
trap 'exit 130' INT TERM

echo "# qemu: $QEMU_BIN ($("$QEMU_BIN" --version | head -n1))"
echo "# guest kernel: $KVER"
echo "1..${#cases[@]}"

n=0 failed=0 passed=0 skipped=0
t_all=$(date +%s)
for f in "${cases[@]}"; do
    n=$((n + 1))
    name=$(case_name "$f")
    desc=$(case_desc "$f")
    skipf=$(mktemp)
    out=$(mktemp)
    diagf=$(mktemp)
    t0=$(date +%s.%N)
    # the test's own output is progress: to stderr, and kept for diagnostics.
    # (Not `( ... ) | tee || rc=...`: errexit would then be off in the test.)
    set +e
    (
        set -euo pipefail
        # the ERR trap (scripts/lib.sh) names a failed command at this level
        SPLITNET_ERR_SUBSHELL=$BASH_SUBSHELL
        # shellcheck disable=SC2034 # used by the test
        TEST_NAME=$name
        # shellcheck disable=SC2034 # used by lib.sh's diag
        TEST_DIAG=$diagf
        # shellcheck disable=SC2317 # called by the test
        skip() { echo "$*" > "$skipf"; exit 77; }
        # shellcheck source=/dev/null
        . "$f"
    ) 2>&1 | tee "$out" >&2
    rc=${PIPESTATUS[0]}
    set -e
    el=$(echo "$(date +%s.%N) $t0" | awk '{ printf "%.1f", $1 - $2 }')
    line="$name${desc:+: $desc} (${el}s)"
    if [ "$rc" = 77 ]; then
        echo "ok $n - $line # SKIP $(cat "$skipf")"
        skipped=$((skipped + 1))
    elif [ "$rc" = 0 ]; then
        echo "ok $n - $line"
        passed=$((passed + 1))
    else
        echo "not ok $n - $line"
        sed 's/^/# /' "$out"
        failed=$((failed + 1))
    fi
    # what the test reported with diag (lib.sh)
    sed 's/^/# /' "$diagf"
    rm -f "$skipf" "$out" "$diagf"
done
echo "# guest tests: $passed passed, $failed failed, $skipped skipped in $(( $(date +%s) - t_all ))s"
echo "guest: $passed passed, $failed failed, $skipped skipped" >&2
[ "$failed" = 0 ] || exit 1
