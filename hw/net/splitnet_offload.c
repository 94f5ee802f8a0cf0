/*
 * splitnet: head-copy paravirtual NIC, TX checksum and segmentation
 *
 * The checksum of a TXD_CSUM frame is computed over the private head copy
 * and the payload scatter list, and stored only in the head copy.  A TSO
 * or USO frame becomes segments that are each a freshly rewritten copy of
 * the headers (IP id and length, TCP sequence number and flags or UDP
 * length, checksums) in device memory followed by slices of the payload
 * pieces the frame already references: no payload byte is copied, and
 * guest memory is not touched.
 *
 * A peer that takes a virtio-net header (tap with vnet_hdr) is given the
 * frame whole instead, with a header that asks it to do the same work.
 *
 * Every header read or rewritten here lies inside the head (hdr_len),
 * which the device copied once; a request that needs anything else is a
 * guest error and the frame is dropped.
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/log.h"
#include "net/checksum.h"
#include "net/eth.h"
#include "splitnet_core.h"
#include "splitnet_offload.h"
#include "trace.h"

#define SPLITNET_OFFLOAD_ERR(q, why, a, b) \
    SPLITNET_GUEST_ERR(splitnet_err_tx_offload, "queue %u: %s (%u, %u)", \
                       q, why, (uint32_t)(a), (uint32_t)(b))

/* Offsets inside the IPv4, IPv6 and TCP headers. */
#define IP4_HLEN_MIN    20
#define IP4_OFF_LEN     2
#define IP4_OFF_ID      4
#define IP4_OFF_FRAG    6
#define IP4_OFF_PROTO   9
#define IP4_OFF_ADDRS   12
#define IP4_FRAG_MASK   0x3fff  /* MF and the fragment offset */
#define IP6_HLEN        40
#define IP6_OFF_PLEN    4
#define IP6_OFF_NEXT    6
#define IP6_OFF_ADDRS   8
#define UDP_HLEN        8
#define UDP_OFF_LEN     4
#define UDP_OFF_CHECK   6
#define TCP_HLEN        20
#define TCP_OFF_SEQ     4
#define TCP_OFF_DOFF    12
#define TCP_OFF_FLAGS   13
#define TCP_OFF_CHECK   16
#define TCP_FIN         0x01
#define TCP_PSH         0x08
#define TCP_CWR         0x80

/* Offload flags and types the driver may use with these features. */
bool splitnet_offload_desc_ok(uint32_t q, uint64_t features,
                              const struct splitnet_tx_desc *d)
{
    uint64_t need = 0;

    if (d->flags & SPLITNET_TXD_CSUM) {
        need |= SPLITNET_F_TX_CSUM;
    }
    if (d->flags & SPLITNET_TXD_TSO) {
        switch (d->gso_type) {
        case SPLITNET_GSO_TCPV4:
            need |= SPLITNET_F_TSO4;
            break;
        case SPLITNET_GSO_TCPV6:
            need |= SPLITNET_F_TSO6;
            break;
        case SPLITNET_GSO_UDP_L4:
            need |= SPLITNET_F_USO;
            break;
        default:
            SPLITNET_OFFLOAD_ERR(q, "unknown gso_type", d->gso_type, 0);
            return false;
        }
    }
    if (d->flags & SPLITNET_TXD_VLAN) {
        need |= SPLITNET_F_VLAN;
    }
    if ((features & need) != need) {
        SPLITNET_OFFLOAD_ERR(q, "offload not negotiated", d->flags,
                             d->gso_type);
        return false;
    }
    return true;
}

/*
 * TXD_CSUM: the 16-bit ones' complement sum from csum_start to the end of
 * the frame, complemented, at csum_start + csum_offset.  The field's own
 * content (the driver's pseudo-header sum) is part of the sum, as for
 * virtio's NEEDS_CSUM; a result of 0 is sent as 0xffff, as Linux does.
 */
