// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * splitnet: Linux driver for the head-copy paravirtual NIC.
 *
 * PCI probe and remove, interrupts, NAPI, bring-up and reset, and the
 * netdev operations other than transmit.  With MSI-X there is one queue
 * pair per online CPU, up to the device's MAX_QUEUE_PAIRS: its own rings,
 * NAPI instance and vector, affine to that CPU, with XPS sending that
 * CPU's frames on it; RSS spreads received flows over the pairs.
 * docs/specs/splitnet.rst is the device's specification; its "Bring-up
 * sequence" is splitnet_up().
 */

#include <linux/cpumask.h>
#include <linux/crc32.h>
#include <linux/delay.h>
#include <linux/ethtool.h>
#include <linux/etherdevice.h>
#include <linux/interrupt.h>
#include <linux/module.h>
#include <linux/rtnetlink.h>

#include "splitnet.h"

/* Older kernels spell the INTx flag of pci_alloc_irq_vectors() differently. */
#ifndef PCI_IRQ_INTX
#define PCI_IRQ_INTX			PCI_IRQ_LEGACY
#endif

#define SPLITNET_TX_TIMEOUT		(5 * HZ)
#define SPLITNET_RESET_POLLS		100

/* The ISR and INTR_MASK bits of queue pair 0, the only one with INTx */
#define SPLITNET_ISR_QUEUES		(SPLITNET_ISR_QUEUE(SPLITNET_TXQ(0)) | \
					 SPLITNET_ISR_QUEUE(SPLITNET_RXQ(0)))

static const struct pci_device_id splitnet_pci_tbl[] = {
	{ PCI_DEVICE(SPLITNET_PCI_VENDOR_ID, SPLITNET_PCI_DEVICE_ID) },
	{ }
};
MODULE_DEVICE_TABLE(pci, splitnet_pci_tbl);

/* --- registers ---------------------------------------------------------- */

static int splitnet_hw_reset(struct splitnet_priv *priv)
{
	int i;

	splitnet_wr32(priv, SPLITNET_REG_CTRL, SPLITNET_CTRL_RESET);
	for (i = 0; i < SPLITNET_RESET_POLLS; i++) {
		if (!(splitnet_rd32(priv, SPLITNET_REG_CTRL) & SPLITNET_CTRL_RESET))
			return 0;
		usleep_range(10, 20);
	}
	netdev_err(priv->netdev, "device did not leave reset\n");
	return -ETIMEDOUT;
}

/*
 * Reset the device before taking back what it was given.  A device that
 * does not leave reset may still be running its queues: take bus mastering
 * away, so it can no longer reach memory, and mark it dead, so that the
 * memory it had is kept rather than freed and reused (splitnet_free_rings).
 */
static void splitnet_hw_stop(struct splitnet_priv *priv)
{
	if (!splitnet_hw_reset(priv))
		return;
	pci_clear_master(priv->pdev);
	priv->dead = true;
	netdev_err(priv->netdev, "bus mastering off; its memory is not reused until the driver is unbound\n");
}

/* The device uses the new address once MAC_HI is written (spec). */
static void splitnet_write_mac(struct splitnet_priv *priv)
{
	const u8 *a = priv->netdev->dev_addr;

	splitnet_wr32(priv, SPLITNET_REG_MAC_LO,
		      a[0] | a[1] << 8 | a[2] << 16 | (u32)a[3] << 24);
	splitnet_wr32(priv, SPLITNET_REG_MAC_HI, a[4] | a[5] << 8);
}

static void splitnet_read_mac(struct splitnet_priv *priv, u8 *addr)
{
	u32 lo = splitnet_rd32(priv, SPLITNET_REG_MAC_LO);
	u32 hi = splitnet_rd32(priv, SPLITNET_REG_MAC_HI);
	int i;

	for (i = 0; i < 4; i++)
		addr[i] = lo >> (8 * i);
	addr[4] = hi;
	addr[5] = hi >> 8;
}

u64 splitnet_dev_stat(struct splitnet_priv *priv, unsigned int q,
		      unsigned int n)
{
	return priv->dev_stats_base[q][n] +
	       splitnet_rd64(priv, splitnet_qreg(q, SPLITNET_Q_STAT(n)));
}

/* A reset clears the device's counters; keep them for ethtool -S. */
static void splitnet_save_dev_stats(struct splitnet_priv *priv)
{
	unsigned int q, n;

	for (q = 0; q < 2 * priv->max_pairs; q++)
		for (n = 0; n < SPLITNET_NUM_STATS; n++)
			priv->dev_stats_base[q][n] +=
				splitnet_rd64(priv,
					      splitnet_qreg(q, SPLITNET_Q_STAT(n)));
}

void splitnet_apply_coalesce(struct splitnet_priv *priv)
{
	unsigned int p;

	for (p = 0; p < priv->num_pairs; p++) {
		splitnet_wr32(priv, splitnet_qreg(SPLITNET_TXQ(p),
						  SPLITNET_Q_INTR_DELAY),
			      priv->tx_usecs);
		splitnet_wr32(priv, splitnet_qreg(SPLITNET_RXQ(p),
						  SPLITNET_Q_INTR_DELAY),
			      priv->rx_usecs);
	}
}

/*
 * RSS over the pairs in use: key, table (the default spread unless
 * ethtool -X set one), then the pair count and the hash types.
 */
void splitnet_write_rss(struct splitnet_priv *priv)
{
	unsigned int i;

	if (!splitnet_has(priv, SPLITNET_F_MQ))
		return;
	if (!netif_is_rxfh_configured(priv->netdev))
		for (i = 0; i < SPLITNET_RSS_INDIR_SIZE; i++)
			priv->rss_indir[i] =
				ethtool_rxfh_indir_default(i, priv->num_pairs);
	for (i = 0; i < SPLITNET_RSS_KEY_SIZE; i += 4)
		splitnet_wr32(priv, SPLITNET_REG_RSS_KEY + i,
			      priv->rss_key[i] | priv->rss_key[i + 1] << 8 |
			      priv->rss_key[i + 2] << 16 |
			      (u32)priv->rss_key[i + 3] << 24);
	for (i = 0; i < SPLITNET_RSS_INDIR_SIZE; i++)
		splitnet_wr32(priv, SPLITNET_REG_RSS_INDIR_ENTRY(i),
			      priv->rss_indir[i]);
	splitnet_wr32(priv, SPLITNET_REG_RSS_QUEUES, priv->num_pairs);
	splitnet_wr32(priv, SPLITNET_REG_RSS_HASH_TYPES, priv->rss_types);
}

