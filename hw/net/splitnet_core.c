/*
 * splitnet: head-copy paravirtual NIC, register file and interrupts
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/registerfields.h"
#include "qemu/error-report.h"
#include "qemu/log.h"
#include "system/kvm.h"
#include "system/runstate.h"
#include "splitnet_core.h"
#include "splitnet_queue.h"
#include "splitnet_xlate.h"
#include "trace.h"

REG32(MAGIC, SPLITNET_REG_MAGIC)
REG32(VERSION, SPLITNET_REG_VERSION)
REG64(DEV_FEATURES, SPLITNET_REG_DEV_FEATURES)
REG64(DRV_FEATURES, SPLITNET_REG_DRV_FEATURES)
REG32(CTRL, SPLITNET_REG_CTRL)
    FIELD(CTRL, RESET, 0, 1)
    FIELD(CTRL, DRIVER_OK, 1, 1)
REG32(STATUS, SPLITNET_REG_STATUS)
    FIELD(STATUS, LINK_UP, 0, 1)
    FIELD(STATUS, DRIVER_OK, 1, 1)
    FIELD(STATUS, ERROR, 2, 1)
REG32(ERROR, SPLITNET_REG_ERROR)
REG32(ERROR_QUEUE, SPLITNET_REG_ERROR_QUEUE)
REG32(MAC_LO, SPLITNET_REG_MAC_LO)
REG32(MAC_HI, SPLITNET_REG_MAC_HI)
REG32(MTU, SPLITNET_REG_MTU)
REG32(MAX_MTU, SPLITNET_REG_MAX_MTU)
REG32(MAX_QUEUE_PAIRS, SPLITNET_REG_MAX_QUEUE_PAIRS)
REG32(MAX_RING_SIZE, SPLITNET_REG_MAX_RING_SIZE)
REG32(TX_SLOT_SIZE, SPLITNET_REG_TX_SLOT_SIZE)
REG32(NUM_VECTORS, SPLITNET_REG_NUM_VECTORS)
REG64(STATUS_BASE, SPLITNET_REG_STATUS_BASE)
REG32(RX_FILTER, SPLITNET_REG_RX_FILTER)
    FIELD(RX_FILTER, ALL, 0, 6)
REG32(CONFIG_VECTOR, SPLITNET_REG_CONFIG_VECTOR)
REG64(MC_HASH, SPLITNET_REG_MC_HASH)
REG32(ISR, SPLITNET_REG_ISR)
REG32(INTR_MASK, SPLITNET_REG_INTR_MASK)
REG32(VLAN_TABLE, SPLITNET_REG_VLAN_TABLE_BASE)

/* Queue register block, relative to SPLITNET_QUEUE_REGS(q). */
REG64(Q_RING_BASE, SPLITNET_Q_RING_BASE)
REG64(Q_POOL_BASE, SPLITNET_Q_POOL_BASE)
REG32(Q_RING_SIZE, SPLITNET_Q_RING_SIZE)
REG32(Q_VECTOR, SPLITNET_Q_VECTOR)
REG32(Q_ENABLE, SPLITNET_Q_ENABLE)
REG32(Q_INTR_DELAY, SPLITNET_Q_INTR_DELAY)
REG32(Q_DOORBELL, SPLITNET_Q_DOORBELL)

QEMU_BUILD_BUG_ON(R_CTRL_RESET_MASK != SPLITNET_CTRL_RESET);
QEMU_BUILD_BUG_ON(R_CTRL_DRIVER_OK_MASK != SPLITNET_CTRL_DRIVER_OK);
QEMU_BUILD_BUG_ON(R_STATUS_LINK_UP_MASK != SPLITNET_STATUS_LINK_UP);
QEMU_BUILD_BUG_ON(R_STATUS_DRIVER_OK_MASK != SPLITNET_STATUS_DRIVER_OK);
QEMU_BUILD_BUG_ON(R_STATUS_ERROR_MASK != SPLITNET_STATUS_ERROR);
QEMU_BUILD_BUG_ON(R_RX_FILTER_ALL_MASK !=
                  (SPLITNET_RX_FILTER_VLAN << 1) - 1);
QEMU_BUILD_BUG_ON(SPLITNET_VLAN_TABLE_REGS * 32 != 4096);   /* VLAN IDs */
QEMU_BUILD_BUG_ON(sizeof(struct splitnet_tx_desc) != SPLITNET_TX_DESC_SIZE);
QEMU_BUILD_BUG_ON(sizeof(struct splitnet_rx_desc) != SPLITNET_RX_DESC_SIZE);
QEMU_BUILD_BUG_ON(sizeof(struct splitnet_queue_status) !=
                  SPLITNET_STATUS_ENTRY_SIZE);
QEMU_BUILD_BUG_ON(SPLITNET_QUEUE_REGS(2 * SPLITNET_MAX_QUEUE_PAIRS) >
                  SPLITNET_REGS_SIZE);
/* Every queue has its ISR bit, the last two sharing one. */
QEMU_BUILD_BUG_ON(2 * SPLITNET_MAX_QUEUE_PAIRS > 32);
QEMU_BUILD_BUG_ON(SPLITNET_Q_STAT(SPLITNET_NUM_STATS) >
                  SPLITNET_QUEUE_REGS_STRIDE);

