#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Profile a guest's TX path under TCG: which guest functions (and which
# parts of QEMU) the time per frame goes to, for each NIC.
#
#   tests/bench/profile.sh [--nics A,B,...] [--size N] [--burst N]
#                          [--seconds N] [--top N]
#
# --seconds is the length of the sampled window (default 10).
#
# Each NIC gets a guest like the bench's tx phase (pktgen into -netdev
# sink, a fresh skb per frame), booted with nokaslr.  While pktgen runs,
# host perf samples QEMU (cpu-clock), which runs with -perfmap so that
# perf can name each translated guest instruction by its guest PC; the
# guest's /proc/kallsyms then names the PCs.  The sink's frame count over
# the window gives the frames, so each row is CPU microseconds per frame.
# Output in build/bench/profile-<timestamp>/ (README.md, "Profiling the
# guest").

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/guest/lib.sh
. "$HERE/../guest/lib.sh"
# shellcheck source=tests/bench/guests.sh
. "$HERE/guests.sh"

NICS=splitnet,e1000
SIZE=1514
BURST=1
SECS=10
TOP=25
while [ $# -gt 0 ]; do
    case $1 in
    --nics) NICS=${2:?}; shift ;;
    --size) SIZE=${2:?}; shift ;;
    --burst) BURST=${2:?}; shift ;;
    --seconds) SECS=${2:?}; shift ;;
    --top) TOP=${2:?}; shift ;;
    -h|--help) sed -n '3,19s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done
[[ $SECS =~ ^[1-9][0-9]*$ ]] || die "--seconds takes a whole number > 0"

pkg_need linux-perf
guest_prepare
OUT=$SPLITNET_BUILD/bench/profile-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"
trap guest_cleanup EXIT

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

IFS=, read -r -a nic_list <<<"$NICS"
for nic in "${nic_list[@]}"; do
    name=profile-$nic
    nic_module_env "$nic"
    guest_env "BENCH_TX_MAC=$TX_MAC" "BENCH_CLONE=${BENCH_CLONE:-0}" \
        "PROF_SIZE=$SIZE" "PROF_BURST=$BURST" "PROF_SECS=$((SECS + 20))"
    guest_append nokaslr
    guest_qmp_on
    # serial 1: the guest's /proc/kallsyms, into a file
    guest_start "$name" "$HERE/in-guest/profile.sh" -perfmap \
        -name "$name,debug-threads=on" \
        -serial mon:stdio -chardev "file,id=ksyms,path=$OUT/$nic.kallsyms" \
        -serial chardev:ksyms -netdev sink,id=sink0 -device "$(nic_device "$nic" sink0 nic0 "$TX_MAC")"
    guest_wait_for "$name" 'SPLITNET-READY: go' || die "guest $name did not start pktgen"
    pid=${GUEST_PIDS[$name]}
    # pktgen runs 20 s longer than the window, which starts a second after
    # it (time to spare for a slow host).
    sleep 1
    f0=$(guest_qmp "$name" x-query-net-sinks)
    thread_times "$pid" > "$OUT/$nic.threads0"
    # Beside the samples, per thread: context switches, and the system
    # calls with which QEMU's threads wait for and wake each other.
    perf stat --per-thread -x, -o "$OUT/$nic.events" -p "$pid" \
        -e sched:sched_switch,syscalls:sys_enter_futex \
        -e syscalls:sys_enter_ppoll,syscalls:sys_enter_write \
        -- sleep "$SECS" &
    perf record -q -F 1999 -e cpu-clock -p "$pid" -o "$OUT/$nic.perf.data" \
        -- sleep "$SECS" 2>/dev/null
    wait $!
    thread_times "$pid" > "$OUT/$nic.threads1"
    f1=$(guest_qmp "$name" x-query-net-sinks)
    guest_finish "$name" || die "guest $name failed (log: ${GUEST_LOGS[$name]})"
    frames=$(python3 -c 'import json, sys
print(json.loads(sys.argv[2])[0]["frames"] - json.loads(sys.argv[1])[0]["frames"])' "$f0" "$f1")
    perf script -i "$OUT/$nic.perf.data" -F comm,ip,sym,dso 2>/dev/null > "$OUT/$nic.samples"
    cp "/tmp/perf-$pid.map" "$OUT/$nic.perfmap" 2>/dev/null || true
    rm -f "/tmp/perf-$pid.map"
    echo "$nic $frames" >> "$OUT/frames"
done

python3 "$HERE/profile-report.py" --dir "$OUT" --seconds "$SECS" --top "$TOP" \
    --title "TX $SIZE B burst $BURST" "${nic_list[@]}" | tee "$OUT/report.txt"
say "profile: $OUT"
