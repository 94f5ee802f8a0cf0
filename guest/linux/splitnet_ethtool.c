// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * splitnet: ethtool operations.
 *
 * -i, -g/-G (ring sizes; a change restarts the interface), -c/-C (interrupt
 * moderation, the queues' INTR_DELAY), and -S: the device's counters,
 * summed over the queues and per queue pair (kept across the resets that
 * clear them), and the driver's own.  -l/-L (combined channels: queue
 * pairs; a change restarts the interface on new rings), -x/-X (RSS key and
 * indirection table), -n/-N rx-flow-hash (which fields RSS hashes).  Also
 * the link's nominal speed and duplex, and -T (software timestamps).
 */

#include <linux/ethtool.h>
#include <linux/netdevice.h>

#include "splitnet.h"

#define SPLITNET_INTR_DELAY_MAX		1000000
/* Mb/s reported as the link speed (see splitnet_get_link_ksettings()). */
#define SPLITNET_NOMINAL_SPEED		SPEED_10000

struct splitnet_dev_stat {
	char name[ETH_GSTRING_LEN];
	u8 rx;
	u8 index;
};

#define SPLITNET_TX_STAT(n, i)	{ "tx_" n, 0, SPLITNET_STAT_##i }
#define SPLITNET_RX_STAT(n, i)	{ "rx_" n, 1, SPLITNET_STAT_##i }

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

/* The device's counters of each pair in use: "tx<pair>_frames", ... */
static const struct splitnet_dev_stat splitnet_pair_stats[] = {
	{ "frames", 0, SPLITNET_STAT_FRAMES },
	{ "bytes", 0, SPLITNET_STAT_BYTES },
	{ "interrupts", 0, SPLITNET_STAT_INTERRUPTS },
	{ "frames", 1, SPLITNET_STAT_FRAMES },
	{ "bytes", 1, SPLITNET_STAT_BYTES },
	{ "no_buffer", 1, SPLITNET_STAT_RX_NO_BUFFER },
	{ "interrupts", 1, SPLITNET_STAT_INTERRUPTS },
};

#define SPLITNET_N_PAIR_STATS	ARRAY_SIZE(splitnet_pair_stats)

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
	return splitnet_reconfigure(priv, tx, rx, priv->num_pairs, extack);
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
	struct splitnet_priv *priv = netdev_priv(netdev);

	if (sset != ETH_SS_STATS)
		return -EOPNOTSUPP;
	return SPLITNET_N_DEV_STATS + priv->num_pairs * SPLITNET_N_PAIR_STATS +
	       SPLITNET_N_DRV_STATS;
}

static void splitnet_get_strings(struct net_device *netdev, u32 sset, u8 *data)
{
	struct splitnet_priv *priv = netdev_priv(netdev);
	const struct splitnet_dev_stat *s;
	unsigned int i, p;

	if (sset != ETH_SS_STATS)
		return;
	for (i = 0; i < SPLITNET_N_DEV_STATS; i++)
		ethtool_sprintf(&data, "%s", splitnet_dev_stats[i].name);
	for (p = 0; p < priv->num_pairs; p++) {
		for (i = 0; i < SPLITNET_N_PAIR_STATS; i++) {
			s = &splitnet_pair_stats[i];
			ethtool_sprintf(&data, "%s%u_%s", s->rx ? "rx" : "tx", p,
					s->name);
		}
	}
	for (i = 0; i < SPLITNET_N_DRV_STATS; i++)
		ethtool_sprintf(&data, "%s", splitnet_drv_stats[i]);
}

/* Add one pair's driver counters to @p, in splitnet_drv_stats' order. */
static void splitnet_add_drv_stats(const struct splitnet_pair *pair, u64 *p)
{
	const struct splitnet_tx_compl_stats *c = &pair->tx.cstats;
	const struct splitnet_tx_xmit_stats *x = &pair->tx.xstats;
	const struct splitnet_rx_stats *r = &pair->rx.stats;
	u64 v[SPLITNET_N_DRV_STATS - 1];
	unsigned int start, i;
	u64 *q;

	do {
		start = u64_stats_fetch_begin(&c->syncp);
		q = v;
		*q++ = c->packets;
		*q++ = c->bytes;
		*q++ = c->wakes;
	} while (u64_stats_fetch_retry(&c->syncp, start));
	do {
		start = u64_stats_fetch_begin(&x->syncp);
		q = v + 3;
		*q++ = x->dropped;
		*q++ = x->map_errors;
		*q++ = x->linearized;
		*q++ = x->doorbells;
		*q++ = x->stops;
		*q++ = x->busy;
		*q++ = x->head_bytes;
		*q++ = x->whole_frames;
	} while (u64_stats_fetch_retry(&x->syncp, start));
	do {
		start = u64_stats_fetch_begin(&r->syncp);
		q = v + 11;
		*q++ = r->packets;
		*q++ = r->bytes;
		*q++ = r->dropped;
		*q++ = r->errors;
		*q++ = r->copybreak;
		*q++ = r->alloc_errors;
		*q++ = r->doorbells;
	} while (u64_stats_fetch_retry(&r->syncp, start));
	WARN_ON_ONCE(q != v + ARRAY_SIZE(v));
	for (i = 0; i < ARRAY_SIZE(v); i++)
		p[i] += v[i];
}

