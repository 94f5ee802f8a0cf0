/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * splitnet: Linux driver for the head-copy paravirtual NIC.
 *
 * Driver-internal definitions.  The device ABI (registers, descriptors,
 * status block) is the UAPI header include/uapi/linux/splitnet.h, from
 * which the QEMU device model's copy is generated.
 */
#ifndef _SPLITNET_DRV_H
#define _SPLITNET_DRV_H

#include <linux/build_bug.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/netdevice.h>
#include <linux/pci.h>
#include <linux/u64_stats_sync.h>
#include <linux/if_vlan.h>
#include <linux/workqueue.h>

#include <linux/splitnet.h>

#define SPLITNET_DRV_NAME		"splitnet"

/* The ABI layout the driver relies on. */
static_assert(sizeof(struct splitnet_tx_desc) == SPLITNET_TX_DESC_SIZE);
static_assert(sizeof(struct splitnet_rx_desc) == SPLITNET_RX_DESC_SIZE);
static_assert(sizeof(struct splitnet_queue_status) ==
	      SPLITNET_STATUS_ENTRY_SIZE);

/* Features this driver understands. */
#define SPLITNET_DRV_FEATURES		(SPLITNET_F_EVENT_IDX | SPLITNET_F_TX_CSUM | \
					 SPLITNET_F_TSO4 | SPLITNET_F_TSO6 | \
					 SPLITNET_F_RX_CSUM | SPLITNET_F_RX_GSO | \
					 SPLITNET_F_VLAN | SPLITNET_F_USO | \
					 SPLITNET_F_MQ)

/*
 * MSI-X vectors: config, then one per queue pair, shared by its TX and
 * RX queues (one NAPI instance serves both).
 */
#define SPLITNET_VEC_CONFIG		0
#define SPLITNET_VEC_PAIR(p)		(1 + (p))

/* RSS hash types used unless ethtool -N says otherwise: all of them. */
#define SPLITNET_RSS_TYPES_DEFAULT	SPLITNET_RSS_HASH_ALL

/*
 * Ring sizes the driver uses.  The lower bound leaves room for a frame with
 * the most fragments the stack hands over, even when the device would allow
 * smaller rings: with 8 descriptors one frame fills the TX ring, and every
 * frame stops the queue.
 */
#define SPLITNET_RING_MIN		32
#define SPLITNET_RING_DEFAULT		256
static_assert(SPLITNET_RING_MIN >= SPLITNET_RING_SIZE_MIN);
static_assert(MAX_SKB_FRAGS + 1 < SPLITNET_RING_MIN);
static_assert(SPLITNET_RING_MIN <= SPLITNET_RING_SIZE_MAX);
/* RX buffers are posted again this long after an allocation failed. */
#define SPLITNET_REFILL_DELAY		(HZ / 2)
/*
 * TX completions only free buffers, and start_xmit reclaims them anyway
 * while traffic flows, so the TX interrupt can wait: at 200 us the device
 * raised about one per 35 frames at 60-byte line rate under TCG, as often
 * as e1000 does (make bench; 50 us cost 40 % of the packet rate).  The
 * device now also holds a TX interrupt on while we ring at least 16 times
 * a delay (spec: INTR_DELAY), up to 8 delays: one per 300 frames there,
 * for 1.1 to 1.5 times the packet rate.  RX interrupts carry data the
 * stack is waiting for and are not delayed.
 */
#define SPLITNET_TX_USECS_DEFAULT	200
#define SPLITNET_RX_USECS_DEFAULT	0

/* Frames up to this size are copied out of the RX page; the page stays. */
#define SPLITNET_RX_COPYBREAK		256
/* Each RX buffer is one page, laid out so that build_skb() can use it. */
#define SPLITNET_RX_HEADROOM		(NET_SKB_PAD + NET_IP_ALIGN)
#define SPLITNET_RX_BUF_LEN		(SKB_WITH_OVERHEAD(PAGE_SIZE) - \
					 SPLITNET_RX_HEADROOM)

/* TX descriptor bookkeeping: how to undo the mapping of its fragment. */
enum splitnet_tx_map {
	SPLITNET_TX_MAP_NONE,
	SPLITNET_TX_MAP_SINGLE,
	SPLITNET_TX_MAP_PAGE,
};

struct splitnet_tx_buf {
	struct sk_buff *skb;		/* set on the frame's EOP descriptor */
	dma_addr_t dma;
	u32 len;
	u8 map;				/* enum splitnet_tx_map */
};

