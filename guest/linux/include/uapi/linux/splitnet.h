/* SPDX-License-Identifier: (GPL-2.0-or-later OR BSD-3-Clause) */
/*
 * splitnet: paravirtual PCI network device whose transmit path copies only
 * the head of each frame out of a pre-registered header pool and passes the
 * payload by reference.  This is the guest-visible ABI, shared by the QEMU
 * device model and the Linux driver; docs/specs/splitnet.rst explains it.
 * Its source is the Linux UAPI header guest/linux/include/uapi/linux/
 * splitnet.h; QEMU's include/standard-headers/linux/splitnet.h is generated
 * from it (scripts/update-abi-header.sh).
 *
 * Every multi-byte field, in registers and in guest memory, is little-endian.
 * Indices (producer, consumer, events) are free-running 32-bit counters; the
 * ring slot of index i is (i & (ring_size - 1)).
 */
#ifndef _LINUX_SPLITNET_H
#define _LINUX_SPLITNET_H

#include <linux/types.h>

/* PCI identity: QEMU's experimental device ID range, class Ethernet. */
#define SPLITNET_PCI_VENDOR_ID          0x1af4
#define SPLITNET_PCI_DEVICE_ID          0x10f5
#define SPLITNET_PCI_REVISION           0x01

#define SPLITNET_BAR_REGS               0       /* MMIO registers */
#define SPLITNET_BAR_MSIX               1       /* MSI-X table and PBA */
#define SPLITNET_REGS_SIZE              0x4000

#define SPLITNET_MAGIC                  0x544e5053      /* "SPNT" */
#define SPLITNET_VERSION_MAJOR          1
#define SPLITNET_VERSION_MINOR          3
#define SPLITNET_VERSION                ((SPLITNET_VERSION_MAJOR << 16) | \
					 SPLITNET_VERSION_MINOR)

/*
 * Global registers in BAR0.  32 bits wide unless marked 64; a 64-bit
 * register may be accessed as one 8-byte access or as two 4-byte halves
 * (low half at the lower address).  RO: read-only, RW: read-write,
 * RC: read-to-clear, WO: write-only (reads as 0).
 */
#define SPLITNET_REG_MAGIC              0x000   /* RO SPLITNET_MAGIC */
#define SPLITNET_REG_VERSION            0x004   /* RO major << 16 | minor */
#define SPLITNET_REG_DEV_FEATURES       0x008   /* RO 64: SPLITNET_F_* offered */
#define SPLITNET_REG_DRV_FEATURES       0x010   /* RW 64: SPLITNET_F_* accepted */
#define SPLITNET_REG_CTRL               0x018   /* RW SPLITNET_CTRL_* */
#define SPLITNET_REG_STATUS             0x01c   /* RO SPLITNET_STATUS_* */
#define SPLITNET_REG_ERROR              0x020   /* RO SPLITNET_ERR_*, first error */
#define SPLITNET_REG_ERROR_QUEUE        0x024   /* RO queue of that error */
#define SPLITNET_REG_MAC_LO             0x028   /* RW MAC bytes 0..3 */
#define SPLITNET_REG_MAC_HI             0x02c   /* RW MAC bytes 4..5 */
#define SPLITNET_REG_MTU                0x030   /* RW 68..MAX_MTU */
#define SPLITNET_REG_MAX_MTU            0x034   /* RO */
#define SPLITNET_REG_MAX_QUEUE_PAIRS    0x038   /* RO TX/RX queue pairs */
#define SPLITNET_REG_MAX_RING_SIZE      0x03c   /* RO descriptors per ring */
#define SPLITNET_REG_TX_SLOT_SIZE       0x040   /* RO header pool slot bytes */
#define SPLITNET_REG_NUM_VECTORS        0x044   /* RO MSI-X vectors */
#define SPLITNET_REG_STATUS_BASE        0x048   /* RW 64: status block address */
#define SPLITNET_REG_RX_FILTER          0x050   /* RW SPLITNET_RX_FILTER_* */
#define SPLITNET_REG_CONFIG_VECTOR      0x054   /* RW MSI-X vector, config */
#define SPLITNET_REG_MC_HASH            0x058   /* RW 64: multicast hash */
#define SPLITNET_REG_ISR                0x060   /* RC SPLITNET_ISR_* (INTx) */
#define SPLITNET_REG_INTR_MASK          0x064   /* RW 1 = ISR bit masked */
/*
 * (1.3) VLAN filter: 4096 bits, one per VLAN ID, in 128 registers of 32
 * bits; ID v is bit (v % 32) of VLAN_TABLE(v / 32).  Used with
 * RX_FILTER_VLAN.
 */
