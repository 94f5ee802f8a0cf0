# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: splitnet enumerates as 0x1af4:0x10f5 class 0x020000

if ! qemu_has_device splitnet; then
    # The project's own QEMU must have it; another QEMU may not.
    guest_qemu_is_ours && die "the built QEMU has no splitnet device"
    skip "$(guest_qemu) has no splitnet device"
fi
guest_env EXPECT_VENDOR=0x1af4 EXPECT_DEVICE=0x10f5 EXPECT_CLASS=0x020000
guest_run "$TEST_NAME" pci-enum.sh \
    -netdev user,id=n0,restrict=on -device splitnet,netdev=n0,romfile=
