# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: two guests on splitnet, wired by a 127.0.0.1 stream netdev: 64 MiB each way (sha256)
#
# Static addresses 192.168.77.1/2 exist only on the emulated link between
# the two QEMUs; nothing leaves the machine.

reason=$(guest_splitnet_missing) && skip "$reason"
guest_pair "$TEST_NAME" splitnet splitnet 64 1500
