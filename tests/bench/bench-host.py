#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Host side of splitnet's NIC benchmarks (tests/bench/run.sh).
#
#   bench-host.py guest --nic NAME --qmp SOCK --ctl SOCK --out FILE.json
#                       [--qom-stats DEVID] [--timeout S]
#       Serve one benchmark guest: answer its control channel (a second
#       serial port, /dev/ttyS1 in the guest) and, at every point the guest
#       marks with "SNAP TAG", read the sink's counters (x-query-net-sinks) and,
#       with --qom-stats, the device's QOM `stats` property over QMP before
#       letting the guest go on.  Collects what the guest reports ("KV PHASE
#       KEY VALUE") and writes everything to FILE.json when the guest says
#       "END".
#   bench-host.py iperf FILE.json OUT.json
#       Reduce an `iperf3 -J` result to the numbers the report uses.
#   bench-host.py report --raw DIR --nics A,B,... --txt FILE --json FILE
#       Print the comparison table and save the results.
#   bench-host.py qmp SOCK COMMAND [ARGUMENTS-JSON]
#       One QMP command, for a person poking at a running guest.
#
# Only the standard library; the QMP client is tests/guest/qmp.py.

import argparse
import json
import os
import select
import sys
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


# --- guest: the control channel ---------------------------------------------

def cmd_guest(args):
    res = {"nic": args.nic, "ok": False, "error": None, "phases": {},
           "snapshots": {}}
    deadline = time.monotonic() + args.timeout

    def save():
        tmp = args.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)
        os.replace(tmp, args.out)

    try:
        qmp = QMP(args.qmp, timeout=30)
        ctl = connect_unix(args.ctl, 30)
    except (OSError, TimeoutError, RuntimeError, EOFError) as e:
        res["error"] = f"cannot reach QEMU: {e}"
        save()
        say(f"{args.nic}: {res['error']}")
        return 1

    buf = b""
    ended = False
    try:
        while not ended:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"guest did not finish within {args.timeout}s")
            r, _, _ = select.select([ctl], [], [], min(left, 1.0))
            if not r:
                continue
            data = ctl.recv(4096)
            if not data:
                raise EOFError("control channel closed (guest gone?)")
            buf += data
            while b"\n" in buf:
                raw, buf = buf.split(b"\n", 1)
                line = raw.decode(errors="replace").strip("\r\x00 ")
                if not line:
                    continue
                word, _, rest = line.partition(" ")
                if word == "HELLO":
                    ctl.sendall(b"ACK HELLO\n")
                elif word == "SNAP":
                    snap = {"t": time.monotonic(), "sink": sink_counters(qmp),
                            "cpu": cpu_ticks(args.qemu_pid)}
                    if args.qom_stats:
                        snap["qom"] = qmp.qom_stats(args.qom_stats)
                    res["snapshots"][rest] = snap
                    ctl.sendall(f"ACK {rest}\n".encode())
                elif word == "KV":
                    phase, key, value = (rest.split(" ", 2) + ["", ""])[:3]
                    res["phases"].setdefault(phase, {})[key] = num(value)
                elif word == "INFO":
                    key, _, value = rest.partition(" ")
                    res.setdefault("info", {})[key] = value
                elif word == "DONE":
                    phase_done(res, rest, args.nic)
                    save()
                elif word == "FAIL":
                    res["error"] = f"guest: {rest}"
                    say(f"{args.nic}: guest failed: {rest}")
                elif word == "END":
                    ended = True
                elif word == "ACK":
                    pass    # our own answers, echoed if the tty echoes
                else:
                    say(f"{args.nic}: control channel: unexpected '{line}'")
    except (OSError, TimeoutError, EOFError, RuntimeError) as e:
        res["error"] = res["error"] or guest_failure(args.log) or str(e)
        say(f"{args.nic}: {res['error']}")
    finally:
        qmp.close()
        ctl.close()
    res["ok"] = ended and res["error"] is None
    save()
    return 0 if res["ok"] else 1


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
        frames = sum(v["frames"] for v in sink.values())
        nbytes = sum(v["bytes"] for v in sink.values())
        p["host_frames"] = frames
        p["host_bytes"] = nbytes
        if "qom" in s0:
            p["qom"] = delta(s0["qom"], s1["qom"])
        # CPU time that processes other than this guest's QEMU used while
        # the phase ran: a busy machine makes the numbers noisy.
        secs = s1["t"] - s0["t"]
        if secs > 0:
            busy = s1["cpu"][0] - s0["cpu"][0]
            own = s1["cpu"][1] - s0["cpu"][1]
            p["other_cpu"] = round(max(0, busy - own) /
                                   os.sysconf("SC_CLK_TCK") / secs, 3)
    pk = p.get("pkts", 0)
    if pk and p.get("usec"):
        p["host_pps"] = p.get("host_frames", 0) / (p["usec"] / 1e6)
    msg = (f"{nic} {phase}: {p.get('size')} B burst {p.get('burst')}: "
           f"{p.get('pps', 0)} pps, {p.get('bps', 0) / 1e6:.1f} Mbit/s "
           f"(guest {pk} frames, host sink {p.get('host_frames', '?')})")
    if pk:
        msg += f", irq/frame {p.get('irqs', 0) / pk:.3f}"
        db = doorbells(p)
        if db is not None:
            msg += f", doorbells/frame {db / pk:.3f}"
        di = device_irqs(p)
        if di is not None:
            msg += f" (device: irq/frame {di / pk:.3f})"
    if p.get("other_cpu", 0) > 0.25:
        msg += f"; busy machine: others used {p['other_cpu']:.2f} CPUs"
    say(msg)


