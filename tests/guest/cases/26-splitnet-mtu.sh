# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: two splitnet guests change MTU 1500 -> 4000 -> 1500: ping -s 3972 and 16 MiB each way at each
#
# At MTU 4000 a 3972-byte ping is one frame of 4014 bytes; at 1500 it is
# three fragments (the guest checks from its TX counters).  16 MiB each way
# at every step, sha256-checked.

reason=$(guest_splitnet_missing) && skip "$reason"
guest_pair "$TEST_NAME" splitnet splitnet 16 "1500 4000 1500" 3972
