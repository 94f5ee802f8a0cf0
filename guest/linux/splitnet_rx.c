// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * splitnet: receive path.
 *
 * Every RX buffer is one page of the ring's page pool, laid out for
 * build_skb(): the device writes at SPLITNET_RX_HEADROOM and the tail is
 * left for the skb_shared_info.  A frame larger than a buffer spans
 * consecutive buffers (EOP on the last); those pages become fragments of
 * the skb.  Short frames are copied and their page is posted again as it
 * is.  The pool keeps its pages DMA-mapped, and the skbs give them back
 * when the stack is done with them (skb_mark_for_recycle()): the page
 * allocator, which clears every page it hands out (init_on_alloc, on in
 * Debian's kernels), and the DMA mapping then cost nothing per buffer.
 * Under TCG the allocator was a tenth of a guest's CPU time per MB of TCP
 * received over a tap (tests/bench/profile.sh --traffic tap-h2g).
 *
 * With F_RX_CSUM and F_RX_GSO the first descriptor says what the host
 * knows of the frame's checksum and whether it is a large TCP segment (up
 * to 64 KiB, 18 buffers); those fields mean what a virtio-net header's
 * do, so the kernel's virtio_net_hdr_to_skb() checks and applies them.
 * With F_VLAN it also carries the VLAN tag the device took out, and with
 * F_MQ the RSS hash that chose the queue pair, which becomes the skb's
 * hash (NETIF_F_RXHASH).
 */

#include <linux/etherdevice.h>
#include <linux/virtio_net.h>
#ifdef SPLITNET_HAVE_PAGE_POOL_HELPERS
#include <net/page_pool/helpers.h>
#else
#include <net/page_pool.h>
#endif

#include "splitnet.h"

/* Give buffer @idx a page (if it has none) and describe it to the device. */
static int splitnet_rx_fill(struct splitnet_rx_ring *rx, u32 idx, gfp_t gfp)
{
	struct splitnet_rx_buf *buf = &rx->bufs[idx & rx->mask];
	struct splitnet_rx_desc d = {};
	struct page *page;

	if (!buf->page) {
		page = page_pool_alloc_pages(rx->pool, gfp | __GFP_NOWARN);
		if (!page)
			return -ENOMEM;
		buf->page = page;
		buf->dma = page_pool_get_dma_addr(page);
	}
	d.addr = cpu_to_le64(buf->dma + SPLITNET_RX_HEADROOM);
	d.buf_len = cpu_to_le16(SPLITNET_RX_BUF_LEN);
	rx->desc[idx & rx->mask] = d;
	return 0;
}

/* True when the doorbell was written. */
static bool splitnet_rx_kick(struct splitnet_rx_ring *rx, u32 old)
{
	u32 new = rx->prod;

	if (splitnet_has(rx->priv, SPLITNET_F_EVENT_IDX)) {
		/* prod is stored before doorbell_event is read. */
		mb();
		if (!splitnet_need_event(le32_to_cpu(READ_ONCE(rx->status->doorbell_event)),
					 new, old))
			return false;
	}
	iowrite32(new, rx->doorbell);
	return true;
}

/*
 * Post every free ring entry; false when an allocation failed.  The
 * allocations may sleep (@gfp), so the stats section covers only the
 * counters.
 */
static bool splitnet_rx_refill(struct splitnet_rx_ring *rx, gfp_t gfp)
{
	u32 old = rx->prod;
	bool full = true, kicked = false;

	while (rx->prod - rx->clean < rx->size) {
		if (splitnet_rx_fill(rx, rx->prod, gfp)) {
			full = false;
			break;
		}
		rx->prod++;
	}
	if (rx->prod != old) {
		/* Descriptors before the producer index. */
		dma_wmb();
		WRITE_ONCE(rx->status->prod, cpu_to_le32(rx->prod));
		kicked = splitnet_rx_kick(rx, old);
	}
	if (!full || kicked) {
		u64_stats_update_begin(&rx->stats.syncp);
		rx->stats.alloc_errors += !full;
		rx->stats.doorbells += kicked;
		u64_stats_update_end(&rx->stats.syncp);
	}
	return full;
}

/*
 * Fill the ring: at bring-up (step 7 of the spec's sequence) and from the
 * refill work, NAPI off.  False when it is not full.
 */
bool splitnet_rx_post(struct splitnet_rx_ring *rx, gfp_t gfp)
{
	return splitnet_rx_refill(rx, gfp);
}

static struct napi_struct *splitnet_rx_napi(struct splitnet_rx_ring *rx)
{
	return &container_of(rx, struct splitnet_pair, rx)->napi;
}

