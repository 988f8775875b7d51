#!/bin/sh
# make demo: heaptool on the bundled dumps of a leaking service (samples/dumps/).
set -eu
: "${HEAPTOOL:=build/heaptool}"
run() {
    printf '\n$ heaptool %s\n' "$*"
    "$HEAPTOOL" "$@"
}
echo "heaptool demo: the bundled dumps of a cache that keeps growing, and a Node cycle"
run validate samples/dumps/growing_list_3.json
run stats samples/dumps/growing_list_1.json
run stats --sort size samples/dumps/growing_list_3.json
run stats samples/dumps/cycle.json
