#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# splitnet's NIC benchmark (`make bench`): boot the test guest once per NIC
# on the same QEMU binary and kernel, one NIC after another, and compare
# splitnet with virtio-net-pci, e1000e, e1000 and vmxnet3.  Phases:
#
#   tx     Linux pktgen in the guest into `-netdev sink` (which counts and
#          drops every frame): 60 and 1514-byte frames with burst 1 and
#          with burst 32 (xmit_more); the host checks the sink's count.
#   exits  the same TX frames, a fixed number per phase, and the rx phases,
#          with QEMU's memory_region_ops_* trace events on: the NIC's MMIO
#          reads, writes and doorbells per frame, and its interrupts per
#          frame (the VM exits each would be under KVM).  Tracing is slow,
#          so it is a pass of its own, not timed.
#   rx     the host streams 60 and 1514-byte frames into a second NIC of the
#          model (a 127.0.0.1 stream netdev, so the sender waits for QEMU
#          and loses nothing); the guest counts what arrives.
#   tcp    iperf3 both ways over slirp (restrict=on, hostfwd on 127.0.0.1)
#          and over tap (vnet_hdr=on), and guest to guest over a stream
#          netdev, all in a network namespace the bench makes.
#
# tx and rx share a guest; the NICs take turns, each round starting one NIC
# later, and the report gives medians.  It prints a table of values and of
# ratios (splitnet/NIC and splitnet/best peer) and saves
# build/bench/results.{csv,md} and build/bench/bench.png (the latest run),
# build/bench/results-<timestamp>.{txt,json} and build/bench/raw-<timestamp>/.
# It reports speed and never fails on it, but it fails when a NIC sent or
# received nothing, when the sink did not see the frames, or when a guest
# failed; it stops at once when splitnet's driver cannot be built.
#
# Usage: tests/bench/run.sh [--nics A,B,...] [--phases P,...] [--rounds N]
#                           [--tcp-rounds N] [--seconds N] [--warmup N]
#                           [--exit-frames N] [--iperf-seconds N]
#                           [--no-iperf] [--no-burst]
#                           [--quick] [--update-docs]
#   --nics          NICs to run, in order (default splitnet,splitnet-defer,
#                   virtio-net-pci,e1000e,e1000,vmxnet3; splitnet-defer is
#                   splitnet with tx-defer=on, in the tx and exits phases)
#   --phases        phases to run (default tx,exits,rx,tcp)
#   --rounds        rounds of tx and rx, NICs interleaved, medians
#                   reported (default 3)
#   --tcp-rounds    rounds of tcp (default 2: each boots two guests)
#   --seconds       length of each measured tx and rx phase (default 2)
#   --warmup        length of the tx warm-up phase (default 1)
#   --exit-frames   frames per exits phase (default 20000)
#   --iperf-seconds length of each iperf3 test (default 3)
#   --no-iperf      leave out the tcp phase
#   --no-burst      leave out the burst-32 tx phases
#   --quick         --rounds 1 --exit-frames 5000 --no-iperf (smoke test)
#   --update-docs   also write docs/benchmarks.md and docs/benchmarks.png
# Environment: QEMU, SPLITNET_GUEST_* as for tests/guest/lib.sh;
#   BENCH_CLONE  pktgen clone_skb (default 0: a fresh skb per frame)
#   BENCH_PHASES tx phases instead of the default, as
#                "NAME:SIZE:BURST:SECONDS ..." ("warm" is not reported)

set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/guest/lib.sh
. "$HERE/../guest/lib.sh"
# shellcheck source=tests/bench/guests.sh
. "$HERE/guests.sh"

NICS=splitnet,splitnet-defer,virtio-net-pci,e1000e,e1000,vmxnet3
PHASES=tx,exits,rx,tcp
SECS=2
WARM=1
EXIT_FRAMES=20000
IPERF_SECS=3
BURST=1
ROUNDS=3
TCP_ROUNDS=2
DOCS=()
while [ $# -gt 0 ]; do
    case $1 in
    --nics) NICS=${2:?--nics needs a list}; shift ;;
    --nics=*) NICS=${1#--nics=} ;;
    --phases) PHASES=${2:?--phases needs a list}; shift ;;
    --phases=*) PHASES=${1#--phases=} ;;
    --seconds) SECS=${2:?--seconds needs a number}; shift ;;
    --seconds=*) SECS=${1#--seconds=} ;;
    --warmup) WARM=${2:?--warmup needs a number}; shift ;;
    --warmup=*) WARM=${1#--warmup=} ;;
    --exit-frames) EXIT_FRAMES=${2:?--exit-frames needs a number}; shift ;;
    --exit-frames=*) EXIT_FRAMES=${1#--exit-frames=} ;;
    --iperf-seconds) IPERF_SECS=${2:?--iperf-seconds needs a number}; shift ;;
    --iperf-seconds=*) IPERF_SECS=${1#--iperf-seconds=} ;;
    --no-iperf) PHASES=${PHASES//tcp/} ;;
    --no-burst) BURST=0 ;;
    --rounds) ROUNDS=${2:?--rounds needs a number}; shift ;;
    --rounds=*) ROUNDS=${1#--rounds=} ;;
    --tcp-rounds) TCP_ROUNDS=${2:?--tcp-rounds needs a number}; shift ;;
    --tcp-rounds=*) TCP_ROUNDS=${1#--tcp-rounds=} ;;
    --update-docs) DOCS=(--docs "$SPLITNET_TOP/docs") ;;
    --quick) ROUNDS=1 EXIT_FRAMES=5000 PHASES=${PHASES//tcp/} ;;
    -h|--help) awk 'NR > 2 && !/^#/ { exit } NR > 2' "${BASH_SOURCE[0]}" |
                   sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done
