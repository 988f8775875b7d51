#!/bin/sh
# run_snapshot.sh: the snapshot writer on heaps of 1M and 10M objects (2 references each): time,
# objects per second (target >= 2M/s at 1M objects / 2M references), dump bytes per object, and
# the growth of peak RSS while writing (the writer streams: it should stay flat as N grows).
set -eu
: "${BUILD:=build}"
B="$BUILD/bench"
[ -x "$B/bench_snapshot" ] || { echo "run_snapshot.sh: $B/bench_snapshot not built" >&2; exit 2; }
for n in ${SNAPSHOT_SIZES:-1000000 10000000}; do
    echo "-- heap of $n Nodes, $((2 * n)) references"
    "$B/bench_snapshot" "$n" "$B" | sed 's/^/  /'
done
echo "target: >= 2000000 objects per second at 1M objects / 2M references"
