# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: two splitnet guests on a 127.0.0.1 stream netdev: ethtool -k shows USO and VLAN offloads on; UDP_SEGMENT sends (link and VLAN 10) and TCP both ways over VLAN 10, sha256-checked; the devices segment USO frames and insert and strip the tags themselves
#
# The stream netdev takes no virtio-net header, so the devices segment UDP
# (GSO_UDP_L4) themselves and insert the VLAN tag in their head copy.
# 192.168.77.0/24 and 192.168.78.0/24 (VLAN 10) exist only on the emulated
# link between the two QEMUs; nothing leaves the machine.

reason=$(guest_splitnet_missing) && skip "$reason"

name=$TEST_NAME
guest_uso_vlan_pair "$name" 8 || exit 1

# counter ROLE NAME: guest ROLE's ethtool -S NAME at the end
counter() { guest_value "$name-$1" "ethtool -S: $2:"; }
for role in a b; do
    diag "$role: tx_uso_frames $(counter "$role" tx_uso_frames) tx_tso_frames $(counter "$role" tx_tso_frames) tx_frames $(counter "$role" tx_frames) rx_vlan_frames $(counter "$role" rx_vlan_frames) rx_vlan_filtered $(counter "$role" rx_vlan_filtered)"
done
# b's UDP_SEGMENT sends, on the link and on VLAN 10, were cut by its device
[ "$(counter b tx_uso_frames)" -gt 0 ] || die "b's device segmented no USO frame"
# TCP both ways on VLAN 10: TSO frames with a tag to insert
[ "$(counter b tx_tso_frames)" -gt 0 ] || die "b's device segmented no TSO frame"
[ "$(counter a tx_tso_frames)" -gt 0 ] || die "a's device segmented no TSO frame"
# tags inserted by the sender's device (the stack leaves them to it:
# tx-vlan-offload on), taken out by the receiver's: 8 MiB is over 5000 frames
for role in a b; do
    [ "$(counter "$role" rx_vlan_frames)" -gt 5000 ] ||
        die "$role's device took the tag out of only $(counter "$role" rx_vlan_frames) frames"
done
