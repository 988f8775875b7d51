#!/bin/sh
# native_cases.sh: heaptool on dumps of native processes and on call stacks. Golden cases of
# `leaks` (memcheck's categories) and `flame` on samples/dumps/leak_cases.json, the nine
# reachability cases of memcheck's manual (leak-cases.c), whose summary must be memcheck's own
# for that program: definitely lost 48 bytes in 3 blocks, indirectly lost 32 in 2, possibly lost
# 96 in 6, still reachable 64 in 4; then tests/cli/native_oracle.py, which recomputes the
# categories and the flame graphs of random native dumps and of the libhm samples by brute force.
#
#   HEAPTOOL=build/heaptool tests/cli/native_cases.sh            run every case
#   HEAPTOOL=build/heaptool tests/cli/native_cases.sh --update   rewrite the golden files
. "$(dirname "$0")/lib.sh"
N=samples/dumps/leak_cases.json
L=samples/dumps/growing_list_3.json

check native_validate 0 validate $N
check native_leaks 0 leaks $N
check native_leaks_reachable 0 leaks --reachable --top 3 $N
check native_leaks_json 0 leaks --json --top 2 $N
check native_leaks_fail 1 leaks --fail-on-leak --top 1 $N
check native_leaks_fail_libhm 1 leaks --fail-on-leak --top 1 samples/dumps/cycle.json
check native_leaks_clean_libhm 0 leaks --fail-on-leak --top 1 $L
check native_flame 0 flame $N
check native_flame_count 0 flame --count $N
check native_flame_leaked 0 flame --leaked $N
check native_flame_libhm 0 flame $L
check native_flame_both 2 flame --count --leaked $N
# Names from the dump with ';', line breaks and terminal escapes: one line a stack, escaped.
printf '{"format":"heapdump","version":1,"types":[{"id":0,"name":"t"}],"frames":[{"id":1,"function":"a\\u001b[31m;b\\nc"},{"id":2,"module":"/lib/x;y.so","offset":4660}],"stacks":[{"id":1,"frame":2},{"id":2,"frame":1,"parent":1}],"sites":[{"id":0,"file":"f","line":1,"stack":2}],"objects":[{"id":1,"type":0,"size":8,"site":0,"address":4096}]}\n' >"$tmp/hostile.json"
check native_flame_hostile 0 flame "$tmp/hostile.json"
check native_leaks_hostile 0 leaks "$tmp/hostile.json"
if "$HEAPTOOL" flame -o "$tmp/hostile.svg" "$tmp/hostile.json" &&
    python3 -c 'import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])' "$tmp/hostile.svg"; then
    pass
else
    fail "flame -o x.svg on hostile names: no well-formed SVG"
fi
check native_flame_over_dump 2 flame -o $N $N
check native_flame_unwritable 4 flame -o "$tmp/no/such/dir/x.svg" $N

# memcheck's figures for leak-cases.c, as its manual's table gives them.
if "$HEAPTOOL" leaks --json $N | python3 -c '
import json, sys
s = json.load(sys.stdin)["summary"]
want = {"definitely_lost": [3, 48], "indirectly_lost": [2, 32], "possibly_lost": [6, 96], "still_reachable": [4, 64]}
sys.exit(any([s[k]["blocks"], s[k]["bytes"]] != v for k, v in want.items()))'; then
    pass
else
    fail "leak_cases.json: the summary is not memcheck's"
fi

# An SVG written to a file, read back as XML.
if "$HEAPTOOL" flame -o "$tmp/leaks.svg" --leaked --title 'a <title> & "quotes"' $N &&
    python3 -c 'import sys, xml.etree.ElementTree as ET; ET.parse(sys.argv[1])' "$tmp/leaks.svg"; then
    pass
else
    fail "flame -o x.svg: no well-formed SVG"
fi

# ORACLE_DUMPS: how many random dumps the oracle draws (fewer under valgrind: make check).
if python3 tests/cli/native_oracle.py "$HEAPTOOL" "${ORACLE_DUMPS:-150}" samples/dumps/*.json; then
    pass
else
    fail "native_oracle.py"
fi

finish
