#!/usr/bin/env python3
"""report.py: medians, ratios and plots from a results.csv of matrix.py.

    benchmarks/report.py build/bench/results.csv [--out build/bench] [--keep 1.8] [--no-plots]

Prints (and writes to <out>/summary.md, in Markdown) the figures issue 14
asks for (the fib table against Lace, Rayon, oneTBB and OpenMP; the
per-round capacities and the rounds dropped; forage against Lace and Rayon;
nqueens, UTS, matmul and seed at P = 2 against the best peer; the
parallel_for grain table), then the median table and the forage/peer
ratios per workload and issue 5's figures; draws speedup.png,
parallel_for_grain.png and seed_batch.png into <out>.

Conventions of the CSV (see docs/benchmarks.md): runtime names are
<family>[-<variant>] with family seq, forage, gomp, libomp, tbb, lace or
rayon.  A peer's program times its own sequential twin as seq-<family>
(same compiler, same binary); every ratio against Tseq uses the twin of the
runtime's own binary, "seq" for forage.

Rows with a round (>= 1) come from matrix.py's interleaved rounds: only the
rounds whose capacity is at least --keep (1.8) count, every ratio is taken
within a round (forage and peer, or run and twin, of the same round), and
a figure is the median over the kept rounds, with [min-max] beside it.
Rows of round 0 come from per-program runs (--quick, and the forage-only
extras): medians over their reps, ratios of medians.

Exits 1 if two rows of one workload and size disagree on the checksum.
"""
import argparse
import collections
import os
import statistics
import sys

PEER_FAMILIES = ("gomp", "libomp", "tbb", "lace", "rayon")
RANK = {"forage": 0, "lace": 1, "rayon": 2, "tbb": 3, "gomp": 4, "libomp": 5}
TREE_WORKLOADS = ("fib", "nqueens", "uts", "matmul")
ORDER = ("fib", "nqueens", "uts", "matmul", "parallel_for", "seed", "sort", "scan", "trivial",
         "deque-pushpop", "deque-steal")
# Issue 15: each algorithm's oneTBB counterpart, the goal's reference.
ALGO_PEER = {"sort": "tbb-sort", "scan": "tbb-scan"}
KEEP = 1.8


def family(runtime):
    return runtime.split("-")[0]


def is_forage(runtime):
    return family(runtime) == "forage"


def is_peer(runtime):
    return family(runtime) in PEER_FAMILIES


# ----------------------------------------------------------------- loading


def load(path):
    """The rows of results.csv as dicts; 8-column files (before rounds) read
    as round 0."""
    rows = []
    with open(path) as f:
        header = f.readline().strip().split(",")
        for line in f:
            fields = line.rstrip("\n").split(",")
            if len(fields) != len(header):
                continue
            r = dict(zip(header, fields))
            rows.append({
                "runtime": r["runtime"], "workload": r["workload"], "param": int(r["param"]),
                "grain": int(r["grain"]), "threads": int(r["threads"]), "rep": int(r["rep"]),
                "seconds": float(r["seconds"]), "checksum": r["checksum"],
                "round": int(r.get("round") or 0),
                "capacity": float(r["capacity"]) if r.get("capacity") else None})
    return rows


def load_rounds(results_path, rows):
    """{round: info} from rounds.csv beside results.csv, else from the rows'
    capacity column."""
    info = {}
    path = os.path.join(os.path.dirname(os.path.abspath(results_path)), "rounds.csv")
    if os.path.exists(path):
        with open(path) as f:
            header = f.readline().strip().split(",")
            for line in f:
                r = dict(zip(header, line.strip().split(",")))
                if r.get("round"):
                    info[int(r["round"])] = r
    for row in rows:
        if row["round"] >= 1 and row["round"] not in info:
            info[row["round"]] = {"round": str(row["round"]), "capacity": str(row["capacity"])}
    return info


def checksum_disagreements(rows):
    sums = collections.defaultdict(set)
    for r in rows:
        sums[(r["workload"], r["param"])].add(r["checksum"])
    return [f"{w}({p}): checksums {sorted(s)}" for (w, p), s in sums.items() if len(s) > 1]


# ---------------------------------------------------------------- statistics


