# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: the harness reports a failing in-guest check as a failure
#
# No NIC at all, yet the guest is told to expect one: the in-guest script
# must fail, and the harness must say so.

guest_env EXPECT_VENDOR=0x1af4 EXPECT_DEVICE=0x10f5 EXPECT_CLASS=0x020000
if guest_run "$TEST_NAME" pci-enum.sh 2>/dev/null; then
    die "a guest without the device passed the enumeration check"
fi
grep -aq "SPLITNET-RESULT: FAIL $TEST_NAME rc=1" "$GUEST_LOGDIR/$TEST_NAME.log" ||
    die "no FAIL result in the guest log"
grep -aq "guest: FAIL: expected one PCI function 0x1af4:0x10f5, found 0" \
    "$GUEST_LOGDIR/$TEST_NAME.log" || die "the guest did not say why it failed"
say "the guest failed as it should"
