/*
 * Per-frame TX cost of NICs through their libqos drivers
 *
 * Each case sends NIC_TX_COST_FRAMES frames of one size into
 * -netdev sink, one doorbell (kick, TDT write) per frame, as a burst-1
 * sender does, and checks that the sink got every frame.  It measures
 * nothing itself: tests/bench/callgrind.sh runs QEMU under callgrind with
 * collection toggled on the NIC's doorbell handler and TX bottom half,
 * twice with different frame counts, and divides the difference.  The
 * cases are registered only when NIC_TX_COST_FRAMES is set, so qos-test
 * runs them only on request.
 *
 * Frames as the guest drivers lay them out: splitnet puts the whole frame
 * in the header slot when it fits, otherwise the UDP/IPv4 headers (42 B)
 * and the rest as one payload fragment; e1000e one extended data
 * descriptor; virtio-net one descriptor with the virtio-net header.
 *
 * The tx-cost/tso cases send one 64 KiB TCP/IPv4 TSO frame per doorbell
 * (54 header bytes and 65482 payload bytes in 4 KiB fragments, as Linux
 * lays out a TSO skb, MSS 1448: 46 segments) that the NIC cuts itself,
 * the sink taking no virtio-net header: splitnet with TXD_TSO, e1000e
 * with a TSE context descriptor.  virtio-net offers no TSO to a peer
 * without a virtio-net header, so it has no such case.
 *
 * The rx-cost cases (splitnet) go the other way: the test posts a
 * 2 KiB buffer per frame, then writes the frames into a socket netdev,
 * which hands each to the NIC as it reads them; bench-callgrind counts
 * the NIC's receive callbacks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/socket.h>
#include "libqtest-single.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "hw/net/e1000_regs.h"
#include "hw/virtio/virtio-net.h"
#include "libqos/qgraph.h"
#include "libqos/e1000e.h"
#include "libqos/splitnet.h"
#include "libqos/virtio-net.h"

#define TX_COST_UDP_HLEN    42          /* Ethernet + IPv4 + UDP */
#define TSO_HLEN            54          /* Ethernet + IPv4 + TCP */
#define TSO_PAYLOAD         (65536 - TSO_HLEN)
#define TSO_MSS             1448
#define TSO_FRAG            4096
#define TX_COST_VNET_HLEN   sizeof(struct virtio_net_hdr_mrg_rxbuf)
#define TX_COST_TIMEOUT_US  (60 * G_TIME_SPAN_SECOND)
/* libqos' virtqueue driver never reuses a descriptor: stay below a ring. */
#define TX_COST_MAX_FRAMES  240

static unsigned tx_cost_frames(void)
{
    unsigned n = atoi(g_getenv("NIC_TX_COST_FRAMES"));

    g_assert_cmpuint(n, >=, 1);
    g_assert_cmpuint(n, <=, TX_COST_MAX_FRAMES);
    return n;
}

/* A broadcast IPv4/UDP frame of @len bytes. */
static uint8_t *tx_cost_frame(size_t len)
{
    uint8_t *b = g_malloc(len);
    size_t i;

    for (i = 0; i < len; i++) {
        b[i] = i * 7;
    }
    memset(b, 0xff, 6);
    memcpy(b + 6, (uint8_t[])SPLITNET_TEST_MAC, 6);
    stw_be_p(b + 12, 0x0800);
    b[14] = 0x45;
    stw_be_p(b + 16, len - 14);
    b[23] = 17;
    return b;
}

static void tx_cost_sink_expect(uint64_t frames, uint64_t bytes)
{
    QDict *rsp = qmp("{ 'execute': 'x-query-net-sinks' }");
    QDict *info;

    g_assert_cmpint(qlist_size(qdict_get_qlist(rsp, "return")), ==, 1);
    info = qobject_to(QDict, qlist_peek(qdict_get_qlist(rsp, "return")));
    g_assert_cmpuint(qnum_get_uint(qobject_to(QNum,
                     qdict_get(info, "frames"))), ==, frames);
    g_assert_cmpuint(qnum_get_uint(qobject_to(QNum,
                     qdict_get(info, "bytes"))), ==, bytes);
    qobject_unref(rsp);
}

