#!/bin/sh
# samples_cases.sh: the sample programs (samples/programs/) run in a scratch directory: their
# output against tests/cli/golden/sample_NAME.out, every dump they write checked by the JSON
# Schema (tests/schema_check.py) and by `heaptool validate`, and heaptool's answers on them:
# the Node pair is a garbage cycle before the collection and gone after it, the leaky service
# grows (diff --fail-on-growth fails), the weak cache's entry is a weakref to a live Resource.
#
# SAMPLE_RUN, when set, is a command to run each sample under (make check: tests/valgrind-run.sh).
#
#   HEAPTOOL=build/heaptool BUILD=build tests/cli/samples_cases.sh [--update]
: "${BUILD:=build}" "${SAMPLE_RUN:=}"
. "$(dirname "$0")/lib.sh"

for src in samples/programs/*.c; do
    name=$(basename "$src" .c)
    # shellcheck disable=SC2086
    if ! $SAMPLE_RUN "$BUILD/samples/$name" "$tmp" >"$tmp/$name.out" 2>"$tmp/$name.err"; then
        fail "sample $name: exit status $?: $(head -3 "$tmp/$name.err")"
        continue
    fi
    [ "${UPDATE:-}" = 1 ] && cp "$tmp/$name.out" "$golden/sample_$name.out"
    if cmp -s "$tmp/$name.out" "$golden/sample_$name.out" && [ ! -s "$tmp/$name.err" ]; then
        pass
    else
        fail "sample $name: output differs from $golden/sample_$name.out"
        diff "$golden/sample_$name.out" "$tmp/$name.out" | head -10
        head -5 "$tmp/$name.err"
    fi
done

dumps=$(ls "$tmp"/*.json 2>/dev/null)
if [ -z "$dumps" ]; then
    fail "the samples wrote no dumps"
else
    # shellcheck disable=SC2086
    if python3 tests/schema_check.py $dumps >"$tmp/schema" 2>&1; then pass; else fail "schema: $(grep -v ': valid$' "$tmp/schema" | head -3)"; fi
    for d in $dumps; do
        if "$HEAPTOOL" validate "$d" >/dev/null 2>"$tmp/validate.err"; then pass; else fail "validate $(basename "$d"): $(cat "$tmp/validate.err")"; fi
    done
fi

# expect WHAT STATUS PATTERN heaptool-args...: the exit status, and a line of stdout matching.
expect() {
    what=$1 want=$2 pattern=$3
    shift 3
    "$HEAPTOOL" "$@" >"$tmp/got" 2>&1
    got=$?
    if [ "$got" = "$want" ] && grep -q -- "$pattern" "$tmp/got"; then
        pass
    else
        fail "$what: exit $got (want $want), no line matching '$pattern' in:"
        head -8 "$tmp/got"
    fi
}
expect "cycle before collect" 0 '^1 cycle, 2 objects in cycles; 1 garbage' cycles "$tmp/circular_before_collect.json"
expect "no cycle after collect" 0 '^0 cycles' cycles "$tmp/circular_after_collect.json"
expect "service grows" 1 'Response  *100  *200  *+100' diff --fail-on-growth 50 "$tmp/service_1.json" "$tmp/service_2.json"
expect "service leak rule" 0 "100 .*\[named 'cache'\] dict \[\*\] → Response$" diff --final "$tmp/service_3.json" "$tmp/service_1.json" "$tmp/service_2.json"
expect "leak by site" 0 'leaky_cache.c:[0-9]* in handle' diff --by site "$tmp/service_1.json" "$tmp/service_2.json"
expect "weak cache entry" 0 '^Resource  *1 ' stats "$tmp/cache_alive.json"
expect "interned root" 0 'interned' show "$tmp/identity.json" 7
expect "cached small int root" 0 'cache' show "$tmp/identity.json" 2
expect "libhm stacks in flame" 0 ';main;load_config;parse_section;make_entry 3960$' flame "$tmp/stacks.json"
expect "libhm stacks: the other caller" 0 ';main;load_defaults;make_entry 78$' flame "$tmp/stacks.json"
expect "libhm stacks by site" 0 '^samples/programs/traced_stacks.c:[0-9]* in make_entry  *51 ' stats --by site "$tmp/stacks.json"

finish
