# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest half of tests/bench/run.sh's packet-rate guests: transmit with
# Linux pktgen through the NIC under test into QEMU's `-netdev sink`, then
# receive what the host streams into a second NIC of the same model.
#
# Environment (from the host, tests/bench/run.sh):
#   BENCH_NIC, BENCH_MODULE   see benchlib.sh
#   BENCH_TX_MAC    MAC of the NIC on the sink
#   BENCH_PHASES    TX phases "NAME:SIZE:BURST:LENGTH ..." run in that order;
#                   LENGTH is seconds, or nN for exactly N frames; a phase
#                   called "warm" is run but not reported
#   BENCH_CLONE     pktgen clone_skb (frames sent from one skb)
#   BENCH_DST_IP, BENCH_DST_MAC   pktgen's destination (the sink drops all)
#   BENCH_RX_MAC    MAC of the NIC on the host's stream (no RX phases
#                   without it)
#   BENCH_RX_PHASES RX phases "NAME:SIZE:SECONDS ..."
#
# The host is at the other end of /dev/ttyS1 (tests/bench/bench-host.py):
#   guest -> host   HELLO | SNAP TAG | SEND PHASE SIZE RXCOUNT | RXC RXCOUNT |
#                   STOP PHASE | KV PHASE KEY VALUE | DONE PHASE |
#                   INFO KEY VALUE | FAIL MSG | END
#   host -> guest   ACK HELLO | ACK TAG | ACK PHASE-send | ACK PHASE-stop
# At every SNAP the host reads its counters (the sink's frames, splitnet's
# QOM stats, the MMIO trace) before it answers, so each phase is bracketed
# exactly.  SEND starts the host's sender of SIZE-byte frames, STOP stops
# it (the host then knows how many it sent); meanwhile the guest reports
# its RX count (RXC) ten times a second, which keeps the sender from
# running more than a window of frames ahead of it.

# shellcheck source=tests/bench/in-guest/benchlib.sh
. /run/splitnet/files/benchlib.sh

CTL=/dev/ttyS1
PG=/proc/net/pktgen

[ -c "$CTL" ] || fail "no $CTL: the host must give the guest a second serial port"
stty -F "$CTL" 115200 raw -echo
exec 3<>"$CTL"

ctl() { echo "$*" >&3; }

# Wait up to $2 s for "ACK $1" from the host.
ctl_ack() {
    local want="ACK $1" t=${2:-60} line
    # shellcheck disable=SC3045 # busybox ash has read -t
    while read -r -t "$t" line <&3; do
        line=$(echo "$line" | tr -d '\r')
        [ "$line" = "$want" ] && return 0
    done
    return 1
}

bench_fail() {
    ctl "FAIL $*"
    fail "$*"
}

# Tell the host we are here; it may connect a little after the guest boots.
i=0
until ctl HELLO && ctl_ack HELLO 1; do
    i=$((i + 1))
    [ "$i" -lt 60 ] || fail "the host does not answer on $CTL"
done
log "control channel to the host is up"

snap() {
    ctl "SNAP $1"
    ctl_ack "$1" 60 || bench_fail "no answer from the host to SNAP $1"
}

