#!/usr/bin/env python3
"""matrix.py: run the benchmark programs of a build, forage's and the
peers', and collect their CSV lines into one results.csv.

    benchmarks/matrix.py --build build-bench --out build/bench              # rounds
    benchmarks/matrix.py --build build-bench --out build/bench/quick --quick
    benchmarks/matrix.py --build build-bench --out DIR --quick --rounds 2   # short rounds

Two ways to run:

Interleaved rounds (the default; with --quick only when --rounds is given).
Every configuration (program x variant x grain x thread count, and each
program's sequential twin) is one process that runs one untimed warm-up and
one timed rep.  A round runs every configuration once, in an order shuffled
by a seeded generator (--seed, printed and kept in machine.txt), so that
the host's drift over minutes hits every runtime alike.  Before each round,
and once after the last, a capacity check times forage's sequential fib
twin alone, then two copies at once: capacity = 2 * t_alone / t_pair (2.0:
two real cores' worth).  A round's capacity is the lower of the checks
before and after it, since the host's capacity drifts during a round's
minutes.  results.csv gets the round and its capacity on every line,
rounds.csv one line per round (with both checks); report.py keeps only
the rounds with capacity >= 1.8 and takes every ratio within a round.  Rounds continue until --rounds are done
or the next one would end after --minutes.  Before the first round, each
program's twin runs once to give the checksum the timed processes check
against (--expect); warm-ups still check against their own twin.  After the
rounds, the forage-only microbenchmarks (trivial, deque) run as programs.

Per program (--quick, or --per-program): each program once, all its
variants at threads 1..nproc (seed and trivial: nproc only), --reps timed
reps (5; --quick: 1, at tiny sizes), as before rounds existed.  --quick
also checks the disassembly the benchmarks rely on (check_disassembly):
fib_seq makes two real recursive calls and my_task stays a scalar loop, in
every binary, and every matmul program has the same 64-byte aligned
mm_leaf.

A program exits nonzero when a checksum differs from its twin's; the
matrix carries on, lists the failures and exits 1.  Program stderr goes to
<out>/logs/<program>.log.
"""
import argparse
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import time

HEADER = "runtime,workload,param,grain,threads,rep,seconds,checksum,round,capacity"
PEERS = ("gomp", "libomp", "tbb", "lace", "rayon")
PROCESS_TIMEOUT = 900  # seconds: a hung program fails its configuration

# workload: (--n for the full run, --n for --quick, which thread counts).
# Full sizes: fib(38), the 40000-task seed and 10^7 parallel_for iterations
# are issue 5's; UTS and matmul are sized for 0.2-1 s sequential here.
WORKLOADS = {
    "fib": (38, 22, "all"),
    "nqueens": (13, 9, "all"),
    "uts": (2000, 20, "all"),
    "matmul": (1024, 128, "all"),
    "parallel_for": (10_000_000, 100_003, "all"),
    # The seed's figures of merit are at P = nproc (efficiency Tseq/(P*Tp));
    # forage alone runs 30 configurations there, so P = 1 is left out.
    "seed": (40_000, 3_000, "max"),
    # Issue 15's algorithms: 10^7 doubles sorted, a prefix sum of 10^7
    # integers; peers: oneTBB (and std::execution::par on it), glibc qsort
    # as sort's twin.
    "sort": (10_000_000, 100_003, "all"),
    "scan": (10_000_000, 100_003, "all"),
    # forage only, run as programs after the rounds: the façade's own cost
    # (--n is the seed's; the program derives its sizes) and the deque
    # microbenchmarks (fixed thread counts inside the program).
    "trivial": (40_000, 3_000, "max"),
    "deque": (10_000_000, 100_000, None),
}
EXTRAS = ("trivial", "deque")  # no peers, no twin per configuration: not in rounds

# Extra runs of forage's own program under an environment, to compare pool
# settings in the same matrix: (suffix, environment).  Their forage rows are
# renamed runtime-suffix (forage-split, forage-join-split, ...); their
# sequential-twin rows are dropped (the first run's stand).
SPLIT = ("split", {"FORAGE_DEQUE": "split"})
VARIANTS = {"fib": [SPLIT], "nqueens": [SPLIT], "uts": [SPLIT], "matmul": [SPLIT]}

# The capacity check's kernel: forage's fib twin at this n (full, quick),
# about 0.2 s (full) on one core here.
CAPACITY_N = (37, 32)
CAPACITY_KEEP = 1.8  # report.py's threshold, printed here for the log

