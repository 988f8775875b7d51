#!/bin/sh
# make demo: heaptool on the bundled dumps: a cache that keeps growing over three snapshots, and
# a heap holding Node cycles; ends with a PNG of the leaking cycles.
set -eu
: "${HEAPTOOL:=build/heaptool}" "${BUILD:=build}"
run() {
    printf '\n$ heaptool %s\n' "$*"
    "$HEAPTOOL" "$@"
}
echo "heaptool demo: the bundled dumps of a cache that keeps growing, and a heap with Node cycles"
run stats samples/dumps/growing_list_3.json
run diff samples/dumps/growing_list_1.json samples/dumps/growing_list_2.json
run diff --final samples/dumps/growing_list_3.json samples/dumps/growing_list_1.json samples/dumps/growing_list_2.json
run top -n 3 samples/dumps/growing_list_3.json
run path samples/dumps/growing_list_3.json Entry#31
run cycles samples/dumps/cycle.json
run graph samples/dumps/cycle.json --type Node --type LegacyNode -o "$BUILD/cycle_leak.png"
