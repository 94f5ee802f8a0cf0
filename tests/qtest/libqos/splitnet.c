/*
 * libqos driver for the splitnet paravirtual NIC
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/socket.h>
#include "../libqtest.h"
#include "qemu/bswap.h"
#include "qemu/module.h"
#include "hw/pci/pci_regs.h"
#include "pci.h"
#include "libqos-malloc.h"
#include "libqos-pc.h"
#include "qgraph.h"
#include "splitnet.h"

#define QSPLITNET_TIMEOUT_US (10 * G_TIME_SPAN_SECOND)

static QTestState *qsplitnet_qts(QSplitnet *d)
{
    return d->pdev->bus->qts;
}

/* Registers */

uint32_t qsplitnet_readl(QSplitnet *d, uint32_t off)
{
    return qpci_io_readl(d->pdev, d->bar, off);
}

void qsplitnet_writel(QSplitnet *d, uint32_t off, uint32_t val)
{
    qpci_io_writel(d->pdev, d->bar, off, val);
}

/* 64-bit registers as two 4-byte halves, low half first (spec allows). */
uint64_t qsplitnet_readq(QSplitnet *d, uint32_t off)
{
    uint64_t lo = qsplitnet_readl(d, off);
    uint64_t hi = qsplitnet_readl(d, off + 4);

    return lo | (hi << 32);
}

void qsplitnet_writeq(QSplitnet *d, uint32_t off, uint64_t val)
{
    qsplitnet_writel(d, off, (uint32_t)val);
    qsplitnet_writel(d, off + 4, (uint32_t)(val >> 32));
}

uint32_t qsplitnet_qreadl(QSplitnet *d, int q, uint32_t off)
{
    return qsplitnet_readl(d, SPLITNET_QUEUE_REGS(q) + off);
}

void qsplitnet_qwritel(QSplitnet *d, int q, uint32_t off, uint32_t val)
{
    qsplitnet_writel(d, SPLITNET_QUEUE_REGS(q) + off, val);
}

void qsplitnet_qwriteq(QSplitnet *d, int q, uint32_t off, uint64_t val)
{
    qsplitnet_writeq(d, SPLITNET_QUEUE_REGS(q) + off, val);
}

uint64_t qsplitnet_stat(QSplitnet *d, int q, int n)
{
    return qsplitnet_readq(d, SPLITNET_QUEUE_REGS(q) + SPLITNET_Q_STAT(n));
}

/* Bring-up */

void qsplitnet_init(QSplitnet *d, QPCIDevice *pdev, QGuestAllocator *alloc)
{
    memset(d, 0, sizeof(*d));
    d->pdev = pdev;
    d->alloc = alloc;
    qpci_device_enable(pdev);
    d->bar = qpci_iomap(pdev, SPLITNET_BAR_REGS, NULL);
    d->slot_size = qsplitnet_readl(d, SPLITNET_REG_TX_SLOT_SIZE);
}

static void qsplitnet_queue_free(QSplitnet *d, QSplitnetQueue *vq)
{
    if (vq->ring) {
        guest_free(d->alloc, vq->ring);
    }
    if (vq->pool) {
        guest_free(d->alloc, vq->pool);
    }
    memset(vq, 0, sizeof(*vq));
}

void qsplitnet_destroy(QSplitnet *d)
{
    qsplitnet_queue_free(d, &d->txq);
    qsplitnet_queue_free(d, &d->rxq);
    if (d->status) {
        guest_free(d->alloc, d->status);
        d->status = 0;
    }
    if (d->pdev->msix_enabled) {
        qpci_msix_disable(d->pdev);
    }
    qpci_iounmap(d->pdev, d->bar);
}

void qsplitnet_reset(QSplitnet *d)
{
    qsplitnet_writel(d, SPLITNET_REG_CTRL, SPLITNET_CTRL_RESET);
    d->txq.prod = 0;
    d->rxq.prod = 0;
}

void qsplitnet_status_setup(QSplitnet *d)
{
    if (!d->status) {
        d->status = guest_alloc(d->alloc, SPLITNET_STATUS_BLOCK_SIZE);
        g_assert(QEMU_IS_ALIGNED(d->status, SPLITNET_STATUS_ALIGN));
    }
    qtest_memset(qsplitnet_qts(d), d->status, 0, SPLITNET_STATUS_BLOCK_SIZE);
    qsplitnet_writeq(d, SPLITNET_REG_STATUS_BASE, d->status);
}