/* Device counter @s summed over every pair the driver may have used. */
static u64 splitnet_dev_total(struct splitnet_priv *priv,
			      const struct splitnet_dev_stat *s)
{
	unsigned int p;
	u64 sum = 0;

	for (p = 0; p < priv->max_pairs; p++)
		sum += splitnet_dev_stat(priv, s->rx ? SPLITNET_RXQ(p) :
						       SPLITNET_TXQ(p),
					 s->index);
	return sum;
}

static void splitnet_get_ethtool_stats(struct net_device *netdev,
				       struct ethtool_stats *stats, u64 *data)
{
	struct splitnet_priv *priv = netdev_priv(netdev);
	const struct splitnet_dev_stat *s;
	unsigned int i, p;

	for (i = 0; i < SPLITNET_N_DEV_STATS; i++)
		*data++ = splitnet_dev_total(priv, &splitnet_dev_stats[i]);
	for (p = 0; p < priv->num_pairs; p++) {
		for (i = 0; i < SPLITNET_N_PAIR_STATS; i++) {
			s = &splitnet_pair_stats[i];
			*data++ = splitnet_dev_stat(priv, s->rx ? SPLITNET_RXQ(p) :
								  SPLITNET_TXQ(p),
						    s->index);
		}
	}
	memset(data, 0, SPLITNET_N_DRV_STATS * sizeof(*data));
	for (p = 0; p < priv->max_pairs; p++)
		splitnet_add_drv_stats(&priv->pairs[p], data);
	data[SPLITNET_N_DRV_STATS - 1] = priv->resets;
}

/* Combined channels: the queue pairs, each with its NAPI and vector. */
static void splitnet_get_channels(struct net_device *netdev,
				  struct ethtool_channels *ch)
{
	struct splitnet_priv *priv = netdev_priv(netdev);

	ch->max_combined = priv->max_pairs;
	ch->combined_count = priv->num_pairs;
}

/* New rings for the new count first, then a restart on them. */
static int splitnet_set_channels(struct net_device *netdev,
				 struct ethtool_channels *ch)
{
	struct splitnet_priv *priv = netdev_priv(netdev);

	if (ch->rx_count || ch->tx_count || ch->other_count ||
	    !ch->combined_count || ch->combined_count > priv->max_pairs)
		return -EINVAL;
	if (ch->combined_count == priv->num_pairs)
		return 0;
	return splitnet_reconfigure(priv, priv->tx_ring_size,
				    priv->rx_ring_size, ch->combined_count,
				    NULL);
}

static u32 splitnet_get_rxfh_key_size(struct net_device *netdev)
{
	return SPLITNET_RSS_KEY_SIZE;
}

static u32 splitnet_get_rxfh_indir_size(struct net_device *netdev)
{
	return SPLITNET_RSS_INDIR_SIZE;
}

static void splitnet_get_rss(struct splitnet_priv *priv, u32 *indir, u8 *key)
{
	if (indir)
		memcpy(indir, priv->rss_indir, sizeof(priv->rss_indir));
	if (key)
		memcpy(key, priv->rss_key, sizeof(priv->rss_key));
}

/* The registers take a new table or key while the queues run. */
static int splitnet_set_rss(struct splitnet_priv *priv, const u32 *indir,
			    const u8 *key, u8 hfunc)
{
	if (!splitnet_has(priv, SPLITNET_F_MQ))
		return -EOPNOTSUPP;
	if (hfunc != ETH_RSS_HASH_NO_CHANGE && hfunc != ETH_RSS_HASH_TOP)
		return -EOPNOTSUPP;
	if (indir)
		memcpy(priv->rss_indir, indir, sizeof(priv->rss_indir));
	if (key)
		memcpy(priv->rss_key, key, sizeof(priv->rss_key));
	if (priv->up)
		splitnet_write_rss(priv);
	return 0;
}

#ifdef SPLITNET_HAVE_RXFH_PARAM
static int splitnet_get_rxfh(struct net_device *netdev,
			     struct ethtool_rxfh_param *rxfh)
{
	rxfh->hfunc = ETH_RSS_HASH_TOP;
	splitnet_get_rss(netdev_priv(netdev), rxfh->indir, rxfh->key);
	return 0;
}

static int splitnet_set_rxfh(struct net_device *netdev,
			     struct ethtool_rxfh_param *rxfh,
			     struct netlink_ext_ack *extack)
{
	return splitnet_set_rss(netdev_priv(netdev), rxfh->indir, rxfh->key,
				rxfh->hfunc);
}
#else
static int splitnet_get_rxfh(struct net_device *netdev, u32 *indir, u8 *key,
			     u8 *hfunc)
{
	if (hfunc)
		*hfunc = ETH_RSS_HASH_TOP;
	splitnet_get_rss(netdev_priv(netdev), indir, key);
	return 0;
}

