/*
 * QTest testcases for splitnet on QEMU's hub
 *
 * splitnet hands the net layer one scatter list [head copy, payload by
 * reference] per frame.  These cases put the device on a hub with several
 * socket ports, with a second splitnet and with virtio-net-pci, and check
 * that every port gets every frame byte for byte, that backpressure from
 * one port neither loses nor duplicates frames, and that the device never
 * reads a payload buffer after it completed (or stalled on) its frame.
 *
 * Each socket port is the test end of a socketpair; QEMU's socket netdev
 * frames each packet as a 4-byte big-endian length and the bytes.  Real
 * time only bounds a wait (SO_RCVTIMEO, wait helpers); it never decides.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/socket.h>
#include <sys/ioctl.h>
#include "libqtest.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "libqos/libqos.h"
#include "libqos/libqos-pc.h"
#include "libqos/pci-pc.h"
#include "libqos/splitnet.h"
#include "libqos/virtio.h"
#include "libqos/virtio-pci.h"
#include "standard-headers/linux/virtio_config.h"
#include "standard-headers/linux/virtio_ids.h"
#include "standard-headers/linux/virtio_net.h"
#include "standard-headers/linux/virtio_ring.h"

#define MAX_SOCKS       4
#define MAX_SN          2
#define SN_DEVFN(i)     QPCI_DEVFN(4 + (i), 0)
#define VNET_SLOT       6
#define VNET_DEVFN      QPCI_DEVFN(VNET_SLOT, 0)
#define TXQ             SPLITNET_TXQ(0)
#define RXQ             SPLITNET_RXQ(0)
#define RING            64
#define ETH_HLEN        14
#define HDR_LEN         54      /* Ethernet + IPv4 + TCP, as a driver would */
#define FRAME_MAX       (16 * KiB)
#define RX_BUF          2048
#define SMALL_SNDBUF    4096    /* the kernel doubles it */
#define SCRIBBLE        0xee
#define TIMEOUT_US      (10 * G_TIME_SPAN_SECOND)

typedef struct Hub {
    QOSState *qs;
    QTestState *qts;
    QPCIDevice *pdev[MAX_SN];
    QSplitnet sn[MAX_SN];
    int nsn;
    int sock[MAX_SOCKS];    /* test end of each socket port */
    int nsock;
    QVirtioPCIDevice *vnet; /* virtio-net-pci on the hub, or NULL */
    QVirtQueue *vrx;
    QVirtQueue *vtx;
    size_t vhdr;            /* virtio-net header bytes */
} Hub;

typedef struct HubOpts {
    int nsock;              /* socket ports */
    unsigned small;         /* bit i: socket i's QEMU end has SMALL_SNDBUF */
    int nsn;                /* splitnet devices, 1 or 2 */
    bool vnet;              /* add virtio-net-pci */
} HubOpts;

/* A TX frame and where its payload sits in the guest (libqos/splitnet.h) */
typedef QSplitnetFrame Frame;

static const uint8_t vnet_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x60 };

static void sn_mac(int i, uint8_t *mac)
{
    static const uint8_t base[6] = SPLITNET_TEST_MAC;

    memcpy(mac, base, 6);
    mac[5] += i;
}

/* Harness */

/* Socket ports first: a hubport's netdev= must name an existing netdev. */
static void cmdline_socks(Hub *h, const HubOpts *o, GString *cmd,
                          int *qemu_end)
{
    int i;

    for (i = 0; i < o->nsock; i++) {
        int sz = o->small & (1u << i) ? SMALL_SNDBUF : 0;

        h->sock[i] = qsplitnet_socketpair(sz, sz, &qemu_end[i]);
        g_string_append_printf(cmd, " -netdev socket,fd=%d,id=s%d"
                               " -netdev hubport,id=h%d,hubid=0,netdev=s%d",
                               qemu_end[i], i, i, i);
    }
    h->nsock = o->nsock;
}

static void cmdline_nics(const HubOpts *o, GString *cmd)
{
    uint8_t m[6];
    int i;

    for (i = 0; i < o->nsn; i++) {
        sn_mac(i, m);
        g_string_append_printf(cmd, " -netdev hubport,id=hn%d,hubid=0"
                               " -device splitnet,id=sn%d,addr=%02x.0,"
                               "netdev=hn%d,mac=%02x:%02x:%02x:%02x:%02x:%02x",
                               i, i, 4 + i, i, m[0], m[1], m[2], m[3], m[4],
                               m[5]);
    }
    if (o->vnet) {
        g_string_append_printf(cmd, " -netdev hubport,id=hv,hubid=0"
                               " -device virtio-net-pci,addr=%02x.0,"
                               "netdev=hv,mac=52:54:00:12:34:60",
                               VNET_SLOT);
    }
}

