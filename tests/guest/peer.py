#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The far end of a guest's `-netdev stream` on 127.0.0.1: a peer that
stops reading for seconds at a time, and checks what it reads.

  peer.py sink --port-file F --out JSON [PAUSES]
      Listen on an ephemeral port of 127.0.0.1 (written to F), take one
      connection (a QEMU with -netdev stream,server=off), read its frames
      until it closes.
  peer.py relay --port-file F --out JSON [PAUSES]
      Listen on two ports (written to F, one a line), take one QEMU on
      each and pass frames between them both ways: a wire between two
      guests that stalls.

PAUSES: --pause-every N --pauses K --pause S stops reading each way for S
seconds after every N frames, K times; --pause-period P instead pauses for
S seconds every P seconds for as long as frames come.  The receive buffer
(--rcvbuf, 1 MiB) is not small: on 127.0.0.1, where the MSS is 64 KiB, a
receive window that falls under half its largest size (a 32 KiB buffer
filled with small frames did) is smaller than the MSS QEMU's side sends
with, and Linux then sends only when its zero-window probe timer fires,
which backs off up to two minutes: QEMU's socket stays full long after
the peer reads again.

The stream framing is QEMU's: a 4-byte big-endian length, then the frame.
Frames with Linux pktgen's header (IPv4/UDP, magic 0xbe9be955 then a 32-bit
sequence number) are checked: each sequence number once and in order from
the first one seen, the IPv4 header checksum right, the lengths consistent
with the frame, the payload after pktgen's 16-byte header zero (pktgen
zero-fills it).  The JSON has, per direction, frames, bytes, pktgen frames,
first/last sequence number, gaps (numbers never seen), repeats (numbers
seen again or out of order), bad (pktgen frames that fail a check), pauses
done and seconds paused, and the longest waits: read_wait_s, the longest
the peer waited in recv() for this QEMU to send anything, and in relay
mode write_wait_s, the longest it waited for the other QEMU to take a
frame (each with the second of the run it began, *_at_s); long_waits
lists the first 100 waits of either kind over a second.  Exit status 1 on
a protocol error.
"""

import argparse
import json
import os
import socket
import struct
import sys
import threading
import time

HOST = "127.0.0.1"
PKTGEN_MAGIC = b"\xbe\x9b\xe9\x55"
PKTGEN_HDR = 42             # Ethernet 14 + IPv4 20 + UDP 8
PKTGEN_LEN = 16             # magic, sequence number, tv_sec, tv_usec


class Pauser:
    """When to stop reading: after every N frames, or every P seconds."""

    def __init__(self, args):
        self.every = args.pause_every
        self.left = args.pauses
        self.period = args.pause_period
        self.secs = args.pause
        self.next_t = time.monotonic() + (self.period or 0)
        self.done = 0
        self.paused = 0.0

    def after_frame(self, frames):
        if self.period:
            due = time.monotonic() >= self.next_t
        else:
            due = self.left > 0 and self.every and frames % self.every == 0
        if not due:
            return
        time.sleep(self.secs)
        self.done += 1
        self.paused += self.secs
        self.left -= 1
        self.next_t = time.monotonic() + (self.period or 0)


class Checker:
    """Counts one direction's frames and checks its pktgen frames."""

    def __init__(self):
        self.frames = self.bytes = self.pktgen = 0
        self.first = self.last = None
        self.expect = None
        self.gaps = self.repeats = self.bad = 0
        self.undelivered = 0
        self.bad_examples = []
        self.t0 = time.monotonic()
        self.read_wait_s = self.read_wait_at_s = 0.0
        self.write_wait_s = self.write_wait_at_s = 0.0
        self.long_waits = []

    def waited(self, kind, t, secs):
        """A recv() or sendall() that began at monotonic time T took SECS:
        keep the longest of each kind, and the first long ones."""
        if secs >= 1 and len(self.long_waits) < 100:
            self.long_waits.append([kind, round(t - self.t0, 1),
                                    round(secs, 3)])
        if secs > getattr(self, kind + "_wait_s"):
            setattr(self, kind + "_wait_s", round(secs, 3))
            setattr(self, kind + "_wait_at_s", round(t - self.t0, 1))

    def frame(self, f):
        self.frames += 1
        self.bytes += len(f)
        if (len(f) < PKTGEN_HDR + PKTGEN_LEN or f[12:14] != b"\x08\x00" or
                f[14] != 0x45 or f[23] != 17 or
                f[PKTGEN_HDR:PKTGEN_HDR + 4] != PKTGEN_MAGIC):
            return
        self.pktgen += 1
        seq = struct.unpack_from(">I", f, PKTGEN_HDR + 4)[0]
        if self.expect is None:
            self.first = self.expect = seq
        if seq == self.expect:
            self.expect += 1
        elif seq > self.expect:
            self.gaps += seq - self.expect
            self.expect = seq + 1
        else:
            self.repeats += 1
        self.last = seq
        why = self.check(f)
        if why:
            self.bad += 1
            if len(self.bad_examples) < 5:
                self.bad_examples.append(f"seq {seq}, {len(f)} bytes: {why}")

    @staticmethod
    def check(f):
        ip_len, = struct.unpack_from(">H", f, 16)
        udp_len, = struct.unpack_from(">H", f, 38)
        if ip_len != len(f) - 14 or udp_len != ip_len - 20:
            return f"IP length {ip_len}, UDP length {udp_len}"
        s = sum(struct.unpack_from(">10H", f, 14))
        while s >> 16:
            s = (s & 0xffff) + (s >> 16)
        if s != 0xffff:
            return "IPv4 header checksum"
        if f[PKTGEN_HDR + PKTGEN_LEN:].strip(b"\0"):
            return "payload not zero"
        return None

    def result(self):
        r = {k: v for k, v in vars(self).items() if k not in ("expect", "t0")}
        return r


