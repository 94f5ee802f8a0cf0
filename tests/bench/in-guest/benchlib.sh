# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# Setup shared by the bench's in-guest scripts (pktgen.sh, iperf.sh),
# sourced after /lib/splitnet/guest.sh.  tests/bench/run.sh hands it over
# with the NIC's module; a script starts with
#
#     . /run/splitnet/files/benchlib.sh
#
# Environment: BENCH_NIC, BENCH_MODULE (see pktgen.sh).

# How a setup step fails; a script with a line to the host redefines it to
# tell the host too.
bench_fail() { fail "$*"; }

# bench_nic: load the NIC's driver and set IF to its interface.  No IPv6
# autoconfiguration traffic: the sink would count it.
bench_nic() {
    local m
    echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
    echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6
    for m in $BENCH_MODULE; do load_module "$m"; done
    # The one network interface (the harness adds no other NIC).
    IF=$(first_netdev) || bench_fail "$BENCH_MODULE registered no network interface"
}

# bench_link_up: bring IF up and wait up to 10 s for its carrier.
bench_link_up() {
    local i=0
    ip link set "$IF" up
    while [ "$(cat "/sys/class/net/$IF/carrier" 2>/dev/null)" != 1 ]; do
        i=$((i + 1))
        [ "$i" -le 100 ] || bench_fail "$IF has no carrier after 10 s"
        usleep 100000
    done
}
