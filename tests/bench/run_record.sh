#!/bin/sh
# run_record.sh: the native recorder's cost. On a malloc-heavy CPython workload
# (record_workload.py under PYTHONMALLOC=malloc) and an allocation-heavy C program
# (record_alloc churn), times native runs, the recorder at --depth 0 and at the default depth
# (32), heaptrack and valgrind's memcheck when installed: median wall time of RUNS (valgrind: one
# run) and peak RSS (wait4's: the program's, or the dump child's when that is larger). Then the
# dump of 10M live blocks: the program's pause at the fork and the time to the written file.
# Targets: default depth <= half of heaptrack's overhead; depth 0 <= 1.15x native; RSS <= 1.3x
# native; 10M blocks dumped in < 10 s with a pause < 50 ms.
set -eu
. "$(dirname "$0")/lib.sh"
LIB=$BUILD/libheaptool-record.so
PYTHON=${PYTHON:-/usr/bin/python3}
LIVE=${LIVE:-10000000}
CHURN=${CHURN:-2000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

results=$tmp/results
run_tools() { # workload-name command...   (heaptrack's chatter on stdout is dropped by measure)
    name=$1
    shift
    echo "$name native $(measure "$RUNS" "$@")" >>"$results"
    echo "$name depth0 $(measure "$RUNS" env HEAPTOOL_DEPTH=0 HEAPTOOL_OUTPUT="$tmp/d0.json.gz" LD_PRELOAD="$LIB" "$@")" >>"$results"
    echo "$name depth32 $(measure "$RUNS" env HEAPTOOL_OUTPUT="$tmp/d32.json.gz" LD_PRELOAD="$LIB" "$@")" >>"$results"
    if command -v heaptrack >/dev/null 2>&1; then
        echo "$name heaptrack $(measure "$RUNS" heaptrack -o "$tmp/ht" "$@")" >>"$results"
    fi
    if command -v valgrind >/dev/null 2>&1; then
        echo "$name valgrind $(measure 1 valgrind -q --leak-check=full --log-file="$tmp/vg.log" "$@")" >>"$results"
    fi
}

# In the environment, not through env(1): heaptrack and valgrind would trace env, not python.
PYTHONMALLOC=malloc run_tools python "$PYTHON" tests/bench/record_workload.py
run_tools c-churn "$B/record_alloc" churn "$CHURN"
# The program's own peak RSS at exit (the numbers above are the larger of it and the dump child's).
for depth in 0 32; do
    PYTHONMALLOC=malloc HEAPTOOL_VERBOSE=1 HEAPTOOL_DEPTH=$depth HEAPTOOL_OUTPUT="$tmp/v.json.gz" LD_PRELOAD="$LIB" \
        "$PYTHON" tests/bench/record_workload.py 2>&1 >/dev/null |
        sed -n "s/.*program peak RSS \([0-9]*\) MiB/python depth$depth: the program's own peak RSS \1 MiB/p"
done

# CPU seconds (user + system, the dump children and heaptrack's interpreter included) beside wall
# time: on a shared machine the other work stretches wall time, much less CPU time.
awk '
{ t[$1, $2] = $3; m[$1, $2] = $4; c[$1, $2] = $5; if (!seen[$1]++) order[n++] = $1 }
END {
    printf "%-8s %-10s %9s %7s %8s %7s %8s %7s\n", "workload", "tool", "seconds", "x", "CPU s", "x CPU", "MiB", "x RSS"
    for (i = 0; i < n; i++) {
        w = order[i]
        split("native depth0 depth32 heaptrack valgrind", tools, " ")
        for (k = 1; k <= 5; k++) {
            x = tools[k]
            if (!((w, x) in t)) continue
            printf "%-8s %-10s %9.2f %7.2f %8.2f %7.2f %8d %7.2f\n", w, x, t[w, x], t[w, x] / t[w, "native"],
                c[w, x], c[w, x] / c[w, "native"], m[w, x], m[w, x] / m[w, "native"]
        }
        if ((w, "heaptrack") in t) {
            ours = t[w, "depth32"] - t[w, "native"]; theirs = t[w, "heaptrack"] - t[w, "native"]
            ratio = (theirs > 0) ? ours / theirs : 0
            oc = c[w, "depth32"] - c[w, "native"]; tc = c[w, "heaptrack"] - c[w, "native"]
            printf "%-8s overhead at depth 32: %.2f s, heaptrack %.2f s: %.2f of it; in CPU %.2f of it (target <= 0.5)\n", w, ours, theirs, ratio, (tc > 0) ? oc / tc : 0
        }
    }
}' "$results"

# 10M live blocks: HEAPTOOL_VERBOSE has the recorder say the pause and the time to the file.
# The pause is mostly the kernel copying page tables at the fork: the same heap's fork without
# the recorder (record_alloc fork, median of 5) is the program's own part of it. With glibc's
# glibc.malloc.hugetlb=1 tunable the program's heap lies in huge pages where the kernel has them
# to give (THP "madvise" mode), and its part shrinks to almost nothing (`heaptool record` sets it
# unless --huge-pages no). HEAPTOOL_VERBOSE splits the pause: threads stopped, tables held, fork.
# The dump asked for while the program runs (record_alloc snap) is the forked one; the one at exit
# of a program with one thread is written in place, the program ending anyway (record_alloc live).
echo "== $LIVE live blocks, dumped while running and at exit (depth 0 and 32)"
live_dump() { # label, mode, then environment assignments for the run
    label=$1 mode=$2
    shift 2
    env "$@" HEAPTOOL_VERBOSE=1 HEAPTOOL_OUTPUT="$tmp/live.json" LD_PRELOAD="$LIB" \
        "$B/record_alloc" "$mode" "$LIVE" >/dev/null 2>"$tmp/live.err"
    pause=$(sed -n 's/.*program paused \([0-9.]*\) ms.*/\1/p' "$tmp/live.err" | tail -1)
    written=$(sed -n 's/.*written \(in place at exit \)*in \([0-9.]*\) s/\2/p' "$tmp/live.err" | tail -1)
    cpu=$(sed -n 's/.*; \([0-9.]*\) s of CPU/\1/p' "$tmp/live.err" | tail -1)
    size=$(du -m "$tmp/live.json" | cut -f1)
    if [ "$mode" = snap ]; then
        echo "$label, while running: paused $pause ms, written in $written s ($cpu s of CPU), $size MB (targets: < 50 ms, < 10 s)"
    else
        echo "$label, at exit, in place: written in $written s, $size MB (target: < 10 s)"
    fi
    rm -f "$tmp/live.json"
}
echo "the same heap's own fork, without the recorder: $("$B/record_alloc" fork "$LIVE") ms"
for depth in 0 32; do
    live_dump "depth $depth" snap HEAPTOOL_DEPTH=$depth
    live_dump "depth $depth" live HEAPTOOL_DEPTH=$depth
done
echo "with glibc.malloc.hugetlb=1, own fork: $(GLIBC_TUNABLES=glibc.malloc.hugetlb=1 "$B/record_alloc" fork "$LIVE") ms"
live_dump "depth 0, glibc.malloc.hugetlb=1" HEAPTOOL_DEPTH=0 GLIBC_TUNABLES=glibc.malloc.hugetlb=1
