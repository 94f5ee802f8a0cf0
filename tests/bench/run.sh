#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# splitnet's NIC benchmark (`make bench`): boot the test guest once per NIC
# on the same QEMU binary and kernel, one NIC after another, and compare
# splitnet with virtio-net-pci, e1000e, e1000 and vmxnet3:
#
#   1. Linux pktgen in the guest into `-netdev sink` (which counts and drops
#      every frame): 60-byte frames and 1514-byte frames with burst 1, and
#      60-byte frames with burst 32 (xmit_more), each for a fixed time after
#      a warm-up.  Guest pps and Mbit/s come from pktgen; the host reads the
#      sink's frame count over QMP (x-query-net-sinks) before and after each
#      phase to check that the frames really reached the host.
#   2. Cost per frame as the guest sees it: the NIC's interrupts per frame
#      (/proc/interrupts); doorbells per frame where countable (splitnet:
#      the device's QOM `stats`, virtio-net: ethtool -S kicks).
#   3. TCP guest->host with iperf3 through slirp hostfwd on 127.0.0.1
#      (slirp is the likely bottleneck; the output says so).
#
# It prints one table with ratios splitnet/NIC and saves
# build/bench/results-<timestamp>.{txt,json} (raw per-NIC data in
# build/bench/raw-<timestamp>/, guest logs in build/guest/logs/bench-*.log).
# It reports speed and never fails on it, but it fails when a NIC sent
# nothing, when the sink did not see the frames, or when a guest failed; and
# it stops at once when splitnet's driver cannot be built.
#
# Usage: tests/bench/run.sh [--nics A,B,...] [--seconds N] [--warmup N]
#                           [--no-iperf] [--iperf-seconds N] [--no-burst]
#                           [--rounds N] [--quick]
#   --nics      NICs to run, in order (default
#               splitnet,virtio-net-pci,e1000e,e1000,vmxnet3)
#   --seconds   length of each measured pktgen phase (default 3)
#   --warmup    length of the warm-up phase (default 2)
#   --no-iperf  skip the iperf3 test (it needs iperf3 on the host, which
#               the script installs with apt-get when run as root)
#   --no-burst  skip the burst-32 phase
#   --rounds    pktgen rounds per NIC, NICs interleaved, medians reported
#               (default 3: other processes on a shared machine can halve
#               a NIC's rate for a while; the report flags such phases)
#   --quick     --seconds 2 --warmup 1 --rounds 1 --no-iperf (smoke test)
# Environment: QEMU, SPLITNET_GUEST_* as for tests/guest/lib.sh;
#   BENCH_CLONE  pktgen clone_skb (default 0: a fresh skb per frame)
#   BENCH_PHASES pktgen phases instead of the default, as
#                "NAME:SIZE:BURST:SECONDS ..." ("warm" is not reported)

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/guest/lib.sh
. "$HERE/../guest/lib.sh"

NICS=splitnet,virtio-net-pci,e1000e,e1000,vmxnet3
SECS=3
WARM=2
IPERF=1
IPERF_SECS=5
BURST=1
ROUNDS=3
while [ $# -gt 0 ]; do
    case $1 in
    --nics) NICS=${2:?--nics needs a list}; shift ;;
    --nics=*) NICS=${1#--nics=} ;;
    --seconds) SECS=${2:?--seconds needs a number}; shift ;;
    --seconds=*) SECS=${1#--seconds=} ;;
    --warmup) WARM=${2:?--warmup needs a number}; shift ;;
    --warmup=*) WARM=${1#--warmup=} ;;
    --iperf-seconds) IPERF_SECS=${2:?--iperf-seconds needs a number}; shift ;;
    --iperf-seconds=*) IPERF_SECS=${1#--iperf-seconds=} ;;
    --no-iperf) IPERF=0 ;;
    --no-burst) BURST=0 ;;
    --rounds) ROUNDS=${2:?--rounds needs a number}; shift ;;
    --rounds=*) ROUNDS=${1#--rounds=} ;;
    --quick) SECS=2 WARM=1 ROUNDS=1 IPERF=0 ;;
    -h|--help) awk 'NR > 2 && !/^#/ { exit } NR > 2' "${BASH_SOURCE[0]}" |
                   sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done
