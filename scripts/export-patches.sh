#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Regenerate patches/ from the commits on top of `upstream` in
# build/qemu-src.  Content is stable: no commit ids, no version signature,
# no [PATCH n/m] numbering, fixed abbreviation length; names are
# NNNN-subject.patch.

set -euo pipefail

SPLITNET_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$SPLITNET_TOP/scripts/lib.sh"
QSRC=$SPLITNET_BUILD/qemu-src

[ -d "$QSRC/.git" ] || die "no build/qemu-src; run ./configure first"
q() { git -C "$QSRC" "$@"; }
[ -z "$(q status --porcelain --untracked-files=no)" ] ||
    die "build/qemu-src has uncommitted changes; commit them first"
count=$(q rev-list --count upstream..HEAD)
[ "$count" -gt 0 ] || die "no commits on top of upstream in build/qemu-src; refusing to empty patches/"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
q -c core.abbrev=12 -c diff.noprefix=false -c diff.mnemonicPrefix=false \
  format-patch -q --zero-commit --no-signature --no-numbered \
  --no-cover-letter -o "$tmp" upstream..HEAD
mkdir -p "$SPLITNET_TOP/patches"
rm -f "$SPLITNET_TOP"/patches/*.patch
for p in "$tmp"/*.patch; do
    cp "$p" "$SPLITNET_TOP/patches/"
    say "patches/$(basename "$p")"
done
say "exported $count patches"
