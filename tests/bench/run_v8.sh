#!/bin/sh
# run_v8.sh: heaptool against memlab on Node.js heap snapshots, in the same run. A Node.js
# script (v8_grow.js) writes snapshots of a heap grown by N objects (kept in $BUILD/bench, made
# once); `heaptool stats --sort retained` and `memlab analyze object-size` are timed on the same
# file (median wall time, peak RSS), and v8_agree.py checks that both name the same largest
# retainers with the same retained sizes.
#   V8_SIZES  objects grown per tier (default "730000 6000000": about 1.5M and 12M nodes)
#   RUNS      repetitions at tiers under 5M objects (default 3; the larger ones run once)
#   MEMLAB    the memlab command (default: memlab on PATH, else the copy
#             ~/.cache/heaptool/memlab/node_modules/.bin/memlab, installed as printed below)
# Targets: heaptool at least 5x faster than memlab, with at most 0.4x its peak RSS.
set -eu
: "${HEAPTOOL:=build/heaptool}" "${BUILD:=build}"
B="$BUILD/bench"
HERE=$(dirname "$0")
RUNS=${RUNS:-3}
V8_SIZES=${V8_SIZES:-"730000 6000000"}
CACHE="$HOME/.cache/heaptool/memlab"

if ! command -v node >/dev/null 2>&1; then
    echo "run_v8.sh: node is not installed: skipped (Debian: apt-get install nodejs)"
    exit 0
fi
if [ -z "${MEMLAB:-}" ]; then
    if command -v memlab >/dev/null 2>&1; then
        MEMLAB=memlab
    elif [ -x "$CACHE/node_modules/.bin/memlab" ]; then
        MEMLAB="$CACHE/node_modules/.bin/memlab"
    fi
fi
if [ -z "${MEMLAB:-}" ]; then
    echo "run_v8.sh: memlab not found; heaptool runs alone. To compare with it, install it once with"
    echo "  mkdir -p $CACHE && PUPPETEER_SKIP_DOWNLOAD=1 npm install --prefix $CACHE memlab"
fi

row() { # label figures...
    printf '  %-40s %8s s %9s MiB\n' "$@"
}

mkdir -p "$B"
for n in $V8_SIZES; do
    snap="$B/v8-$n.heapsnapshot"
    if [ ! -s "$snap" ]; then
        # the heap grows by n Items and n strings; V8's own snapshot writer needs the room
        node --max-old-space-size=16384 "$HERE/v8_grow.js" "$n" "$B/v8-$n-before.heapsnapshot" "$snap"
    fi
    runs=$RUNS
    [ "$n" -ge 5000000 ] && runs=1
    nodes=$(head -c 4096 "$snap" | sed -n 's/.*"node_count":\([0-9]*\).*/\1/p')
    echo "== V8 heap snapshot: $n objects grown, $nodes nodes, $(du -m "$snap" | cut -f1) MiB (median of $runs)"
    set -- $("$B/measure" "$runs" "$HEAPTOOL" stats --sort retained "$snap")
    ht_s=$1 ht_mb=$2
    row "heaptool stats --sort retained" "$ht_s" "$ht_mb"
    set -- $("$B/measure" "$runs" "$HEAPTOOL" stats "$snap")
    row "heaptool stats" "$1" "$2"
    [ -n "${MEMLAB:-}" ] || continue
    set -- $(MEASURE_STDOUT="$B/v8-$n.memlab.txt" "$B/measure" "$runs" "$MEMLAB" analyze object-size --snapshot "$snap")
    row "memlab analyze object-size" "$1" "$2"
    python3 - "$1" "$2" "$ht_s" "$ht_mb" <<'PY'
import sys
ml_s, ml_mb, ht_s, ht_mb = map(float, sys.argv[1:])
speed, rss = ml_s / ht_s, ht_mb / ml_mb
print("  heaptool: %.1fx faster (target >= 5x), %.2fx the peak RSS (target <= 0.4x): %s"
      % (speed, rss, "met" if speed >= 5 and rss <= 0.4 else "NOT met"))
PY
    "$HEAPTOOL" top --json -n 100 "$snap" >"$B/v8-$n.top.json"
    python3 "$HERE/v8_agree.py" "$B/v8-$n.memlab.txt" "$B/v8-$n.top.json" 5 | sed 's/^/  /'
done
