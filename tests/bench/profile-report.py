#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Tables of tests/bench/profile.sh: CPU microseconds per frame by guest
function and by part of QEMU, one column per NIC (standard library only).

  profile-report.py --dir DIR --seconds S [--top N] [--title T] NIC...

DIR holds, per NIC, NIC.samples (`perf script -F comm,ip,sym,dso`),
NIC.kallsyms (the guest's text symbols from /proc/kallsyms),
NIC.threads0 and NIC.threads1 (QEMU's threads at the start and end of
the window of --seconds) and a line "NIC FRAMES" in DIR/frames.  Samples of translated guest code are named
"guest-0xPC" by QEMU's -perfmap; the PC is looked up in the guest's
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


def threads_table(nics, a, frames):
    """CPU time and context switches of QEMU's busiest threads."""
    hz = os.sysconf("SC_CLK_TCK")
    print("\nThreads (from /proc: CPU time, and context switches per 1000 frames)")
    print("| NIC | thread | CPU % of the window | CPU us/frame "
          "| voluntary | involuntary |")
    print("|---|---|---|---|---|---|")
    for nic in nics:
        d = thread_deltas(f"{a.dir}/{nic}.threads0", f"{a.dir}/{nic}.threads1")
        for name, (ticks, vol, invol) in sorted(d.items(),
                                                key=lambda kv: -kv[1][0]):
            if ticks <= 0:
                continue
            f = frames[nic]
            print(f"| {nic} | {name} | {100 * ticks / hz / a.seconds:.0f} "
                  f"| {ticks / hz * 1e6 / f:.2f} | {1000 * vol / f:.1f} "
                  f"| {1000 * invol / f:.1f} |")


def table(title, keys, nics, data, frames):
    """Print us per frame and share of all samples for each key."""
    print(f"\n{title}")
    head = "".join(f" | {n} us/frame (%)" for n in nics)
    print(f"| function{head} |")
    print("|---" * (len(nics) + 1) + "|")
    for k in keys:
        cells = ""
        for n in nics:
            s = data[n][0].get(k, 0)
            tot = sum(data[n][0].values())
            us = s / FREQ * 1e6 / frames[n]
            cells += f" | {us:.3f} ({100 * s / tot:.1f})"
        print(f"| {k[1]}{cells} |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--title", default="")
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("nics", nargs="+")
    a = ap.parse_args()

    frames = {}
    with open(f"{a.dir}/frames", encoding="utf-8") as f:
        for line in f:
            nic, n = line.split()
            frames[nic] = int(n)
    data = {}
    for nic in a.nics:
        addrs, names = load_symbols(f"{a.dir}/{nic}.kallsyms")
        data[nic] = profile(f"{a.dir}/{nic}.samples", addrs, names)

    print(f"# {a.title}: CPU us per frame (share of all QEMU samples)")
    for nic in a.nics:
        rows, threads = data[nic]
        tot = sum(rows.values())
        guest = sum(v for k, v in rows.items() if k[0] == "guest")
        th = ", ".join(f"{t} {100 * v / tot:.0f} %"
                       for t, v in threads.most_common(3))
        print(f"- {nic}: {frames[nic]} frames, {tot} samples, "
              f"{tot / FREQ * 1e6 / frames[nic]:.2f} us/frame, "
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

    threads_table(a.nics, a, frames)
    table("Guest functions", top("guest"), a.nics, data, frames)
    table("Host side", top("host"), a.nics, data, frames)


if __name__ == "__main__":
    main()
