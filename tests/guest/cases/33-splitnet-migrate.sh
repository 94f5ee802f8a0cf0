# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: live migration of a splitnet guest while it sends, then while it receives, 64 MiB each way to a second guest (sha256)
#
# Guest b is migrated to a new QEMU on 127.0.0.1 in the middle of each
# transfer; its stream netdev reconnects to guest a's QEMU, which stays.
# `make soak` does the same with 256 MiB and three migrations each way
# (tests/guest/soak/).

reason=$(guest_splitnet_missing) && skip "$reason"
guest_migrate_pair "$TEST_NAME" "${SPLITNET_MIGRATE_MIB:-64}" "${SPLITNET_MIGRATIONS:-1}"
