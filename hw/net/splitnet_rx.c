/*
 * splitnet: head-copy paravirtual NIC, receive
 *
 * Frames that pass the filter are written into consecutive driver-posted
 * buffers; when too few are posted the net layer holds the frame until the
 * driver posts more and rings the RX doorbell.  A backend that puts a
 * virtio-net header in front of each frame (tap) also says what is known
 * of its checksum and whether it is a large TCP segment; the first
 * descriptor passes that on, as far as the driver accepted it.  With
 * F_VLAN an 802.1Q tag is taken out of the frame as it is written (the
 * bytes after it are copied 4 bytes earlier) and reported in the first
 * descriptor; the VLAN table, when the driver turns it on, drops frames
 * of the VLANs it does not list.
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/iov.h"
#include "qemu/log.h"
#include "qemu/rcu.h"
#include "splitnet_core.h"
#include "splitnet_queue.h"
#include "splitnet_rx_csum.h"
#include "splitnet_xlate.h"
#include "trace.h"

/* The device-written half of an RX descriptor. */
typedef struct SplitnetRxWriteback {
    uint16_t len;
    uint16_t flags;
    uint16_t vlan_tci;
    uint16_t csum_start;
    uint32_t hash;
    uint16_t csum_offset;
    uint16_t gso_size;
} SplitnetRxWriteback;

/* The offload and RSS fields of a frame's first descriptor. */
typedef struct SplitnetRxOffload {
    uint16_t flags;
    uint16_t vlan_tci;
    uint32_t hash;
    uint16_t csum_start;
    uint16_t csum_offset;
    uint16_t gso_size;
    uint16_t strip;         /* bytes taken out after the MAC addresses */
} SplitnetRxOffload;

/* Where an 802.1Q tag starts: after the destination and source MACs. */
#define SPLITNET_RX_TAG_OFF     (2 * ETH_ALEN)

#define SPLITNET_RXD_WB_OFFSET  offsetof(struct splitnet_rx_desc, len)
QEMU_BUILD_BUG_ON(SPLITNET_RXD_WB_OFFSET + sizeof(SplitnetRxWriteback) !=
                  SPLITNET_RX_DESC_SIZE);

static bool splitnet_rx_accept(SplitnetCore *core, const uint8_t *dst)
{
    uint32_t f = core->rx_filter;
    unsigned bit;

    if (f & SPLITNET_RX_FILTER_PROMISC) {
        return true;
    }
    if (is_broadcast_ether_addr(dst)) {
        return f & SPLITNET_RX_FILTER_BROADCAST;
    }
    if (is_multicast_ether_addr(dst)) {
        bit = net_crc32(dst, ETH_ALEN) >> SPLITNET_MC_HASH_SHIFT;
        return (f & SPLITNET_RX_FILTER_ALLMULTI) ||
               ((f & SPLITNET_RX_FILTER_MULTICAST) &&
                (core->mc_hash & (1ULL << bit)));
    }
    return (f & SPLITNET_RX_FILTER_UNICAST) &&
           !memcmp(dst, core->mac, ETH_ALEN);
}

static bool splitnet_rx_read_desc(SplitnetQueue *q, uint32_t idx,
                                  uint64_t *addr, uint16_t *buf_len)
{
    hwaddr off = (hwaddr)(idx & (q->ring_size - 1)) * SPLITNET_RX_DESC_SIZE;
    struct splitnet_rx_desc d;

    if (!splitnet_queue_read(q, &q->ring_cache, off, &d,
                             SPLITNET_RXD_WB_OFFSET)) {
        return false;
    }
    *addr = le64_to_cpu(d.addr);
    *buf_len = le16_to_cpu(d.buf_len);
    return true;
}

/* @ol: the frame's offload fields, for its first descriptor only. */
static bool splitnet_rx_writeback(SplitnetQueue *q, uint32_t idx,
                                  uint16_t len, uint16_t flags,
                                  const SplitnetRxOffload *ol)
{
    hwaddr off = (hwaddr)(idx & (q->ring_size - 1)) * SPLITNET_RX_DESC_SIZE;
    SplitnetRxWriteback wb = {
        .len = cpu_to_le16(len),
        .flags = cpu_to_le16(flags | (ol ? ol->flags : 0)),
        .vlan_tci = cpu_to_le16(ol ? ol->vlan_tci : 0),
        .csum_start = cpu_to_le16(ol ? ol->csum_start : 0),
        .hash = cpu_to_le32(ol ? ol->hash : 0),
        .csum_offset = cpu_to_le16(ol ? ol->csum_offset : 0),
        .gso_size = cpu_to_le16(ol ? ol->gso_size : 0),
    };

    return splitnet_queue_write(q, &q->ring_cache,
                                off + SPLITNET_RXD_WB_OFFSET, &wb, sizeof(wb));
}