static struct sk_buff *splitnet_rx_copy(struct splitnet_rx_ring *rx,
					struct splitnet_rx_buf *buf,
					unsigned int len)
{
	struct device *dev = &rx->priv->pdev->dev;
	dma_addr_t dma = buf->dma + SPLITNET_RX_HEADROOM;
	struct sk_buff *skb;

	skb = napi_alloc_skb(splitnet_rx_napi(rx), len);
	if (!skb)
		return NULL;
	dma_sync_single_for_cpu(dev, dma, len, DMA_FROM_DEVICE);
	skb_put_data(skb, page_address(buf->page) + SPLITNET_RX_HEADROOM, len);
	dma_sync_single_for_device(dev, dma, len, DMA_FROM_DEVICE);
	rx->stats.copybreak++;
	return skb;
}

/*
 * Hand buffer @idx's page, @len bytes written, to the skb; the ring entry
 * gets a new page.  The page stays mapped: the CPU gets what the device
 * wrote (with bounce buffers, the sync copies it).
 */
static struct page *splitnet_rx_take(struct splitnet_rx_ring *rx, u32 idx,
				     unsigned int len)
{
	struct splitnet_rx_buf *buf = &rx->bufs[idx & rx->mask];
	struct page *page = buf->page;

	dma_sync_single_for_cpu(&rx->priv->pdev->dev,
				buf->dma + SPLITNET_RX_HEADROOM, len,
				DMA_FROM_DEVICE);
	buf->page = NULL;
	return page;
}

/*
 * Build the skb of the frame in buffers [first, first + nbufs).  On
 * failure the buffers keep their pages and are simply posted again.
 */
static struct sk_buff *splitnet_rx_build(struct splitnet_rx_ring *rx,
					 u32 first, u32 nbufs)
{
	struct splitnet_rx_buf *buf = &rx->bufs[first & rx->mask];
	unsigned int len, i;
	struct sk_buff *skb;
	struct page *page;

	if (nbufs > MAX_SKB_FRAGS + 1)
		return NULL;
	for (i = 0; i < nbufs; i++) {
		len = le16_to_cpu(rx->desc[(first + i) & rx->mask].len);
		if (!len || len > SPLITNET_RX_BUF_LEN ||
		    (i == 0 && len < ETH_HLEN)) {
			/* Zero length: the device dropped the frame. */
			rx->stats.errors++;
			return NULL;
		}
	}

	len = le16_to_cpu(rx->desc[first & rx->mask].len);
	if (nbufs == 1 && len <= SPLITNET_RX_COPYBREAK)
		return splitnet_rx_copy(rx, buf, len);

	/* Sync first: with bounce buffers the sync writes the page. */
	page = splitnet_rx_take(rx, first, len);
	skb = napi_build_skb(page_address(page), PAGE_SIZE);
	if (!skb) {
		page_pool_recycle_direct(rx->pool, page);
		return NULL;
	}
	skb_mark_for_recycle(skb);
	skb_reserve(skb, SPLITNET_RX_HEADROOM);
	__skb_put(skb, len);
	for (i = 1; i < nbufs; i++) {
		len = le16_to_cpu(rx->desc[(first + i) & rx->mask].len);
		skb_add_rx_frag(skb, i - 1, splitnet_rx_take(rx, first + i, len),
				SPLITNET_RX_HEADROOM, len, PAGE_SIZE);
	}
	return skb;
}

/*
 * The first descriptor's offload fields, as a virtio-net header for
 * virtio_net_hdr_to_skb(): it validates them against the frame.
 */
static int splitnet_rx_offload(struct sk_buff *skb,
			       const struct splitnet_rx_desc *d)
{
	u16 flags = le16_to_cpu(d->flags);
	struct virtio_net_hdr hdr = {};

	if (flags & SPLITNET_RXD_NEEDS_CSUM) {
		hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		hdr.csum_start = __cpu_to_virtio16(true,
						   le16_to_cpu(d->csum_start));
		hdr.csum_offset = __cpu_to_virtio16(true,
						    le16_to_cpu(d->csum_offset));
	} else if (flags & SPLITNET_RXD_CSUM_OK) {
		hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	}
	if (flags & (SPLITNET_RXD_GSO_TCPV4 | SPLITNET_RXD_GSO_TCPV6)) {
		hdr.gso_type = flags & SPLITNET_RXD_GSO_TCPV4 ?
			       VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
		if (flags & SPLITNET_RXD_GSO_ECN)
			hdr.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
		hdr.gso_size = __cpu_to_virtio16(true, le16_to_cpu(d->gso_size));
	}
	if (flags & SPLITNET_RXD_VLAN)
		__vlan_hwaccel_put_tag(skb, htons(ETH_P_8021Q),
				       le16_to_cpu(d->vlan_tci));
	if (hdr.flags & VIRTIO_NET_HDR_F_DATA_VALID) {
		skb->ip_summed = CHECKSUM_UNNECESSARY;
		return 0;
	}
	return virtio_net_hdr_to_skb(skb, &hdr, true);
}

