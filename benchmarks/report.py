#!/usr/bin/env python3
"""report.py: medians, ratios and plots from a results.csv of matrix.py.

    benchmarks/report.py build/bench/results.csv [--out build/bench] [--no-plots]

Prints (and writes to <out>/summary.md, in Markdown) the median table per
workload, the forage/peer ratios, and the figures issue 5 asks for; draws
speedup.png, parallel_for_grain.png and seed_batch.png into <out>.

Conventions of the CSV (see docs/benchmarks.md): runtime names are
<family>[-<variant>] with family seq, forage, gomp, libomp or tbb.  A peer's
program times its own sequential twin as seq-<family> (same compiler, same
binary); every ratio against Tseq uses the twin of the runtime's own binary,
"seq" for forage.  Medians are over the timed reps.  Exits 1 if two rows of
one workload and size disagree on the checksum.
"""
import argparse
import collections
import os
import statistics
import sys

PEER_FAMILIES = ("gomp", "libomp", "tbb")
TREE_WORKLOADS = ("fib", "nqueens", "uts", "matmul")
ORDER = ("fib", "nqueens", "uts", "matmul", "parallel_for", "seed", "trivial",
         "deque-pushpop", "deque-steal")


def family(runtime):
    return runtime.split("-")[0]


def load(path):
    """{(workload, param): {(runtime, grain, threads): [seconds...]}} and the
    checksum disagreements."""
    data = collections.defaultdict(lambda: collections.defaultdict(list))
    sums = collections.defaultdict(set)
    with open(path) as f:
        header = f.readline().strip().split(",")
        for line in f:
            row = dict(zip(header, line.strip().split(",")))
            if len(row) != 8:
                continue
            key = (row["workload"], int(row["param"]))
            data[key][(row["runtime"], int(row["grain"]), int(row["threads"]))].append(
                float(row["seconds"]))
            sums[key].add(row["checksum"])
    bad = [f"{w}({p}): checksums {sorted(s)}" for (w, p), s in sums.items() if len(s) > 1]
    return data, bad


class Workload:
    """Medians of one (workload, param) and the ratios built on them."""

    def __init__(self, name, param, cells):
        self.name, self.param = name, param
        self.median = {k: statistics.median(v) for k, v in cells.items()}
        # The seed pairs each run with a twin run: count reps on the others.
        self.reps = max((len(v) for (r, g, t), v in cells.items() if not r.startswith("seq")),
                        default=0)
        self.threads = sorted({t for (r, g, t) in self.median if not r.startswith("seq")})
        self.pmax = max(self.threads) if self.threads else 1

    def tseq(self, runtime):
        """The median of the twin that belongs with `runtime`."""
        fam = family(runtime)
        for twin in (f"seq-{fam}", "seq"):
            if (twin, 0, 1) in self.median:
                return self.median[(twin, 0, 1)]
        return None

    def variants(self):
        """(runtime, grain) of every non-twin row, forage first."""
        keys = {(r, g) for (r, g, t) in self.median if not r.startswith("seq")}
        rank = {"forage": 0, "gomp": 1, "libomp": 2, "tbb": 3}
        return sorted(keys, key=lambda k: (rank.get(family(k[0]), 9), k[0], k[1]))

    def t(self, runtime, grain, threads):
        return self.median.get((runtime, grain, threads))


def fmt_t(x):
    if x is None:
        return "-"
    if x < 1e-3:
        return f"{x * 1e6:.1f} us"
    return f"{x * 1e3:.2f} ms" if x < 1 else f"{x:.3f} s"


def fmt_r(x):
    return "-" if x is None else f"{x:.2f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def table(head, rows):
    """Markdown table (also readable as plain text)."""
    cols = [head] + rows
    width = [max(len(str(r[i])) for r in cols) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, width)) + " |"
    return "\n".join([line(head), "|" + "|".join("-" * (w + 2) for w in width) + "|"]
                     + [line(r) for r in rows])


def grain_label(w, grain):
    if w.name in ("seed", "trivial"):
        return "auto" if grain == -1 else str(grain)
    return str(grain) if grain else "-"


