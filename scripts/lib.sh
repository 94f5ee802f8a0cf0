# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# Shared shell helpers for splitnet's setup scripts.  Source this file.
#
# Everything downloaded lives under $SPLITNET_CACHE (default
# ~/.cache/splitnet), keyed by package version, so repeated runs reuse it and
# a run with an empty cache fetches it again.  Packages come from Debian's
# signed archive through apt, which verifies each download.

SPLITNET_CACHE=${SPLITNET_CACHE:-$HOME/.cache/splitnet}
SPLITNET_TOP=${SPLITNET_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
SPLITNET_BUILD=${SPLITNET_BUILD:-$SPLITNET_TOP/build}
SPLITNET_MIRROR=${SPLITNET_MIRROR:-http://deb.debian.org/debian}
SPLITNET_KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg

APT_PRIV="$SPLITNET_CACHE/apt"

die() { echo "splitnet: error: $*" >&2; exit 1; }

# No silent exit under `set -e`: name the command that failed and where.
# -E carries the trap into functions.  Only the top-level shell reports:
# errexit does not reach into command substitutions, so a failure there
# only matters (and is reported) where its result is used.  A subshell that
# runs with errexit on its own (a guest test case in tests/guest/run.sh)
# sets SPLITNET_ERR_SUBSHELL=$BASH_SUBSHELL to report at its level instead.
# Under `set +e` a failure does not end the script, so it is not reported.
# The trap only reports: it never changes whether the script goes on.
splitnet_err_trap() {
    local rc=$1 cmd=$2 file=$3 line=$4
    case $- in *e*) ;; *) return 0 ;; esac
    [ "$BASH_SUBSHELL" -eq "${SPLITNET_ERR_SUBSHELL:-0}" ] || return 0
    echo "splitnet: error: '$cmd' failed (exit $rc) at ${file#"$SPLITNET_TOP"/}:$line" >&2
}
set -E
trap 'splitnet_err_trap $? "$BASH_COMMAND" "${BASH_SOURCE[0]}" "$LINENO"' ERR
say() { echo "splitnet: $*" >&2; }

# Record "what=version" in build/versions.txt so every run shows what it used.
record_version() {
    mkdir -p "$SPLITNET_BUILD"
    local f="$SPLITNET_BUILD/versions.txt"
    touch "$f"
    # Leave the file (and its mtime) alone when it already says so.
    grep -qxF "$1=$2" "$f" && return 0
    grep -v "^$1=" "$f" > "$f.tmp" || true
    echo "$1=$2" >> "$f.tmp"
    mv "$f.tmp" "$f"
}

# The mirror the machine already uses, read from its apt sources.
detect_mirror() {
    local m
    # Either place may be missing or hold no match: grep's failure is fine.
    m=$( { grep -rhoE '^(URIs:|deb) +(\[[^]]*\] +)?https?://[^ ]+/debian/?( |$)' \
           /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null || true; } |
         { grep -oE 'https?://[^ ]+' || true; } | head -n1)
    echo "${m:-$SPLITNET_MIRROR}"
}

# apt with a private configuration under the cache: bookworm, its backports
# and trixie (binary and source), without touching /etc/apt.
apt_priv_opts() {
    echo "-o Dir::Etc::SourceList=$APT_PRIV/sources.list" \
         "-o Dir::Etc::SourceParts=/dev/null" \
         "-o Dir::State::Lists=$APT_PRIV/lists" \
         "-o Dir::Cache=$APT_PRIV/cache" \
         "-o APT::Sandbox::User=root" \
         "-o Debug::NoLocking=1" \
         "-o APT::Default-Release=bookworm" \
         "-q"
}

apt_priv_update() {
    local stamp="$APT_PRIV/lists/.updated" mirror
    mkdir -p "$APT_PRIV/lists/partial" "$APT_PRIV/cache/archives/partial"
    # Refresh at most every 6 hours: the archive moves, but not that fast.
    if [ -f "$stamp" ] && [ -n "$(find "$stamp" -mmin -360)" ]; then
        return 0
    fi
    mirror=$(detect_mirror)
    cat > "$APT_PRIV/sources.list" <<EOS
deb [signed-by=$SPLITNET_KEYRING] $mirror bookworm main
deb [signed-by=$SPLITNET_KEYRING] $mirror bookworm-backports main
deb [signed-by=$SPLITNET_KEYRING] $mirror trixie main
deb-src [signed-by=$SPLITNET_KEYRING] $mirror trixie main
EOS
    say "updating private apt lists ($mirror)"
    # shellcheck disable=SC2046
    apt-get $(apt_priv_opts) update >"$APT_PRIV/update.log" 2>&1 ||
        die "apt-get update failed, see $APT_PRIV/update.log"
    touch "$stamp"
}

