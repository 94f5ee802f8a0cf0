# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# The guests of tests/bench/run.sh, one function per kind; sourced by it
# after tests/guest/lib.sh.  Each boots the test guest with the NIC under
# test and writes its results to $RAW (see README.md):
#
#   bench_traffic NIC ROUND   TX (pktgen into -netdev sink) and RX (the
#                             host's sender through a stream netdev):
#                             NIC.rROUND.json
#   bench_exits NIC 1         TX and RX with the NIC's register accesses
#                             traced: NIC.exits.json
#   bench_tcp NIC ROUND       iperf3 over slirp, tap and a stream to a
#                             second guest, in the bench's network
#                             namespace: NIC.rROUND.tcp-TEST.json
#
# They use run.sh's settings: HERE, RAW, SOCKDIR, HOSTPY, KO, TX_PHASES,
# RX_PHASES, EXIT_PHASES, EXIT_RX_PHASES, IPERF_SECS, NETNS, NETNS_QEMU.

TX_MAC=52:54:00:12:34:56
RX_MAC=52:54:00:12:34:57

# A bench NIC is a device model, or a model with properties:
# splitnet-defer is splitnet with tx-defer=on, its default under KVM, so
# that the table shows the exits a KVM guest would take (see
# docs/system/devices/splitnet.rst).
nic_model() {
    case $1 in
    splitnet-defer) echo splitnet ;;
    *) echo "$1" ;;
    esac
}

nic_props() {
    case $1 in
    splitnet-defer) echo ",tx-defer=on" ;;
    esac
}

# A NIC that differs from its model only in how it transmits: it runs the
# tx and exits phases, not rx or tcp (those are its model's).
nic_tx_only() {
    [ "$1" = splitnet-defer ]
}

# Driver modules in the guest for each NIC.
nic_module() {
    case $1 in
    splitnet|splitnet-defer) echo splitnet ;;
    virtio-net-pci) echo virtio_pci virtio_net ;;
    e1000e) echo e1000e ;;
    e1000) echo e1000 ;;
    vmxnet3) echo vmxnet3 ;;
    *) return 1 ;;
    esac
}

# nic_device MODEL NETDEV ID MAC: a -device argument.
nic_device() {
    echo "$(nic_model "$1")$(nic_props "$1"),netdev=$2,id=$3,mac=$4,romfile="
}

# The module for NIC $1 goes to the next guest (a file for splitnet), with
# the setup the in-guest scripts source.
nic_module_env() {
    guest_env "BENCH_NIC=$1" "BENCH_MODULE=$(nic_module "$1")"
    guest_file "$HERE/in-guest/benchlib.sh" benchlib.sh
    [ "$(nic_model "$1")" = splitnet ] && guest_file "$KO" splitnet.ko
    return 0
}

# phase_secs PHASES: seconds the timed phases of a guest take.
phase_secs() {
    local p n=0
    for p in $1; do
        p=${p##*:}
        case $p in n*) p=2 ;; esac
        n=$((n + p + 2))
    done
    echo "$n"
}