class Stat:
    """A figure: the median, and the min and max over rounds (None when it
    is a ratio of medians, from per-program runs)."""

    def __init__(self, values=None, median=None):
        if values:
            self.median, self.lo, self.hi = (statistics.median(values), min(values),
                                             max(values))
            self.n = len(values)
        else:
            self.median, self.lo, self.hi, self.n = median, None, None, 0

    def fmt(self, digits=2):
        if self.median is None:
            return "-"
        text = f"{self.median:.{digits}f}"
        if self.lo is not None and self.n > 1:
            text += f" [{self.lo:.{digits}f}-{self.hi:.{digits}f}]"
        return text


NONE = Stat()


class Workload:
    """The timings of one (workload, param): cells[(runtime, grain,
    threads)] = {round or rep: seconds}.  rounds_mode: the keys are rounds
    and ratios pair within a round."""

    def __init__(self, name, param, cells, rounds_mode):
        self.name, self.param, self.cells, self.rounds_mode = name, param, cells, rounds_mode
        self.threads = sorted({t for (r, g, t) in cells if not r.startswith("seq")})
        self.pmax = max(self.threads) if self.threads else 1
        self.runs = max((len(v) for (r, g, t), v in cells.items() if not r.startswith("seq")),
                        default=0)

    def t(self, runtime, grain, threads):
        v = self.cells.get((runtime, grain, threads))
        return statistics.median(v.values()) if v else None

    def twin_key(self, runtime):
        """The twin of the runtime's own binary: seq-<family>, "seq" for forage."""
        fam = family(runtime)
        for twin in (f"seq-{fam}", "seq"):
            if (twin, 0, 1) in self.cells:
                return (twin, 0, 1)
        return None

    def tseq(self, runtime):
        key = self.twin_key(runtime)
        return self.t(*key) if key else None

    def pair(self, a, b, fn):
        """fn(a, b) per round (rounds mode) or of the medians (per program)."""
        va, vb = self.cells.get(a), self.cells.get(b)
        if not va or not vb:
            return NONE
        if self.rounds_mode:
            values = [fn(va[k], vb[k]) for k in va if k in vb and vb[k] > 0]
            return Stat(values) if values else NONE
        mb = statistics.median(vb.values())
        return Stat(median=fn(statistics.median(va.values()), mb)) if mb > 0 else NONE

    def ratio(self, a, b):
        return self.pair(a, b, lambda x, y: x / y)

    def speedup(self, runtime, grain, p):
        """Tseq / Tp against the runtime's own twin."""
        key = self.twin_key(runtime)
        return self.pair(key, (runtime, grain, p), lambda s, x: s / x) if key else NONE

    def slowdown(self, runtime, grain, p):
        """Tp / Tseq against the runtime's own twin (T1/Tseq at p = 1)."""
        key = self.twin_key(runtime)
        return self.pair((runtime, grain, p), key, lambda x, s: x / s) if key else NONE

    def variants(self):
        """(runtime, grain) of every non-twin row, forage first."""
        keys = {(r, g) for (r, g, t) in self.cells if not r.startswith("seq")}
        return sorted(keys, key=lambda k: (RANK.get(family(k[0]), 9), k[0], k[1]))

    def fastest(self, keys, p):
        """The (runtime, grain) of keys with the lowest median at p."""
        timed = [(self.t(r, g, p), (r, g)) for r, g in keys if self.t(r, g, p) is not None]
        return min(timed)[1] if timed else None


def build_workloads(rows, kept_rounds):
    """Workload objects: rounds data limited to kept_rounds (None: all),
    per-program data (round 0) as they are."""
    groups = collections.defaultdict(list)
    for r in rows:
        groups[(r["workload"], r["param"])].append(r)
    rank = {n: i for i, n in enumerate(ORDER)}
    out = []
    for (name, param), group in sorted(groups.items(),
                                       key=lambda kv: (rank.get(kv[0][0], 99), kv[0][1])):
        rounds_mode = any(r["round"] >= 1 for r in group)
        cells = collections.defaultdict(dict)
        for r in group:
            if rounds_mode:
                if r["round"] < 1 or (kept_rounds is not None and r["round"] not in kept_rounds):
                    continue
                key = r["round"]
            else:
                key = r["rep"]
            cells[(r["runtime"], r["grain"], r["threads"])][key] = r["seconds"]
        if cells:
            w = Workload(name, param, cells, rounds_mode)
            w.unchecked = rounds_mode and kept_rounds is None
            out.append(w)
    return out


