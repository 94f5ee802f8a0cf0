# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: splitnet: the guest suspends to RAM (S3) with the interface up and is woken through QMP; 16 MiB each way before and after, sha256-checked
#
# One boot (tests/guest/in-guest/suspend.sh) on pc with the interface up
# on slirp (restrict=on, hostfwd on 127.0.0.1).  QEMU resets the machine's
# devices when it wakes the guest up, so the driver must bring the device
# up again on resume; before it had PM callbacks, the interface stayed up
# on rings the device no longer knew.

reason=$(guest_splitnet_missing) && skip "$reason"
mib=16
guest_xfer_setup "$TEST_NAME" "$mib"
guest_qmp_on
guest_start "$TEST_NAME" suspend.sh \
    -netdev "$XFER_NETDEV" \
    -device splitnet,netdev=n0,romfile=

# wait_suspended NAME: until QEMU reports guest NAME suspended (60 s).
wait_suspended() {
    local st
    for _ in $(seq 600); do
        st=$(guest_qmp "$1" query-status) || return 1
        [[ $st != *'"status": "suspended"'* ]] || return 0
        sleep 0.1
    done
    say "the guest did not suspend within 60 s"
    return 1
}

host_side() {
    local gsum
    # The guest made its data before it is ready for the first transfer.
    guest_ready "$TEST_NAME" h2g || return 1
    gsum=$(guest_made_sha256 "$TEST_NAME" /tmp/tx.bin)
    guest_both_ways "$TEST_NAME" "" "$gsum" || return 1
    guest_ready "$TEST_NAME" suspend || return 1
    wait_suspended "$TEST_NAME" || return 1
    say "the guest is suspended; waking it up"
    guest_qmp "$TEST_NAME" system_wakeup >/dev/null || return 1
    guest_both_ways "$TEST_NAME" -2 "$gsum" || return 1
    diag "before and after S3: host->guest $mib MiB sha256 $XFER_SHA256 (checked in the guest)"
    diag "before and after S3: guest->host $mib MiB sha256 $G2H_SHA256 (= the guest's)"
}

rc=0
host_side || rc=1
guest_conclude "$TEST_NAME" "$rc"