# The full run: a round takes about 2.5 minutes on 2 cores (fib(38) on the
# OpenMP and oneTBB peers is over half of it), so 7 rounds fit in 19 minutes
# with the checksum pass and the extras, and the build in the 20 the issue
# allows; a slower machine gets fewer rounds (--minutes).  sort and scan
# (issue 15) add about 25 s per round (sorting 10^7 doubles with qsort,
# the twin, is the longest), so --minutes may cut the last round.
ROUNDS = 7
MINUTES = 19


def cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def programs_of(build, workload):
    """forage's program first, then the peers that were built."""
    names = [workload] if workload in EXTRAS else [workload] + [f"{workload}-{p}" for p in PEERS]
    found, skipped = [], []
    for name in names:
        path = os.path.join(build, "benchmarks", name)
        (found if os.access(path, os.X_OK) else skipped).append((name, path))
    return found, skipped


def check_rows(name, text):
    """The CSV lines of one program, checked for shape; raises ValueError."""
    rows = []
    for line in text.splitlines():
        if not line or line == HEADER.rsplit(",", 2)[0]:
            continue
        fields = line.split(",")
        if len(fields) != 8:
            raise ValueError(f"{name}: malformed CSV line {line!r}")
        float(fields[6])
        rows.append(line)
    if not rows:
        raise ValueError(f"{name}: no CSV lines")
    return rows


def run_program(name, path, args, logdir, env=None):
    """(rows, seconds) of one program, or raises RuntimeError."""
    log_path = os.path.join(logdir, name + ".log")
    t0 = time.monotonic()
    with open(log_path, "a") as log:
        log.write(f"$ {' '.join([path] + args)}\n")
        log.flush()
        try:
            proc = subprocess.run([path] + args, stdout=subprocess.PIPE, stderr=log, text=True,
                                  env=None if env is None else {**os.environ, **env},
                                  timeout=PROCESS_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"{name} {' '.join(args)}: no end after {PROCESS_TIMEOUT} s")
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        with open(log_path) as log:
            tail = log.read()[-2000:]
        raise RuntimeError(f"{name} {' '.join(args)} exited {proc.returncode}:\n{tail}")
    return check_rows(name, proc.stdout), elapsed


def rename_variant(row, suffix):
    runtime, rest = row.split(",", 1)
    return f"{runtime}-{suffix},{rest}"


def thread_counts(spec, nproc):
    return list(range(1, nproc + 1)) if spec == "all" else [nproc]


# ---------------------------------------------------------------- per program


def run_per_program(args, only, nproc, reps, log):
    """Each program once with all its variants (the --quick matrix)."""
    failures, rows = [], []
    for workload in only:
        full_n, quick_n, threads = WORKLOADS[workload]
        found, skipped = programs_of(args.build, workload)
        if not found or found[0][0] != workload:
            failures.append(f"{workload}: forage's program is not built")
            continue
        for name, _ in skipped:
            log(f"{name}: not built (peer missing), skipped")
        prog_args = ["--reps", str(reps), "--n", str(quick_n if args.quick else full_n),
                     "--no-header"]
        if threads is not None:
            prog_args += ["--threads", ",".join(map(str, thread_counts(threads, nproc)))]
        runs = [(name, path, None, None) for name, path in found]
        runs[1:1] = [(f"{workload}-{suffix}", found[0][1], suffix, env)
                     for suffix, env in VARIANTS.get(workload, [])]
        for name, path, suffix, env in runs:
            try:
                got, elapsed = run_program(name, path, prog_args, args.logdir, env)
            except (RuntimeError, ValueError) as e:
                failures.append(str(e))
                log(f"FAILED {e}")
                continue
            if suffix is not None:
                got = [rename_variant(r, suffix) for r in got if not r.startswith("seq")]
            rows += [r + ",0," for r in got]
            log(f"{name:<20} {len(got):4d} rows {elapsed:7.1f} s")
    return rows, failures


# --------------------------------------------------------------------- rounds