# --------------------------------------------------------------- formatting


def fmt_t(x):
    if x is None:
        return "-"
    if x < 1e-3:
        return f"{x * 1e6:.1f} us"
    return f"{x * 1e3:.2f} ms" if x < 1 else f"{x:.3f} s"


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


def bold(text, yes):
    return f"**{text}**" if yes else text


# -------------------------------------------------------- per-workload tables


def median_table(w):
    ps = w.threads
    if w.name.startswith("deque-"):  # one op per param: ns per op, no speedup
        per_op = lambda t: f"{t / w.param * 1e9:.2f}" if t is not None else "-"
        head = ["runtime", "threads", "Tseq", "T", "seq ns/op", "ns/op"]
        rows = [[r, str(p), fmt_t(w.tseq(r)), fmt_t(w.t(r, g, p)), per_op(w.tseq(r)),
                 per_op(w.t(r, g, p))]
                for r, g in w.variants() for p in ps if w.t(r, g, p) is not None]
        return table(head, rows)
    head = (["runtime", "batch" if w.name == "seed" else "grain", "Tseq"]
            + [f"T{p}" for p in ps] + ["T1/Tseq"] + [f"Tseq/T{p}" for p in ps if p > 1])
    rows = []
    for runtime, grain in w.variants():
        rows.append([runtime, grain_label(w, grain), fmt_t(w.tseq(runtime))]
                    + [fmt_t(w.t(runtime, grain, p)) for p in ps]
                    + [w.slowdown(runtime, grain, 1).fmt() if 1 in ps else "-"]
                    + [w.speedup(runtime, grain, p).fmt() for p in ps if p > 1])
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
        if not is_forage(fr) or (w.name == "seed" and fr != "forage-steal"):
            continue
        for pr, pg in w.variants():
            if not is_peer(pr) or not peer_of(w, fr, fg, pr, pg):
                continue
            cells = [w.ratio((fr, fg, q), (pr, pg, q)) for q in ps]
            if any(c.median is not None for c in cells):
                rows.append([fr, grain_label(w, fg), pr] + [c.fmt() for c in cells])
    head = ["forage", "batch" if w.name == "seed" else "grain", "peer"] + [f"P={q}" for q in ps]
    return table(head, rows) if rows else None


# ------------------------------------------------------- issue 14's figures


def fib_joins(n):
    a, b = 0, 1
    for _ in range(n + 1):
        a, b = b, a + b
    return a - 1


def rounds_section(info, keep, kept, rows_in_rounds):
    """Per-round capacities, which rounds count, and how many were dropped."""
    if not info:
        return None
    head = ["round", "capacity", "t_alone (s)", "t_pair (s)", "configurations", "failed",
            "seconds", "used"]
    rows = []
    for rnd in sorted(info):
        r = info[rnd]
        alone = [float(r[k]) for k in ("t_alone_1", "t_alone_2") if r.get(k)]
        pair = [float(r[k]) for k in ("t_pair_a", "t_pair_b") if r.get(k)]
        checks = "/".join(r[k] for k in ("capacity_before", "capacity_after") if r.get(k))
        rows.append([str(rnd), r.get("capacity", "-") + (f" ({checks})" if checks else ""),
                     "/".join(f"{x:.3f}" for x in alone) or "-",
                     "/".join(f"{x:.3f}" for x in pair) or "-",
                     r.get("configs", "-"), r.get("failed", "-"), r.get("seconds", "-"),
                     "yes" if rnd in kept else "dropped"])
    dropped = len(info) - len(kept)
    seed = next((r.get("seed") for r in info.values() if r.get("seed")), None)
    text = (f"{len(info)} interleaved rounds"
            + (f" (shuffle seed {seed})" if seed else "")
            + f"; capacity = 2 * t_alone / t_pair of forage's sequential fib twin run alone "
            f"(before and after) and as two copies at once (2.0: two real cores); a round's "
            f"capacity is the lower of the checks before and after it (shown in brackets "
            f"where both ran).\n"
            f"**Dropped {dropped} of {len(info)} rounds** (capacity < {keep}); the figures "
            + (f"below use the {len(kept)} kept rounds" if kept else "below use all rounds")
            + ": medians over them, every ratio taken within a round, [min-max] over the "
            "rounds used.\n\n" + table(head, rows))
    if not kept and rows_in_rounds:
        text += ("\n\n**No round reached the capacity threshold: the figures below use ALL "
                 "rounds and are not capacity-checked.**")
    return text


