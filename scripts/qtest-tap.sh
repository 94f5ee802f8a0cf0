#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# TAP for the splitnet qtests: tests/qtest/<name> binaries, QEMU unit tests
# (tests/unit/<name>), and the qos-test paths that go through the splitnet
# libqos node.  Run as one command of tests/run-suite.sh.
# Usage: scripts/qtest-tap.sh [NAME|qos-test]...

set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# SPLITNET_QBUILD: another build of the same tree (make check-sanitize).
QBUILD=${SPLITNET_QBUILD:-$TOP/build/qemu-build}
which=("$@")
[ $# -gt 0 ] || which=(splitnet-test qos-test)

cd "$QBUILD" || { echo "Bail out! no ${QBUILD#"$TOP"/}; run ./configure"; exit 1; }
# As QEMU's meson test does: binaries found relative to the build dir.
export QTEST_QEMU_BINARY=./qemu-system-x86_64
export PYTHON=/usr/bin/python3
[ -x "$QTEST_QEMU_BINARY" ] || { echo "Bail out! qemu-system-x86_64 not built"; exit 1; }

run_qos_splitnet() {
    local paths p args=()

    if [ ! -x tests/qtest/qos-test ]; then
        echo "not ok - tests/qtest/qos-test not built"
        return 1
    fi
    # Newer GLib lists the paths in TAP form, each behind "# ".
    mapfile -t paths < <(tests/qtest/qos-test -l |
                         sed -n 's|^\(# \)\{0,1\}\(/.*/splitnet/.*\)$|\2|p')
    if [ ${#paths[@]} -eq 0 ]; then
        echo "not ok - qos-test has no splitnet paths (is the libqos node registered?)"
        return 1
    fi
    for p in "${paths[@]}"; do args+=(-p "$p"); done
    tests/qtest/qos-test --tap -k "${args[@]}"
}

rc=0
for t in "${which[@]}"; do
    if [ "$t" = qos-test ]; then
        run_qos_splitnet || rc=1
    elif [ -x "tests/qtest/$t" ]; then
        "tests/qtest/$t" --tap -k || rc=1
    elif [ -x "tests/unit/$t" ]; then
        "tests/unit/$t" --tap -k || rc=1
    else
        echo "not ok - tests/qtest/$t not built (is tests/qtest/$t.c or tests/unit/$t.c there?)"
        rc=1
    fi
done
exit $rc
