#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Linux coding style check of the guest driver: the kernel's checkpatch.pl
# --strict on guest/linux/*.[ch] and its UAPI header.
#
# checkpatch.pl is not in the linux-headers packages; it is taken from
# Debian's linux-source-6.1 (its tarball, through scripts/lib.sh deb_fetch)
# with the two data files it reads, into build/tools/:
#   checkpatch.pl  spelling.txt  const_structs.checkpatch
# scripts/checkpatch-tap.sh uses it with LINUX_CHECKPATCH=build/tools/checkpatch.pl.
#
# Usage: scripts/checkpatch-driver.sh [--fetch-only] [checkpatch options]

set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TOOLS=$SPLITNET_BUILD/tools
CHECKPATCH=$TOOLS/checkpatch.pl
FILES="checkpatch.pl spelling.txt const_structs.checkpatch"

fetch_checkpatch() {
    local dir tarball f members=()
    dir=$(deb_fetch linux-source-6.1)
    tarball=$(find "$dir/usr/src" -maxdepth 1 -name 'linux-source-*.tar.*' | head -n1)
    [ -n "$tarball" ] || die "no source tarball in linux-source-6.1"
    for f in $FILES; do
        members+=("$(basename "${tarball%.tar.*}")/scripts/$f")
    done
    mkdir -p "$TOOLS"
    say "extracting $FILES from $(basename "$tarball")"
    tar -xf "$tarball" -C "$TOOLS" --strip-components=2 "${members[@]}" ||
        die "cannot extract checkpatch from $tarball"
    chmod +x "$CHECKPATCH"
    # The tarball is large and only these three files are needed.
    rm -rf "$dir"
}

FETCH_ONLY=0
if [ "${1:-}" = --fetch-only ]; then
    FETCH_ONLY=1
    shift
fi
for f in $FILES; do
    [ -f "$TOOLS/$f" ] || { fetch_checkpatch; break; }
done
[ "$FETCH_ONLY" = 1 ] && exit 0

command -v perl >/dev/null || die "perl is missing: apt-get install perl"
cd "$SPLITNET_TOP"
perl "$CHECKPATCH" --strict --no-tree --show-types "$@" -f guest/linux/*.[ch]
# The UAPI header as the kernel tree would hold it: checkpatch's UAPI rules
# (no BIT(), __u32 not u32) key on the path include/uapi/.
cd guest/linux
perl "$CHECKPATCH" --strict --no-tree --show-types "$@" -f include/uapi/linux/*.h
