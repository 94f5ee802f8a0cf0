# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: splitnet behind intel-iommu (q35, intel_iommu=on iommu=strict): 64 MiB each way
#
# Every DMA address the driver hands the device is an IOVA the device must
# translate through the vIOMMU; iommu=strict unmaps (and invalidates) each
# mapping at once, so a device that keeps using a stale translation, or a
# driver that unmaps a payload the device still references, corrupts data
# or faults (DMAR messages: the guest checks its kernel log).

reason=$(guest_splitnet_missing) && skip "$reason"
# shellcheck disable=SC2034 # read by guest_command (lib.sh)
SPLITNET_GUEST_MACHINE=q35,kernel-irqchip=split
# iommu=strict is what x86 used to take; Linux 6.1 makes the DMA domain
# strict with iommu.strict=1 (the guest checks the group's type is DMA,
# not the lazy DMA-FQ).
guest_append intel_iommu=on iommu=strict iommu.strict=1
guest_env EXPECT_IOMMU=DMA
guest_slirp_traffic "$TEST_NAME" 64 -device intel-iommu,intremap=on
diag "splitnet behind the vIOMMU: iommu group $(guest_value "$TEST_NAME" 'iommu group')"