def doorbells(p):
    """TX doorbells (kicks) of a phase, where the NIC lets us count them."""
    q = p.get("qom", {}).get("tx0", {})
    if "doorbells" in q:
        return q["doorbells"]
    for k in ("ethtool.tx_doorbells", "ethtool.drv_tx_doorbells",
              "ethtool.tx_queue_0_kicks"):
        if k in p:
            return p[k]
    return None


def device_irqs(p):
    q = p.get("qom", {}).get("tx0", {})
    if "interrupts" in q:
        return q["interrupts"] + p["qom"].get("rx0", {}).get("interrupts", 0)
    return None


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
    say(f"iperf3: {out['mbps']:.1f} Mbit/s guest->host "
        f"({out['bytes']} bytes in {out['seconds']:.1f} s, "
        f"{out['retransmits']} retransmits)")
    return 0


# --- report --------------------------------------------------------------------

def fmt(v, spec):
    """V formatted with SPEC (e.g. "9.1f"), or "-" right-aligned as wide."""
    width = int(spec.split(".")[0].rstrip("fd") or 0)
    return f"{'-':>{width}}" if v is None else format(v, spec)


def ratio(a, b, spec=".2f"):
    if a is None or b is None or b == 0:
        return "-"
    return format(a / b, spec)


def median(vals):
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return None
    n = len(vals)
    return vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2


def metric(r, phase, what):
    """One number of one round's result R, or None."""
    p = r.get("phases", {}).get(phase)
    if not p or not p.get("pkts"):
        return None
    pk = p["pkts"]
    if what == "pps":
        return p.get("pps")
    if what == "mbps":
        return p.get("bps", 0) / 1e6
    if what == "irq":
        return p.get("irqs", 0) / pk
    if what == "db":
        d = doorbells(p)
        return None if d is None else d / pk
    if what == "devirq":
        d = device_irqs(p)
        return None if d is None else d / pk
    if what == "other_cpu":
        return p.get("other_cpu")
    return None


# Columns of the summary: key, phase, metric.
SUMMARY = (
    ("pps_60", "p60b1", "pps"),
    ("mbps_1514", "p1514b1", "mbps"),
    ("pps_60_burst32", "p60b32", "pps"),
    ("irq_per_frame", "p60b1", "irq"),
    ("irq_per_frame_1514", "p1514b1", "irq"),
    ("irq_per_frame_burst32", "p60b32", "irq"),
    ("doorbells_per_frame", "p60b1", "db"),
    ("doorbells_per_frame_burst32", "p60b32", "db"),
    ("device_irq_per_frame", "p60b1", "devirq"),
)


# Other processes using more CPUs than this during a phase make it noisy.
BUSY = 0.25


def load_rounds(raw, nic):
    """The per-round results of NIC (NIC.rN.json), round 1 first."""
    rounds = []
    r = 1
    while True:
        path = os.path.join(raw, f"{nic}.r{r}.json")
        if not os.path.exists(path):
            break
        try:
            with open(path) as f:
                rounds.append(json.load(f))
        except ValueError as e:
            rounds.append({"nic": nic, "ok": False, "phases": {},
                           "error": f"unreadable {path}: {e}"})
        r += 1
    return rounds


