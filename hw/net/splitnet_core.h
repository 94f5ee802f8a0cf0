/*
 * splitnet: head-copy paravirtual NIC, device core
 *
 * The PCI/QOM glue (splitnet.c) owns the PCI function and the net client;
 * everything the guest sees through registers and rings lives here.
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_NET_SPLITNET_CORE_H
#define HW_NET_SPLITNET_CORE_H

#include "exec/memory.h"
#include "hw/pci/pci_device.h"
#include "net/eth.h"
#include "net/net.h"
#include "qemu/timer.h"
#include "standard-headers/linux/splitnet.h"
#include "splitnet_offload.h"

/*
 * Frames one backend queue may hold for the TX queues that send on it:
 * one frame each, a TSO frame as up to TSO_MAX_SEGS segments.
 */
#define SPLITNET_SENDQ_MAX      (SPLITNET_MAX_QUEUE_PAIRS * \
                                 SPLITNET_TSO_MAX_SEGS)

#define SPLITNET_MAX_RING_LIMIT SPLITNET_RING_SIZE_MAX
#define SPLITNET_COPYBREAK_MAX  SPLITNET_TX_SLOT_MAX
#define SPLITNET_INTR_DELAY_MAX 1000000
/*
 * A TX interrupt INTR_DELAY held back is held on for another delay while
 * the driver rings at least SPLITNET_TX_INTR_HOLD_RINGS times a delay, up
 * to SPLITNET_TX_INTR_HOLD delays (splitnet_intr_hold()).
 */
#define SPLITNET_TX_INTR_HOLD           8
#define SPLITNET_TX_INTR_HOLD_RINGS     16
#define SPLITNET_MIN_MTU        68
/* An 802.1Q tag: TPID and TCI. */
#define SPLITNET_VLAN_HLEN      sizeof(struct vlan_header)
/* Ethernet header plus one VLAN tag on top of the MTU. */
#define SPLITNET_FRAME_OVERHEAD 18
#define SPLITNET_MAX_MTU_LIMIT  (UINT16_MAX - SPLITNET_FRAME_OVERHEAD)

/*
 * Scatter-list entries for one frame: the head copy, then per descriptor
 * one piece per contiguous run of guest RAM.  Behind a vIOMMU every IOVA
 * page can be a run of its own, so allow for a largest frame (64 KiB) cut
 * at 4 KiB pages on top of a split at each end of each fragment.
 */
#define SPLITNET_TX_MAX_IOV     (1 + 2 * SPLITNET_TX_MAX_FRAGS + \
                                 (1 << 16) / 4096)

typedef struct SplitnetCore SplitnetCore;

/*
 * One guest area the device reaches without a lookup per access: a host
 * pointer into RAM (direct), or, behind a vIOMMU, the IOVA range to
 * translate and check at each access.
 */
typedef struct SplitnetCache {
    MemoryRegionCache mrc;
    dma_addr_t base;
    hwaddr len;
    bool direct;
    bool is_write;
} SplitnetCache;

/*
 * A run of guest RAM that is linear in host memory: [base, end) of the
 * DMA address space starts at host.  end == 0: nothing known.
 */
typedef struct SplitnetRamRun {
    dma_addr_t base;
    dma_addr_t end;
    uint8_t *host;
} SplitnetRamRun;

/*
 * A RAM section the device last reached: [base, end) of the DMA address
 * space at host, through mrc, whose reference keeps it allocated (no RCU
 * read-side section is needed to use host) and which marks what RX wrote
 * dirty.  end == 0: nothing known (mrc may still hold the last one,
 * released when it is replaced).
 */
typedef struct SplitnetHeldRun {
    MemoryRegionCache mrc;
    dma_addr_t base;
    dma_addr_t end;
    uint8_t *host;
} SplitnetHeldRun;

