# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Shared by scripts/libvirt-demo.sh and scripts/check-libvirt.sh: libvirt
# 11.3 from bookworm-backports, the test guest's files staged for QEMU (which
# runs as libvirt-qemu), libvirtd and virtlogd started in a network namespace
# of their own, the domain template filled in, and everything torn down
# again.  Source after tests/guest/lib.sh; set OUT (a directory under
# build/) first.
#
#   install_libvirt [PKG...]    libvirt >= 11 (and PKG..., e.g. dnsmasq-base)
#   lv_stage DIR SCRIPT         kernel, initramfs, driver, netlib.sh, firmware,
#                               SCRIPT (tests/guest/in-guest/) as test.sh
#   lv_fill DIR DOMAIN TEST     docs/libvirt/splitnet-domain.xml -> DIR/domain.xml
#   lv_start_daemons NETNS      `ip netns add NETNS`, virtlogd + libvirtd in it
#   lv_probe_start DIR          a listener on 127.0.0.1 in the namespace, for
#                               the guest to fail to reach through slirp
#   lv_wait_result DIR DOMAIN   until the guest prints SPLITNET-RESULT
#   lv_cleanup                  destroys and undefines LV_DOMAINS, destroys
#                               LV_NETWORKS and undefines LV_NETWORKS_DEFINED,
#                               stops the daemons, deletes the namespace (an
#                               EXIT trap)

VIRSH=(virsh -q -c qemu:///system)
TEMPLATE=$SPLITNET_TOP/docs/libvirt/splitnet-domain.xml
TIMEOUT=${SPLITNET_LIBVIRT_TIMEOUT:-120}
LV_DOMAINS=()
LV_NETWORKS=()
LV_NETWORKS_DEFINED=()
LV_PIDS=()
LV_NETNS=

# --- libvirt 11.3 --------------------------------------------------------------
#
# bookworm's libvirt 9.0 cannot start QEMU 10.0 (it passes -no-acpi).  The
# private apt configuration here lists bookworm and bookworm-backports only:
# with trixie also listed (as scripts/lib.sh's apt_priv_update does), `-t
# bookworm-backports` leaves bookworm and trixie at the same priority and apt
# takes trixie's newer libc6, glib, systemd, ... for every dependency it
# touches.

# Empty when not installed (dpkg-query exits 1 for a package it never saw:
# expected, so it must not fail the pipe under pipefail).
libvirt_version() {
    { dpkg-query -W -f='${Status} ${Version}\n' libvirt-daemon-system 2>/dev/null ||
          true; } | awk '$3 == "installed" { print $4 }'
}

# True when every package "$@" is installed.
lv_installed() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${db:Status-Abbrev}\n' "$p" 2>/dev/null | grep -q '^ii' ||
            return 1
    done
}

install_libvirt() {
    local v t0 mirror
    v=$(libvirt_version)
    if [ -n "$v" ] && dpkg --compare-versions "$v" ge 11 &&
       command -v virsh >/dev/null && command -v libvirtd >/dev/null &&
       lv_installed "$@"; then
        say "libvirt $v is installed"
        return 0
    fi
    [ -z "$v" ] || dpkg --compare-versions "$v" ge 11 ||
        say "libvirt $v is too old for QEMU 10.0, installing 11.3"
    APT_PRIV=$SPLITNET_CACHE/apt-libvirt
    mkdir -p "$APT_PRIV/lists/partial" "$APT_PRIV/cache/archives/partial"
    mirror=$(detect_mirror)
    cat > "$APT_PRIV/sources.list" <<EOS
deb [signed-by=$SPLITNET_KEYRING] $mirror bookworm main
deb [signed-by=$SPLITNET_KEYRING] $mirror bookworm-backports main
EOS
    t0=$(date +%s)
    say "apt-get update (bookworm, bookworm-backports; $mirror)"
    # shellcheck disable=SC2046
    apt-get $(apt_priv_opts) update > "$OUT/install.log" 2>&1 ||
        die "apt-get update failed, see ${OUT#"$SPLITNET_TOP"/}/install.log"
    say "apt-get install -t bookworm-backports libvirt-daemon-system libvirt-clients $*"
    # shellcheck disable=SC2046
    DEBIAN_FRONTEND=noninteractive apt-get $(apt_priv_opts) install -y \
        -t bookworm-backports --no-install-recommends \
        libvirt-daemon-system libvirt-clients "$@" >> "$OUT/install.log" 2>&1 ||
        die "installing libvirt failed, see ${OUT#"$SPLITNET_TOP"/}/install.log"
    v=$(libvirt_version)
    say "installed libvirt $v in $(( $(date +%s) - t0 )) s"
    dpkg --compare-versions "${v:-0}" ge 11 || die "installed libvirt is $v, not >= 11"
}

