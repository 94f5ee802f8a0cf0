# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: one of two splitnet guests on a 127.0.0.1 stream netdev while
# the host live-migrates guest "b" (tests/guest/cases/33-splitnet-migrate.sh).
# Guest "a" (192.168.77.1) stays put.  For each direction in DIRS ("b2a":
# b sends, "a2b": b receives) the sender streams a random BLOCK_MIB MiB
# block MIB / BLOCK_MIB times (streamed, hashed on both ends, never stored).
# Before each transfer b says `ready DIR` so the host can follow it through
# b's device counters and migrate b in the middle of it.  At the end each
# guest checks its device's counters against its driver's, the kernel's
# checksum error counters and its kernel log.
#
# Environment: ROLE (a or b), MIB (per direction, 256), BLOCK_MIB (8),
# DIRS ("b2a a2b").

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

: "${ROLE:?}"
MIB=${MIB:-256}
BLOCK_MIB=${BLOCK_MIB:-8}
DIRS=${DIRS:-b2a a2b}
A=192.168.77.1
B=192.168.77.2

splitnet_up
make_data /tmp/block.bin "$BLOCK_MIB"
case $ROLE in
a) static_ip "$NET_IF" $A/24; PEER=$B ;;
b) static_ip "$NET_IF" $B/24; PEER=$A; wait_ping $A 120 ;;
*) fail "unknown ROLE $ROLE" ;;
esac

k=0
for dir in $DIRS; do
    port=$((5001 + k))
    [ "$ROLE" != b ] || ready "$dir"
    t0=$(now)
    case $dir in
    "${ROLE}2"*)
        stream_serve "$port" /tmp/block.bin $((MIB / BLOCK_MIB)) "$dir"
        stream_served "$dir"
        ;;
    *2"$ROLE")
        stream_recv "$PEER" "$port" "$dir" 300
        ;;
    *) fail "unknown direction $dir" ;;
    esac
    log "$dir: $MIB MiB in $(elapsed "$t0" "$(now)") s"
    k=$((k + 1))
done
tx_idle "$NET_IF"
show_stats "$NET_IF"
counters_check "$NET_IF"
snmp_errors
kernel_clean
