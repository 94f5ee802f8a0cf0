/*
 * splitnet: head-copy paravirtual NIC, translations made once
 *
 * The rings, the TX header pool and the status entries are translated when
 * the driver enables a queue and the translations are kept until the guest
 * memory map changes, so the per-frame path does no address lookup for
 * them.  Behind a vIOMMU there is no host pointer to keep: each access is
 * translated and checked anew, which keeps IOMMU invalidations effective
 * at once and keeps a remapped IOVA from reaching anything but RAM.
 *
 * A memory map change only marks the translations stale: it can happen in
 * the middle of a device operation (an MSI-X write aimed at our own
 * PCI_COMMAND clears bus mastering), and the caches must outlive every
 * access in flight.  The queue layer rebuilds them before its next access.
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/rcu.h"
#include "system/dma.h"
#include "system/tcg.h"
#include "system/xen.h"
#include "splitnet_xlate.h"
#include "trace.h"

static AddressSpace *splitnet_dma_as(SplitnetCore *core)
{
    return pci_get_address_space(core->pci);
}

/*
 * Guest RAM the device may touch with a host pointer.  Not a ROM device
 * (its RAMBlock is shorter than what address_space_translate reports), not
 * a RAM device (MMIO underneath), not read-only memory for writes.
 */
static bool splitnet_is_ram(MemoryRegion *mr, bool is_write)
{
    return memory_region_is_ram(mr) &&
           memory_access_is_direct(mr, is_write, MEMTXATTRS_UNSPECIFIED);
}

/*
 * Remember that [addr, addr + len) is RAM at host, len reaching the end
 * of its section.  A piece that ends where the known run ends, at the
 * same host offset, extends it downwards; any other replaces it.  So a
 * few lookups cover the whole section most guest buffers lie in.
 */
static void splitnet_ram_run_note(SplitnetCore *core, dma_addr_t addr,
                                  dma_addr_t len, uint8_t *host)
{
    SplitnetRamRun *r = &core->ram_run;

    if (r->end && addr + len == r->end && addr < r->base &&
        host + (r->base - addr) == r->host) {
        r->base = addr;
        r->host = host;
        return;
    }
    *r = (SplitnetRamRun) { .base = addr, .end = addr + len, .host = host };
}

/*
 * A host pointer to the guest RAM at addr, valid until the caller leaves
 * its RCU read-side critical section.  *len is cut to the RAM that is
 * contiguous there; NULL when addr is not RAM (or faults in a vIOMMU).
 *
 * TX payload reads mostly hit ram_run, the RAM section last seen, and
 * skip the flatview lookup (splitnet_ram_ptr() looks there first).  It
 * is dropped whenever a RAM or IOMMU section of our address space is
 * added or removed (splitnet_map_changed), and never kept while the
 * space holds an IOMMU, whose mappings change without that.  Under the
 * RCU read lock, RAM that was in the map when the critical section began
 * stays allocated until it ends.
 */
void *splitnet_ram_ptr_slow(SplitnetCore *core, dma_addr_t addr,
                            dma_addr_t *len, bool is_write)
{
    bool note = !is_write && !core->iommu_sections && !xen_enabled();
    MemoryRegion *mr;
    hwaddr xlat, l;
    uint8_t *host;

    if (!*len || addr + *len - 1 < addr) {
        return NULL;
    }
    /* For RAM, translation cuts l at the end of the section. */
    l = note ? UINT64_MAX - addr : *len;
    mr = address_space_translate(splitnet_dma_as(core), addr, &xlat, &l,
                                 is_write, MEMTXATTRS_UNSPECIFIED);
    if (!l || !splitnet_is_ram(mr, is_write) ||
        xlat + l > memory_region_size(mr)) {
        return NULL;
    }
    host = qemu_map_ram_ptr(mr->ram_block, xlat);
    if (note) {
        splitnet_ram_run_note(core, addr, l, host);
    }
    *len = MIN(*len, l);
    return host;
}

/* Is all of [addr, addr + len) guest RAM right now? */
static bool splitnet_range_is_ram(SplitnetCore *core, dma_addr_t addr,
                                  dma_addr_t len, bool is_write)
{
    dma_addr_t l;

    RCU_READ_LOCK_GUARD();
    while (len) {
        l = len;
        if (!splitnet_ram_ptr(core, addr, &l, is_write)) {
            return false;
        }
        addr += l;
        len -= l;
    }
    return true;
}