static void splitnet_peer_offloads(SplitnetCore *core);

static bool splitnet_any_queue_enabled(SplitnetCore *core)
{
    unsigned i;

    for (i = 0; i < core->num_queues; i++) {
        if (splitnet_queue(core, i)->enabled) {
            return true;
        }
    }
    return false;
}

/* Register access helpers */

/*
 * A 4-byte read of a 64-bit register at @addr.  The low half keeps the
 * high half of the same value for the next read of that high half, so a
 * counter that carries between the two reads is never seen torn.
 */
static uint64_t splitnet_reg64_read(SplitnetCore *core, uint64_t reg,
                                    hwaddr addr, unsigned size)
{
    if (size == 8) {
        return reg;
    }
    if (!(addr & 4)) {
        core->read_latch_addr = addr + 4;
        core->read_latch_hi = reg >> 32;
        return (uint32_t)reg;
    }
    if (core->read_latch_addr == addr) {
        core->read_latch_addr = 0;
        return core->read_latch_hi;
    }
    return reg >> 32;
}

static uint64_t splitnet_reg64_write(uint64_t reg, hwaddr off, unsigned size,
                                     uint64_t val)
{
    return size == 8 ? val : deposit64(reg, (off & 4) * 8, 32, val);
}

static bool splitnet_is_reg64(hwaddr addr)
{
    switch (addr & ~(hwaddr)7) {
    case A_DEV_FEATURES:
    case A_DRV_FEATURES:
    case A_STATUS_BASE:
    case A_MC_HASH:
        return true;
    }
    return false;
}

static bool splitnet_is_vlan_table(hwaddr addr)
{
    return addr >= A_VLAN_TABLE &&
           addr < SPLITNET_REG_VLAN_TABLE(SPLITNET_VLAN_TABLE_REGS);
}

static bool splitnet_q_is_reg64(hwaddr off)
{
    return off < A_Q_RING_SIZE || off >= SPLITNET_Q_STATS;
}

static uint32_t splitnet_status_reg(SplitnetCore *core)
{
    uint32_t val = 0;

    val = FIELD_DP32(val, STATUS, LINK_UP,
                     !qemu_get_queue(core->nic)->link_down);
    val = FIELD_DP32(val, STATUS, DRIVER_OK,
                     FIELD_EX32(core->ctrl, CTRL, DRIVER_OK));
    return FIELD_DP32(val, STATUS, ERROR, core->error != SPLITNET_ERR_NONE);
}

static uint64_t splitnet_global_read(SplitnetCore *core, hwaddr addr,
                                     unsigned size)
{
    uint32_t val;

    switch (addr & ~(hwaddr)7) {
    case A_DEV_FEATURES:
        return splitnet_reg64_read(core, core->dev_features, addr, size);
    case A_DRV_FEATURES:
        return splitnet_reg64_read(core, core->drv_features, addr, size);
    case A_STATUS_BASE:
        return splitnet_reg64_read(core, core->status_base, addr, size);
    case A_MC_HASH:
        return splitnet_reg64_read(core, core->mc_hash, addr, size);
    }

    if (splitnet_is_vlan_table(addr)) {
        return core->vlan_table[(addr - A_VLAN_TABLE) / 4];
    }
    switch (addr) {
    case A_MAGIC:
        return SPLITNET_MAGIC;
    case A_VERSION:
        return SPLITNET_VERSION;
    case A_CTRL:
        return core->ctrl;
    case A_STATUS:
        return splitnet_status_reg(core);
    case A_ERROR:
        return core->error;
    case A_ERROR_QUEUE:
        return core->error_queue;
    case A_MAC_LO:
        return ldl_le_p(core->mac);
    case A_MAC_HI:
        return lduw_le_p(core->mac + 4);
    case A_MTU:
        return core->mtu;
    case A_MAX_MTU:
        return core->max_mtu;
    case A_MAX_QUEUE_PAIRS:
        return core->queue_pairs;
    case A_MAX_RING_SIZE:
        return core->max_ring_size;
    case A_TX_SLOT_SIZE:
        return core->slot_size;
    case A_NUM_VECTORS:
        return core->num_vectors;
    case A_RX_FILTER:
        return core->rx_filter;
    case A_CONFIG_VECTOR:
        return core->config_vector;
    case A_ISR:
        val = core->isr;
        core->isr = 0;
        splitnet_update_intx(core);
        return val;
    case A_INTR_MASK:
        return core->intr_mask;
    }
    if (splitnet_rss_is_reg(core, addr)) {
        return splitnet_rss_read(core, addr);
    }
    SPLITNET_GUEST_ERR(splitnet_err_reg_read, "offset 0x%" HWADDR_PRIx,
                       addr);
    return 0;
}

