#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The device model's floor plan as TAP: which hw/net/splitnet*.c calls into
# which other splitnet file, read from the object files of the QEMU build
# (`nm -u` of each build/qemu-build/libcommon.a.p/hw_net_splitnet*.c.o
# matched against the symbols the others define: T, D, B or R).  Calls may
# only go down this order:
#
#     glue (splitnet.c) -> core -> tx, rx -> offload, rx_csum, queue, rss -> xlate
#
# so tx and rx never call each other, nor offload, queue and rss, and
# xlate calls no splitnet file (offload is called from tx only, rss, the
# RX steering, from core only).  A
# new file must be given its place in LEVEL below.  One test line per file;
# the call table is printed as TAP comments.  The objects are brought up to
# date with ninja first, so the table is that of the sources as they are.

set -uo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
QBUILD=$TOP/build/qemu-build
OBJDIR=libcommon.a.p

# Place of each file in the order (short name: splitnet_X.c -> X); a file
# may call only files with a larger number.
declare -A LEVEL=([splitnet.c]=0 [core]=1 [tx]=2 [rx]=2 [offload]=3 [rx_csum]=3 [queue]=3
                  [rss]=3 [xlate]=4)
ORDER="glue (splitnet.c) -> core -> tx, rx -> offload, rx_csum, queue, rss -> xlate"

short() {
    local b
    b=$(basename "$1" .c)
    if [ "$b" = splitnet ]; then echo splitnet.c; else echo "${b#splitnet_}"; fi
}

cd "$TOP" || exit 1
[ -f "$QBUILD/build.ninja" ] || { echo "Bail out! no $QBUILD; run ./configure"; exit 1; }

files=() objs=()
for src in hw/net/splitnet*.c; do
    [ -f "$src" ] || continue
    files+=("$(short "$src")")
    objs+=("$OBJDIR/$(echo "$src" | tr / _).o")
done
[ "${#files[@]}" -gt 0 ] || { echo "Bail out! no hw/net/splitnet*.c"; exit 1; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
if ! ninja -C "$QBUILD" "${objs[@]}" >"$out" 2>&1; then
    echo "not ok 1 - structure: cannot build the splitnet objects"
    sed 's/^/# /' "$out"
    echo "1..1"
    exit 0
fi

# Who defines each global symbol.
declare -A owner=()
for i in "${!files[@]}"; do
    while read -r _ type sym; do
        case $type in T | D | B | R) owner[$sym]=${files[$i]} ;; esac
    done < <(nm --defined-only "$QBUILD/${objs[$i]}")
done

# calls[f]: the other splitnet files f calls into, sorted, comma-separated.
declare -A calls=()
for i in "${!files[@]}"; do
    f=${files[$i]}
    calls[$f]=$(nm -u "$QBUILD/${objs[$i]}" | awk '{ print $2 }' |
        while read -r sym; do
            o=${owner[$sym]:-}
            if [ -n "$o" ] && [ "$o" != "$f" ]; then echo "$o"; fi
        done | LC_ALL=C sort -u | paste -sd, -)
done

echo "# order: $ORDER"
echo "# calls (from the objects' undefined symbols):"
for f in "${files[@]}"; do
    echo "#   $f -> ${calls[$f]:-none}"
done

n=0
for f in "${files[@]}"; do
    n=$((n + 1))
    if [ -z "${LEVEL[$f]:-}" ]; then
        echo "not ok $n - structure: $f has no place in the order (LEVEL in ${BASH_SOURCE[0]#"$TOP"/})"
        continue
    fi
    bad=
    IFS=, read -r -a callees <<<"${calls[$f]}"
    for c in ${callees[@]+"${callees[@]}"}; do
        if [ -z "${LEVEL[$c]:-}" ] || [ "${LEVEL[$c]}" -le "${LEVEL[$f]}" ]; then
            bad="$bad${bad:+, }$c"
        fi
    done
    if [ -z "$bad" ]; then
        echo "ok $n - structure: $f calls ${calls[$f]:-no other splitnet file}"
    else
        echo "not ok $n - structure: $f calls $bad, not below it in the order"
    fi
done
echo "1..$n"
