#!/usr/bin/env python3
"""check_trace.py: run tests/trace/workload.c with tracing and counters on,
then check the Chrome trace JSON (runtime/trace.c) with the json module:
its structure, and its event counts against the FORAGE_STATS=1 table.

usage: check_trace.py WORKLOAD [--workers N]
       check_trace.py --check TRACE.json STDERR.txt
The second form checks a trace written by any program run with
FORAGE_TRACE=TRACE.json FORAGE_STATS=1 against the one counter table in
its captured stderr (e.g. forage-demo --backend steal 2> STDERR.txt).

Runs, each in a fresh temporary directory:
  1. FORAGE_TRACE=env.json FORAGE_STATS=1: structure + counts = counters
     (the table and the trace are both final: written after the joins),
     with the default policies, steal-half + sticky, power-of-two victims
     with yield rounds, and split deques with steal-half;
  2. the same with FORAGE_TRACE_EVENTS=64: the rings overflow, and kept +
     dropped events = what the counters say was recorded;
  3. fg_config.trace (--trace) wins over $FORAGE_TRACE; --trace "" is off;
  4. bad settings fail pool creation with FG_EENV / FG_EINVAL.
Exits 1 with a message on the first violated check.
"""
import json
import os
import subprocess
import sys
import tempfile

RUN_NAMES = {"task", "join", "spawn", "external join", "ctx task"}
COUNTERS = ["tasks_run", "steal_attempts", "steals", "steal_aborts",
            "injector_takes", "sleeps", "wakeups"]


