#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make check-dkms: the splitnet-dkms package (make deb) on a clean Debian 12,
# for the two kernels the driver supports:
#
#   1. scripts/build-deb.sh builds build/deb/splitnet-dkms_VERSION_all.deb
#   2. a clean bookworm minbase root (scripts/chroot-lib.sh: the cached
#      debootstrap tarball) in build/check-dkms/root, its apt sources bookworm
#      and bookworm-backports only, its downloaded packages kept in
#      ~/.cache/splitnet/check-dkms/archives for the next run
#   3. in a chroot there: apt-get install dkms, bookworm's linux-headers-amd64
#      (6.1) and the .deb; then bookworm-backports' linux-headers-6.12.*-amd64,
#      as a kernel update would bring it.  DKMS must have built and installed
#      splitnet for both on its own (AUTOINSTALL, dkms status)
#   4. for each kernel: dkms uninstall + unbuild, then dkms build and dkms
#      install by hand; the module must be in /lib/modules/KVER/updates/dkms
#      and modinfo's vermagic must name KVER; the DKMS build log is printed
#
# Prints TAP lines and "N passed, N failed"; each step's output is in
# build/check-dkms/*.log.  The root is removed after a pass and kept after a
# failure.  Network: apt downloads from the Debian mirror this machine uses,
# nothing else.  Run as root; not part of `make check` (a few minutes, most
# of it apt and two module builds).
#
# Usage: scripts/check-dkms.sh [--new-root] [--keep]

set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/chroot-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/chroot-lib.sh"

NEW_ROOT=0
KEEP=0
for arg in "$@"; do
    case $arg in
    --new-root) NEW_ROOT=1 ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '3,26p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (see --help)" ;;
    esac
done
[ "$(id -u)" = 0 ] || die "run as root (debootstrap, mount, chroot)"
PATH=$PATH:/usr/sbin:/sbin

WORK=$SPLITNET_BUILD/check-dkms
ROOT=$WORK/root
ARCHIVES=$SPLITNET_CACHE/check-dkms/archives
T0=$SECONDS
N=0
FAILED=0

trap 'unmount_root' EXIT
trap 'say "interrupted"; exit 130' INT TERM

# inroot LOG CMD: CMD (a bash string) in the root, as root with a clean
# environment, output appended to build/check-dkms/LOG.log.
inroot() {
    local log=$WORK/$1.log
    shift
    chroot "$ROOT" /usr/bin/env -i HOME=/root USER=root LOGNAME=root \
        TERM=dumb DEBIAN_FRONTEND=noninteractive \
        PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
        /bin/bash -c "set -euo pipefail; $1" </dev/null >>"$log" 2>&1
}

# result RC NAME LOG: one TAP line; a failure shows the log's tail.
result() {
    N=$((N + 1))
    if [ "$1" = 0 ]; then
        echo "ok $N - $2"
    else
        echo "not ok $N - $2"
        FAILED=$((FAILED + 1))
        tail -n 25 "$WORK/$3.log" | sed 's/^/# /'
    fi
}

# step NAME LOG CMD: run CMD in the root as one TAP test.
step() {
    local name=$1 log=$2 rc=0 t=$SECONDS
    shift 2
    inroot "$log" "$1" || rc=$?
    result "$rc" "$name ($((SECONDS - t)) s)" "$log"
    return "$rc"
}

finish() {
    unmount_root
    echo "# check-dkms: $((SECONDS - T0)) s in all, logs in ${WORK#"$SPLITNET_TOP"/}/"
    echo "$((N - FAILED)) passed, $FAILED failed"
    if [ "$FAILED" = 0 ] && [ "$KEEP" = 0 ]; then
        remove_root
    else
        say "root kept in ${ROOT#"$SPLITNET_TOP"/}"
    fi
    [ "$FAILED" = 0 ]
    exit
}