# nic_setup MAC: bring up the NIC with address MAC, tell the host about it;
# sets IF and IRQS (its MSI/MSI-X vectors, or its INTx line).
nic_setup() {
    local pcidev n
    IF=$(bench_if "$1") || bench_fail "$BENCH_MODULE registered no interface with MAC $1"
    bench_link_up "$IF"
    # The PCI function behind the interface (virtio-net: the parent of virtioN).
    pcidev=$(readlink -f "/sys/class/net/$IF/device")
    case ${pcidev##*/} in virtio*) pcidev=${pcidev%/*} ;; esac
    IRQS=
    if [ -d "$pcidev/msi_irqs" ]; then
        IRQS=$(ls "$pcidev/msi_irqs")
    fi
    [ -n "$IRQS" ] || IRQS=$(cat "$pcidev/irq")
    IRQS=$(echo "$IRQS" | tr '\n' ' ' | sed 's/ *$//')
    log "$IF ($1) is up, driver $(basename "$(readlink "/sys/class/net/$IF/device/driver")"), PCI function ${pcidev##*/}, interrupts: $IRQS"
    for n in $IRQS; do
        grep "^ *$n:" /proc/interrupts | sed 's/^/guest:   /' | tr -s ' '
    done
    ctl "INFO $IF ${pcidev##*/} irqs $IRQS"
}

# Sum of the interrupts of IRQS over all CPUs.
nic_irqs() {
    awk -v list=" $IRQS " '
        { n = $1; sub(":", "", n) }
        index(list, " " n " ") {
            for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i
        }
        END { print s + 0 }' /proc/interrupts
}

# ethtool -S of IF as "key value" lines (nothing when the driver has none).
nic_stats() {
    ethtool -S "$IF" 2>/dev/null |
        awk -F: 'NF == 2 && $2 ~ /^ *[0-9]+ *$/ { gsub(/ /, ""); print $1, $2 }' ||
        true
}

# KV lines of phase $1 for the ethtool -S counters that moved since
# /tmp/stats0 (to /tmp/stats1).
kv_stats() {
    nic_stats > /tmp/stats1
    awk 'NR == FNR { a[$1] = $2; next }
         ($2 - a[$1]) != 0 { print "KV '"$1"' ethtool." $1, $2 - a[$1] }' \
        /tmp/stats0 /tmp/stats1 >&3
}

pg() {
    echo "$2" > "$PG/$1" || bench_fail "pktgen: '$2' > $PG/$1 refused"
}

# tx_phase NAME SIZE BURST LENGTH
tx_phase() {
    local name=$1 size=$2 burst=$3 len=$4 count=0 i0 i1 pid res
    case $len in n*) count=${len#n} ;; esac
    log "phase $name: $size-byte frames, burst $burst, $([ "$count" = 0 ] && echo "$len s" || echo "$count frames")"
    pg "$IF" "pkt_size $size"
    pg "$IF" "burst $burst"
    pg "$IF" "count $count"
    nic_stats > /tmp/stats0
    i0=$(nic_irqs)
    snap "$name-start"
    if [ "$count" != 0 ]; then
        echo start > "$PG/pgctrl"       # returns when all are sent
    else
        echo start > "$PG/pgctrl" &
        pid=$!
        sleep "$len"
        echo stop > "$PG/pgctrl"
        wait "$pid" || true
    fi
    # Let the last completions and interrupts land before counting.
    usleep 300000
    snap "$name-end"
    i1=$(nic_irqs)

    res=$(awk '
        /^Result: OK:/ { usec = $3; sub(/\(.*/, "", usec); pkts = $5; ok = 1; next }
        ok == 1 && /pps/ {
            pps = $1; sub(/pps/, "", pps)
            bps = $3; gsub(/[()bps]/, "", bps)
            err = $NF; ok = 2
        }
        END { if (ok == 2) print usec, pkts, pps, bps, err }' "$PG/$IF")
    [ -n "$res" ] || { cat "$PG/$IF"; bench_fail "phase $name: no pktgen result"; }
    # shellcheck disable=SC2086 # split into usec pkts pps bps errors
    set -- $res
    log "phase $name: $2 frames in $1 us: $3 pps, $4 bit/s, $5 errors, $((i1 - i0)) interrupts"
    [ "$name" = warm ] && return 0
    ctl "KV $name size $size"
    ctl "KV $name burst $burst"
    ctl "KV $name usec $1"
    ctl "KV $name pkts $2"
    ctl "KV $name pps $3"
    ctl "KV $name bps $4"
    ctl "KV $name errors $5"
    ctl "KV $name irqs $((i1 - i0))"
    kv_stats "$name"
    ctl "DONE $name"
}

rxstat() { cat "/sys/class/net/$IF/statistics/$1"; }

# Frames IF received or dropped (the driver's counters; not rx_fifo_errors,
# which e1000 fills with the same missed-frame count), in RX_SEEN; shell
# builtins only, as it runs ten times a second.
rx_seen() {
    local d=/sys/class/net/$IF/statistics a b c
    read -r a < "$d/rx_packets"
    read -r b < "$d/rx_dropped"
    read -r c < "$d/rx_missed_errors"
    RX_SEEN=$((a + b + c))
}

# What IF received or dropped, for the host's sender, until killed.
rx_report() {
    while :; do
        rx_seen
        ctl "RXC $RX_SEEN"
        usleep 100000
    done
}

# Frames IF received so far, once the counter has stood still for 0.5 s
# (the host's sender has stopped; what was in flight has arrived).
rx_settled() {
    local last=-1 n i=0
    while n=$(rxstat rx_packets) && [ "$n" != "$last" ] && [ "$i" -lt 40 ]; do
        last=$n
        i=$((i + 1))
        usleep 500000
    done
    echo "$n"
}

# rx_phase NAME SIZE SECONDS: the host streams SIZE-byte frames (to a
# foreign IPv4 address: the guest's stack drops them without a reply); the
# rate is what IF received between two snapshots a second after the start.
rx_phase() {
    local name=$1 size=$2 secs=$3 n0 d0 r0 r1 i0 i1 n1 d1 rep t
    log "phase $name: receiving $size-byte frames from the host, $secs s"
    n0=$(rxstat rx_packets)
    d0=$(( $(rxstat rx_dropped) + $(rxstat rx_missed_errors) ))
    rx_seen
    ctl "SEND $name $size $RX_SEEN"
    ctl_ack "$name-send" 60 || bench_fail "the host did not start sending"
    rx_report &
    rep=$!
    sleep 1
    nic_stats > /tmp/stats0
    i0=$(nic_irqs)
    snap "$name-start"
    r0=$(rxstat rx_packets)
    sleep "$secs"
    snap "$name-end"
    r1=$(rxstat rx_packets)
    i1=$(nic_irqs)
    kill "$rep"
    wait "$rep" 2>/dev/null || true
    ctl "STOP $name"
    ctl_ack "$name-stop" 60 || bench_fail "the host did not stop sending"
    t=$(cut -d' ' -f1 /proc/uptime)
    n1=$(rx_settled)
    log "phase $name: the last frames arrived within $(awk -v t="$t" '{ printf "%.1f", $1 - t }' /proc/uptime) s after the sender stopped"
    d1=$(( $(rxstat rx_dropped) + $(rxstat rx_missed_errors) ))
    log "phase $name: $((r1 - r0)) frames in the $secs s window, $((n1 - n0)) in all, $((d1 - d0)) dropped by the driver, $((i1 - i0)) interrupts"
    ctl "KV $name size $size"
    ctl "KV $name rx_frames $((r1 - r0))"
    ctl "KV $name rx_total $((n1 - n0))"
    ctl "KV $name rx_driver_drops $((d1 - d0))"
    ctl "KV $name irqs $((i1 - i0))"
    kv_stats "$name"
    ctl "DONE $name"
}

bench_nic

if [ -n "$BENCH_PHASES" ]; then
    modprobe pktgen || bench_fail "modprobe pktgen failed"
    [ -d "$PG" ] || bench_fail "no $PG after loading pktgen"
    nic_setup "${BENCH_TX_MAC:?}"
    pg kpktgend_0 rem_device_all
    pg kpktgend_0 "add_device $IF"
    pg "$IF" "delay 0"
    pg "$IF" "clone_skb ${BENCH_CLONE:-0}"
    pg "$IF" "dst ${BENCH_DST_IP:-10.0.2.99}"
    pg "$IF" "dst_mac ${BENCH_DST_MAC:-52:54:00:00:00:99}"
    for p in $BENCH_PHASES; do
        IFS=: read -r name size burst len <<EOF
$p
EOF
        tx_phase "$name" "$size" "$burst" "$len"
    done
    pg kpktgend_0 rem_device_all
fi

if [ -n "${BENCH_RX_MAC:-}" ]; then
    nic_setup "$BENCH_RX_MAC"
    for p in $BENCH_RX_PHASES; do
        IFS=: read -r name size secs <<EOF
$p
EOF
        rx_phase "$name" "$size" "$secs"
    done
fi

ctl END
log "done"
