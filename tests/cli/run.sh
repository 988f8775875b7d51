#!/bin/sh
# run.sh: every CLI test suite in this folder (tests/cli/*_cases.sh, each on the one harness in
# lib.sh), then a summary. UPDATE=1 rewrites the golden files of every suite.
set -u
: "${HEAPTOOL:=build/heaptool}"
export HEAPTOOL
here=$(dirname "$0")
pass=0 fail=0
for suite in "$here"/*_cases.sh; do
    if sh "$suite"; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "cli: $pass suites passed, $fail failed"
[ "$fail" = 0 ]
