# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# TEST: splitnet with swiotlb=force (bounce buffers): 64 MiB each way (sha256)
#
# The guest kernel bounces every DMA mapping through swiotlb, so the device
# reads TX payloads and writes RX data in bounce buffers the driver must
# sync: a missed dma_sync or an unmap too early shows as a wrong sha256.

reason=$(guest_splitnet_missing) && skip "$reason"
guest_append swiotlb=force
guest_slirp_traffic "$TEST_NAME" 64
guest_value "$TEST_NAME" 'kernel command line:' | grep -qw swiotlb=force ||
    die "the guest did not boot with swiotlb=force"