#define SPLITNET_REG_VLAN_TABLE_BASE    0x800   /* RW 128 x 32 bits */
#define SPLITNET_VLAN_TABLE_REGS        128
#define SPLITNET_REG_VLAN_TABLE(n)      (SPLITNET_REG_VLAN_TABLE_BASE + 4 * (n))

/*
 * RSS (F_MQ, 1.3): which frames are hashed (RSS_HASH_TYPES), with which
 * Toeplitz key (RSS_KEY: byte i of the key in bits 8 * (i % 4) of the
 * register at RSS_KEY + (i & ~3)), and to which queue pair a hash steers:
 * entry (hash % RSS_INDIR_SIZE) of the indirection table, one register
 * per entry, naming a pair below RSS_QUEUES.  They exist only on a device
 * that offers F_MQ and take effect only once the driver accepted it.
 */
#define SPLITNET_REG_RSS_HASH_TYPES     0x100   /* RW SPLITNET_RSS_HASH_* */
#define SPLITNET_REG_RSS_QUEUES         0x104   /* RW pairs in use, 1..MAX */
#define SPLITNET_REG_RSS_KEY            0x140   /* RW 40 bytes, 10 regs */
#define SPLITNET_REG_RSS_INDIR          0x200   /* RW RSS_INDIR_SIZE regs */
#define SPLITNET_REG_RSS_INDIR_ENTRY(i) (SPLITNET_REG_RSS_INDIR + 4 * (i))
#define SPLITNET_RSS_KEY_SIZE           40
#define SPLITNET_RSS_INDIR_SIZE         128

/* CTRL */
#define SPLITNET_CTRL_RESET             (1u << 0)   /* self-clearing */
#define SPLITNET_CTRL_DRIVER_OK         (1u << 1)   /* receive enabled */

/* STATUS */
#define SPLITNET_STATUS_LINK_UP         (1u << 0)
#define SPLITNET_STATUS_DRIVER_OK       (1u << 1)
#define SPLITNET_STATUS_ERROR           (1u << 2)   /* queues halted */

/*
 * Device error states (REG_ERROR).  Any of these halts every queue and
 * raises the config interrupt; only a reset (CTRL_RESET) leaves the state.
 */
#define SPLITNET_ERR_NONE               0
#define SPLITNET_ERR_RING_CONFIG        1   /* bad ring size/alignment */
#define SPLITNET_ERR_XLATE              2   /* ring/pool/status not in RAM */
#define SPLITNET_ERR_PROD_INDEX         3   /* producer > ring size ahead */
#define SPLITNET_ERR_DMA                4   /* ring or status access failed */
#define SPLITNET_ERR_TX_CHAIN           5   /* published frame lacks EOP */

/* RX_FILTER: which destination addresses are accepted. */
#define SPLITNET_RX_FILTER_UNICAST      (1u << 0)   /* our MAC */
#define SPLITNET_RX_FILTER_BROADCAST    (1u << 1)
#define SPLITNET_RX_FILTER_MULTICAST    (1u << 2)   /* those in MC_HASH */
#define SPLITNET_RX_FILTER_ALLMULTI     (1u << 3)
#define SPLITNET_RX_FILTER_PROMISC      (1u << 4)
#define SPLITNET_RX_FILTER_VLAN         (1u << 5)   /* F_VLAN: VLAN_TABLE (1.3) */

