#!/bin/sh
# graph_cases.sh: tests for heaptool graph. Golden DOT (stdout, stderr and exit status in
# tests/cli/golden/graph_NAME.out) for the sample dumps and the error cases; then rendered files:
# a PNG (signature, IHDR dimensions), an SVG (well-formed XML, one <g class="node"> per DOT
# node), a PDF, hostile labels rendered back through Graphviz, and the output rules (-o never
# the dump, nothing half-written).
#
#   HEAPTOOL=build/heaptool tests/cli/graph_cases.sh            run every case
#   HEAPTOOL=build/heaptool tests/cli/graph_cases.sh --update   rewrite the golden files
#
# Exits 1 when any case fails; the last line is always "N passed, M failed".
set -u

case "${HEAPTOOL:-}" in
"") echo "graph_cases.sh: set HEAPTOOL to the heaptool binary" >&2; exit 2 ;;
/*) ;;
*/*) HEAPTOOL="$(pwd)/$HEAPTOOL" ;;
esac
update=0
[ "${1:-}" = "--update" ] && update=1

cd "$(dirname "$0")/../.." || exit 2
# Under SANITIZE=address, Graphviz's font libraries keep caches LeakSanitizer would report.
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(pwd)/tests/lsan.supp:print_suppressions=0}
export LSAN_OPTIONS
golden=tests/cli/golden
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
passed=0
failed=0

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# Hostile text from a dump: quotes, backslashes, newlines, <>{}|, ESC, Graphviz escapes (\N,
# \G), entities, attribute and statement injection, in labels, type, edge and root names.
cat >"$tmp/hostile.json" <<'EOF'
{"format": "heapdump", "version": 1,
 "types": [{"id": 0, "name": "T\"ype\\<b>"}, {"id": 1, "name": "weakref"}],
 "objects": [
  {"id": 1, "type": 0, "size": 8, "label": "q\"uote\", fontcolor=blue, x=\"",
   "refs": [[2, "a\"]; o9 [label=\"x"], [2, "b\\"], [2, "{c}|<d>"], [3, "\n"]]},
  {"id": 2, "type": 0, "size": 8, "label": "back\\slash\\"},
  {"id": 3, "type": 0, "size": 8, "label": "new\nline\r \u001b[31mred\u001b[0m", "refs": [[6, "x"]]},
  {"id": 6, "type": 0, "size": 8, "label": "\\N \\G &amp; \u00e9 }"},
  {"id": 4, "type": 0, "size": 8, "label": "<<html>> {rec|ord} &lt; \\\""},
  {"id": 5, "type": 1, "size": 8}],
 "weakrefs": [{"id": 5, "referent": 1}],
 "roots": [{"id": 1, "kind": "named", "name": "r\"oot\n]"}, {"id": 4, "kind": "ext\"ernal"}]}
EOF

# NAME STATUS-IS-IN-GOLDEN ARGS... (ARGS go through the shell's word splitting and quote removal)
while read -r name args; do
    case "$name" in ""|\#*) continue ;; esac
    eval "set -- $args"
    "$HEAPTOOL" "$@" >"$tmp/stdout" 2>"$tmp/stderr" </dev/null
    status=$?
    {
        cat "$tmp/stdout"
        echo "--- stderr"
        sed "s|$tmp|\$TMP|g" "$tmp/stderr"
        echo "--- exit $status"
    } >"$tmp/actual"
    if [ "$update" = 1 ]; then
        cp "$tmp/actual" "$golden/$name.out"
    fi
    if cmp -s "$tmp/actual" "$golden/$name.out"; then
        pass
    else
        fail "$name: heaptool $args"
        if [ -f "$golden/$name.out" ]; then
            diff -u "$golden/$name.out" "$tmp/actual" | head -40
        else
            echo "  (no golden file $golden/$name.out)"
        fi
    fi
