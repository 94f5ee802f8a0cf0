/*
 * QTest testcases for the splitnet paravirtual NIC
 *
 * Every case boots its own machine, drives the device through BAR0 and
 * guest memory as docs/specs/splitnet.rst describes, and watches the wire
 * through a socket netdev (test end of a socketpair: each frame arrives as
 * a 4-byte big-endian length followed by the frame).  Time only advances
 * through qtest's virtual clock; real time bounds a wait, never decides.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/socket.h>
#include <poll.h>
#include "libqtest.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "qemu/timer.h"
#include "qemu/cutils.h"
#include "qobject/qdict.h"
#include "hw/pci/pci_regs.h"
#include "libqos/libqos.h"
#include "libqos/libqos-pc.h"
#include "libqos/pci-pc.h"
#include "libqos/splitnet.h"

#define RAM_SIZE        (128 * MiB)
#define NOT_RAM         0x40000000ull   /* between RAM and the PCI hole */
#define FRAME_MAX       (16 * KiB)
#define TXQ             SPLITNET_TXQ(0)
#define RXQ             SPLITNET_RXQ(0)
/* What the device offers with its default properties (ABI 1.3). */
#define DEV_FEATURES    (SPLITNET_F_EVENT_IDX | SPLITNET_F_TX_CSUM | \
                         SPLITNET_F_TSO4 | SPLITNET_F_TSO6 | \
                         SPLITNET_F_RX_CSUM | SPLITNET_F_RX_GSO | \
                         SPLITNET_F_VLAN | SPLITNET_F_USO)
#define ETH_HLEN        14
#define VEC_CONFIG      0
#define VEC_TX          1
#define VEC_RX          2

static const uint8_t our_mac[6] = SPLITNET_TEST_MAC;
static const uint8_t bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t other_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

/* One machine: splitnet at 04.0 on netdev hs0 (libqos/splitnet.h) */
typedef QSplitnetTest Ctx;

typedef struct StartOpts {
    const char *devopts;    /* appended to -device splitnet,... */
    const char *extra;      /* more command line */
    bool lone_hub;          /* a hubport that never accepts a frame */
    int sndbuf;             /* SO_SNDBUF of QEMU's end, 0: default */
} StartOpts;

/* Harness */

static char *netdev_arg(const StartOpts *o, int fd)
{
    if (o->lone_hub) {
        return g_strdup("-netdev hubport,hubid=0,id=hs0");
    }
    return g_strdup_printf("-netdev socket,fd=%d,id=hs0", fd);
}

static Ctx *start_with(const StartOpts *o)
{
    g_autofree char *netdev = NULL;
    int sock = -1, qemu_end = -1;

    if (!o->lone_hub) {
        sock = qsplitnet_socketpair(o->sndbuf, 0, &qemu_end);
    }
    netdev = netdev_arg(o, qemu_end);
    return qsplitnet_test_start(sock, qemu_end,
                                "-m 128M %s -device splitnet,id=sn0,addr=04.0,"
                                "netdev=hs0,mac=" SPLITNET_TEST_MAC_STR
                                "%s%s %s", netdev, o->devopts ? "," : "",
                                o->devopts ? o->devopts : "",
                                o->extra ? o->extra : "");
}

static Ctx *start(const char *devopts)
{
    StartOpts o = { .devopts = devopts };

    return start_with(&o);
}

/* Boot and bring the device up with rings of @ring_size (INTx). */
static Ctx *start_up(const char *devopts, uint32_t ring_size)
{
    Ctx *c = start(devopts);

    qsplitnet_bringup(&c->d, ring_size, 0);
    return c;
}

static uint32_t rd(Ctx *c, uint32_t off)
{
    return qsplitnet_readl(&c->d, off);
}

static void wr(Ctx *c, uint32_t off, uint32_t val)
{
    qsplitnet_writel(&c->d, off, val);
}

static uint32_t qrd(Ctx *c, int q, uint32_t off)
{
    return qsplitnet_qreadl(&c->d, q, off);
}

static void qwr(Ctx *c, int q, uint32_t off, uint32_t val)
{
    qsplitnet_qwritel(&c->d, q, off, val);
}

static uint64_t qstat(Ctx *c, int q, int n)
{
    return qsplitnet_stat(&c->d, q, n);
}

static uint64_t galloc(Ctx *c, size_t size)
{
    return guest_alloc(&c->qs->alloc, size);
}

/* Wire */

/* A frame to @dst from @src, pattern after the header. */
static uint8_t *make_frame(const uint8_t *dst, const uint8_t *src,
                           size_t len, unsigned seed)
{
    uint8_t *f = g_malloc(MAX(len, ETH_HLEN));

    qsplitnet_fill_pattern(f, len, seed);
    if (len >= ETH_HLEN) {
        memcpy(f, dst, 6);
        memcpy(f + 6, src, 6);
        f[12] = 0x08;
        f[13] = 0x00;
    }
    return f;
}

static void sock_expect(Ctx *c, const uint8_t *frame, size_t len)
{
    qsplitnet_sock_expect(c->sock, "wire", frame, len);
}

/* Nothing (more) on the wire once QEMU's main loop has caught up. */
static void sock_expect_nothing(Ctx *c)
{
    qsplitnet_sync(&c->d);
    qsplitnet_sock_expect_nothing(c->sock);
}

/* TX helpers */

/*
 * A broadcast frame of @hdr_len head bytes and @n fragments of @lens
 * bytes, in guest memory (qsplitnet_frame_new).
 */
static QSplitnetFrame *tx_build(Ctx *c, uint16_t hdr_len,
                                const uint32_t *lens, int n, unsigned seed)
{
    size_t len = qsplitnet_frame_len(hdr_len, lens, n);

    return qsplitnet_frame_new(&c->d, make_frame(bcast_mac, our_mac, len,
                                                 seed), hdr_len, lens, n);
}

/* Send one frame, wait for its completion, check it on the wire. */
static void tx_one(Ctx *c, uint16_t hdr_len, const uint32_t *lens, int n,
                   unsigned seed)
{
    QSplitnetFrame *f = tx_build(c, hdr_len, lens, n, seed);

    qsplitnet_frame_queue(&c->d, f);
    qsplitnet_kick(&c->d, &c->d.txq);
    g_assert(qsplitnet_wait_cons(&c->d, TXQ, c->d.txq.prod));
    sock_expect(c, f->bytes, f->len);
    qsplitnet_frame_check_guest(&c->d, f);
    qsplitnet_frame_free(&c->d, f);
}

/* A 60-byte frame in one fragment after a 14-byte head. */
static void tx_simple(Ctx *c, unsigned seed)
{
    uint32_t len = 46;

    tx_one(c, ETH_HLEN, &len, 1, seed);
}

/* RX helpers */

typedef struct RxBufs {
    uint64_t area;
    uint16_t buf_len;
    uint32_t first;         /* ring index of the first buffer */
    int n;
} RxBufs;

static void rx_post(Ctx *c, RxBufs *b, int n, uint16_t buf_len)
{
    int i;

    b->area = galloc(c, n * buf_len);
    qtest_memset(c->qts, b->area, 0, n * buf_len);
    b->buf_len = buf_len;
    b->first = c->d.rxq.prod;
    b->n = n;
    for (i = 0; i < n; i++) {
        qsplitnet_rx_post(&c->d, b->area + i * buf_len, buf_len);
    }
}

static void rx_post_kick(Ctx *c, RxBufs *b, int n, uint16_t buf_len)
{
    rx_post(c, b, n, buf_len);
    qsplitnet_kick(&c->d, &c->d.rxq);
}

/*
 * Check that @frame sits in the buffers from ring index @idx on, buffer
 * by buffer, with len and EOP written back; returns buffers used.
 */
static int rx_check(Ctx *c, const RxBufs *b, uint32_t idx,
                    const uint8_t *frame, size_t len)
{
    struct splitnet_rx_desc desc;
    g_autofree uint8_t *buf = g_malloc(b->buf_len);
    size_t off = 0, chunk;
    int used = 0;

    do {
        qsplitnet_rx_read_desc(&c->d, idx + used, &desc);
        chunk = MIN(len - off, b->buf_len);
        g_assert_cmpuint(desc.len, ==, chunk);
        g_assert_cmphex(desc.flags, ==,
                        off + chunk == len ? SPLITNET_RXD_EOP : 0);
        g_assert_cmphex(desc.vlan_tci | desc.csum_start | desc.hash |
                        desc.csum_offset | desc.gso_size, ==, 0);
        qtest_memread(c->qts, desc.addr, buf, chunk);
        g_assert(memcmp(buf, frame + off, chunk) == 0);
        off += chunk;
        used++;
    } while (off < len);
    return used;
}

/* Deliver @frame from the wire and check it landed in one buffer. */
static void rx_one(Ctx *c, const RxBufs *b, const uint8_t *frame,
                   size_t len)
{
    uint32_t idx = qsplitnet_cons(&c->d, RXQ);

    qsplitnet_sock_send(c->sock, frame, len);
    g_assert(qsplitnet_wait_cons(&c->d, RXQ, idx + 1));
    rx_check(c, b, idx, frame, len);
}

/* Error-state helpers */

static void assert_no_error(Ctx *c)
{
    g_assert_cmphex(rd(c, SPLITNET_REG_STATUS) & SPLITNET_STATUS_ERROR,
                    ==, 0);
    g_assert_cmpuint(rd(c, SPLITNET_REG_ERROR), ==, SPLITNET_ERR_NONE);
}

/* The ERROR register as the host reads it: QOM property "error". */
static uint32_t qom_error(Ctx *c)
{
    QDict *rsp = qtest_qmp(c->qts, "{'execute': 'qom-get', 'arguments':"
                           " {'path': '/machine/peripheral/sn0',"
                           " 'property': 'error'}}");
    uint32_t err;

    g_assert(qdict_haskey(rsp, "return"));
    err = qdict_get_int(rsp, "return");
    qobject_unref(rsp);
    return err;
}

static void assert_error(Ctx *c, uint32_t err, uint32_t q)
{
    g_assert_cmphex(rd(c, SPLITNET_REG_STATUS) & SPLITNET_STATUS_ERROR,
                    ==, SPLITNET_STATUS_ERROR);
    g_assert_cmpuint(rd(c, SPLITNET_REG_ERROR), ==, err);
    g_assert_cmpuint(rd(c, SPLITNET_REG_ERROR_QUEUE), ==, q);
    g_assert_cmpuint(qom_error(c), ==, err);
}

/*
 * After an error state: the config interrupt was raised (INTx), the
 * queues are halted, and CTRL.RESET plus a new bring-up recovers.
 */
static void assert_halted_then_recover(Ctx *c)
{
    uint32_t cons = qsplitnet_cons(&c->d, TXQ);

    g_assert_cmphex(rd(c, SPLITNET_REG_ISR) & SPLITNET_ISR_CONFIG, ==,
                    SPLITNET_ISR_CONFIG);
    /* A valid frame is not taken while the device is in error. */
    if (c->d.txq.ring && c->sock >= 0) {
        QSplitnetFrame *f = tx_build(c, ETH_HLEN, (uint32_t[]){ 50 }, 1, 99);

        c->d.txq.prod = cons;
        qsplitnet_frame_queue(&c->d, f);
        qsplitnet_kick(&c->d, &c->d.txq);
        sock_expect_nothing(c);
        g_assert_cmpuint(qsplitnet_cons(&c->d, TXQ), ==, cons);
        qsplitnet_frame_free(&c->d, f);
    }
    qsplitnet_reset(&c->d);
    assert_no_error(c);
    g_assert_cmpuint(rd(c, SPLITNET_REG_ERROR_QUEUE), ==, 0);
    qsplitnet_bringup(&c->d, 8, 0);
    tx_simple(c, 7);
}

/* Multicast hash: Linux ether_crc(6, addr) >> 26. */
static unsigned mc_bit(const uint8_t *addr)
{
    uint32_t crc = 0xffffffff;
    int i, bit;

    for (i = 0; i < 6; i++) {
        uint8_t octet = addr[i];

        for (bit = 0; bit < 8; bit++, octet >>= 1) {
            crc = (crc << 1) ^ ((((crc >> 31) ^ octet) & 1) ? 0x04c11db7 : 0);
        }
    }
    return crc >> SPLITNET_MC_HASH_SHIFT;
}

/* PCI function */

static void test_pci_ids(void)
{
    Ctx *c = start(NULL);
    QPCIDevice *p = c->pdev;

    g_assert_cmphex(qpci_config_readw(p, PCI_VENDOR_ID), ==,
                    SPLITNET_PCI_VENDOR_ID);
    g_assert_cmphex(qpci_config_readw(p, PCI_DEVICE_ID), ==,
                    SPLITNET_PCI_DEVICE_ID);
    g_assert_cmphex(qpci_config_readb(p, PCI_REVISION_ID), ==,
                    SPLITNET_PCI_REVISION);
    g_assert_cmphex(qpci_config_readl(p, PCI_CLASS_REVISION) >> 8, ==,
                    0x020000);
    g_assert_cmphex(qpci_config_readw(p, PCI_SUBSYSTEM_VENDOR_ID), ==,
                    0x1af4);
    g_assert_cmphex(qpci_config_readw(p, PCI_SUBSYSTEM_ID), ==, 0x1100);
    g_assert_cmphex(qpci_config_readb(p, PCI_INTERRUPT_PIN), ==, 1);
    qsplitnet_test_stop(c);
}

static void test_pci_bars(void)
{
    Ctx *c = start(NULL);
    uint32_t vectors = rd(c, SPLITNET_REG_NUM_VECTORS);
    uint8_t cap = qpci_find_capability(c->pdev, PCI_CAP_ID_MSIX, 0);
    uint32_t bar0 = qpci_config_readl(c->pdev, PCI_BASE_ADDRESS_0);
    uint64_t size;
    QPCIBar bar;

    /* BAR0 is memory (mapped by qsplitnet_init); size it again. */
    g_assert_cmphex(bar0 & PCI_BASE_ADDRESS_SPACE, ==,
                    PCI_BASE_ADDRESS_SPACE_MEMORY);
    bar = qpci_iomap(c->pdev, SPLITNET_BAR_REGS, &size);
    g_assert_cmphex(size, ==, SPLITNET_REGS_SIZE);
    c->d.bar = bar;
    g_assert_cmphex(rd(c, SPLITNET_REG_MAGIC), ==, SPLITNET_MAGIC);

    /* BAR1 holds the MSI-X table and PBA, NUM_VECTORS entries. */
    g_assert_cmpuint(cap, !=, 0);
    g_assert_cmpuint(qpci_config_readl(c->pdev, cap + PCI_MSIX_TABLE) &
                     PCI_MSIX_FLAGS_BIRMASK, ==, SPLITNET_BAR_MSIX);
    g_assert_cmpuint(qpci_config_readl(c->pdev, cap + PCI_MSIX_PBA) &
                     PCI_MSIX_FLAGS_BIRMASK, ==, SPLITNET_BAR_MSIX);
    g_assert_cmpuint(qpci_msix_table_size(c->pdev), ==, vectors);
    qsplitnet_test_stop(c);
}

/* Registers */

