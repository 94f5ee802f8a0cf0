/*
 * splitnet: head-copy paravirtual NIC, queue primitives
 *
 * Every ring, pool and status access goes through splitnet_queue_read()
 * and splitnet_queue_write(), which first check that the queue is enabled,
 * that the device is not in its error state and that the translations are
 * current.  Anything that can run guest-chosen side effects (an interrupt
 * is a guest-programmed memory write) may change those, so nothing here
 * relies on a check made before it.
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/pci/msix.h"
#include "qemu/log.h"
#include "splitnet_queue.h"
#include "splitnet_xlate.h"
#include "trace.h"

/* Interrupts */

void splitnet_update_intx(SplitnetCore *core)
{
    bool level = !msix_enabled(core->pci) && (core->isr & ~core->intr_mask);

    pci_set_irq(core->pci, level);
}

static void splitnet_raise(SplitnetCore *core, uint32_t vector, uint32_t cause)
{
    if (msix_enabled(core->pci)) {
        if (vector < core->num_vectors) {
            msix_notify(core->pci, vector);
        }
        return;
    }
    core->isr |= cause;
    splitnet_update_intx(core);
}

void splitnet_config_interrupt(SplitnetCore *core)
{
    trace_splitnet_config_interrupt(core->config_vector);
    splitnet_raise(core, core->config_vector, SPLITNET_ISR_CONFIG);
}

static void splitnet_queue_fire(SplitnetQueue *q)
{
    q->intr_pending = false;
    q->last_intr_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    q->stats[SPLITNET_STAT_INTERRUPTS]++;
    trace_splitnet_queue_interrupt(q->index, q->vector, q->cons);
    splitnet_raise(q->core, q->vector,
                   SPLITNET_ISR_QUEUE(MIN(q->index,
                                          SPLITNET_ISR_LAST_QUEUE)));
}

/*
 * A TX interrupt only lets the driver free what the device finished.  A
 * driver that rang the doorbell at least SPLITNET_TX_INTR_HOLD_RINGS times
 * since the interrupt was held back is streaming, and frees those buffers
 * in its transmit path (splitnet_start_xmit() does): hold the interrupt on
 * for another delay, up to SPLITNET_TX_INTR_HOLD delays after it was asked
 * for.  A steady small-frame sender then takes one TX interrupt per 8
 * delays instead of one per delay.  A sender that rings less often (TCP
 * waiting for its ACKs, a driver that stopped its queue) gets it as
 * before: held on for it too, TCP between two guests lost about a sixth.
 */
static bool splitnet_intr_hold(SplitnetQueue *q, int64_t now)
{
    int64_t delay = (int64_t)q->intr_delay_us * SCALE_US;
    uint64_t doorbells = q->stats[SPLITNET_STAT_DOORBELLS];

    if (SPLITNET_QUEUE_IS_RX(q->index) ||
        doorbells - q->intr_doorbells < SPLITNET_TX_INTR_HOLD_RINGS ||
        now - q->intr_asked_ns >= SPLITNET_TX_INTR_HOLD * delay) {
        return false;
    }
    q->intr_doorbells = doorbells;
    timer_mod(q->intr_timer, now + delay);
    return true;
}

static void splitnet_intr_timer(void *opaque)
{
    SplitnetQueue *q = opaque;

    if (q->intr_pending && q->enabled &&
        !splitnet_intr_hold(q, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL))) {
        splitnet_queue_fire(q);
    }
}

/* Interrupt moderation: no two interrupts closer than intr_delay_us. */
void splitnet_queue_notify(SplitnetQueue *q)
{
    int64_t due = q->last_intr_ns + (int64_t)q->intr_delay_us * SCALE_US;
    int64_t now;

    if (q->intr_pending) {
        return;             /* the timer fires it, or holds it on */
    }
    now = q->intr_delay_us ? qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) : 0;
    if (q->intr_delay_us && now < due) {
        q->intr_pending = true;
        q->intr_asked_ns = now;
        q->intr_doorbells = q->stats[SPLITNET_STAT_DOORBELLS];
        timer_mod(q->intr_timer, due);
        return;
    }
    timer_del(q->intr_timer);
    splitnet_queue_fire(q);
}

void splitnet_set_error(SplitnetCore *core, uint32_t err, uint32_t queue)
{
    unsigned i;

    if (core->error) {
        return;
    }
    trace_splitnet_error(err, queue);
    core->error = err;
    core->error_queue = queue;
    /* No queue may take its direct path now (splitnet_status_direct). */
    for (i = 0; i < core->num_queues; i++) {
        splitnet_queue(core, i)->status = NULL;
    }
    splitnet_config_interrupt(core);
}

/* Access */

/*
 * The check before every access: enabled, no error, translations current
 * (rebuilt here once the memory map has moved).  A queue whose areas no
 * longer translate to RAM, bus mastering off for one, stops the device.
 */
