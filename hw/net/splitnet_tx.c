/*
 * splitnet: head-copy paravirtual NIC, transmit
 *
 * For each frame: copy hdr_len bytes out of the header pool slot (through
 * the translation made at enable time) into a device-private buffer, map
 * the payload fragments without copying them, and hand the net layer one
 * scatter list [head copy, payload...].  Nothing after the head copy reads
 * the slot again, and nothing here ever writes guest TX memory.
 *
 * The payload is referenced through host pointers into guest RAM, valid
 * for as long as the RCU read-side section around the send: the net layer
 * either delivers the frame before qemu_sendv_packet_async() returns or
 * copies it into its queue, so no mapping has to outlive the call.
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/iov.h"
#include "qemu/log.h"
#include "qemu/main-loop.h"
#include "qemu/rcu.h"
#include "splitnet_core.h"
#include "splitnet_offload.h"
#include "splitnet_queue.h"
#include "splitnet_xlate.h"
#include "trace.h"

/* Frames one bottom-half run sends before it yields to the main loop. */
#define SPLITNET_TX_BH_BUDGET   256

/*
 * Kept small: it is cleared for every frame.  The offload request of the
 * first descriptor is in txq->first, valid when csum, tso or vlan is set.
 */
typedef struct SplitnetTxFrame {
    uint32_t ndesc;
    bool bad;
    bool tso;
    bool csum;
    bool vlan;
    uint8_t tag;                    /* bytes of an inserted VLAN tag */
    SplitnetTxCounts counts;        /* head, ref, copied as it is gathered */
} SplitnetTxFrame;

/* The head copy's bytes: the pool's, and an inserted tag's. */
static inline size_t splitnet_tx_head_len(const SplitnetTxFrame *f)
{
    return f->counts.head + f->tag;
}

/*
 * @direct: the queue's areas are direct (splitnet_status_direct()), as
 * checked when the frame's gathering began; nothing since can have
 * changed that.  The offsets need no check then: RING_SIZE cannot change
 * while the queue is enabled, and the areas were translated for it.
 */
static inline bool splitnet_tx_read_desc(SplitnetQueue *q, uint32_t idx,
                                         struct splitnet_tx_desc *d,
                                         bool direct)
{
    hwaddr off = (hwaddr)(idx & (q->ring_size - 1)) * SPLITNET_TX_DESC_SIZE;

    if (direct) {
        memcpy(d, q->ring_cache.mrc.ptr + off, sizeof(*d));
    } else if (!splitnet_queue_read(q, &q->ring_cache, off, d, sizeof(*d))) {
        return false;
    }
    d->addr = le64_to_cpu(d->addr);
    d->len = le32_to_cpu(d->len);
    d->hdr_len = le16_to_cpu(d->hdr_len);
    d->flags = le16_to_cpu(d->flags);
    d->csum_start = le16_to_cpu(d->csum_start);
    d->csum_offset = le16_to_cpu(d->csum_offset);
    d->gso_size = le16_to_cpu(d->gso_size);
    d->vlan_tci = le16_to_cpu(d->vlan_tci);
    return true;
}

/* The head copy: the only read of the pool slot for this frame. */
static inline bool splitnet_tx_copy_head(SplitnetTxQueue *txq, uint32_t idx,
                                         uint16_t hdr_len, SplitnetTxFrame *f,
                                         bool direct)
{
    SplitnetQueue *q = &txq->q;
    hwaddr off = (hwaddr)(idx & (q->ring_size - 1)) * q->core->slot_size;

    if (hdr_len < SPLITNET_TX_MIN_HEAD || hdr_len > q->core->slot_size) {
        SPLITNET_GUEST_ERR(splitnet_err_tx_hdr_len, "queue %u desc %u "
                           "hdr_len %u not in [" stringify(SPLITNET_TX_MIN_HEAD)
                           ", slot %u]", q->index, idx, hdr_len,
                           q->core->slot_size);
        f->bad = true;
        return true;
    }
    if (direct) {
        memcpy(txq->head, q->pool_cache.mrc.ptr + off, hdr_len);
    } else if (!splitnet_queue_read(q, &q->pool_cache, off, txq->head,
                                    hdr_len)) {
        return false;
    }
    txq->iov[0] = (struct iovec) { .iov_base = txq->head, .iov_len = hdr_len };
    txq->niov = 1;
    f->counts.head = hdr_len;
    return true;
}

