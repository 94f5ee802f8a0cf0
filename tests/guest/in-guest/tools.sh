# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: the Debian programs in the initramfs run (their libraries and
# /lib64/ld-linux-x86-64.so.2 are there), and kernel modules load with their
# dependencies.  Needs a virtio-net-pci NIC (0x1af4:0x1000).

log "ld.so: $(ls -l /lib64/ld-linux-x86-64.so.2)"
for prog in iperf3 ethtool lspci; do
    out=$($prog --version 2>&1) || fail "$prog does not run: $out"
    log "$prog: $(echo "$out" | head -n1)"
done

pci_expect 0x1af4 0x1000 0x020000
load_module virtio_pci
load_module virtio_net
lsmod | sed 's/^/guest: lsmod: /'
dev=$(netdev_of "$PCI_BDF") || fail "virtio-net has no network interface"
log "interface: $dev"
ip link set "$dev" up
ip addr show "$dev" | sed 's/^/guest: /'
ethtool -i "$dev" | sed 's/^/guest: ethtool: /'
ethtool -i "$dev" | grep -qx 'driver: virtio_net' ||
    fail "ethtool -i $dev does not report virtio_net"