static void test_regs_identity(void)
{
    Ctx *c = start(NULL);

    g_assert_cmphex(rd(c, SPLITNET_REG_MAGIC), ==, 0x544e5053);
    g_assert_cmphex(rd(c, SPLITNET_REG_VERSION), ==, 0x00010003);
    g_assert_cmphex(qsplitnet_readq(&c->d, SPLITNET_REG_DEV_FEATURES), ==,
                    DEV_FEATURES);
    g_assert_cmpuint(rd(c, SPLITNET_REG_MAX_QUEUE_PAIRS), ==, 1);
    g_assert_cmpuint(rd(c, SPLITNET_REG_NUM_VECTORS), ==,
                     1 + 2 * rd(c, SPLITNET_REG_MAX_QUEUE_PAIRS));
    qsplitnet_test_stop(c);
}

static void test_regs_mac(void)
{
    Ctx *c = start(NULL);

    /* 52:54:00:12:34:56: byte 0 in bits 0..7 of MAC_LO */
    g_assert_cmphex(rd(c, SPLITNET_REG_MAC_LO), ==, 0x12005452);
    g_assert_cmphex(rd(c, SPLITNET_REG_MAC_HI), ==, 0x5634);
    qsplitnet_test_stop(c);

    c = start("mac=02:11:22:33:44:55");
    g_assert_cmphex(rd(c, SPLITNET_REG_MAC_LO), ==, 0x33221102);
    g_assert_cmphex(rd(c, SPLITNET_REG_MAC_HI), ==, 0x5544);
    qsplitnet_test_stop(c);
}

/* Every register at its documented reset value. */
static void check_reset_values(Ctx *c, uint32_t intr_delay)
{
    int q, n;

    g_assert_cmphex(qsplitnet_readq(&c->d, SPLITNET_REG_DRV_FEATURES), ==,
                    0);
    g_assert_cmphex(rd(c, SPLITNET_REG_CTRL), ==, 0);
    g_assert_cmphex(rd(c, SPLITNET_REG_STATUS), ==, SPLITNET_STATUS_LINK_UP);
    g_assert_cmphex(rd(c, SPLITNET_REG_ERROR), ==, 0);
    g_assert_cmphex(rd(c, SPLITNET_REG_ERROR_QUEUE), ==, 0);
    g_assert_cmphex(rd(c, SPLITNET_REG_MAC_LO), ==, 0x12005452);
    g_assert_cmphex(rd(c, SPLITNET_REG_MAC_HI), ==, 0x5634);
    g_assert_cmpuint(rd(c, SPLITNET_REG_MTU), ==, 1500);
    g_assert_cmpuint(rd(c, SPLITNET_REG_MAX_MTU), ==, 9000);
    g_assert_cmpuint(rd(c, SPLITNET_REG_MAX_RING_SIZE), ==, 1024);
    g_assert_cmpuint(rd(c, SPLITNET_REG_TX_SLOT_SIZE), ==, 128);
    g_assert_cmphex(qsplitnet_readq(&c->d, SPLITNET_REG_STATUS_BASE), ==, 0);
    g_assert_cmphex(rd(c, SPLITNET_REG_RX_FILTER), ==,
                    SPLITNET_RX_FILTER_UNICAST | SPLITNET_RX_FILTER_BROADCAST);
    g_assert_cmphex(qsplitnet_readq(&c->d, SPLITNET_REG_MC_HASH), ==, 0);
    g_assert_cmphex(rd(c, SPLITNET_REG_ISR), ==, 0);
    g_test_message("reset: CONFIG_VECTOR 0x%x INTR_MASK 0x%x (no value "
                   "in the spec)", rd(c, SPLITNET_REG_CONFIG_VECTOR),
                   rd(c, SPLITNET_REG_INTR_MASK));
    for (q = 0; q < 2; q++) {
        g_assert_cmphex(qsplitnet_readq(&c->d, SPLITNET_QUEUE_REGS(q) +
                                        SPLITNET_Q_RING_BASE), ==, 0);
        g_assert_cmphex(qsplitnet_readq(&c->d, SPLITNET_QUEUE_REGS(q) +
                                        SPLITNET_Q_POOL_BASE), ==, 0);
        g_assert_cmpuint(qrd(c, q, SPLITNET_Q_RING_SIZE), ==, 0);
        g_assert_cmphex(qrd(c, q, SPLITNET_Q_VECTOR), ==, 0xffff);
        g_assert_cmpuint(qrd(c, q, SPLITNET_Q_ENABLE), ==, 0);
        g_assert_cmpuint(qrd(c, q, SPLITNET_Q_INTR_DELAY), ==, intr_delay);
        g_assert_cmpuint(qrd(c, q, SPLITNET_Q_DOORBELL), ==, 0);
        for (n = 0; n < SPLITNET_NUM_STATS; n++) {
            g_assert_cmpuint(qstat(c, q, n), ==, 0);
        }
    }
}

static void test_regs_reset_values(void)
{
    Ctx *c = start(NULL);

    check_reset_values(c, 0);
    qsplitnet_test_stop(c);
}

/* Dirty every register, run traffic and raise an interrupt. */
static void dirty_everything(Ctx *c)
{
    qsplitnet_bringup(&c->d, 16, SPLITNET_F_EVENT_IDX);
    tx_simple(c, 1);
    wr(c, SPLITNET_REG_MAC_LO, 0x44332211);
    wr(c, SPLITNET_REG_MAC_HI, 0x6655);
    wr(c, SPLITNET_REG_MTU, 4000);
    wr(c, SPLITNET_REG_RX_FILTER, SPLITNET_RX_FILTER_PROMISC);
    qsplitnet_writeq(&c->d, SPLITNET_REG_MC_HASH, 0x8000000000000001ull);
    wr(c, SPLITNET_REG_INTR_MASK, 0x7);
    wr(c, SPLITNET_REG_CONFIG_VECTOR, 2);
    qwr(c, TXQ, SPLITNET_Q_INTR_DELAY, 77);
    g_assert_cmphex(rd(c, SPLITNET_REG_STATUS), ==,
                    SPLITNET_STATUS_LINK_UP | SPLITNET_STATUS_DRIVER_OK);
}

static void test_regs_ctrl_reset(void)
{
    Ctx *c = start("intr-delay-us=250");

    check_reset_values(c, 250);
    dirty_everything(c);
    wr(c, SPLITNET_REG_CTRL, SPLITNET_CTRL_RESET);
    check_reset_values(c, 250);
    qsplitnet_test_stop(c);
}

/* A machine reset also cleared the BARs: map BAR0 again. */
static void remap_after_machine_reset(Ctx *c)
{
    qpci_device_enable(c->pdev);
    c->d.bar = qpci_iomap(c->pdev, SPLITNET_BAR_REGS, NULL);
}

static void test_regs_system_reset(void)
{
    Ctx *c = start(NULL);

    dirty_everything(c);
    qtest_system_reset(c->qts);
    remap_after_machine_reset(c);
    check_reset_values(c, 0);
    qsplitnet_test_stop(c);
}

static void test_regs_properties(void)
{
    Ctx *c = start("max-ring-size=256,hdr-slot-size=256,max-mtu=4000");

    g_assert_cmpuint(rd(c, SPLITNET_REG_MAX_RING_SIZE), ==, 256);
    g_assert_cmpuint(rd(c, SPLITNET_REG_TX_SLOT_SIZE), ==, 256);
    g_assert_cmpuint(rd(c, SPLITNET_REG_MAX_MTU), ==, 4000);
    g_assert_cmpuint(rd(c, SPLITNET_REG_MTU), ==, 1500);
    qsplitnet_test_stop(c);

    c = start("max-mtu=1000,hdr-slot-size=64,max-ring-size=8");
    g_assert_cmpuint(rd(c, SPLITNET_REG_MTU), ==, 1000);
    g_assert_cmpuint(rd(c, SPLITNET_REG_TX_SLOT_SIZE), ==, 64);
    g_assert_cmpuint(rd(c, SPLITNET_REG_MAX_RING_SIZE), ==, 8);
    qsplitnet_test_stop(c);
}

static void device_add_fails(Ctx *c, const char *prop, int64_t val)
{
    QDict *rsp = qtest_qmp(c->qts, "{'execute': 'device_add', 'arguments':"
                           " {'driver': 'splitnet', 'id': 'bad', %s: %"
                           PRId64 "}}", prop, val);

    g_assert(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
}

static void test_regs_bad_properties(void)
{
    Ctx *c = start(NULL);

    device_add_fails(c, "hdr-slot-size", 100);
    device_add_fails(c, "hdr-slot-size", 32);
    device_add_fails(c, "hdr-slot-size", 512);
    device_add_fails(c, "max-ring-size", 1000);
    device_add_fails(c, "max-ring-size", 4);
    device_add_fails(c, "max-ring-size", 8192);
    device_add_fails(c, "tx-burst", 0);
    /* The running device is unaffected. */
    g_assert_cmphex(rd(c, SPLITNET_REG_MAGIC), ==, SPLITNET_MAGIC);
    qsplitnet_test_stop(c);
}

/* 64-bit registers: one 8-byte access or two 4-byte halves. */
static void test_regs_access64(void)
{
    Ctx *c = start(NULL);
    QPCIBar bar = c->d.bar;
    uint32_t off = SPLITNET_REG_MC_HASH;

    qpci_io_writeq(c->pdev, bar, off, 0x0123456789abcdefull);
    g_assert_cmphex(rd(c, off), ==, 0x89abcdef);
    g_assert_cmphex(rd(c, off + 4), ==, 0x01234567);
    wr(c, off, 0x11111111);
    wr(c, off + 4, 0x22222222);
    g_assert_cmphex(qpci_io_readq(c->pdev, bar, off), ==,
                    0x2222222211111111ull);
    g_assert_cmphex(qpci_io_readq(c->pdev, bar, SPLITNET_REG_DEV_FEATURES),
                    ==, DEV_FEATURES);
    qpci_io_writeq(c->pdev, bar, SPLITNET_QUEUE_REGS(TXQ) +
                   SPLITNET_Q_RING_BASE, 0x100000040ull);
    g_assert_cmphex(qsplitnet_readq(&c->d, SPLITNET_QUEUE_REGS(TXQ) +
                                    SPLITNET_Q_RING_BASE), ==, 0x100000040ull);
    qsplitnet_test_stop(c);
}

static void test_regs_features(void)
{
    Ctx *c = start(NULL);

    /* Bits not offered are dropped. */
    qsplitnet_writeq(&c->d, SPLITNET_REG_DRV_FEATURES, ~0ull);
    g_assert_cmphex(qsplitnet_readq(&c->d, SPLITNET_REG_DRV_FEATURES), ==,
                    DEV_FEATURES);
    /* A bit no version of the ABI defines. */
    qsplitnet_writeq(&c->d, SPLITNET_REG_DRV_FEATURES, 1ull << 63);
    g_assert_cmphex(qsplitnet_readq(&c->d, SPLITNET_REG_DRV_FEATURES), ==,
                    0);

    /* Changing it while a queue is enabled is ignored. */
    qsplitnet_bringup(&c->d, 8, SPLITNET_F_EVENT_IDX);
    qsplitnet_writeq(&c->d, SPLITNET_REG_DRV_FEATURES, 0);
    g_assert_cmphex(qsplitnet_readq(&c->d, SPLITNET_REG_DRV_FEATURES), ==,
                    SPLITNET_F_EVENT_IDX);
    assert_no_error(c);
    qsplitnet_test_stop(c);
}

static void test_regs_mtu(void)
{
    Ctx *c = start(NULL);
    uint32_t max = rd(c, SPLITNET_REG_MAX_MTU);

    wr(c, SPLITNET_REG_MTU, 67);
    g_assert_cmpuint(rd(c, SPLITNET_REG_MTU), ==, 1500);
    wr(c, SPLITNET_REG_MTU, 68);
    g_assert_cmpuint(rd(c, SPLITNET_REG_MTU), ==, 68);
    wr(c, SPLITNET_REG_MTU, max);
    g_assert_cmpuint(rd(c, SPLITNET_REG_MTU), ==, max);
    wr(c, SPLITNET_REG_MTU, max + 1);
    g_assert_cmpuint(rd(c, SPLITNET_REG_MTU), ==, max);
    wr(c, SPLITNET_REG_MTU, 0);
    g_assert_cmpuint(rd(c, SPLITNET_REG_MTU), ==, max);
    qsplitnet_test_stop(c);
}

/* Queue registers other than INTR_DELAY are read-only while enabled. */
static void test_regs_queue_locked(void)
{
    Ctx *c = start_up(NULL, 8);
    uint64_t ring = c->d.txq.ring;

    qwr(c, TXQ, SPLITNET_Q_RING_SIZE, 16);
    qwr(c, TXQ, SPLITNET_Q_VECTOR, 5);
    qsplitnet_qwriteq(&c->d, TXQ, SPLITNET_Q_RING_BASE, ring + 4096);
    qsplitnet_qwriteq(&c->d, TXQ, SPLITNET_Q_POOL_BASE, 0);
    g_assert_cmpuint(qrd(c, TXQ, SPLITNET_Q_RING_SIZE), ==, 8);
    g_assert_cmpuint(qrd(c, TXQ, SPLITNET_Q_VECTOR), ==, VEC_TX);
    g_assert_cmphex(qsplitnet_readq(&c->d, SPLITNET_QUEUE_REGS(TXQ) +
                                    SPLITNET_Q_RING_BASE), ==, ring);
    g_assert_cmphex(qsplitnet_readq(&c->d, SPLITNET_QUEUE_REGS(TXQ) +
                                    SPLITNET_Q_POOL_BASE), ==, c->d.txq.pool);
    qwr(c, TXQ, SPLITNET_Q_INTR_DELAY, 123);
    g_assert_cmpuint(qrd(c, TXQ, SPLITNET_Q_INTR_DELAY), ==, 123);
    g_assert_cmpuint(qrd(c, TXQ, SPLITNET_Q_ENABLE), ==, 1);
    /* STATUS_BASE must not change either while a queue runs. */
    tx_simple(c, 3);

    /* Disabled again, the queue registers are writable. */
    qwr(c, TXQ, SPLITNET_Q_ENABLE, 0);
    g_assert_cmpuint(qrd(c, TXQ, SPLITNET_Q_ENABLE), ==, 0);
    qwr(c, TXQ, SPLITNET_Q_RING_SIZE, 16);
    g_assert_cmpuint(qrd(c, TXQ, SPLITNET_Q_RING_SIZE), ==, 16);
    assert_no_error(c);
    qsplitnet_test_stop(c);
}

/*
 * Accesses of other sizes, undefined offsets and writes to read-only
 * registers are ignored; blocks beyond MAX_QUEUE_PAIRS read as 0.
 */
static void test_regs_bad_access(void)
{
    Ctx *c = start(NULL);
    QPCIBar bar = c->d.bar;
    uint32_t q2 = SPLITNET_QUEUE_REGS(SPLITNET_TXQ(1));
    uint32_t last = SPLITNET_QUEUE_REGS(2 * SPLITNET_MAX_QUEUE_PAIRS - 1);

    wr(c, SPLITNET_REG_MTU, 2000);
    qpci_io_writeb(c->pdev, bar, SPLITNET_REG_MAC_LO, 0xee);
    qpci_io_writew(c->pdev, bar, SPLITNET_REG_MTU, 1000);
    qpci_io_writew(c->pdev, bar, SPLITNET_REG_CTRL, SPLITNET_CTRL_RESET);
    qpci_io_writeb(c->pdev, bar, SPLITNET_REG_CTRL, SPLITNET_CTRL_RESET);
    qpci_io_readb(c->pdev, bar, SPLITNET_REG_ISR);
    qpci_io_readw(c->pdev, bar, SPLITNET_REG_MAGIC + 1);
    g_assert_cmphex(rd(c, SPLITNET_REG_MAC_LO), ==, 0x12005452);
    g_assert_cmpuint(rd(c, SPLITNET_REG_MTU), ==, 2000);

    wr(c, SPLITNET_REG_MAGIC, 0);
    wr(c, SPLITNET_REG_VERSION, 0);
    wr(c, SPLITNET_REG_MAX_MTU, 100);
    wr(c, SPLITNET_REG_TX_SLOT_SIZE, 64);
    wr(c, SPLITNET_REG_NUM_VECTORS, 64);
    qsplitnet_writeq(&c->d, SPLITNET_REG_DEV_FEATURES, 0);
    wr(c, SPLITNET_REG_STATUS, 0);
    wr(c, SPLITNET_REG_ERROR, SPLITNET_ERR_DMA);
    wr(c, 0x068, 0xffffffff);
    wr(c, 0xffc, 0xffffffff);
    wr(c, SPLITNET_REGS_SIZE - 4, 0xffffffff);
    wr(c, SPLITNET_QUEUE_REGS(TXQ) + 0x24, 0xffffffff);
    rd(c, 0x068);
    rd(c, SPLITNET_QUEUE_REGS(TXQ) + 0x7c);
    g_assert_cmphex(rd(c, SPLITNET_REG_MAGIC), ==, SPLITNET_MAGIC);
    g_assert_cmphex(rd(c, SPLITNET_REG_VERSION), ==, SPLITNET_VERSION);
    g_assert_cmpuint(rd(c, SPLITNET_REG_MAX_MTU), ==, 9000);
    g_assert_cmpuint(rd(c, SPLITNET_REG_TX_SLOT_SIZE), ==, 128);
    g_assert_cmpuint(rd(c, SPLITNET_REG_NUM_VECTORS), ==, 3);
    g_assert_cmphex(qsplitnet_readq(&c->d, SPLITNET_REG_DEV_FEATURES), ==,
                    DEV_FEATURES);
    g_assert_cmphex(rd(c, SPLITNET_REG_STATUS), ==, SPLITNET_STATUS_LINK_UP);
    g_assert_cmphex(rd(c, SPLITNET_REG_ERROR), ==, 0);

    /* Queue blocks beyond MAX_QUEUE_PAIRS */
    wr(c, q2 + SPLITNET_Q_RING_SIZE, 8);
    wr(c, q2 + SPLITNET_Q_ENABLE, 1);
    wr(c, q2 + SPLITNET_Q_DOORBELL, 1);
    wr(c, last + SPLITNET_Q_INTR_DELAY, 5);
    g_assert_cmpuint(rd(c, q2 + SPLITNET_Q_RING_SIZE), ==, 0);
    g_assert_cmpuint(rd(c, q2 + SPLITNET_Q_VECTOR), ==, 0);
    g_assert_cmpuint(rd(c, q2 + SPLITNET_Q_ENABLE), ==, 0);
    g_assert_cmpuint(rd(c, last + SPLITNET_Q_INTR_DELAY), ==, 0);
    g_assert_cmpuint(rd(c, q2 + SPLITNET_Q_STAT(SPLITNET_STAT_DOORBELLS)),
                     ==, 0);
    assert_no_error(c);

    /* Still works */
    qsplitnet_bringup(&c->d, 8, 0);
    tx_simple(c, 4);
    qsplitnet_test_stop(c);
}

/* Link changes show in STATUS and raise the config interrupt. */
static void test_regs_link(void)
{
    Ctx *c = start_up(NULL, 8);

    wr(c, SPLITNET_REG_INTR_MASK, 0);
    rd(c, SPLITNET_REG_ISR);
    qtest_qmp_assert_success(c->qts, "{'execute': 'set_link', 'arguments':"
                             " {'name': 'sn0', 'up': false}}");
    g_assert_cmphex(rd(c, SPLITNET_REG_STATUS) & SPLITNET_STATUS_LINK_UP,
                    ==, 0);
    g_assert_true(qsplitnet_intx_asserted(&c->d));
    g_assert_cmphex(rd(c, SPLITNET_REG_ISR), ==, SPLITNET_ISR_CONFIG);
    g_assert_false(qsplitnet_intx_asserted(&c->d));
    qtest_qmp_assert_success(c->qts, "{'execute': 'set_link', 'arguments':"
                             " {'name': 'sn0', 'up': true}}");
    g_assert_cmphex(rd(c, SPLITNET_REG_STATUS) & SPLITNET_STATUS_LINK_UP,
                    ==, SPLITNET_STATUS_LINK_UP);
    g_assert_cmphex(rd(c, SPLITNET_REG_ISR), ==, SPLITNET_ISR_CONFIG);
    qsplitnet_test_stop(c);
}

/* The counters are readable from the host as QOM property "stats". */
static void test_regs_qom_stats(void)
{
    Ctx *c = start_up(NULL, 8);
    QDict *rsp;

    tx_simple(c, 5);
    rsp = qtest_qmp(c->qts, "{'execute': 'qom-get', 'arguments':"
                    " {'path': '/machine/peripheral/sn0',"
                    " 'property': 'stats'}}");
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    qsplitnet_test_stop(c);
}

/* Transmit */

static unsigned next_seed;

/* Split @payload bytes into @n fragment lengths. */
static void split_lens(uint32_t *lens, uint32_t payload, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        lens[i] = payload / n + (i == n - 1 ? payload % n : 0);
    }
}

