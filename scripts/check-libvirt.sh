#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make check-libvirt: splitnet under libvirt 11.3, as a test (TAP lines and
# "N passed, N failed").  Everything runs in a network namespace this script
# creates (`ip netns add`), with libvirtd and virtlogd started in it by `ip
# netns exec`: QEMU, slirp, the bridge, the tap and dnsmasq live there, and
# every address the test uses is in it.
#
#   1. the domain XML (docs/libvirt/splitnet-domain.xml, filled in) for both
#      cases and the network XML (docs/libvirt/splitnet-network.xml) pass
#      virt-xml-validate
#   2. <interface type='user'>: virsh define, start --paused; `info network`
#      shows slirp restrict=on before the guest runs; the guest sees the
#      splitnet function, loads the driver, gets a DHCP lease, pings
#      10.0.2.2 and cannot connect out (a listener on 127.0.0.1 in the
#      namespace sees nothing); `virsh domxml-to-native qemu-argv` shows the
#      command line libvirt makes of it
#   3. <interface type='network'> on libvirt's default NAT network (bridge
#      virbr0, 192.168.122.1/24, dnsmasq; libvirt's own "default", or
#      docs/libvirt/splitnet-network.xml net-defined where there is none):
#      net-start; the guest gets a lease from libvirt's dnsmasq (also in
#      `virsh net-dhcp-leases`), pings the bridge's address and serves 8 MiB
#      of random data that the host side, in the namespace, reads from the
#      leased address and checks by sha256
#   4. every domain destroyed and undefined, the network destroyed (and
#      undefined if the test defined it), the daemons stopped, the
#      namespace deleted
#
# Output in build/check-libvirt/{user,net}/ (console.log, domain.xml,
# qemu-argv.txt) and build/check-libvirt/virsh.log (the virsh session).
# Run as root; installs libvirt 11.3 (bookworm-backports), dnsmasq-base,
# nftables and libxml2-utils if needed.  Not part of `make check`.
#
# Environment: SPLITNET_GUEST_NOFETCH=1, SPLITNET_LIBVIRT_TIMEOUT (seconds a
# guest may take, default 300 here).

set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=tests/guest/lib.sh
. "$TOP/tests/guest/lib.sh"
# shellcheck source=scripts/libvirt-lib.sh
. "$TOP/scripts/libvirt-lib.sh"

case ${1:-} in
-h|--help) sed -n '3,34p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
'') ;;
*) die "unknown argument: $1 (see --help)" ;;
esac
[ "$(id -u)" = 0 ] || die "run as root (installs libvirt, starts libvirtd)"

OUT=$SPLITNET_BUILD/check-libvirt
TIMEOUT=${SPLITNET_LIBVIRT_TIMEOUT:-300}
NETXML=$TOP/docs/libvirt/splitnet-network.xml
NET=default
MIB=8
N=0
FAILED=0
T0=$SECONDS
mkdir -p "$OUT/user" "$OUT/net"
: > "$OUT/virsh.log"

# ok RC NAME [DETAIL...]: one TAP line; DETAIL lines as comments.
ok() {
    local rc=$1 name=$2
    shift 2
    N=$((N + 1))
    if [ "$rc" = 0 ]; then echo "ok $N - $name"; else
        echo "not ok $N - $name"
        FAILED=$((FAILED + 1))
    fi
    for d in "$@"; do printf '%s\n' "$d" | sed 's/^/# /'; done
}

# v ARGS...: virsh, with the command and its output in virsh.log (the
# session the report shows) and on standard error.
v() {
    local rc=0
    echo "virsh # $*" >> "$OUT/virsh.log"
    "${VIRSH[@]}" "$@" > "$OUT/v.out" 2>&1 || rc=$?
    cat "$OUT/v.out" >> "$OUT/virsh.log"
    # (domxml-to-native ends without a newline)
    [ ! -s "$OUT/v.out" ] || [ -z "$(tail -c1 "$OUT/v.out")" ] || echo >> "$OUT/virsh.log"
    sed 's/^/  virsh| /' "$OUT/v.out" >&2
    return "$rc"
}

# The guests power off when done (on_poweroff destroy); one that still runs
# is destroyed.
stop_domain() {
    "${VIRSH[@]}" domstate "$1" 2>/dev/null | grep -q 'shut off' || v destroy "$1" || true
}

