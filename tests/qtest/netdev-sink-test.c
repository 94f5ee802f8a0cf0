/*
 * QTest testcases for the sink netdev
 *
 * -netdev sink,id=ID accepts every frame as soon as it arrives, counts it
 * and drops it.  QMP x-query-net-sinks returns [{id, frames, bytes}] and
 * `info network` shows frames=N,bytes=B, refreshed on QEMU's real-time
 * clock within 100 ms of the last frame.  A splitnet device (through the
 * libqos driver) and a socket port (test end of a socketpair; 4-byte
 * big-endian length, then the frame) make the traffic.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "libqtest.h"
#include "qemu/timer.h"
#include "qemu/units.h"
#include "qobject/qdict.h"
#include "qobject/qlist.h"
#include "qobject/qnum.h"
#include "libqos/libqos.h"
#include "libqos/libqos-pc.h"
#include "libqos/pci-pc.h"
#include "libqos/splitnet.h"

#define TXQ             SPLITNET_TXQ(0)
#define HDR_LEN         54
#define FRAME_MAX       (16 * KiB)
#define TIMEOUT_US      (10 * G_TIME_SPAN_SECOND)
/* `info network` is refreshed on the real-time clock: wait that long. */
#define INFO_TIMEOUT_US (3 * G_TIME_SPAN_SECOND)

/* One machine: splitnet at 04.0 (libqos/splitnet.h) */
typedef QSplitnetTest Ctx;

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t our_mac[6] = SPLITNET_TEST_MAC;
static const uint8_t other_mac[6] = { 0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc };

/* Harness */

/*
 * Boot with splitnet on netdev @nic_netdev and @netdevs; "%d" in @netdevs
 * is replaced by the fd of a socket netdev's QEMU end when @with_sock.
 */
static Ctx *start(const char *netdevs, const char *nic_netdev,
                  bool with_sock, uint32_t ring)
{
    g_autofree char *nd = NULL;
    int sock = -1, qemu_end = -1;
    Ctx *c;

    if (with_sock) {
        sock = qsplitnet_socketpair(0, 0, &qemu_end);
    }
    nd = with_sock ? g_strdup_printf(netdevs, qemu_end) : g_strdup(netdevs);
    c = qsplitnet_test_start(sock, qemu_end, "-m 128M %s -device splitnet,"
                             "addr=04.0,netdev=%s,mac=" SPLITNET_TEST_MAC_STR,
                             nd, nic_netdev);
    qsplitnet_bringup(&c->d, ring, 0);
    return c;
}

/* QMP and HMP */

/* frames and bytes of sink @id from x-query-net-sinks; false if absent. */
static bool sink_counts(QTestState *qts, const char *id, uint64_t *frames,
                        uint64_t *bytes)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'x-query-net-sinks' }");
    QListEntry *e;
    QDict *info;
    bool found = false;

    g_assert(qdict_haskey(rsp, "return"));
    QLIST_FOREACH_ENTRY(qdict_get_qlist(rsp, "return"), e) {
        info = qobject_to(QDict, qlist_entry_obj(e));
        if (!strcmp(qdict_get_str(info, "id"), id)) {
            g_assert_false(found);
            *frames = qnum_get_uint(qobject_to(QNum,
                                               qdict_get(info, "frames")));
            *bytes = qnum_get_uint(qobject_to(QNum, qdict_get(info, "bytes")));
            found = true;
        }
    }
    qobject_unref(rsp);
    return found;
}

static int sink_count(QTestState *qts)
{
    QDict *rsp = qtest_qmp(qts, "{ 'execute': 'x-query-net-sinks' }");
    int n = qlist_size(qdict_get_qlist(rsp, "return"));

    qobject_unref(rsp);
    return n;
}

static void sink_expect(QTestState *qts, const char *id, uint64_t frames,
                        uint64_t bytes)
{
    uint64_t f, b;

    g_assert(sink_counts(qts, id, &f, &b));
    g_assert_cmpuint(f, ==, frames);
    g_assert_cmpuint(b, ==, bytes);
}

/* Frames from a socket arrive on QEMU's time: wait for the count. */
static void sink_wait(QTestState *qts, const char *id, uint64_t frames,
                      uint64_t bytes)
{
    gint64 end = g_get_monotonic_time() + TIMEOUT_US;
    uint64_t f = 0, b;

    while (g_get_monotonic_time() < end) {
        g_assert(sink_counts(qts, id, &f, &b));
        if (f >= frames) {
            break;
        }
        g_usleep(1000);
    }
    sink_expect(qts, id, frames, bytes);
}

/*
 * `info network` shows "@id: index=0,type=sink,frames=N,bytes=B" within
 * 100 ms of real time; the virtual clock plays no part, so step it
 * (nothing may depend on it) and poll.
 */