done <<CASES
# forward references (objgraph's show_refs)
graph_cycle_main        graph samples/dumps/cycle.json --id 8
graph_cycle_nodes       graph samples/dumps/cycle.json --type Node
graph_cycle_legacy      graph samples/dumps/cycle.json --id LegacyNode#12
graph_cycle_ids         graph samples/dumps/cycle.json --id 11 --id '#14' --depth 1
graph_cycle_highlight   graph samples/dumps/cycle.json --id 8 --highlight list --highlight int
graph_weak_cache        graph samples/dumps/weak_cache.json --id 3 --depth 5
graph_weak_no_weak      graph samples/dumps/weak_cache.json --id 3 --depth 5 --no-weak
graph_growing           graph samples/dumps/growing_list_3.json --type Server
graph_analyses_app      graph tests/data/cycle.json --id App#1
graph_depth_zero        graph tests/data/cycle.json --id 1 --depth 0
# referrers (show_backrefs) and chains (show_chain)
graph_backrefs_nodes    graph samples/dumps/cycle.json --type Node --backrefs
graph_backrefs_weak     graph samples/dumps/weak_cache.json --id 7 --backrefs
graph_backrefs_entry    graph samples/dumps/growing_list_3.json --type Entry --max 1 --backrefs --depth 5
graph_chain             graph samples/dumps/growing_list_3.json --chain 7
graph_chain_cycle       graph samples/dumps/cycle.json --chain Node#11
graph_chain_unreachable graph samples/dumps/cycle.json --chain 14
# truncation
graph_too_many          graph samples/dumps/growing_list_3.json --id 3 --too-many 2
graph_too_many_all      graph samples/dumps/growing_list_3.json --id 4 --depth 1 --too-many 0
graph_max_nodes         graph samples/dumps/growing_list_3.json --id 3 --max-nodes 4
graph_type_max          graph samples/dumps/growing_list_3.json --type Entry --max 2 --depth 1
graph_filter_type       graph samples/dumps/growing_list_3.json --id 3 --filter-type list --filter-type Entry --depth 2
# the biggest retainers (issue 9)
graph_top_retainers     graph samples/dumps/growing_list_3.json --top-retainers 2 --depth 1
# hostile labels: escaped, cut to 40 characters
graph_hostile           graph $tmp/hostile.json --id 1 --id 4
# usage errors: exit 2
graph_help              graph --help
graph_no_start          graph samples/dumps/cycle.json
graph_no_dump           graph --id 1
graph_chain_and_id      graph samples/dumps/cycle.json --chain 11 --id 8
graph_chain_backrefs    graph samples/dumps/cycle.json --chain 11 --backrefs
graph_max_without_type  graph samples/dumps/cycle.json --id 8 --max 3
graph_bad_depth         graph samples/dumps/cycle.json --id 8 --depth -1
graph_bad_too_many      graph samples/dumps/cycle.json --id 8 --too-many lots
graph_bad_id            graph samples/dumps/cycle.json --id Node#
graph_zero_top          graph samples/dumps/cycle.json --top-retainers 0
graph_bad_format        graph samples/dumps/cycle.json --id 8 --format gif -o $tmp/x.gif
graph_bad_extension     graph samples/dumps/cycle.json --id 8 -o $tmp/x.gif
graph_overwrite_input   graph samples/dumps/cycle.json --id 8 -o samples/dumps/cycle.json
graph_overwrite_alias   graph samples/dumps/cycle.json --id 8 -o samples/dumps/../dumps/cycle.json --format dot
graph_unknown_option    graph samples/dumps/cycle.json --id 8 --colour
# not in the dump: exit 3, as show
graph_unknown_id        graph samples/dumps/cycle.json --id 999
graph_unknown_chain     graph samples/dumps/cycle.json --chain 999
graph_unknown_type      graph samples/dumps/cycle.json --type Nope
graph_unknown_filter    graph samples/dumps/cycle.json --id 8 --filter-type Nope
graph_bad_dump          graph tests/data/bad.json --id 1
# unreadable input, unwritable output: exit 4
graph_missing_dump      graph tests/data/no_such_dump.json --id 1
graph_unwritable        graph samples/dumps/cycle.json --id 8 -o $tmp/no/such/dir/x.png
CASES

# --- rendered files -------------------------------------------------------------------------

# Objects drawn by a DOT text: its node lines.
dot_nodes() { grep -c '^  [a-z0-9]* \[label=' "$1"; }

# Bytes of a file as unsigned decimals, one per word.
bytes() { od -An -tu1 -j "$2" -N "$3" "$1" | tr -s ' \n' '  '; }

check_png() { # FILE: signature, IHDR first, width and height above zero
    sig=$(bytes "$1" 0 16)
    [ "$sig" = " 137 80 78 71 13 10 26 10 0 0 0 13 73 72 68 82 " ] || { echo "  bad PNG header:$sig"; return 1; }
    set -- $(bytes "$1" 16 8)
    w=$(( ($1 << 24) + ($2 << 16) + ($3 << 8) + $4 ))
    h=$(( ($5 << 24) + ($6 << 16) + ($7 << 8) + $8 ))
    [ "$w" -gt 0 ] && [ "$h" -gt 0 ] || { echo "  PNG is ${w}x$h"; return 1; }
}

svg_nodes() { # FILE: parses as XML; prints the number of <g class="node"> elements
    python3 -c '
import sys, xml.dom.minidom
doc = xml.dom.minidom.parse(sys.argv[1])
print(sum(1 for g in doc.getElementsByTagName("g") if g.getAttribute("class") == "node"))
' "$1"
}

# PNG of the sample leak: the Node and LegacyNode cycles of samples/dumps/cycle.json.
"$HEAPTOOL" graph samples/dumps/cycle.json --type Node --type LegacyNode -o "$tmp/leak.png" >"$tmp/out" 2>&1 &&
    check_png "$tmp/leak.png" && grep -q "^wrote $tmp/leak.png: 8 objects, 8 references$" "$tmp/out" &&
    pass || fail "png: graph --type Node --type LegacyNode -o leak.png"

