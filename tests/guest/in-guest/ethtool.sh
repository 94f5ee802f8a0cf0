# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: what the everyday ethtool commands show for splitnet once the
# link is up (DHCP over slirp, restrict=on):
#   ethtool -l   one combined channel, and at most one
#   ethtool IF   a definite speed and "Duplex: Full" (bonding and teaming
#                refuse ports of unknown speed)
#   ethtool -T   software transmit and receive timestamps
#   ethtool -k   the offloads the driver really has, changeable, and no
#                claim of hardware it does not have
# Host half: tests/guest/cases/35-splitnet-ethtool.sh.

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

# section_value TEXT SECTION KEY: KEY's value in the part of `ethtool -l`
# output that starts with SECTION (e.g. "Current hardware settings").
section_value() {
    echo "$1" | awk -v s="$2" -v k="$3:" '
        index($0, s) == 1 { on = 1; next }
        on && /settings:|maximums:/ { on = 0 }
        on && $1 == k { print $2; exit }'
}

# feature NAME: the rest of NAME's line in ethtool -k (e.g. "on [fixed]").
feature() {
    echo "$KOUT" | awk -v k="$1:" '$1 == k { $1 = ""; sub(/^ /, ""); print; exit }'
}

# expect_feature NAME STATE: ethtool -k shows exactly STATE for NAME.
expect_feature() {
    local got
    got=$(feature "$1")
    [ "$got" = "$2" ] || fail "ethtool -k $NET_IF: $1 is '$got', not '$2'"
}

splitnet_up
dhcp "$NET_IF"
ping_ok 10.0.2.2 3

out=$(ethtool -l "$NET_IF") || fail "ethtool -l $NET_IF failed"
echo "$out" | sed 's/^/guest: ethtool -l: /'
max=$(section_value "$out" "Pre-set maximums" Combined)
cur=$(section_value "$out" "Current hardware settings" Combined)
[ "$max" = 1 ] && [ "$cur" = 1 ] ||
    fail "ethtool -l: combined $cur of at most $max, not 1 of at most 1"
log "channels: combined $cur, max $max"

out=$(ethtool "$NET_IF") || fail "ethtool $NET_IF failed"
echo "$out" | sed 's/^/guest: ethtool: /'
speed=$(echo "$out" | awk '$1 == "Speed:" { print $2 }')
duplex=$(echo "$out" | awk '$1 == "Duplex:" { print $2 }')
case $speed in
[1-9]*Mb/s) ;;
*) fail "ethtool $NET_IF: Speed is '$speed', not a number of Mb/s" ;;
esac
[ "$duplex" = Full ] || fail "ethtool $NET_IF: Duplex is '$duplex', not Full"
log "link: speed $speed, duplex $duplex"

out=$(ethtool -T "$NET_IF") || fail "ethtool -T $NET_IF failed"
echo "$out" | sed 's/^/guest: ethtool -T: /'
for c in software-transmit software-receive software-system-clock; do
    echo "$out" | grep -qw -- "$c" || fail "ethtool -T $NET_IF: no $c"
done
log "timestamping: software-transmit software-receive software-system-clock"

KOUT=$(ethtool -k "$NET_IF") || fail "ethtool -k $NET_IF failed"
echo "$KOUT" | grep -v 'off \[fixed\]$' | sed 's/^/guest: ethtool -k: /'
# what the driver offers (hw_features): on, and ethtool -K may turn it off
for f in scatter-gather tx-checksum-ip-generic tcp-segmentation-offload \
         tx-tcp-segmentation tx-tcp6-segmentation tx-udp-segmentation \
         rx-vlan-offload tx-vlan-offload rx-vlan-filter; do
    expect_feature "$f" on
done
# what it always does, and hardware it does not have
expect_feature highdma "on [fixed]"
for f in ntuple-filters receive-hashing tx-checksum-ipv4 tx-checksum-sctp; do
    expect_feature "$f" "off [fixed]"
done
log "features: $(echo "$KOUT" | awk '$2 == "on" { sub(/:$/, "", $1); printf "%s ", $1 }')"
kernel_clean
