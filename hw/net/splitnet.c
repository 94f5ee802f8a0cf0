/*
 * splitnet: head-copy paravirtual NIC, PCI/QOM glue
 *
 * The transmit path copies only the head of each frame out of a header
 * pool the driver registered once, and passes the payload to the net layer
 * by reference.  See docs/specs/splitnet.rst.
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/pci/msix.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "migration/vmstate.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qemu/module.h"
#include "qom/object.h"
#include "system/system.h"
#include "splitnet_core.h"
#include "trace.h"

#define TYPE_SPLITNET "splitnet"
OBJECT_DECLARE_SIMPLE_TYPE(SplitnetState, SPLITNET)

#define SPLITNET_MSIX_BAR_SIZE  0x1000

struct SplitnetState {
    PCIDevice parent_obj;

    MemoryRegion mmio;
    NICState *nic;
    NICConf conf;

    SplitnetCore core;
};

static bool splitnet_nc_can_receive(NetClientState *nc)
{
    SplitnetState *s = qemu_get_nic_opaque(nc);

    return splitnet_core_can_receive(&s->core, nc->queue_index);
}

static ssize_t splitnet_nc_receive_iov(NetClientState *nc,
                                       const struct iovec *iov, int iovcnt)
{
    SplitnetState *s = qemu_get_nic_opaque(nc);

    return splitnet_core_receive(&s->core, nc->queue_index, iov, iovcnt);
}

static void splitnet_nc_sent(NetClientState *nc, ssize_t ret)
{
    SplitnetState *s = qemu_get_nic_opaque(nc);

    splitnet_core_tx_sent(&s->core, nc->queue_index, ret);
}

static void splitnet_nc_link_status_changed(NetClientState *nc)
{
    SplitnetState *s = qemu_get_nic_opaque(nc);

    splitnet_core_set_link_status(&s->core);
}

static NetClientInfo splitnet_net_info = {
    .type = NET_CLIENT_DRIVER_NIC,
    .size = sizeof(NICState),
    .can_receive = splitnet_nc_can_receive,
    /* The net layer delivers every frame through receive_iov when set. */
    .receive_iov = splitnet_nc_receive_iov,
    .link_status_changed = splitnet_nc_link_status_changed,
};

static bool splitnet_check_props(SplitnetState *s, Error **errp)
{
    SplitnetCore *core = &s->core;

    if (!core->queue_pairs || core->queue_pairs > SPLITNET_MAX_QUEUE_PAIRS) {
        error_setg(errp, "queues must be from 1 to %u",
                   SPLITNET_MAX_QUEUE_PAIRS);
        return false;
    }
    if (s->conf.peers.queues > core->queue_pairs) {
        error_setg(errp, "the netdev has %d queues, more than queues=%u",
                   s->conf.peers.queues, core->queue_pairs);
        return false;
    }
    if (!is_power_of_2(core->max_ring_size) ||
        core->max_ring_size < SPLITNET_RING_SIZE_MIN ||
        core->max_ring_size > SPLITNET_MAX_RING_LIMIT) {
        error_setg(errp, "max-ring-size must be a power of 2 from %u to %u",
                   SPLITNET_RING_SIZE_MIN, SPLITNET_MAX_RING_LIMIT);
        return false;
    }
    if (core->x_max_ring_size) {
        if (!is_power_of_2(core->x_max_ring_size) ||
            core->x_max_ring_size < SPLITNET_RING_SIZE_MIN) {
            error_setg(errp, "x-max-ring-size must be a power of 2 from %u",
                       SPLITNET_RING_SIZE_MIN);
            return false;
        }
        /* Out of spec on purpose: a test of the driver's limits. */
        core->max_ring_size = core->x_max_ring_size;
    }
    if (!is_power_of_2(core->slot_size) ||
        core->slot_size < SPLITNET_TX_SLOT_MIN ||
        core->slot_size > SPLITNET_TX_SLOT_MAX) {
        error_setg(errp, "hdr-slot-size must be a power of 2 from %u to %u",
                   SPLITNET_TX_SLOT_MIN, SPLITNET_TX_SLOT_MAX);
        return false;
    }
    if (core->tx_copybreak > SPLITNET_COPYBREAK_MAX) {
        error_setg(errp, "tx-copybreak must be at most %u",
                   SPLITNET_COPYBREAK_MAX);
        return false;
    }
    if (!core->tx_burst) {
        /* Sending nothing in the doorbell write is what tx-defer=on does. */
        error_setg(errp, "tx-burst must be at least 1 (tx-defer=on leaves "
                   "every frame to the bottom half)");
        return false;
    }
    if (core->intr_delay_us > SPLITNET_INTR_DELAY_MAX) {
        error_setg(errp, "intr-delay-us must be at most %u",
                   SPLITNET_INTR_DELAY_MAX);
        return false;
    }
    if (core->max_mtu < SPLITNET_MIN_MTU ||
        core->max_mtu > SPLITNET_MAX_MTU_LIMIT) {
        error_setg(errp, "max-mtu must be from %u to %u",
                   SPLITNET_MIN_MTU, SPLITNET_MAX_MTU_LIMIT);
        return false;
    }
    return true;
}

