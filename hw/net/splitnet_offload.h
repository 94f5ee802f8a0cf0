/*
 * splitnet: head-copy paravirtual NIC, TX checksum and segmentation
 *
 * Everything here works on the device's private copy of a frame's head
 * and on a scatter list of its payload; it never reads or writes guest
 * memory itself.  Called only from splitnet_tx.c.
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_SPLITNET_OFFLOAD_H
#define HW_NET_SPLITNET_OFFLOAD_H

#include "standard-headers/linux/splitnet.h"
#include "standard-headers/linux/virtio_net.h"

/*
 * Scatter-list entries of one segment: its header copy, then slices of
 * the payload; a segment touches at most every piece of the payload.
 */
#define SPLITNET_TSO_SEG_IOV(payload_iov)   (1 + (payload_iov))

/*
 * One TSO or USO frame being cut into segments.  Kept in the queue's
 * state, not on the stack: the header scratch and the scatter list are per
 * frame.
 */
typedef struct SplitnetTso {
    /* Parsed once from the head copy. */
    const uint8_t *head;
    uint16_t hdr_len;
    uint16_t l3;
    uint16_t l4;
    uint16_t mss;
    bool ipv4;
    bool udp;               /* USO: GSO_UDP_L4 */
    uint8_t l4proto;
    uint16_t ip_id;
    uint32_t seq;

    /* The payload and where the next segment starts in it. */
    const struct iovec *payload;
    unsigned npayload;
    size_t payload_len;
    size_t off;
    unsigned piece;         /* payload[piece] holds offset off ... */
    size_t piece_off;       /* ... at this offset into it */
    uint32_t seg;
    uint32_t nsegs;
} SplitnetTso;

bool splitnet_offload_desc_ok(uint32_t q, uint64_t features,
                              const struct splitnet_tx_desc *d);
bool splitnet_offload_csum(uint32_t q, uint8_t *head, uint16_t hdr_len,
                           const struct iovec *payload, unsigned npayload,
                           size_t payload_len,
                           const struct splitnet_tx_desc *d);
bool splitnet_tso_begin(SplitnetTso *t, uint32_t q, const uint8_t *head,
                        uint16_t hdr_len, const struct iovec *payload,
                        unsigned npayload, size_t payload_len,
                        const struct splitnet_tx_desc *d, size_t max_frame);
size_t splitnet_tso_next(SplitnetTso *t, uint8_t *seg_head,
                         struct iovec *iov, unsigned *niov);
bool splitnet_csum_vnet_hdr(uint32_t q, uint16_t hdr_len,
                            const struct splitnet_tx_desc *d,
                            struct virtio_net_hdr *vh);
void splitnet_tso_vnet_hdr(const SplitnetTso *t, uint32_t q, uint8_t *head,
                           struct virtio_net_hdr *vh);

#endif