static bool splitnet_cache_init(SplitnetQueue *q, SplitnetCache *c,
                                dma_addr_t addr, hwaddr len, bool is_write)
{
    SplitnetCore *core = q->core;
    MemoryRegion *mr;
    bool iommu;
    int64_t got;

    *c = (SplitnetCache) { .base = addr, .len = len, .is_write = is_write };
    if (!len || addr + len - 1 < addr) {
        return false;
    }
    got = address_space_cache_init(&c->mrc, splitnet_dma_as(core), addr, len,
                                   is_write);
    mr = c->mrc.mrs.mr;
    if (got >= (int64_t)len && c->mrc.ptr && splitnet_is_ram(mr, is_write)) {
        c->direct = true;
        return true;
    }
    /* Behind an IOMMU: keep the range, check it at every access. */
    iommu = memory_region_is_iommu(mr);
    address_space_cache_destroy(&c->mrc);
    return iommu && splitnet_range_is_ram(core, addr, len, is_write);
}

static void splitnet_cache_destroy(SplitnetCache *c)
{
    if (c->direct) {
        address_space_cache_destroy(&c->mrc);
    }
    *c = (SplitnetCache) { 0 };
}

void splitnet_xlate_drop(SplitnetQueue *q)
{
    splitnet_cache_destroy(&q->ring_cache);
    splitnet_cache_destroy(&q->pool_cache);
    splitnet_cache_destroy(&q->status_cache);
    q->xlate_valid = false;
    q->status = NULL;
}

/* Translate the queue's areas; false when one of them is not guest RAM. */
bool splitnet_xlate_build(SplitnetQueue *q)
{
    SplitnetCore *core = q->core;
    bool rx = SPLITNET_QUEUE_IS_RX(q->index);
    uint64_t status = core->status_base +
                      q->index * SPLITNET_STATUS_ENTRY_SIZE;
    uint64_t ring_len = (uint64_t)q->ring_size *
                        (rx ? SPLITNET_RX_DESC_SIZE : SPLITNET_TX_DESC_SIZE);

    splitnet_xlate_drop(q);
    /* An entry past 2^64 (a block that wraps around) is not guest RAM. */
    if (status < core->status_base ||
        !splitnet_cache_init(q, &q->ring_cache, q->ring_base, ring_len, rx) ||
        (!rx && !splitnet_cache_init(q, &q->pool_cache, q->pool_base,
                                     (uint64_t)q->ring_size * core->slot_size,
                                     false)) ||
        !splitnet_cache_init(q, &q->status_cache, status,
                             SPLITNET_STATUS_ENTRY_SIZE, true)) {
        splitnet_xlate_drop(q);
        return false;
    }
    q->xlate_valid = true;
    q->status = q->ring_cache.direct && q->status_cache.direct &&
                (rx || q->pool_cache.direct) ? q->status_cache.mrc.ptr : NULL;
    q->stats[SPLITNET_STAT_XLATE_REBUILDS]++;
    trace_splitnet_xlate(q->index, q->stats[SPLITNET_STAT_XLATE_REBUILDS]);
    return true;
}

/*
 * Under the RCU read lock: the cache's references keep a direct pointer's
 * RAM alive, RCU keeps what an IOMMU translation returns alive.
 */
MemTxResult splitnet_xlate_read(SplitnetQueue *q, SplitnetCache *c,
                                hwaddr off, void *buf, hwaddr len)
{
    RCU_READ_LOCK_GUARD();

    if (!splitnet_cache_access_ok(q, c, off, len, false)) {
        return MEMTX_ERROR;
    }
    if (splitnet_xlate_read_direct(q, c, off, buf, len)) {
        return MEMTX_OK;
    }
    if (!splitnet_range_is_ram(q->core, c->base + off, len, false)) {
        return MEMTX_DECODE_ERROR;
    }
    return address_space_read(splitnet_dma_as(q->core), c->base + off,
                              MEMTXATTRS_UNSPECIFIED, buf, len);
}

MemTxResult splitnet_xlate_write(SplitnetQueue *q, SplitnetCache *c,
                                 hwaddr off, const void *buf, hwaddr len)
{
    RCU_READ_LOCK_GUARD();

    if (!splitnet_cache_access_ok(q, c, off, len, true)) {
        return MEMTX_ERROR;
    }
    if (splitnet_xlate_write_direct(q, c, off, buf, len)) {
        return MEMTX_OK;
    }
    if (!splitnet_range_is_ram(q->core, c->base + off, len, true)) {
        return MEMTX_DECODE_ERROR;
    }
    return address_space_write(splitnet_dma_as(q->core), c->base + off,
                               MEMTXATTRS_UNSPECIFIED, buf, len);
}

/*
 * Make r the RAM section from addr to its end, if addr is plain RAM (and
 * writable for @is_write) and the address space has no IOMMU (whose
 * mappings change without a map change) and this is not Xen (whose RAM
 * pointers are mappings of their own).  The old section's cache is
 * released only here, never in the listener: an access may be in flight
 * when the map changes.
 */
