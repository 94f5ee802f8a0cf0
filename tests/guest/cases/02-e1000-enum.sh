# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: e1000 enumerates as 0x8086:0x100e class 0x020000 (with its iPXE ROM)

guest_env EXPECT_VENDOR=0x8086 EXPECT_DEVICE=0x100e EXPECT_CLASS=0x020000
guest_run "$TEST_NAME" pci-enum.sh \
    -netdev user,id=n0,restrict=on -device e1000,netdev=n0
