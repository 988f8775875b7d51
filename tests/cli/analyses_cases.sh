#!/bin/sh
# analyses_cases.sh: golden-output tests for heaptool cycles, diff, path, leaks, show and suspects (and their
# error cases) on the small dumps in tests/data. Each case's stdout, stderr and exit status are
# compared with tests/cli/golden/NAME.out.
#
#   HEAPTOOL=build/heaptool tests/cli/analyses_cases.sh            run every case
#   HEAPTOOL=build/heaptool tests/cli/analyses_cases.sh --update   rewrite the golden files
#
# Exits 1 when any case differs; the last line is always "N passed, M failed".
set -u

case "${HEAPTOOL:-}" in
"") echo "analyses_cases.sh: set HEAPTOOL to the heaptool binary" >&2; exit 2 ;;
/*) ;;
*/*) HEAPTOOL="$(pwd)/$HEAPTOOL" ;;
esac
update=0
[ "${1:-}" = "--update" ] && update=1

cd "$(dirname "$0")/../.." || exit 2
golden=tests/cli/golden
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
passed=0
failed=0

# NAME ARGS... (ARGS go through the shell's word splitting and quote removal)
while read -r name args; do
    case "$name" in ""|\#*) continue ;; esac
    eval "set -- $args"
    "$HEAPTOOL" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
    status=$?
    {
        cat "$tmp/stdout"
        echo "--- stderr"
        cat "$tmp/stderr"
        echo "--- exit $status"
    } >"$tmp/actual"
    if [ "$update" = 1 ]; then
        cp "$tmp/actual" "$golden/$name.out"
    fi
    if cmp -s "$tmp/actual" "$golden/$name.out"; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $name: heaptool $args"
        if [ -f "$golden/$name.out" ]; then
            diff -u "$golden/$name.out" "$tmp/actual" | head -40
        else
            echo "  (no golden file $golden/$name.out)"
        fi
    fi
done <<'CASES'
# cycles
cycles_text          cycles tests/data/cycle.json
cycles_json          cycles --json tests/data/cycle.json
cycles_garbage_only  cycles --garbage-only --min-size 2 tests/data/cycle.json
cycles_top           cycles -n 1 tests/data/cycle.json
cycles_none          cycles tests/data/growing_list_1.json
cycles_bad_dump      cycles tests/data/bad.json
cycles_missing_file  cycles tests/data/no_such_dump.json
cycles_bad_top       cycles --top many tests/data/cycle.json
cycles_bad_option    cycles --largest tests/data/cycle.json
cycles_no_dump       cycles
cycles_help          cycles --help
# path
path_live            path tests/data/cycle.json 4
path_typed_id        path tests/data/cycle.json 'Node#3'
path_json            path --json tests/data/cycle.json 4
path_uncollectable   path tests/data/cycle.json 31
path_unreachable     path tests/data/cycle.json 10
path_unreachable_json path --json tests/data/cycle.json 10
path_long            path tests/data/growing_list_3.json 7
path_unknown_id      path tests/data/cycle.json 999
path_bad_id          path tests/data/cycle.json Node#
path_missing_id      path tests/data/cycle.json
path_bad_dump        path tests/data/bad.json 1
# leaks
leaks_text           leaks tests/data/cycle.json
leaks_ids            leaks --ids --top 1 tests/data/cycle.json
leaks_json           leaks --json --ids tests/data/cycle.json
leaks_clean          leaks tests/data/growing_list_3.json
leaks_two_dumps      leaks tests/data/cycle.json tests/data/cycle.json
# show
show_text            show tests/data/cycle.json 3
show_root            show tests/data/cycle.json App#1
show_weakref         show tests/data/cycle.json 51
show_escapes         show tests/data/cycle.json 20
show_garbage         show tests/data/cycle.json 12
show_top             show --top 1 tests/data/cycle.json 1
show_json            show --json tests/data/cycle.json 3
show_weakref_json    show --json tests/data/cycle.json 50
show_unknown_id      show tests/data/cycle.json 7
show_bad_top         show --top -1 tests/data/cycle.json 3
# diff
diff_type            diff tests/data/growing_list_1.json tests/data/growing_list_2.json
diff_site            diff --by site tests/data/growing_list_1.json tests/data/growing_list_2.json
diff_new_ids         diff --new-ids tests/data/growing_list_1.json tests/data/growing_list_2.json
diff_final           diff --final tests/data/growing_list_3.json tests/data/growing_list_1.json tests/data/growing_list_2.json
diff_top             diff -n 1 tests/data/growing_list_1.json tests/data/growing_list_2.json
diff_json            diff --json --new-ids --fail-on-growth 10 --final tests/data/growing_list_3.json tests/data/growing_list_1.json tests/data/growing_list_2.json
diff_same            diff tests/data/growing_list_2.json tests/data/growing_list_2.json
diff_growth          diff --fail-on-growth 3 tests/data/growing_list_1.json tests/data/growing_list_2.json
diff_growth_site     diff --by site --fail-on-growth 3 tests/data/growing_list_1.json tests/data/growing_list_2.json
diff_no_growth       diff --fail-on-growth 4 tests/data/growing_list_1.json tests/data/growing_list_2.json
diff_other_pid       diff tests/data/growing_list_1.json tests/data/other_pid.json
diff_other_producer  diff tests/data/growing_list_1.json tests/data/other_producer.json
diff_final_other_pid diff --final tests/data/other_pid.json tests/data/growing_list_1.json tests/data/growing_list_2.json
diff_force           diff --force tests/data/growing_list_1.json tests/data/other_pid.json
diff_newer_version   diff tests/data/growing_list_1.json tests/data/version2.json
diff_bad_by          diff --by module tests/data/growing_list_1.json tests/data/growing_list_2.json
diff_one_dump        diff tests/data/growing_list_1.json
diff_missing_final   diff --final tests/data/no_such_dump.json tests/data/growing_list_1.json tests/data/growing_list_2.json
diff_bad_growth      diff --fail-on-growth lots tests/data/growing_list_1.json tests/data/growing_list_2.json
# suspects (their answers are checked against a recomputation in suspects_cases.sh)
suspects_text        suspects tests/data/cycle.json
suspects_json        suspects --json tests/data/cycle.json
suspects_series      suspects --baseline tests/data/growing_list_1.json --final tests/data/growing_list_3.json tests/data/growing_list_2.json
suspects_threshold   suspects --threshold 40% tests/data/growing_list_3.json
suspects_fail_on     suspects --fail-on medium tests/data/cycle.json
suspects_bad_threshold suspects --threshold 0 tests/data/cycle.json
suspects_bad_fail_on suspects --fail-on urgent tests/data/cycle.json
suspects_final_alone suspects --final tests/data/growing_list_3.json tests/data/growing_list_2.json
suspects_other_process suspects --baseline tests/data/other_pid.json tests/data/growing_list_1.json
suspects_bad_dump    suspects tests/data/bad.json
suspects_help        suspects --help
# the command table
help_lists_commands  --help
CASES

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