class CheckError(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise CheckError(msg)


def run(workload, args, env_extra, expect_rc=0):
    env = dict(os.environ)
    for k in ("FORAGE_TRACE", "FORAGE_TRACE_EVENTS", "FORAGE_STATS", "FORAGE_POLICY",
              "FORAGE_STEAL", "FORAGE_IDLE", "FORAGE_DEQUE", "FORAGE_WORKERS"):
        env.pop(k, None)
    env.update(env_extra)
    p = subprocess.run([workload] + args, env=env, capture_output=True, text=True,
                       timeout=600)
    check(p.returncode == expect_rc,
          f"{workload} {args} {env_extra}: exit {p.returncode}, wanted {expect_rc}\n"
          f"stdout: {p.stdout}\nstderr: {p.stderr}")
    return p


def parse_table(stderr, workers):
    """The FORAGE_STATS=1 table: {worker index or 'total': {column: value}}."""
    lines = stderr.splitlines()
    starts = [i for i, l in enumerate(lines) if l.startswith("forage stats: ")]
    check(len(starts) == 1, f"expected one stats table in stderr:\n{stderr}")
    i = starts[0]
    check(lines[i] == f"forage stats: {workers} workers", lines[i])
    header = lines[i + 1].split()
    check(header == ["worker"] + COUNTERS + ["busy_ms", "idle_ms"], f"header {header}")
    rows = {}
    for line in lines[i + 2:i + 3 + workers]:
        f = line.split()
        check(len(f) == len(header), f"row {line!r}")
        key = "total" if f[0] == "total" else int(f[0])
        rows[key] = {c: int(v) for c, v in zip(COUNTERS, f[1:8])}
        rows[key]["busy_ms"] = float(f[8])
        rows[key]["idle_ms"] = float(f[9])
    check(sorted(k for k in rows if k != "total") == list(range(workers)) and "total" in rows,
          f"rows {sorted(rows, key=str)}")
    return rows


def ns(us):
    """Trace times are microseconds with exactly three decimals."""
    return round(us * 1000)


def check_structure(doc, workers):
    """Checks that need no counters; returns the events grouped per worker."""
    check(isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list),
          "top level must be an object with a traceEvents list")
    events = doc["traceEvents"]
    check(len(events) > 0, "no events")
    pids = set()
    per = {t: {"X": [], "steal": [], "injector": [], "sleep": [], "wake": [],
               "s": [], "f": [], "ring": None, "names": []} for t in range(workers)}
    for e in events:
        check(isinstance(e, dict), f"event {e!r} is not an object")
        for key in ("ph", "ts", "pid", "tid"):
            check(key in e, f"event without {key}: {e}")
        check(isinstance(e["ts"], (int, float)) and e["ts"] >= 0, f"bad ts: {e}")
        check(isinstance(e["pid"], int) and isinstance(e["tid"], int), f"bad pid/tid: {e}")
        pids.add(e["pid"])
        ph, tid = e["ph"], e["tid"]
        if ph == "M" and e["name"] == "process_name":
            continue
        check(0 <= tid < workers, f"tid out of range: {e}")
        w = per[tid]
        if ph == "M":
            if e["name"] == "thread_name":
                w["names"].append(e["args"]["name"])
            elif e["name"] == "forage_ring":
                check(w["ring"] is None, f"two forage_ring records for worker {tid}")
                w["ring"] = e["args"]
            elif e["name"] != "thread_sort_index":
                raise CheckError(f"unknown metadata event {e}")
        elif ph == "X":
            check(e["name"] in RUN_NAMES, f"unknown slice name {e}")
            check(isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0, f"bad dur: {e}")
            check(isinstance(e["args"]["depth"], int) and e["args"]["depth"] >= 0, f"depth {e}")
            w["X"].append(e)
        elif ph == "i":
            check(e.get("s") == "t", f"instant not thread-scoped: {e}")
            check(e["name"] in ("steal", "injector", "sleep", "wake"), f"unknown instant {e}")
            w[e["name"]].append(e)
        elif ph in ("s", "f"):
            check(e["name"] == "steal" and e["cat"] == "flow" and isinstance(e.get("id"), int),
                  f"bad flow event {e}")
            w[ph].append(e)
        else:
            raise CheckError(f"unexpected ph {ph!r}: {e}")
    check(len(pids) == 1, f"several pids {pids}")
    for t in range(workers):
        check(per[t]["names"] == [f"worker {t}"], f"thread_name of {t}: {per[t]['names']}")
        check(per[t]["ring"] is not None, f"no forage_ring record for worker {t}")
    check_flows(per, workers)
    for t in range(workers):
        w = per[t]
        for e in w["sleep"]:
            check(e["args"]["parked_us"] >= 0, f"negative park {e}")
        for e in w["wake"]:
            check(0 <= e["args"]["worker"] < workers and e["args"]["worker"] != t,
                  f"bad wake target {e}")
        for e in w["steal"]:
            check(0 <= e["args"]["victim"] < workers and e["args"]["victim"] != t,
                  f"bad victim {e}")
        kept = sum(len(w[k]) for k in ("X", "steal", "injector", "sleep", "wake"))
        ring = w["ring"]
        check(kept == ring["recorded"] - ring["dropped"] and kept <= ring["capacity"],
              f"worker {t}: {kept} events in the file, ring says {ring}")
    return per


def check_flows(per, workers):
    """Every steal has one s (victim's track) and one f (thief's) with its id."""
    starts, finishes = {}, {}
    for t in range(workers):
        for e in per[t]["s"]:
            check(e["id"] not in starts, f"flow id {e['id']} started twice")
            starts[e["id"]] = e
        for e in per[t]["f"]:
            check(e["id"] not in finishes, f"flow id {e['id']} finished twice")
            finishes[e["id"]] = e
    check(set(starts) == set(finishes),
          f"unpaired flows: {len(set(starts) ^ set(finishes))} ids")
    steals = {(t, ns(e["ts"]), e["args"]["victim"]) for t in range(workers) for e in per[t]["steal"]}
    check(len(steals) == sum(len(per[t]["steal"]) for t in range(workers)) == len(starts),
          "steal instants and flows differ in number")
    for fid, s in starts.items():
        f = finishes[fid]
        check(s["ts"] == f["ts"] and s["tid"] != f["tid"], f"flow {fid}: {s} -> {f}")
        check((f["tid"], ns(f["ts"]), s["tid"]) in steals,
              f"flow {fid} matches no steal instant (thief {f['tid']}, victim {s['tid']})")


