/*
 * QTest testcases for splitnet's offloads: checksum (TXD_CSUM), TCP and
 * UDP segmentation (TXD_TSO, GSO_TCPV4 / GSO_TCPV6 / GSO_UDP_L4), VLAN
 * tag insertion, stripping and filtering (TXD_VLAN, RXD_VLAN)
 *
 * Each case boots a machine with the device on a socket netdev (the test
 * end of a socketpair; every frame arrives as a 4-byte big-endian length
 * and the frame), posts frames through the libqos driver and compares
 * what arrives byte for byte with what this file computes on its own:
 * segmentation, IP and TCP header rewrites, and checksums, with its own
 * ones' complement sum.  Malformed requests must be dropped as guest
 * errors without the device writing the pool slot or the payload.  The
 * rx/ case sends frames the other way, to see which received checksums
 * the device vouches for (CSUM_OK) against this file's own sums.
 *
 * The vnet/ cases put the device on a tap with a virtio-net header, in a
 * network namespace this process makes (they skip without the privilege),
 * and read what it sends through a packet socket on the tap, which shows
 * each frame whole with the kernel's virtio-net header: TSO and checksum
 * requests must reach the host kernel unsegmented, with the header and
 * head rewrites the spec lists, byte for byte.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/socket.h>
#ifdef CONFIG_LINUX
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#endif
#include "libqtest.h"
#include "qemu/cutils.h"
#include "qemu/bswap.h"
#include "qemu/units.h"
#include "qobject/qdict.h"
#include "libqos/libqos.h"
#include "libqos/libqos-pc.h"
#include "libqos/pci-pc.h"
#include "libqos/splitnet.h"
#include "standard-headers/linux/virtio_net.h"

#define DEVFN           QPCI_DEVFN(4, 0)
#define TXQ             SPLITNET_TXQ(0)
#define WIRE_MAX        (16 * KiB)
#define ALL_OFFLOADS    (SPLITNET_F_TX_CSUM | SPLITNET_F_TSO4 | \
                         SPLITNET_F_TSO6)
#define UDP_PROTO       17
#define TCP_PROTO       6

#define TCP_FIN         0x01
#define TCP_PSH         0x08
#define TCP_ACK         0x10
#define TCP_ECE         0x40
#define TCP_CWR         0x80

static const uint8_t dst_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };
static const uint8_t src_mac[6] = SPLITNET_TEST_MAC;

typedef struct Ctx {
    QOSState *qs;
    QTestState *qts;
    QPCIDevice *pdev;
    QSplitnet d;
    int sock;
} Ctx;

/* Harness */

/* Boot with the device on @netdev (id hs0); @extra: more command line. */
static Ctx *boot_on(const char *netdev, const char *extra)
{
    Ctx *c = g_new0(Ctx, 1);

    c->sock = -1;
    c->qs = qtest_pc_boot("-m 128M -netdev %s,id=hs0 "
                          "-device splitnet,id=sn0,addr=04.0,netdev=hs0,"
                          "mac=" SPLITNET_TEST_MAC_STR " %s", netdev,
                          extra ? extra : "");
    c->qts = c->qs->qts;
    c->pdev = qpci_device_find(c->qs->pcibus, DEVFN);
    g_assert(c->pdev);
    qsplitnet_init(&c->d, c->pdev, &c->qs->alloc);
    return c;
}

/* Boot with the device on a socket netdev; @extra: more command line. */
static Ctx *boot(int sndbuf, const char *extra)
{
    struct timeval tv = { .tv_sec = 10 };
    g_autofree char *netdev = NULL;
    int sv[2];
    Ctx *c;

    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    if (sndbuf) {
        g_assert_cmpint(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf,
                                   sizeof(sndbuf)), ==, 0);
    }
    g_assert_cmpint(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv,
                               sizeof(tv)), ==, 0);
    netdev = g_strdup_printf("socket,fd=%d", sv[1]);
    c = boot_on(netdev, extra);
    close(sv[1]);
    c->sock = sv[0];
    return c;
}

/* Boot and bring up with rings of @ring and these features (INTx). */
static Ctx *start(int sndbuf, uint32_t ring, uint64_t features)
{
    Ctx *c = boot(sndbuf, NULL);

    qsplitnet_bringup(&c->d, ring, features);
    g_assert_cmphex(qsplitnet_readq(&c->d, SPLITNET_REG_DRV_FEATURES), ==,
                    features);
    return c;
}

static void stop(Ctx *c)
{
    g_free(c->pdev);
    qtest_shutdown(c->qs);
    if (c->sock >= 0) {
        close(c->sock);
    }
    g_free(c);
}

static uint64_t txstat(Ctx *c, int n)
{
    return qsplitnet_stat(&c->d, TXQ, n);
}

static size_t recv_frame(Ctx *c, uint8_t *buf)
{
    uint32_t be_len;
    size_t len;

    g_assert_cmpint(recv(c->sock, &be_len, 4, MSG_WAITALL), ==, 4);
    len = ntohl(be_len);
    g_assert_cmpuint(len, <=, WIRE_MAX);
    g_assert_cmpint(recv(c->sock, buf, len, MSG_WAITALL), ==, len);
    return len;
}

static void expect_nothing(Ctx *c)
{
    uint8_t b;

    qsplitnet_sync(&c->d);
    g_assert_cmpint(recv(c->sock, &b, 1, MSG_DONTWAIT | MSG_PEEK), ==, -1);
    g_assert_cmpint(errno, ==, EAGAIN);
}

/* The test's own checksum: RFC 1071, big-endian 16-bit words. */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        sum += (p[i] << 8) | p[i + 1];
    }
    if (i < len) {
        sum += p[i] << 8;
    }
    return sum;
}

static uint16_t fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return sum;
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static uint16_t get16(const uint8_t *p)
{
    return (p[0] << 8) | p[1];
}

static uint32_t get32(const uint8_t *p)
{
    return ((uint32_t)get16(p) << 16) | get16(p + 2);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v);
}

/* A TCP or UDP frame: Ethernet [+ 802.1Q], IPv4 or IPv6, L4, payload. */
typedef struct Pkt {
    bool v6;
    bool vlan;
    uint16_t tci;           /* with vlan; 0: 0x0123 */
    bool udp;
    unsigned ip_opts;       /* IPv4 option bytes, a multiple of 4 */
    unsigned tcp_opts;      /* TCP option bytes, a multiple of 4 */
    uint8_t tcp_flags;
    unsigned payload;
    unsigned seed;

    /* Derived */
    uint8_t *bytes;
    size_t len;
    unsigned l3, l4, hdr_len;
} Pkt;

static unsigned pkt_l3(Pkt *p, uint8_t *b)
{
    memcpy(b, dst_mac, 6);
    memcpy(b + 6, src_mac, 6);
    if (p->vlan) {
        put16(b + 12, 0x8100);
        put16(b + 14, p->tci ? p->tci : 0x0123);
        put16(b + 16, p->v6 ? 0x86dd : 0x0800);
        return 18;
    }
    put16(b + 12, p->v6 ? 0x86dd : 0x0800);
    return 14;
}

static void pkt_ip(Pkt *p, uint8_t *ip)
{
    unsigned i;

    if (p->v6) {
        ip[0] = 0x60;
        ip[1] = 0x0a;
        put16(ip + 4, p->len - p->l4);
        ip[6] = p->udp ? UDP_PROTO : TCP_PROTO;
        ip[7] = 64;
        for (i = 0; i < 32; i++) {
            ip[8 + i] = 0xfd - i * 3;
        }
        return;
    }
    ip[0] = 0x40 | ((20 + p->ip_opts) / 4);
    ip[1] = 0x02;   /* ECT(0) */
    put16(ip + 2, p->len - p->l3);
    put16(ip + 4, 0xfffe);  /* id: wraps inside a TSO frame */
    put16(ip + 6, 0x4000);  /* DF */
    ip[8] = 64;
    ip[9] = p->udp ? UDP_PROTO : TCP_PROTO;
    put32(ip + 12, 0x0a000202);
    put32(ip + 16, 0x0a00020f);
    for (i = 0; i < p->ip_opts; i++) {
        ip[20 + i] = 1;     /* NOP */
    }
    put16(ip + 10, ~fold(sum16(0, ip, 20 + p->ip_opts)));
}

static uint32_t pseudo_sum(const Pkt *p, const uint8_t *ip, unsigned l4len)
{
    unsigned proto = p->udp ? UDP_PROTO : TCP_PROTO;

    if (p->v6) {
        return sum16(0, ip + 8, 32) + proto + l4len;
    }
    return sum16(0, ip + 12, 8) + proto + l4len;
}

/* UDP: ports, the length of the whole datagram, no checksum yet. */
static void pkt_udp(Pkt *p, uint8_t *udp)
{
    put16(udp, 40000);
    put16(udp + 2, 4433);
    put16(udp + 4, p->len - p->l4);
}

static Pkt *pkt_build(Pkt *p)
{
    uint8_t *b, *tcp;
    unsigned i;

    p->hdr_len = 0;
    b = p->bytes = g_malloc0(256 + p->payload);
    p->l3 = pkt_l3(p, b);
    p->l4 = p->l3 + (p->v6 ? 40 : 20 + p->ip_opts);
    p->hdr_len = p->l4 + (p->udp ? 8 : 20 + p->tcp_opts);
    p->len = p->hdr_len + p->payload;
    pkt_ip(p, b + p->l3);
    tcp = b + p->l4;
    if (p->udp) {
        pkt_udp(p, tcp);
    }
    put16(tcp, 40000);
    put16(tcp + 2, 5001);
    if (!p->udp) {
        put32(tcp + 4, 0xfffff000 + p->seed);   /* seq wraps too */
        put32(tcp + 8, 0x12345678);
        tcp[12] = ((20 + p->tcp_opts) / 4) << 4;
        tcp[13] = p->tcp_flags;
        put16(tcp + 14, 501);
        for (i = 0; i < p->tcp_opts; i++) {
            tcp[20 + i] = i < 2 ? 1 : i;    /* NOP NOP, then bytes */
        }
    }
    for (i = 0; i < p->payload; i++) {
        b[p->hdr_len + i] = p->seed * 31 + i * 7 + (i >> 9);
    }
    /* As Linux leaves it for the device: the pseudo-header sum. */
    put16(tcp + (p->udp ? 6 : 16),
          fold(pseudo_sum(p, b + p->l3, p->len - p->l4)));
    return p;
}

/* Guest memory of one posted frame, to check it was left untouched. */
typedef struct Posted {
    uint64_t area;
    QSplitnetFrag frags[SPLITNET_TX_MAX_FRAGS];
    int nfrags;
    uint32_t slot_idx;
    uint8_t head[SPLITNET_TX_SLOT_MAX];
    uint16_t hdr_len;
    uint8_t *payload;       /* a copy of what the fragments hold */
} Posted;

/*
 * Post @p with this first descriptor (hdr_len, flags and offload fields
 * taken from @d0); the payload is cut at @cuts (bytes per fragment, 0
 * terminated, the rest in a last fragment), at odd guest addresses.
 */