/* Append host memory to the frame, extending the last piece if adjacent. */
static bool splitnet_tx_append(SplitnetTxQueue *txq, void *p, size_t len)
{
    struct iovec *last = txq->niov ? &txq->iov[txq->niov - 1] : NULL;

    if (last && (uint8_t *)last->iov_base + last->iov_len == p) {
        last->iov_len += len;
        return true;
    }
    if (txq->niov == SPLITNET_TX_MAX_IOV) {
        return false;
    }
    txq->iov[txq->niov++] = (struct iovec) { .iov_base = p, .iov_len = len };
    return true;
}

/*
 * Add a fragment of guest RAM to the frame: by reference, or copied into
 * the queue's buffer when it is shorter than tx-copybreak.  Each piece is
 * bounded by the RAM it lies in.  The pointers are good until the frame
 * is sent, in the RCU read-side section taken here for the first one
 * (a frame all in its header slot needs none).
 */
static bool splitnet_tx_frag(SplitnetTxQueue *txq, uint64_t addr,
                             uint32_t len, bool copy)
{
    dma_addr_t l;
    uint8_t *p;

    if (!txq->rcu_held) {
        rcu_read_lock();
        txq->rcu_held = true;
    }
    while (len) {
        l = len;
        p = splitnet_ram_ptr(txq->q.core, addr, &l, false);
        if (!p) {
            return false;
        }
        if (copy) {
            memcpy(txq->copy_buf + txq->copy_used, p, l);
            p = txq->copy_buf + txq->copy_used;
            txq->copy_used += l;
        }
        if (!splitnet_tx_append(txq, p, l)) {
            return false;
        }
        addr += l;
        len -= l;
    }
    return true;
}

static void splitnet_tx_add_frag(SplitnetTxQueue *txq,
                                 const struct splitnet_tx_desc *d,
                                 SplitnetTxFrame *f)
{
    SplitnetQueue *q = &txq->q;
    /* A TSO frame's payload is referenced, never copied. */
    bool copy = d->len < q->core->tx_copybreak && !f->tso;

    if (!d->len || f->bad) {
        return;
    }
    if (splitnet_tx_frag(txq, d->addr, d->len, copy)) {
        *(copy ? &f->counts.copied : &f->counts.ref) += d->len;
        return;
    }
    SPLITNET_GUEST_ERR(splitnet_err_tx_frag, "queue %u addr 0x%" PRIx64
                       " len %u", q->index, d->addr, d->len);
    f->bad = true;
}

/* Offload flags belong to the first descriptor of a frame. */
static bool splitnet_tx_check_desc(SplitnetQueue *q, uint32_t i,
                                   const struct splitnet_tx_desc *d,
                                   SplitnetTxFrame *f)
{
    uint16_t flags = SPLITNET_TXD_EOP |
                     (i ? 0 : SPLITNET_TXD_CSUM | SPLITNET_TXD_TSO |
                              SPLITNET_TXD_VLAN);

    if ((i && d->hdr_len) || (d->flags & ~flags) ||
        i >= SPLITNET_TX_MAX_FRAGS) {
        if (!f->bad) {
            SPLITNET_GUEST_ERR(splitnet_err_tx_desc, "queue %u desc %u of "
                               "frame: hdr_len %u flags 0x%x", q->index, i,
                               d->hdr_len, d->flags);
        }
        return false;
    }
    if (!i && (d->flags & ~SPLITNET_TXD_EOP)) {
        container_of(q, SplitnetTxQueue, q)->first = *d;
        f->tso = d->flags & SPLITNET_TXD_TSO;
        f->csum = d->flags & SPLITNET_TXD_CSUM;
        f->vlan = d->flags & SPLITNET_TXD_VLAN;
        return f->bad || splitnet_offload_desc_ok(q->index,
                                                  q->core->drv_features, d);
    }
    return true;
}

/*
 * Gather the frame at cons into txq->iov.  Returns false when the ring
 * itself is unusable (the device is then in its error state).
 */