bool splitnet_run_fill(SplitnetCore *core, SplitnetHeldRun *r,
                       dma_addr_t addr, bool is_write)
{
    int64_t got;

    address_space_cache_destroy(&r->mrc);
    r->end = 0;
    if (core->iommu_sections || xen_enabled() || addr == UINT64_MAX) {
        return false;
    }
    got = address_space_cache_init(&r->mrc, splitnet_dma_as(core), addr,
                                   UINT64_MAX - addr, is_write);
    if (got <= 0 || !r->mrc.ptr ||
        !splitnet_is_ram(r->mrc.mrs.mr, is_write)) {
        address_space_cache_destroy(&r->mrc);
        return false;
    }
    r->base = addr;
    r->end = addr + got;
    r->host = r->mrc.ptr;
    return true;
}

/*
 * Map guest RAM for an RX buffer; dma_memory_unmap marks it dirty.  *len
 * may come back shorter when the range crosses a RAM block; NULL when
 * nothing maps.
 */
void *splitnet_map_guest(SplitnetCore *core, dma_addr_t addr, dma_addr_t *len,
                         DMADirection dir)
{
    bool is_write = dir == DMA_DIRECTION_FROM_DEVICE;
    dma_addr_t l = *len;

    RCU_READ_LOCK_GUARD();
    if (!splitnet_ram_ptr(core, addr, &l, is_write)) {
        return NULL;
    }
    *len = l;
    return dma_memory_map(splitnet_dma_as(core), addr, len, dir,
                          MEMTXATTRS_UNSPECIFIED);
}

void splitnet_unmap_guest(SplitnetCore *core, void *ptr, dma_addr_t len,
                          DMADirection dir, dma_addr_t access_len)
{
    dma_memory_unmap(splitnet_dma_as(core), ptr, len, dir, access_len);
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
        core->ram_run = (SplitnetRamRun) { 0 };
        core->rx_run.end = 0;
        core->tx_ref_run.end = 0;
    }
}

static void splitnet_map_add(MemoryListener *listener,
                             MemoryRegionSection *section)
{
    SplitnetCore *core = container_of(listener, SplitnetCore, listener);

    core->iommu_sections += memory_region_is_iommu(section->mr);
    splitnet_map_changed(listener, section);
}

static void splitnet_map_del(MemoryListener *listener,
                             MemoryRegionSection *section)
{
    SplitnetCore *core = container_of(listener, SplitnetCore, listener);

    core->iommu_sections -= memory_region_is_iommu(section->mr);
    splitnet_map_changed(listener, section);
}

static void splitnet_map_commit(MemoryListener *listener)
{
    SplitnetCore *core = container_of(listener, SplitnetCore, listener);
    unsigned i;

    if (!core->map_changed) {
        return;
    }
    core->map_changed = false;
    for (i = 0; i < core->num_queues; i++) {
        splitnet_queue(core, i)->xlate_valid = false;
        splitnet_queue(core, i)->status = NULL;
    }
}

/*
 * core->dirty_always.  TCG and Xen are known before any device is made;
 * global dirty tracking turns on right before every listener's
 * log_global_start (and at registration while it is on), and off right
 * before every log_global_stop, with no device code in between.
 */
static void splitnet_dirty_always(SplitnetCore *core, bool global)
{
    core->dirty_always = global || tcg_enabled() || xen_enabled();
}

static bool splitnet_log_global_start(MemoryListener *listener, Error **errp)
{
    splitnet_dirty_always(container_of(listener, SplitnetCore, listener),
                          true);
    return true;
}

static void splitnet_log_global_stop(MemoryListener *listener)
{
    splitnet_dirty_always(container_of(listener, SplitnetCore, listener),
                          false);
}

void splitnet_xlate_init(SplitnetCore *core)
{
    core->listener = (MemoryListener) {
        .name = "splitnet",
        .region_add = splitnet_map_add,
        .region_del = splitnet_map_del,
        .commit = splitnet_map_commit,
        .log_global_start = splitnet_log_global_start,
        .log_global_stop = splitnet_log_global_stop,
    };
    splitnet_dirty_always(core, false);
    memory_listener_register(&core->listener, splitnet_dma_as(core));
}

void splitnet_xlate_cleanup(SplitnetCore *core)
{
    unsigned i;

    memory_listener_unregister(&core->listener);
    address_space_cache_destroy(&core->rx_run.mrc);
    core->rx_run.end = 0;
    address_space_cache_destroy(&core->tx_ref_run.mrc);
    core->tx_ref_run.end = 0;
    for (i = 0; i < core->num_queues; i++) {
        splitnet_xlate_drop(splitnet_queue(core, i));
    }
}