# Candidate version of binary package $1 in suite $2 (default bookworm).
deb_version() {
    local pkg=$1 suite=${2:-bookworm}
    # shellcheck disable=SC2046
    apt-cache $(apt_priv_opts) -o Dir::State::status=/dev/null \
        -o APT::Default-Release="$suite" policy "$pkg" |
        awk '/Candidate:/ { print $2 }'
}

# Download binary package $1 (suite $2, default bookworm) and unpack it into
# the cache.  Prints the directory it was unpacked into.
deb_fetch() {
    local pkg=$1 suite=${2:-bookworm} ver dir deb
    apt_priv_update
    ver=$(deb_version "$pkg" "$suite")
    [ -n "$ver" ] && [ "$ver" != "(none)" ] ||
        die "package $pkg not found in Debian $suite"
    dir="$SPLITNET_CACHE/debs/${pkg}_${ver//:/%3a}"
    if [ ! -f "$dir/.unpacked" ]; then
        say "downloading $pkg $ver ($suite)"
        mkdir -p "$SPLITNET_CACHE/debs/dl"
        # shellcheck disable=SC2046
        (cd "$SPLITNET_CACHE/debs/dl" &&
         apt-get $(apt_priv_opts) -o APT::Default-Release="$suite" \
             download "$pkg=$ver" >/dev/null 2>&1) ||
            die "apt-get download $pkg=$ver failed"
        deb=$(ls -t "$SPLITNET_CACHE/debs/dl/${pkg}_"*.deb | head -n1)
        rm -rf "$dir"
        mkdir -p "$dir"
        dpkg-deb -x "$deb" "$dir" || die "cannot unpack $deb"
        touch "$dir/.unpacked"
    fi
    record_version "$pkg" "$ver"
    echo "$dir"
}

# Make sure the Debian packages "$@" are installed (from the machine's own
# bookworm sources), installing the missing ones as root; as another user
# name them with the apt-get line and fail.
pkg_need() {
    local missing=() p
    for p in "$@"; do
        # dpkg-query fails for a package it has never heard of: missing.
        dpkg-query -W -f='${db:Status-Abbrev}\n' "$p" 2>/dev/null |
            grep -q '^ii' || missing+=("$p")
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    [ "$(id -u)" = 0 ] ||
        die "missing ${missing[*]}; as root run: apt-get install --no-install-recommends ${missing[*]}"
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # (a machine whose apt lists were never fetched needs an update first)
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null &&
          apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; } ||
        die "apt-get install ${missing[*]} failed"
}

# Configure QEMU once more, from build/qemu-src, in build directory $2 with
# the options after $3, logging to build/qemu-configure-$1.log; only when $3
# (a digest of what that configuration depends on) differs from the last
# time, so that repeated runs reuse the build directory.
qemu_configure_variant() {
    local variant=$1 dir=$2 state=$3 log
    shift 3
    if [ -f "$dir/build.ninja" ] &&
       [ "$(cat "$dir/.splitnet-configured" 2>/dev/null)" = "$state" ]; then
        say "${dir#"$SPLITNET_TOP"/} already configured ($variant)"
        return 0
    fi
    mkdir -p "$dir"
    rm -f "$dir/.splitnet-configured"
    log=$SPLITNET_BUILD/qemu-configure-$variant.log
    say "configuring ${dir#"$SPLITNET_TOP"/} ($variant), log: ${log#"$SPLITNET_TOP"/}"
    (cd "$dir" && "$SPLITNET_BUILD/qemu-src/configure" "$@") >"$log" 2>&1 ||
        { tail -n 25 "$log" >&2; die "QEMU configure ($variant) failed, see ${log#"$SPLITNET_TOP"/}"; }
    echo "$state" > "$dir/.splitnet-configured"
}
