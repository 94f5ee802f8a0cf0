# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: splitnet: device_del mid-transfer, device_add; DHCP and 16 MiB each way on the new NIC
#
# One boot (tests/guest/in-guest/hotplug.sh) on pc, whose pci.0 has ACPI
# hotplug: the NIC is unplugged through QMP while the guest sends (that
# transfer fails, as it must), a new one is plugged into the same slot on
# the same netdev; DHCP, then 16 MiB each way with sha256 checks.  QEMU
# must survive both and answer QMP after them.

reason=$(guest_splitnet_missing) && skip "$reason"
mib=16
guest_xfer_setup "$TEST_NAME" "$mib"
nic=splitnet,id=sn0,netdev=n0,romfile=,bus=pci.0,addr=0x6
guest_qmp_on
guest_start "$TEST_NAME" hotplug.sh \
    -netdev "$XFER_NETDEV" \
    -device "$nic"

# device_add's arguments as JSON, from the -device string above.
nic_json() {
    python3 -c 'import json, sys
print(json.dumps({"driver": sys.argv[1].split(",")[0], **dict(
    kv.split("=", 1) for kv in sys.argv[1].split(",")[1:])}))' "$nic"
}

host_side() {
    local cut gsum
    guest_ready "$TEST_NAME" g2h-cut || return 1
    host_recv "$XFER_P2" 300 >/dev/null 2>&1 &
    cut=$!
    guest_ready "$TEST_NAME" unplug || { end_of "$cut"; return 1; }
    guest_qmp "$TEST_NAME" device_del '{"id": "sn0"}' >/dev/null || { end_of "$cut"; return 1; }
    guest_ready "$TEST_NAME" gone || { end_of "$cut"; return 1; }
    end_of "$cut"
    say "guest->host was cut short by the unplug, as it should"
    guest_qmp "$TEST_NAME" device_add "$(nic_json)" >/dev/null || return 1
    say "plugged in a new splitnet"
    gsum=$(guest_made_sha256 "$TEST_NAME" /tmp/tx.bin)
    guest_h2g "$TEST_NAME" h2g "$XFER_P1" "$XFER_DATA" || return 1
    # (the guest powers off once the last transfer is done)
    guest_qmp "$TEST_NAME" query-status >/dev/null || return 1
    guest_g2h "$TEST_NAME" g2h "$XFER_P2" "$gsum" || return 1
    diag "after device_del/device_add: host->guest $mib MiB sha256 $XFER_SHA256 (checked in the guest)"
    diag "after device_del/device_add: guest->host $mib MiB sha256 $G2H_SHA256 (= the guest's)"
}

rc=0
host_side || rc=1
guest_conclude "$TEST_NAME" "$rc"