class Config:
    """One process of a round: a program's twin, or one variant at one grain
    and thread count (under an environment, renamed with a suffix)."""

    def __init__(self, workload, name, path, n, runtime, grain=None, threads=None, env=None,
                 suffix=None, twin=False):
        self.workload, self.name, self.path, self.n = workload, name, path, n
        self.runtime, self.grain, self.threads = runtime, grain, threads
        self.env, self.suffix, self.twin = env, suffix, twin
        self.expect = None  # the twin's checksum, from the checksum pass

    def args(self):
        a = ["--reps", "1", "--n", str(self.n), "--no-header", "--variant", self.runtime]
        if not self.twin:
            a += ["--grain", str(self.grain), "--threads", str(self.threads)]
        return a + ["--expect", str(self.expect)]

    def label(self):
        shown = self.runtime + (f"-{self.suffix}" if self.suffix else "")
        return (f"{self.name}: {shown}" if self.twin else
                f"{self.name}: {shown} grain {self.grain} P={self.threads}")


def list_configs(name, path):
    """(twin runtime, [(runtime, grain, fixed threads)]) from --list."""
    out = subprocess.run([path, "--list"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, timeout=60)
    if out.returncode != 0:
        raise RuntimeError(f"{name} --list exited {out.returncode}: {out.stderr.strip()}")
    entries = [line.split(",") for line in out.stdout.split()]
    if not entries or any(len(e) != 3 for e in entries):
        raise RuntimeError(f"{name} --list: unexpected output {out.stdout!r}")
    return entries[0][0], [(r, int(g), int(t)) for r, g, t in entries[1:]]


def build_configs(args, only, nproc, log):
    """Every configuration of the rounds, twins first per program, and the
    failures met on the way."""
    configs, failures = [], []
    for workload in only:
        if workload in EXTRAS:
            continue
        full_n, quick_n, threads = WORKLOADS[workload]
        n = quick_n if args.quick else full_n
        found, skipped = programs_of(args.build, workload)
        if not found or found[0][0] != workload:
            failures.append(f"{workload}: forage's program is not built")
            continue
        for name, _ in skipped:
            log(f"{name}: not built (peer missing), skipped")
        for i, (name, path) in enumerate(found):
            try:
                twin, variants = list_configs(name, path)
            except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
                failures.append(str(e))
                continue
            envs = [(None, None)] + (VARIANTS.get(workload, []) if i == 0 else [])
            mine = [Config(workload, name, path, n, twin, twin=True)]
            for suffix, env in envs:
                for runtime, grain, fixed in variants:
                    for p in [fixed] if fixed else thread_counts(threads, nproc):
                        mine.append(Config(workload, name, path, n, runtime, grain, p, env,
                                           suffix))
            configs += mine
    return configs, failures


def checksum_pass(configs, logdir, log):
    """Each program's twin once: the checksum its configurations check
    against.  Returns the failures; drops the configurations of a program
    whose twin failed."""
    failures, sums = [], {}
    for c in [c for c in configs if c.twin]:
        a = ["--reps", "1", "--n", str(c.n), "--no-header", "--variant", c.runtime]
        try:
            rows, _ = run_program(c.name, c.path, a, logdir)
            sums[c.path] = rows[-1].split(",")[7]
        except (RuntimeError, ValueError) as e:
            failures.append(str(e))
            log(f"FAILED {e}")
    for c in configs:
        c.expect = sums.get(c.path)
    kept = [c for c in configs if c.expect is not None]
    per_workload = {}
    for c in kept:
        per_workload.setdefault(c.workload, set()).add(c.expect)
    for w, s in per_workload.items():
        if len(s) > 1:
            failures.append(f"{w}: the programs' twins disagree on the checksum: {sorted(s)}")
    return kept, failures


def fib_value(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def capacity_check(build, n):
    """(capacity, t_alone_1, t_pair_a, t_pair_b, t_alone_2) with forage's
    fib twin in build (capacity_of)."""
    cmd = [os.path.join(build, "benchmarks", "fib"), "--variant", "seq", "--reps", "1",
           "--n", str(n), "--no-header", "--expect", str(fib_value(n))]
    return capacity_of(cmd)


def capacity_of(cmd):
    """(capacity, t_alone_1, t_pair_a, t_pair_b, t_alone_2): cmd, a
    sequential driver run printing one CSV row, alone, two copies at once,
    alone again; capacity = 2 * mean(alone) / max(pair).  Each time is the
    program's own (the timed twin only).  sim/validate.py uses it too."""

    def seconds(text):
        return float(check_rows("capacity", text)[-1].split(",")[6])

    def alone():
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             check=True, timeout=PROCESS_TIMEOUT)
        return seconds(out.stdout)

    a1 = alone()
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=PROCESS_TIMEOUT)[0] for p in procs]
    if any(p.returncode != 0 for p in procs):
        raise RuntimeError("capacity check: %s failed" % os.path.basename(cmd[0]))
    pa, pb = (seconds(o) for o in outs)
    a2 = alone()
    t_alone = (a1 + a2) / 2
    return 2 * t_alone / max(pa, pb), a1, pa, pb, a2


