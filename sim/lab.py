#!/usr/bin/env python3
"""lab.py: the policy lab (./run.sh sim [--quick], docs/design/sim.md).

Simulates every built-in victim policy and the worked example of
docs/policies.md (busiest-of-3, loaded with --policy-lib) on each workload
at P = 1, 2, 4, ..., 256 on two synthetic machines, and writes into --out:
results.csv (one row per run), summary.md (speedup tables, steal success
and remote-steal fraction), analyze-WORKLOAD.txt (`forage-sim analyze` of
each recording), share.csv (`--share request` against the default
`always` at a few P, also tabled in summary.md) and, when matplotlib is
present, one PNG per workload (speedup against P with the work/span bound,
steal success and the remote-steal fraction).  Workloads: the recordings in --recordings
(*.rec); else, with --bench, recordings of fib, nqueens, UTS and the seed
workload made by running those benchmark programs at P = 1 under
FORAGE_RECORD (docs/design/record.md), for every program whose run leaves
one, kept as --out/recordings/WORKLOAD.rec (so --recordings on that folder
reruns the lab on them); else hand-made stand-ins written by `forage-sim
gen`.  Simulation is deterministic (seed 1, or seeds 1..N with --seeds N:
the tables stay seed 1's, plus a spread table); recordings are measured, so
they vary by run."""
import argparse
import csv
import glob
import os
import subprocess
import sys

TOPOLOGIES = [
    ("flat-256", "pack:1 l3:1 core:256 pu:1"),      # one socket, one shared L3
    ("4-socket-256", "pack:4 l3:4 core:16 pu:1"),   # 4 sockets, 4 L3s of 16 cores each
]
POLICIES = ["random", "round-robin", "sticky", "near", "power-of-two"]
# Stand-ins when no recording is given: name, forage-sim gen arguments.
STAND_INS = [
    ("fib", ["fib", "22", "--node", "12", "--leaf", "6"]),
    ("tree", ["tree", "12", "--node", "100", "--leaf", "20000"]),
    ("star", ["star", "400", "--leaf", "50000"]),
]
# Recorded workloads: name, benchmark program, its arguments (one run, P = 1).
# (name, program, arguments, arguments with --quick).  The sizes are
# docs/design/record.md's; the seed workload runs on 2 workers because the
# façade runs a 1-worker map on its sequential backend, which records nothing.
RECORDED = [
    ("fib", "fib", ["--threads", "1", "--variant", "forage", "--n", "27"], ["--n", "22"]),
    ("nqueens", "nqueens", ["--threads", "1", "--variant", "forage-join", "--n", "11"], ["--n", "9"]),
    ("uts", "uts", ["--threads", "1", "--variant", "forage-join", "--n", "200"], ["--n", "20"]),
    ("seed", "seed", ["--threads", "2", "--variant", "forage-steal", "--grain", "1000", "--n", "40000"], ["--n", "3000"]),
]
# The --share experiment: request (the runtime's private ctx stack) against
# always, on the same recordings, at these P and policies.
SHARE_PS, SHARE_POLICIES = [16, 64, 256], ["random", "near", "power-of-two"]
QUICK_SHARE_PS, QUICK_SHARE_POLICIES = [64], ["random"]
QUICK_STAND_INS = [
    ("fib", ["fib", "16", "--node", "12", "--leaf", "6"]),
    ("star", ["star", "100", "--leaf", "20000"]),
]