static void splitnet_setup_queue(struct splitnet_priv *priv, unsigned int q,
				 dma_addr_t ring, dma_addr_t pool, u32 size,
				 u32 vector)
{
	splitnet_wr64(priv, splitnet_qreg(q, SPLITNET_Q_RING_BASE), ring);
	if (!SPLITNET_QUEUE_IS_RX(q))
		splitnet_wr64(priv, splitnet_qreg(q, SPLITNET_Q_POOL_BASE), pool);
	splitnet_wr32(priv, splitnet_qreg(q, SPLITNET_Q_RING_SIZE), size);
	splitnet_wr32(priv, splitnet_qreg(q, SPLITNET_Q_VECTOR), vector);
}

/* Steps 2 to 6 of the spec's bring-up sequence, after the reset. */
static int splitnet_hw_start(struct splitnet_priv *priv)
{
	struct splitnet_pair *pair;
	unsigned int p, n;
	u32 status;

	splitnet_wr64(priv, SPLITNET_REG_DRV_FEATURES, priv->features);
	/* The reset emptied the VLAN table. */
	if (splitnet_has(priv, SPLITNET_F_VLAN))
		for (n = 0; n < SPLITNET_VLAN_TABLE_REGS; n++)
			if (priv->vlans[n])
				splitnet_wr32(priv, SPLITNET_REG_VLAN_TABLE(n),
					      priv->vlans[n]);
	splitnet_write_mac(priv);
	splitnet_wr32(priv, SPLITNET_REG_MTU, priv->netdev->mtu);
	splitnet_wr64(priv, SPLITNET_REG_STATUS_BASE, priv->status_dma);
	/*
	 * Vectors are written in INTx mode too: the device ignores them
	 * then, and they are right should MSI-X come up later.
	 */
	splitnet_wr32(priv, SPLITNET_REG_CONFIG_VECTOR, SPLITNET_VEC_CONFIG);
	for (p = 0; p < priv->num_pairs; p++) {
		pair = &priv->pairs[p];
		splitnet_setup_queue(priv, SPLITNET_TXQ(p), pair->tx.desc_dma,
				     pair->tx.pool_dma, pair->tx.size,
				     SPLITNET_VEC_PAIR(p));
		splitnet_setup_queue(priv, SPLITNET_RXQ(p), pair->rx.desc_dma, 0,
				     pair->rx.size, SPLITNET_VEC_PAIR(p));
	}
	splitnet_apply_coalesce(priv);
	for (p = 0; p < priv->num_pairs; p++) {
		splitnet_wr32(priv, splitnet_qreg(SPLITNET_TXQ(p),
						  SPLITNET_Q_ENABLE), 1);
		splitnet_wr32(priv, splitnet_qreg(SPLITNET_RXQ(p),
						  SPLITNET_Q_ENABLE), 1);
	}
	splitnet_write_rss(priv);

	status = splitnet_rd32(priv, SPLITNET_REG_STATUS);
	if (status & SPLITNET_STATUS_ERROR) {
		netdev_err(priv->netdev, "queue setup failed: error %u queue %u\n",
			   splitnet_rd32(priv, SPLITNET_REG_ERROR),
			   splitnet_rd32(priv, SPLITNET_REG_ERROR_QUEUE));
		return -EIO;
	}
	return 0;
}

/* --- interrupts and NAPI -------------------------------------------------- */

void splitnet_schedule_reset(struct splitnet_priv *priv)
{
	schedule_work(&priv->reset_work);
}

/*
 * The device published an index that makes no sense.  Polling again would
 * see the same index and reschedule itself forever: stop until the reset.
 */
void splitnet_ring_error(struct splitnet_priv *priv)
{
	WRITE_ONCE(priv->halted, true);
	splitnet_schedule_reset(priv);
}

static void splitnet_update_link(struct splitnet_priv *priv, u32 status)
{
	struct net_device *netdev = priv->netdev;

	if (status & SPLITNET_STATUS_LINK_UP) {
		if (!netif_carrier_ok(netdev)) {
			netdev_info(netdev, "link up\n");
			netif_carrier_on(netdev);
		}
	} else if (netif_carrier_ok(netdev)) {
		netdev_info(netdev, "link down\n");
		netif_carrier_off(netdev);
	}
}

static void splitnet_config_event(struct splitnet_priv *priv)
{
	u32 status = splitnet_rd32(priv, SPLITNET_REG_STATUS);

	if (status & SPLITNET_STATUS_ERROR) {
		netdev_err(priv->netdev, "device error %u on queue %u, resetting\n",
			   splitnet_rd32(priv, SPLITNET_REG_ERROR),
			   splitnet_rd32(priv, SPLITNET_REG_ERROR_QUEUE));
		splitnet_schedule_reset(priv);
		return;
	}
	splitnet_update_link(priv, status);
}

static irqreturn_t splitnet_msix_config(int irq, void *data)
{
	splitnet_config_event(data);
	return IRQ_HANDLED;
}

static irqreturn_t splitnet_msix_queue(int irq, void *data)
{
	struct splitnet_pair *pair = data;

	napi_schedule_irqoff(&pair->napi);
	return IRQ_HANDLED;
}

static irqreturn_t splitnet_intx(int irq, void *data)
{
	struct splitnet_priv *priv = data;
	u32 isr = splitnet_rd32(priv, SPLITNET_REG_ISR);

	if (!isr || isr == ~0u)
		return IRQ_NONE;
	if (isr & SPLITNET_ISR_CONFIG)
		splitnet_config_event(priv);
	/* Queue causes stay masked while NAPI polls; the poll unmasks. */
	if ((isr & SPLITNET_ISR_QUEUES) &&
	    napi_schedule_prep(&priv->pairs[0].napi)) {
		splitnet_wr32(priv, SPLITNET_REG_INTR_MASK, SPLITNET_ISR_QUEUES);
		__napi_schedule_irqoff(&priv->pairs[0].napi);
	}
	return IRQ_HANDLED;
}

