#!/usr/bin/env python3
"""check_reader.py READER RECORD_SEED_ONE GOLDEN: tools/record.py on real files.

1. record-seed-one records the seed workload (4000 tasks, batches of 100)
   on 1 and on 2 workers; the reader must find one root, one batch unit
   per batch the façade dispatched, nothing lost, T1 > 0, and (1 worker)
   T1 <= the wall time.
2. Every truncation of that file at a sweep of offsets, and a bit flip in
   every byte of the header and in a sweep of record bytes, must be refused
   with BadRecording naming a byte offset inside the file, never crash.
3. The golden recording (tests/record/seed-one.rec, 40000 tasks, batches of
   1000, one worker) still reads: one root, batches, one worker.
Exits 1 listing what failed."""
import importlib.util
import os
import subprocess
import sys
import tempfile


def load_reader(path):
    spec = importlib.util.spec_from_file_location("record", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(reader_path, program, golden):
    rec = load_reader(reader_path)
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2):
            path = os.path.join(tmp, "seed-%d.rec" % workers)
            out = subprocess.run([program, "--out", path, "--n", "4000", "--batch-size", "100",
                                  "--workers", str(workers)], check=True, capture_output=True,
                                 text=True).stdout
            batches = int(out.split()[3])  # "seconds S batches B"
            header, records = rec.read(path)
            s = rec.summary(header, records)
            if (s["kinds"]["batch"] != batches or batches == 0 or s["roots"] != 1 or
                    s["lost"] != 0 or s["partial"]):
                bad.append("%d workers: %s" % (workers, s))
            if s["workers"] != workers or s["t1_ns"] <= 0:
                bad.append("%d workers: workers %d, T1 %d" % (workers, s["workers"], s["t1_ns"]))
            if workers == 1 and s["t1_ns"] > s["wall_ns"]:
                bad.append("1 worker: T1 %d > wall %d" % (s["t1_ns"], s["wall_ns"]))
        with open(os.path.join(tmp, "seed-1.rec"), "rb") as f:
            data = f.read()
        cuts = sorted(set(list(range(0, 80)) + list(range(64, len(data), 7)) + [len(data) - 1]))
        for cut in cuts:
            try:
                rec.parse(data[:cut])
                bad.append("truncation at %d accepted" % cut)
            except rec.BadRecording as e:
                if not 0 <= e.offset <= cut:
                    bad.append("truncation at %d: offset %d outside the file" % (cut, e.offset))
        flips = list(range(0, 64)) + list(range(64, len(data), 5))
        for at in flips:
            for bit in (0, 7):
                d = bytearray(data)
                d[at] ^= 1 << bit
                try:
                    rec.parse(bytes(d))
                    bad.append("bit %d of byte %d flipped: accepted" % (bit, at))
                except rec.BadRecording as e:
                    if not 0 <= e.offset < len(data):
                        bad.append("flip at %d: offset %d outside the file" % (at, e.offset))
    header, records = rec.read(golden)
    s = rec.summary(header, records)
    if s["kinds"]["batch"] == 0 or s["roots"] != 1 or s["workers"] != 1:
        bad.append("golden %s: %s" % (golden, s))
    for b in bad:
        print("check_reader: " + b, file=sys.stderr)
    print("check_reader: %d truncations, %d bit flips refused; golden: %d units, T1 %d ns"
          % (len(cuts), 2 * len(flips), s["units"], s["t1_ns"]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