static uint64_t splitnet_qreg_read(SplitnetQueue *q, hwaddr off,
                                    unsigned size)
{
    hwaddr addr = SPLITNET_QUEUE_REGS(q->index) + off;

    if (off >= SPLITNET_Q_STATS && off < SPLITNET_Q_STAT(SPLITNET_NUM_STATS)) {
        return splitnet_reg64_read(q->core,
                                   q->stats[(off - SPLITNET_Q_STATS) / 8],
                                   addr, size);
    }
    switch (off & ~(hwaddr)7) {
    case A_Q_RING_BASE:
        return splitnet_reg64_read(q->core, q->ring_base, addr, size);
    case A_Q_POOL_BASE:
        return splitnet_reg64_read(q->core, q->pool_base, addr, size);
    }
    switch (off) {
    case A_Q_RING_SIZE:
        return q->ring_size;
    case A_Q_VECTOR:
        return q->vector;
    case A_Q_ENABLE:
        return q->enabled;
    case A_Q_INTR_DELAY:
        return q->intr_delay_us;
    case A_Q_DOORBELL:
        return 0;
    }
    SPLITNET_GUEST_ERR(splitnet_err_reg_read, "offset 0x%" HWADDR_PRIx,
                       SPLITNET_QUEUE_REGS(q->index) + off);
    return 0;
}

/* Which queue an address belongs to, or -1; *off is set within its block. */
static int splitnet_decode_queue(hwaddr addr, hwaddr *off)
{
    if (addr < SPLITNET_QUEUE_REGS_BASE) {
        return -1;
    }
    *off = (addr - SPLITNET_QUEUE_REGS_BASE) % SPLITNET_QUEUE_REGS_STRIDE;
    return (addr - SPLITNET_QUEUE_REGS_BASE) / SPLITNET_QUEUE_REGS_STRIDE;
}

static bool splitnet_check_size(hwaddr addr, unsigned size, bool reg64)
{
    if ((size == 8 && !reg64) || (addr & (size - 1))) {
        SPLITNET_GUEST_ERR(splitnet_err_access, "offset 0x%" HWADDR_PRIx
                           " size %u", addr, size);
        return false;
    }
    return true;
}

static uint64_t splitnet_mmio_read(void *opaque, hwaddr addr, unsigned size)
{
    SplitnetCore *core = opaque;
    uint64_t val = 0;
    hwaddr off;
    int q = splitnet_decode_queue(addr, &off);

    if (q < 0) {
        if (splitnet_check_size(addr, size, splitnet_is_reg64(addr))) {
            val = splitnet_global_read(core, addr, size);
        }
    } else if (q < core->num_queues &&
               splitnet_check_size(addr, size, splitnet_q_is_reg64(off))) {
        val = splitnet_qreg_read(splitnet_queue(core, q), off, size);
    }
    trace_splitnet_mmio_read(addr, val, size);
    return val;
}

/* Writes */

/*
 * The station address changes whole: MAC_LO waits in its latch until
 * MAC_HI is written, so no frame is filtered by half of an address.
 */
static void splitnet_mac_write(SplitnetCore *core, hwaddr addr, uint32_t val)
{
    if (addr == A_MAC_LO) {
        core->mac_lo_latch = val;
        core->mac_lo_pending = true;
        return;
    }
    if (core->mac_lo_pending) {
        stl_le_p(core->mac, core->mac_lo_latch);
        core->mac_lo_pending = false;
    }
    stw_le_p(core->mac + 4, val);
    qemu_format_nic_info_str(qemu_get_queue(core->nic), core->mac);
}

/* MC_HASH too: a low half written alone waits for the high half. */
static void splitnet_mc_hash_write(SplitnetCore *core, hwaddr addr,
                                   unsigned size, uint64_t val)
{
    if (size == 8) {
        core->mc_hash = val;
        core->mc_hash_lo_pending = false;
    } else if (!(addr & 4)) {
        core->mc_hash_lo_latch = val;
        core->mc_hash_lo_pending = true;
    } else {
        if (core->mc_hash_lo_pending) {
            core->mc_hash = deposit64(core->mc_hash, 0, 32,
                                      core->mc_hash_lo_latch);
            core->mc_hash_lo_pending = false;
        }
        core->mc_hash = deposit64(core->mc_hash, 32, 32, val);
    }
}

bool splitnet_core_latches_pending(SplitnetCore *core)
{
    return core->mac_lo_pending || core->mc_hash_lo_pending ||
           core->read_latch_addr;
}

static void splitnet_ctrl_write(SplitnetCore *core, uint32_t val)
{
    bool was_ok = FIELD_EX32(core->ctrl, CTRL, DRIVER_OK);

    if (FIELD_EX32(val, CTRL, RESET)) {
        if (core->x_reset_hang) {
            /* Injected fault: stuck in reset, the queues keep running. */
            trace_splitnet_reset_hang(true);
            core->ctrl = FIELD_DP32(core->ctrl, CTRL, RESET, 1);
            return;
        }
        splitnet_core_reset(core);
        return;
    }
    core->ctrl = FIELD_DP32(0, CTRL, DRIVER_OK,
                            FIELD_EX32(val, CTRL, DRIVER_OK));
    if (!was_ok && FIELD_EX32(core->ctrl, CTRL, DRIVER_OK)) {
        splitnet_rx_flush(core);
    }
}