bool splitnet_offload_csum(uint32_t q, uint8_t *head, uint16_t hdr_len,
                           const struct iovec *payload, unsigned npayload,
                           size_t payload_len,
                           const struct splitnet_tx_desc *d)
{
    uint32_t field = (uint32_t)d->csum_start + d->csum_offset;
    uint32_t sum;
    uint16_t csum;

    if (field + 2 > hdr_len) {
        SPLITNET_OFFLOAD_ERR(q, "checksum field outside the head",
                             d->csum_start, d->csum_offset);
        return false;
    }
    sum = net_checksum_add(hdr_len - d->csum_start, head + d->csum_start);
    sum += net_checksum_add_iov(payload, npayload, 0, payload_len,
                                hdr_len - d->csum_start);
    csum = net_checksum_finish_nozero(sum);
    stw_be_p(head + field, csum);
    trace_splitnet_tx_csum(q, d->csum_start, d->csum_offset, csum);
    return true;
}

/* L2: Ethernet, optionally one 802.1Q tag.  Returns the L3 offset or 0. */
static uint16_t splitnet_tso_l3(const uint8_t *head, uint16_t hdr_len,
                                uint16_t *proto)
{
    uint16_t off = ETH_HLEN;

    if (hdr_len < ETH_HLEN) {
        return 0;
    }
    *proto = lduw_be_p(head + 12);
    if (*proto == ETH_P_VLAN) {
        off += sizeof(struct vlan_header);
        if (hdr_len < off) {
            return 0;
        }
        *proto = lduw_be_p(head + off - 2);
    }
    return off;
}

static bool splitnet_tso_ip4(SplitnetTso *t, uint32_t q)
{
    const uint8_t *ip = t->head + t->l3;
    unsigned ihl;

    if (t->l3 + IP4_HLEN_MIN > t->hdr_len) {
        SPLITNET_OFFLOAD_ERR(q, "IPv4 header outside the head", t->l3,
                             t->hdr_len);
        return false;
    }
    ihl = (ip[0] & 0xf) * 4;
    if ((ip[0] >> 4) != 4 || ihl < IP4_HLEN_MIN || t->l3 + ihl > t->hdr_len) {
        SPLITNET_OFFLOAD_ERR(q, "bad IPv4 header", ip[0], t->hdr_len);
        return false;
    }
    if (ip[IP4_OFF_PROTO] != t->l4proto ||
        (lduw_be_p(ip + IP4_OFF_FRAG) & IP4_FRAG_MASK)) {
        SPLITNET_OFFLOAD_ERR(q, "IPv4 not TCP/UDP as asked, or a fragment",
                             ip[IP4_OFF_PROTO], lduw_be_p(ip + IP4_OFF_FRAG));
        return false;
    }
    t->ipv4 = true;
    t->ip_id = lduw_be_p(ip + IP4_OFF_ID);
    t->l4 = t->l3 + ihl;
    return true;
}

static bool splitnet_tso_ip6(SplitnetTso *t, uint32_t q)
{
    const uint8_t *ip = t->head + t->l3;

    if (t->l3 + IP6_HLEN > t->hdr_len || (ip[0] >> 4) != 6) {
        SPLITNET_OFFLOAD_ERR(q, "bad IPv6 header", t->l3, t->hdr_len);
        return false;
    }
    /* Extension headers are not segmented: the driver falls back. */
    if (ip[IP6_OFF_NEXT] != t->l4proto) {
        SPLITNET_OFFLOAD_ERR(q, "IPv6 next header not TCP/UDP as asked",
                             ip[IP6_OFF_NEXT], 0);
        return false;
    }
    t->ipv4 = false;
    t->l4 = t->l3 + IP6_HLEN;
    return true;
}

/* USO: the UDP header, 8 bytes, is the last of the head. */
static bool splitnet_uso_udp(SplitnetTso *t, uint32_t q)
{
    if (t->l4 + UDP_HLEN != t->hdr_len) {
        SPLITNET_OFFLOAD_ERR(q, "UDP header does not end at hdr_len",
                             t->l4 + UDP_HLEN, t->hdr_len);
        return false;
    }
    return true;
}