void qsplitnet_queue_alloc(QSplitnet *d, QSplitnetQueue *vq, int q,
                           uint32_t size)
{
    QTestState *qts = qsplitnet_qts(d);
    size_t desc = SPLITNET_QUEUE_IS_RX(q) ? SPLITNET_RX_DESC_SIZE
                                          : SPLITNET_TX_DESC_SIZE;

    qsplitnet_queue_free(d, vq);
    vq->q = q;
    vq->size = size;
    vq->ring = guest_alloc(d->alloc, size * desc);
    g_assert(QEMU_IS_ALIGNED(vq->ring, SPLITNET_RING_ALIGN));
    qtest_memset(qts, vq->ring, 0, size * desc);
    if (!SPLITNET_QUEUE_IS_RX(q)) {
        vq->pool = guest_alloc(d->alloc, size * d->slot_size);
        g_assert(QEMU_IS_ALIGNED(vq->pool, SPLITNET_RING_ALIGN));
        qtest_memset(qts, vq->pool, 0, size * d->slot_size);
    }
}

/* Write the queue registers, without enabling it. */
void qsplitnet_queue_program(QSplitnet *d, QSplitnetQueue *vq,
                             uint16_t vector)
{
    vq->prod = 0;
    if (d->status) {
        qtest_memset(qsplitnet_qts(d), qsplitnet_status_entry(d, vq->q), 0,
                     SPLITNET_STATUS_ENTRY_SIZE);
    }
    qsplitnet_qwriteq(d, vq->q, SPLITNET_Q_RING_BASE, vq->ring);
    if (vq->pool) {
        qsplitnet_qwriteq(d, vq->q, SPLITNET_Q_POOL_BASE, vq->pool);
    }
    qsplitnet_qwritel(d, vq->q, SPLITNET_Q_RING_SIZE, vq->size);
    qsplitnet_qwritel(d, vq->q, SPLITNET_Q_VECTOR, vector);
}

void qsplitnet_queue_enable(QSplitnet *d, QSplitnetQueue *vq)
{
    qsplitnet_qwritel(d, vq->q, SPLITNET_Q_ENABLE, 1);
}

/*
 * The bring-up sequence of the spec for pair 0: TX uses vector 1, RX
 * vector 2, config vector 0 (they only matter once MSI-X is enabled).
 */
void qsplitnet_bringup(QSplitnet *d, uint32_t ring_size, uint64_t features)
{
    qsplitnet_reset(d);
    g_assert_cmphex(qsplitnet_readl(d, SPLITNET_REG_MAGIC), ==,
                    SPLITNET_MAGIC);
    qsplitnet_writeq(d, SPLITNET_REG_DRV_FEATURES, features);
    d->slot_size = qsplitnet_readl(d, SPLITNET_REG_TX_SLOT_SIZE);
    qsplitnet_status_setup(d);
    qsplitnet_writel(d, SPLITNET_REG_CONFIG_VECTOR, 0);

    qsplitnet_queue_alloc(d, &d->txq, SPLITNET_TXQ(0), ring_size);
    qsplitnet_queue_program(d, &d->txq, 1);
    qsplitnet_queue_enable(d, &d->txq);
    qsplitnet_queue_alloc(d, &d->rxq, SPLITNET_RXQ(0), ring_size);
    qsplitnet_queue_program(d, &d->rxq, 2);
    qsplitnet_queue_enable(d, &d->rxq);
    g_assert_cmphex(qsplitnet_readl(d, SPLITNET_REG_STATUS) &
                    SPLITNET_STATUS_ERROR, ==, 0);

    qsplitnet_writel(d, SPLITNET_REG_CTRL, SPLITNET_CTRL_DRIVER_OK);
}

/* Status block */

uint64_t qsplitnet_status_entry(QSplitnet *d, int q)
{
    g_assert(d->status);
    return d->status + q * SPLITNET_STATUS_ENTRY_SIZE;
}

uint32_t qsplitnet_cons(QSplitnet *d, int q)
{
    return qtest_readl(qsplitnet_qts(d), qsplitnet_status_entry(d, q) +
                       offsetof(struct splitnet_queue_status, cons));
}

