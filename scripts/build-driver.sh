#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the splitnet guest driver (guest/linux/) out of tree, in a copy under
# build/ so the source tree stays clean.
#
#   scripts/build-driver.sh                 for the kernel the guest tests boot
#                                           -> build/guest/driver/splitnet.ko
#   scripts/build-driver.sh --kernel 6.12   for bookworm-backports' 6.12 (a
#                                           build check; headers unpacked
#                                           privately under build/kheaders/)
#   scripts/build-driver.sh --kernel KVER   for headers installed in
#                                           /usr/src/linux-headers-KVER
#
# Each build lands in build/guest/driver/<kernel release>/.  The guest
# kernel's headers package is the one scripts/fetch-guest.sh recorded in
# build/versions.txt (guest-headers=...); without that record it is resolved
# the same way (bookworm's linux-image-amd64 -> linux-image-6.1.0-NN-amd64 ->
# linux-headers-6.1.0-NN-amd64).  It is installed with apt-get, which needs
# root; as another user the script prints the apt-get line and stops.  If
# apt cannot install it, the packages are unpacked privately instead.
#
# Usage: scripts/build-driver.sh [--kernel 6.1|6.12|KVER] [--check] [--sparse]
#   --check   also build with W=1 and fail on any compiler warning
#   --sparse  then run sparse on every source (Kbuild's C=2; the package
#             sparse is installed as root, its version recorded) and fail
#             on any sparse warning or error; log in .../sparse.log

set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# modinfo and depmod live in /sbin (package kmod), not in a user's PATH.
PATH=$PATH:/usr/sbin:/sbin

KERNEL=guest
CHECK=0
SPARSE=0
while [ $# -gt 0 ]; do
    case $1 in
    --kernel) [ $# -ge 2 ] || die "--kernel needs an argument"
              KERNEL=$2; shift ;;
    --kernel=*) KERNEL=${1#--kernel=} ;;
    --check) CHECK=1 ;;
    --sparse) SPARSE=1 ;;
    -h|--help) sed -n '3,27p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $1" ;;
    esac
    shift
done

SRC=$SPLITNET_TOP/guest/linux
DRIVER_DIR=$SPLITNET_BUILD/guest/driver
command -v make >/dev/null || die "make is missing: apt-get install make"
command -v modinfo >/dev/null || die "modinfo is missing: apt-get install kmod"
command -v strip >/dev/null || die "strip is missing: apt-get install binutils"

# Value of KEY in build/versions.txt, if recorded (empty without the file).
recorded() {
    [ -f "$SPLITNET_BUILD/versions.txt" ] || return 0
    sed -n "s/^$1=//p" "$SPLITNET_BUILD/versions.txt" | tail -n1
}

# Kernel release that Debian's meta package linux-image-amd64 selects in
# suite $1, e.g. 6.1.0-50-amd64 (the way scripts/fetch-guest.sh resolves it).
meta_kernel() {
    local suite=$1 meta
    apt_priv_update
    meta=$(deb_version linux-image-amd64 "$suite")
    [ -n "$meta" ] && [ "$meta" != "(none)" ] ||
        die "linux-image-amd64 not found in $suite"
    # shellcheck disable=SC2046
    apt-cache $(apt_priv_opts) -o APT::Default-Release="$suite" \
            show "linux-image-amd64=$meta" |
        sed -n 's/^Depends:.*linux-image-\([0-9][^ ,]*-amd64\).*/\1/p' |
        head -n1
}

# First dependency of package $1 (suite $2) whose name matches $3; empty
# when none does (the caller says so: no grep exit status under pipefail).
dep_matching() {
    local pkg=$1 suite=$2 re=$3 ver
    ver=$(deb_version "$pkg" "$suite")
    # shellcheck disable=SC2046
    apt-cache $(apt_priv_opts) -o APT::Default-Release="$suite" \
            show "$pkg=$ver" |
        sed -n 's/^Depends: //p' | head -n1 | sed 's/[,|]/\n/g' |
        sed 's/^ *//; s/ .*//' | awk -v re="$re" '$0 ~ re && !n++'
}

# Unpack headers, their -common package and linux-kbuild into
# build/kheaders/KVER and make the tree refer to itself instead of /usr/src.
# Sets KDIR to the kernel build directory.
private_headers() {
    local kver=$1 suite=$2 hpkg common kbuild root dir
    apt_priv_update
    hpkg=linux-headers-$kver
    common=$(dep_matching "$hpkg" "$suite" '^linux-headers-.*-common')
    kbuild=$(dep_matching "$hpkg" "$suite" '^linux-kbuild-')
    [ -n "$common" ] && [ -n "$kbuild" ] ||
        die "cannot resolve the dependencies of $hpkg in $suite"
    root=$SPLITNET_BUILD/kheaders/$kver
    KDIR=$root/usr/src/$hpkg
    if [ ! -f "$root/.ready" ]; then
        rm -rf "$root"
        mkdir -p "$root"
        for p in "$hpkg" "$common" "$kbuild"; do
            dir=$(deb_fetch "$p" "$suite")
            cp -a "$dir/usr" "$root/"
        done
        # The only absolute reference: "include /usr/src/...-common/Makefile".
        sed -i "s|^include /usr/src/|include $root/usr/src/|" "$KDIR/Makefile"
        touch "$root/.ready"
    fi
    say "using $hpkg ($suite), unpacked in ${root#"$SPLITNET_TOP"/}"
}

