# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: two splitnet guests on a 127.0.0.1 stream netdev: ethtool -k shows USO and VLAN offloads on; UDP_SEGMENT sends (link and VLAN 10) and TCP both ways over VLAN 10, sha256-checked; the devices' counters show USO and VLAN stripping in use
#
# The stream netdev takes no virtio-net header, so the devices segment UDP
# (GSO_UDP_L4) themselves and insert the VLAN tag in their head copy.
# 192.168.77.0/24 and 192.168.78.0/24 (VLAN 10) exist only on the emulated
# link between the two QEMUs; nothing leaves the machine.

reason=$(guest_splitnet_missing) && skip "$reason"
ugs=$SPLITNET_BUILD/project/udp-gso
[ -x "$ugs" ] || die "no $ugs (make builds it)"

name=$TEST_NAME
mib=8
port=$(guest_free_port)
for role in a b; do
    guest_driver
    guest_net_helpers
    guest_file "$ugs" udp-gso
    guest_env "ROLE=$role" "MIB=$mib"
    if [ "$role" = a ]; then
        netdev=stream,id=n0,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=$port
        mac=52:54:00:77:00:01
    else
        netdev=stream,id=n0,server=off,reconnect-ms=200,addr.type=inet,addr.host=127.0.0.1,addr.port=$port
        mac=52:54:00:77:00:02
    fi
    guest_start "$name-$role" uso-vlan.sh -netdev "$netdev" \
        -device "splitnet,netdev=n0,romfile=,mac=$mac"
done
rc=0
guest_finish "$name-b" 600 || rc=1
guest_finish "$name-a" 120 || rc=1
[ "$rc" = 0 ] || exit 1

# what ROLE received as NAME must be what the other made
check() {
    local role=$1 what=$2 other=a made got
    [ "$role" = a ] && other=b
    made=$(guest_made_sha256 "$name-$other" /tmp/tx.bin)
    got=$(guest_value "$name-$role" "sha256 $what")
    [ -n "$made" ] && [ "$got" = "$made" ] ||
        die "$what: $role received sha256 $got, $other sent $made"
    diag "$what -> $role, $mib MiB: sha256 $got (match)"
}
check a udp_link
check a udp_vlan
check a tcp-vlan
check b tcp-vlan
# counter ROLE NAME: guest ROLE's ethtool -S NAME at the end
counter() { guest_value "$name-$1" "ethtool -S: $2:"; }
diag "ethtool -k: $(guest_value "$name-b" "ethtool -k:")"
for role in a b; do
    diag "$role: tx_uso_frames $(counter "$role" tx_uso_frames) tx_tso_frames $(counter "$role" tx_tso_frames) tx_frames $(counter "$role" tx_frames) rx_vlan_frames $(counter "$role" rx_vlan_frames) rx_vlan_filtered $(counter "$role" rx_vlan_filtered)"
done
# b's UDP_SEGMENT sends, on the link and on VLAN 10, were cut by its device
[ "$(counter b tx_uso_frames)" -gt 0 ] || die "b's device segmented no USO frame"
[ "$(counter b tx_tso_frames)" -gt 0 ] || die "b's device segmented no TSO frame (TCP on VLAN 10)"
[ "$(counter a tx_tso_frames)" -gt 0 ] || die "a's device segmented no TSO frame (TCP on VLAN 10)"
# VLAN 10 traffic both ways: tags inserted by the sender's device (the
# stack leaves them to it: tx-vlan-offload on), stripped by the receiver's
for role in a b; do
    [ "$(counter "$role" rx_vlan_frames)" -gt 1000 ] ||
        die "$role's device stripped the tag of only $(counter "$role" rx_vlan_frames) frames"
done
