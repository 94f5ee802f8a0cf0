#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# splitnet under libvirt: install libvirt 11.3 (bookworm-backports), start
# its daemons, define a domain from docs/libvirt/splitnet-domain.xml with
# this build's paths, boot the project's test guest in it and check, on its
# serial console, that the guest sees the splitnet function (0x1af4:0x10f5),
# loads build/guest/driver/splitnet.ko and gets a DHCP lease over slirp
# (restrict=on).  Then the domain is destroyed and undefined and the daemons
# this script started are stopped.  Run as root.
#
# Usage: scripts/libvirt-demo.sh [--layout=q35|q35-bridge|pc]
#   --layout=q35         (default) q35, the NIC where libvirt puts it: on a
#                        pcie-root-port
#   --layout=q35-bridge  q35, the NIC on a pcie-to-pci-bridge (a conventional
#                        PCI bus), by explicit address
#   --layout=pc          i440fx, the NIC on the PCI root bus
#
# Output in build/libvirt/: console.log (serial), domain.xml (the filled
# template), domain-defined.xml (virsh dumpxml), qemu.log (libvirt's log of
# the QEMU command line), install.log.
#
# Network: the guest's only NIC is slirp with restrict=on (checked with
# `info network` before the guest runs, and from inside the guest: a
# connection to 10.0.2.2, i.e. the host's 127.0.0.1, must be refused while
# something listens there).  The daemons (and so QEMU) also run in a network
# namespace of their own that has only a loopback, so nothing the guest
# sends can leave the machine even if slirp were not restricted.
#
# Environment:
#   SPLITNET_GUEST_NOFETCH=1   use build/guest as it is (no scripts/fetch-guest.sh)
#   SPLITNET_LIBVIRT_TIMEOUT   seconds the guest may take (default 120)

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/guest/lib.sh
. "$TOP/tests/guest/lib.sh"

layout=q35
for arg in "$@"; do
    case $arg in
    --layout=q35|--layout=q35-bridge|--layout=pc) layout=${arg#--layout=} ;;
    -h|--help) sed -n '3,33p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (see --help)" ;;
    esac
done

[ "$(id -u)" = 0 ] || die "run as root (installs libvirt, starts libvirtd)"

