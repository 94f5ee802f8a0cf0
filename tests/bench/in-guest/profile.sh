# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest half of tests/bench/profile.sh: print the module symbols, then
# run pktgen on the NIC (as traffic.sh does) while the host profiles QEMU.
#
# Environment (from the host): BENCH_NIC, BENCH_MODULE (benchlib.sh),
# BENCH_TX_MAC, PROF_SIZE, PROF_BURST, PROF_SECS, BENCH_CLONE.

# shellcheck source=tests/bench/in-guest/benchlib.sh
. /run/splitnet/files/benchlib.sh

PG=/proc/net/pktgen
pg() { echo "$2" > "$PG/$1" || fail "pktgen: '$2' > $PG/$1 refused"; }

bench_nic
modprobe pktgen || fail "modprobe pktgen failed"
IF=$(bench_if "${BENCH_TX_MAC:?}") || fail "no interface with MAC $BENCH_TX_MAC"
bench_link_up "$IF"
pg kpktgend_0 rem_device_all
pg kpktgend_0 "add_device $IF"
pg "$IF" "delay 0"
pg "$IF" "clone_skb ${BENCH_CLONE:-0}"
pg "$IF" "dst 10.0.2.99"
pg "$IF" "dst_mac 52:54:00:00:00:99"
pg "$IF" "pkt_size ${PROF_SIZE:?}"
pg "$IF" "burst ${PROF_BURST:?}"

bench_kallsyms

pg "$IF" "count 20000"
echo start > "$PG/pgctrl"
log "warm-up done"

pg "$IF" "count 0"
ready go
echo start > "$PG/pgctrl" &
pid=$!
sleep "${PROF_SECS:?}"
echo stop > "$PG/pgctrl"
wait "$pid" || true
grep -A1 '^Result' "$PG/$IF" | sed 's/^/guest: pktgen: /'
