#!/bin/sh
# holders_cases.sh: the roots `heaptool top` names as holding each dominator chain's top, on
# random heaps held by many roots, against a plain backward walk in python3
# (tests/cli/holders_oracle.py; ORACLE_DUMPS: how many heaps, fewer under valgrind), with few rows
# (each top walked back alone) and with all (every top at once).
set -u
case "${HEAPTOOL:-}" in
"") echo "holders_cases.sh: set HEAPTOOL to the heaptool binary" >&2; exit 2 ;;
esac
exec python3 "$(dirname "$0")/holders_oracle.py" "$HEAPTOOL" "${ORACLE_DUMPS:-100}"
