/*
 * splitnet: head-copy paravirtual NIC, receive checksum verification
 *
 * A backend without a virtio-net header hands the device bare frames.
 * The device checks their TCP and UDP checksums in host code, so that a
 * driver that accepted RX_CSUM need not check them again in guest code,
 * which under TCG is many times slower.
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "net/eth.h"
#include "net/checksum.h"
#include "splitnet_rx_csum.h"

/*
 * Bytes the L4 checksum covers, from the IP header's lengths; 0 when the
 * headers disagree with each other or with the frame, so that nothing is
 * vouched for that the guest's stack would read differently.  IP options
 * and IPv6 extension headers are left to the guest: a source route puts
 * another destination into the pseudo-header.
 */
static size_t splitnet_rx_csum_len(bool ip4, size_t l3, size_t l4,
                                   const eth_ip4_hdr_info *ip4i,
                                   const eth_ip6_hdr_info *ip6i,
                                   const eth_l4_hdr_info *l4i, size_t size)
{
    size_t ip_end, l4_len;

    if (ip4) {
        ip_end = l3 + be16_to_cpu(ip4i->ip4_hdr.ip_len);
        if (IP_HDR_GET_LEN(&ip4i->ip4_hdr) != sizeof(struct ip_header)) {
            return 0;
        }
    } else {
        if (ip6i->has_ext_hdrs) {
            return 0;
        }
        ip_end = l3 + sizeof(struct ip6_header) +
                 be16_to_cpu(ip6i->ip6_hdr.ip6_ctlun.ip6_un1.ip6_un1_plen);
    }
    if (ip_end > size || ip_end < l4) {
        return 0;
    }
    l4_len = ip_end - l4;
    if (l4i->proto == ETH_L4_HDR_PROTO_UDP) {
        size_t ulen = be16_to_cpu(l4i->hdr.udp.uh_ulen);

        /* A zero UDP checksum means none (RFC 768; IPv6 forbids it). */
        if (!l4i->hdr.udp.uh_sum || ulen < sizeof(struct udp_header) ||
            ulen > l4_len) {
            return 0;
        }
        return ulen;
    }
    return l4_len >= sizeof(struct tcp_header) ? l4_len : 0;
}

/* True when @iov (@size bytes) is TCP or UDP over IP with a right checksum. */
bool splitnet_rx_csum_valid(const struct iovec *iov, int iovcnt, size_t size)
{
    eth_ip4_hdr_info ip4i;
    eth_ip6_hdr_info ip6i;
    eth_l4_hdr_info l4i;
    size_t l3, l4, l5, csl;
    uint32_t sum, cso;
    bool ip4, ip6;

    eth_get_protocols(iov, iovcnt, 0, &ip4, &ip6, &l3, &l4, &l5,
                      &ip6i, &ip4i, &l4i);
    if (l4i.proto != ETH_L4_HDR_PROTO_TCP &&
        l4i.proto != ETH_L4_HDR_PROTO_UDP) {
        return false;
    }
    csl = splitnet_rx_csum_len(ip4, l3, l4, &ip4i, &ip6i, &l4i, size);
    if (!csl) {
        return false;
    }
    if (ip4) {
        sum = eth_calc_ip4_pseudo_hdr_csum(&ip4i.ip4_hdr, csl, &cso);
    } else {
        sum = eth_calc_ip6_pseudo_hdr_csum(&ip6i.ip6_hdr, csl, ip6i.l4proto,
                                           &cso);
    }
    sum += net_checksum_add_iov(iov, iovcnt, l4, csl, cso);
    return net_checksum_finish(sum) == 0;
}