/* NUM_VECTORS: the config vector and one per queue. */
static void splitnet_init_msix(SplitnetState *s, Error **errp)
{
    PCIDevice *pci = PCI_DEVICE(s);
    unsigned vectors = 1 + 2 * s->core.queue_pairs;
    unsigned i;

    if (msix_init_exclusive_bar(pci, vectors, SPLITNET_BAR_MSIX, errp) < 0) {
        return;
    }
    for (i = 0; i < vectors; i++) {
        msix_vector_use(pci, i);
    }
}

static void splitnet_realize(PCIDevice *pci, Error **errp)
{
    SplitnetState *s = SPLITNET(pci);
    DeviceState *dev = DEVICE(pci);
    Error *err = NULL;

    if (!splitnet_check_props(s, errp)) {
        return;
    }

    pci->config[PCI_INTERRUPT_PIN] = 1;
    pci_set_word(pci->config + PCI_SUBSYSTEM_VENDOR_ID,
                 PCI_SUBVENDOR_ID_REDHAT_QUMRANET);
    pci_set_word(pci->config + PCI_SUBSYSTEM_ID, PCI_SUBDEVICE_ID_QEMU);

    /* The core's own callbacks: a doorbell is one call from the bus. */
    memory_region_init_io(&s->mmio, OBJECT(s), &splitnet_core_mmio_ops,
                          &s->core, "splitnet-mmio", SPLITNET_REGS_SIZE);
    pci_register_bar(pci, SPLITNET_BAR_REGS, PCI_BASE_ADDRESS_SPACE_MEMORY,
                     &s->mmio);

    splitnet_init_msix(s, &err);
    if (err) {
        error_propagate(errp, err);
        return;
    }

    qemu_macaddr_default_if_unset(&s->conf.macaddr);
    s->core.perm_mac = s->conf.macaddr;
    s->nic = qemu_new_nic(&splitnet_net_info, &s->conf,
                          object_get_typename(OBJECT(s)), dev->id,
                          &dev->mem_reentrancy_guard, s);
    qemu_format_nic_info_str(qemu_get_queue(s->nic), s->conf.macaddr.a);

    splitnet_core_realize(&s->core, pci, s->nic, splitnet_nc_sent);
}

static void splitnet_exit(PCIDevice *pci)
{
    SplitnetState *s = SPLITNET(pci);

    splitnet_core_unrealize(&s->core);
    qemu_del_nic(s->nic);
    msix_uninit_exclusive_bar(pci);
}

/*
 * Switching MSI-X off hands interrupts back to INTx: causes still latched
 * in ISR must raise the line again.
 */
static void splitnet_write_config(PCIDevice *pci, uint32_t addr, uint32_t val,
                                  int len)
{
    SplitnetState *s = SPLITNET(pci);

    pci_default_write_config(pci, addr, val, len);
    splitnet_core_config_written(&s->core);
}

static void splitnet_reset_hold(Object *obj, ResetType type)
{
    SplitnetState *s = SPLITNET(obj);

    splitnet_core_reset(&s->core);
}

static int splitnet_post_load(void *opaque, int version_id)
{
    SplitnetState *s = opaque;

    return splitnet_core_post_load(&s->core);
}

