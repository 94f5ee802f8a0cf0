# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: one of two guests wired together by a 127.0.0.1 stream netdev,
# with static addresses that exist only on that emulated link.  Guest "a"
# (192.168.77.1) listens, guest "b" (192.168.77.2) connects.  For each MTU
# in MTUS, in turn:
#
#   both set the MTU; b sends its data to a (port 5001 + 2k; b retries until
#   a listens, which a does only once its MTU is set), pings a with
#   PING_SIZE-byte payloads (and checks from its TX counters whether they
#   went as one frame each or in fragments), then reads a's data (5002 + 2k).
#
# Each guest logs "made /tmp/tx.bin: ... sha256 S" and "sha256 rx-MTU-k S"
# for what it received; the host compares them across the two logs.
#
# Environment: ROLE (a or b), NIC (splitnet or virtio), MIB (MiB each way per
# step, default 64), MTUS (default 1500), PING_SIZE (default 56).

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

: "${ROLE:?}" "${NIC:?}"
MIB=${MIB:-64}
MTUS=${MTUS:-1500}
PING_SIZE=${PING_SIZE:-56}
A=192.168.77.1
B=192.168.77.2

case $NIC in
splitnet) splitnet_up ;;
virtio) nic_up 0x1af4 0x1000 virtio_pci virtio_net ;;
*) fail "unknown NIC $NIC" ;;
esac
make_data /tmp/tx.bin "$MIB"
case $ROLE in
a) static_ip "$NET_IF" $A/24 ;;
b) static_ip "$NET_IF" $B/24; wait_ping $A 120 ;;
*) fail "unknown ROLE $ROLE" ;;
esac

# ping_frames MTU: ping a with PING_SIZE and check how many frames each
# echo request took on the wire (from the interface's TX counters).
ping_frames() {
    local mtu=$1 n=3 p0 b0 p b per want
    p0=$(ifstat "$NET_IF" tx_packets)
    b0=$(ifstat "$NET_IF" tx_bytes)
    ping_ok $A $n "$PING_SIZE"
    p=$(($(ifstat "$NET_IF" tx_packets) - p0))
    b=$(($(ifstat "$NET_IF" tx_bytes) - b0))
    # IPv4 fragments carry at most MTU - 20 bytes of the 8 + PING_SIZE
    want=$(( (8 + PING_SIZE + mtu - 21) / (mtu - 20) ))
    per=$(awk -v p="$p" -v n="$n" 'BEGIN { printf "%.1f", p / n }')
    log "ping -s $PING_SIZE at MTU $mtu: $n requests went as $p frames, $b bytes ($per frames each, expected $want)"
    # a stray ARP or TCP frame may come along; never fewer frames
    [ "$p" -ge $((n * want)) ] && [ "$p" -le $((n * want + 2)) ] ||
        fail "ping -s $PING_SIZE at MTU $mtu: $p frames for $n requests, expected $((n * want))"
}

k=0
for mtu in $MTUS; do
    p1=$((5001 + 2 * k))
    p2=$((5002 + 2 * k))
    log "--- step $k: MTU $mtu, $MIB MiB each way"
    ip link set "$NET_IF" mtu "$mtu" || fail "ip link set $NET_IF mtu $mtu failed"
    log "$NET_IF: mtu $(cat "/sys/class/net/$NET_IF/mtu")"
    if [ "$ROLE" = a ]; then
        recv_start "$p1" "rx-$mtu-$k"
        serve_start "$p2" /tmp/tx.bin
        t0=$(now)
        wait "$RECV_PID" || true
        log "sha256 rx-$mtu-$k $(cat "/run/splitnet/rx-$mtu-$k.sum")"
        wait "$SERVE_PID" || fail "nc serving /tmp/tx.bin failed"
        log "step $k done in $(elapsed "$t0" "$(now)") s"
    else
        snap "$NET_IF"
        t0=$(now)
        send_to $A "$p1" /tmp/tx.bin
        log "sent $MIB MiB to $A in $(elapsed "$t0" "$(now)") s"
        [ "$NIC" != splitnet ] || tx_report "$NET_IF" "mtu-$mtu-$k"
        ping_frames "$mtu"
        t0=$(now)
        recv_from $A "$p2" "rx-$mtu-$k"
        log "received $MIB MiB from $A in $(elapsed "$t0" "$(now)") s"
        log "sha256 rx-$mtu-$k $(cat "/run/splitnet/rx-$mtu-$k.sum")"
    fi
    k=$((k + 1))
done
[ "$NIC" != splitnet ] || show_stats "$NET_IF"
rm -f /tmp/tx.bin
kernel_clean
