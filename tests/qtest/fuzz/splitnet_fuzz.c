/*
 * splitnet ABI-aware fuzz target
 *
 * Unlike generic-fuzz, which has to discover the bring-up sequence by
 * itself, this target enables the device the way a driver does (status
 * block, TX and RX rings, header pool, MSI-X) at the start of every input
 * and then spends the input on what a hostile guest controls afterwards:
 * descriptors, pool slots, producer indices and doorbells, status entries,
 * registers, MSI-X addresses (guest RAM, unassigned space, the device's
 * own BARs and its own configuration space through ECAM), PCI command and
 * MSI-X control bits, queue re-enables, resets, link changes, interrupt
 * moderation with virtual time, and frames from the network through a
 * datagram socket netdev whose other end the fuzzer holds (and may stop
 * reading, for backpressure).
 *
 * An input is a byte of set-up (features, ring size) and 16-byte records
 * { op, sel, w, v, x }; each op reads its arguments from the record.
 * Addresses come from pick_addr(), which aims most of them at the areas
 * that matter.  No machine reset between inputs: the device reset and
 * the re-enable at the start of each input restore its state, which is
 * what makes this target fast.  tx-burst=4 and a small socket buffer let
 * short inputs reach the transmit bottom half and backpressure.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/socket.h>
#include "qemu/bswap.h"
#include "hw/pci/pci_regs.h"
#include "qapi/qapi-commands-net.h"
#include "tests/qtest/libqtest.h"
#include "tests/qtest/libqos/pci-pc.h"
#include "tests/qtest/libqos/malloc-pc.h"
#include "tests/qtest/libqos/splitnet.h"
#include "fuzz.h"

#define SN_RAM_SIZE         (128 * 1024 * 1024)
#define SN_DEVFN            QPCI_DEVFN(4, 0)
#define SN_ECAM_BASE        0xb0000000ull   /* q35 PCIEXBAR default */
#define SN_PCIEXBAR         0x60            /* MCH_HOST_BRIDGE_PCIEXBAR */
#define SN_PAYLOAD_SIZE     0x10000
#define SN_MAX_OPS          128
#define SN_FRAME_MAX        9100
#define SN_NUM_VECTORS      3

typedef struct SnRecord {
    uint8_t op;
    uint8_t sel;
    uint16_t w;
    uint32_t v;
    uint64_t x;
} QEMU_PACKED SnRecord;

enum {
    OP_TX_DESC, OP_TX_HEAD, OP_TX_FRAME, OP_PROD, OP_DOORBELL, OP_RX_POST,
    OP_RX_INJECT, OP_REG_WRITE, OP_REG_READ, OP_MSIX, OP_PCI_CFG,
    OP_QUEUE, OP_CTRL, OP_LINK, OP_CLOCK, OP_STATUS, OP_DRAIN, OP_INTR,
    OP_MAX
};

static struct {
    QPCIBus *bus;
    QPCIDevice *pdev;
    QGuestAllocator alloc;
    QSplitnet d;
    uint64_t payload;
    uint8_t msix_cap;
    uint32_t bars[7];       /* BAR0..5 and the ROM BAR, as mapped */
    int sock;               /* fuzzer's end of the dgram netdev */
    int qemu_sock;
    bool drain;             /* read what the device sends */
} sn;

static const uint8_t sn_mac[6] = SPLITNET_TEST_MAC;

static void sn_pre_vm_init(void)
{
    int sv[2], sndbuf = 32768;

    g_assert(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0);
    g_assert(fcntl(sv[0], F_SETFL, O_NONBLOCK) == 0);
    g_assert(fcntl(sv[1], F_SETFL, O_NONBLOCK) == 0);
    /* a few frames fill it when the fuzzer stops reading: backpressure */
    g_assert(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf,
                        sizeof(sndbuf)) == 0);
    sn.sock = sv[0];
    sn.qemu_sock = sv[1];
}

static GString *sn_cmdline(FuzzTarget *t)
{
    GString *cmd = g_string_new(TARGET_NAME);

    g_string_append_printf(cmd, " -machine q35,accel=qtest -m %d"
                           " -nodefaults -display none"
                           " -device splitnet,netdev=n0,addr=04.0,mac="
                           SPLITNET_TEST_MAC_STR ",tx-burst=4"
                           " -netdev socket,id=n0,fd=%d",
                           SN_RAM_SIZE >> 20, sn.qemu_sock);
    return cmd;
}