/*
 * How many of the available buffers the frame needs: 0 when they are too
 * few, UINT32_MAX when the ring failed.
 */
static uint32_t splitnet_rx_buffers_needed(SplitnetQueue *q, size_t size)
{
    uint32_t avail = q->prod - q->cons;
    uint64_t addr;
    uint16_t len;
    size_t room = 0;
    uint32_t i;

    for (i = 0; i < avail && room < size; i++) {
        if (!splitnet_rx_read_desc(q, q->cons + i, &addr, &len)) {
            return UINT32_MAX;
        }
        room += len;
    }
    return room >= size ? i : 0;
}

/*
 * Bytes [off, off + len) of the frame as the guest gets it: those past
 * the MAC addresses come from @strip bytes further on in the frame.
 */
static void splitnet_rx_gather(const struct iovec *iov, int iovcnt,
                               size_t skip, const SplitnetRxOffload *ol,
                               size_t off, uint8_t *p, size_t len)
{
    size_t n;

    if (off < SPLITNET_RX_TAG_OFF) {
        n = MIN(len, SPLITNET_RX_TAG_OFF - off);
        iov_to_buf(iov, iovcnt, skip + off, p, n);
        off += n;
        p += n;
        len -= n;
    }
    if (len) {
        iov_to_buf(iov, iovcnt, skip + ol->strip + off, p, len);
    }
}

/*
 * Copy into guest RAM: through rx_run when it is plain RAM, mapped
 * otherwise (behind a vIOMMU).
 */
static bool splitnet_rx_copy_in(SplitnetQueue *q, uint64_t addr,
                                const struct iovec *iov, int iovcnt,
                                size_t skip, const SplitnetRxOffload *ol,
                                size_t off, size_t len)
{
    dma_addr_t l;
    void *p;

    while (len) {
        l = len;
        p = splitnet_rx_ptr(q->core, addr, &l);
        if (p) {
            splitnet_rx_gather(iov, iovcnt, skip, ol, off, p, l);
            splitnet_rx_wrote(q->core, addr, l);
        } else {
            p = splitnet_map_guest(q->core, addr, &l,
                                   DMA_DIRECTION_FROM_DEVICE);
            if (!p) {
                return false;
            }
            splitnet_rx_gather(iov, iovcnt, skip, ol, off, p, l);
            splitnet_unmap_guest(q->core, p, l, DMA_DIRECTION_FROM_DEVICE, l);
        }
        addr += l;
        off += l;
        len -= l;
    }
    return true;
}

/*
 * Write the frame into the next n buffers.  A buffer that is not guest RAM
 * (or has become too short since we measured) drops the frame: its
 * descriptors come back with len 0.
 */
static bool splitnet_rx_deliver(SplitnetQueue *q, uint32_t n,
                                const struct iovec *iov, int iovcnt,
                                size_t skip, size_t size,
                                const SplitnetRxOffload *ol)
{
    size_t off = 0, chunk;
    bool bad = false;
    uint64_t addr;
    uint16_t len;
    uint32_t i;

    for (i = 0; i < n; i++) {
        if (!splitnet_rx_read_desc(q, q->cons + i, &addr, &len)) {
            return false;
        }
        chunk = MIN(len, size - off);
        if (!bad && (!len || (i == n - 1 && off + chunk < size) ||
                     !splitnet_rx_copy_in(q, addr, iov, iovcnt, skip, ol,
                                          off, chunk))) {
            SPLITNET_GUEST_ERR(splitnet_err_rx_buf, "queue %u addr 0x%"
                               PRIx64 " len %u", q->index, addr, len);
            q->stats[SPLITNET_STAT_ERRORS]++;
            bad = true;
        }
        off += chunk;
        if (!splitnet_rx_writeback(q, q->cons + i, bad ? 0 : chunk,
                                   i == n - 1 ? SPLITNET_RXD_EOP : 0,
                                   i || bad ? NULL : ol)) {
            return false;
        }
    }
    if (!bad) {
        q->stats[SPLITNET_STAT_FRAMES]++;
        q->stats[SPLITNET_STAT_BYTES] += size;
        q->stats[SPLITNET_STAT_RX_CSUM] += !!(ol->flags &
                                               (SPLITNET_RXD_CSUM_OK |
                                                SPLITNET_RXD_NEEDS_CSUM));
        q->stats[SPLITNET_STAT_RX_GSO] += !!ol->gso_size;
        q->stats[SPLITNET_STAT_RX_VLAN] += !!ol->strip;
    }
    return true;
}

/*
 * The backend's virtio-net header, as the offload fields of the frame's
 * first descriptor.  Returns false when the frame needs an offload the
 * driver did not accept (a partial checksum, a large segment): the
 * backend was told not to send those, but frames it queued before may
 * still come.  The header is in host memory, never the guest's.
 */
