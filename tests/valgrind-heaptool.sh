#!/bin/sh
# heaptool under valgrind (tests/valgrind-run.sh), for the golden tests of make check.
exec "$(dirname "$0")/valgrind-run.sh" "$(dirname "$0")/../${BUILD:-build}/heaptool" "$@"
