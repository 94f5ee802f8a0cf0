/*
 * QTest testcases for the scatter-gather path of the socket backends
 *
 * The stream, dgram and socket netdevs write a frame that reaches them
 * in pieces with one writev/sendmsg (.receive_iov) instead of copying it
 * first.  splitnet makes such frames: a head copied out of its header
 * pool plus payload fragments in guest memory, so each frame here
 * arrives as four pieces.  The test's end of the connection checks every
 * byte, the stream framing (4-byte big-endian length) or one datagram
 * per frame, and the order, also after
 * the backend's socket filled up (a partial write on a stream, EAGAIN on
 * a datagram socket) and the frames waited in the net layer's queue.
 * TCP on 127.0.0.1 with small buffers makes the partial writes that a
 * unix socketpair, which takes a short frame whole or not at all, never
 * makes.  A unix socketpair does take part of a jumbo frame, always the
 * same part: the cases of a partly written frame whose sender is reset,
 * which purges the frames it left queued, use one.
 *
 * The other way, a stream netdev reads frames from its socket and hands
 * them to the NIC; frames the NIC cannot take yet (no RX buffers) wait in
 * the net layer.  It must stop reading until the NIC has taken all of
 * them, so that what the guest does not take yet stays in the socket and
 * holds the far end back, and not in QEMU's memory; and a peer that
 * closes meanwhile must not take QEMU down when the NIC takes the rest.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <sys/un.h>
#include "libqtest.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "libqos/libqos.h"
#include "libqos/libqos-pc.h"
#include "libqos/pci-pc.h"
#include "libqos/splitnet.h"

#define SN_DEVFN        QPCI_DEVFN(4, 0)
#define TXQ             SPLITNET_TXQ(0)
#define RXQ             SPLITNET_RXQ(0)
#define RX_BUF          2048
#define HDR_LEN         42
#define NFRAGS          3
#define FRAME_MAX       (10 * KiB)
/* Frames from BIG on are jumbo frames, more than a small socket takes. */
#define BIG             1000
#define BIG_MTU         9000
#define RING            256
/* Frames in flight at once: each takes NFRAGS descriptors. */
#define BURST           80
#define TIMEOUT_US      (10 * G_TIME_SPAN_SECOND)
/* start()'s connection type for a server-mode stream netdev */
#define SOCK_SERVER     (-1)
/*
 * What a stream netdev may hold of frames the NIC did not take: one read
 * of its socket (NET_BUFSIZE, 68 KiB) and a frame, with room to spare.
 */
#define RX_HELD_MAX     (128 * KiB)
/* The test end's send buffer; the kernel doubles it and counts overhead. */
#define RX_SOCK_BUF     (64 * KiB)

typedef struct Ctx {
    QOSState *qs;
    QTestState *qts;
    QPCIDevice *pdev;
    QSplitnet d;
    int sock;               /* the test's end of the socketpair */
    bool dgram;
    uint64_t area;          /* guest memory for the payload fragments */
} Ctx;

/* A socketpair of @type; QEMU's end gets a send buffer of @sndbuf. */
static int make_socketpair(int type, int sndbuf, int *qemu_end)
{
    int sv[2];

    g_assert_cmpint(socketpair(PF_UNIX, type, 0, sv), ==, 0);
    g_assert_cmpint(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf,
                               sizeof(sndbuf)), ==, 0);
    *qemu_end = sv[1];
    return sv[0];
}

/*
 * A TCP connection on 127.0.0.1 with small buffers at both ends, so that
 * a frame is often written only in part once the window closes.
 */