uint32_t qsplitnet_doorbell_event(QSplitnet *d, int q)
{
    return qtest_readl(qsplitnet_qts(d), qsplitnet_status_entry(d, q) +
                       offsetof(struct splitnet_queue_status, doorbell_event));
}

void qsplitnet_set_prod(QSplitnet *d, int q, uint32_t prod)
{
    qtest_writel(qsplitnet_qts(d), qsplitnet_status_entry(d, q) +
                 offsetof(struct splitnet_queue_status, prod), prod);
}

void qsplitnet_set_intr_event(QSplitnet *d, int q, uint32_t event)
{
    qtest_writel(qsplitnet_qts(d), qsplitnet_status_entry(d, q) +
                 offsetof(struct splitnet_queue_status, intr_event), event);
}

/*
 * Wait until the device published @cons for queue @q.  The device works
 * in QEMU's main loop; each qtest command lets that loop run, so this
 * polls without stepping the virtual clock.  The real-time bound only
 * catches a device that never gets there.
 */
bool qsplitnet_wait_cons(QSplitnet *d, int q, uint32_t cons)
{
    gint64 end = g_get_monotonic_time() + QSPLITNET_TIMEOUT_US;

    do {
        if (qsplitnet_cons(d, q) == cons) {
            return true;
        }
        g_usleep(100);
    } while (g_get_monotonic_time() < end);
    return false;
}

/*
 * Let QEMU's main loop finish what it started: each qtest command is
 * handled in one main-loop iteration, so after two round trips every
 * source that was ready at the first one (socket input, bottom halves)
 * has been dispatched.
 */
void qsplitnet_sync(QSplitnet *d)
{
    int i;

    for (i = 0; i < 3; i++) {
        qsplitnet_readl(d, SPLITNET_REG_MAGIC);
    }
}

/* TX */

void qsplitnet_tx_write_desc(QSplitnet *d, uint32_t idx,
                             const struct splitnet_tx_desc *desc)
{
    struct splitnet_tx_desc le = {
        .addr = cpu_to_le64(desc->addr),
        .len = cpu_to_le32(desc->len),
        .hdr_len = cpu_to_le16(desc->hdr_len),
        .flags = cpu_to_le16(desc->flags),
        .csum_start = cpu_to_le16(desc->csum_start),
        .csum_offset = cpu_to_le16(desc->csum_offset),
        .gso_size = cpu_to_le16(desc->gso_size),
        .gso_type = desc->gso_type,
        .vlan_tci = cpu_to_le16(desc->vlan_tci),
    };
    uint32_t slot = idx & (d->txq.size - 1);

    qtest_memwrite(qsplitnet_qts(d), d->txq.ring + slot * sizeof(le),
                   &le, sizeof(le));
}

void qsplitnet_tx_write_head(QSplitnet *d, uint32_t idx,
                             const void *head, size_t len)
{
    uint32_t slot = idx & (d->txq.size - 1);

    g_assert_cmpuint(len, <=, d->slot_size);
    if (len) {
        qtest_memwrite(qsplitnet_qts(d), d->txq.pool + slot * d->slot_size,
                       head, len);
    }
}

/* Add one raw descriptor at the driver's producer index. */
void qsplitnet_tx_add(QSplitnet *d, uint64_t addr, uint32_t len,
                      uint16_t hdr_len, uint16_t flags)
{
    struct splitnet_tx_desc desc = {
        .addr = addr,
        .len = len,
        .hdr_len = hdr_len,
        .flags = flags,
    };

    qsplitnet_tx_write_desc(d, d->txq.prod++, &desc);
}

/*
 * Queue one frame: @hdr_len head bytes into the pool slot of the first
 * descriptor, then one descriptor per fragment (one empty descriptor when
 * there is none), EOP on the last.  Not published yet.
 */
void qsplitnet_tx_frame(QSplitnet *d, const void *head, uint16_t hdr_len,
                        const QSplitnetFrag *frags, int nfrags)
{
    int i;

    qsplitnet_tx_write_head(d, d->txq.prod, head, hdr_len);
    if (nfrags == 0) {
        qsplitnet_tx_add(d, 0, 0, hdr_len, SPLITNET_TXD_EOP);
        return;
    }
    for (i = 0; i < nfrags; i++) {
        qsplitnet_tx_add(d, frags[i].addr, frags[i].len, i ? 0 : hdr_len,
                         i == nfrags - 1 ? SPLITNET_TXD_EOP : 0);
    }
}

