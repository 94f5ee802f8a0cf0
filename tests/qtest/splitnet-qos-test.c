/*
 * qos-test cases for the splitnet NIC, run on every machine whose PCI
 * bus the libqos graph can reach the device on.  The thorough tests are
 * in splitnet-test.c; these check the node and one frame each way.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <sys/socket.h>
#include "libqtest-single.h"
#include "libqos/qgraph.h"
#include "libqos/splitnet.h"

static void test_splitnet_init(void *obj, void *data, QGuestAllocator *alloc)
{
    QSplitnet *d = &((QSplitnetPCI *)obj)->sn;

    g_assert_cmphex(qsplitnet_readl(d, SPLITNET_REG_MAGIC), ==,
                    SPLITNET_MAGIC);
    g_assert_cmphex(qsplitnet_readl(d, SPLITNET_REG_MAC_LO), ==, 0x12005452);
    qsplitnet_bringup(d, 8, 0);
    g_assert_cmphex(qsplitnet_readl(d, SPLITNET_REG_STATUS), ==,
                    SPLITNET_STATUS_LINK_UP | SPLITNET_STATUS_DRIVER_OK);
}

static void test_splitnet_tx(void *obj, void *data, QGuestAllocator *alloc)
{
    QSplitnet *d = &((QSplitnetPCI *)obj)->sn;
    int *sv = data;
    uint8_t frame[64], buf[64];
    QSplitnetFrag frag;
    uint32_t len;
    int i;

    for (i = 0; i < sizeof(frame); i++) {
        frame[i] = i * 3;
    }
    qsplitnet_bringup(d, 8, 0);
    frag.addr = guest_alloc(alloc, 64);
    frag.len = sizeof(frame) - 20;
    qtest_memwrite(global_qtest, frag.addr, frame + 20, frag.len);
    qsplitnet_tx_frame(d, frame, 20, &frag, 1);
    qsplitnet_kick(d, &d->txq);
    g_assert(qsplitnet_wait_cons(d, SPLITNET_TXQ(0), 1));

    g_assert_cmpint(recv(sv[0], &len, 4, MSG_WAITALL), ==, 4);
    g_assert_cmpuint(ntohl(len), ==, sizeof(frame));
    g_assert_cmpint(recv(sv[0], buf, sizeof(buf), MSG_WAITALL), ==,
                    sizeof(buf));
    g_assert(memcmp(buf, frame, sizeof(frame)) == 0);
    guest_free(alloc, frag.addr);
}

static void test_splitnet_rx(void *obj, void *data, QGuestAllocator *alloc)
{
    static const uint8_t mac[6] = SPLITNET_TEST_MAC;
    QSplitnet *d = &((QSplitnetPCI *)obj)->sn;
    int *sv = data;
    uint8_t frame[60] = { 0 }, buf[60];
    uint32_t len = htonl(sizeof(frame));
    uint64_t rxbuf;

    memcpy(frame, mac, sizeof(mac));
    frame[59] = 0x5a;
    qsplitnet_bringup(d, 8, 0);
    rxbuf = guest_alloc(alloc, 2048);
    qsplitnet_rx_post(d, rxbuf, 2048);
    qsplitnet_kick(d, &d->rxq);

    g_assert_cmpint(send(sv[0], &len, 4, 0), ==, 4);
    g_assert_cmpint(send(sv[0], frame, sizeof(frame), 0), ==, sizeof(frame));
    g_assert(qsplitnet_wait_cons(d, SPLITNET_RXQ(0), 1));
    qtest_memread(global_qtest, rxbuf, buf, sizeof(buf));
    g_assert(memcmp(buf, frame, sizeof(frame)) == 0);
    guest_free(alloc, rxbuf);
}

static void data_test_clear(void *sockets)
{
    int *sv = sockets;

    close(sv[0]);
    qos_invalidate_command_line();
    close(sv[1]);
    g_free(sv);
}

static void *data_test_init(GString *cmd_line, void *arg)
{
    struct timeval tv = { .tv_sec = 10 };
    int *sv = g_new(int, 2);

    g_assert_cmpint(socketpair(PF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    g_assert_cmpint(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv,
                               sizeof(tv)), ==, 0);
    g_string_append_printf(cmd_line, " -netdev socket,fd=%d,id=hs0 ", sv[1]);
    g_test_queue_destroy(data_test_clear, sv);
    return sv;
}

static void register_splitnet_test(void)
{
    QOSGraphTestOptions opts = {
        .before = data_test_init,
    };

    qos_add_test("init", "splitnet", test_splitnet_init, &opts);
    qos_add_test("tx", "splitnet", test_splitnet_tx, &opts);
    qos_add_test("rx", "splitnet", test_splitnet_rx, &opts);
}

libqos_init(register_splitnet_test);