static bool splitnet_rx_offload(SplitnetQueue *q, const struct iovec *iov,
                                int iovcnt, size_t size,
                                SplitnetRxOffload *ol)
{
    uint64_t f = q->core->drv_features;
    struct virtio_net_hdr vh;
    uint8_t gso;

    *ol = (SplitnetRxOffload) { 0 };
    if (!q->core->vnet_hdr) {
        if ((f & SPLITNET_F_RX_CSUM) &&
            splitnet_rx_csum_valid(iov, iovcnt, size)) {
            ol->flags = SPLITNET_RXD_CSUM_OK;
        }
        return true;
    }
    iov_to_buf(iov, iovcnt, 0, &vh, sizeof(vh));
    trace_splitnet_rx_vnet_hdr(q->index, vh.flags, vh.gso_type, vh.gso_size,
                               vh.csum_start, vh.csum_offset);
    if (vh.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        if (!(f & SPLITNET_F_RX_CSUM) ||
            (size_t)vh.csum_start + vh.csum_offset + 2 > size) {
            return false;
        }
        ol->flags = SPLITNET_RXD_NEEDS_CSUM;
        ol->csum_start = vh.csum_start;
        ol->csum_offset = vh.csum_offset;
    } else if ((vh.flags & VIRTIO_NET_HDR_F_DATA_VALID) &&
               (f & SPLITNET_F_RX_CSUM)) {
        ol->flags = SPLITNET_RXD_CSUM_OK;
    }
    gso = vh.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
    if (gso == VIRTIO_NET_HDR_GSO_NONE) {
        return true;
    }
    if (!(f & SPLITNET_F_RX_GSO) || !(ol->flags & SPLITNET_RXD_NEEDS_CSUM) ||
        !vh.gso_size || (gso != VIRTIO_NET_HDR_GSO_TCPV4 &&
                         gso != VIRTIO_NET_HDR_GSO_TCPV6)) {
        return false;
    }
    ol->flags |= gso == VIRTIO_NET_HDR_GSO_TCPV4 ? SPLITNET_RXD_GSO_TCPV4 :
                                                   SPLITNET_RXD_GSO_TCPV6;
    if (vh.gso_type & VIRTIO_NET_HDR_GSO_ECN) {
        ol->flags |= SPLITNET_RXD_GSO_ECN;
    }
    ol->gso_size = vh.gso_size;
    return true;
}

/*
 * A tagged frame: dropped when the VLAN table is on and does not list its
 * VLAN (false), else its tag is taken out with F_VLAN.  A partial checksum
 * must start after the tag, which it then follows.  Without F_VLAN
 * frames stay as they are.
 */
static bool splitnet_rx_vlan(SplitnetQueue *q, const struct iovec *iov,
                             int iovcnt, size_t skip, size_t *size,
                             SplitnetRxOffload *ol)
{
    SplitnetCore *core = q->core;
    uint8_t tag[SPLITNET_VLAN_HLEN];
    uint16_t tci, vid;

    if (!(core->drv_features & SPLITNET_F_VLAN) ||
        *size < ETH_HLEN + SPLITNET_VLAN_HLEN ||
        iov_to_buf(iov, iovcnt, skip + SPLITNET_RX_TAG_OFF, tag,
                   sizeof(tag)) < sizeof(tag) ||
        lduw_be_p(tag) != ETH_P_VLAN) {
        return true;
    }
    tci = lduw_be_p(tag + 2);
    vid = tci & VLAN_VID_MASK;
    if ((core->rx_filter & SPLITNET_RX_FILTER_VLAN) &&
        !(core->rx_filter & SPLITNET_RX_FILTER_PROMISC) &&
        !(core->vlan_table[vid / 32] & (1u << (vid % 32)))) {
        return false;
    }
    if ((ol->flags & SPLITNET_RXD_NEEDS_CSUM) &&
        ol->csum_start < ETH_HLEN + SPLITNET_VLAN_HLEN) {
        return true;
    }
    ol->flags |= SPLITNET_RXD_VLAN;
    ol->vlan_tci = tci;
    ol->strip = SPLITNET_VLAN_HLEN;
    if (ol->flags & SPLITNET_RXD_NEEDS_CSUM) {
        ol->csum_start -= SPLITNET_VLAN_HLEN;
    }
    *size -= SPLITNET_VLAN_HLEN;
    return true;
}

/* Count each wait for buffers once, however often the net layer asks. */
static void splitnet_rx_start_wait(SplitnetRxQueue *rxq)
{
    SplitnetQueue *q = &rxq->q;

    if (!rxq->waiting) {
        rxq->waiting = true;
        q->stats[SPLITNET_STAT_RX_NO_BUFFER]++;
        trace_splitnet_rx_wait(q->index, q->prod, q->cons);
    }
}

