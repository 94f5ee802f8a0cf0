#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# splitnet demo: boot a Linux guest (Debian's 6.1 kernel, busybox) on the
# built QEMU with a splitnet NIC, load the splitnet driver, get an address by
# DHCP, move data both ways with sha256 checks, and show how much of what
# the guest sent the device copied (the heads) and how much it passed by
# reference (the payloads).
#
# Usage: scripts/demo.sh [--mib=N] [--device=NAME] [--shell]
#   --mib=N        MiB to move each way (default 16)
#   --device=NAME  use another NIC instead (virtio-net-pci, e1000, e1000e,
#                  vmxnet3) with the guest kernel's own driver, to compare
#   --shell        bring the network up, then stay in the guest's shell on
#                  this terminal (leave with `poweroff -f`, or Ctrl-A x)
# Environment: QEMU=/path/to/qemu-system-x86_64 (default: the project build)
#
# The guest's only network is QEMU's user-mode network with restrict=on: the
# host connects into it through ports forwarded on 127.0.0.1, and nothing
# the guest sends leaves this machine.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/guest/lib.sh
. "$TOP/tests/guest/lib.sh"

device=splitnet
shell=0
mib=16
for arg in "$@"; do
    case $arg in
    --device=*) device=${arg#--device=} ;;
    --mib=*) mib=${arg#--mib=} ;;
    --shell) shell=1 ;;
    -h|--help) sed -n '3,21p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (see --help)" ;;
    esac
done
[[ $mib =~ ^[1-9][0-9]{0,2}$ ]] || die "--mib wants 1..999"

# vendor and device ids of each NIC, and the guest modules that drive it
case $device in
splitnet)       ids="0x1af4 0x10f5"; modules= ;;
virtio-net-pci) ids="0x1af4 0x1000"; modules="virtio_pci virtio_net" ;;
e1000)          ids="0x8086 0x100e"; modules=e1000 ;;
e1000e)         ids="0x8086 0x10d3"; modules=e1000e ;;
vmxnet3)        ids="0x15ad 0x07b0"; modules=vmxnet3 ;;
*) die "no expected ids for device $device" ;;
esac

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

step "1/4 guest kernel, initramfs and firmware (cached after the first run)"
guest_prepare
say "kernel $KVER, initramfs ${INITRD#"$TOP"/}, firmware ${FIRMWARE#"$TOP"/}"

step "2/4 QEMU"
QEMU_BIN=$(guest_qemu)
say "$QEMU_BIN: $("$QEMU_BIN" --version | head -n1)"
qemu_has_device "$device" ||
    die "this QEMU has no '$device' device (build the project: ./configure && make)"
if [ "$device" = splitnet ]; then
    # its own properties, without the ones every PCI device has
    "$QEMU_BIN" -machine none -device splitnet,help 2>/dev/null |
        grep -vE '^ +(x-|acpi-index|addr|bootindex|busnr|failover_pair_id|multifunction|rom)' |
        sed 's/^/    /' >&2 || true
fi

step "3/4 the guest driver"
if [ "$device" = splitnet ]; then
    ko=$SPLITNET_BUILD/guest/driver/splitnet.ko
    [ -f "$ko" ] || die "no ${ko#"$TOP"/}: build it with make (or scripts/build-driver.sh)"
    say "${ko#"$TOP"/} ($(du -k "$ko" | cut -f1) KiB, built for $(cat "$SPLITNET_BUILD/guest/driver/kernelrelease" 2>/dev/null || echo '?')), handed to the guest through fw_cfg"
    guest_driver
else
    say "the guest kernel's own: $modules"
    guest_env "NIC_IDS=$ids" "NIC_MODULES=$modules"
fi
guest_net_helpers

{ read -r p1; read -r p2; } < <(guest_free_ports 2)
# shellcheck disable=SC2054 # commas inside QEMU options
nic=(-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$p1-:5001,hostfwd=tcp:127.0.0.1:$p2-:5002"
     -device "$device,netdev=n0,romfile=")