static int splitnet_poll(struct napi_struct *napi, int budget)
{
	struct splitnet_pair *pair = container_of(napi, struct splitnet_pair,
						  napi);
	struct splitnet_priv *priv = pair->tx.priv;
	bool more;
	int work;

	splitnet_tx_poll(&pair->tx, budget);
	work = splitnet_rx_poll(&pair->rx, budget);
	if (unlikely(READ_ONCE(priv->halted))) {
		/* Neither re-armed nor unmasked: the reset task takes over. */
		napi_complete_done(napi, 0);
		return 0;
	}
	if (work >= budget)
		return budget;
	if (!napi_complete_done(napi, work))
		return work;

	/* Ask for the next interrupts, then look once more (spec). */
	more = splitnet_tx_arm(&pair->tx);
	more |= splitnet_rx_arm(&pair->rx);
	if (more)
		napi_schedule(napi);
	else if (!priv->msix)
		splitnet_wr32(priv, SPLITNET_REG_INTR_MASK, 0);
	return work;
}

/* The CPU of pair @p: the pairs spread over the online CPUs. */
static unsigned int splitnet_pair_cpu(unsigned int p)
{
	return cpumask_local_spread(p, NUMA_NO_NODE);
}

static void splitnet_free_pair_irqs(struct splitnet_priv *priv,
				    unsigned int n)
{
	unsigned int irq;

	while (n--) {
		irq = pci_irq_vector(priv->pdev, SPLITNET_VEC_PAIR(n));
		irq_update_affinity_hint(irq, NULL);
		free_irq(irq, &priv->pairs[n]);
	}
}

/*
 * One vector per pair in use, affine to the pair's CPU; XPS sends that
 * CPU's frames on the pair, so a flow's TX completions and RX land on
 * the CPU that runs it.
 */
static int splitnet_request_pair_irqs(struct splitnet_priv *priv)
{
	struct splitnet_pair *pair;
	unsigned int p, irq, cpu;
	int err;

	for (p = 0; p < priv->num_pairs; p++) {
		pair = &priv->pairs[p];
		irq = pci_irq_vector(priv->pdev, SPLITNET_VEC_PAIR(p));
		snprintf(pair->irq_name, sizeof(pair->irq_name), "%s-q%u",
			 priv->netdev->name, p);
		err = request_irq(irq, splitnet_msix_queue, 0, pair->irq_name,
				  pair);
		if (err) {
			splitnet_free_pair_irqs(priv, p);
			return err;
		}
		cpu = splitnet_pair_cpu(p);
		irq_set_affinity_and_hint(irq, cpumask_of(cpu));
		netif_set_xps_queue(priv->netdev, cpumask_of(cpu), p);
	}
	return 0;
}

static int splitnet_request_irqs(struct splitnet_priv *priv)
{
	struct pci_dev *pdev = priv->pdev;
	int err;

	if (!priv->msix) {
		snprintf(priv->irq_name, sizeof(priv->irq_name), "%s",
			 priv->netdev->name);
		return request_irq(pci_irq_vector(pdev, 0), splitnet_intx,
				   IRQF_SHARED, priv->irq_name, priv);
	}
	snprintf(priv->irq_name, sizeof(priv->irq_name), "%s-config",
		 priv->netdev->name);
	err = request_irq(pci_irq_vector(pdev, SPLITNET_VEC_CONFIG),
			  splitnet_msix_config, 0, priv->irq_name, priv);
	if (err)
		return err;
	err = splitnet_request_pair_irqs(priv);
	if (err)
		free_irq(pci_irq_vector(pdev, SPLITNET_VEC_CONFIG), priv);
	return err;
}

static void splitnet_free_irqs(struct splitnet_priv *priv)
{
	if (priv->msix)
		splitnet_free_pair_irqs(priv, priv->num_pairs);
	free_irq(pci_irq_vector(priv->pdev, SPLITNET_VEC_CONFIG), priv);
}

/* --- receive filter ----------------------------------------------------- */

static void splitnet_set_rx_mode(struct net_device *netdev)
{
	struct splitnet_priv *priv = netdev_priv(netdev);
	u32 filter = SPLITNET_RX_FILTER_UNICAST | SPLITNET_RX_FILTER_BROADCAST;
	struct netdev_hw_addr *ha;
	u64 hash = 0;

	if (!priv->up)
		return;
	/* Only the station address has an exact filter. */
	if ((netdev->flags & IFF_PROMISC) || !netdev_uc_empty(netdev)) {
		filter |= SPLITNET_RX_FILTER_PROMISC;
	} else if (netdev->flags & IFF_ALLMULTI) {
		filter |= SPLITNET_RX_FILTER_ALLMULTI;
	} else if (!netdev_mc_empty(netdev)) {
		filter |= SPLITNET_RX_FILTER_MULTICAST;
		netdev_for_each_mc_addr(ha, netdev)
			hash |= BIT_ULL(ether_crc(ETH_ALEN, ha->addr) >>
					SPLITNET_MC_HASH_SHIFT);
	}
	if (priv->vlan_filter && splitnet_has(priv, SPLITNET_F_VLAN))
		filter |= SPLITNET_RX_FILTER_VLAN;
	splitnet_wr64(priv, SPLITNET_REG_MC_HASH, hash);
	splitnet_wr32(priv, SPLITNET_REG_RX_FILTER, filter);
}

static void splitnet_start_rx_filter(struct net_device *netdev)
{
	netif_addr_lock_bh(netdev);
	splitnet_set_rx_mode(netdev);
	netif_addr_unlock_bh(netdev);
}

/* --- bring-up and teardown ------------------------------------------------ */

static int splitnet_alloc_status(struct splitnet_priv *priv)
{
	priv->status = dma_alloc_coherent(&priv->pdev->dev,
					  SPLITNET_STATUS_BLOCK_SIZE,
					  &priv->status_dma, GFP_KERNEL);
	if (!priv->status)
		return -ENOMEM;
	return 0;
}

static void splitnet_free_ring_pair(struct splitnet_priv *priv,
				    struct splitnet_tx_ring *tx,
				    struct splitnet_rx_ring *rx)
{
	splitnet_rx_free(priv, rx);
	splitnet_tx_free(priv, tx);
}

