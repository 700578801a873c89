#!/usr/bin/env python3
"""check_readme.py: every C block of README.md is a whole program that
compiles, links against the built library and prints what it should.

usage: check_readme.py README INCLUDE_DIR LIBRARY CC [CC_ARGS...]

Each ```c block is written to a temporary directory, compiled with
`CC CC_ARGS -std=c11 -Wall -Wextra -Werror -I INCLUDE_DIR`, linked with the
shared LIBRARY (run path set to its directory), run, and its stdout compared
with EXPECTED below, the results the README's programs compute.  Exits 1
naming the first block that fails."""
import os
import re
import subprocess
import sys
import tempfile

# One entry per C block, in README order: its exact stdout.
EXPECTED = [
    "fib(30) = 832040, 99^2 = 9801\n",
    "fib(30) = 832040\n",
    "doubled[39999] = 79998, squares[39999] = 1599920001\n",
    "task 7 died: signal 6; results[6] = 36\n",
    "x[99999] = 100000, y = 0..99999, last record: key 9 order 99999\n",
    "first negative at 70000\n",
    "10000 results, sum 333283335000\n",
]


def fail(msg):
    print("check_readme: " + msg, file=sys.stderr)
    sys.exit(1)


def blocks(readme):
    text = open(readme, encoding="utf-8").read()
    return re.findall(r"^```c\n(.*?)^```", text, re.S | re.M)


def check(k, code, include, lib, cc, tmp):
    src = os.path.join(tmp, "readme%d.c" % k)
    exe = os.path.join(tmp, "readme%d" % k)
    with open(src, "w") as f:
        f.write(code)
    libdir = os.path.dirname(os.path.abspath(lib))
    cmd = cc + ["-std=c11", "-Wall", "-Wextra", "-Werror", "-I", include, src, "-o", exe,
                lib, "-Wl,-rpath," + libdir, "-lpthread"]
    built = subprocess.run(cmd, capture_output=True, text=True)
    if built.returncode != 0:
        fail("block %d does not compile:\n%s\n%s" % (k, " ".join(cmd), built.stderr))
    ran = subprocess.run([exe], capture_output=True, text=True, timeout=120)
    if ran.returncode != 0:
        fail("block %d exited %d:\n%s" % (k, ran.returncode, ran.stderr))
    if ran.stdout != EXPECTED[k - 1]:
        fail("block %d printed %r, want %r" % (k, ran.stdout, EXPECTED[k - 1]))
    print("check_readme: block %d compiles, runs and prints %r" % (k, ran.stdout.strip()))


def main(readme, include, lib, *cc):
    found = blocks(readme)
    if len(found) != len(EXPECTED):
        fail("%d C blocks in %s, EXPECTED lists %d: every C block of the README is a whole "
             "program; list its exact stdout in EXPECTED, in README order"
             % (len(found), readme, len(EXPECTED)))
    with tempfile.TemporaryDirectory() as tmp:
        for k, code in enumerate(found, 1):
            check(k, code, include, lib, list(cc), tmp)


if __name__ == "__main__":
    if len(sys.argv) < 5:
        fail(__doc__)
    main(*sys.argv[1:])
