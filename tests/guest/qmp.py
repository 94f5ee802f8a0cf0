#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A minimal synchronous QMP client (only the standard library: QMP is a
line-oriented JSON protocol on a unix socket, docs/interop/qmp-spec.rst in
QEMU), shared by the guest tests' host programs and tests/bench/bench-host.py.

  qmp.py SOCK COMMAND [ARGUMENTS-JSON]   one command; prints its return value
  qmp.py SOCK stat DEV QUEUE COUNTER     one counter of a splitnet device's
                                         QOM `stats` (e.g. nic0 rx0 bytes)
"""

import json
import socket
import sys
import time


def connect_unix(path, timeout):
    """Connect to unix socket PATH, waiting up to TIMEOUT s for it."""
    end = time.monotonic() + timeout
    while True:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return sock
        except (FileNotFoundError, ConnectionRefusedError):
            sock.close()
            if time.monotonic() > end:
                raise TimeoutError(f"no socket at {path} after {timeout}s")
            time.sleep(0.05)


class QMP:
    """One QMP connection: cmd() sends a command and returns its result."""

    def __init__(self, path, timeout=30):
        self.sock = connect_unix(path, timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        # QEMU keeps what it could not send to the previous client (an
        # event, a reply) and sends it to the next one before the greeting.
        for _ in range(100):
            greeting = self._read()
            if "QMP" in greeting or not ("event" in greeting or
                                         "return" in greeting):
                break
        if "QMP" not in greeting:
            raise RuntimeError(f"not a QMP greeting: {greeting}")
        self.cmd("qmp_capabilities")

    def _read(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    # name is positional-only: some commands take an argument "name".
    def cmd(self, name, /, **args):
        msg = {"execute": name}
        if args:
            msg["arguments"] = args
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            rsp = self._read()
            if "event" in rsp:
                continue
            if "error" in rsp:
                raise RuntimeError(f"QMP {name}: {rsp['error'].get('desc')}")
            return rsp["return"]

    def qom_stats(self, dev):
        """The `stats` property of device DEV (-device ...,id=DEV)."""
        return self.cmd("qom-get", path=f"/machine/peripheral/{dev}",
                        property="stats")

    def close(self):
        self.sock.close()


def main():
    a = sys.argv[1:]
    if len(a) not in (2, 3) and not (len(a) == 5 and a[1] == "stat"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        qmp = QMP(a[0])
        if a[1] == "stat":
            print(qmp.qom_stats(a[2])[a[3]][a[4]])
        else:
            kw = json.loads(a[2]) if len(a) == 3 else {}
            print(json.dumps(qmp.cmd(a[1], **kw), indent=1))
        qmp.close()
    except (OSError, TimeoutError, RuntimeError, EOFError, ValueError,
            KeyError) as e:
        print(f"qmp.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
