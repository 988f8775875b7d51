#!/bin/sh
# CLI golden tests: each case runs heaptool, compares stdout and stderr with the files under
# tests/cli/golden/ and checks the exit status. UPDATE=1 rewrites the golden files.
# Then runs the other case scripts in this folder (tests/cli/*_cases.sh).
set -u
: "${HEAPTOOL:=build/heaptool}"
here=$(dirname "$0")
golden="$here/golden"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0

# check NAME STATUS heaptool-args...   (standard input from $STDIN, /dev/null by default)
check() {
    name=$1 want=$2
    shift 2
    "$HEAPTOOL" "$@" >"$tmp/out" 2>"$tmp/err" <"${STDIN:-/dev/null}"
    got=$?
    # Temporary paths vary from run to run: show them as $TMP.
    sed -i "s|$tmp|\$TMP|g" "$tmp/out" "$tmp/err"
    if [ "${UPDATE:-}" = 1 ]; then
        cp "$tmp/out" "$golden/$name.out"
        cp "$tmp/err" "$golden/$name.err"
    fi
    ok=1
    [ "$got" = "$want" ] || { echo "FAIL $name: exit status $got, want $want"; ok=0; }
    for s in out err; do
        if ! cmp -s "$tmp/$s" "$golden/$name.$s"; then
            echo "FAIL $name: std$s differs from $golden/$name.$s:"
            diff "$golden/$name.$s" "$tmp/$s" | head -20
            ok=0
        fi
    done
    if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
}

mkdir -p "$golden"
S=samples/dumps

# The tour: help, version, stats and validate on the samples.
check help 0 --help
check help-stats 0 help stats
check stats-h 0 stats -h
check stats-cycle 0 stats $S/cycle.json
check stats-weak-cache 0 stats --sort size $S/weak_cache.json
check stats-top2 0 stats --top 2 $S/growing_list_3.json
check stats-json 0 stats --json $S/cycle.json
STDIN=$S/cycle.json check stats-stdin 0 stats -
check stats-by-site 0 stats --by site -n 3 $S/growing_list_3.json
check stats-by-site-json 0 stats --by site --json -n 2 $S/growing_list_1.json
check stats-bad-by 2 stats --by color $S/cycle.json
check stats-site-retained 2 stats --by site --sort retained $S/cycle.json
check stats-retained 0 stats --sort retained $S/growing_list_3.json
check stats-retained-json 0 stats --sort retained --json --top 3 $S/cycle.json
check top-growing 0 top $S/growing_list_3.json
check top-cycle 0 top -n 4 $S/cycle.json
check top-json 0 top -n 2 --json $S/weak_cache.json
check top-bad-count 2 top -n -3 $S/cycle.json
check validate-cycle 0 validate $S/cycle.json
check validate-quiet 0 validate -q $S/growing_list_1.json

# Usage errors: exit 2, usage on stderr.
check no-args 2
check unknown-command 2 frobnicate
check unknown-option 2 stats --frob $S/cycle.json
check missing-value 2 stats --top
check bad-count 2 stats --top many $S/cycle.json
check bad-sort 2 stats --sort weight $S/cycle.json
check two-dumps 2 stats $S/cycle.json $S/cycle.json
check help-unknown 2 help frobnicate

# Unreadable files: exit 4.
check missing-file 4 stats "$tmp/no-such.json"
check directory 4 stats "$tmp"

# Malformed dumps: exit 3 with file:line:column.
printf '' >"$tmp/empty.json"
printf 'not json\n' >"$tmp/notjson.json"
printf '{"format": "heapdump", "version": 1, "types": [], "objects": [\n{"id": 1, "type": 0, "si' >"$tmp/truncated.json"
printf '{"format": "heapdump", "version": 7, "types": [], "objects": []}\n' >"$tmp/future.json"
printf '{"format": "heapdump", "version": 1,\n "types": [{"id": 0, "name": "Node"}],\n "objects": [\n  {"id": 1, "type": 0, "size": 8, "refs": [[2, "next"]]},\n  {"id": 1, "type": 3, "size": "8"},\n  {"id": 4, "type": 0, "size": 8}],\n "roots": [{"id": 9, "kind": "named"}]}\n' >"$tmp/broken.json"
printf '{"format": "heapdump", "version": 1, "types": [{"id": 0, "name": "\\u001b[31mred"}], "objects": [{"id": 1, "type": 0, "size": 8, "label": "x"}]}\n' >"$tmp/escape.json"
check empty 3 stats "$tmp/empty.json"
check not-json 3 stats "$tmp/notjson.json"
check truncated 3 stats "$tmp/truncated.json"
check future-version 3 stats "$tmp/future.json"
check broken-stats 3 stats "$tmp/broken.json"
check broken-validate 3 validate "$tmp/broken.json"
check escaped-type-name 0 stats "$tmp/escape.json"

# Compressed dumps are told by their bytes, not their names.
gzip -c $S/cycle.json >"$tmp/cycle.json.gz"
gzip -c $S/cycle.json >"$tmp/cycle-gzipped.json"
head -c 200 "$tmp/cycle.json.gz" >"$tmp/cut.json.gz"
{ head -c 40 "$tmp/cycle.json.gz"; printf 'garbage in the middle of the deflate stream'; } >"$tmp/corrupt.json.gz"
check stats-gzip 0 stats -n 3 "$tmp/cycle.json.gz"
check stats-gzip-by-content 0 stats -n 3 "$tmp/cycle-gzipped.json"
check gzip-cut 3 stats "$tmp/cut.json.gz"
check gzip-corrupt 3 stats "$tmp/corrupt.json.gz"

for more in "$here"/*_cases.sh; do
    [ -e "$more" ] || continue
    if HEAPTOOL="$HEAPTOOL" sh "$more"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done

echo "cli: $pass passed, $fail failed"
[ "$fail" = 0 ]