/* Counters [first, first + n), sent only once one of them counts. */
static bool splitnet_stats_counted(SplitnetQueue *q, unsigned first,
                                   unsigned n)
{
    while (n--) {
        if (q->stats[first + n]) {
            return true;
        }
    }
    return false;
}

/* Counters of version 1.1 (offloads). */
#define SPLITNET_STATS_1_1      (SPLITNET_STAT_TX_GSO_PASS - \
                                 SPLITNET_STAT_TX_CSUM)
/* Counters of version 1.2 (offloads passed to the peer). */
#define SPLITNET_STATS_1_2      (SPLITNET_STAT_TX_USO - \
                                 SPLITNET_STAT_TX_GSO_PASS)
/* Counters of version 1.3 (USO). */
#define SPLITNET_STATS_1_3      (SPLITNET_NUM_STATS - SPLITNET_STAT_TX_USO)

static bool splitnet_latches_needed(void *opaque)
{
    SplitnetState *s = opaque;

    return splitnet_core_latches_pending(&s->core);
}

static bool splitnet_vlan_table_needed(void *opaque)
{
    SplitnetState *s = opaque;
    unsigned i;

    for (i = 0; i < SPLITNET_VLAN_TABLE_REGS; i++) {
        if (s->core.vlan_table[i]) {
            return true;
        }
    }
    return false;
}

/* The VLAN table (1.3), sent once the driver has put a VLAN in it. */
static const VMStateDescription vmstate_splitnet_vlan_table = {
    .name = "splitnet/vlan-table",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = splitnet_vlan_table_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT32_ARRAY(core.vlan_table, SplitnetState,
                             SPLITNET_VLAN_TABLE_REGS),
        VMSTATE_END_OF_LIST()
    },
};

/* A register half-written or half-read when the VM stopped. */
static const VMStateDescription vmstate_splitnet_latches = {
    .name = "splitnet/latches",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = splitnet_latches_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_BOOL(core.mac_lo_pending, SplitnetState),
        VMSTATE_UINT32(core.mac_lo_latch, SplitnetState),
        VMSTATE_BOOL(core.mc_hash_lo_pending, SplitnetState),
        VMSTATE_UINT32(core.mc_hash_lo_latch, SplitnetState),
        VMSTATE_UINT32(core.read_latch_addr, SplitnetState),
        VMSTATE_UINT32(core.read_latch_hi, SplitnetState),
        VMSTATE_END_OF_LIST()
    },
};

static bool splitnet_offload_stats_needed(void *opaque)
{
    return splitnet_stats_counted(opaque, SPLITNET_STAT_TX_CSUM,
                                  SPLITNET_STATS_1_1);
}

static bool splitnet_pass_stats_needed(void *opaque)
{
    return splitnet_stats_counted(opaque, SPLITNET_STAT_TX_GSO_PASS,
                                  SPLITNET_STATS_1_2);
}

static const VMStateDescription vmstate_splitnet_offload_stats = {
    .name = "splitnet/queue/offload-stats",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = splitnet_offload_stats_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64_SUB_ARRAY(stats, SplitnetQueue, SPLITNET_STAT_TX_CSUM,
                                 SPLITNET_STATS_1_1),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_splitnet_pass_stats = {
    .name = "splitnet/queue/pass-stats",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = splitnet_pass_stats_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64_SUB_ARRAY(stats, SplitnetQueue,
                                 SPLITNET_STAT_TX_GSO_PASS,
                                 SPLITNET_STATS_1_2),
        VMSTATE_END_OF_LIST()
    },
};

static bool splitnet_uso_stats_needed(void *opaque)
{
    return splitnet_stats_counted(opaque, SPLITNET_STAT_TX_USO,
                                  SPLITNET_STATS_1_3);
}

