#!/bin/sh
# run_pool.sh: the pool allocator against glibc malloc/free (alloc+free pairs of mixed sizes
# <= 512 bytes, target >= 2x glibc's throughput), and the fragmentation scenario: RSS and arenas
# before and after freeing 90% of the blocks in an arena-emptying pattern.
# Usage: tests/bench/run_pool.sh [OPS [RUNS [N]]]   (BUILD=build)
set -eu
OPS=${1:-10000000}
RUNS=${2:-5}
N=${3:-2000000}
BUILD=${BUILD:-build}
BENCH=$BUILD/bench/bench_pool
[ -x "$BENCH" ] || { echo "run_pool.sh: $BENCH not built (make $BENCH)" >&2; exit 2; }

out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$BENCH" speed "$OPS" "$RUNS" >>"$out"
# Separate processes: one allocator's pages must not count in the other's RSS.
"$BENCH" frag pool "$N" >>"$out"
"$BENCH" frag glibc "$N" >>"$out"

awk -v ops="$OPS" -v runs="$RUNS" '
{ v[$1] = $2 }
function row(label, pool, glibc,    r) {
    r = glibc / pool
    printf "%-44s %9.1f ns %9.1f ns %7.2fx %s\n", label, pool, glibc, r, (r >= 2 ? ">= 2 ok" : ">= 2 MISS")
}
END {
    printf "%-44s %12s %12s %8s %s\n", "alloc+free pair, sizes 16..512 (median of " runs ")", "libhm pool", "glibc", "speedup", "target"
    row("churn: 1000 live, replace a random one", v["churn1000_pool_ns"], v["churn1000_glibc_ns"])
    row("batch: 1000 allocs, then shuffled frees", v["batch1000_pool_ns"], v["batch1000_glibc_ns"])
    row("churn: 10000 live (cache misses dominate)", v["churn10000_pool_ns"], v["churn10000_glibc_ns"])
    row("batch: 100000 allocs (cache misses dominate)", v["batch100000_pool_ns"], v["batch100000_glibc_ns"])
    printf "\nfragmentation: %d blocks of 64 bytes, %d freed (9 of every 10 runs of 100000)\n", v["frag_pool_blocks"], v["frag_pool_freed"]
    printf "%-44s %12s %12s\n", "", "libhm pool", "glibc"
    printf "%-44s %9.1f MiB %9.1f MiB\n", "RSS after allocating", v["frag_pool_rss_before_kib"] / 1024, v["frag_glibc_rss_before_kib"] / 1024
    printf "%-44s %9.1f MiB %9.1f MiB\n", "RSS after freeing 90%", v["frag_pool_rss_after_kib"] / 1024, v["frag_glibc_rss_after_kib"] / 1024
    printf "%-44s %12d\n", "arenas when full", v["frag_pool_arenas_full"]
    printf "%-44s %12d\n", "arenas after the frees", v["frag_pool_arenas_after"]
    printf "%-44s %12d\n", "arenas returned to the OS", v["frag_pool_arenas_reclaimed"]
}' "$out"