static void splitnet_features_write(SplitnetCore *core, hwaddr addr,
                                    unsigned size, uint64_t val)
{
    uint64_t feat = splitnet_reg64_write(core->drv_features, addr, size, val);

    if (splitnet_any_queue_enabled(core)) {
        SPLITNET_GUEST_ERR(splitnet_err_busy, "offset 0x%" HWADDR_PRIx
                           " written while a queue is enabled", addr);
        return;
    }
    if (feat & ~core->dev_features) {
        SPLITNET_GUEST_ERR(splitnet_err_features, "unoffered 0x%" PRIx64,
                           feat & ~core->dev_features);
    }
    core->drv_features = feat & core->dev_features;
    splitnet_peer_offloads(core);
}

static void splitnet_global_write64(SplitnetCore *core, hwaddr addr,
                                    unsigned size, uint64_t val)
{
    switch (addr & ~(hwaddr)7) {
    case A_DRV_FEATURES:
        splitnet_features_write(core, addr, size, val);
        return;
    case A_STATUS_BASE:
        if (splitnet_any_queue_enabled(core)) {
            SPLITNET_GUEST_ERR(splitnet_err_busy, "offset 0x%" HWADDR_PRIx
                               " written while a queue is enabled", addr);
            return;
        }
        core->status_base = splitnet_reg64_write(core->status_base, addr, size,
                                                 val);
        return;
    case A_MC_HASH:
        splitnet_mc_hash_write(core, addr, size, val);
        return;
    }
    SPLITNET_GUEST_ERR(splitnet_err_reg_write, "offset 0x%" HWADDR_PRIx,
                       addr);
}

/* A vector the device does not have raises nothing (spec, "Queues"). */
static uint16_t splitnet_vector_write(SplitnetCore *core, hwaddr addr,
                                      uint64_t val)
{
    uint16_t vector = val;

    if (vector != SPLITNET_NO_VECTOR && vector >= core->num_vectors) {
        SPLITNET_GUEST_ERR(splitnet_err_vector, "offset 0x%" HWADDR_PRIx
                           " vector %u of %u", addr, vector,
                           core->num_vectors);
    }
    return vector;
}

static void splitnet_global_write(SplitnetCore *core, hwaddr addr,
                                  unsigned size, uint64_t val)
{
    if (splitnet_is_reg64(addr)) {
        splitnet_global_write64(core, addr, size, val);
        return;
    }
    if (splitnet_is_vlan_table(addr)) {
        core->vlan_table[(addr - A_VLAN_TABLE) / 4] = val;
        return;
    }
    switch (addr) {
    case A_CTRL:
        splitnet_ctrl_write(core, val);
        return;
    case A_MAC_LO:
    case A_MAC_HI:
        splitnet_mac_write(core, addr, val);
        return;
    case A_MTU:
        if (val < SPLITNET_MIN_MTU || val > core->max_mtu) {
            SPLITNET_GUEST_ERR(splitnet_err_mtu, "MTU %" PRIu64, val);
            return;
        }
        core->mtu = val;
        return;
    case A_RX_FILTER:
        core->rx_filter = FIELD_EX32(val, RX_FILTER, ALL);
        splitnet_rx_flush(core);
        return;
    case A_CONFIG_VECTOR:
        core->config_vector = splitnet_vector_write(core, addr, val);
        return;
    case A_INTR_MASK:
        core->intr_mask = val;
        splitnet_update_intx(core);
        return;
    }
    if (splitnet_rss_is_reg(core, addr)) {
        splitnet_rss_write(core, addr, val);
        return;
    }
    SPLITNET_GUEST_ERR(splitnet_err_reg_write, "offset 0x%" HWADDR_PRIx,
                       addr);
}

/*
 * The pool is aligned to its slot size so that no slot crosses a page,
 * which behind a vIOMMU may map anywhere.  Pairs beyond the first need
 * F_MQ.
 */
static bool splitnet_queue_config_ok(SplitnetQueue *q)
{
    SplitnetCore *core = q->core;
    bool tx = !SPLITNET_QUEUE_IS_RX(q->index);

    return (q->index < 2 || (core->drv_features & SPLITNET_F_MQ)) &&
           is_power_of_2(q->ring_size) &&
           q->ring_size >= SPLITNET_RING_SIZE_MIN &&
           q->ring_size <= core->max_ring_size &&
           core->status_base && !(core->status_base % SPLITNET_STATUS_ALIGN) &&
           !(q->ring_base % SPLITNET_RING_ALIGN) &&
           !(tx && (q->pool_base % core->slot_size));
}

static bool splitnet_queue_config_valid(SplitnetQueue *q)
{
    SplitnetCore *core = q->core;

    if (!splitnet_queue_config_ok(q)) {
        SPLITNET_GUEST_ERR(splitnet_err_ring_config,
                           "queue %u ring 0x%" PRIx64 " size %u pool 0x%"
                           PRIx64 " status 0x%" PRIx64, q->index,
                           q->ring_base, q->ring_size, q->pool_base,
                           core->status_base);
        return false;
    }
    return true;
}