def median_table(w):
    ps = w.threads
    if w.name.startswith("deque-"):  # one op per param: ns per op, no speedup
        per_op = lambda t: fmt_r(t / w.param * 1e9) if t is not None else "-"
        head = ["runtime", "threads", "Tseq", "T", "seq ns/op", "ns/op"]
        rows = [[r, str(p), fmt_t(w.tseq(r)), fmt_t(w.t(r, g, p)), per_op(w.tseq(r)),
                 per_op(w.t(r, g, p))]
                for r, g in w.variants() for p in ps if w.t(r, g, p) is not None]
        return table(head, rows)
    head = (["runtime", "batch" if w.name == "seed" else "grain", "Tseq"]
            + [f"T{p}" for p in ps] + ["T1/Tseq"] + [f"Tseq/T{p}" for p in ps if p > 1])
    rows = []
    for runtime, grain in w.variants():
        ts = w.tseq(runtime)
        times = [w.t(runtime, grain, p) for p in ps]
        rows.append([runtime, grain_label(w, grain), fmt_t(ts)] + [fmt_t(x) for x in times]
                    + [fmt_r(ratio(w.t(runtime, grain, 1), ts))]
                    + [fmt_r(ratio(ts, w.t(runtime, grain, p))) for p in ps if p > 1])
    return table(head, rows)


def peer_of(w, forage_runtime, grain, peer_runtime, peer_grain):
    """Does this peer row compare with that forage row?  Same grain, with
    forage's adaptive and static loops paired by kind at grain 0 / auto."""
    if forage_runtime == "forage-sequential":
        return False
    if w.name == "parallel_for" and grain == 0:
        kind = peer_runtime.split("-", 1)[1] if "-" in peer_runtime else ""
        want = {"forage-auto": ("auto", "guided"), "forage-static": ("static",)}
        return peer_grain == 0 and kind in want.get(forage_runtime, ())
    return grain == peer_grain


def ratio_table(w):
    """forage Tp / peer Tp at P = 1 and P = max, one row per pair of a forage
    variant and a peer variant at the same grain (the façade's STEAL
    backend only for the seed: it is the default)."""
    ps = sorted({1, w.pmax} & set(w.threads))
    rows = []
    for fr, fg in w.variants():
        if family(fr) != "forage" or (w.name == "seed" and fr != "forage-steal"):
            continue
        for pr, pg in w.variants():
            if family(pr) not in PEER_FAMILIES or not peer_of(w, fr, fg, pr, pg):
                continue
            cells = [ratio(w.t(fr, fg, q), w.t(pr, pg, q)) for q in ps]
            if any(c is not None for c in cells):
                rows.append([fr, grain_label(w, fg), pr] + [fmt_r(c) for c in cells])
    head = ["forage", "batch" if w.name == "seed" else "grain", "peer"] + [f"P={q}" for q in ps]
    return table(head, rows) if rows else None


def fib_joins(n):
    a, b = 0, 1
    for _ in range(n + 1):
        a, b = b, a + b
    return a - 1


def fib_figures(fib):
    joins = fib_joins(fib.param)
    rows = []
    for r, g in fib.variants():
        ts, t1 = fib.tseq(r), fib.t(r, g, 1)
        ns = (t1 - ts) / joins * 1e9 if t1 is not None and ts else None
        rows.append([r, fmt_t(ts), fmt_t(t1), fmt_r(ns), fmt_r(ratio(t1, ts))])
    return (f"fib({fib.param}): {joins} joins; ns per join = (T1 - Tseq) / joins, each "
            f"against its own binary's twin\n\n"
            + table(["runtime", "Tseq", "T1", "ns/join", "T1/Tseq"], rows))


def speedup_figures(ws):
    """Tseq/Tp at P = nproc of the tree workloads and of the seed at batch
    1000 and auto."""
    rows = []
    for w in ws:
        if w.name not in TREE_WORKLOADS + ("seed",):
            continue
        for r, g in w.variants():
            if w.name == "seed" and (g not in (1000, -1) or r == "forage-sequential"):
                continue
            rows.append([f"{w.name}({w.param})", r, grain_label(w, g) if g else "-",
                         fmt_r(ratio(w.tseq(r), w.t(r, g, w.pmax)))])
    p = max((w.pmax for w in ws), default=1)
    return (f"Tseq/T{p} (speedup on {p} threads)\n\n"
            + table(["workload", "runtime", "batch", f"Tseq/T{p}"], rows)) if rows else None