/*
 * MC_HASH bit for a multicast address: the top 6 bits of the big-endian
 * CRC-32 of the 6 address bytes (Linux: ether_crc(ETH_ALEN, addr) >> 26).
 */
#define SPLITNET_MC_HASH_SHIFT          26

/* ISR bits, used with INTx; with MSI-X each source has its own vector. */
#define SPLITNET_ISR_CONFIG             (1u << 0)   /* link change, error */
/*
 * Queue 31 (pair 15's RX queue) has no bit of its own: it shares queue 30's
 * (1.3), SPLITNET_ISR_QUEUE(SPLITNET_ISR_LAST_QUEUE).
 */
#define SPLITNET_ISR_QUEUE(q)           (1u << (1 + (q)))
#define SPLITNET_ISR_LAST_QUEUE         30

#define SPLITNET_NO_VECTOR              0xffff

/*
 * Feature bits (DEV_FEATURES / DRV_FEATURES).  A driver sets in DRV_FEATURES
 * only bits it understands from DEV_FEATURES, before enabling any queue.
 * Bits marked "reserved" are defined so that the descriptor layout already
 * carries their fields; a device that does not offer them ignores the fields.
 */
#define SPLITNET_F_EVENT_IDX            (1ull << 0) /* doorbell/irq suppression */
#define SPLITNET_F_TX_CSUM              (1ull << 1) /* TXD_CSUM (1.1) */
#define SPLITNET_F_TSO4                 (1ull << 2) /* TXD_TSO, GSO_TCPV4 (1.1) */
#define SPLITNET_F_TSO6                 (1ull << 3) /* TXD_TSO, GSO_TCPV6 (1.1) */
#define SPLITNET_F_RX_CSUM              (1ull << 4) /* RXD_CSUM_OK, NEEDS_CSUM (1.2) */
#define SPLITNET_F_VLAN                 (1ull << 5) /* TXD_VLAN, RXD_VLAN (1.3) */
#define SPLITNET_F_MQ                   (1ull << 6) /* pairs, RSS (1.3) */
#define SPLITNET_F_RX_GSO               (1ull << 7) /* RXD_GSO_*: large frames (1.2) */
#define SPLITNET_F_USO                  (1ull << 8) /* TXD_TSO, GSO_UDP_L4 (1.3) */

/*
 * Queues.  Queue q = 2 * pair is the TX queue of a pair, q = 2 * pair + 1
 * its RX queue.  Each queue has a register block in BAR0 and an entry in
 * the status block.
 */
/*
 * The most pairs a device may have (it reports its own number in
 * MAX_QUEUE_PAIRS): one per vCPU of guests up to 16 vCPUs.  The 32 queue
 * register blocks end at 0x3000, inside the 16 KiB BAR0; NUM_VECTORS is
 * then 33.
 */
#define SPLITNET_MAX_QUEUE_PAIRS        16
#define SPLITNET_TXQ(pair)              (2 * (pair))
#define SPLITNET_RXQ(pair)              (2 * (pair) + 1)
#define SPLITNET_QUEUE_IS_RX(q)         ((q) & 1)

#define SPLITNET_QUEUE_REGS_BASE        0x1000
#define SPLITNET_QUEUE_REGS_STRIDE      0x100
#define SPLITNET_QUEUE_REGS(q)          (SPLITNET_QUEUE_REGS_BASE + \
					 (q) * SPLITNET_QUEUE_REGS_STRIDE)

/* Registers of a queue, relative to SPLITNET_QUEUE_REGS(q). */
#define SPLITNET_Q_RING_BASE            0x00    /* RW 64: descriptor ring */
#define SPLITNET_Q_POOL_BASE            0x08    /* RW 64: TX header pool */
#define SPLITNET_Q_RING_SIZE            0x10    /* RW power of 2, 8..MAX */
#define SPLITNET_Q_VECTOR               0x14    /* RW MSI-X vector */
#define SPLITNET_Q_ENABLE               0x18    /* RW 1: translate + start */
#define SPLITNET_Q_INTR_DELAY           0x1c    /* RW moderation, usecs */
#define SPLITNET_Q_DOORBELL             0x20    /* WO producer index */
#define SPLITNET_Q_STATS                0x80    /* RO 64 each, see below */
#define SPLITNET_Q_STAT(n)              (SPLITNET_Q_STATS + 8 * (n))

