/*
 * splitnet: head-copy paravirtual NIC, queue primitives
 *
 * What TX and RX share: ring and status access through the translations,
 * the producer/consumer indices, the event-index rule, doorbell and
 * interrupt suppression, interrupt moderation and the error state.  It
 * calls only splitnet_xlate.c.
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_SPLITNET_QUEUE_H
#define HW_NET_SPLITNET_QUEUE_H

#include "splitnet_core.h"
#include "splitnet_xlate.h"

void splitnet_queue_init(SplitnetCore *core, SplitnetQueue *q, unsigned index);
void splitnet_queue_cleanup(SplitnetQueue *q);
void splitnet_queue_reset(SplitnetQueue *q);
bool splitnet_queue_start(SplitnetQueue *q);
void splitnet_queue_stop(SplitnetQueue *q);

bool splitnet_queue_ready_slow(SplitnetQueue *q);
bool splitnet_queue_read_slow(SplitnetQueue *q, SplitnetCache *c, hwaddr off,
                              void *buf, hwaddr len);
bool splitnet_queue_write_slow(SplitnetQueue *q, SplitnetCache *c,
                               hwaddr off, const void *buf, hwaddr len);

/*
 * The checks before every access, with their common outcome inline: a
 * TX frame makes about eight of them, and as calls they cost more than
 * the accesses.  Anything else (translations to rebuild, an error to
 * report, an IOMMU in the way) takes the out-of-line path.
 */
static inline bool splitnet_queue_ready(SplitnetQueue *q)
{
    if (likely(q->status) ||
        likely(q->enabled && !q->core->error && q->xlate_valid)) {
        return true;
    }
    return splitnet_queue_ready_slow(q);
}

static inline bool splitnet_queue_read(SplitnetQueue *q, SplitnetCache *c,
                                       hwaddr off, void *buf, hwaddr len)
{
    if (likely(q->enabled && !q->core->error &&
               splitnet_xlate_read_direct(q, c, off, buf, len))) {
        return true;
    }
    return splitnet_queue_read_slow(q, c, off, buf, len);
}

static inline bool splitnet_queue_write(SplitnetQueue *q, SplitnetCache *c,
                                        hwaddr off, const void *buf,
                                        hwaddr len)
{
    if (likely(q->enabled && !q->core->error &&
               splitnet_xlate_write_direct(q, c, off, buf, len))) {
        return true;
    }
    return splitnet_queue_write_slow(q, c, off, buf, len);
}

/*
 * The status entry, read and written at every doorbell: through its
 * direct pointer without a call when the queue may use it, otherwise
 * the long way (which rebuilds translations or reports what failed).
 */
#define SPLITNET_STATUS_OFF(field) offsetof(struct splitnet_queue_status, field)

/* The field, or SPLITNET_STATUS_LD_FAILED: no address taken in the caller. */
#define SPLITNET_STATUS_LD_FAILED UINT64_MAX
uint64_t splitnet_status_ld_slow(SplitnetQueue *q, hwaddr off);
bool splitnet_status_st_slow(SplitnetQueue *q, hwaddr off, const void *le,
                             hwaddr len);

/*
 * q->status is set only while the queue is enabled, the device is not in
 * its error state and the translations are current and direct: stopping
 * the queue, splitnet_set_error() and a memory map change clear it.  So
 * one test stands for all of those.
 */
static inline bool splitnet_status_direct(SplitnetQueue *q)
{
    return likely(q->status);
}

static inline bool splitnet_status_ld(SplitnetQueue *q, hwaddr off,
                                      uint32_t *val)
{
    /* ldl_le_p() is signed: a field of 0xffffffff is no failure. */
    uint64_t v = splitnet_status_direct(q) ?
                 (uint32_t)ldl_le_p(q->status + off) :
                 splitnet_status_ld_slow(q, off);

    *val = v;
    return v != SPLITNET_STATUS_LD_FAILED;
}