static void post(Ctx *c, Posted *po, const Pkt *p, uint16_t hdr_len,
                 const struct splitnet_tx_desc *d0, const uint32_t *cuts)
{
    uint32_t left = p->len - hdr_len, cursor = 1;
    struct splitnet_tx_desc d;
    int i;

    memset(po, 0, sizeof(*po));
    po->area = guest_alloc(&c->qs->alloc, p->len + 4 * SPLITNET_TX_MAX_FRAGS);
    po->payload = g_memdup2(p->bytes + hdr_len, p->len - hdr_len + 1);
    po->hdr_len = hdr_len;
    po->slot_idx = c->d.txq.prod;
    memcpy(po->head, p->bytes, hdr_len);
    qsplitnet_tx_write_head(&c->d, c->d.txq.prod, p->bytes, hdr_len);
    for (i = 0; left || !i; i++) {
        uint32_t l = cuts && cuts[i] ? MIN(cuts[i], left) : left;

        po->frags[i] = (QSplitnetFrag) { po->area + cursor, l };
        qtest_memwrite(c->qts, po->frags[i].addr,
                       p->bytes + p->len - left, l);
        cursor += l + 3;
        left -= l;
    }
    po->nfrags = i;
    for (i = 0; i < po->nfrags; i++) {
        d = i ? (struct splitnet_tx_desc) { 0 } : *d0;
        d.addr = po->frags[i].addr;
        d.len = po->frags[i].len;
        d.hdr_len = i ? 0 : hdr_len;
        d.flags = (i ? 0 : d0->flags) |
                  (i == po->nfrags - 1 ? SPLITNET_TXD_EOP : 0);
        qsplitnet_tx_write_desc(&c->d, c->d.txq.prod++, &d);
    }
}

/* The device wrote neither the pool slot nor the payload. */
static void check_untouched(Ctx *c, Posted *po)
{
    uint8_t *buf = g_malloc(64 * KiB);
    uint32_t off = 0;
    int i;

    qtest_memread(c->qts, c->d.txq.pool + (po->slot_idx &
                  (c->d.txq.size - 1)) * c->d.slot_size, buf, po->hdr_len);
    g_assert(memcmp(buf, po->head, po->hdr_len) == 0);
    for (i = 0; i < po->nfrags; i++) {
        qtest_memread(c->qts, po->frags[i].addr, buf, po->frags[i].len);
        g_assert(memcmp(buf, po->payload + off, po->frags[i].len) == 0);
        off += po->frags[i].len;
    }
    guest_free(&c->qs->alloc, po->area);
    g_free(po->payload);
    g_free(buf);
}

static void send_and_wait(Ctx *c)
{
    qsplitnet_kick(&c->d, &c->d.txq);
    g_assert(qsplitnet_wait_cons(&c->d, TXQ, c->d.txq.prod));
}

/* Verify, independently of the expected bytes, that checksums hold. */
static void verify_csums(const Pkt *p, const uint8_t *f, size_t len)
{
    const uint8_t *ip = f + p->l3;

    if (!p->v6) {
        g_assert_cmphex(fold(sum16(0, ip, p->l4 - p->l3)), ==, 0xffff);
    }
    g_assert_cmphex(fold(pseudo_sum(p, ip, len - p->l4) +
                         sum16(0, f + p->l4, len - p->l4)), ==, 0xffff);
    if (p->udp) {
        g_assert_cmpuint(get16(f + p->l4 + 4), ==, len - p->l4);
    }
}

/* UDP length and checksum of a segment; a sum of 0 goes as 0xffff. */
static void segment_udp(const Pkt *p, uint8_t *s, size_t len)
{
    uint8_t *udp = s + p->l4;
    uint16_t v;

    put16(udp + 4, len - p->l4);
    put16(udp + 6, 0);
    v = ~fold(pseudo_sum(p, s + p->l3, len - p->l4) +
              sum16(0, udp, len - p->l4));
    put16(udp + 6, v ? v : 0xffff);
}

/*
 * Segment @p as a TSO4/TSO6/USO device must, into @out (one frame of the
 * wire after another); returns the number of segments.
 */
static unsigned segment(const Pkt *p, unsigned mss, uint8_t **out,
                        size_t *lens)
{
    unsigned nsegs = DIV_ROUND_UP(p->payload, mss), i;

    for (i = 0; i < nsegs; i++) {
        unsigned n = MIN(mss, p->payload - i * mss);
        uint8_t *s = out[i] = g_malloc(p->hdr_len + n);
        uint8_t *ip = s + p->l3, *tcp = s + p->l4;
        uint8_t flags = p->tcp_flags;

        memcpy(s, p->bytes, p->hdr_len);
        memcpy(s + p->hdr_len, p->bytes + p->hdr_len + i * mss, n);
        lens[i] = p->hdr_len + n;
        if (p->v6) {
            put16(ip + 4, lens[i] - p->l4);
        } else {
            put16(ip + 2, lens[i] - p->l3);
            put16(ip + 4, get16(p->bytes + p->l3 + 4) + i);
            put16(ip + 10, 0);
            put16(ip + 10, ~fold(sum16(0, ip, p->l4 - p->l3)));
        }
        if (p->udp) {
            segment_udp(p, s, lens[i]);
            continue;
        }
        put32(tcp + 4, get32(p->bytes + p->l4 + 4) + i * mss);
        if (i) {
            flags &= ~TCP_CWR;
        }
        if (i != nsegs - 1) {
            flags &= ~(TCP_FIN | TCP_PSH);
        }
        tcp[13] = flags;
        put16(tcp + 16, 0);
        put16(tcp + 16, ~fold(pseudo_sum(p, ip, lens[i] - p->l4) +
                              sum16(0, tcp, lens[i] - p->l4)));
    }
    return nsegs;
}

static void expect_frame(Ctx *c, const uint8_t *want, size_t want_len,
                         uint8_t *buf, unsigned i)
{
    size_t len = recv_frame(c, buf), k = 0;

    g_assert_cmpuint(len, ==, want_len);
    if (memcmp(buf, want, len)) {
        while (buf[k] == want[k]) {
            k++;
        }
        g_test_message("segment %u of %zu bytes differs at byte %zu: got "
                       "0x%02x, want 0x%02x", i, len, k, buf[k], want[k]);
        g_assert_not_reached();
    }
}

static struct splitnet_tx_desc tso_desc(const Pkt *p, unsigned mss)
{
    return (struct splitnet_tx_desc) {
        .flags = SPLITNET_TXD_TSO,
        .gso_size = mss,
        .gso_type = p->udp ? SPLITNET_GSO_UDP_L4 :
                    p->v6 ? SPLITNET_GSO_TCPV6 : SPLITNET_GSO_TCPV4,
    };
}

/* Send @p as one TSO frame; expect the independently cut segments. */
static unsigned tso_check(Ctx *c, Pkt *p, unsigned mss, const uint32_t *cuts)
{
    struct splitnet_tx_desc d = tso_desc(p, mss);
    uint8_t **segs = g_new0(uint8_t *, SPLITNET_TSO_MAX_SEGS);
    size_t *lens = g_new0(size_t, SPLITNET_TSO_MAX_SEGS);
    uint8_t *buf = g_malloc(WIRE_MAX);
    uint64_t errors = txstat(c, SPLITNET_STAT_ERRORS);
    unsigned n, i;
    Posted po;

    pkt_build(p);
    n = segment(p, mss, segs, lens);
    post(c, &po, p, p->hdr_len, &d, cuts);
    send_and_wait(c);
    for (i = 0; i < n; i++) {
        expect_frame(c, segs[i], lens[i], buf, i);
        verify_csums(p, buf, lens[i]);
        g_free(segs[i]);
    }
    expect_nothing(c);
    check_untouched(c, &po);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_ERRORS), ==, errors);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_PAYLOAD_COPY), ==, 0);
    g_free(p->bytes);
    g_free(segs);
    g_free(lens);
    g_free(buf);
    return n;
}

/* TSO cases */

static void test_tso4_basic(void)
{
    Ctx *c = start(0, 64, ALL_OFFLOADS);
    Pkt p = { .payload = 10 * 1448, .tcp_flags = TCP_ACK, .seed = 1 };

    g_assert_cmpuint(tso_check(c, &p, 1448, NULL), ==, 10);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_TSO), ==, 1);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_TSO_SEGS), ==, 10);
    stop(c);
}

static void test_tso6_basic(void)
{
    Ctx *c = start(0, 64, ALL_OFFLOADS);
    Pkt p = { .v6 = true, .payload = 7 * 1428, .tcp_flags = TCP_ACK,
              .seed = 2 };

    g_assert_cmpuint(tso_check(c, &p, 1428, NULL), ==, 7);
    stop(c);
}

/* IP and TCP options; a short last segment; PSH and FIN on it only. */
static void test_tso4_options(void)
{
    static const uint32_t cuts[] = { 3, 1000, 1, 5000, 17, 0 };
    Ctx *c = start(0, 64, ALL_OFFLOADS);
    Pkt p = { .ip_opts = 8, .tcp_opts = 12, .payload = 9000 + 123,
              .tcp_flags = TCP_ACK | TCP_PSH | TCP_FIN, .seed = 3 };

    g_assert_cmpuint(tso_check(c, &p, 1400, cuts), ==, 7);
    p = (Pkt) { .ip_opts = 40, .tcp_opts = 32, .payload = 3001,
                .tcp_flags = TCP_ACK | TCP_PSH, .seed = 4 };
    g_assert_cmpuint(tso_check(c, &p, 1000, cuts), ==, 4);
    stop(c);
}

static void test_tso6_options(void)
{
    static const uint32_t cuts[] = { 7, 2000, 2, 0 };
    Ctx *c = start(0, 64, ALL_OFFLOADS);
    Pkt p = { .v6 = true, .tcp_opts = 32, .payload = 5 * 1200 + 1,
              .tcp_flags = TCP_ACK | TCP_PSH | TCP_FIN, .seed = 5 };

    g_assert_cmpuint(tso_check(c, &p, 1200, cuts), ==, 6);
    stop(c);
}

/* ECN: CWR only on the first segment, ECE on all; with an 802.1Q tag. */
static void test_tso_ecn(void)
{
    Ctx *c = start(0, 64, ALL_OFFLOADS);
    Pkt p = { .payload = 4000, .tcp_flags = TCP_ACK | TCP_CWR | TCP_ECE |
              TCP_PSH, .seed = 6 };

    g_assert_cmpuint(tso_check(c, &p, 1448, NULL), ==, 3);
    p = (Pkt) { .v6 = true, .vlan = true, .payload = 4000,
                .tcp_flags = TCP_ACK | TCP_CWR | TCP_ECE, .seed = 7 };
    g_assert_cmpuint(tso_check(c, &p, 1400, NULL), ==, 3);
    stop(c);
}

/* One segment only (payload <= gso_size) keeps every flag. */
static void test_tso_one_segment(void)
{
    Ctx *c = start(0, 64, ALL_OFFLOADS);
    Pkt p = { .payload = 1000, .tcp_flags = TCP_ACK | TCP_CWR | TCP_FIN,
              .seed = 8 };

    g_assert_cmpuint(tso_check(c, &p, 1448, NULL), ==, 1);
    stop(c);
}

/*
 * The acceptance figure: one 64 KiB TSO send.  Head bytes are copied once
 * from the pool, the payload is referenced once, nothing is copied, even
 * fragments shorter than tx-copybreak.
 */
static void test_tso_64k_counters(void)
{
    static const uint32_t cuts[] = { 30, 4096, 5, 16384, 16384, 16384, 0 };
    Ctx *c = start(0, 64, ALL_OFFLOADS);
    Pkt p = { .tcp_opts = 12, .payload = 65536 - 66,
              .tcp_flags = TCP_ACK | TCP_PSH, .seed = 9 };
    unsigned n = tso_check(c, &p, 1448, cuts);

    g_test_message("64 KiB TSO send: %u segments, frames %" PRIu64
                   ", bytes %" PRIu64 ", head copied %" PRIu64
                   ", payload referenced %" PRIu64 ", payload copied %"
                   PRIu64, n, txstat(c, SPLITNET_STAT_FRAMES),
                   txstat(c, SPLITNET_STAT_BYTES),
                   txstat(c, SPLITNET_STAT_TX_HEAD_BYTES),
                   txstat(c, SPLITNET_STAT_TX_PAYLOAD_REF),
                   txstat(c, SPLITNET_STAT_TX_PAYLOAD_COPY));
    g_assert_cmpuint(n, ==, 46);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_TSO), ==, 1);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_TSO_SEGS), ==, 46);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_FRAMES), ==, 46);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_BYTES), ==, 46 * 66 + 65470);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_HEAD_BYTES), ==, 66);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_PAYLOAD_REF), ==, 65470);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_PAYLOAD_COPY), ==, 0);
    stop(c);
}

