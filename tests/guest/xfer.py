#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Host half of the guest tests' TCP transfers, through a slirp hostfwd port
on 127.0.0.1, or to a guest's address inside a network namespace the test
made (run in it with `ip netns exec NS`).

  xfer.py send PORT FILE [--timeout S]   send FILE, half-close, wait for the
                                         guest to close; prints
                                         "sent BYTES SECONDS"
  xfer.py recv PORT [--timeout S]        read until the guest closes; prints
                                         "received BYTES SECONDS SHA256"
  xfer.py recv PORT --http PATH          the same for the body of an HTTP/1.0
                                         GET of PATH (busybox httpd, which
                                         sends with sendfile: large writes)

--host ADDR connects to ADDR instead of 127.0.0.1; tests give it only an
address of a network namespace they created, where it runs.
--timeout bounds the whole transfer (default 300 s); a transfer that stalls
for --idle seconds (default 60) fails too.  Exit status 1 on any failure,
with the reason on stderr.  The guest side is busybox nc
(tests/guest/in-guest/netlib.sh).
"""

import argparse
import hashlib
import socket
import sys
import time

CHUNK = 1 << 16


def connect(args):
    s = socket.create_connection((args.host, args.port), timeout=args.idle)
    s.settimeout(args.idle)
    return s


def send(args):
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    sent = 0
    with open(args.file, "rb") as f, connect(args) as s:
        while True:
            buf = f.read(CHUNK)
            if not buf:
                break
            s.sendall(buf)
            sent += len(buf)
            if time.monotonic() > deadline:
                raise TimeoutError(f"sent only {sent} bytes in {args.timeout} s")
        s.shutdown(socket.SHUT_WR)
        # the guest's nc exits when it sees the end: wait for its close
        while s.recv(CHUNK):
            if time.monotonic() > deadline:
                raise TimeoutError("the guest did not close")
    print(f"sent {sent} {time.monotonic() - t0:.2f}")


def recv(args):
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    h = hashlib.sha256()
    n = 0
    head = b"" if args.http else None
    with connect(args) as s:
        if args.http:
            s.sendall(f"GET {args.http} HTTP/1.0\r\n\r\n".encode())
        while True:
            buf = s.recv(CHUNK)
            if not buf:
                break
            if head is not None:
                head += buf
                if b"\r\n\r\n" not in head:
                    continue
                status, buf = head.split(b"\r\n\r\n", 1)
                if b" 200 " not in status.split(b"\r\n")[0]:
                    raise ConnectionError(f"HTTP: {status[:80]!r}")
                head = None
            h.update(buf)
            n += len(buf)
            if time.monotonic() > deadline:
                raise TimeoutError(f"received only {n} bytes in {args.timeout} s")
    if n == 0:
        raise ConnectionError("the guest closed without sending anything")
    print(f"received {n} {time.monotonic() - t0:.2f} {h.hexdigest()}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["send", "recv"])
    ap.add_argument("port", type=int)
    ap.add_argument("file", nargs="?")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--idle", type=float, default=60)
    ap.add_argument("--http", metavar="PATH")
    ap.add_argument("--host", default="127.0.0.1")
    args = ap.parse_args()
    if args.mode == "send" and not args.file:
        ap.error("send needs a FILE")
    try:
        send(args) if args.mode == "send" else recv(args)
    except (OSError, TimeoutError) as e:
        print(f"xfer.py {args.mode} {args.host}:{args.port}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
