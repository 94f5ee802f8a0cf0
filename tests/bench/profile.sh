#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Profile a guest's network path under TCG: which guest functions (and
# which parts of QEMU) the time per frame or per MB goes to, for each NIC.
#
#   tests/bench/profile.sh [--nics A,B,...] [--traffic T] [--size N]
#                          [--burst N] [--seconds N] [--top N]
#
# --traffic  pktgen (default): the guest's TX path, as the bench's tx
#            phase (pktgen into -netdev sink, a fresh skb per frame,
#            --size and --burst); the sink's frame count over the window
#            gives CPU microseconds per frame.
#            tap-g2h, tap-h2g: TCP (iperf3) from the guest to the host or
#            back, as the bench's tap tests: a tap with vnet_hdr=on in a
#            network namespace made here and removed at exit; the tap's
#            byte count over the window gives CPU microseconds per MB.
# --seconds  the length of the sampled window (default 10).
#
# Each NIC gets a guest booted with nokaslr.  While it sends or receives,
# host perf samples QEMU (cpu-clock), which runs with -perfmap so that
# perf can name each translated guest instruction by its guest PC; the
# guest's /proc/kallsyms then names the PCs.  Output in
# build/bench/profile-<timestamp>/ (README.md, "Profiling the guest").

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/guest/lib.sh
. "$HERE/../guest/lib.sh"
# shellcheck source=tests/bench/guests.sh
. "$HERE/guests.sh"

NICS=splitnet,e1000
TRAFFIC=pktgen
SIZE=1514
BURST=1
SECS=10
TOP=25
while [ $# -gt 0 ]; do
    case $1 in
    --nics) NICS=${2:?}; shift ;;
    --traffic) TRAFFIC=${2:?}; shift ;;
    --size) SIZE=${2:?}; shift ;;
    --burst) BURST=${2:?}; shift ;;
    --seconds) SECS=${2:?}; shift ;;
    --top) TOP=${2:?}; shift ;;
    -h|--help) sed -n '3,25s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done
[[ $SECS =~ ^[1-9][0-9]*$ ]] || die "--seconds takes a whole number > 0"
case $TRAFFIC in
pktgen|tap-g2h|tap-h2g) ;;
*) die "--traffic takes pktgen, tap-g2h or tap-h2g" ;;
esac

pkg_need linux-perf
guest_prepare
OUT=$SPLITNET_BUILD/bench/profile-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    guest_cleanup
    netns_cleanup
}
trap cleanup EXIT
if [ "$TRAFFIC" != pktgen ]; then
    pkg_need iperf3
    RAW=$OUT
    netns_setup
fi

KO=
if [[ ,$NICS, == *,splitnet* ]]; then
    bash "$SPLITNET_TOP/scripts/build-driver.sh" > "$OUT/build-driver.log" 2>&1 ||
        die "driver build failed (log: $OUT/build-driver.log)"
    KO=$OUT/splitnet.ko
    strip --strip-debug -o "$KO" "$SPLITNET_BUILD/guest/driver/splitnet.ko"
fi

