#!/bin/sh
# producers_cases.sh: libhm (hm_snapshot_write) and the native recorder (heaptool record) write
# the binary index themselves for a path ending in .hdx; tests/cli/producer_forms.py checks it
# against the JSON of the same moment (the oracle: the JSON path). INDEX_ORACLE=0 skips it, as
# index_cases.sh's oracle (under valgrind, its hundreds of runs would take too long).
. "$(dirname "$0")/lib.sh"

if [ "${INDEX_ORACLE:-1}" = 0 ]; then
    :
elif python3 tests/cli/producer_forms.py "$HEAPTOOL" "${BUILD:-build}"; then
    pass
else
    fail "producer_forms.py"
fi
finish
