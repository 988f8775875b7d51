#!/bin/sh
# make bench: generates the synthetic dumps (nothing large is committed), times heaptool on them
# against an in-run peer, and runs the other bench scripts (tests/bench/run_*.sh).
set -eu
: "${HEAPTOOL:=build/heaptool}" "${BUILD:=build}"
B="$BUILD/bench"
mkdir -p "$B"
RUNS=${RUNS:-5}

dump() { # objects refs -> path (generated once)
    p="$B/dump-$1-$2.json"
    [ -s "$p" ] || "$B/gen_dump" "$1" "$2" "$p"
    echo "$p"
}

echo "== heaptool stats (median of $RUNS runs; peak RSS)"
printf '%-26s %10s %10s %12s %12s\n' "dump" "size MiB" "time s" "peak MiB" "MiB/s"
for spec in "100000 200000" "1000000 2000000"; do
    set -- $spec
    p=$(dump "$1" "$2")
    mib=$(du -m "$p" | cut -f1)
    set -- $("$B/measure" "$RUNS" "$HEAPTOOL" stats "$p")
    printf '%-26s %10s %10s %12s %12.0f\n' "$(basename "$p")" "$mib" "$1" "$2" "$(awk "BEGIN{print $mib / $1}")"
done
echo "target at 1M objects / 2M refs: <= 0.6 s and <= 200 MiB"

if command -v python3 >/dev/null 2>&1; then
    p=$(dump 1000000 2000000)
    echo "== peer: python3 json.load + Counter on the same 1M-object dump (1 run)"
    set -- $("$B/measure" 1 python3 tests/bench/peer_stats.py "$p")
    echo "python3: $1 s, $2 MiB peak"
fi

for extra in tests/bench/run_*.sh; do
    [ -e "$extra" ] || continue
    echo "== $extra"
    HEAPTOOL="$HEAPTOOL" BUILD="$BUILD" sh "$extra"
done
