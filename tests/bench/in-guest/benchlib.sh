# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# Setup shared by the bench's in-guest scripts (traffic.sh, tcp.sh),
# sourced after /lib/splitnet/guest.sh.  tests/bench/run.sh hands it over
# with the NIC's module; a script starts with
#
#     . /run/splitnet/files/benchlib.sh
#
# Environment: BENCH_NIC (name, for the log), BENCH_MODULE (driver modules
# in load order: a .ko the host handed over, or modprobe).

# How a setup step fails; a script with a line to the host redefines it to
# tell the host too.
bench_fail() { fail "$*"; }

# bench_nic: load the NIC's driver.  No IPv6 autoconfiguration traffic:
# the sink would count it.
bench_nic() {
    local m
    echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
    echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6
    for m in $BENCH_MODULE; do load_module "$m"; done
}

# bench_if MAC: the interface with address MAC (a guest may have several
# NICs of the model under test, one per netdev); waits up to 10 s for it
# and fails without one.
bench_if() {
    local i=0 d
    while :; do
        for d in /sys/class/net/*; do
            if [ "$(cat "$d/address" 2>/dev/null)" = "$1" ]; then
                echo "${d##*/}"
                return 0
            fi
        done
        i=$((i + 1))
        [ "$i" -le 100 ] || return 1
        usleep 100000
    done
}

# bench_link_up IF: bring IF up and wait up to 10 s for its carrier.
bench_link_up() {
    local i=0
    ip link set "$1" up
    while [ "$(cat "/sys/class/net/$1/carrier" 2>/dev/null)" != 1 ]; do
        i=$((i + 1))
        [ "$i" -le 100 ] || bench_fail "$1 has no carrier after 10 s"
        usleep 100000
    done
}

# bench_kallsyms: the kernel's and the modules' text symbols, for
# tests/bench/profile.sh to name guest PCs (Debian's System.map is a
# placeholder, and modules sit where they were loaded), to the second
# serial port, a file on the host.
bench_kallsyms() {
    stty -F /dev/ttyS1 raw -echo
    grep -i ' t ' /proc/kallsyms > /dev/ttyS1
    log "kallsyms written"
}
