#!/bin/sh
# run_query.sh: heaptool query and export on the synthetic dumps of run.sh (made once, shared):
# each statement of issue 20's targets, timed (median wall and CPU time, peak RSS) beside the
# commands it is measured against. The targets are checked on CPU time (user + system), which a
# machine busy with other work blurs far less than wall time. A statement's time "after load" is
# its run's less that of a query that only loads (SELECT 1); lookups and paths are many
# statements in one run (-f), averaged.
#   QUERY_SIZES  objects per tier (default "1000000 10000000"; 1M gets 2M refs, 10M gets 30M)
#   RUNS         repetitions under 10M objects (default 3; 10M runs once)
#   EXPORT_ROUNDS  rounds of a load then an export, per tier (default 5)
# Targets: GROUP BY type within 2x of stats; id lookup and path_to_root <= 10 ms after load; the
# refs join <= 1 s after load; at 10M peak RSS <= 1.3x top's; CSV export <= 1.5x the load time.
set -eu
. "$(dirname "$0")/lib.sh"
QUERY_SIZES=${QUERY_SIZES:-"1000000 10000000"}
EXPORT_ROUNDS=${EXPORT_ROUNDS:-5}
# The load is of the JSON itself, as in run.sh: an automatic index would make it a mapping.
HEAPTOOL_INDEX=${HEAPTOOL_INDEX:-never}
export HEAPTOOL_INDEX
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# k statements: the template with %d replaced by ids spread over 1..n (a fixed pseudo-random walk).
statements() { # template k n
    awk -v t="$1" -v k="$2" -v n="$3" 'BEGIN { x = 12345; for (i = 0; i < k; i++) {
        x = (x * 1103515245 + 12345) % 2147483648; s = t; sub(/%d/, 1 + x % n, s); print s } }'
}

printf '%-10s %-30s %8s %8s %8s %11s  %s\n' objects statement "wall s" "CPU s" "RSS MiB" "CPU after load" target
for n in $QUERY_SIZES; do
    refs=$(tier_refs "$n")
    runs=$(tier_runs "$n")
    p=$(bench_dump "$n" "$refs")
    statements "SELECT * FROM objects WHERE id = %d;" 1000 "$n" >"$tmp/lookups.sql"
    statements "SELECT id, type, size, label FROM objects WHERE id = %d;" 1000 "$n" >"$tmp/shallow.sql"
    statements "SELECT count(*) FROM path_to_root(%d);" 100 "$n" >"$tmp/paths.sql"

    set -- $(measure "$runs" "$HEAPTOOL" query "$p" "SELECT 1")
    load=$3
    row() { # label wall MiB cpu statements target
        after=$(awk -v t="$4" -v l="$load" -v k="$5" 'BEGIN { v = (t - l) / k; printf (k > 1 ? "%.2f ms" : "%.2f s"), (k > 1 ? v * 1000 : v) }')
        printf '%-10s %-30s %8.2f %8.2f %8.0f %11s  %s\n' "$n" "$1" "$2" "$4" "$3" "$after" "$6"
    }
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
    row "query: load only (SELECT 1)" "$1" "$2" "$3" 1 ""
    set -- $(measure "$runs" "$HEAPTOOL" stats "$p"); stats=$3
    row "stats" "$1" "$2" "$3" 1 ""
    set -- $(measure "$runs" "$HEAPTOOL" top "$p"); top_rss=$2
    row "top" "$1" "$2" "$3" 1 ""
    set -- $(measure "$runs" "$HEAPTOOL" query "$p" "SELECT type, count(*), sum(size) FROM objects GROUP BY type")
    row "GROUP BY type" "$1" "$2" "$3" 1 "$(ratio "$3" "$stats")x stats (<= 2x)"
    group_rss=$2
    set -- $(measure "$runs" "$HEAPTOOL" query -f "$tmp/lookups.sql" "$p")
    row "1000 x SELECT * WHERE id = ?" "$1" "$2" "$3" 1000 "<= 10 ms each (computed columns once)"
    lookup_rss=$2
    set -- $(measure "$runs" "$HEAPTOOL" query -f "$tmp/shallow.sql" "$p")
    row "1000 x id, type, size, label" "$1" "$2" "$3" 1000 "<= 10 ms each"
    set -- $(measure "$runs" "$HEAPTOOL" query -f "$tmp/paths.sql" "$p")
    row "100 x path_to_root(?)" "$1" "$2" "$3" 100 "<= 10 ms each"
    path_rss=$2
    set -- $(measure "$runs" "$HEAPTOOL" query "$p" \
        "SELECT count(*) FROM objects o JOIN refs r ON r.dst = o.id WHERE o.type = 'Node'")
    row "refs join on type 'Node'" "$1" "$2" "$3" 1 "<= 1 s"
    join_rss=$2
    set -- $(measure "$runs" "$HEAPTOOL" query "$p" "SELECT count(*), sum(retained), max(distance), count(scc) FROM objects")
    row "all computed columns" "$1" "$2" "$3" 1 ""
    # The export against the load in rounds, a load then an export each: between two runs the
    # machine's speed drifts by more than the margin judged, so the target is read from the
    # median of the rounds' ratios. The row shows the round of that median.
    rounds=""
    for k in $(seq "$EXPORT_ROUNDS"); do
        set -- $(measure 1 "$HEAPTOOL" query "$p" "SELECT 1"); round_load=$3
        rm -rf "$tmp/export"
        set -- $(measure 1 "$HEAPTOOL" export "$p" --format csv --name "host-$n" -o "$tmp/export")
        rounds="$rounds$(ratio "$3" "$round_load") $1 $2 $3 $round_load
"
    done
    rm -rf "$tmp/export"
    set -- $(printf '%s' "$rounds" | sort -n | awk -v k="$EXPORT_ROUNDS" 'NR == int((k + 1) / 2)')
    spread=$(printf '%s' "$rounds" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%s-%s", lo, hi }')
    load=$5
    row "export --format csv" "$2" "$3" "$4" 1 "$1x load, median of $EXPORT_ROUNDS rounds ($spread) (<= 1.5x)"
    echo "$n: peak RSS / top's: GROUP BY $(ratio "$group_rss" "$top_rss"), lookups $(ratio "$lookup_rss" "$top_rss")," \
         "path_to_root $(ratio "$path_rss" "$top_rss"), refs join $(ratio "$join_rss" "$top_rss") (<= 1.3 at 10M)"
done
