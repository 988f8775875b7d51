#!/bin/sh
# suspects_cases.sh: heaptool suspects on planted heaps, checked against a recomputation in
# python3 (tests/cli/suspects_oracle.py); the golden text cases are in analyses_cases.sh.
#
#   HEAPTOOL=build/heaptool tests/cli/suspects_cases.sh
set -u
case "${HEAPTOOL:-}" in
"") echo "suspects_cases.sh: set HEAPTOOL to the heaptool binary" >&2; exit 2 ;;
esac
exec env HEAPTOOL="$HEAPTOOL" python3 "$(dirname "$0")/suspects_oracle.py"