/* Queue @count frames, ring one doorbell, check all arrive in order. */
static void tx_batch(Ctx *c, int count, uint16_t hdr_len, uint32_t payload,
                     int nfrags)
{
    g_autofree QSplitnetFrame **f = g_new(QSplitnetFrame *, count);
    uint32_t lens[SPLITNET_TX_MAX_FRAGS];
    int i;

    split_lens(lens, payload, nfrags);
    for (i = 0; i < count; i++) {
        f[i] = tx_build(c, hdr_len, lens, nfrags, next_seed++);
        qsplitnet_frame_queue(&c->d, f[i]);
    }
    qsplitnet_kick(&c->d, &c->d.txq);
    g_assert(qsplitnet_wait_cons(&c->d, TXQ, c->d.txq.prod));
    for (i = 0; i < count; i++) {
        sock_expect(c, f[i]->bytes, f[i]->len);
        qsplitnet_frame_free(&c->d, f[i]);
    }
}

/*
 * Frames of one shape each, sent one at a time: each arrives intact, the
 * payload in guest memory stays untouched, and the counters add up.
 */

/* @hdr_len head bytes, @nfrags fragments of @lens (NULL: @payload split) */
typedef struct TxShape {
    uint16_t hdr_len;
    int nfrags;
    const uint32_t *lens;
    uint32_t payload;
} TxShape;

typedef struct TxShapeCase {
    const char *path;
    uint32_t ring;
    unsigned seed;          /* of the first frame, +1 for each next */
    int nframes;
    TxShape frames[3];
} TxShapeCase;

static const uint32_t lens_17[17] = {
    10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 75, 80, 85, 90,
};

static const TxShapeCase tx_shapes[] = {
    { "tx/one-frag", 8, 1, 2, {
        { ETH_HLEN, 1, (const uint32_t[]){ 100 } },
        { 54, 1, (const uint32_t[]){ 100 } } } },
    { "tx/two-frags", 8, 3, 1, {
        { 54, 2, (const uint32_t[]){ 700, 760 } } } },
    { "tx/17-frags", 64, 4, 1, {
        { 42, 17, lens_17 } } },
    /*
     * SPLITNET_TX_MAX_FRAGS descriptors is the most one frame may span;
     * three times, so that the second frame wraps the 64-entry ring.
     */
    { "tx/32-frags", 64, 5, 3, {
        { 64, SPLITNET_TX_MAX_FRAGS, NULL, 1450 },
        { 64, SPLITNET_TX_MAX_FRAGS, NULL, 1450 },
        { 64, SPLITNET_TX_MAX_FRAGS, NULL, 1450 } } },
    /* The whole frame in the slot; the one descriptor has len 0. */
    { "tx/head-only", 8, 8, 3, {
        { 60, 0 },
        { ETH_HLEN, 0 },
        { 128, 3, (const uint32_t[]){ 0, 0, 0 } } } },
};

static void test_tx_shape(gconstpointer data)
{
    const TxShapeCase *t = data;
    Ctx *c = start_up(NULL, t->ring);
    uint64_t bytes = 0, head = 0;
    uint32_t lens[SPLITNET_TX_MAX_FRAGS];
    int i;

    for (i = 0; i < t->nframes; i++) {
        const TxShape *f = &t->frames[i];

        if (f->lens) {
            memcpy(lens, f->lens, f->nfrags * sizeof(lens[0]));
        } else {
            split_lens(lens, f->payload, f->nfrags);
        }
        tx_one(c, f->hdr_len, lens, f->nfrags, t->seed + i);
        bytes += qsplitnet_frame_len(f->hdr_len, lens, f->nfrags);
        head += f->hdr_len;
    }
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_FRAMES), ==, t->nframes);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_BYTES), ==, bytes);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_TX_HEAD_BYTES), ==, head);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_TX_PAYLOAD_REF) +
                     qstat(c, TXQ, SPLITNET_STAT_TX_PAYLOAD_COPY), ==,
                     bytes - head);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_ERRORS), ==, 0);
    qsplitnet_test_stop(c);
}

/* hdr_len exactly TX_SLOT_SIZE, for each slot size. */
static void test_tx_full_slot(void)
{
    static const char *opts[] = {
        "hdr-slot-size=64", NULL, "hdr-slot-size=256",
    };
    uint32_t len = 1000;
    int i;

    for (i = 0; i < ARRAY_SIZE(opts); i++) {
        Ctx *c = start_up(opts[i], 8);

        tx_one(c, c->d.slot_size, &len, 1, 12 + i);
        /* and in the last slot of the ring */
        tx_batch(c, 6, ETH_HLEN, 60, 1);
        tx_one(c, c->d.slot_size, &len, 1, 20 + i);
        qsplitnet_test_stop(c);
    }
}

/* Zero-length fragments: their address is ignored. */
static void test_tx_zero_len_frags(void)
{
    Ctx *c = start_up(NULL, 8);
    QSplitnetFrame *f = tx_build(c, 20, (uint32_t[]){ 0, 100, 0, 50, 0 }, 5,
                                 13);

    f->frags[0].addr = NOT_RAM;
    f->frags[2].addr = UINT64_MAX;
    f->frags[4].addr = 0xfee00000;
    qsplitnet_frame_queue(&c->d, f);
    qsplitnet_kick(&c->d, &c->d.txq);
    g_assert(qsplitnet_wait_cons(&c->d, TXQ, 5));
    sock_expect(c, f->bytes, f->len);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_ERRORS), ==, 0);
    qsplitnet_frame_free(&c->d, f);
    qsplitnet_test_stop(c);
}

/* The largest frame MTU allows: MTU + 18 bytes (here 1518). */
static void test_tx_max_frame(void)
{
    Ctx *c = start_up(NULL, 8);
    uint32_t lens[2] = { 1000, 1518 - 54 - 1000 };

    tx_one(c, 54, lens, 2, 14);
    wr(c, SPLITNET_REG_MTU, 9000);
    lens[1] = 9018 - 54 - 1000;
    tx_one(c, 54, lens, 2, 15);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_ERRORS), ==, 0);
    qsplitnet_test_stop(c);
}

/*
 * 1514-byte frames as a Linux driver would send them: 54 head bytes
 * (Ethernet + IPv4 + TCP) in the slot, 1460 payload bytes by reference.
 */
static void test_tx_1514_counters(void)
{
    Ctx *c = start_up(NULL, 64);
    uint64_t frames, bytes, head, ref, copy;
    const int n = 32;

    tx_batch(c, n, 54, 1460, 1);
    frames = qstat(c, TXQ, SPLITNET_STAT_FRAMES);
    bytes = qstat(c, TXQ, SPLITNET_STAT_BYTES);
    head = qstat(c, TXQ, SPLITNET_STAT_TX_HEAD_BYTES);
    ref = qstat(c, TXQ, SPLITNET_STAT_TX_PAYLOAD_REF);
    copy = qstat(c, TXQ, SPLITNET_STAT_TX_PAYLOAD_COPY);
    g_test_message("%d x 1514-byte frames (hdr_len 54, one 1460-byte "
                   "fragment): FRAMES %" PRIu64 " BYTES %" PRIu64
                   " TX_HEAD_BYTES %" PRIu64 " TX_PAYLOAD_REF %" PRIu64
                   " TX_PAYLOAD_COPY %" PRIu64 " DOORBELLS %" PRIu64
                   " INTERRUPTS %" PRIu64 " XLATE_REBUILDS %" PRIu64,
                   n, frames, bytes, head, ref, copy,
                   qstat(c, TXQ, SPLITNET_STAT_DOORBELLS),
                   qstat(c, TXQ, SPLITNET_STAT_INTERRUPTS),
                   qstat(c, TXQ, SPLITNET_STAT_XLATE_REBUILDS));
    g_assert_cmpuint(frames, ==, n);
    g_assert_cmpuint(bytes, ==, n * 1514);
    g_assert_cmpuint(head, ==, n * 54);
    g_assert_cmpuint(ref, ==, n * 1460);
    g_assert_cmpuint(copy, ==, 0);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_DOORBELLS), ==, 1);
    qsplitnet_test_stop(c);
}

/* Fragments shorter than tx-copybreak are copied, the rest mapped. */
static void test_tx_copybreak(void)
{
    static const struct {
        const char *devopts;
        uint64_t copy, ref;
    } cases[] = {
        { NULL, 64, 1064 },
        { "tx-copybreak=0", 0, 1128 },
        { "tx-copybreak=256", 128, 1000 },
    };
    uint32_t lens[4] = { 63, 64, 1, 1000 };
    int i;

    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        Ctx *c = start_up(cases[i].devopts, 8);

        tx_one(c, 54, lens, 4, 16 + i);
        g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_TX_PAYLOAD_COPY), ==,
                         cases[i].copy);
        g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_TX_PAYLOAD_REF), ==,
                         cases[i].ref);
        g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_TX_HEAD_BYTES), ==, 54);
        qsplitnet_test_stop(c);
    }
}

/* Frames of 1..3 descriptors around an 8-entry ring, many times. */
static void test_tx_wrap(void)
{
    Ctx *c = start_up(NULL, 8);
    int round;

    for (round = 0; round < 12; round++) {
        QSplitnetFrame *f[3];
        int i;

        for (i = 0; i < 3; i++) {
            uint32_t lens[3];

            split_lens(lens, 100 + 10 * i, i + 1);
            f[i] = tx_build(c, 30, lens, i + 1, next_seed++);
            qsplitnet_frame_queue(&c->d, f[i]);
        }
        qsplitnet_kick(&c->d, &c->d.txq);
        g_assert(qsplitnet_wait_cons(&c->d, TXQ, c->d.txq.prod));
        for (i = 0; i < 3; i++) {
            sock_expect(c, f[i]->bytes, f[i]->len);
            qsplitnet_frame_free(&c->d, f[i]);
        }
    }
    g_assert_cmpuint(qsplitnet_cons(&c->d, TXQ), ==, 12 * 6);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_FRAMES), ==, 36);
    qsplitnet_test_stop(c);
}

