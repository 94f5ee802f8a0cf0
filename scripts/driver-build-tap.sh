#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# TAP: the guest driver builds without warnings (W=1) against the headers
# of the kernel the guest tests boot (6.1) and against bookworm-backports'
# 6.12.  One command of tests/run-suite.sh.

set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LOGS=$TOP/build/test-logs
mkdir -p "$LOGS"

n=0
for k in 6.1 6.12; do
    n=$((n + 1))
    log=$LOGS/driver-build-$k.log
    if "$TOP/scripts/build-driver.sh" --kernel "$k" --check >"$log" 2>&1; then
        echo "ok $n - splitnet.ko builds against Linux $k headers, no warnings"
        grep '^splitnet: built' "$log" | sed 's/^/# /'
    else
        echo "not ok $n - splitnet.ko does not build against Linux $k headers"
        tail -n 20 "$log" | sed 's/^/# /'
    fi
done
echo "1..$n"