/*
 * Backpressure in the middle of a frame: the net layer queues the rest
 * in order, and the frame completes only when every segment is out.
 */
static void test_tso_backpressure(void)
{
    Ctx *c = start(4096, 64, ALL_OFFLOADS);
    struct splitnet_tx_desc d;
    uint8_t *segs[2][SPLITNET_TSO_MAX_SEGS];
    size_t lens[2][SPLITNET_TSO_MAX_SEGS];
    uint8_t *buf = g_malloc(WIRE_MAX);
    Pkt p[2] = {
        { .payload = 40000, .tcp_flags = TCP_ACK, .seed = 10 },
        { .v6 = true, .payload = 30000, .tcp_flags = TCP_ACK, .seed = 11 },
    };
    unsigned n[2], i, k;
    Posted po[2];

    for (k = 0; k < 2; k++) {
        pkt_build(&p[k]);
        n[k] = segment(&p[k], 1400, segs[k], lens[k]);
        d = tso_desc(&p[k], 1400);
        post(c, &po[k], &p[k], p[k].hdr_len, &d, NULL);
    }
    qsplitnet_kick(&c->d, &c->d.txq);
    qsplitnet_sync(&c->d);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_STALLS), >=, 1);
    g_assert_cmpuint(qsplitnet_cons(&c->d, TXQ), ==, 0);
    for (k = 0; k < 2; k++) {
        for (i = 0; i < n[k]; i++) {
            expect_frame(c, segs[k][i], lens[k][i], buf, i);
            g_free(segs[k][i]);
        }
    }
    g_assert(qsplitnet_wait_cons(&c->d, TXQ, c->d.txq.prod));
    expect_nothing(c);
    for (k = 0; k < 2; k++) {
        check_untouched(c, &po[k]);
        g_free(p[k].bytes);
    }
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_TSO_SEGS), ==, n[0] + n[1]);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_ERRORS), ==, 0);
    g_free(buf);
    stop(c);
}

/*
 * The VM stops while the net layer holds part of a TSO frame: the held
 * segments are purged, the frame stays ahead of cons and is sent again
 * whole when the VM runs (segments sent before the stop are seen twice).
 */
static void test_tso_stop_purge(void)
{
    Ctx *c = start(4096, 64, ALL_OFFLOADS);
    uint8_t *segs[2][SPLITNET_TSO_MAX_SEGS], **got;
    size_t lens[2][SPLITNET_TSO_MAX_SEGS], *glen;
    Pkt p[2] = {
        { .payload = 40000, .tcp_flags = TCP_ACK, .seed = 12 },
        { .payload = 3000, .tcp_flags = TCP_ACK | TCP_PSH, .seed = 13 },
    };
    struct splitnet_tx_desc d;
    unsigned n[2], k, i, ngot = 0, pre;
    Posted po[2];

    for (k = 0; k < 2; k++) {
        pkt_build(&p[k]);
        n[k] = segment(&p[k], 1448, segs[k], lens[k]);
        d = tso_desc(&p[k], 1448);
        post(c, &po[k], &p[k], p[k].hdr_len, &d, NULL);
    }
    qsplitnet_kick(&c->d, &c->d.txq);
    qsplitnet_sync(&c->d);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_STALLS), >=, 1);
    qtest_qmp_assert_success(c->qts, "{'execute': 'stop'}");
    g_assert_cmpuint(qsplitnet_cons(&c->d, TXQ), ==, 0);
    qtest_qmp_assert_success(c->qts, "{'execute': 'cont'}");

    /* Read everything: a prefix of frame 0, frame 0 again, frame 1. */
    got = g_new0(uint8_t *, 3 * SPLITNET_TSO_MAX_SEGS);
    glen = g_new0(size_t, 3 * SPLITNET_TSO_MAX_SEGS);
    for (;;) {
        g_assert_cmpuint(ngot, <, 2 * n[0] + n[1]);
        got[ngot] = g_malloc(WIRE_MAX);
        glen[ngot] = recv_frame(c, got[ngot]);
        ngot++;
        if (ngot >= n[0] + n[1] && glen[ngot - 1] == lens[1][n[1] - 1] &&
            !memcmp(got[ngot - 1], segs[1][n[1] - 1], glen[ngot - 1])) {
            break;
        }
    }
    g_assert(qsplitnet_wait_cons(&c->d, TXQ, c->d.txq.prod));
    expect_nothing(c);
    pre = ngot - n[0] - n[1];
    g_test_message("%u of %u segments went out before the stop", pre, n[0]);
    g_assert_cmpuint(pre, >=, 1);
    g_assert_cmpuint(pre, <, n[0]);
    for (i = 0; i < ngot; i++) {
        unsigned f = i < pre + n[0] ? 0 : 1;
        unsigned j = i < pre ? i : f ? i - pre - n[0] : i - pre;

        g_assert_cmpuint(glen[i], ==, lens[f][j]);
        g_assert(!memcmp(got[i], segs[f][j], glen[i]));
        g_free(got[i]);
    }
    for (k = 0; k < 2; k++) {
        for (i = 0; i < n[k]; i++) {
            g_free(segs[k][i]);
        }
        check_untouched(c, &po[k]);
        g_free(p[k].bytes);
    }
    g_free(got);
    g_free(glen);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_ERRORS), ==, 0);
    stop(c);
}

/* Checksum cases */

/*
 * TXD_CSUM: the sum from csum_start to the end, complemented, at
 * csum_start + csum_offset; computed here over the whole frame.
 */
static void csum_expect(uint8_t *f, size_t len, unsigned start, unsigned off)
{
    uint16_t v = ~fold(sum16(0, f + start, len - start));

    put16(f + start + off, v ? v : 0xffff);
}

static void csum_check(Ctx *c, Pkt *p, uint16_t hdr_len, unsigned start,
                       unsigned off, const uint32_t *cuts)
{
    struct splitnet_tx_desc d = {
        .flags = SPLITNET_TXD_CSUM,
        .csum_start = start,
        .csum_offset = off,
    };
    uint8_t *want = g_memdup2(p->bytes, p->len);
    uint8_t *buf = g_malloc(WIRE_MAX);
    Posted po;

    csum_expect(want, p->len, start, off);
    post(c, &po, p, hdr_len, &d, cuts);
    send_and_wait(c);
    expect_frame(c, want, p->len, buf, 0);
    expect_nothing(c);
    check_untouched(c, &po);
    g_free(want);
    g_free(buf);
}

static void test_csum_tcp(void)
{
    static const uint32_t cuts[] = { 1, 333, 0 };
    Ctx *c = start(0, 64, SPLITNET_F_TX_CSUM);
    Pkt p = { .payload = 1400, .tcp_flags = TCP_ACK, .seed = 20 };

    pkt_build(&p);
    csum_check(c, &p, p.hdr_len, p.l4, 16, cuts);
    /* An odd payload length, IPv6, and the check verified on its own. */
    g_free(p.bytes);
    p = (Pkt) { .v6 = true, .tcp_opts = 12, .payload = 999, .seed = 21 };
    pkt_build(&p);
    csum_check(c, &p, p.hdr_len, p.l4, 16, cuts);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_CSUM), ==, 2);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_ERRORS), ==, 0);
    g_free(p.bytes);
    stop(c);
}

/* Whole frame in the head; a head that ends at an odd offset. */
static void test_csum_head_layouts(void)
{
    Ctx *c = start(0, 64, SPLITNET_F_TX_CSUM);
    Pkt p = { .payload = 40, .tcp_flags = TCP_ACK, .seed = 22 };

    pkt_build(&p);
    csum_check(c, &p, p.len, p.l4, 16, NULL);
    csum_check(c, &p, p.hdr_len + 7, p.l4, 16, NULL);
    /* Generic: any 16-bit field, from an odd start. */
    csum_check(c, &p, p.hdr_len, 15, 10, NULL);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_CSUM), ==, 3);
    g_free(p.bytes);
    stop(c);
}

/* Malformed requests: dropped, counted, nothing written, queue goes on. */

typedef struct Bad {
    const char *what;
    bool v6;
    uint16_t flags;
    uint8_t gso_type;       /* 0: as the frame, 0xff: 0 */
    uint16_t gso_size;
    bool gso_set;           /* gso_size as given, else 1448 */
    bool no_payload;
    int hdr_delta;          /* hdr_len = headers + hdr_delta */
    int csum_start;         /* -1: L4 offset */
    uint16_t csum_offset;
    unsigned payload;
    unsigned patch_off;     /* from L3, 0: none */
    uint8_t patch_val;
    uint8_t patch_mask;     /* bits replaced */
} Bad;

static const Bad bad_cases[] = {
    { "gso_size 0", .flags = SPLITNET_TXD_TSO, .gso_set = true },
    { "gso_size 1", .flags = SPLITNET_TXD_TSO, .gso_size = 1,
      .gso_set = true },
    { "gso_size below minimum", .flags = SPLITNET_TXD_TSO, .gso_size = 63,
      .gso_set = true },
    { "gso_size beyond MTU", .flags = SPLITNET_TXD_TSO, .gso_size = 1453,
      .gso_set = true },
    { "too many segments", .flags = SPLITNET_TXD_TSO, .gso_size = 64,
      .gso_set = true, .payload = 64 * (SPLITNET_TSO_MAX_SEGS + 1) },
    { "TSO frame beyond 64 KiB", .flags = SPLITNET_TXD_TSO,
      .gso_size = 1448, .payload = 65536 },
    { "gso_type unknown", .flags = SPLITNET_TXD_TSO, .gso_type = 3 },
    { "gso_type none", .flags = SPLITNET_TXD_TSO, .gso_type = 0xff },
    { "gso_type TCPV6 on IPv4", .flags = SPLITNET_TXD_TSO, .gso_type = 2 },
    { "gso_type TCPV4 on IPv6", .v6 = true, .flags = SPLITNET_TXD_TSO,
      .gso_type = 1 },
    { "hdr_len beyond TCP header", .flags = SPLITNET_TXD_TSO, .hdr_delta = 4 },
    { "hdr_len short of TCP header", .flags = SPLITNET_TXD_TSO,
      .hdr_delta = -4 },
    { "hdr_len is the whole frame", .flags = SPLITNET_TXD_TSO,
      .no_payload = true },
    { "IPv4 ihl 4", .flags = SPLITNET_TXD_TSO, .patch_off = 0,
      .patch_val = 0x44, .patch_mask = 0xff },
    { "IPv4 ihl beyond head", .flags = SPLITNET_TXD_TSO, .patch_off = 0,
      .patch_val = 0x4f, .patch_mask = 0xff },
    { "IPv4 version 6", .flags = SPLITNET_TXD_TSO, .patch_off = 0,
      .patch_val = 0x65, .patch_mask = 0xff },
    { "IPv4 not TCP", .flags = SPLITNET_TXD_TSO, .patch_off = 9,
      .patch_val = 17, .patch_mask = 0xff },
    { "IPv4 fragment", .flags = SPLITNET_TXD_TSO, .patch_off = 6,
      .patch_val = 0x20, .patch_mask = 0x20 },
    { "IPv6 next header not TCP", .v6 = true, .flags = SPLITNET_TXD_TSO,
      .patch_off = 6, .patch_val = 0, .patch_mask = 0xff },
    { "TCP doff 4", .flags = SPLITNET_TXD_TSO, .patch_off = 32,
      .patch_val = 0x40, .patch_mask = 0xf0 },
    { "TCP doff beyond head", .flags = SPLITNET_TXD_TSO, .patch_off = 32,
      .patch_val = 0xf0, .patch_mask = 0xf0 },
    { "csum_start outside head", .flags = SPLITNET_TXD_CSUM,
      .csum_start = 200, .csum_offset = 0 },
    { "csum_offset outside head", .flags = SPLITNET_TXD_CSUM,
      .csum_offset = 40 },
    { "csum field across head end", .flags = SPLITNET_TXD_CSUM,
      .csum_offset = 31 },
    { "csum_offset 0xffff", .flags = SPLITNET_TXD_CSUM,
      .csum_start = 0xffff, .csum_offset = 0xffff },
    { "csum with no head", .flags = SPLITNET_TXD_CSUM, .hdr_delta = -1000 },
    { "CSUM frame beyond MTU", .flags = SPLITNET_TXD_CSUM, .payload = 1461 },
};

