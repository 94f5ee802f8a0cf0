# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: one of two splitnet guests wired by a 127.0.0.1 stream netdev
# (the device segments and tags itself: no peer takes a virtio-net
# header).  192.168.77.1/2 on the link, 192.168.78.1/2 on VLAN 10 over it
# (eth0.10, the tag inserted and stripped by the device).  Guest a listens,
# guest b sends:
#
#   1. UDP with UDP_SEGMENT (udp-gso, handed over as a file) b -> a on the
#      link, then on VLAN 10: GSO_UDP_L4 frames, USO in the device;
#   2. TCP over VLAN 10, b -> a then a -> b: TSO frames with a tag to insert.
#
# Each guest logs "made /tmp/tx.bin: ... sha256 S" and "sha256 NAME S" for
# what it received, and its ethtool -S; the host compares and checks.
#
# Environment: ROLE (a or b), MIB (MiB per transfer, default 8).

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

: "${ROLE:?}"
MIB=${MIB:-8}
A=192.168.77.1
B=192.168.77.2
VA=192.168.78.1
VB=192.168.78.2
UGS=/run/splitnet/files/udp-gso
VIF=

# udp_recv PORT NAME: udp-gso's receiver in the background (PID in
# UDP_PID_NAME), sha256 of what it gets into /run/splitnet/NAME.sum.
udp_recv() {
    ("$UGS" recv "$1" | sha256sum | cut -d' ' -f1 > "/run/splitnet/$2.sum") &
    eval "UDP_PID_$2=\$!"
}

udp_wait() {
    eval "wait \$UDP_PID_$1" || fail "udp-gso recv $1 failed"
    log "sha256 $1 $(cat "/run/splitnet/$1.sum")"
}

# udp_send ADDR PORT WHAT: udp-gso send, 1400 bytes per datagram.
udp_send() {
    local t0
    t0=$(now)
    "$UGS" send "$1" "$2" /tmp/tx.bin 1400 || fail "udp-gso send to $1:$2 failed"
    log "sent $MIB MiB by UDP GSO $3 in $(elapsed "$t0" "$(now)") s"
}

splitnet_up
chmod +x "$UGS"
features=$(ethtool -k "$NET_IF")
for f in tx-udp-segmentation tx-vlan-offload rx-vlan-offload rx-vlan-filter; do
    echo "$features" | grep -q "^$f: on" || fail "ethtool -k $NET_IF: $f not on"
done
log "ethtool -k: $(echo "$features" | grep -E '^(tx-udp-segmentation|tx-vlan-offload|rx-vlan-offload|rx-vlan-filter):' | tr '\n' ' ')"
load_module 8021q
VIF=$NET_IF.10
ip link add link "$NET_IF" name "$VIF" type vlan id 10 || fail "cannot add $VIF"
ip link set "$VIF" up || fail "ip link set $VIF up failed"
make_data /tmp/tx.bin "$MIB"

case $ROLE in
a)
    # listening before b can reach us: b sends once we answer ping
    udp_recv 5003 udp_link
    udp_recv 5004 udp_vlan
    static_ip "$NET_IF" $A/24
    static_ip "$VIF" $VA/24
    udp_wait udp_link
    udp_wait udp_vlan
    recv_start 5001 tcp-vlan
    serve_start 5002 /tmp/tx.bin
    wait "$RECV_PID" || true
    log "sha256 tcp-vlan $(cat /run/splitnet/tcp-vlan.sum)"
    wait "$SERVE_PID" || fail "nc serving /tmp/tx.bin failed"
    ;;
b)
    static_ip "$NET_IF" $B/24
    static_ip "$VIF" $VB/24
    wait_ping $A 120
    wait_ping $VA 60
    udp_send $A 5003 "on the link"
    udp_send $VA 5004 "on VLAN 10"
    t0=$(now)
    send_to $VA 5001 /tmp/tx.bin
    log "sent $MIB MiB by TCP on VLAN 10 in $(elapsed "$t0" "$(now)") s"
    recv_from $VA 5002 tcp-vlan
    log "sha256 tcp-vlan $(cat /run/splitnet/tcp-vlan.sum)"
    ;;
*) fail "unknown ROLE $ROLE" ;;
esac
show_stats "$NET_IF"
rm -f /tmp/tx.bin
kernel_clean
