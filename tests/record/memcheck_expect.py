#!/usr/bin/env python3
"""memcheck_expect.py SHAPES > tests/record/shapes.memcheck.json

Runs every mode of tests/record/shapes.c under valgrind's memcheck and writes what it reports:
for each mode, the blocks and bytes per leak category of the program's own blocks (loss records
whose stack has a shape_* function) and of all blocks. The file is kept in the repository so that
the tests, and `heaptool leaks` on the same programs, compare with memcheck without valgrind."""
import re
import subprocess
import sys

MODES = ["dropped", "list", "cycle", "interior", "globals", "stack", "tls", "threads", "registers", "mmap", "reuse"]
HEADER = re.compile(r"==\d+== ([\d,]+)(?: \(([\d,]+) direct, [\d,]+ indirect\))? bytes in ([\d,]+) blocks are "
                    r"(definitely|indirectly|possibly) lost|==\d+== ([\d,]+)(?: \(([\d,]+) direct, [\d,]+ indirect\))? "
                    r"bytes in ([\d,]+) blocks are (still reachable)")


def num(s):
    return int(s.replace(",", ""))


def run(shapes, mode):
    err = subprocess.run(["valgrind", "--leak-check=full", "--show-leak-kinds=all", "--num-callers=40", shapes, mode],
                         capture_output=True, text=True).stderr
    cats = ("definitely", "indirectly", "possibly", "reachable")
    result = {scope: {c: {"blocks": 0, "bytes": 0} for c in cats} for scope in ("program", "all")}
    for record in re.split(r"\n==\d+== \n", err):
        m = HEADER.search(record)
        if not m:
            continue
        if m.group(4):
            total, direct, blocks, cat = m.group(1), m.group(2), m.group(3), m.group(4)
        else:
            total, direct, blocks, cat = m.group(5), m.group(6), m.group(7), "reachable"
        nbytes = num(direct or total)
        scopes = ["all"] + (["program"] if re.search(r": shape_\w+ \(", record) else [])
        for s in scopes:
            result[s][cat]["blocks"] += num(blocks)
            result[s][cat]["bytes"] += nbytes
    return result


def main():
    shapes = sys.argv[1]
    version = subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip()
    print('{"valgrind": "%s",' % version)
    print(' "command": "valgrind --leak-check=full --show-leak-kinds=all --num-callers=40 shapes MODE",')
    print(' "modes": {')
    lines = []
    for mode in MODES:
        r = run(shapes, mode)
        lines.append('  "%s": {"program": %s,\n   "all": %s}' % (mode, dump(r["program"]), dump(r["all"])))
    print(",\n".join(lines))
    print(" }}")


def dump(cats):
    return "{" + ", ".join('"%s": {"blocks": %d, "bytes": %d}' % (c, v["blocks"], v["bytes"]) for c, v in cats.items()) + "}"


if __name__ == "__main__":
    main()