static const VMStateDescription vmstate_splitnet_uso_stats = {
    .name = "splitnet/queue/uso-stats",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = splitnet_uso_stats_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64_SUB_ARRAY(stats, SplitnetQueue, SPLITNET_STAT_TX_USO,
                                 SPLITNET_STATS_1_3),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_splitnet_queue = {
    .name = "splitnet/queue",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_UINT64(ring_base, SplitnetQueue),
        VMSTATE_UINT64(pool_base, SplitnetQueue),
        VMSTATE_UINT32(ring_size, SplitnetQueue),
        VMSTATE_UINT32(vector, SplitnetQueue),
        VMSTATE_UINT32(enabled, SplitnetQueue),
        VMSTATE_UINT32(intr_delay_us, SplitnetQueue),
        VMSTATE_UINT32(cons, SplitnetQueue),
        VMSTATE_UINT32(prod, SplitnetQueue),
        VMSTATE_INT64(last_intr_ns, SplitnetQueue),
        VMSTATE_BOOL(intr_pending, SplitnetQueue),
        VMSTATE_TIMER_PTR(intr_timer, SplitnetQueue),
        VMSTATE_UINT64_SUB_ARRAY(stats, SplitnetQueue, 0,
                                 SPLITNET_STAT_TX_CSUM),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_splitnet_offload_stats,
        &vmstate_splitnet_pass_stats,
        &vmstate_splitnet_uso_stats,
        NULL
    },
};

/*
 * A frame the net layer held for a busy peer is not migrated: its
 * descriptors are still ahead of cons, so the destination sends it again.
 */
static const VMStateDescription vmstate_splitnet_txq = {
    .name = "splitnet/txq",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(q, SplitnetTxQueue, 1, vmstate_splitnet_queue,
                       SplitnetQueue),
        VMSTATE_END_OF_LIST()
    },
};

static const VMStateDescription vmstate_splitnet_rxq = {
    .name = "splitnet/rxq",
    .version_id = 1,
    .minimum_version_id = 1,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT(q, SplitnetRxQueue, 1, vmstate_splitnet_queue,
                       SplitnetQueue),
        VMSTATE_BOOL(waiting, SplitnetRxQueue),
        VMSTATE_END_OF_LIST()
    },
};

static bool splitnet_mq_needed(void *opaque)
{
    SplitnetState *s = opaque;

    return s->core.queue_pairs > 1;
}

static bool splitnet_mq_exists(void *opaque, int version_id)
{
    return splitnet_mq_needed(opaque);
}

/*
 * A device of several pairs starts its stream with their count, so a
 * destination of several pairs refuses another count (or a stream of one
 * pair, which starts with PCI config space) at once, with the hint; one of
 * a single pair (the stream of version 1.2) finds the count where the PCI
 * config space should be and refuses it too.
 */
#define SPLITNET_VMSTATE_PAIRS { \
    .name = "core.queue_pairs", \
    .err_hint = "queues must match the source's", \
    .field_exists = splitnet_mq_exists, \
    .size = sizeof(uint32_t), \
    .info = &vmstate_info_uint32_equal, \
    .flags = VMS_SINGLE, \
    .offset = vmstate_offset_value(SplitnetState, core.queue_pairs, \
                                   uint32_t), \
}

/*
 * Pairs 1.. and the RSS registers: only a device of several pairs has
 * them, so a device of one pair sends the stream of version 1.2.
 */
static const VMStateDescription vmstate_splitnet_mq = {
    .name = "splitnet/mq",
    .version_id = 1,
    .minimum_version_id = 1,
    .needed = splitnet_mq_needed,
    .fields = (const VMStateField[]) {
        VMSTATE_STRUCT_VARRAY_POINTER_UINT32(core.txq_more, SplitnetState,
                                             core.more_pairs,
                                             vmstate_splitnet_txq,
                                             SplitnetTxQueue),
        VMSTATE_STRUCT_VARRAY_POINTER_UINT32(core.rxq_more, SplitnetState,
                                             core.more_pairs,
                                             vmstate_splitnet_rxq,
                                             SplitnetRxQueue),
        VMSTATE_UINT32(core.rss_hash_types, SplitnetState),
        VMSTATE_UINT32(core.rss_queues, SplitnetState),
        VMSTATE_UINT8_ARRAY(core.rss_key, SplitnetState,
                            SPLITNET_RSS_KEY_SIZE),
        VMSTATE_UINT8_ARRAY(core.rss_indir, SplitnetState,
                            SPLITNET_RSS_INDIR_SIZE),
        VMSTATE_END_OF_LIST()
    },
};

/*
 * Version 2 carries the properties the guest's ring and pool layout
 * depends on; a destination configured otherwise refuses the stream.
 */