static void bad_post(Ctx *c, const Bad *b, Posted *po)
{
    /* Within the MTU for CSUM, so only the checksum rule can fail. */
    unsigned dflt = b->flags & SPLITNET_TXD_TSO ? 3000 : 1000;
    Pkt p = { .v6 = b->v6, .payload = b->payload ? b->payload : dflt,
              .tcp_opts = 12, .tcp_flags = TCP_ACK, .seed = 30 };
    struct splitnet_tx_desc d = {
        .flags = b->flags,
        .gso_size = b->gso_set ? b->gso_size : 1400,
        .csum_offset = b->csum_offset,
    };
    int hdr_len;

    if (b->no_payload) {
        p.payload = 0;
    }
    pkt_build(&p);
    d.gso_type = b->gso_type == 0xff ? 0 :
                 b->gso_type ? b->gso_type :
                 p.v6 ? SPLITNET_GSO_TCPV6 : SPLITNET_GSO_TCPV4;
    if (b->patch_mask) {
        uint8_t *at = p.bytes + p.l3 + b->patch_off;

        *at = (*at & ~b->patch_mask) | b->patch_val;
    }
    d.csum_start = b->csum_start ? b->csum_start : p.l4;
    hdr_len = MAX((int)p.hdr_len + b->hdr_delta, 0);
    post(c, po, &p, hdr_len, &d, NULL);
    g_free(p.bytes);
}

static void test_bad_requests(void)
{
    Ctx *c = start(0, 64, ALL_OFFLOADS);
    uint64_t errors = 0;
    Posted po;
    int i;

    for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
        g_test_message("malformed: %s", bad_cases[i].what);
        bad_post(c, &bad_cases[i], &po);
        send_and_wait(c);
        g_assert_cmpuint(txstat(c, SPLITNET_STAT_ERRORS), ==, ++errors);
        expect_nothing(c);
        check_untouched(c, &po);
    }
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_FRAMES), ==, 0);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_TSO), ==, 0);
    g_assert_cmphex(qsplitnet_readl(&c->d, SPLITNET_REG_STATUS) &
                    SPLITNET_STATUS_ERROR, ==, 0);
    /* The queue still works. */
    {
        Pkt p = { .payload = 3000, .tcp_flags = TCP_ACK, .seed = 31 };

        g_assert_cmpuint(tso_check(c, &p, 1448, NULL), ==, 3);
    }
    stop(c);
}

/* Offload flags the driver did not negotiate are guest errors. */
static void test_not_negotiated(void)
{
    static const uint64_t feats[] = {
        0, SPLITNET_F_TX_CSUM, SPLITNET_F_TSO4, SPLITNET_F_TSO6,
    };
    int i, k;

    for (i = 0; i < ARRAY_SIZE(feats); i++) {
        Ctx *c = start(0, 64, feats[i]);
        uint64_t errors = 0;

        for (k = 0; k < 3; k++) {
            Pkt p = { .v6 = k == 2, .payload = 3000, .tcp_flags = TCP_ACK,
                      .seed = 40 + k };
            struct splitnet_tx_desc d = k ? tso_desc(&p, 1400) :
                (struct splitnet_tx_desc) { .flags = SPLITNET_TXD_CSUM,
                                            .csum_offset = 16 };
            uint64_t need = k == 0 ? SPLITNET_F_TX_CSUM :
                            k == 1 ? SPLITNET_F_TSO4 : SPLITNET_F_TSO6;
            uint8_t *buf = g_malloc(WIRE_MAX);
            Posted po;
            unsigned j;

            if (!k) {
                p.payload = 1000;
            }
            pkt_build(&p);
            d.csum_start = p.l4;
            post(c, &po, &p, p.hdr_len, &d, NULL);
            send_and_wait(c);
            if (feats[i] & need) {
                for (j = 0; j < (k ? 3 : 1); j++) {
                    recv_frame(c, buf);
                }
            } else {
                errors++;
            }
            g_assert_cmpuint(txstat(c, SPLITNET_STAT_ERRORS), ==, errors);
            expect_nothing(c);
            check_untouched(c, &po);
            g_free(p.bytes);
            g_free(buf);
        }
        stop(c);
    }
}

/* Receive checksum verification (backends without a virtio-net header) */

/* Hand @len bytes of @f to the device through the socket netdev. */
static void wire_send(Ctx *c, const uint8_t *f, size_t len)
{
    uint32_t be_len = htonl(len);

    g_assert_cmpint(send(c->sock, &be_len, 4, 0), ==, 4);
    g_assert_cmpint(send(c->sock, f, len, 0), ==, len);
}

/*
 * Post one buffer, deliver @f through the socket and return the flags of
 * the descriptor the device wrote; the bytes must arrive as sent.
 */
static uint16_t rx_flags(Ctx *c, const uint8_t *f, size_t len)
{
    uint64_t area = guest_alloc(&c->qs->alloc, 2048);
    uint32_t idx = c->d.rxq.prod;
    struct splitnet_rx_desc rd;
    uint8_t got[2048];

    qsplitnet_rx_post(&c->d, area, 2048);
    qsplitnet_kick(&c->d, &c->d.rxq);
    wire_send(c, f, len);
    g_assert(qsplitnet_wait_cons(&c->d, SPLITNET_RXQ(0), idx + 1));
    qsplitnet_rx_read_desc(&c->d, idx, &rd);
    g_assert_cmpuint(rd.len, ==, len);
    qtest_memread(c->qts, area, got, len);
    g_assert(!memcmp(got, f, len));
    guest_free(&c->qs->alloc, area);
    return rd.flags;
}

/* A TCP frame to the device with its checksum complete, as on a wire. */
static uint8_t *rx_tcp(Pkt *p)
{
    pkt_build(p);
    memcpy(p->bytes, src_mac, 6);
    /* The field holds the pseudo-header sum, which completes it. */
    csum_expect(p->bytes, p->len, p->l4, 16);
    return p->bytes;
}

/*
 * The TCP frame turned into UDP (its bytes after the 8-byte UDP header
 * are payload), with the UDP checksum @csum_ok or 0 (none).
 */
static uint8_t *rx_udp(Pkt *p, bool csum_ok)
{
    uint8_t *b = rx_tcp(p), *ip = b + p->l3, *udp = b + p->l4;
    unsigned ulen = p->len - p->l4;
    uint32_t ps;

    if (p->v6) {
        ip[6] = 17;
        ps = sum16(0, ip + 8, 32);
    } else {
        ip[9] = 17;
        put16(ip + 10, 0);
        put16(ip + 10, ~fold(sum16(0, ip, 20 + p->ip_opts)));
        ps = sum16(0, ip + 12, 8);
    }
    put16(udp + 4, ulen);
    put16(udp + 6, 0);
    if (csum_ok) {
        uint16_t v = ~fold(sum16(ps + 17 + ulen, udp, ulen));

        put16(udp + 6, v ? v : 0xffff);
    }
    return b;
}

/*
 * With RX_CSUM accepted, the device marks CSUM_OK exactly the TCP and UDP
 * frames whose checksum it verified (computed here independently); a
 * wrong one, UDP without a checksum, fragments, IP options, and lengths
 * that disagree with the frame are left to the guest.  Without RX_CSUM
 * nothing is marked.
 */
static void test_rx_csum_verify(void)
{
    const uint16_t ok = SPLITNET_RXD_EOP | SPLITNET_RXD_CSUM_OK;
    const uint16_t plain = SPLITNET_RXD_EOP;
    uint64_t marked = 0;
    Ctx *c = start(0, 64, SPLITNET_F_RX_CSUM);
    Pkt p;
    uint8_t *f;

    p = (Pkt) { .payload = 1400, .tcp_flags = TCP_ACK, .seed = 80 };
    f = rx_tcp(&p);
    g_assert_cmphex(rx_flags(c, f, p.len), ==, ok);
    marked++;
    /* One payload bit flipped. */
    f[p.len - 1] ^= 0x10;
    g_assert_cmphex(rx_flags(c, f, p.len), ==, plain);
    g_free(f);

    /* IPv6 with TCP options and an odd length; a VLAN tag. */
    p = (Pkt) { .v6 = true, .tcp_opts = 12, .payload = 999, .seed = 81 };
    f = rx_tcp(&p);
    g_assert_cmphex(rx_flags(c, f, p.len), ==, ok);
    marked++;
    g_free(f);
    p = (Pkt) { .vlan = true, .payload = 700, .seed = 82 };
    f = rx_tcp(&p);
    g_assert_cmphex(rx_flags(c, f, p.len), ==, ok);
    marked++;
    g_free(f);

    /* A bare ACK with Ethernet padding after the IP datagram. */
    p = (Pkt) { .payload = 0, .tcp_flags = TCP_ACK, .seed = 83 };
    f = rx_tcp(&p);
    memset(f + p.len, 0xa5, 6);
    g_assert_cmphex(rx_flags(c, f, p.len + 6), ==, ok);
    marked++;
    /* IP total length beyond the frame. */
    put16(f + p.l3 + 2, p.len - p.l3 + 7);
    put16(f + p.l3 + 10, 0);
    put16(f + p.l3 + 10, ~fold(sum16(0, f + p.l3, 20)));
    g_assert_cmphex(rx_flags(c, f, p.len), ==, plain);
    g_free(f);

    /* UDP over IPv4 and IPv6; UDP without a checksum. */
    p = (Pkt) { .payload = 500, .seed = 84 };
    f = rx_udp(&p, true);
    g_assert_cmphex(rx_flags(c, f, p.len), ==, ok);
    marked++;
    g_free(f);
    p = (Pkt) { .v6 = true, .payload = 333, .seed = 85 };
    f = rx_udp(&p, true);
    g_assert_cmphex(rx_flags(c, f, p.len), ==, ok);
    marked++;
    g_free(f);
    p = (Pkt) { .payload = 500, .seed = 86 };
    f = rx_udp(&p, false);
    g_assert_cmphex(rx_flags(c, f, p.len), ==, plain);
    g_free(f);

    /* A first fragment (MF), right checksum and all; IP options. */
    p = (Pkt) { .payload = 600, .seed = 87 };
    f = rx_tcp(&p);
    put16(f + p.l3 + 6, 0x2000);
    put16(f + p.l3 + 10, 0);
    put16(f + p.l3 + 10, ~fold(sum16(0, f + p.l3, 20)));
    g_assert_cmphex(rx_flags(c, f, p.len), ==, plain);
    g_free(f);
    p = (Pkt) { .ip_opts = 8, .payload = 600, .seed = 88 };
    f = rx_tcp(&p);
    g_assert_cmphex(rx_flags(c, f, p.len), ==, plain);
    g_free(f);

    g_assert_cmpuint(qsplitnet_stat(&c->d, SPLITNET_RXQ(0),
                                    SPLITNET_STAT_RX_CSUM), ==, marked);
    stop(c);

    c = start(0, 64, 0);
    p = (Pkt) { .payload = 1400, .tcp_flags = TCP_ACK, .seed = 89 };
    f = rx_tcp(&p);
    g_assert_cmphex(rx_flags(c, f, p.len), ==, plain);
    g_assert_cmpuint(qsplitnet_stat(&c->d, SPLITNET_RXQ(0),
                                    SPLITNET_STAT_RX_CSUM), ==, 0);
    g_free(f);
    stop(c);
}

