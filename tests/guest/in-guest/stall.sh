# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest half of tests/guest/cases/34-splitnet-stall.sh: pktgen sends
# FRAMES numbered frames of SIZE bytes through splitnet into a stream netdev
# whose far end (tests/guest/peer.py) stops reading for seconds at a time.
# Then: everything the driver took has completed, the device's counters
# agree with the driver's, and the device had to hold frames back.
#
# Environment: FRAMES (100000), SIZE (pktgen pkt_size, 60).

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

FRAMES=${FRAMES:-100000}
SIZE=${SIZE:-60}

splitnet_up
pktgen_setup "$NET_IF" "$FRAMES" 192.168.78.2 52:54:00:78:00:02
pg "$NET_IF" "pkt_size $SIZE"
t0=$(now)
echo start > "$PG/pgctrl"
log "pktgen: sent errors $(pktgen_sent "$NET_IF") in $(elapsed "$t0" "$(now)") s"
tx_idle "$NET_IF"
show_stats "$NET_IF"
counters_check "$NET_IF"
[ "$(stat "$NET_IF" tx_stalls)" -gt 0 ] ||
    fail "the device never had to hold a frame back: the peer's pauses did not reach it"
[ "$(stat "$NET_IF" drv_tx_stops)" -gt 0 ] ||
    fail "the driver never stopped its queue"
kernel_clean
