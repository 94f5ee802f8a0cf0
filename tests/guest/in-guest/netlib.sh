# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# Network helpers for in-guest traffic tests (busybox ash), sourced after
# /lib/splitnet/guest.sh.  The host hands this file over with
# guest_net_helpers (tests/guest/lib.sh); a test starts with
#
#     . /run/splitnet/files/netlib.sh
#
# Data moves with busybox nc.  Its rule: the side that sees the connection
# close first exits, and a side whose stdin ends half-closes the connection.
# So a receiver reads its stdin from a FIFO opened read-write (never ends),
# and a sender reads a file: it half-closes at the end of the file, the
# receiver sees the end, exits, and the sender follows.

NETLIB_HOLD=/run/splitnet/hold.fifo
[ -p "$NETLIB_HOLD" ] || mkfifo "$NETLIB_HOLD"

# Bytes in a MiB count, e.g. mib 64.
mib() { echo $(($1 * 1048576)); }

now() { cut -d' ' -f1 /proc/uptime; }

# Seconds between two now() values, e.g. elapsed "$t0" "$(now)".
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }

# MiB/s and Mbit/s for BYTES in SECONDS, for the log.
rate() {
    awk -v n="$1" -v s="$2" 'BEGIN {
        if (s <= 0) s = 0.1
        printf "%.1f MiB/s, %.0f Mbit/s", n / s / 1048576, n * 8 / s / 1e6 }'
}

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

# make_data FILE MIB: MIB MiB of random data in FILE (tmpfs); prints nothing,
# logs its sha256 as "sha256 NAME SUM" (the host reads these lines).
make_data() {
    local f=$1 n=$2 t0 sum
    t0=$(now)
    head -c "$(mib "$n")" /dev/urandom > "$f" || fail "cannot write $f"
    sum=$(sha256_of "$f")
    log "made $f: $n MiB in $(elapsed "$t0" "$(now)") s, sha256 $sum"
}

# --- the driver and the interface -------------------------------------------

# splitnet_up: load splitnet.ko (handed over as /run/splitnet/files/
# splitnet.ko), find its interface and bring it up.  Sets NET_BDF and NET_IF.
splitnet_up() {
    local bdf
    bdf=$(pci_find 0x1af4 0x10f5)
    [ -n "$bdf" ] || fail "no splitnet PCI function"
    if ! grep -q '^splitnet ' /proc/modules; then
        load_module splitnet
    fi
    # shellcheck disable=SC2034 # for the test script
    NET_BDF=$bdf
    NET_IF=$(netdev_of "$bdf") || fail "splitnet ($bdf) has no network interface"
    ip link set "$NET_IF" up || fail "ip link set $NET_IF up failed"
    log "splitnet at $bdf: $NET_IF, $(ethtool -i "$NET_IF" | sed -n 's/^driver: //p') $(ethtool -i "$NET_IF" | sed -n 's/^firmware-version: /abi /p')"
}

# nic_up VENDOR DEVICE [MODULE...]: the interface of the one function with
# these ids, after loading MODULEs (e.g. virtio_pci virtio_net); sets NET_IF.
nic_up() {
    local v=$1 d=$2 bdf m
    shift 2
    for m in "$@"; do load_module "$m"; done
    bdf=$(pci_find "$v" "$d")
    [ -n "$bdf" ] || fail "no PCI function $v:$d"
    # shellcheck disable=SC2034 # for the test script
    NET_BDF=$bdf
    NET_IF=$(netdev_of "$bdf") || fail "$v:$d ($bdf) has no network interface"
    ip link set "$NET_IF" up || fail "ip link set $NET_IF up failed"
    log "$v:$d at $bdf: $NET_IF"
}

# A udhcpc script (the initramfs has none): address, prefix route, default
# route, all with ip.
NETLIB_UDHCPC=/run/splitnet/udhcpc.sh
cat > "$NETLIB_UDHCPC" <<'EOF'
#!/bin/sh
case $1 in
deconfig)
    ip -4 addr flush dev "$interface"
    ip link set "$interface" up
    ;;
bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    for r in $router; do
        ip route replace default via "$r" dev "$interface"
        break
    done
    echo "guest: udhcpc: $1 $interface $ip/${mask:-24} router ${router:-none}"
    ;;
esac
exit 0
EOF
chmod +x "$NETLIB_UDHCPC"

