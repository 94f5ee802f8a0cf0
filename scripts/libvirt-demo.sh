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
# namespace of their own that has only a loopback (`ip netns`), so nothing
# the guest sends can leave the machine even if slirp were not restricted.
# `make check-libvirt` (scripts/check-libvirt.sh) is the same as a test, and
# more.
#
# Environment:
#   SPLITNET_GUEST_NOFETCH=1   use build/guest as it is (no scripts/fetch-guest.sh)
#   SPLITNET_LIBVIRT_TIMEOUT   seconds the guest may take (default 120)

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/guest/lib.sh
. "$TOP/tests/guest/lib.sh"
# shellcheck source=scripts/libvirt-lib.sh
. "$TOP/scripts/libvirt-lib.sh"

layout=q35
for arg in "$@"; do
    case $arg in
    --layout=q35|--layout=q35-bridge|--layout=pc) layout=${arg#--layout=} ;;
    -h|--help) sed -n '3,35p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (see --help)" ;;
    esac
done

[ "$(id -u)" = 0 ] || die "run as root (installs libvirt, starts libvirtd)"

DOMAIN=splitnet-demo
OUT=$SPLITNET_BUILD/libvirt
mkdir -p "$OUT"

step() { printf '\n==> %s\n' "$*" >&2; }

step "1/5 libvirt"
# shellcheck disable=SC2119 # no packages besides libvirt
install_libvirt
install_ip
record_version libvirt-daemon-system "$(libvirt_version)"
record_version libvirt-clients "$(dpkg-query -W -f='${Version}' libvirt-clients)"

step "2/5 guest kernel, initramfs, driver"
lv_stage "$OUT" libvirt-user.sh
say "kernel $KVER, driver build/guest/driver/splitnet.ko, $("$QEMU_BIN" --version | head -n1)"

step "3/5 libvirt daemons"
trap lv_cleanup EXIT
lv_start_daemons "splitnet-demo-$$"
"${VIRSH[@]}" version | sed 's/^/  /' >&2

step "4/5 domain $DOMAIN ($layout)"
lv_probe_start "$OUT"
lv_fill "$OUT" "$DOMAIN" libvirt
case $layout in
pc) sed -i "s|machine='q35'|machine='pc'|" "$OUT/domain.xml" ;;
q35-bridge)
    sed -i -e "s|^\(\s*\)<alias name='ua-splitnet0'/>|&\n\1<address type='pci' domain='0x0000' bus='0x02' slot='0x01' function='0x0'/>|" \
        -e "s|^\(\s*\)<controller type='usb' model='none'/>|&\n\1<controller type='pci' index='2' model='pcie-to-pci-bridge'/>|" \
        "$OUT/domain.xml" ;;
esac

LV_DOMAINS+=("$DOMAIN")
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

step "5/5 the guest (TCG; about 10 s)"
lv_wait_result "$OUT" "$DOMAIN" || die "no result from the guest"
el=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
tr -d '\r' < "$OUT/console.log" | { grep -aE '^(guest:|udhcpc:|SPLITNET-)' || true; } |
    sed 's/^/  console| /' >&2
say "domain state after the guest powered off: $("${VIRSH[@]}" domstate "$DOMAIN" 2>/dev/null | head -n1)"

hits=$(lv_probe_hits "$OUT")
[ "$hits" = 0 ] || die "the probe listener on 127.0.0.1:$PROBE_PORT saw $hits connection(s) from the guest"
say "the probe listener on 127.0.0.1:$PROBE_PORT saw no connection"

grep -aq 'SPLITNET-RESULT: PASS' "$OUT/console.log" ||
    die "the guest failed (${OUT#"$TOP"/}/console.log)"
grep -aq 'SPLITNET-DEVICE: 0x1af4:0x10f5' "$OUT/console.log" || die "no device line"
grep -aq 'udhcpc: lease of ' "$OUT/console.log" || die "no DHCP lease"
say "PASS: libvirt $(libvirt_version) ran splitnet ($layout): device seen, driver loaded, DHCP lease over restricted slirp (${el}s from start)"
