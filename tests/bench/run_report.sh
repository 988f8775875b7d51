#!/bin/sh
# run_report.sh (part of make bench): heaptool suspects and report against heaptool top on the
# bench's synthetic dumps (generated once by gen_dump, as run.sh does): time, peak RSS and the
# page's size. REPORT_SIZES picks the tiers (default "1000000 10000000"); RUNS the repetitions.
set -eu
. "$(dirname "$0")/lib.sh"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
echo "targets: suspects within 1.3x of top at 1M; report within 1.5x of top at 10M, page <= 2 MB"
printf "%-9s | %-17s | %-17s | %-17s | %-9s | %s\n" objects top suspects report page "suspects/top report/top"
for n in ${REPORT_SIZES:-1000000 10000000}; do
    refs=$(tier_refs "$n")
    runs=$(tier_runs "$n")
    p=$(bench_dump "$n" "$refs")
    set -- $(measure "$runs" "$HEAPTOOL" top "$p") \
           $(measure "$runs" "$HEAPTOOL" suspects "$p") \
           $(measure "$runs" "$HEAPTOOL" report -o "$out" "$p")
    awk -v n="$n" -v page="$(wc -c <"$out")" -v t="$1" -v tm="$2" -v s="$3" -v sm="$4" -v r="$5" -v rm="$6" 'BEGIN {
        printf "%-9s | %6.2f s %5.0f MiB | %6.2f s %5.0f MiB | %6.2f s %5.0f MiB | %5.0f KiB | %.2f %.2f\n",
               n, t, tm, s, sm, r, rm, page / 1024, s / t, r / t }'
done
