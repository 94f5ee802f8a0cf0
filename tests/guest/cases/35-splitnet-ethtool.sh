# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: splitnet under everyday ethtool: -l one combined channel, a definite speed and Duplex Full, -T software timestamps, -k the real offloads
#
# One boot on slirp (restrict=on); every check runs in the guest
# (tests/guest/in-guest/ethtool.sh) once DHCP has brought the link up.

reason=$(guest_splitnet_missing) && skip "$reason"

name=$TEST_NAME
guest_driver
guest_net_helpers
guest_run "$name" ethtool.sh \
    -netdev user,id=n0,restrict=on -device splitnet,netdev=n0,romfile=
diag "$(guest_value "$name" "channels:")"
diag "$(guest_value "$name" "link:")"
diag "$(guest_value "$name" "timestamping:")"
diag "features on: $(guest_value "$name" "features:")"