/* The new counters are in the QOM "stats" property. */
static void test_qom_stats(void)
{
    Ctx *c = start(0, 64, ALL_OFFLOADS);
    Pkt p = { .payload = 3000, .tcp_flags = TCP_ACK, .seed = 50 };
    QDict *rsp, *ret, *tx;

    tso_check(c, &p, 1448, NULL);
    rsp = qtest_qmp(c->qts, "{'execute': 'qom-get', 'arguments':"
                    " {'path': '/machine/peripheral/sn0',"
                    " 'property': 'stats'}}");
    ret = qdict_get_qdict(rsp, "return");
    g_assert(ret);
    tx = qdict_get_qdict(ret, "tx0");
    g_assert(tx);
    g_assert_cmpint(qdict_get_int(tx, "tso-frames"), ==, 1);
    g_assert_cmpint(qdict_get_int(tx, "tso-segments"), ==, 3);
    g_assert_cmpint(qdict_get_int(tx, "csum-frames"), ==, 0);
    g_assert_cmpint(qdict_get_int(tx, "payload-copy-bytes"), ==, 0);
    qobject_unref(rsp);
    stop(c);
}

/* Migrate @src to a new machine, which goes on with @src's driver state. */
static Ctx *migrate_ctx(Ctx *src)
{
    g_autofree char *sockpath = g_strdup_printf("%s/splitnet-offl-%d.sock",
                                                g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("unix:%s", sockpath);
    g_autofree char *incoming = g_strdup_printf(
        "-incoming %s -global migration.announce-rounds=0", uri);
    Ctx *dst = boot(0, incoming);

    migrate(src->qs, dst->qs, uri);
    unlink(sockpath);
    dst->d = src->d;
    dst->d.pdev = dst->pdev;
    dst->d.alloc = &dst->qs->alloc;
    return dst;
}

/*
 * Migration keeps the negotiated offloads and the offload counters (a
 * subsection), and the destination segments as the source did.
 */
static void test_migration(void)
{
    Ctx *src = start(0, 64, ALL_OFFLOADS), *dst;
    Pkt p = { .payload = 3000, .tcp_flags = TCP_ACK, .seed = 60 };
    Pkt q = { .payload = 1000, .tcp_flags = TCP_ACK, .seed = 61 };

    g_assert_cmpuint(tso_check(src, &p, 1448, NULL), ==, 3);
    pkt_build(&q);
    csum_check(src, &q, q.hdr_len, q.l4, 16, NULL);
    g_free(q.bytes);

    dst = migrate_ctx(src);
    g_assert_cmphex(qsplitnet_readq(&dst->d, SPLITNET_REG_DRV_FEATURES), ==,
                    ALL_OFFLOADS);
    g_assert_cmpuint(txstat(dst, SPLITNET_STAT_TX_TSO), ==, 1);
    g_assert_cmpuint(txstat(dst, SPLITNET_STAT_TX_TSO_SEGS), ==, 3);
    g_assert_cmpuint(txstat(dst, SPLITNET_STAT_TX_CSUM), ==, 1);
    g_assert_cmpuint(txstat(dst, SPLITNET_STAT_FRAMES), ==, 4);

    p = (Pkt) { .v6 = true, .payload = 5000, .tcp_flags = TCP_ACK | TCP_FIN,
                .seed = 62 };
    g_assert_cmpuint(tso_check(dst, &p, 1400, NULL), ==, 4);
    g_assert_cmpuint(txstat(dst, SPLITNET_STAT_TX_TSO_SEGS), ==, 7);
    stop(src);
    stop(dst);
}

/*
 * What the guest accepted must be offered on the destination: one started
 * with @prop=off (as a device without @feature) refuses the stream.
 */
static void migration_refused(const char *prop, uint64_t feature)
{
    g_autofree char *sockpath = g_strdup_printf("%s/splitnet-offr-%d.sock",
                                                g_get_tmp_dir(), getpid());
    g_autofree char *uri = g_strdup_printf("unix:%s", sockpath);
    g_autofree char *incoming = g_strdup_printf(
        "-global splitnet.%s=off -incoming %s", prop, uri);
    uint64_t all = ALL_OFFLOADS | SPLITNET_F_USO | SPLITNET_F_VLAN;
    Ctx *src = start(0, 64, all), *dst = boot(0, incoming);
    QDict *rsp;

    g_assert_cmphex(qsplitnet_readq(&dst->d, SPLITNET_REG_DEV_FEATURES) &
                    all, ==, all & ~feature);
    qtest_set_expected_status(dst->qts, EXIT_FAILURE);
    rsp = qtest_qmp(src->qts, "{ 'execute': 'migrate',"
                    " 'arguments': { 'uri': %s }}", uri);
    g_assert(qdict_haskey(rsp, "return"));
    qobject_unref(rsp);
    /* The destination fails to load the device and exits. */
    while (qtest_probe_child(dst->qts)) {
        g_usleep(10 * 1000);
    }
    unlink(sockpath);
    stop(src);
    stop(dst);
}

/* tso=off, uso=off, vlan=off */
static void test_migration_refused(void)
{
    migration_refused("tso", SPLITNET_F_TSO4 | SPLITNET_F_TSO6);
    migration_refused("uso", SPLITNET_F_USO);
    migration_refused("vlan", SPLITNET_F_VLAN);
}

/* UDP segmentation cases (1.3) */

#define USO_OFFLOADS    (SPLITNET_F_TX_CSUM | SPLITNET_F_USO)

/* IPv4 and IPv6, short last segment, odd fragment cuts; nothing copied. */
static void test_uso(void)
{
    static const uint32_t cuts[] = { 5, 1000, 1, 3000, 0 };
    Ctx *c = start(0, 64, USO_OFFLOADS);
    Pkt p = { .udp = true, .payload = 5 * 1200 + 333, .seed = 80 };

    g_assert_cmpuint(tso_check(c, &p, 1200, cuts), ==, 6);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_USO), ==, 1);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_FRAMES), ==, 6);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_HEAD_BYTES), ==, 42);
    p = (Pkt) { .udp = true, .v6 = true, .payload = 3 * 1400 + 1,
                .seed = 81 };
    g_assert_cmpuint(tso_check(c, &p, 1400, NULL), ==, 4);
    p = (Pkt) { .udp = true, .ip_opts = 8, .vlan = true, .payload = 64 * 40,
                .seed = 82 };
    g_assert_cmpuint(tso_check(c, &p, 64, cuts), ==, 40);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_USO), ==, 3);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_TSO), ==, 0);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_TSO_SEGS), ==, 0);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_FRAMES), ==, 6 + 4 + 40);
    stop(c);
}

/* A malformed USO request: what to change in a good one. */
typedef struct BadUso {
    const char *what;
    bool v6;
    uint16_t gso_size;
    int hdr_delta;          /* hdr_len = headers + hdr_delta */
    bool no_payload;
    uint8_t gso_type;       /* 0: GSO_UDP_L4 */
    unsigned patch_off;     /* from L3, with patch_val; 0: none */
    uint8_t patch_val;
    unsigned payload;
} BadUso;

static const BadUso bad_uso[] = {
    { "gso_size 0", .gso_size = 0 },
    { "gso_size 1", .gso_size = 1 },
    { "gso_size below minimum", .gso_size = 63 },
    { "gso_size beyond MTU", .gso_size = 1477 },
    { "too many segments", .gso_size = 64,
      .payload = 64 * (SPLITNET_TSO_MAX_SEGS + 1) },
    { "hdr_len beyond the UDP header", .gso_size = 1400, .hdr_delta = 4 },
    { "hdr_len short of the UDP header", .gso_size = 1400, .hdr_delta = -2 },
    { "hdr_len is the whole frame", .gso_size = 1400, .no_payload = true },
    { "IPv4 protocol TCP", .gso_size = 1400, .patch_off = 9,
      .patch_val = TCP_PROTO },
    { "IPv6 next header TCP", .v6 = true, .gso_size = 1400, .patch_off = 6,
      .patch_val = TCP_PROTO },
    { "GSO_TCPV4 on UDP", .gso_size = 1400, .gso_type = SPLITNET_GSO_TCPV4 },
};

static void test_uso_bad(void)
{
    Ctx *c = start(0, 64, ALL_OFFLOADS | SPLITNET_F_USO);
    uint64_t errors = 0;
    Posted po;
    int i;

    for (i = 0; i < ARRAY_SIZE(bad_uso); i++) {
        const BadUso *b = &bad_uso[i];
        Pkt p = { .udp = true, .v6 = b->v6,
                  .payload = b->no_payload ? 0 :
                             b->payload ? b->payload : 3000,
                  .seed = 83 };
        struct splitnet_tx_desc d = tso_desc(&p, b->gso_size);

        g_test_message("malformed USO: %s", b->what);
        pkt_build(&p);
        if (b->gso_type) {
            d.gso_type = b->gso_type;
        }
        if (b->patch_off) {
            p.bytes[p.l3 + b->patch_off] = b->patch_val;
        }
        post(c, &po, &p, p.hdr_len + b->hdr_delta, &d, NULL);
        send_and_wait(c);
        g_assert_cmpuint(txstat(c, SPLITNET_STAT_ERRORS), ==, ++errors);
        expect_nothing(c);
        check_untouched(c, &po);
        g_free(p.bytes);
    }
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_FRAMES), ==, 0);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_USO), ==, 0);
    stop(c);
}

/* GSO_UDP_L4 without F_USO is a guest error, as for TSO. */
static void test_uso_not_negotiated(void)
{
    Ctx *c = start(0, 64, ALL_OFFLOADS);
    Pkt p = { .udp = true, .payload = 3000, .seed = 84 };
    struct splitnet_tx_desc d = tso_desc(&p, 1400);
    Posted po;

    pkt_build(&p);
    post(c, &po, &p, p.hdr_len, &d, NULL);
    send_and_wait(c);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_ERRORS), ==, 1);
    expect_nothing(c);
    check_untouched(c, &po);
    g_free(p.bytes);
    stop(c);
}

/* VLAN cases (1.3) */

#define VLAN_OFFLOADS   (ALL_OFFLOADS | SPLITNET_F_USO | SPLITNET_F_VLAN)
#define TEST_TCI        0xa00a      /* priority 5, VLAN 10 */

/*
 * Post @p (built here, untagged) with TXD_VLAN and the offload of @d,
 * head of @hdr_len bytes (0: the headers); expect the frame or segments
 * as they would be with the tag already in them, cut at @mss (0: no
 * TSO/USO).  The pool slot and payload are left as they were.
 */
static void vlan_tx_check(Ctx *c, Pkt *p, struct splitnet_tx_desc d,
                          unsigned mss, uint16_t hdr_len)
{
    uint8_t **want = g_new0(uint8_t *, SPLITNET_TSO_MAX_SEGS);
    size_t *lens = g_new0(size_t, SPLITNET_TSO_MAX_SEGS);
    uint8_t *buf = g_malloc(WIRE_MAX);
    uint64_t head = txstat(c, SPLITNET_STAT_TX_HEAD_BYTES);
    Pkt pv = *p;
    unsigned n = 1, i;
    Posted po;

    pv.vlan = true;
    pv.tci = TEST_TCI;
    pkt_build(p);
    pkt_build(&pv);
    if (mss) {
        n = segment(&pv, mss, want, lens);
    } else {
        want[0] = g_memdup2(pv.bytes, pv.len);
        lens[0] = pv.len;
        if (d.flags & SPLITNET_TXD_CSUM) {
            csum_expect(want[0], pv.len, d.csum_start + 4, d.csum_offset);
        }
    }
    d.flags |= SPLITNET_TXD_VLAN;
    d.vlan_tci = TEST_TCI;
    hdr_len = hdr_len ? hdr_len : p->hdr_len;
    post(c, &po, p, hdr_len, &d, NULL);
    send_and_wait(c);
    for (i = 0; i < n; i++) {
        expect_frame(c, want[i], lens[i], buf, i);
        if (mss || (d.flags & SPLITNET_TXD_CSUM)) {
            verify_csums(&pv, buf, lens[i]);
        }
        g_free(want[i]);
    }
    expect_nothing(c);
    check_untouched(c, &po);
    /* The pool bytes, not the tag, count as head bytes copied. */
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_HEAD_BYTES), ==,
                     head + hdr_len);
    g_free(p->bytes);
    g_free(pv.bytes);
    g_free(want);
    g_free(lens);
    g_free(buf);
}

