/*
 * splitnet: head-copy paravirtual NIC, receive checksum verification
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_SPLITNET_RX_CSUM_H
#define HW_NET_SPLITNET_RX_CSUM_H

bool splitnet_rx_csum_valid(const struct iovec *iov, int iovcnt,
                            size_t size);

#endif
