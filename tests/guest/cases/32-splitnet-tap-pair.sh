# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: two splitnet guests on two taps of one bridge in a netns the test makes: 32 MiB each way (sha256); a passes TSO to its tap, b (vnet-hdr=off) segments itself
#
# The namespace holds the bridge, both taps and both QEMUs; the guests'
# 192.168.77.1/2 exist only on that bridge.  Guest a's device passes TSO
# frames to its tap whole (the host kernel segments them on the way through
# the bridge); guest b's has vnet-hdr=off and segments them itself.

reason=$(guest_splitnet_missing) && skip "$reason"
reason=$(netns_missing) && skip "$reason"

ns=splitnet-$TEST_NAME-$$
trap netns_cleanup EXIT
netns_tap_pair "$ns"

PAIR_NETNS=$ns \
PAIR_NETDEV_A=tap,id=n0,ifname=sntap1,script=no,downscript=no,vnet_hdr=on \
PAIR_NETDEV_B=tap,id=n0,ifname=sntap2,script=no,downscript=no,vnet_hdr=on \
PAIR_DEV_B=,vnet-hdr=off \
    guest_pair "$TEST_NAME" splitnet splitnet 32 1500

# counter COUNTER ROLE: guest ROLE's ethtool -S COUNTER at the end
counter() { guest_value "$TEST_NAME-$2" "ethtool -S: $1:"; }
# b times both transfers (in-guest/pair.sh)
t=$(guest_value "$TEST_NAME-b" "sent 32 MiB to 192.168.77.1 in")
diag "b->a (b segments itself): 32 MiB in $t ($(mbit $((32 * 1048576)) "${t% s}"))"
t=$(guest_value "$TEST_NAME-b" "received 32 MiB from 192.168.77.1 in")
diag "a->b (a passes TSO to its tap): 32 MiB in $t ($(mbit $((32 * 1048576)) "${t% s}"))"
for role in a b; do
    diag "$role: tx_gso_passthrough $(counter tx_gso_passthrough "$role") tx_tso_frames $(counter tx_tso_frames "$role") tx_tso_segments $(counter tx_tso_segments "$role")"
done
[ "$(counter tx_gso_passthrough a)" -gt 0 ] || die "a passed no TSO frame to its tap"
[ "$(counter tx_tso_frames a)" = 0 ] || die "a segmented TSO frames itself"
[ "$(counter tx_gso_passthrough b)" = 0 ] || die "b (vnet-hdr=off) passed TSO frames through"
[ "$(counter tx_tso_frames b)" -gt 0 ] || die "b segmented no TSO frame"
