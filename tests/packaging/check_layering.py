#!/usr/bin/env python3
"""check_layering.py: the façade is a client of forage.h.

The build already gives facade/ include/ alone (facade/meson.build), so a
façade file that names a runtime header by its bare name does not compile.
This check closes the remaining door, a relative path: every #include "..."
in facade/ must name forage.h or a header of facade/ itself, and only
facade/seam.h may reach ../runtime/ (the allocator, base.h and fork.h,
documented there).  The runtime, for its part, includes nothing from facade/.  forage-mpi (mpi/)
includes forage.h, its own headers, and of the façade only batching.h,
progress.h and seam.h (docs/design/mpi.md).
Exits 1 listing every violation."""
import os
import re
import sys

INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def includes(path):
    with open(path) as f:
        return INCLUDE.findall(f.read())


def main(root):
    bad = []
    facade = os.path.join(root, "facade")
    own = {n for n in os.listdir(facade) if n.endswith(".h")}
    seam_allowed = {"../runtime/alloc.h", "../runtime/base.h", "../runtime/fork.h"}
    for name in sorted(os.listdir(facade)):
        if not name.endswith((".c", ".h")):
            continue
        for inc in includes(os.path.join(facade, name)):
            if inc == "forage.h" or inc in own:
                continue
            if name == "seam.h" and inc in seam_allowed:
                continue
            bad.append("facade/%s includes \"%s\"" % (name, inc))
    runtime = os.path.join(root, "runtime")
    for name in sorted(os.listdir(runtime)):
        if name.endswith((".c", ".h")):
            for inc in includes(os.path.join(runtime, name)):
                if "facade" in inc or inc in own - {"seam.h"} and not os.path.exists(
                        os.path.join(runtime, inc)):
                    bad.append("runtime/%s includes \"%s\"" % (name, inc))
    # forage-mpi is a client of forage.h too; of the façade it may use only
    # the two pieces it compiles in (batching, progress) and their seam
    # (docs/design/mpi.md, "Layering").
    mpi = os.path.join(root, "mpi")
    if os.path.isdir(mpi):
        mine = {n for n in os.listdir(mpi) if n.endswith(".h")}
        allowed = {"forage.h", "batching.h", "progress.h", "seam.h"} | mine
        for name in sorted(os.listdir(mpi)):
            if name.endswith((".c", ".h")):
                for inc in includes(os.path.join(mpi, name)):
                    if inc not in allowed:
                        bad.append("mpi/%s includes \"%s\"" % (name, inc))
    for b in bad:
        print("layering: " + b, file=sys.stderr)
    if bad:
        return 1
    print("ok: facade/ includes forage.h, its own headers and seam.h only; mpi/ forage.h, "
          "its own headers and the façade's batching.h, progress.h and seam.h only")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
