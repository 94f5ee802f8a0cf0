# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest half of tests/bench/run.sh's TCP test: an iperf3 server on the
# NIC under test, behind slirp (restrict=on).  The host connects in through
# hostfwd on 127.0.0.1 and runs `iperf3 -R`, so the guest sends.
#
# Environment: BENCH_NIC, BENCH_MODULE (see pktgen.sh).

echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6

for m in $BENCH_MODULE; do load_module "$m"; done

IF=$(first_netdev) || fail "$BENCH_MODULE registered no network interface"

# slirp's default network; the host reaches 10.0.2.15 through hostfwd.
ip addr add 10.0.2.15/24 dev "$IF"
ip link set "$IF" up
i=0
while [ "$(cat "/sys/class/net/$IF/carrier" 2>/dev/null)" != 1 ]; do
    i=$((i + 1))
    [ "$i" -le 100 ] || fail "$IF has no carrier after 10 s"
    usleep 100000
done
log "$IF up as 10.0.2.15 ($BENCH_NIC)"

iperf3 -s -1 -p 5201 > /tmp/iperf3.log 2>&1 &
pid=$!
usleep 300000
ready iperf
rc=0
wait "$pid" || rc=$?
sed 's/^/guest: iperf3: /' /tmp/iperf3.log | tail -n 6
[ "$rc" = 0 ] || fail "iperf3 server exited with $rc"
