/*
 * QTest for splitnet's queue pairs and receive-side scaling (F_MQ)
 *
 * A splitnet with queues=4 on a socket netdev whose other end the test
 * holds (one backend queue, so every TX queue sends on it and every
 * frame arrives on it).  Per-queue TX and RX, the Toeplitz hashes of
 * Microsoft's RSS verification suite, the indirection table, the order
 * within a queue, and the guest errors of bad RSS registers, vectors and
 * queue numbers (read back from the -d guest_errors log).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <arpa/inet.h>
#include <poll.h>
#include "libqtest.h"
#include "libqos/splitnet.h"
#include "net/eth.h"
#include "qemu/bswap.h"
#include "qobject/qdict.h"

#define PAIRS           4
#define RING            16
#define BUF_LEN         2048
#define FRAME_PAYLOAD   32

static const uint8_t our_mac[6] = SPLITNET_TEST_MAC;
static const uint8_t peer_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

/* The key of Microsoft's "Verifying the RSS Hash Calculation". */
static const uint8_t ms_key[SPLITNET_RSS_KEY_SIZE] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
    0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0,
    0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
    0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c,
    0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* One vector: addresses, ports, and the expected hashes. */
typedef struct RssVector {
    bool ipv6;
    const char *src;
    uint16_t sport;
    const char *dst;
    uint16_t dport;
    uint32_t ip_hash;       /* addresses only */
    uint32_t l4_hash;       /* addresses and ports (TCP; UDP alike) */
} RssVector;

static const RssVector ms_vectors[] = {
    { false, "66.9.149.187", 2794, "161.142.100.80", 1766,
      0x323e8fc2, 0x51ccc178 },
    { false, "199.92.111.2", 14230, "65.69.140.83", 4739,
      0xd718262a, 0xc626b0ea },
    { false, "24.19.198.95", 12898, "12.22.207.184", 38024,
      0xd2d0a5de, 0x5c2b394a },
    { false, "38.27.205.30", 48228, "209.142.163.6", 2217,
      0x82989176, 0xafc7327f },
    { false, "153.39.163.191", 44251, "202.188.127.2", 1303,
      0x5d1809c5, 0x10e828a2 },
    { true, "3ffe:2501:200:1fff::7", 2794, "3ffe:2501:200:3::1", 1766,
      0x2cc18cd5, 0x40207d3d },
    { true, "3ffe:501:8::260:97ff:fe40:efab", 14230, "ff02::1", 4739,
      0x0f0c461c, 0xdde51bbf },
    { true, "3ffe:1900:4545:3:200:f8ff:fe21:67cf", 44251,
      "fe80::200:f8ff:fe21:67cf", 38024, 0x4b61e985, 0x02d1feef },
};

typedef struct Pair {
    QSplitnetQueue tx;
    QSplitnetQueue rx;
    uint64_t bufs;          /* RING buffers of BUF_LEN for the RX queue */
    uint32_t seen;          /* RX cons the test has looked at */
} Pair;

typedef struct Mq {
    QSplitnetTest *t;
    QSplitnet *d;
    Pair p[PAIRS];
    char *log;              /* the -d guest_errors log */
} Mq;

/* Harness */

static Mq *mq_start(const char *devopts)
{
    Mq *m = g_new0(Mq, 1);
    int qemu_end, sock = qsplitnet_socketpair(0, 0, &qemu_end);
    int fd = g_file_open_tmp("splitnet-mq-XXXXXX.log", &m->log, NULL);

    g_assert_cmpint(fd, >=, 0);
    close(fd);
    m->t = qsplitnet_test_start(sock, qemu_end,
                                "-m 128M -netdev socket,fd=%d,id=hs0 "
                                "-device splitnet,id=sn0,addr=04.0,"
                                "netdev=hs0,mac=" SPLITNET_TEST_MAC_STR
                                ",%s -d guest_errors -D %s", qemu_end,
                                devopts, m->log);
    m->d = &m->t->d;
    return m;
}

static void mq_stop(Mq *m)
{
    qsplitnet_test_stop(m->t);
    unlink(m->log);
    g_free(m->log);
    g_free(m);
}

static uint32_t rd(Mq *m, uint32_t off)
{
    return qsplitnet_readl(m->d, off);
}

static void wr(Mq *m, uint32_t off, uint32_t val)
{
    qsplitnet_writel(m->d, off, val);
}

/* How often @what appears in the guest error log so far. */
static int log_count(Mq *m, const char *what)
{
    g_autofree char *text = NULL;
    const char *p;
    int n = 0;

    qsplitnet_sync(m->d);
    g_assert(g_file_get_contents(m->log, &text, NULL, NULL));
    for (p = strstr(text, what); p; p = strstr(p + 1, what)) {
        n++;
    }
    return n;
}

/*
 * The spec's bring-up for @npairs pairs: TX queue of pair p on vector
 * 1 + 2p, RX on 2 + 2p, every RX queue filled with buffers.
 */
static void mq_bringup(Mq *m, uint64_t features, int npairs)
{
    QSplitnet *d = m->d;
    Pair *p;
    int i, j;

    qsplitnet_reset(d);
    qsplitnet_writeq(d, SPLITNET_REG_DRV_FEATURES, features);
    qsplitnet_status_setup(d);
    wr(m, SPLITNET_REG_CONFIG_VECTOR, 0);
    for (i = 0; i < npairs; i++) {
        p = &m->p[i];
        qsplitnet_queue_alloc(d, &p->tx, SPLITNET_TXQ(i), RING);
        qsplitnet_queue_program(d, &p->tx, 1 + 2 * i);
        qsplitnet_queue_enable(d, &p->tx);
        qsplitnet_queue_alloc(d, &p->rx, SPLITNET_RXQ(i), RING);
        qsplitnet_queue_program(d, &p->rx, 2 + 2 * i);
        qsplitnet_queue_enable(d, &p->rx);
        p->seen = 0;
        if (!p->bufs) {
            p->bufs = guest_alloc(d->alloc, RING * BUF_LEN);
        }
        d->rxq = p->rx;
        for (j = 0; j < RING; j++) {
            qsplitnet_rx_post(d, p->bufs + j * BUF_LEN, BUF_LEN);
        }
        qsplitnet_kick(d, &d->rxq);
        p->rx = d->rxq;
    }
    g_assert_cmphex(rd(m, SPLITNET_REG_STATUS) & SPLITNET_STATUS_ERROR, ==, 0);
    wr(m, SPLITNET_REG_CTRL, SPLITNET_CTRL_DRIVER_OK);
}

