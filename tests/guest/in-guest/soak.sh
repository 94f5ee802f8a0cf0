# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest half of tests/guest/soak/20-splitnet-soak.sh: one of two splitnet
# guests whose stream netdevs meet in tests/guest/peer.py (a relay on
# 127.0.0.1 that stops reading now and then).  For SOAK_SECONDS, in rounds:
# each guest streams a random number (1..MAX_MIB) of 1 MiB random blocks to
# the other while receiving the other's, sha256 on both ends ("sha256
# tx-a2b-K" / "rx-a2b-K" in the logs).  All along, pktgen sends numbered
# frames of random sizes (60..1514 bytes, UDP checksummed) to the other
# guest, 1000 a second: the relay checks their numbers and contents, the
# other guest's kernel their UDP checksums.
#
# Guest a decides when the time is up: at the start of each round it tells
# b "go" or "end" on port 5000.  At the end both stop pktgen, and b tells a
# "bye" once its last pktgen frame is out (so a has received all of them
# when it reads its counters).  Each guest then checks its device's counters
# against its driver's, the kernel's checksum error counters and its log.
#
# Environment: ROLE (a or b), SOAK_SECONDS (600), MAX_MIB (8).

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

: "${ROLE:?}"
SOAK_SECONDS=${SOAK_SECONDS:-600}
MAX_MIB=${MAX_MIB:-8}
A=192.168.77.1
B=192.168.77.2
CTL=5000

splitnet_up
make_data /tmp/block.bin 1
case $ROLE in
a) static_ip "$NET_IF" $A/24; PEER=$B; PEER_MAC=52:54:00:77:00:02
   ME=a; OTHER=b ;;
b) static_ip "$NET_IF" $B/24; PEER=$A; PEER_MAC=52:54:00:77:00:01
   ME=b; OTHER=a; wait_ping $A 120 ;;
*) fail "unknown ROLE $ROLE" ;;
esac

# ctl_say WORD: serve WORD to the peer's next ctl_hear.
ctl_say() {
    echo "$1" > /run/splitnet/ctl.txt
    nc -l -p "$CTL" < /run/splitnet/ctl.txt >/dev/null
}

# ctl_hear: the word the peer serves (retrying until it does).
ctl_hear() {
    local w i=0
    while :; do
        w=$(nc "$PEER" "$CTL" <>"$NETLIB_HOLD" 2>/dev/null || true)
        [ -z "$w" ] || break
        i=$((i + 1))
        [ "$i" -lt 300 ] || fail "no word from $PEER on port $CTL"
        sleep 1
    done
    echo "$w"
}

pktgen_setup "$NET_IF" 0 "$PEER" "$PEER_MAC"
pg "$NET_IF" "min_pkt_size 60"
pg "$NET_IF" "max_pkt_size 1514"
pg "$NET_IF" "flag TXSIZE_RND"
pg "$NET_IF" "flag UDPCSUM"
pg "$NET_IF" "delay 1000000"
echo start > "$PG/pgctrl" &
PKTGEN_PID=$!

t_end=$(awk -v t="$(now)" -v s="$SOAK_SECONDS" 'BEGIN { print t + s }')
k=0
bytes=0
while :; do
    if [ "$ROLE" = a ]; then
        w=go
        awk -v t="$(now)" -v e="$t_end" 'BEGIN { exit !(t >= e) }' && w=end
        ctl_say $w
    else
        w=$(ctl_hear)
    fi
    [ "$w" = go ] || break
    n=$(( $(head -c 2 /dev/urandom | od -An -tu2 | tr -d ' ') % MAX_MIB + 1 ))
    # mine on one port, the peer's on the other; a listens first on both
    mine=$((6000 + 2 * k)) theirs=$((6001 + 2 * k))
    [ "$ROLE" = a ] || { mine=$((6001 + 2 * k)); theirs=$((6000 + 2 * k)); }
    stream_serve "$mine" /tmp/block.bin "$n" "${ME}2$OTHER-$k"
    stream_recv "$PEER" "$theirs" "${OTHER}2$ME-$k" 300
    stream_served "${ME}2$OTHER-$k"
    bytes=$((bytes + n * 1048576))
    k=$((k + 1))
done
echo stop > "$PG/pgctrl"
wait "$PKTGEN_PID" || true
log "pktgen: sent errors $(pktgen_sent "$NET_IF")"
if [ "$ROLE" = a ]; then
    [ "$(ctl_hear)" = bye ] || fail "b did not say bye"
else
    tx_idle "$NET_IF"
    ctl_say bye
fi
log "soak: $k rounds, $bytes bytes sent in $(elapsed "$(awk -v e="$t_end" -v s="$SOAK_SECONDS" 'BEGIN { print e - s }')" "$(now)") s"
tx_idle "$NET_IF"
show_stats "$NET_IF"
counters_check "$NET_IF"
snmp_errors
kernel_clean
