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
#include "libqos.h"
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

/*
 * Harness shared by the splitnet qtests (splitnet-test, splitnet-hub-test,
 * netdev-sink-test): a pc machine with splitnet devices on socket netdevs
 * whose other end, a socketpair, the test holds.  QEMU's socket netdev
 * frames each packet as a 4-byte big-endian length and the bytes.  Real
 * time only bounds a wait (SO_RCVTIMEO, wait helpers); it never decides.
 */

/* One machine with one splitnet at QSPLITNET_TEST_DEVFN, driver ready. */
typedef struct QSplitnetTest {
    QOSState *qs;
    QTestState *qts;
    QPCIDevice *pdev;
    QSplitnet d;
    int sock;               /* test end of the socket netdev, or -1 */
    uint8_t mac[6];         /* station address the device has now */
} QSplitnetTest;

#define QSPLITNET_TEST_DEVFN QPCI_DEVFN(4, 0)

QSplitnetTest *qsplitnet_test_start(int sock, int qemu_end,
                                    const char *cmdline_fmt, ...)
    G_GNUC_PRINTF(3, 4);
void qsplitnet_test_stop(QSplitnetTest *t);
QPCIDevice *qsplitnet_test_attach(QOSState *qs, int devfn, QSplitnet *d);
bool qsplitnet_wait_stat(QSplitnet *d, int q, int n, uint64_t min);

/* A TX frame as it must arrive, and where its payload sits in the guest. */
typedef struct QSplitnetFrame {
    uint8_t *bytes;         /* the whole frame */
    size_t len;
    uint16_t hdr_len;       /* head bytes, written to the pool slot */
    uint64_t area;          /* guest memory holding the fragments */
    QSplitnetFrag frags[SPLITNET_TX_MAX_FRAGS + 1];
    int nfrags;
} QSplitnetFrame;

size_t qsplitnet_frame_len(uint16_t hdr_len, const uint32_t *lens, int n);
QSplitnetFrame *qsplitnet_frame_new(QSplitnet *d, uint8_t *bytes,
                                    uint16_t hdr_len, const uint32_t *lens,
                                    int n);
void qsplitnet_frame_free(QSplitnet *d, QSplitnetFrame *f);
void qsplitnet_frame_queue(QSplitnet *d, const QSplitnetFrame *f);
void qsplitnet_frame_check_guest(QSplitnet *d, const QSplitnetFrame *f);
void qsplitnet_fill_pattern(uint8_t *buf, size_t len, unsigned seed);
void qsplitnet_fill_seq_frame(uint8_t *buf, size_t len, const uint8_t *dst,
                              const uint8_t *src, unsigned seq);
unsigned qsplitnet_frame_seq(const uint8_t *buf);

/* The socket netdev's wire */
int qsplitnet_socketpair(int qemu_sndbuf, int test_rcvbuf, int *qemu_end);
size_t qsplitnet_sock_recv(int fd, uint8_t *buf, size_t max);
void qsplitnet_sock_send(int fd, const uint8_t *frame, size_t len);
void qsplitnet_expect_frame(const char *what, const uint8_t *got,
                            size_t got_len, const uint8_t *want, size_t len);
void qsplitnet_sock_expect(int fd, const char *what, const uint8_t *want,
                           size_t len);
void qsplitnet_sock_expect_nothing(int fd);

#endif
