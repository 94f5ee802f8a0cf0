# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: splitnet TX offloads: ethtool -k shows csum/TSO/TSO6/TSO-ECN on; 16 MiB guest->host (sha256) with all on and each off
#
# One boot on slirp (restrict=on).  The guest checks that the driver
# advertises the offloads, then serves the same 16 MiB with busybox httpd
# (sendfile, so the stack builds TSO frames) once with every offload on and
# once with each of tso, tx-tcp-ecn-segmentation, tx-tcp6-segmentation and
# tx (checksum, which takes TSO with it) turned off by ethtool -K; the host
# checks every copy's sha256, the guest the offload counters of each round.

reason=$(guest_splitnet_missing) && skip "$reason"

name=$TEST_NAME
mib=16
rounds="on tso-off ecn-off tso6-off csum-off"
port=$(guest_free_port)
guest_driver
guest_net_helpers
guest_env "MIB=$mib" "ROUNDS=$rounds"
guest_start "$name" offloads.sh \
    -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:5002" \
    -device splitnet,netdev=n0,romfile=
rc=0
for r in $rounds; do
    guest_http_g2h "$name" "g2h-$r" "$mib" \
        python3 "$SPLITNET_TOP/tests/guest/xfer.py" recv "$port" ||
        { rc=1; break; }
done
guest_finish "$name" 300 || rc=1
[ "$rc" = 0 ] || exit 1
diag "ethtool -k: $(guest_value "$name" "ethtool -k:")"
for r in $rounds; do
    diag "offloads $r: $(guest_value "$name" "offloads $r:")"
done
