#!/bin/sh
# v8_cases.sh: heaptool on Chrome/Node heap snapshots (.heapsnapshot). Golden cases on the
# hand-made snapshots in tests/data/v8 and on broken variants of them (one line naming the
# file, line, column and problem, exit 3); then the oracle (tests/cli/v8_oracle.py) on those
# snapshots and, when node is installed, on real ones a Node.js process writes as it grows.
#
#   HEAPTOOL=build/heaptool tests/cli/v8_cases.sh            run every case
#   HEAPTOOL=build/heaptool tests/cli/v8_cases.sh --update   rewrite the golden files
#
# Exits 1 when any case fails; the last line is always "N passed, M failed".
set -u

case "${HEAPTOOL:-}" in
"") echo "v8_cases.sh: set HEAPTOOL to the heaptool binary" >&2; exit 2 ;;
/*) ;;
*/*) HEAPTOOL="$(pwd)/$HEAPTOOL" ;;
esac
update=0
[ "${1:-}" = "--update" ] && update=1

cd "$(dirname "$0")/../.." || exit 2
golden=tests/cli/golden
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
passed=0
failed=0
T=tests/data/v8/tiny.heapsnapshot
G=tests/data/v8/tiny_grown.heapsnapshot

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# golden NAME ARGS...: stdout, stderr and exit status against tests/cli/golden/v8_NAME.out, with
# the temporary directory shown as $TMP. Standard input from the file $STDIN (/dev/null by
# default), or from a pipe that cat feeds with the file $PIPE.
golden() {
    name=v8_$1
    shift
    if [ -n "${PIPE:-}" ]; then
        cat "$PIPE" | "$HEAPTOOL" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
    else
        "$HEAPTOOL" "$@" <"${STDIN:-/dev/null}" >"$tmp/stdout" 2>"$tmp/stderr"
    fi
    status=$?
    {
        cat "$tmp/stdout"
        echo "--- stderr"
        cat "$tmp/stderr"
        echo "--- exit $status"
    } | sed "s|$tmp|\$TMP|g" >"$tmp/actual"
    [ "$update" = 1 ] && cp "$tmp/actual" "$golden/$name.out"
    if cmp -s "$tmp/actual" "$golden/$name.out"; then
        pass
    else
        fail "$name: heaptool $*"
        diff -u "$golden/$name.out" "$tmp/actual" | head -30
    fi
}

# broken NAME PYTHON-EXPRESSION: a copy of tiny.heapsnapshot's text s with the expression
# applied, for the bad-input cases.
broken() {
    python3 -c 'import sys; s = open(sys.argv[1]).read(); sys.stdout.write(eval(sys.argv[2]))' \
        "$T" "$2" >"$tmp/$1.heapsnapshot"
}

# Every command on the hand-made snapshots.
golden validate validate $T
golden stats stats $T
golden stats_retained stats --sort retained --top 4 $T
golden stats_json stats --json --top 3 $T
golden top top -n 3 $T
golden cycles cycles $T
golden leaks leaks $T
golden path path $T 19
golden path_unreachable path $T 29
golden show show $T 9
golden show_weak show $T 21
golden graph graph --id 13 --depth 2 $T
golden diff diff $T $G
golden diff_final diff --final $G $T $G

# The members in another order (jq -S sorts them) and on one line, and gzip: told by content.
python3 -c 'import json, sys; json.dump(json.load(open(sys.argv[1])), sys.stdout, sort_keys=True)' $T >"$tmp/sorted.json"
gzip -c $T >"$tmp/tiny.gz"
golden sorted_keys stats --top 2 "$tmp/sorted.json"
golden gzip stats --top 2 "$tmp/tiny.gz"
STDIN="$tmp/sorted.json" golden sorted_keys_stdin stats --top 2 -
PIPE="$tmp/sorted.json" golden sorted_keys_pipe stats -
PIPE=$T golden pipe stats --top 2 -

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
    golden "bad_$b" stats "$tmp/$b.heapsnapshot"
done
golden bad_validate validate "$tmp/edge_name.heapsnapshot"
# a pipe cannot be read again to place a problem: its array's start is named instead
PIPE="$tmp/to_node_odd.heapsnapshot" golden bad_pipe stats -

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
    "$HEAPTOOL" diff --json "$tmp/before.heapsnapshot" "$tmp/after.heapsnapshot" >"$tmp/diff.json"
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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