def how(w):
    """How a workload's figures were taken, for the tables' captions."""
    if w.rounds_mode:
        rounds = (f"{w.runs} rounds, NONE capacity-checked" if w.unchecked
                  else f"{w.runs} kept rounds")
        return f"one interleaved run ({rounds}; ratios within each round, median [min-max])"
    return f"per-program runs ({w.runs} reps; ratios of medians; NOT capacity-checked)"


def main_of(ws):
    """The workload whose way of measuring speaks for the run: a rounds one
    if any (the extras are per-program even in a rounds run)."""
    return next((w for w in ws if w.rounds_mode), ws[0])


def fib_section(w):
    """Every runtime on fib: Tseq, T1, T2, T1/Tseq, Tseq/T2, ns per join, and
    the ratios to Lace and to Rayon at T1 and T2."""
    joins = fib_joins(w.param)
    ps = [p for p in (1, 2) if p in w.threads]
    forage = [(r, g) for r, g in w.variants() if is_forage(r)]
    fastest = {p: w.fastest(forage, p) for p in ps}
    refs = [("lace", 0), ("rayon", 0)]
    head = (["runtime", "Tseq"] + [f"T{p}" for p in ps] + ["T1/Tseq", "ns/join"]
            + [f"Tseq/T{p}" for p in ps if p > 1]
            + [f"T{p} / {ref} T{p}" for ref, _ in refs for p in ps])
    rows = []
    for r, g in w.variants():
        marks = [f"T{p}" for p in ps if fastest[p] == (r, g)]
        name = bold(r, bool(marks)) + (f" (fastest forage at {', '.join(marks)})" if marks else "")
        key = w.twin_key(r)
        ns = (w.pair((r, g, 1), key, lambda t1, ts: (t1 - ts) / joins * 1e9)
              if key and 1 in ps else NONE)
        rows.append([name, fmt_t(w.tseq(r))] + [fmt_t(w.t(r, g, p)) for p in ps]
                    + [w.slowdown(r, g, 1).fmt() if 1 in ps else "-", ns.fmt(1)]
                    + [w.speedup(r, g, p).fmt() for p in ps if p > 1]
                    + [w.ratio((r, g, p), (ref, rg, p)).fmt() for ref, rg in refs for p in ps])
    return (f"### fib({w.param}): every runtime, {how(w)}\n\n"
            f"{joins:,} joins, no cutoff. T1/Tseq and ns/join = (T1 - Tseq) / joins use each "
            f"runtime's own binary's twin; \"/ lace\" and \"/ rayon\" are that runtime's time "
            f"over Lace's and Rayon's (below 1: faster). Bold: forage's fastest variant.\n\n"
            + table(head, rows))


