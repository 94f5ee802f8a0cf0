# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: splitnet: rmmod mid-transfer (TX and RX), insmod, link down/up; 64 MiB each way after
#
# One boot (tests/guest/in-guest/reload.sh): unload the driver while it
# sends and while it receives (those transfers fail, as they must), load it
# again, DHCP, then 64 MiB each way with sha256 checks; then ip link down/up,
# DHCP, and 64 MiB each way again.

reason=$(guest_splitnet_missing) && skip "$reason"
mib=64
guest_xfer_setup "$TEST_NAME" "$mib"
guest_start "$TEST_NAME" reload.sh \
    -netdev "$XFER_NETDEV" \
    -device splitnet,netdev=n0,romfile=

# The host's part, step by step; returns 1 at the first step that fails.
host_side() {
    local cut gsum
    guest_ready "$TEST_NAME" g2h-cut || return 1
    host_recv "$XFER_P2" 300 >/dev/null 2>&1 &
    cut=$!
    guest_ready "$TEST_NAME" h2g-cut || { end_of "$cut"; return 1; }
    end_of "$cut"
    say "guest->host was cut short by rmmod, as it should"
    host_send "$XFER_P1" "$XFER_DATA" 300 >/dev/null 2>&1 &
    cut=$!
    guest_ready "$TEST_NAME" h2g || { end_of "$cut"; return 1; }
    end_of "$cut"
    say "host->guest was cut short by rmmod, as it should"
    gsum=$(guest_made_sha256 "$TEST_NAME" /tmp/tx.bin)
    guest_both_ways "$TEST_NAME" "" "$gsum" || return 1
    diag "after rmmod/insmod: host->guest $mib MiB sha256 $XFER_SHA256 (checked in the guest)"
    diag "after rmmod/insmod: guest->host $mib MiB sha256 $G2H_SHA256 (= the guest's)"
    guest_both_ways "$TEST_NAME" "-link" "$gsum" || return 1
    diag "after ip link down/up: $mib MiB each way, sha256 match"
}

rc=0
host_side || rc=1
guest_conclude "$TEST_NAME" "$rc" 'rmmod splitnet took.*'
