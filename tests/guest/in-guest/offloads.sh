# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: splitnet's TX offloads on slirp (restrict=on).  Checks that
# the driver advertises checksum and TSO offloads (ethtool -k), then for
# each round in ROUNDS turns one offload off (ethtool -K), serves MIB MiB
# with busybox httpd (sendfile: large writes, so the stack builds TSO
# frames) on port 5002 for the host, which checks the sha256, and checks
# from the device's counters which offloads the transfer used.
#
# Environment:
#   MIB      size of the data (default 16)
#   ROUNDS   e.g. "on tso-off ecn-off tso6-off csum-off"
# Host half: tests/guest/cases/27-splitnet-offloads.sh.  Tells the host
# "SPLITNET-READY: g2h-ROUND" when each transfer can start.

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

MIB=${MIB:-16}
FEATURES="tx-checksum-ip-generic tx-tcp-segmentation tx-tcp-ecn-segmentation tx-tcp6-segmentation"

# feature IF NAME: "on" or "off" as ethtool -k shows it.
feature() {
    ethtool -k "$1" | awk -v k="$2:" '$1 == k { print $2 }'
}

# expect_features IF on|off NAME...: each feature must be in that state.
expect_features() {
    local dev=$1 want=$2 f got
    shift 2
    for f in "$@"; do
        got=$(feature "$dev" "$f")
        [ "$got" = "$want" ] || fail "ethtool -k $dev: $f is '$got', not $want"
    done
}

# round_off ROUND: the ethtool -K arguments that turn the round's offload off.
round_off() {
    case $1 in
    on) ;;
    tso-off) echo tso off ;;
    ecn-off) echo tx-tcp-ecn-segmentation off ;;
    tso6-off) echo tx-tcp6-segmentation off ;;
    csum-off) echo tx off ;;
    *) fail "unknown round $1" ;;
    esac
}

all_on() {
    ethtool -K "$1" tx on tso on tx-tcp-ecn-segmentation on \
        tx-tcp6-segmentation on 2>/dev/null || true
    # shellcheck disable=SC2086 # a list of names
    expect_features "$1" on $FEATURES
}

# check_round ROUND CSUM TSO SEGS: what the counters must show.
check_round() {
    local r=$1 csum=$2 tso=$3 segs=$4
    case $r in
    on)
        [ "$tso" -gt 0 ] || fail "$r: no TSO frame"
        [ "$segs" -gt "$tso" ] || fail "$r: $tso TSO frames became $segs segments"
        ;;
    tso-off)
        [ "$tso" = 0 ] || fail "$r: $tso TSO frames with tso off"
        [ "$csum" -gt 0 ] || fail "$r: no checksum offload"
        ;;
    csum-off)
        [ "$tso" = 0 ] || fail "$r: $tso TSO frames with tx off"
        [ "$csum" = 0 ] || fail "$r: $csum checksum offloads with tx off"
        ;;
    esac
}

splitnet_up
dhcp "$NET_IF"
ping_ok 10.0.2.2 3
log "ethtool -k: $(ethtool -k "$NET_IF" | grep -E 'checksum|segmentation' | tr -s '\t\n ' ' ')"
# shellcheck disable=SC2086 # a list of names
expect_features "$NET_IF" on $FEATURES
mkdir -p /tmp/www
make_data /tmp/www/tx.bin "$MIB"

for r in ${ROUNDS:?}; do
    all_on "$NET_IF"
    # shellcheck disable=SC2046 # ethtool arguments
    [ "$r" = on ] || ethtool -K "$NET_IF" $(round_off "$r") ||
        fail "ethtool -K $NET_IF $(round_off "$r") failed"
    log "round $r: $(ethtool -k "$NET_IF" | grep -E 'tx-checksum-ip-generic|segmentation' | tr -s '\t\n ' ' ')"
    counters_snap tx_csum_frames tx_tso_frames tx_tso_segments tx_errors
    http_serve "g2h-$r"
    csum=$(counters_delta tx_csum_frames)
    tso=$(counters_delta tx_tso_frames)
    segs=$(counters_delta tx_tso_segments)
    errs=$(counters_delta tx_errors)
    log "offloads $r: csum_frames=$csum tso_frames=$tso tso_segments=$segs errors=$errs"
    [ "$errs" = 0 ] || fail "$r: $errs TX errors"
    check_round "$r" "$csum" "$tso" "$segs"
done
all_on "$NET_IF"
show_stats "$NET_IF"
ping_ok 10.0.2.2 2
rm -rf /tmp/www
kernel_clean
