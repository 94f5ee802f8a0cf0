#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The whole of splitnet as one git format-patch series against the QEMU
# release, in build/patch-series/: first the new files (overlay), area by
# area, then the commits of patches/ that hook them into QEMU's build,
# tests and docs.  Every step builds, since nothing compiles a new file
# until its glue patch lands.

set -euo pipefail

SPLITNET_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$SPLITNET_TOP/scripts/lib.sh"
QSRC=$SPLITNET_BUILD/qemu-src
OUT=$SPLITNET_BUILD/patch-series

[ -d "$QSRC/.git" ] || die "no build/qemu-src; run ./configure first"
q() { git -C "$QSRC" "$@"; }

name=$(git -C "$SPLITNET_TOP" config user.name || echo splitnet)
email=$(git -C "$SPLITNET_TOP" config user.email || echo splitnet@invalid)
export GIT_AUTHOR_NAME=$name GIT_AUTHOR_EMAIL=$email
export GIT_COMMITTER_NAME=$name GIT_COMMITTER_EMAIL=$email

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export GIT_INDEX_FILE=$tmp/index
q read-tree upstream
parent=$(q rev-parse upstream)

# add_files SUBJECT BODY DIR...: one commit with this repository's files
add_files() {
    local subject=$1 body=$2 f mode sha tree added=0
    shift 2
    while read -r f; do
        mode=100644
        [ -x "$SPLITNET_TOP/$f" ] && mode=100755
        sha=$(q hash-object -w "$SPLITNET_TOP/$f")
        q update-index --add --cacheinfo "$mode,$sha,$f"
        added=$((added + 1))
    done < <(cd "$SPLITNET_TOP" && for d in "$@"; do
                 [ -d "$d" ] && find "$d" -type f ! -name '*~' ! -name '*.orig' ! -name '*.rej'
             done | LC_ALL=C sort)
    [ $added -gt 0 ] || return 0
    tree=$(q write-tree)
    parent=$(printf '%s\n\n%s\n\nSigned-off-by: %s <%s>\n' "$subject" "$body" "$name" "$email" |
             q commit-tree "$tree" -p "$parent")
}

add_files "include/standard-headers: add the splitnet guest interface" \
    "The register map, descriptors and feature bits of splitnet, generated
from the Linux driver's include/uapi/linux/splitnet.h the way
scripts/update-linux-headers.sh imports Linux headers." include
add_files "hw/net: add the splitnet paravirtual NIC" \
    "A PCI network card that copies only the head of each transmitted frame
from a pre-registered header pool and passes the payload to the net layer
by reference." hw net
add_files "tests/qtest: add splitnet qtest and libqos driver" \
    "qtests for the splitnet device and its libqos node." tests/qtest
add_files "tests/unit: test net_checksum_add_cont() against its definition" \
    "Every length and alignment of short buffers, long ones of 0xff, and
scatter-gather vectors cut at odd offsets." tests/unit
# Not docs/benchmarks.*: the project's measurements, not QEMU's documentation.
add_files "docs: document splitnet" \
    "The guest-visible interface of the splitnet NIC, its properties and
counters, and a libvirt domain that uses it." docs/specs docs/system docs/libvirt

# The glue commits from build/qemu-src (i.e. patches/), replayed on top.
for c in $(q rev-list --reverse upstream..HEAD); do
    q read-tree "$parent"
    q diff "$c~1" "$c" | q apply --cached ||
        die "commit $(q log -1 --format=%s "$c") does not apply on the series"
    tree=$(q write-tree)
    parent=$(GIT_AUTHOR_NAME=$(q log -1 --format=%an "$c") \
             GIT_AUTHOR_EMAIL=$(q log -1 --format=%ae "$c") \
             GIT_AUTHOR_DATE=$(q log -1 --format=%aD "$c") \
             q commit-tree "$tree" -p "$parent" -m "$(q log -1 --format=%B "$c")")
done
unset GIT_INDEX_FILE

rm -rf "$OUT"
q -c core.abbrev=12 -c diff.noprefix=false format-patch -q --zero-commit \
  --no-signature --cover-letter -o "$OUT" "upstream..$parent"
sed -i "s/\*\*\* SUBJECT HERE \*\*\*/splitnet: a head-copy paravirtual NIC/; s/\*\*\* BLURB HERE \*\*\*/splitnet, against $(q log -1 --format=%s upstream | sed 's|/|\\/|g'); see docs\/specs\/splitnet.rst./" "$OUT"/0000-cover-letter.patch
say "$(find "$OUT" -name '*.patch' | wc -l) files in ${OUT#"$SPLITNET_TOP"/}"
ls "$OUT" >&2