/*
 * The tag is inserted byte-exact: a plain frame, one whole in the head,
 * with TXD_CSUM, with TSO (every segment tagged) and with USO.
 */
static void test_vlan_tx(void)
{
    Ctx *c = start(0, 64, VLAN_OFFLOADS);
    struct splitnet_tx_desc none = { 0 };
    Pkt p = { .payload = 500, .tcp_flags = TCP_ACK, .seed = 90 };
    struct splitnet_tx_desc csum = {
        .flags = SPLITNET_TXD_CSUM, .csum_start = 34, .csum_offset = 16,
    };

    vlan_tx_check(c, &p, none, 0, 0);
    p = (Pkt) { .payload = 40, .tcp_flags = TCP_ACK, .seed = 91 };
    vlan_tx_check(c, &p, none, 0, 54 + 40);
    p = (Pkt) { .payload = 1000, .tcp_flags = TCP_ACK, .seed = 92 };
    vlan_tx_check(c, &p, csum, 0, 0);
    p = (Pkt) { .payload = 1460, .tcp_flags = TCP_ACK, .seed = 93 };
    vlan_tx_check(c, &p, none, 0, 0);   /* MTU + 18 with the tag */
    p = (Pkt) { .v6 = true, .payload = 5 * 1400 + 9,
                .tcp_flags = TCP_ACK | TCP_PSH | TCP_CWR, .seed = 94 };
    vlan_tx_check(c, &p, tso_desc(&p, 1400), 1400, 0);
    p = (Pkt) { .udp = true, .payload = 3 * 1300 + 2, .seed = 95 };
    vlan_tx_check(c, &p, tso_desc(&p, 1300), 1300, 0);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_CSUM), ==, 1);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_TSO_SEGS), ==, 6);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_USO), ==, 1);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_ERRORS), ==, 0);
    stop(c);
}

/*
 * Bad combinations: TXD_VLAN without F_VLAN or on a continuation
 * descriptor, a second tag on a TSO frame, a tagged frame beyond MTU + 18.
 */
static void vlan_bad_post(Ctx *c, Pkt *p, struct splitnet_tx_desc d,
                          bool second_desc)
{
    static const uint32_t cuts[] = { 100, 0 };
    struct splitnet_tx_desc d1 = { 0 };
    uint64_t errors = txstat(c, SPLITNET_STAT_ERRORS);
    Posted po;

    pkt_build(p);
    d.flags |= second_desc ? 0 : SPLITNET_TXD_VLAN;
    d.vlan_tci = TEST_TCI;
    post(c, &po, p, p->hdr_len, &d, cuts);
    if (second_desc) {
        d1.addr = po.frags[1].addr;
        d1.len = po.frags[1].len;
        d1.flags = SPLITNET_TXD_VLAN | SPLITNET_TXD_EOP;
        d1.vlan_tci = TEST_TCI;
        qsplitnet_tx_write_desc(&c->d, po.slot_idx + 1, &d1);
    }
    send_and_wait(c);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_ERRORS), ==, errors + 1);
    expect_nothing(c);
    check_untouched(c, &po);
    g_free(p->bytes);
}

static void test_vlan_bad(void)
{
    struct splitnet_tx_desc none = { 0 };
    Ctx *c = start(0, 64, ALL_OFFLOADS);
    Pkt p = { .payload = 500, .tcp_flags = TCP_ACK, .seed = 96 };

    vlan_bad_post(c, &p, none, false);
    stop(c);
    c = start(0, 64, VLAN_OFFLOADS);
    vlan_bad_post(c, &p, none, true);
    p = (Pkt) { .vlan = true, .payload = 3000, .tcp_flags = TCP_ACK,
                .seed = 97 };
    vlan_bad_post(c, &p, tso_desc(&p, 1400), false);
    p = (Pkt) { .vlan = true, .payload = 1460, .tcp_flags = TCP_ACK,
                .seed = 98 };
    vlan_bad_post(c, &p, none, false);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_FRAMES), ==, 0);
    stop(c);
}

/* A frame from the socket netdev into one posted RX buffer. */
static void rx_one(Ctx *c, const uint8_t *f, size_t len,
                   struct splitnet_rx_desc *rd, uint8_t *got)
{
    uint32_t idx = c->d.rxq.prod;
    uint64_t area = guest_alloc(&c->qs->alloc, 2048);

    qsplitnet_rx_post(&c->d, area, 2048);
    qsplitnet_kick(&c->d, &c->d.rxq);
    qsplitnet_sock_send(c->sock, f, len);
    g_assert(qsplitnet_wait_cons(&c->d, SPLITNET_RXQ(0), idx + 1));
    qsplitnet_rx_read_desc(&c->d, idx, rd);
    qtest_memread(c->qts, area, got, rd->len);
    guest_free(&c->qs->alloc, area);
}

static uint64_t rxstat(Ctx *c, int n)
{
    return qsplitnet_stat(&c->d, SPLITNET_RXQ(0), n);
}

/* A tagged frame to the device (@tci, 0: untagged) and that frame untagged. */
static void rx_vlan_frames(uint16_t tci, Pkt *tagged, Pkt *plain)
{
    *tagged = (Pkt) { .vlan = !!tci, .tci = tci, .payload = 300,
                      .tcp_flags = TCP_ACK, .seed = tci };
    *plain = (Pkt) { .payload = 300, .tcp_flags = TCP_ACK, .seed = tci };
    pkt_build(tagged);
    pkt_build(plain);
    memcpy(tagged->bytes, src_mac, 6);
    memcpy(plain->bytes, src_mac, 6);
}

/*
 * RX: with F_VLAN the tag is taken out and reported in the descriptor;
 * the VLAN table, once switched on, drops the VLANs it does not list
 * (untagged frames pass); without F_VLAN the frame arrives as sent.
 */
static void test_vlan_rx(void)
{
    Ctx *c = start(0, 64, VLAN_OFFLOADS);
    struct splitnet_rx_desc rd;
    uint8_t got[2048];
    Pkt t, u;

    rx_vlan_frames(TEST_TCI, &t, &u);
    rx_one(c, t.bytes, t.len, &rd, got);
    g_assert_cmphex(rd.flags, ==, SPLITNET_RXD_EOP | SPLITNET_RXD_VLAN);
    g_assert_cmphex(rd.vlan_tci, ==, TEST_TCI);
    g_assert_cmpuint(rd.len, ==, u.len);
    g_assert(!memcmp(got, u.bytes, u.len));
    g_assert_cmpuint(rxstat(c, SPLITNET_STAT_RX_VLAN), ==, 1);

    /* VLAN 10 listed; VLAN 11 dropped, counted; untagged passes. */
    qsplitnet_writel(&c->d, SPLITNET_REG_VLAN_TABLE(0), 1u << 10);
    g_assert_cmphex(qsplitnet_readl(&c->d, SPLITNET_REG_VLAN_TABLE(0)), ==,
                    1u << 10);
    qsplitnet_writel(&c->d, SPLITNET_REG_RX_FILTER,
                     qsplitnet_readl(&c->d, SPLITNET_REG_RX_FILTER) |
                     SPLITNET_RX_FILTER_VLAN);
    g_free(t.bytes);
    g_free(u.bytes);
    rx_vlan_frames(0x000b, &t, &u);
    qsplitnet_sock_send(c->sock, t.bytes, t.len);
    g_free(t.bytes);
    g_free(u.bytes);
    rx_vlan_frames(TEST_TCI, &t, &u);
    rx_one(c, t.bytes, t.len, &rd, got);
    g_assert_cmphex(rd.vlan_tci, ==, TEST_TCI);
    g_assert_cmpuint(rxstat(c, SPLITNET_STAT_RX_VLAN_FILTERED), ==, 1);
    g_free(t.bytes);
    g_free(u.bytes);
    rx_vlan_frames(0, &t, &u);
    rx_one(c, t.bytes, t.len, &rd, got);
    g_assert_cmphex(rd.flags, ==, SPLITNET_RXD_EOP);
    g_assert_cmpuint(rd.len, ==, u.len);
    g_assert(!memcmp(got, u.bytes, u.len));
    g_assert_cmpuint(rxstat(c, SPLITNET_STAT_RX_VLAN), ==, 2);
    g_assert_cmpuint(rxstat(c, SPLITNET_STAT_FRAMES), ==, 3);
    g_free(t.bytes);
    g_free(u.bytes);
    stop(c);

    c = start(0, 64, ALL_OFFLOADS);
    rx_vlan_frames(TEST_TCI, &t, &u);
    rx_one(c, t.bytes, t.len, &rd, got);
    g_assert_cmphex(rd.flags, ==, SPLITNET_RXD_EOP);
    g_assert_cmphex(rd.vlan_tci, ==, 0);
    g_assert_cmpuint(rd.len, ==, t.len);
    g_assert(!memcmp(got, t.bytes, t.len));
    g_free(t.bytes);
    g_free(u.bytes);
    stop(c);
}

/* The VLAN table migrates (a subsection), and so do the USO counters. */
static void test_vlan_uso_migration(void)
{
    Ctx *src = start(0, 64, VLAN_OFFLOADS), *dst;
    Pkt p = { .udp = true, .payload = 3000, .seed = 99 };

    g_assert_cmpuint(tso_check(src, &p, 1400, NULL), ==, 3);
    qsplitnet_writel(&src->d, SPLITNET_REG_VLAN_TABLE(127), 0x80000001);
    dst = migrate_ctx(src);
    g_assert_cmphex(qsplitnet_readl(&dst->d, SPLITNET_REG_VLAN_TABLE(127)),
                    ==, 0x80000001);
    g_assert_cmphex(qsplitnet_readq(&dst->d, SPLITNET_REG_DRV_FEATURES), ==,
                    VLAN_OFFLOADS);
    g_assert_cmpuint(txstat(dst, SPLITNET_STAT_TX_USO), ==, 1);
    p = (Pkt) { .udp = true, .v6 = true, .payload = 2000, .seed = 100 };
    g_assert_cmpuint(tso_check(dst, &p, 1000, NULL), ==, 2);
    g_assert_cmpuint(txstat(dst, SPLITNET_STAT_TX_USO), ==, 2);
    stop(src);
    stop(dst);
}

/* Offloads passed to a tap with a virtio-net header */

#ifdef CONFIG_LINUX
#define TAP_NAME        "sntq0"
#define VNET_HLEN       sizeof(struct virtio_net_hdr)

typedef struct Tap {
    int fd;         /* QEMU's end, handed over by number */
    int pkt;        /* packet socket on the tap, with virtio-net headers */
} Tap;

/*
 * The cases run in a network namespace of their own, made on first use:
 * the tap and everything on it stay there.  False (the case skips) when
 * this process may not make one.
 */
static bool own_netns(void)
{
    static int state = -1;

    if (state < 0) {
        state = unshare(CLONE_NEWNET) == 0;
    }
    return state;
}