static Hub *hub_start(const HubOpts *o)
{
    Hub *h = g_new0(Hub, 1);
    g_autoptr(GString) cmd = g_string_new("-m 128M");
    int qemu_end[MAX_SOCKS];
    int i;

    g_assert_cmpint(o->nsock, <=, MAX_SOCKS);
    g_assert_cmpint(o->nsn, <=, MAX_SN);
    cmdline_socks(h, o, cmd, qemu_end);
    cmdline_nics(o, cmd);
    h->qs = qtest_pc_boot("%s", cmd->str);
    h->qts = h->qs->qts;
    for (i = 0; i < o->nsock; i++) {
        close(qemu_end[i]);
    }
    for (i = 0; i < o->nsn; i++) {
        h->pdev[i] = qsplitnet_test_attach(h->qs, SN_DEVFN(i), &h->sn[i]);
        qsplitnet_bringup(&h->sn[i], RING, 0);
    }
    h->nsn = o->nsn;
    return h;
}

static void vnet_stop(Hub *h);

static void hub_stop(Hub *h)
{
    int i;

    if (h->vnet) {
        vnet_stop(h);
    }
    for (i = 0; i < h->nsn; i++) {
        g_free(h->pdev[i]);
    }
    qtest_shutdown(h->qs);
    for (i = 0; i < h->nsock; i++) {
        close(h->sock[i]);
    }
    g_free(h);
}

/* Frames */

/* A frame numbered @seq (qsplitnet_fill_seq_frame) */
static uint8_t *make_bytes(const uint8_t *dst, const uint8_t *src,
                           size_t len, unsigned seq)
{
    uint8_t *b = g_malloc(len);

    qsplitnet_fill_seq_frame(b, len, dst, src, seq);
    return b;
}

/* Alternate short (copied) and long (referenced) fragments. */
static void split_payload(uint32_t *lens, int n, uint32_t payload)
{
    uint32_t avg = payload / n, skew = n > 2 ? avg / 2 : 0, sum = 0;
    int i;

    for (i = 0; i < n; i++) {
        lens[i] = i & 1 ? avg + skew : avg - skew;
        sum += lens[i];
    }
    lens[n - 1] += payload - sum;
}

/* A frame from splitnet @i to @dst: HDR_LEN head, @payload in @n frags. */
static Frame *sn_frame(Hub *h, int i, const uint8_t *dst, uint32_t payload,
                       int n, unsigned seq)
{
    uint32_t lens[SPLITNET_TX_MAX_FRAGS] = { 0 };
    uint16_t hdr_len = n ? HDR_LEN : payload;
    uint8_t src[6];
    size_t len;

    sn_mac(i, src);
    if (n) {
        split_payload(lens, n, payload);
    }
    len = qsplitnet_frame_len(hdr_len, lens, n);
    return qsplitnet_frame_new(&h->sn[i], make_bytes(dst, src, len, seq),
                               hdr_len, lens, n);
}

static void frames_free(Hub *h, Frame **f, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        qsplitnet_frame_free(&h->sn[0], f[i]);
    }
}

/* Overwrite the frame's payload in guest memory. */
static void frame_scribble(Hub *h, Frame *f)
{
    int i;

    for (i = 0; i < f->nfrags; i++) {
        if (f->frags[i].len) {
            qtest_memset(h->qts, f->frags[i].addr, SCRIBBLE, f->frags[i].len);
        }
    }
}

static void sn_queue(QSplitnet *d, Frame **f, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        qsplitnet_frame_queue(d, f[i]);
    }
}

static uint32_t frame_descs(const Frame *f)
{
    return MAX(f->nfrags, 1);
}

/*
 * Send @n frames: queue as many as the ring holds, ring one doorbell,
 * wait until they are completed, repeat.
 */
static void sn_send(QSplitnet *d, Frame **f, int n)
{
    uint32_t room;
    int i = 0, first;

    while (i < n) {
        room = d->txq.size;
        for (first = i; i < n && frame_descs(f[i]) <= room; i++) {
            room -= frame_descs(f[i]);
        }
        sn_queue(d, f + first, i - first);
        qsplitnet_kick(d, &d->txq);
        g_assert(qsplitnet_wait_cons(d, TXQ, d->txq.prod));
    }
}

/* Wire */

static void expect_bytes(const char *where, const uint8_t *got,
                         size_t got_len, const Frame *f)
{
    g_autofree char *what = g_strdup_printf("%s, frame %u", where,
                                            qsplitnet_frame_seq(f->bytes));

    qsplitnet_expect_frame(what, got, got_len, f->bytes, f->len);
}

