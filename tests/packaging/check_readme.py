#!/usr/bin/env python3
"""check_readme.py: the README's C compiles as written.

Every ```c block of README.md is compiled (syntax and types,
-fsyntax-only) with -std=c11 -Wall -Wextra -Werror against
include/forage.h:
  - a block that defines `int main` is a whole program a reader may paste,
    and is compiled as it is;
  - any other block is a fragment: its definitions (lines from `static` or
    `typedef` at the left margin to the end of their braces) stay at file
    scope, its other lines become the body of a function, and the names
    fragments use without defining them (pool, par, n, err, ...) are
    declared first.  Unused-entity warnings are off for fragments.
Usage: check_readme.py README.md INCLUDE_DIR CC [CC ARGS...]
Exits 1 naming each block that does not compile."""
import re
import subprocess
import sys
import tempfile

PRELUDE = """#include <forage.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
typedef struct rec { int key; } rec;
"""

# Free names of fragments: (name, declaration), declared unless the
# fragment defines the name itself.
FREE = [
    ("pool", "static fg_pool *pool;"),
    ("par", "static fg_parallel *par;"),
    ("n", "static size_t n;"),
    ("err", "static int err;"),
    ("ctx", "static void *ctx;"),
    ("results", "static uint64_t results[1];"),
    ("data", "static double data[1];"),
    ("x", "static double x[1];"),
    ("recs", "static rec recs[1];"),
    ("by_key", "int by_key(const void *a, const void *b);"),
    ("my_task", "int my_task(size_t i, void *ctx, void *result);"),
]

FRAGMENT_FLAGS = ["-Wno-unused-parameter", "-Wno-unused-variable", "-Wno-unused-function",
                  "-Wno-unused-but-set-variable", "-Wno-unused-value"]


def blocks(text):
    for m in re.finditer(r"```c\n(.*?)```", text, re.S):
        yield text.count("\n", 0, m.start()) + 1, m.group(1)


def wrap(code):
    """A fragment as a translation unit."""
    top, body, depth, in_def = [], [], 0, False
    for line in code.split("\n"):
        if depth == 0 and not in_def and re.match(r"(static|typedef)\b", line):
            in_def = True
        (top if in_def else body).append(line)
        depth += line.count("{") - line.count("}")
        if in_def and depth == 0 and re.search(r"[;}]\s*(/\*.*\*/)?\s*$", line):
            in_def = False
    defined = "\n".join(top)
    decls = [d for name, d in FREE
             if not re.search(r"^static\s.*\b%s\s*\(" % name, defined, re.M)]
    return (PRELUDE + "\n".join(decls) + "\n" + defined +
            "\nvoid readme_fragment(void);\nvoid readme_fragment(void)\n{\n" +
            "\n".join(body) + "\n}\n")


def compile_ok(cc, include, source, extra):
    with tempfile.NamedTemporaryFile("w", suffix=".c") as src:
        src.write(source)
        src.flush()
        run = subprocess.run(cc + ["-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                                   "-I", include] + extra + [src.name],
                             capture_output=True, text=True)
    return run.returncode == 0, run.stderr


def main(readme, include, cc):
    with open(readme) as f:
        text = f.read()
    bad = programs = fragments = 0
    for line, code in blocks(text):
        if re.search(r"\bint\s+main\s*\(", code):
            programs += 1
            ok, errors = compile_ok(cc, include, code, [])
            what = "program"
        else:
            fragments += 1
            source = wrap(code)
            ok, errors = compile_ok(cc, include, source, FRAGMENT_FLAGS)
            what = "fragment"
            if not ok:
                errors += "\n(the fragment as compiled:)\n" + source
        if not ok:
            bad += 1
            print("%s:%d: the %s in this block does not compile:\n%s"
                  % (readme, line, what, errors), file=sys.stderr)
    if programs == 0:
        print("%s: no complete program found" % readme, file=sys.stderr)
        return 1
    if bad:
        return 1
    print("ok: %s: %d program(s) and %d fragment(s) compile" % (readme, programs, fragments))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