DOMAIN=splitnet-demo
OUT=$SPLITNET_BUILD/libvirt
TEMPLATE=$TOP/docs/libvirt/splitnet-domain.xml
TIMEOUT=${SPLITNET_LIBVIRT_TIMEOUT:-120}
VIRSH=(virsh -q -c qemu:///system)
mkdir -p "$OUT"

step() { printf '\n==> %s\n' "$*" >&2; }

# --- 1. libvirt 11.3 ---------------------------------------------------------
#
# bookworm's libvirt 9.0 cannot start QEMU 10.0 (it passes -no-acpi).  The
# private apt configuration here lists bookworm and bookworm-backports only:
# with trixie also listed (as scripts/lib.sh's apt_priv_update does), `-t
# bookworm-backports` leaves bookworm and trixie at the same priority and apt
# takes trixie's newer libc6, glib, systemd, ... for every dependency it
# touches.

# Empty when not installed (dpkg-query exits 1 for a package it never saw:
# expected, so it must not fail the pipe under pipefail).
libvirt_version() {
    { dpkg-query -W -f='${Status} ${Version}\n' libvirt-daemon-system 2>/dev/null ||
          true; } | awk '$3 == "installed" { print $4 }'
}

install_libvirt() {
    local v t0 mirror
    v=$(libvirt_version)
    if [ -n "$v" ] && dpkg --compare-versions "$v" ge 11 &&
       command -v virsh >/dev/null && command -v libvirtd >/dev/null; then
        say "libvirt $v is installed"
        return 0
    fi
    [ -z "$v" ] || say "libvirt $v is too old for QEMU 10.0, installing 11.3"
    APT_PRIV=$SPLITNET_CACHE/apt-libvirt
    mkdir -p "$APT_PRIV/lists/partial" "$APT_PRIV/cache/archives/partial"
    mirror=$(detect_mirror)
    cat > "$APT_PRIV/sources.list" <<EOS
deb [signed-by=$SPLITNET_KEYRING] $mirror bookworm main
deb [signed-by=$SPLITNET_KEYRING] $mirror bookworm-backports main
EOS
    t0=$(date +%s)
    say "apt-get update (bookworm, bookworm-backports; $mirror)"
    # shellcheck disable=SC2046
    apt-get $(apt_priv_opts) update > "$OUT/install.log" 2>&1 ||
        die "apt-get update failed, see ${OUT#"$TOP"/}/install.log"
    say "apt-get install -t bookworm-backports libvirt-daemon-system libvirt-clients"
    # shellcheck disable=SC2046
    DEBIAN_FRONTEND=noninteractive apt-get $(apt_priv_opts) install -y \
        -t bookworm-backports --no-install-recommends \
        libvirt-daemon-system libvirt-clients >> "$OUT/install.log" 2>&1 ||
        die "installing libvirt failed, see ${OUT#"$TOP"/}/install.log"
    v=$(libvirt_version)
    say "installed libvirt $v in $(( $(date +%s) - t0 )) s"
    dpkg --compare-versions "${v:-0}" ge 11 || die "installed libvirt is $v, not >= 11"
}

# `ip` (iproute2) brings up the loopback of the daemons' network namespace;
# libvirt does not pull it in, and a minimal Debian has none.
install_ip() {
    command -v ip >/dev/null && return 0
    say "apt-get install iproute2 (for ip)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends iproute2 >> "$OUT/install.log" 2>&1 ||
        { apt-get update -q >> "$OUT/install.log" 2>&1 &&
          apt-get install -y -q --no-install-recommends iproute2 >> "$OUT/install.log" 2>&1; } ||
        die "apt-get install iproute2 failed, see ${OUT#"$TOP"/}/install.log"
}

step "1/5 libvirt"
install_libvirt
install_ip
record_version libvirt-daemon-system "$(libvirt_version)"
record_version libvirt-clients "$(dpkg-query -W -f='${Version}' libvirt-clients)"

# --- 2. guest, driver, files for QEMU ---------------------------------------
#
# QEMU runs as libvirt-qemu.  The kernel and initramfs are relabelled by
# libvirt, but what QEMU opens itself (-L, -fw_cfg) is not, and the firmware
# in build/guest/firmware links into root's cache: stage readable copies.

step "2/5 guest kernel, initramfs, driver"
guest_prepare
DRIVER=$SPLITNET_BUILD/guest/driver/splitnet.ko
[ -f "$DRIVER" ] || die "no ${DRIVER#"$TOP"/} (make, or scripts/build-driver.sh)"
krel=$(cat "$SPLITNET_BUILD/guest/driver/kernelrelease" 2>/dev/null || true)
[ -z "$krel" ] || [ "$krel" = "$KVER" ] ||
    die "${DRIVER#"$TOP"/} is built for $krel, the guest runs $KVER (scripts/build-driver.sh)"
QEMU_BIN=$(guest_qemu)
qemu_has_device splitnet || die "$QEMU_BIN has no splitnet device"
say "kernel $KVER, driver ${DRIVER#"$TOP"/}, $("$QEMU_BIN" --version | head -n1)"

rm -rf "$OUT/firmware"
mkdir -p "$OUT/firmware"
cp -L "$FIRMWARE"/* "$OUT/firmware/" 2>/dev/null || true
[ -f "$OUT/firmware/bios-256k.bin" ] || die "no bios-256k.bin in $FIRMWARE"
cp "$KERNEL" "$OUT/vmlinuz"
cp "$INITRD" "$OUT/initramfs.cpio.gz"
cp "$DRIVER" "$OUT/splitnet.ko"
cp "$GUEST_IN_GUEST/netlib.sh" "$OUT/netlib.sh"
cat > "$OUT/test.sh" <<'EOF'
# In-guest part of scripts/libvirt-demo.sh (busybox sh -e, with
# /lib/splitnet/guest.sh sourced by the test guest's /init).
. /run/splitnet/files/netlib.sh
log "PCI functions (BDF vendor device class):"
pci_list | sed 's/^/guest:   /'
bdf=$(pci_find 0x1af4 0x10f5)
[ -n "$bdf" ] || fail "no 0x1af4:0x10f5 function in /sys/bus/pci/devices"
log "SPLITNET-DEVICE: 0x1af4:0x10f5 at $bdf, class $(sysattr "/sys/bus/pci/devices/$bdf/class")"
splitnet_up
dhcp "$NET_IF"
ping_ok 10.0.2.2 3
# restrict=on: slirp must refuse a connection to 10.0.2.2 (the host's
# 127.0.0.1), although the host side listens on that port.
if nc -w 5 10.0.2.2 "$PROBE_PORT" </dev/null >/dev/null 2>&1; then
    fail "connected to 10.0.2.2:$PROBE_PORT: slirp is not restricted"
fi
log "restrict: 10.0.2.2:$PROBE_PORT refused (the host listens on 127.0.0.1:$PROBE_PORT)"
kernel_clean
EOF
: > "$OUT/console.log"
chmod 0755 "$OUT" "$OUT/firmware"
chmod 0644 "$OUT"/firmware/* "$OUT/vmlinuz" "$OUT/initramfs.cpio.gz" \
    "$OUT/splitnet.ko" "$OUT/netlib.sh" "$OUT/test.sh"
# ... and every directory above $OUT must be searchable by libvirt-qemu
d=$OUT
while [ "$d" != / ]; do
    [ "$(stat -c %A "$d" | cut -c10)" = x ] ||
        die "$d is not searchable by others: QEMU (user libvirt-qemu) cannot reach ${OUT#"$TOP"/}"
    d=$(dirname "$d")
done

# --- 3. daemons --------------------------------------------------------------

STARTED_PIDS=()
PROBE_PID=
cleanup() {
    local p i n
    # Best effort: what is already gone is no error (set +e: nor does the
    # ERR trap report it).
    set +e
    if "${VIRSH[@]}" dominfo "$DOMAIN" >/dev/null 2>&1; then
        "${VIRSH[@]}" destroy "$DOMAIN" >/dev/null 2>&1
        "${VIRSH[@]}" undefine "$DOMAIN" >/dev/null 2>&1 &&
            say "domain $DOMAIN destroyed and undefined"
    fi
    if [ -n "$PROBE_PID" ]; then
        kill "$PROBE_PID" 2>/dev/null
        wait "$PROBE_PID" 2>/dev/null
    fi
    for p in ${STARTED_PIDS[@]+"${STARTED_PIDS[@]}"}; do
        n=$(cat "/proc/$p/comm" 2>/dev/null) || continue
        kill -TERM "$p" 2>/dev/null || continue
        for i in $(seq 50); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null
        say "stopped $n (pid $p)"
    done
}
trap cleanup EXIT

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

step "3/5 libvirt daemons"
if pid_alive /run/libvirtd.pid; then
    die "a libvirtd (pid $(cat /run/libvirtd.pid)) already runs; this script starts its own in a private network namespace: stop that one first"
fi
pid_alive /run/virtlogd.pid &&
    die "a virtlogd (pid $(cat /run/virtlogd.pid)) already runs: stop it first"
# A network namespace with only a loopback: libvirtd, its QEMU and slirp
# live there.
unshare --net sh -c 'ip link set lo up && virtlogd -d && libvirtd -d' ||
    die "could not start virtlogd/libvirtd in a new network namespace"
for _ in $(seq 50); do
    pid_alive /run/libvirtd.pid && [ -S /run/libvirt/libvirt-sock ] && break
    sleep 0.2
done
pid_alive /run/virtlogd.pid && STARTED_PIDS+=("$(cat /run/virtlogd.pid)")
pid_alive /run/libvirtd.pid || die "libvirtd did not start"
LIBVIRTD_PID=$(cat /run/libvirtd.pid)
STARTED_PIDS=("$LIBVIRTD_PID" ${STARTED_PIDS[@]+"${STARTED_PIDS[@]}"})
say "virtlogd and libvirtd $LIBVIRTD_PID in network namespace $(readlink "/proc/$LIBVIRTD_PID/ns/net") (links: $(nsenter --net="/proc/$LIBVIRTD_PID/ns/net" ip -o link | awk -F': ' '{ printf "%s ", $2 }'))"
"${VIRSH[@]}" version | sed 's/^/  /' >&2

# --- 4. the domain -----------------------------------------------------------

step "4/5 domain $DOMAIN ($layout)"
# Something listening on 127.0.0.1 in QEMU's namespace, for the guest to
# fail to reach through 10.0.2.2.
PROBE_PORT_FILE=$OUT/probe.port PROBE_HITS=$OUT/probe.hits
rm -f "$PROBE_PORT_FILE" "$PROBE_HITS"
nsenter --net="/proc/$LIBVIRTD_PID/ns/net" python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1], "w").write("%d\n" % s.getsockname()[1])
n = 0
open(sys.argv[2], "w").write("0\n")
while True:
    c, a = s.accept()
    n += 1
    open(sys.argv[2], "w").write("%d\n" % n)
    c.close()
' "$PROBE_PORT_FILE" "$PROBE_HITS" &
PROBE_PID=$!
for _ in $(seq 50); do [ -s "$PROBE_PORT_FILE" ] && break; sleep 0.1; done
PROBE_PORT=$(cat "$PROBE_PORT_FILE" 2>/dev/null) || die "the probe listener did not start"
printf 'PROBE_PORT=%s\n' "$PROBE_PORT" > "$OUT/env"
chmod 0644 "$OUT/env"

# (without the template's header comment, which lists the placeholders)
sed -e '2,/^-->$/d' \
    -e "s|@DOMAIN@|$DOMAIN|g" \
    -e "s|@EMULATOR@|$QEMU_BIN|g" \
    -e "s|@KERNEL@|$OUT/vmlinuz|g" \
    -e "s|@INITRD@|$OUT/initramfs.cpio.gz|g" \
    -e "s|@CMDLINE@|console=ttyS0 quiet panic=-1 splitnet.test=libvirt|g" \
    -e "s|@CONSOLE_LOG@|$OUT/console.log|g" \
    -e "s|@FIRMWARE@|$OUT/firmware|g" \
    -e "s|@TEST_DIR@|$OUT|g" \
    "$TEMPLATE" > "$OUT/domain.xml"
case $layout in
pc) sed -i "s|machine='q35'|machine='pc'|" "$OUT/domain.xml" ;;
q35-bridge)
    sed -i -e "s|^\(\s*\)<alias name='ua-splitnet0'/>|&\n\1<address type='pci' domain='0x0000' bus='0x02' slot='0x01' function='0x0'/>|" \
        -e "s|^\(\s*\)<controller type='usb' model='none'/>|&\n\1<controller type='pci' index='2' model='pcie-to-pci-bridge'/>|" \
        "$OUT/domain.xml" ;;
esac
grep -q '@[A-Z_]*@' "$OUT/domain.xml" && die "unfilled placeholder in $OUT/domain.xml"

"${VIRSH[@]}" define "$OUT/domain.xml" >&2
"${VIRSH[@]}" dumpxml "$DOMAIN" > "$OUT/domain-defined.xml"
say "the domain as libvirt defined it (${OUT#"$TOP"/}/domain-defined.xml):"
sed 's/^/  | /' "$OUT/domain-defined.xml" >&2

# Start paused and look at the backend before the guest runs a single
# instruction.
t0=$(date +%s.%N)
"${VIRSH[@]}" start --paused "$DOMAIN" >&2
net=$("${VIRSH[@]}" qemu-monitor-command --hmp "$DOMAIN" 'info network' | tr -d '\r')
echo "$net" | sed 's/^/  info network: /' >&2
echo "$net" | grep -q 'type=user,.*restrict=on' ||
    die "the guest's slirp netdev is not restrict=on"
echo "$net" | grep 'type=user' | grep -vq 'restrict=on' &&
    die "an unrestricted user netdev exists"
# the last start in libvirt's log of this domain
awk '/^LC_ALL=/ { b = ""; on = 1 } on { b = b $0 "\n" } /^-msg/ { on = 0 }
     END { printf "%s", b }' "/var/log/libvirt/qemu/$DOMAIN.log" > "$OUT/qemu.log"
say "QEMU command line: ${OUT#"$TOP"/}/qemu.log"
{ grep -E '^-(machine|netdev|set) |^-device .*splitnet' "$OUT/qemu.log" || true; } |
    sed 's/^/  /' >&2
"${VIRSH[@]}" resume "$DOMAIN" >&2

# --- 5. the guest ------------------------------------------------------------

step "5/5 the guest (TCG; about 10 s)"
end=$(( $(date +%s) + TIMEOUT ))
while ! grep -aq 'SPLITNET-RESULT: ' "$OUT/console.log"; do
    if [ "$(date +%s)" -ge "$end" ]; then
        tr -d '\r' < "$OUT/console.log" | tail -n 30 | sed 's/^/  console| /' >&2
        die "no result from the guest within ${TIMEOUT}s"
    fi
    if ! "${VIRSH[@]}" domstate "$DOMAIN" 2>/dev/null | grep -q running; then
        sleep 0.5
        grep -aq 'SPLITNET-RESULT: ' "$OUT/console.log" && break
        tr -d '\r' < "$OUT/console.log" | tail -n 30 | sed 's/^/  console| /' >&2
        die "the domain stopped without a result"
    fi
    sleep 0.5
done
el=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
tr -d '\r' < "$OUT/console.log" | { grep -aE '^(guest:|udhcpc:|SPLITNET-)' || true; } |
    sed 's/^/  console| /' >&2
for _ in $(seq 50); do
    "${VIRSH[@]}" domstate "$DOMAIN" 2>/dev/null | grep -q 'shut off' && break
    sleep 0.2
done
say "domain state after the guest powered off: $("${VIRSH[@]}" domstate "$DOMAIN" 2>/dev/null | head -n1)"

hits=$(cat "$PROBE_HITS" 2>/dev/null || echo '?')
[ "$hits" = 0 ] || die "the probe listener on 127.0.0.1:$PROBE_PORT saw $hits connection(s) from the guest"
say "the probe listener on 127.0.0.1:$PROBE_PORT saw no connection"

grep -aq 'SPLITNET-RESULT: PASS' "$OUT/console.log" ||
    die "the guest failed (${OUT#"$TOP"/}/console.log)"
grep -aq 'SPLITNET-DEVICE: 0x1af4:0x10f5' "$OUT/console.log" || die "no device line"
grep -aq 'udhcpc: lease of ' "$OUT/console.log" || die "no DHCP lease"
say "PASS: libvirt $(libvirt_version) ran splitnet ($layout): device seen, driver loaded, DHCP lease over restricted slirp (${el}s from start)"