# dhcp IF: get an address by DHCP (slirp's 10.0.2.15), or fail.
dhcp() {
    local dev=$1 addr
    udhcpc -i "$dev" -s "$NETLIB_UDHCPC" -n -q -f -t 10 -T 2 ||
        fail "udhcpc on $dev got no lease"
    addr=$(ip -4 -o addr show dev "$dev" | awk '{ print $4 }')
    [ -n "$addr" ] || fail "$dev has no IPv4 address after DHCP"
    log "dhcp: $dev has $addr, $(ip route | awk '/^default/ { r = "default via " $3 }
        END { print r ? r : "no default route (slirp restrict=on offers no router)" }')"
}

# static_ip IF ADDR/PREFIX: a fixed address on an emulated point-to-point link
# (two guests on a 127.0.0.1 socket).
static_ip() {
    ip -4 addr flush dev "$1"
    ip addr add "$2" dev "$1" || fail "ip addr add $2 dev $1 failed"
    log "static: $1 has $2"
}

# ping_ok ADDR [COUNT] [SIZE]: COUNT (3) echo replies of SIZE (56) bytes.
ping_ok() {
    local addr=$1 c=${2:-3} s=${3:-56} out
    out=$(ping -c "$c" -s "$s" -W 5 "$addr" 2>&1) ||
        fail "ping -s $s $addr failed: $(echo "$out" | tail -n 2 | tr '\n' ' ')"
    log "ping -s $s $addr: $(echo "$out" | grep -E 'packets|round-trip' | tr '\n' ' ')"
}

# wait_ping ADDR [SECONDS] [SIZE]: until ADDR answers (the peer guest is up).
wait_ping() {
    local addr=$1 t=${2:-60} s=${3:-56} i=0
    while ! ping -c 1 -W 1 -s "$s" "$addr" >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -lt "$t" ] || fail "$addr does not answer ping -s $s within ${t}s"
    done
    log "$addr answers ping -s $s"
}

# --- counters ---------------------------------------------------------------

# stat IF NAME: one ethtool -S counter (0 if absent).
stat() {
    ethtool -S "$1" 2>/dev/null |
        awk -v k="$2:" '$1 == k { print $2; f = 1 } END { if (!f) print 0 }'
}

# ifstat IF NAME: /sys/class/net/IF/statistics/NAME (tx_bytes, rx_bytes...).
ifstat() { cat "/sys/class/net/$1/statistics/$2" 2>/dev/null || echo 0; }

# snap IF: remember the device's TX counters (for tx_report).
snap() {
    SNAP_FRAMES=$(stat "$1" tx_frames)
    SNAP_BYTES=$(stat "$1" tx_bytes)
    SNAP_HEAD=$(stat "$1" tx_head_bytes)
    SNAP_REF=$(stat "$1" tx_payload_ref_bytes)
    SNAP_COPY=$(stat "$1" tx_payload_copy_bytes)
}

# tx_report IF WHAT: log the device's TX counters since snap as
#   "txstat WHAT tx_frames=N tx_bytes=N tx_head_bytes=N
#    tx_payload_ref_bytes=N tx_payload_copy_bytes=N ratio=R% avg_frame=A"
# ratio = head bytes / bytes in percent; avg_frame = bytes per frame.
tx_report() {
    local dev=$1 what=$2 f b h r c
    f=$(($(stat "$dev" tx_frames) - SNAP_FRAMES))
    b=$(($(stat "$dev" tx_bytes) - SNAP_BYTES))
    h=$(($(stat "$dev" tx_head_bytes) - SNAP_HEAD))
    r=$(($(stat "$dev" tx_payload_ref_bytes) - SNAP_REF))
    c=$(($(stat "$dev" tx_payload_copy_bytes) - SNAP_COPY))
    log "txstat $what tx_frames=$f tx_bytes=$b tx_head_bytes=$h tx_payload_ref_bytes=$r tx_payload_copy_bytes=$c $(awk \
        -v f="$f" -v b="$b" -v h="$h" 'BEGIN {
            printf "ratio=%.2f%% avg_frame=%.0f", b ? 100 * h / b : 0, f ? b / f : 0 }')"
}

# counters_snap NAME...: remember these ethtool -S counters of NET_IF;
# counters_delta NAME: how much one has grown since.
counters_snap() {
    local k
    for k in "$@"; do
        eval "SNAP_$k=$(stat "$NET_IF" "$k")"
    done
}
counters_delta() {
    eval "echo \$(($(stat "$NET_IF" "$1") - SNAP_$1))"
}