/* A tap that takes virtio-net headers, up, and a packet socket on it. */
static bool tap_open(Tap *t)
{
    struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
    struct sockaddr_ll sll = {
        .sll_family = AF_PACKET,
        .sll_protocol = htons(ETH_P_ALL),
    };
    struct timeval tv = { .tv_sec = 10 };
    int one = 1, s;

    t->fd = own_netns() ? open("/dev/net/tun", O_RDWR) : -1;
    if (t->fd < 0) {
        g_test_skip("no network namespace with a tap (needs root)");
        return false;
    }
    pstrcpy(ifr.ifr_name, IFNAMSIZ, TAP_NAME);
    g_assert_cmpint(ioctl(t->fd, TUNSETIFF, &ifr), ==, 0);
    s = socket(AF_INET, SOCK_DGRAM, 0);
    g_assert_cmpint(s, >=, 0);
    g_assert_cmpint(ioctl(s, SIOCGIFFLAGS, &ifr), ==, 0);
    ifr.ifr_flags |= IFF_UP;
    g_assert_cmpint(ioctl(s, SIOCSIFFLAGS, &ifr), ==, 0);
    g_assert_cmpint(ioctl(s, SIOCGIFINDEX, &ifr), ==, 0);
    close(s);
    t->pkt = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    g_assert_cmpint(t->pkt, >=, 0);
    g_assert_cmpint(setsockopt(t->pkt, SOL_PACKET, PACKET_VNET_HDR, &one,
                               sizeof(one)), ==, 0);
    g_assert_cmpint(setsockopt(t->pkt, SOL_SOCKET, SO_RCVTIMEO, &tv,
                               sizeof(tv)), ==, 0);
    sll.sll_ifindex = ifr.ifr_ifindex;
    g_assert_cmpint(bind(t->pkt, (struct sockaddr *)&sll, sizeof(sll)), ==,
                    0);
    return true;
}

/* Boot on the tap (vnet-hdr=@dev) and bring the device up with @features. */
static Ctx *tap_start_with(Tap *t, const char *dev, uint64_t features)
{
    g_autofree char *netdev = g_strdup_printf("tap,fd=%d",
                                              t->fd);
    g_autofree char *extra = g_strdup_printf(
        "-global splitnet.vnet-hdr=%s", dev);
    Ctx *c = boot_on(netdev, extra);

    close(t->fd);
    qsplitnet_bringup(&c->d, 64, features);
    return c;
}

/* A tap and the device on it, or NULL when the case skips. */
static Ctx *tap_boot(Tap *t, const char *dev, uint64_t features)
{
    return tap_open(t) ? tap_start_with(t, dev, features) : NULL;
}

static void tap_stop(Ctx *c, Tap *t)
{
    stop(c);
    close(t->pkt);
}

/*
 * The next frame the device sent, as the host kernel received it: its
 * virtio-net header in @vh, the frame in @buf.  Frames the kernel itself
 * sends on the tap (IPv6 neighbour discovery...) are skipped.
 */
static size_t tap_recv(Tap *t, struct virtio_net_hdr *vh, uint8_t *buf)
{
    static uint8_t pkt[VNET_HLEN + 64 * KiB];
    struct sockaddr_ll from;
    socklen_t fl;
    ssize_t n;

    for (;;) {
        fl = sizeof(from);
        n = recvfrom(t->pkt, pkt, sizeof(pkt), 0, (struct sockaddr *)&from,
                     &fl);
        g_assert_cmpint(n, >=, VNET_HLEN + 14);
        if (from.sll_pkttype != PACKET_OUTGOING &&
            !memcmp(pkt + VNET_HLEN + 6, src_mac, 6)) {
            break;
        }
    }
    memcpy(vh, pkt, VNET_HLEN);
    memcpy(buf, pkt + VNET_HLEN, n - VNET_HLEN);
    return n - VNET_HLEN;
}

static void check_vnet_hdr(const struct virtio_net_hdr *vh, uint8_t flags,
                           uint8_t gso_type, uint16_t gso_size,
                           uint16_t start, uint16_t off)
{
    g_assert_cmphex(vh->flags, ==, flags);
    g_assert_cmphex(vh->gso_type, ==, gso_type);
    g_assert_cmpuint(vh->gso_size, ==, gso_size);
    if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        g_assert_cmpuint(vh->csum_start, ==, start);
        g_assert_cmpuint(vh->csum_offset, ==, off);
    }
}

static void check_bytes(const uint8_t *got, size_t len, const uint8_t *want,
                        size_t want_len)
{
    size_t k = 0;

    g_assert_cmpuint(len, ==, want_len);
    while (k < len && got[k] == want[k]) {
        k++;
    }
    if (k < len) {
        g_test_message("frame of %zu bytes differs at byte %zu: got 0x%02x, "
                       "want 0x%02x", len, k, got[k], want[k]);
        g_assert_not_reached();
    }
}

/*
 * A TSO frame reaches the tap whole.  The guest's head has a zero IP
 * length, a stale IP checksum and no TCP pseudo-header sum: the device
 * must put in those of the whole frame (what pkt_build() computes).
 */
static void vnet_tso(Pkt *p, unsigned mss, uint8_t gso_type)
{
    struct splitnet_tx_desc d = tso_desc(p, mss);
    uint8_t *buf = g_malloc(64 * KiB), *ip, *bad;
    struct virtio_net_hdr vh;
    Posted po;
    Ctx *c;
    Tap t;
    size_t n;

    c = tap_boot(&t, "on", ALL_OFFLOADS);
    if (!c) {
        return;
    }
    pkt_build(p);
    bad = g_memdup2(p->bytes, p->len);
    ip = bad + p->l3;
    put16(ip + (p->v6 ? 4 : 2), 0);
    put16(bad + p->l4 + 16, 0xbeef);
    if (!p->v6) {
        put16(ip + 10, 0x1234);
    }
    memcpy(p->bytes, bad, p->hdr_len);
    g_free(bad);
    post(c, &po, p, p->hdr_len, &d, NULL);
    /* The frame again as it must reach the tap, headers made whole. */
    g_free(p->bytes);
    pkt_build(p);
    send_and_wait(c);
    n = tap_recv(&t, &vh, buf);
    check_vnet_hdr(&vh, VIRTIO_NET_HDR_F_NEEDS_CSUM, gso_type, mss, p->l4, 16);
    check_bytes(buf, n, p->bytes, p->len);
    check_untouched(c, &po);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_GSO_PASS), ==, 1);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_TSO), ==, 0);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_TSO_SEGS), ==, 0);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_FRAMES), ==, 1);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_BYTES), ==, p->len);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_ERRORS), ==, 0);
    g_free(p->bytes);
    g_free(buf);
    tap_stop(c, &t);
}

static void test_vnet_tso4(void)
{
    Pkt p = { .payload = 46 * 1400 + 17, .ip_opts = 8, .tcp_opts = 12,
              .tcp_flags = TCP_ACK | TCP_PSH, .seed = 70 };

    vnet_tso(&p, 1400, VIRTIO_NET_HDR_GSO_TCPV4);
}

static void test_vnet_tso6_ecn(void)
{
    Pkt p = { .v6 = true, .payload = 5000, .tcp_flags = TCP_ACK | TCP_CWR,
              .seed = 71 };

    vnet_tso(&p, 1000, VIRTIO_NET_HDR_GSO_TCPV6 | VIRTIO_NET_HDR_GSO_ECN);
}

/*
 * A checksum request reaches the tap as NEEDS_CSUM, the frame as the
 * guest made it (the pseudo-header sum still in the field); a frame
 * without a request gets a header of zeroes.
 */
static void test_vnet_csum_plain(void)
{
    struct splitnet_tx_desc d = {
        .flags = SPLITNET_TXD_CSUM, .csum_start = 34, .csum_offset = 16,
    };
    struct splitnet_tx_desc none = { 0 };
    Pkt p = { .payload = 1000, .tcp_flags = TCP_ACK, .seed = 72 };
    uint8_t *buf = g_malloc(64 * KiB);
    struct virtio_net_hdr vh;
    Posted po;
    Ctx *c;
    Tap t;
    size_t n;

    c = tap_boot(&t, "on", ALL_OFFLOADS);
    if (!c) {
        return;
    }
    pkt_build(&p);
    post(c, &po, &p, p.hdr_len, &d, NULL);
    send_and_wait(c);
    n = tap_recv(&t, &vh, buf);
    check_vnet_hdr(&vh, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 16);
    check_bytes(buf, n, p.bytes, p.len);
    check_untouched(c, &po);
    post(c, &po, &p, 40, &none, NULL);
    send_and_wait(c);
    n = tap_recv(&t, &vh, buf);
    check_vnet_hdr(&vh, 0, 0, 0, 0, 0);
    check_bytes(buf, n, p.bytes, p.len);
    check_untouched(c, &po);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_CSUM_PASS), ==, 1);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_CSUM), ==, 0);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_FRAMES), ==, 2);
    g_free(p.bytes);
    g_free(buf);
    tap_stop(c, &t);
}

/* vnet-hdr=off: on the same tap, the device segments itself. */
static void test_vnet_off(void)
{
    Pkt p = { .payload = 3 * 1448 + 5, .tcp_flags = TCP_ACK | TCP_FIN,
              .seed = 73 };
    struct splitnet_tx_desc d = tso_desc(&p, 1448);
    uint8_t *segs[4], *buf = g_malloc(64 * KiB);
    struct virtio_net_hdr vh;
    size_t lens[4], n;
    unsigned i;
    Posted po;
    Ctx *c;
    Tap t;

    c = tap_boot(&t, "off", ALL_OFFLOADS);
    if (!c) {
        return;
    }
    pkt_build(&p);
    g_assert_cmpuint(segment(&p, 1448, segs, lens), ==, 4);
    post(c, &po, &p, p.hdr_len, &d, NULL);
    send_and_wait(c);
    for (i = 0; i < 4; i++) {
        n = tap_recv(&t, &vh, buf);
        check_vnet_hdr(&vh, 0, 0, 0, 0, 0);
        check_bytes(buf, n, segs[i], lens[i]);
        g_free(segs[i]);
    }
    check_untouched(c, &po);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_GSO_PASS), ==, 0);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_TSO_SEGS), ==, 4);
    g_free(p.bytes);
    g_free(buf);
    tap_stop(c, &t);
}

/* Frames from the tap come with a header: the guest gets what follows. */
static void test_vnet_rx(void)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint8_t frame[VNET_HLEN + 300] = { 0 }, *f = frame + VNET_HLEN;
    uint8_t got[300];
    struct splitnet_rx_desc rd;
    uint64_t area;
    Ctx *c;
    Tap t;
    int i;

    c = tap_boot(&t, "on", ALL_OFFLOADS);
    if (!c) {
        return;
    }
    area = guest_alloc(&c->qs->alloc, 2048);
    qsplitnet_rx_post(&c->d, area, 2048);
    qsplitnet_kick(&c->d, &c->d.rxq);
    memcpy(f, bcast, 6);
    memcpy(f + 6, dst_mac, 6);
    put16(f + 12, 0x88b5);      /* local experimental EtherType */
    for (i = 14; i < 300; i++) {
        f[i] = i * 13;
    }
    g_assert_cmpint(send(t.pkt, frame, sizeof(frame), 0), ==, sizeof(frame));
    g_assert(qsplitnet_wait_cons(&c->d, SPLITNET_RXQ(0), 1));
    qsplitnet_rx_read_desc(&c->d, 0, &rd);
    g_assert_cmpuint(rd.flags, ==, SPLITNET_RXD_EOP);
    qtest_memread(c->qts, area, got, rd.len);
    check_bytes(got, rd.len, f, 300);
    tap_stop(c, &t);
}

/*
 * The host kernel hands the device a large TCP segment with a partial
 * checksum (a packet socket sends one through the tap): with RX_CSUM and
 * RX_GSO the frame arrives whole in consecutive buffers, its first
 * descriptor carrying NEEDS_CSUM, the checksum position and the GSO type
 * and size, byte for byte as sent.
 */
