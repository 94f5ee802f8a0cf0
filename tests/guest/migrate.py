#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Live-migrate a running test guest to a second QEMU on 127.0.0.1
(tests/guest/lib.sh, guest_migrate).

  migrate.py SRC_QMP DST_QMP [--device ID] [--timeout S]

The destination runs the source's command line plus `-incoming defer -S`.
It listens on an ephemeral port of 127.0.0.1 (migrate-incoming, the port
read back from query-migrate), the source migrates to it, and once both say
"completed" the destination is still paused: the device's QOM `stats`
(--device) on the two sides must then be equal, field by field.  Then the
source quits and the destination continues.  Prints one line:

  migrated SECONDS downtime_ms=N ram_mib=N dirty_syncs=N stats=JSON

and exits 1 on any failure (the reason on stderr).
"""

import argparse
import json
import sys
import time

from qmp import QMP

# RAM moves at loopback speed; the downtime limit is QEMU's default.
MAX_BANDWIDTH = 4 << 30


def wait_status(qmp, states, deadline, what):
    """Poll query-migrate until its status is one of STATES."""
    while True:
        info = qmp.cmd("query-migrate")
        st = info.get("status", "none")
        if st in states:
            return info
        if st in ("failed", "cancelled"):
            raise RuntimeError(f"{what}: migration {st}: "
                               f"{info.get('error-desc', '')}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: migration still '{st}'")
        time.sleep(0.05)


def incoming_port(dst):
    dst.cmd("migrate-incoming", uri="tcp:127.0.0.1:0")
    for a in dst.cmd("query-migrate").get("socket-address", []):
        if a.get("type") == "inet":
            return int(a["port"])
    raise RuntimeError("the destination reports no listening port")


def migrate(args):
    t0 = time.monotonic()
    deadline = t0 + args.timeout
    src = QMP(args.src, timeout=30)
    dst = QMP(args.dst, timeout=60)
    port = incoming_port(dst)
    src.cmd("migrate-set-parameters", **{"max-bandwidth": MAX_BANDWIDTH})
    src.cmd("migrate", uri=f"tcp:127.0.0.1:{port}")
    info = wait_status(src, ("completed",), deadline, "source")
    wait_status(dst, ("completed",), deadline, "destination")
    while dst.cmd("query-status")["status"] != "paused":
        if time.monotonic() > deadline:
            raise TimeoutError("the destination did not reach 'paused'")
        time.sleep(0.05)
    el = time.monotonic() - t0
    stats = None
    if args.device:
        stats = src.qom_stats(args.device)
        got = dst.qom_stats(args.device)
        if got != stats:
            raise RuntimeError(f"device {args.device}: stats before "
                               f"{json.dumps(stats)} after {json.dumps(got)}")
    src.cmd("quit")
    src.close()
    dst.cmd("cont")
    dst.close()
    ram = info.get("ram", {})
    print(f"migrated {el:.2f} downtime_ms={info.get('downtime', -1)} "
          f"ram_mib={ram.get('transferred', 0) / 1048576:.0f} "
          f"dirty_syncs={ram.get('dirty-sync-count', 0)} "
          f"stats={json.dumps(stats, separators=(',', ':'))}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--device")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    try:
        migrate(args)
    except (OSError, TimeoutError, RuntimeError, EOFError) as e:
        print(f"migrate.py: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
