#!/bin/sh
# truncation_cases.sh: what a user sees of a dump cut short (tests/test_truncation.c checks the
# reader at every cut). Every command exits 3 with one line "heaptool: FILE:LINE:COLUMN: ..." on
# stderr and nothing on stdout; validate says the same on stdout. The cuts fall between records,
# inside one, and in a gzip stream. Exits 1 when a case fails.
. "$(dirname "$0")/lib.sh"
S=samples/dumps

# cut NAME BYTES SAMPLE: the first BYTES bytes of SAMPLE as $tmp/NAME
cut() {
    head -c "$2" "$3" >"$tmp/$1"
}

# expect_cut FILE ARGS...: heaptool ARGS fails on FILE as a cut dump
expect_cut() {
    before=$failed
    file=$1
    shift
    "$HEAPTOOL" "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
    [ "$status" = 3 ] || fail "$*: exit status $status, want 3"
    [ -s "$tmp/out" ] && fail "$*: wrote to stdout: $(head -c 200 "$tmp/out")"
    [ "$(wc -l <"$tmp/err")" = 1 ] || fail "$*: stderr is not one line: $(head -c 400 "$tmp/err")"
    grep -Eq "^heaptool: $file:[0-9]+:[0-9]+: [^ ]" "$tmp/err" || fail "$*: no position: $(cat "$tmp/err")"
    [ "$failed" = "$before" ] && pass
}

# Between records (after line 20: a type; after line 30: an object), inside a record, just
# before the closing brace, and a gzip stream cut in its middle.
n20=$(head -n 20 $S/cycle.json | wc -c)
n30=$(head -n 30 $S/cycle.json | wc -c)
size=$(wc -c <$S/cycle.json)
cut boundary.json "$n20" $S/cycle.json
cut inside.json $((n30 + 17)) $S/cycle.json
cut closing.json $((size - 2)) $S/cycle.json
gzip -c $S/cycle.json >"$tmp/whole.gz"
cut middle.json.gz $(($(wc -c <"$tmp/whole.gz") / 2)) "$tmp/whole.gz"
for f in boundary.json inside.json closing.json middle.json.gz; do
    expect_cut "$tmp/$f" stats "$tmp/$f"
done

# Every command that reads a dump, on a cut within a record.
f=$tmp/inside.json
for cmd in top cycles leaks; do
    expect_cut "$f" $cmd "$f"
done
expect_cut "$f" path "$f" 1
expect_cut "$f" show "$f" 1
expect_cut "$f" graph --id 1 "$f"
expect_cut "$f" diff $S/cycle.json "$f"
expect_cut "$f" diff "$f" $S/cycle.json
"$HEAPTOOL" validate "$f" >"$tmp/out" 2>"$tmp/err"
status=$?
[ "$status" = 3 ] || fail "validate: exit status $status, want 3"
grep -Eq "^$f:[0-9]+:[0-9]+: " "$tmp/out" && grep -q "^$f: invalid: 1 problem$" "$tmp/out" ||
    fail "validate: $(cat "$tmp/out" "$tmp/err")"

finish