# The guest kernel's headers, installed with apt-get; as another user than
# root print the apt-get line and stop.  Sets KDIR.
guest_headers() {
    local suite=${SPLITNET_GUEST_KERNEL_SUITE:-bookworm} kver hpkg ver line
    hpkg=$(recorded guest-headers)
    if [ -z "$hpkg" ]; then
        kver=$(meta_kernel "$suite")
        [ -n "$kver" ] || die "cannot resolve the guest kernel"
        hpkg=linux-headers-$kver
        say "guest kernel not recorded yet, resolved $hpkg"
    fi
    kver=${hpkg#linux-headers-}
    ver=$(recorded "$hpkg")
    if [ -z "$ver" ]; then
        apt_priv_update
        ver=$(deb_version "$hpkg" "$suite")
    fi
    [ -n "$ver" ] && [ "$ver" != "(none)" ] || die "$hpkg not found"
    record_version "$hpkg" "$ver"

    KDIR=/usr/src/$hpkg
    if [ -f "$KDIR/Makefile" ] &&
       [ "$(dpkg-query -W -f='${Version}' "$hpkg" 2>/dev/null)" = "$ver" ]; then
        say "using installed $hpkg $ver"
        return 0
    fi
    line="apt-get install -y --no-install-recommends $hpkg=$ver"
    if [ "$(id -u)" != 0 ]; then
        echo "splitnet: the driver needs the guest kernel's headers; as root run:" >&2
        echo "  $line" >&2
        exit 1
    fi
    say "installing headers: $line"
    if DEBIAN_FRONTEND=noninteractive $line >/dev/null 2>&1 ||
       { apt-get update -q >/dev/null 2>&1 &&
         DEBIAN_FRONTEND=noninteractive $line >/dev/null 2>&1; }; then
        return 0
    fi
    say "apt-get could not install $hpkg=$ver, unpacking it privately"
    private_headers "$kver" "$suite"
}

case $KERNEL in
guest|6.1)
    guest_headers ;;
6.12)
    kver=$(meta_kernel bookworm-backports)
    case $kver in 6.12.*) ;; *) die "bookworm-backports has $kver, not 6.12" ;; esac
    private_headers "$kver" bookworm-backports
    record_version backports-headers "linux-headers-$kver" ;;
*)
    KDIR=/usr/src/linux-headers-$KERNEL
    [ -f "$KDIR/Makefile" ] || die "no headers in $KDIR" ;;
esac

KREL=$(basename "$KDIR" | sed 's/^linux-headers-//')
OUT=$DRIVER_DIR/$KREL
mkdir -p "$OUT"
say "building splitnet.ko for $KREL in ${OUT#"$SPLITNET_TOP"/}"

# A fresh copy of the sources, ABI header (include/uapi/) included.
rm -rf "$OUT/src"
cp -a "$SRC" "$OUT/src"

MAKE_ARGS=(-C "$KDIR" "M=$OUT/src")
# BTF for modules needs pahole; it is optional for loading.
command -v pahole >/dev/null || MAKE_ARGS+=(CONFIG_DEBUG_INFO_BTF_MODULES=)
[ "$CHECK" = 1 ] && MAKE_ARGS+=(W=1)

# (pipefail: make's failure is the pipe's, so errexit must not see it first)
make "${MAKE_ARGS[@]}" -j"$(nproc)" modules 2>&1 | tee "$OUT/build.log" >&2 ||
    die "driver build failed, see ${OUT#"$SPLITNET_TOP"/}/build.log"
if [ "$CHECK" = 1 ] && grep -q 'warning:' "$OUT/build.log"; then
    die "the driver builds with warnings (W=1), see ${OUT#"$SPLITNET_TOP"/}/build.log"
fi
cp "$OUT/src/splitnet.ko" "$OUT/splitnet.ko"

if [ "$SPARSE" = 1 ]; then
    pkg_need sparse
    record_version sparse "$(dpkg-query -W -f='${Version}' sparse)"
    # C=2 checks every source whether or not it is rebuilt: the objects are
    # up to date, so the log holds sparse's findings only.
    make "${MAKE_ARGS[@]}" C=2 modules >"$OUT/sparse.log" 2>&1 ||
        die "sparse build failed, see ${OUT#"$SPLITNET_TOP"/}/sparse.log"
    nwarn=$(grep -cE ': (warning|error): ' "$OUT/sparse.log" || true)
    if [ "$nwarn" != 0 ]; then
        grep -E -A2 ': (warning|error): ' "$OUT/sparse.log" >&2
        die "sparse: $nwarn warnings, see ${OUT#"$SPLITNET_TOP"/}/sparse.log"
    fi
    say "sparse: $(grep -c '^  CHECK ' "$OUT/sparse.log") files, no warnings"
fi
vermagic=$(modinfo -F vermagic "$OUT/splitnet.ko")
say "built ${OUT#"$SPLITNET_TOP"/}/splitnet.ko ($vermagic)"

if [ "$KERNEL" = guest ] || [ "$KERNEL" = 6.1 ]; then
    # The guest reads it through fw_cfg, byte by byte under TCG: leave the
    # debug info (1.7 MB of it) in the build directory.
    strip --strip-debug -o "$DRIVER_DIR/splitnet.ko" "$OUT/splitnet.ko"
    echo "$KREL" > "$DRIVER_DIR/kernelrelease"
    say "guest driver: ${DRIVER_DIR#"$SPLITNET_TOP"/}/splitnet.ko"
fi
