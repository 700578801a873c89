#!/usr/bin/env python3
"""check_readme.py: the README's complete C programs compile as written.

Every ```c block of README.md that defines `int main` is a whole program a
reader may paste: it is compiled (syntax and types, -fsyntax-only) with
-std=c11 -Wall -Wextra -Werror against include/forage.h.  Blocks without
main are fragments and are not compiled.
Usage: check_readme.py README.md INCLUDE_DIR CC [CC ARGS...]
Exits 1 naming each block that does not compile."""
import re
import subprocess
import sys
import tempfile


def blocks(text):
    for m in re.finditer(r"```c\n(.*?)```", text, re.S):
        yield text.count("\n", 0, m.start()) + 1, m.group(1)


def main(readme, include, cc):
    with open(readme) as f:
        text = f.read()
    bad = checked = 0
    for line, code in blocks(text):
        if not re.search(r"\bint\s+main\s*\(", code):
            continue
        checked += 1
        with tempfile.NamedTemporaryFile("w", suffix=".c") as src:
            src.write(code)
            src.flush()
            run = subprocess.run(cc + ["-std=c11", "-Wall", "-Wextra", "-Werror", "-fsyntax-only",
                                       "-I", include, src.name],
                                 capture_output=True, text=True)
        if run.returncode != 0:
            bad += 1
            print("README.md:%d: the program in this block does not compile:\n%s"
                  % (line, run.stderr), file=sys.stderr)
    if checked == 0:
        print("README.md: no complete program found", file=sys.stderr)
        return 1
    if bad:
        return 1
    print("ok: %d complete program(s) in README.md compile" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3:]))