/* The next frame on socket port @port is @f, byte for byte. */
static void sock_expect(Hub *h, int port, const Frame *f)
{
    g_autofree uint8_t *buf = g_malloc(FRAME_MAX);
    g_autofree char *where = g_strdup_printf("port s%d", port);
    size_t len = qsplitnet_sock_recv(h->sock[port], buf, FRAME_MAX);

    expect_bytes(where, buf, len, f);
}

static void sock_expect_all(Hub *h, int port, Frame **f, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        sock_expect(h, port, f[i]);
    }
}

/* Nothing (more) on any socket port once QEMU's main loop caught up. */
static void socks_expect_nothing(Hub *h)
{
    int i;

    qsplitnet_sync(&h->sn[0]);
    for (i = 0; i < h->nsock; i++) {
        qsplitnet_sock_expect_nothing(h->sock[i]);
    }
}

static int sock_pending(Hub *h, int port)
{
    int n = 0;

    g_assert_cmpint(ioctl(h->sock[port], FIONREAD, &n), ==, 0);
    return n;
}

static uint64_t wire_bytes(Frame **f, int n)
{
    uint64_t sum = 0;
    int i;

    for (i = 0; i < n; i++) {
        sum += f[i]->len;
    }
    return sum;
}

/* TX counters of splitnet @d after it sent exactly @f[0..n). */
static void sn_check_tx_stats(QSplitnet *d, Frame **f, int n,
                              uint64_t stalls)
{
    uint64_t head = 0, payload = 0;
    int i;

    for (i = 0; i < n; i++) {
        head += f[i]->hdr_len;
        payload += f[i]->len - f[i]->hdr_len;
    }
    g_assert_cmpuint(qsplitnet_stat(d, TXQ, SPLITNET_STAT_FRAMES), ==, n);
    g_assert_cmpuint(qsplitnet_stat(d, TXQ, SPLITNET_STAT_BYTES), ==,
                     wire_bytes(f, n));
    g_assert_cmpuint(qsplitnet_stat(d, TXQ, SPLITNET_STAT_TX_HEAD_BYTES), ==,
                     head);
    g_assert_cmpuint(qsplitnet_stat(d, TXQ, SPLITNET_STAT_TX_PAYLOAD_REF) +
                     qsplitnet_stat(d, TXQ, SPLITNET_STAT_TX_PAYLOAD_COPY),
                     ==, payload);
    g_assert_cmpuint(qsplitnet_stat(d, TXQ, SPLITNET_STAT_ERRORS), ==, 0);
    g_assert_cmpuint(qsplitnet_stat(d, TXQ, SPLITNET_STAT_TX_STALLS), ==,
                     stalls);
}

/*
 * 1. Fan-out: splitnet and three socket ports on hub 0.  Every socket
 * port gets every frame, byte-identical, in order, for frames of @data
 * payload fragments (0: head only; 2 and up alternate copied and
 * referenced fragments).
 */
static void test_fanout(gconstpointer data)
{
    HubOpts o = { .nsock = 3, .nsn = 1 };
    Hub *h = hub_start(&o);
    int nfrags = GPOINTER_TO_INT(data), i, p;
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    Frame *f[8];

    for (i = 0; i < 8; i++) {
        f[i] = sn_frame(h, 0, bcast, nfrags ? 1000 + 53 * i : 60 + 8 * i,
                        nfrags, i);
    }
    sn_send(&h->sn[0], f, 8);
    for (p = 0; p < h->nsock; p++) {
        sock_expect_all(h, p, f, 8);
    }
    socks_expect_nothing(h);
    sn_check_tx_stats(&h->sn[0], f, 8, 0);
    for (i = 0; i < 8; i++) {
        qsplitnet_frame_check_guest(&h->sn[0], f[i]);
    }
    frames_free(h, f, 8);
    hub_stop(h);
}

/*
 * 5a. The device must not read a payload after it completed its frame:
 * each frame's payload is overwritten as soon as cons moved past it, and
 * every port still gets the original bytes.
 */
static void test_rewrite_after_completion(void)
{
    HubOpts o = { .nsock = 2, .nsn = 1 };
    Hub *h = hub_start(&o);
    QSplitnet *d = &h->sn[0];
    Frame *f[16];
    int i;

    for (i = 0; i < 16; i++) {
        f[i] = sn_frame(h, 0, vnet_mac, 200 + 77 * i, 1 + i % 4, i);
        sn_send(d, &f[i], 1);
        frame_scribble(h, f[i]);
    }
    sock_expect_all(h, 0, f, 16);
    sock_expect_all(h, 1, f, 16);
    socks_expect_nothing(h);
    sn_check_tx_stats(d, f, 16, 0);
    frames_free(h, f, 16);
    hub_stop(h);
}