static void tx_cost_splitnet(void *obj, void *data, QGuestAllocator *alloc)
{
    QSplitnet *d = &((QSplitnetPCI *)obj)->sn;
    size_t len = GPOINTER_TO_SIZE(data);
    g_autofree uint8_t *b = tx_cost_frame(len);
    unsigned i, n = tx_cost_frames();
    QSplitnetFrag frag;
    uint16_t hlen;

    qsplitnet_bringup(d, 256, SPLITNET_F_EVENT_IDX);
    hlen = len <= d->slot_size ? len : TX_COST_UDP_HLEN;
    frag.len = len - hlen;
    frag.addr = guest_alloc(alloc, len);
    qtest_memwrite(global_qtest, frag.addr, b + hlen, frag.len);
    for (i = 0; i < n; i++) {
        qsplitnet_tx_frame(d, b, hlen, &frag, frag.len ? 1 : 0);
        qsplitnet_kick(d, &d->txq);
        g_assert(qsplitnet_wait_cons(d, SPLITNET_TXQ(0), d->txq.prod));
    }
    g_assert_cmpuint(qsplitnet_stat(d, SPLITNET_TXQ(0), SPLITNET_STAT_FRAMES),
                     ==, n);
    tx_cost_sink_expect(n, n * len);
    guest_free(alloc, frag.addr);
}

/* A TCP/IPv4 frame of TSO_HLEN + TSO_PAYLOAD bytes, for TSO. */
static uint8_t *tx_cost_tso_frame(void)
{
    uint8_t *b = tx_cost_frame(TSO_HLEN + TSO_PAYLOAD);

    stw_be_p(b + 16, TSO_HLEN + TSO_PAYLOAD - 14);   /* IPv4 length */
    memset(b + 18, 0, 4);               /* id, no fragment */
    b[23] = 6;
    memset(b + 34, 0, 20);
    b[34 + 12] = 5 << 4;                /* data offset: 20 bytes */
    b[34 + 13] = 0x10;                  /* ACK */
    return b;
}

/* Segments of the TSO frame, and the bytes they put on the wire. */
#define TSO_SEGS    DIV_ROUND_UP(TSO_PAYLOAD, TSO_MSS)
#define TSO_WIRE    (TSO_SEGS * TSO_HLEN + TSO_PAYLOAD)
#define TSO_FRAGS   DIV_ROUND_UP(TSO_PAYLOAD, TSO_FRAG)

static void tx_cost_splitnet_tso(void *obj, void *data,
                                 QGuestAllocator *alloc)
{
    QSplitnet *d = &((QSplitnetPCI *)obj)->sn;
    g_autofree uint8_t *b = tx_cost_tso_frame();
    uint64_t payload = guest_alloc(alloc, TSO_PAYLOAD);
    struct splitnet_tx_desc desc;
    unsigned i, k, n = tx_cost_frames();

    qsplitnet_bringup(d, 1024, SPLITNET_F_EVENT_IDX | SPLITNET_F_TX_CSUM |
                      SPLITNET_F_TSO4);
    qtest_memwrite(global_qtest, payload, b + TSO_HLEN, TSO_PAYLOAD);
    for (i = 0; i < n; i++) {
        qsplitnet_tx_write_head(d, d->txq.prod, b, TSO_HLEN);
        for (k = 0; k < TSO_FRAGS; k++) {
            desc = (struct splitnet_tx_desc) {
                .addr = payload + k * TSO_FRAG,
                .len = MIN(TSO_FRAG, TSO_PAYLOAD - k * TSO_FRAG),
                .hdr_len = k ? 0 : TSO_HLEN,
                .flags = (k ? 0 : SPLITNET_TXD_TSO) |
                         (k == TSO_FRAGS - 1 ? SPLITNET_TXD_EOP : 0),
                .gso_size = k ? 0 : TSO_MSS,
                .gso_type = k ? 0 : SPLITNET_GSO_TCPV4,
            };
            qsplitnet_tx_write_desc(d, d->txq.prod++, &desc);
        }
        qsplitnet_kick(d, &d->txq);
        g_assert(qsplitnet_wait_cons(d, SPLITNET_TXQ(0), d->txq.prod));
    }
    g_assert_cmpuint(qsplitnet_stat(d, SPLITNET_TXQ(0),
                                    SPLITNET_STAT_TX_TSO_SEGS), ==,
                     n * TSO_SEGS);
    tx_cost_sink_expect(n * TSO_SEGS, n * TSO_WIRE);
    guest_free(alloc, payload);
}

static void tx_cost_e1000e(void *obj, void *data, QGuestAllocator *alloc)
{
    QE1000E *d = &((QE1000E_PCI *)obj)->e1000e;
    size_t len = GPOINTER_TO_SIZE(data);
    g_autofree uint8_t *b = tx_cost_frame(len);
    uint64_t buf = guest_alloc(alloc, len);
    struct e1000_tx_desc descr;
    unsigned i, n = tx_cost_frames();

    memwrite(buf, b, len);
    for (i = 0; i < n; i++) {
        descr = (struct e1000_tx_desc) {
            .buffer_addr = cpu_to_le64(buf),
            .lower.data = cpu_to_le32(E1000_TXD_CMD_RS | E1000_TXD_CMD_EOP |
                                      E1000_TXD_CMD_IFCS |
                                      E1000_TXD_CMD_DEXT | E1000_TXD_DTYP_D |
                                      len),
        };
        /* The TDT write sends at once and writes the descriptor back. */
        e1000e_tx_ring_push(d, &descr);
        g_assert_cmphex(le32_to_cpu(descr.upper.data) & E1000_TXD_STAT_DD,
                        ==, E1000_TXD_STAT_DD);
    }
    tx_cost_sink_expect(n, n * len);
    guest_free(alloc, buf);
}

