# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# A clean Debian 12 root to chroot into, for the tests that start from
# nothing (scripts/check-fresh.sh, scripts/check-dkms.sh).  Source after
# scripts/lib.sh, then set ROOT (where the root is unpacked; no white space)
# and WORK (logs, the debootstrap scratch directory).
#
#   root_tarball [1]  debootstrap --variant=minbase bookworm from the mirror
#                     this machine uses, cached as a tarball in
#                     ~/.cache/splitnet/fresh/ (made again after 7 days, or
#                     when the argument is 1)
#   unpack_root       the tarball unpacked afresh into $ROOT, bound onto
#                     itself (a mount point, as / is), /proc, /sys and /dev
#                     mounted in it
#   unmount_root      stop what runs in $ROOT and unmount it (for an EXIT
#                     trap); remove_root also deletes it

SUITE=bookworm
TARBALL_DIR=$SPLITNET_CACHE/fresh
TARBALL=$TARBALL_DIR/debian-$SUITE-minbase.tar.gz
MAX_AGE_DAYS=7

fmt_time() { printf '%d min %02d s' $(($1 / 60)) $(($1 % 60)); }

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

# The root is a mount point of its own, as / is on a real machine: `ip
# netns exec` and `ip -n` make / a slave mount in their mount namespace,
# which fails on a plain directory.
mount_root() {
    mount --bind "$ROOT" "$ROOT"
    mount -t proc proc "$ROOT/proc"
    mount -t sysfs sysfs "$ROOT/sys"
    mount --rbind /dev "$ROOT/dev"
    mount --make-rslave "$ROOT/dev"
}

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

# The cached tarball, made first when missing, too old, or $1 is 1.
root_tarball() {
    if [ "${1:-0}" = 1 ] || [ ! -f "$TARBALL" ] ||
       [ -n "$(find "$TARBALL" -mtime +"$MAX_AGE_DAYS")" ]; then
        make_tarball
    else
        say "using the cached root ${TARBALL/#"$HOME"/\~} ($(sed -n 's/^made=//p' "$TARBALL.info" 2>/dev/null))"
    fi
}

unpack_root() {
    remove_root
    mkdir -p "$ROOT"
    tar -C "$ROOT" --numeric-owner -xzf "$TARBALL"
    # Name resolution as on this machine; nothing else from it.
    cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
    mount_root
}