static void rss_setup(Mq *m, uint32_t types, uint32_t queues)
{
    int i;

    for (i = 0; i < SPLITNET_RSS_KEY_SIZE; i += 4) {
        wr(m, SPLITNET_REG_RSS_KEY + i, (uint32_t)ldl_le_p(ms_key + i));
    }
    for (i = 0; i < SPLITNET_RSS_INDIR_SIZE; i++) {
        wr(m, SPLITNET_REG_RSS_INDIR_ENTRY(i), i % queues);
    }
    wr(m, SPLITNET_REG_RSS_QUEUES, queues);
    wr(m, SPLITNET_REG_RSS_HASH_TYPES, types);
}

/* Frames */

/*
 * An IPv4 or IPv6 frame to our MAC with a TCP or UDP header (@proto, or
 * no L4 header at all for another value) and a payload that starts with
 * @seq.  @frag: an IPv4 fragment (more fragments).
 */
static size_t ip_frame(uint8_t *buf, const RssVector *v, uint8_t proto,
                       uint32_t seq, bool frag)
{
    size_t l3 = ETH_HLEN, l4, l4len, len;
    uint8_t *ip = buf + l3, *h;

    memset(buf, 0, 128);
    memcpy(buf, our_mac, 6);
    memcpy(buf + 6, peer_mac, 6);
    l4len = proto == IPPROTO_TCP ? 20 : proto == IPPROTO_UDP ? 8 : 0;
    if (v->ipv6) {
        stw_be_p(buf + 12, ETH_P_IPV6);
        l4 = l3 + 40;
        ip[0] = 0x60;
        stw_be_p(ip + 4, l4len + FRAME_PAYLOAD);
        ip[6] = proto;
        ip[7] = 64;
        g_assert_cmpint(inet_pton(AF_INET6, v->src, ip + 8), ==, 1);
        g_assert_cmpint(inet_pton(AF_INET6, v->dst, ip + 24), ==, 1);
    } else {
        stw_be_p(buf + 12, ETH_P_IP);
        l4 = l3 + 20;
        ip[0] = 0x45;
        stw_be_p(ip + 2, 20 + l4len + FRAME_PAYLOAD);
        stw_be_p(ip + 6, frag ? 0x2000 : 0);
        ip[8] = 64;
        ip[9] = proto;
        g_assert_cmpint(inet_pton(AF_INET, v->src, ip + 12), ==, 1);
        g_assert_cmpint(inet_pton(AF_INET, v->dst, ip + 16), ==, 1);
    }
    h = buf + l4;
    if (l4len) {
        stw_be_p(h, v->sport);
        stw_be_p(h + 2, v->dport);
    }
    if (proto == IPPROTO_TCP) {
        h[12] = 5 << 4;
        h[13] = 0x10;
    } else if (proto == IPPROTO_UDP) {
        stw_be_p(h + 4, l4len + FRAME_PAYLOAD);
    }
    len = l4 + l4len + FRAME_PAYLOAD;
    stl_be_p(buf + l4 + l4len, seq);
    return len;
}

/* A frame RSS cannot classify: ARP's EtherType. */
static size_t arp_frame(uint8_t *buf, uint32_t seq)
{
    memset(buf, 0, 64);
    memcpy(buf, our_mac, 6);
    memcpy(buf + 6, peer_mac, 6);
    stw_be_p(buf + 12, ETH_P_ARP);
    stl_be_p(buf + ETH_HLEN, seq);
    return 60;
}

/* RX */

/* Wait until an RX queue delivers a frame the test has not seen. */
static int rx_wait_any(Mq *m)
{
    gint64 end = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
    int i;

    do {
        for (i = 0; i < PAIRS; i++) {
            if (m->p[i].rx.size &&
                qsplitnet_cons(m->d, SPLITNET_RXQ(i)) != m->p[i].seen) {
                return i;
            }
        }
        g_usleep(100);
    } while (g_get_monotonic_time() < end);
    g_assert_not_reached();
}

/*
 * Take the next frame of pair @pair's RX queue (one buffer): its
 * descriptor and its bytes, checked against @want; the buffer is posted
 * again.
 */
static void rx_take(Mq *m, int pair, const uint8_t *want, size_t len,
                    struct splitnet_rx_desc *desc)
{
    QSplitnet *d = m->d;
    Pair *p = &m->p[pair];
    g_autofree uint8_t *got = g_malloc(len);

    d->rxq = p->rx;
    qsplitnet_rx_read_desc(d, p->seen++, desc);
    g_assert_cmphex(desc->flags & SPLITNET_RXD_EOP, ==, SPLITNET_RXD_EOP);
    g_assert_cmpuint(desc->len, ==, len);
    qtest_memread(m->t->qts, desc->addr, got, len);
    qsplitnet_expect_frame("rx", got, len, want, len);
    qsplitnet_rx_post(d, desc->addr, BUF_LEN);
    qsplitnet_kick(d, &d->rxq);
    p->rx = d->rxq;
}

/* Send @frame at the guest; returns the pair it landed on. */
static int rx_one(Mq *m, const uint8_t *frame, size_t len,
                  struct splitnet_rx_desc *desc)
{
    int pair;

    qsplitnet_sock_send(m->t->sock, frame, len);
    pair = rx_wait_any(m);
    rx_take(m, pair, frame, len, desc);
    return pair;
}