/*
 * The TSE context descriptor, then the headers and fragments as data
 * descriptors, and one TDT write for all, as Linux's e1000e does.
 */
static void tx_cost_e1000e_tso(void *obj, void *data, QGuestAllocator *alloc)
{
    QE1000E *d = &((QE1000E_PCI *)obj)->e1000e;
    QTestState *qts = global_qtest;
    g_autofree uint8_t *b = tx_cost_tso_frame();
    uint64_t buf = guest_alloc(alloc, TSO_HLEN + TSO_PAYLOAD);
    uint32_t ring = e1000e_macreg_read(d, E1000_TDLEN) / E1000_RING_DESC_LEN;
    uint32_t tail = e1000e_macreg_read(d, E1000_TDT), last = 0;
    uint32_t dcmd = E1000_TXD_CMD_DEXT | E1000_TXD_DTYP_D | E1000_TXD_CMD_TSE;
    struct e1000_context_desc ctx = {
        .lower_setup.ip_fields = { .ipcss = 14, .ipcso = 24,
                                   .ipcse = cpu_to_le16(33) },
        .upper_setup.tcp_fields = { .tucss = 34, .tucso = 50 },
        .cmd_and_length = cpu_to_le32(E1000_TXD_CMD_DEXT | E1000_TXD_CMD_TSE |
                                      E1000_TXD_CMD_IP | E1000_TXD_CMD_TCP |
                                      TSO_PAYLOAD),
        .tcp_seg_setup.fields = { .hdr_len = TSO_HLEN,
                                  .mss = cpu_to_le16(TSO_MSS) },
    };
    struct e1000_tx_desc descr;
    unsigned i, k, n = tx_cost_frames();
    size_t off, len;

    memwrite(buf, b, TSO_HLEN + TSO_PAYLOAD);
    for (i = 0; i < n; i++) {
        qtest_memwrite(qts, d->tx_ring + tail * E1000_RING_DESC_LEN,
                       &ctx, sizeof(ctx));
        tail = (tail + 1) % ring;
        for (k = 0; k <= TSO_FRAGS; k++) {
            off = k ? TSO_HLEN + (k - 1) * TSO_FRAG : 0;
            len = k ? MIN(TSO_FRAG, TSO_HLEN + TSO_PAYLOAD - off) : TSO_HLEN;
            descr = (struct e1000_tx_desc) {
                .buffer_addr = cpu_to_le64(buf + off),
                .lower.data = cpu_to_le32(dcmd | len |
                                          (k == TSO_FRAGS ?
                                           E1000_TXD_CMD_EOP |
                                           E1000_TXD_CMD_IFCS |
                                           E1000_TXD_CMD_RS : 0)),
                .upper.data = cpu_to_le32((E1000_TXD_POPTS_IXSM |
                                           E1000_TXD_POPTS_TXSM) << 8),
            };
            last = tail;
            qtest_memwrite(qts, d->tx_ring + tail * E1000_RING_DESC_LEN,
                           &descr, sizeof(descr));
            tail = (tail + 1) % ring;
        }
        /* The TDT write sends at once and writes the last one back. */
        e1000e_macreg_write(d, E1000_TDT, tail);
        qtest_memread(qts, d->tx_ring + last * E1000_RING_DESC_LEN,
                      &descr, sizeof(descr));
        g_assert_cmphex(le32_to_cpu(descr.upper.data) & E1000_TXD_STAT_DD,
                        ==, E1000_TXD_STAT_DD);
    }
    tx_cost_sink_expect(n * TSO_SEGS, n * TSO_WIRE);
    guest_free(alloc, buf);
}

static void tx_cost_virtio_net(void *obj, void *data, QGuestAllocator *alloc)
{
    QVirtioNet *net = obj;
    QVirtQueue *vq = net->queues[1];
    size_t len = GPOINTER_TO_SIZE(data);
    g_autofree uint8_t *b = tx_cost_frame(len);
    uint64_t buf = guest_alloc(alloc, TX_COST_VNET_HLEN + len);
    unsigned i, n = tx_cost_frames();
    uint32_t head;

    qtest_memset(global_qtest, buf, 0, TX_COST_VNET_HLEN);
    memwrite(buf + TX_COST_VNET_HLEN, b, len);
    for (i = 0; i < n; i++) {
        head = qvirtqueue_add(global_qtest, vq, buf, TX_COST_VNET_HLEN + len,
                              false, false);
        qvirtqueue_kick(global_qtest, net->vdev, vq, head);
        qvirtio_wait_used_elem(global_qtest, net->vdev, vq, head, NULL,
                               TX_COST_TIMEOUT_US);
    }
    tx_cost_sink_expect(n, n * len);
    guest_free(alloc, buf);
}

