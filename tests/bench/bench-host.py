#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host side of splitnet's NIC benchmarks (tests/bench/run.sh).
#
#   bench-host.py guest --nic NAME --qmp SOCK --ctl SOCK --out FILE.json
#                       [--qom-stats DEVID] [--trace FILE] [--rx-port PORT
#                       --rx-mac MAC] [--timeout S]
#       Serve one benchmark guest (in-guest/traffic.sh): answer its control
#       channel (a second serial port, /dev/ttyS1 in the guest) and, at
#       every point the guest marks with "SNAP TAG", read the sink's
#       counters (x-query-net-sinks), with --qom-stats the device's QOM
#       `stats` property, and with --trace the NIC's register accesses
#       (below) before letting the guest go on.  With --rx-port, "SEND
#       PHASE SIZE COUNT" streams SIZE-byte frames to MAC into QEMU's
#       stream netdev on 127.0.0.1:PORT until "STOP PHASE", paced by the
#       guest's "RXC COUNT" reports (see Sender).  Collects what the
#       guest reports ("KV PHASE KEY VALUE") and writes everything to
#       FILE.json when the guest says "END".
#   bench-host.py iperf FILE.json OUT.json
#       Reduce an `iperf3 -J` result to the numbers the report uses.
#   bench-host.py qmp SOCK COMMAND [ARGUMENTS-JSON]
#       One QMP command, for a person poking at a running guest.
#
# The report is bench-report.py.  Only the standard library; the QMP
# client is tests/guest/qmp.py.

import argparse
import json
import os
import re
import select
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "guest"))
from qmp import QMP, connect_unix  # noqa: E402 (tests/guest/qmp.py)


def say(msg):
    print(f"splitnet: {msg}", file=sys.stderr, flush=True)


def sink_counters(qmp):
    """{sink id: {"frames": n, "bytes": n}} from x-query-net-sinks."""
    return {s["id"]: {"frames": s["frames"], "bytes": s["bytes"]}
            for s in qmp.cmd("x-query-net-sinks")}


def num(v):
    try:
        return int(v)
    except ValueError:
        try:
            return float(v)
        except ValueError:
            return v