# show_stats IF: ethtool -S IF into the log.
show_stats() {
    ethtool -S "$1" | sed 's/^ */guest: ethtool -S: /'
}

# --- transfers --------------------------------------------------------------

# wait_listen PORT PID: until a TCP socket listens on PORT, or the
# listener PID has already ended (a fast peer can connect, send and close
# between two looks, and nc -l stops listening once it accepts; the
# caller judges what it received).  At most 60 s: a 4-vCPU guest under
# TCG on a busy 2-core host took over 10 to start its eighth listener.
wait_listen() {
    local hex i=0
    hex=$(printf '%04X' "$1")
    while ! awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
                              END { exit !f }' /proc/net/tcp /proc/net/tcp6; do
        kill -0 "$2" 2>/dev/null || return 0
        i=$((i + 1))
        [ "$i" -lt 600 ] || fail "nothing listens on port $1"
        usleep 100000
    done
}

# recv_start PORT NAME: receive one connection on PORT in the background; its
# sha256 goes to /run/splitnet/NAME.sum, its size to NAME.len.  Returns once
# the port listens.  RECV_PID is the pipeline to wait for (recv_wait).
recv_start() {
    local port=$1 name=$2
    rm -f "/run/splitnet/$name.sum" "/run/splitnet/$name.len"
    (nc -l -p "$port" <>"$NETLIB_HOLD" | {
        sha256sum | cut -d' ' -f1 > "/run/splitnet/$name.sum"; }) &
    RECV_PID=$!
    wait_listen "$port" "$RECV_PID"
}

# recv_wait NAME WANT_SHA256 WHAT: wait for recv_start's pipeline, compare.
recv_wait() {
    local name=$1 want=$2 what=$3 got
    wait "$RECV_PID" || true
    got=$(cat "/run/splitnet/$name.sum" 2>/dev/null || true)
    log "sha256 $what received $got"
    [ "$got" = "$want" ] || fail "$what: received sha256 $got, sent $want"
    log "$what: sha256 matches"
}

# http_serve TAG: serve /tmp/www to one connection on port 5002 with busybox
# httpd (sendfile: large writes, so the stack builds TSO frames); `ready
# TAG` once it listens, returns when the transfer is done.
http_serve() {
    local pid
    nc -l -p 5002 -e busybox httpd -i -h /tmp/www &
    pid=$!
    wait_listen 5002 "$pid"
    ready "$1"
    wait "$pid" || fail "$1: httpd serving /tmp/www failed"
}

# serve_start PORT FILE: send FILE to the first connection on PORT, in the
# background (SERVE_PID); returns once the port listens.
serve_start() {
    nc -l -p "$1" < "$2" >/dev/null &
    # shellcheck disable=SC2034 # for the test script
    SERVE_PID=$!
    wait_listen "$1" "$SERVE_PID"
}

# send_to ADDR PORT FILE [SECONDS]: connect (retrying until the peer listens,
# up to SECONDS, 120) and send FILE.
send_to() {
    local addr=$1 port=$2 f=$3 t=${4:-120} i=0
    while ! nc "$addr" "$port" < "$f" >/dev/null 2>&1; do
        i=$((i + 1))
        [ "$i" -lt "$t" ] || fail "cannot send to $addr:$port"
        sleep 1
    done
}

# recv_from ADDR PORT NAME [SECONDS]: connect (retrying as send_to) and read
# until the peer closes; sha256 into /run/splitnet/NAME.sum.
recv_from() {
    local addr=$1 port=$2 name=$3 t=${4:-120} i=0
    : > "/run/splitnet/$name.sum"
    while ! nc "$addr" "$port" <>"$NETLIB_HOLD" > "/run/splitnet/$name.part" 2>/dev/null ||
          [ ! -s "/run/splitnet/$name.part" ]; do
        i=$((i + 1))
        [ "$i" -lt "$t" ] || fail "cannot receive from $addr:$port"
        sleep 1
    done
    sha256_of "/run/splitnet/$name.part" > "/run/splitnet/$name.sum"
    rm -f "/run/splitnet/$name.part"
}

