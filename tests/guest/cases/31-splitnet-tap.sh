# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: splitnet on a tap (vnet_hdr) in a netns the test makes: 32 MiB each way (sha256) with offloads on (TSO passed to the tap whole, large frames received whole) and off
#
# guest_tap_traffic (lib.sh) with rounds "on" and "off";
# tests/guest/soak/30-splitnet-tap-256.sh turns each offload off in turn.

reason=$(guest_splitnet_missing) && skip "$reason"
reason=$(netns_missing) && skip "$reason"
guest_tap_traffic "$TEST_NAME" 32 "on off" || exit 1
