# lib.sh: what the bench scripts (tests/bench/run*.sh) share; they source it after `set -eu`.
#   $B                          the benchmark programs ($BUILD/bench)
#   $D                          where the synthetic dumps go (BENCH_DIR, default $B)
#   $RUNS                       repetitions (default 3)
#   measure RUNS COMMAND...     tests/bench/measure.c's figures for COMMAND (median of RUNS), under
#                               flock $LOCK when LOCK is set, so others' benchmarks don't overlap
#   tier_refs N, tier_runs N    the issues' shapes (1M objects with 2M references, 10M with 30M)
#                               and how often a tier runs (10M: once)
#   bench_dump N REFS [SEED]    the synthetic dump's path, generated once by gen_dump
: "${HEAPTOOL:=build/heaptool}" "${BUILD:=build}"
B="$BUILD/bench"
D=${BENCH_DIR:-$B}
mkdir -p "$B" "$D"
RUNS=${RUNS:-3}

measure() {
    if [ -n "${LOCK:-}" ]; then flock "$LOCK" "$B/measure" "$@"; else "$B/measure" "$@"; fi
}

tier_refs() { if [ "$1" -le 1000000 ]; then echo $(($1 * 2)); else echo $(($1 * 3)); fi; }
tier_runs() { if [ "$1" -ge 10000000 ]; then echo 1; else echo "$RUNS"; fi; }

bench_dump() {
    p="$D/dump-$1-$2${3:+-s$3}.json"
    [ -s "$p" ] || "$B/gen_dump" "$1" "$2" "$p" ${3:-}
    echo "$p"
}