static const VMStateDescription vmstate_splitnet = {
    .name = "splitnet",
    .version_id = 2,
    .minimum_version_id = 2,
    .post_load = splitnet_post_load,
    .fields = (const VMStateField[]) {
        SPLITNET_VMSTATE_PAIRS,
        VMSTATE_PCI_DEVICE(parent_obj, SplitnetState),
        VMSTATE_MSIX(parent_obj, SplitnetState),
        VMSTATE_UINT32_EQUAL(core.slot_size, SplitnetState,
                             "hdr-slot-size must match the source's"),
        VMSTATE_UINT32_EQUAL(core.max_ring_size, SplitnetState,
                             "max-ring-size must match the source's"),
        VMSTATE_UINT32_EQUAL(core.max_mtu, SplitnetState,
                             "max-mtu must match the source's"),
        VMSTATE_UINT64(core.drv_features, SplitnetState),
        VMSTATE_UINT64(core.status_base, SplitnetState),
        VMSTATE_UINT64(core.mc_hash, SplitnetState),
        VMSTATE_UINT32(core.ctrl, SplitnetState),
        VMSTATE_UINT32(core.error, SplitnetState),
        VMSTATE_UINT32(core.error_queue, SplitnetState),
        VMSTATE_UINT32(core.mtu, SplitnetState),
        VMSTATE_UINT32(core.rx_filter, SplitnetState),
        VMSTATE_UINT32(core.config_vector, SplitnetState),
        VMSTATE_UINT32(core.isr, SplitnetState),
        VMSTATE_UINT32(core.intr_mask, SplitnetState),
        VMSTATE_UINT8_ARRAY(core.mac, SplitnetState, ETH_ALEN),
        /* Pair 0, where version 1.2 had an array of one pair. */
        VMSTATE_STRUCT_POINTER(core.txq, SplitnetState, vmstate_splitnet_txq,
                               SplitnetTxQueue),
        VMSTATE_STRUCT_POINTER(core.rxq, SplitnetState, vmstate_splitnet_rxq,
                               SplitnetRxQueue),
        VMSTATE_END_OF_LIST()
    },
    .subsections = (const VMStateDescription * const []) {
        &vmstate_splitnet_latches,
        &vmstate_splitnet_vlan_table,
        &vmstate_splitnet_mq,
        NULL
    },
};

static const char *const splitnet_tx_stat_names[SPLITNET_NUM_STATS] = {
    "frames", "bytes", "errors", "doorbells", "interrupts", "xlate-rebuilds",
    "head-bytes", "payload-ref-bytes", "payload-copy-bytes", "stalls",
    "csum-frames", "tso-frames", "tso-segments", "gso-pass-frames",
    "csum-pass-frames", "uso-frames",
};

static const char *const splitnet_rx_stat_names[SPLITNET_NUM_STATS] = {
    "frames", "bytes", "errors", "doorbells", "interrupts", "xlate-rebuilds",
    "no-buffer", "filtered", "oversize", "csum-frames", "gso-frames",
    "offload-drops", "vlan-frames", "vlan-filtered",
};

static bool splitnet_visit_stats(Visitor *v, const char *name,
                                 uint64_t *stats,
                                 const char *const *names, Error **errp)
{
    bool ok;
    int i;

    if (!visit_start_struct(v, name, NULL, 0, errp)) {
        return false;
    }
    ok = true;
    for (i = 0; ok && i < SPLITNET_NUM_STATS && names[i]; i++) {
        ok = visit_type_uint64(v, names[i], &stats[i], errp);
    }
    ok = ok && visit_check_struct(v, errp);
    visit_end_struct(v, NULL);
    return ok;
}

/* The sum of every TX (@rx false) or RX queue's counters. */
static void splitnet_stats_total(SplitnetCore *core, bool rx,
                                 uint64_t *total)
{
    SplitnetQueue *q;
    unsigned i, n;

    memset(total, 0, SPLITNET_NUM_STATS * sizeof(*total));
    for (i = 0; i < core->queue_pairs; i++) {
        q = rx ? &core->rxq[i].q : &core->txq[i].q;
        for (n = 0; n < SPLITNET_NUM_STATS; n++) {
            total[n] += q->stats[n];
        }
    }
}

