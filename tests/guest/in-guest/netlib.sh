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

# show_stats IF: ethtool -S IF into the log.
show_stats() {
    ethtool -S "$1" | sed 's/^ */guest: ethtool -S: /'
}

# --- transfers --------------------------------------------------------------

# wait_listen PORT [SECONDS]: until a TCP socket listens on PORT.
wait_listen() {
    local hex i=0
    hex=$(printf '%04X' "$1")
    while ! awk -v p=":$hex" '$4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
                              END { exit !f }' /proc/net/tcp /proc/net/tcp6; do
        i=$((i + 1))
        [ "$i" -lt $((${2:-10} * 10)) ] || fail "nothing listens on port $1"
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
    wait_listen "$port"
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

# serve_start PORT FILE: send FILE to the first connection on PORT, in the
# background (SERVE_PID); returns once the port listens.
serve_start() {
    nc -l -p "$1" < "$2" >/dev/null &
    # shellcheck disable=SC2034 # for the test script
    SERVE_PID=$!
    wait_listen "$1"
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