bool splitnet_rx_can_receive(SplitnetRxQueue *rxq)
{
    SplitnetQueue *q = &rxq->q;

    if (!(q->core->ctrl & SPLITNET_CTRL_DRIVER_OK) ||
        !splitnet_queue_ready(q)) {
        return false;
    }
    if (q->prod != q->cons ||
        (splitnet_refresh_prod(q) && q->prod != q->cons)) {
        return true;
    }
    /* Empty: ask for a doorbell, then look again to close the race. */
    splitnet_arm_doorbell(q);
    if (splitnet_refresh_prod(q) && q->prod != q->cons) {
        return true;
    }
    splitnet_rx_start_wait(rxq);
    return false;
}

/* Returns 0 to make the net layer hold the frame until buffers arrive. */
static ssize_t splitnet_rx_wait(SplitnetRxQueue *rxq, size_t size)
{
    SplitnetQueue *q = &rxq->q;

    if (q->prod - q->cons == q->ring_size) {
        q->stats[SPLITNET_STAT_RX_OVERSIZE]++;
        trace_splitnet_rx_drop(q->index, size);
        return size;
    }
    splitnet_rx_start_wait(rxq);
    return 0;
}

/*
 * A peer that takes a virtio-net header puts one in front of every frame
 * (skip bytes); the frame is what follows it.  One RCU read-side section
 * covers the frame: each write to guest RAM is dirtied, and under TCG
 * that takes the RCU read lock per buffer and descriptor, whose outermost
 * level costs a memory barrier (a sixth of the I/O thread's time when a
 * tap delivered 64 KiB frames in 18 buffers each).
 */
ssize_t splitnet_rx_receive(SplitnetRxQueue *rxq, const struct iovec *iov,
                            int iovcnt, const SplitnetRxHash *hash)
{
    SplitnetQueue *q = &rxq->q;
    size_t total = iov_size(iov, iovcnt), size;
    size_t skip = q->core->vnet_hdr ? sizeof(struct virtio_net_hdr) : 0;
    uint8_t dst[ETH_ALEN];
    uint32_t n, old = q->cons, seen = 0;
    SplitnetRxOffload ol;
    bool armed = false;

    RCU_READ_LOCK_GUARD();
    if (!(q->core->ctrl & SPLITNET_CTRL_DRIVER_OK) ||
        !splitnet_queue_ready(q) || !splitnet_refresh_prod(q) ||
        total < skip) {
        return total;
    }
    size = total - skip;
    if (iov_to_buf(iov, iovcnt, skip, dst, ETH_ALEN) < ETH_ALEN ||
        !splitnet_rx_accept(q->core, dst)) {
        q->stats[SPLITNET_STAT_RX_FILTERED]++;
        return total;
    }
    if (!splitnet_rx_offload(q, iov, iovcnt, size, &ol)) {
        q->stats[SPLITNET_STAT_RX_OFFLOAD_DROP]++;
        return total;
    }
    if (!splitnet_rx_vlan(q, iov, iovcnt, skip, &size, &ol)) {
        q->stats[SPLITNET_STAT_RX_VLAN_FILTERED]++;
        return total;
    }
    ol.flags |= hash->flags;
    ol.hash = hash->hash;
    while (!(n = splitnet_rx_buffers_needed(q, size))) {
        /*
         * Too few buffers: ask for a doorbell at the prod last seen, and
         * wait once prod has not moved since.  Had the driver posted
         * meanwhile, an event left at the older prod would never be
         * crossed by its next post, and the frame would wait for good.
         * Each turn needs more buffers than the last (seen): at most
         * ring_size turns, whatever the guest does.
         */
        if ((armed && q->prod - q->cons <= seen) ||
            q->prod - q->cons == q->ring_size) {
            return splitnet_rx_wait(rxq, total);
        }
        splitnet_arm_doorbell(q);
        armed = true;
        seen = q->prod - q->cons;
        if (!splitnet_refresh_prod(q)) {
            return total;
        }
    }
    if (n == UINT32_MAX ||
        !splitnet_rx_deliver(q, n, iov, iovcnt, skip, size, &ol)) {
        return total;
    }
    rxq->waiting = false;
    q->cons += n;
    trace_splitnet_rx_frame(q->index, q->cons, n, size);
    splitnet_queue_publish(q, old);
    return total;
}

/*
 * Frames held for any RX queue wait on the backend queue they came from,
 * which is not tied to one RX queue: let every backend queue go on.
 */
void splitnet_rx_flush(SplitnetCore *core)
{
    unsigned i;

    for (i = 0; i < core->backend_queues; i++) {
        qemu_flush_queued_packets(qemu_get_subqueue(core->nic, i));
    }
}

void splitnet_rx_doorbell(SplitnetRxQueue *rxq)
{
    splitnet_rx_flush(rxq->q.core);
}