/* prod exactly RING_SIZE ahead of cons is a full ring, not an error. */
static void test_tx_ring_full(void)
{
    Ctx *c = start_up(NULL, 8);

    tx_batch(c, 8, ETH_HLEN, 100, 1);
    tx_batch(c, 3, ETH_HLEN, 100, 1);
    tx_batch(c, 8, ETH_HLEN, 100, 1);
    tx_batch(c, 4, ETH_HLEN, 100, 2);
    assert_no_error(c);
    qsplitnet_test_stop(c);
}

/* More frames than tx-burst in one doorbell: the bottom half sends on. */
static void test_tx_burst(void)
{
    Ctx *c = start_up(NULL, 256);

    tx_batch(c, 100, 54, 200, 2);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_FRAMES), ==, 100);
    qsplitnet_test_stop(c);

    c = start_up("tx-burst=1", 16);
    tx_batch(c, 16, 54, 200, 1);
    tx_batch(c, 1, 54, 200, 1);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_FRAMES), ==, 17);
    qsplitnet_test_stop(c);
}

/*
 * tx-defer=on: the bottom half sends, and asks for the next doorbell (with
 * cons, in one store) only once a pass of its own finds nothing new: the
 * pass after the one that sent (qsplitnet_sync() lets it run).
 * Backpressure still delivers every frame once and in order.
 */
static void test_tx_defer(void)
{
    Ctx *c = start("tx-defer=on");
    int i;

    qsplitnet_bringup(&c->d, 256, SPLITNET_F_EVENT_IDX);

    for (i = 0; i < 4; i++) {
        tx_batch(c, 1 + 20 * i, 54, 1400, 2);
        qsplitnet_sync(&c->d);
        g_assert_cmpuint(qsplitnet_doorbell_event(&c->d, TXQ), ==,
                         c->d.txq.prod);
    }
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_FRAMES), ==, 1 + 21 + 41 + 61);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_DOORBELLS), ==, 4);
    assert_no_error(c);
    qsplitnet_test_stop(c);
}

/*
 * Backpressure: QEMU's end of the socket has a small send buffer and we
 * do not read; the device must stall (STAT_TX_STALLS), then deliver
 * every frame exactly once and in order when we drain.
 */
static void test_tx_backpressure(gconstpointer devopts)
{
    StartOpts o = { .sndbuf = 4096, .devopts = devopts };
    Ctx *c = start_with(&o);
    const int n = 64;
    QSplitnetFrame *f[64];
    uint32_t len = 1460, cons;
    int i;

    qsplitnet_bringup(&c->d, 64, 0);
    for (i = 0; i < n; i++) {
        f[i] = tx_build(c, 54, &len, 1, 100 + i);
        qsplitnet_frame_queue(&c->d, f[i]);
    }
    qsplitnet_kick(&c->d, &c->d.txq);
    g_assert(qsplitnet_wait_stat(&c->d, TXQ, SPLITNET_STAT_TX_STALLS, 1));
    cons = qsplitnet_cons(&c->d, TXQ);
    g_test_message("stalled with cons %u of %d", cons, n);
    g_assert_cmpuint(cons, <, n);

    for (i = 0; i < n; i++) {
        sock_expect(c, f[i]->bytes, f[i]->len);
        qsplitnet_frame_free(&c->d, f[i]);
    }
    g_assert(qsplitnet_wait_cons(&c->d, TXQ, n));
    sock_expect_nothing(c);
    g_test_message("TX_STALLS %" PRIu64 ", FRAMES %" PRIu64,
                   qstat(c, TXQ, SPLITNET_STAT_TX_STALLS),
                   qstat(c, TXQ, SPLITNET_STAT_FRAMES));
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_FRAMES), ==, n);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_ERRORS), ==, 0);
    qsplitnet_test_stop(c);
}

/*
 * The VM stops while the net layer holds a frame for the full socket: the
 * net layer purges it, the device sends it again on cont.  It went to the
 * network once, so the TX counters count it once.
 */
static void test_tx_stop_held_counted_once(void)
{
    StartOpts o = { .sndbuf = 4096 };
    Ctx *c = start_with(&o);
    const int n = 32;
    QSplitnetFrame *f[32];
    uint32_t len = 1460;
    uint64_t bytes = 0;
    int i;

    qsplitnet_bringup(&c->d, 64, 0);
    for (i = 0; i < n; i++) {
        f[i] = tx_build(c, 54, &len, 1, 500 + i);
        bytes += f[i]->len;
        qsplitnet_frame_queue(&c->d, f[i]);
    }
    qsplitnet_kick(&c->d, &c->d.txq);
    g_assert(qsplitnet_wait_stat(&c->d, TXQ, SPLITNET_STAT_TX_STALLS, 1));
    qtest_qmp_assert_success(c->qts, "{'execute': 'stop'}");
    qtest_qmp_assert_success(c->qts, "{'execute': 'cont'}");

    for (i = 0; i < n; i++) {
        sock_expect(c, f[i]->bytes, f[i]->len);
        qsplitnet_frame_free(&c->d, f[i]);
    }
    g_assert(qsplitnet_wait_cons(&c->d, TXQ, n));
    sock_expect_nothing(c);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_FRAMES), ==, n);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_BYTES), ==, bytes);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_TX_HEAD_BYTES), ==, n * 54);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_TX_PAYLOAD_REF), ==,
                     n * 1460);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_ERRORS), ==, 0);
    qsplitnet_test_stop(c);
}

/* PIIX4 PM (00:01.3): its I/O block, and PM1a_CNT's S3 request. */
#define PIIX4_PM_DEVFN          QPCI_DEVFN(1, 3)
#define PIIX4_PM_BASE           0x600
#define PIIX4_PM1_CNT           (PIIX4_PM_BASE + 4)
#define ACPI_SLP_TYP_S3         (1 << 10)
#define ACPI_SLP_EN             (1 << 13)

/* The guest asks for S3 as its ACPI code would; QEMU suspends the VM. */
static void enter_s3(Ctx *c)
{
    QPCIDevice *pm = qpci_device_find(c->pdev->bus, PIIX4_PM_DEVFN);

    g_assert(pm);
    qpci_config_writel(pm, 0x40, PIIX4_PM_BASE | 1);    /* PMBA */
    qpci_config_writeb(pm, 0x80, 1);                    /* PMIOSE */
    qtest_outw(c->qts, PIIX4_PM1_CNT, ACPI_SLP_EN | ACPI_SLP_TYP_S3);
    qtest_qmp_eventwait(c->qts, "SUSPEND");
    g_free(pm);
}

/*
 * S3 and back.  QEMU changes the run state for these without a VM state
 * change, and the device takes descriptors only while the VM runs: a
 * doorbell while suspended takes nothing, and after the wakeup (which
 * resets the machine, so the driver brings the device up again) frames
 * flow.
 */
static void test_tx_suspend_wakeup(void)
{
    Ctx *c = start_up(NULL, 16);
    QSplitnetFrame *f;
    uint32_t len = 46;

    tx_simple(c, 1);
    enter_s3(c);
    f = tx_build(c, ETH_HLEN, &len, 1, 2);
    qsplitnet_frame_queue(&c->d, f);
    qsplitnet_kick(&c->d, &c->d.txq);
    sock_expect_nothing(c);
    /* Not taken at all, rather than held by the net layer. */
    g_assert_cmpuint(qsplitnet_cons(&c->d, TXQ), ==, 1);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_TX_STALLS), ==, 0);
    qsplitnet_frame_free(&c->d, f);

    qtest_qmp_assert_success(c->qts, "{'execute': 'system_wakeup'}");
    qtest_qmp_eventwait(c->qts, "WAKEUP");
    remap_after_machine_reset(c);
    check_reset_values(c, 0);
    qsplitnet_bringup(&c->d, 16, 0);
    tx_simple(c, 3);
    tx_simple(c, 4);
    qsplitnet_test_stop(c);
}

/* A lone hubport never accepts: the first frame stays uncompleted. */
static Ctx *start_stalled(int nframes)
{
    StartOpts o = { .lone_hub = true };
    Ctx *c = start_with(&o);
    uint32_t len = 100;
    int i;

    qsplitnet_bringup(&c->d, 8, 0);
    for (i = 0; i < nframes; i++) {
        QSplitnetFrame *f = tx_build(c, 54, &len, 1, i);

        qsplitnet_frame_queue(&c->d, f);
        qsplitnet_frame_free(&c->d, f);
    }
    qsplitnet_kick(&c->d, &c->d.txq);
    g_assert(qsplitnet_wait_stat(&c->d, TXQ, SPLITNET_STAT_TX_STALLS, 1));
    return c;
}

static void test_tx_stall_held(void)
{
    Ctx *c = start_stalled(4);

    qsplitnet_sync(&c->d);
    g_assert_cmpuint(qsplitnet_cons(&c->d, TXQ), ==, 0);
    /* Another doorbell does not make it take more. */
    qsplitnet_kick(&c->d, &c->d.txq);
    qsplitnet_sync(&c->d);
    g_assert_cmpuint(qsplitnet_cons(&c->d, TXQ), ==, 0);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_ERRORS), ==, 0);
    assert_no_error(c);
    qsplitnet_test_stop(c);
}

/* CTRL.RESET with frames posted and one held by the network layer. */
static void test_tx_reset_mid_ring(void)
{
    Ctx *c = start_stalled(6);
    uint64_t status = c->d.status;
    QSplitnetFrame *f;

    wr(c, SPLITNET_REG_CTRL, SPLITNET_CTRL_RESET);
    check_reset_values(c, 0);
    qsplitnet_sync(&c->d);
    g_assert_cmpuint(qtest_readl(c->qts, status + 32), ==, 0);

    /* The queue is disabled: a doorbell is a guest error. */
    qwr(c, TXQ, SPLITNET_Q_DOORBELL, 6);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_ERRORS), ==, 1);
    assert_no_error(c);

    /* A new bring-up works (and stalls on the lone hub again). */
    c->d.status = 0;
    qsplitnet_bringup(&c->d, 8, 0);
    f = tx_build(c, 54, (uint32_t[]){ 100 }, 1, 1);
    qsplitnet_frame_queue(&c->d, f);
    qsplitnet_frame_free(&c->d, f);
    qsplitnet_kick(&c->d, &c->d.txq);
    g_assert(qsplitnet_wait_stat(&c->d, TXQ, SPLITNET_STAT_TX_STALLS, 1));
    qsplitnet_test_stop(c);
}

/* A memory map change makes the device rebuild its translations. */
static void test_tx_xlate_rebuild(void)
{
    Ctx *c = start_up(NULL, 8);
    uint16_t cmd = qpci_config_readw(c->pdev, PCI_COMMAND);
    uint64_t builds = qstat(c, TXQ, SPLITNET_STAT_XLATE_REBUILDS);

    g_assert_cmpuint(builds, >=, 1);
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_XLATE_REBUILDS), >=, 1);
    tx_simple(c, 1);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_XLATE_REBUILDS), ==, builds);

    qpci_config_writew(c->pdev, PCI_COMMAND, cmd & ~PCI_COMMAND_MASTER);
    qpci_config_writew(c->pdev, PCI_COMMAND, cmd);
    tx_simple(c, 2);
    g_test_message("XLATE_REBUILDS %" PRIu64 " -> %" PRIu64, builds,
                   qstat(c, TXQ, SPLITNET_STAT_XLATE_REBUILDS));
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_XLATE_REBUILDS), >, builds);
    qsplitnet_test_stop(c);
}

/* Receive */

static void test_rx_single(void)
{
    Ctx *c = start_up(NULL, 8);
    g_autofree uint8_t *f1 = make_frame(our_mac, other_mac, 60, 1);
    g_autofree uint8_t *f2 = make_frame(our_mac, other_mac, 1514, 2);
    g_autofree uint8_t *f3 = make_frame(our_mac, other_mac, 42, 3);
    RxBufs b;

    rx_post_kick(c, &b, 4, 2048);
    rx_one(c, &b, f1, 60);
    rx_one(c, &b, f2, 1514);
    /* Frames are not padded. */
    rx_one(c, &b, f3, 42);
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_FRAMES), ==, 3);
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_BYTES), ==, 60 + 1514 + 42);
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_ERRORS), ==, 0);
    qsplitnet_test_stop(c);
}

/* One frame across several small buffers, EOP on the last only. */
static void test_rx_chain(void)
{
    Ctx *c = start_up(NULL, 32);
    g_autofree uint8_t *f1 = make_frame(our_mac, other_mac, 200, 4);
    g_autofree uint8_t *f2 = make_frame(our_mac, other_mac, 1514, 5);
    RxBufs b;

    rx_post_kick(c, &b, 32, 64);
    qsplitnet_sock_send(c->sock, f1, 200);
    g_assert(qsplitnet_wait_cons(&c->d, RXQ, 4));
    g_assert_cmpint(rx_check(c, &b, 0, f1, 200), ==, 4);
    qsplitnet_sock_send(c->sock, f2, 1514);
    g_assert(qsplitnet_wait_cons(&c->d, RXQ, 4 + 24));
    g_assert_cmpint(rx_check(c, &b, 4, f2, 1514), ==, 24);
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_FRAMES), ==, 2);
    qsplitnet_test_stop(c);
}

/* No buffer posted: the frame waits and arrives after post + doorbell. */
static void test_rx_wait_for_buffers(void)
{
    Ctx *c = start_up(NULL, 8);
    g_autofree uint8_t *f = make_frame(our_mac, other_mac, 300, 6);
    RxBufs b;

    qsplitnet_sock_send(c->sock, f, 300);
    qsplitnet_sync(&c->d);
    g_assert_cmpuint(qsplitnet_cons(&c->d, RXQ), ==, 0);
    rx_post_kick(c, &b, 2, 2048);
    g_assert(qsplitnet_wait_cons(&c->d, RXQ, 1));
    rx_check(c, &b, 0, f, 300);
    qsplitnet_test_stop(c);
}

/* Too few buffers for the frame: wait (STAT_RX_NO_BUFFER), no partial. */
static void test_rx_partial_buffers(void)
{
    Ctx *c = start_up(NULL, 8);
    g_autofree uint8_t *f = make_frame(our_mac, other_mac, 200, 7);
    RxBufs b1, b2;

    rx_post_kick(c, &b1, 1, 64);
    qsplitnet_sock_send(c->sock, f, 200);
    g_assert(qsplitnet_wait_stat(&c->d, RXQ, SPLITNET_STAT_RX_NO_BUFFER, 1));
    g_assert_cmpuint(qsplitnet_cons(&c->d, RXQ), ==, 0);
    rx_post_kick(c, &b2, 3, 64);
    g_assert(qsplitnet_wait_cons(&c->d, RXQ, 4));
    rx_check(c, &b1, 0, f, 200);
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_FRAMES), ==, 1);
    qsplitnet_test_stop(c);
}

/* Send a frame the filter must drop; the next one, to @ok, follows. */
static void rx_expect_filtered_ok(Ctx *c, const RxBufs *b,
                                  const uint8_t *dst, const uint8_t *ok)
{
    g_autofree uint8_t *bad = make_frame(dst, other_mac, 80, 8);
    g_autofree uint8_t *good = make_frame(ok, other_mac, 90, 9);
    uint64_t filtered = qstat(c, RXQ, SPLITNET_STAT_RX_FILTERED);

    qsplitnet_sock_send(c->sock, bad, 80);
    rx_one(c, b, good, 90);
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_RX_FILTERED), ==,
                     filtered + 1);
}

static void rx_expect_filtered(Ctx *c, const RxBufs *b, const uint8_t *dst)
{
    rx_expect_filtered_ok(c, b, dst, c->mac);
}

