#!/usr/bin/env python3
"""matrix.py: run every benchmark program of a build, forage's and the
peers', and collect their CSV lines into one results.csv.

    benchmarks/matrix.py --build build-bench --out build/bench [--quick]

Each workload runs forage's program and then, where they were built, its
-gomp, -libomp and -tbb twins, at threads 1..nproc (seed: nproc only), with
the programs' own warm-up rep and then --reps timed reps (5; --quick: 1, at
tiny sizes).  A program exits nonzero when a checksum differs from its
sequential twin's; the matrix then carries on, lists the failures and exits
1.  Each program's stderr summary goes to <out>/logs/<program>.log.

--quick also checks the disassembly the benchmarks rely on (see
check_disassembly): fib_seq makes two real recursive calls and my_task stays
a scalar loop, in every binary.
"""
import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import time

HEADER = "runtime,workload,param,grain,threads,rep,seconds,checksum"
PEERS = ("gomp", "libomp", "tbb")

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
    # Fixed thread counts inside the program (1 owner, 1 thief); no peers.
    "deque": (10_000_000, 100_000, None),
}


# Extra runs of forage's own program under an environment, to compare pool
# settings in the same matrix: (suffix, environment).  Their forage rows are
# renamed runtime-suffix (forage-split, forage-join-split, ...); their
# sequential-twin rows are dropped (the first run's stand).
VARIANTS = {
    "fib": [("split", {"FORAGE_DEQUE": "split"}), ("ctx", {"FIB_API": "ctx"}), ("task", {"FIB_API": "task"})],
    "nqueens": [("split", {"FORAGE_DEQUE": "split"})],
    "uts": [("split", {"FORAGE_DEQUE": "split"})],
}


def cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def programs_of(build, workload):
    """forage's program first, then the peers that were built."""
    names = [workload] if workload == "deque" else [workload] + [f"{workload}-{p}" for p in PEERS]
    found, skipped = [], []
    for name in names:
        path = os.path.join(build, "benchmarks", name)
        (found if os.access(path, os.X_OK) else skipped).append((name, path))
    return found, skipped


def check_rows(name, text):
    """The CSV lines of one program, checked for shape; raises ValueError."""
    rows = []
    for line in text.splitlines():
        if not line or line == HEADER:
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
    with open(log_path, "w") as log:
        proc = subprocess.run([path] + args, stdout=subprocess.PIPE, stderr=log, text=True,
                              env=None if env is None else {**os.environ, **env})
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        with open(log_path) as log:
            tail = log.read()[-2000:]
        raise RuntimeError(f"{name} exited {proc.returncode}:\n{tail}")
    return check_rows(name, proc.stdout), elapsed


def rename_variant(row, suffix):
    runtime, rest = row.split(",", 1)
    return f"{runtime}-{suffix},{rest}"


def disassembly(path):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "--demangle", path],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return out.stdout


def function_body(asm, name):
    """The instruction lines of function `name`, whatever suffix gcc's
    cloning (fib_seq.constprop.0.isra.0) or C++ (my_task(unsigned long))
    added; None if absent."""
    m = re.search(r"^[0-9a-f]+ <%s(?:[.( ][^>]*)?>:\n(.*?)(?:\n\n|\Z)" % re.escape(name),
                  asm, re.S | re.M)
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
        calls = sum(1 for line in body if re.search(r"\bcall\s.*<fib_seq\b", line))
        return None if calls == 2 else f"{name}: fib_seq makes {calls} recursive calls, not 2"
    loops = backward_branches(body)
    vector = sum(1 for line in body if re.search(r"%[xyz]mm", line))
    if loops == 0 or vector:
        return (f"{name}: my_task is not a scalar loop "
                f"({loops} backward branches, {vector} vector instructions)")
    return None


def check_disassembly(build):
    """Failures (strings) of the two code-shape promises the benchmarks
    make: fib_seq calls itself twice (the shape-matched twin), my_task stays
    a scalar loop (neither the closed form nor vectorised)."""
    if shutil.which("objdump") is None:
        print("matrix: objdump not found: disassembly not checked", file=sys.stderr)
        return []
    failures = []
    for workload, func in (("fib", "fib_seq"), ("seed", "my_task")):
        for name, path in programs_of(build, workload)[0]:
            failure = check_function(name, func, function_body(disassembly(path), func))
            if failure:
                failures.append(failure)
            else:
                print(f"matrix: {name}: {func} disassembly checked", file=sys.stderr)
    return failures


