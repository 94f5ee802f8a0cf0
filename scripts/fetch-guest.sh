#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Fetch what a splitnet test guest needs and build it under build/guest/:
#
#   build/guest/vmlinuz              Debian bookworm's current 6.1 kernel
#   build/guest/initramfs.cpio.gz    busybox, the NIC modules, ethtool, iperf3,
#                                    lspci with their libraries, the test init
#   build/guest/firmware/            a directory for QEMU's -L (SeaBIOS,
#                                    qemu-system-data, iPXE option ROMs)
#   build/guest/guest.env            KVER/KERNEL/INITRD/FIRMWARE for the harness
#
# Every package comes from Debian's signed archive (scripts/lib.sh, deb_fetch)
# and is cached by version; build/versions.txt records what was used.  The
# initramfs is rebuilt only when one of its inputs changes (build/guest/.stamp).
#
# Usage: scripts/fetch-guest.sh [--force]
# Environment: SPLITNET_GUEST_EXTRA_MODULES   more kernel modules to include
#              SPLITNET_GUEST_KERNEL_SUITE    suite of the kernel (bookworm)

set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FORCE=0
for arg in "$@"; do
    case $arg in
    --force) FORCE=1 ;;
    -h|--help) sed -n '3,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg" ;;
    esac
done

GUEST_DIR=$SPLITNET_BUILD/guest
ROOTFS_SRC=$SPLITNET_TOP/tests/guest/rootfs
KSUITE=${SPLITNET_GUEST_KERNEL_SUITE:-bookworm}

# Kernel modules the tests need; their dependencies are added automatically.
# qemu_fw_cfg is how the harness hands test scripts and files to the guest,
# pktgen is for the benchmarks, 8021q for VLAN tests.
GUEST_MODULES="virtio_pci virtio_net e1000 e1000e vmxnet3 qemu_fw_cfg
    pktgen 8021q ${SPLITNET_GUEST_EXTRA_MODULES:-}"

# Debian programs in the guest ("package:path inside the package") and the
# packages their shared libraries are looked up in.  A missing library is an
# error that names it: add its package to GUEST_LIB_PKGS.
GUEST_PROGRAMS="ethtool:sbin/ethtool iperf3:usr/bin/iperf3
    pciutils:usr/bin/lspci"
GUEST_LIB_PKGS="libc6 libmnl0 libiperf0 libsctp1 libssl3 libpci3 libkmod2
    libudev1 libzstd1 liblzma5 zlib1g"

# Host tools this script uses, with the Debian package that provides each.
host_need() {
    local tool=$1 pkg=$2
    command -v "$tool" >/dev/null 2>&1 && return 0
    [ "$(id -u)" = 0 ] || die "$tool is missing: apt-get install $pkg"
    say "installing $pkg (for $tool)"
    export DEBIAN_FRONTEND=noninteractive
    # (a machine whose apt lists were never fetched needs an update first)
    apt-get install -y -q "$pkg" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null && apt-get install -y -q "$pkg" >/dev/null; } ||
        die "apt-get install $pkg failed"
}
host_need dpkg-deb dpkg
host_need cpio cpio
host_need gzip gzip
host_need readelf binutils
PATH=$PATH:/usr/sbin:/sbin
host_need depmod kmod
host_need modinfo kmod

mkdir -p "$GUEST_DIR"
# Test runs started together each call this script: one builds, the others
# wait and then find the stamp current, instead of writing the same files.
exec 9>"$GUEST_DIR/.lock"
flock 9

# --- resolve and download --------------------------------------------------

say "resolving the guest kernel ($KSUITE)"
apt_priv_update
meta_ver=$(deb_version linux-image-amd64 "$KSUITE")
[ -n "$meta_ver" ] && [ "$meta_ver" != "(none)" ] ||
    die "linux-image-amd64 not found in $KSUITE"
# shellcheck disable=SC2046
kpkg=$(apt-cache $(apt_priv_opts) -o APT::Default-Release="$KSUITE" \
        show "linux-image-amd64=$meta_ver" |
       sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*-amd64\).*/\1/p' | head -n1)