/*
 * qom-get DEV stats: {"tx0": {"frames": ...}, "rx0": {...}, ..., "tx":
 * {...}, "rx": {...}}, per queue and the sums over all queues.
 */
static void splitnet_get_stats(Object *obj, Visitor *v, const char *name,
                               void *opaque, Error **errp)
{
    SplitnetState *s = SPLITNET(obj);
    uint64_t tx_total[SPLITNET_NUM_STATS], rx_total[SPLITNET_NUM_STATS];
    bool ok;
    int i;

    if (!visit_start_struct(v, name, NULL, 0, errp)) {
        return;
    }
    ok = true;
    for (i = 0; ok && i < s->core.queue_pairs; i++) {
        g_autofree char *tx = g_strdup_printf("tx%d", i);
        g_autofree char *rx = g_strdup_printf("rx%d", i);

        ok = splitnet_visit_stats(v, tx, s->core.txq[i].q.stats,
                                  splitnet_tx_stat_names, errp) &&
             splitnet_visit_stats(v, rx, s->core.rxq[i].q.stats,
                                  splitnet_rx_stat_names, errp);
    }
    splitnet_stats_total(&s->core, false, tx_total);
    splitnet_stats_total(&s->core, true, rx_total);
    ok = ok && splitnet_visit_stats(v, "tx", tx_total, splitnet_tx_stat_names,
                                    errp) &&
         splitnet_visit_stats(v, "rx", rx_total, splitnet_rx_stat_names, errp);
    ok = ok && visit_check_struct(v, errp);
    visit_end_struct(v, NULL);
}

static bool splitnet_get_reset_hang(Object *obj, Error **errp)
{
    return SPLITNET(obj)->core.x_reset_hang;
}

static void splitnet_set_reset_hang(Object *obj, bool value, Error **errp)
{
    splitnet_core_set_reset_hang(&SPLITNET(obj)->core, value);
}

static void splitnet_instance_init(Object *obj)
{
    SplitnetState *s = SPLITNET(obj);

    device_add_bootindex_property(obj, &s->conf.bootindex, "bootindex",
                                  "/ethernet-phy@0", DEVICE(obj));
    object_property_add(obj, "stats", "SplitnetStats", splitnet_get_stats,
                        NULL, NULL, NULL);
    /* The ERROR register, for a host that checks what went wrong. */
    object_property_add_uint32_ptr(obj, "error", &s->core.error,
                                   OBJ_PROP_FLAG_READ);
    object_property_set_description(obj, "error",
        "The first error (SPLITNET_ERR_*) since the last reset, 0 for none");
    /* Settable at run time (qom-set), unlike the qdev properties. */
    object_property_add_bool(obj, "x-reset-hang", splitnet_get_reset_hang,
                             splitnet_set_reset_hang);
    object_property_set_description(obj, "x-reset-hang",
        "Testing only: CTRL.RESET is not carried out while set");
}

static const Property splitnet_properties[] = {
    DEFINE_NIC_PROPERTIES(SplitnetState, conf),
    DEFINE_PROP_UINT32("queues", SplitnetState, core.queue_pairs, 1),
    DEFINE_PROP_UINT32("max-ring-size", SplitnetState, core.max_ring_size,
                       1024),
    DEFINE_PROP_UINT32("hdr-slot-size", SplitnetState, core.slot_size, 128),
    DEFINE_PROP_UINT32("tx-copybreak", SplitnetState, core.tx_copybreak, 64),
    DEFINE_PROP_UINT32("tx-burst", SplitnetState, core.tx_burst, 64),
    DEFINE_PROP_ON_OFF_AUTO("tx-defer", SplitnetState, core.tx_defer,
                            ON_OFF_AUTO_AUTO),
    DEFINE_PROP_UINT32("intr-delay-us", SplitnetState, core.intr_delay_us, 0),
    DEFINE_PROP_UINT32("max-mtu", SplitnetState, core.max_mtu, 9000),
    DEFINE_PROP_BOOL("csum", SplitnetState, core.csum, true),
    DEFINE_PROP_BOOL("tso", SplitnetState, core.tso, true),
    DEFINE_PROP_BOOL("rx-csum", SplitnetState, core.rx_csum, true),
    DEFINE_PROP_BOOL("rx-gso", SplitnetState, core.rx_gso, true),
    DEFINE_PROP_BOOL("uso", SplitnetState, core.uso, true),
    DEFINE_PROP_BOOL("vlan", SplitnetState, core.vlan, true),
    DEFINE_PROP_BOOL("vnet-hdr", SplitnetState, core.use_vnet_hdr, true),
    DEFINE_PROP_UINT32("x-max-ring-size", SplitnetState, core.x_max_ring_size,
                       0),
    DEFINE_PROP_BOOL("x-vnet-uso", SplitnetState, core.x_vnet_uso, true),
};