static int make_tcp_pair(int bufsize, int *qemu_end)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t alen = sizeof(a);
    int l, c, s;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    l = socket(AF_INET, SOCK_STREAM, 0);
    c = socket(AF_INET, SOCK_STREAM, 0);
    g_assert(l >= 0 && c >= 0);
    g_assert_cmpint(setsockopt(l, SOL_SOCKET, SO_RCVBUF, &bufsize,
                               sizeof(bufsize)), ==, 0);
    g_assert_cmpint(setsockopt(c, SOL_SOCKET, SO_SNDBUF, &bufsize,
                               sizeof(bufsize)), ==, 0);
    g_assert_cmpint(bind(l, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(listen(l, 1), ==, 0);
    g_assert_cmpint(getsockname(l, (struct sockaddr *)&a, &alen), ==, 0);
    g_assert_cmpint(connect(c, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    s = accept(l, NULL, NULL);
    g_assert(s >= 0);
    close(l);
    *qemu_end = c;
    return s;
}

/*
 * A listening unix socket for a server-mode stream netdev, and the test's
 * end, already connected: QEMU accepts it from the backlog once it runs.
 */
static int make_server_pair(int *qemu_end)
{
    struct sockaddr_un a = { .sun_family = AF_UNIX };
    g_autofree char *path = g_strdup_printf("%s/netdev-iov-%d.sock",
                                            g_get_tmp_dir(), getpid());
    int l, c;

    g_assert_cmpuint(strlen(path), <, sizeof(a.sun_path));
    strcpy(a.sun_path, path);
    unlink(path);
    l = socket(AF_UNIX, SOCK_STREAM, 0);
    c = socket(AF_UNIX, SOCK_STREAM, 0);
    g_assert(l >= 0 && c >= 0);
    g_assert_cmpint(bind(l, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    g_assert_cmpint(listen(l, 1), ==, 0);
    g_assert_cmpint(connect(c, (struct sockaddr *)&a, sizeof(a)), ==, 0);
    unlink(path);
    *qemu_end = l;
    return c;
}

/*
 * Boot with splitnet on @netdev, whose "%d" is the fd of QEMU's end of a
 * connection of @type: SOCK_STREAM or SOCK_DGRAM socketpairs,
 * IPPROTO_TCP for TCP on 127.0.0.1, or SOCK_SERVER for a unix socket
 * QEMU listens on.
 */
static Ctx *start(const char *netdev, int type)
{
    struct timeval tv = { .tv_sec = 10 };
    Ctx *c = g_new0(Ctx, 1);
    g_autofree char *nd = NULL;
    int qemu_end;

    c->sock = type == IPPROTO_TCP ? make_tcp_pair(4 * KiB, &qemu_end) :
              type == SOCK_SERVER ? make_server_pair(&qemu_end) :
              make_socketpair(type, 4 * KiB, &qemu_end);
    g_assert_cmpint(setsockopt(c->sock, SOL_SOCKET, SO_RCVTIMEO, &tv,
                               sizeof(tv)), ==, 0);
    c->dgram = type == SOCK_DGRAM;
    nd = g_strdup_printf(netdev, qemu_end);
    c->qs = qtest_pc_boot("-m 128M %s -device splitnet,addr=04.0,netdev=hs0,"
                          "mac=" SPLITNET_TEST_MAC_STR, nd);
    close(qemu_end);
    c->qts = c->qs->qts;
    c->pdev = qpci_device_find(c->qs->pcibus, SN_DEVFN);
    g_assert(c->pdev);
    qsplitnet_init(&c->d, c->pdev, &c->qs->alloc);
    qsplitnet_bringup(&c->d, RING, 0);
    c->area = guest_alloc(&c->qs->alloc, RING * FRAME_MAX);
    return c;
}

static void stop(Ctx *c)
{
    g_free(c->pdev);
    qtest_shutdown(c->qs);
    close(c->sock);
    g_free(c);
}

/* A stream client netdev connects in the main loop: wait for it. */
static void wait_connected(Ctx *c)
{
    gint64 end = g_get_monotonic_time() + TIMEOUT_US;
    char *out;
    bool ok;

    for (;;) {
        out = qtest_hmp(c->qts, "info network");
        ok = strstr(out, "type=stream,") && !strstr(out, "connecting") &&
             !strstr(out, "listening");
        g_free(out);
        if (ok || g_get_monotonic_time() >= end) {
            break;
        }
        g_usleep(1000);
    }
    g_assert(ok);
}

/* Jumbo frames grow, so that one resumed at another's offset shows. */
static size_t frame_len(unsigned seq)
{
    return seq >= BIG ? BIG_MTU - 200 + (seq - BIG) % 5 * 50 :
           100 + (seq * 331) % 1400;
}

static void frame_fill(uint8_t *b, size_t len, unsigned seq)
{
    static const uint8_t src[6] = SPLITNET_TEST_MAC;
    size_t i;

    for (i = 0; i < len; i++) {
        b[i] = seq * 13 + i * 3 + (i >> 8);
    }
    memset(b, 0xff, 6);
    memcpy(b + 6, src, 6);
    stl_be_p(b + 14, seq);
}

/*
 * Post frame @seq as a head and NFRAGS payload fragments (not adjacent in
 * guest memory, so the device cannot merge them).
 */
static void post(Ctx *c, unsigned seq)
{
    uint8_t b[FRAME_MAX];
    size_t len = frame_len(seq), off = HDR_LEN, l;
    uint64_t addr = c->area + (seq % RING) * FRAME_MAX;
    QSplitnetFrag frag[NFRAGS];
    int i;

    frame_fill(b, len, seq);
    for (i = 0; i < NFRAGS; i++) {
        l = i < NFRAGS - 1 ? (len - HDR_LEN) / NFRAGS : len - off;
        frag[i].addr = addr + i * 8 + off;
        frag[i].len = l;
        qtest_memwrite(c->qts, frag[i].addr, b + off, l);
        off += l;
    }
    qsplitnet_tx_frame(&c->d, b, HDR_LEN, frag, NFRAGS);
}

/* The next frame on the socket is frame @seq, whole and alone. */
static void expect(Ctx *c, unsigned seq)
{
    uint8_t want[FRAME_MAX], got[FRAME_MAX];
    size_t len = frame_len(seq);
    uint32_t be_len;

    frame_fill(want, len, seq);
    if (c->dgram) {
        g_assert_cmpint(recv(c->sock, got, sizeof(got), 0), ==, len);
    } else {
        g_assert_cmpint(recv(c->sock, &be_len, 4, MSG_WAITALL), ==, 4);
        g_assert_cmpuint(be32_to_cpu(be_len), ==, len);
        g_assert_cmpint(recv(c->sock, got, len, MSG_WAITALL), ==, len);
    }
    g_assert(memcmp(got, want, len) == 0);
}

static void expect_nothing(Ctx *c)
{
    uint8_t b;

    g_assert_cmpint(recv(c->sock, &b, 1, MSG_DONTWAIT), ==, -1);
    g_assert_cmpint(errno, ==, EAGAIN);
}

/* Frames one by one, each read as it is sent. */
static void run_one_by_one(Ctx *c, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        post(c, i);
        qsplitnet_kick(&c->d, &c->d.txq);
        g_assert(qsplitnet_wait_cons(&c->d, TXQ, c->d.txq.prod));
        expect(c, i);
    }
}

/* Wait until the device holds a frame that the backend did not take. */
static void wait_stall(Ctx *c)
{
    gint64 end = g_get_monotonic_time() + TIMEOUT_US;

    while (!qsplitnet_stat(&c->d, TXQ, SPLITNET_STAT_TX_STALLS) &&
           g_get_monotonic_time() < end) {
        g_usleep(1000);
    }
    g_assert_cmpuint(qsplitnet_stat(&c->d, TXQ, SPLITNET_STAT_TX_STALLS), >,
                     0);
}

/*
 * BURST frames in one doorbell, not read until the backend's socket is
 * full and the device stalled; then every frame, once, in order.
 */
static void run_backpressure(Ctx *c, unsigned first)
{
    unsigned i;

    for (i = 0; i < BURST; i++) {
        post(c, first + i);
    }
    qsplitnet_kick(&c->d, &c->d.txq);
    wait_stall(c);
    for (i = 0; i < BURST; i++) {
        expect(c, first + i);
    }
    g_assert(qsplitnet_wait_cons(&c->d, TXQ, c->d.txq.prod));
    expect_nothing(c);
}

static void check_stats(Ctx *c, uint64_t frames)
{
    g_assert_cmpuint(qsplitnet_stat(&c->d, TXQ, SPLITNET_STAT_FRAMES), ==,
                     frames);
    g_assert_cmpuint(qsplitnet_stat(&c->d, TXQ, SPLITNET_STAT_ERRORS), ==, 0);
}

static void run(const char *netdev, int type, bool stream)
{
    Ctx *c = start(netdev, type);

    if (stream) {
        wait_connected(c);
    }
    run_one_by_one(c, 20);
    run_backpressure(c, 20);
    check_stats(c, 20 + BURST);
    stop(c);
}

/* Bring the device up (again: a reset first) for jumbo frames. */
static void bringup_jumbo(Ctx *c)
{
    qsplitnet_bringup(&c->d, RING, 0);
    qsplitnet_writel(&c->d, SPLITNET_REG_MTU, BIG_MTU);
}

/* Post frames @first to @last in one doorbell. */
static void post_burst(Ctx *c, unsigned first, unsigned last)
{
    unsigned i;

    for (i = first; i <= last; i++) {
        post(c, i);
    }
    qsplitnet_kick(&c->d, &c->d.txq);
}

/*
 * The socket takes part of jumbo frame BIG and the device stalls, with
 * BIG + 1 (or BIG itself) waiting in the net layer.  The device's reset
 * purges what waits.  BIG must still arrive whole, as the backend had
 * begun it, then BIG + 2, sent after the reset: the stream stays framed.
 */
static void run_reset(const char *netdev, bool stream)
{
    Ctx *c = start(netdev, SOCK_STREAM);
    int queued;

    if (stream) {
        wait_connected(c);
    }
    bringup_jumbo(c);
    post_burst(c, BIG, BIG + 1);
    wait_stall(c);
    /* The premise: BIG is in the socket only in part. */
    g_assert_cmpint(ioctl(c->sock, FIONREAD, &queued), ==, 0);
    g_assert_cmpint(queued, >, 0);
    g_assert_cmpint(queued, <, 4 + frame_len(BIG));

    bringup_jumbo(c);
    post_burst(c, BIG + 2, BIG + 2);
    expect(c, BIG);
    expect(c, BIG + 2);
    g_assert(qsplitnet_wait_cons(&c->d, TXQ, c->d.txq.prod));
    expect_nothing(c);
    stop(c);
}

/* RX: the test is the far end of the stream and writes frames to it. */

typedef struct RxCtx {
    Ctx *c;
    uint64_t bufs;          /* RING buffers of RX_BUF, slot i for index i */
    unsigned next;          /* next frame to write */
    unsigned taken;         /* frames the guest has received */
    uint8_t pend[4 + FRAME_MAX];
    size_t pend_len, pend_off;
    uint64_t written;       /* bytes the test wrote */
    uint64_t delivered;     /* bytes of the frames the guest received */
} RxCtx;

static void rx_start(RxCtx *r, Ctx *c)
{
    int nb = 1, sndbuf = RX_SOCK_BUF;

    *r = (RxCtx) { .c = c };
    r->bufs = guest_alloc(&c->qs->alloc, RING * RX_BUF);
    g_assert_cmpint(ioctl(c->sock, FIONBIO, &nb), ==, 0);
    g_assert_cmpint(setsockopt(c->sock, SOL_SOCKET, SO_SNDBUF, &sndbuf,
                               sizeof(sndbuf)), ==, 0);
}

/* Write frames up to @last (exclusive) as far as the socket takes them. */
static void rx_write(RxCtx *r, unsigned last)
{
    ssize_t n;

    for (;;) {
        if (r->pend_off == r->pend_len) {
            if (r->next == last) {
                return;
            }
            r->pend_len = 4 + frame_len(r->next);
            stl_be_p(r->pend, r->pend_len - 4);
            frame_fill(r->pend + 4, r->pend_len - 4, r->next++);
            r->pend_off = 0;
        }
        n = send(r->c->sock, r->pend + r->pend_off, r->pend_len - r->pend_off,
                 MSG_DONTWAIT);
        if (n < 0) {
            g_assert_cmpint(errno, ==, EAGAIN);
            return;
        }
        r->pend_off += n;
        r->written += n;
    }
}

/*
 * Write frames [0, @n) in one send, which the socket takes whole (one
 * buffer of a unix socket): QEMU's next read gets them all.
 */
static void rx_write_all(RxCtx *r, unsigned n)
{
    g_autoptr(GByteArray) b = g_byte_array_new();
    uint8_t f[4 + FRAME_MAX];
    size_t len;

    for (; r->next < n; r->next++) {
        len = frame_len(r->next);
        stl_be_p(f, len);
        frame_fill(f + 4, len, r->next);
        g_byte_array_append(b, f, 4 + len);
    }
    g_assert_cmpint(send(r->c->sock, b->data, b->len, 0), ==, b->len);
    r->written += b->len;
}

/*
 * What the socket holds that QEMU has not read: memory, not bytes, for a
 * unix socket; 0 exactly when QEMU has read everything.
 */
static int rx_unread(RxCtx *r)
{
    int q;

    g_assert_cmpint(ioctl(r->c->sock, TIOCOUTQ, &q), ==, 0);
    return q;
}

/* Post @n more buffers (the ring has room) and ring the doorbell. */
static void rx_post(RxCtx *r, unsigned n)
{
    QSplitnet *d = &r->c->d;

    while (n--) {
        qsplitnet_rx_post(d, r->bufs + (d->rxq.prod % RING) * RX_BUF,
                          RX_BUF);
    }
    qsplitnet_kick(d, &d->rxq);
    qsplitnet_sync(d);
}

/* Check the frames the device delivered since the last call. */
static void rx_check(RxCtx *r)
{
    QSplitnet *d = &r->c->d;
    uint32_t cons = qsplitnet_cons(d, RXQ);
    struct splitnet_rx_desc desc;
    uint8_t want[FRAME_MAX], got[FRAME_MAX];
    size_t len;

    for (; r->taken != cons; r->taken++) {
        len = frame_len(r->taken);
        qsplitnet_rx_read_desc(d, r->taken, &desc);
        g_assert_cmpuint(desc.len, ==, len);
        g_assert_cmphex(desc.flags & SPLITNET_RXD_EOP, ==, SPLITNET_RXD_EOP);
        qtest_memread(r->c->qts, r->bufs + (r->taken % RING) * RX_BUF, got,
                      len);
        frame_fill(want, len, r->taken);
        g_assert(memcmp(got, want, len) == 0);
        r->delivered += 4 + len;
    }
}

/*
 * The guest takes @n frames one buffer at a time, slower than the test
 * writes, which it does as fast as the socket takes them: what was
 * written and not received is in the socket (its buffer) or in QEMU (a
 * read's worth at most).  Then the guest takes the rest of @total a ring
 * at a time: every frame once, in order.
 */
static void run_rx_slow_guest(Ctx *c, unsigned n, unsigned total)
{
    RxCtx r;

    rx_start(&r, c);
    while (r.taken < total) {
        rx_write(&r, total);
        qsplitnet_sync(&c->d);
        g_assert_cmpuint(r.written - r.delivered, <=,
                         2 * RX_SOCK_BUF + RX_HELD_MAX);
        rx_post(&r, r.taken < n ? 1 : RING - (c->d.rxq.prod - r.taken));
        rx_check(&r);
    }
    g_assert_cmpuint(r.written, ==, r.delivered);
    g_assert_cmpint(rx_unread(&r), ==, 0);
}

/*
 * The peer writes frames the guest has no buffers for yet, then closes.
 * The guest then takes them one by one; the end of the connection comes
 * after the last one (a stream netdev says so: @event), and QEMU
 * survives it.
 */
static void run_rx_peer_closes(Ctx *c, unsigned n, const char *event)
{
    gint64 end = g_get_monotonic_time() + TIMEOUT_US;
    RxCtx r;

    rx_start(&r, c);
    rx_write_all(&r, n);
    g_assert_cmpint(shutdown(c->sock, SHUT_WR), ==, 0);
    while (rx_unread(&r) && g_get_monotonic_time() < end) {
        qsplitnet_sync(&c->d);
    }
    g_assert_cmpint(rx_unread(&r), ==, 0);
    while (r.taken < n) {
        rx_post(&r, 1);
        qsplitnet_sync(&c->d);
        rx_check(&r);
    }
    if (event) {
        qtest_qmp_eventwait(c->qts, event);
    }
    qsplitnet_sync(&c->d);
    g_assert_cmpuint(qsplitnet_stat(&c->d, RXQ, SPLITNET_STAT_FRAMES), ==, n);
}

#define STREAM_FD "-netdev stream,id=hs0,server=off,addr.type=fd,addr.str=%d"

/* A guest slower than the peer: QEMU holds a bounded part of the frames. */
static void test_stream_rx_slow(void)
{
    Ctx *c = start(STREAM_FD, SOCK_STREAM);

    wait_connected(c);
    run_rx_slow_guest(c, 64, BIG - 100);
    stop(c);
}

/* The peer closes while frames it sent wait for RX buffers. */
static void test_stream_rx_close(void)
{
    Ctx *c = start(STREAM_FD, SOCK_STREAM);

    wait_connected(c);
    run_rx_peer_closes(c, 8, "NETDEV_STREAM_DISCONNECTED");
    stop(c);
}

static void test_socket_rx_slow(void)
{
    Ctx *c = start("-netdev socket,id=hs0,fd=%d", SOCK_STREAM);

    run_rx_slow_guest(c, 64, BIG - 100);
    stop(c);
}

static void test_socket_rx_close(void)
{
    Ctx *c = start("-netdev socket,id=hs0,fd=%d", SOCK_STREAM);

    run_rx_peer_closes(c, 8, NULL);
    stop(c);
}

static void test_stream(void)
{
    run(STREAM_FD, SOCK_STREAM, true);
}

/* Partial writes: what was written stays written, the rest follows. */
static void test_stream_tcp(void)
{
    run(STREAM_FD, IPPROTO_TCP, true);
}

static void test_socket_tcp(void)
{
    run("-netdev socket,id=hs0,fd=%d", IPPROTO_TCP, false);
}

/*
 * QEMU accepted the connection: its end must not block either.  More
 * jumbo frames than the socket buffers hold, then every one in order.
 */
static void test_stream_server(void)
{
    Ctx *c = start("-netdev stream,id=hs0,server=on,addr.type=fd,"
                   "addr.str=%d", SOCK_SERVER);
    unsigned i, n = RING / NFRAGS;

    wait_connected(c);
    bringup_jumbo(c);
    post_burst(c, BIG, BIG + n - 1);
    wait_stall(c);
    for (i = 0; i < n; i++) {
        expect(c, BIG + i);
    }
    g_assert(qsplitnet_wait_cons(&c->d, TXQ, c->d.txq.prod));
    expect_nothing(c);
    check_stats(c, n);
    stop(c);
}

static void test_stream_reset(void)
{
    run_reset(STREAM_FD, true);
}

static void test_socket_reset(void)
{
    run_reset("-netdev socket,id=hs0,fd=%d", false);
}

static void test_dgram(void)
{
    run("-netdev dgram,id=hs0,local.type=fd,local.str=%d", SOCK_DGRAM, false);
}

static void test_socket_dgram(void)
{
    run("-netdev socket,id=hs0,fd=%d", SOCK_DGRAM, false);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/netdev/iov/stream", test_stream);
    qtest_add_func("/netdev/iov/stream-tcp", test_stream_tcp);
    qtest_add_func("/netdev/iov/socket-tcp", test_socket_tcp);
    qtest_add_func("/netdev/iov/stream-server", test_stream_server);
    qtest_add_func("/netdev/iov/stream-reset", test_stream_reset);
    qtest_add_func("/netdev/iov/stream-rx-slow", test_stream_rx_slow);
    qtest_add_func("/netdev/iov/stream-rx-close", test_stream_rx_close);
    qtest_add_func("/netdev/iov/socket-reset", test_socket_reset);
    qtest_add_func("/netdev/iov/socket-rx-slow", test_socket_rx_slow);
    qtest_add_func("/netdev/iov/socket-rx-close", test_socket_rx_close);
    qtest_add_func("/netdev/iov/dgram", test_dgram);
    qtest_add_func("/netdev/iov/socket-dgram", test_socket_dgram);
    return g_test_run();
}