def machine_description(build):
    """A few lines saying what ran: CPU, cores, compilers, flags."""
    lines = [f"date: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
             f"host: {platform.node()}, {platform.system()} {platform.release()}",
             f"cpus: {cpu_count()}"]
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
        lines.append(f"cpu model: {model}")
    except OSError:
        pass
    for tool in ("gcc", "clang", "g++"):
        if shutil.which(tool):
            first = subprocess.run([tool, "--version"], stdout=subprocess.PIPE,
                                   text=True).stdout.splitlines()[0]
            lines.append(f"{tool}: {first}")
    lines.append("flags: -O3 (meson buildtype=release, b_ndebug=if-release); "
                 "libomp peers: clang -O3 -fopenmp=libomp; oneTBB peers: g++ -std=c++17 -O3")
    try:
        rev = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)),
                              "describe", "--always", "--dirty"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, text=True).stdout.strip()
        lines.append(f"forage revision: {rev or '?'}")
    except OSError:
        pass
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", required=True, help="meson build dir holding benchmarks/")
    ap.add_argument("--out", required=True, help="where results.csv and logs/ go")
    ap.add_argument("--quick", action="store_true", help="tiny sizes, one rep, for CI")
    ap.add_argument("--reps", type=int, help="timed reps (default 5; --quick: 1)")
    ap.add_argument("--only", help="comma-separated workloads to run (default: all)")
    args = ap.parse_args()

    reps = args.reps or (1 if args.quick else 5)
    nproc = cpu_count()
    only = args.only.split(",") if args.only else list(WORKLOADS)
    unknown = [w for w in only if w not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s): {', '.join(unknown)}")
    logdir = os.path.join(args.out, "logs")
    os.makedirs(logdir, exist_ok=True)
    with open(os.path.join(args.out, "machine.txt"), "w") as f:
        f.write("\n".join(machine_description(args.build)) + "\n")

    failures, rows, started = [], [], time.monotonic()
    for workload in only:
        full_n, quick_n, threads = WORKLOADS[workload]
        found, skipped = programs_of(args.build, workload)
        if not found or found[0][0] != workload:
            failures.append(f"{workload}: forage's program is not built")
            continue
        for name, _ in skipped:
            print(f"matrix: {name}: not built (peer missing), skipped", file=sys.stderr)
        prog_args = ["--reps", str(reps), "--n", str(quick_n if args.quick else full_n),
                     "--no-header"]
        if threads == "all":
            prog_args += ["--threads", ",".join(str(p) for p in range(1, nproc + 1))]
        elif threads == "max":
            prog_args += ["--threads", str(nproc)]
        runs = [(name, path, None, None) for name, path in found]
        runs[1:1] = [(f"{workload}-{suffix}", found[0][1], suffix, env)
                     for suffix, env in VARIANTS.get(workload, [])]
        for name, path, suffix, env in runs:
            try:
                got, elapsed = run_program(name, path, prog_args, logdir, env)
            except (RuntimeError, ValueError) as e:
                failures.append(str(e))
                print(f"matrix: FAILED {e}", file=sys.stderr)
                continue
            if suffix is not None:
                got = [rename_variant(r, suffix) for r in got if not r.startswith("seq")]
            rows += got
            print(f"matrix: {name:<20} {len(got):4d} rows {elapsed:7.1f} s", file=sys.stderr)

    results = os.path.join(args.out, "results.csv")
    with open(results, "w") as f:
        f.write(HEADER + "\n" + "".join(r + "\n" for r in rows))
    if args.quick:
        failures += check_disassembly(args.build)
    total = time.monotonic() - started
    print(f"matrix: {len(rows)} rows in {results}, {total:.0f} s", file=sys.stderr)
    if failures:
        print("matrix: FAILED:\n  " + "\n  ".join(f.splitlines()[0] for f in failures),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