static uint32_t hash_type(const struct splitnet_rx_desc *desc)
{
    return (desc->flags & SPLITNET_RXD_HASH_TYPE_MASK) >>
           SPLITNET_RXD_HASH_TYPE_SHIFT;
}

/* TX */

/* Queue one frame on pair @pair's TX queue: head in the slot, payload. */
static void tx_queue(Mq *m, int pair, const uint8_t *frame, size_t len,
                     uint64_t area)
{
    QSplitnet *d = m->d;
    QSplitnetFrag frag = { .addr = area, .len = len - ETH_HLEN };

    qtest_memwrite(m->t->qts, area, frame + ETH_HLEN, len - ETH_HLEN);
    d->txq = m->p[pair].tx;
    qsplitnet_tx_frame(d, frame, ETH_HLEN, &frag, 1);
    qsplitnet_kick(d, &d->txq);
    m->p[pair].tx = d->txq;
}

/* Tests */

/* Limits, feature, RSS register reset values; one pair has no RSS. */
static void test_regs(void)
{
    Mq *m = mq_start("queues=4");
    int i;

    g_assert_cmphex(rd(m, SPLITNET_REG_VERSION), ==, 0x10003);
    g_assert_cmpuint(rd(m, SPLITNET_REG_MAX_QUEUE_PAIRS), ==, PAIRS);
    g_assert_cmpuint(rd(m, SPLITNET_REG_NUM_VECTORS), ==, 1 + 2 * PAIRS);
    g_assert_cmpuint(qpci_msix_table_size(m->t->pdev), ==, 1 + 2 * PAIRS);
    g_assert_cmphex(qsplitnet_readq(m->d, SPLITNET_REG_DEV_FEATURES) &
                    SPLITNET_F_MQ, ==, SPLITNET_F_MQ);
    g_assert_cmphex(rd(m, SPLITNET_REG_RSS_HASH_TYPES), ==, 0);
    g_assert_cmpuint(rd(m, SPLITNET_REG_RSS_QUEUES), ==, 1);
    for (i = 0; i < SPLITNET_RSS_KEY_SIZE; i += 4) {
        g_assert_cmphex(rd(m, SPLITNET_REG_RSS_KEY + i), ==, 0);
    }
    rss_setup(m, SPLITNET_RSS_HASH_ALL, PAIRS);
    for (i = 0; i < SPLITNET_RSS_KEY_SIZE; i += 4) {
        g_assert_cmphex(rd(m, SPLITNET_REG_RSS_KEY + i), ==,
                        (uint32_t)ldl_le_p(ms_key + i));
    }
    for (i = 0; i < SPLITNET_RSS_INDIR_SIZE; i++) {
        g_assert_cmpuint(rd(m, SPLITNET_REG_RSS_INDIR_ENTRY(i)), ==,
                         i % PAIRS);
    }
    g_assert_cmphex(rd(m, SPLITNET_REG_RSS_HASH_TYPES), ==,
                    SPLITNET_RSS_HASH_ALL);
    g_assert_cmpuint(rd(m, SPLITNET_REG_RSS_QUEUES), ==, PAIRS);
    /* A reset clears them. */
    qsplitnet_reset(m->d);
    g_assert_cmphex(rd(m, SPLITNET_REG_RSS_HASH_TYPES), ==, 0);
    g_assert_cmpuint(rd(m, SPLITNET_REG_RSS_QUEUES), ==, 1);
    g_assert_cmpuint(rd(m, SPLITNET_REG_RSS_INDIR_ENTRY(3)), ==, 0);
    g_assert_cmphex(rd(m, SPLITNET_REG_RSS_KEY), ==, 0);
    g_assert_cmpint(log_count(m, "splitnet_err"), ==, 0);
    mq_stop(m);

    /* One pair: the device of 1.2, where the RSS offsets are undefined. */
    m = mq_start("queues=1");
    g_assert_cmpuint(rd(m, SPLITNET_REG_MAX_QUEUE_PAIRS), ==, 1);
    g_assert_cmpuint(rd(m, SPLITNET_REG_NUM_VECTORS), ==, 3);
    g_assert_cmphex(qsplitnet_readq(m->d, SPLITNET_REG_DEV_FEATURES) &
                    SPLITNET_F_MQ, ==, 0);
    wr(m, SPLITNET_REG_RSS_QUEUES, 1);
    g_assert_cmpuint(rd(m, SPLITNET_REG_RSS_QUEUES), ==, 0);
    g_assert_cmpint(log_count(m, "splitnet_err_reg_write"), ==, 1);
    g_assert_cmpint(log_count(m, "splitnet_err_reg_read"), ==, 1);
    mq_stop(m);
}

/*
 * Frames on every TX queue reach the one backend queue in the order the
 * queues were rung, and count on their own queue.
 */
static void test_tx_per_queue(void)
{
    static const int order[] = { 3, 0, 2, 1, 1, 3, 0, 2 };
    Mq *m = mq_start("queues=4");
    uint8_t frames[ARRAY_SIZE(order)][128];
    size_t len[ARRAY_SIZE(order)];
    uint64_t area = guest_alloc(m->d->alloc, 128 * ARRAY_SIZE(order));
    QDict *stats, *q;
    int i;

    mq_bringup(m, SPLITNET_F_MQ, PAIRS);
    for (i = 0; i < ARRAY_SIZE(order); i++) {
        len[i] = ip_frame(frames[i], &ms_vectors[0], IPPROTO_UDP,
                          0x100 * order[i] + i, false);
        memcpy(frames[i], peer_mac, 6);
        memcpy(frames[i] + 6, our_mac, 6);
        tx_queue(m, order[i], frames[i], len[i], area + 128 * i);
    }
    for (i = 0; i < ARRAY_SIZE(order); i++) {
        qsplitnet_sock_expect(m->t->sock, "tx", frames[i], len[i]);
    }
    for (i = 0; i < PAIRS; i++) {
        g_assert(qsplitnet_wait_cons(m->d, SPLITNET_TXQ(i), 2));
        g_assert_cmpuint(qsplitnet_stat(m->d, SPLITNET_TXQ(i),
                                        SPLITNET_STAT_FRAMES), ==, 2);
        g_assert_cmpuint(qsplitnet_stat(m->d, SPLITNET_TXQ(i),
                                        SPLITNET_STAT_DOORBELLS), ==, 2);
    }
    stats = qtest_qmp(m->t->qts, "{'execute': 'qom-get', 'arguments': "
                      "{'path': '/machine/peripheral/sn0', "
                      "'property': 'stats'}}");
    q = qdict_get_qdict(qdict_get_qdict(stats, "return"), "tx");
    g_assert_cmpuint(qdict_get_int(q, "frames"), ==, ARRAY_SIZE(order));
    q = qdict_get_qdict(qdict_get_qdict(stats, "return"), "tx3");
    g_assert_cmpuint(qdict_get_int(q, "frames"), ==, 2);
    qobject_unref(stats);
    mq_stop(m);
}

