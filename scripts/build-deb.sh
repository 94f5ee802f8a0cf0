#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make deb: the splitnet-dkms Debian package, built with debhelper and
# Debian's DKMS helper (dh_dkms), into build/deb/:
#
#   build/deb/splitnet-dkms_VERSION_all.deb   installs the driver's source
#       in /usr/src/splitnet-VERSION and registers it with DKMS, which builds
#       and installs splitnet.ko for every kernel with headers, and again on
#       each kernel update (AUTOINSTALL)
#   build/deb/splitnet-VERSION/               the same DKMS source tree, for
#       `dkms add` by hand (guest/linux/README.md)
#
# The source tree is guest/linux's tracked files (as they are in the working
# tree), the ABI header include/uapi/linux/splitnet.h among them.  VERSION
# is the ABI version, the commit's date and its hash, e.g.
# 1.1+git20261128.7fb3d56 (+dirty when guest/ has uncommitted changes).
# Packages it needs (debhelper, dh-dkms, dpkg-dev) are installed as root,
# their versions recorded in build/versions.txt.
#
# Usage: scripts/build-deb.sh
#   prints the .deb's path on standard output

set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

[ $# = 0 ] || { sed -n '3,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }

HDR=guest/linux/include/uapi/linux/splitnet.h
OUT=$SPLITNET_BUILD/deb
cd "$SPLITNET_TOP"

pkg_need debhelper dh-dkms dpkg-dev
for p in debhelper dh-dkms; do
    record_version "$p" "$(dpkg-query -W -f='${Version}' "$p")"
done

abi() { sed -n "s/^#define SPLITNET_VERSION_$1 *\([0-9]*\).*/\1/p" "$HDR"; }
version=$(abi MAJOR).$(abi MINOR)+git$(git log -1 --format=%cd --date=format:%Y%m%d).$(git rev-parse --short=7 HEAD)
git diff --quiet HEAD -- guest || version+=+dirty

work=$OUT/work/splitnet-dkms-$version
rm -rf "$OUT/work" "$OUT"/splitnet-[0-9]* "$OUT"/splitnet-dkms_*
mkdir -p "$work/src" "$work/debian/source"
git ls-files -z guest/linux | while IFS= read -r -d '' f; do
    mkdir -p "$work/src/$(dirname "${f#guest/linux/}")"
    cp "$f" "$work/src/${f#guest/linux/}"
done
cp guest/debian/control guest/debian/rules guest/debian/copyright "$work/debian/"
echo '3.0 (native)' > "$work/debian/source/format"
cat > "$work/debian/changelog" <<EOC
splitnet-dkms ($version) unstable; urgency=medium

  * Built from commit $(git rev-parse HEAD).

 -- The splitnet authors <splitnet@localhost>  $(git log -1 --format=%aD)
EOC

say "dpkg-buildpackage -b splitnet-dkms $version (log: build/deb/build.log)"
(cd "$work" && dpkg-buildpackage -b -us -uc) > "$OUT/build.log" 2>&1 ||
    { tail -n 20 "$OUT/build.log" >&2; die "dpkg-buildpackage failed, see build/deb/build.log"; }
deb=$OUT/splitnet-dkms_${version}_all.deb
mv "$OUT/work/$(basename "$deb")" "$deb"

# The DKMS tree as the package installs it, version filled in.
cp -a "$work/src" "$OUT/splitnet-$version"
sed -i "s/#MODULE_VERSION#/$version/" "$OUT/splitnet-$version/dkms.conf"
rm -rf "$OUT/work"
say "built ${deb#"$SPLITNET_TOP"/} ($(du -k "$deb" | cut -f1) KiB) and build/deb/splitnet-$version/"
echo "$deb"