rm -rf "$WORK"/*.log
mkdir -p "$WORK" "$ARCHIVES/partial"
DEB=$("$SPLITNET_TOP/scripts/build-deb.sh" | tail -n1)
[ -f "$DEB" ] || die "scripts/build-deb.sh made no .deb"
VERSION=$(dpkg-deb -f "$DEB" Version)
root_tarball "$NEW_ROOT"
unpack_root
mkdir -p "$ROOT/var/cache/apt/archives"
mount --bind "$ARCHIVES" "$ROOT/var/cache/apt/archives"
cp "$DEB" "$ROOT/root/"
mirror=$(detect_mirror)
cat > "$ROOT/etc/apt/sources.list" <<EOS
deb $mirror bookworm main
deb $mirror bookworm-backports main
EOS
rm -f "$ROOT"/etc/apt/sources.list.d/*
say "clean bookworm root in ${ROOT#"$SPLITNET_TOP"/}, apt from $mirror (bookworm, bookworm-backports), package $(basename "$DEB")"

step "apt-get update (bookworm, bookworm-backports)" apt \
    'apt-get update -q' || finish
# The 6.12 headers package that bookworm-backports' meta package names.
K612_PKG=$(chroot "$ROOT" apt-cache -t bookworm-backports depends linux-headers-amd64 |
           sed -n 's/^ *Depends: \(linux-headers-6\.12[^ ]*-amd64\)$/\1/p' | head -n1)
[ -n "$K612_PKG" ] || { result 1 "bookworm-backports has linux-headers-6.12.*-amd64" apt; finish; }

step "install dkms, linux-headers-amd64 (bookworm) and $(basename "$DEB")" install \
    "apt-get install -y -q --no-install-recommends dkms linux-headers-amd64 /root/$(basename "$DEB")" ||
    finish
# shellcheck disable=SC2016 # ${Depends} is dpkg-query's
K61=$(chroot "$ROOT" dpkg-query -W -f='${Depends}' linux-headers-amd64 |
      sed -n 's/.*linux-headers-\(6\.1\.[^ ,]*-amd64\).*/\1/p')
K612=${K612_PKG#linux-headers-}
step "a kernel update: install $K612_PKG (bookworm-backports)" install \
    "apt-get install -y -q --no-install-recommends -t bookworm-backports $K612_PKG" || finish
inroot status 'dkms status' || true
say "dkms status: $(tr '\n' ';' < "$WORK/status.log")"

for kver in "$K61" "$K612"; do
    # AUTOINSTALL: the package's postinst (6.1) and the headers' kernel hook
    # (6.12) built and installed it without being asked.
    rc=0
    grep -q "^splitnet/$VERSION, $kver, x86_64: installed" "$WORK/status.log" || rc=1
    result "$rc" "DKMS built and installed splitnet $VERSION for $kver on its own" status
    m=/lib/modules/$kver/updates/dkms
    step "$kver: dkms build and dkms install by hand" "dkms-$kver" "
        dkms uninstall -m splitnet -v '$VERSION' -k '$kver'
        dkms unbuild -m splitnet -v '$VERSION' -k '$kver'
        dkms build -m splitnet -v '$VERSION' -k '$kver'
        dkms install -m splitnet -v '$VERSION' -k '$kver'" || true
    step "$kver: $m/splitnet.ko* exists, modinfo vermagic names $kver" "modinfo-$kver" "
        ko=\$(ls $m/splitnet.ko*)
        echo \"\$ko\"
        modinfo \"\$ko\"
        modinfo -F vermagic \"\$ko\" | grep -q '^$kver '" || true
    say "$kver: $(grep -E '^(filename|vermagic|version):' "$WORK/modinfo-$kver.log" | tr -s ' ' | tr '\n' ';')"
    echo "# DKMS build log for $kver (/var/lib/dkms/splitnet/$VERSION/$kver/x86_64/log/make.log):"
    sed 's/^/#   /' "$ROOT/var/lib/dkms/splitnet/$VERSION/$kver/x86_64/log/make.log" 2>/dev/null ||
        echo "#   (none)"
done
finish
