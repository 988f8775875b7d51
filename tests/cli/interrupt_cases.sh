#!/bin/sh
# interrupt_cases.sh: SIGINT or SIGTERM while heaptool writes an index or an export leaves no temporary file
# or directory, and heaptool dies of the signal (tests/cli/interrupt_check.py). The test steps heaptool with
# SIGSTOP, so it needs heaptool itself: behind a wrapper script (valgrind) it is skipped.
set -u
case "${HEAPTOOL:-}" in
"") echo "interrupt_cases.sh: set HEAPTOOL to the heaptool binary" >&2; exit 2 ;;
esac
if [ "$(head -c 2 "$HEAPTOOL")" = "#!" ]; then
    echo "interrupt: skipped ($HEAPTOOL is a script, not heaptool itself)"
    exit 0
fi
exec python3 "$(dirname "$0")/interrupt_check.py" "$HEAPTOOL"