/* @le: device fields in the entry's byte order. */
static inline QEMU_ALWAYS_INLINE bool
splitnet_status_write(SplitnetQueue *q, hwaddr off, const void *le, hwaddr len)
{
    if (splitnet_status_direct(q)) {
        memcpy(q->status + off, le, len);
        splitnet_cache_dirty(q, &q->status_cache, off, len);
        return true;
    }
    return splitnet_status_st_slow(q, off, le, len);
}

static inline bool splitnet_status_st(SplitnetQueue *q, hwaddr off,
                                      uint32_t val)
{
    uint32_t le = cpu_to_le32(val);

    return splitnet_status_write(q, off, &le, sizeof(le));
}

void splitnet_bad_prod(SplitnetQueue *q, uint32_t prod);

/*
 * Read the driver's producer index.  Returns false when it cannot be read
 * or is impossible (the device is then in its error state), or when the
 * queue stopped.
 */
static inline bool splitnet_refresh_prod(SplitnetQueue *q)
{
    uint32_t prod;

    if (!splitnet_status_ld(q, SPLITNET_STATUS_OFF(prod), &prod)) {
        return false;
    }
    if (unlikely(prod - q->cons > q->ring_size)) {
        splitnet_bad_prod(q, prod);
        return false;
    }
    /* Descriptors are read after prod, as the driver wrote them before. */
    smp_rmb();
    q->prod = prod;
    return true;
}

void splitnet_arm_doorbell(SplitnetQueue *q);
void splitnet_queue_notify(SplitnetQueue *q);

/* The event-index rule of docs/specs/splitnet.rst, "Notification". */
static inline bool splitnet_need_event(uint32_t event, uint32_t new,
                                       uint32_t old)
{
    return (uint32_t)(new - event - 1) < (uint32_t)(new - old);
}

/*
 * cons moved from old_cons and is visible: interrupt if the driver asked.
 * @event_idx: EVENT_IDX is negotiated (it cannot change while a queue is
 * enabled), for a caller that knows it already.
 */
static inline QEMU_ALWAYS_INLINE void
splitnet_queue_signal_idx(SplitnetQueue *q, uint32_t old_cons, bool event_idx)
{
    uint32_t event;

    /* cons (and doorbell_event) visible before we read the driver's. */
    smp_mb();
    if (q->cons == old_cons) {
        return;
    }
    if (event_idx &&
        (!splitnet_status_ld(q, SPLITNET_STATUS_OFF(intr_event), &event) ||
         !splitnet_need_event(event, q->cons, old_cons))) {
        return;
    }
    splitnet_queue_notify(q);
}

static inline void splitnet_queue_signal(SplitnetQueue *q, uint32_t old_cons)
{
    splitnet_queue_signal_idx(q, old_cons, splitnet_event_idx(q->core));
}

void splitnet_queue_publish(SplitnetQueue *q, uint32_t old_cons);

/*
 * The queue ran out of work (cons == prod).  Publish cons and ask for the
 * next doorbell (doorbell_event = prod), with EVENT_IDX in one store, as
 * both fields are the device's and adjacent; interrupt the driver if it
 * asked; then read prod once more for frames the driver posted before it
 * could see the request.  Returns true when there are some.
 */
static inline bool splitnet_queue_idle(SplitnetQueue *q, uint32_t old_cons)
{
    uint64_t le = cpu_to_le64(q->cons | (uint64_t)q->prod << 32);

    QEMU_BUILD_BUG_ON(SPLITNET_STATUS_OFF(doorbell_event)
                      != SPLITNET_STATUS_OFF(cons) + 4);
    if (!splitnet_event_idx(q->core)) {
        splitnet_queue_publish(q, old_cons);
    } else {
        /* Data and write-back fields become visible before cons does. */
        smp_wmb();
        if (!splitnet_status_write(q, SPLITNET_STATUS_OFF(cons), &le,
                                   sizeof(le))) {
            return false;
        }
        splitnet_queue_signal_idx(q, old_cons, true);
    }
    return splitnet_refresh_prod(q) && q->prod != q->cons;
}

void splitnet_set_error(SplitnetCore *core, uint32_t err, uint32_t queue);
void splitnet_config_interrupt(SplitnetCore *core);
void splitnet_update_intx(SplitnetCore *core);

#endif
