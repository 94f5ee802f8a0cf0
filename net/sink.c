/*
 * sink netdev: accepts every frame at once, counts it and drops it
 *
 * A NIC benchmark needs a peer that never pushes back: a lone hubport
 * never accepts, so NICs that honour backpressure stall on it.
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "clients.h"
#include "net/net.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-net.h"
#include "qemu/iov.h"
#include "qemu/timer.h"

/* How stale `info network` may be while frames flow. */
#define NET_SINK_INFO_REFRESH_MS    100

typedef struct NetSinkState {
    NetClientState nc;
    uint64_t frames;
    uint64_t bytes;
    QEMUTimer *info_timer;
} NetSinkState;

static void net_sink_update_info(void *opaque)
{
    NetSinkState *s = opaque;

    qemu_set_info_str(&s->nc, "frames=%" PRIu64 ",bytes=%" PRIu64,
                      s->frames, s->bytes);
}

static ssize_t net_sink_receive_iov(NetClientState *nc,
                                    const struct iovec *iov, int iovcnt)
{
    NetSinkState *s = DO_UPCAST(NetSinkState, nc, nc);
    size_t size = iov_size(iov, iovcnt);

    s->frames++;
    s->bytes += size;
    /* Refresh the text lazily: formatting it per frame would cost more. */
    if (!timer_pending(s->info_timer)) {
        timer_mod(s->info_timer, qemu_clock_get_ms(QEMU_CLOCK_REALTIME) +
                                 NET_SINK_INFO_REFRESH_MS);
    }
    return size;
}

static void net_sink_cleanup(NetClientState *nc)
{
    NetSinkState *s = DO_UPCAST(NetSinkState, nc, nc);

    timer_free(s->info_timer);
}

static NetClientInfo net_sink_info = {
    .type = NET_CLIENT_DRIVER_SINK,
    .size = sizeof(NetSinkState),
    /* The net layer delivers every frame through receive_iov when set. */
    .receive_iov = net_sink_receive_iov,
    .cleanup = net_sink_cleanup,
};

int net_init_sink(const Netdev *netdev, const char *name,
                  NetClientState *peer, Error **errp)
{
    NetClientState *nc;
    NetSinkState *s;

    assert(netdev->type == NET_CLIENT_DRIVER_SINK);
    nc = qemu_new_net_client(&net_sink_info, peer, "sink", name);
    s = DO_UPCAST(NetSinkState, nc, nc);
    s->info_timer = timer_new_ms(QEMU_CLOCK_REALTIME, net_sink_update_info, s);
    net_sink_update_info(s);
    return 0;
}

NetSinkInfoList *qmp_x_query_net_sinks(Error **errp)
{
    NetClientState *ncs[MAX_QUEUE_NUM];
    NetSinkInfoList *head = NULL, **tail = &head;
    NetSinkState *s;
    NetSinkInfo *info;
    int i, n;

    n = MIN(qemu_find_net_clients_except(NULL, ncs, NET_CLIENT_DRIVER_NIC,
                                         MAX_QUEUE_NUM), MAX_QUEUE_NUM);
    for (i = 0; i < n; i++) {
        if (ncs[i]->info->type != NET_CLIENT_DRIVER_SINK) {
            continue;
        }
        s = DO_UPCAST(NetSinkState, nc, ncs[i]);
        info = g_new0(NetSinkInfo, 1);
        info->id = g_strdup(ncs[i]->name);
        info->frames = s->frames;
        info->bytes = s->bytes;
        QAPI_LIST_APPEND(tail, info);
    }
    return head;
}
