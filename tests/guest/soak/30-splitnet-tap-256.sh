# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: splitnet on a tap (vnet_hdr) in a netns the test makes: 256 MiB each way (sha256) with every offload on, with each of TSO, TX checksum, large receive and RX checksum off, and with all off
#
# tests/guest/cases/31-splitnet-tap.sh at full size and with a round for
# each offload: the counters must show every offload left on used through
# the tap's virtio-net header, and every one turned off unused.

reason=$(guest_splitnet_missing) && skip "$reason"
reason=$(netns_missing) && skip "$reason"
# The guest serves its data from RAM (tmpfs).
SPLITNET_GUEST_MEM=${SPLITNET_GUEST_MEM:-1G}
guest_tap_traffic "$TEST_NAME" "${SPLITNET_TAP_MIB:-256}" \
    "on tso-off csum-off gro-off rx-off off" || exit 1