static bool splitnet_tx_gather(SplitnetTxQueue *txq, SplitnetTxFrame *f)
{
    SplitnetQueue *q = &txq->q;
    uint32_t avail = q->prod - q->cons;
    bool direct = splitnet_status_direct(q);
    struct splitnet_tx_desc d;
    uint32_t i;

    txq->niov = 0;
    txq->copy_used = 0;
    for (i = 0; i < avail; i++) {
        if (!splitnet_tx_read_desc(q, q->cons + i, &d, direct) ||
            (!i && !splitnet_tx_copy_head(txq, q->cons, d.hdr_len, f,
                                          direct))) {
            return false;
        }
        f->bad |= !splitnet_tx_check_desc(q, i, &d, f);
        splitnet_tx_add_frag(txq, &d, f);
        if (d.flags & SPLITNET_TXD_EOP) {
            f->ndesc = i + 1;
            return true;
        }
    }
    SPLITNET_GUEST_ERR(splitnet_err_tx_chain, "queue %u: %u descriptors "
                       "without EOP", q->index, avail);
    splitnet_set_error(q->core, SPLITNET_ERR_TX_CHAIN, q->index);
    return false;
}

static bool splitnet_tx_frame_len_ok(SplitnetQueue *q, size_t len)
{
    if (len < ETH_HLEN || len > q->core->mtu + SPLITNET_FRAME_OVERHEAD) {
        SPLITNET_GUEST_ERR(splitnet_err_tx_len, "queue %u frame of %zu bytes",
                           q->index, len);
        return false;
    }
    return true;
}

/*
 * TXD_VLAN: the tag goes after the MAC addresses of the head copy, which
 * grows by 4 bytes (the buffer has room for them); the checksum offsets
 * the driver gave, counted from the frame start, move with the rest.
 */
static void splitnet_tx_vlan(SplitnetTxQueue *txq, SplitnetTxFrame *f)
{
    uint8_t *h = txq->head;

    memmove(h + ETH_HLEN + SPLITNET_VLAN_HLEN - 2, h + ETH_HLEN - 2,
            f->counts.head - (ETH_HLEN - 2));
    stw_be_p(h + ETH_HLEN - 2, ETH_P_VLAN);
    stw_be_p(h + ETH_HLEN, txq->first.vlan_tci);
    f->tag = SPLITNET_VLAN_HLEN;
    txq->iov[0].iov_len = splitnet_tx_head_len(f);
    /* Saturated: a csum_start beyond the head stays beyond it. */
    txq->first.csum_start = MIN(txq->first.csum_start + SPLITNET_VLAN_HLEN,
                                UINT16_MAX);
}

/*
 * TXD_CSUM: fill in the checksum, in the head copy only; or, for a peer
 * that takes a virtio-net header, ask it to.
 */
static bool splitnet_tx_csum(SplitnetTxQueue *txq, SplitnetTxFrame *f,
                             size_t len)
{
    SplitnetQueue *q = &txq->q;

    if (!f->csum) {
        return true;
    }
    if (q->core->vnet_hdr) {
        if (!splitnet_csum_vnet_hdr(q->index, splitnet_tx_head_len(f),
                                    &txq->first, &txq->vnet)) {
            return false;
        }
        f->counts.csum_pass = true;
        return true;
    }
    /* iov[0] is the head copy: a good frame always has one. */
    if (!splitnet_offload_csum(q->index, txq->head, splitnet_tx_head_len(f),
                               txq->iov + 1, txq->niov - 1,
                               len - splitnet_tx_head_len(f), &txq->first)) {
        return false;
    }
    f->counts.csum = true;
    return true;
}

/*
 * A frame completed: count it.  Not before: a frame the net layer held
 * and then purged is sent again, and must be counted once.
 */
static void G_GNUC_NO_INLINE splitnet_tx_complete_offload(SplitnetQueue *q,
                                                  const SplitnetTxCounts *c)
{
    q->stats[SPLITNET_STAT_TX_CSUM] += c->csum;
    q->stats[SPLITNET_STAT_TX_CSUM_PASS] += c->csum_pass;
    q->stats[SPLITNET_STAT_TX_GSO_PASS] += c->gso_pass;
    if (c->uso) {
        q->stats[SPLITNET_STAT_TX_USO]++;
    } else if (c->tso_segs) {
        q->stats[SPLITNET_STAT_TX_TSO]++;
        q->stats[SPLITNET_STAT_TX_TSO_SEGS] += c->tso_segs;
    }
}

static inline void splitnet_tx_count_bytes(SplitnetQueue *q, uint32_t head,
                                           uint32_t ref, uint32_t copied)
{
    q->stats[SPLITNET_STAT_TX_HEAD_BYTES] += head;
    q->stats[SPLITNET_STAT_TX_PAYLOAD_REF] += ref;
    q->stats[SPLITNET_STAT_TX_PAYLOAD_COPY] += copied;
}

