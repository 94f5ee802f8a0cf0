#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""One QMP command on a test guest's monitor socket (QEMU's -qmp unix:...).

  qmp.py SOCKET COMMAND [ARGUMENTS-JSON]

prints the command's return value as JSON; exit status 1 with QEMU's error
on stderr when the command fails.  Events QEMU sends meanwhile are skipped.
"""

import json
import socket
import sys


def call(f, command, arguments=None):
    msg = {"execute": command}
    if arguments:
        msg["arguments"] = arguments
    f.write(json.dumps(msg) + "\n")
    f.flush()
    while True:
        line = f.readline()
        if not line:
            raise SystemExit("qmp.py: QEMU closed the monitor")
        reply = json.loads(line)
        if "return" in reply or "error" in reply:
            return reply


def main():
    if len(sys.argv) not in (3, 4):
        raise SystemExit(__doc__)
    args = json.loads(sys.argv[3]) if len(sys.argv) == 4 else None
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(60)
    sock.connect(sys.argv[1])
    f = sock.makefile("rw")
    json.loads(f.readline())            # the greeting
    call(f, "qmp_capabilities")
    reply = call(f, sys.argv[2], args)
    if "error" in reply:
        print(reply["error"].get("desc", reply["error"]), file=sys.stderr)
        sys.exit(1)
    print(json.dumps(reply["return"]))


main()