static void info_network_expect(QTestState *qts, const char *id,
                                uint64_t frames, uint64_t bytes)
{
    g_autofree char *want = g_strdup_printf("%s: index=0,type=sink,frames=%"
                                            PRIu64 ",bytes=%" PRIu64 "\r\n",
                                            id, frames, bytes);
    gint64 end = g_get_monotonic_time() + INFO_TIMEOUT_US;
    char *out;
    bool ok;

    qtest_clock_step(qts, 200 * SCALE_MS);
    do {
        out = qtest_hmp(qts, "info network");
        ok = strstr(out, want) != NULL;
        if (!ok && g_get_monotonic_time() >= end) {
            g_test_message("info network: %s", out);
        }
        g_free(out);
        if (!ok) {
            g_usleep(10 * 1000);
        }
    } while (!ok && g_get_monotonic_time() < end);
    g_assert(ok);
}

/* Frames */

static size_t frame_fill(uint8_t *b, const uint8_t *dst, size_t len,
                         unsigned seq)
{
    qsplitnet_fill_seq_frame(b, len, dst, our_mac, seq);
    return len;
}

/*
 * Splitnet sends @n frames (head in the pool, payload in one fragment),
 * ring-full by ring-full; returns the bytes sent.
 */
static uint64_t sn_send(Ctx *c, int n)
{
    g_autofree uint8_t *b = g_malloc(FRAME_MAX);
    uint64_t area = guest_alloc(&c->qs->alloc, c->d.txq.size * 2 * KiB);
    uint64_t sum = 0;
    QSplitnetFrag frag;
    size_t len;
    int i;

    for (i = 0; i < n; i++) {
        len = frame_fill(b, bcast, 60 + (i * 71) % 1400, i);
        frag.addr = area + (i % c->d.txq.size) * 2 * KiB;
        frag.len = len - HDR_LEN;
        qtest_memwrite(c->qts, frag.addr, b + HDR_LEN, frag.len);
        qsplitnet_tx_frame(&c->d, b, HDR_LEN, &frag, 1);
        sum += len;
        if ((i + 1) % c->d.txq.size == 0 || i == n - 1) {
            qsplitnet_kick(&c->d, &c->d.txq);
            g_assert(qsplitnet_wait_cons(&c->d, TXQ, c->d.txq.prod));
        }
    }
    guest_free(&c->qs->alloc, area);
    return sum;
}

/* The next frame on @sock is frame @seq of sn_send(). */
static void sock_expect(int sock, unsigned seq)
{
    g_autofree uint8_t *want = g_malloc(FRAME_MAX);
    size_t len = frame_fill(want, bcast, 60 + (seq * 71) % 1400, seq);

    qsplitnet_sock_expect(sock, "port s0", want, len);
}

static void sn_check_tx(Ctx *c, uint64_t frames, uint64_t bytes)
{
    g_assert_cmpuint(qsplitnet_stat(&c->d, TXQ, SPLITNET_STAT_FRAMES), ==,
                     frames);
    g_assert_cmpuint(qsplitnet_stat(&c->d, TXQ, SPLITNET_STAT_BYTES), ==,
                     bytes);
    g_assert_cmpuint(qsplitnet_stat(&c->d, TXQ, SPLITNET_STAT_TX_STALLS), ==,
                     0);
    g_assert_cmpuint(qsplitnet_stat(&c->d, TXQ, SPLITNET_STAT_ERRORS), ==, 0);
}

/* Tests */

/* A sink with no peer is accepted, listed, and shows zero counts. */
static void test_alone(void)
{
    QTestState *qts = qtest_init("-netdev sink,id=k0");

    g_assert_cmpint(sink_count(qts), ==, 1);
    sink_expect(qts, "k0", 0, 0);
    info_network_expect(qts, "k0", 0, 0);
    qtest_quit(qts);
}

/*
 * splitnet straight into a sink: 10 rings' worth of frames, and the
 * device never stalls because the sink never pushes back.
 */
static void test_nic(void)
{
    Ctx *c = start("-netdev sink,id=k0", "k0", false, 8);
    uint64_t bytes = sn_send(c, 80);

    sn_check_tx(c, 80, bytes);
    sink_expect(c->qts, "k0", 80, bytes);
    info_network_expect(c->qts, "k0", 80, bytes);
    qsplitnet_test_stop(c);
}

/* A bigger ring, more frames, and the counts keep adding up. */
static void test_nic_many(void)
{
    Ctx *c = start("-netdev sink,id=k0", "k0", false, 256);
    uint64_t bytes = sn_send(c, 1000);

    bytes += sn_send(c, 24);
    sn_check_tx(c, 1024, bytes);
    sink_expect(c->qts, "k0", 1024, bytes);
    info_network_expect(c->qts, "k0", 1024, bytes);
    qsplitnet_test_stop(c);
}

/*
 * Two sinks and a socket port on a hub with splitnet: every port gets
 * splitnet's frames, and the sinks count the socket's frames too.
 */