struct splitnet_rx_buf {
	struct page *page;		/* from the ring's page pool */
	dma_addr_t dma;			/* of the whole page */
};

/*
 * Counters kept by the driver; the device's own come from STATS.  Each set
 * has one writer: start_xmit, TX completion in NAPI, or RX in NAPI.
 */
struct splitnet_tx_xmit_stats {
	u64 dropped;
	u64 map_errors;
	u64 linearized;
	u64 doorbells;
	u64 stops;
	u64 busy;
	u64 head_bytes;
	u64 whole_frames;		/* frames copied entirely into the slot */
	struct u64_stats_sync syncp;
};

struct splitnet_tx_compl_stats {
	u64 packets;
	u64 bytes;
	u64 wakes;
	struct u64_stats_sync syncp;
};

struct splitnet_rx_stats {
	u64 packets;
	u64 bytes;
	u64 dropped;
	u64 errors;
	u64 copybreak;
	u64 alloc_errors;
	u64 doorbells;
	struct u64_stats_sync syncp;
};

struct splitnet_tx_ring {
	struct splitnet_priv *priv;
	u16 qid;				/* pair, and netdev TX queue */
	struct splitnet_tx_desc *desc;		/* DMA coherent */
	u8 *pool;				/* header pool, DMA coherent */
	dma_addr_t desc_dma;
	dma_addr_t pool_dma;
	struct splitnet_tx_buf *bufs;
	struct splitnet_queue_status *status;
	void __iomem *doorbell;
	u32 size;
	u32 mask;
	u32 slot_size;
	u32 max_frame_descs;		/* stop the queue below this many free */
	u32 prod;			/* owned by start_xmit */
	u32 kicked;			/* prod at the last doorbell decision */
	u32 clean;			/* owned by NAPI */
	u32 intr_event;			/* last written, under the TX lock */
	struct splitnet_tx_xmit_stats xstats;
	struct splitnet_tx_compl_stats cstats;
};

struct splitnet_rx_ring {
	struct splitnet_priv *priv;
	u16 qid;				/* pair, and netdev RX queue */
	struct splitnet_rx_desc *desc;		/* DMA coherent */
	dma_addr_t desc_dma;
	struct splitnet_rx_buf *bufs;
	struct page_pool *pool;			/* the buffers' pages */
	struct splitnet_queue_status *status;
	void __iomem *doorbell;
	u32 size;
	u32 mask;
	u32 prod;			/* buffers posted */
	u32 clean;			/* buffers handed to the stack or reused */
	struct splitnet_rx_stats stats;
};

/* A queue pair: its TX and RX rings, its NAPI instance and vector. */
struct splitnet_pair {
	struct napi_struct napi;
	struct splitnet_tx_ring tx;
	struct splitnet_rx_ring rx;
	char irq_name[IFNAMSIZ + 16];
};

struct splitnet_priv {
	struct net_device *netdev;
	struct pci_dev *pdev;
	void __iomem *regs;

	struct splitnet_pair *pairs;		/* max_pairs of them */
	u32 max_pairs;				/* device, vectors, CPUs */
	u32 num_pairs;				/* in use (ethtool -L) */

	struct splitnet_queue_status *status;	/* DMA coherent block */
	dma_addr_t status_dma;

	/* device limits, read at probe */
	u32 version;
	u64 dev_features;
	u64 features;			/* negotiated */
	u32 max_ring_size;
	u32 slot_size;

	/* configuration, kept across resets */
	u32 tx_ring_size;
	u32 rx_ring_size;
	u32 tx_usecs;
	u32 rx_usecs;
	/* VLANs the stack listens to: the device's VLAN table, as written */
	u32 vlans[SPLITNET_VLAN_TABLE_REGS];
	bool vlan_filter;		/* NETIF_F_HW_VLAN_CTAG_FILTER on */

	bool msix;
	bool up;			/* rings allocated, device running */
	/*
	 * The device did not leave reset: bus mastering is off and the memory
	 * it was given is never freed, as it might still write to it.
	 */
	bool dead;
	/* A ring index made no sense: NAPI stops until the reset. */
	bool halted;
	char irq_name[IFNAMSIZ + 16];		/* config, or INTx */

	/* RSS (F_MQ): written at every start, changed by ethtool -X/-N */
	u8 rss_key[SPLITNET_RSS_KEY_SIZE];
	u32 rss_indir[SPLITNET_RSS_INDIR_SIZE];
	u32 rss_types;

