# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: system sleep (S3, suspend to RAM) with the splitnet interface
# up, with tests/guest/cases/38-splitnet-suspend.sh on the host.  On slirp
# (restrict=on), ports 5001 (host->guest) and 5002 (guest->host):
#
#   h2g, g2h      MIB MiB each way, sha256-checked
#   suspend       the guest writes "mem" to /sys/power/state (S3, not
#                 suspend-to-idle); QEMU suspends the VM and the host wakes
#                 it (system_wakeup), which resets the machine's devices
#   h2g-2, g2h-2  on the same interface and address: MIB MiB each way again
#
# Environment: H2G_SHA256, MIB (default 16).

# shellcheck source=tests/guest/in-guest/netlib.sh
. /run/splitnet/files/netlib.sh

: "${H2G_SHA256:?}"
MIB=${MIB:-16}

grep -qw mem /sys/power/state || fail "no suspend to RAM: /sys/power/state is '$(cat /sys/power/state)'"
grep -qw deep /sys/power/mem_sleep || fail "no S3: /sys/power/mem_sleep is '$(cat /sys/power/mem_sleep)'"
echo deep > /sys/power/mem_sleep || fail "cannot choose S3 in /sys/power/mem_sleep"

splitnet_up
dhcp "$NET_IF"
ping_ok 10.0.2.2 2
make_data /tmp/tx.bin "$MIB"
both_ways "" "before the suspend"

ready suspend
# Returns once the system has resumed.
echo mem > /sys/power/state || fail "suspend to RAM failed"
dmesg | grep -q 'PM: suspend exit' || fail "the kernel did not log a suspend exit"
log "resumed: $NET_IF is $(cat "/sys/class/net/$NET_IF/operstate")"

ping_ok 10.0.2.2 2
both_ways "-2" "after the resume"
rm -f /tmp/tx.bin
kernel_clean