# thread_times PID: per thread "NAME CPU-TICKS VOLUNTARY NONVOLUNTARY"
# (CPU time in clock ticks, context switches; proc(5)).
thread_times() {
    local t
    for t in /proc/"$1"/task/*; do
        awk -v comm="$(tr ' ' _ < "$t/comm")" '
            FILENAME ~ /stat$/ { sub(/.*\) /, ""); cpu = $12 + $13; next }
            /^voluntary_ctxt_switches/ { vol = $2 }
            /^nonvoluntary_ctxt_switches/ { nonvol = $2 }
            END { print comm, cpu, vol, nonvol }' "$t/stat" "$t/status"
    done
}

# start_pktgen NIC NAME QEMU-ARGS...: a guest that sends with pktgen into
# the sink.  pktgen runs 20 s longer than the window, which starts a
# second after it (time to spare for a slow host).
start_pktgen() {
    local nic=$1 name=$2
    shift 2
    nic_module_env "$nic"
    guest_env "BENCH_TX_MAC=$TX_MAC" "BENCH_CLONE=${BENCH_CLONE:-0}" \
        "PROF_SIZE=$SIZE" "PROF_BURST=$BURST" "PROF_SECS=$((SECS + 20))"
    guest_append nokaslr
    guest_qmp_on
    guest_start "$name" "$HERE/in-guest/profile.sh" "$@" \
        -netdev sink,id=sink0 -device "$(nic_device "$nic" sink0 nic0 "$TX_MAC")"
    guest_wait_for "$name" 'SPLITNET-READY: go' || die "guest $name did not start pktgen"
    sleep 1
}

# start_tap NIC NAME QEMU-ARGS...: a guest on the namespace's tap that
# serves one iperf3 test (the bench's in-guest/tcp.sh, which also writes
# the symbols), and the host's iperf3 client (IPERF_PID) for the window
# and 7 s more.  The window starts 2 s in, after TCP's slow start.
start_tap() {
    local nic=$1 name=$2 rev=()
    shift 2
    nic_module_env "$nic"
    guest_env BENCH_ROLE=a "BENCH_TESTS=$TRAFFIC" "BENCH_TAP_MAC=$TX_MAC" \
        BENCH_KALLSYMS=1
    guest_append nokaslr
    guest_netns "$NETNS"
    guest_start "$name" "$HERE/in-guest/tcp.sh" "$@" \
        -netdev tap,id=n1,ifname=sbtap0,script=no,downscript=no,vnet_hdr=on \
        -device "$(nic_device "$nic" n1 nic0 "$TX_MAC")"
    guest_ready "$name" "tcp-$TRAFFIC" || die "guest $name did not start iperf3"
    [ "$TRAFFIC" = tap-h2g ] || rev=(-R)
    timeout $((SECS + 60)) ip netns exec "$NETNS" iperf3 -c 10.0.3.15 -p 5201 \
        -t $((SECS + 7)) -J ${rev[@]+"${rev[@]}"} > "$OUT/$nic.iperf3.json" 2>&1 &
    IPERF_PID=$!
    sleep 2
}

# amount NAME: what the window is measured in: the sink's frames, or the
# bytes through the tap in the direction under test (the host's sends are
# the tap's TX, towards QEMU; the guest's are its RX).
amount() {
    local dir=tx
    case $TRAFFIC in
    pktgen)
        guest_qmp "$1" x-query-net-sinks |
            python3 -c 'import json, sys; print(json.load(sys.stdin)[0]["frames"])'
        return ;;
    tap-g2h) dir=rx ;;
    esac
    ip netns exec "$NETNS" cat "/sys/class/net/sbtap0/statistics/${dir}_bytes"
}

IFS=, read -r -a nic_list <<<"$NICS"
for nic in "${nic_list[@]}"; do
    name=profile-$nic
    # serial 1: the guest's /proc/kallsyms, into a file
    qemu=(-perfmap -name "$name,debug-threads=on" -serial mon:stdio
          -chardev "file,id=ksyms,path=$OUT/$nic.kallsyms" -serial chardev:ksyms)
    if [ "$TRAFFIC" = pktgen ]; then
        start_pktgen "$nic" "$name" "${qemu[@]}"
    else
        start_tap "$nic" "$name" "${qemu[@]}"
    fi
    pid=${GUEST_PIDS[$name]}
    a0=$(amount "$name")
    t0=$(date +%s.%N)
    thread_times "$pid" > "$OUT/$nic.threads0"
    # Beside the samples, per thread: context switches, and the system
    # calls with which QEMU's threads wait for and wake each other.
    perf stat --per-thread -x, -o "$OUT/$nic.events" -p "$pid" \
        -e sched:sched_switch,syscalls:sys_enter_futex \
        -e syscalls:sys_enter_ppoll,syscalls:sys_enter_write \
        -- sleep "$SECS" &
    stat_pid=$!
    perf record -q -F 1999 -e cpu-clock -p "$pid" -o "$OUT/$nic.perf.data" \
        -- sleep "$SECS" 2>/dev/null
    wait "$stat_pid"
    thread_times "$pid" > "$OUT/$nic.threads1"
    a1=$(amount "$name")
    t1=$(date +%s.%N)
    if [ "$TRAFFIC" != pktgen ]; then
        wait "$IPERF_PID" || die "iperf3 failed: $(head -c 300 "$OUT/$nic.iperf3.json")"
    fi
    guest_finish "$name" || die "guest $name failed (log: ${GUEST_LOGS[$name]})"
    perf script -i "$OUT/$nic.perf.data" -F comm,ip,sym,dso 2>/dev/null > "$OUT/$nic.samples"
    cp "/tmp/perf-$pid.map" "$OUT/$nic.perfmap" 2>/dev/null || true
    rm -f "/tmp/perf-$pid.map"
    cp "${GUEST_LOGS[$name]}" "$OUT/$nic.log"
    echo "$nic $((a1 - a0)) $(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" >> "$OUT/amounts"
done

if [ "$TRAFFIC" = pktgen ]; then
    set -- --unit frame --title "TX $SIZE B burst $BURST"
else
    set -- --unit MB --title "TCP over tap, $TRAFFIC"
fi
python3 "$HERE/profile-report.py" --dir "$OUT" --seconds "$SECS" --top "$TOP" \
    "$@" "${nic_list[@]}" | tee "$OUT/report.txt"
say "profile: $OUT"