# --format wins over the extension; PNG on a pipe when asked for.
"$HEAPTOOL" graph samples/dumps/cycle.json --id 11 --format png >"$tmp/pipe.png" 2>"$tmp/err" &&
    check_png "$tmp/pipe.png" && pass || fail "png to a pipe"

# SVG: well-formed, as many node groups as the DOT has nodes, for several graphs.
for args in "samples/dumps/cycle.json --id 8" "samples/dumps/weak_cache.json --id 3 --depth 5" \
    "samples/dumps/growing_list_3.json --id 3 --too-many 2" "samples/dumps/growing_list_3.json --id 3 --max-nodes 4" \
    "$tmp/hostile.json --id 1 --id 4"; do
    # shellcheck disable=SC2086
    "$HEAPTOOL" graph $args >"$tmp/g.dot" 2>/dev/null && "$HEAPTOOL" graph $args -o "$tmp/g.svg" >/dev/null 2>&1 &&
        want=$(dot_nodes "$tmp/g.dot") && got=$(svg_nodes "$tmp/g.svg") && [ "$want" = "$got" ] && [ "$want" -gt 0 ] &&
        pass || fail "svg: graph $args: ${got:-?} node groups, want ${want:-?}"
done

# PDF.
"$HEAPTOOL" graph samples/dumps/cycle.json --id 8 -o "$tmp/g.pdf" >/dev/null 2>&1 &&
    [ "$(head -c 5 "$tmp/g.pdf")" = "%PDF-" ] && pass || fail "pdf"

# -o x.dot writes what stdout gets.
"$HEAPTOOL" graph samples/dumps/cycle.json --id 8 >"$tmp/stdout.dot" &&
    "$HEAPTOOL" graph samples/dumps/cycle.json --id 8 -o "$tmp/file.dot" >/dev/null &&
    cmp -s "$tmp/stdout.dot" "$tmp/file.dot" && pass || fail "-o x.dot differs from stdout"

# Hostile labels: in the DOT every quote is escaped (taking the \\ and \" pairs out leaves
# exactly the quotes that open and close strings: an even number, and only around label and
# colour values), and the text goes through Graphviz with every node drawn.
"$HEAPTOOL" graph "$tmp/hostile.json" --id 1 --id 4 >"$tmp/h.dot" 2>&1 &&
    sed -e 's/\\\\//g' -e 's/\\"//g' "$tmp/h.dot" >"$tmp/h.stripped" &&
    ! grep -v '^  [a-z0-9]* \(-> [a-z0-9]* \)\{0,1\}\[\(label="[^"]*"\(, [a-z]*=\("[^"]*"\|[a-z0-9.]*\)\)*\|style=dotted\)\];$' "$tmp/h.stripped" |
        grep -v -e '^digraph ObjectGraph {$' -e '^  graph \[bgcolor="#ffffff"\];$' -e '^}$' \
            -e '^  node \[shape=box, style=filled, fillcolor="#ffffff", fontcolor="#000000"\];$' \
            -e '^  edge \[fontcolor="#000000"\];$' |
        grep . && ! grep -q "$(printf '\033')" "$tmp/h.dot" && ! sed 's/"[^"]*"//g' "$tmp/h.stripped" | grep -q 'fontcolor=blue' &&
    pass || fail "hostile DOT is not well-formed"
"$HEAPTOOL" graph "$tmp/hostile.json" --id 1 --id 4 -o "$tmp/h.svg" >/dev/null 2>&1 &&
    [ "$(svg_nodes "$tmp/h.svg")" = "$(dot_nodes "$tmp/h.dot")" ] &&
    grep -q 'q&quot;uote&quot;, fontcolor=blue, x=&quot;' "$tmp/h.svg" && ! grep -q 'fill="blue"' "$tmp/h.svg" &&
    pass || fail "hostile labels through Graphviz"

# Nothing but the outputs is left beside them (the temporary files were renamed).
leftover=$(ls -A "$tmp" | grep '^\.' | head -1)
[ -z "$leftover" ] && pass || fail "temporary file left: $leftover"

# A refused or failed write leaves the dump and an existing output untouched.
cp samples/dumps/cycle.json "$tmp/dump.json"
cp "$tmp/leak.png" "$tmp/keep.png"
"$HEAPTOOL" graph "$tmp/dump.json" --id 8 -o "$tmp/dump.json" >/dev/null 2>&1
[ $? = 2 ] && cmp -s "$tmp/dump.json" samples/dumps/cycle.json && pass || fail "-o the dump itself"
"$HEAPTOOL" graph "$tmp/dump.json" --id 999 -o "$tmp/keep.png" >/dev/null 2>&1
[ $? = 3 ] && cmp -s "$tmp/keep.png" "$tmp/leak.png" && pass || fail "a failed graph changed its output file"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
