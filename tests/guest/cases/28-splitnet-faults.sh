# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: splitnet driver faults: out-of-spec ring size, rings under 32 refused, reset that hangs (no DMA after down)
#
# One boot (tests/guest/in-guest/faults.sh) on a device with
# x-max-ring-size=16777216 and a QMP monitor: the driver keeps rings within
# the spec and refuses rings one frame could fill; then the host makes
# resets hang (x-reset-hang), the guest takes the link down, and the host
# sends frames at it: the device must not write any into guest memory (the
# driver turned bus mastering off).  The hang ends, the driver is reloaded,
# the kernel log must be clean (page_poison=1 catches writes into freed
# pages).

reason=$(guest_splitnet_missing) && skip "$reason"
port=$(guest_free_port)
guest_driver
guest_net_helpers
guest_append page_poison=1
guest_start "$TEST_NAME" faults.sh -qmp "$(guest_qmp_arg "$TEST_NAME")" \
    -netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:5003" \
    -device splitnet,id=sn0,netdev=n0,romfile=,x-max-ring-size=16777216

# poke: a TCP connection to the guest's port 5003 through hostfwd; slirp
# sends the guest a SYN (and retries it) whether or not anyone answers.
poke() {
    python3 - "$port" <<'PY' || true
import socket, sys
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=3).recv(1)
except OSError:
    pass
PY
}

set_hang() {
    guest_qmp "$TEST_NAME" qom-set \
        "{\"path\": \"sn0\", \"property\": \"x-reset-hang\", \"value\": $1}" >/dev/null
}

host_side() {
    local before after
    guest_ready "$TEST_NAME" hang || return 1
    set_hang true || return 1
    poke
    guest_ready "$TEST_NAME" down || return 1
    before=$(guest_splitnet_stat "$TEST_NAME" sn0 rx0 frames) || return 1
    poke
    poke
    after=$(guest_splitnet_stat "$TEST_NAME" sn0 rx0 frames) || return 1
    set_hang false || return 1
    diag "frames the device received while hung in reset after ip link down: $((after - before))"
    [ "$after" = "$before" ] || {
        say "the device wrote $((after - before)) frames into memory the driver had given up"
        return 1
    }
}

rc=0
host_side || rc=1
guest_finish "$TEST_NAME" 300 || rc=1
[ "$rc" = 0 ] || die "failed, see above and ${GUEST_LOGS[$TEST_NAME]#"$SPLITNET_TOP"/}"
guest_output "$TEST_NAME" | sed -n 's/^guest: \(ethtool -G .* refused.*\)/\1/p' |
    while read -r line; do diag "$line"; done
