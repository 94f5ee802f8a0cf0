# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: one of two 4-vCPU guests on splitnet with queues=4, wired by a
# 127.0.0.1 stream netdev, with addresses that exist only on that link:
# a (192.168.77.1) receives, b (192.168.77.2) sends.
#
#   1. b sends STREAMS concurrent TCP streams of MIB MiB each to a (ports
#      5001..): a logs each one's sha256 and the frames each RX queue pair
#      took meanwhile (ethtool -S rx<p>_frames), and fails unless RSS put
#      the streams on at least two pairs.
#   2. iperf3 -P 4 from b to a, first with one queue pair on both guests
#      (ethtool -L combined 1), then with 4: "throughput N queues: M Mbit/s".
#   3. b sends MIB2 MiB (port 5101) while a goes to ethtool -L combined 1
#      and back to 4, twice: the stream must arrive intact.
#
# The host compares the sha256 each side logs.  Environment: ROLE (a or
# b), STREAMS (8), MIB (2), MIB2 (16), IPERF_SECS (5).

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

: "${ROLE:?}"
STREAMS=${STREAMS:-8}
MIB=${MIB:-2}
MIB2=${MIB2:-16}
IPERF_SECS=${IPERF_SECS:-5}
A=192.168.77.1
B=192.168.77.2
PAIRS=4

splitnet_up
combined() { ethtool -l "$NET_IF" | awk -v w="$1" '/^Combined:/ { n++; if (n == w) print $2 }'; }
[ "$(combined 1)" = $PAIRS ] || fail "ethtool -l: at most $(combined 1) pairs, expected $PAIRS"
[ "$(combined 2)" = $PAIRS ] || fail "ethtool -l: $(combined 2) pairs in use on $(grep -c ^processor /proc/cpuinfo) CPUs, expected $PAIRS"
log "ethtool -l: $PAIRS of $PAIRS combined channels, $(grep -c "$NET_IF-q" /proc/interrupts) queue vectors"
log "ethtool -x: $(ethtool -x "$NET_IF" | grep -c '^ *[0-9]*:') table rows, $(ethtool -n "$NET_IF" rx-flow-hash tcp4 | tail -n +2 | tr '\n' ' ')"

# channels N: N queue pairs, then wait for the link (the device restarts).
channels() {
    local i=0
    ethtool -L "$NET_IF" combined "$1" || fail "ethtool -L $NET_IF combined $1 failed"
    while [ "$(cat "/sys/class/net/$NET_IF/carrier" 2>/dev/null)" != 1 ]; do
        i=$((i + 1))
        [ "$i" -lt 100 ] || fail "no carrier after ethtool -L combined $1"
        usleep 100000
    done
    log "ethtool -L combined $1: $(combined 2) in use"
}

# rxq_frames: the frames of every RX queue pair, "n0 n1 n2 n3".
rxq_frames() {
    local p out=
    for p in $(seq 0 $((PAIRS - 1))); do
        out="$out $(stat "$NET_IF" "rx${p}_frames")"
    done
    echo "$out"
}

make_data /tmp/tx.bin "$MIB"
make_data /tmp/big.bin "$MIB2"
case $ROLE in
a) static_ip "$NET_IF" $A/24 ;;
b) static_ip "$NET_IF" $B/24; wait_ping $A 120 ;;
*) fail "unknown ROLE $ROLE" ;;
esac

if [ "$ROLE" = a ]; then
    # 1. concurrent streams over the RX queue pairs
    before=$(rxq_frames)
    pids=
    for i in $(seq "$STREAMS"); do
        recv_start $((5000 + i)) "stream-$i"
        pids="$pids $RECV_PID"
    done
    t0=$(now)
    for pid in $pids; do wait "$pid" || true; done
    log "$STREAMS streams of $MIB MiB in $(elapsed "$t0" "$(now)") s"
    for i in $(seq "$STREAMS"); do
        log "sha256 stream-$i $(cat "/run/splitnet/stream-$i.sum")"
    done
    after=$(rxq_frames)
    used=$(echo "$before / $after" | awk -v n=$PAIRS -v min=100 '{
        for (p = 0; p < n; p++) {
            d = $(n + 2 + p) - $(p + 1); out = out sprintf(" rx%d %d", p, d)
            if (d >= min) u++ }
        print u + 0; print out > "/dev/stderr" }' 2> /run/splitnet/rxq.txt)
    log "rx queue frames during the streams:$(cat /run/splitnet/rxq.txt)"
    log "pairs that took at least 100 frames: $used"
    [ "$used" -ge 2 ] || fail "RSS put $STREAMS streams on $used queue pair(s)"

    # 2. throughput, 1 then 4 pairs (b switches too, then connects)
    for n in 1 $PAIRS; do
        channels "$n"
        iperf3 -s -1 -p 5201 > "/run/splitnet/iperf-$n.txt" 2>&1 ||
            fail "iperf3 server ($n pairs) failed: $(tail -n 3 "/run/splitnet/iperf-$n.txt")"
        log "iperf3 with $n pair(s): rx queue frames now$(rxq_frames)"
    done

    # 3. ethtool -L under traffic
    recv_start 5101 lswitch
    base=$(ifstat "$NET_IF" rx_bytes)
    i=0
    while [ $(($(ifstat "$NET_IF" rx_bytes) - base)) -lt 1048576 ]; do
        i=$((i + 1))
        [ "$i" -lt 1200 ] || fail "the stream for ethtool -L never started"
        usleep 100000
    done
    for k in 1 2; do
        channels 1
        sleep 1
        channels $PAIRS
        sleep 1
    done
    wait "$RECV_PID" || true
    log "sha256 lswitch $(cat /run/splitnet/lswitch.sum)"
    log "rx bytes during ethtool -L: $(($(ifstat "$NET_IF" rx_bytes) - base))"
else
    pids=
    for i in $(seq "$STREAMS"); do
        send_to $A $((5000 + i)) /tmp/tx.bin &
        pids="$pids $!"
    done
    for pid in $pids; do wait "$pid" || fail "a stream to $A failed"; done
    log "sent $STREAMS streams of $MIB MiB"

    for n in 1 $PAIRS; do
        channels "$n"
        i=0
        while ! iperf3 -c $A -p 5201 -P 4 -t "$IPERF_SECS" -f m \
                > "/run/splitnet/iperf-$n.txt" 2>&1; do
            i=$((i + 1))
            [ "$i" -lt 120 ] || fail "iperf3 to $A ($n pairs): $(tail -n 3 "/run/splitnet/iperf-$n.txt")"
            sleep 1
        done
        log "throughput $n queue pair(s): $(awk '/SUM.*receiver/ { print $6, $7 }' "/run/splitnet/iperf-$n.txt")"
    done

    t0=$(now)
    send_to $A 5101 /tmp/big.bin
    log "sent $MIB2 MiB through ethtool -L in $(elapsed "$t0" "$(now)") s"
fi
show_stats "$NET_IF"
rm -f /tmp/tx.bin /tmp/big.bin
kernel_clean
