/*
 * udp-gso: move a file over UDP in UDP_SEGMENT (GSO) sends, for the
 * splitnet guest tests: the sender hands the kernel one buffer of up to
 * BATCH datagrams per sendmsg, so the stack builds SKB_GSO_UDP_L4 frames
 * and the NIC (or its backend) cuts them.  A receiver acknowledges what it
 * has in order; the sender goes back to that point when a batch is not
 * acknowledged in time, so the data arrives whole (the host compares
 * sha256 sums) even where UDP may drop.
 *
 *   udp-gso send ADDR PORT FILE GSO_SIZE    (GSO_SIZE: bytes per datagram)
 *   udp-gso recv PORT > FILE
 *
 * Each datagram: magic, sequence number, datagram count, data bytes with
 * LAST (the last of a send) (four 32-bit big-endian words), then the data.
 * The receiver answers each LAST datagram with how many it has in order.
 *
 * Copyright (c) 2026 The splitnet authors
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT     103
#endif

#define MAGIC           0x55475330u     /* "UGS0" */
#define HDR             16
#define BATCH           32
#define MAX_DGRAM       9000
#define RETRIES         200
#define LAST            0x80000000u

static void die(const char *what)
{
    perror(what);
    exit(1);
}

static int udp_socket(int timeout_ms)
{
    struct timeval tv = { timeout_ms / 1000, timeout_ms % 1000 * 1000 };
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
                             sizeof(tv)) < 0) {
        die("socket");
    }
    return fd;
}

/* The acknowledged count of datagrams, or -1 on timeout. */
static long recv_ack(int fd)
{
    uint32_t w[2];

    if (recv(fd, w, sizeof(w), 0) != sizeof(w) || ntohl(w[0]) != MAGIC) {
        return -1;
    }
    return ntohl(w[1]);
}

static int do_send(const char *addr, int port, const char *path, int gso)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
    int fd = udp_socket(300), tries = 0;
    size_t data = gso - HDR, size, n, total, next = 0, best, i, off;
    uint8_t *file, *buf = malloc(BATCH * gso);
    struct stat st;
    FILE *f;
    long ack;

    if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        die("connect");
    }
    if (setsockopt(fd, SOL_UDP, UDP_SEGMENT, &gso, sizeof(gso)) < 0) {
        die("UDP_SEGMENT");
    }
    f = fopen(path, "rb");
    if (!f || fstat(fileno(f), &st) < 0) {
        die(path);
    }
    size = st.st_size;
    file = malloc(size + 1);
    if (!buf || !file || fread(file, 1, size, f) != size) {
        die("read");
    }
    total = (size + data - 1) / data;
    while (next < total) {
        /* One sendmsg: up to BATCH datagrams, the last may be short. */
        for (i = 0, off = 0; i < BATCH && next + i < total; i++) {
            uint32_t *w = (uint32_t *)(buf + off);

            n = size - (next + i) * data < data ? size - (next + i) * data
                                                : data;
            w[0] = htonl(MAGIC);
            w[1] = htonl(next + i);
            w[2] = htonl(total);
            w[3] = htonl(n | (i + 1 == BATCH || next + i + 1 == total ?
                              LAST : 0));
            memcpy(buf + off + HDR, file + (next + i) * data, n);
            off += HDR + n;
        }
        if (send(fd, buf, off, 0) != (ssize_t)off) {
            die("send");
        }
        /* Answers to earlier sends may come first: take the furthest. */
        best = next;
        while (best < next + i && (ack = recv_ack(fd)) >= 0) {
            best = (size_t)ack > best ? (size_t)ack : best;
        }
        if (best == next && ++tries > RETRIES) {
            fprintf(stderr, "udp-gso: no progress at %zu of %zu\n", next,
                    total);
            return 1;
        }
        tries = best == next ? tries : 0;
        next = best;
    }
    fprintf(stderr, "udp-gso: sent %zu bytes in %zu datagrams of %d\n",
            size, total, gso);
    return 0;
}

static void send_ack(int fd, struct sockaddr_in *from, uint32_t next)
{
    uint32_t w[2] = { htonl(MAGIC), htonl(next) };

    sendto(fd, w, sizeof(w), 0, (struct sockaddr *)from, sizeof(*from));
}

/*
 * In-order datagrams go to stdout.  Once all have arrived, go on answering
 * for a second, for a sender that missed the last answer.
 */
static int do_recv(int port)
{
    struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
    struct timeval linger = { 1, 0 };
    struct sockaddr_in from;
    uint8_t buf[MAX_DGRAM];
    uint32_t next = 0, total = UINT32_MAX, seq, len;
    int fd = udp_socket(60000);
    socklen_t fl;
    ssize_t r;

    if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
        die("bind");
    }
    for (;;) {
        fl = sizeof(from);
        r = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
        if (r < 0) {
            if (next < total) {
                die("recv");
            }
            break;
        }
        if (r < HDR || ntohl(((uint32_t *)buf)[0]) != MAGIC) {
            continue;
        }
        seq = ntohl(((uint32_t *)buf)[1]);
        total = ntohl(((uint32_t *)buf)[2]);
        len = ntohl(((uint32_t *)buf)[3]);
        if (seq == next && (len & ~LAST) == r - HDR) {
            if (fwrite(buf + HDR, 1, r - HDR, stdout) != (size_t)(r - HDR)) {
                die("write");
            }
            next++;
        }
        if (next == total && fflush(stdout) == 0) {
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &linger, sizeof(linger));
        }
        if (len & LAST) {
            send_ack(fd, &from, next);
        }
    }
    fprintf(stderr, "udp-gso: received %u datagrams\n", next);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && !strcmp(argv[1], "send")) {
        return do_send(argv[2], atoi(argv[3]), argv[4], atoi(argv[5]));
    }
    if (argc == 3 && !strcmp(argv[1], "recv")) {
        return do_recv(atoi(argv[2]));
    }
    fprintf(stderr, "usage: udp-gso send ADDR PORT FILE GSO_SIZE | "
            "udp-gso recv PORT > FILE\n");
    return 2;
}
