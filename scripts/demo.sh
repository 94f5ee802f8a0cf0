#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# splitnet demo: boot a Linux guest (Debian's 6.1 kernel, busybox) on the
# built QEMU with a splitnet NIC and show the guest's view of it.
#
# Usage: scripts/demo.sh [--device=NAME] [--shell]
#   --device=NAME  show another NIC instead (virtio-net-pci, e1000, e1000e,
#                  vmxnet3), e.g. to compare, or before splitnet is built
#   --shell        after the check, stay in the guest's shell on this
#                  terminal (leave with `poweroff -f`, or Ctrl-A x)
# Environment: QEMU=/path/to/qemu-system-x86_64 (default: the project build)
#
# The guest's only network is QEMU's user-mode network with restrict=on:
# nothing it sends leaves this machine.

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/guest/lib.sh
. "$TOP/tests/guest/lib.sh"

device=splitnet
shell=0
for arg in "$@"; do
    case $arg in
    --device=*) device=${arg#--device=} ;;
    --shell) shell=1 ;;
    -h|--help) sed -n '3,15p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (see --help)" ;;
    esac
done

# vendor, device and class ids each NIC should show
case $device in
splitnet)       ids="0x1af4 0x10f5 0x020000" ;;
virtio-net-pci) ids="0x1af4 0x1000 0x020000" ;;
e1000)          ids="0x8086 0x100e 0x020000" ;;
e1000e)         ids="0x8086 0x10d3 0x020000" ;;
vmxnet3)        ids="0x15ad 0x07b0 0x020000" ;;
*) die "no expected ids for device $device" ;;
esac
read -r vendor devid class <<<"$ids"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*" >&2; }

step "1/3 guest kernel, initramfs and firmware (cached after the first run)"
guest_prepare
say "kernel $KVER, initramfs ${INITRD#"$TOP"/}, firmware ${FIRMWARE#"$TOP"/}"

step "2/3 QEMU"
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

# shellcheck disable=SC2054 # commas inside QEMU options
nic=(-netdev user,id=n0,restrict=on -device "$device,netdev=n0,romfile=")
guest_env "EXPECT_VENDOR=$vendor" "EXPECT_DEVICE=$devid" "EXPECT_CLASS=$class"

if [ "$shell" = 1 ]; then
    step "3/3 booting the guest on this terminal (TCG; about 10 s)"
    guest_append splitnet.shell=1
    guest_command demo pci-enum.sh "${nic[@]}"
    exec "${GUEST_CMD[@]}"
fi

step "3/3 booting the guest with -device $device (TCG; about 10 s)"
trap guest_cleanup EXIT
guest_start demo pci-enum.sh "${nic[@]}"
# follow the serial console as it comes
tail -n +1 -f --pid="${GUEST_PIDS[demo]}" "${GUEST_LOGS[demo]}" |
    tr -d '\r' | sed -u -e 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1b[A-Za-z]//g' \
        -e '/^#/d; s/^/  console| /' >&2 &
follower=$!
rc=0
guest_finish demo 2>/dev/null || rc=$?
wait "$follower" 2>/dev/null || true

echo
if [ "$rc" = 0 ]; then
    echo "The guest sees the $device NIC ($vendor:$devid, class $class):"
    guest_output demo | sed -n 's/^guest: \(\/sys\|lspci\|network\)/  \1/p'
    echo
    echo "splitnet demo: OK ($GUEST_ELAPSED s; full log ${GUEST_LOGS[demo]#"$TOP"/})"
else
    echo "splitnet demo: FAILED: the guest did not see $vendor:$devid (log ${GUEST_LOGS[demo]#"$TOP"/})"
    exit 1
fi
