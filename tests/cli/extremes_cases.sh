#!/bin/sh
# extremes_cases.sh: numbers at the ends of their range. Ids, type ids and site ids near 2^64 stay
# exact in every output and as arguments; sizes whose sum passes 2^64-1 saturate there (shown as
# 16 EiB) in every total (stats, pools, retained sizes, leaks, cycles, diff), and a size change
# in diff is exact in both directions. Numbers past the format's range fail with a position.
# (tests/test_extremes.c checks the same saturation in the library.) Exits 1 when a case fails.
. "$(dirname "$0")/lib.sh"
M=18446744073709551615

# expect STATUS TEXT ARGS...: heaptool ARGS exits STATUS and prints TEXT (stdout or stderr)
expect() {
    before=$failed
    want=$1 text=$2
    shift 2
    "$HEAPTOOL" "$@" >"$tmp/out" 2>&1
    status=$?
    [ "$status" = "$want" ] || fail "$*: exit status $status, want $want: $(head -c 300 "$tmp/out")"
    grep -qF -- "$text" "$tmp/out" || fail "$*: no '$text' in: $(head -c 600 "$tmp/out")"
    [ "$failed" = "$before" ] && pass
}

# Two objects of the largest size (their sum saturates), one of 2^63 that retains them, one of
# size 0 that nothing reaches; pool counts at the section's limit of 2^53.
P=9007199254740992
D=$tmp/extremes.json
cat >"$D" <<EOF
{"format": "heapdump", "version": 1, "meta": {"producer": "x", "pid": 1},
 "types": [{"id": $M, "name": "Big"}, {"id": 0, "name": "Small"}],
 "sites": [{"id": $M, "file": "s.c", "line": 4294967295, "function": "f"}],
 "objects": [
  {"id": $M, "type": $M, "size": $M, "site": $M, "refs": [[18446744073709551614, "a"]]},
  {"id": 18446744073709551614, "type": $M, "size": $M, "site": $M, "refs": [[$M, "b"]]},
  {"id": 18446744073709551613, "type": 0, "size": 9223372036854775808, "refs": [[$M, "c"]]},
  {"id": 0, "type": 0, "size": 0}],
 "weakrefs": [{"id": 0, "referent": $M}],
 "roots": [{"id": 18446744073709551613, "kind": "named", "name": "r"}],
 "pools": {"arena_size": $P, "pool_size": 16384, "classes": [
  {"size": 4294967295, "pools": $P, "blocks_in_use": $P, "blocks_free": $P},
  {"size": 16, "pools": $P, "blocks_in_use": $P, "blocks_free": 1}]}}
EOF

# Totals saturate; a sum that fits stays exact.
expect 0 "\"size\":$M,\"references\":3" stats --json "$D"
expect 0 "{\"type\":\"Big\",\"count\":2,\"size\":$M," stats --json "$D"
expect 0 '{"type":"Small","count":2,"size":9223372036854775808,' stats --json "$D"
expect 0 "Big        2   50.0%   16 EiB  100.0%" stats "$D"
expect 0 "s.c:4294967295 in f      2   50.0%   16 EiB  100.0%" stats --by site "$D"
expect 0 "total  18014398509481984  18014398509481984  9007199254740993   16 EiB  16 EiB  100.0%" stats "$D"
expect 0 "{\"id\":18446744073709551613,\"type\":\"Small\",\"shallow\":9223372036854775808,\"retained\":$M," top --json "$D"
expect 0 "\"retained\":$M" stats --json --sort retained "$D"
expect 0 "\"cycles\":[{\"objects\":2,\"size\":$M," cycles --json "$D"
expect 0 "unreferenced (no object or root refers to them): 1 object, 0 B" leaks "$D"

# Ids near 2^64, in every form an id argument takes, and in DOT node names.
expect 0 "id          $M" show "$D" "$M"
expect 0 "type        Big (type id $M)" show "$D" "#$M"
expect 0 "    2  .a           Big#18446744073709551614" path "$D" "Big#18446744073709551614"
expect 0 "o$M -> o18446744073709551614" graph --id "$M" "$D"
expect 2 "'18446744073709551616' is not an object id" show "$D" 18446744073709551616
expect 3 "no object with id 18446744073709551612" show "$D" 18446744073709551612

# A size change past the int64 range is exact, growing and shrinking.
S=samples/dumps/cycle.json
expect 0 "\"size_old\":757,\"size_new\":$M," diff --json --force "$S" "$D"
expect 0 "{\"type\":\"Big\",\"count_old\":0,\"count_new\":2,\"count_delta\":2,\"new\":2,\"deleted\":0,\"size_old\":0,\"size_new\":$M,\"allocated\":$M,\"freed\":0,\"size_delta\":$M}" diff --json --force "$S" "$D"
expect 0 "\"freed\":$M,\"size_delta\":-$M}" diff --json --force "$D" "$S"
expect 0 "size 757 B → 16 EiB (+16 EiB)" diff --force "$S" "$D"
expect 0 "size 16 EiB → 757 B (-16 EiB)" diff --force "$D" "$S"

# Past the range: a position and exit status 3.
big() { sed "$1" "$D" >"$tmp/big.json"; }
big "s/\"id\": 0, \"type\": 0, \"size\": 0/\"id\": 18446744073709551616, \"type\": 0, \"size\": 0/"
expect 3 "big.json:8:10: objects[3]: 'id' must be an unsigned integer, found a number above 2^64-1" stats "$tmp/big.json"
big "s/\"id\": 0, \"type\": 0, \"size\": 0/\"id\": 0, \"type\": 0, \"size\": 18446744073709551616/"
expect 3 "found a number above 2^64-1" stats "$tmp/big.json"
big "s/\"arena_size\": $P/\"arena_size\": $M/"
expect 3 "big.json:11:11: pools: 'arena_size' is above 2^53, the limit of this section" stats "$tmp/big.json"

finish
