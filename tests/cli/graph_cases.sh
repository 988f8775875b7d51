#!/bin/sh
# graph_cases.sh: tests for heaptool graph. Golden DOT (stdout, stderr and exit status in
# tests/cli/golden/graph_NAME.out) for the sample dumps and the error cases; then rendered files:
# a PNG (signature, IHDR dimensions), an SVG (well-formed XML, one <g class="node"> per DOT
# node), a PDF, hostile labels rendered back through Graphviz, and the output rules (-o never
# the dump, nothing half-written).
. "$(dirname "$0")/lib.sh"
uses_graphviz

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

# forward references (objgraph's show_refs)
check graph_cycle_main 0 graph samples/dumps/cycle.json --id 8
check graph_cycle_nodes 0 graph samples/dumps/cycle.json --type Node
check graph_cycle_legacy 0 graph samples/dumps/cycle.json --id LegacyNode#12
check graph_cycle_ids 0 graph samples/dumps/cycle.json --id 11 --id '#14' --depth 1
check graph_cycle_highlight 0 graph samples/dumps/cycle.json --id 8 --highlight list --highlight int
check graph_weak_cache 0 graph samples/dumps/weak_cache.json --id 3 --depth 5
check graph_weak_no_weak 0 graph samples/dumps/weak_cache.json --id 3 --depth 5 --no-weak
check graph_growing 0 graph samples/dumps/growing_list_3.json --type Server
check graph_analyses_app 0 graph tests/data/cycle.json --id App#1
check graph_depth_zero 0 graph tests/data/cycle.json --id 1 --depth 0
# referrers (show_backrefs) and chains (show_chain)
check graph_backrefs_nodes 0 graph samples/dumps/cycle.json --type Node --backrefs
check graph_backrefs_weak 0 graph samples/dumps/weak_cache.json --id 7 --backrefs
check graph_backrefs_entry 0 graph samples/dumps/growing_list_3.json --type Entry --max 1 --backrefs --depth 5
check graph_chain 0 graph samples/dumps/growing_list_3.json --chain 7
check graph_chain_cycle 0 graph samples/dumps/cycle.json --chain Node#11
check graph_chain_unreachable 1 graph samples/dumps/cycle.json --chain 14
# truncation
check graph_too_many 0 graph samples/dumps/growing_list_3.json --id 3 --too-many 2
check graph_too_many_all 0 graph samples/dumps/growing_list_3.json --id 4 --depth 1 --too-many 0
check graph_max_nodes 0 graph samples/dumps/growing_list_3.json --id 3 --max-nodes 4
check graph_type_max 0 graph samples/dumps/growing_list_3.json --type Entry --max 2 --depth 1
check graph_filter_type 0 graph samples/dumps/growing_list_3.json --id 3 --filter-type list --filter-type Entry --depth 2
# the biggest retainers (issue 9)
check graph_top_retainers 0 graph samples/dumps/growing_list_3.json --top-retainers 2 --depth 1
# hostile labels: escaped, cut to 40 characters
check graph_hostile 0 graph $tmp/hostile.json --id 1 --id 4
# usage errors: exit 2
check graph_help 0 graph --help
check graph_no_start 2 graph samples/dumps/cycle.json
check graph_no_dump 2 graph --id 1
check graph_chain_and_id 2 graph samples/dumps/cycle.json --chain 11 --id 8
check graph_chain_backrefs 2 graph samples/dumps/cycle.json --chain 11 --backrefs
check graph_max_without_type 2 graph samples/dumps/cycle.json --id 8 --max 3
check graph_bad_depth 2 graph samples/dumps/cycle.json --id 8 --depth -1
check graph_bad_too_many 2 graph samples/dumps/cycle.json --id 8 --too-many lots
check graph_bad_id 2 graph samples/dumps/cycle.json --id Node#
check graph_zero_top 2 graph samples/dumps/cycle.json --top-retainers 0
check graph_bad_format 2 graph samples/dumps/cycle.json --id 8 --format gif -o $tmp/x.gif
check graph_bad_extension 2 graph samples/dumps/cycle.json --id 8 -o $tmp/x.gif
check graph_overwrite_input 2 graph samples/dumps/cycle.json --id 8 -o samples/dumps/cycle.json
check graph_overwrite_alias 2 graph samples/dumps/cycle.json --id 8 -o samples/dumps/../dumps/cycle.json --format dot
check graph_unknown_option 2 graph samples/dumps/cycle.json --id 8 --colour
# not in the dump: exit 3, as show
check graph_unknown_id 3 graph samples/dumps/cycle.json --id 999
check graph_unknown_chain 3 graph samples/dumps/cycle.json --chain 999
check graph_unknown_type 3 graph samples/dumps/cycle.json --type Nope
check graph_unknown_filter 3 graph samples/dumps/cycle.json --id 8 --filter-type Nope
check graph_bad_dump 3 graph tests/data/bad.json --id 1
# unreadable input, unwritable output: exit 4
check graph_missing_dump 4 graph tests/data/no_such_dump.json --id 1
check graph_unwritable 4 graph samples/dumps/cycle.json --id 8 -o $tmp/no/such/dir/x.png

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

finish