void qsplitnet_publish(QSplitnet *d, QSplitnetQueue *vq)
{
    qsplitnet_set_prod(d, vq->q, vq->prod);
}

void qsplitnet_kick(QSplitnet *d, QSplitnetQueue *vq)
{
    qsplitnet_publish(d, vq);
    qsplitnet_qwritel(d, vq->q, SPLITNET_Q_DOORBELL, vq->prod);
}

/* RX */

void qsplitnet_rx_post(QSplitnet *d, uint64_t addr, uint16_t buf_len)
{
    struct splitnet_rx_desc le = {
        .addr = cpu_to_le64(addr),
        .buf_len = cpu_to_le16(buf_len),
    };
    uint32_t slot = d->rxq.prod++ & (d->rxq.size - 1);

    qtest_memwrite(qsplitnet_qts(d), d->rxq.ring + slot * sizeof(le),
                   &le, sizeof(le));
}

void qsplitnet_rx_read_desc(QSplitnet *d, uint32_t idx,
                            struct splitnet_rx_desc *desc)
{
    uint32_t slot = idx & (d->rxq.size - 1);

    qtest_memread(qsplitnet_qts(d), d->rxq.ring + slot * sizeof(*desc),
                  desc, sizeof(*desc));
    desc->addr = le64_to_cpu(desc->addr);
    desc->buf_len = le16_to_cpu(desc->buf_len);
    desc->len = le16_to_cpu(desc->len);
    desc->flags = le16_to_cpu(desc->flags);
    desc->vlan_tci = le16_to_cpu(desc->vlan_tci);
    desc->csum_start = le16_to_cpu(desc->csum_start);
    desc->hash = le32_to_cpu(desc->hash);
    desc->csum_offset = le16_to_cpu(desc->csum_offset);
    desc->gso_size = le16_to_cpu(desc->gso_size);
}

/* Interrupts */

static uint64_t qsplitnet_msix_entry(QSplitnet *d, uint16_t vector)
{
    return d->pdev->msix_table_off + vector * PCI_MSIX_ENTRY_SIZE;
}

