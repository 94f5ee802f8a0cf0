# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: splitnet on a tap inside a network namespace the host test
# made (10.77.0.1 there, GUEST_IP here; both exist only in that
# namespace).  For each round in ROUNDS ("on": every offload on; "off":
# ethtool -K tx off tso off rx off, which restarts the device without the
# RX features), MIB MiB host->guest on port 5001 (sha256 checked here) and
# guest->host on 5002 (busybox httpd, sendfile, so the stack builds TSO
# frames; the host checks the sha256), and the device's counters: with
# offloads on, the host's large segments must have arrived whole
# (rx_gso_frames) with their checksum status (rx_csum_frames), and TSO
# frames must have gone to the tap whole (tx_gso_passthrough), none
# segmented by the device; with them off, no offload of any kind.
#
# Environment: GUEST_IP (address/prefix), MIB, ROUNDS, H2G_SHA256.
# Host half: tests/guest/cases/31-splitnet-tap.sh.

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

MIB=${MIB:-32}
: "${GUEST_IP:?}" "${H2G_SHA256:?}" "${ROUNDS:?}"

offloads() {
    ethtool -K "$NET_IF" tx "$1" tso "$1" rx "$1" rx-gro-hw "$1" ||
        fail "ethtool -K $NET_IF tx tso rx rx-gro-hw $1 failed"
    log "round $r: $(ethtool -k "$NET_IF" | grep -E 'tx-checksum-ip-generic|tcp-segmentation:|rx-checksumming|rx-gro-hw' | tr -s '\t\n ' ' ')"
}

# check_rx ROUND CSUM GSO DROPS: what the RX counters must show.
check_rx() {
    [ "$4" = 0 ] || fail "$1: $4 frames dropped for offloads"
    case $1 in
    on)
        [ "$3" -gt 0 ] || fail "on: no large frame received whole"
        [ "$2" -ge "$3" ] || fail "on: $2 frames with a checksum status, $3 large"
        ;;
    off)
        [ "$2" = 0 ] && [ "$3" = 0 ] ||
            fail "off: RX offloads used (csum $2 gso $3)"
        ;;
    esac
}

# check_round ROUND GSO_PASS CSUM_PASS TSO CSUM: what the counters must show.
check_round() {
    case $1 in
    on)
        [ "$2" -gt 0 ] || fail "on: no TSO frame passed to the tap whole"
        [ "$4" = 0 ] || fail "on: the device segmented $4 TSO frames itself"
        ;;
    off)
        [ "$2" = 0 ] && [ "$3" = 0 ] && [ "$4" = 0 ] && [ "$5" = 0 ] ||
            fail "off: offloads used (gso_pass $2 csum_pass $3 tso $4 csum $5)"
        ;;
    *) fail "unknown round $1" ;;
    esac
}

splitnet_up
static_ip "$NET_IF" "$GUEST_IP"
wait_ping 10.77.0.1 30
mkdir -p /tmp/www
make_data /tmp/www/tx.bin "$MIB"

for r in $ROUNDS; do
    offloads "$r"
    counters_snap rx_csum_frames rx_gso_frames rx_offload_drops
    recv_start 5001 "h2g-$r"
    ready "h2g-$r"
    recv_wait "h2g-$r" "$H2G_SHA256" "h2g-$r"
    rcsum=$(counters_delta rx_csum_frames)
    rgso=$(counters_delta rx_gso_frames)
    rdrop=$(counters_delta rx_offload_drops)
    log "rx offloads $r: rx_csum_frames=$rcsum rx_gso_frames=$rgso rx_offload_drops=$rdrop"
    check_rx "$r" "$rcsum" "$rgso" "$rdrop"

    counters_snap tx_gso_passthrough tx_csum_passthrough tx_tso_frames \
        tx_csum_frames tx_errors
    http_serve "g2h-$r"
    gso=$(counters_delta tx_gso_passthrough)
    cpass=$(counters_delta tx_csum_passthrough)
    tso=$(counters_delta tx_tso_frames)
    csum=$(counters_delta tx_csum_frames)
    errs=$(counters_delta tx_errors)
    log "offloads $r: gso_passthrough=$gso csum_passthrough=$cpass tso_frames=$tso csum_frames=$csum errors=$errs"
    [ "$errs" = 0 ] || fail "$r: $errs TX errors"
    check_round "$r" "$gso" "$cpass" "$tso" "$csum"
done
offloads on
show_stats "$NET_IF"
rm -rf /tmp/www
kernel_clean