static int splitnet_set_rxfh(struct net_device *netdev, const u32 *indir,
			     const u8 *key, const u8 hfunc)
{
	return splitnet_set_rss(netdev_priv(netdev), indir, key, hfunc);
}
#endif

/* The RSS hash types of an ethtool flow type: TCP or UDP, and the IP one. */
static int splitnet_flow_types(u32 flow, u32 *l4, u32 *ip)
{
	switch (flow) {
	case TCP_V4_FLOW:
		*l4 = SPLITNET_HASH_TYPE_TCPV4;
		*ip = SPLITNET_HASH_TYPE_IPV4;
		return 0;
	case UDP_V4_FLOW:
		*l4 = SPLITNET_HASH_TYPE_UDPV4;
		*ip = SPLITNET_HASH_TYPE_IPV4;
		return 0;
	case TCP_V6_FLOW:
		*l4 = SPLITNET_HASH_TYPE_TCPV6;
		*ip = SPLITNET_HASH_TYPE_IPV6;
		return 0;
	case UDP_V6_FLOW:
		*l4 = SPLITNET_HASH_TYPE_UDPV6;
		*ip = SPLITNET_HASH_TYPE_IPV6;
		return 0;
	case IPV4_FLOW:
		*l4 = 0;
		*ip = SPLITNET_HASH_TYPE_IPV4;
		return 0;
	case IPV6_FLOW:
		*l4 = 0;
		*ip = SPLITNET_HASH_TYPE_IPV6;
		return 0;
	}
	return -EINVAL;
}

#define SPLITNET_RXH_IP		(RXH_IP_SRC | RXH_IP_DST)
#define SPLITNET_RXH_L4		(SPLITNET_RXH_IP | RXH_L4_B_0_1 | RXH_L4_B_2_3)

/* ethtool -n IFACE rx-flow-hash FLOW: what RSS hashes of those frames. */
static int splitnet_get_flow_hash(struct splitnet_priv *priv,
				  struct ethtool_rxnfc *nfc)
{
	u32 l4, ip;

	nfc->data = 0;
	if (splitnet_flow_types(nfc->flow_type, &l4, &ip))
		return -EINVAL;
	if (l4 && (priv->rss_types & SPLITNET_RSS_HASH(l4)))
		nfc->data = SPLITNET_RXH_L4;
	else if (priv->rss_types & SPLITNET_RSS_HASH(ip))
		nfc->data = SPLITNET_RXH_IP;
	return 0;
}

/*
 * ethtool -N IFACE rx-flow-hash FLOW sdfn | sd | "": addresses and ports,
 * addresses only, or nothing (for TCP and UDP; IP flows take sd or "").
 */
static int splitnet_set_flow_hash(struct splitnet_priv *priv,
				  const struct ethtool_rxnfc *nfc)
{
	u32 l4, ip, types = priv->rss_types;

	if (!splitnet_has(priv, SPLITNET_F_MQ) ||
	    splitnet_flow_types(nfc->flow_type, &l4, &ip))
		return -EOPNOTSUPP;
	if (nfc->data == SPLITNET_RXH_L4 && l4) {
		types |= SPLITNET_RSS_HASH(l4) | SPLITNET_RSS_HASH(ip);
	} else if (nfc->data == SPLITNET_RXH_IP) {
		if (l4)
			types &= ~SPLITNET_RSS_HASH(l4);
		types |= SPLITNET_RSS_HASH(ip);
	} else if (!nfc->data) {
		types &= ~(l4 ? SPLITNET_RSS_HASH(l4) : SPLITNET_RSS_HASH(ip));
	} else {
		return -EINVAL;
	}
	priv->rss_types = types;
	if (priv->up)
		splitnet_write_rss(priv);
	return 0;
}

static int splitnet_get_rxnfc(struct net_device *netdev,
			      struct ethtool_rxnfc *nfc, u32 *rule_locs)
{
	struct splitnet_priv *priv = netdev_priv(netdev);

	switch (nfc->cmd) {
	case ETHTOOL_GRXRINGS:
		nfc->data = priv->num_pairs;
		return 0;
	case ETHTOOL_GRXFH:
		return splitnet_get_flow_hash(priv, nfc);
	}
	return -EOPNOTSUPP;
}

static int splitnet_set_rxnfc(struct net_device *netdev,
			      struct ethtool_rxnfc *nfc)
{
	if (nfc->cmd != ETHTOOL_SRXFH)
		return -EOPNOTSUPP;
	return splitnet_set_flow_hash(netdev_priv(netdev), nfc);
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
	.set_channels		= splitnet_set_channels,
	.get_rxfh_key_size	= splitnet_get_rxfh_key_size,
	.get_rxfh_indir_size	= splitnet_get_rxfh_indir_size,
	.get_rxfh		= splitnet_get_rxfh,
	.set_rxfh		= splitnet_set_rxfh,
	.get_rxnfc		= splitnet_get_rxnfc,
	.set_rxnfc		= splitnet_set_rxnfc,
	.get_link_ksettings	= splitnet_get_link_ksettings,
	/* software timestamps: skb_tx_timestamp() in start_xmit */
	.get_ts_info		= ethtool_op_get_ts_info,
};
