#!/bin/sh
# hostile_cases.sh: a dump whose every string (type names, labels, edge names, root names and
# kinds, site files and functions, producer) carries terminal escape sequences (ESC, CSI, OSC,
# BEL, other C0 and C1 controls, DEL) and bytes that are not UTF-8. Every command's text, JSON,
# DOT and SVG output and every diagnostic must show them escaped and never pass one through:
# no control character but newline, nothing that is not UTF-8. Exits 1 when a case fails.
. "$(dirname "$0")/lib.sh"
uses_graphviz

# In JSON: clear screen, set the window title (OSC ... BEL), C1 CSI, NEL, DEL, backspace, CR.
E='\u001b[2J\u001b]0;pwned\u0007\u009b31m\u0085\u007f\b\r'
# Raw bytes that are not UTF-8: 0xff, an overlong '/', an encoded surrogate.
BAD=$(printf '\377\300\257\355\240\200')
D=$tmp/hostile.json
printf '{"format": "heapdump", "version": 1,
 "meta": {"producer": "p%s", "pid": 1, "name": "n%s"},
 "types": [{"id": 0, "name": "T%s", "finalizer": true, "legacy_finalizer": true},
  {"id": 1, "name": "L\\u001b]8;;http://example.com\\u001b\\\\"},
  {"id": 2, "name": "B%s"}],
 "sites": [{"id": 0, "file": "f%s.c", "line": 7, "function": "g%s"}],
 "objects": [
  {"id": 1, "type": 0, "size": 16, "site": 0, "label": "o%s", "refs": [[2, "e%s"], [3, "%s"]]},
  {"id": 2, "type": 1, "size": 16, "site": 0, "label": "x%s", "refs": [[1, "back%s"]]},
  {"id": 3, "type": 2, "size": 16, "label": "y%s"},
  {"id": 4, "type": 0, "size": 16, "label": "g%s", "refs": [[5, "c%s"]]},
  {"id": 5, "type": 2, "size": 16, "refs": [[4, "d%s"]]},
  {"id": 6, "type": 0, "size": 16, "label": "u%s", "refs": [[6, "self%s"]]},
  {"id": 7, "type": 1, "size": 16}],
 "weakrefs": [{"id": 7, "referent": 1, "callback": true}],
 "roots": [{"id": 1, "kind": "named", "name": "r%s"}, {"id": 3, "kind": "k%s"},
  {"id": 6, "kind": "garbage"}],
 "gc": {"enabled": true, "garbage": [6]}}\n' \
    "$E" "$E" "$E" "$BAD" "$E" "$E" "$E" "$E" "$BAD" "$BAD" "$E" "$BAD" "$E" "$E" "$E" "$E" "$E" "$E" "$E" \
    >"$D"
# The same objects, grown by one: for diff.
sed 's/{"id": 7, "type": 1, "size": 16}/{"id": 7, "type": 1, "size": 16}, {"id": 8, "type": 0, "size": 16, "site": 0}/' "$D" >"$tmp/grown.json"

C1=$(printf '\302[\200-\237]')

# clean WHAT FILE: FILE has no control character but newline, no C1 control, and is UTF-8.
clean() {
    [ "$(LC_ALL=C tr -d '\n\040-\176\200-\377' <"$2" | wc -c)" = 0 ] ||
        fail "$1: a C0 control or DEL passed through: $(LC_ALL=C tr -d '\n\040-\176\200-\377' <"$2" | od -An -c | head -2)"
    LC_ALL=C grep -q "$C1" "$2" && fail "$1: a C1 control passed through"
    iconv -f UTF-8 -t UTF-8 "$2" >/dev/null 2>&1 || fail "$1: not UTF-8"
}