def read_frames(conn, out, checker, pauser):
    """Read frames from CONN until it closes, check them, and pass them to
    OUT (a socket) when there is one.  Frames for an OUT that has gone (its
    guest powered off first) count as undelivered."""
    relay = out is not None
    buf = bytearray()
    need = 4
    while True:
        t = time.monotonic()
        data = conn.recv(1 << 16)
        if not data:
            break
        # not the wait for the guest to boot, nor for the end: a guest may
        # be quiet before it powers off
        if checker.frames or buf:
            checker.waited("read", t, time.monotonic() - t)
        buf += data
        off = 0
        while len(buf) - off >= need:
            n = struct.unpack_from(">I", buf, off)[0]
            if n > 65536 + 4:
                raise ValueError(f"frame length {n}: the stream lost its framing")
            if len(buf) - off < 4 + n:
                need = 4 + n
                break
            f = bytes(buf[off + 4:off + 4 + n])
            if out is not None:
                t = time.monotonic()
                try:
                    out.sendall(buf[off:off + 4 + n])
                except (BrokenPipeError, ConnectionResetError):
                    out = None
                checker.waited("write", t, time.monotonic() - t)
            checker.undelivered += relay and out is None
            off += 4 + n
            need = 4
            checker.frame(f)
            pauser.after_frame(checker.frames)
        del buf[:off]
    if buf:
        raise ValueError(f"{len(buf)} bytes of a frame left at the end")


def listen(rcvbuf):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # the accepted connection inherits it: a pause fills it soon
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.bind((HOST, 0))
    s.listen(1)
    return s


def run(args):
    n = 2 if args.mode == "relay" else 1
    lsocks = [listen(args.rcvbuf) for _ in range(n)]
    with open(args.port_file + ".tmp", "w") as f:
        f.write("".join(f"{s.getsockname()[1]}\n" for s in lsocks))
    # rename: the harness never reads half a file
    os.replace(args.port_file + ".tmp", args.port_file)
    conns = []
    for s in lsocks:
        s.settimeout(args.timeout)
        c, _ = s.accept()
        c.settimeout(None)
        conns.append(c)
        s.close()
    t0 = time.monotonic()
    res = {"mode": args.mode, "directions": []}
    errors = []

    def direction(i):
        src = conns[i]
        dst = conns[1 - i] if n == 2 else None
        ck, pa = Checker(), Pauser(args)
        try:
            read_frames(src, dst, ck, pa)
        except (OSError, ValueError) as e:
            errors.append(f"direction {i}: {e}")
        finally:
            if dst is not None:
                # the other guest is done too: let its QEMU see the end
                try:
                    dst.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        d = ck.result()
        d.update(pauses=pa.done, paused_s=pa.paused)
        res["directions"].append(dict(d, side=i))

    threads = [threading.Thread(target=direction, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    res["seconds"] = round(time.monotonic() - t0, 1)
    res["errors"] = errors
    res["directions"].sort(key=lambda d: d["side"])
    with open(args.out, "w") as f:
        json.dump(res, f, indent=1, sort_keys=True)
    for e in errors:
        print(f"peer.py: {e}", file=sys.stderr)
    return 1 if errors else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["sink", "relay"])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pause-every", type=int, default=0)
    ap.add_argument("--pauses", type=int, default=0)
    ap.add_argument("--pause-period", type=float, default=0)
    ap.add_argument("--pause", type=float, default=3)
    ap.add_argument("--rcvbuf", type=int, default=1 << 20)
    ap.add_argument("--timeout", type=float, default=300,
                    help="seconds to wait for each QEMU to connect")
    args = ap.parse_args()
    try:
        return run(args)
    except OSError as e:
        print(f"peer.py: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