# --- streamed transfers -----------------------------------------------------
#
# For transfers larger than tmpfs should hold: the stream is a random BLOCK
# file (make_data) COUNT times over, hashed on the way out by the sender and
# on the way in by the receiver, never stored.  The sender listens (so the
# stream waits in its pipe until the receiver connects); the receiver
# connects, retrying until the sender listens.

# sha256 of nothing: what a refused connection reads.
NETLIB_EMPTY_SHA256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# stream_serve PORT BLOCK COUNT TAG: in the background (SERVE_PID), send
# BLOCK COUNT times to the first connection on PORT; stream_served TAG
# waits for it.  It does not wait for the port to listen: the receiver,
# retrying, may connect before a look at the port would see it listen.
stream_serve() {
    local port=$1 f=$2 n=$3 tag=$4 fifo=/run/splitnet/$4.fifo
    rm -f "$fifo" "/run/splitnet/tx-$tag.sum"
    mkfifo "$fifo"
    sha256sum < "$fifo" | cut -d' ' -f1 > "/run/splitnet/tx-$tag.sum" &
    NETLIB_SHA_PID=$!
    (i=0
     while [ "$i" -lt "$n" ]; do cat "$f"; i=$((i + 1)); done |
         tee "$fifo" | nc -l -p "$port" >/dev/null) &
    SERVE_PID=$!
}

# stream_served TAG: wait for stream_serve and log "sha256 tx-TAG SUM".
stream_served() {
    wait "$SERVE_PID" || fail "$1: sending failed"
    wait "$NETLIB_SHA_PID"
    log "sha256 tx-$1 $(cat "/run/splitnet/tx-$1.sum")"
}

# stream_recv ADDR PORT TAG [SECONDS]: read a stream from ADDR:PORT until the
# sender closes, retrying for SECONDS (120) until it listens; logs
# "sha256 rx-TAG SUM".
stream_recv() {
    local addr=$1 port=$2 tag=$3 t=${4:-120} i=0 sum
    while :; do
        sum=$(nc "$addr" "$port" <>"$NETLIB_HOLD" 2>/dev/null | sha256sum | cut -d' ' -f1)
        [ "$sum" = "$NETLIB_EMPTY_SHA256" ] || break
        i=$((i + 1))
        [ "$i" -lt "$t" ] || fail "cannot receive from $addr:$port"
        sleep 1
    done
    log "sha256 rx-$tag $sum"
}

# --- pktgen -----------------------------------------------------------------
#
# Linux pktgen writes a header after UDP into each frame: magic 0xbe9be955
# and a sequence number that goes up by one for each frame the driver took
# (a frame the driver pushes back is sent again with the same number).  With
# burst 1 and clone_skb 0 each number goes out once: the host side
# (tests/guest/peer.py) checks them.

PG=/proc/net/pktgen

# pg FILE CMD: one pktgen command (pg "$NET_IF" "count 1000").
pg() {
    echo "$2" > "$PG/$1" || fail "pktgen: '$2' > $PG/$1 refused"
}

# pktgen_setup IF COUNT DST_IP DST_MAC: COUNT frames (0: until stopped)
# from IF, numbered, one skb each; set sizes etc. with pg after it.
pktgen_setup() {
    [ -d "$PG" ] || modprobe pktgen || fail "modprobe pktgen failed"
    pg kpktgend_0 rem_device_all
    pg kpktgend_0 "add_device $1"
    pg "$1" "count $2"
    pg "$1" "delay 0"
    pg "$1" "clone_skb 0"
    pg "$1" "burst 1"
    pg "$1" "dst $3"
    pg "$1" "dst_mac $4"
}

# pktgen_sent IF: "SOFAR ERRORS" of the last run.
pktgen_sent() {
    awk '/pkts-sofar:/ { print $2, $4 }' "$PG/$1"
}

# both_ways SUFFIX WHAT: with tests/guest/lib.sh's guest_xfer_setup on the
# host, receive on port 5001 (`ready h2gSUFFIX`; its sha256 must be
# H2G_SHA256), then serve /tmp/tx.bin on port 5002 (`ready g2hSUFFIX`)
# until the host has read it.  WHAT names the step in the log.
both_ways() {
    recv_start 5001 "h2g$1"
    ready "h2g$1"
    recv_wait "h2g$1" "$H2G_SHA256" "host->guest $2"
    serve_start 5002 /tmp/tx.bin
    ready "g2h$1"
    wait "$SERVE_PID" || fail "nc serving /tmp/tx.bin failed"
    log "guest->host $2 done"
}