/*
 * A peer that stops reading: the net layer holds frames of several TX
 * queues at once on the one backend queue, and hands each back to its
 * own queue when the peer drains.  Every frame arrives once, intact, and
 * each queue's frames in their ring order (the queues interleave as the
 * device resumes them).
 */
static void test_tx_shared_backpressure(void)
{
    Mq *m = g_new0(Mq, 1);
    int qemu_end, sock = qsplitnet_socketpair(4096, 0, &qemu_end);
    const int per_queue = 12, n = per_queue * PAIRS;
    g_autofree uint8_t *frames = g_malloc(n * 1514);
    uint8_t got[1514];
    int last[PAIRS] = { -1, -1, -1, -1 };
    g_autofree bool *seen = g_new0(bool, n);
    uint64_t area;
    int i, idx, stalls = 0;

    m->log = g_strdup("/dev/null");
    m->t = qsplitnet_test_start(sock, qemu_end,
                                "-m 128M -netdev socket,fd=%d,id=hs0 "
                                "-device splitnet,id=sn0,addr=04.0,"
                                "netdev=hs0,mac=" SPLITNET_TEST_MAC_STR
                                ",queues=4", qemu_end);
    m->d = &m->t->d;
    area = guest_alloc(m->d->alloc, n * 1514);
    mq_bringup(m, SPLITNET_F_MQ, PAIRS);
    for (i = 0; i < n; i++) {
        uint8_t *f = frames + i * 1514;

        memset(f, i, 1514);
        memcpy(f, peer_mac, 6);
        memcpy(f + 6, our_mac, 6);
        stw_be_p(f + 12, 0x88b5);
        stl_be_p(f + 14, i);
        tx_queue(m, i % PAIRS, f, 1514, area + i * 1514);
    }
    for (i = 0; i < PAIRS; i++) {
        stalls += qsplitnet_stat(m->d, SPLITNET_TXQ(i),
                                 SPLITNET_STAT_TX_STALLS) > 0;
    }
    g_test_message("queues stalled at once: %d", stalls);
    g_assert_cmpint(stalls, >, 1);
    for (i = 0; i < n; i++) {
        g_assert_cmpuint(qsplitnet_sock_recv(m->t->sock, got, sizeof(got)),
                         ==, 1514);
        idx = ldl_be_p(got + 14);
        g_assert_cmpint(idx, <, n);
        g_assert_false(seen[idx]);
        seen[idx] = true;
        g_assert_cmpint(idx, >, last[idx % PAIRS]);
        last[idx % PAIRS] = idx;
        qsplitnet_expect_frame("tx", got, 1514, frames + idx * 1514, 1514);
    }
    for (i = 0; i < PAIRS; i++) {
        g_assert(qsplitnet_wait_cons(m->d, SPLITNET_TXQ(i), per_queue));
        g_assert_cmpuint(qsplitnet_stat(m->d, SPLITNET_TXQ(i),
                                        SPLITNET_STAT_FRAMES), ==, per_queue);
    }
    qsplitnet_sync(m->d);
    qsplitnet_sock_expect_nothing(m->t->sock);
    qsplitnet_test_stop(m->t);
    g_free(m->log);
    g_free(m);
}

/*
 * Microsoft's RSS verification vectors, as TCP, UDP and plain IP frames:
 * the hash and its type in the first descriptor, and the RX queue that
 * entry (hash % 128) of the table names, whose MSI-X vector fires.
 */
static void test_rss_vectors(void)
{
    Mq *m = mq_start("queues=4");
    struct splitnet_rx_desc desc;
    uint8_t frame[256];
    const RssVector *v;
    size_t len;
    int i, pair, k, want;
    uint32_t hash;
    unsigned seq = 0;

    mq_bringup(m, SPLITNET_F_MQ, PAIRS);
    qsplitnet_msix_enable(m->d);
    for (k = 0; k < 3; k++) {
        /* k = 0: TCP, 1: UDP (both with ports), 2: addresses only */
        rss_setup(m, k == 2 ? SPLITNET_RSS_HASH(SPLITNET_HASH_TYPE_IPV4) |
                              SPLITNET_RSS_HASH(SPLITNET_HASH_TYPE_IPV6)
                            : SPLITNET_RSS_HASH_ALL, PAIRS);
        for (i = 0; i < ARRAY_SIZE(ms_vectors); i++) {
            v = &ms_vectors[i];
            len = ip_frame(frame, v, k == 1 ? IPPROTO_UDP : IPPROTO_TCP,
                           seq++, false);
            pair = rx_one(m, frame, len, &desc);
            hash = k == 2 ? v->ip_hash : v->l4_hash;
            want = k == 2 ? (v->ipv6 ? SPLITNET_HASH_TYPE_IPV6
                                     : SPLITNET_HASH_TYPE_IPV4)
                 : k == 1 ? (v->ipv6 ? SPLITNET_HASH_TYPE_UDPV6
                                     : SPLITNET_HASH_TYPE_UDPV4)
                          : (v->ipv6 ? SPLITNET_HASH_TYPE_TCPV6
                                     : SPLITNET_HASH_TYPE_TCPV4);
            g_test_message("%s %s:%u -> %s:%u type %u: hash 0x%08x "
                           "(expected 0x%08x), pair %d",
                           k == 1 ? "udp" : k == 0 ? "tcp" : "ip",
                           v->src, v->sport, v->dst, v->dport,
                           hash_type(&desc), desc.hash, hash, pair);
            g_assert_cmphex(desc.hash, ==, hash);
            g_assert_cmphex(desc.flags & SPLITNET_RXD_HASH, ==,
                            SPLITNET_RXD_HASH);
            g_assert_cmpuint(hash_type(&desc), ==, want);
            g_assert_cmpint(pair, ==, (hash % SPLITNET_RSS_INDIR_SIZE) %
                                      PAIRS);
            g_assert(qsplitnet_msix_test_clear(m->d, 2 + 2 * pair));
        }
    }
    for (i = 0; i < 1 + 2 * PAIRS; i++) {
        g_assert_false(qsplitnet_msix_pending(m->d, i));
    }
    mq_stop(m);
}