static void splitnet_queue_enable(SplitnetQueue *q, bool on)
{
    SplitnetCore *core = q->core;

    if (!on) {
        splitnet_queue_stop(q);
        if (!SPLITNET_QUEUE_IS_RX(q->index)) {
            splitnet_tx_reset(&core->txq[q->index / 2]);
        }
        return;
    }
    if (q->enabled || core->error) {
        return;
    }
    if (!splitnet_queue_config_valid(q)) {
        splitnet_set_error(core, SPLITNET_ERR_RING_CONFIG, q->index);
        return;
    }
    if (splitnet_queue_start(q) && SPLITNET_QUEUE_IS_RX(q->index)) {
        splitnet_rx_flush(core);
    }
}

/* Queue @index's doorbell, for an enabled queue. */
static void splitnet_doorbell_ring(SplitnetCore *core, unsigned index)
{
    if (SPLITNET_QUEUE_IS_RX(index)) {
        splitnet_rx_doorbell(&core->rxq[index / 2]);
    } else {
        splitnet_tx_doorbell(&core->txq[index / 2]);
    }
}

/*
 * A doorbell that must be traced or came for a disabled queue: out of
 * line, as the trace point's log backend costs registers.
 */
static void G_GNUC_NO_INLINE splitnet_doorbell_rare(SplitnetCore *core,
                                                    unsigned index,
                                                    uint32_t val)
{
    SplitnetQueue *q = splitnet_queue(core, index);

    trace_splitnet_doorbell(index, val);
    if (!q->enabled) {
        q->stats[SPLITNET_STAT_ERRORS]++;
        SPLITNET_GUEST_ERR(splitnet_err_doorbell_disabled, "queue %u", index);
        return;
    }
    splitnet_doorbell_ring(core, index);
}

/* Count a doorbell; true when it needs no more than ringing. */
static inline bool splitnet_doorbell_plain(SplitnetQueue *q)
{
    q->stats[SPLITNET_STAT_DOORBELLS]++;
    return likely(!trace_event_get_state_backends(TRACE_SPLITNET_DOORBELL) &&
                  q->enabled);
}

/*
 * Queue @index's doorbell.  TX and RX each in a line of their own, the
 * queue's address computed once: every call the common case makes is a
 * tail call.
 */
static inline void splitnet_doorbell(SplitnetCore *core, unsigned index,
                                     uint32_t val)
{
    SplitnetTxQueue *txq;
    SplitnetRxQueue *rxq;

    if (SPLITNET_QUEUE_IS_RX(index)) {
        rxq = &core->rxq[index / 2];
        if (splitnet_doorbell_plain(&rxq->q)) {
            splitnet_rx_doorbell(rxq);
            return;
        }
    } else {
        txq = &core->txq[index / 2];
        if (splitnet_doorbell_plain(&txq->q)) {
            splitnet_tx_doorbell(txq);
            return;
        }
    }
    splitnet_doorbell_rare(core, index, val);
}

static void splitnet_qreg_write(SplitnetQueue *q, hwaddr off, unsigned size,
                                 uint64_t val)
{
    if (off == A_Q_DOORBELL) {
        splitnet_doorbell(q->core, q->index, val);
        return;
    }
    if (off == A_Q_INTR_DELAY) {
        q->intr_delay_us = MIN(val, SPLITNET_INTR_DELAY_MAX);
        return;
    }
    if (off == A_Q_ENABLE) {
        splitnet_queue_enable(q, val & 1);
        return;
    }
    if (q->enabled) {
        SPLITNET_GUEST_ERR(splitnet_err_busy, "offset 0x%" HWADDR_PRIx
                           " written while a queue is enabled",
                           SPLITNET_QUEUE_REGS(q->index) + off);
        return;
    }
    switch (off & ~(hwaddr)7) {
    case A_Q_RING_BASE:
        q->ring_base = splitnet_reg64_write(q->ring_base, off, size, val);
        return;
    case A_Q_POOL_BASE:
        q->pool_base = splitnet_reg64_write(q->pool_base, off, size, val);
        return;
    }
    switch (off) {
    case A_Q_RING_SIZE:
        q->ring_size = val;
        return;
    case A_Q_VECTOR:
        q->vector = splitnet_vector_write(q->core,
                                          SPLITNET_QUEUE_REGS(q->index) + off,
                                          val);
        return;
    }
    SPLITNET_GUEST_ERR(splitnet_err_reg_write, "offset 0x%" HWADDR_PRIx,
                       SPLITNET_QUEUE_REGS(q->index) + off);
}

/* Every register but the doorbells. */
static void G_GNUC_NO_INLINE splitnet_reg_write(SplitnetCore *core,
                                                hwaddr addr, uint64_t val,
                                                unsigned size)
{
    hwaddr off;
    int q = splitnet_decode_queue(addr, &off);

    trace_splitnet_mmio_write(addr, val, size);
    if (q < 0) {
        if (splitnet_check_size(addr, size, splitnet_is_reg64(addr))) {
            splitnet_global_write(core, addr, size, val);
        }
    } else if (q >= core->num_queues) {
        SPLITNET_GUEST_ERR(splitnet_err_reg_write, "offset 0x%" HWADDR_PRIx,
                           addr);
    } else if (splitnet_check_size(addr, size, splitnet_q_is_reg64(off))) {
        splitnet_qreg_write(splitnet_queue(core, q), off, size, val);
    }
}