def cpu_ticks(pid):
    """(busy ticks of the whole machine, ticks of process PID) from /proc."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    busy = sum(v) - v[3] - (v[4] if len(v) > 4 else 0)   # minus idle, iowait
    own = 0
    if pid:
        try:
            with open(f"/proc/{pid}/stat") as f:
                st = f.read().rsplit(")", 1)[1].split()
            own = int(st[11]) + int(st[12])                # utime + stime
        except OSError:
            pass
    return busy, own


def delta(a, b):
    """b - a for nested dicts of numbers."""
    if isinstance(a, dict):
        return {k: delta(a.get(k, 0), b[k]) for k in b}
    return b - a


# --- register accesses: the exits a NIC would cost under KVM -----------------
#
# QEMU's memory_region_ops_read/write trace events fire for every access
# that reaches a device's MemoryRegion callbacks: under KVM each would be a
# VM exit.  They are enabled (log backend, -trace file=...) only between a
# phase's two snapshots, and the lines written meanwhile are counted.

TRACE_EVENTS = "memory_region_ops_*"
TRACE_RE = re.compile(r"memory_region_ops_(read|write) cpu \S+ mr \S+ "
                      r"addr (0x[0-9a-f]+) value \S+ size \d+ name '([^']*)'")
E1000_TAILS = (0x2818, 0x2918, 0x3818, 0x3918)     # RDT0/1, TDT0/1


def _splitnet_doorbell(name, addr):
    # SPLITNET_QUEUE_REGS(q) + SPLITNET_Q_DOORBELL (include/standard-headers/
    # linux/splitnet.h)
    return name == "splitnet-mmio" and addr >= 0x1000 and addr & 0xff == 0x20


# Per NIC: the names of its BARs' MemoryRegions (QEMU's hw/net and
# hw/virtio sources; the MSI-X table and PBA are added: no other device of
# the bench's guests has them) and which writes are doorbells, i.e. tell
# the device that the driver produced buffers (TX or RX).
NIC_MMIO = {
    "splitnet": (("splitnet-mmio",), _splitnet_doorbell),
    "splitnet-defer": (("splitnet-mmio",), _splitnet_doorbell),
    "virtio-net-pci": (
        tuple(f"virtio-pci-{r}-virtio-net"
              for r in ("common", "isr", "device", "notify", "notify-pio"))
        + ("virtio-pci",),
        lambda n, a: (n.startswith("virtio-pci-notify")
                      or (n == "virtio-pci" and a == 16))),
    "e1000e": (("e1000e-mmio", "e1000e-io"),
               lambda n, a: n == "e1000e-mmio" and a in E1000_TAILS),
    "e1000": (("e1000-mmio", "e1000-io"),
              lambda n, a: n == "e1000-mmio" and a in E1000_TAILS),
    "vmxnet3": (("vmxnet3-b0", "vmxnet3-b1"),       # TXPROD, RXPROD, RXPROD2
                lambda n, a: n == "vmxnet3-b0" and 0x600 <= a < 0xc00),
}
MSIX_REGIONS = ("msix-table", "msix-pba")


def nic_bars(qmp):
    """{qdev id: [(base, size)]} of the BARs of the guest's NICs (nic0 on
    the sink, nic1 on the RX stream), from query-pci."""
    return {d["qdev_id"]: [(r["address"], r["size"])
                           for r in d.get("regions", [])]
            for bus in qmp.cmd("query-pci") for d in bus.get("devices", [])
            if d.get("qdev_id") in ("nic0", "nic1")}


def mmio_counts(path, start, nic, bars):
    """Per NIC device: reads, writes and doorbells in trace file PATH from
    offset START on, with the busiest registers.  The trace gives absolute
    addresses: BARS ({id: [(base, size)]}) say whose access it was and at
    which register offset."""
    regions, is_doorbell = NIC_MMIO[nic]
    out = {d: {"reads": 0, "writes": 0, "doorbells": 0, "registers": {}}
           for d in bars}
    others = {}
    with open(path, "rb") as f:
        f.seek(start)
        for raw in f:
            m = TRACE_RE.search(raw.decode(errors="replace"))
            if not m:
                continue
            op, addr, name = m.group(1), int(m.group(2), 16), m.group(3)
            hit = None
            if name in regions or name in MSIX_REGIONS:
                hit = next(((d, addr - b) for d, bl in bars.items()
                            for b, n in bl if b <= addr < b + n), None)
            if hit is None:
                others[name] = others.get(name, 0) + 1
                continue
            c, off = out[hit[0]], hit[1]
            c[op + "s"] += 1
            if op == "write" and is_doorbell(name, off):
                c["doorbells"] += 1
            key = f"{op} {name}+{off:#x}"
            c["registers"][key] = c["registers"].get(key, 0) + 1
    for c in out.values():
        c["registers"] = dict(sorted(c["registers"].items(),
                                     key=lambda kv: -kv[1])[:12])
        c["other_devices"] = others      # the rest of the guest
    return out


# --- the host's sender: frames into a stream netdev ------------------------------

def udp_frame(size, dst_mac):
    """A SIZE-byte IPv4/UDP frame (without FCS) from 10.0.2.2 to 10.0.2.99,
    a foreign address for the guest: its stack drops it without a reply."""
    payload = bytes(size - 42)
    udp = struct.pack("!HHHH", 9, 9, 8 + len(payload), 0) + payload
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0,
                               64, 17, 0, bytes([10, 0, 2, 2]),
                               bytes([10, 0, 2, 99])))
    s = sum(struct.unpack("!10H", ip))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    ip[10:12] = struct.pack("!H", ~s & 0xffff)
    mac = bytes.fromhex(dst_mac.replace(":", ""))
    return mac + bytes.fromhex("525400000002") + b"\x08\x00" + bytes(ip) + udp


class Sender(threading.Thread):
    """Streams one frame over and over into a stream netdev (a 4-byte
    big-endian length before each frame) until stopped.  QEMU's stream
    netdev reads on whenever the NIC takes a frame and queues the rest
    without a limit, so TCP's flow control alone would let a fast sender
    pile up millions of frames in QEMU.  The guest reports what it has
    received or dropped (RXC lines, 10 times a second) and the sender
    stays at most `window` frames ahead: a NIC that holds frames back
    loses none, and what is in flight when it stops arrives within a
    fraction of a second.  When the guest's count stands still for 0.5 s
    with a window in flight (frames dropped without a count), the sender
    gives them up and goes on (`stalls`).  `waits` counts the times
    it had to wait for the guest or for QEMU to read: a phase with
    waits > 0 was limited by the receiver, not by the sender."""

    def __init__(self, sock, frame):
        super().__init__(daemon=True)
        rec = struct.pack(">I", len(frame)) + frame
        self.rec = len(rec)
        self.buf = rec * max(1, 65536 // len(rec))
        self.per_buf = len(self.buf) // self.rec
        self.window = min(50000, max(20000, (32 << 20) // self.rec))
        self.sock = sock
        self.sent = 0
        self.received = 0       # frames the guest got or dropped since SEND
        self.given_up = 0
        self.waits = 0
        self.stalls = 0
        self.error = None
        self.halt = threading.Event()

    def run(self):
        view = memoryview(self.buf)
        seen, since = 0, time.monotonic()
        try:
            while not self.halt.is_set():
                if self.received != seen:
                    seen, since = self.received, time.monotonic()
                if self.sent - self.received - self.given_up > self.window:
                    if time.monotonic() - since < 0.5:
                        self.waits += 1
                        self.halt.wait(0.01)
                        continue
                    # A NIC that drops without counting it: go on.
                    self.given_up = self.sent - self.received
                    self.stalls += 1
                off = 0
                while off < len(view):      # whole frames only
                    try:
                        off += self.sock.send(view[off:])
                    except BlockingIOError:     # QEMU reads no faster
                        self.waits += 1
                        select.select([], [self.sock], [], 1.0)
                self.sent += self.per_buf
        except OSError as e:
            self.error = str(e)

    def stop(self):
        self.halt.set()
        self.join(60)
        return self.sent


# --- guest: the control channel ---------------------------------------------

class Guest:
    """One benchmark guest's control channel and what it reported."""

    def __init__(self, args):
        self.args = args
        self.res = {"nic": args.nic, "ok": False, "error": None, "phases": {},
                    "snapshots": {}}
        self.qmp = self.ctl = self.stream = self.sender = None
        self.trace_at = 0
        self.rx_base = 0

    def save(self):
        tmp = self.args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.res, f, indent=1, sort_keys=True)
        os.replace(tmp, self.args.out)

    def answer(self, tag):
        self.ctl.sendall(f"ACK {tag}\n".encode())

    def snap(self, tag):
        a = self.args
        if a.trace and tag.endswith("-end"):
            self.qmp.cmd("trace-event-set-state", name=TRACE_EVENTS,
                         enable=False)
        snap = {"t": time.monotonic(), "sink": sink_counters(self.qmp),
                "cpu": cpu_ticks(a.qemu_pid)}
        if a.qom_stats:
            snap["qom"] = self.qmp.cmd(
                "qom-get", path=f"/machine/peripheral/{a.qom_stats}",
                property="stats")
        if a.trace and tag.endswith("-end"):
            snap["mmio"] = mmio_counts(a.trace, self.trace_at, a.nic,
                                       nic_bars(self.qmp))
        self.res["snapshots"][tag] = snap
        if a.trace and tag.endswith("-start"):
            self.trace_at = os.path.getsize(a.trace)
            self.qmp.cmd("trace-event-set-state", name=TRACE_EVENTS,
                         enable=True)
        self.answer(tag)

    def send(self, phase, size, base):
        a = self.args
        if not a.rx_port:
            raise RuntimeError("SEND without --rx-port")
        if self.stream is None:
            self.stream = socket.create_connection(("127.0.0.1", a.rx_port), 30)
            self.stream.setblocking(False)
        self.sender = Sender(self.stream, udp_frame(int(size), a.rx_mac))
        self.rx_base = int(base)
        self.sender.start()
        self.answer(f"{phase}-send")

    def stop(self, phase):
        s, self.sender = self.sender, None
        p = self.res["phases"].setdefault(phase, {})
        p["sent"] = s.stop()
        p["sender_waits"] = s.waits
        p["sender_stalls"] = s.stalls
        if s.error:
            raise RuntimeError(f"sender: {s.error}")
        self.answer(f"{phase}-stop")

    def line(self, line):
        """Handle one line from the guest; True at its END."""
        word, _, rest = line.partition(" ")
        if word == "HELLO":
            self.answer("HELLO")
        elif word == "SNAP":
            self.snap(rest)
        elif word == "SEND":
            self.send(*rest.split(" ", 2))
        elif word == "RXC":
            if self.sender:
                self.sender.received = int(rest) - self.rx_base
        elif word == "STOP":
            self.stop(rest)
        elif word == "KV":
            phase, key, value = (rest.split(" ", 2) + ["", ""])[:3]
            self.res["phases"].setdefault(phase, {})[key] = num(value)
        elif word == "INFO":
            key, _, value = rest.partition(" ")
            self.res.setdefault("info", {})[key] = value
        elif word == "DONE":
            phase_done(self.res, rest, self.args.nic)
            self.save()
        elif word == "FAIL":
            self.res["error"] = f"guest: {rest}"
            say(f"{self.args.nic}: guest failed: {rest}")
        elif word == "END":
            return True
        elif word != "ACK":     # our own answers, echoed if the tty echoes
            say(f"{self.args.nic}: control channel: unexpected '{line}'")
        return False

    def serve(self):
        deadline = time.monotonic() + self.args.timeout
        buf = b""
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"guest did not finish within {self.args.timeout}s")
            r, _, _ = select.select([self.ctl], [], [], min(left, 1.0))
            if not r:
                continue
            data = self.ctl.recv(4096)
            if not data:
                raise EOFError("control channel closed (guest gone?)")
            buf += data
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = raw.decode(errors="replace").strip("\r\x00 ")
                if line and self.line(line):
                    return

    def run(self):
        a = self.args
        try:
            self.qmp = QMP(a.qmp, timeout=30)
            self.ctl = connect_unix(a.ctl, 30)
        except (OSError, TimeoutError, RuntimeError, EOFError) as e:
            self.res["error"] = f"cannot reach QEMU: {e}"
            self.save()
            say(f"{a.nic}: {self.res['error']}")
            return 1
        ended = False
        try:
            self.serve()
            ended = True
        except (OSError, TimeoutError, EOFError, RuntimeError) as e:
            self.res["error"] = (self.res["error"] or guest_failure(a.log)
                                 or str(e))
            say(f"{a.nic}: {self.res['error']}")
        finally:
            if self.sender:
                self.sender.stop()
            for c in (self.qmp, self.ctl, self.stream):
                if c:
                    c.close()
        self.res["ok"] = ended and self.res["error"] is None
        self.save()
        return 0 if self.res["ok"] else 1