def against_lace_rayon(ws):
    """Every forage variant over Lace and over Rayon, per workload, grain and
    P; at a grain, against the Lace run of that grain and the faster of
    Rayon's variants there (named)."""
    rows = []
    for w in ws:
        if w.name not in TREE_WORKLOADS + ("parallel_for", "seed"):
            continue
        peers = [(r, g) for r, g in w.variants() if family(r) in ("lace", "rayon")]
        if not peers:
            continue
        forage = [(r, g) for r, g in w.variants() if is_forage(r) and r != "forage-sequential"]
        for fr, fg in forage:
            for p in [p for p in (1, 2) if p in w.threads]:
                if w.t(fr, fg, p) is None:
                    continue
                mine = w.fastest([(r, g) for r, g in forage if g == fg], p)
                cells = []
                for fam in ("lace", "rayon"):
                    same = [(r, g) for r, g in peers if family(r) == fam and g == fg]
                    best = w.fastest(same, p)
                    if best is None:
                        cells.append("-")
                        continue
                    label = "" if best[0] == fam else f" ({best[0]})"
                    cells.append(w.ratio((fr, fg, p), (best[0], best[1], p)).fmt() + label)
                if any(c != "-" for c in cells):
                    rows.append([f"{w.name}({w.param})", bold(fr, mine == (fr, fg)),
                                 grain_label(w, fg), str(p), fmt_t(w.t(fr, fg, p))] + cells)
    if not rows:
        return None
    return ("### forage against Lace and Rayon\n\n"
            "forage's time over the peer's (below 1: forage faster), at the same grain or "
            "batch size; for Rayon the faster of its variants at that grain; bold: forage's "
            "fastest variant at that grain and P; "
            f"{how(main_of(ws))}.\n\n"
            + table(["workload", "forage", "grain", "P", "forage T", "/ lace", "/ rayon"], rows))


def best_peer_section(ws, p=2):
    """nqueens, UTS, matmul and seed at P = p: every forage variant against
    the best peer configuration (lowest median Tp of any peer variant, any
    batch size)."""
    parts = []
    for w in ws:
        if w.name not in ("nqueens", "uts", "matmul", "seed") or p not in w.threads:
            continue
        peers = [(r, g) for r, g in w.variants() if is_peer(r)]
        forage = [(r, g) for r, g in w.variants()
                  if is_forage(r) and w.t(r, g, p) is not None]
        best = w.fastest(peers, p)
        if best is None or not forage:
            continue
        mine = w.fastest(forage, p)
        rows = []
        for r, g in forage:
            st = w.ratio((r, g, p), (best[0], best[1], p))
            verdict = ("-" if st.median is None else "ahead" if st.median <= 1.0
                       else "within 5%" if st.median <= 1.05 else "behind")
            rows.append([bold(r, (r, g) == mine), grain_label(w, g), fmt_t(w.t(r, g, p)),
                         w.speedup(r, g, p).fmt(), st.fmt(), verdict])
        parts.append(
            f"{w.name}({w.param}) at P={p}: best peer **{best[0]}**"
            + (f" at {'batch' if w.name == 'seed' else 'grain'} {grain_label(w, best[1])}"
               if best[1] else "")
            + f", T{p} {fmt_t(w.t(best[0], best[1], p))}, Tseq/T{p} "
            f"{w.speedup(best[0], best[1], p).fmt()}\n\n"
            + table(["forage", "batch" if w.name == "seed" else "grain", f"T{p}",
                     f"Tseq/T{p}", "forage / best peer", "goal (<= 1.05)"], rows))
    if not parts:
        return None
    return (f"### nqueens, UTS, matmul and seed at P={p} against the best peer\n\n"
            f"Best peer: the peer configuration (any runtime, variant and batch size) with the "
            f"lowest median T{p}; \"forage / best peer\": {how(main_of(ws))}. Bold: "
            f"forage's fastest variant.\n\n" + "\n\n".join(parts))


GRAIN_PEERS = ("gomp-dynamic", "tbb-simple")
GRAIN_OTHERS = ("libomp-dynamic", "lace", "rayon-chunks", "rayon-minlen")