/* Ring memory of the new sizes for @pairs pairs, into @tx and @rx. */
static int splitnet_alloc_ring_pairs(struct splitnet_priv *priv,
				     struct splitnet_tx_ring *tx,
				     struct splitnet_rx_ring *rx, u32 pairs,
				     u32 tx_size, u32 rx_size)
{
	int err = 0;
	u32 p;

	for (p = 0; p < pairs && !err; p++) {
		err = splitnet_tx_alloc(priv, &tx[p], tx_size);
		if (!err) {
			err = splitnet_rx_alloc(priv, &rx[p], rx_size);
			if (err)
				splitnet_tx_free(priv, &tx[p]);
		}
	}
	if (err)
		while (--p > 0)
			splitnet_free_ring_pair(priv, &tx[p - 1], &rx[p - 1]);
	return err;
}

static int splitnet_alloc_rings(struct splitnet_priv *priv)
{
	struct splitnet_pair *pair;
	int err = 0;
	u32 p;

	err = splitnet_alloc_status(priv);
	if (err)
		return err;
	for (p = 0; p < priv->num_pairs && !err; p++) {
		pair = &priv->pairs[p];
		err = splitnet_tx_alloc(priv, &pair->tx, priv->tx_ring_size);
		if (!err) {
			err = splitnet_rx_alloc(priv, &pair->rx,
						priv->rx_ring_size);
			if (err)
				splitnet_tx_free(priv, &pair->tx);
		}
	}
	if (!err)
		return 0;
	while (--p > 0)
		splitnet_free_ring_pair(priv, &priv->pairs[p - 1].tx,
					&priv->pairs[p - 1].rx);
	dma_free_coherent(&priv->pdev->dev, SPLITNET_STATUS_BLOCK_SIZE,
			  priv->status, priv->status_dma);
	priv->status = NULL;
	return err;
}

/*
 * Give the ring memory back, unless the device is dead: then it is left
 * allocated (a leak) because the device might still write to it.
 */
static void splitnet_free_rings(struct splitnet_priv *priv)
{
	u32 p;

	if (!priv->dead) {
		for (p = 0; p < priv->max_pairs; p++)
			splitnet_free_ring_pair(priv, &priv->pairs[p].tx,
						&priv->pairs[p].rx);
		dma_free_coherent(&priv->pdev->dev, SPLITNET_STATUS_BLOCK_SIZE,
				  priv->status, priv->status_dma);
	}
	priv->status = NULL;
}

/* Steps 1 and 4 to 7 of the bring-up sequence, on allocated rings. */
static int splitnet_start(struct splitnet_priv *priv)
{
	struct net_device *netdev = priv->netdev;
	struct splitnet_pair *pair;
	bool full = true;
	int err;
	u32 p;

	if (priv->dead)
		return -EIO;
	memset(priv->status, 0, SPLITNET_STATUS_BLOCK_SIZE);
	for (p = 0; p < priv->num_pairs; p++) {
		splitnet_tx_init(priv, &priv->pairs[p].tx, p);
		splitnet_rx_init(priv, &priv->pairs[p].rx, p);
	}
	priv->halted = false;
	splitnet_hw_stop(priv);
	if (priv->dead)
		return -EIO;
	err = splitnet_request_irqs(priv);
	if (err)
		return err;
	err = splitnet_hw_start(priv);
	if (err) {
		splitnet_hw_stop(priv);
		splitnet_free_irqs(priv);
		return err;
	}

	for (p = 0; p < priv->num_pairs; p++) {
		pair = &priv->pairs[p];
		/* What cannot be posted now is posted by the refill work. */
		full &= splitnet_rx_post(&pair->rx, GFP_KERNEL);
		napi_enable(&pair->napi);
	}
	if (!full)
		schedule_delayed_work(&priv->refill_work, SPLITNET_REFILL_DELAY);
	/* splitnet_set_rx_mode() leaves the registers alone until then. */
	priv->up = true;
	splitnet_start_rx_filter(netdev);
	splitnet_wr32(priv, SPLITNET_REG_CTRL, SPLITNET_CTRL_DRIVER_OK);

	netif_tx_start_all_queues(netdev);
	splitnet_update_link(priv, splitnet_rd32(priv, SPLITNET_REG_STATUS));
	return 0;
}

/*
 * Stop the device and take back what is in flight; the ring memory stays
 * allocated.  Called with the RTNL held: the refill work, which takes it
 * too, is not running and finds the interface down if it runs later.
 */
static void splitnet_stop_hw(struct splitnet_priv *priv)
{
	struct net_device *netdev = priv->netdev;
	u32 p;

	priv->up = false;
	netif_tx_disable(netdev);
	splitnet_save_dev_stats(priv);
	/* After the reset the device neither reads nor writes our memory. */
	splitnet_hw_stop(priv);
	splitnet_free_irqs(priv);
	for (p = 0; p < priv->num_pairs; p++)
		napi_disable(&priv->pairs[p].napi);
	cancel_delayed_work(&priv->refill_work);
	netif_carrier_off(netdev);
	if (priv->dead)
		return;
	for (p = 0; p < priv->num_pairs; p++) {
		splitnet_tx_drain(&priv->pairs[p].tx);
		splitnet_rx_release(&priv->pairs[p].rx);
	}
}

static int splitnet_up(struct splitnet_priv *priv)
{
	int err;

	if (priv->dead)
		return -EIO;
	err = splitnet_alloc_rings(priv);
	if (err)
		return err;
	err = splitnet_start(priv);
	if (err)
		splitnet_free_rings(priv);
	return err;
}

static void splitnet_down(struct splitnet_priv *priv)
{
	splitnet_stop_hw(priv);
	splitnet_free_rings(priv);
}

/* Start again on the rings stopped; on failure the interface stays down. */
static int splitnet_restart(struct splitnet_priv *priv)
{
	int err = splitnet_start(priv);

	if (err) {
		netdev_err(priv->netdev, "cannot restart (%d), interface is down\n",
			   err);
		splitnet_free_rings(priv);
	}
	return err;
}

/* The pairs in use, and the netdev's queues with them. */
static void splitnet_set_pairs(struct splitnet_priv *priv, u32 pairs)
{
	priv->num_pairs = pairs;
	netif_set_real_num_tx_queues(priv->netdev, pairs);
	netif_set_real_num_rx_queues(priv->netdev, pairs);
}

/*
 * Exchange the ring memory of every pair with @tx and @rx, and the pair
 * count with *@pairs.
 */