# --- the kernel's view ------------------------------------------------------

# dma_info: log how the NIC's DMA is set up (IOMMU group, swiotlb).  With
# EXPECT_IOMMU=TYPE fail unless the device sits behind an IOMMU whose domain
# type is TYPE (DMA: strict, every unmap invalidates at once; DMA-FQ: lazy).
dma_info() {
    local g t=
    g=$(readlink "/sys/bus/pci/devices/$NET_BDF/iommu_group" 2>/dev/null || true)
    if [ -n "$g" ]; then
        t=$(cat "/sys/bus/pci/devices/$NET_BDF/iommu_group/type" 2>/dev/null || echo '?')
        log "iommu group ${g##*/}, domain type $t"
    else
        log "no IOMMU in front of $NET_BDF"
    fi
    dmesg | grep -E 'DMAR: (IOMMU enabled|Intel)|DMAR-IR: Enabled|iommu: (Default domain|DMA domain)|software IO TLB: mapped' |
        sed 's/^/guest: dmesg: /'
    if [ -n "${EXPECT_IOMMU:-}" ] && [ "$t" != "$EXPECT_IOMMU" ]; then
        fail "$NET_BDF: IOMMU domain type '${t:-none}', expected $EXPECT_IOMMU"
    fi
    return 0
}

# kernel_clean: fail when the kernel logged an oops, a warning, a DMA fault
# or a transmit timeout (and show those lines).
kernel_clean() {
    local bad
    # A log that wrapped (many link changes) could have lost what we look for.
    dmesg | head -n 1 | grep -q 'Linux version' ||
        fail "the kernel log no longer starts at boot: it wrapped, cannot tell it is clean"
    bad=$(dmesg | grep -E 'BUG:|WARNING:|Oops|Call Trace|DMAR: \[DMA|DMAR: DRHD: handling fault|watchdog: .*transmit queue|NETDEV WATCHDOG|swiotlb buffer is full|splitnet.*(error|fail)' |
        grep -v 'module verification failed' || true)
    if [ -n "$bad" ]; then
        echo "$bad" | head -n 30 | sed 's/^/guest: dmesg: /'
        fail "the kernel logged errors (above)"
    fi
    log "kernel log clean (no oops, warning, DMA fault or TX timeout)"
}

