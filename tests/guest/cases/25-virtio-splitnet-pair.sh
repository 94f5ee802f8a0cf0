# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: a splitnet guest and a virtio-net-pci guest on a 127.0.0.1 stream netdev: 64 MiB each way
#
# The peer is QEMU's virtio-net, so a frame splitnet builds wrongly (or
# reads wrongly) shows up against a NIC known to be right.

reason=$(guest_splitnet_missing) && skip "$reason"
guest_pair "$TEST_NAME" virtio splitnet 64 1500