static void rx_expect_accepted(Ctx *c, const RxBufs *b, const uint8_t *dst)
{
    g_autofree uint8_t *f = make_frame(dst, other_mac, 70, 10);

    rx_one(c, b, f, 70);
}

static void test_rx_filter_unicast(void)
{
    Ctx *c = start_up(NULL, 8);
    RxBufs b;

    rx_post_kick(c, &b, 8, 2048);
    rx_expect_filtered(c, &b, other_mac);
    rx_expect_accepted(c, &b, our_mac);
    wr(c, SPLITNET_REG_RX_FILTER, SPLITNET_RX_FILTER_BROADCAST);
    rx_expect_filtered_ok(c, &b, our_mac, bcast_mac);
    qsplitnet_test_stop(c);
}

static void test_rx_filter_broadcast(void)
{
    Ctx *c = start_up(NULL, 8);
    RxBufs b;

    rx_post_kick(c, &b, 8, 2048);
    rx_expect_accepted(c, &b, bcast_mac);
    wr(c, SPLITNET_REG_RX_FILTER, SPLITNET_RX_FILTER_UNICAST);
    rx_expect_filtered(c, &b, bcast_mac);
    qsplitnet_test_stop(c);
}

static void test_rx_filter_multicast(void)
{
    static const uint8_t grp[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };
    uint8_t grp2[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
    Ctx *c = start_up(NULL, 16);
    RxBufs b;

    /* a second group whose hash bit differs */
    while (mc_bit(grp2) == mc_bit(grp)) {
        grp2[5]++;
    }
    rx_post_kick(c, &b, 16, 2048);
    rx_expect_filtered(c, &b, grp);
    wr(c, SPLITNET_REG_RX_FILTER, SPLITNET_RX_FILTER_UNICAST |
       SPLITNET_RX_FILTER_MULTICAST);
    rx_expect_filtered(c, &b, grp);
    qsplitnet_writeq(&c->d, SPLITNET_REG_MC_HASH, 1ull << mc_bit(grp));
    rx_expect_accepted(c, &b, grp);
    rx_expect_filtered(c, &b, grp2);
    wr(c, SPLITNET_REG_RX_FILTER, SPLITNET_RX_FILTER_UNICAST |
       SPLITNET_RX_FILTER_ALLMULTI);
    rx_expect_accepted(c, &b, grp2);
    rx_expect_accepted(c, &b, grp);
    qsplitnet_test_stop(c);
}

static void test_rx_filter_promisc(void)
{
    Ctx *c = start_up(NULL, 8);
    RxBufs b;

    rx_post_kick(c, &b, 8, 2048);
    wr(c, SPLITNET_REG_RX_FILTER, SPLITNET_RX_FILTER_PROMISC);
    rx_expect_accepted(c, &b, other_mac);
    rx_expect_accepted(c, &b, bcast_mac);
    rx_expect_accepted(c, &b, our_mac);
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_RX_FILTERED), ==, 0);
    qsplitnet_test_stop(c);
}

/* Unicast filtering follows MAC_LO/MAC_HI. */
static void test_rx_mac_change(void)
{
    static const uint8_t new_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
    Ctx *c = start_up(NULL, 8);
    RxBufs b;

    rx_post_kick(c, &b, 8, 2048);
    wr(c, SPLITNET_REG_MAC_LO, 0x33221102);
    wr(c, SPLITNET_REG_MAC_HI, 0x5544);
    memcpy(c->mac, new_mac, 6);
    rx_expect_accepted(c, &b, new_mac);
    rx_expect_filtered(c, &b, our_mac);
    qsplitnet_test_stop(c);
}

/*
 * MAC_LO waits for MAC_HI: between the two writes the old address still
 * filters, and half of the new one (bytes 0..3 new, 4..5 old) never does.
 */
static void test_rx_mac_half_written(void)
{
    static const uint8_t new_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
    static const uint8_t half_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x34, 0x56 };
    Ctx *c = start_up(NULL, 16);
    RxBufs b;

    rx_post_kick(c, &b, 16, 2048);
    wr(c, SPLITNET_REG_MAC_LO, 0x33221102);
    g_assert_cmphex(rd(c, SPLITNET_REG_MAC_LO), ==, 0x12005452);
    rx_expect_filtered(c, &b, half_mac);
    rx_expect_accepted(c, &b, our_mac);
    wr(c, SPLITNET_REG_MAC_HI, 0x5544);
    memcpy(c->mac, new_mac, 6);
    g_assert_cmphex(rd(c, SPLITNET_REG_MAC_LO), ==, 0x33221102);
    rx_expect_accepted(c, &b, new_mac);
    rx_expect_filtered(c, &b, half_mac);
    rx_expect_filtered(c, &b, our_mac);
    qsplitnet_test_stop(c);
}

/* The low half of MC_HASH takes effect with the high half. */
static void test_rx_mc_hash_half_written(void)
{
    uint8_t grp[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    Ctx *c = start_up(NULL, 16);
    RxBufs b;

    while (mc_bit(grp) >= 32) {
        grp[5]++;
    }
    rx_post_kick(c, &b, 16, 2048);
    wr(c, SPLITNET_REG_RX_FILTER, SPLITNET_RX_FILTER_UNICAST |
       SPLITNET_RX_FILTER_MULTICAST);
    wr(c, SPLITNET_REG_MC_HASH, 1u << mc_bit(grp));
    rx_expect_filtered(c, &b, grp);
    wr(c, SPLITNET_REG_MC_HASH + 4, 0);
    rx_expect_accepted(c, &b, grp);
    qsplitnet_test_stop(c);
}

/*
 * A counter read as two halves while it carries into its high half: the
 * high half read is the one latched by the low half read, never the new
 * one.  TX bytes are driven to just under 2^32 with 65014-byte frames
 * (one payload fragment each, the ring's descriptors written once) into
 * a sink netdev, then one more frame goes out between the two reads.
 */
#define BIG_MTU         65000
#define BIG_FRAME       (BIG_MTU + ETH_HLEN)
static void test_regs_counter_halves(void)
{
    const uint32_t ring = 256, below = UINT32_MAX / BIG_FRAME;
    QSplitnetTest *c = qsplitnet_test_start(-1, -1,
        "-m 128M -netdev sink,id=hs0 -device splitnet,id=sn0,addr=04.0,"
        "netdev=hs0,mac=" SPLITNET_TEST_MAC_STR ",max-mtu=%u", BIG_MTU);
    uint64_t payload = galloc(c, BIG_FRAME);
    g_autofree uint8_t *head = make_frame(bcast_mac, our_mac, ETH_HLEN, 1);
    uint32_t off = SPLITNET_QUEUE_REGS(TXQ) +
                   SPLITNET_Q_STAT(SPLITNET_STAT_BYTES);
    uint64_t bytes;
    uint32_t lo, hi, i;

    qsplitnet_bringup(&c->d, ring, 0);
    wr(c, SPLITNET_REG_MTU, BIG_MTU);
    for (i = 0; i < ring; i++) {
        qsplitnet_tx_write_head(&c->d, i, head, ETH_HLEN);
        qsplitnet_tx_add(&c->d, payload, BIG_MTU, ETH_HLEN, SPLITNET_TXD_EOP);
    }
    c->d.txq.prod = 0;
    while (c->d.txq.prod < below) {
        c->d.txq.prod = MIN(c->d.txq.prod + ring, below);
        qsplitnet_kick(&c->d, &c->d.txq);
        g_assert(qsplitnet_wait_cons(&c->d, TXQ, c->d.txq.prod));
    }
    bytes = (uint64_t)below * BIG_FRAME;
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_BYTES), ==, bytes);
    g_assert_cmpuint(bytes + BIG_FRAME, >, UINT32_MAX);

    lo = rd(c, off);
    c->d.txq.prod++;
    qsplitnet_kick(&c->d, &c->d.txq);
    g_assert(qsplitnet_wait_cons(&c->d, TXQ, c->d.txq.prod));
    hi = rd(c, off + 4);
    g_assert_cmphex((uint64_t)hi << 32 | lo, ==, bytes);
    /* The latch is used once: the next pair and an 8-byte read are new. */
    lo = rd(c, off);
    hi = rd(c, off + 4);
    g_assert_cmphex((uint64_t)hi << 32 | lo, ==, bytes + BIG_FRAME);
    g_assert_cmphex(hi, ==, 1);
    g_assert_cmphex(qsplitnet_readq(&c->d, off), ==, bytes + BIG_FRAME);
    qsplitnet_test_stop(c);
}

static void set_reset_hang(Ctx *c, bool on)
{
    QDict *r = qtest_qmp(c->qts, "{'execute': 'qom-set', 'arguments': "
                         "{'path': '/machine/peripheral/sn0', "
                         "'property': 'x-reset-hang', 'value': %i}}", on);

    g_assert(qdict_haskey(r, "return"));
    qobject_unref(r);
}

/*
 * x-reset-hang (fault injection for driver tests): CTRL.RESET reads back
 * 1 and the queues keep running; clearing it completes the reset.
 */
static void test_regs_reset_hang(void)
{
    Ctx *c = start_up(NULL, 8);

    set_reset_hang(c, true);
    wr(c, SPLITNET_REG_CTRL, SPLITNET_CTRL_RESET);
    g_assert_cmphex(rd(c, SPLITNET_REG_CTRL) & SPLITNET_CTRL_RESET, ==,
                    SPLITNET_CTRL_RESET);
    g_assert_cmpuint(qrd(c, TXQ, SPLITNET_Q_ENABLE), ==, 1);
    tx_simple(c, 3);
    set_reset_hang(c, false);
    g_assert_cmphex(rd(c, SPLITNET_REG_CTRL), ==, 0);
    g_assert_cmpuint(qrd(c, TXQ, SPLITNET_Q_ENABLE), ==, 0);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_FRAMES), ==, 0);
    qsplitnet_test_stop(c);
}

/* Nothing is received while DRIVER_OK is clear. */
static void test_rx_driver_ok(void)
{
    Ctx *c = start_up(NULL, 8);
    g_autofree uint8_t *f1 = make_frame(our_mac, other_mac, 64, 12);
    g_autofree uint8_t *f2 = make_frame(our_mac, other_mac, 65, 13);
    uint32_t cons;
    RxBufs b;

    rx_post_kick(c, &b, 8, 2048);
    wr(c, SPLITNET_REG_CTRL, 0);
    g_assert_cmphex(rd(c, SPLITNET_REG_STATUS) & SPLITNET_STATUS_DRIVER_OK,
                    ==, 0);
    qsplitnet_sock_send(c->sock, f1, 64);
    qsplitnet_sync(&c->d);
    g_assert_cmpuint(qsplitnet_cons(&c->d, RXQ), ==, 0);

    /* Held or dropped meanwhile; either way the next frame arrives. */
    wr(c, SPLITNET_REG_CTRL, SPLITNET_CTRL_DRIVER_OK);
    qsplitnet_sock_send(c->sock, f2, 65);
    g_assert(qsplitnet_wait_stat(&c->d, RXQ, SPLITNET_STAT_BYTES, 65));
    cons = qsplitnet_cons(&c->d, RXQ);
    g_test_message("frame sent while DRIVER_OK was clear: %s",
                   cons == 2 ? "held" : "dropped");
    if (cons == 2) {
        rx_check(c, &b, 0, f1, 64);
    }
    g_assert_cmpuint(cons, >=, 1);
    rx_check(c, &b, cons - 1, f2, 65);
    qsplitnet_test_stop(c);
}

/* A frame larger than a whole ring of the posted buffers is dropped. */
static void test_rx_oversize(void)
{
    Ctx *c = start_up(NULL, 8);
    g_autofree uint8_t *big = make_frame(our_mac, other_mac, 600, 14);
    g_autofree uint8_t *f = make_frame(our_mac, other_mac, 100, 15);
    RxBufs b;

    rx_post_kick(c, &b, 8, 64);
    qsplitnet_sock_send(c->sock, big, 600);
    g_assert(qsplitnet_wait_stat(&c->d, RXQ, SPLITNET_STAT_RX_OVERSIZE, 1));
    qsplitnet_sock_send(c->sock, f, 100);
    g_assert(qsplitnet_wait_cons(&c->d, RXQ, 2));
    rx_check(c, &b, 0, f, 100);
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_RX_OVERSIZE), ==, 1);
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_FRAMES), ==, 1);
    qsplitnet_test_stop(c);
}

/* Many frames around an 8-entry ring, some split across its end. */
static void test_rx_wrap(void)
{
    Ctx *c = start_up(NULL, 8);
    int i;

    for (i = 0; i < 20; i++) {
        g_autofree uint8_t *f = make_frame(our_mac, other_mac, 300, i);
        uint32_t idx = c->d.rxq.prod;
        RxBufs b;

        rx_post_kick(c, &b, 3, 128);
        qsplitnet_sock_send(c->sock, f, 300);
        g_assert(qsplitnet_wait_cons(&c->d, RXQ, idx + 3));
        g_assert_cmpint(rx_check(c, &b, idx, f, 300), ==, 3);
        guest_free(&c->qs->alloc, b.area);
    }
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_FRAMES), ==, 20);
    qsplitnet_test_stop(c);
}

/* Interrupts */

static Ctx *start_msix(uint32_t ring, uint64_t features)
{
    Ctx *c = start(NULL);

    qsplitnet_bringup(&c->d, ring, features);
    qsplitnet_msix_enable(&c->d);
    return c;
}

static bool msix_clear(Ctx *c, uint16_t vector)
{
    return qsplitnet_msix_test_clear(&c->d, vector);
}

static void test_irq_msix(void)
{
    Ctx *c = start_msix(8, 0);
    g_autofree uint8_t *f = make_frame(our_mac, other_mac, 60, 1);
    RxBufs b;

    tx_simple(c, 1);
    g_assert_true(msix_clear(c, VEC_TX));
    g_assert_false(msix_clear(c, VEC_RX));
    g_assert_false(msix_clear(c, VEC_CONFIG));
    g_assert_false(qsplitnet_intx_asserted(&c->d));
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_INTERRUPTS), ==, 1);

    rx_post_kick(c, &b, 4, 2048);
    g_assert_false(msix_clear(c, VEC_RX));
    rx_one(c, &b, f, 60);
    g_assert_true(msix_clear(c, VEC_RX));
    g_assert_false(msix_clear(c, VEC_TX));
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_INTERRUPTS), ==, 1);

    tx_simple(c, 2);
    g_assert_true(msix_clear(c, VEC_TX));
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_INTERRUPTS), ==, 2);
    qsplitnet_test_stop(c);
}

/* VECTOR 0xffff: the queue sends no message. */
static void test_irq_no_vector(void)
{
    Ctx *c = start_msix(8, 0);
    int v;

    qwr(c, TXQ, SPLITNET_Q_ENABLE, 0);
    qsplitnet_queue_program(&c->d, &c->d.txq, SPLITNET_NO_VECTOR);
    qsplitnet_queue_enable(&c->d, &c->d.txq);
    tx_simple(c, 1);
    for (v = 0; v < rd(c, SPLITNET_REG_NUM_VECTORS); v++) {
        g_assert_false(msix_clear(c, v));
    }
    qsplitnet_test_stop(c);
}