/* Per-queue counters (SPLITNET_Q_STAT(n)); they survive only until reset. */
#define SPLITNET_STAT_FRAMES            0   /* frames sent / delivered */
#define SPLITNET_STAT_BYTES             1   /* their bytes */
#define SPLITNET_STAT_ERRORS            2   /* guest errors seen */
#define SPLITNET_STAT_DOORBELLS         3   /* doorbell writes */
#define SPLITNET_STAT_INTERRUPTS        4   /* interrupts raised */
#define SPLITNET_STAT_XLATE_REBUILDS    5   /* translation caches built */
#define SPLITNET_STAT_TX_HEAD_BYTES     6   /* bytes copied from the pool */
#define SPLITNET_STAT_TX_PAYLOAD_REF    7   /* payload bytes by reference */
#define SPLITNET_STAT_TX_PAYLOAD_COPY   8   /* payload bytes copied */
#define SPLITNET_STAT_TX_STALLS         9   /* backpressure stalls */
#define SPLITNET_STAT_TX_CSUM           10  /* frames checksummed (1.1) */
#define SPLITNET_STAT_TX_TSO            11  /* TSO frames segmented (1.1) */
#define SPLITNET_STAT_TX_TSO_SEGS       12  /* segments they became (1.1) */
#define SPLITNET_STAT_TX_GSO_PASS       13  /* TSO frames passed whole (1.2) */
#define SPLITNET_STAT_TX_CSUM_PASS      14  /* TXD_CSUM passed on (1.2) */
#define SPLITNET_STAT_TX_USO            15  /* USO frames segmented (1.3) */
#define SPLITNET_STAT_RX_NO_BUFFER      6   /* waits for posted buffers */
#define SPLITNET_STAT_RX_FILTERED       7   /* dropped by RX_FILTER */
#define SPLITNET_STAT_RX_OVERSIZE       8   /* dropped: larger than ring */
#define SPLITNET_STAT_RX_CSUM           9   /* with a checksum status (1.2) */
#define SPLITNET_STAT_RX_GSO            10  /* large frames, whole (1.2) */
#define SPLITNET_STAT_RX_OFFLOAD_DROP   11  /* offload not accepted (1.2) */
#define SPLITNET_STAT_RX_VLAN           12  /* tags stripped (1.3) */
#define SPLITNET_STAT_RX_VLAN_FILTERED  13  /* dropped by VLAN_TABLE (1.3) */
/* STATS to the end of the queue's block: room for 16, no more. */
#define SPLITNET_NUM_STATS              16

/*
 * Status block: an array of (2 * MAX_QUEUE_PAIRS) entries at STATUS_BASE,
 * 64-byte aligned, indexed by queue number; the device reads and writes
 * only the entries of enabled queues, so a driver that uses fewer pairs
 * may allocate fewer entries (1.3).  The driver owns the first half
 * of each entry and the device the second, so neither writes the other's
 * cache line.
 *
 * prod:           descriptors the driver has made available (TX: frames to
 *                 send, RX: empty buffers).  The driver updates it before
 *                 it writes the doorbell; the device reads it whenever it
 *                 looks for work, so a doorbell is needed only to wake it.
 * intr_event:     with F_EVENT_IDX, the device raises the queue's interrupt
 *                 only when cons moves from old to new past intr_event,
 *                 that is when new - intr_event - 1 < new - old, both
 *                 computed modulo 2^32.
 * cons:           descriptors the device has finished (TX: sent, may be
 *                 reused; RX: filled, see the write-back fields).
 * doorbell_event: with F_EVENT_IDX, the driver writes the doorbell only when
 *                 prod moves past doorbell_event by the same rule; while the
 *                 device is busy it leaves doorbell_event behind, so a busy
 *                 queue costs no doorbells.
 */
