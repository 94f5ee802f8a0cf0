# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: two 4-vCPU guests on splitnet queues=4 over a 127.0.0.1 stream: 8 concurrent TCP streams spread over the RX queue pairs (sha256), iperf3 with 1 and 4 pairs, ethtool -L 4/1/4 under traffic (sha256)
#
# Static addresses 192.168.77.1/2 exist only on the emulated link between
# the two QEMUs; nothing leaves the machine.  The per-queue counters and
# the throughput figures go to the TAP output.

reason=$(guest_splitnet_missing) && skip "$reason"
port=$(guest_free_port)
export SPLITNET_GUEST_SMP=4
for role in a b; do
    guest_driver
    guest_net_helpers
    guest_env "ROLE=$role" STREAMS=8 MIB=2 MIB2=16
    if [ "$role" = a ]; then
        netdev=stream,id=n0,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=$port
        mac=52:54:00:77:00:01
    else
        netdev=stream,id=n0,server=off,reconnect-ms=200,addr.type=inet,addr.host=127.0.0.1,addr.port=$port
        mac=52:54:00:77:00:02
    fi
    guest_start "$TEST_NAME-$role" mq.sh -netdev "$netdev" \
        -device "splitnet,netdev=n0,romfile=,mac=$mac,queues=4"
done
rc=0
guest_finish "$TEST_NAME-b" 1200 || rc=1
guest_finish "$TEST_NAME-a" 300 || rc=1
[ "$rc" = 0 ] || exit 1

a=$TEST_NAME-a b=$TEST_NAME-b
diag "a: $(guest_value "$a" "rx queue frames during the streams:")"
diag "a: pairs that took at least 100 frames: $(guest_value "$a" "pairs that took at least 100 frames:")"
made=$(guest_made_sha256 "$b" /tmp/tx.bin)
[ -n "$made" ] || { say "b logged no sha256 of /tmp/tx.bin"; exit 1; }
for i in $(seq 8); do
    got=$(guest_value "$a" "sha256 stream-$i")
    [ "$got" = "$made" ] || { say "stream $i: a received sha256 $got, b sent $made"; exit 1; }
done
diag "8 streams of 2 MiB: sha256 $made on all (match)"
for n in 1 4; do
    diag "b -> a iperf3 -P 4, $n queue pair(s): $(guest_value "$b" "throughput $n queue pair(s):")"
done
made=$(guest_made_sha256 "$b" /tmp/big.bin)
got=$(guest_value "$a" "sha256 lswitch")
[ -n "$made" ] && [ "$got" = "$made" ] ||
    { say "through ethtool -L: a received sha256 $got, b sent $made"; exit 1; }
diag "16 MiB through ethtool -L combined 1/4 twice: sha256 $got (match)"
