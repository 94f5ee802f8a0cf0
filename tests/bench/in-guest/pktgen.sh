# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest half of tests/bench/run.sh: transmit with Linux pktgen through the
# NIC under test into QEMU's `-netdev sink` and report what it cost.
#
# Environment (from the host, tests/bench/run.sh):
#   BENCH_NIC       name of the NIC, for the log
#   BENCH_MODULE    driver modules, in load order: a .ko the host handed
#                   over, or modprobe
#   BENCH_PHASES    "NAME:SIZE:BURST:SECONDS ..." run in that order; a phase
#                   called "warm" is run but not reported
#   BENCH_CLONE     pktgen clone_skb (frames sent from one skb)
#   BENCH_DST_IP, BENCH_DST_MAC   pktgen's destination (the sink drops all)
#
# The host is at the other end of /dev/ttyS1 (tests/bench/bench-host.py):
#   guest -> host   HELLO | SNAP TAG | KV PHASE KEY VALUE | DONE PHASE |
#                   INFO KEY VALUE | FAIL MSG | END
#   host -> guest   ACK HELLO | ACK TAG
# At every SNAP the host reads the sink's frame counter (and splitnet's QOM
# stats) before it answers, so each phase is bracketed exactly.

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

bench_nic
modprobe pktgen || bench_fail "modprobe pktgen failed"
[ -d "$PG" ] || bench_fail "no $PG after loading pktgen"
DRV=$(basename "$(readlink "/sys/class/net/$IF/device/driver")")
log "interface $IF, driver $DRV"
ctl "INFO interface $IF"
ctl "INFO driver $DRV"

bench_link_up
log "$IF is up: $(ip -o link show "$IF" | sed 's/.*<\(.*\)>.*/<\1>/')"

# The PCI function behind the interface (virtio-net: the parent of virtioN)
# and its interrupts: MSI/MSI-X vectors, or the INTx line.
PCIDEV=$(readlink -f "/sys/class/net/$IF/device")
case ${PCIDEV##*/} in virtio*) PCIDEV=${PCIDEV%/*} ;; esac
IRQS=
if [ -d "$PCIDEV/msi_irqs" ]; then
    IRQS=$(ls "$PCIDEV/msi_irqs")
fi
[ -n "$IRQS" ] || IRQS=$(cat "$PCIDEV/irq")
IRQS=$(echo "$IRQS" | tr '\n' ' ' | sed 's/ *$//')
log "PCI function ${PCIDEV##*/}, interrupts: $IRQS"
for n in $IRQS; do
    grep "^ *$n:" /proc/interrupts | sed 's/^/guest:   /' | tr -s ' '
done
ctl "INFO pci ${PCIDEV##*/}"
ctl "INFO irqs $IRQS"

# Sum of the NIC's interrupts over all CPUs.
nic_irqs() {
    awk -v list=" $IRQS " '
        { n = $1; sub(":", "", n) }
        index(list, " " n " ") {
            for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i
        }
        END { print s + 0 }' /proc/interrupts
}

# ethtool -S as "key value" lines (nothing when the driver has no stats).
nic_stats() {
    ethtool -S "$IF" 2>/dev/null |
        awk -F: 'NF == 2 && $2 ~ /^ *[0-9]+ *$/ { gsub(/ /, ""); print $1, $2 }' ||
        true
}

pg() {
    echo "$2" > "$PG/$1" || bench_fail "pktgen: '$2' > $PG/$1 refused"
}

pg kpktgend_0 rem_device_all
pg kpktgend_0 "add_device $IF"
pg "$IF" "count 0"
pg "$IF" "delay 0"
pg "$IF" "clone_skb ${BENCH_CLONE:-0}"
pg "$IF" "dst ${BENCH_DST_IP:-10.0.2.99}"
pg "$IF" "dst_mac ${BENCH_DST_MAC:-52:54:00:00:00:99}"

# run_phase NAME SIZE BURST SECONDS
run_phase() {
    local name=$1 size=$2 burst=$3 secs=$4 i0 i1 pid res
    log "phase $name: $size-byte frames, burst $burst, $secs s"
    pg "$IF" "pkt_size $size"
    pg "$IF" "burst $burst"
    nic_stats > "/tmp/stats0"
    i0=$(nic_irqs)
    snap "$name-start"
    echo start > "$PG/pgctrl" &
    pid=$!
    sleep "$secs"
    echo stop > "$PG/pgctrl"
    wait "$pid" || true
    # Let the last completions and interrupts land before counting.
    usleep 300000
    snap "$name-end"
    i1=$(nic_irqs)
    nic_stats > "/tmp/stats1"

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
    ctl "KV $name seconds $secs"
    ctl "KV $name usec $1"
    ctl "KV $name pkts $2"
    ctl "KV $name pps $3"
    ctl "KV $name bps $4"
    ctl "KV $name errors $5"
    ctl "KV $name irqs $((i1 - i0))"
    awk 'NR == FNR { a[$1] = $2; next }
         ($2 - a[$1]) != 0 { print "KV '"$name"' ethtool." $1, $2 - a[$1] }' \
        /tmp/stats0 /tmp/stats1 >&3
    ctl "DONE $name"
}

for p in $BENCH_PHASES; do
    IFS=: read -r name size burst secs <<EOF
$p
EOF
    run_phase "$name" "$size" "$burst" "$secs"
done

pg kpktgend_0 rem_device_all
ctl END
log "done"
