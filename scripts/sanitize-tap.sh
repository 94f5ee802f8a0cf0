#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# TAP for `make check-sanitize`: one splitnet qtest (or qos-test's splitnet
# paths), as scripts/qtest-tap.sh runs it, on the ASan + UBSan build in
# build/qemu-build-san (scripts/build-variant.sh san).  The sanitizers of
# every process involved (QEMU and the test program) write their reports
# to build/sanitize-reports/NAME/; after the test one more test line says
# whether there are any, and each report is shown as TAP comments.  Any
# report fails, whether or not the qtest itself noticed.
#
#   scripts/sanitize-tap.sh NAME|qos-test

set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SBUILD=$TOP/build/qemu-build-san
name=${1:?usage: scripts/sanitize-tap.sh NAME|qos-test}
reports=$TOP/build/sanitize-reports/$name

[ -x "$SBUILD/qemu-system-x86_64" ] ||
    { echo "Bail out! no ${SBUILD#"$TOP"/}/qemu-system-x86_64 (make check-sanitize builds it)"; exit 1; }

# No report from an uninstrumented binary proves nothing.
# (grep -c reads all of nm's output: no SIGPIPE under pipefail)
asan=$(nm -D "$SBUILD/qemu-system-x86_64" 2>/dev/null | grep -c __asan_report_load)
ubsan=$(nm "$SBUILD/qemu-system-x86_64" 2>/dev/null | grep -c __ubsan_handle_)
if [ "${asan:-0}" -gt 0 ] && [ "${ubsan:-0}" -gt 0 ]; then
    echo "ok - $name: qemu-system-x86_64 is built with ASan and UBSan"
else
    echo "not ok - $name: ${SBUILD#"$TOP"/}/qemu-system-x86_64 lacks ASan or UBSan"
fi

rm -rf "$reports"
mkdir -p "$reports"
symbolizer=/usr/lib/llvm-14/bin/llvm-symbolizer
[ -x "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH=$symbolizer
# UBSan stops at its first report, as ASan does, so the qtest fails there.
export ASAN_OPTIONS="log_path=$reports/asan:detect_leaks=1"
export UBSAN_OPTIONS="log_path=$reports/ubsan:print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="log_path=$reports/lsan"
export SPLITNET_QBUILD=$SBUILD

"$TOP/scripts/qtest-tap.sh" "$name"
rc=$?

# A log file without a report holds only warnings (ASan's about QEMU's
# coroutines switching stacks with swapcontext, for one): shown, not failed.
REPORT='ERROR: [A-Za-z]*Sanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer'
mapfile -t logs < <(find "$reports" -type f | LC_ALL=C sort)
found=()
for f in "${logs[@]}"; do
    if grep -qE "$REPORT" "$f"; then
        found+=("$f")
    fi
done
warnings=$(cat "${logs[@]}" /dev/null | sed -n 's/^==[0-9]*==//p' | sort |
           uniq -c | sed 's/^ */# /')
[ -z "$warnings" ] || printf '# sanitizer warnings (no report):\n%s\n' "$warnings"
if [ ${#found[@]} -eq 0 ]; then
    echo "ok - $name: no ASan, UBSan or LSan report"
else
    for f in "${found[@]}"; do
        what=$(grep -m1 -E "$REPORT" "$f" | sed 's/^==[0-9]*==//' | cut -c1-160)
        echo "not ok - $name: sanitizer report ${f#"$TOP"/}: $what"
        sed -n '1,80s/^/# /p' "$f"
    done
    rc=1
fi
exit $rc
