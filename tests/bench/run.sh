#!/bin/sh
# make bench: generates synthetic dumps (nothing large is committed), times heaptool on them with
# peak RSS, prints one table (time and peak RSS per command and size, the loaded graph's own
# bytes, and how each grows from one size to the next), compares with an in-run peer, then runs
# the other bench scripts (tests/bench/run_*.sh).
# SIZES picks the tiers (default "100000 1000000 10000000"); RUNS the repetitions (median; the
# 10M tier runs once); BENCH_DIR where the dumps go (default $BUILD/bench: a 10M dump is 1.5 GB);
# LOCK, when set, a file to flock around every timing so benchmarks of others don't overlap.
set -eu
. "$(dirname "$0")/lib.sh"
# These figures are of reading the JSON itself: no binary index (run_index.sh times those).
HEAPTOOL_INDEX=never
export HEAPTOOL_INDEX
SIZES=${SIZES:-"100000 1000000 10000000"}
COMMANDS="stats gzip top cycles diff"

mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }

results=$(mktemp)
trap 'rm -f "$results"' EXIT
for n in $SIZES; do
    refs=$(tier_refs "$n")
    runs=$(tier_runs "$n")
    p=$(bench_dump "$n" "$refs")
    q=$(bench_dump "$n" "$refs" 7)
    [ -s "$p.gz" ] || gzip -1 -c "$p" >"$p.gz"
    graph=$("$HEAPTOOL" stats --json "$p" | sed 's/.*"memory":{[^}]*"total":\([0-9]*\)}.*/\1/')
    echo "$n $refs $(du -m "$p" | cut -f1) $(du -m "$p.gz" | cut -f1) $(mib "$graph") $runs" >>"$results"
    for c in $COMMANDS; do
        case $c in
        stats) set -- stats "$p" ;;
        gzip) set -- stats "$p.gz" ;;
        top) set -- top "$p" ;;
        cycles) set -- cycles "$p" ;;
        diff) set -- diff --force "$p" "$q" ;;
        esac
        echo "$n $c $(measure "$runs" "$HEAPTOOL" "$@")" >>"$results"
    done
done

# One row per size: time and peak RSS per command; then growth from each size to the next.
awk -v commands="$COMMANDS" '
function human(n) { return n >= 1000000 ? n / 1000000 "M" : n >= 1000 ? n / 1000 "K" : n }
NF == 6 { order[++rows] = $1; refs[$1] = $2; json[$1] = $3; gz[$1] = $4; graph[$1] = $5; runs[$1] = $6; next }
{ t[$1, $2] = $3; m[$1, $2] = $4 }
END {
    nc = split(commands, cmd, " ")
    head["stats"] = "stats"; head["gzip"] = "stats, gzip"; head["top"] = "top (dominators)"
    head["cycles"] = "cycles"; head["diff"] = "diff of two"
    printf "%-22s %-18s %-9s", "objects / refs", "file (gzip) MiB", "graph"
    for (i = 1; i <= nc; i++) printf " | %-17s", head[cmd[i]]
    printf "\n"
    for (r = 1; r <= rows; r++) {
        n = order[r]
        printf "%-22s %-18s %-9s", human(n) " / " human(refs[n]) " (" runs[n] " run" (runs[n] > 1 ? "s" : "") ")",
               json[n] " (" gz[n] ")", graph[n] " MiB"
        for (i = 1; i <= nc; i++) printf " | %6.2f s %5.0f MiB", t[n, cmd[i]], m[n, cmd[i]]
        printf "\n"
    }
    for (r = 2; r <= rows; r++) {
        a = order[r - 1]; b = order[r]
        printf "%-22s %-18s %-9s", "growth x" b / a, "", sprintf("x%.1f", graph[b] / graph[a])
        for (i = 1; i <= nc; i++)
            printf " | x%-6.1f   x%-6.1f", t[b, cmd[i]] / t[a, cmd[i]], m[b, cmd[i]] / m[a, cmd[i]]
        printf "\n"
    }
    n = order[rows]
    printf "peak RSS of stats / graph at %s objects: %.2f\n", human(n), m[n, "stats"] / graph[n]
    printf "diff / stats at %s objects: %.2f; cycles / stats: %.2f; gzip / plain: %.2f\n", human(n),
           t[n, "diff"] / t[n, "stats"], t[n, "cycles"] / t[n, "stats"], t[n, "gzip"] / t[n, "stats"]
}' "$results"
echo "targets: stats 1M/2M <= 0.6 s, <= 200 MiB; 10M/30M stats <= 6 s, <= 1.2 GB; top 10M/30M <= 10 s,"
echo "<= 1.5 GB; gzip within 1.5x of plain; cycles and diff within 2x of stats; peak RSS <= 1.3x graph"

if command -v python3 >/dev/null 2>&1; then
    p=$(bench_dump 1000000 2000000)
    echo "== peer: python3 json.load + Counter on the 1M-object dump (1 run)"
    echo "  python3 peer_stats.py: $(measure 1 python3 tests/bench/peer_stats.py "$p" | awk '{ printf "%s s, %s MiB", $1, $2 }')"
fi

for extra in tests/bench/run_*.sh; do
    [ -e "$extra" ] || continue
    echo "== $extra"
    HEAPTOOL="$HEAPTOOL" BUILD="$BUILD" sh "$extra"
done