static void test_hub(void)
{
    Ctx *c = start("-netdev socket,fd=%d,id=s0"
                   " -netdev hubport,id=h0,hubid=0,netdev=s0"
                   " -netdev sink,id=k0 -netdev hubport,id=h1,hubid=0,"
                   "netdev=k0 -netdev sink,id=k1"
                   " -netdev hubport,id=h2,hubid=0,netdev=k1"
                   " -netdev hubport,id=hn,hubid=0", "hn", true, 16);
    uint8_t frame[300];
    uint64_t bytes = sn_send(c, 40);
    int i;

    for (i = 0; i < 40; i++) {
        sock_expect(c->sock, i);
    }
    sn_check_tx(c, 40, bytes);
    sink_expect(c->qts, "k0", 40, bytes);
    sink_expect(c->qts, "k1", 40, bytes);

    for (i = 0; i < 5; i++) {
        qsplitnet_sock_send(c->sock, frame,
                            frame_fill(frame, other_mac, 100 + i, i));
        bytes += 100 + i;
    }
    sink_wait(c->qts, "k0", 45, bytes);
    sink_wait(c->qts, "k1", 45, bytes);
    g_assert_cmpint(sink_count(c->qts), ==, 2);
    info_network_expect(c->qts, "k1", 45, bytes);
    qsplitnet_test_stop(c);
}

/*
 * Run QEMU on its own with @args; a QMP monitor reads "quit" from a file,
 * so a command line QEMU accepts ends too.  Returns the exit status.
 */
static int run_qemu(const char *args, char **err)
{
    const char *qemu = g_getenv("QTEST_QEMU_BINARY");
    g_autofree char *cmds = NULL;
    g_autofree char *cmdline = NULL;
    g_auto(GStrv) argv = NULL;
    g_autoptr(GError) error = NULL;
    int fd, status;

    g_assert(qemu);
    fd = g_file_open_tmp("sink-test-XXXXXX", &cmds, &error);
    g_assert_no_error(error);
    g_assert(g_file_set_contents(cmds, "{\"execute\": \"qmp_capabilities\"}\n"
                                 "{\"execute\": \"quit\"}\n", -1, NULL));
    close(fd);
    cmdline = g_strdup_printf("%s -M none -nodefaults -display none"
                              " -chardev file,id=m,path=/dev/null,"
                              "input-path=%s -mon chardev=m,mode=control %s",
                              qemu, cmds, args);
    g_assert(g_shell_parse_argv(cmdline, NULL, &argv, NULL));
    g_assert(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                          NULL, err, &status, &error));
    g_assert_no_error(error);
    unlink(cmds);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* Options a sink does not have are rejected, on the command line and QMP. */
static void test_bogus_option(void)
{
    g_autofree char *err = NULL;
    g_autofree char *err_ok = NULL;
    QTestState *qts;
    QDict *rsp;

    g_assert_cmpint(run_qemu("-netdev sink,id=x,bogus=1", &err), ==, 1);
    g_test_message("stderr: %s", err);
    g_assert(strstr(err, "bogus"));
    g_assert_cmpint(run_qemu("-netdev sink,id=x", &err_ok), ==, 0);

    qts = qtest_init("-netdev sink,id=k0");
    rsp = qtest_qmp(qts, "{ 'execute': 'netdev_add', 'arguments': {"
                    " 'type': 'sink', 'id': 'x', 'bogus': 1 } }");
    g_assert(qdict_haskey(rsp, "error"));
    qobject_unref(rsp);
    g_assert_cmpint(sink_count(qts), ==, 1);
    qtest_quit(qts);
}

/* netdev_add and netdev_del of a sink at run time. */
static void test_hotplug(void)
{
    QTestState *qts = qtest_init("-netdev sink,id=k0");
    uint64_t f, b;

    qtest_qmp_assert_success(qts, "{ 'execute': 'netdev_add', 'arguments':"
                             " { 'type': 'sink', 'id': 'k1' } }");
    g_assert_cmpint(sink_count(qts), ==, 2);
    sink_expect(qts, "k1", 0, 0);
    qtest_qmp_assert_success(qts, "{ 'execute': 'netdev_del', 'arguments':"
                             " { 'id': 'k1' } }");
    g_assert_cmpint(sink_count(qts), ==, 1);
    g_assert_false(sink_counts(qts, "k1", &f, &b));
    sink_expect(qts, "k0", 0, 0);
    qtest_quit(qts);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    qtest_add_func("/netdev/sink/alone", test_alone);
    qtest_add_func("/netdev/sink/bogus-option", test_bogus_option);
    qtest_add_func("/netdev/sink/hotplug", test_hotplug);
    qtest_add_func("/netdev/sink/splitnet", test_nic);
    qtest_add_func("/netdev/sink/splitnet-many", test_nic_many);
    qtest_add_func("/netdev/sink/hub", test_hub);
    return g_test_run();
}
