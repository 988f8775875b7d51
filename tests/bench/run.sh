#!/bin/sh
# make bench: generates synthetic dumps (nothing large is committed), times heaptool on them with
# peak RSS, compares with an in-run peer, then runs the other bench scripts (tests/bench/run_*.sh).
# SIZES picks the tiers (default "100000 1000000 10000000"); RUNS the repetitions (median).
set -eu
: "${HEAPTOOL:=build/heaptool}" "${BUILD:=build}"
B="$BUILD/bench"
mkdir -p "$B"
RUNS=${RUNS:-3}
SIZES=${SIZES:-"100000 1000000 10000000"}

dump() { # objects refs seed -> path (generated once)
    p="$B/dump-$1-$2${3:+-s$3}.json"
    [ -s "$p" ] || "$B/gen_dump" "$1" "$2" "$p" ${3:-}
    echo "$p"
}

row() { # label runs command...
    label=$1 runs=$2
    shift 2
    set -- $("$B/measure" "$runs" "$@")
    printf '  %-34s %8s s %9s MiB\n' "$label" "$1" "$2"
}

for n in $SIZES; do
    refs=$((n * 3))
    [ "$n" -le 1000000 ] && refs=$((n * 2)) # the issues' shapes: 1M/2M and 10M/30M
    runs=$RUNS
    [ "$n" -ge 10000000 ] && runs=1
    p=$(dump "$n" "$refs")
    q=$(dump "$n" "$refs" 7)
    [ -s "$p.gz" ] || gzip -1 -c "$p" >"$p.gz"
    echo "== $n objects, $refs references: $(du -m "$p" | cut -f1) MiB of JSON, $(du -m "$p.gz" | cut -f1) MiB gzipped (median of $runs)"
    row "stats" "$runs" "$HEAPTOOL" stats "$p"
    row "stats (gzip)" "$runs" "$HEAPTOOL" stats "$p.gz"
    row "top (load + dominators)" "$runs" "$HEAPTOOL" top "$p"
    row "cycles" "$runs" "$HEAPTOOL" cycles "$p"
    row "diff of two dumps" "$runs" "$HEAPTOOL" diff --force "$p" "$q"
done
echo "targets: stats 1M/2M <= 0.6 s, <= 200 MiB; 10M/30M stats <= 6 s, <= 1.2 GB; top 10M/30M <= 10 s,"
echo "<= 1.5 GB; gzip within 1.5x of plain; cycles and diff within 2x of stats"

if command -v python3 >/dev/null 2>&1; then
    p=$(dump 1000000 2000000)
    echo "== peer: python3 json.load + Counter on the 1M-object dump (1 run)"
    row "python3 peer_stats.py" 1 python3 tests/bench/peer_stats.py "$p"
fi

for extra in tests/bench/run_*.sh; do
    [ -e "$extra" ] || continue
    echo "== $extra"
    HEAPTOOL="$HEAPTOOL" BUILD="$BUILD" sh "$extra"
done