# `ip` (iproute2) makes the daemons' network namespace; libvirt does not
# pull it in, and a minimal Debian has none.
install_ip() {
    command -v ip >/dev/null && return 0
    say "apt-get install iproute2 (for ip)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends iproute2 >> "$OUT/install.log" 2>&1 ||
        { apt-get update -q >> "$OUT/install.log" 2>&1 &&
          apt-get install -y -q --no-install-recommends iproute2 >> "$OUT/install.log" 2>&1; } ||
        die "apt-get install iproute2 failed, see ${OUT#"$SPLITNET_TOP"/}/install.log"
}

# --- the guest's files ---------------------------------------------------------
#
# QEMU runs as libvirt-qemu.  The kernel and initramfs are relabelled by
# libvirt, but what QEMU opens itself (-L, -fw_cfg) is not, and the firmware
# in build/guest/firmware links into root's cache: stage readable copies.
# DIR gets vmlinuz, initramfs.cpio.gz, splitnet.ko, netlib.sh, firmware/,
# the in-guest SCRIPT as test.sh, an empty env and console.log.

lv_stage() {
    local dir=$1 script=$2 drv=$SPLITNET_BUILD/guest/driver/splitnet.ko krel d
    guest_prepare
    [ -f "$drv" ] || die "no ${drv#"$SPLITNET_TOP"/} (make, or scripts/build-driver.sh)"
    krel=$(cat "$SPLITNET_BUILD/guest/driver/kernelrelease" 2>/dev/null || true)
    [ -z "$krel" ] || [ "$krel" = "$KVER" ] ||
        die "${drv#"$SPLITNET_TOP"/} is built for $krel, the guest runs $KVER (scripts/build-driver.sh)"
    QEMU_BIN=$(guest_qemu)
    qemu_has_device splitnet || die "$QEMU_BIN has no splitnet device"
    rm -rf "$dir/firmware"
    mkdir -p "$dir/firmware"
    cp -L "$FIRMWARE"/* "$dir/firmware/" 2>/dev/null || true
    [ -f "$dir/firmware/bios-256k.bin" ] || die "no bios-256k.bin in $FIRMWARE"
    cp "$KERNEL" "$dir/vmlinuz"
    cp "$INITRD" "$dir/initramfs.cpio.gz"
    cp "$drv" "$dir/splitnet.ko"
    cp "$GUEST_IN_GUEST/netlib.sh" "$dir/netlib.sh"
    : > "$dir/console.log"
    : > "$dir/env"
    cp "$GUEST_IN_GUEST/$script" "$dir/test.sh"
    chmod 0755 "$dir" "$dir/firmware"
    chmod 0644 "$dir"/firmware/* "$dir/vmlinuz" "$dir/initramfs.cpio.gz" \
        "$dir/splitnet.ko" "$dir/netlib.sh" "$dir/env" "$dir/test.sh"
    # ... and every directory above it must be searchable by libvirt-qemu
    d=$dir
    while [ "$d" != / ]; do
        [ "$(stat -c %A "$d" | cut -c10)" = x ] ||
            die "$d is not searchable by others: QEMU (user libvirt-qemu) cannot reach ${dir#"$SPLITNET_TOP"/}"
        d=$(dirname "$d")
    done
}

# lv_fill DIR DOMAIN TEST: the template with this build's paths and the
# files of DIR, the guest's kernel command line naming TEST, into
# DIR/domain.xml (without the template's header comment, which lists the
# placeholders).
lv_fill() {
    local dir=$1 dom=$2 test=$3
    sed -e '2,/^-->$/d' \
        -e "s|@DOMAIN@|$dom|g" \
        -e "s|@EMULATOR@|$QEMU_BIN|g" \
        -e "s|@KERNEL@|$dir/vmlinuz|g" \
        -e "s|@INITRD@|$dir/initramfs.cpio.gz|g" \
        -e "s|@CMDLINE@|console=ttyS0 quiet panic=-1 no_timer_check splitnet.test=$test|g" \
        -e "s|@CONSOLE_LOG@|$dir/console.log|g" \
        -e "s|@FIRMWARE@|$dir/firmware|g" \
        -e "s|@TEST_DIR@|$dir|g" \
        "$TEMPLATE" > "$dir/domain.xml"
    ! grep -q '@[A-Z_]*@' "$dir/domain.xml" ||
        die "unfilled placeholder in $dir/domain.xml"
}

# --- the daemons -----------------------------------------------------------------

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# lv_start_daemons NETNS: a new network namespace NETNS with only a
# loopback, and virtlogd and libvirtd in it (`ip netns exec`, which also
# gives them the namespace's own /sys/class/net, where libvirt looks for
# the bridges it makes).  QEMU, slirp, bridges, taps and dnsmasq that
# libvirtd starts live there too.  Sets LIBVIRTD_PID.
lv_start_daemons() {
    local ns=$1
    if pid_alive /run/libvirtd.pid; then
        die "a libvirtd (pid $(cat /run/libvirtd.pid)) already runs; this script starts its own in a private network namespace: stop that one first"
    fi
    ! pid_alive /run/virtlogd.pid ||
        die "a virtlogd (pid $(cat /run/virtlogd.pid)) already runs: stop it first"
    ! ip netns list | grep -qw "$ns" || die "network namespace $ns exists already"
    ip netns add "$ns" || die "ip netns add $ns failed"
    LV_NETNS=$ns
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sh -c 'virtlogd -d && libvirtd -d' ||
        die "could not start virtlogd/libvirtd in network namespace $ns"
    for _ in $(seq 50); do
        pid_alive /run/libvirtd.pid && [ -S /run/libvirt/libvirt-sock ] && break
        sleep 0.2
    done
    pid_alive /run/virtlogd.pid && LV_PIDS+=("$(cat /run/virtlogd.pid)")
    pid_alive /run/libvirtd.pid || die "libvirtd did not start"
    LIBVIRTD_PID=$(cat /run/libvirtd.pid)
    LV_PIDS=("$LIBVIRTD_PID" ${LV_PIDS[@]+"${LV_PIDS[@]}"})
    say "virtlogd and libvirtd $LIBVIRTD_PID in network namespace $ns (links: $(ip -n "$ns" -o link | awk -F': ' '{ printf "%s ", $2 }'))"
}

# lv_probe_start DIR: something listening on 127.0.0.1 in QEMU's namespace,
# for the guest to fail to reach through slirp's 10.0.2.2; PROBE_PORT=port
# goes into DIR/env for the guest, the connections it saw into
# DIR/probe.hits (lv_probe_hits).
lv_probe_start() {
    local dir=$1
    rm -f "$dir/probe.port" "$dir/probe.hits"
    ip netns exec "$LV_NETNS" python3 -c '
import socket, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(8)
open(sys.argv[1], "w").write("%d\n" % s.getsockname()[1])
n = 0
open(sys.argv[2], "w").write("0\n")
while True:
    c, a = s.accept()
    n += 1
    open(sys.argv[2], "w").write("%d\n" % n)
    c.close()
' "$dir/probe.port" "$dir/probe.hits" &
    LV_PIDS+=("$!")
    for _ in $(seq 50); do [ -s "$dir/probe.port" ] && break; sleep 0.1; done
    PROBE_PORT=$(cat "$dir/probe.port" 2>/dev/null) || die "the probe listener did not start"
    printf 'PROBE_PORT=%s\n' "$PROBE_PORT" >> "$dir/env"
}

lv_probe_hits() { cat "$1/probe.hits" 2>/dev/null || echo '?'; }

# lv_wait_result DIR DOMAIN: wait (TIMEOUT) for the guest's SPLITNET-RESULT
# line on DIR/console.log, then for the domain to shut off.  Returns 1 when
# there is none (the console's tail is shown).
lv_wait_result() {
    local dir=$1 dom=$2 end
    end=$(( $(date +%s) + TIMEOUT ))
    while ! grep -aq 'SPLITNET-RESULT: ' "$dir/console.log"; do
        if [ "$(date +%s)" -ge "$end" ]; then
            tr -d '\r' < "$dir/console.log" | tail -n 30 | sed 's/^/  console| /' >&2
            say "no result from the guest within ${TIMEOUT}s"
            return 1
        fi
        if ! "${VIRSH[@]}" domstate "$dom" 2>/dev/null | grep -q running; then
            sleep 0.5
            grep -aq 'SPLITNET-RESULT: ' "$dir/console.log" && break
            tr -d '\r' < "$dir/console.log" | tail -n 30 | sed 's/^/  console| /' >&2
            say "the domain stopped without a result"
            return 1
        fi
        sleep 0.5
    done
    for _ in $(seq 50); do
        "${VIRSH[@]}" domstate "$dom" 2>/dev/null | grep -q 'shut off' && break
        sleep 0.2
    done
}

# Best effort: what is already gone is no error (set +e: nor does the ERR
# trap report it).
lv_cleanup() {
    local p n d
    set +e
    for d in ${LV_DOMAINS[@]+"${LV_DOMAINS[@]}"}; do
        "${VIRSH[@]}" dominfo "$d" >/dev/null 2>&1 || continue
        "${VIRSH[@]}" destroy "$d" >/dev/null 2>&1
        "${VIRSH[@]}" undefine "$d" >/dev/null 2>&1 &&
            say "domain $d destroyed and undefined"
    done
    for d in ${LV_NETWORKS[@]+"${LV_NETWORKS[@]}"}; do
        "${VIRSH[@]}" net-destroy "$d" >/dev/null 2>&1 && say "network $d destroyed"
    done
    for d in ${LV_NETWORKS_DEFINED[@]+"${LV_NETWORKS_DEFINED[@]}"}; do
        "${VIRSH[@]}" net-undefine "$d" >/dev/null 2>&1 && say "network $d undefined"
    done
    for p in ${LV_PIDS[@]+"${LV_PIDS[@]}"}; do
        n=$(cat "/proc/$p/comm" 2>/dev/null) || continue
        kill -TERM "$p" 2>/dev/null || continue
        for _ in $(seq 50); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null
        say "stopped $n (pid $p)"
    done
    if [ -n "$LV_NETNS" ]; then
        ip netns del "$LV_NETNS" && say "network namespace $LV_NETNS deleted"
    fi
}
