/*
 * splitnet: head-copy paravirtual NIC, receive-side scaling
 *
 * Which RX queue a received frame goes to: the RSS registers (hash types,
 * Toeplitz key, indirection table, pairs in use) and the steering of each
 * frame.  Frames are parsed and hashed by QEMU's net_rx_pkt, as igb,
 * e1000e and virtio-net do, so the hash is the one Microsoft's RSS
 * specification defines (its verification vectors are in the qtest).
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "net_rx_pkt.h"
#include "splitnet_core.h"
#include "trace.h"

#define SPLITNET_RSS_KEY_END    (SPLITNET_REG_RSS_KEY + SPLITNET_RSS_KEY_SIZE)
#define SPLITNET_RSS_INDIR_END  SPLITNET_REG_RSS_INDIR_ENTRY( \
                                    SPLITNET_RSS_INDIR_SIZE)

QEMU_BUILD_BUG_ON(SPLITNET_RSS_INDIR_END > 0x800);
QEMU_BUILD_BUG_ON(SPLITNET_MAX_QUEUE_PAIRS > UINT8_MAX);

/* net_rx_pkt's hash of each SPLITNET_HASH_TYPE_*. */
static const NetRxPktRssType splitnet_rss_types[] = {
    [SPLITNET_HASH_TYPE_IPV4] = NetPktRssIpV4,
    [SPLITNET_HASH_TYPE_TCPV4] = NetPktRssIpV4Tcp,
    [SPLITNET_HASH_TYPE_UDPV4] = NetPktRssIpV4Udp,
    [SPLITNET_HASH_TYPE_IPV6] = NetPktRssIpV6,
    [SPLITNET_HASH_TYPE_TCPV6] = NetPktRssIpV6Tcp,
    [SPLITNET_HASH_TYPE_UDPV6] = NetPktRssIpV6Udp,
};

void splitnet_rss_init(SplitnetCore *core)
{
    net_rx_pkt_init(&core->rx_pkt);
}

void splitnet_rss_cleanup(SplitnetCore *core)
{
    net_rx_pkt_uninit(core->rx_pkt);
}

void splitnet_rss_reset(SplitnetCore *core)
{
    core->rss_hash_types = 0;
    core->rss_queues = 1;
    memset(core->rss_key, 0, sizeof(core->rss_key));
    memset(core->rss_indir, 0, sizeof(core->rss_indir));
}

/* The RSS registers exist on a device that offers F_MQ. */
bool splitnet_rss_is_reg(SplitnetCore *core, hwaddr addr)
{
    if (!(core->dev_features & SPLITNET_F_MQ)) {
        return false;
    }
    return addr == SPLITNET_REG_RSS_HASH_TYPES ||
           addr == SPLITNET_REG_RSS_QUEUES ||
           (addr >= SPLITNET_REG_RSS_KEY && addr < SPLITNET_RSS_KEY_END) ||
           (addr >= SPLITNET_REG_RSS_INDIR && addr < SPLITNET_RSS_INDIR_END);
}

/* Only for an address splitnet_rss_is_reg() accepted, 4-byte aligned. */
uint32_t splitnet_rss_read(SplitnetCore *core, hwaddr addr)
{
    switch (addr) {
    case SPLITNET_REG_RSS_HASH_TYPES:
        return core->rss_hash_types;
    case SPLITNET_REG_RSS_QUEUES:
        return core->rss_queues;
    }
    if (addr < SPLITNET_RSS_KEY_END) {
        return ldl_le_p(core->rss_key + (addr - SPLITNET_REG_RSS_KEY));
    }
    return core->rss_indir[(addr - SPLITNET_REG_RSS_INDIR) / 4];
}

void splitnet_rss_write(SplitnetCore *core, hwaddr addr, uint32_t val)
{
    switch (addr) {
    case SPLITNET_REG_RSS_HASH_TYPES:
        if (val & ~SPLITNET_RSS_HASH_ALL) {
            SPLITNET_GUEST_ERR(splitnet_err_rss, "offset 0x%" HWADDR_PRIx
                               " value 0x%x", addr, val);
            return;
        }
        core->rss_hash_types = val;
        return;
    case SPLITNET_REG_RSS_QUEUES:
        if (!val || val > core->queue_pairs) {
            SPLITNET_GUEST_ERR(splitnet_err_rss, "offset 0x%" HWADDR_PRIx
                               " value 0x%x", addr, val);
            return;
        }
        core->rss_queues = val;
        return;
    }
    if (addr < SPLITNET_RSS_KEY_END) {
        stl_le_p(core->rss_key + (addr - SPLITNET_REG_RSS_KEY), val);
        return;
    }
    if (val >= core->queue_pairs) {
        SPLITNET_GUEST_ERR(splitnet_err_rss, "offset 0x%" HWADDR_PRIx
                           " value 0x%x", addr, val);
        return;
    }
    core->rss_indir[(addr - SPLITNET_REG_RSS_INDIR) / 4] = val;
}

