"""tracemalloc_driver.py OUTDIR: run under python3 -X tracemalloc=25 by test_heapdump_export.py.
Takes tracemalloc's snapshot and an export at the same moment, twice (tracemalloc_workload's
build(), then part of it freed and grow()), and writes tracemalloc's own figures for the
workload's lines to OUTDIR/figures.json: statistics('lineno') of each snapshot, compare_to
between them, and one object's whole traceback. A small process (python3 -S) keeps the dumps
quick: tracing makes every allocation of the exporter slow."""
import dis
import gc
import json
import os
import sys
import tracemalloc
import types

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(os.path.dirname(os.path.dirname(HERE)), "formats"), HERE]
import heapdump_export  # noqa: E402
import tracemalloc_workload as workload  # noqa: E402


def workload_lines():
    """The lines inside the workload's function bodies: not the def and class statements, whose
    lines also allocate a type's and a module's tables, which are no objects."""
    lines = set()
    codes = [f.__code__ for f in (workload.build, workload.grow, workload.Point.__init__)]
    while codes:
        code = codes.pop()
        lines.update(line for _, line in dis.findlinestarts(code) if line and line > code.co_firstlineno)
        codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
    return lines


def snapshot_and_dump(path):
    """tracemalloc's snapshot of the workload's file, and the export. Free lists are emptied
    first (a freed tuple or float there is still a block to tracemalloc); the snapshot is cut to
    the traces whose innermost frame is in the workload's file (statistics('lineno') groups by
    that frame, so its figures for those lines are the same) before the dump, which would list
    the whole snapshot's traces too."""
    gc.collect()
    snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, workload.__file__)])
    heapdump_export.dump(path)
    return snapshot


def ours(stats, lines):
    return [s for s in stats if s.traceback[0].filename == workload.__file__ and s.traceback[0].lineno in lines]


# What the workload made, held by a global: gc lists this module's dict, and through it the
# export finds untracked objects too (a tuple of strs only a running frame holds is not found).
kept = {}


def main(outdir):
    assert tracemalloc.is_tracing(), "run me under python3 -X tracemalloc=25"
    lines = workload_lines()
    kept["data"] = workload.build(200)
    before = snapshot_and_dump(os.path.join(outdir, "old.json"))
    point = kept["data"][2][7]
    figures = {
        "file": workload.__file__,
        "lines": sorted(lines),
        "statistics": [[s.traceback[0].lineno, s.count, s.size] for s in ours(before.statistics("lineno"), lines)],
        "point": id(point),
        "traceback": [[f.filename, f.lineno] for f in reversed(tracemalloc.get_object_traceback(point))],
    }
    point = None
    kept["data"] = kept["data"][0]  # the words stay; blobs, points and pairs go
    kept["more"] = workload.grow(80)
    after = snapshot_and_dump(os.path.join(outdir, "new.json"))
    figures["compare_to"] = [[s.traceback[0].lineno, s.count, s.count_diff, s.size, s.size_diff]
                             for s in ours(after.compare_to(before, "lineno"), lines)]
    with open(os.path.join(outdir, "figures.json"), "w") as f:
        json.dump(figures, f)


if __name__ == "__main__":
    main(sys.argv[1])