static void splitnet_tx_complete(SplitnetQueue *q, const SplitnetTxCounts *c)
{
    splitnet_tx_count_bytes(q, c->head, c->ref, c->copied);
    if (unlikely(c->csum || c->csum_pass || c->gso_pass || c->tso_segs)) {
        splitnet_tx_complete_offload(q, c);
    }
}

/* What the net layer took: counted when it takes it. */
static void splitnet_tx_count_sent(SplitnetQueue *q, size_t len)
{
    q->stats[SPLITNET_STAT_FRAMES]++;
    q->stats[SPLITNET_STAT_BYTES] += len;
}

/*
 * The net layer holds a frame of ours: note whose, for its callback, which
 * names only the backend queue.
 */
static void splitnet_tx_hold(SplitnetTxQueue *txq)
{
    SplitnetSendQueue *sq = &txq->q.core->sendq[txq->nc->queue_index];

    /* Each TX queue holds at most one frame: at most TSO_MAX_SEGS pieces. */
    assert(sq->count < SPLITNET_SENDQ_MAX);
    sq->owner[(sq->head + sq->count++) % SPLITNET_SENDQ_MAX] = txq->q.index / 2;
}

static void G_GNUC_NO_INLINE splitnet_tx_trace(SplitnetTxQueue *txq,
                                               size_t len, SplitnetTxFrame *f,
                                               ssize_t ret)
{
    SplitnetQueue *q = &txq->q;

    trace_splitnet_tx_frame(q->index, q->cons, f->ndesc, len, f->counts.head,
                            f->counts.ref, f->counts.copied, ret);
}

static void G_GNUC_NO_INLINE splitnet_tx_stall(SplitnetTxQueue *txq,
                                               SplitnetTxFrame *f)
{
    splitnet_tx_hold(txq);
    txq->q.stats[SPLITNET_STAT_TX_STALLS]++;
    txq->stalled = true;
    txq->stalled_descs = f->ndesc;
    txq->stall_pending++;
}

/*
 * The net layer's answer @ret for one frame (or segment): false if it
 * holds it.  The trace point is out of line: inline, its log backend's
 * body costs every frame registers to save.
 */
static inline bool splitnet_tx_sent_one(SplitnetTxQueue *txq, size_t len,
                                        SplitnetTxFrame *f, ssize_t ret)
{
    if (trace_event_get_state_backends(TRACE_SPLITNET_TX_FRAME)) {
        splitnet_tx_trace(txq, len, f, ret);
    }
    if (unlikely(ret == 0)) {
        splitnet_tx_stall(txq, f);
        return false;
    }
    splitnet_tx_count_sent(&txq->q, len);
    return true;
}

/* Hand one frame (or segment) to the net layer; false if it holds it. */
static inline bool splitnet_tx_send(SplitnetTxQueue *txq,
                                    const struct iovec *iov, unsigned niov,
                                    size_t len, SplitnetTxFrame *f)
{
    ssize_t ret;

    ret = qemu_sendv_packet_async(txq->nc, iov, niov, txq->q.core->sent_cb);
    return splitnet_tx_sent_one(txq, len, f, ret);
}

/* The frame in txq->iov, behind txq->vnet when the peer takes one. */
static inline bool splitnet_tx_send_frame(SplitnetTxQueue *txq, size_t len,
                                          SplitnetTxFrame *f)
{
    if (!txq->q.core->vnet_hdr) {
        return splitnet_tx_send(txq, txq->iov, txq->niov, len, f);
    }
    txq->iov_buf[0] = (struct iovec) {
        .iov_base = &txq->vnet, .iov_len = sizeof(txq->vnet),
    };
    return splitnet_tx_send(txq, txq->iov_buf, txq->niov + 1, len, f);
}

/*
 * A TSO or USO frame for a peer that segments: checked as for
 * segmentation, then sent whole behind a virtio-net header that describes
 * it.
 */
