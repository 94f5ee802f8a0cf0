#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Tables of tests/bench/profile.sh: CPU microseconds per frame or per MB
by guest function and by part of QEMU, one column per NIC (standard
library only).

  profile-report.py --dir DIR --seconds S [--unit frame|MB] [--top N]
                    [--title T] NIC...

DIR holds, per NIC, NIC.samples (`perf script -F comm,ip,sym,dso`),
NIC.kallsyms (the guest's text symbols from /proc/kallsyms),
NIC.threads0 and NIC.threads1 (QEMU's threads at the start and end of
the window of --seconds) and a line "NIC AMOUNT SECONDS" in DIR/amounts:
the frames (--unit frame) or bytes (--unit MB) over the window and the
time between those two counts.  Samples of translated guest code are
named "guest-0xPC" by QEMU's -perfmap; the PC is looked up in the guest's
symbols.  Every other sample is QEMU's own code, the host kernel or a
library, named by its host symbol.
"""

import argparse
import bisect
import collections
import os
import re

SAMPLE = re.compile(r"^\s*(.+?)\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$")
FREQ = 1999     # perf record -F in profile.sh


def load_symbols(kallsyms):
    """Sorted (address, name) of the guest's kernel and module text."""
    syms = []
    with open(kallsyms, encoding="utf-8", errors="replace") as f:
        for line in f:
            w = line.split()
            if len(w) >= 3:
                syms.append((int(w[0], 16), " ".join(w[2:])))
    syms.sort()
    return [a for a, _ in syms], [n for _, n in syms]


def host_group(sym, dso):
    """A coarse part of the host side for a sample outside guest code."""
    if dso.startswith("[kernel"):
        return "host kernel: " + sym
    if "qemu-system" in dso:
        return "QEMU: " + sym
    if dso.startswith("/tmp/perf-") or dso in ("[JIT]", "//anon"):
        return "TCG code outside guest instructions"
    return "libraries (" + dso.rsplit("/", 1)[-1] + ")"


def profile(path, addrs, names):
    """{("guest"|"host", name): samples} and {thread: samples} of a NIC."""
    rows = collections.Counter()
    threads = collections.Counter()
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = SAMPLE.match(line)
            if not m:
                continue
            comm, _, sym, dso = m.groups()
            threads[comm] += 1
            if sym.startswith("guest-0x"):
                pc = int(sym[len("guest-0x"):].split("+")[0], 16)
                i = bisect.bisect_right(addrs, pc) - 1
                rows[("guest", names[i] if i >= 0 else hex(pc))] += 1
            else:
                rows[("host", host_group(sym, dso))] += 1
    return rows, threads


def thread_deltas(path0, path1):
    """{thread name: (CPU ticks, voluntary, nonvoluntary switches)} over
    the window, from profile.sh's two thread_times snapshots."""
    def read(path):
        rows = collections.defaultdict(lambda: [0, 0, 0])
        with open(path, encoding="utf-8") as f:
            for line in f:
                name, *vals = line.split()
                for i, v in enumerate(vals):
                    rows[name][i] += int(v)
        return rows
    a, b = read(path0), read(path1)
    return {n: [b[n][i] - a[n][i] for i in range(3)] for n in b}


def threads_table(nics, a, units):
    """CPU time and context switches of QEMU's busiest threads."""
    hz = os.sysconf("SC_CLK_TCK")
    per = 1000 if a.unit == "frame" else 1
    print("\nThreads (from /proc: CPU time, and context switches per "
          f"{per} {a.unit})")
    print(f"| NIC | thread | CPU % of the window | CPU us/{a.unit} "
          "| voluntary | involuntary |")
    print("|---|---|---|---|---|---|")
    for nic in nics:
        d = thread_deltas(f"{a.dir}/{nic}.threads0", f"{a.dir}/{nic}.threads1")
        for name, (ticks, vol, invol) in sorted(d.items(),
                                                key=lambda kv: -kv[1][0]):
            if ticks <= 0:
                continue
            f = units[nic]
            print(f"| {nic} | {name} | {100 * ticks / hz / a.seconds:.0f} "
                  f"| {ticks / hz * 1e6 / f:.2f} | {per * vol / f:.1f} "
                  f"| {per * invol / f:.1f} |")


def table(title, keys, nics, data, units, unit):
    """Print us per unit and share of all samples for each key."""
    print(f"\n{title}")
    head = "".join(f" | {n} us/{unit} (%)" for n in nics)
    print(f"| function{head} |")
    print("|---" * (len(nics) + 1) + "|")
    for k in keys:
        cells = ""
        for n in nics:
            s = data[n][0].get(k, 0)
            tot = sum(data[n][0].values())
            us = s / FREQ * 1e6 / units[n]
            cells += f" | {us:.3f} ({100 * s / tot:.1f})"
        print(f"| {k[1]}{cells} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--title", default="")
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--unit", choices=("frame", "MB"), default="frame")
    ap.add_argument("nics", nargs="+")
    a = ap.parse_args()

    units, rates = {}, {}
    with open(f"{a.dir}/amounts", encoding="utf-8") as f:
        for line in f:
            nic, n, secs = line.split()
            if a.unit == "frame":
                units[nic] = int(n)
                rates[nic] = f"{int(n)} frames, {int(n) / float(secs):.0f} pps"
            else:
                units[nic] = int(n) / 1e6
                rates[nic] = (f"{int(n) / 1e6:.0f} MB, "
                              f"{int(n) * 8 / 1e6 / float(secs):.0f} Mbit/s")
    data = {}
    for nic in a.nics:
        addrs, names = load_symbols(f"{a.dir}/{nic}.kallsyms")
        data[nic] = profile(f"{a.dir}/{nic}.samples", addrs, names)

    print(f"# {a.title}: CPU us per {a.unit} (share of all QEMU samples)")
    for nic in a.nics:
        rows, threads = data[nic]
        tot = sum(rows.values())
        guest = sum(v for k, v in rows.items() if k[0] == "guest")
        th = ", ".join(f"{t} {100 * v / tot:.0f} %"
                       for t, v in threads.most_common(3))
        print(f"- {nic}: {rates[nic]}, {tot} samples, "
              f"{tot / FREQ * 1e6 / units[nic]:.2f} us/{a.unit}, "
              f"guest code {100 * guest / tot:.1f} %; threads: {th}")

    def top(kind):
        score = collections.Counter()
        for nic in a.nics:
            rows = data[nic][0]
            tot = sum(rows.values())
            for k, v in rows.items():
                if k[0] == kind:
                    score[k] = max(score[k], v / tot)
        return [k for k, _ in score.most_common(a.top)]

    threads_table(a.nics, a, units)
    table("Guest functions", top("guest"), a.nics, data, units, a.unit)
    table("Host side", top("host"), a.nics, data, units, a.unit)


if __name__ == "__main__":
    main()
