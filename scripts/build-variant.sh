#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Build the QEMU tree that ./configure set up (build/qemu-src) once more,
# with clang and sanitizers, in a build directory of its own:
#
#   scripts/build-variant.sh san TARGET...
#       build/qemu-build-san: ASan + UBSan; qemu-system-x86_64 and the
#       qtests given (make check-sanitize)
#   scripts/build-variant.sh fuzz
#       build/qemu-build-fuzz: --enable-fuzzing (libFuzzer) + ASan;
#       qemu-fuzz-x86_64 (make fuzz)
#
# QEMU's configure gets the options build/qemu-build was configured with
# (build/qemu-configure.args, written by ./configure) with the compiler and
# the sanitizer options replaced; it runs again only when they change.
# Targets the tree does not define are skipped, as `make` does.  clang,
# its sanitizer and libFuzzer runtimes and llvm-symbolizer come from
# Debian's clang-14, libclang-rt-14-dev and llvm-14.

set -euo pipefail

SPLITNET_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib.sh
. "$SPLITNET_TOP/scripts/lib.sh"

BUILD=$SPLITNET_BUILD
QBUILD=$BUILD/qemu-build
CLANG_VERSION=14
PACKAGES=("clang-$CLANG_VERSION" "libclang-rt-$CLANG_VERSION-dev"
          "llvm-$CLANG_VERSION")

variant=${1:-}
[ $# -gt 0 ] && shift
case $variant in
san)
    VBUILD=$BUILD/qemu-build-san
    VARGS=(--enable-asan --enable-ubsan)
    targets=(qemu-system-x86_64 "$@")
    ;;
fuzz)
    VBUILD=$BUILD/qemu-build-fuzz
    VARGS=(--enable-fuzzing --enable-asan)
    targets=(qemu-fuzz-x86_64 "$@")
    ;;
*)
    die "usage: scripts/build-variant.sh san|fuzz [TARGET...]"
    ;;
esac

[ -f "$BUILD/qemu-configure.args" ] && [ -d "$BUILD/qemu-src" ] ||
    die "no build/qemu-configure.args or build/qemu-src; run ./configure"

pkg_need "${PACKAGES[@]}"
command -v "clang-$CLANG_VERSION" >/dev/null ||
    die "clang-$CLANG_VERSION not found after installing ${PACKAGES[*]}"

# The normal build's options, without its compiler.
args=()
while read -r a; do
    case $a in
    --cc=*|--cxx=*|--enable-asan|--enable-ubsan|--enable-fuzzing) ;;
    ?*) args+=("$a") ;;
    esac
done < "$BUILD/qemu-configure.args"
args+=("--cc=ccache clang-$CLANG_VERSION" "--cxx=ccache clang++-$CLANG_VERSION"
       "${VARGS[@]}")

state=$( { printf '%s\n' "${args[@]}"; "clang-$CLANG_VERSION" --version; } |
         sha256sum | cut -c1-16)
qemu_configure_variant "$variant" "$VBUILD" "$state" "${args[@]}"

# Firmware: the links ./configure made for build/qemu-build, where QEMU run
# from this build tree looks for them too.
bundle=qemu-bundle/usr/local/share/qemu
mkdir -p "$VBUILD/$bundle"
for f in "$QBUILD/$bundle"/*; do
    [ -L "$f" ] || continue
    n=$VBUILD/$bundle/$(basename "$f")
    [ -e "$n" ] && [ ! -L "$n" ] && continue
    [ "$(readlink "$n" 2>/dev/null)" = "$(readlink "$f")" ] ||
        ln -sfn "$(readlink "$f")" "$n"
done

# Regenerate first (a patch may have added a qtest), then ask for targets.
ninja -C "$VBUILD" build.ninja >/dev/null ||
    die "regenerating ${VBUILD#"$SPLITNET_TOP"/}/build.ninja failed"
have=()
for t in "${targets[@]}"; do
    if ninja -C "$VBUILD" -t query "$t" >/dev/null 2>&1; then
        have+=("$t")
    else
        say "note: QEMU build has no target $t (yet)"
    fi
done
say "ninja -C ${VBUILD#"$SPLITNET_TOP"/} ${have[*]}"
ninja -C "$VBUILD" "${have[@]}" ||
    die "building ${have[*]} in ${VBUILD#"$SPLITNET_TOP"/} failed"
