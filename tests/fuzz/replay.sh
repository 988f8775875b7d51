#!/bin/sh
# Runs a harness's replay build (tests/fuzz/replay.c) over its kept inputs: the crashers of
# tests/fuzz/regressions/ and the seeds. Quiet unless something fails; the commands' own
# diagnostics are noise here, the exit status and the sanitizers' reports are what count.
set -u
replay=$1
shift
log=$(mktemp)
trap 'rm -f "$log"' EXIT
set -- $(find "$@" -type f 2>/dev/null | sort)
if "$replay" "$@" >"$log" 2>&1; then
    tail -n 1 "$log"
else
    cat "$log"
    echo "$replay: failed on a kept input (see above)"
    exit 1
fi
