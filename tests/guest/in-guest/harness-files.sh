# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest half of the harness-files test: report what arrived.

f=/run/splitnet/files/blob.bin
[ -f "$f" ] || fail "no $f"
log "blob.bin: $(wc -c < "$f") bytes"
log "sha256 $(sha256sum "$f" | cut -d' ' -f1)"
[ "$(sha256sum "$f" | cut -d' ' -f1)" = "$WANT_SHA256" ] || fail "sha256 differs"
[ "$TRICKY" = "a b'c\"d \$x" ] || fail "TRICKY arrived as [$TRICKY]"
log "TRICKY=[$TRICKY]"
grep -qw splitnet.probe=42 /proc/cmdline || fail "kernel argument missing"
log "cmdline: $(cat /proc/cmdline)"
