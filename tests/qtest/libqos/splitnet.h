/*
 * libqos driver for the splitnet paravirtual NIC
 *
 * A minimal driver that follows the bring-up sequence of
 * docs/specs/splitnet.rst: it maps BAR0, allocates the status block, the
 * rings and the TX header pool in guest memory, posts TX frames (head in
 * the pool slot, payload as fragments) and RX buffers, rings doorbells and
 * reads back the consumer indices and counters.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef QOS_SPLITNET_H
#define QOS_SPLITNET_H

#include "qgraph.h"
#include "pci.h"
#include "libqos-malloc.h"
#include "standard-headers/linux/splitnet.h"

#define SPLITNET_TEST_MAC { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 }
#define SPLITNET_TEST_MAC_STR "52:54:00:12:34:56"

/* MSI-X message data the driver programs; vector v sends BASE + v. */
#define SPLITNET_MSIX_DATA_BASE 0x5e000000u

typedef struct QSplitnetQueue {
    int q;                  /* queue number: 2 * pair (+1 for RX) */
    uint32_t size;          /* RING_SIZE */
    uint64_t ring;          /* descriptor ring */
    uint64_t pool;          /* TX header pool, 0 for RX */
    uint32_t prod;          /* driver's producer index (shadow) */
} QSplitnetQueue;

typedef struct QSplitnet {
    QPCIDevice *pdev;
    QGuestAllocator *alloc;
    QPCIBar bar;
    uint64_t status;        /* status block, 0 when not allocated */
    uint64_t msix_mem;      /* where MSI-X messages land */
    uint32_t slot_size;     /* TX_SLOT_SIZE */
    QSplitnetQueue txq;
    QSplitnetQueue rxq;
} QSplitnet;

typedef struct QSplitnetPCI {
    QOSGraphObject obj;
    QPCIDevice pci_dev;
    QSplitnet sn;
} QSplitnetPCI;

/* One TX payload fragment: len bytes at guest address addr. */
typedef struct QSplitnetFrag {
    uint64_t addr;
    uint32_t len;
} QSplitnetFrag;

/* Registers */
uint32_t qsplitnet_readl(QSplitnet *d, uint32_t off);
void qsplitnet_writel(QSplitnet *d, uint32_t off, uint32_t val);
uint64_t qsplitnet_readq(QSplitnet *d, uint32_t off);
void qsplitnet_writeq(QSplitnet *d, uint32_t off, uint64_t val);
uint32_t qsplitnet_qreadl(QSplitnet *d, int q, uint32_t off);
void qsplitnet_qwritel(QSplitnet *d, int q, uint32_t off, uint32_t val);
void qsplitnet_qwriteq(QSplitnet *d, int q, uint32_t off, uint64_t val);
uint64_t qsplitnet_stat(QSplitnet *d, int q, int n);

/* Bring-up */
void qsplitnet_init(QSplitnet *d, QPCIDevice *pdev, QGuestAllocator *alloc);
void qsplitnet_destroy(QSplitnet *d);
void qsplitnet_reset(QSplitnet *d);
void qsplitnet_status_setup(QSplitnet *d);
void qsplitnet_queue_alloc(QSplitnet *d, QSplitnetQueue *vq, int q,
                           uint32_t size);
void qsplitnet_queue_program(QSplitnet *d, QSplitnetQueue *vq,
                             uint16_t vector);
void qsplitnet_queue_enable(QSplitnet *d, QSplitnetQueue *vq);
void qsplitnet_bringup(QSplitnet *d, uint32_t ring_size, uint64_t features);

/* Status block */
uint64_t qsplitnet_status_entry(QSplitnet *d, int q);
uint32_t qsplitnet_cons(QSplitnet *d, int q);
uint32_t qsplitnet_doorbell_event(QSplitnet *d, int q);
void qsplitnet_set_prod(QSplitnet *d, int q, uint32_t prod);
void qsplitnet_set_intr_event(QSplitnet *d, int q, uint32_t event);
bool qsplitnet_wait_cons(QSplitnet *d, int q, uint32_t cons);
void qsplitnet_sync(QSplitnet *d);

/* TX */
void qsplitnet_tx_write_desc(QSplitnet *d, uint32_t idx,
                             const struct splitnet_tx_desc *desc);
void qsplitnet_tx_write_head(QSplitnet *d, uint32_t idx,
                             const void *head, size_t len);
void qsplitnet_tx_add(QSplitnet *d, uint64_t addr, uint32_t len,
                      uint16_t hdr_len, uint16_t flags);
void qsplitnet_tx_frame(QSplitnet *d, const void *head, uint16_t hdr_len,
                        const QSplitnetFrag *frags, int nfrags);
void qsplitnet_publish(QSplitnet *d, QSplitnetQueue *vq);
void qsplitnet_kick(QSplitnet *d, QSplitnetQueue *vq);

/* RX */
void qsplitnet_rx_post(QSplitnet *d, uint64_t addr, uint16_t buf_len);
void qsplitnet_rx_read_desc(QSplitnet *d, uint32_t idx,
                            struct splitnet_rx_desc *desc);

/* Interrupts */
void qsplitnet_msix_enable(QSplitnet *d);
bool qsplitnet_msix_pending(QSplitnet *d, uint16_t vector);
bool qsplitnet_msix_test_clear(QSplitnet *d, uint16_t vector);
bool qsplitnet_intx_asserted(QSplitnet *d);

#endif
