#!/bin/sh
# out_of_core_cases.sh: `heaptool index --memory` (formats/heapdump-binary.md §9).
# tests/cli/index_out_of_core.py: the out-of-core build writes the in-memory build's bytes (but
# for the cyclic components, which it leaves out) on the samples and random dumps, and completes
# tests/bench/gen_binary's unanalysed heaps so that every analysis answers as the JSON path does. Then here: its refusals. INDEX_DUMPS: the random dumps
# drawn (default 20, half the oracle's); INDEX_ORACLE=0 skips the script (under valgrind).
. "$(dirname "$0")/lib.sh"

gen=${BUILD:-build}/bench/gen_binary
case $gen in /*) ;; *) gen=$repo/$gen ;; esac
if [ "${INDEX_ORACLE:-1}" = 0 ]; then
    :
elif python3 tests/cli/index_out_of_core.py "$HEAPTOOL" "$gen" "$(((${INDEX_DUMPS:-40} + 1) / 2))"; then
    pass
else
    fail "index_out_of_core.py"
fi

# Scratch files go beside the output: a directory that cannot hold them is one line, exit 4.
"$HEAPTOOL" index --memory 1 -o "$tmp/missing/x.hdx" samples/dumps/cycle.json >"$tmp/out" 2>"$tmp/err"
[ $? = 4 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "cannot make scratch files in '$tmp/missing/'" "$tmp/err" &&
    pass || fail "--memory with no place for scratch files: $(cat "$tmp/err")"
# An analysed index given as DUMP is written again unchanged but for its stamp: same answers.
"$HEAPTOOL" index -o "$tmp/a.hdx" samples/dumps/leak_cases.json && "$HEAPTOOL" index --memory 1 -o "$tmp/b.hdx" "$tmp/a.hdx" &&
    "$HEAPTOOL" leaks "$tmp/a.hdx" >"$tmp/want" 2>&1; "$HEAPTOOL" leaks "$tmp/b.hdx" 2>&1 | sed "s|$tmp/b.hdx|$tmp/a.hdx|g" |
    cmp -s - "$tmp/want" && pass || fail "an index indexed again answers differently"
finish