/*
 * 2. One port's peer stops reading.
 *
 * What QEMU 10.0 does (net/hub.c, net/queue.c, net/socket.c): the
 * device's hubport can receive while *any* other port can
 * (net_hub_port_can_receive), and net_hub_receive_iov passes each frame to
 * every other port with qemu_sendv_packet(), which has no sent callback
 * and returns no backpressure to the device.  A port whose socket is full
 * (net_socket_receive returned 0: receive_disabled) gets a *copy* of
 * every further frame appended to its incoming queue, up to the queue's
 * 10000 frames (beyond that qemu_net_queue_append_iov drops them
 * silently); the queue is flushed in order when the socket becomes
 * writable.  So with one slow port the device never stalls
 * (STAT_TX_STALLS stays 0), the other ports keep receiving at once, and
 * the slow port gets every frame, in order, when it drains.
 *
 * Port s0 has a small socket buffer and is not read until the end; s1 and
 * s2 are read batch by batch, so each of them always has room.  Payloads
 * are overwritten as soon as the device completed their frames (5.).
 */
#define BLK_FRAMES  192
#define BLK_BATCH   16

static void blocked_batch(Hub *h, Frame **f, int first)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    int i;

    for (i = 0; i < BLK_BATCH; i++) {
        f[i] = sn_frame(h, 0, bcast, 1000 + (first + i) % 7 * 60, 2,
                        first + i);
    }
    sn_send(&h->sn[0], f, BLK_BATCH);
    for (i = 0; i < BLK_BATCH; i++) {
        frame_scribble(h, f[i]);
    }
    sock_expect_all(h, 1, f, BLK_BATCH);
    sock_expect_all(h, 2, f, BLK_BATCH);
}

static void test_one_port_blocked(void)
{
    HubOpts o = { .nsock = 3, .small = 1u << 0, .nsn = 1 };
    Hub *h = hub_start(&o);
    Frame *f[BLK_FRAMES];
    int i;

    for (i = 0; i < BLK_FRAMES; i += BLK_BATCH) {
        blocked_batch(h, f + i, i);
    }
    sn_check_tx_stats(&h->sn[0], f, BLK_FRAMES, 0);
    /* s0's socket took only a few frames: QEMU held the rest. */
    g_test_message("s0 has %d of %" PRIu64 " bytes in its socket",
                   sock_pending(h, 0), wire_bytes(f, BLK_FRAMES));
    g_assert_cmpuint(sock_pending(h, 0), <, wire_bytes(f, BLK_FRAMES) / 4);

    sock_expect_all(h, 0, f, BLK_FRAMES);
    socks_expect_nothing(h);
    sn_check_tx_stats(&h->sn[0], f, BLK_FRAMES, 0);
    frames_free(h, f, BLK_FRAMES);
    hub_stop(h);
}

/*
 * Receive @n frames from socket port @port, each byte-exact against the
 * frame its sequence number names; record the sequence numbers.
 */
static void sock_recv_seqs(Hub *h, int port, Frame **f, int n,
                           unsigned *seq)
{
    g_autofree uint8_t *buf = g_malloc(FRAME_MAX);
    g_autofree char *where = g_strdup_printf("port s%d", port);
    size_t len;
    int i;

    for (i = 0; i < n; i++) {
        len = qsplitnet_sock_recv(h->sock[port], buf, FRAME_MAX);
        g_assert_cmpuint(len, >=, ETH_HLEN + 4);
        seq[i] = qsplitnet_frame_seq(buf);
        g_assert_cmpuint(seq[i], <, n);
        expect_bytes(where, buf, len, f[seq[i]]);
    }
}

static void seqs_log(int port, const unsigned *seq, int n)
{
    g_autoptr(GString) s = g_string_new(NULL);
    int i;

    for (i = 0; i < n; i++) {
        if (seq[i] != i) {
            g_string_append_printf(s, " [%d]=%u", i, seq[i]);
        }
    }
    g_test_message("port s%d: %s", port, s->len ? s->str : " in order");
}