def grain_figures(w):
    """parallel_for: forage SIMPLE's time and its ratio to the peers' fixed-
    grain schedules at each grain, at P = 1 and nproc."""
    ps = sorted({1, w.pmax} & set(w.threads))
    peers = ("tbb-simple", "gomp-dynamic", "libomp-dynamic")
    head, rows = ["grain"], []
    for q in ps:
        head += [f"forage P={q}"] + [f"/{pr} P={q}" for pr in peers]
    for g in sorted({g for r, g in w.variants() if r == "forage-simple"}):
        row = [str(g)]
        for q in ps:
            mine = w.t("forage-simple", g, q)
            row += [fmt_t(mine)] + [fmt_r(ratio(mine, w.t(pr, g, q))) for pr in peers]
        rows.append(row)
    return (f"parallel_for({w.param}): forage-simple time and forage / peer at each grain"
            f"\n\n" + table(head, rows))


def seed_figures(w):
    """Efficiency Tseq / (P * Tp) at batch 1000 and auto."""
    rows = []
    for r, g in w.variants():
        if g in (1000, -1) and r != "forage-sequential":
            tp, ts = w.t(r, g, w.pmax), w.tseq(r)
            eff = ts / (w.pmax * tp) if tp and ts else None
            rows.append([r, grain_label(w, g), fmt_t(tp), fmt_r(eff)])
    return (f"seed({w.param}): efficiency Tseq/({w.pmax}*T{w.pmax}) at batch 1000 and auto "
            f"(ratio of medians; logs/seed.log gives forage's medians of paired ratios)\n\n"
            + table(["runtime", "batch", f"T{w.pmax}", "efficiency"], rows))


def must_show(ws):
    """The figures of issue 5's closing note, from this one run."""
    out = [fib_figures(w) for w in ws if w.name == "fib"]
    out.append(speedup_figures(ws))
    out += [grain_figures(w) for w in ws if w.name == "parallel_for"]
    out += [seed_figures(w) for w in ws if w.name == "seed"]
    return [part for part in out if part]


COLORS = {"forage": "tab:blue", "gomp": "tab:orange", "libomp": "tab:green", "tbb": "tab:red"}
STYLES = [("-", "o"), ("--", "s"), ("-.", "^"), (":", "D"), ((0, (5, 1)), "v")]


class Styler:
    """One colour per runtime family, one line style per variant in it."""

    def __init__(self):
        self.seen = {}

    def __call__(self, label):
        fam = family(label)
        variants = self.seen.setdefault(fam, [])
        if label not in variants:
            variants.append(label)
        ls, marker = STYLES[variants.index(label) % len(STYLES)]
        return dict(color=COLORS.get(fam, "tab:gray"), linestyle=ls, marker=marker)


# What the speedup plot shows of the loop workloads (all variants of the
# tree workloads): the adaptive schedules and one mid grain / the batch
# size of issue 5's seed figures.
SPEEDUP_PICKS = {
    "parallel_for": {("forage-auto", 0), ("tbb-auto", 0), ("gomp-guided", 0),
                     ("libomp-guided", 0), ("forage-simple", 4096), ("tbb-simple", 4096),
                     ("gomp-dynamic", 4096), ("libomp-dynamic", 4096)},
    "seed": {("forage-steal", 1000), ("forage-steal", -1), ("forage-shared", 1000),
             ("gomp-dynamic", 1000), ("libomp-dynamic", 1000), ("tbb-simple", 1000),
             ("gomp-guided", -1), ("libomp-guided", -1), ("tbb-auto", -1)},
}


def save(fig, out, name):
    path = os.path.join(out, name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt
    plt.close(fig)
    return path


def plot_speedup(ws, out):
    import matplotlib.pyplot as plt
    shown = [w for w in ws if w.name in TREE_WORKLOADS + ("parallel_for", "seed")]
    if not shown:
        return None
    cols = min(3, len(shown))
    rows = (len(shown) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 4 * rows), squeeze=False)
    for ax in axes.flat[len(shown):]:
        ax.set_visible(False)
    for ax, w in zip(axes.flat, shown):
        style, picks = Styler(), SPEEDUP_PICKS.get(w.name)
        for r, g in w.variants():
            if picks is not None and (r, g) not in picks:
                continue
            pts = [(p, ratio(w.tseq(r), w.t(r, g, p))) for p in w.threads]
            pts = [(p, s) for p, s in pts if s is not None]
            label = r if picks is None else f"{r} {grain_label(w, g)}".replace(" -", "")
            ax.plot([p for p, _ in pts], [s for _, s in pts], label=label, **style(label))
        ax.plot(w.threads, w.threads, color="k", linestyle=":", linewidth=1, label="ideal")
        ax.set_title(f"{w.name}({w.param})")
        ax.set_xlabel("threads")
        ax.set_xticks(w.threads)
        ax.set_ylabel("speedup Tseq / Tp")
        ax.legend(fontsize=7)
    return save(fig, out, "speedup.png")