static uint32_t splitnet_tx_gso_pass(SplitnetTxQueue *txq, SplitnetTxFrame *f,
                                     size_t len)
{
    SplitnetQueue *q = &txq->q;
    SplitnetTso *t = &txq->tso;

    if (!splitnet_tso_begin(t, q->index, txq->head, splitnet_tx_head_len(f),
                            txq->iov + 1, txq->niov - 1,
                            len - splitnet_tx_head_len(f), &txq->first,
                            q->core->mtu + SPLITNET_FRAME_OVERHEAD)) {
        q->stats[SPLITNET_STAT_ERRORS]++;
        return f->ndesc;
    }
    splitnet_tso_vnet_hdr(t, q->index, txq->head, &txq->vnet);
    f->counts.gso_pass = true;
    return splitnet_tx_send_frame(txq, len, f) ? f->ndesc : 0;
}

/*
 * Send a TSO or USO frame as segments, each behind a virtio-net header of
 * zeroes for a peer that takes one.  Once the net layer holds one segment
 * it queues the rest behind it (its peer is marked busy), so order is
 * kept; the frame completes when the net layer has let go of every
 * segment.
 */
static uint32_t splitnet_tx_tso(SplitnetTxQueue *txq, SplitnetTxFrame *f,
                                size_t len, unsigned *cost)
{
    SplitnetQueue *q = &txq->q;
    SplitnetTso *t = &txq->tso;
    /* seg_iov, or seg_iov_buf: the same behind a header of zeroes */
    unsigned vnet = q->core->vnet_hdr;
    unsigned niov;
    size_t seg;

    if (!splitnet_tso_begin(t, q->index, txq->head, splitnet_tx_head_len(f),
                            txq->iov + 1, txq->niov - 1,
                            len - splitnet_tx_head_len(f), &txq->first,
                            q->core->mtu + SPLITNET_FRAME_OVERHEAD)) {
        q->stats[SPLITNET_STAT_ERRORS]++;
        return f->ndesc;
    }
    f->counts.uso = t->udp;
    *cost = t->nsegs;
    txq->seg_iov_buf[0] = (struct iovec) {
        .iov_base = &txq->vnet, .iov_len = sizeof(txq->vnet),
    };
    while ((seg = splitnet_tso_next(t, txq->seg_head, txq->seg_iov, &niov))) {
        f->counts.tso_segs++;
        splitnet_tx_send(txq, txq->seg_iov - vnet, niov + vnet,
                         splitnet_tx_head_len(f) + seg, f);
    }
    return txq->stalled ? 0 : f->ndesc;
}

/* The peer segments this frame itself (tap, with USO only if it can). */
static bool splitnet_tx_peer_segments(SplitnetCore *core,
                                      const struct splitnet_tx_desc *d)
{
    return core->vnet_hdr &&
           (d->gso_type != SPLITNET_GSO_UDP_L4 || core->vnet_uso);
}

/* splitnet_tx_drain_slow() once the payload may be referenced. */
static inline uint32_t splitnet_tx_gather_send(SplitnetTxQueue *txq,
                                               SplitnetTxFrame *f,
                                               unsigned *cost)
{
    SplitnetQueue *q = &txq->q;
    size_t len;
    uint32_t n;

    if (!splitnet_tx_gather(txq, f)) {
        return 0;
    }
    /*
     * Whole, a frame the peer segments is up to 64 KiB for the host
     * kernel to copy and run through its own stack.  Inside the doorbell
     * write that time is the vCPU's; the bottom half spends it on the main
     * loop's thread while the vCPU goes on (TCP to a tap under TCG: 1837
     * -> 3269 Mbit/s).  The frame stays at cons for the bottom half.
     */
    if (txq->in_doorbell && !f->bad && f->tso &&
        splitnet_tx_peer_segments(q->core, &txq->first)) {
        return 0;
    }
    /* What txq->iov holds, without walking it. */
    len = f->counts.head + f->counts.ref + f->counts.copied;
    if (q->core->vnet_hdr) {
        txq->vnet = (struct virtio_net_hdr) { 0 };
    }
    if (!f->bad && f->vlan) {
        splitnet_tx_vlan(txq, f);
        len += SPLITNET_VLAN_HLEN;
    }
    if (!f->bad && f->tso) {
        n = splitnet_tx_peer_segments(q->core, &txq->first) ?
            splitnet_tx_gso_pass(txq, f, len) :
            splitnet_tx_tso(txq, f, len, cost);
    } else if (f->bad || !splitnet_tx_frame_len_ok(q, len) ||
               !splitnet_tx_csum(txq, f, len)) {
        q->stats[SPLITNET_STAT_ERRORS]++;
        return f->ndesc;
    } else {
        n = splitnet_tx_send_frame(txq, len, f) ? f->ndesc : 0;
    }
    if (txq->stalled) {
        txq->held = f->counts;
    } else {
        splitnet_tx_complete(q, &f->counts);
    }
    return n;
}