def check_nesting(per, workers):
    """On each track a slice of depth d > 0 lies inside the slice of depth
    d - 1 open when it starts, and slices of equal depth under one parent
    do not overlap.  Returns the number of nested slices."""
    nested = 0
    for t in range(workers):
        slices = sorted((ns(e["ts"]), e["args"]["depth"], ns(e["ts"]) + ns(e["dur"]))
                        for e in per[t]["X"])
        stack = []  # (depth, start, end) of the enclosing slices
        for start, depth, end in slices:
            while stack and stack[-1][0] >= depth:
                d, s0, e0 = stack.pop()
                check(d != depth or e0 <= start,
                      f"worker {t}: depth-{d} slices [{s0}, {e0}] and [{start}, {end}] overlap")
            if depth > 0:
                check(stack and stack[-1][0] == depth - 1,
                      f"worker {t}: depth-{depth} slice at {start} ns has no parent")
                _, ps, pe = stack[-1]
                check(ps <= start and end <= pe,
                      f"worker {t}: slice [{start}, {end}] outside its parent [{ps}, {pe}]")
                nested += 1
            stack.append((depth, start, end))
    return nested


def check_counts(per, table, workers):
    for t in range(workers):
        w, row = per[t], table[t]
        pairs = [("X", "tasks_run"), ("steal", "steals"), ("injector", "injector_takes"),
                 ("sleep", "sleeps"), ("wake", "wakeups")]
        for kind, counter in pairs:
            check(len(w[kind]) == row[counter],
                  f"worker {t}: {len(w[kind])} {kind} events, counter {counter} = {row[counter]}")
        top_ns = sum(ns(e["dur"]) for e in w["X"] if e["args"]["depth"] == 0)
        # busy_ms is rounded to 1 us; it contains every top-level slice.
        check(top_ns <= row["busy_ms"] * 1e6 + 500,
              f"worker {t}: top-level slices last {top_ns} ns > busy {row['busy_ms']} ms")


def check_run(workload, workers, tmp, policy_env):
    path = os.path.join(tmp, "env.json")
    p = run(workload, ["--workers", str(workers)],
            dict(policy_env, FORAGE_TRACE=path, FORAGE_STATS="1"))
    with open(path) as f:
        doc = json.load(f)
    table = parse_table(p.stderr, workers)
    per = check_structure(doc, workers)
    other = doc.get("otherData", {})
    check(other.get("workers") == workers, f"otherData {other}")
    check(other.get("dropped_events") == 0, f"events were dropped: {other}")
    nested = check_nesting(per, workers)
    check_counts(per, table, workers)
    total = table["total"]
    for counter in ("tasks_run", "steals", "injector_takes", "sleeps", "wakeups"):
        check(total[counter] > 0, f"the workload produced no {counter}: nothing checked")
    check(nested > 0, "no nested slice: the workload should run jobs inside waits")
    n_events = len(doc["traceEvents"])
    print(f"ok: {policy_env or 'defaults'}: {n_events} events; counts equal the counters on {workers} workers "
          f"(tasks {total['tasks_run']}, steals {total['steals']}, sleeps {total['sleeps']}, "
          f"wakeups {total['wakeups']}, injector {total['injector_takes']}, nested {nested})")


def check_overflow(workload, workers, tmp):
    path = os.path.join(tmp, "small.json")
    p = run(workload, ["--workers", str(workers)],
            {"FORAGE_TRACE": path, "FORAGE_STATS": "1", "FORAGE_TRACE_EVENTS": "50"})
    with open(path) as f:
        doc = json.load(f)
    table = parse_table(p.stderr, workers)
    per = check_structure(doc, workers)
    dropped = 0
    for t in range(workers):
        ring, row = per[t]["ring"], table[t]
        check(ring["capacity"] == 64, f"50 events should round up to 64: {ring}")
        want = sum(row[c] for c in ("tasks_run", "steals", "injector_takes", "sleeps", "wakeups"))
        check(ring["recorded"] == want,
              f"worker {t}: ring recorded {ring['recorded']}, counters say {want}")
        dropped += ring["dropped"]
    check(dropped > 0 and doc["otherData"]["dropped_events"] == dropped,
          f"no overflow recorded with 64-event rings: {doc['otherData']}")
    print(f"ok: 64-event rings dropped {dropped} events, kept + dropped = counters")


