#!/usr/bin/env python3
"""check_version.py: the one version source (include/forage.h) against
everything the build derives from it.

  - the shared library's SONAME: libforage.so.MAJOR.MINOR before 1.0,
    libforage.so.MAJOR from 1.0 on (forage.h's ABI policy);
  - fg_version_string() of the shared library actually loaded (ctypes);
  - the Version of the generated forage.pc;
  - PACKAGE_VERSION of the generated forageConfigVersion.cmake.
Exits 1 with a message on the first disagreement."""
import ctypes
import re
import subprocess
import sys


def fail(msg):
    print("check_version: " + msg, file=sys.stderr)
    sys.exit(1)


def main(header, lib, pc, cmake_version):
    text = open(header).read()
    parts = [int(re.search(r"#define FG_VERSION_%s (\d+)" % k, text).group(1))
             for k in ("MAJOR", "MINOR", "PATCH")]
    want = "%d.%d.%d" % tuple(parts)
    want_soname = "libforage.so.%d.%d" % (parts[0], parts[1]) if parts[0] == 0 \
        else "libforage.so.%d" % parts[0]

    dyn = subprocess.run(["readelf", "-d", lib], capture_output=True, text=True, check=True)
    m = re.search(r"\(SONAME\).*\[(.*)\]", dyn.stdout)
    if not m or m.group(1) != want_soname:
        fail("SONAME %s, header wants %s" % (m.group(1) if m else None, want_soname))

    loaded = ctypes.CDLL(lib)
    loaded.fg_version_string.restype = ctypes.c_char_p
    got = loaded.fg_version_string().decode()
    if got != want:
        fail("library says %s, header %s" % (got, want))
    if loaded.fg_version() != (parts[0] << 16 | parts[1] << 8 | parts[2]):
        fail("fg_version() %#x does not match the header" % loaded.fg_version())

    pc_version = re.search(r"^Version: (.*)$", open(pc).read(), re.M).group(1).strip()
    if pc_version != want:
        fail("forage.pc has %s, header %s" % (pc_version, want))

    cm = re.search(r'set\(PACKAGE_VERSION "(.*)"\)', open(cmake_version).read())
    if not cm or cm.group(1) != want:
        fail("forageConfigVersion.cmake has %s, header %s" % (cm.group(1) if cm else None, want))
    print("ok: version %s, SONAME %s, library, forage.pc and CMake agree" % (want, want_soname))


if __name__ == "__main__":
    main(*sys.argv[1:5])
