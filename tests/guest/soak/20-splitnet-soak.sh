# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: SOAK_SECONDS (600) of traffic both ways between two splitnet guests through a relay that stalls: TCP streams (sha256) and numbered pktgen frames of random sizes
#
# The guests' stream netdevs meet in tests/guest/peer.py, which passes
# frames both ways and stops reading each way for 2 s every 20 s.  In the
# guests: in-guest/soak.sh.  Checked: every stream's sha256 on both ends;
# every pktgen frame once, in order, intact; the frames the relay read from
# each guest are the frames its device counted; device and driver counters
# agree; no checksum error in the receiving kernels; clean kernel logs.

reason=$(guest_splitnet_missing) && skip "$reason"
secs=${SOAK_SECONDS:-600}
guest_peer_start "$TEST_NAME" relay --pause-period 20 --pause 2
for role in a b; do
    guest_driver
    guest_net_helpers
    guest_env "ROLE=$role" "SOAK_SECONDS=$secs"
    port=${PEER_PORTS[0]}
    [ "$role" = b ] && port=${PEER_PORTS[1]}
    guest_start "$TEST_NAME-$role" soak.sh \
        -netdev "stream,id=n0,server=off,addr.type=inet,addr.host=127.0.0.1,addr.port=$port" \
        -device "splitnet,netdev=n0,romfile=,mac=52:54:00:77:00:0$([ "$role" = a ] && echo 1 || echo 2)"
done
rc=0
guest_finish "$TEST_NAME-b" $((secs + 900)) || rc=1
guest_finish "$TEST_NAME-a" 300 || rc=1
guest_peer_finish "$TEST_NAME"
[ "$rc" = 0 ] || die "a guest failed"
rounds=0
for dir in a2b b2a; do
    from=$TEST_NAME-${dir%2*} to=$TEST_NAME-${dir#*2}
    k=0
    while tx=$(guest_value "$from" "sha256 tx-$dir-$k") && [ -n "$tx" ]; do
        rx=$(guest_value "$to" "sha256 rx-$dir-$k")
        [ "$rx" = "$tx" ] || die "$dir round $k: received sha256 $rx, sent $tx"
        k=$((k + 1))
    done
    [ "$k" -gt 0 ] || die "$dir: no transfer"
    rounds=$k
done
side=0
for role in a b; do
    g=$TEST_NAME-$role
    read -r sent errors <<<"$(guest_value "$g" 'pktgen: sent errors')"
    guest_peer_check "$side" "$sent" "$g"
    diag "$role: $(guest_value "$g" 'soak:'); pktgen $sent frames ($errors errors); $(guest_value "$g" snmp)"
    diag "$role: $(guest_value "$g" counters)"
    diag "$role: the relay waited at most $(peer_value "$side" read_wait_s) s for its QEMU to send (at $(peer_value "$side" read_wait_at_s) s), at most $(peer_value "$side" write_wait_s) s for the other QEMU to take a frame"
    side=$((side + 1))
done
diag "$rounds rounds each way, every stream's sha256 equal on both ends; relay ran $(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["seconds"])' "$PEER_OUT") s"
