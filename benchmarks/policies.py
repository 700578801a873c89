#!/usr/bin/env python3
"""policies.py: the victim-policy comparison of docs/policies.md.

    benchmarks/policies.py --build build-bench-stats --out build/bench/policies [--quick]

Runs forage's fib, nqueens, uts and seed programs at P = nproc under every
built-in victim policy (FORAGE_POLICY), with FORAGE_STATS=1 in a build made
with -Dstats=true, and writes:
  policies.csv   workload,policy,seconds,steal_attempts,steals,steal_aborts
  policies.md    the table: median time, time relative to random, steal
                 success rate (steals / attempts) and steals per second
  policies.png   time and success rate per policy and workload (matplotlib)
Seconds are the medians of the programs' own timed reps (forage's rows; for
the seed, forage-steal at batch 1000); the counters add up every pool the
program made (warm-up included), so the rates cover the same runs.
"""
import argparse
import collections
import os
import statistics
import subprocess
import sys

POLICIES = ("random", "round-robin", "sticky", "near", "power-of-two")
# workload: (--n full, --n quick, the runtime label and grain of the row to time)
WORKLOADS = {
    "fib": (34, 22, "forage", 0),
    "nqueens": (12, 9, "forage-join", 0),
    "uts": (2000, 20, "forage-join", 0),
    "seed": (40_000, 3_000, "forage-steal", 1000),
}
STAT_COLS = ("tasks_run", "steal_attempts", "steals", "steal_aborts", "injector_takes",
             "sleeps", "wakeups", "busy_ms", "idle_ms")


def nproc():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def parse_stats(stderr):
    """Sum of the 'total' rows of every FORAGE_STATS table in stderr."""
    sums = collections.Counter()
    tables = 0
    for line in stderr.splitlines():
        if "counters are not compiled in" in line:
            raise RuntimeError("this build has no counters: configure it with -Dstats=true")
        fields = line.split()
        if fields and fields[0] == "total" and len(fields) == 1 + len(STAT_COLS):
            tables += 1
            for name, value in zip(STAT_COLS, fields[1:]):
                sums[name] += float(value)
    if tables == 0:
        raise RuntimeError("no FORAGE_STATS table on stderr")
    return sums


def run(build, workload, policy, n, reps, threads):
    label, grain = WORKLOADS[workload][2:]
    exe = os.path.join(build, "benchmarks", workload)
    env = {**os.environ, "FORAGE_POLICY": policy, "FORAGE_STATS": "1"}
    args = [exe, "--threads", str(threads), "--reps", str(reps), "--n", str(n), "--no-header"]
    proc = subprocess.run(args, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"{workload} under {policy} exited {proc.returncode}:\n"
                           + proc.stderr[-2000:])
    times = []
    for line in proc.stdout.splitlines():
        f = line.split(",")
        if len(f) == 8 and f[0] == label and int(f[3]) == grain and int(f[4]) == threads:
            times.append(float(f[6]))
    if not times:
        raise RuntimeError(f"{workload}: no {label} rows at grain {grain}, {threads} threads")
    return statistics.median(times), parse_stats(proc.stderr)


def table(rows):
    head = ["workload", "policy", "median time", "vs random", "steal attempts", "steals",
            "success rate", "aborts"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    base = {r["workload"]: r["seconds"] for r in rows if r["policy"] == "random"}
    for r in rows:
        att, ok = r["steal_attempts"], r["steals"]
        lines.append("| " + " | ".join([
            r["workload"], r["policy"], f"{r['seconds'] * 1e3:.1f} ms",
            f"{r['seconds'] / base[r['workload']]:.2f}", f"{att:.0f}", f"{ok:.0f}",
            f"{ok / att:.3f}" if att else "-", f"{r['steal_aborts']:.0f}"]) + " |")
    return "\n".join(lines)


def plot(rows, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("policies: matplotlib missing, no PNG", file=sys.stderr)
        return
    workloads = list(dict.fromkeys(r["workload"] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.8 / len(POLICIES)
    for i, policy in enumerate(POLICIES):
        rel, rate = [], []
        for w in workloads:
            r = next(x for x in rows if x["workload"] == w and x["policy"] == policy)
            base = next(x for x in rows if x["workload"] == w and x["policy"] == "random")
            rel.append(r["seconds"] / base["seconds"])
            rate.append(r["steals"] / r["steal_attempts"] if r["steal_attempts"] else 0)
        xs = [k + i * width for k in range(len(workloads))]
        axes[0].bar(xs, rel, width, label=policy)
        axes[1].bar(xs, rate, width, label=policy)
    for ax, title in zip(axes, ("median time / random's", "steal success rate")):
        ax.set_xticks([k + 0.4 - width / 2 for k in range(len(workloads))], workloads)
        ax.set_title(title)
        ax.grid(axis="y", alpha=0.3)
    axes[0].axhline(1.0, color="black", linewidth=0.8)
    axes[1].legend(fontsize=8)
    fig.suptitle(f"victim policies at P = {nproc()}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="a -Dstats=true build with benchmarks/")
    ap.add_argument("--out", required=True)
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one rep")
    ap.add_argument("--reps", type=int, default=None)
    args = ap.parse_args()
    reps = args.reps or (1 if args.quick else 5)
    threads = nproc()
    os.makedirs(args.out, exist_ok=True)
    rows = []
    for workload, (full_n, quick_n, _, _) in WORKLOADS.items():
        n = quick_n if args.quick else full_n
        for policy in POLICIES:
            seconds, stats = run(args.build, workload, policy, n, reps, threads)
            rows.append({"workload": workload, "policy": policy, "seconds": seconds, **stats})
            print(f"policies: {workload:<8} {policy:<13} {seconds * 1e3:9.2f} ms  "
                  f"steals {stats['steals']:.0f}/{stats['steal_attempts']:.0f}", file=sys.stderr)
    with open(os.path.join(args.out, "policies.csv"), "w") as f:
        f.write("workload,policy,seconds,steal_attempts,steals,steal_aborts\n")
        for r in rows:
            f.write(f"{r['workload']},{r['policy']},{r['seconds']:.6f},{r['steal_attempts']:.0f},"
                    f"{r['steals']:.0f},{r['steal_aborts']:.0f}\n")
    text = table(rows)
    with open(os.path.join(args.out, "policies.md"), "w") as f:
        f.write(text + "\n")
    print(text)
    plot(rows, os.path.join(args.out, "policies.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