for n in "$SECS" "$WARM" "$IPERF_SECS" "$ROUNDS"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "durations and rounds are whole numbers > 0, not '$n'"
done
IFS=, read -r -a NIC_LIST <<<"$NICS"
[ "${#NIC_LIST[@]}" -gt 0 ] || die "no NICs given"

# Driver module in the guest for each NIC.
nic_module() {
    case $1 in
    splitnet) echo splitnet ;;
    virtio-net-pci) echo virtio_pci virtio_net ;;
    e1000e) echo e1000e ;;
    e1000) echo e1000 ;;
    vmxnet3) echo vmxnet3 ;;
    *) return 1 ;;
    esac
}

T_START=$(date +%s)
elapsed() { echo "$(( $(date +%s) - T_START ))s"; }

trap guest_cleanup EXIT

TS=$(date -u +%Y%m%d-%H%M%S)
OUT=$SPLITNET_BUILD/bench
RAW=$OUT/raw-$TS
mkdir -p "$RAW"
# QMP and control sockets of the running guest; a unix socket path must be
# short (108 bytes), so a deep checkout gets them under /tmp instead.
SOCKDIR=$RAW
if [ "${#SOCKDIR}" -gt 80 ]; then
    SOCKDIR=$(mktemp -d /tmp/splitnet-bench.XXXXXX)
    trap 'guest_cleanup; rm -rf "$SOCKDIR"' EXIT
fi
HOSTPY=(/usr/bin/python3 "$HERE/bench-host.py")
[ -x /usr/bin/python3 ] || die "/usr/bin/python3 is missing: apt-get install python3"

say "bench: NICs: ${NIC_LIST[*]}; pktgen phases ${SECS}s after a ${WARM}s warm-up$([ "$IPERF" = 1 ] && echo "; iperf3 ${IPERF_SECS}s")"

# --- what the run stands on ----------------------------------------------------

QEMU_BIN=$(guest_qemu)
for nic in "${NIC_LIST[@]}"; do
    nic_module "$nic" >/dev/null || die "unknown NIC '$nic' (known: splitnet virtio-net-pci e1000e e1000 vmxnet3)"
    qemu_has_device "$nic" || die "$QEMU_BIN has no device $nic"
done
# The sink backend is this project's; an older QEMU build lacks it.
printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"x-query-net-sinks"}' \
        '{"execute":"quit"}' |
    timeout 30 "$QEMU_BIN" -machine none -display none -nodefaults \
        -netdev sink,id=probe -qmp stdio > "$RAW/qemu-probe.log" 2>&1 ||
    die "$QEMU_BIN has no working -netdev sink (rebuild it: make build); see ${RAW#"$SPLITNET_TOP"/}/qemu-probe.log"

guest_prepare
say "bench: guest kernel $KVER, QEMU $("$QEMU_BIN" --version | head -n1)"

KO=
for nic in "${NIC_LIST[@]}"; do
    [ "$nic" = splitnet ] || continue
    say "bench: building splitnet's guest driver (scripts/build-driver.sh)"
    bash "$SPLITNET_TOP/scripts/build-driver.sh" > "$RAW/build-driver.log" 2>&1 || {
        tail -n 30 "$RAW/build-driver.log" >&2
        die "cannot build splitnet's guest driver, so there is no splitnet row (log: ${RAW#"$SPLITNET_TOP"/}/build-driver.log)"
    }
    ko=$SPLITNET_BUILD/guest/driver/splitnet.ko
    [ -f "$ko" ] || die "scripts/build-driver.sh made no $ko"
    krel=$(cat "$SPLITNET_BUILD/guest/driver/kernelrelease" 2>/dev/null || true)
    [ "$krel" = "$KVER" ] ||
        die "splitnet.ko is built for '$krel' but the guest boots $KVER"
    # fw_cfg reads are port I/O, byte by byte: under TCG a 1.7 MB module
    # with debug info takes ~20 s to reach the guest, 65 KB without it.
    KO=$RAW/splitnet.ko
    strip --strip-debug -o "$KO" "$ko" ||
        die "strip --strip-debug $ko failed (binutils)"
    say "bench: splitnet.ko built for $krel ($(( $(stat -c %s "$KO") / 1024 )) KiB without debug info)"
