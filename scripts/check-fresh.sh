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

SUITE=bookworm
TARBALL_DIR=$SPLITNET_CACHE/fresh
TARBALL=$TARBALL_DIR/debian-$SUITE-minbase.tar.gz
MAX_AGE_DAYS=7
WORK=$SPLITNET_BUILD/check-fresh
ROOT=$WORK/root
SRC_IN_ROOT=/src/splitnet
HOME_IN_ROOT=/root
case $ROOT in
*[[:space:]]*) die "the build directory's path has white space: $ROOT" ;;
esac

fmt_time() { printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); }

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

# --- mounts and processes in the root ---------------------------------------

# Mount points at or under $ROOT, deepest first.
root_mounts() {
    awk -v r="$ROOT" '$2 == r || index($2, r "/") == 1 { print $2 }' /proc/self/mounts |
        sort -r
}

# Processes whose root directory is $ROOT: what the commands left running.
root_pids() {
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        [ "$r" = "$ROOT" ] && echo "${p#/proc/}"
    done
    return 0
}

stop_root_processes() {
    local pids
    pids=$(root_pids)
    [ -n "$pids" ] || return 0
    say "stopping what still runs in the root: $(tr '\n' ' ' <<<"$pids")"
    # shellcheck disable=SC2086 # one pid per word
    kill -TERM $pids 2>/dev/null || true
    for _ in $(seq 50); do
        [ -n "$(root_pids)" ] || return 0
        sleep 0.1
    done
    pids=$(root_pids)
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
    sleep 0.5
}

unmount_root() {
    local m
    stop_root_processes
    while read -r m; do
        [ -n "$m" ] || continue
        umount "$m" 2>/dev/null || umount -l "$m" ||
            say "warning: cannot unmount $m"
    done < <(root_mounts)
}

# Remove the root; never while something is mounted in it (rm would go on
# into the host's /dev, /proc or /sys).
remove_root() {
    [ -e "$ROOT" ] || return 0
    unmount_root
    [ -z "$(root_mounts)" ] || die "still mounted in $ROOT: $(root_mounts | tr '\n' ' ')"
    rm -rf --one-file-system "$ROOT"
}

mount_root() {
    mount -t proc proc "$ROOT/proc"
    mount -t sysfs sysfs "$ROOT/sys"
    mount --rbind /dev "$ROOT/dev"
    mount --make-rslave "$ROOT/dev"
}

trap 'unmount_root' EXIT
trap 'say "interrupted"; exit 130' INT TERM

# --- the Debian 12 root -------------------------------------------------------

need_debootstrap() {
    command -v debootstrap >/dev/null && return 0
    say "installing debootstrap"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends debootstrap >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null &&
          apt-get install -y -q --no-install-recommends debootstrap >/dev/null; } ||
        die "apt-get install debootstrap failed"
}

make_tarball() {
    local mirror tmp log t0=$SECONDS
    need_debootstrap
    mirror=$(detect_mirror)
    tmp=$WORK/debootstrap
    log=$WORK/debootstrap.log
    ROOT=$tmp remove_root
    mkdir -p "$TARBALL_DIR" "$WORK"
    say "debootstrap --variant=minbase $SUITE from $mirror (log: ${log#"$SPLITNET_TOP"/})"
    if ! debootstrap --variant=minbase "$SUITE" "$tmp" "$mirror" >"$log" 2>&1; then
        tail -n 20 "$log" >&2
        ROOT=$tmp remove_root
        die "debootstrap failed, see ${log#"$SPLITNET_TOP"/}"
    fi
    tar -C "$tmp" --numeric-owner -czf "$TARBALL.tmp" .
    mv "$TARBALL.tmp" "$TARBALL"
    printf 'mirror=%s\nsuite=%s\nmade=%s\n' "$mirror" "$SUITE" \
        "$(date -u '+%Y-%m-%d %H:%M:%S UTC')" > "$TARBALL.info"
    ROOT=$tmp remove_root
    say "root tarball ${TARBALL/#"$HOME"/\~} ($(du -m "$TARBALL" | cut -f1) MiB) in $(fmt_time $((SECONDS - t0)))"
}

fresh_root() {
    remove_root
    mkdir -p "$ROOT"
    tar -C "$ROOT" --numeric-owner -xzf "$TARBALL"
    # Name resolution as on this machine; nothing else from it.
    cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
    rm -rf "${ROOT:?}$HOME_IN_ROOT"
    mkdir -m 700 "$ROOT$HOME_IN_ROOT"
    mkdir -p "$ROOT$SRC_IN_ROOT"
    git -C "$SPLITNET_TOP" archive --format=tar HEAD | tar -C "$ROOT$SRC_IN_ROOT" -xf -
    mount_root
    say "fresh root: Debian $(cat "$ROOT/etc/debian_version") minbase, $(chroot "$ROOT" dpkg-query -f '.' -W | wc -c) packages, source $COMMIT in $SRC_IN_ROOT, empty HOME=$HOME_IN_ROOT"
}

COMMIT=$(git -C "$SPLITNET_TOP" rev-parse --short=12 HEAD)
git -C "$SPLITNET_TOP" diff --quiet HEAD ||
    say "note: uncommitted changes are not tested (git archive HEAD)"

mkdir -p "$WORK"
if [ "$NEW_ROOT" = 1 ] || [ ! -f "$TARBALL" ] ||
   [ -n "$(find "$TARBALL" -mtime +"$MAX_AGE_DAYS")" ]; then
    make_tarball
else
    say "using the cached root ${TARBALL/#"$HOME"/\~} ($(sed -n 's/^made=//p' "$TARBALL.info" 2>/dev/null))"
fi

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