static void splitnet_class_init(ObjectClass *klass, void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *pc = PCI_DEVICE_CLASS(klass);
    ResettableClass *rc = RESETTABLE_CLASS(klass);

    pc->realize = splitnet_realize;
    pc->exit = splitnet_exit;
    pc->config_write = splitnet_write_config;
    pc->vendor_id = SPLITNET_PCI_VENDOR_ID;
    pc->device_id = SPLITNET_PCI_DEVICE_ID;
    pc->revision = SPLITNET_PCI_REVISION;
    pc->class_id = PCI_CLASS_NETWORK_ETHERNET;

    rc->phases.hold = splitnet_reset_hold;

    dc->desc = "splitnet head-copy paravirtual NIC";
    dc->vmsd = &vmstate_splitnet;
    device_class_set_props(dc, splitnet_properties);
    object_class_property_set_description(klass, "queues",
        "Queue pairs, 1 to " stringify(SPLITNET_MAX_QUEUE_PAIRS)
        " (from 2: receive-side scaling)");
    object_class_property_set_description(klass, "max-ring-size",
        "Largest ring, in descriptors, the driver may configure");
    object_class_property_set_description(klass, "hdr-slot-size",
        "Bytes per TX header pool slot: the largest head copied per frame");
    object_class_property_set_description(klass, "tx-copybreak",
        "Payload fragments shorter than this are copied, not mapped");
    object_class_property_set_description(klass, "tx-burst",
        "Frames sent in the doorbell write before deferring to a bottom half");
    object_class_property_set_description(klass, "tx-defer",
        "The doorbell write only schedules the TX bottom half "
        "(auto: on under KVM)");
    object_class_property_set_description(klass, "intr-delay-us",
        "Reset value of the queues' interrupt moderation delay (us)");
    object_class_property_set_description(klass, "max-mtu",
        "Largest MTU the driver may set");
    object_class_property_set_description(klass, "csum",
        "Offer TX checksum offload (off: as a device without it)");
    object_class_property_set_description(klass, "tso",
        "Offer TSO4/TSO6 (only with csum=on; off: as a device without it)");
    object_class_property_set_description(klass, "rx-csum",
        "Offer RX checksum status (off: as a device without it)");
    object_class_property_set_description(klass, "rx-gso",
        "Offer large receive (only with rx-csum=on)");
    object_class_property_set_description(klass, "uso",
        "Offer UDP segmentation (only with csum=on; off: as a device "
        "without it)");
    object_class_property_set_description(klass, "vlan",
        "Offer VLAN tag insertion, stripping and filtering (off: as a "
        "device without them)");
    object_class_property_set_description(klass, "vnet-hdr",
        "Pass offloads to a peer that takes a virtio-net header (tap)");
    object_class_property_set_description(klass, "x-max-ring-size",
        "Testing only: overrides max-ring-size, beyond the spec's limit");
    object_class_property_set_description(klass, "x-vnet-uso",
        "Testing only: off treats a tap as one that does not segment UDP");
    set_bit(DEVICE_CATEGORY_NETWORK, dc->categories);
}

static const TypeInfo splitnet_info = {
    .name = TYPE_SPLITNET,
    .parent = TYPE_PCI_DEVICE,
    .instance_size = sizeof(SplitnetState),
    .instance_init = splitnet_instance_init,
    .class_init = splitnet_class_init,
    .interfaces = (InterfaceInfo[]) {
        { INTERFACE_CONVENTIONAL_PCI_DEVICE },
        { }
    },
};

static void splitnet_register_types(void)
{
    type_register_static(&splitnet_info);
}

type_init(splitnet_register_types)