/*
 * The doorbell, the one register written for every burst of frames, goes
 * first and alone: the general decode stays out of its way (its own trace
 * point says it came).
 */
static void splitnet_mmio_write(void *opaque, hwaddr addr, uint64_t val,
                                unsigned size)
{
    SplitnetCore *core = opaque;
    /* From queue 0's DOORBELL: below it, this wraps past every queue. */
    hwaddr db = addr - (SPLITNET_QUEUE_REGS(0) + A_Q_DOORBELL);

    QEMU_BUILD_BUG_ON(SPLITNET_QUEUE_REGS_STRIDE &
                      (SPLITNET_QUEUE_REGS_STRIDE - 1));
    /* The DOORBELL of one of the device's queues, written whole. */
    if (likely(size == 4 && !(db % SPLITNET_QUEUE_REGS_STRIDE) &&
               db / SPLITNET_QUEUE_REGS_STRIDE < core->num_queues)) {
        splitnet_doorbell(core, db / SPLITNET_QUEUE_REGS_STRIDE, val);
        return;
    }
    splitnet_reg_write(core, addr, val, size);
}

const MemoryRegionOps splitnet_core_mmio_ops = {
    .read = splitnet_mmio_read,
    .write = splitnet_mmio_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
    .impl = {
        .min_access_size = 4,
        .max_access_size = 8,
    },
};

/* Lifecycle */

void splitnet_core_reset(SplitnetCore *core)
{
    unsigned i;

    trace_splitnet_reset();
    for (i = 0; i < core->num_queues; i++) {
        splitnet_queue_reset(splitnet_queue(core, i));
    }
    for (i = 0; i < core->queue_pairs; i++) {
        splitnet_tx_reset(&core->txq[i]);
        core->rxq[i].waiting = false;
    }
    core->drv_features = 0;
    splitnet_peer_offloads(core);
    core->status_base = 0;
    core->mc_hash = 0;
    memset(core->vlan_table, 0, sizeof(core->vlan_table));
    core->ctrl = 0;
    core->error = SPLITNET_ERR_NONE;
    core->error_queue = 0;
    core->mtu = MIN(ETH_MTU, core->max_mtu);
    core->rx_filter = SPLITNET_RX_FILTER_UNICAST | SPLITNET_RX_FILTER_BROADCAST;
    core->config_vector = SPLITNET_NO_VECTOR;
    core->isr = 0;
    core->intr_mask = 0;
    memcpy(core->mac, core->perm_mac.a, ETH_ALEN);
    core->mac_lo_pending = false;
    core->mc_hash_lo_pending = false;
    core->read_latch_addr = 0;
    splitnet_rss_reset(core);
    qemu_format_nic_info_str(qemu_get_queue(core->nic), core->mac);
    splitnet_update_intx(core);
}

/*
 * x-reset-hang: while set, CTRL.RESET is not carried out (it reads back
 * 1 and the queues keep running), as in a device hung in reset.  Clearing
 * it completes a reset that was asked for meanwhile.
 */
void splitnet_core_set_reset_hang(SplitnetCore *core, bool hang)
{
    core->x_reset_hang = hang;
    trace_splitnet_reset_hang(hang);
    if (!hang && FIELD_EX32(core->ctrl, CTRL, RESET)) {
        splitnet_core_reset(core);
    }
}

/* Resume after migration, a VM stop or a wakeup: frames may be waiting. */
static void splitnet_vm_running(SplitnetCore *core, bool running)
{
    unsigned i;

    /* Before the kicks: the bottom halves they schedule look at it. */
    core->vm_running = running;
    for (i = 0; running && i < core->queue_pairs; i++) {
        splitnet_tx_kick(&core->txq[i]);
    }
}

static void splitnet_vm_state_change(void *opaque, bool running,
                                     RunState state)
{
    /* A VM started in SUSPENDED runs once it wakes up. */
    splitnet_vm_running(opaque, running && state == RUN_STATE_RUNNING);
}

static void splitnet_suspend(Notifier *n, void *data)
{
    splitnet_vm_running(container_of(n, SplitnetCore, suspend_notifier),
                        false);
}

/* RUNNING since the wakeup was asked for, unless a stop came since. */
static void splitnet_wakeup(Notifier *n, void *data)
{
    splitnet_vm_running(container_of(n, SplitnetCore, wakeup_notifier),
                        runstate_is_running());
}

/*
 * Offloads are offered as the properties say, whatever the peer: the
 * device segments and checksums itself when the peer cannot, so what the
 * guest sees does not change with the backend (or across a migration).
 */
static uint64_t splitnet_features_offered(SplitnetCore *core)
{
    uint64_t f = SPLITNET_F_EVENT_IDX;

    if (core->csum) {
        f |= SPLITNET_F_TX_CSUM;
        if (core->tso) {
            f |= SPLITNET_F_TSO4 | SPLITNET_F_TSO6;
        }
        if (core->uso) {
            f |= SPLITNET_F_USO;
        }
    }
    if (core->vlan) {
        f |= SPLITNET_F_VLAN;
    }
    if (core->rx_csum) {
        f |= SPLITNET_F_RX_CSUM;
        if (core->rx_gso) {
            f |= SPLITNET_F_RX_GSO;
        }
    }
    /* One pair: the device of version 1.2, which migrates to and from it. */
    if (core->queue_pairs > 1) {
        f |= SPLITNET_F_MQ;
    }
    return f;
}