def run(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out.stdout


def analyze(sim, path, out, name):
    """Work and span of a recording; its whole analyze output goes to out."""
    text = run([sim, "analyze", path])
    with open(os.path.join(out, "analyze-%s.txt" % name.split()[0]), "w") as f:
        f.write(text)
    figures = {}
    for line in text.splitlines():
        parts = line.split()
        if line.startswith("work T1"):
            figures["work_ms"] = float(parts[2])
        elif line.startswith("span Tinf"):
            figures["span_ms"] = float(parts[2])
    return figures


# forage-sim run options given to every run (--idle, --costs), set by main.
RUN_OPTIONS = []


def simulate(sim, path, topology, P, policy, lib, share="always", seed=1):
    cmd = [sim, "run", path, "--workers", str(P), "--topology", topology, "--seed", str(seed),
           "--csv"] + RUN_OPTIONS
    cmd += ["--share", share] if share != "always" else []
    cmd += ["--policy-lib", lib + ":busiest_of_3"] if policy == "busiest-of-3" else ["--policy", policy]
    rows = list(csv.DictReader(run(cmd).splitlines()))
    row = rows[0]
    row["policy"] = policy
    row["seed"] = seed
    return row


def record(args):
    """Record the benchmark programs; the workloads whose run left a file."""
    if not args.bench or not os.path.isdir(args.bench):
        return []
    out = os.path.join(args.out, "recordings")
    os.makedirs(out, exist_ok=True)
    got = []
    for name, prog, extra, quick in RECORDED:
        if args.quick:
            extra = extra + quick  # the later --n wins
        exe = os.path.join(args.bench, prog)
        if not os.access(exe, os.X_OK):
            continue
        for old in glob.glob(os.path.join(out, name + "*.rec")):
            os.remove(old)
        path = os.path.join(out, name + ".rec")
        env = dict(os.environ, FORAGE_RECORD=path)
        subprocess.run([exe, "--reps", "1", "--no-header"] + extra,
                       env=env, capture_output=True, check=False)
        files = sorted(glob.glob(os.path.join(out, name + "*.rec")), key=os.path.getsize)
        if files:  # a program may make several pools (a warm-up): keep the largest
            for small in files[:-1]:
                os.remove(small)
            os.replace(files[-1], path)
            got.append((name, path))
    return got


def workloads(args):
    found = sorted(glob.glob(os.path.join(args.recordings, "*.rec"))) if args.recordings else []
    if found:
        return [(os.path.splitext(os.path.basename(p))[0], p) for p in found]
    recorded = record(args)
    if recorded:
        print("lab: recorded %s" % ", ".join(n for n, _ in recorded), file=sys.stderr)
        return recorded
    print("lab: no recordings (FORAGE_RECORD not available or no --bench): hand-made "
          "stand-ins", file=sys.stderr)
    graphs = os.path.join(args.out, "graphs")
    os.makedirs(graphs, exist_ok=True)
    out = []
    for name, gen in (QUICK_STAND_INS if args.quick else STAND_INS):
        path = os.path.join(graphs, name + ".rec")
        run([args.sim, "gen"] + gen + ["-o", path])
        out.append((name + " (stand-in)", path))
    return out


def share_experiment(args, found, results):
    """--share request against the default always on the same recordings:
    one row per workload, machine, policy, P and seed, with both runs'
    figures."""
    Ps, pols = (QUICK_SHARE_PS, QUICK_SHARE_POLICIES) if args.quick else (SHARE_PS, SHARE_POLICIES)
    rows = []
    for wl, path in found:
        for topo, spec in TOPOLOGIES:
            for pol in pols:
                for P in Ps:
                    for seed in range(1, args.seeds + 1):
                        a = results.get((topo, wl, pol, P, seed)) or simulate(
                            args.sim, path, spec, P, pol, args.policy_lib, seed=seed)
                        r = simulate(args.sim, path, spec, P, pol, args.policy_lib, "request", seed)
                        row = dict(workload=wl, topology=topo, policy=pol, workers=P, seed=seed)
                        for key in ("makespan_ns", "speedup", "attempts", "steals",
                                    "idle_fraction", "sleeps"):
                            row[key + "_always"], row[key + "_request"] = a[key], r[key]
                        rows.append(row)
    if rows:
        with open(os.path.join(args.out, "share.csv"), "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
    return rows


def median(xs):
    xs = sorted(xs)
    return (xs[(len(xs) - 1) // 2] + xs[len(xs) // 2]) / 2


def share_lines(shared, seeds):
    lines = ["## --share request against always", "",
             "The same recordings with spawns private until a thief asks (`--share request`, the "
             "runtime's ctx stack) against every spawn public at once (`always`, the tables "
             "above).  Medians over seeds 1-%d (min-max in brackets); change = the median "
             "makespan with request against the median with always." % seeds, "",
             "| workload | machine | policy | P | speedup always | speedup request | change | "
             "steals always / request | idle always / request |",
             "|---|---|---|---|---|---|---|---|---|"]
    groups = {}
    for r in shared:
        groups.setdefault((r["workload"], r["topology"], r["policy"], r["workers"]), []).append(r)
    for (wl, topo, pol, P), rs in groups.items():
        def med(key, kind=float):
            return median([kind(r[key]) for r in rs])

        def cell(key):
            xs = [float(r[key]) for r in rs]
            return "%.2f" % median(xs) + (" (%.2f-%.2f)" % (min(xs), max(xs)) if len(xs) > 1 else "")
        lines.append("| %s | %s | %s | %d | %s | %s | %+.1f%% | %g / %g | %.3f / %.3f |" % (
            wl, topo, pol, P, cell("speedup_always"), cell("speedup_request"),
            100.0 * (med("makespan_ns_request") / med("makespan_ns_always") - 1),
            med("steals_always"), med("steals_request"), med("idle_fraction_always"),
            med("idle_fraction_request")))
    return lines + [""]


def spread_lines(args, results, Ps):
    """Speedup over seeds 1..N per policy: what one seed's difference is worth."""
    lines = ["## Spread over seeds", "",
             "Speedup min / median / max over seeds 1-%d (the seed drives the victim choices; "
             "round-robin uses none)." % args.seeds, ""]
    for topo, _ in TOPOLOGIES:
        for wl in args.workload_names:
            lines += ["### %s on %s" % (wl, topo), "",
                      "| policy | " + " | ".join("P=%d" % P for P in Ps) + " |",
                      "|---|" + "---|" * len(Ps)]
            for pol in args.policies:
                cells = []
                for P in Ps:
                    xs = [float(results[(topo, wl, pol, P, s)]["speedup"])
                          for s in range(1, args.seeds + 1)]
                    cells.append("%.1f / %.1f / %.1f" % (min(xs), median(xs), max(xs)))
                lines.append("| %s | %s |" % (pol, " | ".join(cells)))
            lines.append("")
    return lines


def write_summary(args, results, bounds, Ps, shared):
    """Tables of seed 1, the bounds over every run, then the spread over
    seeds and the --share experiment."""
    lines = ["# Policy lab", "",
             "forage-sim, seed 1 (but \"Spread over seeds\"), %s (docs/design/sim.md).  Speedup = T1 / makespan; "
             "`bound` = min(P, T1/Tinf)." % (" ".join(RUN_OPTIONS) or "default costs and idle ladder"), ""]
    for topo, _ in TOPOLOGIES:
        for wl in bounds:
            lines += ["## %s on %s" % (wl, topo), "",
                      "| policy | " + " | ".join("P=%d" % P for P in Ps) + " |",
                      "|---|" + "---|" * len(Ps)]
            b = bounds[wl]
            lines.append("| bound | " + " | ".join(
                "%.1f" % min(P, b["work_ms"] / max(b["span_ms"], 1e-9)) for P in Ps) + " |")
            for pol in args.policies:
                cells = [results[(topo, wl, pol, P, 1)]["speedup"] for P in Ps]
                lines.append("| %s | %s |" % (pol, " | ".join("%.2f" % float(c) for c in cells)))
            top = Ps[-1]
            lines += ["", "At P=%d: steal success, remote-steal fraction, idle fraction, attempts:" % top, ""]
            for pol in args.policies:
                r = results[(topo, wl, pol, top, 1)]
                lines.append("- %s: success %s, remote %s, idle %s, %s attempts, %s steals" % (
                    pol, r["success"], r["remote_fraction"], r["idle_fraction"], r["attempts"],
                    r["steals"]))
            lines.append("")
    runs = list(results.values())
    out = [r for r in runs if r["within"] != "yes"]
    worst = max(runs, key=lambda r: float(r["needed_c"]))
    lines += ["## Bounds", "",
              "%d of %d runs within max(T1/P, Tinf) <= makespan <= T1/P + %s x the burdened span "
              "(docs/design/sim.md, \"The bounds\"); the largest c needed: %s (%s, %s, %s, P=%s, seed %s)."
              % (len(runs) - len(out), len(runs), worst["bound_c"], worst["needed_c"],
                 worst["workload"], worst["topology"], worst["policy"], worst["workers"],
                 worst["seed"]), ""]
    lines += ["- outside: %s, %s, %s, P=%s, seed %s, makespan %s ns, bounds %s..%s ns" % (
        r["workload"], r["topology"], r["policy"], r["workers"], r["seed"], r["makespan_ns"],
        r["lower_ns"], r["upper_ns"]) for r in out]
    lines += [""] + spread_lines(args, results, Ps) if args.seeds > 1 else []
    lines += [""] + share_lines(shared, args.seeds) if shared else []
    with open(os.path.join(args.out, "summary.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    if out:
        print("lab: %d runs outside the bounds (summary.md)" % len(out), file=sys.stderr)


def plot(args, results, bounds, Ps):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("lab: matplotlib not found: no PNGs (tables only)", file=sys.stderr)
        return
    for wl in bounds:
        fig, grid = plt.subplots(3, len(TOPOLOGIES), figsize=(6 * len(TOPOLOGIES), 12))
        b = bounds[wl]
        for col, (topo, _) in enumerate(TOPOLOGIES):
            for row, (key, label) in enumerate([("success", "steal success"),
                                                ("remote_fraction", "remote-steal fraction")], 1):
                ax = grid[row][col]
                for pol in args.policies:
                    ax.plot(Ps, [float(results[(topo, wl, pol, P, 1)][key]) for P in Ps], "o-",
                            label=pol)
                ax.set_xscale("log", base=2)
                ax.set_xlabel("workers P")
                ax.set_ylabel(label)
                ax.set_title("%s on %s" % (wl, topo))
                ax.grid(True, alpha=0.3)
        axes = grid[0]
        for ax, (topo, _) in zip(axes, TOPOLOGIES):
            ax.plot(Ps, [min(P, b["work_ms"] / max(b["span_ms"], 1e-9)) for P in Ps], "k--",
                    label="bound min(P, T1/Tinf)")
            for pol in args.policies:
                ax.plot(Ps, [float(results[(topo, wl, pol, P, 1)]["speedup"]) for P in Ps], "o-",
                        label=pol)
            ax.set_xscale("log", base=2)
            ax.set_yscale("log", base=2)
            ax.set_xlabel("workers P")
            ax.set_ylabel("simulated speedup")
            ax.set_title("%s on %s" % (wl, topo))
            ax.grid(True, alpha=0.3)
        axes[0].legend(fontsize=7)
        fig.tight_layout()
        name = wl.split()[0]
        fig.savefig(os.path.join(args.out, "speedup-%s.png" % name), dpi=90)
        plt.close(fig)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sim", required=True)
    ap.add_argument("--policy-lib", default="")
    ap.add_argument("--out", required=True)
    ap.add_argument("--recordings", default="")
    ap.add_argument("--bench", default="", help="benchmark programs to record (build/benchmarks)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--seeds", type=int, default=1,
                    help="simulate every run with seeds 1..N (the tables show seed 1)")
    ap.add_argument("--idle", help="forage-sim run --idle for every run (default: the runtime's)")
    ap.add_argument("--costs", help="forage-sim run --costs for every run (default costs)")
    args = ap.parse_args()
    RUN_OPTIONS.extend(["--idle", args.idle] if args.idle else [])
    RUN_OPTIONS.extend(["--costs", args.costs] if args.costs else [])
    os.makedirs(args.out, exist_ok=True)
    Ps = [1, 2, 8, 64] if args.quick else [1, 2, 4, 8, 16, 32, 64, 128, 256]
    args.policies = POLICIES + (["busiest-of-3"] if args.policy_lib else [])
    results, bounds = {}, {}
    rows = []
    found = workloads(args)
    args.workload_names = [wl for wl, _ in found]
    for wl, path in found:
        bounds[wl] = analyze(args.sim, path, args.out, wl)
        for topo, spec in TOPOLOGIES:
            for pol in args.policies:
                for P in Ps:
                    for seed in range(1, args.seeds + 1):
                        r = simulate(args.sim, path, spec, P, pol, args.policy_lib, seed=seed)
                        r.update(workload=wl, topology=topo)
                        results[(topo, wl, pol, P, seed)] = r
                        rows.append(r)
    fields = ["workload", "topology"] + [k for k in rows[0] if k not in ("workload", "topology")]
    with open(os.path.join(args.out, "results.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    shared = share_experiment(args, found, results)
    write_summary(args, results, bounds, Ps, shared)
    plot(args, results, bounds, Ps)
    print("lab: %d runs -> %s/results.csv, summary.md" % (len(rows), args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