# traffic_guest NAME NIC OUT TXPHASES RXPHASES [bench-host.py ARGS...] --
# [QEMU ARGS...]: boot a guest running in-guest/traffic.sh and serve its
# control channel; results in OUT.
traffic_guest() {
    local name=$1 nic=$2 out=$3 tx=$4 rx=$5 qmp ctl ok=0 host=() qemu=() t
    shift 5
    t=$(( SPLITNET_GUEST_TIMEOUT + $(phase_secs "$tx $rx") ))
    while [ $# -gt 0 ] && [ "$1" != -- ]; do host+=("$1"); shift; done
    shift
    qemu=("$@")
    qmp=$SOCKDIR/$name.qmp
    ctl=$SOCKDIR/$name.ctl
    rm -f "$qmp" "$ctl"
    nic_module_env "$nic"
    guest_env "BENCH_PHASES=$tx" "BENCH_RX_PHASES=$rx" "BENCH_TX_MAC=$TX_MAC" \
        "BENCH_CLONE=${BENCH_CLONE:-0}" BENCH_DST_IP=10.0.2.99 \
        BENCH_DST_MAC=52:54:00:00:00:99
    [ -z "$rx" ] || guest_env "BENCH_RX_MAC=$RX_MAC"
    # The console stays on serial 0 (stdio, the log); serial 1 is the
    # control channel (an explicit -serial replaces -nographic's default).
    guest_start "$name" "$HERE/in-guest/traffic.sh" ${qemu[@]+"${qemu[@]}"} \
        -qmp "unix:$qmp,server=on,wait=off" \
        -chardev "socket,id=benchctl,path=$ctl,server=on,wait=off" \
        -serial mon:stdio -serial chardev:benchctl
    if "${HOSTPY[@]}" guest --nic "$nic" --qmp "$qmp" --ctl "$ctl" \
            --out "$out" ${host[@]+"${host[@]}"} \
            --qemu-pid "${GUEST_PIDS[$name]}" --log "${GUEST_LOGS[$name]}" \
            --timeout "$t"; then
        ok=1
    fi
    guest_finish "$name" "$t" || ok=0
    rm -f "$qmp" "$ctl"
    [ "$ok" = 1 ]
}

# nic_args NIC TX RX: the QEMU arguments (NIC_QEMU) and bench-host.py
# arguments (NIC_HOST) for a NIC on the sink when there are TX phases, and
# a second one on a stream netdev the host feeds when there are RX phases.
nic_args() {
    local nic=$1 port
    NIC_QEMU=() NIC_HOST=()
    if [ -n "$2" ]; then
        NIC_QEMU+=(-netdev "sink,id=sink0" -device "$(nic_device "$nic" sink0 nic0 "$TX_MAC")")
        [ "$(nic_model "$nic")" = splitnet ] && NIC_HOST+=(--qom-stats nic0)
    fi
    if [ -n "$3" ]; then
        port=$(guest_free_port)
        NIC_QEMU+=(-netdev "stream,id=rx0,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=$port"
                   -device "$(nic_device "$nic" rx0 nic1 "$RX_MAC")")
        NIC_HOST+=(--rx-port "$port" --rx-mac "$RX_MAC")
    fi
    return 0
}

# bench_traffic NIC ROUND: TX_PHASES, then RX_PHASES.
bench_traffic() {
    local rx=$RX_PHASES
    nic_tx_only "$1" && rx=
    nic_args "$1" "$TX_PHASES" "$rx"
    traffic_guest "bench-$1-r$2" "$1" "$RAW/$1.r$2.json" \
        "$TX_PHASES" "$rx" ${NIC_HOST[@]+"${NIC_HOST[@]}"} -- "${NIC_QEMU[@]}"
}

# bench_exits NIC 1: EXIT_PHASES (fixed frame counts) and EXIT_RX_PHASES
# with QEMU's memory_region_ops_* trace events on during each phase.
bench_exits() {
    local nic=$1 ok=0 trace rx=$EXIT_RX_PHASES
    trace=$RAW/$nic.trace
    rm -f "$trace"
    nic_tx_only "$nic" && rx=
    nic_args "$nic" "$EXIT_PHASES" "$rx"
    traffic_guest "bench-$nic-exits" "$nic" "$RAW/$nic.exits.json" \
        "$EXIT_PHASES" "$rx" --trace "$trace" \
        ${NIC_HOST[@]+"${NIC_HOST[@]}"} -- -trace "file=$trace" "${NIC_QEMU[@]}" &&
        ok=1
    rm -f "$trace"      # tens of MB; the counts are in the JSON
    [ "$ok" = 1 ]
}

# --- TCP in the bench's network namespace --------------------------------------

TCP_TESTS="g2g slirp-g2h slirp-h2g tap-g2h tap-h2g"

# netns_setup: the namespace (loopback, and a persistent tap 10.0.3.2/24
# with vnet headers for the guests' tap netdev), and NETNS_QEMU, a QEMU
# that runs in it.
netns_setup() {
    NETNS=splitnet-bench-$$
    ip netns add "$NETNS" || die "ip netns add $NETNS failed (the TCP tests need root)"
    ip -n "$NETNS" link set lo up
    ip -n "$NETNS" tuntap add dev sbtap0 mode tap vnet_hdr
    ip -n "$NETNS" addr add 10.0.3.2/24 dev sbtap0
    ip -n "$NETNS" link set sbtap0 up
    NETNS_QEMU=$RAW/qemu-in-netns
    printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$NETNS" "$(guest_qemu)" > "$NETNS_QEMU"
    chmod +x "$NETNS_QEMU"
}

netns_cleanup() {
    [ -z "${NETNS:-}" ] || ip netns del "$NETNS" 2>/dev/null || true
}

# tcp_result NIC ROUND TEST MBPS: a result as bench-host.py iperf writes it.
tcp_result() {
    printf '{"mbps": %s}\n' "$4" > "$RAW/$1.r$2.tcp-$3.json"
}

# bench_tcp NIC ROUND: guest a has one NIC per link; guest b, on the other
# end of the stream, boots with it and runs the g2g test against a.  Then
# iperf3 in the namespace tests a over slirp and tap, each direction.
bench_tcp() {
    local nic=$1 round=$2 a=bench-$1-tcp-r$2 b=bench-$1-tcp-r$2-b
    local t addr port rev mbps rc=0
    nic_module_env "$nic"
    guest_env BENCH_ROLE=a "BENCH_TESTS=$TCP_TESTS" \
        BENCH_SLIRP_MAC=52:54:00:12:34:61 BENCH_TAP_MAC=52:54:00:12:34:62 \
        BENCH_G2G_MAC=52:54:00:12:34:63
    QEMU=$NETNS_QEMU guest_start "$a" "$HERE/in-guest/tcp.sh" \
        -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:5201-10.0.2.15:5201" \
        -device "$(nic_device "$nic" n0 nic0 52:54:00:12:34:61)" \
        -netdev tap,id=n1,ifname=sbtap0,script=no,downscript=no,vnet_hdr=on \
        -device "$(nic_device "$nic" n1 nic1 52:54:00:12:34:62)" \
        -netdev stream,id=n2,server=on,addr.type=inet,addr.host=127.0.0.1,addr.port=5300 \
        -device "$(nic_device "$nic" n2 nic2 52:54:00:12:34:63)"
    nic_module_env "$nic"
    guest_env BENCH_ROLE=b "BENCH_SECS=$IPERF_SECS" BENCH_G2G_MAC=52:54:00:12:34:64
    QEMU=$NETNS_QEMU guest_start "$b" "$HERE/in-guest/tcp.sh" \
        -netdev stream,id=n0,server=off,reconnect-ms=200,addr.type=inet,addr.host=127.0.0.1,addr.port=5300 \
        -device "$(nic_device "$nic" n0 nic0 52:54:00:12:34:64)"
    if guest_finish "$b" $(( SPLITNET_GUEST_TIMEOUT + IPERF_SECS )); then
        mbps=$(guest_value "$b" 'iperf g2g mbps')
        say "bench: $nic: TCP guest->guest over a stream netdev: $mbps Mbit/s"
        tcp_result "$nic" "$round" g2g "$mbps"
    else
        rc=1
    fi
    for t in $TCP_TESTS; do
        [ "$t" != g2g ] || continue
        guest_ready "$a" "tcp-$t" 60 || { rc=1; break; }
        case $t in slirp-*) addr=127.0.0.1 ;; tap-*) addr=10.0.3.15 ;; esac
        rev=()
        case $t in *-g2h) rev=(-R) ;; esac
        port=5201
        if timeout $(( IPERF_SECS + 60 )) ip netns exec "$NETNS" iperf3 -c "$addr" \
                -p "$port" -t "$IPERF_SECS" -J ${rev[@]+"${rev[@]}"} \
                > "$RAW/$nic.r$round.$t-raw.json" 2>"$RAW/$nic.r$round.$t.err" &&
           "${HOSTPY[@]}" iperf "$RAW/$nic.r$round.$t-raw.json" \
                "$RAW/$nic.r$round.tcp-$t.json" 2>/dev/null; then
            say "bench: $nic: TCP $t: $(sed -n 's/.*"mbps": \([0-9.]*\).*/\1/p' "$RAW/$nic.r$round.tcp-$t.json" | cut -d. -f1) Mbit/s"
        else
            rc=1
            say "bench: $nic: iperf3 $t failed: $(head -c 300 "$RAW/$nic.r$round.$t.err" "$RAW/$nic.r$round.$t-raw.json" 2>/dev/null | tr '\n' ' ')"
        fi
    done
    guest_finish "$a" 60 || rc=1
    [ "$rc" = 0 ]
}