/*
 * The table steers as written, only to pairs below RSS_QUEUES whose RX
 * queue runs; what RSS cannot classify goes to pair 0 without a hash.
 */
static void test_rss_indir(void)
{
    Mq *m = mq_start("queues=4");
    const RssVector *v = &ms_vectors[0];
    uint32_t slot = v->l4_hash % SPLITNET_RSS_INDIR_SIZE;
    struct splitnet_rx_desc desc;
    uint8_t frame[256];
    size_t len;
    int i;

    mq_bringup(m, SPLITNET_F_MQ, PAIRS);
    rss_setup(m, SPLITNET_RSS_HASH_ALL, PAIRS);
    for (i = 0; i < SPLITNET_RSS_INDIR_SIZE; i++) {
        wr(m, SPLITNET_REG_RSS_INDIR_ENTRY(i), 2);
    }
    len = ip_frame(frame, v, IPPROTO_TCP, 1, false);
    g_assert_cmpint(rx_one(m, frame, len, &desc), ==, 2);
    wr(m, SPLITNET_REG_RSS_INDIR_ENTRY(slot), 3);
    g_assert_cmpint(rx_one(m, frame, len, &desc), ==, 3);
    wr(m, SPLITNET_REG_RSS_INDIR_ENTRY(slot), 1);
    g_assert_cmpint(rx_one(m, frame, len, &desc), ==, 1);
    /* Beyond RSS_QUEUES: pair 0, still with its hash. */
    wr(m, SPLITNET_REG_RSS_INDIR_ENTRY(slot), 3);
    wr(m, SPLITNET_REG_RSS_QUEUES, 2);
    g_assert_cmpint(rx_one(m, frame, len, &desc), ==, 0);
    g_assert_cmphex(desc.hash, ==, v->l4_hash);
    /* A pair whose RX queue is disabled: pair 0. */
    wr(m, SPLITNET_REG_RSS_QUEUES, PAIRS);
    qsplitnet_qwritel(m->d, SPLITNET_RXQ(3), SPLITNET_Q_ENABLE, 0);
    g_assert_cmpint(rx_one(m, frame, len, &desc), ==, 0);
    /* Not IP: pair 0, no hash. */
    len = arp_frame(frame, 2);
    g_assert_cmpint(rx_one(m, frame, len, &desc), ==, 0);
    g_assert_cmphex(desc.flags & (SPLITNET_RXD_HASH |
                                  SPLITNET_RXD_HASH_TYPE_MASK), ==, 0);
    g_assert_cmphex(desc.hash, ==, 0);
    /* An IPv4 fragment is hashed by its addresses only, if at all. */
    for (i = 0; i < SPLITNET_RSS_INDIR_SIZE; i++) {
        wr(m, SPLITNET_REG_RSS_INDIR_ENTRY(i), 1);
    }
    len = ip_frame(frame, v, IPPROTO_TCP, 3, true);
    g_assert_cmpint(rx_one(m, frame, len, &desc), ==, 1);
    g_assert_cmpuint(hash_type(&desc), ==, SPLITNET_HASH_TYPE_IPV4);
    g_assert_cmphex(desc.hash, ==, v->ip_hash);
    wr(m, SPLITNET_REG_RSS_HASH_TYPES,
       SPLITNET_RSS_HASH(SPLITNET_HASH_TYPE_TCPV4));
    g_assert_cmpint(rx_one(m, frame, len, &desc), ==, 0);
    g_assert_cmphex(desc.flags & SPLITNET_RXD_HASH, ==, 0);
    /* Hashing off: pair 0. */
    wr(m, SPLITNET_REG_RSS_HASH_TYPES, 0);
    len = ip_frame(frame, v, IPPROTO_TCP, 4, false);
    g_assert_cmpint(rx_one(m, frame, len, &desc), ==, 0);
    g_assert_cmphex(desc.flags & SPLITNET_RXD_HASH, ==, 0);
    g_assert_cmpint(log_count(m, "splitnet_err"), ==, 0);
    mq_stop(m);
}

/*
 * Two flows on two queues, the first queue out of buffers: its frame
 * waits, holding back the frame behind it for the other queue; buffers
 * posted on the first queue let both go, and each queue keeps the order
 * its frames came in.
 */
