# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: 36-splitnet-uso-vlan on two taps of one bridge in a netns the test makes: USO frames (with their VLAN tag) passed to the tap whole where the host's tap segments UDP; sha256 both ways
#
# The namespace holds the bridge, both taps and both QEMUs; the guests'
# addresses exist only on that bridge.  Both devices take a virtio-net
# header; on a host whose tap segments UDP (Linux 6.2 and later, as QEMU
# finds with qemu_has_uso) b's UDP_SEGMENT sends reach it whole, the tag the
# device inserted in the head; elsewhere b's device segments them itself.

reason=$(guest_splitnet_missing) && skip "$reason"
reason=$(netns_missing) && skip "$reason"

name=$TEST_NAME
ns=splitnet-$name-$$
trap netns_cleanup EXIT
netns_tap_pair "$ns"

PAIR_NETNS=$ns \
PAIR_NETDEV_A=tap,id=n0,ifname=sntap1,script=no,downscript=no,vnet_hdr=on \
PAIR_NETDEV_B=tap,id=n0,ifname=sntap2,script=no,downscript=no,vnet_hdr=on \
    guest_uso_vlan_pair "$name" 8 || exit 1

counter() { guest_value "$name-$1" "ethtool -S: $2:"; }
for role in a b; do
    diag "$role: tx_gso_passthrough $(counter "$role" tx_gso_passthrough) tx_uso_frames $(counter "$role" tx_uso_frames) tx_tso_frames $(counter "$role" tx_tso_frames) rx_vlan_frames $(counter "$role" rx_vlan_frames)"
done
# TSO (TCP on VLAN 10) goes to the tap whole from both
for role in a b; do
    [ "$(counter "$role" tx_gso_passthrough)" -gt 0 ] || die "$role passed no GSO frame to its tap"
    [ "$(counter "$role" tx_tso_frames)" = 0 ] || die "$role segmented TSO frames itself"
done
kver=$(uname -r)
major=${kver%%.*} minor=${kver#*.} minor=${minor%%.*}
if [ "$major" -gt 6 ] || { [ "$major" = 6 ] && [ "$minor" -ge 2 ]; }; then
    diag "host kernel $kver: its tap segments UDP, so USO passes through"
    [ "$(counter b tx_uso_frames)" = 0 ] || die "b segmented USO frames itself"
else
    diag "host kernel $kver: its tap does not segment UDP, the device does"
    [ "$(counter b tx_uso_frames)" -gt 0 ] || die "b's device segmented no USO frame"
fi
# the tags of VLAN 10, taken out on receipt (a frame may be a large one
# from the tap: the counts are in the diag lines)
for role in a b; do
    [ "$(counter "$role" rx_vlan_frames)" -gt 0 ] ||
        die "$role's device took no tag out"
done
