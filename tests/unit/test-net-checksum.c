/*
 * net_checksum_add_cont() against the byte-at-a-time definition
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/iov.h"
#include "net/checksum.h"

#define BUF_MAX     (65536 + 64)

/* RFC 1071 as QEMU had it: the even bytes (by @seq) are the high ones. */
static uint32_t ref_add(int len, const uint8_t *buf, int seq)
{
    uint32_t hi = 0, lo = 0;
    int i;

    for (i = 0; i < len; i++) {
        if ((i + seq) & 1) {
            lo += buf[i];
        } else {
            hi += buf[i];
        }
    }
    return (hi << 8) + lo;
}

static void fill(uint8_t *buf, size_t len, int kind, GRand *r)
{
    size_t i;

    for (i = 0; i < len; i++) {
        buf[i] = kind == 0 ? 0xff : kind == 1 ? 0 : g_rand_int(r);
    }
}

static void check(const uint8_t *buf, int len, int seq)
{
    uint16_t want = net_checksum_finish(ref_add(len, buf, seq));
    uint16_t got = net_checksum_finish(net_checksum_add_cont(len,
                                                             (uint8_t *)buf,
                                                             seq));

    if (want != got) {
        g_test_message("len %d, at %p, seq %d", len, buf, seq);
    }
    g_assert_cmphex(got, ==, want);
}

/* Every length to 300 at every alignment to 16, both parities. */
static void test_short(void)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(1);
    g_autofree uint8_t *buf = g_malloc(BUF_MAX);
    int len, off, kind;

    for (kind = 0; kind < 3; kind++) {
        fill(buf, BUF_MAX, kind, r);
        for (len = 0; len <= 300; len++) {
            for (off = 0; off < 16; off++) {
                check(buf + off, len, 0);
                check(buf + off, len, 1);
            }
        }
    }
}

/* Up to 64 KiB of 0xff: the most carries any sum can have. */
static void test_long(void)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(2);
    g_autofree uint8_t *buf = g_malloc(BUF_MAX);
    int i, len, off;

    for (i = 0; i < 600; i++) {
        fill(buf, BUF_MAX, i % 3, r);
        len = g_rand_int_range(r, 0, 65537);
        off = g_rand_int_range(r, 0, 64);
        check(buf + off, len, i & 1);
    }
}

/* net_checksum_add_iov() cuts the data at odd offsets too. */
static void test_iov(void)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(3);
    g_autofree uint8_t *buf = g_malloc(BUF_MAX);
    struct iovec iov[8];
    size_t len, off, n;
    int i, k;

    for (i = 0; i < 300; i++) {
        fill(buf, BUF_MAX, i % 3, r);
        len = g_rand_int_range(r, 1, 65536);
        for (k = 0, off = 0; k < 8; k++, off += n) {
            n = k == 7 ? len - off : g_rand_int_range(r, 0, len - off + 1);
            iov[k] = (struct iovec) { .iov_base = buf + off, .iov_len = n };
        }
        off = g_rand_int_range(r, 0, len + 1);
        g_assert_cmphex(net_checksum_finish(net_checksum_add_iov(iov, 8, off,
                                                                 len - off,
                                                                 0)), ==,
                        net_checksum_finish(ref_add(len - off, buf + off, 0)));
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/net/checksum/short", test_short);
    g_test_add_func("/net/checksum/long", test_long);
    g_test_add_func("/net/checksum/iov", test_iov);
    return g_test_run();
}