def plot_grain(ws, out):
    import matplotlib.pyplot as plt
    w = next((w for w in ws if w.name == "parallel_for"), None)
    if w is None:
        return None
    fig, axes = plt.subplots(1, len(w.threads), figsize=(6.5 * len(w.threads), 4.5),
                             squeeze=False)
    for ax, p in zip(axes[0], w.threads):
        style = Styler()
        for r in sorted({r for r, g in w.variants() if g > 0}):
            pts = sorted((g, w.t(r, g, p)) for rr, g in w.variants() if rr == r and g > 0)
            pts = [(g, t) for g, t in pts if t is not None]
            ax.plot([g for g, _ in pts], [t * 1e3 for _, t in pts], label=r, **style(r))
        ts = w.tseq("forage")
        if ts:
            ax.axhline(ts * 1e3 / p, color="k", linestyle=":", linewidth=1, label="Tseq / P")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("grain (iterations per chunk, nominal)")
        ax.set_ylabel("time (ms)")
        ax.set_title(f"parallel_for({w.param}), P={p}")
        ax.legend(fontsize=7)
    return save(fig, out, "parallel_for_grain.png")


def plot_seed(ws, out):
    import matplotlib.pyplot as plt
    w = next((w for w in ws if w.name == "seed"), None)
    if w is None:
        return None
    parallel = [(r, g) for r, g in w.variants() if r != "forage-sequential"]
    threads = sorted({p for r, g in parallel for p in w.threads if w.t(r, g, p) is not None})
    batches = sorted({g for r, g in parallel if g > 0})
    xpos = {g: i for i, g in enumerate(batches)}
    xpos[-1] = len(batches)  # "auto" after the fixed sizes
    fig, axes = plt.subplots(1, len(threads), figsize=(7 * len(threads), 4.5), squeeze=False)
    for ax, p in zip(axes[0], threads):
        style = Styler()
        for r in sorted({r for r, g in parallel}):
            pts = sorted((xpos[g], w.t(r, g, p)) for rr, g in parallel if rr == r)
            pts = [(x, t) for x, t in pts if t is not None]
            if pts:
                ax.plot([x for x, _ in pts], [t * 1e3 for _, t in pts], label=r, **style(r))
        ts = w.tseq("forage")
        if ts:
            ax.axhline(ts * 1e3 / p, color="k", linestyle=":", linewidth=1, label="Tseq / P")
        ax.set_xticks(range(len(batches) + 1))
        ax.set_xticklabels([str(b) for b in batches] + ["auto"])
        ax.set_ylim(bottom=0)
        ax.set_xlabel("batch size (tasks per chunk)")
        ax.set_ylabel("time (ms)")
        ax.set_title(f"seed({w.param}), P={p}")
        ax.legend(fontsize=7)
    return save(fig, out, "seed_batch.png")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="results.csv written by matrix.py")
    ap.add_argument("--out", help="where summary.md and the PNGs go (default: beside results)")
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args()
    out = args.out or os.path.dirname(os.path.abspath(args.results))

    data, bad = load(args.results)
    rank = {n: i for i, n in enumerate(ORDER)}
    ws = [Workload(n, p, cells) for (n, p), cells in
          sorted(data.items(), key=lambda kv: (rank.get(kv[0][0], 99), kv[0][1]))]
    parts = []
    machine = os.path.join(os.path.dirname(os.path.abspath(args.results)), "machine.txt")
    if os.path.exists(machine):
        with open(machine) as f:
            parts.append("Machine\n\n```\n" + f.read().strip() + "\n```")
    for w in ws:
        parts.append(f"### {w.name}({w.param}), medians of {w.reps} reps\n\n" + median_table(w))
        rt = ratio_table(w)
        if rt:
            parts.append(f"{w.name}({w.param}): forage Tp / peer Tp at the same grain "
                         f"(below 1: forage faster)\n\n" + rt)
    parts.append("## Issue 5's figures")
    parts += must_show(ws)
    text = "\n\n".join(parts) + "\n"
    print(text)
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)

    if not args.no_plots:
        import matplotlib
        matplotlib.use("Agg")
        for draw in (plot_speedup, plot_grain, plot_seed):
            path = draw(ws, out)
            if path:
                print(f"report: wrote {path}", file=sys.stderr)
    if bad:
        print("report: CHECKSUM DISAGREEMENT:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