static void splitnet_swap_rings(struct splitnet_priv *priv,
				struct splitnet_tx_ring *tx,
				struct splitnet_rx_ring *rx, u32 *pairs)
{
	u32 p, old = priv->num_pairs;

	for (p = 0; p < priv->max_pairs; p++) {
		splitnet_tx_swap_mem(&priv->pairs[p].tx, &tx[p]);
		splitnet_rx_swap_mem(&priv->pairs[p].rx, &rx[p]);
	}
	splitnet_set_pairs(priv, *pairs);
	*pairs = old;
}

/*
 * ethtool -G, -L and -K: the new rings are allocated first, so a failure
 * leaves the running interface alone; then the device is stopped, the
 * rings swapped and the device started on them (or on the old ones again,
 * if it refuses the new ones).  Traffic in flight meanwhile is dropped
 * by the stopped queues, as in any reset, never delivered wrong.
 */
int splitnet_reconfigure(struct splitnet_priv *priv, u32 tx_size, u32 rx_size,
			 u32 pairs, struct netlink_ext_ack *extack)
{
	struct splitnet_tx_ring *tx;
	struct splitnet_rx_ring *rx;
	u32 p;
	int err;

	if (!priv->up) {
		priv->tx_ring_size = tx_size;
		priv->rx_ring_size = rx_size;
		splitnet_set_pairs(priv, pairs);
		return 0;
	}
	tx = kcalloc(priv->max_pairs, sizeof(*tx), GFP_KERNEL);
	rx = kcalloc(priv->max_pairs, sizeof(*rx), GFP_KERNEL);
	err = tx && rx ? splitnet_alloc_ring_pairs(priv, tx, rx, pairs, tx_size,
						    rx_size) : -ENOMEM;
	if (err) {
		NL_SET_ERR_MSG_MOD(extack, "cannot allocate the new rings");
		goto out;
	}
	splitnet_stop_hw(priv);
	splitnet_swap_rings(priv, tx, rx, &pairs);
	err = splitnet_start(priv);
	if (err && !priv->dead) {
		NL_SET_ERR_MSG_MOD(extack, "the device refused the new rings");
		splitnet_swap_rings(priv, tx, rx, &pairs);
		splitnet_restart(priv);
	} else if (!err) {
		priv->tx_ring_size = tx_size;
		priv->rx_ring_size = rx_size;
	}
	/* Now the unused rings; a dead device keeps both sets. */
	if (!priv->dead)
		for (p = 0; p < priv->max_pairs; p++)
			splitnet_free_ring_pair(priv, &tx[p], &rx[p]);
out:
	kfree(tx);
	kfree(rx);
	return err;
}

static void splitnet_reset_task(struct work_struct *work)
{
	struct splitnet_priv *priv = container_of(work, struct splitnet_priv,
						  reset_work);

	rtnl_lock();
	if (netif_running(priv->netdev) && priv->up) {
		priv->resets++;
		splitnet_stop_hw(priv);
		splitnet_restart(priv);
	}
	rtnl_unlock();
}

/*
 * RX buffers NAPI could not allocate (it may not sleep): post them here,
 * with GFP_KERNEL, while NAPI is off, and try again later if still short.
 */
static void splitnet_refill_task(struct work_struct *work)
{
	struct splitnet_priv *priv = container_of(to_delayed_work(work),
						  struct splitnet_priv,
						  refill_work);
	struct splitnet_pair *pair;
	bool full = true;
	u32 p;

	rtnl_lock();
	if (!priv->up) {
		rtnl_unlock();
		return;
	}
	for (p = 0; p < priv->num_pairs; p++) {
		pair = &priv->pairs[p];
		napi_disable(&pair->napi);
		full &= splitnet_rx_post(&pair->rx, GFP_KERNEL);
		napi_enable(&pair->napi);
		/* Frames may be waiting for these buffers: look at once. */
		local_bh_disable();
		napi_schedule(&pair->napi);
		local_bh_enable();
	}
	if (!full)
		schedule_delayed_work(&priv->refill_work, SPLITNET_REFILL_DELAY);
	rtnl_unlock();
}

/* --- netdev operations ---------------------------------------------------- */

static int splitnet_open(struct net_device *netdev)
{
	return splitnet_up(netdev_priv(netdev));
}

static int splitnet_stop(struct net_device *netdev)
{
	struct splitnet_priv *priv = netdev_priv(netdev);

	if (priv->up)
		splitnet_down(priv);
	return 0;
}

static int splitnet_set_mac_address(struct net_device *netdev, void *p)
{
	struct splitnet_priv *priv = netdev_priv(netdev);
	int err;

	err = eth_prepare_mac_addr_change(netdev, p);
	if (err)
		return err;
	eth_commit_mac_addr_change(netdev, p);
	if (priv->up)
		splitnet_write_mac(priv);
	return 0;
}

static int splitnet_change_mtu(struct net_device *netdev, int new_mtu)
{
	struct splitnet_priv *priv = netdev_priv(netdev);

	/* RX chains buffers, so no ring needs resizing for a new MTU. */
	WRITE_ONCE(netdev->mtu, new_mtu);
	if (priv->up)
		splitnet_wr32(priv, SPLITNET_REG_MTU, new_mtu);
	return 0;
}

static void splitnet_get_stats64(struct net_device *netdev,
				 struct rtnl_link_stats64 *s)
{
	struct splitnet_priv *priv = netdev_priv(netdev);
	const struct splitnet_tx_ring *tx;
	const struct splitnet_rx_ring *rx;
	u64 packets, bytes, dropped, errors;
	unsigned int start, p;

	/* Every pair the device has: the counters outlive ethtool -L. */
	for (p = 0; p < priv->max_pairs; p++) {
		tx = &priv->pairs[p].tx;
		rx = &priv->pairs[p].rx;
		do {
			start = u64_stats_fetch_begin(&tx->cstats.syncp);
			packets = tx->cstats.packets;
			bytes = tx->cstats.bytes;
		} while (u64_stats_fetch_retry(&tx->cstats.syncp, start));
		s->tx_packets += packets;
		s->tx_bytes += bytes;
		do {
			start = u64_stats_fetch_begin(&tx->xstats.syncp);
			dropped = tx->xstats.dropped;
		} while (u64_stats_fetch_retry(&tx->xstats.syncp, start));
		s->tx_dropped += dropped;
		do {
			start = u64_stats_fetch_begin(&rx->stats.syncp);
			packets = rx->stats.packets;
			bytes = rx->stats.bytes;
			dropped = rx->stats.dropped;
			errors = rx->stats.errors;
		} while (u64_stats_fetch_retry(&rx->stats.syncp, start));
		s->rx_packets += packets;
		s->rx_bytes += bytes;
		s->rx_dropped += dropped;
		s->rx_errors += errors;
	}
}