/*
 * splitnet_tx_drain() for a frame splitnet_tx_fast() does not take, any
 * frame: out of line, off the common path.  Returns the frames it sent to
 * the network (a TSO frame's segments; 1 for a frame dropped), or 0 when
 * the drain must stop: the net layer holds the frame, the device is in
 * its error state, or the frame is left for the bottom half.
 */
static unsigned G_GNUC_NO_INLINE splitnet_tx_drain_slow(SplitnetTxQueue *txq)
{
    SplitnetQueue *q = &txq->q;
    SplitnetTxFrame f = { 0 };
    unsigned cost = 1;
    uint32_t n;

    if (q->core->error) {
        return 0;
    }
    n = splitnet_tx_gather_send(txq, &f, &cost);
    /* The payload pointers are dropped once the frame is sent. */
    if (txq->rcu_held) {
        txq->rcu_held = false;
        rcu_read_unlock();
    }
    q->cons += n;
    return n ? cost : 0;
}

#define SPLITNET_TX_DESC_OFF(field) offsetof(struct splitnet_tx_desc, field)

/* What splitnet_tx_fast() did with the frame at cons. */
typedef enum SplitnetTxFast {
    SPLITNET_TX_HELD,       /* sent, and the net layer holds it */
    SPLITNET_TX_SENT,       /* sent, and taken */
    SPLITNET_TX_NOT_FAST,   /* nothing: the general path's */
} SplitnetTxFast;

/* What splitnet_tx_fast() counted before it sent the frame, taken back. */
static void splitnet_tx_uncount(SplitnetQueue *q, size_t len,
                                const SplitnetTxCounts *c)
{
    q->stats[SPLITNET_STAT_FRAMES]--;
    q->stats[SPLITNET_STAT_BYTES] -= len;
    q->stats[SPLITNET_STAT_TX_HEAD_BYTES] -= c->head;
    q->stats[SPLITNET_STAT_TX_PAYLOAD_REF] -= c->ref;
    q->stats[SPLITNET_STAT_TX_PAYLOAD_COPY] -= c->copied;
}

/*
 * After splitnet_tx_fast() sent its frame, when it must be traced or the
 * net layer holds it: its counts taken back, what
 * splitnet_tx_gather_send() does after the send.  The frame is still in
 * txq->iov: the head copy, then the payload, if any, in copy_buf or
 * referenced.
 */
static SplitnetTxFast G_GNUC_NO_INLINE
splitnet_tx_fast_end(SplitnetTxQueue *txq, ssize_t ret)
{
    const struct iovec *pay = &txq->iov[1];
    uint64_t payload = txq->niov > 1 ? pay->iov_len : 0;
    bool copied = payload && pay->iov_base == txq->copy_buf;
    SplitnetTxFrame f = {
        .ndesc = 1,
        .counts = {
            .head = txq->iov[0].iov_len,
            .ref = copied ? 0 : payload,
            .copied = copied ? payload : 0,
        },
    };
    size_t len = f.counts.head + payload;

    splitnet_tx_uncount(&txq->q, len, &f.counts);
    if (!splitnet_tx_sent_one(txq, len, &f, ret)) {
        txq->held = f.counts;
        return SPLITNET_TX_HELD;
    }
    splitnet_tx_complete(&txq->q, &f.counts);
    return SPLITNET_TX_SENT;
}

/*
 * The common frame in a straight line: one descriptor without offloads,
 * its payload (if any) in one piece of plain RAM (through tx_ref_run,
 * whose reference keeps it, so no RCU read-side section), on a queue
 * whose areas are direct, for a peer without a virtio-net header.
 * It makes the checks the general path makes, reading each field of the
 * descriptor once, and the head copy is the only read of the slot.  For
 * anything else, or anything the general path reports, it returns
 * SPLITNET_TX_NOT_FAST, having changed nothing that path does not set
 * anew.  The frame is counted before it is sent, so that nothing but
 * txq has to live across the call (splitnet_tx_fast_end() takes the
 * counts back where needed).
 */
