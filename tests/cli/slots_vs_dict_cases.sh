#!/bin/sh
# slots_vs_dict_cases.sh: the __slots__ vs __dict__ sample (samples/programs/slots_vs_dict.c)
# against its golden output. The sample itself exits 1 when the sizes its objects report, the
# heap's byte counter and the allocator's blocks disagree, so the golden numbers are measured.
#
#   BUILD=build tests/cli/slots_vs_dict_cases.sh [--update]
set -u
: "${BUILD:=build}"
cd "$(dirname "$0")/../.." || exit 2
golden=tests/cli/golden/sample_slots_vs_dict.out
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
"$BUILD/samples/slots_vs_dict" >"$tmp/out" 2>"$tmp/err"
status=$?
[ "${1:-}" = "--update" ] && cp "$tmp/out" "$golden"
if [ "$status" = 0 ] && [ ! -s "$tmp/err" ] && cmp -s "$tmp/out" "$golden"; then
    echo "slots_vs_dict: 1 passed, 0 failed"
    exit 0
fi
echo "FAIL slots_vs_dict: exit status $status, output differs from $golden or stderr not empty:"
diff "$golden" "$tmp/out" | head -20
head -5 "$tmp/err"
echo "slots_vs_dict: 0 passed, 1 failed"
exit 1
