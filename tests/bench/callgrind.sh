#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# `make bench-callgrind`: host instructions per transmitted frame, counted
# with valgrind's callgrind on a qtest-driven run, for splitnet,
# virtio-net-pci and e1000e, against the floor (the net layer's own cost
# of delivering splitnet's iovec to the same backend); and per received
# frame for splitnet.  Deterministic: the same tree gives the same
# numbers, so it can judge every TX and RX path change.
#
# What is counted: everything the NIC's doorbell handler (its MMIO/PIO
# write callback) and its TX bottom half execute, inclusive, until the
# frame is handed to the net layer and the call returns.  The frames go
# into `-netdev sink`.  tests/qtest/nic-tx-cost-test.c (a qos-test module,
# active only when NIC_TX_COST_FRAMES is set) sends them through the
# libqos drivers, one doorbell per frame, as a burst-1 sender does.
# Each case runs twice, with LO and HI frames; (count(HI) - count(LO)) /
# (HI - LO) is the cost per frame with set-up and first-frame work
# cancelled out.  The floor is qemu_sendv_packet_async() inclusive, taken
# the same way from splitnet's runs.  Sizes: 64 and 1514-byte frames, and
# "tso": one 64 KiB TCP/IPv4 TSO frame per doorbell that the NIC cuts into
# 46 segments itself (splitnet and e1000e; virtio-net offers no TSO to a
# peer without a virtio-net header), counted per TSO frame.
# RX: everything splitnet's receive callbacks (can_receive, receive_iov)
# execute for frames a socket netdev reads from the test, each into a
# buffer the test posted: filter, buffers, the copy into guest RAM, the
# write-back and publishing cons.
#
# Usage: tests/bench/callgrind.sh [--frames LO,HI] [--nics A,B,...]
#                                 [--sizes S,...] [--no-rx]
# Output: the table on stdout; build/bench/callgrind-<timestamp>/ keeps
# results.txt, every callgrind.out file and callgrind_annotate's
# inclusive listing of each HI run (for profiling the TX path).
# It needs valgrind, which it installs with apt-get when run as root.

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lib.sh
. "$HERE/../../scripts/lib.sh"

LO=20
HI=220
NICS=splitnet,e1000e,virtio-net
SIZES=64,1514,tso
RX=yes
while [ $# -gt 0 ]; do
    case $1 in
    --frames) IFS=, read -r LO HI <<<"${2:?--frames needs LO,HI}"; shift ;;
    --nics) NICS=${2:?--nics needs a list}; shift ;;
    --sizes) SIZES=${2:?--sizes needs a list}; shift ;;
    --no-rx) RX=no ;;
    -h|--help) sed -n '3,/^$/s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "bench-callgrind: unknown option $1 (see --help)" ;;
    esac
    shift
done
[ "$HI" -gt "$LO" ] || die "bench-callgrind: --frames LO,HI needs HI > LO"

QBUILD=$SPLITNET_BUILD/qemu-build
QEMU=$QBUILD/qemu-system-x86_64
QOS=$QBUILD/tests/qtest/qos-test
[ -x "$QEMU" ] && [ -x "$QOS" ] ||
    die "bench-callgrind: build QEMU and qos-test first (make)"

if ! command -v valgrind >/dev/null 2>&1 ||
   ! command -v callgrind_annotate >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] ||
        die "valgrind is missing on the host: apt-get install valgrind (as root)"
    say "bench-callgrind: installing valgrind on the host (apt-get)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends valgrind >/dev/null ||
        die "apt-get install valgrind failed"
fi
record_version valgrind "$(valgrind --version)"

OUT=$SPLITNET_BUILD/bench/callgrind-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT/bin"

# libqtest takes the target from the binary's name.  qos-test first asks
# a `-machine none` QEMU what it offers: that one runs without valgrind.
cat > "$OUT/bin/qemu-system-x86_64" <<EOF
#!/bin/sh
case " \$* " in
*" -machine none "*) exec "$QEMU" "\$@" ;;
esac
exec valgrind -q --tool=callgrind --collect-atstart=no \$CG_TOGGLE \\
    --callgrind-out-file="\$CG_OUT" "$QEMU" "\$@"
EOF
chmod +x "$OUT/bin/qemu-system-x86_64"

# TX: the NIC's doorbell handlers and TX bottom halves.  RX: its receive
# callbacks.
toggles() {
    local f args=""
    case $2-$1 in
    tx-splitnet) set -- splitnet_mmio_write splitnet_tx_bh ;;
    tx-e1000e) set -- e1000e_mmio_write ;;
    tx-virtio-net) set -- virtio_pci_notify_write virtio_pci_config_write \
                          virtio_net_tx_bh virtio_net_tx_timer ;;
    rx-splitnet) set -- splitnet_nc_receive_iov splitnet_nc_can_receive ;;
    *) die "bench-callgrind: no $2 handler known for $1" ;;
    esac
    for f in "$@"; do args+=" --toggle-collect=$f"; done
    echo "$args"
}

