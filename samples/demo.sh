#!/bin/sh
# make demo: two of the sample programs write snapshots of their own heaps, and heaptool reads
# them: a service whose cache grows with every request (three snapshots: stats, diff, the leak
# rule, the biggest retainers, why a response is alive), then a Node pair that leaks until the
# collector runs (cycles before and after), ending with a PNG of the leaking cycle.
set -eu
: "${HEAPTOOL:=build/heaptool}" "${BUILD:=build}"
out="$BUILD/demo"
mkdir -p "$out"
run() {
    printf '\n$ heaptool %s\n' "$*"
    "$HEAPTOOL" "$@"
}
sample() {
    printf '\n$ %s/samples/%s %s\n' "$BUILD" "$1" "$out"
    "$BUILD/samples/$1" "$out"
}
echo "heaptool demo: C programs using libhm write heap snapshots; heaptool answers questions about them"
sample leaky_cache
run stats -n 5 "$out/service_3.json"
run diff "$out/service_1.json" "$out/service_2.json"
run diff --final "$out/service_3.json" "$out/service_1.json" "$out/service_2.json"
run top -n 3 "$out/service_3.json"
run path "$out/service_3.json" Response#1000
sample circular
run cycles "$out/circular_before_collect.json"
run cycles "$out/circular_after_collect.json"
run graph "$out/circular_before_collect.json" --type Node -o "$BUILD/cycle_leak.png"