struct splitnet_queue_status {
	/* written by the driver */
	__le32 prod;
	__le32 intr_event;
	__le32 drv_reserved[6];
	/* written by the device */
	__le32 cons;
	__le32 doorbell_event;
	__le32 dev_reserved[6];
};

#define SPLITNET_STATUS_ENTRY_SIZE      64
#define SPLITNET_STATUS_BLOCK_SIZE      (2 * SPLITNET_MAX_QUEUE_PAIRS * \
					 SPLITNET_STATUS_ENTRY_SIZE)
#define SPLITNET_STATUS_ALIGN           64

/*
 * TX.  A frame is one or more consecutive descriptors, the last with
 * SPLITNET_TXD_EOP.  Its bytes are, in order: hdr_len bytes of the header
 * pool slot that belongs to the first descriptor's ring slot (slot i at
 * POOL_BASE + i * TX_SLOT_SIZE), then each descriptor's payload fragment
 * (addr, len).  The device copies the head out of the slot once and never
 * reads the slot again; it reads payload fragments without writing them.
 * hdr_len is 0 in every descriptor but the first of a frame.  (1.3) With
 * TXD_VLAN the device puts an 802.1Q tag (0x8100, vlan_tci) after the MAC
 * addresses of its head copy: the frame grows by 4 bytes.
 */
struct splitnet_tx_desc {
	__le64 addr;		/* payload fragment address */
	__le32 len;		/* payload fragment bytes, may be 0 */
	__le16 hdr_len;		/* head bytes in the pool slot */
	__le16 flags;		/* SPLITNET_TXD_* */
	__le16 csum_start;	/* F_TX_CSUM: from frame start */
	__le16 csum_offset;	/* F_TX_CSUM: from csum_start */
	__le16 gso_size;	/* F_TSO*, F_USO: MSS */
	__u8 gso_type;		/* F_TSO*, F_USO: SPLITNET_GSO_* */
	__u8 reserved0;
	__le16 vlan_tci;	/* F_VLAN: tag to insert */
	__le16 reserved1;
	__le32 reserved2;
};

#define SPLITNET_TX_DESC_SIZE           32
#define SPLITNET_TXD_EOP                (1u << 0)   /* last of the frame */
#define SPLITNET_TXD_CSUM               (1u << 1)   /* F_TX_CSUM */
#define SPLITNET_TXD_TSO                (1u << 2)   /* F_TSO4/6, F_USO */
#define SPLITNET_TXD_VLAN               (1u << 3)   /* F_VLAN */

#define SPLITNET_GSO_NONE               0
#define SPLITNET_GSO_TCPV4              1
#define SPLITNET_GSO_TCPV6              2
#define SPLITNET_GSO_UDP_L4             3   /* F_USO: IPv4 or IPv6 (1.3) */

/*
 * TSO bounds, for USO too: a TSO frame (head and payload) is at most
 * TSO_MAX_SIZE bytes and becomes at most TSO_MAX_SEGS segments of gso_size payload bytes each
 * (the last may be shorter); gso_size is at least TSO_MIN_SEG_SIZE.
 */
#define SPLITNET_TSO_MAX_SIZE           65536
#define SPLITNET_TSO_MAX_SEGS           128
#define SPLITNET_TSO_MIN_SEG_SIZE       64

/* Largest number of descriptors one frame may span. */
#define SPLITNET_TX_MAX_FRAGS           32
/*
 * Fewest head bytes a frame may have: at least its Ethernet header is in
 * the head, so the device decides from its private copy alone.
 */
#define SPLITNET_TX_MIN_HEAD            14
/* Header pool slot sizes a device may report in TX_SLOT_SIZE. */
#define SPLITNET_TX_SLOT_MIN            64
#define SPLITNET_TX_SLOT_MAX            256