for n in "$SECS" "$WARM" "$EXIT_FRAMES" "$IPERF_SECS" "$ROUNDS" "$TCP_ROUNDS"; do
    [[ $n =~ ^[1-9][0-9]*$ ]] || die "durations, counts and rounds are whole numbers > 0, not '$n'"
done
IFS=, read -r -a NIC_LIST <<<"$NICS"
[ "${#NIC_LIST[@]}" -gt 0 ] || die "no NICs given"
declare -A RUN=()
IFS=, read -r -a phase_list <<<"$PHASES"
for p in ${phase_list[@]+"${phase_list[@]}"}; do
    case $p in
    tx|exits|rx|tcp) RUN[$p]=1 ;;
    '') ;;
    *) die "unknown phase '$p' (known: tx exits rx tcp)" ;;
    esac
done
[ "${#RUN[@]}" -gt 0 ] || die "no phases to run"
run() { [ -n "${RUN[$1]:-}" ]; }
PHASES=
for p in tx exits rx tcp; do run "$p" && PHASES="$PHASES${PHASES:+,}$p"; done

TX_PHASES=
if run tx; then
    TX_PHASES="warm:60:1:$WARM p60b1:60:1:$SECS p1514b1:1514:1:$SECS"
    [ "$BURST" = 1 ] &&
        TX_PHASES="$TX_PHASES p60b32:60:32:$SECS p1514b32:1514:32:$SECS"
    # For experiments: other phases, NAME:SIZE:BURST:SECONDS (the table
    # shows p60b1, p1514b1, p60b32 and p1514b32).
    TX_PHASES=${BENCH_PHASES:-$TX_PHASES}
fi
RX_PHASES=
run rx && RX_PHASES="rx60:60:$SECS rx1514:1514:$SECS"
EXIT_PHASES="warm:60:1:n1000 p60b1:60:1:n$EXIT_FRAMES p1514b1:1514:1:n$EXIT_FRAMES"
[ "$BURST" = 1 ] &&
    EXIT_PHASES="$EXIT_PHASES p60b32:60:32:n$EXIT_FRAMES p1514b32:1514:32:n$EXIT_FRAMES"
EXIT_RX_PHASES="rx60:60:$SECS rx1514:1514:$SECS"

T_START=$(date +%s)
elapsed() { echo "$(( $(date +%s) - T_START ))s"; }

TS=$(date -u +%Y%m%d-%H%M%S)
OUT=$SPLITNET_BUILD/bench
RAW=$OUT/raw-$TS
mkdir -p "$RAW"
# QMP and control sockets of the running guest; a unix socket path must be
# short (108 bytes), so a deep checkout gets them under /tmp instead.
SOCKDIR=$RAW
[ "${#SOCKDIR}" -le 80 ] || SOCKDIR=$(mktemp -d /tmp/splitnet-bench.XXXXXX)
# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
    guest_cleanup
    netns_cleanup
    [ "$SOCKDIR" = "$RAW" ] || rm -rf "$SOCKDIR"
}
trap cleanup EXIT
HOSTPY=(/usr/bin/python3 "$HERE/bench-host.py")
[ -x /usr/bin/python3 ] || die "/usr/bin/python3 is missing: apt-get install python3"

say "bench: NICs: ${NIC_LIST[*]}; phases: $PHASES; $ROUNDS round(s)$(run tcp && echo ", tcp $TCP_ROUNDS")"

# --- what the run stands on ----------------------------------------------------

QEMU_BIN=$(guest_qemu)
for nic in "${NIC_LIST[@]}"; do
    nic_module "$nic" >/dev/null || die "unknown NIC '$nic' (known: splitnet splitnet-defer virtio-net-pci e1000e e1000 vmxnet3)"
    qemu_has_device "$(nic_model "$nic")" || die "$QEMU_BIN has no device $(nic_model "$nic")"
done
# The sink backend is this project's; an older QEMU build lacks it.
printf '%s\n' '{"execute":"qmp_capabilities"}' '{"execute":"x-query-net-sinks"}' \
        '{"execute":"quit"}' |
    timeout 30 "$QEMU_BIN" -machine none -display none -nodefaults \
        -netdev sink,id=probe -qmp stdio > "$RAW/qemu-probe.log" 2>&1 ||
    die "$QEMU_BIN has no working -netdev sink (rebuild it: make build); see ${RAW#"$SPLITNET_TOP"/}/qemu-probe.log"