/*
 * What a backend that takes a virtio-net header may hand us: partial
 * checksums with RX_CSUM, large TCP segments with RX_GSO too; nothing
 * the driver did not accept.
 */
static void splitnet_peer_offloads(SplitnetCore *core)
{
    bool csum = core->drv_features & SPLITNET_F_RX_CSUM;
    bool gso = csum && (core->drv_features & SPLITNET_F_RX_GSO);
    unsigned i;

    if (!core->vnet_hdr) {
        return;
    }
    for (i = 0; i < core->backend_queues; i++) {
        qemu_set_offload(qemu_get_subqueue(core->nic, i)->peer, csum, gso,
                         gso, gso, 0, 0, 0);
    }
}

/*
 * A peer that takes a virtio-net header (tap with vnet_hdr) gets one in
 * front of every frame, so it segments and checksums large frames itself,
 * and hands us one in front of every frame it delivers.  UDP segmentation
 * is newer (Linux 6.2 taps): where the peer lacks it, the device cuts USO
 * frames itself and sends the segments behind headers without GSO.
 */
static void splitnet_peer_init(SplitnetCore *core)
{
    NetClientState *peer = qemu_get_queue(core->nic)->peer;
    int len = sizeof(struct virtio_net_hdr);
    unsigned i;

    /* The queues of one backend (a multiqueue tap) are alike. */
    core->vnet_hdr = core->use_vnet_hdr && peer && qemu_has_vnet_hdr(peer) &&
                     qemu_has_vnet_hdr_len(peer, len);
    for (i = 0; core->vnet_hdr && i < core->backend_queues; i++) {
        qemu_set_vnet_hdr_len(qemu_get_subqueue(core->nic, i)->peer, len);
    }
    core->vnet_uso = core->vnet_hdr && core->x_vnet_uso && qemu_has_uso(peer);
    trace_splitnet_vnet_hdr(core->vnet_hdr);
}

void splitnet_core_realize(SplitnetCore *core, PCIDevice *pci, NICState *nic,
                           NetPacketSent *sent_cb)
{
    unsigned i;

    core->pci = pci;
    core->nic = nic;
    core->guard = &DEVICE(pci)->mem_reentrancy_guard;
    core->sent_cb = sent_cb;
    core->num_queues = 2 * core->queue_pairs;
    core->num_vectors = 1 + core->num_queues;
    core->backend_queues = MAX(nic->conf->peers.queues, 1);
    core->txq = g_new0(SplitnetTxQueue, core->queue_pairs);
    core->rxq = g_new0(SplitnetRxQueue, core->queue_pairs);
    core->txq_more = core->txq + 1;
    core->rxq_more = core->rxq + 1;
    core->more_pairs = core->queue_pairs - 1;
    core->sendq = g_new0(SplitnetSendQueue, core->backend_queues);
    core->dev_features = splitnet_features_offered(core);
    splitnet_peer_init(core);
    /*
     * Under KVM a doorbell is a VM exit, so the bottom half (on another
     * host CPU) picks up what the guest posts while it runs; under TCG a
     * doorbell is a call in the vCPU thread, and sending right there
     * beats handing each burst to the main loop (docs/specs/splitnet.rst).
     */
    core->tx_deferred = core->tx_defer == ON_OFF_AUTO_ON ||
                        (core->tx_defer == ON_OFF_AUTO_AUTO && kvm_enabled());
    for (i = 0; i < core->num_queues; i++) {
        splitnet_queue_init(core, splitnet_queue(core, i), i);
    }
    /* A backend with fewer queues takes the frames of several TX queues. */
    for (i = 0; i < core->queue_pairs; i++) {
        splitnet_tx_init(&core->txq[i], DEVICE(pci),
                         qemu_get_subqueue(nic, i % core->backend_queues));
    }
    splitnet_rss_init(core);
    splitnet_xlate_init(core);
    core->vmstate = qemu_add_vm_change_state_handler(splitnet_vm_state_change,
                                                     core);
    core->suspend_notifier.notify = splitnet_suspend;
    qemu_register_suspend_notifier(&core->suspend_notifier);
    core->wakeup_notifier.notify = splitnet_wakeup;
    qemu_register_wakeup_notifier(&core->wakeup_notifier);
    /* Hot-plugged into a running VM: no notification comes. */
    core->vm_running = runstate_is_running();
    splitnet_core_reset(core);
}

void splitnet_core_unrealize(SplitnetCore *core)
{
    unsigned i;

    qemu_del_vm_change_state_handler(core->vmstate);
    notifier_remove(&core->suspend_notifier);
    notifier_remove(&core->wakeup_notifier);
    splitnet_xlate_cleanup(core);
    for (i = 0; i < core->queue_pairs; i++) {
        /* Purge what the net layer holds while our bottom half exists. */
        splitnet_tx_reset(&core->txq[i]);
        splitnet_tx_cleanup(&core->txq[i]);
    }
    for (i = 0; i < core->num_queues; i++) {
        splitnet_queue_cleanup(splitnet_queue(core, i));
    }
    splitnet_rss_cleanup(core);
    g_free(core->txq);
    g_free(core->rxq);
    g_free(core->sendq);
}