static inline SplitnetTxFast splitnet_tx_fast(SplitnetTxQueue *txq)
{
    SplitnetQueue *q = &txq->q;
    SplitnetCore *core = q->core;
    uint32_t idx = q->cons & (q->ring_size - 1);
    const uint8_t *d;
    const uint8_t *slot;
    uint32_t head, ref, copied = 0;
    unsigned niov = 1;
    uint8_t *p;
    size_t len;
    ssize_t ret;

    /* Non-NULL status: enabled, no error, every area direct. */
    if (unlikely(!q->status || core->vnet_hdr)) {
        return SPLITNET_TX_NOT_FAST;
    }
    /* In place: each field is read once, into a register. */
    d = q->ring_cache.mrc.ptr + (hwaddr)idx * SPLITNET_TX_DESC_SIZE;
    head = lduw_le_p(d + SPLITNET_TX_DESC_OFF(hdr_len));
    ref = ldl_le_p(d + SPLITNET_TX_DESC_OFF(len));
    len = (size_t)head + ref;
    if (lduw_le_p(d + SPLITNET_TX_DESC_OFF(flags)) != SPLITNET_TXD_EOP ||
        head < SPLITNET_TX_MIN_HEAD || head > core->slot_size ||
        len > core->mtu + SPLITNET_FRAME_OVERHEAD) {
        return SPLITNET_TX_NOT_FAST;
    }
    /* The slot is at least SLOT_MIN bytes: copy those whole, then the rest. */
    slot = q->pool_cache.mrc.ptr + (hwaddr)idx * core->slot_size;
    memcpy(txq->head, slot, SPLITNET_TX_SLOT_MIN);
    if (head > SPLITNET_TX_SLOT_MIN) {
        memcpy(txq->head + SPLITNET_TX_SLOT_MIN, slot + SPLITNET_TX_SLOT_MIN,
               head - SPLITNET_TX_SLOT_MIN);
    }
    txq->iov[0] = (struct iovec) { .iov_base = txq->head, .iov_len = head };
    if (ref) {
        p = splitnet_tx_ref_ptr(core, ldq_le_p(d + SPLITNET_TX_DESC_OFF(addr)),
                                ref);
        if (!p) {
            return SPLITNET_TX_NOT_FAST;
        }
        if (ref < core->tx_copybreak) {
            memcpy(txq->copy_buf, p, ref);
            p = txq->copy_buf;
            copied = ref;
            ref = 0;
        }
        txq->iov[1] = (struct iovec) { .iov_base = p, .iov_len = len - head };
        niov = 2;
    }
    txq->niov = niov;
    splitnet_tx_count_sent(q, len);
    splitnet_tx_count_bytes(q, head, ref, copied);
    ret = qemu_sendv_packet_async(txq->nc, txq->iov, niov, core->sent_cb);
    if (unlikely(ret == 0 ||
                 trace_event_get_state_backends(TRACE_SPLITNET_TX_FRAME))) {
        return splitnet_tx_fast_end(txq, ret);
    }
    return SPLITNET_TX_SENT;
}

/*
 * Send the frames up to prod, at most *budget of them, a TSO frame
 * counting as its segments.  Returns true when it ran out of work, false
 * when it stopped: stalled on the net layer, error state, or out of
 * budget.  Called only while the net layer holds no frame of the queue;
 * a frame sent and taken leaves it so.  An error state entered in the
 * last send (a synchronous peer can reach the device again) is found by
 * splitnet_queue_idle(), whose accesses fail then.
 */
static inline bool splitnet_tx_drain(SplitnetTxQueue *txq, unsigned *budget)
{
    SplitnetQueue *q = &txq->q;
    SplitnetTxFast r;
    unsigned cost;

    while (q->cons != q->prod) {
        if (!*budget) {
            return false;
        }
        r = splitnet_tx_fast(txq);
        if (likely(r == SPLITNET_TX_SENT)) {
            q->cons++;
            --*budget;
            continue;
        }
        cost = r == SPLITNET_TX_HELD ? 0 : splitnet_tx_drain_slow(txq);
        if (!cost) {
            return false;
        }
        *budget -= MIN(*budget, cost);
    }
    return true;
}

static void splitnet_tx_schedule(SplitnetTxQueue *txq)
{
    txq->bh_pending = true;
    qemu_bh_schedule(txq->bh);
}

