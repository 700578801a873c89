#!/usr/bin/env python3
"""check_badinput_doc.py: verification.md's counts of the bad-input table are
the program's.

docs/design/verification.md shows, between the markers
<!-- unit-badinput --areas --> and <!-- end unit-badinput --areas -->, the
Markdown table that `unit-badinput --areas` prints: rows, debug-only rows,
main-thread-only rows and cases per API area, with the total.  Adding a row
changes the program's table; this test fails until the doc shows the new
one.  The doc's table is a debug build's (the default): under NDEBUG the
debug-only rows are compiled out, and the test is skipped (exit 77).
Usage: check_badinput_doc.py UNIT_BADINPUT VERIFICATION_MD"""
import subprocess
import sys

BEGIN = "<!-- unit-badinput --areas -->"
END = "<!-- end unit-badinput --areas -->"


def run(exe, option):
    out = subprocess.run([exe, option], check=True, stdout=subprocess.PIPE).stdout
    return out.decode("utf-8").splitlines()


def main(exe, doc):
    total = run(exe, "--rows")[-1]
    if "NDEBUG" in total:
        print("skipped: an NDEBUG build (%s); the doc counts a debug build's rows" % total)
        return 77
    want = run(exe, "--areas")
    with open(doc, encoding="utf-8") as f:
        text = f.read()
    if text.count(BEGIN) != 1 or text.count(END) != 1:
        print("%s: want one %s and one %s around the table" % (doc, BEGIN, END), file=sys.stderr)
        return 1
    have = [l for l in text.split(BEGIN)[1].split(END)[0].splitlines() if l.strip()]
    if have != want:
        print("%s: the table of bad-input rows by area is not the program's (%s).\n"
              "It says:\n%s\nThe program (unit-badinput --areas) says:\n%s"
              % (doc, total, "\n".join(have), "\n".join(want)), file=sys.stderr)
        return 1
    print("ok: the doc's table by area is the program's: " + total)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