# run STATUS MARKER ARGS...: heaptool ARGS exits STATUS, stdout shows MARKER (the escaped form
# of a control sequence), stdout and stderr are clean.
run() {
    before=$failed
    want=$1 marker=$2
    shift 2
    "$HEAPTOOL" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    [ "$status" = "$want" ] || fail "$*: exit status $status, want $want: $(head -c 300 "$tmp/err")"
    clean "$* (stdout)" "$tmp/out"
    clean "$* (stderr)" "$tmp/err"
    grep -qF -- "$marker" "$tmp/out" || fail "$*: stdout lacks '$marker': $(head -c 300 "$tmp/out")"
    [ "$failed" = "$before" ] && pass
}

# Text: controls as \xNN, bytes that are not UTF-8 as \xNN too.
T='\x1b[2J\x1b]0;pwned\x07\xc2\x9b31m\xc2\x85\x7f\x08\x0d'
run 0 "T$T" stats "$D"
run 0 "f$T.c:7 in g$T" stats --by site "$D"
run 0 "T$T" stats --sort retained "$D"
run 0 'B\xff\xc0\xaf\xed\xa0\x80' stats -n 0 --sort size "$D"
run 0 "[named 'r$T']" top "$D"
run 0 "T$T#6 [self$T]" cycles "$D"
run 0 "T$T" leaks --ids "$D"
run 0 "[k$T]" path "$D" 3
run 0 "o$T" path "$D" 2
run 0 "  size" show "$D" 1
run 0 "site        f$T.c:7 in g$T" show "$D" 1
run 0 '\xff\xc0\xaf\xed\xa0\x80' show "$D" 2
run 0 "e$T" show "$D" 2
run 0 "T$T" diff "$D" "$tmp/grown.json"
run 0 "f$T.c:7 in g$T" diff --by site "$D" "$tmp/grown.json"
run 0 "T$T" diff --final "$tmp/grown.json" "$D" "$tmp/grown.json"
run 0 "valid heapdump" validate "$D"
# A diff of dumps from two producers warns on stderr with both names.
"$HEAPTOOL" diff samples/dumps/cycle.json "$D" >"$tmp/out" 2>"$tmp/err"
clean "diff of producers (stderr)" "$tmp/err"
grep -qF "p$T" "$tmp/err" || fail "diff of producers: stderr lacks the producer: $(cat "$tmp/err")"

# JSON: \u escapes for every control (C1 included), U+FFFD for what is not UTF-8.
J='\u001b[2J\u001b]0;pwned\u0007\u009b31m\u0085\u007f\u0008\r'
run 0 "\"T$J\"" stats --json "$D"
run 0 "\"g$J\"" stats --json --by site "$D"
run 0 '"B\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd"' top --json "$D"
run 0 "\"self$J\"" cycles --json "$D"
run 0 "\"T$J\"" leaks --json "$D"
run 0 "\"r$J\"" path --json "$D" 2
run 0 "\"e$J\"" show --json "$D" 2
run 0 "\"T$J\"" diff --json "$D" "$tmp/grown.json"

# DOT: text stays inside its quoted string, escapes shown (a DOT "\\" is one backslash); the
# SVG Graphviz renders from it shows them as text too.
run 0 'label="T\\x1b[2J\\x1b]0;pwned\\x07' graph --id 1 "$D"
run 0 '\\xff\\xc0\\xaf' graph --backrefs --id 3 "$D"
run 0 'wrote' graph --id 1 -o "$tmp/g.svg" "$D"
clean "graph (svg)" "$tmp/g.svg"
grep -qF 'T\x1b[2J\x1b]0;pwned\x07' "$tmp/g.svg" || fail "graph: the SVG lacks the escaped type name"

# Dump text in an error message is escaped as well.
printf '{"format": "\\u001b[31mheapdump\\u0007", "version": 1, "types": [], "objects": []}' >"$tmp/format.json"
"$HEAPTOOL" stats "$tmp/format.json" >"$tmp/out" 2>"$tmp/err"
[ $? = 3 ] || fail "hostile format: exit status, want 3"
clean "hostile format (stderr)" "$tmp/err"
grep -qF '"\x1b[31mheapdump\x07"' "$tmp/err" || fail "hostile format: $(cat "$tmp/err")"

finish