bool splitnet_queue_ready_slow(SplitnetQueue *q)
{
    SplitnetCore *core = q->core;

    if (!q->enabled || core->error) {
        return false;
    }
    if (q->xlate_valid || splitnet_xlate_build(q)) {
        return true;
    }
    SPLITNET_GUEST_ERR(splitnet_err_xlate, "queue %u ring 0x%" PRIx64
                       " pool 0x%" PRIx64 " status 0x%" PRIx64, q->index,
                       q->ring_base, q->pool_base, core->status_base);
    splitnet_set_error(core, SPLITNET_ERR_XLATE, q->index);
    return false;
}

static void splitnet_queue_dma_error(SplitnetQueue *q, SplitnetCache *c,
                                     hwaddr off, hwaddr len)
{
    SPLITNET_GUEST_ERR(splitnet_err_dma, "queue %u addr 0x%" PRIx64
                       " len %" PRIu64, q->index, (uint64_t)(c->base + off),
                       (uint64_t)len);
    splitnet_set_error(q->core, SPLITNET_ERR_DMA, q->index);
}

bool splitnet_queue_read_slow(SplitnetQueue *q, SplitnetCache *c, hwaddr off,
                              void *buf, hwaddr len)
{
    if (!splitnet_queue_ready(q)) {
        return false;
    }
    if (splitnet_xlate_read(q, c, off, buf, len) != MEMTX_OK) {
        splitnet_queue_dma_error(q, c, off, len);
        return false;
    }
    return true;
}

bool splitnet_queue_write_slow(SplitnetQueue *q, SplitnetCache *c,
                               hwaddr off, const void *buf, hwaddr len)
{
    if (!splitnet_queue_ready(q)) {
        return false;
    }
    if (splitnet_xlate_write(q, c, off, buf, len) != MEMTX_OK) {
        splitnet_queue_dma_error(q, c, off, len);
        return false;
    }
    return true;
}

uint64_t splitnet_status_ld_slow(SplitnetQueue *q, hwaddr off)
{
    uint32_t le;

    if (!splitnet_queue_read(q, &q->status_cache, off, &le, sizeof(le))) {
        return SPLITNET_STATUS_LD_FAILED;
    }
    return le32_to_cpu(le);
}

bool splitnet_status_st_slow(SplitnetQueue *q, hwaddr off, const void *le,
                             hwaddr len)
{
    return splitnet_queue_write(q, &q->status_cache, off, le, len);
}

/* Indices and notification */

/* Out of line: the error path's calls would cost every doorbell. */
void splitnet_bad_prod(SplitnetQueue *q, uint32_t prod)
{
    SPLITNET_GUEST_ERR(splitnet_err_prod_index,
                       "queue %u prod %u cons %u ring %u",
                       q->index, prod, q->cons, q->ring_size);
    splitnet_set_error(q->core, SPLITNET_ERR_PROD_INDEX, q->index);
}

/* Ask for a doorbell once the driver moves prod past what we have seen. */
void splitnet_arm_doorbell(SplitnetQueue *q)
{
    if (!splitnet_event_idx(q->core)) {
        return;
    }
    if (splitnet_status_st(q, SPLITNET_STATUS_OFF(doorbell_event), q->prod)) {
        /* The event is visible before we look at prod again. */
        smp_mb();
    }
}

/* Publish cons and interrupt the driver if it asked for it. */
void splitnet_queue_publish(SplitnetQueue *q, uint32_t old_cons)
{
    if (q->cons == old_cons) {
        return;
    }
    /* Data and write-back fields become visible before cons does. */
    smp_wmb();
    if (!splitnet_status_st(q, SPLITNET_STATUS_OFF(cons), q->cons)) {
        return;
    }
    splitnet_queue_signal(q, old_cons);
}

/* Lifecycle */

/* Enable a queue whose registers the core has checked. */
bool splitnet_queue_start(SplitnetQueue *q)
{
    q->cons = 0;
    q->prod = 0;
    q->enabled = 1;
    if (!splitnet_queue_ready(q)) {
        q->enabled = 0;
        return false;
    }
    if (splitnet_status_st(q, SPLITNET_STATUS_OFF(cons), 0)) {
        splitnet_status_st(q, SPLITNET_STATUS_OFF(doorbell_event), 0);
    }
    return true;
}

void splitnet_queue_stop(SplitnetQueue *q)
{
    q->enabled = 0;
    splitnet_xlate_drop(q);
    timer_del(q->intr_timer);
    q->intr_pending = false;
}

void splitnet_queue_reset(SplitnetQueue *q)
{
    splitnet_queue_stop(q);
    q->ring_base = 0;
    q->pool_base = 0;
    q->ring_size = 0;
    q->vector = SPLITNET_NO_VECTOR;
    q->intr_delay_us = q->core->intr_delay_us;
    q->cons = 0;
    q->prod = 0;
    /* Never fired: the first interrupt is never held back. */
    q->last_intr_ns = INT64_MIN;
    memset(q->stats, 0, sizeof(q->stats));
}

void splitnet_queue_init(SplitnetCore *core, SplitnetQueue *q, unsigned index)
{
    q->core = core;
    q->index = index;
    q->intr_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, splitnet_intr_timer, q);
}

void splitnet_queue_cleanup(SplitnetQueue *q)
{
    timer_free(q->intr_timer);
}