def run_rounds(args, only, nproc, log):
    """The interleaved rounds; (rows, failures).  Also writes rounds.csv."""
    if all(w in EXTRAS for w in only):
        return [], []
    configs, failures = build_configs(args, only, nproc, log)
    configs, more = checksum_pass(configs, args.logdir, log)
    failures += more
    if not configs:
        return [], failures + ["no configuration to run"]
    cap_n = CAPACITY_N[1] if args.quick else CAPACITY_N[0]
    rng = random.Random(args.seed)
    log(f"{len(configs)} configurations per round, shuffle seed {args.seed}, "
        f"capacity check fib_seq({cap_n}); rounds with capacity >= {CAPACITY_KEEP} are kept")
    rows, longest = [], 0.0
    rounds_csv = open(os.path.join(args.out, "rounds.csv"), "w")
    rounds_csv.write("round,seed,capacity,capacity_before,capacity_after,t_alone_1,t_pair_a,"
                     "t_pair_b,t_alone_2,configs,failed,seconds\n")
    ran = None  # the last round, waiting for the check after it

    def check(label):
        try:
            return capacity_check(args.build, cap_n)
        except (RuntimeError, ValueError, OSError, subprocess.SubprocessError) as e:
            failures.append(f"{label}: capacity check failed: {e}")
            return None

    def finish(after):
        """Round `ran` gets capacity min(before, after): the host's capacity
        drifts within a round's minutes, and one check misses a slump."""
        rnd, (before, a1, pa, pb, a2), got, n, failed, took = ran
        cap = min(before, after[0]) if after else before
        rows.extend(f"{r},{rnd},{cap:.3f}" for r in got)
        after_s = f"{after[0]:.3f}" if after else ""
        rounds_csv.write(f"{rnd},{args.seed},{cap:.3f},{before:.3f},{after_s},{a1:.6f},"
                         f"{pa:.6f},{pb:.6f},{a2:.6f},{n},{failed},{took:.1f}\n")
        rounds_csv.flush()
        verdict = "kept" if cap >= CAPACITY_KEEP else "to be dropped"
        log(f"round {rnd}: capacity {cap:.2f} (before {before:.2f}, after "
            f"{after_s or 'not checked'}; {verdict})")

    for rnd in range(1, args.rounds + 1):
        elapsed = time.monotonic() - args.started
        if rnd > 1 and elapsed + longest > args.minutes * 60:
            log(f"stopping after {rnd - 1} rounds: round {rnd} would end after "
                f"{args.minutes} minutes (--minutes)")
            break
        t0 = time.monotonic()
        cap = check(f"round {rnd}")
        if ran is not None:
            finish(cap)
            ran = None
        if cap is None:
            break
        order = configs[:]
        rng.shuffle(order)
        failed, got = 0, []
        for c in order:
            try:
                out, _ = run_program(c.name, c.path, c.args(), args.logdir, c.env)
            except (RuntimeError, ValueError) as e:
                failures.append(f"round {rnd}: {e}")
                log(f"FAILED round {rnd}: {c.label()}: {str(e).splitlines()[0]}")
                failed += 1
                continue
            if c.suffix is not None:
                out = [rename_variant(r, c.suffix) for r in out]
            got += out
        took = time.monotonic() - t0
        longest = max(longest, took)
        log(f"round {rnd}/{args.rounds}: capacity before {cap[0]:.2f} (alone {cap[1]:.3f}/"
            f"{cap[4]:.3f} s, pair {cap[2]:.3f}/{cap[3]:.3f} s), {len(order)} configurations, "
            f"{failed} failed, {took:.0f} s")
        ran = (rnd, cap, got, len(order), failed, took)
    if ran is not None:
        finish(check("after the last round"))
    rounds_csv.close()
    return rows, failures


# ------------------------------------------------------------- disassembly


def disassembly(path):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "--demangle", path],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return out.stdout


# A function's name in the disassembly: the C name, whatever suffix gcc's
# cloning (fib_seq.constprop.0.isra.0) or C++ (my_task(unsigned long))
# added, or a Rust path ending in it (fib_rayon::fib::fib_seq).
def name_pattern(name):
    return r"(?:[\w:]+::)?%s(?:[.( ][^>]*)?" % re.escape(name)