finish() {
    lv_cleanup
    local left=0
    [ -n "$LV_NETNS" ] && ip netns list | grep -qw "$LV_NETNS" && left=1
    pid_alive /run/libvirtd.pid && left=1
    ok "$left" "cleanup: domains and network undefined, daemons stopped, namespace $LV_NETNS gone"
    echo "# check-libvirt: $((SECONDS - T0)) s; virsh session in ${OUT#"$TOP"/}/virsh.log"
    echo "$((N - FAILED)) passed, $FAILED failed"
    LV_DOMAINS=() LV_NETWORKS=() LV_NETWORKS_DEFINED=() LV_PIDS=() LV_NETNS=
    [ "$FAILED" = 0 ]
}
trap 'say "interrupted"; exit 130' INT TERM

# --- setup -----------------------------------------------------------------------

install_libvirt dnsmasq-base nftables libxml2-utils
install_ip
record_version libvirt-daemon-system "$(libvirt_version)"
for p in libvirt-clients dnsmasq-base nftables; do
    record_version "$p" "$(dpkg-query -W -f='${Version}' "$p")"
done
lv_stage "$OUT/user" libvirt-user.sh
lv_stage "$OUT/net" libvirt-net.sh
lv_fill "$OUT/user" splitnet-check-user libvirt-user
lv_fill "$OUT/net" splitnet-check-net libvirt-net
# The network case: a tap on the NAT network's bridge instead of slirp, so
# no restrict=on line (a tap netdev has no such property), another MAC.
sed -i -e "s|<interface type='user'>|<interface type='network'>\n      <source network='$NET'/>|" \
    -e "s|52:54:00:5e:00:01|52:54:00:5e:00:02|" \
    -e "/<qemu:arg value='-set'\/>/d" -e "/restrict=on'\/>/d" "$OUT/net/domain.xml"

# --- 1. XML --------------------------------------------------------------------------

for x in "$OUT/user/domain.xml domain" "$OUT/net/domain.xml domain" "$NETXML network"; do
    read -r f schema <<<"$x"
    out=$(virt-xml-validate "$f" "$schema" 2>&1) && rc=0 || rc=$?
    ok "$rc" "virt-xml-validate ${f#"$TOP"/} $schema" "$out"
done

trap 'finish; exit 1' EXIT
lv_start_daemons "splitnet-lv-$$"
v version || true

# --- 2. <interface type='user'> ----------------------------------------------------

dom=splitnet-check-user
lv_probe_start "$OUT/user"
LV_DOMAINS+=("$dom")
v define "$OUT/user/domain.xml" && v start --paused "$dom" && rc=0 || rc=$?
ok "$rc" "user: virsh define and start --paused $dom"
v qemu-monitor-command --hmp "$dom" 'info network' || true
net=$(tr -d '\r' < "$OUT/v.out")
rc=0
echo "$net" | grep -q 'type=user,.*restrict=on' || rc=1
echo "$net" | grep 'type=user' | grep -vq 'restrict=on' && rc=1
ok "$rc" "user: info network shows slirp with restrict=on before the guest runs" \
    "$(echo "$net" | grep -E 'type=|splitnet')"
v resume "$dom" || true
lv_wait_result "$OUT/user" "$dom" && rc=0 || rc=$?
grep -aq 'SPLITNET-RESULT: PASS' "$OUT/user/console.log" || rc=1
grep -aq 'udhcpc: lease of ' "$OUT/user/console.log" || rc=1
ok "$rc" "user: the guest found 1af4:10f5, loaded splitnet.ko, got a DHCP lease, pinged 10.0.2.2, could not connect out" \
    "$(tr -d '\r' < "$OUT/user/console.log" | grep -aE '^guest: (SPLITNET-DEVICE|splitnet at|dhcp:|ping|restrict)|udhcpc: lease')"
hits=$(lv_probe_hits "$OUT/user")
ok "$([ "$hits" = 0 ]; echo $?)" "user: the listener on 127.0.0.1:$PROBE_PORT in the namespace saw no connection ($hits)"
# (domxml-to-native writes every interface as a tap, -netdev tap,fd=N, and
# names it net0: it shows the devices, not the slirp backend)
v domxml-to-native qemu-argv --xml "$OUT/user/domain.xml" && rc=0 || rc=$?
echo >&2
cp "$OUT/v.out" "$OUT/user/qemu-argv.txt"
grep -q -- '"driver":"splitnet"' "$OUT/user/qemu-argv.txt" || rc=1
grep -q -- '-set netdev.hostua-splitnet0.restrict=on' "$OUT/user/qemu-argv.txt" || rc=1
ok "$rc" "user: virsh domxml-to-native qemu-argv has the splitnet -device and the restrict=on line" \
    "$(grep -o -- '-device [^ ]*"driver":"splitnet"[^ ]*' "$OUT/user/qemu-argv.txt")"
stop_domain "$dom"
v undefine "$dom" && rc=0 || rc=$?
ok "$rc" "user: virsh undefine $dom"

