# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: guest programs (ethtool, iperf3, lspci) and NIC modules work

guest_run "$TEST_NAME" tools.sh \
    -netdev user,id=n0,restrict=on -device virtio-net-pci,netdev=n0,romfile=