/*
 * No TX completion for SPLITNET_TX_TIMEOUT.  The usual cause is the host's
 * network holding frames back (a peer that stopped reading: the device's
 * tx_stalls counter); the device sends them once the peer reads again, and
 * a reset would only throw them away.  A device error resets the device,
 * here as from the config interrupt; otherwise ring once more, in case a
 * doorbell was lost.  The stack holds the TX queue lock, so start_xmit is
 * not running.
 */
static void splitnet_tx_timeout(struct net_device *netdev, unsigned int txq)
{
	struct splitnet_priv *priv = netdev_priv(netdev);
	struct splitnet_tx_ring *tx = &priv->pairs[txq].tx;
	u32 status = splitnet_rd32(priv, SPLITNET_REG_STATUS);

	netdev_warn(netdev, "TX timeout on queue %u: prod %u clean %u device cons %u status %#x\n",
		    txq, tx->prod, READ_ONCE(tx->clean),
		    tx->status ? le32_to_cpu(READ_ONCE(tx->status->cons)) : 0,
		    status);
	if (status & SPLITNET_STATUS_ERROR) {
		splitnet_schedule_reset(priv);
		return;
	}
	iowrite32(tx->prod, tx->doorbell);
}

/*
 * RX offloads are negotiated features, fixed while the queues run: a
 * change restarts the device with the new set, as a ring resize does.
 * The VLAN table is switched on and off in RX_FILTER.
 */
static int splitnet_set_features(struct net_device *netdev,
				 netdev_features_t features)
{
	struct splitnet_priv *priv = netdev_priv(netdev);
	u64 want = splitnet_rx_features(priv, features);
	bool filter = features & NETIF_F_HW_VLAN_CTAG_FILTER;

	if (filter != priv->vlan_filter) {
		priv->vlan_filter = filter;
		splitnet_start_rx_filter(netdev);
	}
	if (want == priv->features)
		return 0;
	priv->features = want;
	return splitnet_reconfigure(priv, priv->tx_ring_size,
				    priv->rx_ring_size, priv->num_pairs, NULL);
}

/* The stack's VLANs (NETIF_F_HW_VLAN_CTAG_FILTER), under the RTNL. */
static int splitnet_vlan_update(struct net_device *netdev, u16 vid, bool add)
{
	struct splitnet_priv *priv = netdev_priv(netdev);
	unsigned int n = vid / 32;

	if (add)
		priv->vlans[n] |= BIT(vid % 32);
	else
		priv->vlans[n] &= ~BIT(vid % 32);
	/* Down, or without the feature: splitnet_hw_start() writes it. */
	if (priv->up && splitnet_has(priv, SPLITNET_F_VLAN))
		splitnet_wr32(priv, SPLITNET_REG_VLAN_TABLE(n), priv->vlans[n]);
	return 0;
}

static int splitnet_vlan_rx_add_vid(struct net_device *netdev,
				    __be16 proto, u16 vid)
{
	return splitnet_vlan_update(netdev, vid, true);
}

static int splitnet_vlan_rx_kill_vid(struct net_device *netdev,
				     __be16 proto, u16 vid)
{
	return splitnet_vlan_update(netdev, vid, false);
}

static const struct net_device_ops splitnet_netdev_ops = {
	.ndo_open		= splitnet_open,
	.ndo_stop		= splitnet_stop,
	.ndo_start_xmit		= splitnet_start_xmit,
	.ndo_features_check	= splitnet_features_check,
	.ndo_set_features	= splitnet_set_features,
	.ndo_set_rx_mode	= splitnet_set_rx_mode,
	.ndo_vlan_rx_add_vid	= splitnet_vlan_rx_add_vid,
	.ndo_vlan_rx_kill_vid	= splitnet_vlan_rx_kill_vid,
	.ndo_set_mac_address	= splitnet_set_mac_address,
	.ndo_validate_addr	= eth_validate_addr,
	.ndo_change_mtu		= splitnet_change_mtu,
	.ndo_get_stats64	= splitnet_get_stats64,
	.ndo_tx_timeout		= splitnet_tx_timeout,
};

/* --- probe and remove ----------------------------------------------------- */

/* Steps 1 to 3 of the bring-up sequence: identify and read the limits. */
static int splitnet_check_device(struct splitnet_priv *priv)
{
	struct device *dev = &priv->pdev->dev;
	u32 magic = splitnet_rd32(priv, SPLITNET_REG_MAGIC);
	int err;

	if (magic != SPLITNET_MAGIC) {
		dev_err(dev, "bad magic %#x\n", magic);
		return -ENODEV;
	}
	priv->version = splitnet_rd32(priv, SPLITNET_REG_VERSION);
	if (priv->version >> 16 != SPLITNET_VERSION_MAJOR) {
		dev_err(dev, "unsupported device version %u.%u\n",
			priv->version >> 16, priv->version & 0xffff);
		return -ENODEV;
	}
	err = splitnet_hw_reset(priv);
	if (err)
		return err;

	priv->dev_features = splitnet_rd64(priv, SPLITNET_REG_DEV_FEATURES);
	priv->features = priv->dev_features & SPLITNET_DRV_FEATURES;
	priv->max_ring_size = splitnet_rd32(priv, SPLITNET_REG_MAX_RING_SIZE);
	priv->slot_size = splitnet_rd32(priv, SPLITNET_REG_TX_SLOT_SIZE);
	if (priv->max_ring_size > SPLITNET_RING_SIZE_MAX) {
		/* Out of spec: keep ring arithmetic within what it allows. */
		dev_warn(dev, "MAX_RING_SIZE %u beyond the spec's %u, using %u\n",
			 priv->max_ring_size, SPLITNET_RING_SIZE_MAX,
			 SPLITNET_RING_SIZE_MAX);
		priv->max_ring_size = SPLITNET_RING_SIZE_MAX;
	}
	if (priv->max_ring_size < SPLITNET_RING_MIN ||
	    !is_power_of_2(priv->max_ring_size) ||
	    priv->slot_size < SPLITNET_TX_SLOT_MIN ||
	    priv->slot_size > SPLITNET_TX_SLOT_MAX ||
	    !is_power_of_2(priv->slot_size)) {
		dev_err(dev, "bad limits: ring %u slot %u\n",
			priv->max_ring_size, priv->slot_size);
		return -ENODEV;
	}
	priv->tx_ring_size = min_t(u32, SPLITNET_RING_DEFAULT,
				   priv->max_ring_size);
	priv->rx_ring_size = priv->tx_ring_size;
	priv->tx_usecs = SPLITNET_TX_USECS_DEFAULT;
	priv->rx_usecs = SPLITNET_RX_USECS_DEFAULT;
	return 0;
}

