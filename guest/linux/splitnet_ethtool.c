// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * splitnet: ethtool operations.
 *
 * -i, -g/-G (ring sizes; a change restarts the interface), -c/-C (interrupt
 * moderation, the queues' INTR_DELAY), and -S: the device's per-queue
 * counters (kept across the resets that clear them) and the driver's own.
 * Also -l (one combined channel), the link's nominal speed and duplex, and
 * -T (software timestamps).
 */

#include <linux/ethtool.h>
#include <linux/netdevice.h>

#include "splitnet.h"

#define SPLITNET_INTR_DELAY_MAX		1000000
/* Mb/s reported as the link speed (see splitnet_get_link_ksettings()). */
#define SPLITNET_NOMINAL_SPEED		SPEED_10000

struct splitnet_dev_stat {
	char name[ETH_GSTRING_LEN];
	u8 queue;
	u8 index;
};

#define SPLITNET_TX_STAT(n, i)	{ "tx_" n, SPLITNET_TXQ(0), SPLITNET_STAT_##i }
#define SPLITNET_RX_STAT(n, i)	{ "rx_" n, SPLITNET_RXQ(0), SPLITNET_STAT_##i }

static const struct splitnet_dev_stat splitnet_dev_stats[] = {
	SPLITNET_TX_STAT("frames", FRAMES),
	SPLITNET_TX_STAT("bytes", BYTES),
	SPLITNET_TX_STAT("head_bytes", TX_HEAD_BYTES),
	SPLITNET_TX_STAT("payload_ref_bytes", TX_PAYLOAD_REF),
	SPLITNET_TX_STAT("payload_copy_bytes", TX_PAYLOAD_COPY),
	SPLITNET_TX_STAT("stalls", TX_STALLS),
	SPLITNET_TX_STAT("errors", ERRORS),
	SPLITNET_TX_STAT("doorbells", DOORBELLS),
	SPLITNET_TX_STAT("interrupts", INTERRUPTS),
	SPLITNET_TX_STAT("xlate_rebuilds", XLATE_REBUILDS),
	SPLITNET_TX_STAT("csum_frames", TX_CSUM),
	SPLITNET_TX_STAT("tso_frames", TX_TSO),
	SPLITNET_TX_STAT("tso_segments", TX_TSO_SEGS),
	SPLITNET_TX_STAT("gso_passthrough", TX_GSO_PASS),
	SPLITNET_TX_STAT("csum_passthrough", TX_CSUM_PASS),
	SPLITNET_TX_STAT("uso_frames", TX_USO),
	SPLITNET_RX_STAT("frames", FRAMES),
	SPLITNET_RX_STAT("bytes", BYTES),
	SPLITNET_RX_STAT("no_buffer", RX_NO_BUFFER),
	SPLITNET_RX_STAT("filtered", RX_FILTERED),
	SPLITNET_RX_STAT("oversize", RX_OVERSIZE),
	SPLITNET_RX_STAT("csum_frames", RX_CSUM),
	SPLITNET_RX_STAT("gso_frames", RX_GSO),
	SPLITNET_RX_STAT("offload_drops", RX_OFFLOAD_DROP),
	SPLITNET_RX_STAT("vlan_frames", RX_VLAN),
	SPLITNET_RX_STAT("vlan_filtered", RX_VLAN_FILTERED),
	SPLITNET_RX_STAT("errors", ERRORS),
	SPLITNET_RX_STAT("doorbells", DOORBELLS),
	SPLITNET_RX_STAT("interrupts", INTERRUPTS),
	SPLITNET_RX_STAT("xlate_rebuilds", XLATE_REBUILDS),
};

#define SPLITNET_N_DEV_STATS	ARRAY_SIZE(splitnet_dev_stats)

/* The driver's counters, in the order splitnet_get_drv_stats() writes them. */
static const char splitnet_drv_stats[][ETH_GSTRING_LEN] = {
	"drv_tx_packets",
	"drv_tx_bytes",
	"drv_tx_wakes",
	"drv_tx_dropped",
	"drv_tx_map_errors",
	"drv_tx_linearized",
	"drv_tx_doorbells",
	"drv_tx_stops",
	"drv_tx_busy",
	"drv_tx_head_bytes",
	"drv_tx_whole_frames",
	"drv_rx_packets",
	"drv_rx_bytes",
	"drv_rx_dropped",
	"drv_rx_errors",
	"drv_rx_copybreak",
	"drv_rx_alloc_errors",
	"drv_rx_doorbells",
	"drv_resets",
};

#define SPLITNET_N_DRV_STATS	ARRAY_SIZE(splitnet_drv_stats)

static void splitnet_get_drvinfo(struct net_device *netdev,
				 struct ethtool_drvinfo *info)
{
	struct splitnet_priv *priv = netdev_priv(netdev);

	strscpy(info->driver, SPLITNET_DRV_NAME, sizeof(info->driver));
	strscpy(info->bus_info, pci_name(priv->pdev), sizeof(info->bus_info));
	/* The device's ABI version; the core fills in the kernel version. */
	snprintf(info->fw_version, sizeof(info->fw_version), "%u.%u",
		 priv->version >> 16, priv->version & 0xffff);
}

static void splitnet_get_ringparam(struct net_device *netdev,
				   struct ethtool_ringparam *ring,
				   struct kernel_ethtool_ringparam *kring,
				   struct netlink_ext_ack *extack)
{
	struct splitnet_priv *priv = netdev_priv(netdev);

	ring->rx_max_pending = priv->max_ring_size;
	ring->tx_max_pending = priv->max_ring_size;
	ring->rx_pending = priv->rx_ring_size;
	ring->tx_pending = priv->tx_ring_size;
}

static int splitnet_set_ringparam(struct net_device *netdev,
				  struct ethtool_ringparam *ring,
				  struct kernel_ethtool_ringparam *kring,
				  struct netlink_ext_ack *extack)
{
	struct splitnet_priv *priv = netdev_priv(netdev);
	u32 tx = ring->tx_pending, rx = ring->rx_pending;

	if (ring->rx_mini_pending || ring->rx_jumbo_pending)
		return -EINVAL;
	/* Below SPLITNET_RING_MIN one frame could fill the ring. */
	if (tx < SPLITNET_RING_MIN || rx < SPLITNET_RING_MIN ||
	    tx > priv->max_ring_size || rx > priv->max_ring_size ||
	    !is_power_of_2(tx) || !is_power_of_2(rx)) {
		NL_SET_ERR_MSG_MOD(extack,
				   "ring sizes must be powers of two from "
				   __stringify(SPLITNET_RING_MIN)
				   " to the device's maximum");
		return -EINVAL;
	}
	if (tx == priv->tx_ring_size && rx == priv->rx_ring_size)
		return 0;
	return splitnet_reconfigure(priv, tx, rx, extack);
}

static int splitnet_get_coalesce(struct net_device *netdev,
				 struct ethtool_coalesce *ec,
				 struct kernel_ethtool_coalesce *kec,
				 struct netlink_ext_ack *extack)
{
	struct splitnet_priv *priv = netdev_priv(netdev);

	ec->rx_coalesce_usecs = priv->rx_usecs;
	ec->tx_coalesce_usecs = priv->tx_usecs;
	return 0;
}

static int splitnet_set_coalesce(struct net_device *netdev,
				 struct ethtool_coalesce *ec,
				 struct kernel_ethtool_coalesce *kec,
				 struct netlink_ext_ack *extack)
{
	struct splitnet_priv *priv = netdev_priv(netdev);

	if (ec->rx_coalesce_usecs > SPLITNET_INTR_DELAY_MAX ||
	    ec->tx_coalesce_usecs > SPLITNET_INTR_DELAY_MAX) {
		NL_SET_ERR_MSG_MOD(extack, "at most 1000000 usecs");
		return -EINVAL;
	}
	priv->rx_usecs = ec->rx_coalesce_usecs;
	priv->tx_usecs = ec->tx_coalesce_usecs;
	/* INTR_DELAY may change while the queues run. */
	if (priv->up)
		splitnet_apply_coalesce(priv);
	return 0;
}

static int splitnet_get_sset_count(struct net_device *netdev, int sset)
{
	if (sset != ETH_SS_STATS)
		return -EOPNOTSUPP;
	return SPLITNET_N_DEV_STATS + SPLITNET_N_DRV_STATS;
}

static void splitnet_get_strings(struct net_device *netdev, u32 sset, u8 *data)
{
	unsigned int i;

	if (sset != ETH_SS_STATS)
		return;
	for (i = 0; i < SPLITNET_N_DEV_STATS; i++)
		ethtool_sprintf(&data, "%s", splitnet_dev_stats[i].name);
	for (i = 0; i < SPLITNET_N_DRV_STATS; i++)
		ethtool_sprintf(&data, "%s", splitnet_drv_stats[i]);
}

static u64 *splitnet_get_drv_stats(struct splitnet_priv *priv, u64 *p)
{
	const struct splitnet_tx_compl_stats *c = &priv->tx.cstats;
	const struct splitnet_tx_xmit_stats *x = &priv->tx.xstats;
	const struct splitnet_rx_stats *r = &priv->rx.stats;
	unsigned int start;
	u64 *q;

	do {
		start = u64_stats_fetch_begin(&c->syncp);
		q = p;
		*q++ = c->packets;
		*q++ = c->bytes;
		*q++ = c->wakes;
	} while (u64_stats_fetch_retry(&c->syncp, start));
	p = q;
	do {
		start = u64_stats_fetch_begin(&x->syncp);
		q = p;
		*q++ = x->dropped;
		*q++ = x->map_errors;
		*q++ = x->linearized;
		*q++ = x->doorbells;
		*q++ = x->stops;
		*q++ = x->busy;
		*q++ = x->head_bytes;
		*q++ = x->whole_frames;
	} while (u64_stats_fetch_retry(&x->syncp, start));
	p = q;
	do {
		start = u64_stats_fetch_begin(&r->syncp);
		q = p;
		*q++ = r->packets;
		*q++ = r->bytes;
		*q++ = r->dropped;
		*q++ = r->errors;
		*q++ = r->copybreak;
		*q++ = r->alloc_errors;
		*q++ = r->doorbells;
	} while (u64_stats_fetch_retry(&r->syncp, start));
	p = q;
	*p++ = priv->resets;
	return p;
}

static void splitnet_get_ethtool_stats(struct net_device *netdev,
				       struct ethtool_stats *stats, u64 *data)
{
	struct splitnet_priv *priv = netdev_priv(netdev);
	const struct splitnet_dev_stat *s;
	unsigned int i;
	u64 *end;

	for (i = 0; i < SPLITNET_N_DEV_STATS; i++) {
		s = &splitnet_dev_stats[i];
		*data++ = splitnet_dev_stat(priv, s->queue, s->index);
	}
	end = splitnet_get_drv_stats(priv, data);
	WARN_ON_ONCE(end != data + SPLITNET_N_DRV_STATS);
}

/* One queue pair: "ethtool -l" shows it until the device has more. */
static void splitnet_get_channels(struct net_device *netdev,
				  struct ethtool_channels *ch)
{
	ch->max_combined = 1;
	ch->combined_count = 1;
}

/*
 * A paravirtual link has no speed of its own.  It reports a nominal
 * SPLITNET_NOMINAL_SPEED full duplex while the carrier is up, because
 * bonding (802.3ad) and teaming refuse ports of unknown speed or duplex.
 */
static int splitnet_get_link_ksettings(struct net_device *netdev,
				       struct ethtool_link_ksettings *cmd)
{
	ethtool_link_ksettings_zero_link_mode(cmd, supported);
	ethtool_link_ksettings_zero_link_mode(cmd, advertising);
	cmd->base.port = PORT_OTHER;
	cmd->base.autoneg = AUTONEG_DISABLE;
	if (netif_carrier_ok(netdev)) {
		cmd->base.speed = SPLITNET_NOMINAL_SPEED;
		cmd->base.duplex = DUPLEX_FULL;
	} else {
		cmd->base.speed = SPEED_UNKNOWN;
		cmd->base.duplex = DUPLEX_UNKNOWN;
	}
	return 0;
}

const struct ethtool_ops splitnet_ethtool_ops = {
	.supported_coalesce_params = ETHTOOL_COALESCE_USECS,
	.get_drvinfo		= splitnet_get_drvinfo,
	.get_link		= ethtool_op_get_link,
	.get_ringparam		= splitnet_get_ringparam,
	.set_ringparam		= splitnet_set_ringparam,
	.get_coalesce		= splitnet_get_coalesce,
	.set_coalesce		= splitnet_set_coalesce,
	.get_sset_count		= splitnet_get_sset_count,
	.get_strings		= splitnet_get_strings,
	.get_ethtool_stats	= splitnet_get_ethtool_stats,
	.get_channels		= splitnet_get_channels,
	.get_link_ksettings	= splitnet_get_link_ksettings,
	/* software timestamps: skb_tx_timestamp() in start_xmit */
	.get_ts_info		= ethtool_op_get_ts_info,
};
