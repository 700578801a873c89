#!/usr/bin/env python3
"""pinned.py: parallel_for at P = 1 against libgomp dynamic and oneTBB
simple, with every program of a round pinned to one CPU (or not pinned),
to tell what a P = 1 loop costs from where it runs (docs/benchmarks.md,
"parallel_for on the shadow-paging VM").

forage runs a P = 1 loop on its one worker, bound to the first CPU of the
mask; libgomp and oneTBB run it on the caller's thread, wherever that is.
Pinned (`--cpu N`: taskset -c N for every program), all of them run on the
same CPU.  Rounds are interleaved as matrix.py's are: a capacity check
(matrix.capacity_check), then every configuration once, 3 reps each, in
shuffled order; rounds below --min-capacity are dropped, and every ratio
is taken within a round (median over the kept rounds, min-max).

usage: pinned.py --build build-bench [--rounds 4] [--cpu N] [--grains 256,4096,65536]
"""
import argparse
import os
import random
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix  # noqa: E402

FORAGE = ("forage-inline", "forage-simple")
PEERS = (("gomp-dynamic", "parallel_for-gomp"), ("tbb-simple", "parallel_for-tbb"))


def seconds(prefix, program, variant, grain):
    """Median of the program's 3 timed reps of variant at grain."""
    cmd = prefix + [program, "--threads", "1", "--reps", "3", "--no-header",
                    "--variant", variant]
    if grain:
        cmd += ["--grain", str(grain)]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         check=True, timeout=matrix.PROCESS_TIMEOUT).stdout
    rows = [line.split(",") for line in out.splitlines() if line]
    return statistics.median(float(r[6]) for r in rows if r[0] == variant)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--cpu", type=int, help="pin every program to this CPU")
    ap.add_argument("--grains", default="256,4096,65536")
    ap.add_argument("--min-capacity", type=float, default=1.8)
    args = ap.parse_args()
    bench = os.path.join(args.build, "benchmarks")
    prefix = ["taskset", "-c", str(args.cpu)] if args.cpu is not None else []
    grains = [int(g) for g in args.grains.split(",")]
    configs = [(v, "parallel_for", g) for g in grains for v in FORAGE]
    configs += [(v, p, g) for g in grains for v, p in PEERS]
    kept = []
    for r in range(args.rounds):
        capacity = matrix.capacity_check(args.build, 32)[0]
        order = configs[:]
        random.shuffle(order)
        times = {(v, g): seconds(prefix, os.path.join(bench, p), v, g) for v, p, g in order}
        use = capacity >= args.min_capacity
        print("round %d: capacity %.2f%s" % (r + 1, capacity, "" if use else ", dropped"),
              flush=True)
        if use:
            kept.append(times)
    print("%s; %d of %d rounds kept" % ("taskset -c %d" % args.cpu if prefix else "not pinned",
                                        len(kept), args.rounds))
    if not kept:
        return 1
    for g in grains:
        for v in FORAGE:
            for peer, _ in PEERS:
                ratios = [t[(v, g)] / t[(peer, g)] for t in kept]
                print("grain %6d  %-14s / %-13s %.3f [%.2f-%.2f]" % (
                    g, v, peer, statistics.median(ratios), min(ratios), max(ratios)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
