# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: splitnet on slirp: DHCP, ping, 64 MiB each way (sha256), head copy < 10 %
#
# One boot: udhcpc, ping 10.0.2.2, 64 MiB host->guest through hostfwd
# (sha256 checked in the guest), 64 MiB guest->host (checked on the host),
# then ethtool -S: the head bytes the device copied over the guest->host
# transfer must be under 10 % of the bytes sent.

reason=$(guest_splitnet_missing) && skip "$reason"
guest_slirp_traffic "$TEST_NAME" 64
