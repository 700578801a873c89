#!/usr/bin/env python3
"""record.py: read a forage recording (docs/design/record.md, version 1).

    tools/record.py FILE            header, unit counts by kind, T1, wall time
    tools/record.py FILE --json     the same as one JSON object
    tools/record.py FILE --dump [N] also the first N records (all without N)

Checks everything the format promises (magic, version, sizes, both CRCs,
parents before children, siblings' order is not checkable, spawn_at <=
sync_at <= parent's work, kinds and flags) and exits 1 with the byte offset
of the first bad field.  As a module: read(path) -> (header, records), with
records a list of (parent, kind, flags, work, spawn_at, sync_at).
"""
import json
import struct
import sys
import zlib

MAGIC = b"FGRECORD"
HEADER = struct.Struct("<8sIIIIQQQIIII")
RECORD = struct.Struct("<IBBHQQQ")
NONE = 0xFFFFFFFF
KINDS = ["root", "join_a", "join_b", "group", "ctx", "chunk", "batch", "other"]
CALL, STOLEN = 1, 2


class BadRecording(Exception):
    def __init__(self, offset, what):
        super().__init__("byte %d: %s" % (offset, what))
        self.offset = offset


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    return parse(data)


def parse(data):
    if len(data) < HEADER.size:
        raise BadRecording(len(data), "truncated header: %d of 64 bytes" % len(data))
    (magic, version, header_size, record_size, workers, units, lost, wall, flags,
     reserved, crc_records, crc_header) = HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise BadRecording(0, "not a forage recording (magic %r)" % magic)
    if version != 1:
        raise BadRecording(8, "version %d, this reader knows 1" % version)
    if header_size != 64:
        raise BadRecording(12, "header size %d, expected 64" % header_size)
    if record_size != 32:
        raise BadRecording(16, "record size %d, expected 32" % record_size)
    if zlib.crc32(data[:60]) != crc_header:
        raise BadRecording(60, "header CRC mismatch")
    if reserved != 0:
        raise BadRecording(52, "reserved field is %d" % reserved)
    if flags & ~1:
        raise BadRecording(48, "unknown flags 0x%x" % flags)
    if bool(flags & 1) != (lost > 0):
        raise BadRecording(48, "PARTIAL flag disagrees with %d lost units" % lost)
    end = 64 + 32 * units
    if len(data) < end:
        raise BadRecording(len(data), "truncated: %d records announced, file ends in record %d"
                           % (units, (len(data) - 64) // 32))
    if len(data) > end:
        raise BadRecording(end, "%d bytes after the last record" % (len(data) - end))
    if zlib.crc32(data[64:end]) != crc_records:
        raise BadRecording(56, "records CRC mismatch")
    records = list(RECORD.iter_unpack(data[64:end]))
    for i, (parent, kind, rflags, reserved2, work, spawn_at, sync_at) in enumerate(records):
        at = 64 + 32 * i
        if parent != NONE and parent >= i:
            raise BadRecording(at, "record %d: parent %d does not come before it" % (i, parent))
        if kind >= len(KINDS):
            raise BadRecording(at + 4, "record %d: unknown kind %d" % (i, kind))
        if rflags & ~3:
            raise BadRecording(at + 5, "record %d: unknown flags 0x%x" % (i, rflags))
        if reserved2 != 0:
            raise BadRecording(at + 6, "record %d: reserved field is %d" % (i, reserved2))
        if spawn_at > sync_at:
            raise BadRecording(at + 16, "record %d: spawn_at %d > sync_at %d" % (i, spawn_at, sync_at))
        if parent != NONE and sync_at > records[parent][4]:
            raise BadRecording(at + 24, "record %d: sync_at %d > parent's work %d"
                               % (i, sync_at, records[parent][4]))
    header = {"version": version, "workers": workers, "units": units, "lost": lost,
              "wall_ns": wall, "partial": bool(flags & 1)}
    return header, [(r[0], r[1], r[2], r[4], r[5], r[6]) for r in records]


def summary(header, records):
    kinds = {k: 0 for k in KINDS}
    stolen = calls = roots = 0
    for parent, kind, flags, _work, _spawn, _sync in records:
        kinds[KINDS[kind]] += 1
        stolen += bool(flags & STOLEN)
        calls += bool(flags & CALL)
        roots += parent == NONE
    out = dict(header)
    out.update({"t1_ns": sum(r[3] for r in records), "roots": roots, "stolen": stolen,
                "calls": calls, "kinds": kinds})
    return out


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    path = argv[0]
    try:
        header, records = read(path)
    except BadRecording as e:
        print("%s: %s" % (path, e), file=sys.stderr)
        return 1
    except OSError as e:
        print("%s: %s" % (path, e.strerror), file=sys.stderr)
        return 1
    s = summary(header, records)
    if "--json" in argv:
        print(json.dumps(s, sort_keys=True))
        return 0
    print("%s: forage recording v%d, %d workers, %d units, %d lost%s"
          % (path, s["version"], s["workers"], s["units"], s["lost"],
             " (PARTIAL)" if s["partial"] else ""))
    print("T1 %d ns (sum of work), wall %d ns, %d roots, %d stolen, %d calls"
          % (s["t1_ns"], s["wall_ns"], s["roots"], s["stolen"], s["calls"]))
    print("kinds: " + ", ".join("%s %d" % (k, n) for k, n in s["kinds"].items() if n))
    if "--dump" in argv:
        k = argv.index("--dump")
        n = int(argv[k + 1]) if k + 1 < len(argv) else len(records)
        print("index parent kind flags work spawn_at sync_at")
        for i, (parent, kind, flags, work, spawn_at, sync_at) in enumerate(records[:n]):
            print("%d %s %s %s %d %d %d" % (i, "-" if parent == NONE else parent, KINDS[kind],
                                            "|".join(f for b, f in ((CALL, "call"), (STOLEN, "stolen"))
                                                     if flags & b) or "-",
                                            work, spawn_at, sync_at))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
