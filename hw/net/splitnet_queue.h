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
    if (likely(q->enabled && !q->core->error && q->xlate_valid)) {
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

bool splitnet_refresh_prod(SplitnetQueue *q);
void splitnet_arm_doorbell(SplitnetQueue *q);
void splitnet_queue_publish(SplitnetQueue *q, uint32_t old_cons);
bool splitnet_queue_idle(SplitnetQueue *q, uint32_t old_cons);

void splitnet_set_error(SplitnetCore *core, uint32_t err, uint32_t queue);
void splitnet_config_interrupt(SplitnetCore *core);
void splitnet_update_intx(SplitnetCore *core);

#endif
