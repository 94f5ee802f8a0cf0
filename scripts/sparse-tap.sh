#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# TAP: sparse (Kbuild's C=2) finds nothing in the guest driver built
# against the guest kernel's headers: endianness (__le32 fields of the ABI
# header), __iomem, locking annotations.  Needs root to install sparse or
# the headers when they are missing; otherwise the test is skipped, saying
# why.  One command of tests/run-suite.sh (make check-style).

set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOGS=$TOP/build/test-logs
log=$LOGS/driver-sparse.log
mkdir -p "$LOGS"

if [ "$(id -u)" != 0 ] && ! command -v sparse >/dev/null; then
    echo "ok 1 - sparse on splitnet.ko # SKIP sparse not installed and not root"
elif "$TOP/scripts/build-driver.sh" --kernel 6.1 --sparse >"$log" 2>&1; then
    echo "ok 1 - sparse on splitnet.ko (Linux 6.1 headers): no warnings"
    grep '^splitnet: sparse:' "$log" | sed 's/^/# /'
elif [ "$(id -u)" != 0 ] && grep -q 'as root run' "$log"; then
    echo "ok 1 - sparse on splitnet.ko # SKIP guest kernel headers not installed and not root"
else
    echo "not ok 1 - sparse on splitnet.ko (Linux 6.1 headers)"
    tail -n 40 "$log" | sed 's/^/# /'
fi
echo "1..1"