static void qsplitnet_msix_mask(QSplitnet *d, uint16_t vector, bool mask)
{
    qpci_io_writel(d->pdev, d->pdev->msix_table_bar,
                   qsplitnet_msix_entry(d, vector) +
                   PCI_MSIX_ENTRY_VECTOR_CTRL,
                   mask ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
}

/*
 * Enable MSI-X with every vector masked: a message the device sends then
 * sets the vector's PBA bit.  Each vector targets its own word of guest
 * RAM, so unmasking delivers the pending message where the test sees it.
 */
void qsplitnet_msix_enable(QSplitnet *d)
{
    uint16_t n, v;
    uint64_t entry;

    qpci_msix_enable(d->pdev);
    n = qpci_msix_table_size(d->pdev);
    d->msix_mem = guest_alloc(d->alloc, 4 * n);
    qtest_memset(qsplitnet_qts(d), d->msix_mem, 0, 4 * n);
    for (v = 0; v < n; v++) {
        entry = qsplitnet_msix_entry(d, v);
        qsplitnet_msix_mask(d, v, true);
        qpci_io_writel(d->pdev, d->pdev->msix_table_bar,
                       entry + PCI_MSIX_ENTRY_LOWER_ADDR,
                       (uint32_t)(d->msix_mem + 4 * v));
        qpci_io_writel(d->pdev, d->pdev->msix_table_bar,
                       entry + PCI_MSIX_ENTRY_UPPER_ADDR,
                       (uint32_t)((d->msix_mem + 4 * v) >> 32));
        qpci_io_writel(d->pdev, d->pdev->msix_table_bar,
                       entry + PCI_MSIX_ENTRY_DATA,
                       SPLITNET_MSIX_DATA_BASE + v);
    }
}

bool qsplitnet_msix_pending(QSplitnet *d, uint16_t vector)
{
    return qpci_msix_pending(d->pdev, vector);
}

/*
 * If @vector is pending, deliver the message by unmasking the vector,
 * check that it reached guest memory, and mask the vector again.
 */
bool qsplitnet_msix_test_clear(QSplitnet *d, uint16_t vector)
{
    QTestState *qts = qsplitnet_qts(d);
    uint64_t where = d->msix_mem + 4 * vector;

    if (!qpci_msix_pending(d->pdev, vector)) {
        return false;
    }
    qsplitnet_msix_mask(d, vector, false);
    qsplitnet_msix_mask(d, vector, true);
    g_assert_false(qpci_msix_pending(d->pdev, vector));
    g_assert_cmphex(qtest_readl(qts, where), ==,
                    SPLITNET_MSIX_DATA_BASE + vector);
    qtest_writel(qts, where, 0);
    return true;
}

/* INTx level as the PCI core sees it (config space status bit 3). */
bool qsplitnet_intx_asserted(QSplitnet *d)
{
    return qpci_config_readw(d->pdev, PCI_STATUS) & PCI_STATUS_INTERRUPT;
}

/* Test harness */

/*
 * Boot a pc machine with @cmdline_fmt, which puts a splitnet with
 * SPLITNET_TEST_MAC_STR at QSPLITNET_TEST_DEVFN.  @sock is the test's end
 * of its socket netdev and @qemu_end QEMU's, closed once QEMU has it
 * (either -1 when there is none).
 */
QSplitnetTest *qsplitnet_test_start(int sock, int qemu_end,
                                    const char *cmdline_fmt, ...)
{
    static const uint8_t mac[6] = SPLITNET_TEST_MAC;
    QSplitnetTest *t = g_new0(QSplitnetTest, 1);
    va_list ap;

    va_start(ap, cmdline_fmt);
    t->qs = qtest_pc_vboot(cmdline_fmt, ap);
    va_end(ap);
    if (qemu_end >= 0) {
        close(qemu_end);
    }
    t->qts = t->qs->qts;
    t->sock = sock;
    memcpy(t->mac, mac, sizeof(t->mac));
    t->pdev = qsplitnet_test_attach(t->qs, QSPLITNET_TEST_DEVFN, &t->d);
    return t;
}

void qsplitnet_test_stop(QSplitnetTest *t)
{
    g_free(t->pdev);
    qtest_shutdown(t->qs);
    if (t->sock >= 0) {
        close(t->sock);
    }
    g_free(t);
}

/* Find the splitnet at @devfn and set up @d for it; returns its device. */
QPCIDevice *qsplitnet_test_attach(QOSState *qs, int devfn, QSplitnet *d)
{
    QPCIDevice *pdev = qpci_device_find(qs->pcibus, devfn);

    g_assert(pdev);
    qsplitnet_init(d, pdev, &qs->alloc);
    return pdev;
}

/* Wait until counter @n of queue @q reaches @min (see wait_cons). */
bool qsplitnet_wait_stat(QSplitnet *d, int q, int n, uint64_t min)
{
    gint64 end = g_get_monotonic_time() + QSPLITNET_TIMEOUT_US;

    do {
        if (qsplitnet_stat(d, q, n) >= min) {
            return true;
        }
        g_usleep(100);
    } while (g_get_monotonic_time() < end);
    return false;
}

/* Frames */

size_t qsplitnet_frame_len(uint16_t hdr_len, const uint32_t *lens, int n)
{
    size_t len = hdr_len;
    int i;

    for (i = 0; i < n; i++) {
        len += lens[i];
    }
    return len;
}

/*
 * A TX frame of @bytes (qsplitnet_frame_len() of them; the frame takes
 * them over): @hdr_len head bytes and @n fragments of @lens bytes, which
 * go to guest memory at odd offsets, 3 bytes apart.
 */
QSplitnetFrame *qsplitnet_frame_new(QSplitnet *d, uint8_t *bytes,
                                    uint16_t hdr_len, const uint32_t *lens,
                                    int n)
{
    QSplitnetFrame *f = g_new0(QSplitnetFrame, 1);
    size_t off = hdr_len, cursor = 1;
    int i;

    g_assert_cmpint(n, <=, ARRAY_SIZE(f->frags));
    f->bytes = bytes;
    f->len = qsplitnet_frame_len(hdr_len, lens, n);
    f->hdr_len = hdr_len;
    f->area = guest_alloc(d->alloc, f->len + 4 * n + 8);
    for (i = 0; i < n; i++) {
        f->frags[i].addr = f->area + cursor;
        f->frags[i].len = lens[i];
        if (lens[i]) {
            qtest_memwrite(qsplitnet_qts(d), f->frags[i].addr,
                           f->bytes + off, lens[i]);
        }
        off += lens[i];
        cursor += lens[i] + 3;
    }
    f->nfrags = n;
    return f;
}

void qsplitnet_frame_free(QSplitnet *d, QSplitnetFrame *f)
{
    guest_free(d->alloc, f->area);
    g_free(f->bytes);
    g_free(f);
}

/* Queue @f on TX (qsplitnet_tx_frame); not published yet. */
void qsplitnet_frame_queue(QSplitnet *d, const QSplitnetFrame *f)
{
    qsplitnet_tx_frame(d, f->bytes, f->hdr_len, f->frags, f->nfrags);
}

/* The device only reads payload: what the guest wrote is still there. */
void qsplitnet_frame_check_guest(QSplitnet *d, const QSplitnetFrame *f)
{
    g_autofree uint8_t *buf = g_malloc(f->len + 1);
    size_t off = f->hdr_len;
    int i;

    for (i = 0; i < f->nfrags; i++) {
        if (f->frags[i].len) {
            qtest_memread(qsplitnet_qts(d), f->frags[i].addr, buf,
                          f->frags[i].len);
            g_assert(memcmp(buf, f->bytes + off, f->frags[i].len) == 0);
        }
        off += f->frags[i].len;
    }
}

/* Bytes that differ from frame to frame (@seed) and along a frame. */
void qsplitnet_fill_pattern(uint8_t *buf, size_t len, unsigned seed)
{
    size_t i;

    for (i = 0; i < len; i++) {
        buf[i] = (uint8_t)(seed * 37 + i * 7 + (i >> 8));
    }
}

/*
 * Ethernet header, a local experimental EtherType, then the sequence
 * number @seq (big-endian) so that a frame on the wire names itself.
 */
void qsplitnet_fill_seq_frame(uint8_t *buf, size_t len, const uint8_t *dst,
                              const uint8_t *src, unsigned seq)
{
    g_assert_cmpuint(len, >=, 18);
    qsplitnet_fill_pattern(buf, len, seq);
    memcpy(buf, dst, 6);
    memcpy(buf + 6, src, 6);
    buf[12] = 0x88;
    buf[13] = 0xb5;
    stl_be_p(buf + 14, seq);
}

unsigned qsplitnet_frame_seq(const uint8_t *buf)
{
    return ldl_be_p(buf + 14);
}

/* The wire */

/*
 * A socketpair for `-netdev socket,fd=N`: returns the test's end and puts
 * QEMU's in @qemu_end.  Non-zero @qemu_sndbuf and @test_rcvbuf shrink the
 * buffers, so that QEMU finds the socket full sooner.
 */
int qsplitnet_socketpair(int qemu_sndbuf, int test_rcvbuf, int *qemu_end)
{
    struct timeval tv = { .tv_sec = 10 };
    int sv[2];

    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    if (qemu_sndbuf) {
        g_assert_cmpint(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF,
                                   &qemu_sndbuf, sizeof(qemu_sndbuf)), ==, 0);
    }
    if (test_rcvbuf) {
        g_assert_cmpint(setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF,
                                   &test_rcvbuf, sizeof(test_rcvbuf)), ==, 0);
    }
    /* A frame that never comes fails the test instead of hanging it. */
    g_assert_cmpint(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv,
                               sizeof(tv)), ==, 0);
    *qemu_end = sv[1];
    return sv[0];
}