/* An rx-cost case: the frame size and the socketpair of its netdev. */
typedef struct RxCost {
    size_t len;
    int sv[2];
} RxCost;

static void rx_cost_splitnet(void *obj, void *data, QGuestAllocator *alloc)
{
    static const uint8_t mac[6] = SPLITNET_TEST_MAC;
    QSplitnet *d = &((QSplitnetPCI *)obj)->sn;
    RxCost *rc = data;
    g_autofree uint8_t *b = tx_cost_frame(rc->len);
    g_autofree uint8_t *got = g_malloc(rc->len);
    uint32_t be = htonl(rc->len);
    unsigned i, n = tx_cost_frames();
    uint64_t bufs;

    memcpy(b, mac, sizeof(mac));
    qsplitnet_bringup(d, 256, SPLITNET_F_EVENT_IDX);
    bufs = guest_alloc(alloc, n * 2048);
    for (i = 0; i < n; i++) {
        qsplitnet_rx_post(d, bufs + i * 2048, 2048);
    }
    qsplitnet_kick(d, &d->rxq);
    for (i = 0; i < n; i++) {
        b[rc->len - 1] = i;
        g_assert_cmpint(send(rc->sv[0], &be, 4, 0), ==, 4);
        g_assert_cmpint(send(rc->sv[0], b, rc->len, 0), ==, rc->len);
    }
    g_assert(qsplitnet_wait_cons(d, SPLITNET_RXQ(0), n));
    g_assert_cmpuint(qsplitnet_stat(d, SPLITNET_RXQ(0), SPLITNET_STAT_FRAMES),
                     ==, n);
    qtest_memread(global_qtest, bufs + (n - 1) * 2048, got, rc->len);
    g_assert(memcmp(got, b, rc->len) == 0);
    guest_free(alloc, bufs);
}

static void rx_cost_clear(void *data)
{
    RxCost *rc = data;

    close(rc->sv[0]);
    qos_invalidate_command_line();
    close(rc->sv[1]);
    g_free(rc);
}

static void *rx_cost_setup(GString *cmd_line, void *arg)
{
    RxCost *rc = g_new0(RxCost, 1);

    rc->len = GPOINTER_TO_SIZE(arg);
    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, rc->sv), ==, 0);
    g_string_append_printf(cmd_line, " -netdev socket,fd=%d,id=hs0 ",
                           rc->sv[1]);
    g_test_queue_destroy(rx_cost_clear, rc);
    return rc;
}

static void tx_cost_clear(void *unused)
{
    /* A fresh QEMU per case: one callgrind profile per process. */
    qos_invalidate_command_line();
}

static void *tx_cost_setup(GString *cmd_line, void *arg)
{
    g_string_append(cmd_line, " -netdev sink,id=hs0 ");
    g_test_queue_destroy(tx_cost_clear, NULL);
    return arg;
}

/* @dir: "tx" or "rx", the case's name and its netdev. */
static void tx_cost_add(const char *node, const char *dir, QOSTestFunc fn)
{
    static const size_t sizes[] = { 64, 1514 };
    QOSGraphTestOptions opts = {
        .before = !strcmp(dir, "rx") ? rx_cost_setup : tx_cost_setup,
    };
    g_autofree char *name = NULL;
    int i;

    for (i = 0; i < ARRAY_SIZE(sizes); i++) {
        g_free(name);
        name = g_strdup_printf("%s-cost/%zu", dir, sizes[i]);
        opts.arg = GSIZE_TO_POINTER(sizes[i]);
        qos_add_test(name, node, fn, &opts);
    }
}

static void tx_cost_add_tso(const char *node, QOSTestFunc fn)
{
    QOSGraphTestOptions opts = { .before = tx_cost_setup };

    qos_add_test("tx-cost/tso", node, fn, &opts);
}

static void register_nic_tx_cost_test(void)
{
    if (!g_getenv("NIC_TX_COST_FRAMES")) {
        return;
    }
    tx_cost_add("splitnet", "tx", tx_cost_splitnet);
    tx_cost_add("e1000e", "tx", tx_cost_e1000e);
    tx_cost_add("virtio-net", "tx", tx_cost_virtio_net);
    tx_cost_add("splitnet", "rx", rx_cost_splitnet);
    tx_cost_add_tso("splitnet", tx_cost_splitnet_tso);
    tx_cost_add_tso("e1000e", tx_cost_e1000e_tso);
}

libqos_init(register_nic_tx_cost_test);