static void test_rx_order(void)
{
    Mq *m = mq_start("queues=4");
    const RssVector *a = &ms_vectors[0], *b = &ms_vectors[1];
    uint8_t fa[4][256], fb[4][256];
    size_t la[4], lb[4];
    struct splitnet_rx_desc desc;
    Pair *pa;
    int i, qa, qb;

    mq_bringup(m, SPLITNET_F_MQ, PAIRS);
    rss_setup(m, SPLITNET_RSS_HASH_ALL, PAIRS);
    qa = (a->l4_hash % SPLITNET_RSS_INDIR_SIZE) % PAIRS;
    qb = (b->l4_hash % SPLITNET_RSS_INDIR_SIZE) % PAIRS;
    g_assert_cmpint(qa, !=, qb);
    pa = &m->p[qa];
    for (i = 0; i < 4; i++) {
        la[i] = ip_frame(fa[i], a, IPPROTO_TCP, 10 + i, false);
        lb[i] = ip_frame(fb[i], b, IPPROTO_TCP, 20 + i, false);
    }
    /* Use up all but two of qa's buffers (no refill). */
    for (i = 0; i < RING - 2; i++) {
        qsplitnet_sock_send(m->t->sock, fa[0], la[0]);
    }
    g_assert(qsplitnet_wait_cons(m->d, SPLITNET_RXQ(qa), RING - 2));
    pa->seen = RING - 2;
    for (i = 0; i < 4; i++) {
        qsplitnet_sock_send(m->t->sock, fa[i], la[i]);
        qsplitnet_sock_send(m->t->sock, fb[i], lb[i]);
    }
    /* fa[0], fb[0], fa[1], fb[1] fit; fa[2] waits with fb[2] behind it. */
    g_assert(qsplitnet_wait_cons(m->d, SPLITNET_RXQ(qb), 2));
    g_assert(qsplitnet_wait_stat(m->d, SPLITNET_RXQ(qa),
                                 SPLITNET_STAT_RX_NO_BUFFER, 1));
    qsplitnet_sync(m->d);
    g_assert_cmpuint(qsplitnet_cons(m->d, SPLITNET_RXQ(qb)), ==, 2);
    g_assert_cmpuint(qsplitnet_cons(m->d, SPLITNET_RXQ(qa)), ==, RING);
    /* Taking a frame posts its buffer again and rings qa's doorbell. */
    for (i = 0; i < 4; i++) {
        if (i == 2) {
            g_assert(qsplitnet_wait_cons(m->d, SPLITNET_RXQ(qb), 4));
        }
        rx_take(m, qa, fa[i], la[i], &desc);
        rx_take(m, qb, fb[i], lb[i], &desc);
    }
    mq_stop(m);
}

