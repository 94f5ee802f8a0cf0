# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: a NIC on slirp (restrict=on).  DHCP, ping the gateway, then
# receive the host's data on port 5001 (sha256 checked against H2G_SHA256)
# and serve MIB MiB of the guest's own on port 5002 (the host checks its
# sha256 against the "made /tmp/tx.bin" line), with splitnet's TX counters
# over that transfer ("txstat g2h ...") for the host; on splitnet, most
# received frames must have had their checksum verified by the device.
#
# Environment:
#   H2G_SHA256    sha256 of what the host sends
#   MIB           size of the guest's data (default 64)
#   EXPECT_IOMMU  DMA: fail unless the NIC is behind a strict IOMMU
#   NIC_IDS       "VENDOR DEVICE" of another NIC than splitnet, with
#   NIC_MODULES   the guest kernel's modules for it (virtio_pci virtio_net)
#   SETUP_ONLY=1  stop after DHCP and ping (scripts/demo.sh --shell)
# Host half: guest_slirp_traffic in tests/guest/lib.sh (and scripts/demo.sh).
# Tells the host "SPLITNET-READY: h2g" and "SPLITNET-READY: g2h" when each
# transfer can start.

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

MIB=${MIB:-64}

log "kernel command line: $(cat /proc/cmdline)"
if [ -n "${NIC_IDS:-}" ]; then
    # shellcheck disable=SC2086 # two words, and a list of modules
    nic_up $NIC_IDS ${NIC_MODULES:-}
    splitnet=0
else
    splitnet_up
    splitnet=1
fi
dma_info
dhcp "$NET_IF"
ping_ok 10.0.2.2 3
if [ "${SETUP_ONLY:-0}" = 1 ]; then
    return 0
fi
: "${H2G_SHA256:?}"

make_data /tmp/tx.bin "$MIB"

[ "$splitnet" = 0 ] || counters_snap rx_frames rx_csum_frames
recv_start 5001 h2g
ready h2g
t0=$(now)
recv_wait h2g "$H2G_SHA256" "host->guest"
log "host->guest done in $(elapsed "$t0" "$(now)") s"
if [ "$splitnet" = 1 ]; then
    # slirp's frames carry no virtio-net header: the device checked them.
    frames=$(counters_delta rx_frames)
    csum=$(counters_delta rx_csum_frames)
    log "host->guest: $frames frames, $csum with the checksum verified by the device"
    [ "$csum" -gt $((frames / 2)) ] ||
        fail "host->guest: the device verified the checksum of only $csum of $frames frames"
fi

[ "$splitnet" = 0 ] || snap "$NET_IF"
serve_start 5002 /tmp/tx.bin
ready g2h
t0=$(now)
wait "$SERVE_PID" || fail "nc serving /tmp/tx.bin failed"
log "guest->host done in $(elapsed "$t0" "$(now)") s"
if [ "$splitnet" = 1 ]; then
    tx_report "$NET_IF" g2h
    show_stats "$NET_IF"
fi
ping_ok 10.0.2.2 2
rm -f /tmp/tx.bin
kernel_clean
