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
#define VNET_DEVFN      QPCI_DEVFN(6, 0)
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

/* A frame as it must arrive, and where its payload sits in the guest. */
typedef struct Frame {
    uint8_t *bytes;
    size_t len;
    uint16_t hdr_len;
    uint64_t area;
    QSplitnetFrag frags[SPLITNET_TX_MAX_FRAGS];
    int nfrags;
} Frame;

static const uint8_t vnet_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x60 };

static void sn_mac(int i, uint8_t *mac)
{
    static const uint8_t base[6] = SPLITNET_TEST_MAC;

    memcpy(mac, base, 6);
    mac[5] += i;
}

/* Harness */

static int make_socket(bool small, int *qemu_end)
{
    struct timeval tv = { .tv_sec = 10 };
    int sv[2], sz = SMALL_SNDBUF;

    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    if (small) {
        g_assert_cmpint(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz,
                                   sizeof(sz)), ==, 0);
        g_assert_cmpint(setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &sz,
                                   sizeof(sz)), ==, 0);
    }
    /* A frame that never comes fails the test instead of hanging it. */
    g_assert_cmpint(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv,
                               sizeof(tv)), ==, 0);
    *qemu_end = sv[1];
    return sv[0];
}

/* Socket ports first: a hubport's netdev= must name an existing netdev. */
static void cmdline_socks(Hub *h, const HubOpts *o, GString *cmd,
                          int *qemu_end)
{
    int i;

    for (i = 0; i < o->nsock; i++) {
        h->sock[i] = make_socket(o->small & (1u << i), &qemu_end[i]);
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
                               PCI_SLOT(VNET_DEVFN));
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
        h->pdev[i] = qpci_device_find(h->qs->pcibus, SN_DEVFN(i));
        g_assert(h->pdev[i]);
        qsplitnet_init(&h->sn[i], h->pdev[i], &h->qs->alloc);
        qsplitnet_bringup(&h->sn[i], RING, 0);
    }
    h->nsn = o->nsn;
    return h;
}

static void vnet_stop(Hub *h)
{
}

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

static bool wait_stat(QSplitnet *d, int q, int n, uint64_t min)
{
    gint64 end = g_get_monotonic_time() + TIMEOUT_US;

    do {
        if (qsplitnet_stat(d, q, n) >= min) {
            return true;
        }
        g_usleep(100);
    } while (g_get_monotonic_time() < end);
    return false;
}

/* Frames */

static void fill_pattern(uint8_t *buf, size_t len, unsigned seed)
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
static uint8_t *make_bytes(const uint8_t *dst, const uint8_t *src,
                           size_t len, unsigned seq)
{
    uint8_t *b = g_malloc(len);

    g_assert_cmpuint(len, >=, ETH_HLEN + 4);
    fill_pattern(b, len, seq);
    memcpy(b, dst, 6);
    memcpy(b + 6, src, 6);
    b[12] = 0x88;
    b[13] = 0xb5;
    stl_be_p(b + ETH_HLEN, seq);
    return b;
}

static unsigned frame_seq(const uint8_t *buf)
{
    return ldl_be_p(buf + ETH_HLEN);
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

/*
 * Build a frame of @hdr_len head bytes and @n fragments of @lens bytes,
 * fragments in guest memory at odd offsets, 3 bytes apart.
 */
static Frame *frame_new(Hub *h, const uint8_t *dst, const uint8_t *src,
                        uint16_t hdr_len, const uint32_t *lens, int n,
                        unsigned seq)
{
    Frame *f = g_new0(Frame, 1);
    size_t off = hdr_len, cursor = 1;
    int i;

    g_assert_cmpint(n, <=, SPLITNET_TX_MAX_FRAGS);
    f->hdr_len = hdr_len;
    f->len = hdr_len;
    for (i = 0; i < n; i++) {
        f->len += lens[i];
    }
    f->bytes = make_bytes(dst, src, f->len, seq);
    f->area = guest_alloc(&h->qs->alloc, f->len + 4 * n + 8);
    for (i = 0; i < n; i++) {
        f->frags[i].addr = f->area + cursor;
        f->frags[i].len = lens[i];
        if (lens[i]) {
            qtest_memwrite(h->qts, f->frags[i].addr, f->bytes + off,
                           lens[i]);
        }
        off += lens[i];
        cursor += lens[i] + 3;
    }
    f->nfrags = n;
    return f;
}

/* A frame from splitnet @i to @dst: HDR_LEN head, @payload in @n frags. */
static Frame *sn_frame(Hub *h, int i, const uint8_t *dst, uint32_t payload,
                       int n, unsigned seq)
{
    uint32_t lens[SPLITNET_TX_MAX_FRAGS];
    uint8_t src[6];

    sn_mac(i, src);
    if (n) {
        split_payload(lens, n, payload);
    }
    return frame_new(h, dst, src, n ? HDR_LEN : payload, lens, n, seq);
}

static void frame_free(Hub *h, Frame *f)
{
    guest_free(&h->qs->alloc, f->area);
    g_free(f->bytes);
    g_free(f);
}

static void frames_free(Hub *h, Frame **f, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        frame_free(h, f[i]);
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

/* The device only reads payload: what the guest wrote is still there. */
static void frame_check_guest(Hub *h, const Frame *f)
{
    g_autofree uint8_t *buf = g_malloc(f->len);
    size_t off = f->hdr_len;
    int i;

    for (i = 0; i < f->nfrags; i++) {
        qtest_memread(h->qts, f->frags[i].addr, buf, f->frags[i].len);
        g_assert(memcmp(buf, f->bytes + off, f->frags[i].len) == 0);
        off += f->frags[i].len;
    }
}

static void sn_queue(QSplitnet *d, Frame **f, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        qsplitnet_tx_frame(d, f[i]->bytes, f[i]->hdr_len, f[i]->frags,
                           f[i]->nfrags);
    }
}

/* Queue @n frames, ring one doorbell, wait until all are completed. */
static void sn_send(QSplitnet *d, Frame **f, int n)
{
    sn_queue(d, f, n);
    qsplitnet_kick(d, &d->txq);
    g_assert(qsplitnet_wait_cons(d, TXQ, d->txq.prod));
}

/* Wire */

static size_t sock_recv(int fd, uint8_t *buf, size_t max)
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

static void expect_bytes(const char *where, const uint8_t *got,
                         size_t got_len, const Frame *f)
{
    size_t i = 0;

    g_assert_cmpuint(got_len, ==, f->len);
    if (memcmp(got, f->bytes, f->len)) {
        while (got[i] == f->bytes[i]) {
            i++;
        }
        g_test_message("%s: frame %u of %zu bytes differs from byte %zu: "
                       "got 0x%02x, want 0x%02x", where, frame_seq(f->bytes),
                       f->len, i, got[i], f->bytes[i]);
        g_assert_not_reached();
    }
}

/* The next frame on socket port @port is @f, byte for byte. */
static void sock_expect(Hub *h, int port, const Frame *f)
{
    g_autofree uint8_t *buf = g_malloc(FRAME_MAX);
    g_autofree char *where = g_strdup_printf("port s%d", port);
    size_t len = sock_recv(h->sock[port], buf, FRAME_MAX);

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
    uint8_t b;
    int i;

    qsplitnet_sync(&h->sn[0]);
    for (i = 0; i < h->nsock; i++) {
        g_assert_cmpint(recv(h->sock[i], &b, 1, MSG_DONTWAIT | MSG_PEEK),
                        ==, -1);
        g_assert_cmpint(errno, ==, EAGAIN);
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
        frame_check_guest(h, f[i]);
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
    return g_test_run();
}