static void vnet_rx_gso(bool v6)
{
    Pkt p = { .v6 = v6, .tcp_opts = v6 ? 12 : 0, .payload = 9000,
              .tcp_flags = TCP_ACK | TCP_CWR, .seed = 74 };
    struct virtio_net_hdr vh = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = (v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4) |
                    VIRTIO_NET_HDR_GSO_ECN,
        .gso_size = 1448,
        .csum_offset = 16,
    };
    struct splitnet_rx_desc rd;
    uint8_t *frame, *got;
    uint32_t off = 0, i;
    uint64_t area;
    Ctx *c;
    Tap t;

    c = tap_boot(&t, "on", ALL_OFFLOADS | SPLITNET_F_RX_CSUM |
                 SPLITNET_F_RX_GSO);
    if (!c) {
        return;
    }
    area = guest_alloc(&c->qs->alloc, 8 * 2048);
    for (i = 0; i < 8; i++) {
        qsplitnet_rx_post(&c->d, area + i * 2048, 2048);
    }
    qsplitnet_kick(&c->d, &c->d.rxq);
    pkt_build(&p);
    memcpy(p.bytes, src_mac, 6);        /* to the device */
    memcpy(p.bytes + 6, dst_mac, 6);
    vh.hdr_len = p.hdr_len;
    vh.csum_start = p.l4;
    frame = g_malloc(VNET_HLEN + p.len);
    memcpy(frame, &vh, VNET_HLEN);
    memcpy(frame + VNET_HLEN, p.bytes, p.len);
    g_assert_cmpint(send(t.pkt, frame, VNET_HLEN + p.len, 0), ==,
                    VNET_HLEN + p.len);
    g_assert(qsplitnet_wait_cons(&c->d, SPLITNET_RXQ(0), 5));
    got = g_malloc(p.len);
    for (i = 0; i < 5; i++) {
        qsplitnet_rx_read_desc(&c->d, i, &rd);
        g_assert_cmpuint(rd.len, ==, MIN(2048, p.len - off));
        qtest_memread(c->qts, area + i * 2048, got + off, rd.len);
        off += rd.len;
        if (i) {
            g_assert_cmphex(rd.flags, ==, i == 4 ? SPLITNET_RXD_EOP : 0);
            g_assert_cmpuint(rd.csum_start | rd.csum_offset | rd.gso_size,
                             ==, 0);
            continue;
        }
        g_assert_cmphex(rd.flags, ==, SPLITNET_RXD_NEEDS_CSUM |
                        (v6 ? SPLITNET_RXD_GSO_TCPV6 : SPLITNET_RXD_GSO_TCPV4) |
                        SPLITNET_RXD_GSO_ECN);
        g_assert_cmpuint(rd.csum_start, ==, p.l4);
        g_assert_cmpuint(rd.csum_offset, ==, 16);
        g_assert_cmpuint(rd.gso_size, ==, 1448);
    }
    check_bytes(got, off, p.bytes, p.len);
    g_assert_cmpuint(qsplitnet_stat(&c->d, SPLITNET_RXQ(0),
                                    SPLITNET_STAT_RX_GSO), ==, 1);
    g_assert_cmpuint(qsplitnet_stat(&c->d, SPLITNET_RXQ(0),
                                    SPLITNET_STAT_RX_CSUM), ==, 1);
    g_free(p.bytes);
    g_free(frame);
    g_free(got);
    tap_stop(c, &t);
}

#ifndef TUN_F_USO4
#define TUN_F_USO4      0x20    /* Linux 6.2 */
#define TUN_F_USO6      0x40
#endif

/* Does this host's tap segment UDP?  Asked as QEMU asks (qemu_has_uso). */
static bool tap_has_uso(Tap *t)
{
    bool uso = ioctl(t->fd, TUNSETOFFLOAD,
                     TUN_F_CSUM | TUN_F_USO4 | TUN_F_USO6) == 0;

    g_assert_cmpint(ioctl(t->fd, TUNSETOFFLOAD, 0), ==, 0);
    return uso;
}

/*
 * A USO frame reaches a tap that segments UDP whole, with GSO_UDP_L4 and
 * the head made whole (IP length and checksum, UDP length, pseudo-header
 * sum); a tap that does not (@knob: x-vnet-uso=off, or a host before
 * Linux 6.2) gets the device's datagrams, each behind a header of zeroes.
 */
static void vnet_uso(const char *knob)
{
    Pkt p = { .udp = true, .payload = 10 * 1400 + 7, .seed = 101 };
    struct splitnet_tx_desc d = tso_desc(&p, 1400);
    g_autofree char *dev = g_strdup_printf("on %s", knob);
    uint8_t **segs = g_new0(uint8_t *, SPLITNET_TSO_MAX_SEGS);
    size_t lens[SPLITNET_TSO_MAX_SEGS], n;
    uint8_t *buf = g_malloc(64 * KiB);
    struct virtio_net_hdr vh;
    unsigned i, nsegs;
    Posted po;
    bool uso;
    Ctx *c;
    Tap t;

    if (!tap_open(&t)) {
        g_free(segs);
        g_free(buf);
        return;
    }
    uso = tap_has_uso(&t) && !*knob;
    g_test_message("the device %s UDP segmentation to the tap",
                   uso ? "leaves" : "does not leave");
    c = tap_start_with(&t, dev, ALL_OFFLOADS | SPLITNET_F_USO);
    pkt_build(&p);
    nsegs = segment(&p, 1400, segs, lens);
    /* The guest's head: no lengths, stale checksums. */
    put16(p.bytes + p.l3 + 2, 0);
    put16(p.bytes + p.l3 + 10, 0x1234);
    put16(p.bytes + p.l4 + 4, 0);
    put16(p.bytes + p.l4 + 6, 0xbeef);
    post(c, &po, &p, p.hdr_len, &d, NULL);
    g_free(p.bytes);
    pkt_build(&p);
    send_and_wait(c);
    if (uso) {
        n = tap_recv(&t, &vh, buf);
        check_vnet_hdr(&vh, VIRTIO_NET_HDR_F_NEEDS_CSUM,
                       VIRTIO_NET_HDR_GSO_UDP_L4, 1400, p.l4, 6);
        check_bytes(buf, n, p.bytes, p.len);
    } else {
        for (i = 0; i < nsegs; i++) {
            n = tap_recv(&t, &vh, buf);
            check_vnet_hdr(&vh, 0, 0, 0, 0, 0);
            check_bytes(buf, n, segs[i], lens[i]);
        }
    }
    for (i = 0; i < nsegs; i++) {
        g_free(segs[i]);
    }
    check_untouched(c, &po);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_GSO_PASS), ==, uso);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_TX_USO), ==, !uso);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_FRAMES), ==, uso ? 1 : nsegs);
    g_assert_cmpuint(txstat(c, SPLITNET_STAT_ERRORS), ==, 0);
    g_free(p.bytes);
    g_free(segs);
    g_free(buf);
    tap_stop(c, &t);
}

static void test_vnet_uso(void)
{
    vnet_uso("");
}

static void test_vnet_uso_segmented(void)
{
    vnet_uso("-global splitnet.x-vnet-uso=off");
}

/*
 * A tagged frame with a partial checksum from the tap: the tag is taken
 * out and the checksum start moves with the bytes after it.
 */
static void test_vnet_rx_vlan(void)
{
    Pkt p = { .vlan = true, .tci = 0x2005, .payload = 700,
              .tcp_flags = TCP_ACK, .seed = 102 };
    Pkt u = { .payload = 700, .tcp_flags = TCP_ACK, .seed = 102 };
    struct virtio_net_hdr vh = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .csum_start = 38,
        .csum_offset = 16,
    };
    uint8_t frame[VNET_HLEN + 1024], got[2048];
    struct splitnet_rx_desc rd;
    uint64_t area;
    Ctx *c;
    Tap t;

    c = tap_boot(&t, "on", SPLITNET_F_RX_CSUM | SPLITNET_F_VLAN);
    if (!c) {
        return;
    }
    area = guest_alloc(&c->qs->alloc, 2048);
    qsplitnet_rx_post(&c->d, area, 2048);
    qsplitnet_kick(&c->d, &c->d.rxq);
    pkt_build(&p);
    pkt_build(&u);
    memcpy(p.bytes, src_mac, 6);
    memcpy(p.bytes + 6, dst_mac, 6);
    memcpy(u.bytes, src_mac, 6);
    memcpy(u.bytes + 6, dst_mac, 6);
    memcpy(frame, &vh, VNET_HLEN);
    memcpy(frame + VNET_HLEN, p.bytes, p.len);
    g_assert_cmpint(send(t.pkt, frame, VNET_HLEN + p.len, 0), ==,
                    VNET_HLEN + p.len);
    g_assert(qsplitnet_wait_cons(&c->d, SPLITNET_RXQ(0), 1));
    qsplitnet_rx_read_desc(&c->d, 0, &rd);
    g_assert_cmphex(rd.flags, ==, SPLITNET_RXD_EOP | SPLITNET_RXD_VLAN |
                    SPLITNET_RXD_NEEDS_CSUM);
    g_assert_cmphex(rd.vlan_tci, ==, 0x2005);
    g_assert_cmpuint(rd.csum_start, ==, 34);
    g_assert_cmpuint(rd.csum_offset, ==, 16);
    qtest_memread(c->qts, area, got, rd.len);
    check_bytes(got, rd.len, u.bytes, u.len);
    g_free(p.bytes);
    g_free(u.bytes);
    tap_stop(c, &t);
}

static void test_vnet_rx_gso(void)
{
    vnet_rx_gso(false);
}

/* IPv6 with TCP options: the headers end at another offset. */
static void test_vnet_rx_gso6(void)
{
    vnet_rx_gso(true);
}
#endif

int main(int argc, char **argv)
{
    static const struct {
        const char *path;
        void (*fn)(void);
    } tests[] = {
        { "tso/ipv4", test_tso4_basic },
        { "tso/ipv6", test_tso6_basic },
        { "tso/ipv4-options", test_tso4_options },
        { "tso/ipv6-options", test_tso6_options },
        { "tso/ecn-cwr", test_tso_ecn },
        { "tso/one-segment", test_tso_one_segment },
        { "tso/64k-counters", test_tso_64k_counters },
        { "tso/backpressure", test_tso_backpressure },
        { "tso/stop-purge", test_tso_stop_purge },
        { "csum/tcp", test_csum_tcp },
        { "csum/head-layouts", test_csum_head_layouts },
        { "err/malformed", test_bad_requests },
        { "err/not-negotiated", test_not_negotiated },
        { "rx/csum-verify", test_rx_csum_verify },
        { "stats/qom", test_qom_stats },
        { "migration", test_migration },
        { "migration-refused", test_migration_refused },
        { "uso/segments", test_uso },
        { "uso/malformed", test_uso_bad },
        { "uso/not-negotiated", test_uso_not_negotiated },
        { "vlan/tx-insert", test_vlan_tx },
        { "vlan/malformed", test_vlan_bad },
        { "vlan/rx-strip-filter", test_vlan_rx },
        { "vlan/uso-migration", test_vlan_uso_migration },
#ifdef CONFIG_LINUX
        { "vnet/tso4", test_vnet_tso4 },
        { "vnet/tso6-ecn", test_vnet_tso6_ecn },
        { "vnet/csum-plain", test_vnet_csum_plain },
        { "vnet/off", test_vnet_off },
        { "vnet/rx", test_vnet_rx },
        { "vnet/rx-gso", test_vnet_rx_gso },
        { "vnet/uso", test_vnet_uso },
        { "vnet/uso-segmented", test_vnet_uso_segmented },
        { "vnet/rx-vlan", test_vnet_rx_vlan },
        { "vnet/rx-gso6", test_vnet_rx_gso6 },
#endif
    };
    g_autofree char *path = NULL;
    int i;

    g_test_init(&argc, &argv, NULL);
    if (!qtest_has_device("splitnet")) {
        return 0;
    }
    for (i = 0; i < ARRAY_SIZE(tests); i++) {
        g_free(path);
        path = g_strdup_printf("/splitnet-offload/%s", tests[i].path);
        qtest_add_func(path, tests[i].fn);
    }
    return g_test_run();
}