/*
 * 3. Every port's peer stops reading: now the device stalls.
 *
 * What QEMU 10.0 does: once both sockets are full, both ports are
 * receive_disabled, net_hub_port_can_receive() of the device's port is
 * false, and qemu_net_queue_send_iov() parks the device's next frame (a
 * copy) in that port's incoming queue with the device's sent callback:
 * qemu_sendv_packet_async() returns 0, the device counts STAT_TX_STALLS,
 * completes every frame before that one and takes no further descriptor.
 * Every frame handed over so far is a copy in a net queue, so the guest
 * may scribble over those payloads at once.
 *
 * When s0 becomes writable, net_socket_writable() ->
 * qemu_flush_or_purge_queued_packets(s0) clears receive_disabled and
 * calls net_hub_flush() *before* flushing s0's own queue.  The held frame
 * then reaches s0 directly and overtakes the frames the hub had queued
 * for s0 (qemu_net_queue_send_iov() does not look at a non-empty queue);
 * the sent callback resumes the device, and it can happen again at each
 * stall.  Observed: on s0, frame k+1 (held) arrives before frame k
 * (queued), at every stall; s1, drained after s0 and the device are done,
 * gets everything in order.  Nothing is lost or duplicated, every frame
 * is byte-exact and has its original payload.  The reordering is QEMU's
 * net layer, not the device: the case is marked incomplete (TODO) while
 * it happens, and passes once the net layer keeps order.
 */
#define STALL_FRAMES 32      /* two descriptors each: one full ring */

/* Every frame exactly once: @seq is a permutation of 0..n-1. */
static void seqs_check_once(const unsigned *seq, int n)
{
    g_autofree bool *seen = g_new0(bool, n);
    int i;

    for (i = 0; i < n; i++) {
        g_assert_false(seen[seq[i]]);
        seen[seq[i]] = true;
    }
}

/* How many frames are not where their sequence number says. */
static int seqs_moved(const unsigned *seq, int n)
{
    int i, moved = 0;

    for (i = 0; i < n; i++) {
        moved += seq[i] != i;
    }
    return moved;
}

static void test_all_ports_blocked(gconstpointer data)
{
    HubOpts o = { .nsock = 2, .small = 3, .nsn = 1 };
    Hub *h = hub_start(&o);
    QSplitnet *d = &h->sn[0];
    uint32_t payload = GPOINTER_TO_UINT(data);
    Frame *f[STALL_FRAMES];
    unsigned seq[STALL_FRAMES];
    uint64_t handed;
    int i, p, moved[2];

    qsplitnet_writel(d, SPLITNET_REG_MTU, 9000);
    for (i = 0; i < STALL_FRAMES; i++) {
        f[i] = sn_frame(h, 0, vnet_mac, payload, 2, i);
    }
    sn_queue(d, f, STALL_FRAMES);
    qsplitnet_kick(d, &d->txq);
    g_assert(qsplitnet_wait_stat(d, TXQ, SPLITNET_STAT_TX_STALLS, 1));
    qsplitnet_sync(d);
    /* FRAMES counts what the net layer took; it holds one more. */
    handed = qsplitnet_stat(d, TXQ, SPLITNET_STAT_FRAMES) + 1;
    g_test_message("stalled: %" PRIu64 " frames handed over, cons %u",
                   handed, qsplitnet_cons(d, TXQ));
    g_assert_cmpuint(handed, <, STALL_FRAMES);
    g_assert_cmpuint(qsplitnet_cons(d, TXQ), ==, 2 * (handed - 1));
    for (i = 0; i < handed; i++) {
        frame_scribble(h, f[i]);
    }
    for (i = handed; i < STALL_FRAMES; i++) {
        qsplitnet_frame_check_guest(&h->sn[0], f[i]);
    }
    for (p = 0; p < 2; p++) {
        sock_recv_seqs(h, p, f, STALL_FRAMES, seq);
        seqs_log(p, seq, STALL_FRAMES);
        seqs_check_once(seq, STALL_FRAMES);
        moved[p] = seqs_moved(seq, STALL_FRAMES);
    }
    /* s1 drains after s0 and the device: its queue was only appended. */
    g_assert_cmpint(moved[1], ==, 0);
    if (moved[0]) {
        g_test_incomplete("QEMU net layer: a frame held on the device's "
                          "hubport overtook frames queued for port s0 "
                          "(net_hub_flush runs before the port's own "
                          "queue in qemu_flush_or_purge_queued_packets)");
    }
    g_assert(qsplitnet_wait_cons(d, TXQ, d->txq.prod));
    socks_expect_nothing(h);
    g_test_message("TX_STALLS %" PRIu64,
                   qsplitnet_stat(d, TXQ, SPLITNET_STAT_TX_STALLS));
    frames_free(h, f, STALL_FRAMES);
    hub_stop(h);
}

/* RX on splitnet */

/* Post @n buffers of RX_BUF bytes on @d's RX ring; returns their area. */
static uint64_t sn_rx_post(Hub *h, QSplitnet *d, int n)
{
    uint64_t area = guest_alloc(&h->qs->alloc, n * RX_BUF);
    int i;

    qtest_memset(h->qts, area, 0, n * RX_BUF);
    for (i = 0; i < n; i++) {
        qsplitnet_rx_post(d, area + i * RX_BUF, RX_BUF);
    }
    qsplitnet_kick(d, &d->rxq);
    return area;
}

