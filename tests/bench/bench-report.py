#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
#
# The report of splitnet's NIC benchmark (tests/bench/run.sh):
#
#   bench-report.py --raw DIR --nics A,B,... --out DIR --stamp TS [--docs DIR]
#
# reads what the run collected in --raw (meta.txt; NIC.rN.json from the
# tx/rx guests, NIC.exits.json, NIC.rN.tcp-TEST.json), prints the tables
# (medians of the rounds, ratios splitnet/NIC and splitnet/best peer) and
# writes to --out: results-TS.txt (tables, warnings, every round's
# numbers), results-TS.json, and the latest run's results.csv (one row per
# NIC, metric and size), results.md and bench.png (gnuplot).  --docs DIR
# also writes DIR/benchmarks.md and DIR/benchmarks.png.  Exit 1 when a NIC
# failed.  Only the standard library (and gnuplot for the plot).

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys

# Other processes using more CPUs than this during a phase make it noisy.
BUSY = 0.25


def median(vals):
    vals = sorted(v for v in vals if v is not None)
    if not vals:
        return None
    n = len(vals)
    return vals[n // 2] if n % 2 else (vals[n // 2 - 1] + vals[n // 2]) / 2


def load(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


# --- what each metric is ---------------------------------------------------------

def pk(p):
    """The frames of a phase: sent (TX) or received in the window (RX)."""
    return (p or {}).get("pkts") or (p or {}).get("rx_frames") or 0


def tx_pps(p):
    return p.get("pps") if pk(p) else None


def tx_mbps(p):
    return p.get("bps", 0) / 1e6 if pk(p) else None


def rx_pps(p):
    secs = p.get("host_seconds")
    return p["rx_frames"] / secs if secs and p.get("rx_frames") else None


def rx_mbps(p):
    v = rx_pps(p)
    return None if v is None else v * p.get("size", 0) * 8 / 1e6


def rx_lost(p):
    if p.get("sent") is None or p.get("rx_total") is None:
        return None
    return p["sent"] - p["rx_total"]


def tx_copied(p):
    """splitnet's own count: bytes copied out of guest memory (heads and
    payload under tx-copybreak), in % of the bytes it sent."""
    q = (p.get("qom") or {}).get("tx") or {}
    if not pk(p) or not q.get("bytes"):
        return None
    return 100 * (q["head-bytes"] + q["payload-copy-bytes"]) / q["bytes"]


def per_frame(what):
    def get(p):
        m = p.get("mmio")
        if not pk(p) or m is None:
            return None
        n = {"doorbells": m["doorbells"],
             "mmio": m["reads"] + m["writes"] - m["doorbells"],
             "irq": p.get("irqs", 0),
             "total": m["reads"] + m["writes"] + p.get("irqs", 0)}[what]
        return n / pk(p)
    return get


# (metric, size, burst, unit, higher is better, source, phase, getter);
# source: "traffic" (NIC.rN.json), "exits" (NIC.exits.json) or "tcp".
METRICS = [
    ("tx", 60, 1, "pps", True, "traffic", "p60b1", tx_pps),
    ("tx", 1514, 1, "Mbit/s", True, "traffic", "p1514b1", tx_mbps),
    ("tx", 60, 32, "pps", True, "traffic", "p60b32", tx_pps),
    ("tx", 1514, 32, "Mbit/s", True, "traffic", "p1514b32", tx_mbps),
    ("tx_copied", 60, 1, "% of bytes", False, "traffic", "p60b1", tx_copied),
    ("tx_copied", 1514, 1, "% of bytes", False, "traffic", "p1514b1",
     tx_copied),
    ("rx", 60, None, "pps", True, "traffic", "rx60", rx_pps),
    ("rx", 1514, None, "Mbit/s", True, "traffic", "rx1514", rx_mbps),
    ("rx_lost", 60, None, "frames", False, "traffic", "rx60", rx_lost),
    ("rx_lost", 1514, None, "frames", False, "traffic", "rx1514", rx_lost),
]
for _ph, _size, _burst in (("p60b1", 60, 1), ("p1514b1", 1514, 1),
                           ("p60b32", 60, 32), ("p1514b32", 1514, 32),
                           ("rx60", 60, None),
                           ("rx1514", 1514, None)):
    for _what, _name in (("doorbells", "doorbells"), ("mmio", "other_mmio"),
                         ("irq", "interrupts"), ("total", "exits")):
        METRICS.append((("rx_" if _ph.startswith("rx") else "tx_") + _name,
                        _size, _burst, "per frame", False, "exits", _ph,
                        per_frame(_what)))
for _t in ("slirp-g2h", "slirp-h2g", "tap-g2h", "tap-h2g", "g2g"):
    METRICS.append(("tcp_" + _t.replace("-", "_"), None, None, "Mbit/s",
                    True, "tcp", _t, None))


def label(m):
    name, size, burst = m[0], m[1], m[2]
    s = name.replace("_", " ")
    if size:
        s += f" {size}B"
    if burst:
        s += f" b{burst}"
    return s


def mkey(m):
    return (m[0], m[1], m[2])


# --- collecting -------------------------------------------------------------------

def collect(raw, nic):
    """Per metric, the value of each round; errors and warnings."""
    errors, warnings, others = [], [], []
    rounds = []
    r = 1
    while os.path.exists(os.path.join(raw, f"{nic}.r{r}.json")):
        rounds.append(load(os.path.join(raw, f"{nic}.r{r}.json"),
                           {"ok": False, "error": "unreadable result"}))
        r += 1
    exits = load(os.path.join(raw, f"{nic}.exits.json"))
    tcp = {}
    for t in ("slirp-g2h", "slirp-h2g", "tap-g2h", "tap-h2g", "g2g"):
        files = glob.glob(os.path.join(raw, f"{nic}.r*.tcp-{t}.json"))
        files.sort(key=lambda f: int(f.rsplit(".r", 1)[1].split(".")[0]))
        tcp[t] = [(load(f, {}) or {}).get("mbps") for f in files]

    def check(res, tag):
        if not res.get("ok"):
            errors.append(tag + (res.get("error") or "failed"))
        for ph, p in sorted(res.get("phases", {}).items()):
            if "rx_frames" in p:
                if not p["rx_frames"]:
                    errors.append(f"{tag}{ph}: the guest received nothing")
                elif rx_lost(p):
                    warnings.append(f"{tag}{ph}: host sent {p.get('sent')}, "
                                    f"guest received {p.get('rx_total')}")
                if p.get("sender_waits") == 0:
                    warnings.append(f"{tag}{ph}: the sender never waited "
                                    "for QEMU: the rate may be the sender's")
            else:
                n, host = pk(p), p.get("host_frames", 0)
                if not n or not host:
                    errors.append(f"{tag}{ph}: guest sent {n} frames, "
                                  f"sink got {host}")
                elif abs(host - n) > max(16, n // 1000):
                    warnings.append(f"{tag}{ph}: guest sent {n} frames, "
                                    f"sink counted {host}")
            mmio_check(p, tag + ph, warnings)
            if p.get("other_cpu") is not None and "mmio" not in p:
                others.append(p["other_cpu"])

    for i, res in enumerate(rounds, 1):
        check(res, f"round {i}: " if len(rounds) > 1 else "")
    if exits:
        check(exits, "exits: ")
    vals = {}
    for m in METRICS:
        if m[5] == "traffic":
            vals[mkey(m)] = [m[7](res.get("phases", {}).get(m[6], {}))
                             if res.get("phases", {}).get(m[6]) else None
                             for res in rounds]
        elif m[5] == "exits" and exits:
            p = exits.get("phases", {}).get(m[6])
            vals[mkey(m)] = [m[7](p)] if p else []
        elif m[5] == "tcp":
            vals[mkey(m)] = tcp.get(m[6], [])
        if any(v is None for v in vals.get(mkey(m), [])) and \
           m[5] == "tcp":
            errors.append(f"tcp {m[6]}: a round has no result")
    busy = [o for o in others if o > BUSY]
    if busy:
        warnings.append(f"other processes used {min(busy):.2f} to "
                        f"{max(busy):.2f} CPUs during {len(busy)} of its "
                        f"{len(others)} timed phases: the numbers are noisy")
    return {"values": vals, "errors": errors, "warnings": warnings,
            "busy": bool(busy), "rounds": rounds, "exits": exits}


def mmio_check(p, tag, warnings):
    """The trace must have seen the NIC; splitnet's own count must agree."""
    m = p.get("mmio")
    if m is None or not pk(p):
        return
    if m["reads"] + m["writes"] == 0:
        warnings.append(f"{tag}: no MMIO of the NIC in the trace "
                        "(its MemoryRegion names in bench-host.py?)")
    q = p.get("qom")        # nic0's: the TX phases' NIC
    if q and "rx_frames" not in p:
        # "tx" and "rx" are the totals of the queues ("tx0", "rx0", ...)
        dev = sum(q.get(d, {}).get("doorbells", 0) for d in ("tx", "rx"))
        if dev != m["doorbells"]:
            warnings.append(f"{tag}: {m['doorbells']} doorbells traced, "
                            f"the device counted {dev}")


# --- output -----------------------------------------------------------------------

def fmt(v, unit=""):
    if v is None:
        return "-"
    if unit == "per frame":
        return f"{v:.3f}"
    if unit == "frames":
        return f"{v:.0f}"
    if abs(v) >= 100:
        return f"{v:.0f}"
    return f"{v:.1f}" if abs(v) >= 10 else f"{v:.2f}"


def best_peer(m, med, nics):
    """The best of the other NIC models (splitnet-defer is splitnet)."""
    peers = [(med[n][mkey(m)], n) for n in nics
             if not n.startswith("splitnet")
             and med[n].get(mkey(m)) is not None]
    if not peers:
        return None, None
    v, n = (max if m[4] else min)(peers)
    return v, n


def ratio(a, b):
    if a is None or b is None:
        return "-"
    if b == 0:
        return "-" if a else "1.00"
    return f"{a / b:.2f}"


def tables(nics, med):
    """The values table and the ratio table, as lists of rows."""
    vals = [["metric", "unit"] + nics]
    rats = [["metric"] + [f"splitnet/{n}" for n in nics if n != "splitnet"]
            + ["splitnet/best peer", "best peer"]]
    for m in METRICS:
        if all(med[n].get(mkey(m)) is None for n in nics):
            continue
        vals.append([label(m), m[3]] + [fmt(med[n].get(mkey(m)), m[3])
                                        for n in nics])
        if "splitnet" in nics:
            s = med["splitnet"].get(mkey(m))
            bv, bn = best_peer(m, med, nics)
            rats.append([label(m)] + [ratio(s, med[n].get(mkey(m)))
                                      for n in nics if n != "splitnet"]
                        + [ratio(s, bv), bn or "-"])
    return vals, rats


def text_table(rows):
    w = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for k, r in enumerate(rows):
        out.append("  ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i])
                             for i, c in enumerate(r)))
        if k == 0:
            out.append("-" * len(out[0]))
    return out


def md_table(rows):
    out = ["| " + " | ".join(rows[0]) + " |",
           "|" + "|".join("---" if i == 0 else "---:"
                          for i in range(len(rows[0]))) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
    return out


NOTES = [
    "tx: Linux pktgen in the guest (1 vCPU, TCG) into -netdev sink; b32 is "
    "pktgen burst 32 (xmit_more).",
    "tx copied: splitnet's head_bytes + payload_copy_bytes over its bytes "
    "(QOM stats); the",
    "  other NICs copy every byte.",
    "rx: IPv4/UDP frames from the host through a 127.0.0.1 stream netdev, "
    "the sender paced by",
    "  the guest's count, counted in the guest's interface statistics; "
    "rx lost: sent - received",
    "  (a NIC that holds frames back loses none; one that drops when its "
    "ring is full does).",
    "doorbells, other mmio, interrupts, exits: per frame, from a separate "
    "pass with QEMU's",
    "  memory_region_ops_* trace events (the NIC's BARs and MSI-X "
    "table/PBA) and the guest's",
    "  /proc/interrupts; each MMIO access and interrupt would be a VM exit "
    "under KVM.",
    "tcp: iperf3 in a network namespace: slirp (restrict=on, hostfwd "
    "127.0.0.1), tap (vnet_hdr=on),",
    "  g2g: guest to guest over a stream netdev, both guests on the NIC; "
    "g2h = guest sends.",
    "Values are medians of the rounds; splitnet/NIC > 1 means splitnet has "
    "more (better for rates,",
    "  worse for exits, interrupts and lost frames).  Under TCG these "
    "measure emulation cost.",
]


def plot(path, nics, med):
    """bench.png: rates relative to splitnet; doorbells and exits per frame."""
    if not shutil.which("gnuplot"):
        return "gnuplot is missing: no plot"
    base = med.get("splitnet", {})
    rates, exits = [], []
    for m in METRICS:
        row = [med[n].get(mkey(m)) for n in nics]
        if m[4] and m[3] != "frames":
            s = base.get(mkey(m))
            rates.append((label(m), [v / s if s and v is not None else None
                                     for v in row]))
        elif m[0] in ("tx_doorbells", "tx_exits", "rx_doorbells",
                      "rx_exits"):
            exits.append((label(m), row))
    panels = [
        ("Rates relative to splitnet (NIC / splitnet; medians)",
         "x splitnet", "unset logscale y; set yrange [0:*]", rates),
        ("Doorbells and VM exits per frame (MMIO accesses + interrupts; "
         "lower is better)", "per frame",
         "set logscale y; set yrange [0.001:*]", exits)]
    panels = [p for p in panels
              if any(v is not None for _, row in p[3] for v in row)]
    if not panels:
        return None
    gp = [f'set terminal pngcairo size 1400,{450 * len(panels)} '
          'font "DejaVu Sans,10"',
          f'set output "{path}"', 'set datafile missing "-"',
          "set style data histograms",
          "set style histogram clustered gap 1",
          "set style fill solid 0.8 border -1", "set key outside right top",
          "set grid ytics", "set xtics rotate by -30 left",
          f"set multiplot layout {len(panels)},1"]
    for title, ylabel, scale, rows in panels:
        gp += [f'set title "{title}"', f'set ylabel "{ylabel}"', scale,
               f"plot for [i=2:{len(nics) + 1}] '-' using i:xtic(1) "
               "title columnheader(i)"]
        # inline data, once per column the plot reads
        data = ["metric " + " ".join(nics)]
        data += ['"%s" ' % name + " ".join(
            "-" if v is None else f"{v:.4f}" for v in row)
            for name, row in rows if any(v is not None for v in row)]
        gp += (data + ["e"]) * len(nics)
    gp.append("unset multiplot")
    r = subprocess.run(["gnuplot"], input="\n".join(gp) + "\n", text=True,
                       capture_output=True)
    return None if r.returncode == 0 else f"gnuplot failed: {r.stderr[-300:]}"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--raw", required=True)
    ap.add_argument("--nics", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--stamp", required=True)
    ap.add_argument("--docs")
    args = ap.parse_args()
    nics = [n for n in args.nics.split(",") if n]
    meta = {}
    if os.path.exists(os.path.join(args.raw, "meta.txt")):
        with open(os.path.join(args.raw, "meta.txt")) as f:
            for line in f:
                k, _, v = line.rstrip("\n").partition("=")
                if k:
                    meta[k] = v
    got = {n: collect(args.raw, n) for n in nics}
    med = {n: {k: median(v) for k, v in got[n]["values"].items()}
           for n in nics}
    failed = [n for n in nics if got[n]["errors"]]
    vals, rats = tables(nics, med)

    lines = [f"splitnet NIC benchmark, {meta.get('date', '')}"]
    lines += [f"  {k}: {v}" for k, v in meta.items() if k != "date"]
    lines += [""] + text_table(vals) + [""]
    if len(rats) > 1 and len(rats[0]) > 3:
        lines += text_table(rats) + [""]
    lines += NOTES
    busy = [n for n in nics if got[n]["busy"]]
    if busy:
        lines.append(f"Busy machine during {', '.join(busy)}: other "
                     f"processes used more than {BUSY} CPUs (see warnings).")
    for n in nics:
        lines += [f"warning: {n}: {w}" for w in got[n]["warnings"]]
        lines += [f"FAILED: {n}: {e}" for e in got[n]["errors"]]
    csv = os.path.join(args.out, "results.csv")
    png = os.path.join(args.out, "bench.png")
    note = plot(png, nics, med)
    if note:
        lines.append(f"warning: {note}")
    text = "\n".join(lines) + "\n"
    print(text, end="")

    with open(os.path.join(args.out, f"results-{args.stamp}.txt"), "w") as f:
        f.write(text + "\n# Every round (values per round, in order)\n")
        for n in nics:
            f.write(f"\n[{n}]\n")
            for m in METRICS:
                v = got[n]["values"].get(mkey(m))
                if v:
                    f.write(f"  {label(m)} ({m[3]}): "
                            + " ".join(fmt(x, m[3]) for x in v) + "\n")
            ex = got[n]["exits"]
            for ph, p in sorted(((ex or {}).get("phases") or {}).items()):
                if p.get("mmio"):
                    f.write(f"  exits {ph} busiest registers: "
                            f"{json.dumps(p['mmio'].get('registers'))}\n")
    with open(os.path.join(args.out, f"results-{args.stamp}.json"), "w") as f:
        json.dump({"meta": meta, "nics": nics,
                   "median": {n: {label(m): med[n].get(mkey(m))
                                  for m in METRICS} for n in nics},
                   "raw": {n: {k: got[n][k] for k in
                               ("rounds", "exits", "errors", "warnings")}
                           for n in nics}}, f, indent=1, sort_keys=True)
    with open(csv, "w") as f:
        f.write("nic,metric,size,burst,unit,median,n,rounds\n")
        for n in nics:
            for m in METRICS:
                v = got[n]["values"].get(mkey(m))
                if not v:
                    continue
                f.write(f"{n},{m[0]},{m[1] or ''},{m[2] or ''},{m[3]},"
                        f"{'' if med[n][mkey(m)] is None else format(med[n][mkey(m)], '.6g')},"
                        f"{len(v)},"
                        + ";".join("" if x is None else f"{x:.6g}" for x in v)
                        + "\n")
    md = markdown(meta, vals, rats, nics, got)
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(md.replace("](benchmarks.png)", "](bench.png)"))
    if args.docs:
        with open(os.path.join(args.docs, "benchmarks.md"), "w") as f:
            f.write(md)
        if os.path.exists(png):
            shutil.copy(png, os.path.join(args.docs, "benchmarks.png"))
    return 1 if failed else 0


def markdown(meta, vals, rats, nics, got):
    out = ["<!-- SPDX-License-Identifier: GPL-2.0-or-later -->",
           "# Benchmarks", "",
           "The latest `make bench` run (written by `tests/bench/run.sh "
           "--update-docs`; what each",
           "number means: `tests/bench/README.md`).", "",
           f"- date: {meta.get('date', '?')}",
           f"- machine: {meta.get('host', '?')}; load average at the start "
           f"{meta.get('load', '?').split(' (')[0]}",
           f"- QEMU: {meta.get('qemu', '?').split(' (')[0]}, "
           f"{meta.get('accel', '')}",
           f"- guest: Linux {meta.get('kernel', '?')}, "
           f"{meta.get('guest', '')}",
           f"- project: {meta.get('project', '?')}; phases "
           f"{meta.get('phases', '?')}, rounds {meta.get('rounds', '?')}; "
           f"took {meta.get('total', '?')} ("
           + ", ".join(f"{k[5:]} {v}" for k, v in meta.items()
                       if k.startswith("time_")) + ")", "",
           "![rates relative to splitnet, and exits per frame]"
           "(benchmarks.png)", "", "## Medians", ""]
    out += md_table(vals) + [""]
    if len(rats) > 1 and len(rats[0]) > 3:
        out += ["## Ratios", ""] + md_table(rats) + [""]
    out += ["## Notes", "", "```"] + NOTES + ["```", ""]
    warn = [f"- {n}: {w}" for n in nics for w in got[n]["warnings"]]
    warn += [f"- FAILED: {n}: {e}" for n in nics for e in got[n]["errors"]]
    if warn:
        out += ["## Warnings", ""] + warn + [""]
    out += ["## Reproduce", "", "As root on Debian 12:", "",
            "    ./configure && make",
            "    make bench BENCH_ARGS=--update-docs", "",
            "`make bench BENCH_ARGS=\"--phases tx,exits\"` runs some phases "
            "only; `--quick` is a smoke test.", ""]
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