# snmp_errors: log the kernel's IP/TCP/UDP receive error counters as
# "snmp ip_hdr=N tcp_csum=N udp_csum=N", and fail when any is not 0 (a
# frame arrived corrupted: the driver leaves every checksum to the kernel).
snmp_errors() {
    local e
    e=$(awk '$1 == "Ip:" && !ih { for (i = 2; i <= NF; i++) ih[$i] = i; next }
             $1 == "Ip:" { ip = $ih["InHdrErrors"] }
             $1 == "Tcp:" && !th { for (i = 2; i <= NF; i++) th[$i] = i; next }
             $1 == "Tcp:" { tcp = $th["InCsumErrors"] }
             $1 == "Udp:" && !uh { for (i = 2; i <= NF; i++) uh[$i] = i; next }
             $1 == "Udp:" { udp = $uh["InCsumErrors"] }
             END { printf "ip_hdr=%d tcp_csum=%d udp_csum=%d", ip, tcp, udp }' /proc/net/snmp)
    log "snmp $e"
    [ "$e" = "ip_hdr=0 tcp_csum=0 udp_csum=0" ] ||
        fail "the kernel counted corrupted frames: $e"
}

# counters_check IF: the device's counters (ethtool -S, kept by the device
# and migrated with it) against the driver's, once two readings agree (no
# frame in between).  Every frame the device wrote into the RX ring reached
# the stack; every frame the driver saw completed left the device (a TSO
# frame as its segments); no errors or drops on either side.  Logs them as
# "counters KEY=N ..." and fails on a mismatch.
counters_check() {
    local dev=$1 a b i=0 bad
    b=$(ethtool -S "$dev")
    while :; do
        a=$b
        usleep 200000
        b=$(ethtool -S "$dev")
        [ "$a" != "$b" ] || break
        i=$((i + 1))
        [ "$i" -lt 100 ] || fail "$dev: its counters do not settle"
    done
    bad=$(echo "$b" | awk -F: '{ gsub(/ /, ""); v[$1] = $2 }
        END {
            printf "counters tx_frames=%d tso_frames=%d tso_segments=%d drv_tx_packets=%d tx_stalls=%d rx_frames=%d drv_rx_packets=%d rx_bytes=%d drv_rx_bytes=%d rx_no_buffer=%d\n",
                v["tx_frames"], v["tx_tso_frames"], v["tx_tso_segments"],
                v["drv_tx_packets"], v["tx_stalls"], v["rx_frames"],
                v["drv_rx_packets"], v["rx_bytes"], v["drv_rx_bytes"],
                v["rx_no_buffer"]
            if (v["tx_frames"] - v["tx_tso_segments"] + v["tx_tso_frames"] != v["drv_tx_packets"])
                print "TX: device frames (TSO frames as one) != driver packets"
            if (v["rx_frames"] != v["drv_rx_packets"] || v["rx_bytes"] != v["drv_rx_bytes"])
                print "RX: device frames/bytes != driver packets/bytes"
            split("tx_errors rx_errors drv_tx_dropped drv_tx_map_errors drv_rx_dropped drv_rx_errors", z, " ")
            for (k in z)
                if (v[z[k]] != 0) print z[k] " = " v[z[k]]
        }')
    log "$(echo "$bad" | head -n1)"
    bad=$(echo "$bad" | tail -n +2)
    [ -z "$bad" ] || fail "$dev: counters disagree: $(echo "$bad" | tr '\n' ';')"
}

# tx_idle IF [SECONDS]: until no byte the stack gave the driver is waiting
# for its completion (BQL's inflight is 0): everything was sent.
tx_idle() {
    local f=/sys/class/net/$1/queues/tx-0/byte_queue_limits/inflight i=0
    while [ "$(cat "$f")" != 0 ]; do
        i=$((i + 1))
        [ "$i" -lt $((${2:-120} * 10)) ] || fail "$1: $(cat "$f") bytes still in flight"
        usleep 100000
    done
}

# --- interrupting transfers -------------------------------------------------

# wait_counter IF NAME BYTES [SECONDS]: until /sys/class/net/IF/statistics/
# NAME (tx_bytes, rx_bytes) has grown by BYTES from now (a transfer is well
# under way), or fail after SECONDS (120).
wait_counter() {
    local dev=$1 c=$2 n=$3 t=${4:-120} start i=0
    start=$(ifstat "$dev" "$c")
    while [ $(($(ifstat "$dev" "$c") - start)) -lt "$n" ]; do
        i=$((i + 1))
        [ "$i" -lt $((t * 10)) ] || fail "$dev: $c did not grow by $n bytes in ${t}s"
        usleep 100000
    done
}

# kill_nc: end every nc (a transfer cut short) and reap the background jobs.
kill_nc() {
    local p
    for p in $(pidof nc); do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}

# splitnet_rmmod: unload splitnet, and check its interface is gone.
splitnet_rmmod() {
    local t0
    t0=$(now)
    rmmod splitnet || fail "rmmod splitnet failed"
    log "rmmod splitnet took $(elapsed "$t0" "$(now)") s"
    ! grep -q '^splitnet ' /proc/modules || fail "splitnet still loaded after rmmod"
    [ ! -e "/sys/bus/pci/devices/$NET_BDF/driver" ] ||
        fail "$NET_BDF still has a driver after rmmod"
    [ ! -e "/sys/class/net/$NET_IF" ] || fail "$NET_IF still there after rmmod"
}

# --- the host's control port ------------------------------------------------

# ctl_open: open /dev/ttyS1, the port the host writes to with guest_signal
# (tests/guest/lib.sh), on fd 3.  Open it before the host may write: the
# UART's receive FIFO is cleared when the port is opened.
ctl_open() {
    [ -c /dev/ttyS1 ] || fail "no /dev/ttyS1: the host must give the guest its control port"
    stty -F /dev/ttyS1 raw -echo || fail "stty /dev/ttyS1 failed"
    exec 3</dev/ttyS1
}

# ctl_wait WORD [SECONDS]: wait (default 120 s) for the line WORD on the
# control port.
ctl_wait() {
    local line
    # shellcheck disable=SC3045 # busybox ash has read -t
    while read -r -t "${2:-120}" line <&3; do
        [ "$(echo "$line" | tr -d '\r')" = "$1" ] && return 0
    done
    fail "no '$1' from the host on /dev/ttyS1"
}
