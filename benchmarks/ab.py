#!/usr/bin/env python3
"""ab.py: two builds of the benchmarks (A: before a change, B: after it)
against each other, and against a reference program, in interleaved,
capacity-checked rounds, so that a header or compiler change is judged by
the same rules as the suite (docs/benchmarks.md, "How the suite runs").

Before each round, and once after the last, matrix.capacity_check runs;
each round runs every configuration once on both builds (one process
each, one warm-up and one timed rep), in an order shuffled by --seed.  A
round's capacity is the lower of the checks before and after it, as in
matrix.py; rounds below --min-capacity are left
out of the summary (all rounds are used, and the summary says so, if none
passes).  Every ratio is taken within a round; the summary gives the
median and [min-max] over the rounds used.

    benchmarks/ab.py --a /tmp/before/build-bench --b build-bench --rounds 8 \\
        --env FORAGE_DEQUE=split --ref fib-lace:lace \\
        fib:forage-task:1:38 fib:forage-task:2:38

A configuration is PROGRAM:VARIANT:THREADS:N[:GRAIN].  --ref PROGRAM:VARIANT
(repeatable) also runs a peer from build B at every THREADS:N[:GRAIN] of the
configurations of its workload (fib-lace: fib's), and the summary gives
A/ref and B/ref for them.
"""
import argparse
import os
import random
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matrix  # noqa: E402


def parse_config(text):
    parts = text.split(":")
    if len(parts) not in (4, 5) or not all(parts):
        raise argparse.ArgumentTypeError(f"{text}: want PROGRAM:VARIANT:THREADS:N[:GRAIN]")
    return tuple(parts) if len(parts) == 5 else tuple(parts) + ("",)


def seconds(build, program, variant, threads, n, grain, env):
    """The timed rep of one process."""
    cmd = [os.path.join(build, "benchmarks", program), "--variant", variant, "--threads", threads,
           "--reps", "1", "--n", n, "--no-header"]
    if grain:
        cmd += ["--grain", grain]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         check=True, timeout=matrix.PROCESS_TIMEOUT, env={**os.environ, **env})
    rows = [r.split(",") for r in matrix.check_rows(program, out.stdout)]
    return float([r for r in rows if r[0] == variant][-1][6])


def spread(values):
    return f"{statistics.median(values):.3f} [{min(values):.3f}-{max(values):.3f}]"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--a", required=True, help="build dir A (before)")
    ap.add_argument("--b", required=True, help="build dir B (after)")
    ap.add_argument("--rounds", type=int, default=6)
    ap.add_argument("--min-capacity", type=float, default=matrix.CAPACITY_KEEP)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--env", action="append", default=[], help="K=V for every program")
    ap.add_argument("--env-b", action="append", default=[],
                    help="K=V for build B's configurations only (A/B of a setting: --a and --b the same build)")
    ap.add_argument("--ref", action="append", default=[], help="PROGRAM:VARIANT from build B")
    ap.add_argument("configs", nargs="+", type=parse_config)
    args = ap.parse_args()
    env = dict(e.split("=", 1) for e in args.env)
    env_b = {**env, **dict(e.split("=", 1) for e in args.env_b)}
    refs = [tuple(r.split(":", 1)) for r in args.ref]

    def mine(prog, c):  # is c a configuration of the peer prog's workload?
        return prog.startswith(c[0] + "-")

    jobs = [(side, c) for c in args.configs for side in "AB"]
    jobs += [("ref", (prog, var, t, n, g)) for prog, var in refs
             for t, n, g in sorted({c[2:5] for c in args.configs if mine(prog, c)})]
    rng = random.Random(args.seed)
    rounds = []

    def capacity():
        return matrix.capacity_check(args.a, matrix.CAPACITY_N[0])[0]

    after = capacity()
    for rnd in range(1, args.rounds + 1):
        before = after  # the check after a round is the one before the next
        rng.shuffle(jobs)
        got = {(side, c): seconds(args.a if side == "A" else args.b, *c, env if side == "A" else env_b)
               for side, c in jobs}
        after = capacity()
        rounds.append((min(before, after), got))
        print(f"round {rnd}: capacity {before:.2f} before, {after:.2f} after; "
              + ", ".join(f"{side} {':'.join(x for x in c if x)} {t:.4f}"
                          for (side, c), t in sorted(got.items())), flush=True)
    used = [got for cap, got in rounds if cap >= args.min_capacity]
    print(f"{len(used)} of {len(rounds)} rounds at capacity >= {args.min_capacity}"
          + ("" if used else "; NONE: the summary uses all rounds, not capacity-checked"))
    used = used or [got for _, got in rounds]
    for c in args.configs:
        name = ":".join(x for x in c if x)
        print(f"{name}: B/A {spread([g[('B', c)] / g[('A', c)] for g in used])}")
        for prog, var in (r for r in refs if mine(r[0], c)):
            ref = ("ref", (prog, var) + c[2:5])
            for side in "AB":
                print(f"{name}: {side}/{var} {spread([g[(side, c)] / g[ref] for g in used])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