/* The RSS hash the device computed, as the skb's (types: spec, "RSS"). */
static void splitnet_rx_hash(struct sk_buff *skb,
			     const struct splitnet_rx_desc *d)
{
	u16 flags = le16_to_cpu(d->flags);
	u32 type = (flags & SPLITNET_RXD_HASH_TYPE_MASK) >>
		   SPLITNET_RXD_HASH_TYPE_SHIFT;

	if (!(flags & SPLITNET_RXD_HASH) ||
	    !(skb->dev->features & NETIF_F_RXHASH))
		return;
	skb_set_hash(skb, le32_to_cpu(d->hash),
		     type == SPLITNET_HASH_TYPE_IPV4 ||
		     type == SPLITNET_HASH_TYPE_IPV6 ? PKT_HASH_TYPE_L3 :
						       PKT_HASH_TYPE_L4);
}

/*
 * Deliver the frame starting at rx->clean if the device has finished it.
 * Returns false when the next frame is not complete yet.
 */
static bool splitnet_rx_one(struct splitnet_rx_ring *rx, u32 cons)
{
	struct net_device *netdev = rx->priv->netdev;
	u32 idx = rx->clean, first = rx->clean;
	struct sk_buff *skb;
	unsigned int len;

	do {
		if (idx == cons)
			return false;
	} while (!(le16_to_cpu(rx->desc[idx++ & rx->mask].flags) &
		   SPLITNET_RXD_EOP));

	/* A buffer's page may be replaced: build before moving rx->clean. */
	skb = splitnet_rx_build(rx, rx->clean, idx - rx->clean);
	if (skb && splitnet_rx_offload(skb, &rx->desc[rx->clean & rx->mask])) {
		dev_kfree_skb_any(skb);
		rx->stats.errors++;
		skb = NULL;
	}
	rx->clean = idx;
	if (!skb) {
		rx->stats.dropped++;
		return true;
	}
	len = skb->len;
	skb->protocol = eth_type_trans(skb, netdev);
	splitnet_rx_hash(skb, &rx->desc[first & rx->mask]);
	skb_record_rx_queue(skb, rx->qid);
	napi_gro_receive(splitnet_rx_napi(rx), skb);
	rx->stats.packets++;
	rx->stats.bytes += len;
	return true;
}

int splitnet_rx_poll(struct splitnet_rx_ring *rx, int budget)
{
	struct splitnet_priv *priv = rx->priv;
	u32 cons = le32_to_cpu(READ_ONCE(rx->status->cons));
	int work = 0;

	if (unlikely(cons - rx->clean > rx->prod - rx->clean)) {
		netdev_err_once(priv->netdev, "RX cons %u beyond prod %u\n",
				cons, rx->prod);
		splitnet_ring_error(priv);
		return 0;
	}
	/* Descriptor write-backs are read after cons. */
	dma_rmb();

	u64_stats_update_begin(&rx->stats.syncp);
	while (work < budget) {
		if (!splitnet_rx_one(rx, cons)) {
			/* A whole ring without EOP can never complete. */
			if (unlikely(cons - rx->clean == rx->size)) {
				netdev_err_once(priv->netdev,
						"RX ring full without EOP\n");
				splitnet_ring_error(priv);
			}
			break;
		}
		work++;
	}
	u64_stats_update_end(&rx->stats.syncp);

	/*
	 * Polling again cannot make an atomic allocation succeed: the refill
	 * work posts what is missing, with GFP_KERNEL.
	 */
	if (budget && !splitnet_rx_refill(rx, GFP_ATOMIC))
		schedule_delayed_work(&priv->refill_work, 0);
	return work;
}

/* Ask for the next RX interrupt; true if a frame arrived meanwhile. */
bool splitnet_rx_arm(struct splitnet_rx_ring *rx)
{
	if (splitnet_has(rx->priv, SPLITNET_F_EVENT_IDX)) {
		WRITE_ONCE(rx->status->intr_event, cpu_to_le32(rx->clean));
		/* intr_event is stored before cons is read again. */
		mb();
	}
	return le32_to_cpu(READ_ONCE(rx->status->cons)) != rx->clean;
}

/* Indices for a start on the ring memory rx holds (no pages yet). */
void splitnet_rx_init(struct splitnet_priv *priv, struct splitnet_rx_ring *rx,
		      u16 qid)
{
	rx->priv = priv;
	rx->qid = qid;
	rx->status = &priv->status[SPLITNET_RXQ(qid)];
	rx->mask = rx->size - 1;
	rx->prod = 0;
	rx->clean = 0;
	rx->doorbell = priv->regs + splitnet_qreg(SPLITNET_RXQ(qid),
						  SPLITNET_Q_DOORBELL);
}