def cmd_report(args):
    nics = [n for n in args.nics.split(",") if n]
    meta = {}
    if args.meta and os.path.exists(args.meta):
        with open(args.meta) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                if k:
                    meta[k] = v
    rows = {}
    summary = {}
    failed = []
    for nic in nics:
        rounds = load_rounds(args.raw, nic)
        iperf = None
        ip = os.path.join(args.raw, f"{nic}-iperf.json")
        if os.path.exists(ip):
            with open(ip) as f:
                iperf = json.load(f)
        rows[nic] = {"rounds": rounds, "iperf": iperf}
        s = {"ok": bool(rounds), "errors": [], "warnings": [],
             "rounds": len(rounds)}
        if not rounds:
            s["errors"].append("no result")
        others = []     # CPUs other processes used, per phase
        for i, r in enumerate(rounds, 1):
            tag = f"round {i}: " if len(rounds) > 1 else ""
            if not r.get("ok"):
                s["ok"] = False
                s["errors"].append(tag + (r.get("error") or "failed"))
            # A NIC that sent nothing (guest side or host side) fails.
            for ph, p in sorted(r.get("phases", {}).items()):
                pk, host = p.get("pkts", 0), p.get("host_frames", 0)
                if not pk or not host:
                    s["ok"] = False
                    s["errors"].append(
                        f"{tag}{ph}: guest sent {pk} frames, sink got {host}")
                elif abs(host - pk) > max(16, pk // 1000):
                    s["warnings"].append(
                        f"{tag}{ph}: guest sent {pk} frames, sink counted {host}")
                oc = p.get("other_cpu")
                if oc is not None:
                    others.append(oc)
        busy = [o for o in others if o > BUSY]
        if busy:
            s["busy"] = True
            s["warnings"].append(
                f"other processes used {min(busy):.2f} to {max(busy):.2f} "
                f"CPUs during {len(busy)} of its {len(others)} phases: "
                "the machine was busy, the numbers are noisy")
        s["other_cpu_max"] = max(others, default=None)
        for key, ph, what in SUMMARY:
            vals = [metric(r, ph, what) for r in rounds]
            s[key] = median(vals)
            if len(rounds) > 1:
                s[key + "_rounds"] = vals
        s["iperf_mbps"] = (iperf or {}).get("mbps")
        if iperf and "error" in iperf:
            s["ok"] = False
            s["errors"].append(f"iperf3: {iperf['error']}")
        s["error"] = "; ".join(s["errors"]) or None
        if not s["ok"]:
            failed.append(nic)
        summary[nic] = s

    base = summary.get("splitnet")
    nrounds = max((s["rounds"] for s in summary.values()), default=0)
    lines = []
    w = lines.append
    w(f"splitnet NIC benchmark, {meta.get('date', '')}")
    for k in ("qemu", "kernel", "host", "accel", "guest", "pktgen",
              "iperf", "rounds", "splitnet.ko", "project", "total"):
        if k in meta:
            w(f"  {k}: {meta[k]}")
    w("")
    hdr = (f"{'NIC':<15} {'pps@60B':>8} {'Mbit/s@1514B':>12} "
           f"{'pps@60B,b32':>11} {'irq/frame':>9} {'kick/frame':>10} "
           f"{'iperf3 Mbit/s':>13} | {'splitnet/NIC: pps':>17} "
           f"{'Mbit/s':>6} {'b32':>5} {'irq':>5} {'iperf':>5}")
    w(hdr)
    w("-" * len(hdr))
    for nic in nics:
        s = summary[nic]
        name = nic + (" *" if s.get("busy") else "")
        if s["pps_60"] is None and s["mbps_1514"] is None:
            w(f"{name:<15} FAILED: {s['error']}")
            continue
        b = base or {}
        line = (f"{name:<15} {fmt(s['pps_60'], '8.0f')} "
                f"{fmt(s['mbps_1514'], '12.1f')} "
                f"{fmt(s['pps_60_burst32'], '11.0f')} "
                f"{fmt(s['irq_per_frame'], '9.3f')} "
                f"{fmt(s['doorbells_per_frame'], '10.3f')} "
                f"{fmt(s['iperf_mbps'], '13.1f')} | "
                f"{ratio(b.get('pps_60'), s['pps_60']):>17} "
                f"{ratio(b.get('mbps_1514'), s['mbps_1514']):>6} "
                f"{ratio(b.get('pps_60_burst32'), s['pps_60_burst32']):>5} "
                f"{ratio(b.get('irq_per_frame'), s['irq_per_frame']):>5} "
                f"{ratio(b.get('iperf_mbps'), s['iperf_mbps']):>5}")
        if not s["ok"]:
            line += f"  FAILED: {s['error']}"
        w(line)
    w("")
    w("pps@60B, Mbit/s@1514B: Linux pktgen in the guest (1 vCPU, TCG), "
      "burst 1, into -netdev sink;")
    w("  pps@60B,b32: 60-byte frames with pktgen burst 32 (xmit_more, "
      "where the driver uses it).")
    if nrounds > 1:
        w(f"  Each number is the median of {nrounds} rounds.")
    w("irq/frame: the NIC's interrupts in the guest's /proc/interrupts per "
      "frame (60 B, burst 1).")
    w("kick/frame: TX doorbells per frame (60 B, burst 1) where countable: "
      "splitnet from the")
    w("  device's QOM stats, virtio-net from ethtool -S tx_queue_0_kicks; "
      "e1000, e1000e and")
    w("  vmxnet3 have no such counter (their MMIO writes are not visible "
      "under TCG).")
    w("iperf3: TCP guest->host through slirp hostfwd on 127.0.0.1; slirp "
      "(user-mode TCP/IP in")
    w("  QEMU's main loop) is the likely bottleneck, so this says little "
      "about the NIC itself.")
    w("splitnet/NIC: splitnet's number divided by this NIC's; for irq lower "
      "is better (< 1: fewer).")
    w("Under TCG these numbers measure emulation cost, not what the NICs "
      "would do under KVM.")
    if any(s.get("busy") for s in summary.values()):
        w(f"* other processes used more than {BUSY} CPUs during at least one "
          "phase of this NIC:")
        w("  its numbers are noisy (see the warnings; --rounds N takes "
          "medians).")
    warns = [(n, x) for n in nics for x in summary[n]["warnings"]]
    if warns:
        w("")
        for n, x in warns:
            w(f"warning: {n}: {x}")
    if "splitnet" in nics and not (base and base["ok"]):
        w("")
        w("warning: splitnet has no valid result, so the ratios are missing")
    if failed:
        w("")
        w(f"FAILED: {', '.join(failed)}: no frames, or a guest failed "
          "(see the raw results and guest logs)")
    text = "\n".join(lines) + "\n"
    print(text, end="")
    with open(args.txt, "w") as f:
        f.write(text)
        f.write("\n# Per NIC, round and phase (other_cpu: CPUs that other "
                "processes used meanwhile)\n")
        for nic in nics:
            f.write(f"\n[{nic}]\n")
            for key, _, _ in SUMMARY:
                vals = summary[nic].get(key + "_rounds")
                if vals and any(v is not None for v in vals):
                    f.write(f"  {key} per round: " + " ".join(
                        fmt(v, ".4g") for v in vals) + "\n")
            for i, r in enumerate(rows[nic]["rounds"], 1):
                for k, v in sorted(r.get("info", {}).items()):
                    f.write(f"  r{i} {k}: {v}\n")
                for ph, p in sorted(r.get("phases", {}).items()):
                    items = " ".join(f"{k}={v:.4g}" if isinstance(v, float)
                                     else f"{k}={v}"
                                     for k, v in sorted(p.items())
                                     if not isinstance(v, dict))
                    f.write(f"  r{i} {ph}: {items}\n")
                    for k, v in sorted(p.items()):
                        if isinstance(v, dict):
                            f.write(f"  r{i} {ph}: {k}="
                                    f"{json.dumps(v, sort_keys=True)}\n")
                if r.get("error"):
                    f.write(f"  r{i} error: {r['error']}\n")
            if rows[nic]["iperf"]:
                f.write(f"  iperf: {json.dumps(rows[nic]['iperf'], sort_keys=True)}\n")
    with open(args.json, "w") as f:
        json.dump({"meta": meta, "nics": nics, "summary": summary,
                   "raw": rows}, f, indent=1, sort_keys=True)
    return 1 if failed else 0


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
    g.add_argument("--nic", required=True)
    g.add_argument("--qmp", required=True)
    g.add_argument("--ctl", required=True)
    g.add_argument("--out", required=True)
    g.add_argument("--qom-stats")
    g.add_argument("--qemu-pid", type=int)
    g.add_argument("--log", help="the guest's serial log, for its failure")
    g.add_argument("--timeout", type=float, default=300)
    i = sub.add_parser("iperf")
    i.add_argument("input")
    i.add_argument("output")
    r = sub.add_parser("report")
    r.add_argument("--raw", required=True)
    r.add_argument("--nics", required=True)
    r.add_argument("--txt", required=True)
    r.add_argument("--json", required=True)
    r.add_argument("--meta")
    q = sub.add_parser("qmp")
    q.add_argument("sock")
    q.add_argument("command")
    q.add_argument("arguments", nargs="?")
    args = ap.parse_args()
    return {"guest": cmd_guest, "iperf": cmd_iperf, "report": cmd_report,
            "qmp": cmd_qmp}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