static void splitnet_tx_run(SplitnetTxQueue *txq, unsigned budget)
{
    SplitnetQueue *q = &txq->q;
    uint32_t old = q->cons;

    /*
     * A stopped VM's rings stay as they are (migration saves them);
     * splitnet_tx_kick() resumes when it runs again.  Both callers have
     * checked that the net layer holds no frame of ours (not stalled).
     */
    if (!q->core->vm_running || !splitnet_queue_ready(q) ||
        !splitnet_refresh_prod(q)) {
        return;
    }
    /*
     * Out of work: publish, ask for the next doorbell and look once more
     * (splitnet_queue_idle); go on while the driver keeps up.  With
     * tx-defer, a pass that sent frames publishes them and looks again in
     * a bottom half of its own first, leaving doorbell_event behind (as
     * virtio-net's TX bottom half does): a driver that streams in bursts
     * goes on without ringing, and only a pass that finds nothing asks
     * for the next doorbell.
     */
    while (splitnet_tx_drain(txq, &budget)) {
        if (q->core->tx_deferred && q->cons != old &&
            splitnet_event_idx(q->core)) {
            break;
        }
        if (!splitnet_queue_idle(q, old)) {
            return;
        }
        old = q->cons;
    }
    splitnet_queue_publish(q, old);
    if (!txq->stalled && !q->core->error) {
        splitnet_tx_schedule(txq);
    }
}

static void splitnet_tx_bh(void *opaque)
{
    SplitnetTxQueue *txq = opaque;

    txq->bh_pending = false;
    txq->in_doorbell = false;
    /* Scheduled before the frame the net layer holds now was sent. */
    if (!txq->stalled) {
        splitnet_tx_run(txq, SPLITNET_TX_BH_BUDGET);
    }
}

void splitnet_tx_doorbell(SplitnetTxQueue *txq)
{
    if (txq->stalled || txq->bh_pending) {
        return;
    }
    if (txq->q.core->tx_deferred) {
        splitnet_tx_schedule(txq);
        return;
    }
    /* Until the bottom half runs: the only other caller of the run. */
    txq->in_doorbell = true;
    splitnet_tx_run(txq, txq->q.core->tx_burst);
}

/* The VM runs again (splitnet_vm_running): frames may be waiting. */
void splitnet_tx_kick(SplitnetTxQueue *txq)
{
    if (txq->q.enabled && !txq->stalled) {
        splitnet_tx_schedule(txq);
    }
}

/*
 * The net layer let go of the frame it held.  ret > 0: delivered, so
 * complete it.  ret == 0: purged undelivered (the VM stopped, for
 * example before migration), so leave it ahead of cons to be sent again,
 * and counted only then.
 */
void splitnet_tx_sent(SplitnetTxQueue *txq, ssize_t ret)
{
    SplitnetQueue *q = &txq->q;
    uint32_t old = q->cons;

    if (!txq->stalled) {
        return;
    }
    if (ret > 0) {
        splitnet_tx_count_sent(q, ret);
    }
    txq->stall_purged |= !ret;
    if (txq->stall_pending > 1) {
        txq->stall_pending--;
        return;
    }
    ret = txq->stall_purged ? 0 : ret;
    txq->stall_pending = 0;
    txq->stall_purged = false;
    txq->stalled = false;
    trace_splitnet_tx_resume(q->index, q->cons, ret);
    if (!splitnet_queue_ready(q)) {
        return;
    }
    if (ret) {
        q->cons += txq->stalled_descs;
        splitnet_tx_complete(q, &txq->held);
        splitnet_queue_publish(q, old);
    }
    splitnet_tx_schedule(txq);
}

void splitnet_tx_reset(SplitnetTxQueue *txq)
{
    /*
     * Forget the held frame first: purging calls our sent callback.  The
     * purge drops the frames other TX queues sharing the backend queue
     * had there too; they stay ahead of their cons and are sent again.
     */
    txq->stalled = false;
    txq->stalled_descs = 0;
    txq->stall_pending = 0;
    txq->stall_purged = false;
    qemu_bh_cancel(txq->bh);
    txq->bh_pending = false;
    qemu_purge_queued_packets(txq->nc);
}

void splitnet_tx_init(SplitnetTxQueue *txq, DeviceState *dev,
                      NetClientState *nc)
{
    txq->nc = nc;
    txq->iov = txq->iov_buf + 1;
    txq->seg_iov = txq->seg_iov_buf + 1;
    txq->bh = qemu_bh_new_guarded(splitnet_tx_bh, txq,
                                  &dev->mem_reentrancy_guard);
}

void splitnet_tx_cleanup(SplitnetTxQueue *txq)
{
    qemu_bh_delete(txq->bh);
}
