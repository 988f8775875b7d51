#!/usr/bin/env python3
"""leaks_vs_valgrind.py: `heaptool leaks` on recorded dumps against valgrind's memcheck, run here.

    python3 tests/record/leaks_vs_valgrind.py HEAPTOOL RECORDER SHAPES

Each mode of tests/record/shapes.c runs twice: under valgrind (--leak-check=full
--show-leak-kinds=all), and under the recorder (LD_PRELOAD=RECORDER), whose dump goes through
`heaptool leaks --json --reachable`. Loss records are split the same way on both sides: the
program's own blocks (a frame named shape_*), glibc's thread vectors (allocate_dtv), the rest.

- the program's blocks: every category, blocks and bytes, exactly as memcheck counts them;
- all blocks but the thread vectors: definitely, indirectly and possibly lost exactly, still
  reachable at least memcheck's. The dump is taken at exit before glibc frees its own buffers
  (valgrind runs __libc_freeres first), so stdout's buffer is still reachable here and not there;
- the thread vectors: one a live thread, as many blocks as memcheck's when a thread is parked.
  Their size differs (the recorder's own TLS makes each DTV longer) and so do exited threads'
  ones, which glibc keeps in its stack cache and __libc_freeres frees under valgrind.

Prints one line per mode (blocks/bytes per category, thread vectors left out) and one "FAIL"
line per difference; exits 1 if there is any.
Exits 0 with a note when valgrind is not installed."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

MODES = ["dropped", "list", "cycle", "interior", "globals", "stack", "tls", "threads", "registers", "mmap", "reuse"]
KINDS = {"definitely": "definitely_lost", "indirectly": "indirectly_lost", "possibly": "possibly_lost",
         "reachable": "still_reachable"}
RECORD = re.compile(r"([\d,]+)(?: \(([\d,]+) direct, [\d,]+ indirect\))? bytes in ([\d,]+) blocks are "
                    r"(definitely lost|indirectly lost|possibly lost|still reachable) in loss record")


def scope(functions):
    if any(f.startswith("shape_") for f in functions):
        return "program"
    return "dtv" if "allocate_dtv" in functions else "other"


def empty():
    return {s: {k: [0, 0] for k in KINDS} for s in ("program", "dtv", "other")}


def add(table, where, kind, blocks, nbytes):
    table[where][kind][0] += blocks
    table[where][kind][1] += nbytes


def valgrind(shapes, mode):
    err = subprocess.run(["valgrind", "--leak-check=full", "--show-leak-kinds=all", "--num-callers=64",
                          shapes, mode], capture_output=True, text=True).stderr
    table = empty()
    for chunk in re.split(r"\n==\d+== \n", err):
        m = RECORD.search(chunk)
        if m:
            functions = re.findall(r"(?:at|by) 0x[0-9A-F]+: (\S+)", chunk)
            kind = m.group(4).split()[0].replace("still", "reachable")
            add(table, scope(functions), kind, int(m.group(3).replace(",", "")),
                int((m.group(2) or m.group(1)).replace(",", "")))
    return table


def recorded(heaptool, recorder, shapes, mode, tmp):
    out = os.path.join(tmp, mode + ".json")
    env = dict(os.environ, LD_PRELOAD=recorder, HEAPTOOL_OUTPUT=out)
    subprocess.run([shapes, mode], env=env, capture_output=True, check=True)
    got = json.loads(subprocess.run([heaptool, "leaks", "--json", "--reachable", out],
                                    capture_output=True, text=True, check=True).stdout)
    table = empty()
    for r in got["records"]:
        kind = next(k for k, v in KINDS.items() if v == r["kind"])
        add(table, scope([f.get("function", "") for f in r["stack"]]), kind, r["blocks"], r["bytes"])
    return table


def compare(mode, vg, us):
    """The differences, one line each."""
    problems = []

    def check(ok, what, want, got):
        if not ok:
            problems.append("FAIL %s %s: memcheck %s [blocks, bytes], heaptool %s" % (mode, what, want, got))

    for kind in KINDS:
        check(vg["program"][kind] == us["program"][kind], "program's blocks " + kind,
              vg["program"][kind], us["program"][kind])
        want = [a + b for a, b in zip(vg["program"][kind], vg["other"][kind])]
        got = [a + b for a, b in zip(us["program"][kind], us["other"][kind])]
        if kind == "reachable":
            check(got[0] >= want[0] and got[1] >= want[1], "all blocks but DTVs reachable (at least)", want, got)
        else:
            check(want == got, "all blocks but DTVs " + kind, want, got)
    if mode in ("stack", "tls"):  # a thread alive at exit: its DTV, reached through an interior pointer
        want = sum(vg["dtv"][k][0] for k in KINDS)
        check(want == 1 and us["dtv"]["possibly"][0] == 1, "DTV blocks", want, us["dtv"])
    return problems


def summary(table):
    return ", ".join("%s %d/%d" % (k, sum(table[s][k][0] for s in ("program", "other")),
                                   sum(table[s][k][1] for s in ("program", "other"))) for k in KINDS)


def main():
    heaptool, recorder, shapes = sys.argv[1:4]
    if not shutil.which("valgrind"):
        print("leaks_vs_valgrind.py: valgrind not installed, skipped")
        return 0
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for mode in MODES:
            vg, us = valgrind(shapes, mode), recorded(heaptool, recorder, shapes, mode, tmp)
            problems = compare(mode, vg, us)
            failed += len(problems)
            print("%s %s: heaptool %s" % ("FAIL" if problems else "ok", mode, summary(us)))
            for p in problems:
                print(p)
    print("leaks vs valgrind: %d modes, %d differences" % (len(MODES), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
