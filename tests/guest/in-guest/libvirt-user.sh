# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest part of scripts/libvirt-demo.sh and scripts/check-libvirt.sh's
# <interface type='user'> domain (busybox sh -e, with /lib/splitnet/guest.sh
# sourced by the test guest's /init): the splitnet function, the driver, a
# DHCP lease and ping over slirp, and slirp's restrict=on.

# shellcheck source=tests/guest/in-guest/netlib.sh
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