	/* device counters accumulated over resets (which clear them) */
	u64 dev_stats_base[2 * SPLITNET_MAX_QUEUE_PAIRS][SPLITNET_NUM_STATS];

	u64 resets;
	struct work_struct reset_work;
	struct delayed_work refill_work;	/* RX buffers NAPI could not post */
};

static inline bool splitnet_has(const struct splitnet_priv *priv, u64 feature)
{
	return priv->features & feature;
}

static inline u32 splitnet_rd32(const struct splitnet_priv *priv, u32 reg)
{
	return ioread32(priv->regs + reg);
}

static inline void splitnet_wr32(const struct splitnet_priv *priv, u32 reg,
				 u32 val)
{
	iowrite32(val, priv->regs + reg);
}

/*
 * 64-bit registers in one 8-byte access; where the CPU has none,
 * io-64-nonatomic-lo-hi.h makes it two, low half first, which the device
 * latches so that neither a read nor a write is torn (spec: "Registers").
 */
static inline u64 splitnet_rd64(const struct splitnet_priv *priv, u32 reg)
{
	return ioread64(priv->regs + reg);
}

static inline void splitnet_wr64(const struct splitnet_priv *priv, u32 reg,
				 u64 val)
{
	iowrite64(val, priv->regs + reg);
}

static inline u32 splitnet_qreg(unsigned int q, u32 reg)
{
	return SPLITNET_QUEUE_REGS(q) + reg;
}

/*
 * The event-index rule of the spec: a notification is due when an index
 * moved from @old to @new past @event.
 */
static inline bool splitnet_need_event(u32 event, u32 new, u32 old)
{
	return (u32)(new - event - 1) < (u32)(new - old);
}

/* splitnet_main.c */
void splitnet_schedule_reset(struct splitnet_priv *priv);
void splitnet_ring_error(struct splitnet_priv *priv);
int splitnet_reconfigure(struct splitnet_priv *priv, u32 tx_size,
			 u32 rx_size, u32 pairs, struct netlink_ext_ack *extack);
void splitnet_apply_coalesce(struct splitnet_priv *priv);
void splitnet_write_rss(struct splitnet_priv *priv);
u64 splitnet_dev_stat(struct splitnet_priv *priv, unsigned int q,
		      unsigned int n);

u64 splitnet_rx_features(struct splitnet_priv *priv,
			 netdev_features_t features);

/* splitnet_tx.c */
int splitnet_tx_alloc(struct splitnet_priv *priv, struct splitnet_tx_ring *tx,
		      u32 size);
void splitnet_tx_free(struct splitnet_priv *priv, struct splitnet_tx_ring *tx);
void splitnet_tx_swap_mem(struct splitnet_tx_ring *a,
			  struct splitnet_tx_ring *b);
void splitnet_tx_init(struct splitnet_priv *priv, struct splitnet_tx_ring *tx,
		      u16 qid);
void splitnet_tx_drain(struct splitnet_tx_ring *tx);
netdev_tx_t splitnet_start_xmit(struct sk_buff *skb, struct net_device *dev);
netdev_features_t splitnet_features_check(struct sk_buff *skb,
					  struct net_device *dev,
					  netdev_features_t features);
void splitnet_tx_poll(struct splitnet_tx_ring *tx, int budget);
bool splitnet_tx_arm(struct splitnet_tx_ring *tx);

/* splitnet_rx.c */
int splitnet_rx_alloc(struct splitnet_priv *priv, struct splitnet_rx_ring *rx,
		      u32 size);
void splitnet_rx_free(struct splitnet_priv *priv, struct splitnet_rx_ring *rx);
void splitnet_rx_swap_mem(struct splitnet_rx_ring *a,
			  struct splitnet_rx_ring *b);
void splitnet_rx_init(struct splitnet_priv *priv, struct splitnet_rx_ring *rx,
		      u16 qid);
void splitnet_rx_release(struct splitnet_rx_ring *rx);
bool splitnet_rx_post(struct splitnet_rx_ring *rx, gfp_t gfp);
int splitnet_rx_poll(struct splitnet_rx_ring *rx, int budget);
bool splitnet_rx_arm(struct splitnet_rx_ring *rx);

/* splitnet_ethtool.c */
extern const struct ethtool_ops splitnet_ethtool_ops;

#endif /* _SPLITNET_DRV_H */
