# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: ring sizes (ethtool -G), interrupt moderation (ethtool -C) and
# the MTU change while a transfer runs, with
# tests/guest/cases/30-splitnet-reconfig.sh on the host.  On slirp
# (restrict=on), ports 5001 (host->guest) and 5002 (guest->host):
#
#   h2g-busy, g2h-busy   MIB MiB each way while churn runs: -G 64/512/256,
#                        -C 0/50/200, MTU 1500/4000/1500, again and again;
#                        each transfer completes intact (sha256) or fails
#                        cleanly (the host says which)
#   h2g, g2h             MIB MiB each way afterwards, sha256-checked
#
# Environment: H2G_SHA256, MIB (default 32).

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

: "${H2G_SHA256:?}"
MIB=${MIB:-32}
STOP=/run/splitnet/churn.stop

# churn: reconfigure the interface until $STOP exists; counts in churn.n.
churn() {
    local n=0
    while [ ! -e "$STOP" ]; do
        ethtool -G "$NET_IF" rx 64 tx 64 || fail "ethtool -G 64 failed"
        ethtool -C "$NET_IF" rx-usecs 50 tx-usecs 0 || fail "ethtool -C failed"
        ip link set "$NET_IF" mtu 4000 || fail "mtu 4000 failed"
        ethtool -G "$NET_IF" rx 512 tx 512 || fail "ethtool -G 512 failed"
        ip link set "$NET_IF" mtu 1500 || fail "mtu 1500 failed"
        ethtool -C "$NET_IF" rx-usecs 0 tx-usecs 200 || fail "ethtool -C failed"
        ethtool -G "$NET_IF" rx 256 tx 256 || fail "ethtool -G 256 failed"
        n=$((n + 1))
        echo "$n" > /run/splitnet/churn.n
        usleep 200000
    done
}

churn_start() { rm -f "$STOP"; echo 0 > /run/splitnet/churn.n; churn & CHURN_PID=$!; }
churn_stop() {
    touch "$STOP"
    wait "$CHURN_PID" || fail "reconfiguring failed (above)"
    log "$1: $(cat /run/splitnet/churn.n) rounds of -G/-C/MTU changes"
}

splitnet_up
dhcp "$NET_IF"
ping_ok 10.0.2.2 2
make_data /tmp/tx.bin "$MIB"
carrier0=$(cat "/sys/class/net/$NET_IF/carrier_changes")

log "--- host->guest while reconfiguring"
recv_start 5001 h2g-busy
churn_start
ready h2g-busy
wait "$RECV_PID" || true
churn_stop "host->guest"
log "sha256 host->guest during changes received $(cat /run/splitnet/h2g-busy.sum)"

log "--- guest->host while reconfiguring"
serve_start 5002 /tmp/tx.bin
churn_start
ready g2h-busy
wait "$SERVE_PID" || log "nc serving during changes ended with an error"
churn_stop "guest->host"
log "carrier changes: $(($(cat "/sys/class/net/$NET_IF/carrier_changes") - carrier0))"

log "--- afterwards"
ethtool -g "$NET_IF" | sed 's/^/guest: ethtool -g: /'
ping_ok 10.0.2.2 2
both_ways "" "after the changes"
rm -f /tmp/tx.bin
kernel_clean
