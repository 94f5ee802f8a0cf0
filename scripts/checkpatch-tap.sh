#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Style checks as TAP, one line per file:
#  - QEMU's scripts/checkpatch.pl on our C sources and headers (hw/ net/
#    include/ tests/qtest/ tests/unit/) and on every patch in patches/;
#  - shellcheck on the shell scripts;
#  - Linux's checkpatch.pl --strict on guest/linux/, when the driver and a
#    Linux checkpatch.pl (LINUX_CHECKPATCH=..., or a linux-source tree under
#    /usr/src) are there.

set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CHECKPATCH=$TOP/build/qemu-src/scripts/checkpatch.pl
cd "$TOP" || exit 1
[ -f "$CHECKPATCH" ] || { echo "Bail out! $CHECKPATCH missing; run ./configure"; exit 1; }

n=0
result() {  # result STATUS DESCRIPTION LOGFILE
    n=$((n + 1))
    if [ "$1" -eq 0 ]; then
        echo "ok $n - $2"
    else
        echo "not ok $n - $2"
        sed 's/^/# /' "$3"
    fi
}

out=$(mktemp)
trap 'rm -f "$out"' EXIT

while read -r f; do
    perl "$CHECKPATCH" --no-tree --terse -f "$f" >"$out" 2>&1
    result $? "checkpatch $f" "$out"
done < <(find hw net include tests/qtest tests/unit -type f \( -name '*.c' -o -name '*.h' \) \
             2>/dev/null | LC_ALL=C sort)

for p in patches/*.patch; do
    [ -f "$p" ] || continue
    perl "$CHECKPATCH" --no-tree --terse "$p" >"$out" 2>&1
    result $? "checkpatch $p" "$out"
done

if command -v shellcheck >/dev/null; then
    while read -r f; do
        shellcheck -x "$f" >"$out" 2>&1
        result $? "shellcheck $f" "$out"
    done < <({ echo configure; echo .ci/run
               find scripts tests -name '*.sh' -type f; } | LC_ALL=C sort -u |
             while read -r f; do [ -f "$f" ] && echo "$f"; done)
else
    n=$((n + 1)); echo "ok $n - shellcheck # SKIP shellcheck not installed"
fi

# Hook for the guest driver: Linux coding style, strict.
if [ -d guest/linux ] && ls guest/linux/*.[ch] >/dev/null 2>&1; then
    lcp=${LINUX_CHECKPATCH:-}
    if [ -z "$lcp" ] && "$TOP/scripts/checkpatch-driver.sh" --fetch-only >"$out" 2>&1; then
        lcp=$TOP/build/tools/checkpatch.pl
    fi
    if [ -n "$lcp" ] && [ -f "$lcp" ]; then
        for f in guest/linux/*.[ch]; do
            perl "$lcp" --strict --no-tree --terse -f "$f" >"$out" 2>&1
            result $? "linux checkpatch --strict $f" "$out"
        done
        # The UAPI header is checked as the kernel tree would hold it
        # (include/uapi/...): checkpatch's UAPI rules key on that path.
        for f in guest/linux/include/uapi/linux/*.h; do
            (cd guest/linux && perl "$(realpath "$lcp")" --strict --no-tree --terse -f "${f#guest/linux/}") >"$out" 2>&1
            result $? "linux checkpatch --strict $f" "$out"
        done
    else
        result 1 "linux checkpatch: no checkpatch.pl (scripts/checkpatch-driver.sh failed)" "$out"
    fi
fi

echo "1..$n"
