# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: the splitnet NIC is unplugged (device_del) while it sends and
# plugged in again (device_add), with tests/guest/cases/29-splitnet-hotplug.sh
# on the host.  On slirp (restrict=on), ports 5001 (host->guest) and 5002
# (guest->host):
#
#   g2h-cut   the guest serves an endless stream; once 16 MiB went out it
#   unplug    says so and the host unplugs the NIC (ACPI hotplug on pc's
#             pci.0): the transfer is still going whenever the unplug lands
#   gone      the interface is gone; the host plugs a new NIC in
#   h2g, g2h  the new one: DHCP, MIB MiB each way, sha256-checked
#
# Environment: H2G_SHA256, MIB (default 16).

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

: "${H2G_SHA256:?}"
MIB=${MIB:-16}

# wait_until SECONDS WHAT COMMAND...: poll COMMAND every 0.1 s.
wait_until() {
    local t=$1 what=$2 i=0
    shift 2
    while ! "$@"; do
        i=$((i + 1))
        [ "$i" -lt $((t * 10)) ] || fail "no $what within ${t}s"
        usleep 100000
    done
}

splitnet_present() { [ -n "$(pci_find 0x1af4 0x10f5)" ]; }
splitnet_absent() { ! splitnet_present; }

splitnet_up
dhcp "$NET_IF"
ping_ok 10.0.2.2 2
make_data /tmp/tx.bin "$MIB"

log "--- device_del while sending"
serve_start 5002 /dev/zero
ready g2h-cut
wait_counter "$NET_IF" tx_bytes "$(mib 16)"
log "$NET_IF: $(ifstat "$NET_IF" tx_bytes) bytes sent, unplugging"
ready unplug
wait_until 60 unplug splitnet_absent
[ ! -e "/sys/class/net/$NET_IF" ] || fail "$NET_IF still there after unplug"
kill_nc
log "$NET_BDF and $NET_IF are gone"
ready gone

log "--- device_add"
wait_until 60 "new splitnet function" splitnet_present
splitnet_up
dhcp "$NET_IF"
ping_ok 10.0.2.2 2
both_ways "" "after re-plug"
rm -f /tmp/tx.bin
kernel_clean
