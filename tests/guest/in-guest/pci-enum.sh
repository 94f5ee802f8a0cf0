# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
#
# In-guest: one PCI function with the expected ids is enumerated.
# Environment (from the host): EXPECT_VENDOR, EXPECT_DEVICE, EXPECT_CLASS,
# e.g. 0x1af4 0x10f5 0x020000.

: "${EXPECT_VENDOR:?}" "${EXPECT_DEVICE:?}" "${EXPECT_CLASS:?}"
log "expecting PCI $EXPECT_VENDOR:$EXPECT_DEVICE class $EXPECT_CLASS"
pci_expect "$EXPECT_VENDOR" "$EXPECT_DEVICE" "$EXPECT_CLASS"
