#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# make check-fresh: the README's two setup commands on a clean Debian 12, as
# a new user runs them.
#
#   1. a Debian 12 root: `debootstrap --variant=minbase bookworm` from the
#      mirror this machine uses, cached as a tarball in
#      ~/.cache/splitnet/fresh/ (made again after 7 days, or --new-root)
#   2. unpacked afresh into build/check-fresh/root, with `git archive HEAD`
#      of this repository in /src/splitnet (committed work only)
#   3. /proc, /sys and /dev mounted in it, and in a chroot there, as root,
#      with an empty HOME and nothing from this machine's environment, the
#      commands of the README's first code block, one after the other and
#      exactly as written (./configure && make demo, ./configure && make
#      check)
#
# It prints each command's time and PASS or FAIL, keeps each command's
# output in build/check-fresh/<n>.log, and always unmounts.  The root is
# removed after a pass and kept after a failure (for a look inside).
# Long (a full QEMU build with an empty ccache, the guest tests): it is not
# part of `make check`.  Run as root; installs debootstrap if it is missing.
#
# Usage: scripts/check-fresh.sh [--new-root] [--keep] [--each-fresh]
#   --new-root    debootstrap again instead of using the cached tarball
#   --keep        keep build/check-fresh/root after a pass too
#   --each-fresh  a new root for each command (the second command then also
#                 starts from nothing, as CI does), instead of one root for
#                 both as a user following the README has

set -euo pipefail

# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# shellcheck source=scripts/chroot-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/chroot-lib.sh"

NEW_ROOT=0
KEEP=0
EACH_FRESH=0
for arg in "$@"; do
    case $arg in
    --new-root) NEW_ROOT=1 ;;
    --keep) KEEP=1 ;;
    --each-fresh) EACH_FRESH=1 ;;
    -h|--help) sed -n '3,29p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument: $arg (see --help)" ;;
    esac
done

[ "$(id -u)" = 0 ] || die "run as root (debootstrap, mount, chroot)"
PATH=$PATH:/usr/sbin:/sbin

WORK=$SPLITNET_BUILD/check-fresh
ROOT=$WORK/root
SRC_IN_ROOT=/src/splitnet
HOME_IN_ROOT=/root
case $ROOT in
*[[:space:]]*) die "the build directory's path has white space: $ROOT" ;;
esac

# The README's setup commands: its first indented code block, without the
# trailing comments.
readme_commands() {
    awk '/^    [^ ]/ { sub(/^    /, ""); sub(/ +#.*$/, ""); print; seen = 1; next }
         seen && !/^ *$/ { exit }' "$SPLITNET_TOP/README.md"
}
mapfile -t COMMANDS < <(readme_commands)
[ "${#COMMANDS[@]}" -eq 2 ] ||
    die "README.md's first code block has ${#COMMANDS[@]} commands, expected the two setup commands"
for c in "${COMMANDS[@]}"; do
    case $c in
    "./configure && make "*) ;;
    *) die "README.md's setup command '$c' is not './configure && make ...'" ;;
    esac
done

trap 'unmount_root' EXIT
trap 'say "interrupted"; exit 130' INT TERM

fresh_root() {
    unpack_root
    rm -rf "${ROOT:?}$HOME_IN_ROOT"
    mkdir -m 700 "$ROOT$HOME_IN_ROOT"
    mkdir -p "$ROOT$SRC_IN_ROOT"
    git -C "$SPLITNET_TOP" archive --format=tar HEAD | tar -C "$ROOT$SRC_IN_ROOT" -xf -
    say "fresh root: Debian $(cat "$ROOT/etc/debian_version") minbase, $(chroot "$ROOT" dpkg-query -f '.' -W | wc -c) packages, source $COMMIT in $SRC_IN_ROOT, empty HOME=$HOME_IN_ROOT"
}

COMMIT=$(git -C "$SPLITNET_TOP" rev-parse --short=12 HEAD)
git -C "$SPLITNET_TOP" diff --quiet HEAD ||
    say "note: uncommitted changes are not tested (git archive HEAD)"

mkdir -p "$WORK"
root_tarball "$NEW_ROOT"

# --- the README's commands ---------------------------------------------------

RESULTS=()
failed=0
n=0
for cmd in "${COMMANDS[@]}"; do
    n=$((n + 1))
    if [ "$n" = 1 ] || [ "$EACH_FRESH" = 1 ]; then
        fresh_root
    fi
    log=$WORK/$n.log
    say "[$n/${#COMMANDS[@]}] in the root, in $SRC_IN_ROOT: $cmd (log: ${log#"$SPLITNET_TOP"/})"
    t0=$SECONDS
    rm -f "$WORK/$n.rc"
    # In the background, so that a signal reaches this script's traps (and
    # the unmount) at once rather than when the command ends.
    # shellcheck disable=SC2016 # $1 and $2 belong to the inner bash
    { rc=0
      chroot "$ROOT" /usr/bin/env -i HOME="$HOME_IN_ROOT" USER=root LOGNAME=root \
          SHELL=/bin/bash TERM=dumb \
          PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
          /bin/bash -c 'cd "$1" && eval "$2"' _ "$SRC_IN_ROOT" "$cmd" \
          </dev/null 2>&1 || rc=$?
      echo "$rc" > "$WORK/$n.rc"; } | tee "$log" &
    wait $! || true
    rc=$(cat "$WORK/$n.rc" 2>/dev/null || echo '?')
    el=$((SECONDS - t0))
    if [ "$rc" = 0 ]; then
        RESULTS+=("PASS  $cmd  ($(fmt_time "$el"))")
    else
        RESULTS+=("FAIL  $cmd  ($(fmt_time "$el"), exit $rc)")
        failed=1
    fi
    say "${RESULTS[-1]}"
    stop_root_processes
done

unmount_root
echo
echo "check-fresh: commit $COMMIT, a clean Debian $SUITE minbase root ($(sed -n 's/^mirror=//p' "$TARBALL.info" 2>/dev/null)), HOME empty, as root:"
for r in "${RESULTS[@]}"; do echo "check-fresh: $r"; done
if [ "$failed" = 0 ] && [ "$KEEP" = 0 ]; then
    remove_root
    say "root removed (--keep keeps it)"
else
    say "root kept in ${ROOT#"$SPLITNET_TOP"/} (logs of the commands in ${WORK#"$SPLITNET_TOP"/}/N.log)"
fi
[ "$failed" = 0 ] || exit 1