# The qos path of the case (NIC SIZE tx|rx): the PC machine's.
case_path() {
    local p
    p=$(NIC_TX_COST_FRAMES=1 QTEST_QEMU_BINARY=$QEMU "$QOS" -l |
        sed -n 's|^\(# \)\{0,1\}\(/x86_64/pc/.*\)$|\2|p' |
        awk -v want="/$1/.*/$3-cost/$2\$" '!p && $0 ~ want { p = $0 }
                                           END { print p }')
    [ -n "$p" ] || die "bench-callgrind: qos-test has no $3-cost/$2 case for $1"
    echo "$p"
}

# Instructions executed in FUNC and its callees, or in total with "-".
# callgrind_annotate may list a function twice (by source path and by
# object): take the larger, never the sum.
count() {
    local file=$1 fn=$2
    callgrind_annotate --auto=no --inclusive=yes --threshold=100 "$file" |
        awk -v fn="$fn" '
            fn == "-" && /PROGRAM TOTALS/ { gsub(",", "", $1); n = $1 }
            fn != "-" && $0 ~ ":" fn "( |$)" {
                gsub(",", "", $1); if ($1 + 0 > n) n = $1 + 0 }
            END { print n + 0 }'
}

# run_case NIC SIZE N PATH tx|rx: callgrind.out.[rx-]NIC-SIZE-N
run_case() {
    local nic=$1 size=$2 n=$3 path=$4 dir=$5 tag=$1-$2-$3 out
    [ "$dir" = tx ] || tag=$dir-$tag
    out=$OUT/callgrind.out.$tag
    (cd "$QBUILD" &&
     NIC_TX_COST_FRAMES=$n CG_OUT=$out CG_TOGGLE=$(toggles "$nic" "$dir") \
     QTEST_QEMU_BINARY=$OUT/bin/qemu-system-x86_64 \
     "$QOS" -p "$path" > "$OUT/$tag.log" 2>&1) ||
        die "bench-callgrind: $dir $nic $size B x $n failed: ${OUT#"$SPLITNET_TOP"/}/$tag.log"
    [ -s "$out" ] || die "bench-callgrind: no callgrind output for $dir $nic $size B"
}

# measure NIC SIZE tx|rx: the case with LO and HI frames under callgrind;
# LOF and HIF name the two callgrind.out files.
measure() {
    local nic=$1 size=$2 dir=$3 path tag=$1-$2
    [ "$dir" = tx ] || tag=$dir-$tag
    path=$(case_path "$nic" "$size" "$dir")
    say "bench-callgrind: ${dir^^} $nic, $size B frames: $LO and $HI frames under callgrind"
    run_case "$nic" "$size" "$LO" "$path" "$dir"
    run_case "$nic" "$size" "$HI" "$path" "$dir"
    LOF=$OUT/callgrind.out.$tag-$LO
    HIF=$OUT/callgrind.out.$tag-$HI
    callgrind_annotate --auto=no --inclusive=yes "$HIF" > "$OUT/annotate-$tag.txt"
}

# per_frame FUNC|-: its instructions per frame between the two runs.
per_frame() {
    echo $(( ($(count "$HIF" "$1") - $(count "$LOF" "$1")) / (HI - LO) ))
}

declare -A COST NET RXCOST
IFS=, read -r -a nics <<<"$NICS"
IFS=, read -r -a sizes <<<"$SIZES"
# RX: splitnet only (the test drives no other NIC's RX ring).
rx_nics=()
if [ "$RX" = yes ] && [[ ",$NICS," == *,splitnet,* ]]; then
    rx_nics=(splitnet)
fi
start=$SECONDS
for nic in "${nics[@]}"; do
    for size in "${sizes[@]}"; do
        # virtio-net offers no TSO to a peer without a virtio-net header.
        [ "$size-$nic" = tso-virtio-net ] && continue
        measure "$nic" "$size" tx
        COST[$nic,$size]=$(per_frame -)
        NET[$nic,$size]=$(per_frame qemu_sendv_packet_async)
    done
done
for nic in "${rx_nics[@]}"; do
    for size in "${sizes[@]}"; do
        [ "$size" = tso ] && continue
        measure "$nic" "$size" rx
        RXCOST[$nic,$size]=$(per_frame -)
    done
done

ratio() {
    [ "${2:-0}" -gt 0 ] || { echo "-"; return; }
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'
}

{
    echo "Host instructions per transmitted frame (callgrind, qtest, -netdev sink;"
    echo "doorbell handler + TX bottom half, inclusive; ($HI - $LO frames) / $(( HI - LO )))"
    echo
    printf '%-12s %6s %12s %12s %10s %10s\n' NIC size instr/frame "net layer" "/floor" "/e1000e"
    for size in "${sizes[@]}"; do
        floor=${NET[splitnet,$size]:-0}
        if [ "$floor" -gt 0 ]; then
            printf '%-12s %6s %12s %12s %10s %10s\n' floor "$size" "$floor" "$floor" \
                "1.00x" "$(ratio "$floor" "${COST[e1000e,$size]:-0}")"
        fi
        for nic in "${nics[@]}"; do
            [ -n "${COST[$nic,$size]:-}" ] || continue
            printf '%-12s %6s %12s %12s %10s %10s\n' "$nic" "$size" \
                "${COST[$nic,$size]}" "${NET[$nic,$size]}" \
                "$(ratio "${COST[$nic,$size]}" "$floor")" \
                "$(ratio "${COST[$nic,$size]}" "${COST[e1000e,$size]:-0}")"
        done
    done
    if [ ${#rx_nics[@]} -gt 0 ]; then
        echo
        echo "Host instructions per received frame (socket netdev; receive callbacks)"
        echo
        printf '%-12s %6s %12s\n' NIC size instr/frame
        for size in "${sizes[@]}"; do
            for nic in "${rx_nics[@]}"; do
                [ -n "${RXCOST[$nic,$size]:-}" ] || continue
                printf '%-12s %6s %12s\n' "$nic" "$size" "${RXCOST[$nic,$size]}"
            done
        done
    fi
    echo
    echo "floor: qemu_sendv_packet_async() inclusive for splitnet's iovec;"
    echo "net layer: the same for each NIC's own frames.  Targets (issue 16):"
    echo "splitnet <= 1.5x the floor and <= 0.5x e1000e.  Took $(( SECONDS - start )) s."
} | tee "$OUT/results.txt"
say "bench-callgrind: ${OUT#"$SPLITNET_TOP"/}/ (results.txt, callgrind.out.*, annotate-*.txt)"