def cmd_guest(args):
    return Guest(args).run()


def guest_failure(log):
    """The in-guest script's "guest: FAIL: ..." line from serial log LOG."""
    if not log:
        return None
    try:
        with open(log, errors="replace") as f:
            fails = [ln.strip() for ln in f if ln.startswith("guest: FAIL:")]
    except OSError:
        return None
    return fails[-1][len("guest: "):] if fails else None


def phase_done(res, phase, nic):
    """Combine the guest's numbers of PHASE with the host's snapshots."""
    p = res["phases"].setdefault(phase, {})
    s0 = res["snapshots"].get(f"{phase}-start")
    s1 = res["snapshots"].get(f"{phase}-end")
    if s0 and s1:
        sink = delta(s0["sink"], s1["sink"])
        p["host_frames"] = sum(v["frames"] for v in sink.values())
        p["host_bytes"] = sum(v["bytes"] for v in sink.values())
        if "qom" in s0:
            p["qom"] = delta(s0["qom"], s1["qom"])
        if "mmio" in s1:
            # RX phases run on nic1, TX phases on nic0
            p["mmio"] = s1["mmio"].get("nic1" if "rx_frames" in p else "nic0")
            if p["mmio"] and nic == "virtio-net-pci":
                eventfd_kicks(p)
        # CPU time that processes other than this guest's QEMU used while
        # the phase ran: a busy machine makes the numbers noisy.
        secs = s1["t"] - s0["t"]
        p["host_seconds"] = round(secs, 4)
        if secs > 0:
            busy = s1["cpu"][0] - s0["cpu"][0]
            own = s1["cpu"][1] - s0["cpu"][1]
            p["other_cpu"] = round(max(0, busy - own) /
                                   os.sysconf("SC_CLK_TCK") / secs, 3)
    if "rx_frames" in p:
        say(rx_summary(nic, phase, p))
    else:
        say(tx_summary(nic, phase, p))


