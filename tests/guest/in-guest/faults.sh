# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: splitnet's driver against a device out of spec and a device
# hung in reset, with tests/guest/cases/28-splitnet-faults.sh on the host.
# The device has x-max-ring-size=16777216 (beyond the spec's 4096) and a
# monitor the host sets x-reset-hang through.
#
#   ring limits   ethtool -g reports at most 4096; -G 16777216 is refused
#                 without a kernel warning; rings under 32 are refused
#                 (one frame could fill them); 32 and back to 256 work
#   hang          the host makes resets hang (it connects to port 5003 when
#                 done); ip link set down: the reset fails, so the driver
#                 must cut bus mastering and keep the memory
#   down          with the driver still bound, the host sends frames at the
#                 guest and checks the device wrote none; it ends the hang
#                 and says "checked" on /dev/ttyS1; rmmod (after it,
#                 CTRL.RESET reads 0 again: the reset asked for completed)
#   after         insmod, DHCP, ping; 256 MiB of fresh allocations
#                 (page_poison=1 checks freed pages were not written)

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

# ring_refused ARGS...: ethtool -G IF ARGS must fail.
ring_refused() {
    if ethtool -G "$NET_IF" "$@" 2>/tmp/ethtool.err; then
        fail "ethtool -G $* accepted"
    fi
    log "ethtool -G $* refused: $(tr '\n' ' ' < /tmp/ethtool.err)"
}

# ctrl: the device's CTRL register, read through BAR0.
ctrl() {
    local bar
    bar=$(awk 'NR == 1 { print $1 }' "/sys/bus/pci/devices/$NET_BDF/resource")
    echo $(($(devmem $((bar + 0x18)) 32)))
}

splitnet_up
dhcp "$NET_IF"
ping_ok 10.0.2.2 2

log "--- ring limits"
max=$(ethtool -g "$NET_IF" | awk '/^TX:/ { print $2; exit }')
log "ethtool -g: TX maximum $max"
[ "$max" = 4096 ] || fail "ring maximum $max, the spec allows 4096"
ring_refused tx 16777216
ring_refused rx 8
ring_refused tx 8
ring_refused rx 16 tx 16
ethtool -G "$NET_IF" rx 32 tx 32 || fail "ethtool -G rx 32 tx 32 failed"
ping_ok 10.0.2.2 2
ethtool -G "$NET_IF" rx 256 tx 256 || fail "ethtool -G rx 256 tx 256 failed"
ping_ok 10.0.2.2 2
kernel_clean

log "--- a device hung in reset"
ctl_open
nc -l -p 5003 </dev/null >/dev/null &
pid=$!
wait_listen 5003 "$pid"
ready hang
wait "$pid" || true
ip link set "$NET_IF" down
dmesg | grep -E 'splitnet|leave reset|bus master' | tail -n 4 | sed 's/^/guest: dmesg: /'
ready down
# The driver stays bound (removing it turns bus mastering off anyway) until
# the host has sent its frames, told through /dev/ttyS1, not the NIC.
ctl_wait checked
# devmem reads the BAR only once no driver holds it; the reset hangs again.
splitnet_rmmod
i=0
while [ $(($(ctrl) & 1)) = 1 ]; do
    i=$((i + 1))
    [ "$i" -lt 1200 ] || fail "CTRL.RESET still set: the host did not end the hang"
    usleep 100000
done
log "the device left reset (CTRL $(ctrl))"

log "--- after"
splitnet_up
dhcp "$NET_IF"
ping_ok 10.0.2.2 2
head -c 256M /dev/zero > /tmp/fill && rm -f /tmp/fill
log "256 MiB allocated and freed"
kernel_clean