def function_body(asm, name):
    """The instruction lines of function `name`; None if absent."""
    m = re.search(r"^[0-9a-f]+ <%s>:\n(.*?)(?:\n\n|\Z)" % name_pattern(name), asm, re.S | re.M)
    return m.group(1).splitlines() if m else None


def backward_branches(body):
    """Jumps to an earlier address inside the function: loops."""
    start = int(body[0].split(":")[0], 16)
    count = 0
    for line in body:
        m = re.match(r"\s*([0-9a-f]+):\s+j[a-z]+\s+([0-9a-f]+)\b", line)
        if m and start <= int(m.group(2), 16) < int(m.group(1), 16):
            count += 1
    return count


def check_function(name, func, body):
    """A failure message, or None."""
    if body is None:
        return f"{name}: no function {func} in the disassembly"
    if func == "fib_seq":
        calls = sum(1 for line in body
                    if re.search(r"\bcall\s+[0-9a-f]+ <%s>" % name_pattern("fib_seq"), line))
        return None if calls == 2 else f"{name}: fib_seq makes {calls} recursive calls, not 2"
    loops = backward_branches(body)
    vector = sum(1 for line in body if re.search(r"%[xyz]mm", line))
    if loops == 0 or vector:
        return (f"{name}: my_task is not a scalar loop "
                f"({loops} backward branches, {vector} vector instructions)")
    return None


def instructions(body):
    """A function's instructions without addresses: jump and call targets
    become offsets from the function's start, so that the same object code
    placed at another address reads the same."""
    start = int(body[0].split(":")[0], 16)
    out = []
    for line in body:
        parts = line.split(":", 1)
        if len(parts) < 2 or not parts[1].strip():
            continue
        insn = re.sub(r"\s+", " ", parts[1].strip())
        insn = re.sub(r"\b([0-9a-f]+) <[^>]*>",
                      lambda m: "+%x" % (int(m.group(1), 16) - start), insn)
        out.append(insn)
    while out and re.search(r"\bnop|^xchg %ax,%ax$|^int3$", out[-1]):
        out.pop()  # padding up to the next function, which differs per binary
    return out


def check_leaf(build, log):
    """Failures of matmul's promise: every matmul program runs the same
    mm_leaf (common/matmul_leaf.c, one object), at a 64-byte boundary."""
    failures, first = [], None
    for name, path in programs_of(build, "matmul")[0]:
        body = function_body(disassembly(path), "mm_leaf")
        if body is None:
            failures.append(f"{name}: no function mm_leaf in the disassembly")
            continue
        if int(body[0].split(":")[0], 16) % 64:
            failures.append(f"{name}: mm_leaf is not 64-byte aligned")
            continue
        code = instructions(body)
        if first is None:
            first = (name, code)
        elif code != first[1]:
            failures.append(f"{name}: mm_leaf differs from {first[0]}'s")
            continue
        log(f"{name}: mm_leaf disassembly checked")
    return failures


def check_disassembly(build, log):
    """Failures (strings) of the code-shape promises the benchmarks make:
    fib_seq calls itself twice with direct calls (the shape-matched twin),
    my_task stays a scalar loop (neither the closed form nor vectorised),
    and every matmul program has the same mm_leaf (check_leaf)."""
    if shutil.which("objdump") is None:
        log("objdump not found: disassembly not checked")
        return []
    failures = []
    for workload, func in (("fib", "fib_seq"), ("seed", "my_task")):
        for name, path in programs_of(build, workload)[0]:
            failure = check_function(name, func, function_body(disassembly(path), func))
            if failure:
                failures.append(failure)
            else:
                log(f"{name}: {func} disassembly checked")
    return failures + check_leaf(build, log)


# ----------------------------------------------------------------- machine


def first_line(cmd):
    try:
        out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        return out.stdout.splitlines()[0] if out.stdout else None
    except OSError:
        return None