/*
 * A migration stream is input too: refuse one that describes a state the
 * device could not have reached.  Translations are rebuilt on first use;
 * TX resumes when the VM runs.
 */
int splitnet_core_post_load(SplitnetCore *core)
{
    SplitnetQueue *q;
    unsigned i;

    if (core->error > SPLITNET_ERR_TX_CHAIN ||
        core->error_queue >= core->num_queues ||
        !splitnet_rss_state_ok(core) ||
        core->mtu < SPLITNET_MIN_MTU || core->mtu > core->max_mtu ||
        (core->drv_features & ~core->dev_features) ||
        (core->rx_filter & ~R_RX_FILTER_ALL_MASK)) {
        error_report("splitnet: invalid device state in the migration "
                     "stream (error %u queue %u mtu %u features 0x%" PRIx64
                     " rx filter 0x%x)", core->error, core->error_queue,
                     core->mtu, core->drv_features, core->rx_filter);
        return -EINVAL;
    }
    for (i = 0; i < core->num_queues; i++) {
        q = splitnet_queue(core, i);
        if (q->enabled > 1 || q->intr_delay_us > SPLITNET_INTR_DELAY_MAX ||
            /* splitnet_queue_notify() adds a delay to it. */
            q->last_intr_ns > INT64_MAX - SPLITNET_INTR_DELAY_MAX * SCALE_US ||
            (q->enabled && (!splitnet_queue_config_ok(q) ||
                            q->prod - q->cons > q->ring_size))) {
            error_report("splitnet: invalid state of queue %u in the "
                         "migration stream (enabled %u ring 0x%" PRIx64
                         " size %u pool 0x%" PRIx64 " prod %u cons %u"
                         " last interrupt %" PRId64 " ns)", i,
                         q->enabled, q->ring_base, q->ring_size, q->pool_base,
                         q->prod, q->cons, q->last_intr_ns);
            return -EINVAL;
        }
    }
    splitnet_peer_offloads(core);
    splitnet_update_intx(core);
    return 0;
}

/*
 * The net layer calls us outside our MMIO handlers and bottom half, and
 * guards only receive.  What we do from there can raise an MSI-X write the
 * guest aimed at our own BARs: keep it from re-entering the device in the
 * middle, as the memory core does while an MMIO handler runs.
 */
static bool splitnet_guard_enter(SplitnetCore *core)
{
    bool was = core->guard->engaged_in_io;

    core->guard->engaged_in_io = true;
    return was;
}

static void splitnet_guard_exit(SplitnetCore *core, bool was)
{
    core->guard->engaged_in_io = was;
}

void splitnet_core_config_written(SplitnetCore *core)
{
    splitnet_update_intx(core);
}

void splitnet_core_set_link_status(SplitnetCore *core)
{
    bool guard = splitnet_guard_enter(core);

    trace_splitnet_link(!qemu_get_queue(core->nic)->link_down);
    splitnet_config_interrupt(core);
    splitnet_guard_exit(core, guard);
}

/* Backend queue @nc let go of the oldest frame it held for us. */
void splitnet_core_tx_sent(SplitnetCore *core, unsigned nc, ssize_t ret)
{
    SplitnetSendQueue *sq = &core->sendq[nc];
    bool guard;
    unsigned pair;

    if (!sq->count) {
        return;
    }
    pair = sq->owner[sq->head];
    sq->head = (sq->head + 1) % SPLITNET_SENDQ_MAX;
    sq->count--;
    guard = splitnet_guard_enter(core);
    splitnet_tx_sent(&core->txq[pair], ret);
    splitnet_guard_exit(core, guard);
}

/*
 * While RSS spreads frames the next frame's queue is not known before it
 * is parsed: take it, and hold it (receive returns 0) if its queue has no
 * buffers.  Otherwise every frame from @nc goes to one queue: ask it.
 */
bool splitnet_core_can_receive(SplitnetCore *core, unsigned nc)
{
    bool guard = splitnet_guard_enter(core);
    bool ret;

    if (splitnet_rx_spreads(core)) {
        ret = (core->ctrl & SPLITNET_CTRL_DRIVER_OK) &&
              splitnet_queue_ready(&core->rxq[0].q);
    } else {
        ret = splitnet_rx_can_receive(
            &core->rxq[splitnet_rx_default_pair(core, nc)]);
    }
    splitnet_guard_exit(core, guard);
    return ret;
}

ssize_t splitnet_core_receive(SplitnetCore *core, unsigned nc,
                              const struct iovec *iov, int iovcnt)
{
    bool guard = splitnet_guard_enter(core);
    size_t skip = core->vnet_hdr ? sizeof(struct virtio_net_hdr) : 0;
    SplitnetRxHash hash;
    unsigned pair;
    ssize_t ret;

    pair = splitnet_rx_steer(core, nc, iov, iovcnt, skip, &hash);
    ret = splitnet_rx_receive(&core->rxq[pair], iov, iovcnt, &hash);
    splitnet_guard_exit(core, guard);
    return ret;
}