/* The queue pairs the device has: MAX_QUEUE_PAIRS with F_MQ, else one. */
static u32 splitnet_dev_pairs(struct splitnet_priv *priv)
{
	u32 n;

	if (!splitnet_has(priv, SPLITNET_F_MQ))
		return 1;
	n = splitnet_rd32(priv, SPLITNET_REG_MAX_QUEUE_PAIRS);
	return clamp_t(u32, n, 1, SPLITNET_MAX_QUEUE_PAIRS);
}

/*
 * MSI-X: the config vector and one per pair, for at most one pair per
 * possible CPU; as many pairs as vectors could be had.  INTx: one pair.
 */
static int splitnet_alloc_vectors(struct splitnet_priv *priv)
{
	struct pci_dev *pdev = priv->pdev;
	u32 want = min_t(u32, splitnet_dev_pairs(priv), num_possible_cpus());
	int n;

	if (splitnet_rd32(priv, SPLITNET_REG_NUM_VECTORS) >=
	    SPLITNET_VEC_PAIR(1)) {
		n = pci_alloc_irq_vectors(pdev, SPLITNET_VEC_PAIR(1),
					  SPLITNET_VEC_PAIR(want), PCI_IRQ_MSIX);
		if (n >= SPLITNET_VEC_PAIR(1)) {
			priv->msix = true;
			priv->max_pairs = n - SPLITNET_VEC_PAIR(0);
			return 0;
		}
	}
	n = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_INTX);
	if (n < 0)
		return n;
	dev_info(&pdev->dev, "MSI-X unavailable, using INTx\n");
	priv->msix = false;
	priv->max_pairs = 1;
	return 0;
}

/* One pair per online CPU; a random RSS key, all hash types. */
static int splitnet_init_pairs(struct splitnet_priv *priv)
{
	struct splitnet_pair *pair;
	u32 p;

	priv->pairs = devm_kcalloc(&priv->pdev->dev, priv->max_pairs,
				   sizeof(*priv->pairs), GFP_KERNEL);
	if (!priv->pairs)
		return -ENOMEM;
	for (p = 0; p < priv->max_pairs; p++) {
		pair = &priv->pairs[p];
		pair->tx.priv = priv;
		pair->rx.priv = priv;
		u64_stats_init(&pair->tx.cstats.syncp);
		u64_stats_init(&pair->tx.xstats.syncp);
		u64_stats_init(&pair->rx.stats.syncp);
		netif_napi_add(priv->netdev, &pair->napi, splitnet_poll);
	}
	splitnet_set_pairs(priv, min_t(u32, priv->max_pairs,
				       num_online_cpus()));
	netdev_rss_key_fill(priv->rss_key, sizeof(priv->rss_key));
	priv->rss_types = SPLITNET_RSS_TYPES_DEFAULT;
	return 0;
}

static void splitnet_del_pairs(struct splitnet_priv *priv)
{
	u32 p;

	for (p = 0; p < priv->max_pairs; p++)
		netif_napi_del(&priv->pairs[p].napi);
}

/* What the device offers and this driver negotiated; ethtool -K toggles. */
static netdev_features_t splitnet_offload_features(struct splitnet_priv *priv)
{
	netdev_features_t f = NETIF_F_SG;

	if (splitnet_has(priv, SPLITNET_F_RX_CSUM))
		f |= NETIF_F_RXCSUM;
	if (splitnet_has(priv, SPLITNET_F_RX_GSO))
		f |= NETIF_F_GRO_HW;
	if (splitnet_has(priv, SPLITNET_F_VLAN))
		f |= NETIF_F_HW_VLAN_CTAG_TX | NETIF_F_HW_VLAN_CTAG_RX |
		     NETIF_F_HW_VLAN_CTAG_FILTER;
	if (splitnet_has(priv, SPLITNET_F_MQ))
		f |= NETIF_F_RXHASH;
	if (!splitnet_has(priv, SPLITNET_F_TX_CSUM))
		return f;
	f |= NETIF_F_HW_CSUM;
	if (splitnet_has(priv, SPLITNET_F_TSO4))
		f |= NETIF_F_TSO | NETIF_F_TSO_ECN;
	if (splitnet_has(priv, SPLITNET_F_TSO6))
		f |= NETIF_F_TSO6 | NETIF_F_TSO_ECN;
	if (splitnet_has(priv, SPLITNET_F_USO))
		f |= NETIF_F_GSO_UDP_L4;
	return f;
}

/* What a VLAN device on top may use: the same, but no VLAN offloads. */
#define SPLITNET_VLAN_OFFLOADS	(NETIF_F_HW_VLAN_CTAG_TX | \
				 NETIF_F_HW_VLAN_CTAG_RX | \
				 NETIF_F_HW_VLAN_CTAG_FILTER)