def grain_section(w):
    """parallel_for at each grain, P = 1 and 2: every forage variant with a
    grain, libgomp dynamic and oneTBB simple (the goal's peers), the others
    for reference, and forage's fastest over each of the two."""
    forage = sorted({r for r, g in w.variants() if is_forage(r) and g > 0})
    parts = []
    for p in [p for p in (1, 2) if p in w.threads]:
        head = (["grain"] + forage + list(GRAIN_PEERS)
                + [f"fastest forage / {pr}" for pr in GRAIN_PEERS]
                + [r for r in GRAIN_OTHERS if any(rr == r for rr, g in w.variants())])
        rows = []
        for g in sorted({g for r, g in w.variants() if r in forage}):
            best = w.fastest([(r, g) for r in forage], p)
            row = [str(g)]
            row += [bold(fmt_t(w.t(r, g, p)), best == (r, g)) for r in forage]
            row += [fmt_t(w.t(pr, g, p)) for pr in GRAIN_PEERS]
            row += [w.ratio((best[0], g, p), (pr, g, p)).fmt() if best else "-"
                    for pr in GRAIN_PEERS]
            row += [fmt_t(w.t(r, g, p)) for r in GRAIN_OTHERS
                    if any(rr == r for rr, gg in w.variants())]
            rows.append(row)
        parts.append(f"P={p}:\n\n" + table(head, rows))
    return (f"### parallel_for({w.param}): the grain table\n\n"
            f"Median times at each nominal grain; bold: forage's fastest variant there; the "
            f"ratios (below 1: forage faster): {how(w)}. Chunks at grain G: "
            f"forage SIMPLE, forage-inline and Lace G..2G-1 iterations, libgomp dynamic and rayon-chunks "
            f"exactly G, oneTBB simple G/2..G, rayon-minlen at least G (adaptive).\n\n"
            + "\n\n".join(parts))


def issue14(ws, info, keep, kept):
    out = ["## Issue 14's figures"]
    out.append(rounds_section(info, keep, kept, any(w.rounds_mode for w in ws)))
    out += [fib_section(w) for w in ws if w.name == "fib"]
    out.append(against_lace_rayon(ws))
    out.append(best_peer_section(ws))
    out += [grain_section(w) for w in ws if w.name == "parallel_for"]
    return [part for part in out if part]


# ------------------------------------------------------ issue 15's figures


def algo_section(w):
    """sort or scan: every runtime at P = 1 and 2 (and the max), its twin,
    and each forage variant over oneTBB's parallel_sort / parallel_scan."""
    ps = sorted({1, 2, w.pmax} & set(w.threads))
    peer = ALGO_PEER[w.name]
    rows = []
    for r, g in w.variants():
        rows.append([r, fmt_t(w.tseq(r))] + [fmt_t(w.t(r, g, p)) for p in ps]
                    + [w.speedup(r, g, p).fmt() for p in ps if p > 1]
                    + [w.ratio((r, g, p), (peer, 0, p)).fmt() if is_forage(r) else "-"
                       for p in ps])
    head = (["runtime", "Tseq (own twin)"] + [f"T{p}" for p in ps]
            + [f"Tseq/T{p}" for p in ps if p > 1] + [f"/ {peer} P={p}" for p in ps])
    twins = ", ".join(f"{k[0]} {fmt_t(w.t(*k))}" for k in sorted(w.cells) if k[0].startswith("seq"))
    what = (f"sorting {w.param} doubles: forage's twin is glibc qsort, oneTBB's std::sort"
            if w.name == "sort" else "inclusive prefix sum of 64-bit integers")
    return (f"### {w.name}({w.param}) against oneTBB\n\n{what}; twins: {twins}. The last "
            f"columns are forage / {peer} at the same P ({how(w)}; below 1: forage faster)."
            f"\n\n" + table(head, rows))


def issue15(ws):
    parts = [algo_section(w) for w in ws if w.name in ALGO_PEER]
    return ["## Issue 15's figures: scan and sort"] + parts if parts else []


# -------------------------------------------------------- issue 5's figures


def fib_figures(fib):
    joins = fib_joins(fib.param)
    rows = []
    for r, g in fib.variants():
        key = fib.twin_key(r)
        ns = fib.pair((r, g, 1), key, lambda t1, ts: (t1 - ts) / joins * 1e9) if key else NONE
        rows.append([r, fmt_t(fib.tseq(r)), fmt_t(fib.t(r, g, 1)), ns.fmt(2),
                     fib.slowdown(r, g, 1).fmt()])
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
                         w.speedup(r, g, w.pmax).fmt()])
    p = max((w.pmax for w in ws), default=1)
    return (f"Tseq/T{p} (speedup on {p} threads)\n\n"
            + table(["workload", "runtime", "batch", f"Tseq/T{p}"], rows)) if rows else None


