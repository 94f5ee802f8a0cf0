# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: splitnet on a tap inside a network namespace the host test
# made (10.77.0.1 there, GUEST_IP here; both exist only in that
# namespace).  For each round in ROUNDS (see round_off), MIB MiB
# host->guest on port 5001 (sha256 checked here) and guest->host on 5002
# (busybox httpd, sendfile, so the stack builds TSO frames; the host checks
# the sha256), and the device's counters: every offload the round leaves on
# must have been used, through the tap's virtio-net header (TSO frames and
# checksum requests passed whole, none segmented or summed by the device;
# the host's large segments received whole, with their checksum status),
# and every offload it turns off must not have been.
#
# Environment: GUEST_IP (address/prefix), MIB, ROUNDS, H2G_SHA256.
# Host half: tests/guest/cases/31-splitnet-tap.sh.

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

MIB=${MIB:-32}
: "${GUEST_IP:?}" "${H2G_SHA256:?}" "${ROUNDS:?}"

# round_off ROUND: the ethtool -K arguments that turn the round's offloads
# off (tx off takes TSO with it, rx off large receive).
round_off() {
    case $1 in
    on) ;;
    tso-off) echo tso off ;;
    csum-off) echo tx off ;;
    gro-off) echo rx-gro-hw off ;;
    rx-off) echo rx off ;;
    off) echo tx off tso off rx off rx-gro-hw off ;;
    *) fail "unknown round $1" ;;
    esac
}

# round_has ROUND OFFLOAD: true if OFFLOAD (tso, csum, rxcsum, gro) stays on.
round_has() {
    case $1:$2 in
    off:*) return 1 ;;
    tso-off:tso | csum-off:tso | csum-off:csum) return 1 ;;
    rx-off:rxcsum | rx-off:gro | gro-off:gro) return 1 ;;
    esac
    return 0
}

offloads() {
    ethtool -K "$NET_IF" tx on tso on rx on rx-gro-hw on ||
        fail "ethtool -K $NET_IF tx tso rx rx-gro-hw on failed"
    # shellcheck disable=SC2046 # ethtool arguments
    [ "$1" = on ] || ethtool -K "$NET_IF" $(round_off "$1") ||
        fail "ethtool -K $NET_IF $(round_off "$1") failed"
    log "round $1: $(ethtool -k "$NET_IF" | grep -E 'tx-checksum-ip-generic|tcp-segmentation:|rx-checksumming|rx-gro-hw' | tr -s '\t\n ' ' ')"
}

# used ROUND OFFLOAD COUNT: COUNT frames used OFFLOAD; right if and only if
# the round left it on.
used() {
    if round_has "$1" "$2"; then
        [ "$3" -gt 0 ] || fail "$1: $2 is on but was not used"
    else
        [ "$3" = 0 ] || fail "$1: $2 is off but $3 frames used it"
    fi
}

# check_rx ROUND CSUM GSO DROPS: what the RX counters must show.
check_rx() {
    [ "$4" = 0 ] || fail "$1: $4 frames dropped for offloads"
    used "$1" rxcsum "$2"
    used "$1" gro "$3"
    [ "$2" -ge "$3" ] || fail "$1: $2 frames with a checksum status, $3 large"
}

# check_round ROUND GSO_PASS CSUM_PASS TSO CSUM: what the TX counters must
# show: on a tap, offloads pass through, the device does none itself.
check_round() {
    used "$1" tso "$2"
    used "$1" csum "$3"
    [ "$4" = 0 ] && [ "$5" = 0 ] ||
        fail "$1: the device segmented $4 and summed $5 frames itself"
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