/* The error state raises the config vector. */
static void test_irq_msix_config(void)
{
    Ctx *c = start_msix(8, 0);

    qsplitnet_set_prod(&c->d, TXQ, 9);
    qwr(c, TXQ, SPLITNET_Q_DOORBELL, 9);
    assert_error(c, SPLITNET_ERR_PROD_INDEX, TXQ);
    g_assert_true(msix_clear(c, VEC_CONFIG));
    g_assert_false(msix_clear(c, VEC_TX));
    qsplitnet_test_stop(c);
}

/* INTx: ISR latches causes, reading clears them, INTR_MASK gates INTx. */
static void test_irq_intx(void)
{
    Ctx *c = start_up(NULL, 8);
    g_autofree uint8_t *f = make_frame(our_mac, other_mac, 60, 1);
    RxBufs b;

    wr(c, SPLITNET_REG_INTR_MASK, 0);
    rd(c, SPLITNET_REG_ISR);
    g_assert_false(qsplitnet_intx_asserted(&c->d));
    tx_simple(c, 1);
    g_assert_true(qsplitnet_intx_asserted(&c->d));
    g_assert_cmphex(rd(c, SPLITNET_REG_ISR), ==, SPLITNET_ISR_QUEUE(TXQ));
    g_assert_false(qsplitnet_intx_asserted(&c->d));
    g_assert_cmphex(rd(c, SPLITNET_REG_ISR), ==, 0);

    rx_post_kick(c, &b, 4, 2048);
    rx_one(c, &b, f, 60);
    g_assert_true(qsplitnet_intx_asserted(&c->d));
    g_assert_cmphex(rd(c, SPLITNET_REG_ISR), ==, SPLITNET_ISR_QUEUE(RXQ));

    wr(c, SPLITNET_REG_INTR_MASK, SPLITNET_ISR_QUEUE(TXQ));
    tx_simple(c, 2);
    g_assert_false(qsplitnet_intx_asserted(&c->d));
    wr(c, SPLITNET_REG_INTR_MASK, 0);
    g_assert_true(qsplitnet_intx_asserted(&c->d));
    g_assert_cmphex(rd(c, SPLITNET_REG_ISR), ==, SPLITNET_ISR_QUEUE(TXQ));
    g_assert_false(qsplitnet_intx_asserted(&c->d));
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_INTERRUPTS), ==, 2);
    qsplitnet_test_stop(c);
}

/* F_EVENT_IDX: a queue interrupt only when cons passes intr_event. */
static void test_irq_event_idx(void)
{
    Ctx *c = start_msix(16, SPLITNET_F_EVENT_IDX);

    qsplitnet_set_intr_event(&c->d, TXQ, 1);
    tx_simple(c, 1);                        /* cons 0 -> 1 */
    g_assert_false(msix_clear(c, VEC_TX));
    tx_simple(c, 2);                        /* cons 1 -> 2 */
    g_assert_true(msix_clear(c, VEC_TX));
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_INTERRUPTS), ==, 1);

    qsplitnet_set_intr_event(&c->d, TXQ, 100);
    tx_simple(c, 3);
    tx_simple(c, 4);
    tx_simple(c, 5);                        /* cons 5 */
    g_assert_false(msix_clear(c, VEC_TX));
    qsplitnet_set_intr_event(&c->d, TXQ, 5);
    tx_simple(c, 6);                        /* cons 5 -> 6 */
    g_assert_true(msix_clear(c, VEC_TX));

    /* One batch past intr_event: one interrupt. */
    qsplitnet_set_intr_event(&c->d, TXQ, 7);
    tx_batch(c, 3, ETH_HLEN, 50, 1);        /* cons 6 -> 9 */
    g_assert_true(msix_clear(c, VEC_TX));
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_INTERRUPTS), ==, 3);
    qsplitnet_test_stop(c);
}

/* Without F_EVENT_IDX intr_event is ignored: every advance interrupts. */
static void test_irq_no_event_idx(void)
{
    Ctx *c = start_msix(8, 0);
    int i;

    qsplitnet_set_intr_event(&c->d, TXQ, 100);
    for (i = 0; i < 3; i++) {
        tx_simple(c, i);
        g_assert_true(msix_clear(c, VEC_TX));
    }
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_INTERRUPTS), ==, 3);
    qsplitnet_test_stop(c);
}

/* The device publishes doorbell_event = the prod it saw when idle. */
static void test_irq_doorbell_event(void)
{
    Ctx *c = start_msix(16, SPLITNET_F_EVENT_IDX);

    tx_batch(c, 3, ETH_HLEN, 50, 1);
    g_assert_cmpuint(qsplitnet_doorbell_event(&c->d, TXQ), ==, 3);
    tx_simple(c, 1);
    g_assert_cmpuint(qsplitnet_doorbell_event(&c->d, TXQ), ==, 4);
    tx_batch(c, 5, ETH_HLEN, 50, 2);
    g_assert_cmpuint(qsplitnet_doorbell_event(&c->d, TXQ), ==, 14);
    qsplitnet_test_stop(c);
}

static bool need_event(uint32_t event, uint32_t new, uint32_t old)
{
    return (uint32_t)(new - event - 1) < (uint32_t)(new - old);
}

/*
 * While the queue is busy (stalled on a full socket) the driver adds
 * frames without a doorbell, as the event-index rule tells it; the
 * device finds them through prod once the peer drains.
 */
static void test_irq_busy_no_doorbell(void)
{
    StartOpts o = { .sndbuf = 4096 };
    Ctx *c = start_with(&o);
    QSplitnetFrame *f[80];
    uint32_t len = 1460, de;
    int i;

    qsplitnet_bringup(&c->d, 128, SPLITNET_F_EVENT_IDX);
    for (i = 0; i < 64; i++) {
        f[i] = tx_build(c, 54, &len, 1, 200 + i);
        qsplitnet_frame_queue(&c->d, f[i]);
    }
    qsplitnet_kick(&c->d, &c->d.txq);
    g_assert(qsplitnet_wait_stat(&c->d, TXQ, SPLITNET_STAT_TX_STALLS, 1));
    for (; i < 80; i++) {
        f[i] = tx_build(c, 54, &len, 1, 200 + i);
        qsplitnet_frame_queue(&c->d, f[i]);
    }
    qsplitnet_publish(&c->d, &c->d.txq);
    de = qsplitnet_doorbell_event(&c->d, TXQ);
    g_assert_false(need_event(de, 80, 64));

    for (i = 0; i < 80; i++) {
        sock_expect(c, f[i]->bytes, f[i]->len);
        qsplitnet_frame_free(&c->d, f[i]);
    }
    g_assert(qsplitnet_wait_cons(&c->d, TXQ, 80));
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_DOORBELLS), ==, 1);
    g_assert_cmpuint(qsplitnet_doorbell_event(&c->d, TXQ), ==, 80);
    sock_expect_nothing(c);
    qsplitnet_test_stop(c);
}

/*
 * INTR_DELAY: a second interrupt waits until the delay has passed.
 * @start_ns: virtual time to step to before the first interrupt.
 */
static void moderation_check(int64_t start_ns)
{
    Ctx *c = start_msix(16, 0);

    if (start_ns) {
        qtest_clock_step(c->qts, start_ns);
    }
    qwr(c, TXQ, SPLITNET_Q_INTR_DELAY, 1000);
    tx_simple(c, 1);
    g_assert_true(msix_clear(c, VEC_TX));
    /* One doorbell: with more, the TX interrupt is held (irq/tx-hold). */
    tx_batch(c, 2, ETH_HLEN, 46, 1);
    g_assert_false(msix_clear(c, VEC_TX));
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_INTERRUPTS), ==, 1);
    qtest_clock_step(c->qts, 500 * SCALE_US);
    g_assert_false(msix_clear(c, VEC_TX));
    qtest_clock_step(c->qts, 600 * SCALE_US);
    g_assert_true(msix_clear(c, VEC_TX));
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_INTERRUPTS), ==, 2);

    /* Quiet for longer than the delay: the next one is immediate. */
    qtest_clock_step(c->qts, 2000 * SCALE_US);
    tx_simple(c, 4);
    g_assert_true(msix_clear(c, VEC_TX));

    /* Moderation off again */
    qwr(c, TXQ, SPLITNET_Q_INTR_DELAY, 0);
    tx_simple(c, 5);
    g_assert_true(msix_clear(c, VEC_TX));
    tx_simple(c, 6);
    g_assert_true(msix_clear(c, VEC_TX));
    qsplitnet_test_stop(c);
}

/* @n frames as tx_simple() makes them, a doorbell each. */
static void tx_rings(Ctx *c, int n, unsigned seed)
{
    while (n--) {
        tx_simple(c, seed++);
    }
}

/*
 * A TX interrupt held back by INTR_DELAY is held on for another delay
 * while the driver rings at least 16 times a delay (it frees completed
 * buffers as it sends), up to 8 delays after it was asked for.  RX
 * interrupts are never held.
 */
static void test_irq_tx_hold(void)
{
    Ctx *c = start_msix(64, 0);
    int i;

    qtest_clock_step(c->qts, 10 * SCALE_MS);
    qwr(c, TXQ, SPLITNET_Q_INTR_DELAY, 1000);
    tx_simple(c, 1);
    g_assert_true(msix_clear(c, VEC_TX));
    tx_simple(c, 2);                /* asks for the next one: held back */
    qtest_clock_step(c->qts, 500 * SCALE_US);
    tx_rings(c, 16, 3);             /* 16 doorbells: held on at 1 ms */
    qtest_clock_step(c->qts, 600 * SCALE_US);
    g_assert_false(msix_clear(c, VEC_TX));
    tx_rings(c, 15, 19);            /* 15: fires at 2 ms */
    qtest_clock_step(c->qts, 1000 * SCALE_US);
    g_assert_true(msix_clear(c, VEC_TX));
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_INTERRUPTS), ==, 2);

    /*
     * A steady sender, 16 frames every 0.5 ms: asked for 0.1 ms after the
     * last interrupt, held at each deadline until the first at least 8
     * delays after the request, 8.9 ms on: the 18th step.
     */
    tx_simple(c, 40);
    for (i = 1; i <= 24; i++) {
        qtest_clock_step(c->qts, 500 * SCALE_US);
        if (msix_clear(c, VEC_TX)) {
            break;
        }
        tx_rings(c, 16, 40 + 16 * i);
    }
    g_assert_cmpint(i, ==, 18);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_INTERRUPTS), ==, 3);
    qsplitnet_test_stop(c);
}

static void test_irq_moderation(void)
{
    moderation_check(10 * SCALE_MS);
}

/* The same with the first interrupt at virtual time 0. */
static void test_irq_moderation_t0(void)
{
    moderation_check(0);
}

/* RX side of F_EVENT_IDX: intr_event and doorbell_event. */
static void test_irq_event_idx_rx(void)
{
    Ctx *c = start_msix(8, SPLITNET_F_EVENT_IDX);
    g_autofree uint8_t *f1 = make_frame(our_mac, other_mac, 60, 1);
    g_autofree uint8_t *f2 = make_frame(our_mac, other_mac, 61, 2);
    g_autofree uint8_t *f3 = make_frame(our_mac, other_mac, 62, 3);
    gint64 end = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
    RxBufs b1, b2;

    qsplitnet_set_intr_event(&c->d, RXQ, 1);
    rx_post_kick(c, &b1, 2, 2048);
    rx_one(c, &b1, f1, 60);                 /* cons 0 -> 1 */
    g_assert_false(msix_clear(c, VEC_RX));
    rx_one(c, &b1, f2, 61);                 /* cons 1 -> 2 */
    g_assert_true(msix_clear(c, VEC_RX));

    /* No buffer for f3: the device asks for a doorbell at prod 2. */
    qsplitnet_sock_send(c->sock, f3, 62);
    while (qsplitnet_doorbell_event(&c->d, RXQ) != 2 &&
           g_get_monotonic_time() < end) {
        g_usleep(100);
    }
    g_assert_cmpuint(qsplitnet_doorbell_event(&c->d, RXQ), ==, 2);
    g_assert_true(need_event(2, 3, 2));
    qsplitnet_set_intr_event(&c->d, RXQ, 2);
    rx_post_kick(c, &b2, 1, 2048);
    g_assert(qsplitnet_wait_cons(&c->d, RXQ, 3));
    rx_check(c, &b2, 2, f3, 62);
    g_assert_true(msix_clear(c, VEC_RX));
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_INTERRUPTS), ==, 2);
    qsplitnet_test_stop(c);
}

/* Hotplug */

static void test_hotplug(void)
{
    StartOpts o = { .extra = "-netdev hubport,hubid=1,id=hs1" };
    Ctx *c = start_with(&o);

    qtest_qmp_device_add(c->qts, "splitnet", "sn1",
                         "{'addr': '0x06', 'netdev': 'hs1'}");
    qpci_unplug_acpi_device_test(c->qts, "sn1", 0x06);
    g_assert_cmphex(rd(c, SPLITNET_REG_MAGIC), ==, SPLITNET_MAGIC);
    qsplitnet_test_stop(c);
}

/* Unplug a device whose peer holds one of its frames. */
static void test_unplug_stalled(void)
{
    StartOpts o = { .extra = "-netdev hubport,hubid=1,id=hs1" };
    Ctx *c = start_with(&o);
    QPCIDevice *pdev;
    QSplitnet d2;
    uint32_t len = 100;
    int i;

    qtest_qmp_device_add(c->qts, "splitnet", "sn1",
                         "{'addr': '0x06', 'netdev': 'hs1'}");
    pdev = qpci_device_find(c->qs->pcibus, QPCI_DEVFN(6, 0));
    g_assert(pdev);
    qsplitnet_init(&d2, pdev, &c->qs->alloc);
    qsplitnet_bringup(&d2, 8, 0);
    for (i = 0; i < 3; i++) {
        QSplitnetFrame *f = tx_build(c, 54, &len, 1, i);

        qsplitnet_tx_frame(&d2, f->bytes, 54, f->frags, 1);
        qsplitnet_frame_free(&c->d, f);
    }
    qsplitnet_kick(&d2, &d2.txq);
    g_assert_cmpuint(qsplitnet_stat(&d2, TXQ, SPLITNET_STAT_TX_STALLS), >=,
                     1);
    qpci_unplug_acpi_device_test(c->qts, "sn1", 0x06);
    g_free(pdev);

    /* The other NIC and QEMU carry on. */
    qsplitnet_bringup(&c->d, 8, 0);
    tx_simple(c, 1);
    qsplitnet_test_stop(c);
}

/* Robustness */

static uint32_t lcg(uint32_t *state)
{
    *state = *state * 1103515245 + 12345;
    return *state >> 8;
}

/* Something random: a register, a descriptor, a doorbell or a frame. */
static void fuzz_step(Ctx *c, uint32_t *st, const uint8_t *frame)
{
    uint32_t r = lcg(st), v = lcg(st) ^ (lcg(st) << 16);
    uint32_t q = r & 1;
    uint64_t ring = q ? c->d.rxq.ring : c->d.txq.ring;

    switch (r % 8) {
    case 0:
        wr(c, (lcg(st) % 0x80) * 4, v);
        break;
    case 1:
        qwr(c, q, (lcg(st) % 0x28) & ~3u, v);
        break;
    case 2:
    case 3:
        qtest_writel(c->qts, ring + (lcg(st) % 64) * 4, v);
        break;
    case 4:
        qtest_writel(c->qts, c->d.txq.pool + lcg(st) % 1024, v);
        break;
    case 5:
        qsplitnet_set_prod(&c->d, q, qsplitnet_cons(&c->d, q) + v % 10);
        qwr(c, q, SPLITNET_Q_DOORBELL, v);
        break;
    case 6:
        qsplitnet_sock_send(c->sock, frame, 14 + v % 1500);
        break;
    default:
        if (v % 16 == 0) {
            qsplitnet_bringup(&c->d, 8, v & 1);
        }
        rd(c, (lcg(st) % 0x80) * 4);
        break;
    }
}

