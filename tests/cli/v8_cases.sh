#!/bin/sh
# v8_cases.sh: heaptool on Chrome/Node heap snapshots (.heapsnapshot). Golden cases on the
# hand-made snapshots in tests/data/v8 and on broken variants of them (one line naming the
# file, line, column and problem, exit 3); then the oracle (tests/cli/v8_oracle.py) on those
# snapshots and, when node is installed, on real ones a Node.js process writes as it grows.
. "$(dirname "$0")/lib.sh"

T=tests/data/v8/tiny.heapsnapshot
G=tests/data/v8/tiny_grown.heapsnapshot

# broken NAME PYTHON-EXPRESSION: a copy of tiny.heapsnapshot's text s with the expression
# applied, for the bad-input cases.
broken() {
    python3 -c 'import sys; s = open(sys.argv[1]).read(); sys.stdout.write(eval(sys.argv[2]))' \
        "$T" "$2" >"$tmp/$1.heapsnapshot"
}

# Every command on the hand-made snapshots.
check v8_validate 0 validate $T
check v8_stats 0 stats $T
check v8_stats_retained 0 stats --sort retained --top 4 $T
check v8_stats_json 0 stats --json --top 3 $T
check v8_top 0 top -n 3 $T
check v8_cycles 0 cycles $T
check v8_leaks 0 leaks $T
check v8_path 0 path $T 19
check v8_path_unreachable 1 path $T 29
check v8_show 0 show $T 9
check v8_show_weak 0 show $T 21
check v8_graph 0 graph --id 13 --depth 2 $T
check v8_diff 0 diff $T $G
check v8_diff_final 0 diff --final $G $T $G

# The members in another order (jq -S sorts them) and on one line, and gzip: told by content.
python3 -c 'import json, sys; json.dump(json.load(open(sys.argv[1])), sys.stdout, sort_keys=True)' $T >"$tmp/sorted.json"
gzip -c $T >"$tmp/tiny.gz"
check v8_sorted_keys 0 stats --top 2 "$tmp/sorted.json"
check v8_gzip 0 stats --top 2 "$tmp/tiny.gz"
STDIN="$tmp/sorted.json" check v8_sorted_keys_stdin 0 stats --top 2 -
PIPE="$tmp/sorted.json" check v8_sorted_keys_pipe 3 stats -
PIPE=$T check v8_pipe 0 stats --top 2 -

# Bad input: one line with file:line:column, exit 3.
broken truncated 's[:1500]'
broken node_type 's.replace("\"nodes\":[9,1,1", "\"nodes\":[99,1,1")'
broken to_node_odd 's.replace("\"edges\":[1,1,7", "\"edges\":[1,1,8")'
broken to_node_past 's.replace("\"edges\":[1,1,7", "\"edges\":[1,1,700")'
broken node_name 's.replace("\"nodes\":[9,1,1", "\"nodes\":[9,500,1")'
broken edge_name 's.replace("\n,2,6,35", "\n,2,600,35")'
broken edge_count 's.replace("\"nodes\":[9,1,1,0,2", "\"nodes\":[9,1,1,0,3")'
broken negative 's.replace("\n,3,5,9,24", "\n,3,5,-9,24")'
broken fraction 's.replace("\n,3,5,9,24", "\n,3,5,9,2.5")'
broken duplicate_id 's.replace("\n,3,5,11,24", "\n,3,5,9,24")'
broken no_id_field 's.replace("\"id\",", "\"ident\",", 1)'
broken no_strings 's[:s.index(",\n\"strings\"")] + "}"'
broken string_number 's.replace("\"<dummy>\"", "7")'
broken ragged_nodes 's.replace("\n,3,5,29,24,1,0,0]", "\n,3,5,29,24,1,0]")'
broken twice 's.replace("\"trace_tree\"", "\"nodes\"")'
broken trailing 's + "{}"'
broken bad_meta 's.replace("\"edge_types\":[[", "\"edge_types\":[[3,")'
for b in truncated node_type to_node_odd to_node_past node_name edge_name edge_count negative \
         fraction duplicate_id no_id_field no_strings string_number ragged_nodes twice trailing bad_meta; do
    check "v8_bad_$b" 3 stats "$tmp/$b.heapsnapshot"
done
check v8_bad_validate 3 validate "$tmp/edge_name.heapsnapshot"
# a pipe cannot be read again to place a problem: its array's start is named instead
PIPE="$tmp/to_node_odd.heapsnapshot" check v8_bad_pipe 3 stats -

# The oracle: independent counts, sizes and retained sizes.
for s in $T $G; do
    if python3 tests/cli/v8_oracle.py "$HEAPTOOL" "$s" >"$tmp/oracle"; then pass; else fail "oracle on $s"; fi
    cat "$tmp/oracle"
done

# Real snapshots of one Node.js process before and after it made 1000 Items.
if command -v node >/dev/null 2>&1; then
    node tests/bench/v8_grow.js 1000 "$tmp/before.heapsnapshot" "$tmp/after.heapsnapshot"
    for s in before after; do
        if python3 tests/cli/v8_oracle.py "$HEAPTOOL" "$tmp/$s.heapsnapshot" >"$tmp/oracle"; then
            pass
        else
            fail "oracle on a real snapshot ($s)"
        fi
        sed "s|$tmp/||" "$tmp/oracle"
    done
    # diff matches objects by V8's ids: exactly the 1000 Items are new, none deleted.
    "$HEAPTOOL" diff --json "$tmp/before.heapsnapshot" "$tmp/after.heapsnapshot" >"$tmp/diff.json" 2>"$tmp/diff.err"
    if python3 -c 'import json, sys
rows = {r["type"]: r for r in json.load(open(sys.argv[1]))["rows"]}
r = rows["Item"]
sys.exit(not (r["count_old"] == 0 and r["count_new"] == 1000 and r["new"] == 1000 and r["deleted"] == 0))' "$tmp/diff.json"; then
        pass
    else
        fail "diff of two real snapshots does not show exactly 1000 new Items"
    fi
    # The cache's Map retains every Item: it is among the largest retainers.
    if "$HEAPTOOL" top -n 5 "$tmp/after.heapsnapshot" | grep -q '^Map#'; then
        pass
    else
        fail "top: the Map holding the Items is not among the 5 largest retainers"
    fi
else
    echo "v8_cases.sh: node not installed, real snapshots skipped"
fi

finish
