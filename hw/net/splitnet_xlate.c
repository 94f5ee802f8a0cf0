/*
 * splitnet: head-copy paravirtual NIC, translations made once
 *
 * The rings, the TX header pool and the status entries are translated when
 * the driver enables a queue and the translations are kept until the guest
 * memory map changes, so the per-frame path does no address lookup for
 * them.  Behind a vIOMMU a MemoryRegionCache holds no host pointer and
 * resolves each access through the IOMMU, which keeps IOMMU invalidations
 * effective at once.
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "qemu/rcu.h"
#include "system/dma.h"
#include "splitnet_core.h"
#include "trace.h"

static AddressSpace *splitnet_dma_as(SplitnetCore *core)
{
    return pci_get_address_space(core->pci);
}

static bool splitnet_cache_init(SplitnetQueue *q, MemoryRegionCache *cache,
                                uint64_t addr, uint64_t len, bool is_write)
{
    int64_t got;

    if (addr + len - 1 < addr) {
        return false;
    }
    got = address_space_cache_init(cache, splitnet_dma_as(q->core), addr, len,
                                   is_write);
    /* Only RAM, or an IOMMU in front of it, may back a ring. */
    if (got < (int64_t)len ||
        (!cache->ptr && !memory_region_get_iommu(cache->mrs.mr))) {
        address_space_cache_destroy(cache);
        return false;
    }
    return true;
}

void splitnet_xlate_drop(SplitnetQueue *q)
{
    address_space_cache_destroy(&q->ring_cache);
    address_space_cache_destroy(&q->pool_cache);
    address_space_cache_destroy(&q->status_cache);
    q->xlate_valid = false;
}

bool splitnet_xlate_queue(SplitnetQueue *q)
{
    SplitnetCore *core = q->core;
    bool rx = SPLITNET_QUEUE_IS_RX(q->index);
    uint64_t status = core->status_base +
                      q->index * SPLITNET_STATUS_ENTRY_SIZE;
    uint64_t ring_len = (uint64_t)q->ring_size *
                        (rx ? SPLITNET_RX_DESC_SIZE : SPLITNET_TX_DESC_SIZE);

    splitnet_xlate_drop(q);
    if (!splitnet_cache_init(q, &q->ring_cache, q->ring_base, ring_len, rx) ||
        (!rx && !splitnet_cache_init(q, &q->pool_cache, q->pool_base,
                                     (uint64_t)q->ring_size * core->slot_size,
                                     false)) ||
        !splitnet_cache_init(q, &q->status_cache, status,
                             SPLITNET_STATUS_ENTRY_SIZE, true)) {
        SPLITNET_GUEST_ERR(splitnet_err_xlate, "queue %u ring 0x%" PRIx64
                           " pool 0x%" PRIx64 " status 0x%" PRIx64,
                           q->index, q->ring_base, q->pool_base, status);
        splitnet_xlate_drop(q);
        splitnet_set_error(core, SPLITNET_ERR_XLATE, q->index);
        return false;
    }
    q->xlate_valid = true;
    q->stats[SPLITNET_STAT_XLATE_REBUILDS]++;
    trace_splitnet_xlate(q->index, q->stats[SPLITNET_STAT_XLATE_REBUILDS]);
    return true;
}

bool splitnet_xlate_ensure(SplitnetQueue *q)
{
    return q->xlate_valid || (q->enabled && splitnet_xlate_queue(q));
}

/*
 * Map guest memory for a payload fragment or an RX buffer.  Only RAM is
 * mapped: anything else (MMIO, our own BAR, unassigned space) would make
 * dma_memory_map bounce through device accesses.  *len may come back
 * shorter when the range crosses a RAM block; NULL when nothing maps.
 */
void *splitnet_map_guest(SplitnetQueue *q, dma_addr_t addr, dma_addr_t *len,
                         DMADirection dir)
{
    AddressSpace *as = splitnet_dma_as(q->core);
    bool is_write = dir == DMA_DIRECTION_FROM_DEVICE;
    MemoryRegion *mr;
    hwaddr xlat, l = *len;

    if (!*len || addr + *len - 1 < addr) {
        return NULL;
    }
    RCU_READ_LOCK_GUARD();
    mr = address_space_translate(as, addr, &xlat, &l, is_write,
                                 MEMTXATTRS_UNSPECIFIED);
    if (!memory_access_is_direct(mr, is_write, MEMTXATTRS_UNSPECIFIED)) {
        return NULL;
    }
    *len = MIN(*len, l);
    return dma_memory_map(as, addr, len, dir, MEMTXATTRS_UNSPECIFIED);
}

void splitnet_unmap_guest(SplitnetQueue *q, void *ptr, dma_addr_t len,
                          DMADirection dir, dma_addr_t access_len)
{
    dma_memory_unmap(splitnet_dma_as(q->core), ptr, len, dir, access_len);
}

/*
 * region_add/region_del fire only for changes to our DMA address space;
 * commit fires for every transaction in the machine, so it acts only when
 * ours moved.  Our translations point only at RAM or an IOMMU, so a device
 * BAR moving elsewhere in the address space leaves them valid.
 */
static void splitnet_map_changed(MemoryListener *listener,
                                 MemoryRegionSection *section)
{
    SplitnetCore *core = container_of(listener, SplitnetCore, listener);

    if (memory_region_is_ram(section->mr) ||
        memory_region_is_iommu(section->mr)) {
        core->map_changed = true;
    }
}

static void splitnet_map_commit(MemoryListener *listener)
{
    SplitnetCore *core = container_of(listener, SplitnetCore, listener);
    unsigned i;

    if (!core->map_changed) {
        return;
    }
    core->map_changed = false;
    for (i = 0; i < SPLITNET_NUM_QUEUES; i++) {
        splitnet_xlate_drop(splitnet_queue(core, i));
    }
}

void splitnet_xlate_init(SplitnetCore *core)
{
    core->listener = (MemoryListener) {
        .name = "splitnet",
        .region_add = splitnet_map_changed,
        .region_del = splitnet_map_changed,
        .commit = splitnet_map_commit,
    };
    memory_listener_register(&core->listener, splitnet_dma_as(core));
}

void splitnet_xlate_cleanup(SplitnetCore *core)
{
    unsigned i;

    memory_listener_unregister(&core->listener);
    for (i = 0; i < SPLITNET_NUM_QUEUES; i++) {
        splitnet_xlate_drop(splitnet_queue(core, i));
    }
}