# Host tools: iperf3 for the TCP phase, gnuplot (and a font) for the plot.
host_pkgs=(gnuplot-nox fonts-dejavu-core)
run tcp && host_pkgs+=(iperf3)
pkg_need "${host_pkgs[@]}"
for p in "${host_pkgs[@]}"; do
    record_version "$p" "$(dpkg-query -W -f='${Version}' "$p")"
done

guest_prepare
say "bench: guest kernel $KVER, QEMU $("$QEMU_BIN" --version | head -n1)"

KO=
for nic in "${NIC_LIST[@]}"; do
    [ "$(nic_model "$nic")" = splitnet ] && [ -z "$KO" ] || continue
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

if run tcp; then
    netns_setup
    say "bench: network namespace $NETNS (tap sbtap0 10.0.3.2/24) for the TCP phase"
fi

{
    echo "date=$(date -u '+%Y-%m-%d %H:%M:%S UTC')"
    echo "qemu=$("$QEMU_BIN" --version | head -n1) ($QEMU_BIN)"
    echo "kernel=$KVER"
    echo "host=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1), $(nproc) CPUs"
    echo "load=$(cut -d' ' -f1-3 /proc/loadavg) (load average at the start)"
    echo "accel=tcg (KVM does not work on this machine)"
    echo "guest=machine ${SPLITNET_GUEST_MACHINE:-pc}, ${SPLITNET_GUEST_SMP:-1} vCPU, ${SPLITNET_GUEST_MEM:-512M}"
    echo "phases=${PHASES}"
    run tx && echo "tx=pktgen $TX_PHASES (name:size:burst:seconds), clone_skb ${BENCH_CLONE:-0}, dst 10.0.2.99 52:54:00:00:00:99"
    run exits && echo "exits=pktgen $EXIT_PHASES (nN: N frames), $EXIT_RX_PHASES, memory_region_ops_* trace events"
    run rx && echo "rx=$RX_PHASES (name:size:seconds), IPv4/UDP from a python sender through -netdev stream on 127.0.0.1"
    if run tcp; then
        echo "tcp=$(iperf3 --version | head -n1 | awk '{ print $1, $2 }'), -t $IPERF_SECS, slirp hostfwd, tap vnet_hdr=on, stream guest to guest, in netns $NETNS"
    fi
    if [ -n "$KO" ]; then
        echo "splitnet.ko=sha256 $(sha256sum "$SPLITNET_BUILD/guest/driver/splitnet.ko" | cut -c1-16)"
    fi
    echo "rounds=$ROUNDS (tcp: $TCP_ROUNDS)"
    echo "project=$(git -C "$SPLITNET_TOP" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$SPLITNET_TOP" diff --quiet HEAD 2>/dev/null || echo ' (modified)')"
} > "$RAW/meta.txt"

# --- the phases -----------------------------------------------------------------

RC=0
N=${#NIC_LIST[@]}

# rounds KIND FUNCTION NROUNDS: FUNCTION NIC ROUND for every NIC and round;
# rounds interleave the NICs, each round starting one NIC later, so that a
# slow spell of the machine does not land on the same NIC every time.
rounds() {
    local kind=$1 fn=$2 nr=$3 round k nic t0 t1
    t0=$(date +%s)
    for round in $(seq "$nr"); do
        for k in $(seq 0 $((N - 1))); do
            nic=${NIC_LIST[$(( (k + round - 1) % N ))]}
            # A TX-only variant's tcp figures would be its model's.
            [ "$kind" = tcp ] && nic_tx_only "$nic" && continue
            say "bench: $kind [round $round/$nr, $((k + 1))/$N] $nic ($(elapsed) so far)"
            "$fn" "$nic" "$round" || { RC=1; say "bench: $nic: FAILED ($kind)"; }
        done
    done
    t1=$(date +%s)
    say "bench: $kind took $((t1 - t0))s"
    echo "time_${kind// /_}=$((t1 - t0))s" >> "$RAW/meta.txt"
}

if run tx || run rx; then
    rounds "$(run tx && echo tx)$(run tx && run rx && echo +)$(run rx && echo rx)" \
        bench_traffic "$ROUNDS"
fi
run exits && rounds exits bench_exits 1
run tcp && rounds tcp bench_tcp "$TCP_ROUNDS"

# --- the report ----------------------------------------------------------------

echo "total=$(elapsed)" >> "$RAW/meta.txt"
echo >&2
/usr/bin/python3 "$HERE/bench-report.py" --raw "$RAW" --nics "$NICS" \
    --out "$OUT" --stamp "$TS" ${DOCS[@]+"${DOCS[@]}"} || RC=1
echo
say "bench: took $(elapsed); results: ${OUT#"$SPLITNET_TOP"/}/results-$TS.txt, results.csv, bench.png"
say "bench: raw data: ${RAW#"$SPLITNET_TOP"/}/, guest logs: ${GUEST_LOGDIR#"$SPLITNET_TOP"/}/bench-*.log"
[ "$RC" = 0 ] || say "bench: FAILED: at least one NIC sent nothing or a guest failed (see above)"
exit "$RC"