[ -n "$kpkg" ] || die "cannot resolve linux-image-amd64 $meta_ver's kernel"
KVER=${kpkg#linux-image-}
say "guest kernel: $kpkg (linux-image-amd64 $meta_ver)"
record_version linux-image-amd64 "$meta_ver"
record_version guest-kernel "$KVER"

# The driver is built against the headers of exactly this kernel; the driver
# build installs them, this only records which package that is.
hpkg=linux-headers-$KVER
hver=$(deb_version "$hpkg" "$KSUITE")
[ -n "$hver" ] && [ "$hver" != "(none)" ] || die "$hpkg not found in $KSUITE"
record_version guest-headers "$hpkg"
record_version "$hpkg" "$hver"

# deb_fetch for many packages at once: one apt-cache call resolves all
# versions, and packages already unpacked in the cache are used as they are.
# Fills PKG_DIR[pkg].
declare -A PKG_DIR=()
fetch_pkgs() {
    local suite=$1 pkg ver dir
    shift
    # shellcheck disable=SC2046
    while read -r pkg ver; do
        dir="$SPLITNET_CACHE/debs/${pkg}_${ver//:/%3a}"
        if [ -n "$ver" ] && [ "$ver" != "(none)" ] && [ -f "$dir/.unpacked" ]; then
            record_version "$pkg" "$ver"
            PKG_DIR[$pkg]=$dir
        else
            PKG_DIR[$pkg]=$(deb_fetch "$pkg" "$suite")
        fi
    done < <(apt-cache $(apt_priv_opts) -o Dir::State::status=/dev/null \
                 -o APT::Default-Release="$suite" \
                 policy "$@" |
             awk '/^[^ ].*:$/ { p = $1; sub(/:$/, "", p) }
                  /^ +Candidate:/ { print p, $2 }')
    for pkg in "$@"; do
        [ -n "${PKG_DIR[$pkg]:-}" ] || die "package $pkg not found in Debian $suite"
    done
}

say "fetching the kernel, busybox and firmware (seabios, qemu-system-data,"
say "ipxe-qemu from trixie, which ships QEMU 10.0)"
fetch_pkgs "$KSUITE" "$kpkg"
fetch_pkgs trixie seabios qemu-system-data ipxe-qemu
KDIR=${PKG_DIR[$kpkg]}
SEABIOS_DIR=${PKG_DIR[seabios]}
QDATA_DIR=${PKG_DIR[qemu-system-data]}
IPXE_DIR=${PKG_DIR[ipxe-qemu]}

say "fetching guest programs and libraries"
progpkgs=$(for p in $GUEST_PROGRAMS; do echo "${p%%:*}"; done | sort -u)
# shellcheck disable=SC2086
fetch_pkgs bookworm busybox-static pci.ids $progpkgs $GUEST_LIB_PKGS
BUSYBOX_DIR=${PKG_DIR[busybox-static]}
PCIIDS_DIR=${PKG_DIR[pci.ids]}

# --- firmware directory for -L ---------------------------------------------

say "assembling firmware directory build/guest/firmware"
rm -rf "$GUEST_DIR/firmware.new"
mkdir -p "$GUEST_DIR/firmware.new"
for f in "$QDATA_DIR"/usr/share/qemu/* "$SEABIOS_DIR"/usr/share/seabios/* \
         "$IPXE_DIR"/usr/share/qemu/*; do
    [ -f "$f" ] && [ ! -L "$f" ] || continue
    ln -sf "$f" "$GUEST_DIR/firmware.new/$(basename "$f")"
done
for f in bios.bin bios-256k.bin linuxboot_dma.bin kvmvapic.bin \
         efi-e1000.rom efi-virtio.rom; do
    [ -e "$GUEST_DIR/firmware.new/$f" ] || die "firmware $f missing"
done
rm -rf "$GUEST_DIR/firmware"
mv "$GUEST_DIR/firmware.new" "$GUEST_DIR/firmware"

# --- initramfs --------------------------------------------------------------

# Everything that goes into the initramfs, as one hash: package directories
# (they carry the versions), the module and program lists, our own files.
inputs_hash() {
    {
        echo "$KDIR $BUSYBOX_DIR $PCIIDS_DIR"
        for k in "${!PKG_DIR[@]}"; do echo "$k ${PKG_DIR[$k]}"; done | sort
        echo "$GUEST_MODULES" | tr -s ' \n' ' '
        echo "$GUEST_PROGRAMS $GUEST_LIB_PKGS" | tr -s ' \n' ' '
        sha256sum "${BASH_SOURCE[0]}"
        (cd "$SPLITNET_TOP/tests/guest" &&
         find rootfs -type f -print0 | sort -z |
         xargs -0 sha256sum)
    } | sha256sum | cut -d' ' -f1
}
HASH=$(inputs_hash)
STAMP=$GUEST_DIR/.stamp
if [ "$FORCE" = 0 ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$HASH" ] &&
   [ -f "$GUEST_DIR/initramfs.cpio.gz" ] && [ -f "$GUEST_DIR/vmlinuz" ]; then
    say "initramfs is up to date (build/guest/initramfs.cpio.gz)"
    exit 0
fi

say "building initramfs for $KVER"
ROOT=$GUEST_DIR/rootfs
rm -rf "$ROOT"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,proc,sys,dev,run,tmp,root}
mkdir -p "$ROOT/lib/x86_64-linux-gnu"
chmod 1777 "$ROOT/tmp"

# busybox and a link for each applet
cp "$BUSYBOX_DIR/bin/busybox" "$ROOT/bin/busybox"
n=0
while read -r applet; do
    [ "$applet" = bin/busybox ] && continue
    mkdir -p "$ROOT/$(dirname "$applet")"
    [ -e "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
    n=$((n + 1))
done < <("$ROOT/bin/busybox" --list-full)
say "  busybox with $n applets"

# kernel modules and, recursively, what they depend on
MODSRC=$KDIR/lib/modules/$KVER
[ -d "$MODSRC" ] || die "no modules in $KDIR"
declare -A MODPATH=() WANT=()
while read -r ko; do
    m=$(basename "$ko" .ko)
    MODPATH[${m//-/_}]=$ko
done < <(cd "$MODSRC" && find kernel -name '*.ko')
is_builtin() {
    grep -qE "/${1//_/[-_]}\.ko$" "$MODSRC/modules.builtin"
}
add_module() {
    local m=${1//-/_} d
    [ -n "${WANT[$m]:-}" ] && return 0
    if [ -z "${MODPATH[$m]:-}" ]; then
        is_builtin "$m" && return 0
        die "kernel module $m is neither modular nor built into $KVER"
    fi
    WANT[$m]=1
    for d in $(modinfo -F depends "$MODSRC/${MODPATH[$m]}" | tr ',' ' '); do
        add_module "$d"
    done
}
for m in $GUEST_MODULES; do add_module "$m"; done
for m in "${!WANT[@]}"; do
    install -D -m 644 "$MODSRC/${MODPATH[$m]}" \
        "$ROOT/lib/modules/$KVER/${MODPATH[$m]}"
done
cp "$MODSRC"/modules.builtin "$MODSRC"/modules.order "$ROOT/lib/modules/$KVER/"
[ -f "$MODSRC/modules.builtin.modinfo" ] &&
    cp "$MODSRC/modules.builtin.modinfo" "$ROOT/lib/modules/$KVER/"
depmod -b "$ROOT" "$KVER"
say "  ${#WANT[@]} modules: $(echo "${!WANT[@]}" | tr ' ' '\n' | sort | tr '\n' ' ')"

# Debian programs and the shared libraries they need, found like ld.so would
# find them, but in the unpacked packages.
LIBDIRS=()
for pkg in $GUEST_LIB_PKGS; do
    for d in lib/x86_64-linux-gnu usr/lib/x86_64-linux-gnu; do
        [ -d "${PKG_DIR[$pkg]}/$d" ] && LIBDIRS+=("${PKG_DIR[$pkg]}/$d")
    done
done
declare -A HAVE_LIB=()
add_libs() {
    local elf=$1 lib d found
    for lib in $(readelf -d "$elf" 2>/dev/null |
                 sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
        [ -n "${HAVE_LIB[$lib]:-}" ] && continue
        found=
        for d in "${LIBDIRS[@]}"; do
            if [ -e "$d/$lib" ]; then found=$d/$lib; break; fi
        done
        [ -n "$found" ] || die "library $lib (needed by $(basename "$elf")) is in none of: $(echo "$GUEST_LIB_PKGS" | tr -s " \n" " ")"
        HAVE_LIB[$lib]=1
        cp -L "$found" "$ROOT/lib/x86_64-linux-gnu/$lib"
        add_libs "$found"
    done
}
for p in $GUEST_PROGRAMS; do
    pkg=${p%%:*} path=${p#*:}
    src=${PKG_DIR[$pkg]}/$path
    [ -f "$src" ] || die "$path not in package $pkg"
    rm -f "$ROOT/$path"     # may be a busybox applet link
    install -D -m 755 "$src" "$ROOT/$path"
    add_libs "$src"
done
ld=$(find "${PKG_DIR[libc6]}" -name 'ld-linux-x86-64.so.2' -path '*x86_64-linux-gnu*' | head -n1)
[ -n "$ld" ] || die "no ld-linux-x86-64.so.2 in libc6"
cp -L "$ld" "$ROOT/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
ln -sf /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$ROOT/lib64/ld-linux-x86-64.so.2"
ln -s ../lib "$ROOT/usr/lib"
install -D -m 644 "$PCIIDS_DIR/usr/share/misc/pci.ids" "$ROOT/usr/share/misc/pci.ids"
say "  programs: $(echo "$GUEST_PROGRAMS" | tr -s " \n" " ")"
say "  libraries: $(echo "${!HAVE_LIB[@]}" | tr ' ' '\n' | sort | tr '\n' ' ')"

# our init and in-guest helpers (the tests themselves reach the guest
# through fw_cfg, so changing a test needs no rebuild)
cp -a "$ROOTFS_SRC"/. "$ROOT"/
chmod 755 "$ROOT/init"
cat > "$ROOT/etc/splitnet-guest-release" <<EOF
kernel=$KVER
kernel-package=$kpkg $(basename "$KDIR" | sed 's/.*_//')
busybox=$(basename "$BUSYBOX_DIR" | sed 's/.*_//; s/%3a/:/')
EOF

# programs run under ld.so in the guest: check each one resolves on the host
# with the guest's loader and libraries (same architecture, so it can run).
for p in $GUEST_PROGRAMS; do
    path=${p#*:}
    "$ROOT/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \
        --library-path "$ROOT/lib/x86_64-linux-gnu" --list "$ROOT/$path" \
        >/dev/null || die "$path does not resolve its libraries"
done

(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z |
 cpio --null -o -H newc --quiet --reproducible -R 0:0) |
    gzip -6 > "$GUEST_DIR/initramfs.cpio.gz.new"
mv "$GUEST_DIR/initramfs.cpio.gz.new" "$GUEST_DIR/initramfs.cpio.gz"
cp "$KDIR/boot/vmlinuz-$KVER" "$GUEST_DIR/vmlinuz"
cat > "$GUEST_DIR/guest.env" <<EOF
# generated by scripts/fetch-guest.sh
KVER=$KVER
KERNEL=$GUEST_DIR/vmlinuz
INITRD=$GUEST_DIR/initramfs.cpio.gz
FIRMWARE=$GUEST_DIR/firmware
EOF
echo "$HASH" > "$STAMP"
say "initramfs ready: build/guest/initramfs.cpio.gz ($(du -k "$GUEST_DIR/initramfs.cpio.gz" | cut -f1) KiB), kernel $KVER"