/* A migration stream's RSS registers, as the guest could have set them. */
bool splitnet_rss_state_ok(SplitnetCore *core)
{
    unsigned i;

    if ((core->rss_hash_types & ~SPLITNET_RSS_HASH_ALL) ||
        !core->rss_queues || core->rss_queues > core->queue_pairs) {
        return false;
    }
    for (i = 0; i < SPLITNET_RSS_INDIR_SIZE; i++) {
        if (core->rss_indir[i] >= core->queue_pairs) {
            return false;
        }
    }
    return true;
}

static bool splitnet_rx_pair_ok(SplitnetCore *core, unsigned pair)
{
    return pair < core->rss_queues && core->rxq[pair].q.enabled;
}

/*
 * Where frames that RSS does not hash go: the pair of the backend queue
 * they came from (a multiqueue tap), else pair 0.
 */
unsigned splitnet_rx_default_pair(SplitnetCore *core, unsigned nc)
{
    if (!(core->drv_features & SPLITNET_F_MQ) ||
        !splitnet_rx_pair_ok(core, nc)) {
        return 0;
    }
    return nc;
}

/* RSS may send the next frame to any of several queues. */
bool splitnet_rx_spreads(SplitnetCore *core)
{
    return (core->drv_features & SPLITNET_F_MQ) && core->rss_hash_types &&
           core->rss_queues > 1;
}

/* The first enabled hash type that applies to the parsed frame, or 0. */
static unsigned splitnet_rss_type(SplitnetCore *core)
{
    uint32_t types = core->rss_hash_types;
    bool ip4, ip6;
    EthL4HdrProto l4;
    unsigned tcp, udp, ip;

    net_rx_pkt_get_protocols(core->rx_pkt, &ip4, &ip6, &l4);
    if (ip4) {
        tcp = SPLITNET_HASH_TYPE_TCPV4;
        udp = SPLITNET_HASH_TYPE_UDPV4;
        ip = SPLITNET_HASH_TYPE_IPV4;
    } else if (ip6) {
        tcp = SPLITNET_HASH_TYPE_TCPV6;
        udp = SPLITNET_HASH_TYPE_UDPV6;
        ip = SPLITNET_HASH_TYPE_IPV6;
    } else {
        return SPLITNET_HASH_TYPE_NONE;
    }
    if (l4 == ETH_L4_HDR_PROTO_TCP && (types & SPLITNET_RSS_HASH(tcp))) {
        return tcp;
    }
    if (l4 == ETH_L4_HDR_PROTO_UDP && (types & SPLITNET_RSS_HASH(udp))) {
        return udp;
    }
    return types & SPLITNET_RSS_HASH(ip) ? ip : SPLITNET_HASH_TYPE_NONE;
}

/*
 * The pair whose RX queue gets the frame (after @skip bytes of @iov), and
 * the hash for its first descriptor.  Frames RSS cannot classify go to
 * the default pair, without a hash.
 */
unsigned splitnet_rx_steer(SplitnetCore *core, unsigned nc,
                           const struct iovec *iov, int iovcnt, size_t skip,
                           SplitnetRxHash *hash)
{
    unsigned type, pair;

    *hash = (SplitnetRxHash) { 0 };
    if (!(core->drv_features & SPLITNET_F_MQ) || !core->rss_hash_types) {
        return splitnet_rx_default_pair(core, nc);
    }
    net_rx_pkt_set_protocols(core->rx_pkt, iov, iovcnt, skip);
    type = splitnet_rss_type(core);
    if (type == SPLITNET_HASH_TYPE_NONE) {
        return splitnet_rx_default_pair(core, nc);
    }
    hash->hash = net_rx_pkt_calc_rss_hash(core->rx_pkt,
                                          splitnet_rss_types[type],
                                          core->rss_key);
    hash->flags = SPLITNET_RXD_HASH | type << SPLITNET_RXD_HASH_TYPE_SHIFT;
    pair = core->rss_indir[hash->hash % SPLITNET_RSS_INDIR_SIZE];
    if (!splitnet_rx_pair_ok(core, pair)) {
        pair = 0;
    }
    trace_splitnet_rx_steer(nc, type, hash->hash, pair);
    return pair;
}