typedef struct SplitnetQueue {
    SplitnetCore *core;
    uint32_t index;

    /* Configuration written by the guest. */
    uint64_t ring_base;
    uint64_t pool_base;
    uint32_t ring_size;
    uint32_t vector;
    uint32_t enabled;
    uint32_t intr_delay_us;

    /* Free-running indices: what the device consumed, what it last saw. */
    uint32_t cons;
    uint32_t prod;

    /*
     * Translations made at enable time.  A change of the memory map only
     * clears xlate_valid; they are rebuilt before the next access.
     */
    SplitnetCache ring_cache;
    SplitnetCache pool_cache;
    SplitnetCache status_cache;
    bool xlate_valid;
    /*
     * status_cache's host pointer, for the accesses of every doorbell:
     * set only while the queue is enabled, the device is not in its
     * error state, the translations are valid and all of the queue's
     * areas are plain RAM (direct); NULL otherwise (behind a vIOMMU
     * always).  Non-NULL stands for all of that (splitnet_status_direct).
     */
    uint8_t *status;

    QEMUTimer *intr_timer;
    int64_t last_intr_ns;
    bool intr_pending;
    /*
     * TX: when the held interrupt was asked for, and the doorbells counted
     * then (splitnet_intr_timer() holds it on while the driver rings).
     */
    int64_t intr_asked_ns;
    uint64_t intr_doorbells;

    uint64_t stats[SPLITNET_NUM_STATS];
} SplitnetQueue;

/*
 * What a frame adds to its queue's counters when it completes, besides
 * frames and bytes (those count each frame or segment the net layer took).
 */
typedef struct SplitnetTxCounts {
    uint64_t head;
    uint64_t ref;
    uint64_t copied;
    uint32_t tso_segs;      /* 0: not a TSO or USO frame */
    bool uso;               /* a USO frame, segmented */
    bool csum;
    bool csum_pass;         /* TXD_CSUM passed to the peer */
    bool gso_pass;          /* TSO frame passed to the peer whole */
} SplitnetTxCounts;

typedef struct SplitnetTxQueue {
    SplitnetQueue q;
    /* The backend queue it sends on (several TX queues may share one). */
    NetClientState *nc;
    QEMUBH *bh;
    bool bh_pending;
    /* The run is (or was last) inside the guest's doorbell write. */
    bool in_doorbell;
    /* The net layer holds our last frame until its peer drains. */
    bool stalled;
    uint32_t stalled_descs;
    /* Of a TSO frame: segments the net layer holds, one of them purged. */
    uint32_t stall_pending;
    bool stall_purged;
    /* The held frame's counts: added if it is delivered, not if purged. */
    SplitnetTxCounts held;

    /*
     * Per-frame scratch kept here, not on the stack: QEMU builds with
     * -ftrivial-auto-var-init=zero and would clear it for every frame.
     */
    uint8_t head[SPLITNET_TX_SLOT_MAX + SPLITNET_VLAN_HLEN];
    /*
     * The frame's scatter list is iov = iov_buf + 1: [head copy,
     * payload...], so that a virtio-net header (vnet) can go in front of
     * it, in iov_buf[0], for a peer that takes one.
     */
    struct iovec iov_buf[1 + SPLITNET_TX_MAX_IOV];
    struct iovec *iov;
    unsigned niov;
    bool rcu_held;                  /* for the payload pointers in iov */
    struct splitnet_tx_desc first;  /* the frame's offload request */
    struct virtio_net_hdr vnet;
    uint8_t copy_buf[SPLITNET_TX_MAX_FRAGS * SPLITNET_COPYBREAK_MAX];
    size_t copy_used;
    /*
     * TSO: the frame being cut, one segment's headers and scatter list,
     * seg_iov = seg_iov_buf + 1 (room for vnet in front, as for iov).
     */
    SplitnetTso tso;
    uint8_t seg_head[SPLITNET_TX_SLOT_MAX + SPLITNET_VLAN_HLEN] QEMU_ALIGNED(8);
    struct iovec seg_iov_buf[1 + SPLITNET_TSO_SEG_IOV(SPLITNET_TX_MAX_IOV)];
    struct iovec *seg_iov;
} SplitnetTxQueue;

typedef struct SplitnetRxQueue {
    SplitnetQueue q;
    bool waiting;       /* a frame waits for buffers */
} SplitnetRxQueue;

/*
 * The TX queues whose frames a backend queue holds, oldest first: the net
 * layer calls back once per held frame, in order, with only the backend
 * queue to tell whose it was.
 */
typedef struct SplitnetSendQueue {
    uint32_t head;
    uint32_t count;
    uint8_t owner[SPLITNET_SENDQ_MAX];
} SplitnetSendQueue;

