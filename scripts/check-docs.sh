#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make check-docs: splitnet's two pages, docs/system/devices/splitnet.rst
# (user doc) and docs/specs/splitnet.rst (device spec), build with QEMU's
# own Sphinx setup.  QEMU is configured once more in build/qemu-build-docs,
# from build/qemu-src with the options of build/qemu-build
# (build/qemu-configure.args) but --enable-docs, and only its HTML manual
# (ninja target sphinxdocs) is built.  Any Sphinx warning or error in one of
# the two files fails the check (QEMU's configure has --disable-werror, so
# Sphinx itself does not stop on them); the HTML headings of the generated
# user page are printed as its section list.  Debian's python3-sphinx and
# python3-sphinx-rtd-theme are installed as root (pkg_need), their
# versions recorded in build/versions.txt.
#
# Usage: scripts/check-docs.sh

set -euo pipefail

SPLITNET_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$SPLITNET_TOP/scripts/lib.sh"

[ $# = 0 ] || { sed -n '3,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }

BUILD=$SPLITNET_BUILD
DBUILD=$BUILD/qemu-build-docs
PAGES=(docs/system/devices/splitnet.rst docs/specs/splitnet.rst)
USER_HTML=$DBUILD/docs/manual/system/devices/splitnet.html
LOG=$BUILD/test-logs/check-docs.log

[ -f "$BUILD/qemu-configure.args" ] && [ -d "$BUILD/qemu-src" ] ||
    die "no build/qemu-configure.args or build/qemu-src; run ./configure"

pkg_need python3-sphinx python3-sphinx-rtd-theme
for p in python3-sphinx python3-sphinx-rtd-theme; do
    record_version "$p" "$(dpkg-query -W -f='${Version}' "$p")"
done

# The normal build's options, docs enabled.
args=()
while read -r a; do
    case $a in
    --enable-docs|--disable-docs) ;;
    ?*) args+=("$a") ;;
    esac
done < "$BUILD/qemu-configure.args"
args+=(--enable-docs)

state=$(printf '%s\n' "${args[@]}" | sha256sum | cut -c1-16)
qemu_configure_variant docs "$DBUILD" "$state" "${args[@]}"

# Sphinx reads again only the pages that changed, and reports warnings only
# for what it reads: make it read ours.
(cd "$SPLITNET_TOP" && touch "${PAGES[@]}")
mkdir -p "$(dirname "$LOG")"
say "ninja -C ${DBUILD#"$SPLITNET_TOP"/} sphinxdocs (log: ${LOG#"$SPLITNET_TOP"/})"
if ! ninja -C "$DBUILD" sphinxdocs >"$LOG" 2>&1; then
    tail -n 30 "$LOG" >&2
    die "QEMU's docs do not build, see ${LOG#"$SPLITNET_TOP"/}"
fi

# "path/splitnet.rst:LINE: WARNING: ..." (no LINE for document-level ones).
bad=$(grep -E 'splitnet\.rst(:[0-9]+)*: *(WARNING|ERROR|SEVERE|CRITICAL)' "$LOG" || true)
if [ -n "$bad" ]; then
    echo "$bad" >&2
    die "Sphinx reports $(echo "$bad" | wc -l) problems in splitnet's pages"
fi
[ -f "$USER_HTML" ] || die "no ${USER_HTML#"$SPLITNET_TOP"/}"
[ -f "$DBUILD/docs/manual/specs/splitnet.html" ] ||
    die "no ${DBUILD#"$SPLITNET_TOP"/}/docs/manual/specs/splitnet.html"

say "no Sphinx warnings in ${PAGES[*]}"
echo "Sections of ${USER_HTML#"$SPLITNET_TOP"/}:"
# Headings h1..h6, the section depth as indentation, the permalink "¶"
# and tags removed.
python3 - "$USER_HTML" <<'EOPY'
import html, re, sys
text = open(sys.argv[1], encoding='utf-8').read()
body = text.split('role="main"', 1)[-1]
for level, inner in re.findall(r'<h([1-6])[^>]*>(.*?)</h\1>', body, re.S):
    title = html.unescape(re.sub(r'<[^>]+>', '', inner)).replace('\u00b6', '').strip()
    print('  ' * (int(level) - 1) + title)
EOPY
