# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: files, variables and kernel arguments reach the guest intact
#
# guest_file is how driver tests will hand a freshly built module to the
# guest; this checks the path with 1 MiB of random data and sha256.

data=$GUEST_LOGDIR/$TEST_NAME.data
head -c 262144 /dev/urandom > "$data"
want=$(sha256sum "$data" | cut -d' ' -f1)
guest_file "$data" blob.bin
guest_env "WANT_SHA256=$want" "TRICKY=a b'c\"d \$x"
guest_append splitnet.probe=42
guest_run "$TEST_NAME" harness-files.sh
got=$(guest_output "$TEST_NAME" | sed -n 's/^guest: sha256 //p')
[ "$got" = "$want" ] || die "guest saw sha256 '$got', host has '$want'"
say "256 KiB file arrived intact (sha256 $want)"
rm -f "$data"