def eventfd_kicks(p):
    """virtio-pci's notify writes go to an ioeventfd, which QEMU signals
    before the trace point (system/memory.c, also without KVM): count them
    with the driver's own kick counters (ethtool -S *_kicks) instead."""
    m = p["mmio"]
    m["eventfd_doorbells"] = sum(v for k, v in p.items()
                                 if k.startswith("ethtool.")
                                 and k.endswith("_kicks"))
    m["doorbells"] += m["eventfd_doorbells"]
    m["writes"] += m["eventfd_doorbells"]


def per_frame(n, frames):
    return "-" if n is None or not frames else f"{n / frames:.3f}"


def tx_summary(nic, phase, p):
    pk = p.get("pkts", 0)
    msg = (f"{nic} {phase}: {p.get('size')} B burst {p.get('burst')}: "
           f"{p.get('pps', 0)} pps, {p.get('bps', 0) / 1e6:.1f} Mbit/s "
           f"(guest {pk} frames, host sink {p.get('host_frames', '?')}), "
           f"irq/frame {per_frame(p.get('irqs'), pk)}") + mmio_note(p, pk)
    q = p.get("qom", {}).get("tx0", {})
    if "doorbells" in q:
        msg += f" (device's count: doorbells/frame {per_frame(q['doorbells'], pk)})"
    return msg + busy_note(p)


