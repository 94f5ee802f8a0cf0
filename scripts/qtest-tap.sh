#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# TAP for the splitnet qtests: tests/qtest/splitnet-test, and the qos-test
# paths that go through the splitnet libqos node.  Run as one command of
# tests/run-suite.sh.  Usage: scripts/qtest-tap.sh [splitnet-test|qos-test]...

set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QBUILD=$TOP/build/qemu-build
which=("$@")
[ $# -gt 0 ] || which=(splitnet-test qos-test)

cd "$QBUILD" || { echo "Bail out! no build/qemu-build; run ./configure"; exit 1; }
# As QEMU's meson test does: binaries found relative to the build dir.
export QTEST_QEMU_BINARY=./qemu-system-x86_64
export PYTHON=/usr/bin/python3
[ -x "$QTEST_QEMU_BINARY" ] || { echo "Bail out! qemu-system-x86_64 not built"; exit 1; }

rc=0
for t in "${which[@]}"; do
    case $t in
    splitnet-test)
        if [ -x tests/qtest/splitnet-test ]; then
            tests/qtest/splitnet-test --tap -k || rc=1
        else
            echo "not ok - tests/qtest/splitnet-test not built (is tests/qtest/splitnet-test.c there?)"
        fi
        ;;
    qos-test)
        if [ ! -x tests/qtest/qos-test ]; then
            echo "not ok - tests/qtest/qos-test not built"
            continue
        fi
        mapfile -t paths < <(tests/qtest/qos-test -l | grep splitnet)
        if [ ${#paths[@]} -eq 0 ]; then
            echo "# qos-test: no splitnet paths (no tests registered on the splitnet libqos node)"
            continue
        fi
        args=()
        for p in "${paths[@]}"; do args+=(-p "$p"); done
        tests/qtest/qos-test --tap -k "${args[@]}" || rc=1
        ;;
    *) echo "Bail out! unknown qtest '$t'"; exit 1 ;;
    esac
done
exit $rc
