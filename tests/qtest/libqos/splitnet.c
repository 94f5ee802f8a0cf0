/*
 * libqos driver for the splitnet paravirtual NIC
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "../libqtest.h"
#include "qemu/bswap.h"
#include "qemu/module.h"
#include "hw/pci/pci_regs.h"
#include "pci.h"
#include "libqos-malloc.h"
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
    desc->csum = le16_to_cpu(desc->csum);
    desc->hash = le32_to_cpu(desc->hash);
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
