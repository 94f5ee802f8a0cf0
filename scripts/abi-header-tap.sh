#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# TAP: QEMU's include/standard-headers/linux/splitnet.h is exactly what
# scripts/update-abi-header.sh generates from the ABI's source, the driver's
# guest/linux/include/uapi/linux/splitnet.h.  One command of
# tests/run-suite.sh (make check-style).

set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT

if "$TOP/scripts/update-abi-header.sh" --check >"$out" 2>&1; then
    echo "ok 1 - ABI header: include/standard-headers copy matches the UAPI source"
else
    echo "not ok 1 - ABI header: include/standard-headers copy differs from the UAPI source"
    sed 's/^/# /' "$out"
fi
echo "1..1"