done

if [ "$IPERF" = 1 ] && ! command -v iperf3 >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        say "bench: installing iperf3 on the host (apt-get)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
            iperf3 > "$RAW/apt-iperf3.log" 2>&1 ||
            die "apt-get install iperf3 failed (see ${RAW#"$SPLITNET_TOP"/}/apt-iperf3.log), or use --no-iperf"
    else
        die "iperf3 is missing on the host: apt-get install iperf3 (as root), or use --no-iperf"
    fi
fi

PHASES="warm:60:1:$WARM p60b1:60:1:$SECS p1514b1:1514:1:$SECS"
[ "$BURST" = 1 ] && PHASES="$PHASES p60b32:60:32:$SECS"
# For experiments: other phases, NAME:SIZE:BURST:SECONDS (the table shows
# p60b1, p1514b1 and p60b32).
PHASES=${BENCH_PHASES:-$PHASES}
nphases=$(wc -w <<<"$PHASES")
GUEST_SECS=$(( WARM + (nphases - 1) * SECS ))

{
    echo "date=$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "qemu=$("$QEMU_BIN" --version | head -n1) ($QEMU_BIN)"
    echo "kernel=$KVER"
    echo "host=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), $(nproc) CPUs"
    echo "accel=tcg (KVM does not work on this machine)"
    echo "guest=machine ${SPLITNET_GUEST_MACHINE:-pc}, ${SPLITNET_GUEST_SMP:-1} vCPU, ${SPLITNET_GUEST_MEM:-512M}"
    echo "pktgen=phases $PHASES (name:size:burst:seconds), clone_skb ${BENCH_CLONE:-0}, dst 10.0.2.99 52:54:00:00:00:99"
    if [ "$IPERF" = 1 ]; then
        echo "iperf=$(iperf3 --version | head -n1 | awk '{ print $1, $2 }'), -R -t $IPERF_SECS, slirp hostfwd 127.0.0.1"
    else
        echo "iperf=not run"
    fi
    if [ -n "$KO" ]; then
        echo "splitnet.ko=sha256 $(sha256sum "$SPLITNET_BUILD/guest/driver/splitnet.ko" | cut -c1-16) (stripped copy in ${RAW#"$SPLITNET_TOP"/})"
    fi
    echo "rounds=$ROUNDS"
    echo "project=$(git -C "$SPLITNET_TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)"
} > "$RAW/meta.txt"

# --- one NIC -------------------------------------------------------------------

MAC=52:54:00:12:34:56
RC=0

# The -device argument of NIC $1 on netdev $2.
nic_device() {
    echo "$1,netdev=$2,id=nic0,mac=$MAC,romfile="
}

# The module for NIC $1 goes to the next guest (a file for splitnet), with
# the setup both in-guest scripts source.
nic_module_env() {
    local mod
    mod=$(nic_module "$1")
    guest_env "BENCH_NIC=$1" "BENCH_MODULE=$mod"
    guest_file "$HERE/in-guest/benchlib.sh" benchlib.sh
    [ "$1" = splitnet ] && guest_file "$KO" splitnet.ko
    return 0
}

