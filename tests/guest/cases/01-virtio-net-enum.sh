# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: virtio-net-pci enumerates as 0x1af4:0x1000 class 0x020000
#
# A known device: checks the harness (boot, fw_cfg script, env, result).

guest_env EXPECT_VENDOR=0x1af4 EXPECT_DEVICE=0x1000 EXPECT_CLASS=0x020000
guest_run "$TEST_NAME" pci-enum.sh \
    -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,romfile=