/*
 * L2 to L4 of a TSO or USO frame, all inside the head, ending exactly at
 * it.  GSO_UDP_L4 is IPv4 or IPv6, as the EtherType says.
 */
static bool splitnet_tso_parse(SplitnetTso *t, uint32_t q, uint8_t gso_type)
{
    uint16_t proto = 0;
    unsigned doff;
    bool v4;

    t->udp = gso_type == SPLITNET_GSO_UDP_L4;
    t->l4proto = t->udp ? IP_PROTO_UDP : IP_PROTO_TCP;
    t->l3 = splitnet_tso_l3(t->head, t->hdr_len, &proto);
    v4 = t->udp ? proto == ETH_P_IP : gso_type == SPLITNET_GSO_TCPV4;
    if (!t->l3 || proto != (v4 ? ETH_P_IP : ETH_P_IPV6)) {
        SPLITNET_OFFLOAD_ERR(q, "L3 protocol does not match gso_type",
                             proto, gso_type);
        return false;
    }
    if (!(v4 ? splitnet_tso_ip4(t, q) : splitnet_tso_ip6(t, q))) {
        return false;
    }
    if (t->udp) {
        return splitnet_uso_udp(t, q);
    }
    if (t->l4 + TCP_HLEN > t->hdr_len) {
        SPLITNET_OFFLOAD_ERR(q, "TCP header outside the head", t->l4,
                             t->hdr_len);
        return false;
    }
    doff = (t->head[t->l4 + TCP_OFF_DOFF] >> 4) * 4;
    if (doff < TCP_HLEN || t->l4 + doff != t->hdr_len) {
        SPLITNET_OFFLOAD_ERR(q, "TCP header length is not hdr_len",
                             t->l4 + doff, t->hdr_len);
        return false;
    }
    t->seq = ldl_be_p(t->head + t->l4 + TCP_OFF_SEQ);
    return true;
}

/* Sizes: the work per frame is bounded by TSO_MAX_SIZE and TSO_MAX_SEGS. */
static bool splitnet_tso_sizes(SplitnetTso *t, uint32_t q, size_t max_frame)
{
    if (!t->payload_len || t->hdr_len + t->payload_len >
        SPLITNET_TSO_MAX_SIZE) {
        SPLITNET_OFFLOAD_ERR(q, "TSO payload length", t->payload_len,
                             t->hdr_len);
        return false;
    }
    if (t->mss < SPLITNET_TSO_MIN_SEG_SIZE ||
        t->hdr_len + t->mss > max_frame) {
        SPLITNET_OFFLOAD_ERR(q, "gso_size", t->mss, max_frame);
        return false;
    }
    t->nsegs = DIV_ROUND_UP(t->payload_len, t->mss);
    if (t->nsegs > SPLITNET_TSO_MAX_SEGS) {
        SPLITNET_OFFLOAD_ERR(q, "too many segments", t->nsegs,
                             SPLITNET_TSO_MAX_SEGS);
        return false;
    }
    return true;
}

/*
 * Check a TSO request against the head copy and prepare to cut it.  The
 * payload scatter list must stay valid until the last segment is sent.
 */
bool splitnet_tso_begin(SplitnetTso *t, uint32_t q, const uint8_t *head,
                        uint16_t hdr_len, const struct iovec *payload,
                        unsigned npayload, size_t payload_len,
                        const struct splitnet_tx_desc *d, size_t max_frame)
{
    *t = (SplitnetTso) {
        .head = head,
        .hdr_len = hdr_len,
        .mss = d->gso_size,
        .payload = payload,
        .npayload = npayload,
        .payload_len = payload_len,
    };
    if (!splitnet_tso_parse(t, q, d->gso_type) ||
        !splitnet_tso_sizes(t, q, max_frame)) {
        return false;
    }
    trace_splitnet_tx_tso(q, d->gso_type, hdr_len, t->mss, payload_len,
                          t->nsegs);
    return true;
}