static void drain_socket(Ctx *c)
{
    uint8_t buf[4096];

    qsplitnet_sync(&c->d);
    while (recv(c->sock, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
        qsplitnet_sync(&c->d);
    }
}

/*
 * Random register writes, descriptor garbage, bad producer indices and
 * frames from the wire, from a fixed seed: the device must survive and
 * work again after CTRL.RESET.
 */
static void test_fuzz(void)
{
    Ctx *c = start_up(NULL, 8);
    g_autofree uint8_t *frame = make_frame(our_mac, other_mac, 1514, 1);
    const char *seed = g_getenv("SPLITNET_FUZZ_SEED");
    unsigned long val = 0x5eed;
    uint32_t st;
    RxBufs b;
    int i;

    if (seed) {
        g_assert_cmpint(qemu_strtoul(seed, NULL, 0, &val), ==, 0);
    }
    st = val;

    g_test_message("seed 0x%x (SPLITNET_FUZZ_SEED)", st);
    rx_post_kick(c, &b, 8, 256);
    for (i = 0; i < 3000; i++) {
        fuzz_step(c, &st, frame);
        if (i % 100 == 0) {
            drain_socket(c);
        }
    }
    g_assert_cmphex(rd(c, SPLITNET_REG_MAGIC), ==, SPLITNET_MAGIC);
    wr(c, SPLITNET_REG_CTRL, SPLITNET_CTRL_RESET);
    drain_socket(c);
    check_reset_values(c, 0);
    qsplitnet_bringup(&c->d, 8, 0);
    tx_simple(c, 2);
    qsplitnet_test_stop(c);
}

/* Migration */

/*
 * The source's peer is a lone hubport, which holds frame 0 and stalls the
 * queue.  When the source stops, the net layer flushes the hub, which
 * delivers frame 0 to its (absent) other ports; the device completes it
 * but, the VM being stopped, sends nothing more.  The destination must
 * send frames 1..5, once each, in order, without a doorbell.
 */
static void test_migration_inflight(void)
{
    StartOpts so = { .lone_hub = true };
    g_autofree char *sockpath = g_strdup_printf("%s/splitnet-mig-%d.sock",
                                                g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("unix:%s", sockpath);
    g_autofree char *incoming = g_strdup_printf(
        "-incoming %s -global migration.announce-rounds=0", uri);
    StartOpts dopts = { .extra = incoming };
    Ctx *src = start_with(&so), *dst;
    QSplitnetFrame *f[6];
    uint32_t len = 500;
    int i;

    qsplitnet_bringup(&src->d, 8, SPLITNET_F_EVENT_IDX);
    wr(src, SPLITNET_REG_MTU, 2000);
    wr(src, SPLITNET_REG_RX_FILTER, SPLITNET_RX_FILTER_PROMISC);
    for (i = 0; i < 6; i++) {
        f[i] = tx_build(src, 54, &len, 1, 300 + i);
        qsplitnet_frame_queue(&src->d, f[i]);
    }
    qsplitnet_kick(&src->d, &src->d.txq);
    g_assert(qsplitnet_wait_stat(&src->d, TXQ, SPLITNET_STAT_TX_STALLS, 1));
    g_assert_cmpuint(qsplitnet_cons(&src->d, TXQ), ==, 0);

    dst = start_with(&dopts);
    migrate(src->qs, dst->qs, uri);
    unlink(sockpath);
    dst->d = src->d;
    dst->d.pdev = dst->pdev;
    dst->d.alloc = &dst->qs->alloc;

    qsplitnet_frame_free(&dst->d, f[0]);
    for (i = 1; i < 6; i++) {
        sock_expect(dst, f[i]->bytes, f[i]->len);
        qsplitnet_frame_free(&dst->d, f[i]);
    }
    g_assert(qsplitnet_wait_cons(&dst->d, TXQ, 6));
    sock_expect_nothing(dst);
    g_assert_cmpuint(rd(dst, SPLITNET_REG_MTU), ==, 2000);
    g_assert_cmphex(rd(dst, SPLITNET_REG_RX_FILTER), ==,
                    SPLITNET_RX_FILTER_PROMISC);
    g_assert_cmphex(qsplitnet_readq(&dst->d, SPLITNET_REG_DRV_FEATURES), ==,
                    SPLITNET_F_EVENT_IDX);
    g_assert_cmpuint(qstat(dst, TXQ, SPLITNET_STAT_TX_STALLS), >=, 1);
    g_assert_cmpuint(qstat(dst, TXQ, SPLITNET_STAT_DOORBELLS), ==, 1);
    tx_simple(dst, 9);
    qsplitnet_test_stop(src);
    qsplitnet_test_stop(dst);
}

/* Guest errors in a single frame: dropped, completed, counted */

/*
 * Publish what was queued since @prod0: the device must complete it
 * without sending anything, count one guest error per bad frame, stay
 * out of the error state and send the next good frame.
 */
static void tx_expect_dropped(Ctx *c, int nbad)
{
    uint64_t errs = qstat(c, TXQ, SPLITNET_STAT_ERRORS);
    uint64_t frames = qstat(c, TXQ, SPLITNET_STAT_FRAMES);

    qsplitnet_kick(&c->d, &c->d.txq);
    g_assert(qsplitnet_wait_cons(&c->d, TXQ, c->d.txq.prod));
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_ERRORS), ==, errs + nbad);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_FRAMES), ==, frames);
    assert_no_error(c);
    tx_simple(c, 77);   /* the first frame on the wire must be this one */
}

/* One bad descriptor (a whole frame) with a filled payload buffer. */
static void tx_add_bad(Ctx *c, uint64_t addr, uint32_t len,
                       uint16_t hdr_len, uint16_t flags)
{
    g_autofree uint8_t *head = make_frame(bcast_mac, our_mac, 256, 1);

    qsplitnet_tx_write_head(&c->d, c->d.txq.prod, head,
                            MIN(hdr_len, c->d.slot_size));
    qsplitnet_tx_add(&c->d, addr, len, hdr_len, flags);
}

static void test_err_hdr_too_long(void)
{
    Ctx *c = start_up(NULL, 8);
    uint64_t buf = galloc(c, 4096);

    /* In the last slot: a read beyond it would leave the pool. */
    tx_batch(c, 7, ETH_HLEN, 50, 1);
    tx_add_bad(c, buf, 100, c->d.slot_size + 1, SPLITNET_TXD_EOP);
    tx_expect_dropped(c, 1);
    tx_add_bad(c, buf, 100, 0xffff, SPLITNET_TXD_EOP);
    tx_expect_dropped(c, 1);
    qsplitnet_test_stop(c);
}

/*
 * Fewer than SPLITNET_TX_MIN_HEAD head bytes, even with a long payload:
 * the Ethernet header would be read from guest memory, not the copy.
 */
static void test_err_hdr_too_short(void)
{
    Ctx *c = start_up(NULL, 8);
    uint64_t buf = galloc(c, 4096);

    tx_add_bad(c, buf, 100, 0, SPLITNET_TXD_EOP);
    tx_expect_dropped(c, 1);
    tx_add_bad(c, buf, 100, SPLITNET_TX_MIN_HEAD - 1, SPLITNET_TXD_EOP);
    tx_expect_dropped(c, 1);
    tx_one(c, SPLITNET_TX_MIN_HEAD, (const uint32_t[]){ 100 }, 1, 11);
    qsplitnet_test_stop(c);
}

static void test_err_cont_hdr_len(void)
{
    Ctx *c = start_up(NULL, 8);
    uint64_t buf = galloc(c, 4096);

    tx_add_bad(c, buf, 50, ETH_HLEN, 0);
    qsplitnet_tx_add(&c->d, buf + 100, 50, 10, SPLITNET_TXD_EOP);
    tx_expect_dropped(c, 1);
    qsplitnet_test_stop(c);
}

static void test_err_reserved_flags(void)
{
    static const uint16_t bad[] = {
        SPLITNET_TXD_CSUM, SPLITNET_TXD_TSO, SPLITNET_TXD_VLAN, 1u << 15,
    };
    Ctx *c = start_up(NULL, 8);
    uint64_t buf = galloc(c, 4096);
    int i;

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        tx_add_bad(c, buf, 100, ETH_HLEN, SPLITNET_TXD_EOP | bad[i]);
        tx_expect_dropped(c, 1);
    }
    /* a reserved flag on a continuation descriptor */
    tx_add_bad(c, buf, 100, ETH_HLEN, SPLITNET_TXD_CSUM);
    qsplitnet_tx_add(&c->d, buf, 100, 0, SPLITNET_TXD_EOP);
    tx_expect_dropped(c, 1);
    qsplitnet_test_stop(c);
}

/* Shorter than 14 bytes; exactly 14 is fine. */
static void test_err_runt(void)
{
    Ctx *c = start_up(NULL, 8);
    uint64_t buf = galloc(c, 4096);

    tx_add_bad(c, 0, 0, 13, SPLITNET_TXD_EOP);
    tx_expect_dropped(c, 1);
    tx_add_bad(c, buf, 13, 0, SPLITNET_TXD_EOP);
    tx_expect_dropped(c, 1);
    tx_add_bad(c, 0, 0, 0, SPLITNET_TXD_EOP);
    tx_expect_dropped(c, 1);
    tx_add_bad(c, buf, 6, 7, SPLITNET_TXD_EOP);
    tx_expect_dropped(c, 1);
    tx_one(c, ETH_HLEN, NULL, 0, 5);
    qsplitnet_test_stop(c);
}

/* Longer than MTU + 18 */
static void test_err_too_long(void)
{
    Ctx *c = start_up(NULL, 8);
    uint64_t buf = galloc(c, 16384);
    uint32_t ok = 1018 - 54;

    tx_add_bad(c, buf, 1519 - 54, 54, SPLITNET_TXD_EOP);
    tx_expect_dropped(c, 1);
    tx_add_bad(c, buf, 9000, 54, SPLITNET_TXD_EOP);
    tx_expect_dropped(c, 1);
    wr(c, SPLITNET_REG_MTU, 1000);
    tx_add_bad(c, buf, 1019 - 54, 54, SPLITNET_TXD_EOP);
    tx_expect_dropped(c, 1);
    tx_one(c, 54, &ok, 1, 6);
    qsplitnet_test_stop(c);
}

/* 33 descriptors in one frame */
static void test_err_too_many_frags(void)
{
    Ctx *c = start_up(NULL, 64);
    uint64_t buf = galloc(c, 4096);
    int i;

    tx_add_bad(c, buf, 10, ETH_HLEN, 0);
    for (i = 1; i < SPLITNET_TX_MAX_FRAGS; i++) {
        qsplitnet_tx_add(&c->d, buf + 10 * i, 10, 0, 0);
    }
    qsplitnet_tx_add(&c->d, buf + 400, 10, 0, SPLITNET_TXD_EOP);
    g_assert_cmpuint(c->d.txq.prod, ==, SPLITNET_TX_MAX_FRAGS + 1);
    tx_expect_dropped(c, 1);
    qsplitnet_test_stop(c);
}

/* A fragment whose address range wraps around 2^64 */
static void test_err_addr_wrap(void)
{
    Ctx *c = start_up(NULL, 8);
    uint64_t buf = galloc(c, 4096);

    tx_add_bad(c, UINT64_MAX - 15, 64, ETH_HLEN, SPLITNET_TXD_EOP);
    tx_expect_dropped(c, 1);
    tx_add_bad(c, buf, 64, ETH_HLEN, 0);
    qsplitnet_tx_add(&c->d, UINT64_MAX, 2, 0, SPLITNET_TXD_EOP);
    tx_expect_dropped(c, 1);
    qsplitnet_test_stop(c);
}

/* Fragments outside guest RAM, including the device's own BAR0 */
static void test_err_addr_not_ram(void)
{
    Ctx *c = start_up(NULL, 8);
    const uint64_t addrs[] = {
        NOT_RAM, 0xfee00000, c->d.bar.addr, RAM_SIZE - 16, 1ull << 50,
    };
    int i;

    for (i = 0; i < ARRAY_SIZE(addrs); i++) {
        tx_add_bad(c, addrs[i], 64, ETH_HLEN, SPLITNET_TXD_EOP);
        tx_expect_dropped(c, 1);
    }
    g_assert_cmphex(rd(c, SPLITNET_REG_MAGIC), ==, SPLITNET_MAGIC);
    qsplitnet_test_stop(c);
}

static void test_err_doorbell_disabled(void)
{
    Ctx *c = start(NULL);

    qwr(c, TXQ, SPLITNET_Q_DOORBELL, 1);
    qwr(c, RXQ, SPLITNET_Q_DOORBELL, 1);
    qwr(c, RXQ, SPLITNET_Q_DOORBELL, 2);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_ERRORS), ==, 1);
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_ERRORS), ==, 2);
    assert_no_error(c);

    qsplitnet_bringup(&c->d, 8, 0);
    tx_simple(c, 1);
    qwr(c, TXQ, SPLITNET_Q_ENABLE, 0);
    qwr(c, TXQ, SPLITNET_Q_DOORBELL, 2);
    g_assert_cmpuint(qstat(c, TXQ, SPLITNET_STAT_ERRORS), ==, 1);
    assert_no_error(c);
    qsplitnet_test_stop(c);
}

/* An RX buffer outside RAM: frame dropped, buffer returned len 0 + EOP */
static void test_err_rx_buf_not_ram(void)
{
    static const uint64_t bad[] = { NOT_RAM, UINT64_MAX - 15, 0xfee00000 };
    Ctx *c = start_up(NULL, 8);
    g_autofree uint8_t *f = make_frame(our_mac, other_mac, 100, 1);
    struct splitnet_rx_desc desc;
    RxBufs b;
    int i;

    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        qsplitnet_rx_post(&c->d, bad[i], 2048);
        qsplitnet_kick(&c->d, &c->d.rxq);
        qsplitnet_sock_send(c->sock, f, 100);
        g_assert(qsplitnet_wait_cons(&c->d, RXQ, i + 1));
        qsplitnet_rx_read_desc(&c->d, i, &desc);
        g_assert_cmpuint(desc.len, ==, 0);
        g_assert_cmphex(desc.flags, ==, SPLITNET_RXD_EOP);
        g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_ERRORS), ==, i + 1);
    }
    assert_no_error(c);
    rx_post_kick(c, &b, 2, 2048);
    rx_one(c, &b, f, 100);
    g_assert_cmpuint(qstat(c, RXQ, SPLITNET_STAT_FRAMES), ==, 1);
    qsplitnet_test_stop(c);
}

/* Error states */

static void test_err_prod_index(void)
{
    Ctx *c = start_up(NULL, 8);

    tx_simple(c, 1);
    /* cons 1: prod 10 is 9 ahead of an 8-entry ring */
    qsplitnet_set_prod(&c->d, TXQ, 10);
    qwr(c, TXQ, SPLITNET_Q_DOORBELL, 10);
    assert_error(c, SPLITNET_ERR_PROD_INDEX, TXQ);
    assert_halted_then_recover(c);
    qsplitnet_test_stop(c);
}

/*
 * A bad RX prod, published with a doorbell; a frame arriving makes the
 * device look for buffers at the latest.
 */
