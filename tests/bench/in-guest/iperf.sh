# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest half of tests/bench/run.sh's TCP test: an iperf3 server on the
# NIC under test, behind slirp (restrict=on).  The host connects in through
# hostfwd on 127.0.0.1 and runs `iperf3 -R`, so the guest sends.
#
# Environment: BENCH_NIC, BENCH_MODULE (see pktgen.sh).

# shellcheck source=tests/bench/in-guest/benchlib.sh
. /run/splitnet/files/benchlib.sh

bench_nic
# slirp's default network; the host reaches 10.0.2.15 through hostfwd.
ip addr add 10.0.2.15/24 dev "$IF"
bench_link_up
log "$IF up as 10.0.2.15 ($BENCH_NIC)"

iperf3 -s -1 -p 5201 > /tmp/iperf3.log 2>&1 &
pid=$!
usleep 300000
ready iperf
rc=0
wait "$pid" || rc=$?
sed 's/^/guest: iperf3: /' /tmp/iperf3.log | tail -n 6
[ "$rc" = 0 ] || fail "iperf3 server exited with $rc"