/* Slices of the payload for the next len bytes, from the saved cursor. */
static unsigned splitnet_tso_slice(SplitnetTso *t, struct iovec *iov,
                                   size_t len)
{
    unsigned n = 0;
    size_t l;

    while (len) {
        const struct iovec *p = &t->payload[t->piece];

        l = MIN(len, p->iov_len - t->piece_off);
        iov[n++] = (struct iovec) {
            .iov_base = (uint8_t *)p->iov_base + t->piece_off,
            .iov_len = l,
        };
        len -= l;
        t->piece_off += l;
        if (t->piece_off == p->iov_len) {
            t->piece++;
            t->piece_off = 0;
        }
    }
    return n;
}

/*
 * IP length, id and checksum; TCP sequence number and flags, or UDP
 * length; the L4 checksum field cleared for the sum.
 */
static void splitnet_tso_rewrite(SplitnetTso *t, uint8_t *h, size_t len)
{
    uint8_t *tcp = h + t->l4;
    uint8_t flags;

    if (t->ipv4) {
        stw_be_p(h + t->l3 + IP4_OFF_LEN, t->hdr_len - t->l3 + len);
        stw_be_p(h + t->l3 + IP4_OFF_ID, (uint16_t)(t->ip_id + t->seg));
        eth_fix_ip4_checksum(h + t->l3, t->l4 - t->l3);
    } else {
        stw_be_p(h + t->l3 + IP6_OFF_PLEN, t->hdr_len - t->l4 + len);
    }
    if (t->udp) {
        stw_be_p(tcp + UDP_OFF_LEN, UDP_HLEN + len);
        stw_be_p(tcp + UDP_OFF_CHECK, 0);
        return;
    }
    stl_be_p(tcp + TCP_OFF_SEQ, t->seq + t->seg * t->mss);
    flags = tcp[TCP_OFF_FLAGS];
    if (t->seg + 1 < t->nsegs) {
        flags &= ~(TCP_FIN | TCP_PSH);
    }
    if (t->seg) {
        flags &= ~TCP_CWR;
    }
    tcp[TCP_OFF_FLAGS] = flags;
    stw_be_p(tcp + TCP_OFF_CHECK, 0);
}

/*
 * The L4 checksum of a segment: pseudo-header, L4 header, payload.  A UDP
 * sum of 0 is sent as 0xffff: 0 would mean "no checksum".
 */
static void splitnet_tso_l4_csum(SplitnetTso *t, uint8_t *h,
                                 const struct iovec *iov, unsigned n,
                                 size_t len)
{
    uint16_t l4len = t->hdr_len - t->l4 + len;
    uint32_t sum = t->l4proto + l4len;

    if (t->ipv4) {
        sum += net_checksum_add(8, h + t->l3 + IP4_OFF_ADDRS);
    } else {
        sum += net_checksum_add(32, h + t->l3 + IP6_OFF_ADDRS);
    }
    sum += net_checksum_add(t->hdr_len - t->l4, h + t->l4);
    sum += net_checksum_add_iov(iov, n, 0, len, t->hdr_len - t->l4);
    if (t->udp) {
        stw_be_p(h + t->l4 + UDP_OFF_CHECK, net_checksum_finish_nozero(sum));
        return;
    }
    stw_be_p(h + t->l4 + TCP_OFF_CHECK, net_checksum_finish(sum));
}

/*
 * Build the next segment: its headers in seg_head (hdr_len bytes), and
 * iov[] = [seg_head, payload slices...].  Returns its payload length, or 0
 * when every segment has been produced.
 */
size_t splitnet_tso_next(SplitnetTso *t, uint8_t *seg_head,
                         struct iovec *iov, unsigned *niov)
{
    size_t len;
    unsigned n;