if [ "$shell" = 1 ]; then
    step "4/4 booting the guest on this terminal (TCG; about 10 s)"
    say "the guest loads the driver and runs udhcpc, then gives you a shell;"
    say "127.0.0.1:$p1 and 127.0.0.1:$p2 on this host reach its ports 5001 and 5002"
    say "(e.g. in the guest: nc -l -p 5001 | sha256sum)"
    guest_env SETUP_ONLY=1
    guest_append splitnet.shell=1
    guest_command demo slirp-traffic.sh "${nic[@]}"
    exec "${GUEST_CMD[@]}"
fi

step "4/4 booting the guest with -device $device, then $mib MiB each way (TCG)"
data=$GUEST_LOGDIR/demo.h2g
trap 'guest_cleanup; rm -f "$data"' EXIT
want=$(host_data "$data" "$mib")
guest_env "H2G_SHA256=$want" "MIB=$mib"
guest_start demo slirp-traffic.sh "${nic[@]}"
# follow the serial console as it comes (without the ethtool -S dump)
tail -n +1 -f --pid="${GUEST_PIDS[demo]}" "${GUEST_LOGS[demo]}" |
    sed -u -e 's/\r//g; s/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[A-Za-z]//g' \
        -e '/^#/d; /^guest: ethtool -S: /d; s/^/  console| /' >&2 &
follower=$!

rc=0
say "host: $mib MiB of random data, sha256 $want"
if guest_ready demo h2g; then
    say "host: sending it to the guest through 127.0.0.1:$p1 (slirp hostfwd -> guest port 5001)"
    guest_h2g demo h2g "$p1" "$data" || rc=1
else
    rc=1
fi
if [ "$rc" = 0 ] && guest_ready demo g2h; then
    gsum=$(guest_made_sha256 demo /tmp/tx.bin)
    say "host: reading the guest's $mib MiB through 127.0.0.1:$p2 (guest port 5002)"
    guest_g2h demo g2h "$p2" "$gsum" || rc=1
else
    rc=1
fi
guest_finish demo 300 2>/dev/null || rc=1
wait "$follower" 2>/dev/null || true

echo
if [ "$rc" != 0 ]; then
    echo "splitnet demo: FAILED (full log ${GUEST_LOGS[demo]#"$TOP"/})"
    exit 1
fi
got=$(guest_value demo 'sha256 host->guest received')
echo "$device, DHCP address $(guest_value demo 'dhcp:' | awk '{ sub(/,$/, "", $3); print $3 }'):"
printf '  host -> guest %3d MiB  sent     sha256 %s\n' "$mib" "$want"
printf '                        received sha256 %s  %s\n' "$got" \
    "$([ "$got" = "$want" ] && echo OK || echo DIFFERENT)"
printf '  guest -> host %3d MiB  sent     sha256 %s\n' "$mib" "$gsum"
printf '                        received sha256 %s  %s\n' "$G2H_SHA256" \
    "$([ "$G2H_SHA256" = "$gsum" ] && echo OK || echo DIFFERENT)"
if [ "$device" = splitnet ]; then
    st=$(guest_value demo 'txstat g2h')
    echo
    echo "What splitnet did with the guest -> host frames (ethtool -S, over that transfer):"
    tr ' ' '\n' <<<"$st" | awk -F= '
        $1 == "tx_frames"             { printf "  %-22s %12s  frames sent\n", $1, $2 }
        $1 == "tx_bytes"              { printf "  %-22s %12s  bytes sent\n", $1, $2 }
        $1 == "tx_head_bytes"         { printf "  %-22s %12s  copied from the header pool (the heads)\n", $1, $2 }
        $1 == "tx_payload_ref_bytes"  { printf "  %-22s %12s  passed by reference (the payloads)\n", $1, $2 }
        $1 == "tx_payload_copy_bytes" { printf "  %-22s %12s  small payload pieces copied (tx-copybreak)\n", $1, $2 }
        $1 == "ratio"                 { printf "  %-22s %12s  of the bytes sent were copied\n", "head / bytes", $2 }
        $1 == "avg_frame"             { printf "  %-22s %12s  bytes\n", "average frame", $2 }'
fi
echo
echo "splitnet demo: OK ($GUEST_ELAPSED s; full log ${GUEST_LOGS[demo]#"$TOP"/})"
