#!/bin/sh
# run_gc.sh: runs bench_gc (libhm) and gc_cpython.py (CPython) on the same shapes, several times
# each, interleaved so that both see the same machine, and prints the medians side by side.
# Usage: tests/bench/run_gc.sh [N [RUNS [REPEATS]]]   (BUILD=build, PYTHON=python3)
set -eu
N=${1:-1000000}
RUNS=${2:-5}
REPEATS=${3:-3}
BUILD=${BUILD:-build}
PYTHON=${PYTHON:-python3}
HERE=$(dirname "$0")
BENCH=$BUILD/bench/bench_gc
[ -x "$BENCH" ] || { echo "run_gc.sh: $BENCH not built (make $BENCH)" >&2; exit 2; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
i=0
while [ "$i" -lt "$REPEATS" ]; do
    "$BENCH" "$N" "$RUNS" | sed 's/^/hm /' >> "$out"
    "$PYTHON" "$HERE/gc_cpython.py" "$N" "$RUNS" | sed 's/^/py /' >> "$out"
    i=$((i + 1))
done

"$PYTHON" - "$out" "$N" "$("$PYTHON" -c 'import sys; print(sys.version.split()[0])')" <<'PY'
import statistics, sys
path, n, pyver = sys.argv[1], int(sys.argv[2]), sys.argv[3]
runs = {}
for line in open(path):
    who, name, value = line.split()
    runs.setdefault((name, who), []).append(float(value))
med = {k: statistics.median(v) for k, v in runs.items()}
rows = [
    ("full_collection_1M_live", "full gc, %d live tracked objects" % n, "ms", 1e3, 0.5),
    ("collect_1M_garbage_cycle", "gc of one %d-object garbage cycle" % n, "ms", 1e3, 0.5),
    ("create_destroy_per_object", "create+destroy one Node", "ns", 1e9, None),
    ("incref_decref_per_pair_1M", "incref+decref, 1M objects", "ns", 1e9, None),
    ("incref_decref_per_pair_hot", "incref+decref, one object", "ns", 1e9, None),
]
print("%-38s %12s %12s %7s %8s" % ("shape (median)", "libhm", "CPython " + pyver, "ratio", "target"))
for key, label, unit, scale, target in rows:
    hm, py = med.get((key, "hm")), med.get((key, "py"))
    if hm is None:
        continue
    hs = "%.1f %s" % (hm * scale, unit)
    ps = "%.1f %s" % (py * scale, unit) if py is not None else "-"
    ratio = "%.2f" % (hm / py) if py else "-"
    tg = ("<= %.1f" % target) if target else ""
    if target and py:
        tg += " ok" if hm / py <= target else " MISS"
    print("%-38s %12s %12s %7s %8s" % (label, hs, ps, ratio, tg))
PY