/*
 * The ring's page pool: its pages mapped once, for the device to write
 * from SPLITNET_RX_HEADROOM.  Pages the stack frees outside NAPI (after a
 * copy to user space) come back through the pool's ring, which holds four
 * rings' worth: what a socket's receive queue may give back at once.
 */
static struct page_pool *splitnet_rx_pool(struct splitnet_priv *priv,
					  u32 size)
{
	struct page_pool_params pp = {
		.flags = PP_FLAG_DMA_MAP | PP_FLAG_DMA_SYNC_DEV,
		.pool_size = 4 * size,
		.nid = dev_to_node(&priv->pdev->dev),
		.dev = &priv->pdev->dev,
		.dma_dir = DMA_FROM_DEVICE,
		.offset = SPLITNET_RX_HEADROOM,
		.max_len = SPLITNET_RX_BUF_LEN,
	};

	return page_pool_create(&pp);
}

/* Ring memory of @size descriptors into @rx (priv->rx or a spare). */
int splitnet_rx_alloc(struct splitnet_priv *priv, struct splitnet_rx_ring *rx,
		      u32 size)
{
	struct device *dev = &priv->pdev->dev;
	int err = -ENOMEM;

	/* buf_len is 16 bits wide. */
	BUILD_BUG_ON(SPLITNET_RX_BUF_LEN > U16_MAX);
	rx->size = size;
	rx->bufs = kcalloc(size, sizeof(*rx->bufs), GFP_KERNEL);
	if (!rx->bufs)
		return -ENOMEM;
	rx->desc = dma_alloc_coherent(dev, array_size(size, sizeof(*rx->desc)),
				      &rx->desc_dma, GFP_KERNEL);
	if (!rx->desc)
		goto abort_with_bufs;
	rx->pool = splitnet_rx_pool(priv, size);
	if (IS_ERR(rx->pool)) {
		err = PTR_ERR(rx->pool);
		rx->pool = NULL;
		goto abort_with_desc;
	}
	return 0;

abort_with_desc:
	dma_free_coherent(dev, array_size(size, sizeof(*rx->desc)), rx->desc,
			  rx->desc_dma);
	rx->desc = NULL;
abort_with_bufs:
	kfree(rx->bufs);
	rx->bufs = NULL;
	return err;
}

/* After the device reset: give the posted pages back to the pool. */
void splitnet_rx_release(struct splitnet_rx_ring *rx)
{
	u32 i;

	for (i = 0; i < rx->size; i++) {
		if (rx->bufs[i].page) {
			page_pool_put_full_page(rx->pool, rx->bufs[i].page,
						false);
			rx->bufs[i].page = NULL;
		}
	}
}

/* The pool waits for the pages skbs still hold before it goes. */
void splitnet_rx_free(struct splitnet_priv *priv, struct splitnet_rx_ring *rx)
{
	if (!rx->desc)
		return;
	page_pool_destroy(rx->pool);
	dma_free_coherent(&priv->pdev->dev,
			  array_size(rx->size, sizeof(*rx->desc)), rx->desc,
			  rx->desc_dma);
	kfree(rx->bufs);
	rx->pool = NULL;
	rx->desc = NULL;
	rx->bufs = NULL;
}

/*
 * The RX features to negotiate for these netdev features: ethtool -K rx
 * off (NETIF_F_RXCSUM) drops both, rx-gro-hw off large receive, rxvlan
 * off the VLAN feature (the stack then inserts tags on TX too).
 */
u64 splitnet_rx_features(struct splitnet_priv *priv,
			 netdev_features_t features)
{
	u64 f = priv->dev_features & SPLITNET_DRV_FEATURES;

	if (!(features & NETIF_F_RXCSUM))
		f &= ~(SPLITNET_F_RX_CSUM | SPLITNET_F_RX_GSO);
	if (!(features & NETIF_F_GRO_HW))
		f &= ~SPLITNET_F_RX_GSO;
	if (!(features & NETIF_F_HW_VLAN_CTAG_RX))
		f &= ~SPLITNET_F_VLAN;
	return f;
}

/* Exchange the ring memory of @a and @b (a resize). */
void splitnet_rx_swap_mem(struct splitnet_rx_ring *a,
			  struct splitnet_rx_ring *b)
{
	swap(a->desc, b->desc);
	swap(a->desc_dma, b->desc_dma);
	swap(a->bufs, b->bufs);
	swap(a->pool, b->pool);
	swap(a->size, b->size);
}