/*
 * RX.  The driver fills addr and buf_len and makes the descriptor available
 * through prod; the device writes a received frame into one or more
 * consecutive buffers, writes len and flags back into each descriptor it
 * used (SPLITNET_RXD_EOP on the last), then advances cons past them.
 *
 * With F_RX_CSUM the first descriptor of a frame also says what is known
 * of its checksum: RXD_CSUM_OK (verified), or RXD_NEEDS_CSUM with
 * csum_start and csum_offset (partial, as TXD_CSUM: the sum from
 * csum_start to the end is still to be stored at csum_start +
 * csum_offset).  With F_RX_GSO a frame may be a large TCP segment, marked
 * RXD_GSO_TCPV4 or RXD_GSO_TCPV6 (and RXD_GSO_ECN), always with
 * RXD_NEEDS_CSUM, to be cut at gso_size.  (1.3) With F_VLAN the device
 * takes an 802.1Q tag out of the frame and reports it in vlan_tci, with
 * RXD_VLAN.
 */
struct splitnet_rx_desc {
	__le64 addr;		/* driver: buffer address */
	__le16 buf_len;		/* driver: buffer bytes, nonzero */
	__le16 reserved0;
	__le32 reserved1;
	/* written by the device */
	__le16 len;		/* bytes written to this buffer */
	__le16 flags;		/* SPLITNET_RXD_* */
	__le16 vlan_tci;	/* F_VLAN: stripped tag */
	__le16 csum_start;	/* F_RX_CSUM: with RXD_NEEDS_CSUM */
	__le32 hash;		/* F_MQ: RSS hash, with RXD_HASH */
	__le16 csum_offset;	/* F_RX_CSUM: with RXD_NEEDS_CSUM */
	__le16 gso_size;	/* F_RX_GSO: with RXD_GSO_* */
};

#define SPLITNET_RX_DESC_SIZE           32
#define SPLITNET_RXD_EOP                (1u << 0)   /* last buffer of frame */
#define SPLITNET_RXD_CSUM_OK            (1u << 1)   /* F_RX_CSUM: verified */
#define SPLITNET_RXD_VLAN               (1u << 2)   /* F_VLAN */
#define SPLITNET_RXD_HASH               (1u << 3)   /* F_MQ */
#define SPLITNET_RXD_NEEDS_CSUM         (1u << 4)   /* F_RX_CSUM: partial */
#define SPLITNET_RXD_GSO_TCPV4          (1u << 5)   /* F_RX_GSO */
#define SPLITNET_RXD_GSO_TCPV6          (1u << 6)   /* F_RX_GSO */
#define SPLITNET_RXD_GSO_ECN            (1u << 7)   /* F_RX_GSO: CWR set */
/* F_MQ: with RXD_HASH, what the hash was computed over (1.3). */
#define SPLITNET_RXD_HASH_TYPE_SHIFT    12
#define SPLITNET_RXD_HASH_TYPE_MASK     (0xfu << SPLITNET_RXD_HASH_TYPE_SHIFT)

/*
 * RSS hash types (1.3).  Type t is enabled by bit t - 1 of RSS_HASH_TYPES
 * (SPLITNET_RSS_HASH(t)) and reported in an RX descriptor's flags as
 * t << RXD_HASH_TYPE_SHIFT.  IP types hash the source and destination
 * addresses; TCP and UDP types the addresses and then the source and
 * destination ports, as Microsoft's RSS specification defines them.
 */
#define SPLITNET_HASH_TYPE_NONE         0
#define SPLITNET_HASH_TYPE_IPV4         1
#define SPLITNET_HASH_TYPE_TCPV4        2
#define SPLITNET_HASH_TYPE_UDPV4        3
#define SPLITNET_HASH_TYPE_IPV6         4
#define SPLITNET_HASH_TYPE_TCPV6        5
#define SPLITNET_HASH_TYPE_UDPV6        6
#define SPLITNET_RSS_HASH(t)            (1u << ((t) - 1))
#define SPLITNET_RSS_HASH_ALL           0x3fu

/* RING_SIZE and MAX_RING_SIZE: a power of two in this range. */
#define SPLITNET_RING_SIZE_MIN          8
#define SPLITNET_RING_SIZE_MAX          4096
#define SPLITNET_RING_ALIGN             64

#endif /* _LINUX_SPLITNET_H */
