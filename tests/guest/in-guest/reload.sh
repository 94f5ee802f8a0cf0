# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: splitnet survives being unloaded mid-transfer and its link being
# taken down.  On slirp (restrict=on), ports 5001 (host->guest) and 5002
# (guest->host), with the host half in tests/guest/cases/23-splitnet-reload.sh:
#
#   g2h-cut   the guest serves its data; once 16 MiB went out, rmmod
#   h2g-cut   the guest receives; once 16 MiB came in, rmmod
#             (both transfers fail, as they must; insmod and DHCP after each)
#   h2g, g2h  full transfers, sha256-checked (host->guest here, against
#             H2G_SHA256; guest->host on the host)
#   h2g-link, g2h-link   the same after ip link set down / up and DHCP
#
# Environment: H2G_SHA256, MIB (default 64).

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

: "${H2G_SHA256:?}"
MIB=${MIB:-64}
CUT=$(mib 16)

splitnet_up
dhcp "$NET_IF"
ping_ok 10.0.2.2 2
make_data /tmp/tx.bin "$MIB"

log "--- rmmod while sending (guest->host)"
serve_start 5002 /tmp/tx.bin
ready g2h-cut
wait_counter "$NET_IF" tx_bytes "$CUT"
log "$NET_IF: $(ifstat "$NET_IF" tx_bytes) bytes sent, unloading"
splitnet_rmmod
kill_nc
splitnet_up
dhcp "$NET_IF"
ping_ok 10.0.2.2 2

log "--- rmmod while receiving (host->guest)"
recv_start 5001 cut
ready h2g-cut
wait_counter "$NET_IF" rx_bytes "$CUT"
log "$NET_IF: $(ifstat "$NET_IF" rx_bytes) bytes received, unloading"
splitnet_rmmod
kill_nc
splitnet_up
dhcp "$NET_IF"
ping_ok 10.0.2.2 2

log "--- full transfers after the reloads"
both_ways "" "after reload"

log "--- ip link set down / up"
ip link set "$NET_IF" down
[ "$(cat "/sys/class/net/$NET_IF/operstate")" = down ] ||
    fail "$NET_IF: operstate $(cat "/sys/class/net/$NET_IF/operstate") after link down"
if ping -c 1 -W 1 10.0.2.2 >/dev/null 2>&1; then
    fail "10.0.2.2 answers while $NET_IF is down"
fi
ip link set "$NET_IF" up
dhcp "$NET_IF"
log "$NET_IF down and up again: operstate $(cat "/sys/class/net/$NET_IF/operstate")"
ping_ok 10.0.2.2 2
both_ways "-link" "after link down/up"
show_stats "$NET_IF"
rm -f /tmp/tx.bin
kernel_clean