def machine_description(build, args):
    """A few lines saying what ran: CPU, cores, compilers, peers, flags."""
    lines = [f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
             f"host: {platform.node()}, {platform.system()} {platform.release()}",
             f"cpus: {cpu_count()}"]
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
        lines.append(f"cpu model: {model}")
    except OSError:
        pass
    for tool in ("gcc", "clang", "g++", "cmake"):
        if shutil.which(tool):
            lines.append(f"{tool}: {first_line([tool, '--version'])}")
    lines.append("flags: -O3 (meson buildtype=release, b_ndebug=if-release); "
                 "libomp peers: clang -O3 -fopenmp=libomp; oneTBB peers: g++ -std=c++17 -O3; "
                 "Lace: its CMake Release (-O3 -march=native on lace.c); rayon: cargo --release")
    bench = os.path.join(build, "benchmarks")
    lace_cache = os.path.join(bench, "lace", "CMakeCache.txt")
    if os.path.exists(lace_cache):
        with open(lace_cache) as f:
            src = next((l.split("=", 1)[1].strip() for l in f if l.startswith("lace_SOURCE_DIR")),
                       "?")
        lines.append(f"lace: {src}")
    toolchain = os.path.join(bench, "rayon", "toolchain.txt")
    if os.path.exists(toolchain):
        with open(toolchain) as f:
            lines.append("rayon: " + "; ".join(l.strip() for l in f if l.strip()))
    rev = first_line(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "describe",
                      "--always", "--dirty"])
    lines.append(f"forage revision: {rev or '?'}")
    if args.rounds_mode:
        lines.append(f"mode: interleaved rounds (up to {args.rounds}, {args.minutes} min), "
                     f"shuffle seed {args.seed}")
    else:
        lines.append(f"mode: per program, {args.reps} reps")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="meson build dir holding benchmarks/")
    ap.add_argument("--out", required=True, help="where results.csv and logs/ go")
    ap.add_argument("--quick", action="store_true",
                    help="tiny sizes; per program, one rep, unless --rounds is given (CI)")
    ap.add_argument("--rounds", type=int, help=f"interleaved rounds (default {ROUNDS})")
    ap.add_argument("--minutes", type=float, default=MINUTES,
                    help=f"start no round that would end after this (default {MINUTES})")
    ap.add_argument("--seed", type=int, help="the shuffle's seed (default: random, printed)")
    ap.add_argument("--per-program", action="store_true",
                    help="each program once with --reps reps, not rounds")
    ap.add_argument("--reps", type=int, help="per program: timed reps (default 5; --quick: 1)")
    ap.add_argument("--only", help="comma-separated workloads to run (default: all)")
    args = ap.parse_args()

    args.rounds_mode = args.rounds is not None or not (args.quick or args.per_program)
    if args.rounds_mode and args.per_program:
        ap.error("--rounds and --per-program exclude each other")
    if args.rounds_mode and args.reps:
        ap.error("--reps is for per-program runs; rounds run one rep per configuration")
    args.rounds = args.rounds or ROUNDS
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    args.seed = args.seed if args.seed is not None else random.randrange(1 << 31)
    args.reps = args.reps or (1 if args.quick else 5)
    args.started = time.monotonic()
    nproc = cpu_count()
    only = args.only.split(",") if args.only else list(WORKLOADS)
    unknown = [w for w in only if w not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s): {', '.join(unknown)}")
    args.logdir = os.path.join(args.out, "logs")
    os.makedirs(args.logdir, exist_ok=True)
    for old in os.listdir(args.logdir):
        os.remove(os.path.join(args.logdir, old))
    if not args.rounds_mode and os.path.exists(os.path.join(args.out, "rounds.csv")):
        os.remove(os.path.join(args.out, "rounds.csv"))
    with open(os.path.join(args.out, "machine.txt"), "w") as f:
        f.write("\n".join(machine_description(args.build, args)) + "\n")

    def log(msg):
        print(f"matrix: {msg}", file=sys.stderr, flush=True)

    if args.rounds_mode:
        rows, failures = run_rounds(args, only, nproc, log)
        extras = [w for w in only if w in EXTRAS]
        if extras:
            more, more_failures = run_per_program(args, extras, nproc, args.reps, log)
            rows += more
            failures += more_failures
    else:
        rows, failures = run_per_program(args, only, nproc, args.reps, log)

    results = os.path.join(args.out, "results.csv")
    with open(results, "w") as f:
        f.write(HEADER + "\n" + "".join(r + "\n" for r in rows))
    if args.quick:
        failures += check_disassembly(args.build, log)
    total = time.monotonic() - args.started
    log(f"{len(rows)} rows in {results}, {total:.0f} s")
    if failures:
        log("FAILED:\n  " + "\n  ".join(f.splitlines()[0] for f in failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