static void device_add_fails(Mq *m, int64_t queues)
{
    QDict *rsp = qtest_qmp(m->t->qts, "{'execute': 'device_add', "
                           "'arguments': {'driver': 'splitnet', 'id': 'bad',"
                           " 'queues': %" PRId64 "}}", queues);

    g_assert(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
}

/* Bad RSS registers, vectors and queue numbers: guest errors, ignored. */
/*
 * A hostile driver: seeded random register writes (the whole BAR,
 * weighted to the queue, RSS and VLAN registers, with values that are
 * often ring sizes, vectors or guest addresses), doorbells with any
 * index, random bytes in the rings, status block and header pools, and
 * frames of random bytes from the network, with a clean bring-up now
 * and then to reach the deeper states again.  QEMU must live through it
 * (check-sanitize runs this under ASan and UBSan), and after a reset
 * the device must carry traffic again.
 */
#define STORM_STEPS     60000
#define STORM_FRAMES    200     /* all fit the socket buffer unread */

static uint32_t storm_value(GRand *r, Mq *m)
{
    static const uint32_t small[] = { 0, 1, 2, 7, 8, 16, 4096, 8192,
                                      0x7fffffff, 0x80000000, 0xffffffff };
    Pair *p = &m->p[g_rand_int_range(r, 0, PAIRS)];

    switch (g_rand_int_range(r, 0, 4)) {
    case 0:
        return small[g_rand_int_range(r, 0, ARRAY_SIZE(small))];
    case 1:
        return g_rand_int_range(r, 0, 2 * PAIRS + 2);
    case 2:
        return (uint32_t)(g_rand_boolean(r) ? p->tx.ring : p->bufs) +
               g_rand_int_range(r, -64, 4096);
    default:
        return g_rand_int(r);
    }
}

static uint32_t storm_offset(GRand *r)
{
    uint32_t q = g_rand_int_range(r, 0, 2 * PAIRS + 2);

    switch (g_rand_int_range(r, 0, 4)) {
    case 0:
        return g_rand_int_range(r, 0, 0x4000) & ~3u;
    case 1:
        return SPLITNET_QUEUE_REGS(q) + (g_rand_int_range(r, 0, 0x28) & ~3u);
    case 2:
        return SPLITNET_REG_RSS_HASH_TYPES +
               (g_rand_int_range(r, 0, 0x300) & ~3u);
    default:
        return g_rand_int_range(r, 0, 0x100) & ~3u;
    }
}

/* Random bytes somewhere in what the driver shares with the device. */
static void storm_memory(GRand *r, Mq *m)
{
    Pair *p = &m->p[g_rand_int_range(r, 0, PAIRS)];
    uint64_t areas[] = { p->tx.ring, p->rx.ring, p->tx.pool, p->bufs,
                         m->d->status };
    uint64_t sizes[] = { RING * SPLITNET_TX_DESC_SIZE,
                         RING * sizeof(struct splitnet_rx_desc),
                         RING * m->d->slot_size, RING * BUF_LEN,
                         2 * PAIRS * SPLITNET_STATUS_ENTRY_SIZE };
    int a = g_rand_int_range(r, 0, ARRAY_SIZE(areas));
    uint8_t b[16];
    int i;

    for (i = 0; i < sizeof(b); i++) {
        b[i] = g_rand_int(r);
    }
    if (areas[a]) {
        qtest_memwrite(m->t->qts, areas[a] +
                       g_rand_int_range(r, 0, sizes[a] - sizeof(b)),
                       b, sizeof(b));
    }
}

static void storm_frame(GRand *r, Mq *m)
{
    uint8_t f[128];
    int i, len = g_rand_int_range(r, 14, sizeof(f));

    for (i = 0; i < len; i++) {
        f[i] = g_rand_int(r);
    }
    memcpy(f, our_mac, 6);
    if (g_rand_boolean(r)) {
        len = ip_frame(f, &ms_vectors[g_rand_int_range(r, 0, 8)],
                       g_rand_boolean(r) ? IPPROTO_TCP : IPPROTO_UDP,
                       g_rand_int(r), false);
    }
    qsplitnet_sock_send(m->t->sock, f, len);
}

/*
 * Take every frame the device has sent so far, counting them in *n; with
 * @want, until that frame came (true) or none came for @timeout_ms.
 */
static bool storm_drain(Mq *m, uint8_t *buf, size_t max, int timeout_ms,
                        const uint8_t *want, size_t want_len, unsigned *n)
{
    struct pollfd pfd = { .fd = m->t->sock, .events = POLLIN };
    size_t len;

    while (poll(&pfd, 1, timeout_ms) == 1) {
        len = qsplitnet_sock_recv(m->t->sock, buf, max);
        (*n)++;
        if (want && len == want_len && !memcmp(buf, want, len)) {
            return true;
        }
    }
    return !want;
}

/* A frame each way: TX on pair 1, RX on any pair. */
static void storm_check_traffic(Mq *m, uint8_t *buf, size_t max)
{
    uint64_t area = guest_alloc(m->d->alloc, 128);
    uint8_t f[128];
    size_t len = ip_frame(f, &ms_vectors[0], IPPROTO_UDP, 0xc0ffee, false);
    uint64_t rx = 0;
    unsigned n = 0;
    gint64 end;
    int i;

    memcpy(f, peer_mac, 6);
    memcpy(f + 6, our_mac, 6);
    tx_queue(m, 1, f, len, area);
    g_assert(storm_drain(m, buf, max, 10000, f, len, &n));

    len = ip_frame(f, &ms_vectors[1], IPPROTO_TCP, 0xbeef, false);
    qsplitnet_sock_send(m->t->sock, f, len);
    end = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
    while (!rx && g_get_monotonic_time() < end) {
        for (i = 0; i < PAIRS; i++) {
            rx += qsplitnet_stat(m->d, SPLITNET_RXQ(i), SPLITNET_STAT_FRAMES);
        }
        g_usleep(1000);
    }
    g_assert_cmpuint(rx, >, 0);
}

/*
 * A frame the driver might send, on a random pair: a head and one or two
 * payload fragments, with random offload requests (checksum, TSO, USO,
 * VLAN) half of the time.
 */
static void storm_tx(GRand *r, Mq *m, uint64_t area)
{
    static const uint8_t flags[] = {
        0, SPLITNET_TXD_CSUM, SPLITNET_TXD_TSO,
        SPLITNET_TXD_TSO | SPLITNET_TXD_CSUM, SPLITNET_TXD_VLAN,
    };
    QSplitnet *d = m->d;
    int pair = g_rand_int_range(r, 0, PAIRS);
    uint8_t f[256];
    size_t len = ip_frame(f, &ms_vectors[g_rand_int_range(r, 0, 8)],
                          g_rand_boolean(r) ? IPPROTO_TCP : IPPROTO_UDP,
                          g_rand_int(r), false);
    uint16_t hlen = g_rand_int_range(r, 0, len + 1);
    struct splitnet_tx_desc desc = {
        .addr = area, .len = len - hlen, .hdr_len = hlen,
        .flags = SPLITNET_TXD_EOP,
    };

    memcpy(f, peer_mac, 6);
    if (g_rand_boolean(r)) {
        desc.flags |= flags[g_rand_int_range(r, 0, ARRAY_SIZE(flags))];
        desc.csum_start = g_rand_int_range(r, 0, len + 8);
        desc.csum_offset = g_rand_int_range(r, 0, 24);
        desc.gso_size = g_rand_int_range(r, 0, 2000);
        desc.gso_type = g_rand_int_range(r, 0, 5);
        desc.vlan_tci = g_rand_int(r);
    }
    qtest_memwrite(m->t->qts, area, f + hlen, len - hlen);
    d->txq = m->p[pair].tx;
    qsplitnet_tx_write_head(d, d->txq.prod, f, MIN(hlen, d->slot_size));
    qsplitnet_tx_write_desc(d, d->txq.prod++, &desc);
    qsplitnet_kick(d, &d->txq);
    m->p[pair].tx = d->txq;
}

static void test_storm(void)
{
    Mq *m = mq_start("queues=4");
    /* SPLITNET_STORM_SEED=N tries another storm. */
    const char *seed = g_getenv("SPLITNET_STORM_SEED");
    g_autoptr(GRand) r = g_rand_new_with_seed(seed ? atoi(seed) : 0x5eed);
    /* Every feature the device offers, as a driver would accept them. */
    uint64_t all = qsplitnet_readq(m->d, SPLITNET_REG_DEV_FEATURES);
    uint64_t area = guest_alloc(m->d->alloc, 256);
    size_t max = 128 * 1024;
    g_autofree uint8_t *junk = g_malloc(max);
    int i, frames = 0, q;
    unsigned sent = 0;

    for (i = 0; i < STORM_STEPS; i++) {
        if (i % 250 == 0) {
            mq_bringup(m, all, PAIRS);
            rss_setup(m, SPLITNET_RSS_HASH_ALL, PAIRS);
        }
        switch (g_rand_int_range(r, 0, 12)) {
        case 10 ... 11:
            storm_tx(r, m, area);
            break;
        case 0 ... 3:
            wr(m, storm_offset(r), storm_value(r, m));
            break;
        case 4 ... 5:
            q = g_rand_int_range(r, 0, 2 * PAIRS);
            if (g_rand_boolean(r)) {
                qsplitnet_set_prod(m->d, q, storm_value(r, m));
            }
            qsplitnet_qwritel(m->d, q, SPLITNET_Q_DOORBELL, storm_value(r, m));
            break;
        case 6 ... 7:
            storm_memory(r, m);
            break;
        case 8:
            if (frames < STORM_FRAMES) {
                storm_frame(r, m);
                frames++;
            }
            break;
        default:
            rd(m, storm_offset(r));
            break;
        }
        /* Take what the device sent, so that it is not always stalled. */
        storm_drain(m, junk, max, 0, NULL, 0, &sent);
    }
    g_test_message("storm %s: %d steps, %d frames in, %u out, %d guest "
                   "errors logged", seed ?: "default", STORM_STEPS, frames,
                   sent, log_count(m, "splitnet_err_"));

    /* After a reset the device works: a frame each way on pair 1. */
    mq_bringup(m, SPLITNET_F_MQ, PAIRS);
    storm_check_traffic(m, junk, max);
    mq_stop(m);
}

static void test_bad_inputs(void)
{
    Mq *m = mq_start("queues=4");
    uint32_t q8 = SPLITNET_QUEUE_REGS(2 * PAIRS);

    rss_setup(m, SPLITNET_RSS_HASH_ALL, 2);
    wr(m, SPLITNET_REG_RSS_QUEUES, 0);
    wr(m, SPLITNET_REG_RSS_QUEUES, PAIRS + 1);
    g_assert_cmpuint(rd(m, SPLITNET_REG_RSS_QUEUES), ==, 2);
    wr(m, SPLITNET_REG_RSS_HASH_TYPES, SPLITNET_RSS_HASH_ALL + 1);
    g_assert_cmphex(rd(m, SPLITNET_REG_RSS_HASH_TYPES), ==,
                    SPLITNET_RSS_HASH_ALL);
    wr(m, SPLITNET_REG_RSS_INDIR_ENTRY(5), PAIRS);
    wr(m, SPLITNET_REG_RSS_INDIR_ENTRY(6), 0xffffffff);
    g_assert_cmpuint(rd(m, SPLITNET_REG_RSS_INDIR_ENTRY(5)), ==, 1);
    g_assert_cmpuint(rd(m, SPLITNET_REG_RSS_INDIR_ENTRY(6)), ==, 0);
    g_assert_cmpint(log_count(m, "splitnet_err_rss"), ==, 5);
    /* 8-byte accesses are refused; 2-byte ones never reach the device. */
    qpci_io_writew(m->t->pdev, m->d->bar, SPLITNET_REG_RSS_QUEUES, 1);
    qpci_io_writeq(m->t->pdev, m->d->bar, SPLITNET_REG_RSS_KEY, ~0ull);
    g_assert_cmpuint(rd(m, SPLITNET_REG_RSS_QUEUES), ==, 2);
    g_assert_cmphex(rd(m, SPLITNET_REG_RSS_KEY), ==,
                    (uint32_t)ldl_le_p(ms_key));
    g_assert_cmpint(log_count(m, "splitnet_err_access"), ==, 1);
    /* The end of the table, and just past it, undefined. */
    wr(m, SPLITNET_REG_RSS_INDIR_ENTRY(SPLITNET_RSS_INDIR_SIZE), 1);
    g_assert_cmpint(log_count(m, "splitnet_err_reg_write"), ==, 1);

    /* Vectors the device does not have. */
    qsplitnet_qwritel(m->d, SPLITNET_TXQ(1), SPLITNET_Q_VECTOR, 1 + 2 * PAIRS);
    wr(m, SPLITNET_REG_CONFIG_VECTOR, 0x1234);
    g_assert_cmpint(log_count(m, "splitnet_err_vector"), ==, 2);
    qsplitnet_qwritel(m->d, SPLITNET_TXQ(1), SPLITNET_Q_VECTOR,
                      SPLITNET_NO_VECTOR);
    g_assert_cmpint(log_count(m, "splitnet_err_vector"), ==, 2);

    /* Queues of pairs the device does not have. */
    wr(m, q8 + SPLITNET_Q_RING_SIZE, 8);
    wr(m, q8 + SPLITNET_Q_ENABLE, 1);
    g_assert_cmpuint(rd(m, q8 + SPLITNET_Q_RING_SIZE), ==, 0);
    g_assert_cmpint(log_count(m, "splitnet_err_reg_write"), ==, 3);

    /* Pair 1 without MQ accepted: RING_CONFIG. */
    mq_bringup(m, 0, 1);
    qsplitnet_queue_alloc(m->d, &m->p[1].tx, SPLITNET_TXQ(1), RING);
    qsplitnet_queue_program(m->d, &m->p[1].tx, 3);
    qsplitnet_queue_enable(m->d, &m->p[1].tx);
    g_assert_cmpuint(rd(m, SPLITNET_REG_ERROR), ==,
                     SPLITNET_ERR_RING_CONFIG);
    g_assert_cmpuint(rd(m, SPLITNET_REG_ERROR_QUEUE), ==, SPLITNET_TXQ(1));
    g_assert_cmpint(log_count(m, "splitnet_err_ring_config"), ==, 1);

    /* With MQ every pair works. */
    mq_bringup(m, SPLITNET_F_MQ, PAIRS);
    g_assert_cmpuint(rd(m, SPLITNET_REG_ERROR), ==, 0);

    /* The property's range. */
    device_add_fails(m, 0);
    device_add_fails(m, SPLITNET_MAX_QUEUE_PAIRS + 1);
    mq_stop(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!qtest_has_device("splitnet")) {
        g_test_message("splitnet is not built in: no tests");
        return g_test_run();
    }
    qtest_add_func("/splitnet-mq/regs", test_regs);
    qtest_add_func("/splitnet-mq/tx-per-queue", test_tx_per_queue);
    qtest_add_func("/splitnet-mq/tx-shared-backpressure",
                   test_tx_shared_backpressure);
    qtest_add_func("/splitnet-mq/rss-vectors", test_rss_vectors);
    qtest_add_func("/splitnet-mq/rss-indir", test_rss_indir);
    qtest_add_func("/splitnet-mq/rx-order", test_rx_order);
    qtest_add_func("/splitnet-mq/bad-inputs", test_bad_inputs);
    qtest_add_func("/splitnet-mq/storm", test_storm);
    return g_test_run();
}
