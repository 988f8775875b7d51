#!/bin/sh
# Runs one Criterion suite and fails when it fails, when a sanitizer spoke in any of its forked
# workers (Criterion itself may still count such a test as passing), or when it is still running
# after SUITE_TIMEOUT seconds (default 900: the slowest suite takes a minute under ASan), so a
# hang fails with its name instead of stalling CI.
set -u
suite=$1
limit=${SUITE_TIMEOUT:-900}
log=$(mktemp)
trap 'rm -f "$log"' EXIT
timeout -k 10 "$limit" "$suite" --jobs 2 >"$log" 2>&1
status=$?
cat "$log"
if [ "$status" = 124 ]; then
    echo "$suite: still running after $limit s, stopped"
    exit 1
fi
if grep -qE 'ERROR: (Address|Leak|Thread)Sanitizer|runtime error:' "$log"; then
    echo "$suite: a sanitizer reported errors (see above)"
    exit 1
fi
exit $status