/* What RSS found for a received frame (flags: RXD_HASH and its type). */
typedef struct SplitnetRxHash {
    uint32_t hash;
    uint16_t flags;
} SplitnetRxHash;

struct SplitnetCore {
    PCIDevice *pci;
    NICState *nic;
    /* The device's, without a QOM cast for every frame. */
    MemReentrancyGuard *guard;
    NetPacketSent *sent_cb;

    /* Properties. */
    uint32_t queue_pairs;
    uint32_t max_ring_size;
    uint32_t slot_size;
    uint32_t tx_copybreak;
    uint32_t tx_burst;
    OnOffAuto tx_defer;
    uint32_t intr_delay_us;
    uint32_t max_mtu;
    bool csum;
    bool tso;
    bool rx_csum;
    bool rx_gso;
    bool uso;
    bool vlan;
    bool use_vnet_hdr;
    MACAddr perm_mac;
    /* tx-defer resolved: the doorbell write only schedules the bottom half */
    bool tx_deferred;
    uint32_t num_queues;        /* 2 * queue_pairs */
    uint32_t num_vectors;       /* NUM_VECTORS */
    uint32_t backend_queues;    /* the NIC's subqueues, 1..queue_pairs */

    /* What the properties let the device offer (DEV_FEATURES). */
    uint64_t dev_features;
    /*
     * The peer takes a virtio-net header before every frame (tap with
     * vnet_hdr): TX offloads pass through to it, RX frames come with one.
     */
    bool vnet_hdr;
    /* That peer also segments UDP (VIRTIO_NET_HDR_GSO_UDP_L4). */
    bool vnet_uso;
    /* Fault injection for driver tests (x- properties, not migrated). */
    uint32_t x_max_ring_size;   /* MAX_RING_SIZE beyond the spec; 0: off */
    bool x_reset_hang;          /* CTRL.RESET is not carried out */
    bool x_vnet_uso;            /* off: as if the peer lacked USO */

    /* Registers. */
    uint64_t drv_features;
    uint64_t status_base;
    uint64_t mc_hash;
    uint32_t vlan_table[SPLITNET_VLAN_TABLE_REGS];
    uint32_t ctrl;
    uint32_t error;
    uint32_t error_queue;
    uint32_t mtu;
    uint32_t rx_filter;
    uint32_t config_vector;
    uint32_t isr;
    uint32_t intr_mask;
    uint8_t mac[ETH_ALEN];
    /*
     * Latches that keep a register whole across two 4-byte accesses
     * (spec, "Registers"): MAC_LO and the low half of MC_HASH wait for
     * the high half; the read of a 64-bit register's low half keeps its
     * high half for the read that follows.
     */
    bool mac_lo_pending;
    uint32_t mac_lo_latch;
    bool mc_hash_lo_pending;
    uint32_t mc_hash_lo_latch;
    uint32_t read_latch_addr;   /* offset of the high half kept; 0: none */
    uint32_t read_latch_hi;

    /* RSS registers (F_MQ). */
    uint32_t rss_hash_types;
    uint32_t rss_queues;
    uint8_t rss_key[SPLITNET_RSS_KEY_SIZE];
    uint8_t rss_indir[SPLITNET_RSS_INDIR_SIZE];
    struct NetRxPkt *rx_pkt;    /* a received frame's headers, parsed */

    MemoryListener listener;
    bool map_changed;
    /*
     * Every write to guest RAM must be dirtied (splitnet_cache_dirty_mrc):
     * TCG, Xen, or global dirty tracking (migration, dirty-rate
     * measurement) under way.
     */
    bool dirty_always;
    /* IOMMU sections in our DMA address space (then no ram_run). */
    unsigned iommu_sections;
    /* Where TX payload came from last; dropped when the map changes. */
    SplitnetRamRun ram_run;
    /* Where RX frames went last; dropped when the map changes. */
    SplitnetHeldRun rx_run;
    /* Where TX's common frames came from last (splitnet_tx_ref_ptr). */
    SplitnetHeldRun tx_ref_run;
    VMChangeStateEntry *vmstate;
    /*
     * runstate_is_running(), for TX without a call per doorbell: kept by
     * the VM change state handler and the suspend and wakeup notifiers,
     * the three ways the run state enters or leaves RUNNING.  A stop sets
     * the run state before it pauses the vCPUs and notifies: a doorbell
     * in between still sends, and the net layer, which asks
     * runstate_is_running() itself, holds the frame (a stall, as for a
     * busy peer) until the stop flushes or purges it.
     */
    bool vm_running;
    Notifier suspend_notifier;
    Notifier wakeup_notifier;

