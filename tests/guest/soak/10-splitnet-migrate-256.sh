# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: live migration of a splitnet guest 3 times while it sends, 3 times while it receives, 256 MiB each way to a second guest (sha256)
#
# tests/guest/cases/33-splitnet-migrate.sh at full size: guest b migrates
# back and forth between QEMUs on 127.0.0.1 at 1/4, 2/4 and 3/4 of each
# transfer.

reason=$(guest_splitnet_missing) && skip "$reason"
guest_migrate_pair "$TEST_NAME" "${SPLITNET_MIGRATE_MIB:-256}" "${SPLITNET_MIGRATIONS:-3}"