/* RX descriptor @idx of @d holds @f, whole, in one buffer. */
static void sn_rx_expect(Hub *h, QSplitnet *d, uint32_t idx, const Frame *f)
{
    g_autofree uint8_t *buf = g_malloc(RX_BUF);
    struct splitnet_rx_desc desc;

    qsplitnet_rx_read_desc(d, idx, &desc);
    g_assert_cmpuint(desc.len, ==, f->len);
    g_assert_cmphex(desc.flags, ==, SPLITNET_RXD_EOP);
    qtest_memread(h->qts, desc.addr, buf, desc.len);
    expect_bytes("splitnet rx", buf, desc.len, f);
}

static void sn_rx_expect_all(Hub *h, QSplitnet *d, uint32_t first,
                             Frame **f, int n)
{
    int i;

    g_assert(qsplitnet_wait_cons(d, RXQ, first + n));
    for (i = 0; i < n; i++) {
        sn_rx_expect(h, d, first + i, f[i]);
    }
}

/* Splitnet @from sends @n frames to splitnet @to; caller frees them. */
static Frame **sn_to_sn(Hub *h, int from, int to, int n, unsigned seq0)
{
    Frame **f = g_new(Frame *, n);
    uint8_t dst[6];
    int i;

    sn_mac(to, dst);
    for (i = 0; i < n; i++) {
        f[i] = sn_frame(h, from, dst, 100 + 80 * i, 1 + i % 3, seq0 + i);
    }
    sn_send(&h->sn[from], f, n);
    return f;
}

static void sn_exchange(Hub *h, int from, int to, int n, unsigned seq0)
{
    QSplitnet *rx = &h->sn[to];
    uint32_t first = qsplitnet_cons(rx, RXQ);
    uint64_t area = sn_rx_post(h, rx, n);
    Frame **f = sn_to_sn(h, from, to, n, seq0);

    sn_rx_expect_all(h, rx, first, f, n);
    sock_expect_all(h, 0, f, n);
    frames_free(h, f, n);
    g_free(f);
    guest_free(&h->qs->alloc, area);
}

/*
 * B has fewer buffers than A sends: A still completes every frame (the
 * socket port accepts), the hub keeps B's share in B's queue, and B gets
 * the rest in order once it posts more buffers.
 */
static void sn_exchange_short(Hub *h, unsigned seq0)
{
    QSplitnet *b = &h->sn[1];
    uint32_t first = qsplitnet_cons(b, RXQ);
    uint64_t area[2];
    Frame **f;

    area[0] = sn_rx_post(h, b, 4);
    f = sn_to_sn(h, 0, 1, 8, seq0);
    sn_rx_expect_all(h, b, first, f, 4);
    /*
     * A's frames went through the hub while A sent them, so the other
     * four wait in B's queue now.  (B's ring is empty, so its
     * can_receive says no and the net layer holds them without asking
     * B: STAT_RX_NO_BUFFER does not count this wait.)
     */
    qsplitnet_sync(b);
    g_test_message("B: RX_NO_BUFFER %" PRIu64,
                   qsplitnet_stat(b, RXQ, SPLITNET_STAT_RX_NO_BUFFER));
    g_assert_cmpuint(qsplitnet_cons(b, RXQ), ==, first + 4);
    area[1] = sn_rx_post(h, b, 4);
    sn_rx_expect_all(h, b, first + 4, f + 4, 4);
    sock_expect_all(h, 0, f, 8);
    frames_free(h, f, 8);
    g_free(f);
    guest_free(&h->qs->alloc, area[0]);
    guest_free(&h->qs->alloc, area[1]);
}

static void check_pair_stats(QSplitnet *tx, QSplitnet *rx, uint64_t frames)
{
    g_assert_cmpuint(qsplitnet_stat(tx, TXQ, SPLITNET_STAT_FRAMES), ==,
                     frames);
    g_assert_cmpuint(qsplitnet_stat(rx, RXQ, SPLITNET_STAT_FRAMES), ==,
                     frames);
    g_assert_cmpuint(qsplitnet_stat(tx, TXQ, SPLITNET_STAT_BYTES), ==,
                     qsplitnet_stat(rx, RXQ, SPLITNET_STAT_BYTES));
    g_assert_cmpuint(qsplitnet_stat(tx, TXQ, SPLITNET_STAT_ERRORS), ==, 0);
    g_assert_cmpuint(qsplitnet_stat(tx, TXQ, SPLITNET_STAT_TX_STALLS), ==, 0);
    g_assert_cmpuint(qsplitnet_stat(rx, RXQ, SPLITNET_STAT_ERRORS), ==, 0);
    g_assert_cmpuint(qsplitnet_stat(rx, RXQ, SPLITNET_STAT_RX_FILTERED), ==,
                     0);
    g_assert_cmpuint(qsplitnet_stat(rx, RXQ, SPLITNET_STAT_RX_OVERSIZE), ==,
                     0);
}