def rx_summary(nic, phase, p):
    secs = p.get("host_seconds") or 0
    pps = p["rx_frames"] / secs if secs else 0
    sent, got, n = p.get("sent"), p.get("rx_total"), p["rx_frames"]
    msg = (f"{nic} {phase}: {p.get('size')} B: {pps:.0f} pps received, "
           f"{pps * p.get('size', 0) * 8 / 1e6:.1f} Mbit/s; host sent {sent}, "
           f"guest received {got} ({(sent or 0) - (got or 0)} lost), "
           f"sender waited {p.get('sender_waits')} times, irq/frame "
           f"{per_frame(p.get('irqs'), n)}")
    return msg + mmio_note(p, n) + busy_note(p)


def mmio_note(p, frames):
    m = p.get("mmio")
    if not m:
        return ""
    return (f", per frame: doorbells {per_frame(m['doorbells'], frames)}, "
            f"MMIO reads {per_frame(m['reads'], frames)}, "
            f"writes {per_frame(m['writes'], frames)}")


def busy_note(p):
    if p.get("other_cpu", 0) > 0.25:
        return f"; busy machine: others used {p['other_cpu']:.2f} CPUs"
    return ""


# --- iperf ---------------------------------------------------------------------

def cmd_iperf(args):
    with open(args.input) as f:
        j = json.load(f)
    out = {}
    if "error" in j:
        out["error"] = j["error"]
    else:
        end = j.get("end", {})
        rcv = end.get("sum_received", {})
        snd = end.get("sum_sent", {})
        out = {"mbps": rcv.get("bits_per_second", 0) / 1e6,
               "seconds": rcv.get("seconds"),
               "bytes": rcv.get("bytes"),
               "retransmits": snd.get("retransmits")}
    with open(args.output, "w") as f:
        json.dump(out, f, indent=1)
    if "error" in out:
        say(f"iperf3: {out['error']}")
        return 1
    say(f"iperf3: {out['mbps']:.1f} Mbit/s "
        f"({out['bytes']} bytes in {out['seconds']:.1f} s, "
        f"{out['retransmits']} retransmits)")
    return 0


def cmd_qmp(args):
    qmp = QMP(args.sock)
    kw = json.loads(args.arguments) if args.arguments else {}
    print(json.dumps(qmp.cmd(args.command, **kw), indent=1))
    qmp.close()
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    g = sub.add_parser("guest")
    g.add_argument("--nic", required=True, choices=sorted(NIC_MMIO))
    g.add_argument("--qmp", required=True)
    g.add_argument("--ctl", required=True)
    g.add_argument("--out", required=True)
    g.add_argument("--qom-stats")
    g.add_argument("--trace", help="QEMU's -trace file: count MMIO per phase")
    g.add_argument("--rx-port", type=int, help="QEMU's stream netdev port")
    g.add_argument("--rx-mac", default="52:54:00:12:34:57")
    g.add_argument("--qemu-pid", type=int)
    g.add_argument("--log", help="the guest's serial log, for its failure")
    g.add_argument("--timeout", type=float, default=300)
    i = sub.add_parser("iperf")
    i.add_argument("input")
    i.add_argument("output")
    q = sub.add_parser("qmp")
    q.add_argument("sock")
    q.add_argument("command")
    q.add_argument("arguments", nargs="?")
    args = ap.parse_args()
    return {"guest": cmd_guest, "iperf": cmd_iperf, "qmp": cmd_qmp}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