    /* queue_pairs of each; pairs 1.. migrate in their own subsection. */
    SplitnetTxQueue *txq;
    SplitnetRxQueue *rxq;
    SplitnetTxQueue *txq_more;
    SplitnetRxQueue *rxq_more;
    uint32_t more_pairs;
    SplitnetSendQueue *sendq;   /* one per backend queue */
};

/* Entry points for the glue. */
void splitnet_core_realize(SplitnetCore *core, PCIDevice *pci, NICState *nic,
                           NetPacketSent *sent_cb);
void splitnet_core_unrealize(SplitnetCore *core);
void splitnet_core_reset(SplitnetCore *core);
void splitnet_core_set_reset_hang(SplitnetCore *core, bool hang);
bool splitnet_core_latches_pending(SplitnetCore *core);
/* The register BAR; its opaque is the SplitnetCore. */
extern const MemoryRegionOps splitnet_core_mmio_ops;
void splitnet_core_set_link_status(SplitnetCore *core);
void splitnet_core_config_written(SplitnetCore *core);
int splitnet_core_post_load(SplitnetCore *core);
void splitnet_core_tx_sent(SplitnetCore *core, unsigned nc, ssize_t ret);
bool splitnet_core_can_receive(SplitnetCore *core, unsigned nc);
ssize_t splitnet_core_receive(SplitnetCore *core, unsigned nc,
                              const struct iovec *iov, int iovcnt);
void splitnet_rx_flush(SplitnetCore *core);

static inline SplitnetQueue *splitnet_queue(SplitnetCore *core, unsigned q)
{
    return SPLITNET_QUEUE_IS_RX(q) ? &core->rxq[q / 2].q : &core->txq[q / 2].q;
}

static inline bool splitnet_event_idx(SplitnetCore *core)
{
    return core->drv_features & SPLITNET_F_EVENT_IDX;
}

/* splitnet_tx.c */
void splitnet_tx_init(SplitnetTxQueue *txq, DeviceState *dev,
                      NetClientState *nc);
void splitnet_tx_cleanup(SplitnetTxQueue *txq);
void splitnet_tx_reset(SplitnetTxQueue *txq);
void splitnet_tx_doorbell(SplitnetTxQueue *txq);
void splitnet_tx_kick(SplitnetTxQueue *txq);
void splitnet_tx_sent(SplitnetTxQueue *txq, ssize_t ret);

/* splitnet_rx.c */
void splitnet_rx_doorbell(SplitnetRxQueue *rxq);
bool splitnet_rx_can_receive(SplitnetRxQueue *rxq);
ssize_t splitnet_rx_receive(SplitnetRxQueue *rxq, const struct iovec *iov,
                            int iovcnt, const SplitnetRxHash *hash);

/* splitnet_rss.c */
void splitnet_rss_init(SplitnetCore *core);
void splitnet_rss_cleanup(SplitnetCore *core);
void splitnet_rss_reset(SplitnetCore *core);
bool splitnet_rss_is_reg(SplitnetCore *core, hwaddr addr);
uint32_t splitnet_rss_read(SplitnetCore *core, hwaddr addr);
void splitnet_rss_write(SplitnetCore *core, hwaddr addr, uint32_t val);
bool splitnet_rss_state_ok(SplitnetCore *core);
bool splitnet_rx_spreads(SplitnetCore *core);
unsigned splitnet_rx_default_pair(SplitnetCore *core, unsigned nc);
unsigned splitnet_rx_steer(SplitnetCore *core, unsigned nc,
                           const struct iovec *iov, int iovcnt, size_t skip,
                           SplitnetRxHash *hash);

/*
 * Undefined guest behaviour: a trace point and a LOG_GUEST_ERROR line, as
 * hw/nvme does.
 */
#define SPLITNET_GUEST_ERR(trace, fmt, ...) \
    do { \
        (trace_##trace)(__VA_ARGS__); \
        qemu_log_mask(LOG_GUEST_ERROR, #trace \
                      " in %s: " fmt "\n", __func__, ## __VA_ARGS__); \
    } while (0)

#endif
