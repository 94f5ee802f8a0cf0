# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest part of scripts/check-libvirt.sh's <interface type='network'>
# domain, on a libvirt NAT network (bridge + dnsmasq) inside the test's own
# network namespace: a DHCP lease from libvirt's dnsmasq, ping to the
# bridge's address, then MIB MiB of random data served on port 5001 to the
# host side (in the namespace), which checks its sha256 against the one
# logged here.
#
# Environment: GATEWAY (the bridge's address), MIB (default 8).

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh
MIB=${MIB:-8}
splitnet_up
dhcp "$NET_IF"
ping_ok "$GATEWAY" 3
make_data /tmp/tx.bin "$MIB"
serve_start 5001 /tmp/tx.bin
ready serve
wait "$SERVE_PID" || fail "serving /tmp/tx.bin on port 5001 failed"
log "served /tmp/tx.bin on port 5001"
kernel_clean