/*
 * 3. Two splitnet devices and a socket port on hub 0: A's TX is B's RX
 * and the reverse, byte for byte, and the counters agree.
 */
static void test_two_splitnets(void)
{
    HubOpts o = { .nsock = 1, .nsn = 2 };
    Hub *h = hub_start(&o);

    sn_exchange(h, 0, 1, 16, 0);
    sn_exchange(h, 1, 0, 16, 100);
    sn_exchange_short(h, 200);
    socks_expect_nothing(h);
    check_pair_stats(&h->sn[0], &h->sn[1], 24);
    check_pair_stats(&h->sn[1], &h->sn[0], 16);
    hub_stop(h);
}

/* virtio-net-pci, driven through libqos's virtqueues */

static void vnet_start(Hub *h)
{
    QPCIAddress addr = { .devfn = VNET_DEVFN };
    QVirtioDevice *vdev;
    uint64_t features;

    h->vnet = virtio_pci_new(h->qs->pcibus, &addr);
    g_assert(h->vnet);
    vdev = &h->vnet->vdev;
    g_assert_cmphex(vdev->device_type, ==, VIRTIO_ID_NET);
    qvirtio_pci_device_enable(h->vnet);
    qvirtio_start_device(vdev);
    features = qvirtio_get_features(vdev) &
        ~(QVIRTIO_F_BAD_FEATURE | (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
          (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VIRTIO_NET_F_MQ));
    qvirtio_set_features(vdev, features);
    h->vhdr = features & ((1ull << VIRTIO_F_VERSION_1) |
                          (1ull << VIRTIO_NET_F_MRG_RXBUF)) ?
              sizeof(struct virtio_net_hdr_mrg_rxbuf) :
              sizeof(struct virtio_net_hdr);
    h->vrx = qvirtqueue_setup(vdev, &h->qs->alloc, 0);
    h->vtx = qvirtqueue_setup(vdev, &h->qs->alloc, 1);
    qvirtio_set_driver_ok(vdev);
}

static void vnet_stop(Hub *h)
{
    const QVirtioBus *bus = h->vnet->vdev.bus;

    qvirtqueue_cleanup(bus, h->vrx, &h->qs->alloc);
    qvirtqueue_cleanup(bus, h->vtx, &h->qs->alloc);
    qvirtio_pci_destructor(&h->vnet->obj);
    g_free(h->vnet);
}

/* The next used element of @vq, waiting for it; returns its length. */
static uint32_t vnet_wait_used(Hub *h, QVirtQueue *vq, uint32_t head)
{
    gint64 end = g_get_monotonic_time() + TIMEOUT_US;
    uint32_t id, len;

    while (!qvirtqueue_get_buf(h->qts, vq, &id, &len)) {
        g_assert(g_get_monotonic_time() < end);
        g_usleep(100);
    }
    g_assert_cmpuint(id, ==, head);
    return len;
}

/* Post @n RX buffers; returns their area, buffer i at area + i * RX_BUF. */
static uint64_t vnet_rx_post(Hub *h, int n, uint32_t *head)
{
    uint64_t area = guest_alloc(&h->qs->alloc, n * RX_BUF);
    uint32_t idx;
    int i;

    for (i = 0; i < n; i++) {
        idx = qvirtqueue_add(h->qts, h->vrx, area + i * RX_BUF, RX_BUF,
                             true, false);
        qvirtqueue_kick(h->qts, &h->vnet->vdev, h->vrx, idx);
        if (!i) {
            *head = idx;
        }
    }
    return area;
}

static void vnet_rx_expect(Hub *h, uint64_t area, uint32_t head,
                           Frame **f, int n)
{
    g_autofree uint8_t *buf = g_malloc(RX_BUF);
    uint32_t len;
    int i;

    for (i = 0; i < n; i++) {
        len = vnet_wait_used(h, h->vrx, head + i);
        g_assert_cmpuint(len, ==, h->vhdr + f[i]->len);
        qtest_memread(h->qts, area + i * RX_BUF + h->vhdr, buf, f[i]->len);
        expect_bytes("virtio-net rx", buf, f[i]->len, f[i]);
    }
}

/* virtio-net sends @f: a zeroed virtio-net header, then the frame. */
static void vnet_tx(Hub *h, const Frame *f)
{
    size_t len = h->vhdr + f->len;
    uint64_t buf = guest_alloc(&h->qs->alloc, len);
    uint32_t idx;

    qtest_memset(h->qts, buf, 0, h->vhdr);
    qtest_memwrite(h->qts, buf + h->vhdr, f->bytes, f->len);
    idx = qvirtqueue_add(h->qts, h->vtx, buf, len, false, false);
    qvirtqueue_kick(h->qts, &h->vnet->vdev, h->vtx, idx);
    vnet_wait_used(h, h->vtx, idx);
    guest_free(&h->qs->alloc, buf);
}

static void sn_to_vnet(Hub *h, int n)
{
    uint32_t head;
    uint64_t area = vnet_rx_post(h, n, &head);
    g_autofree Frame **f = g_new(Frame *, n);
    int i;

    for (i = 0; i < n; i++) {
        f[i] = sn_frame(h, 0, vnet_mac, 50 + 181 * i, 1 + i % 3, i);
    }
    sn_send(&h->sn[0], f, n);
    vnet_rx_expect(h, area, head, f, n);
    sock_expect_all(h, 0, f, n);
    sn_check_tx_stats(&h->sn[0], f, n, 0);
    frames_free(h, f, n);
    guest_free(&h->qs->alloc, area);
}

static void vnet_to_sn(Hub *h, int n)
{
    QSplitnet *d = &h->sn[0];
    uint32_t first = qsplitnet_cons(d, RXQ);
    uint64_t area = sn_rx_post(h, d, n);
    g_autofree Frame **f = g_new(Frame *, n);
    uint64_t bytes = 0;
    uint8_t dst[6];
    int i;

    sn_mac(0, dst);
    for (i = 0; i < n; i++) {
        f[i] = g_new0(Frame, 1);
        f[i]->len = 60 + 181 * i;
        f[i]->bytes = make_bytes(dst, vnet_mac, f[i]->len, 100 + i);
        bytes += f[i]->len;
        vnet_tx(h, f[i]);
    }
    sn_rx_expect_all(h, d, first, f, n);
    sock_expect_all(h, 0, f, n);
    g_assert_cmpuint(qsplitnet_stat(d, RXQ, SPLITNET_STAT_FRAMES), ==, n);
    g_assert_cmpuint(qsplitnet_stat(d, RXQ, SPLITNET_STAT_BYTES), ==, bytes);
    for (i = 0; i < n; i++) {
        g_free(f[i]->bytes);
        g_free(f[i]);
    }
    guest_free(&h->qs->alloc, area);
}

/*
 * 4. splitnet, virtio-net-pci and a socket port on hub 0: frames pass
 * both ways byte for byte, and the socket port sees both directions.
 */
static void test_virtio_net(void)
{
    HubOpts o = { .nsock = 1, .nsn = 1, .vnet = true };
    Hub *h = hub_start(&o);

    vnet_start(h);
    sn_to_vnet(h, 8);
    vnet_to_sn(h, 8);
    socks_expect_nothing(h);
    hub_stop(h);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_data_func("/splitnet-hub/fanout/head-only",
                        GINT_TO_POINTER(0), test_fanout);
    qtest_add_data_func("/splitnet-hub/fanout/1-frag",
                        GINT_TO_POINTER(1), test_fanout);
    qtest_add_data_func("/splitnet-hub/fanout/2-frags",
                        GINT_TO_POINTER(2), test_fanout);
    qtest_add_data_func("/splitnet-hub/fanout/17-frags",
                        GINT_TO_POINTER(17), test_fanout);
    qtest_add_data_func("/splitnet-hub/fanout/32-frags",
                        GINT_TO_POINTER(SPLITNET_TX_MAX_FRAGS), test_fanout);
    qtest_add_func("/splitnet-hub/payload/rewrite-after-completion",
                   test_rewrite_after_completion);
    qtest_add_func("/splitnet-hub/backpressure/one-port-blocked",
                   test_one_port_blocked);
    qtest_add_data_func("/splitnet-hub/backpressure/all-ports-blocked",
                        GUINT_TO_POINTER(1200), test_all_ports_blocked);
    qtest_add_data_func("/splitnet-hub/backpressure/all-ports-blocked-8k",
                        GUINT_TO_POINTER(8000), test_all_ports_blocked);
    qtest_add_func("/splitnet-hub/peers/two-splitnets", test_two_splitnets);
    qtest_add_func("/splitnet-hub/peers/virtio-net", test_virtio_net);
    return g_test_run();
}
