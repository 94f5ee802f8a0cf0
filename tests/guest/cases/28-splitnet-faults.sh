# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: splitnet driver faults: out-of-spec ring size, rings under 32 refused, reset that hangs (no DMA after down)
#
# One boot (tests/guest/in-guest/faults.sh) on a device with
# x-max-ring-size=16777216 and a QMP monitor: the driver keeps rings within
# the spec and refuses rings one frame could fill; then the host makes
# resets hang (x-reset-hang), the guest takes the link down and, with the
# driver still bound, waits for the host's word on its control port
# (/dev/ttyS1) while the host sends frames at it: the device must neither
# write them into guest memory nor read memory the driver gave up (the
# driver turned bus mastering off).  The hang ends, the driver is reloaded,
# the kernel log must be clean.  page_poison=1 fills freed pages, so a
# device still reading a freed status block finds a producer index out of
# range (error PROD_INDEX) rather than what was there before.

reason=$(guest_splitnet_missing) && skip "$reason"
port=$(guest_free_port)
guest_driver
guest_net_helpers
guest_append page_poison=1
guest_qmp_on
guest_start "$TEST_NAME" faults.sh \
    -chardev "$(guest_ctl_arg "$TEST_NAME")" -serial mon:stdio -serial chardev:ctl \
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

# The guest keeps the driver bound, its interface down, until told
# "checked" on its control port.  A device that can still reach what the
# driver gave it before the failed reset either writes frames into it
# (rx0.frames grows) or reads whatever is there now, which the driver may
# have freed (its ERROR then tells what it found there, e.g. PROD_INDEX).
# With bus mastering off it can do neither: it gets no error, or XLATE
# (2) or DMA (4), the errors of memory it cannot reach.
host_side() {
    local before after err
    guest_ready "$TEST_NAME" hang || return 1
    set_hang true || return 1
    poke
    guest_ready "$TEST_NAME" down || return 1
    before=$(guest_stat "$TEST_NAME" sn0 rx0 frames) || return 1
    poke
    poke
    after=$(guest_stat "$TEST_NAME" sn0 rx0 frames) || return 1
    err=$(guest_qmp "$TEST_NAME" qom-get '{"path": "sn0", "property": "error"}') || return 1
    diag "frames the device received while hung in reset after ip link down: $((after - before)), device error $err"
    [ "$after" = "$before" ] || {
        say "the device wrote $((after - before)) frames into memory the driver had given up"
        return 1
    }
    case $err in
    0 | 2 | 4) ;;
    *) say "the device read memory the driver had given up (error $err)"; return 1 ;;
    esac
}

rc=0
host_side || rc=1
# Whatever the outcome, end the hang and let the guest go on (or fail).
set_hang false || rc=1
guest_signal "$TEST_NAME" checked || rc=1
guest_conclude "$TEST_NAME" "$rc" 'ethtool -G .* refused.*'