def check_settings(workload, workers, tmp):
    env_path = os.path.join(tmp, "from-env.json")
    cfg_path = os.path.join(tmp, "from-config.json")
    run(workload, ["--workers", str(workers), "--phases", "1", "--trace", cfg_path],
        {"FORAGE_TRACE": env_path})
    check(os.path.exists(cfg_path) and not os.path.exists(env_path),
          "fg_config.trace must win over $FORAGE_TRACE")
    with open(cfg_path) as f:
        check_structure(json.load(f), workers)
    run(workload, ["--workers", str(workers), "--phases", "1", "--trace", ""],
        {"FORAGE_TRACE": env_path})
    check(not os.path.exists(env_path), 'fg_config.trace = "" must turn tracing off')
    bad = os.path.join(tmp, "no-such-dir", "t.json")
    cases = [([], {"FORAGE_TRACE": bad}, "FG_EENV"),
             (["--trace", bad], {}, "FG_EINVAL"),
             ([], {"FORAGE_TRACE": env_path, "FORAGE_TRACE_EVENTS": "lots"}, "FG_EENV"),
             ([], {"FORAGE_TRACE": env_path, "FORAGE_TRACE_EVENTS": "0"}, "FG_EENV")]
    for args, env, want in cases:
        p = run(workload, ["--phases", "1"] + args, env, expect_rc=3)
        check(p.stdout.strip() == want, f"{args} {env}: got {p.stdout.strip()}, wanted {want}")
    print("ok: fg_config.trace over $FORAGE_TRACE, \"\" is off, bad settings fail create")


def check_files(trace_path, stderr_path):
    with open(stderr_path) as f:
        stderr = f.read()
    heads = [l for l in stderr.splitlines() if l.startswith("forage stats: ")]
    check(len(heads) == 1, f"{stderr_path}: expected one counter table, found {len(heads)}")
    workers = int(heads[0].split()[2])
    table = parse_table(stderr, workers)
    with open(trace_path) as f:
        doc = json.load(f)
    per = check_structure(doc, workers)
    dropped = doc["otherData"]["dropped_events"]
    if dropped == 0:
        nested = check_nesting(per, workers)
        check_counts(per, table, workers)
        kinds = {}
        for t in range(workers):
            for k in ("X", "steal", "injector", "sleep", "wake", "s", "f"):
                kinds[k] = kinds.get(k, 0) + len(per[t][k])
        print(f"ok: {len(doc['traceEvents'])} events on {workers} workers; per worker, "
              f"slices = tasks_run, steal/injector/sleep/wake instants = their counters; "
              f"totals {kinds}, nested slices {nested}")
    else:
        print(f"ok: structure; {dropped} events dropped, so counts not compared")


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        try:
            check_files(sys.argv[2], sys.argv[3])
        except CheckError as e:
            print(f"check_trace: FAILED: {e}", file=sys.stderr)
            return 1
        return 0
    if len(sys.argv) not in (2, 4) or (len(sys.argv) == 4 and sys.argv[2] != "--workers"):
        print(__doc__, file=sys.stderr)
        return 2
    workload = sys.argv[1]
    workers = int(sys.argv[3]) if len(sys.argv) == 4 else 2
    try:
        with tempfile.TemporaryDirectory() as tmp:
            # Steal-half counts every job of a batch as a steal, and other
            # victim and idle policies change the schedule: all must agree.
            for policy_env in ({}, {"FORAGE_STEAL": "half", "FORAGE_POLICY": "sticky"},
                               {"FORAGE_POLICY": "power-of-two",
                                "FORAGE_IDLE": "spin:4,yield:4"},
                               {"FORAGE_DEQUE": "split", "FORAGE_STEAL": "half"}):
                check_run(workload, workers, tmp, policy_env)
            check_overflow(workload, workers, tmp)
            check_settings(workload, workers, tmp)
    except CheckError as e:
        print(f"check_trace: FAILED: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
