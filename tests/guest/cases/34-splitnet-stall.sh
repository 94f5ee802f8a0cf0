# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: pktgen through splitnet into a stream peer that stops reading 3 times for 3 s, the VM stopped and continued while held back: every frame arrives once, in order
#
# The peer (tests/guest/peer.py) reads QEMU's stream framing on 127.0.0.1
# and checks pktgen's sequence numbers.  Nothing may be lost, repeated or
# reordered; the frames it read must be the frames the device counted and
# the frames pktgen counted; the device must have held frames back.  While
# it does, the host stops and continues the VM (QMP stop/cont): the net
# layer then gives the held frame back unsent, and the device must send it
# again once, whole.

reason=$(guest_splitnet_missing) && skip "$reason"
guest_peer_start "$TEST_NAME" sink --pause-every 20000 --pauses 3 --pause 3
guest_driver
guest_net_helpers
guest_env FRAMES=100000 SIZE=1000
guest_qmp_on
guest_start "$TEST_NAME" stall.sh \
    -netdev "stream,id=n0,server=off,addr.type=inet,addr.host=127.0.0.1,addr.port=${PEER_PORTS[0]}" \
    -device splitnet,id=nic0,netdev=n0,romfile=,mac=52:54:00:78:00:01
for i in 1 2 3; do
    guest_wait_stat "$TEST_NAME" nic0 tx0 stalls "$i"
    guest_qmp "$TEST_NAME" stop >/dev/null
    guest_qmp "$TEST_NAME" cont >/dev/null
done
guest_finish "$TEST_NAME" 300
guest_peer_finish "$TEST_NAME"
read -r sent errors <<<"$(guest_value "$TEST_NAME" 'pktgen: sent errors' | awk '{ print $1, $2 }')"
guest_peer_check 0 "$sent" "$TEST_NAME"
[ "$errors" = 0 ] || die "pktgen counted $errors errors"
diag "pktgen sent $sent frames of 1000 bytes (its count), $(guest_value "$TEST_NAME" counters)"
