/*
 * splitnet: head-copy paravirtual NIC, translations made once
 *
 * The bottom layer: it reaches guest memory and calls no other splitnet
 * file.  Every pointer it hands out points into guest RAM, never at a ROM
 * device, a RAM device, MMIO or unassigned space.
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_SPLITNET_XLATE_H
#define HW_NET_SPLITNET_XLATE_H

#include "splitnet_core.h"

void splitnet_xlate_init(SplitnetCore *core);
void splitnet_xlate_cleanup(SplitnetCore *core);
bool splitnet_xlate_build(SplitnetQueue *q);
void splitnet_xlate_drop(SplitnetQueue *q);

MemTxResult splitnet_xlate_read(SplitnetQueue *q, SplitnetCache *c,
                                hwaddr off, void *buf, hwaddr len);
MemTxResult splitnet_xlate_write(SplitnetQueue *q, SplitnetCache *c,
                                 hwaddr off, const void *buf, hwaddr len);

/* The translations are current and [off, off + len) lies in the area. */
static inline bool splitnet_cache_access_ok(SplitnetQueue *q, SplitnetCache *c,
                                            hwaddr off, hwaddr len,
                                            bool is_write)
{
    return q->xlate_valid && (!is_write || c->is_write) &&
           off <= c->len && len <= c->len - off;
}

/*
 * The direct case without a call, as address_space_read_cached() has it:
 * true when done, false when the caller must go the long way
 * (splitnet_xlate_read/write), which also reports what went wrong.
 */
static inline bool splitnet_xlate_read_direct(SplitnetQueue *q,
                                              SplitnetCache *c, hwaddr off,
                                              void *buf, hwaddr len)
{
    if (!c->direct || !splitnet_cache_access_ok(q, c, off, len, false)) {
        return false;
    }
    memcpy(buf, c->mrc.ptr + off, len);
    return true;
}

/*
 * The device wrote [off, off + len) of a direct area: dirty it for
 * migration and drop TCG code translated from it, which is what
 * address_space_cache_invalidate() does.  When no dirty log can cover
 * the region (no migration or dirty-rate measurement under way, no TCG,
 * no Xen, no log of the region's own) that call has nothing to do, and it
 * would cost about a third of a frame's whole path, so it is skipped.
 * The test is inline and a superset of memory_region_get_dirty_log_mask()
 * (any of its inputs set means the call is made), as a call to that alone
 * costs more than the rest of the write; all but the region's own log are
 * in core->dirty_always (splitnet_xlate.c keeps it).
 */
static inline void splitnet_cache_dirty_mrc(SplitnetCore *core,
                                            MemoryRegionCache *mrc,
                                            hwaddr off, hwaddr len)
{
    if (unlikely(core->dirty_always || mrc->mrs.mr->dirty_log_mask)) {
        address_space_cache_invalidate(mrc, off, len);
    }
}

static inline void splitnet_cache_dirty(SplitnetQueue *q, SplitnetCache *c,
                                        hwaddr off, hwaddr len)
{
    splitnet_cache_dirty_mrc(q->core, &c->mrc, off, len);
}

static inline bool splitnet_xlate_write_direct(SplitnetQueue *q,
                                               SplitnetCache *c, hwaddr off,
                                               const void *buf, hwaddr len)
{
    if (!c->direct || !splitnet_cache_access_ok(q, c, off, len, true)) {
        return false;
    }
    memcpy(c->mrc.ptr + off, buf, len);
    splitnet_cache_dirty(q, c, off, len);
    return true;
}

void *splitnet_ram_ptr_slow(SplitnetCore *core, dma_addr_t addr,
                            dma_addr_t *len, bool is_write);

/* splitnet_ram_ptr_slow() says what this is; reads in ram_run need no call. */
static inline void *splitnet_ram_ptr(SplitnetCore *core, dma_addr_t addr,
                                     dma_addr_t *len, bool is_write)
{
    SplitnetRamRun *r = &core->ram_run;

    if (!is_write && *len && addr >= r->base && addr < r->end) {
        *len = MIN(*len, r->end - addr);
        return r->host + (addr - r->base);
    }
    return splitnet_ram_ptr_slow(core, addr, len, is_write);
}
bool splitnet_run_fill(SplitnetCore *core, SplitnetHeldRun *r,
                       dma_addr_t addr, bool is_write);

/*
 * A host pointer for writing [addr, addr + *len) of guest RAM, *len cut
 * to what is contiguous there; splitnet_rx_wrote() once written.  Found
 * in rx_run without a lookup, or rx_run is made for it.  NULL when addr
 * is not plain RAM, and always behind a vIOMMU or under Xen: then the
 * caller maps it (splitnet_map_guest()).
 */
static inline void *splitnet_rx_ptr(SplitnetCore *core, dma_addr_t addr,
                                    dma_addr_t *len)
{
    SplitnetHeldRun *r = &core->rx_run;

    if (!(addr >= r->base && addr < r->end) &&
        !splitnet_run_fill(core, r, addr, true)) {
        return NULL;
    }
    *len = MIN(*len, r->end - addr);
    return r->host + (addr - r->base);
}

/*
 * A host pointer for reading all of [addr, addr + len) of guest RAM, kept
 * allocated by tx_ref_run's reference, so usable outside an RCU read-side
 * section; found in tx_ref_run without a lookup, or tx_ref_run is made
 * for it.  NULL when it is not all one piece of plain RAM (behind a vIOMMU
 * or under Xen always): then the caller takes the long way.
 */
static inline void *splitnet_tx_ref_ptr(SplitnetCore *core, dma_addr_t addr,
                                        dma_addr_t len)
{
    SplitnetHeldRun *r = &core->tx_ref_run;

    if (!(addr >= r->base && addr < r->end) &&
        !splitnet_run_fill(core, r, addr, false)) {
        return NULL;
    }
    return len <= r->end - addr ? r->host + (addr - r->base) : NULL;
}

/* After writing what splitnet_rx_ptr() returned: dirty for migration. */
static inline void splitnet_rx_wrote(SplitnetCore *core, dma_addr_t addr,
                                     dma_addr_t len)
{
    SplitnetHeldRun *r = &core->rx_run;

    splitnet_cache_dirty_mrc(core, &r->mrc, addr - r->base, len);
}

void *splitnet_map_guest(SplitnetCore *core, dma_addr_t addr, dma_addr_t *len,
                         DMADirection dir);
void splitnet_unmap_guest(SplitnetCore *core, void *ptr, dma_addr_t len,
                          DMADirection dir, dma_addr_t access_len);

#endif