static void rx_bad_prod(Ctx *c, uint32_t prod)
{
    g_autofree uint8_t *f = make_frame(our_mac, other_mac, 60, 1);
    gint64 end = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;

    qsplitnet_set_prod(&c->d, RXQ, prod);
    qwr(c, RXQ, SPLITNET_Q_DOORBELL, prod);
    if (rd(c, SPLITNET_REG_STATUS) & SPLITNET_STATUS_ERROR) {
        return;
    }
    g_test_message("RX prod %u not checked at the doorbell", prod);
    qsplitnet_sock_send(c->sock, f, 60);
    while (!(rd(c, SPLITNET_REG_STATUS) & SPLITNET_STATUS_ERROR) &&
           g_get_monotonic_time() < end) {
        g_usleep(100);
    }
}

static void test_err_prod_index_rx(void)
{
    Ctx *c = start_up(NULL, 8);

    rx_bad_prod(c, 9);
    assert_error(c, SPLITNET_ERR_PROD_INDEX, RXQ);
    assert_halted_then_recover(c);
    qsplitnet_test_stop(c);
}

/* Published descriptors without EOP */
static void test_err_tx_chain(void)
{
    Ctx *c = start_up(NULL, 8);
    uint64_t buf = galloc(c, 4096);

    tx_add_bad(c, buf, 50, ETH_HLEN, 0);
    qsplitnet_tx_add(&c->d, buf, 50, 0, 0);
    qsplitnet_kick(&c->d, &c->d.txq);
    assert_error(c, SPLITNET_ERR_TX_CHAIN, TXQ);
    assert_halted_then_recover(c);
    qsplitnet_test_stop(c);
}

/* Enable @vq as given and expect error @err for it, then reset. */
static void enable_expect(Ctx *c, QSplitnetQueue *vq, uint32_t err)
{
    qsplitnet_queue_program(&c->d, vq, SPLITNET_NO_VECTOR);
    qsplitnet_queue_enable(&c->d, vq);
    assert_error(c, err, vq->q);
    g_assert_cmpuint(qrd(c, vq->q, SPLITNET_Q_ENABLE), ==, 0);
    g_assert_cmphex(rd(c, SPLITNET_REG_ISR) & SPLITNET_ISR_CONFIG, ==,
                    SPLITNET_ISR_CONFIG);
    qsplitnet_reset(&c->d);
    assert_no_error(c);
    qsplitnet_status_setup(&c->d);
}

static Ctx *start_queues(void)
{
    Ctx *c = start(NULL);

    qsplitnet_reset(&c->d);
    qsplitnet_status_setup(&c->d);
    qsplitnet_queue_alloc(&c->d, &c->d.txq, TXQ, 8);
    qsplitnet_queue_alloc(&c->d, &c->d.rxq, RXQ, 8);
    return c;
}

static void finish_queues(Ctx *c)
{
    qsplitnet_bringup(&c->d, 8, 0);
    tx_simple(c, 1);
    qsplitnet_test_stop(c);
}

/*
 * Queue set-ups that differ from a good one in one field: enabling the
 * queue must fail with the case's error, each in turn.
 */

enum { Q_RING, Q_POOL, Q_SIZE };
#define AT_BAR0 UINT64_MAX      /* the device's own registers */

typedef struct BadQueue {
    bool rx;                /* the RX queue, else TX */
    int field;              /* Q_RING, Q_POOL or Q_SIZE */
    bool add;               /* add @val to the good value, else set it */
    uint64_t val;           /* AT_BAR0: BAR0's address */
} BadQueue;

typedef struct BadQueueCase {
    const char *path;
    uint32_t err;
    int n;
    const BadQueue *bad;
} BadQueueCase;

static const BadQueue bad_ring_size[] = {
    { false, Q_SIZE, false, 0 }, { true, Q_SIZE, false, 0 },
    { false, Q_SIZE, false, 4 }, { true, Q_SIZE, false, 4 },
    { false, Q_SIZE, false, 12 }, { true, Q_SIZE, false, 12 },
    { false, Q_SIZE, false, 100 }, { true, Q_SIZE, false, 100 },
    { false, Q_SIZE, false, 2048 }, { true, Q_SIZE, false, 2048 },
    { false, Q_SIZE, false, 0x80000000 }, { true, Q_SIZE, false, 0x80000000 },
};

static const BadQueue bad_unaligned[] = {
    { false, Q_RING, true, 32 },
    { false, Q_POOL, true, 8 },
    { true, Q_RING, true, 1 },
};

/* Ring or pool not entirely in RAM */
static const BadQueue bad_xlate[] = {
    { false, Q_RING, false, NOT_RAM },
    { false, Q_POOL, false, NOT_RAM },
    { false, Q_RING, false, RAM_SIZE - 128 },   /* 256 bytes across the end */
    { false, Q_RING, false, AT_BAR0 },
    { true, Q_RING, false, 1ull << 50 },
};

static const BadQueueCase bad_queue_cases[] = {
    { "err/ring-size", SPLITNET_ERR_RING_CONFIG,
      ARRAY_SIZE(bad_ring_size), bad_ring_size },
    { "err/unaligned", SPLITNET_ERR_RING_CONFIG,
      ARRAY_SIZE(bad_unaligned), bad_unaligned },
    { "err/xlate", SPLITNET_ERR_XLATE, ARRAY_SIZE(bad_xlate), bad_xlate },
};

static void bad_queue_apply(Ctx *c, const BadQueue *b, QSplitnetQueue *vq)
{
    uint64_t val = b->val == AT_BAR0 ? c->d.bar.addr : b->val;

    switch (b->field) {
    case Q_RING:
        vq->ring = b->add ? vq->ring + val : val;
        break;
    case Q_POOL:
        vq->pool = b->add ? vq->pool + val : val;
        break;
    default:
        vq->size = b->add ? vq->size + val : val;
        break;
    }
}

static void test_err_queue_config(gconstpointer data)
{
    const BadQueueCase *t = data;
    Ctx *c = start_queues();
    int i;

    for (i = 0; i < t->n; i++) {
        QSplitnetQueue vq = t->bad[i].rx ? c->d.rxq : c->d.txq;

        bad_queue_apply(c, &t->bad[i], &vq);
        enable_expect(c, &vq, t->err);
    }
    finish_queues(c);
}

static void test_err_ring_size_max(void)
{
    Ctx *c = start("max-ring-size=16");
    QSplitnetQueue tx;

    qsplitnet_reset(&c->d);
    qsplitnet_status_setup(&c->d);
    qsplitnet_queue_alloc(&c->d, &c->d.txq, TXQ, 32);
    tx = c->d.txq;
    enable_expect(c, &tx, SPLITNET_ERR_RING_CONFIG);
    finish_queues(c);
}

static void test_err_no_status_base(void)
{
    Ctx *c = start_queues();
    QSplitnetQueue tx = c->d.txq;

    qsplitnet_reset(&c->d);
    g_assert_cmphex(qsplitnet_readq(&c->d, SPLITNET_REG_STATUS_BASE), ==, 0);
    qsplitnet_queue_program(&c->d, &tx, SPLITNET_NO_VECTOR);
    qsplitnet_queue_enable(&c->d, &tx);
    assert_error(c, SPLITNET_ERR_RING_CONFIG, TXQ);
    g_assert_cmpuint(qrd(c, TXQ, SPLITNET_Q_ENABLE), ==, 0);
    finish_queues(c);
}

static void test_err_xlate_status(void)
{
    Ctx *c = start_queues();
    QSplitnetQueue rx = c->d.rxq;

    qsplitnet_writeq(&c->d, SPLITNET_REG_STATUS_BASE, NOT_RAM);
    qsplitnet_queue_program(&c->d, &rx, SPLITNET_NO_VECTOR);
    qsplitnet_queue_enable(&c->d, &rx);
    assert_error(c, SPLITNET_ERR_XLATE, RXQ);
    finish_queues(c);
}

/*
 * A status block that wraps 2^64: the RX entry, 64 bytes past the last
 * address, is not at guest address 0, which the driver never gave.
 */
static void test_err_xlate_status_wrap(void)
{
    Ctx *c = start_queues();
    QSplitnetQueue rx = c->d.rxq;
    uint8_t low[SPLITNET_STATUS_ENTRY_SIZE], seen[sizeof(low)];

    memset(low, 0xa5, sizeof(low));
    qtest_memwrite(c->qts, 0, low, sizeof(low));
    qsplitnet_writeq(&c->d, SPLITNET_REG_STATUS_BASE,
                     -(uint64_t)SPLITNET_STATUS_ENTRY_SIZE);
    qsplitnet_queue_program(&c->d, &rx, SPLITNET_NO_VECTOR);
    qsplitnet_queue_enable(&c->d, &rx);
    assert_error(c, SPLITNET_ERR_XLATE, RXQ);
    qtest_memread(c->qts, 0, seen, sizeof(seen));
    g_assert(!memcmp(seen, low, sizeof(low)));
    finish_queues(c);
}

/* The first error is kept; later ones do not overwrite it. */
static void test_err_first_kept(void)
{
    Ctx *c = start_up(NULL, 8);

    rx_bad_prod(c, 100);
    assert_error(c, SPLITNET_ERR_PROD_INDEX, RXQ);
    qsplitnet_set_prod(&c->d, TXQ, 100);
    qwr(c, TXQ, SPLITNET_Q_DOORBELL, 100);
    assert_error(c, SPLITNET_ERR_PROD_INDEX, RXQ);
    assert_halted_then_recover(c);
    qsplitnet_test_stop(c);
}

int main(int argc, char **argv)
{
    static const struct {
        const char *path;
        void (*fn)(void);
    } tests[] = {
        { "pci/ids", test_pci_ids },
        { "pci/bars", test_pci_bars },
        { "regs/identity", test_regs_identity },
        { "regs/mac", test_regs_mac },
        { "regs/reset-values", test_regs_reset_values },
        { "regs/ctrl-reset", test_regs_ctrl_reset },
        { "regs/system-reset", test_regs_system_reset },
        { "regs/properties", test_regs_properties },
        { "regs/bad-properties", test_regs_bad_properties },
        { "regs/access64", test_regs_access64 },
        { "regs/features", test_regs_features },
        { "regs/mtu", test_regs_mtu },
        { "regs/queue-locked", test_regs_queue_locked },
        { "regs/bad-access", test_regs_bad_access },
        { "regs/link", test_regs_link },
        { "regs/qom-stats", test_regs_qom_stats },
        { "tx/full-slot", test_tx_full_slot },
        { "tx/zero-len-frags", test_tx_zero_len_frags },
        { "tx/max-frame", test_tx_max_frame },
        { "tx/1514-counters", test_tx_1514_counters },
        { "tx/copybreak", test_tx_copybreak },
        { "tx/wrap", test_tx_wrap },
        { "tx/ring-full", test_tx_ring_full },
        { "tx/burst", test_tx_burst },
        { "tx/defer", test_tx_defer },
        { "tx/stall-held", test_tx_stall_held },
        { "tx/stop-held-counted-once", test_tx_stop_held_counted_once },
        { "tx/suspend-wakeup", test_tx_suspend_wakeup },
        { "tx/reset-mid-ring", test_tx_reset_mid_ring },
        { "tx/xlate-rebuild", test_tx_xlate_rebuild },
        { "rx/single", test_rx_single },
        { "rx/chain", test_rx_chain },
        { "rx/wait-for-buffers", test_rx_wait_for_buffers },
        { "rx/partial-buffers", test_rx_partial_buffers },
        { "rx/filter-unicast", test_rx_filter_unicast },
        { "rx/filter-broadcast", test_rx_filter_broadcast },
        { "rx/filter-multicast", test_rx_filter_multicast },
        { "rx/filter-promisc", test_rx_filter_promisc },
        { "rx/mac-change", test_rx_mac_change },
        { "rx/mac-half-written", test_rx_mac_half_written },
        { "rx/mc-hash-half-written", test_rx_mc_hash_half_written },
        { "regs/counter-halves", test_regs_counter_halves },
        { "regs/reset-hang", test_regs_reset_hang },
        { "rx/driver-ok", test_rx_driver_ok },
        { "rx/oversize", test_rx_oversize },
        { "rx/wrap", test_rx_wrap },
        { "irq/msix", test_irq_msix },
        { "irq/no-vector", test_irq_no_vector },
        { "irq/msix-config", test_irq_msix_config },
        { "irq/intx", test_irq_intx },
        { "irq/event-idx", test_irq_event_idx },
        { "irq/no-event-idx", test_irq_no_event_idx },
        { "irq/doorbell-event", test_irq_doorbell_event },
        { "irq/busy-no-doorbell", test_irq_busy_no_doorbell },
        { "irq/moderation", test_irq_moderation },
        { "irq/tx-hold", test_irq_tx_hold },
        { "irq/moderation-t0", test_irq_moderation_t0 },
        { "irq/event-idx-rx", test_irq_event_idx_rx },
        { "hotplug/plug-unplug", test_hotplug },
        { "hotplug/unplug-stalled", test_unplug_stalled },
        { "robust/fuzz", test_fuzz },
        { "migration/inflight", test_migration_inflight },
        { "err/hdr-too-long", test_err_hdr_too_long },
        { "err/hdr-too-short", test_err_hdr_too_short },
        { "err/cont-hdr-len", test_err_cont_hdr_len },
        { "err/reserved-flags", test_err_reserved_flags },
        { "err/runt", test_err_runt },
        { "err/too-long", test_err_too_long },
        { "err/too-many-frags", test_err_too_many_frags },
        { "err/addr-wrap", test_err_addr_wrap },
        { "err/addr-not-ram", test_err_addr_not_ram },
        { "err/doorbell-disabled", test_err_doorbell_disabled },
        { "err/rx-buf-not-ram", test_err_rx_buf_not_ram },
        { "err/prod-index", test_err_prod_index },
        { "err/prod-index-rx", test_err_prod_index_rx },
        { "err/tx-chain", test_err_tx_chain },
        { "err/ring-size-max", test_err_ring_size_max },
        { "err/no-status-base", test_err_no_status_base },
        { "err/xlate-status", test_err_xlate_status },
        { "err/xlate-status-wrap", test_err_xlate_status_wrap },
        { "err/first-kept", test_err_first_kept },
    };
    int i;

    g_test_init(&argc, &argv, NULL);
    if (!qtest_has_device("splitnet")) {
        g_test_message("splitnet is not built in: no tests");
        return g_test_run();
    }
    for (i = 0; i < ARRAY_SIZE(tests); i++) {
        g_autofree char *path = g_strdup_printf("/splitnet/%s",
                                                tests[i].path);

        qtest_add_func(path, tests[i].fn);
    }
    qtest_add_data_func("/splitnet/tx/backpressure", NULL,
                        test_tx_backpressure);
    qtest_add_data_func("/splitnet/tx/backpressure-defer", "tx-defer=on",
                        test_tx_backpressure);
    for (i = 0; i < ARRAY_SIZE(tx_shapes); i++) {
        g_autofree char *path = g_strdup_printf("/splitnet/%s",
                                                tx_shapes[i].path);

        qtest_add_data_func(path, &tx_shapes[i], test_tx_shape);
    }
    for (i = 0; i < ARRAY_SIZE(bad_queue_cases); i++) {
        g_autofree char *path = g_strdup_printf("/splitnet/%s",
                                                bad_queue_cases[i].path);

        qtest_add_data_func(path, &bad_queue_cases[i],
                            test_err_queue_config);
    }
    return g_test_run();
}
