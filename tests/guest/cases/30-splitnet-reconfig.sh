# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: splitnet: ethtool -G/-C and MTU changes during 32 MiB each way (intact or cleanly failed), intact after
#
# One boot (tests/guest/in-guest/reconfig.sh): while 32 MiB go host->guest,
# then guest->host, the guest keeps changing ring sizes (a device reset
# each), interrupt moderation and the MTU.  Each of those transfers must
# complete with the right sha256 or fail cleanly (a short or broken
# connection, never wrong data); afterwards 32 MiB each way must be intact.

reason=$(guest_splitnet_missing) && skip "$reason"
mib=32
guest_xfer_setup "$TEST_NAME" "$mib"
guest_start "$TEST_NAME" reconfig.sh \
    -netdev "$XFER_NETDEV" \
    -device splitnet,netdev=n0,romfile=

host_side() {
    local gsum got out n sum
    guest_ready "$TEST_NAME" h2g-busy || return 1
    gsum=$(guest_made_sha256 "$TEST_NAME" /tmp/tx.bin)
    if host_send "$XFER_P1" "$XFER_DATA" 300 >/dev/null; then
        guest_ready "$TEST_NAME" g2h-busy || return 1
        got=$(guest_value "$TEST_NAME" 'sha256 host->guest during changes received')
        [ "$got" = "$XFER_SHA256" ] || { say "host->guest during changes: sha256 $got, sent $XFER_SHA256"; return 1; }
        diag "host->guest $mib MiB during changes: complete, sha256 matches"
    else
        diag "host->guest during changes: the connection failed (clean failure)"
    fi
    guest_ready "$TEST_NAME" g2h-busy || return 1
    if out=$(host_recv "$XFER_P2" 300); then
        read -r _ n _ sum <<<"$out"
        [ "$n" = "$((mib * 1048576))" ] && [ "$sum" = "$gsum" ] ||
            { say "guest->host during changes: $n bytes sha256 $sum, sent $gsum"; return 1; }
        diag "guest->host $mib MiB during changes: complete, sha256 matches"
    else
        diag "guest->host during changes: the connection failed (clean failure)"
    fi
    guest_both_ways "$TEST_NAME" "" "$gsum" || return 1
    diag "afterwards: $mib MiB each way, sha256 match"
}

rc=0
host_side || rc=1
guest_conclude "$TEST_NAME" "$rc" '.*rounds of .*\|carrier changes.*'