    if (t->seg == t->nsegs) {
        return 0;
    }
    len = MIN(t->mss, t->payload_len - t->off);
    memcpy(seg_head, t->head, t->hdr_len);
    iov[0] = (struct iovec) { .iov_base = seg_head, .iov_len = t->hdr_len };
    n = splitnet_tso_slice(t, iov + 1, len);
    splitnet_tso_rewrite(t, seg_head, len);
    splitnet_tso_l4_csum(t, seg_head, iov + 1, n, len);
    *niov = 1 + n;
    t->off += len;
    t->seg++;
    return len;
}

/*
 * The checksum field lies in the head: the same rule as for the device's
 * own checksum.  The peer then does what TXD_CSUM asks (NEEDS_CSUM has the
 * same meaning), on its own copy of the frame.
 */
bool splitnet_csum_vnet_hdr(uint32_t q, uint16_t hdr_len,
                            const struct splitnet_tx_desc *d,
                            struct virtio_net_hdr *vh)
{
    if ((uint32_t)d->csum_start + d->csum_offset + 2 > hdr_len) {
        SPLITNET_OFFLOAD_ERR(q, "checksum field outside the head",
                             d->csum_start, d->csum_offset);
        return false;
    }
    vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vh->csum_start = d->csum_start;
    vh->csum_offset = d->csum_offset;
    trace_splitnet_tx_vnet_hdr(q, vh->flags, vh->gso_type, vh->hdr_len,
                               vh->gso_size, vh->csum_start, vh->csum_offset);
    return true;
}

/*
 * A TSO or USO frame checked by splitnet_tso_begin(), for a peer that
 * segments it.  The head copy gets what the device would otherwise derive
 * per segment from it: the IP length of the whole frame, the IPv4 header
 * checksum, the UDP length, and in the L4 checksum field the
 * pseudo-header sum that NEEDS_CSUM expects there (the driver's value is
 * ignored, as for segmentation).  The header is in host byte order, as
 * tap reads it.
 */
void splitnet_tso_vnet_hdr(const SplitnetTso *t, uint32_t q, uint8_t *head,
                           struct virtio_net_hdr *vh)
{
    uint32_t l4len = t->hdr_len - t->l4 + t->payload_len;
    uint32_t sum = t->l4proto + l4len;
    uint8_t *tcp = head + t->l4;
    uint16_t check = t->udp ? UDP_OFF_CHECK : TCP_OFF_CHECK;

    if (t->ipv4) {
        stw_be_p(head + t->l3 + IP4_OFF_LEN, t->l4 - t->l3 + l4len);
        eth_fix_ip4_checksum(head + t->l3, t->l4 - t->l3);
        sum += net_checksum_add(8, head + t->l3 + IP4_OFF_ADDRS);
    } else {
        stw_be_p(head + t->l3 + IP6_OFF_PLEN, l4len);
        sum += net_checksum_add(32, head + t->l3 + IP6_OFF_ADDRS);
    }
    if (t->udp) {
        stw_be_p(tcp + UDP_OFF_LEN, l4len);
    }
    stw_be_p(tcp + check, (uint16_t)~net_checksum_finish(sum));
    vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    if (t->udp) {
        vh->gso_type = VIRTIO_NET_HDR_GSO_UDP_L4;
    } else {
        vh->gso_type = t->ipv4 ? VIRTIO_NET_HDR_GSO_TCPV4 :
                                 VIRTIO_NET_HDR_GSO_TCPV6;
        if (tcp[TCP_OFF_FLAGS] & TCP_CWR) {
            vh->gso_type |= VIRTIO_NET_HDR_GSO_ECN;
        }
    }
    vh->hdr_len = t->hdr_len;
    vh->gso_size = t->mss;
    vh->csum_start = t->l4;
    vh->csum_offset = check;
    trace_splitnet_tx_vnet_hdr(q, vh->flags, vh->gso_type, vh->hdr_len,
                               vh->gso_size, vh->csum_start, vh->csum_offset);
}
