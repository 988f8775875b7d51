#!/bin/sh
# run_index.sh: the binary index (formats/heapdump-binary.md) on the bench dumps: the time and
# peak RSS of `heaptool index` against `heaptool top` on the JSON (which parses and computes the
# dominators too), then each command from the index, the index's size against the in-memory
# graph, and `diff` of two indexed dumps. INDEX_SIZES picks the tiers (default "1000000
# 10000000"); RUNS the repetitions of the commands from the index (median). CPU seconds (user +
# system) are shown beside wall time: on a shared machine they are the steadier figure. The
# indexes go to OUT (default: beside the dumps, which may be read-only when shared); their
# section tables are listed (hdx_sections.py) before they are removed.
set -eu
: "${HEAPTOOL:=build/heaptool}" "${BUILD:=build}"
B="$BUILD/bench"
D=${BENCH_DIR:-$B}
RUNS=${RUNS:-3}
OUT=${OUT:-$D}
mkdir -p "$OUT"
export HEAPTOOL_INDEX=never # every index here is made explicitly

measure() {
    if [ -n "${LOCK:-}" ]; then flock "$LOCK" "$B/measure" "$@"; else "$B/measure" "$@"; fi
}

for n in ${INDEX_SIZES:-1000000 10000000}; do
    refs=$((n * 3))
    [ "$n" -le 1000000 ] && refs=$((n * 2))
    p="$D/dump-$n-$refs.json"
    q="$D/dump-$n-$refs-s7.json"
    [ -s "$p" ] || "$B/gen_dump" "$n" "$refs" "$p"
    [ -s "$q" ] || "$B/gen_dump" "$n" "$refs" "$q" 7
    px="$OUT/$(basename "$p").hdx"
    qx="$OUT/$(basename "$q").hdx"
    echo "-- $n objects, $refs references ($(du -m "$p" | cut -f1) MiB of JSON)"
    json_top=$(measure 1 "$HEAPTOOL" top "$p")
    build=$(measure 1 "$HEAPTOOL" index -o "$px" "$p")
    "$HEAPTOOL" index -o "$qx" "$q"
    echo "$json_top $build" | awk '{ printf "  top on the JSON   %7.2f s %6.0f MiB  cpu %6.2f s\n  index             %7.2f s %6.0f MiB  cpu %6.2f s  (%.2fx top, cpu %.2fx)\n", $1, $2, $3, $4, $5, $6, $4 / $1, $6 / $3 }'
    id=$("$HEAPTOOL" top --json -n 1 "$px" | sed 's/.*"top":\[{"id":\([0-9]*\).*/\1/')
    for c in stats show path top cycles leaks diff; do
        case $c in
        show | path) set -- "$c" "$px" "$id" ;;
        diff) set -- diff --force "$px" "$qx" ;;
        *) set -- "$c" "$px" ;;
        esac
        measure "$RUNS" "$HEAPTOOL" "$@" | awk -v c="$c" '{ printf "  %-17s %7.3f s %6.0f MiB  cpu %6.3f s\n", c " (index)", $1, $2, $3 }'
    done
    graph=$("$HEAPTOOL" stats --json "$px" | sed 's/.*"memory":{[^}]*"total":\([0-9]*\)}.*/\1/')
    size=$(stat -c %s "$px")
    awk -v s="$size" -v g="$graph" 'BEGIN { printf "  index size        %7.0f MiB, %.2fx the in-memory graph (%.0f MiB)\n", s / 1048576, s / g, g / 1048576 }'
    python3 "$(dirname "$0")/hdx_sections.py" "$px"
    rm -f "$px" "$qx"
done
echo "targets at 10M/30M: index <= 1.3x top on the JSON; stats, show, path <= 0.05 s; top <= 0.1 s;"
echo "cycles, leaks <= 1 s; diff of two indexes <= 1.5 s; index <= 1.5x the in-memory graph"
echo "machine load: $(cut -d' ' -f1-3 /proc/loadavg)"
