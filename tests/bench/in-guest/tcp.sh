# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest half of tests/bench/run.sh's TCP tests (iperf3), in a network
# namespace the host made for them.  Two roles:
#
#   a   the guest under test, with one NIC per link: slirp (10.0.2.15,
#       restrict=on, the host connects through hostfwd on the namespace's
#       127.0.0.1), tap (10.0.3.15; the tap is 10.0.3.2 in the namespace)
#       and a stream netdev to guest b (10.0.4.1).  It runs one iperf3
#       server per test in BENCH_TESTS, in that order: "g2g" is guest b's
#       client, every other test a client on the host, which waits for
#       "SPLITNET-READY: tcp-TEST".
#   b   the other end of the stream (10.0.4.2): runs `iperf3 -c 10.0.4.1`
#       for BENCH_SECS seconds once a listens, and logs
#       "iperf g2g mbps N" (what a received).
#
# These addresses exist only on emulated links and in the namespace.
# Environment: BENCH_NIC, BENCH_MODULE (see benchlib.sh), BENCH_ROLE,
# BENCH_SECS; for a: BENCH_TESTS, BENCH_SLIRP_MAC, BENCH_TAP_MAC,
# BENCH_G2G_MAC (a link without a MAC is not there), BENCH_KALLSYMS=1 to
# write the symbols first (tests/bench/profile.sh); for b: BENCH_G2G_MAC.

# shellcheck source=tests/bench/in-guest/benchlib.sh
. /run/splitnet/files/benchlib.sh

# link_up MAC ADDR/LEN: the NIC with MAC gets ADDR.
link_up() {
    local ifc
    ifc=$(bench_if "$1") || fail "$BENCH_MODULE registered no interface with MAC $1"
    ip addr add "$2" dev "$ifc"
    bench_link_up "$ifc"
    log "$ifc ($1) up as $2 ($BENCH_NIC)"
}

bench_nic
case $BENCH_ROLE in
a)
    [ -z "${BENCH_SLIRP_MAC:-}" ] || link_up "$BENCH_SLIRP_MAC" 10.0.2.15/24
    [ -z "${BENCH_TAP_MAC:-}" ] || link_up "$BENCH_TAP_MAC" 10.0.3.15/24
    [ -z "${BENCH_G2G_MAC:-}" ] || link_up "$BENCH_G2G_MAC" 10.0.4.1/24
    [ "${BENCH_KALLSYMS:-}" != 1 ] || bench_kallsyms
    for t in $BENCH_TESTS; do
        iperf3 -s -1 -p 5201 > "/tmp/iperf3-$t.log" 2>&1 &
        pid=$!
        usleep 300000
        [ "$t" = g2g ] || ready "tcp-$t"
        rc=0
        wait "$pid" || rc=$?
        sed "s/^/guest: iperf3 $t: /" "/tmp/iperf3-$t.log" | tail -n 4
        [ "$rc" = 0 ] || fail "iperf3 server for $t exited with $rc"
    done
    # For a look at where the time went: the device's counters per link.
    for mac in ${BENCH_SLIRP_MAC:-} ${BENCH_TAP_MAC:-} ${BENCH_G2G_MAC:-}; do
        ifc=$(bench_if "$mac") || continue
        ethtool -S "$ifc" 2>/dev/null | sed "s/^ */guest: ethtool -S $ifc: /"
    done
    ;;
b)
    link_up "$BENCH_G2G_MAC" 10.0.4.2/24
    # a boots at the same time: try until its server answers.
    i=0
    until iperf3 -c 10.0.4.1 -p 5201 -t "$BENCH_SECS" -f m > /tmp/iperf3.log 2>&1; do
        i=$((i + 1))
        [ "$i" -lt 60 ] || { cat /tmp/iperf3.log; fail "no iperf3 server at 10.0.4.1"; }
        sleep 1
    done
    sed 's/^/guest: iperf3: /' /tmp/iperf3.log | tail -n 4
    mbps=$(awk '/receiver$/ { for (i = 2; i <= NF; i++)
                                  if ($i == "Mbits/sec") print $(i - 1) }' /tmp/iperf3.log)
    [ -n "$mbps" ] || fail "no receiver line in iperf3's output"
    log "iperf g2g mbps $mbps"
    ;;
*) fail "unknown BENCH_ROLE '$BENCH_ROLE'" ;;
esac