def seed_figures(w):
    """Efficiency Tseq / (P * Tp) at batch 1000 and auto."""
    rows, p = [], w.pmax
    for r, g in w.variants():
        if g in (1000, -1) and r != "forage-sequential":
            key = w.twin_key(r)
            eff = w.pair(key, (r, g, p), lambda s, x: s / (p * x)) if key else NONE
            rows.append([r, grain_label(w, g), fmt_t(w.t(r, g, p)), eff.fmt()])
    return (f"seed({w.param}): efficiency Tseq/({p}*T{p}) at batch 1000 and auto\n\n"
            + table(["runtime", "batch", f"T{p}", "efficiency"], rows))


def issue5(ws):
    out = ["## Issue 5's figures"]
    out += [fib_figures(w) for w in ws if w.name == "fib"]
    out.append(speedup_figures(ws))
    out += [seed_figures(w) for w in ws if w.name == "seed"]
    return [part for part in out if part]


# -------------------------------------------------------------------- plots

COLORS = {"forage": "tab:blue", "gomp": "tab:orange", "libomp": "tab:green", "tbb": "tab:red",
          "lace": "tab:purple", "rayon": "tab:brown"}
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
                     ("gomp-dynamic", 4096), ("libomp-dynamic", 4096), ("lace", 4096),
                     ("rayon-chunks", 4096)},
    "seed": {("forage-steal", 1000), ("forage-steal", -1), ("forage-shared", 1000),
             ("gomp-dynamic", 1000), ("libomp-dynamic", 1000), ("tbb-simple", 1000),
             ("gomp-guided", -1), ("libomp-guided", -1), ("tbb-auto", -1), ("lace", 1000),
             ("rayon-chunks", 1000), ("rayon-auto", -1)},
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
            pts = [(p, w.speedup(r, g, p).median) for p in w.threads]
            pts = [(p, s) for p, s in pts if s is not None]
            label = r if picks is None else f"{r} {grain_label(w, g)}".replace(" -", "")
            ax.plot([p for p, _ in pts], [s for _, s in pts], label=label, **style(label))
        ax.plot(w.threads, w.threads, color="k", linestyle=":", linewidth=1, label="ideal")
        ax.set_title(f"{w.name}({w.param})")
        ax.set_xlabel("threads")
        ax.set_xticks(w.threads)
        ax.set_ylabel("speedup Tseq / Tp")
        ax.legend(fontsize=6)
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
        ax.legend(fontsize=6)
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
        ax.legend(fontsize=6)
    return save(fig, out, "seed_batch.png")


# --------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="results.csv written by matrix.py")
    ap.add_argument("--out", help="where summary.md and the PNGs go (default: beside results)")
    ap.add_argument("--keep", type=float, default=KEEP,
                    help=f"use the rounds with at least this capacity (default {KEEP})")
    ap.add_argument("--no-plots", action="store_true")
    args = ap.parse_args()
    out = args.out or os.path.dirname(os.path.abspath(args.results))

    rows = load(args.results)
    info = load_rounds(args.results, rows)
    kept = {rnd for rnd, r in info.items()
            if r.get("capacity") not in (None, "", "None") and float(r["capacity"]) >= args.keep}
    ws = build_workloads(rows, kept if kept else None)
    parts = []
    machine = os.path.join(os.path.dirname(os.path.abspath(args.results)), "machine.txt")
    if os.path.exists(machine):
        with open(machine) as f:
            parts.append("Machine\n\n```\n" + f.read().strip() + "\n```")
    parts += issue14(ws, info, args.keep, kept)
    parts += issue15(ws)
    parts.append("## Per workload")
    for w in ws:
        runs = (f"medians of {w.runs} {'unchecked' if w.unchecked else 'kept'} rounds"
                if w.rounds_mode
                else f"medians of {w.runs} reps (per-program run, not capacity-checked)")
        parts.append(f"### {w.name}({w.param}), {runs}\n\n" + median_table(w))
        rt = ratio_table(w)
        if rt:
            parts.append(f"{w.name}({w.param}): forage Tp / peer Tp at the same grain "
                         f"(below 1: forage faster)\n\n" + rt)
    parts += issue5(ws)
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
    bad = checksum_disagreements(rows)
    if bad:
        print("report: CHECKSUM DISAGREEMENT:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