/* Read the next frame from @fd into @buf (at most @max bytes). */
size_t qsplitnet_sock_recv(int fd, uint8_t *buf, size_t max)
{
    uint32_t be_len;
    ssize_t ret;
    size_t len;

    ret = recv(fd, &be_len, sizeof(be_len), MSG_WAITALL);
    g_assert_cmpint(ret, ==, sizeof(be_len));
    len = ntohl(be_len);
    g_assert_cmpuint(len, <=, max);
    ret = recv(fd, buf, len, MSG_WAITALL);
    g_assert_cmpint(ret, ==, len);
    return len;
}

void qsplitnet_sock_send(int fd, const uint8_t *frame, size_t len)
{
    uint32_t be_len = htonl(len);

    g_assert_cmpint(send(fd, &be_len, 4, 0), ==, 4);
    g_assert_cmpint(send(fd, frame, len, 0), ==, len);
}

/* @got must be @want; else say where (@what) and from which byte not. */
void qsplitnet_expect_frame(const char *what, const uint8_t *got,
                            size_t got_len, const uint8_t *want, size_t len)
{
    size_t i = 0;

    g_assert_cmpuint(got_len, ==, len);
    if (memcmp(got, want, len)) {
        while (got[i] == want[i]) {
            i++;
        }
        g_test_message("%s: frame of %zu bytes differs from byte %zu: got "
                       "0x%02x, want 0x%02x", what, len, i, got[i], want[i]);
        g_assert_not_reached();
    }
}