static void splitnet_init_netdev(struct splitnet_priv *priv)
{
	struct net_device *netdev = priv->netdev;
	u8 addr[ETH_ALEN];
	u32 max_mtu;

	netdev->netdev_ops = &splitnet_netdev_ops;
	netdev->ethtool_ops = &splitnet_ethtool_ops;
	netdev->watchdog_timeo = SPLITNET_TX_TIMEOUT;
	netdev->hw_features = splitnet_offload_features(priv);
	netdev->features = netdev->hw_features | NETIF_F_HIGHDMA;
	netdev->vlan_features = netdev->features & ~SPLITNET_VLAN_OFFLOADS;
	priv->vlan_filter = netdev->features & NETIF_F_HW_VLAN_CTAG_FILTER;
	/* The device's bounds on one TSO frame (docs/specs/splitnet.rst). */
	netif_set_tso_max_size(netdev, SPLITNET_TSO_MAX_SIZE);
	netif_set_tso_max_segs(netdev, SPLITNET_TSO_MAX_SEGS);
	netdev->priv_flags |= IFF_LIVE_ADDR_CHANGE;

	max_mtu = splitnet_rd32(priv, SPLITNET_REG_MAX_MTU);
	netdev->min_mtu = ETH_MIN_MTU;
	netdev->max_mtu = max_t(u32, max_mtu, ETH_MIN_MTU);
	netdev->mtu = min_t(u32, ETH_DATA_LEN, netdev->max_mtu);

	splitnet_read_mac(priv, addr);
	if (is_valid_ether_addr(addr)) {
		eth_hw_addr_set(netdev, addr);
	} else {
		dev_warn(&priv->pdev->dev, "invalid MAC %pM, using a random one\n",
			 addr);
		eth_hw_addr_random(netdev);
	}
}

static int splitnet_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct net_device *netdev;
	struct splitnet_priv *priv;
	int err;

	err = pci_enable_device(pdev);
	if (err)
		return err;
	err = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (err)
		goto abort_with_enabled;
	err = pci_request_regions(pdev, SPLITNET_DRV_NAME);
	if (err)
		goto abort_with_enabled;
	if (pci_resource_len(pdev, SPLITNET_BAR_REGS) < SPLITNET_REGS_SIZE) {
		err = -ENODEV;
		goto abort_with_regions;
	}
	pci_set_master(pdev);

	netdev = alloc_etherdev_mq(sizeof(*priv), SPLITNET_MAX_QUEUE_PAIRS);
	if (!netdev) {
		err = -ENOMEM;
		goto abort_with_regions;
	}
	SET_NETDEV_DEV(netdev, &pdev->dev);
	pci_set_drvdata(pdev, netdev);
	priv = netdev_priv(netdev);
	priv->netdev = netdev;
	priv->pdev = pdev;
	INIT_WORK(&priv->reset_work, splitnet_reset_task);
	INIT_DELAYED_WORK(&priv->refill_work, splitnet_refill_task);

	priv->regs = pci_iomap(pdev, SPLITNET_BAR_REGS, SPLITNET_REGS_SIZE);
	if (!priv->regs) {
		err = -ENOMEM;
		goto abort_with_netdev;
	}
	err = splitnet_check_device(priv);
	if (err)
		goto abort_with_iomap;
	err = splitnet_alloc_vectors(priv);
	if (err)
		goto abort_with_iomap;
	splitnet_init_netdev(priv);
	err = splitnet_init_pairs(priv);
	if (err)
		goto abort_with_vectors;

	/* No carrier until the device says so, after open. */
	netif_carrier_off(netdev);
	err = register_netdev(netdev);
	if (err)
		goto abort_with_napi;
	netdev_info(netdev, "splitnet %u.%u at %s, MAC %pM, %s, slot %u, ring max %u, %u of %u queue pairs\n",
		    priv->version >> 16, priv->version & 0xffff, pci_name(pdev),
		    netdev->dev_addr, priv->msix ? "MSI-X" : "INTx",
		    priv->slot_size, priv->max_ring_size, priv->num_pairs,
		    priv->max_pairs);
	return 0;

abort_with_napi:
	splitnet_del_pairs(priv);
abort_with_vectors:
	pci_free_irq_vectors(pdev);
abort_with_iomap:
	pci_iounmap(pdev, priv->regs);
abort_with_netdev:
	free_netdev(netdev);
abort_with_regions:
	pci_release_regions(pdev);
abort_with_enabled:
	pci_disable_device(pdev);
	return err;
}

static void splitnet_remove(struct pci_dev *pdev)
{
	struct net_device *netdev = pci_get_drvdata(pdev);
	struct splitnet_priv *priv = netdev_priv(netdev);

	unregister_netdev(netdev);
	cancel_work_sync(&priv->reset_work);
	cancel_delayed_work_sync(&priv->refill_work);
	splitnet_hw_reset(priv);
	splitnet_del_pairs(priv);
	pci_free_irq_vectors(pdev);
	pci_iounmap(pdev, priv->regs);
	free_netdev(netdev);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
}

/* Shutdown and suspend: the interface goes away until attached again. */
static void splitnet_detach(struct net_device *netdev)
{
	rtnl_lock();
	netif_device_detach(netdev);
	splitnet_stop(netdev);
	rtnl_unlock();
}

static void splitnet_shutdown(struct pci_dev *pdev)
{
	splitnet_detach(pci_get_drvdata(pdev));
	pci_disable_device(pdev);
}

/*
 * System sleep.  The device does not keep its state across it (a PC's
 * machine is reset when it wakes up), so suspend takes the interface down
 * as ifdown does and resume brings it up again, rings and all, from the
 * bring-up sequence.  The PCI core saves and restores the configuration
 * space, MSI-X included.  A resume that cannot start the device fails and
 * leaves the interface detached, so nothing transmits on rings that are
 * gone.
 */
static int splitnet_suspend(struct device *dev)
{
	splitnet_detach(dev_get_drvdata(dev));
	return 0;
}

static int splitnet_resume(struct device *dev)
{
	struct net_device *netdev = dev_get_drvdata(dev);
	int err = 0;

	rtnl_lock();
	if (netif_running(netdev))
		err = splitnet_up(netdev_priv(netdev));
	if (!err)
		netif_device_attach(netdev);
	rtnl_unlock();
	if (err)
		netdev_err(netdev, "cannot start after resume (%d)\n", err);
	return err;
}

static DEFINE_SIMPLE_DEV_PM_OPS(splitnet_pm_ops, splitnet_suspend,
				splitnet_resume);

static struct pci_driver splitnet_driver = {
	.name		= SPLITNET_DRV_NAME,
	.id_table	= splitnet_pci_tbl,
	.probe		= splitnet_probe,
	.remove		= splitnet_remove,
	.shutdown	= splitnet_shutdown,
	.driver.pm	= pm_sleep_ptr(&splitnet_pm_ops),
};
module_pci_driver(splitnet_driver);

MODULE_DESCRIPTION("splitnet head-copy paravirtual NIC driver");
MODULE_AUTHOR("The splitnet authors");
MODULE_LICENSE("GPL");
