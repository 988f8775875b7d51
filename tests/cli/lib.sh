# lib.sh: the one harness of the CLI golden tests, sourced by every tests/cli/*_cases.sh.
#
#   check NAME STATUS ARGS...   runs heaptool ARGS and compares with tests/cli/golden/NAME.out:
#                               stdout, a "--- stderr" line, stderr, "--- exit STATUS".
#                               Standard input is the file $STDIN (default /dev/null), or a
#                               pipe fed with the file $PIPE; it runs in $DIR (default the
#                               repository). Temporary paths show as $TMP, and the place
#                               the format documents are installed (DOCDIR, as the Makefile
#                               has it) as $DOCDIR.
#   pass / fail WHAT            count a check made some other way (fail says what failed).
#   finish                      prints "SUITE: N passed, M failed" (SUITE: the script's name
#                               without _cases.sh) and exits 1 on a failure.
#   uses_graphviz               the suite lays graphs out with Graphviz (below).
#
# UPDATE=1 (or --update as a script's first argument) rewrites the golden files instead.
# Golden files are named COMMAND_WHAT.out (or SUITE_WHAT.out for a suite about one topic).
case "${HEAPTOOL:-}" in
"") echo "set HEAPTOOL to the heaptool binary" >&2; exit 2 ;;
/*) ;;
*/*) HEAPTOOL="$(pwd)/$HEAPTOOL" ;;
esac
[ "${1:-}" = "--update" ] && UPDATE=1
cd "$(dirname "$0")/../.." || exit 2
repo=$(pwd)
golden=$repo/tests/cli/golden
docdir=${DOCDIR:-/usr/local/share/doc/heaptool}
# Under SANITIZE=address, Graphviz's font libraries keep caches LeakSanitizer would report.
LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$repo/tests/lsan.supp:print_suppressions=0}
export LSAN_OPTIONS
# The suites that render ask for ASan's slow unwinder (why: tests/lsan.supp).
uses_graphviz() {
    ASAN_OPTIONS=${ASAN_OPTIONS:-fast_unwind_on_malloc=0}
    export ASAN_OPTIONS
}
# The golden cases read the dumps themselves, whatever the caller's environment says about
# binary indexes (index_cases.sh tests those, each case setting its own mode).
HEAPTOOL_INDEX=never
export HEAPTOOL_INDEX
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
passed=0
failed=0
suite=$(basename "$0" _cases.sh)

check() {
    name=$1 want=$2
    shift 2
    if [ -n "${PIPE:-}" ]; then
        cat "$PIPE" | (cd "${DIR:-$repo}" && "$HEAPTOOL" "$@" >"$tmp/stdout" 2>"$tmp/stderr")
    else
        (cd "${DIR:-$repo}" && "$HEAPTOOL" "$@" >"$tmp/stdout" 2>"$tmp/stderr" <"${STDIN:-/dev/null}")
    fi
    status=$?
    {
        cat "$tmp/stdout"
        echo "--- stderr"
        cat "$tmp/stderr"
        echo "--- exit $status"
    } | sed -e "s|$tmp|\$TMP|g" -e "s|$docdir/formats/|\$DOCDIR/formats/|g" >"$tmp/actual"
    [ "${UPDATE:-}" = 1 ] && cp "$tmp/actual" "$golden/$name.out"
    if [ "$status" = "$want" ] && cmp -s "$tmp/actual" "$golden/$name.out"; then
        pass
        return 0
    fi
    fail "$name: heaptool $* (exit $status, want $want)"
    if [ -f "$golden/$name.out" ]; then
        diff -u "$golden/$name.out" "$tmp/actual" | head -40
    else
        echo "  (no golden file $golden/$name.out)"
    fi
    return 1
}

pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL $suite: $*"; }

finish() {
    echo "$suite: $passed passed, $failed failed"
    [ "$failed" = 0 ]
    exit
}