# --- 3. <interface type='network'> on a NAT network ------------------------------

dom=splitnet-check-net
rc=0
if v net-info "$NET"; then
    how="libvirt's own"
else
    how="net-defined from docs/libvirt/splitnet-network.xml:"
    LV_NETWORKS_DEFINED+=("$NET")
    v net-define "$NETXML" || rc=1
fi
LV_NETWORKS+=("$NET")
v net-dumpxml "$NET" || rc=1
GATEWAY=$(sed -n "s/.*<ip address='\([0-9.]*\)'.*/\1/p" "$OUT/v.out" | head -n1)
bridge=$(sed -n "s/.*<bridge name='\([^']*\)'.*/\1/p" "$OUT/v.out" | head -n1)
v net-start "$NET" || rc=1
br=$(ip -n "$LV_NETNS" -o -4 addr show dev "${bridge:-none}" 2>/dev/null | awk '{ print $4 }' || true)
dns=$(pgrep -a dnsmasq | grep -F "/$NET.conf" | head -n1 || true)
[ -n "$GATEWAY" ] && [ "${br%/*}" = "$GATEWAY" ] && [ -n "$dns" ] || rc=1
# the bridge must exist in the namespace only
! ip link show dev "${bridge:-none}" >/dev/null 2>&1 || rc=1
ok "$rc" "network: $how $NET started: bridge $bridge $br in the namespace (not on the host), dnsmasq runs" \
    "$dns"
printf 'GATEWAY=%s\nMIB=%s\n' "$GATEWAY" "$MIB" > "$OUT/net/env"
LV_DOMAINS+=("$dom")
v define "$OUT/net/domain.xml" && v start "$dom" && rc=0 || rc=$?
ok "$rc" "network: virsh define and start $dom (interface type='network', source $NET)"
end=$((SECONDS + TIMEOUT))
while ! grep -aq 'SPLITNET-READY: serve' "$OUT/net/console.log" &&
      ! grep -aq 'SPLITNET-RESULT: ' "$OUT/net/console.log" && [ "$SECONDS" -lt "$end" ]; do
    sleep 0.5
done
v net-dhcp-leases "$NET" || true
# "DATE TIME MAC ipv4 ADDR/PREFIX HOSTNAME CLIENT-ID": the address after the MAC
ip=$(awk -v m=52:54:00:5e:00:02 '{ for (i = 1; i < NF - 1; i++) if ($i == m) {
         a = $(i + 2); sub(/\/.*/, "", a); print a; exit } }' "$OUT/v.out")
gsum=$(tr -d '\r' < "$OUT/net/console.log" | sed -n 's|^guest: made /tmp/tx.bin: .*sha256 ||p')
ok "$([ -n "$ip" ] && [ -n "$gsum" ]; echo $?)" "network: virsh net-dhcp-leases lists the guest ($ip), which made $MIB MiB (sha256 ${gsum:-none})"
got=
if [ -n "$ip" ]; then
    got=$(ip netns exec "$LV_NETNS" python3 -c '
import hashlib, socket, sys, time
t = time.monotonic()
s = socket.create_connection((sys.argv[1], 5001), timeout=60)
h, n = hashlib.sha256(), 0
while True:
    b = s.recv(1 << 16)
    if not b:
        break
    h.update(b)
    n += len(b)
print(n, "%.1f" % (time.monotonic() - t), h.hexdigest())
' "$ip" 2>&1) || true
fi
read -r n secs sum <<<"${got:-0 0 none}"
ok "$([ "$sum" = "$gsum" ] && [ "$n" = $((MIB * 1048576)) ]; echo $?)" \
    "network: $n bytes read from $ip:5001 in the namespace in $secs s, sha256 matches the guest's"
lv_wait_result "$OUT/net" "$dom" && rc=0 || rc=$?
grep -aq 'SPLITNET-RESULT: PASS' "$OUT/net/console.log" || rc=1
ok "$rc" "network: the guest got its lease from libvirt's dnsmasq, pinged $GATEWAY, served the data, kernel log clean" \
    "$(tr -d '\r' < "$OUT/net/console.log" | grep -aE '^guest: (splitnet at|dhcp:|ping|served|FAIL)|udhcpc: lease')"
stop_domain "$dom"
v undefine "$dom" && v net-destroy "$NET" && rc=0 || rc=$?
what="virsh undefine $dom, net-destroy $NET"
LV_NETWORKS=()
if [ "${#LV_NETWORKS_DEFINED[@]}" -gt 0 ]; then
    v net-undefine "$NET" || rc=1
    what+=", net-undefine $NET"
    LV_NETWORKS_DEFINED=()
fi
ok "$rc" "network: $what"

trap - EXIT
finish
