# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: splitnet on a tap (vnet_hdr) in a netns the test makes: 32 MiB each way (sha256) with offloads on (TSO passed to the tap whole, large frames received whole) and off
#
# The namespace holds the tap (10.77.0.1) and QEMU; the guest is 10.77.0.2.
# Nothing in it is connected to the host's interfaces.  The host half of
# each transfer (tests/guest/xfer.py) runs inside the namespace too.

reason=$(guest_splitnet_missing) && skip "$reason"
reason=$(netns_missing) && skip "$reason"

name=$TEST_NAME
mib=32
rounds="on off"
ns=splitnet-$name-$$
trap netns_cleanup EXIT
netns_new "$ns"
netns_tap "$ns" sntap0
ip -n "$ns" addr add 10.77.0.1/24 dev sntap0

data=$GUEST_LOGDIR/$name.h2g
want=$(host_data "$data" "$mib")
guest_driver
guest_net_helpers
guest_env "GUEST_IP=10.77.0.2/24" "MIB=$mib" "ROUNDS=$rounds" "H2G_SHA256=$want"
guest_netns "$ns"
guest_start "$name" tap-traffic.sh \
    -netdev tap,id=n0,ifname=sntap0,script=no,downscript=no,vnet_hdr=on \
    -device splitnet,netdev=n0,romfile=,mac=52:54:00:77:01:02

# the host half of a transfer, inside the namespace
xfer() {
    ip netns exec "$ns" python3 "$SPLITNET_TOP/tests/guest/xfer.py" "$@" \
        --host 10.77.0.2
}

rc=0
for r in $rounds; do
    guest_ready "$name" "h2g-$r" || { rc=1; break; }
    out=$(xfer send 5001 "$data" --timeout 300) || { rc=1; break; }
    read -r _ n s <<<"$out"
    diag "$r: host->guest $n bytes in $s s ($(mbit "$n" "$s"))"
    guest_http_g2h "$name" "g2h-$r" "$mib" xfer recv 5002 || { rc=1; break; }
done
rm -f "$data"
guest_finish "$name" 300 || rc=1
[ "$rc" = 0 ] || exit 1
diag "host->guest sha256 $want (checked in the guest each round)"
for r in $rounds; do
    diag "offloads $r: $(guest_value "$name" "offloads $r:")"
    diag "rx offloads $r: $(guest_value "$name" "rx offloads $r:")"
done
