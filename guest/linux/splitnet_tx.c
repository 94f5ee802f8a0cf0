// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * splitnet: transmit path.
 *
 * Each frame's head (the whole frame when it fits, else the headers an
 * offload needs, or the Ethernet header of a frame without offloads) is
 * copied into the header pool slot of the frame's first descriptor; the
 * device copies only those bytes out of guest memory.  The rest of the
 * linear part and every page fragment are DMA-mapped and passed by
 * reference, one descriptor each.
 *
 * Each queue pair has its own ring and header pool; a frame goes on the
 * ring of the netdev TX queue the stack picked (XPS: the CPU's own pair).
 * start_xmit owns tx->prod and tx->kicked, NAPI owns tx->clean; the queue
 * is stopped and woken without a lock, with barriers on both sides.
 *
 * The TX interrupt is asked for only while frames are in flight: start_xmit
 * reclaims what the device finished, usually within the doorbell write,
 * and asks for it when it leaves frames behind, and so does NAPI.  Both
 * write intr_event under the TX lock.
 */

#include <linux/etherdevice.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/tcp.h>
#include <linux/udp.h>

#include "splitnet.h"

static u32 splitnet_tx_avail(const struct splitnet_tx_ring *tx)
{
	return tx->size - (tx->prod - READ_ONCE(tx->clean));
}

static void splitnet_tx_unmap(struct device *dev, struct splitnet_tx_buf *buf)
{
	switch (buf->map) {
	case SPLITNET_TX_MAP_SINGLE:
		dma_unmap_single(dev, buf->dma, buf->len, DMA_TO_DEVICE);
		break;
	case SPLITNET_TX_MAP_PAGE:
		dma_unmap_page(dev, buf->dma, buf->len, DMA_TO_DEVICE);
		break;
	}
	buf->map = SPLITNET_TX_MAP_NONE;
}

/* End of the L4 header when the stack has told us where it starts. */
static unsigned int splitnet_tx_l4_end(const struct sk_buff *skb)
{
	unsigned int headlen = skb_headlen(skb);
	int net = skb_network_offset(skb);
	int l4 = skb_transport_offset(skb);
	u8 proto;

	if (!skb_transport_header_was_set(skb) || net < ETH_HLEN || l4 <= net ||
	    l4 > headlen)
		return 0;
	switch (skb->protocol) {
	case htons(ETH_P_IP):
		if (net + sizeof(struct iphdr) > headlen)
			return 0;
		proto = ip_hdr(skb)->protocol;
		break;
	case htons(ETH_P_IPV6):
		if (net + sizeof(struct ipv6hdr) > headlen)
			return 0;
		proto = ipv6_hdr(skb)->nexthdr;
		break;
	default:
		return l4;
	}
	if (proto == IPPROTO_TCP && l4 + sizeof(struct tcphdr) <= headlen)
		return l4 + tcp_hdrlen(skb);
	if (proto == IPPROTO_UDP)
		return l4 + sizeof(struct udphdr);
	return l4;
}

/*
 * The head an offload needs: every header the device reads or rewrites
 * (all headers for TSO, up to the checksum field for CHECKSUM_PARTIAL).
 */
static unsigned int splitnet_tx_offload_head(const struct sk_buff *skb)
{
	if (skb_is_gso(skb) && skb_shinfo(skb)->gso_type & SKB_GSO_UDP_L4)
		return skb_transport_offset(skb) + sizeof(struct udphdr);
	if (skb_is_gso(skb))
		return skb_tcp_all_headers(skb);
	if (skb->ip_summed == CHECKSUM_PARTIAL)
		return skb_checksum_start_offset(skb) + skb->csum_offset +
		       sizeof(__sum16);
	return 0;
}

/*
 * How many bytes go into the pool slot: the whole frame when it fits,
 * exactly the headers of a TSO or USO frame, the headers (and at least
 * what a checksum offload needs) of a checksum offload, bounded by the
 * slot, and only the Ethernet header of a frame without offloads (the
 * device reads nothing else of it).  They are copied wherever they lie;
 * the payload descriptors start where the head ends.
 */
static unsigned int splitnet_tx_head_len(const struct splitnet_tx_ring *tx,
					 struct sk_buff *skb)
{
	unsigned int need = splitnet_tx_offload_head(skb);
	unsigned int len;

	if (skb_is_gso(skb))
		return need;
	if (skb->len <= tx->slot_size)
		return skb->len;
	if (!need)
		return ETH_HLEN;
	len = splitnet_tx_l4_end(skb);
	if (!len)
		len = eth_get_headlen(skb->dev, skb->data, skb_headlen(skb));
	len = max_t(unsigned int, max(len, need), ETH_HLEN);
	return min(len, tx->slot_size);
}

static void splitnet_tx_fill(struct splitnet_tx_ring *tx, u32 idx,
			     dma_addr_t dma, u32 len, u8 map)
{
	struct splitnet_tx_buf *buf = &tx->bufs[idx & tx->mask];
	struct splitnet_tx_desc d = {
		.addr = cpu_to_le64(dma),
		.len = cpu_to_le32(len),
	};

	buf->skb = NULL;
	buf->dma = dma;
	buf->len = len;
	buf->map = map;
	tx->desc[idx & tx->mask] = d;
}

/*
 * Map the payload from offset @hdr_len: the rest of the linear part, then
 * every fragment; the head may end inside a fragment.
 */
static int splitnet_tx_map_payload(struct splitnet_tx_ring *tx,
				   struct sk_buff *skb, unsigned int hdr_len,
				   u32 *idx)
{
	struct device *dev = &tx->priv->pdev->dev;
	unsigned int headlen = skb_headlen(skb);
	unsigned int skip = hdr_len > headlen ? hdr_len - headlen : 0;
	unsigned int len;
	u32 first = *idx;
	dma_addr_t dma;
	int i;

	if (hdr_len < headlen) {
		len = headlen - hdr_len;
		dma = dma_map_single(dev, skb->data + hdr_len, len,
				     DMA_TO_DEVICE);
		if (dma_mapping_error(dev, dma))
			return -ENOMEM;
		splitnet_tx_fill(tx, (*idx)++, dma, len, SPLITNET_TX_MAP_SINGLE);
	}
	for (i = 0; i < skb_shinfo(skb)->nr_frags; i++) {
		const skb_frag_t *frag = &skb_shinfo(skb)->frags[i];

		len = skb_frag_size(frag);
		if (skip >= len) {
			skip -= len;
			continue;
		}
		dma = skb_frag_dma_map(dev, frag, skip, len - skip,
				       DMA_TO_DEVICE);
		if (dma_mapping_error(dev, dma))
			goto unwind;
		splitnet_tx_fill(tx, (*idx)++, dma, len - skip,
				 SPLITNET_TX_MAP_PAGE);
		skip = 0;
	}
	return 0;

unwind:
	while (*idx != first)
		splitnet_tx_unmap(dev, &tx->bufs[--(*idx) & tx->mask]);
	return -ENOMEM;
}

static u8 splitnet_tx_gso_type(const struct sk_buff *skb)
{
	unsigned int type = skb_shinfo(skb)->gso_type;

	if (type & SKB_GSO_UDP_L4)
		return SPLITNET_GSO_UDP_L4;
	return type & SKB_GSO_TCPV6 ? SPLITNET_GSO_TCPV6 : SPLITNET_GSO_TCPV4;
}

/*
 * The offload request, in the frame's first descriptor.  A VLAN tag the
 * stack left out of the frame (NETIF_F_HW_VLAN_CTAG_TX) is inserted by
 * the device; splitnet_features_check() keeps such frames away unless
 * F_VLAN was negotiated.
 */
static void splitnet_tx_offload(struct splitnet_tx_desc *desc,
				const struct sk_buff *skb)
{
	const struct skb_shared_info *shinfo = skb_shinfo(skb);
	u16 flags = le16_to_cpu(desc->flags);

	if (skb_vlan_tag_present(skb)) {
		desc->vlan_tci = cpu_to_le16(skb_vlan_tag_get(skb));
		flags |= SPLITNET_TXD_VLAN;
	}
	if (skb_is_gso(skb)) {
		desc->gso_size = cpu_to_le16(shinfo->gso_size);
		desc->gso_type = splitnet_tx_gso_type(skb);
		flags |= SPLITNET_TXD_TSO;
	} else if (skb->ip_summed == CHECKSUM_PARTIAL) {
		desc->csum_start = cpu_to_le16(skb_checksum_start_offset(skb));
		desc->csum_offset = cpu_to_le16(skb->csum_offset);
		flags |= SPLITNET_TXD_CSUM;
	}
	desc->flags = cpu_to_le16(flags);
}

/*
 * Write one frame's head and descriptors, starting at tx->prod, without
 * publishing them.  Returns the number of descriptors or a negative error.
 */
static int splitnet_tx_map(struct splitnet_tx_ring *tx, struct sk_buff *skb)
{
	u32 first = tx->prod, idx = first;
	unsigned int hdr_len = splitnet_tx_head_len(tx, skb);
	u8 *slot = tx->pool + (first & tx->mask) * tx->slot_size;
	struct splitnet_tx_desc *desc;

	if (hdr_len > tx->slot_size)
		return -EINVAL;
	if (likely(hdr_len <= skb_headlen(skb)))
		memcpy(slot, skb->data, hdr_len);
	else if (skb_copy_bits(skb, 0, slot, hdr_len))
		return -EINVAL;
	if (hdr_len == skb->len)
		tx->xstats.whole_frames++;	/* nothing by reference */
	else if (splitnet_tx_map_payload(tx, skb, hdr_len, &idx))
		return -ENOMEM;
	if (idx == first)
		splitnet_tx_fill(tx, idx++, 0, 0, SPLITNET_TX_MAP_NONE);

	desc = &tx->desc[(idx - 1) & tx->mask];
	desc->flags = cpu_to_le16(SPLITNET_TXD_EOP);
	desc = &tx->desc[first & tx->mask];
	desc->hdr_len = cpu_to_le16(hdr_len);
	splitnet_tx_offload(desc, skb);
	tx->bufs[(idx - 1) & tx->mask].skb = skb;
	tx->xstats.head_bytes += hdr_len;
	return idx - first;
}

/* Make @ndesc more descriptors visible to the device. */
static void splitnet_tx_publish(struct splitnet_tx_ring *tx, u32 ndesc)
{
	tx->prod += ndesc;
	/* Descriptors and pool slot before the producer index. */
	dma_wmb();
	WRITE_ONCE(tx->status->prod, cpu_to_le32(tx->prod));
}

/* Write the doorbell if the device needs it for what was published. */
static void splitnet_tx_kick(struct splitnet_tx_ring *tx)
{
	u32 old = tx->kicked, new = tx->prod;

	if (old == new)
		return;
	tx->kicked = new;
	if (splitnet_has(tx->priv, SPLITNET_F_EVENT_IDX)) {
		/* prod is stored before doorbell_event is read. */
		mb();
		if (!splitnet_need_event(le32_to_cpu(READ_ONCE(tx->status->doorbell_event)),
					 new, old))
			return;
	}
	iowrite32(new, tx->doorbell);
	tx->xstats.doorbells++;
}

/* Stop the queue when another frame might not fit; true if stopped. */
static bool splitnet_tx_maybe_stop(struct splitnet_tx_ring *tx,
				   struct netdev_queue *txq)
{
	if (likely(splitnet_tx_avail(tx) >= tx->max_frame_descs))
		return false;
	netif_tx_stop_queue(txq);
	/* The stop bit is set before we look at tx->clean again. */
	smp_mb__after_atomic();
	if (splitnet_tx_avail(tx) >= tx->max_frame_descs) {
		netif_tx_start_queue(txq);
		return false;
	}
	tx->xstats.stops++;
	return true;
}

static netdev_tx_t splitnet_xmit(struct splitnet_tx_ring *tx,
				 struct netdev_queue *txq, struct sk_buff *skb)
{
	bool more = netdev_xmit_more();
	int ndesc = 0;
	bool kick;

	if (unlikely(splitnet_tx_avail(tx) < tx->max_frame_descs)) {
		/* Not expected: the queue stops before the ring fills. */
		netif_tx_stop_queue(txq);
		splitnet_tx_kick(tx);
		tx->xstats.busy++;
		return NETDEV_TX_BUSY;
	}
	/* Not expected either: splitnet_features_check() asks the stack. */
	if (skb_vlan_tag_present(skb) &&
	    !splitnet_has(tx->priv, SPLITNET_F_VLAN)) {
		skb = __vlan_hwaccel_push_inside(skb);
		if (!skb) {
			tx->xstats.dropped++;
			if (!more)
				splitnet_tx_kick(tx);
			return NETDEV_TX_OK;
		}
	}
	if (skb_shinfo(skb)->nr_frags + 1 > tx->max_frame_descs) {
		if (skb_linearize(skb))
			goto drop;
		tx->xstats.linearized++;
	}
	/* Not expected: splitnet_features_check() keeps such frames away. */
	if (skb->ip_summed == CHECKSUM_PARTIAL && !skb_is_gso(skb) &&
	    splitnet_tx_offload_head(skb) > tx->slot_size &&
	    skb_checksum_help(skb))
		goto drop;
	ndesc = splitnet_tx_map(tx, skb);
	if (ndesc < 0)
		goto drop;

	skb_tx_timestamp(skb);
	/* BQL first: the device may complete the frame once it is published. */
	kick = __netdev_tx_sent_queue(txq, skb->len, more);
	splitnet_tx_publish(tx, ndesc);
	if (splitnet_tx_maybe_stop(tx, txq))
		kick = true;
	if (kick)
		splitnet_tx_kick(tx);
	return NETDEV_TX_OK;

drop:
	dev_kfree_skb_any(skb);
	tx->xstats.dropped++;
	if (ndesc == -ENOMEM)
		tx->xstats.map_errors++;
	if (!more)
		splitnet_tx_kick(tx);
	return NETDEV_TX_OK;
}

/*
 * Can the device segment this GSO frame? (spec: "TCP segmentation", "UDP
 * segmentation")
 */
static bool splitnet_tso_ok(const struct sk_buff *skb, unsigned int slot)
{
	const struct skb_shared_info *shinfo = skb_shinfo(skb);
	u8 l4 = shinfo->gso_type & SKB_GSO_UDP_L4 ? IPPROTO_UDP : IPPROTO_TCP;

	if (skb->encapsulation || skb_network_offset(skb) != ETH_HLEN ||
	    !(shinfo->gso_type &
	      (SKB_GSO_TCPV4 | SKB_GSO_TCPV6 | SKB_GSO_UDP_L4)) ||
	    shinfo->gso_size < SPLITNET_TSO_MIN_SEG_SIZE ||
	    splitnet_tx_offload_head(skb) > slot)
		return false;
	/* The device segments IPv6 without extension headers only. */
	if (skb->protocol == htons(ETH_P_IPV6))
		return ipv6_hdr(skb)->nexthdr == l4;
	return skb->protocol == htons(ETH_P_IP);
}

/*
 * Offloads whose headers would not fit the slot are done by the stack;
 * so is a VLAN tag when the device may not insert it (F_VLAN is off while
 * rx-vlan-offload is off).
 */
netdev_features_t splitnet_features_check(struct sk_buff *skb,
					  struct net_device *dev,
					  netdev_features_t features)
{
	struct splitnet_priv *priv = netdev_priv(dev);

	if (!splitnet_has(priv, SPLITNET_F_VLAN))
		features &= ~NETIF_F_HW_VLAN_CTAG_TX;
	if (skb->ip_summed != CHECKSUM_PARTIAL)
		return features;
	if (splitnet_tx_offload_head(skb) > priv->slot_size)
		features &= ~(NETIF_F_CSUM_MASK | NETIF_F_GSO_MASK);
	if (skb_is_gso(skb) && !splitnet_tso_ok(skb, priv->slot_size))
		features &= ~NETIF_F_GSO_MASK;
	return features;
}

/*
 * TX completion: free what the device has finished.  Called with the TX
 * queue lock held, from start_xmit or from NAPI (budget 0 or not).
 */
static void splitnet_tx_clean(struct splitnet_tx_ring *tx, int budget)
{
	struct splitnet_priv *priv = tx->priv;
	struct netdev_queue *txq = netdev_get_tx_queue(priv->netdev, tx->qid);
	struct device *dev = &priv->pdev->dev;
	u32 cons = le32_to_cpu(READ_ONCE(tx->status->cons));
	u32 clean = tx->clean;
	unsigned int pkts = 0, bytes = 0;
	struct splitnet_tx_buf *buf;

	if (unlikely(cons - clean > tx->prod - clean)) {
		netdev_err_once(priv->netdev, "TX cons %u beyond prod %u\n",
				cons, tx->prod);
		splitnet_ring_error(priv);
		return;
	}
	if (cons == clean)
		return;
	for (; clean != cons; clean++) {
		buf = &tx->bufs[clean & tx->mask];
		splitnet_tx_unmap(dev, buf);
		if (buf->skb) {
			pkts++;
			bytes += buf->skb->len;
			napi_consume_skb(buf->skb, budget);
			buf->skb = NULL;
		}
	}
	WRITE_ONCE(tx->clean, clean);
	netdev_tx_completed_queue(txq, pkts, bytes);

	u64_stats_update_begin(&tx->cstats.syncp);
	tx->cstats.packets += pkts;
	tx->cstats.bytes += bytes;
	/* tx->clean is visible before we look at the stop bit. */
	smp_mb();
	if (unlikely(netif_tx_queue_stopped(txq)) &&
	    splitnet_tx_avail(tx) >= tx->max_frame_descs && priv->up) {
		netif_tx_wake_queue(txq);
		tx->cstats.wakes++;
	}
	u64_stats_update_end(&tx->cstats.syncp);
}

/*
 * With the TX lock held: ask for the TX interrupt when about three quarters
 * of what is in flight has completed (as virtio's delayed callbacks do):
 * the queue is not woken per frame, yet never waits for more than is
 * pending.  Nothing in flight wants no interrupt, and a request for a
 * frame still in flight stands.  Returns true when the device already
 * went past the new request: clean and look again.
 */
static bool splitnet_tx_arm_locked(struct splitnet_tx_ring *tx)
{
	u32 clean = tx->clean, prod = tx->prod, event, cons;

	if (prod == clean || tx->intr_event - clean < prod - clean)
		return false;
	event = clean + (prod - clean) * 3 / 4;
	tx->intr_event = event;
	WRITE_ONCE(tx->status->intr_event, cpu_to_le32(event));
	/* intr_event is stored before cons is read again. */
	mb();
	cons = le32_to_cpu(READ_ONCE(tx->status->cons));
	return splitnet_need_event(event, cons, clean);
}

netdev_tx_t splitnet_start_xmit(struct sk_buff *skb, struct net_device *dev)
{
	struct splitnet_priv *priv = netdev_priv(dev);
	u16 qid = skb_get_queue_mapping(skb);
	struct splitnet_tx_ring *tx = &priv->pairs[qid].tx;
	struct netdev_queue *txq = netdev_get_tx_queue(dev, qid);
	netdev_tx_t ret;

	/*
	 * What the device finished since the last call (frames queued with
	 * xmit_more, or sent by its bottom half) is reclaimed here, without
	 * waiting for the (moderated) TX interrupt.
	 */
	splitnet_tx_clean(tx, 0);
	u64_stats_update_begin(&tx->xstats.syncp);
	ret = splitnet_xmit(tx, txq, skb);
	u64_stats_update_end(&tx->xstats.syncp);
	if (netdev_xmit_more() && !netif_xmit_stopped(txq))
		return ret;
	/*
	 * The doorbell rang (or the stack waits for a wake-up): reclaim what
	 * was sent within it, and ask for the interrupt only for frames left
	 * in flight.  A sender the device keeps up with takes none.
	 */
	do {
		splitnet_tx_clean(tx, 0);
	} while (splitnet_has(priv, SPLITNET_F_EVENT_IDX) &&
		 splitnet_tx_arm_locked(tx));
	return ret;
}

/* TX completion from NAPI; when start_xmit holds the lock it cleans. */
void splitnet_tx_poll(struct splitnet_tx_ring *tx, int budget)
{
	struct netdev_queue *txq = netdev_get_tx_queue(tx->priv->netdev,
						       tx->qid);

	if (__netif_tx_trylock(txq)) {
		splitnet_tx_clean(tx, budget);
		__netif_tx_unlock(txq);
	}
}

/*
 * At the end of a NAPI poll: the TX interrupt for what is in flight (see
 * splitnet_tx_arm_locked()).  Returns true when there is more to clean.
 */
bool splitnet_tx_arm(struct splitnet_tx_ring *tx)
{
	struct netdev_queue *txq = netdev_get_tx_queue(tx->priv->netdev,
						       tx->qid);
	bool more;

	if (!splitnet_has(tx->priv, SPLITNET_F_EVENT_IDX)) {
		/* The device interrupts on every advance; catch a racing one. */
		return le32_to_cpu(READ_ONCE(tx->status->cons)) != tx->clean;
	}
	/* start_xmit holds the lock: it asks for what it leaves in flight. */
	if (!__netif_tx_trylock(txq))
		return false;
	more = splitnet_tx_arm_locked(tx);
	__netif_tx_unlock(txq);
	return more;
}

/* After a device reset: give back what the device never completed. */
void splitnet_tx_drain(struct splitnet_tx_ring *tx)
{
	struct device *dev = &tx->priv->pdev->dev;
	struct splitnet_tx_buf *buf;

	for (; tx->clean != tx->prod; tx->clean++) {
		buf = &tx->bufs[tx->clean & tx->mask];
		splitnet_tx_unmap(dev, buf);
		if (buf->skb) {
			dev_kfree_skb_any(buf->skb);
			buf->skb = NULL;
		}
	}
	netdev_tx_reset_queue(netdev_get_tx_queue(tx->priv->netdev, tx->qid));
}

/* Indices and limits for a start on the ring memory tx holds. */
void splitnet_tx_init(struct splitnet_priv *priv, struct splitnet_tx_ring *tx,
		      u16 qid)
{
	tx->priv = priv;
	tx->qid = qid;
	tx->status = &priv->status[SPLITNET_TXQ(qid)];
	tx->mask = tx->size - 1;
	tx->slot_size = priv->slot_size;
	tx->max_frame_descs = min_t(u32, MAX_SKB_FRAGS + 1,
				    min_t(u32, SPLITNET_TX_MAX_FRAGS, tx->size));
	tx->prod = 0;
	tx->kicked = 0;
	tx->clean = 0;
	tx->intr_event = 0;		/* as the zeroed status block has it */
	tx->doorbell = priv->regs + splitnet_qreg(SPLITNET_TXQ(qid),
						  SPLITNET_Q_DOORBELL);
}

/* Ring memory of @size descriptors into @tx (priv->tx or a spare). */
int splitnet_tx_alloc(struct splitnet_priv *priv, struct splitnet_tx_ring *tx,
		      u32 size)
{
	struct device *dev = &priv->pdev->dev;

	tx->size = size;
	tx->bufs = kcalloc(size, sizeof(*tx->bufs), GFP_KERNEL);
	if (!tx->bufs)
		return -ENOMEM;
	tx->desc = dma_alloc_coherent(dev, array_size(size, sizeof(*tx->desc)),
				      &tx->desc_dma, GFP_KERNEL);
	if (!tx->desc)
		goto abort_with_bufs;
	/* The header pool: registered once, one slot per descriptor. */
	tx->pool = dma_alloc_coherent(dev, array_size(size, priv->slot_size),
				      &tx->pool_dma, GFP_KERNEL);
	if (!tx->pool)
		goto abort_with_desc;
	return 0;

abort_with_desc:
	dma_free_coherent(dev, array_size(size, sizeof(*tx->desc)), tx->desc,
			  tx->desc_dma);
	tx->desc = NULL;
abort_with_bufs:
	kfree(tx->bufs);
	tx->bufs = NULL;
	return -ENOMEM;
}

void splitnet_tx_free(struct splitnet_priv *priv, struct splitnet_tx_ring *tx)
{
	struct device *dev = &priv->pdev->dev;

	if (!tx->desc)
		return;

	dma_free_coherent(dev, array_size(tx->size, priv->slot_size), tx->pool,
			  tx->pool_dma);
	dma_free_coherent(dev, array_size(tx->size, sizeof(*tx->desc)),
			  tx->desc, tx->desc_dma);
	kfree(tx->bufs);
	tx->pool = NULL;
	tx->desc = NULL;
	tx->bufs = NULL;
}

/* Exchange the ring memory of @a and @b (a resize). */
void splitnet_tx_swap_mem(struct splitnet_tx_ring *a,
			  struct splitnet_tx_ring *b)
{
	swap(a->desc, b->desc);
	swap(a->desc_dma, b->desc_dma);
	swap(a->pool, b->pool);
	swap(a->pool_dma, b->pool_dma);
	swap(a->bufs, b->bufs);
	swap(a->size, b->size);
}