static void sn_drain(void)
{
    uint8_t buf[SN_FRAME_MAX + 64];

    while (recv(sn.sock, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
        /* what the device sent: only its survival matters here */
    }
}

static uint64_t sn_msix_entry(uint16_t vector)
{
    return sn.pdev->msix_table_off + vector * PCI_MSIX_ENTRY_SIZE;
}

static void sn_msix_program(uint16_t vector, uint64_t addr, uint32_t data,
                            bool masked)
{
    QPCIBar bar = sn.pdev->msix_table_bar;
    uint64_t e = sn_msix_entry(vector);

    qpci_io_writel(sn.pdev, bar, e + PCI_MSIX_ENTRY_LOWER_ADDR, addr);
    qpci_io_writel(sn.pdev, bar, e + PCI_MSIX_ENTRY_UPPER_ADDR, addr >> 32);
    qpci_io_writel(sn.pdev, bar, e + PCI_MSIX_ENTRY_DATA, data);
    qpci_io_writel(sn.pdev, bar, e + PCI_MSIX_ENTRY_VECTOR_CTRL,
                   masked ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
}

static uint8_t sn_bar_reg(int i)
{
    return i < 6 ? PCI_BASE_ADDRESS_0 + 4 * i : PCI_ROM_ADDRESS;
}

/* Once, after QEMU started: find and map the device, turn on ECAM. */
static void sn_pre_fuzz(QTestState *s)
{
    QPCIDevice *host;
    int i;

    sn.bus = qpci_new_pc(s, NULL);
    host = qpci_device_find(sn.bus, 0);
    qpci_config_writel(host, SN_PCIEXBAR + 4, 0);
    qpci_config_writel(host, SN_PCIEXBAR, SN_ECAM_BASE | 1);
    g_free(host);
    pc_alloc_init(&sn.alloc, s, ALLOC_NO_FLAGS);
    sn.pdev = qpci_device_find(sn.bus, SN_DEVFN);
    g_assert(sn.pdev);
    qsplitnet_init(&sn.d, sn.pdev, &sn.alloc);
    qsplitnet_msix_enable(&sn.d);
    sn.msix_cap = qpci_find_capability(sn.pdev, PCI_CAP_ID_MSIX, 0);
    g_assert(sn.msix_cap);
    sn.payload = guest_alloc(&sn.alloc, SN_PAYLOAD_SIZE);
    for (i = 0; i < 7; i++) {
        sn.bars[i] = qpci_config_readl(sn.pdev, sn_bar_reg(i));
    }
}

/* The state a driver leaves after bring-up, whatever the last input did. */
static void sn_setup(QTestState *s, uint8_t cfg)
{
    uint16_t v;
    int i;

    /* An MSI-X message into its own config space may have moved a BAR. */
    for (i = 0; i < 7; i++) {
        qpci_config_writel(sn.pdev, sn_bar_reg(i), sn.bars[i]);
    }
    qpci_config_writew(sn.pdev, PCI_COMMAND, PCI_COMMAND_IO |
                       PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    qpci_config_writew(sn.pdev, sn.msix_cap + PCI_MSIX_FLAGS,
                       PCI_MSIX_FLAGS_ENABLE);
    for (v = 0; v < SN_NUM_VECTORS; v++) {
        sn_msix_program(v, sn.d.msix_mem + 4 * v,
                        SPLITNET_MSIX_DATA_BASE + v, false);
    }
    qmp_set_link("n0", true, NULL);
    sn.drain = true;
    sn_drain();
    qsplitnet_bringup(&sn.d, 8u << (cfg >> 1) % 8,
                      cfg & 1 ? SPLITNET_F_EVENT_IDX : 0);
    flush_events(s);
}

static uint64_t pick_addr(uint8_t sel, uint64_t x)
{
    QSplitnet *d = &sn.d;

    switch (sel % 8) {
    case 0:     /* inside the payload area */
        return sn.payload + x % SN_PAYLOAD_SIZE;
    case 1:     /* across its end */
        return sn.payload + SN_PAYLOAD_SIZE - x % 128;
    case 2: {   /* the device's own rings, pool and status block */
        uint64_t base[] = { d->txq.ring, d->txq.pool, d->rxq.ring,
                            d->status };
        return base[x % 4] + (x >> 8) % 4096;
    }
    case 3:     /* its registers */
        return d->bar.addr + (x & (SPLITNET_REGS_SIZE - 1));
    case 4:     /* its MSI-X table and PBA */
        return sn.pdev->msix_table_bar.addr + (x & 0xfff);
    case 5:     /* its configuration space, through ECAM */
        return SN_ECAM_BASE + ((uint64_t)SN_DEVFN << 12) + (x & 0xfff);
    case 6: {   /* interrupt range, end of RAM, wrap-around */
        uint64_t odd[] = { 0xfee00000 | (x & 0xffff0),
                           SN_RAM_SIZE - (x & 0xfff),
                           UINT64_MAX - (x & 0xfff),
                           0xe0000000 + (x & 0xffffff) };
        return odd[(x >> 32) % 4];
    }
    default:
        return x;
    }
}

static void sn_fill(uint8_t *buf, size_t len, uint8_t dst, uint64_t seed)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    size_t i;

    for (i = 0; i < len; i++) {
        buf[i] = seed >> (8 * (i % 8)) ^ i;
    }
    if (len >= 14) {
        memcpy(buf, dst % 4 == 0 ? sn_mac : dst % 4 == 1 ? bcast :
               dst % 4 == 2 ? mcast : buf, 6);
        memcpy(buf + 6, sn_mac, 6);
        buf[6] ^= 2;
    }
}

static QSplitnetQueue *sn_queue(uint8_t sel)
{
    return sel & 1 ? &sn.d.rxq : &sn.d.txq;
}

static void op_tx_desc(QTestState *s, const SnRecord *r)
{
    struct splitnet_tx_desc desc = {
        .addr = pick_addr(r->sel, r->x),
        .len = r->sel & 0x80 ? r->v : r->v & 0x7ff,
        .hdr_len = (r->v >> 20) % (SPLITNET_TX_SLOT_MAX + 16),
        .flags = (r->sel >> 3) & 0xf,
    };

    qsplitnet_tx_write_desc(&sn.d, r->w, &desc);
}

static void op_tx_head(QTestState *s, const SnRecord *r)
{
    uint8_t head[SPLITNET_TX_SLOT_MAX];
    size_t len = r->v % (sn.d.slot_size + 1);

    sn_fill(head, len, r->sel, r->x);
    qsplitnet_tx_write_head(&sn.d, r->w, head, len);
}

/* A well-formed frame, so the fuzzer reaches the send path at once. */
static void op_tx_frame(QTestState *s, const SnRecord *r)
{
    QSplitnetFrag frags[4];
    uint8_t head[SPLITNET_TX_SLOT_MAX];
    uint16_t hdr_len = 14 + r->w % (sn.d.slot_size - 13);
    int i, n = r->sel % 5;

    for (i = 0; i < n; i++) {
        frags[i].len = ((r->x >> (16 * i)) & 0xffff) % 2048;
        frags[i].addr = sn.payload + (r->v + 4096 * i) % (SN_PAYLOAD_SIZE -
                                                           2048);
    }
    sn_fill(head, hdr_len, r->sel >> 3, r->x);
    qsplitnet_tx_frame(&sn.d, head, hdr_len, frags, n);
    if (r->sel & 0x80) {
        qsplitnet_kick(&sn.d, &sn.d.txq);
    }
}

static void op_prod(QTestState *s, const SnRecord *r)
{
    QSplitnetQueue *vq = sn_queue(r->sel);
    uint32_t prod = r->sel & 2 ? r->v : vq->prod + (int16_t)r->w;

    qsplitnet_set_prod(&sn.d, vq->q, prod);
    if (r->sel & 4) {
        qsplitnet_qwritel(&sn.d, vq->q, SPLITNET_Q_DOORBELL,
                          r->sel & 8 ? r->v : prod);
    }
}

static void op_doorbell(QTestState *s, const SnRecord *r)
{
    QSplitnetQueue *vq = sn_queue(r->sel);

    if (r->sel & 2) {
        qsplitnet_qwritel(&sn.d, (r->sel >> 2) % 16, SPLITNET_Q_DOORBELL,
                          r->v);
    } else {
        qsplitnet_kick(&sn.d, vq);
    }
}

static void op_rx_post(QTestState *s, const SnRecord *r)
{
    int i, n = 1 + (r->sel >> 4) % 8;

    for (i = 0; i < n; i++) {
        qsplitnet_rx_post(&sn.d, pick_addr(r->sel, r->x + i * r->w),
                          r->w);
    }
    if (r->sel & 8) {
        qsplitnet_kick(&sn.d, &sn.d.rxq);
    }
}

static void op_rx_inject(QTestState *s, const SnRecord *r)
{
    static uint8_t frame[SN_FRAME_MAX];
    /* not 0: QEMU's dgram netdev takes an empty datagram for EOF */
    size_t len = 1 + r->w % (SN_FRAME_MAX - 1);

    sn_fill(frame, len, r->sel, r->x);
    /* A full socket drops the frame, as a network would. */
    if (send(sn.sock, frame, len, MSG_DONTWAIT) < 0) {
        return;
    }
}

static void op_reg_write(QTestState *s, const SnRecord *r)
{
    uint32_t off = r->w & (SPLITNET_REGS_SIZE - 1);

    switch (r->sel % 4) {
    case 0:
        qpci_io_writeb(sn.pdev, sn.d.bar, off, r->x);
        break;
    case 1:
        qpci_io_writew(sn.pdev, sn.d.bar, off, r->x);
        break;
    case 2:
        qpci_io_writel(sn.pdev, sn.d.bar, off, r->x);
        break;
    default:
        qpci_io_writeq(sn.pdev, sn.d.bar, off, r->x);
        break;
    }
}

static void op_reg_read(QTestState *s, const SnRecord *r)
{
    uint32_t off = r->w & (SPLITNET_REGS_SIZE - 1);

    switch (r->sel % 4) {
    case 0:
        qpci_io_readb(sn.pdev, sn.d.bar, off);
        break;
    case 1:
        qpci_io_readw(sn.pdev, sn.d.bar, off);
        break;
    case 2:
        qpci_io_readl(sn.pdev, sn.d.bar, off);
        break;
    default:
        qpci_io_readq(sn.pdev, sn.d.bar, off);
        break;
    }
}

/* Aim a vector anywhere, own BARs and config space included. */
static void op_msix(QTestState *s, const SnRecord *r)
{
    sn_msix_program(r->w % SN_NUM_VECTORS, pick_addr(r->sel >> 2, r->x),
                    r->v, r->sel & 1);
}

static void op_pci_cfg(QTestState *s, const SnRecord *r)
{
    uint8_t off;

    switch (r->sel % 3) {
    case 0:
        qpci_config_writew(sn.pdev, PCI_COMMAND, r->w &
                           (PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
                            PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE));
        break;
    case 1:
        qpci_config_writew(sn.pdev, sn.msix_cap + PCI_MSIX_FLAGS, r->w &
                           (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
        break;
    default:
        /* anything but the BARs, which the harness relies on */
        off = r->v;
        if (off >= PCI_BASE_ADDRESS_0 && off < PCI_CARDBUS_CIS + 4) {
            off = PCI_INTERRUPT_LINE;
        }
        if (off >= PCI_ROM_ADDRESS && off < PCI_ROM_ADDRESS + 4) {
            off = PCI_INTERRUPT_LINE;
        }
        qpci_config_writeb(sn.pdev, off, r->x);
        break;
    }
}

static void op_queue(QTestState *s, const SnRecord *r)
{
    QSplitnetQueue *vq = sn_queue(r->sel);

    switch ((r->sel >> 1) % 4) {
    case 0:
        qsplitnet_qwritel(&sn.d, vq->q, SPLITNET_Q_ENABLE, r->v & 1);
        break;
    case 1:     /* a register of a queue, enabled or not */
        qsplitnet_qwritel(&sn.d, (r->sel >> 3) % 16, r->w & 0xfc, r->v);
        break;
    default:    /* a proper re-enable, as ethtool -G does */
        qsplitnet_qwritel(&sn.d, vq->q, SPLITNET_Q_ENABLE, 0);
        qsplitnet_queue_alloc(&sn.d, vq, vq->q, 8u << r->w % 8);
        qsplitnet_queue_program(&sn.d, vq, vq->q == 0 ? 1 : 2);
        qsplitnet_queue_enable(&sn.d, vq);
        break;
    }
}

static void op_ctrl(QTestState *s, const SnRecord *r)
{
    if (r->sel & 1) {
        qsplitnet_reset(&sn.d);
    } else {
        qsplitnet_writel(&sn.d, SPLITNET_REG_CTRL, r->v);
    }
}

static void op_link(QTestState *s, const SnRecord *r)
{
    qmp_set_link("n0", r->sel & 1, NULL);
}

static void op_clock(QTestState *s, const SnRecord *r)
{
    /* qtest refuses a step of 0 ns */
    qtest_clock_step(s, 1 + r->v % 2000000);
}

/* Any word of any status entry, the device's half included. */
static void op_status(QTestState *s, const SnRecord *r)
{
    qtest_writel(s, sn.d.status + (r->w % SPLITNET_STATUS_BLOCK_SIZE & ~3),
                 r->v);
}

static void op_drain(QTestState *s, const SnRecord *r)
{
    sn.drain = r->sel & 1;
}

static void op_intr(QTestState *s, const SnRecord *r)
{
    switch (r->sel % 4) {
    case 0:
        qsplitnet_qwritel(&sn.d, sn_queue(r->sel >> 2)->q,
                          SPLITNET_Q_INTR_DELAY, r->v % 2000);
        break;
    case 1:
        qsplitnet_writel(&sn.d, SPLITNET_REG_INTR_MASK, r->v);
        break;
    case 2:
        qsplitnet_readl(&sn.d, SPLITNET_REG_ISR);
        break;
    default:
        qsplitnet_set_intr_event(&sn.d, sn_queue(r->sel >> 2)->q, r->v);
        break;
    }
}

static void (*const sn_ops[OP_MAX])(QTestState *, const SnRecord *) = {
    [OP_TX_DESC] = op_tx_desc,      [OP_TX_HEAD] = op_tx_head,
    [OP_TX_FRAME] = op_tx_frame,    [OP_PROD] = op_prod,
    [OP_DOORBELL] = op_doorbell,    [OP_RX_POST] = op_rx_post,
    [OP_RX_INJECT] = op_rx_inject,  [OP_REG_WRITE] = op_reg_write,
    [OP_REG_READ] = op_reg_read,    [OP_MSIX] = op_msix,
    [OP_PCI_CFG] = op_pci_cfg,      [OP_QUEUE] = op_queue,
    [OP_CTRL] = op_ctrl,            [OP_LINK] = op_link,
    [OP_CLOCK] = op_clock,          [OP_STATUS] = op_status,
    [OP_DRAIN] = op_drain,          [OP_INTR] = op_intr,
};

static void sn_fuzz(QTestState *s, const unsigned char *data, size_t size)
{
    SnRecord r;
    int n = 0;

    if (size < 1) {
        return;
    }
    sn_setup(s, data[0]);
    data++;
    size--;
    while (size >= sizeof(r) && n++ < SN_MAX_OPS) {
        memcpy(&r, data, sizeof(r));
        r.w = le16_to_cpu(r.w);
        r.v = le32_to_cpu(r.v);
        r.x = le64_to_cpu(r.x);
        sn_ops[r.op % OP_MAX](s, &r);
        flush_events(s);
        if (sn.drain) {
            sn_drain();
        }
        data += sizeof(r);
        size -= sizeof(r);
    }
    /* Stop the device before the next input rewrites its rings. */
    qsplitnet_reset(&sn.d);
    flush_events(s);
}

static void register_splitnet_fuzz_targets(void)
{
    fuzz_add_target(&(FuzzTarget){
        .name = "splitnet-abi-fuzz",
        .description = "splitnet enabled as a driver does, then descriptors,"
                       " indices, doorbells, MSI-X, resets, link and RX",
        .get_init_cmdline = sn_cmdline,
        .pre_vm_init = sn_pre_vm_init,
        .pre_fuzz = sn_pre_fuzz,
        .fuzz = sn_fuzz,
    });
}

fuzz_target_init(register_splitnet_fuzz_targets);