/* The next frame on @fd is @want, byte for byte. */
void qsplitnet_sock_expect(int fd, const char *what, const uint8_t *want,
                           size_t len)
{
    g_autofree uint8_t *buf = g_malloc(len + 1);
    size_t got = qsplitnet_sock_recv(fd, buf, len + 1);

    qsplitnet_expect_frame(what, buf, got, want, len);
}

/*
 * Nothing (more) on @fd; call it after qsplitnet_sync(), once QEMU's main
 * loop has caught up.
 */
void qsplitnet_sock_expect_nothing(int fd)
{
    uint8_t b;

    g_assert_cmpint(recv(fd, &b, 1, MSG_DONTWAIT | MSG_PEEK), ==, -1);
    g_assert_cmpint(errno, ==, EAGAIN);
}

/* The libqos graph node */

static void *qsplitnet_pci_get_driver(void *obj, const char *interface)
{
    QSplitnetPCI *spci = obj;

    if (!g_strcmp0(interface, "splitnet")) {
        return &spci->sn;
    }
    if (!g_strcmp0(interface, "pci-device")) {
        return &spci->pci_dev;
    }
    fprintf(stderr, "%s not present in splitnet\n", interface);
    g_assert_not_reached();
}

static void qsplitnet_pci_destructor(QOSGraphObject *obj)
{
    QSplitnetPCI *spci = (QSplitnetPCI *)obj;

    qsplitnet_destroy(&spci->sn);
}

static void qsplitnet_pci_start_hw(QOSGraphObject *obj)
{
    QSplitnetPCI *spci = (QSplitnetPCI *)obj;

    qsplitnet_reset(&spci->sn);
}

static void qsplitnet_foreach_callback(QPCIDevice *dev, int devfn,
                                       void *data)
{
    memcpy(data, dev, sizeof(QPCIDevice));
    g_free(dev);
}

static void *qsplitnet_pci_create(void *pci_bus, QGuestAllocator *alloc,
                                  void *addr)
{
    QSplitnetPCI *spci = g_new0(QSplitnetPCI, 1);
    QPCIAddress *address = addr;

    qpci_device_foreach(pci_bus, address->vendor_id, address->device_id,
                        qsplitnet_foreach_callback, &spci->pci_dev);
    g_assert(spci->pci_dev.bus);
    qsplitnet_init(&spci->sn, &spci->pci_dev, alloc);

    spci->obj.get_driver = qsplitnet_pci_get_driver;
    spci->obj.start_hw = qsplitnet_pci_start_hw;
    spci->obj.destructor = qsplitnet_pci_destructor;
    return &spci->obj;
}

static void qsplitnet_register_nodes(void)
{
    static QPCIAddress addr = {
        .vendor_id = SPLITNET_PCI_VENDOR_ID,
        .device_id = SPLITNET_PCI_DEVICE_ID,
    };
    /* Every test using this node provides -netdev ...,id=hs0. */
    QOSGraphEdgeOptions opts = {
        .extra_device_opts = "netdev=hs0,mac=" SPLITNET_TEST_MAC_STR,
    };

    add_qpci_address(&opts, &addr);
    qos_node_create_driver("splitnet", qsplitnet_pci_create);
    qos_node_consumes("splitnet", "pci-bus", &opts);
}

libqos_init(qsplitnet_register_nodes);
