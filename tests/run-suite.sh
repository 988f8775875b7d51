#!/bin/sh
# Runs one Criterion suite and fails when it fails or when a sanitizer spoke in any of its forked
# workers (Criterion itself may still count such a test as passing).
set -u
suite=$1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$suite" --jobs 2 >"$log" 2>&1
status=$?
cat "$log"
if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$log"; then
    echo "$suite: a sanitizer reported errors (see above)"
    exit 1
fi
exit $status