# bench_pktgen NIC ROUND
bench_pktgen() {
    local nic=$1 round=$2 name=bench-$1 qmp=$SOCKDIR/$1.qmp ctl=$SOCKDIR/$1.ctl
    local qom=() ok=0
    [ "$ROUNDS" = 1 ] || name=$name-r$round
    rm -f "$qmp" "$ctl"
    nic_module_env "$nic"
    guest_env "BENCH_PHASES=$PHASES" "BENCH_CLONE=${BENCH_CLONE:-0}" \
        BENCH_DST_IP=10.0.2.99 BENCH_DST_MAC=52:54:00:00:00:99
    [ "$nic" = splitnet ] && qom=(--qom-stats nic0)
    # The console stays on serial 0 (stdio, the log); serial 1 is the
    # control channel (an explicit -serial replaces -nographic's default).
    guest_start "$name" "$HERE/in-guest/pktgen.sh" \
        -netdev sink,id=sink0 -device "$(nic_device "$nic" sink0)" \
        -qmp "unix:$qmp,server=on,wait=off" \
        -chardev "socket,id=benchctl,path=$ctl,server=on,wait=off" \
        -serial mon:stdio -serial chardev:benchctl
    if "${HOSTPY[@]}" guest --nic "$nic" --qmp "$qmp" --ctl "$ctl" \
            --out "$RAW/$nic.r$round.json" ${qom[@]+"${qom[@]}"} \
            --qemu-pid "${GUEST_PIDS[$name]}" --log "${GUEST_LOGS[$name]}" \
            --timeout $(( SPLITNET_GUEST_TIMEOUT + GUEST_SECS + 10 * nphases )); then
        ok=1
    fi
    guest_finish "$name" || ok=0
    rm -f "$qmp" "$ctl"
    [ "$ok" = 1 ]
}

bench_iperf() {
    local nic=$1 name=bench-$1-iperf port ok=0
    port=$(guest_free_port)
    nic_module_env "$nic"
    guest_start "$name" "$HERE/in-guest/iperf.sh" \
        -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:5201" \
        -device "$(nic_device "$nic" n0)"
    if guest_wait_for "$name" 'SPLITNET-READY: iperf'; then
        say "bench: $nic: iperf3 -R -t $IPERF_SECS through 127.0.0.1:$port (slirp hostfwd)"
        if timeout $(( IPERF_SECS + 60 )) iperf3 -c 127.0.0.1 -p "$port" -R \
                -t "$IPERF_SECS" -J > "$RAW/$nic-iperf3-raw.json" 2>"$RAW/$nic-iperf3.err" &&
           "${HOSTPY[@]}" iperf "$RAW/$nic-iperf3-raw.json" "$RAW/$nic-iperf.json"; then
            ok=1
        else
            say "bench: $nic: iperf3 failed: $(head -c 300 "$RAW/$nic-iperf3.err" "$RAW/$nic-iperf3-raw.json" 2>/dev/null | tr '\n' ' ')"
        fi
    fi
    guest_finish "$name" || ok=0
    [ "$ok" = 1 ]
}

# Rounds interleave the NICs, each round starting one NIC later, so that a
# slow spell of the machine does not land on the same NIC every time.
N=${#NIC_LIST[@]}
for round in $(seq "$ROUNDS"); do
    for k in $(seq 0 $((N - 1))); do
        nic=${NIC_LIST[$(( (k + round - 1) % N ))]}
        t0=$(date +%s)
        step="[$([ "$ROUNDS" = 1 ] || echo "round $round/$ROUNDS, ")$((k + 1))/$N]"
        say "bench: $step $nic: pktgen into -netdev sink ($(elapsed) so far)"
        bench_pktgen "$nic" "$round" || { RC=1; say "bench: $nic: FAILED (pktgen)"; }
        if [ "$IPERF" = 1 ] && [ "$round" = 1 ]; then
            say "bench: $step $nic: iperf3 guest->host"
            bench_iperf "$nic" || { RC=1; say "bench: $nic: FAILED (iperf3)"; }
        fi
        say "bench: $step $nic: done in $(( $(date +%s) - t0 ))s"
    done
done

# --- the report ----------------------------------------------------------------

echo "total=$(elapsed)" >> "$RAW/meta.txt"
TXT=$OUT/results-$TS.txt
JSON=$OUT/results-$TS.json
echo >&2
"${HOSTPY[@]}" report --raw "$RAW" --nics "$NICS" --meta "$RAW/meta.txt" \
    --txt "$TXT" --json "$JSON" || RC=1
echo
say "bench: took $(elapsed); results: ${TXT#"$SPLITNET_TOP"/}, ${JSON#"$SPLITNET_TOP"/}"
say "bench: raw data: ${RAW#"$SPLITNET_TOP"/}/, guest logs: ${GUEST_LOGDIR#"$SPLITNET_TOP"/}/bench-*.log"
[ "$RC" = 0 ] || say "bench: FAILED: at least one NIC sent nothing or a guest failed (see above)"
exit "$RC"
