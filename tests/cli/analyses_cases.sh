#!/bin/sh
# analyses_cases.sh: golden-output tests for heaptool cycles, diff, path, leaks, show and suspects (and their
# error cases) on the small dumps in tests/data. Each case's stdout, stderr and exit status are
# compared with tests/cli/golden/NAME.out.
. "$(dirname "$0")/lib.sh"

# cycles
check cycles_text 0 cycles tests/data/cycle.json
check cycles_json 0 cycles --json tests/data/cycle.json
check cycles_garbage_only 0 cycles --garbage-only --min-size 2 tests/data/cycle.json
check cycles_top 0 cycles -n 1 tests/data/cycle.json
check cycles_none 0 cycles tests/data/growing_list_1.json
check cycles_bad_dump 3 cycles tests/data/bad.json
check cycles_missing_file 4 cycles tests/data/no_such_dump.json
check cycles_bad_top 2 cycles --top many tests/data/cycle.json
check cycles_bad_option 2 cycles --largest tests/data/cycle.json
check cycles_no_dump 2 cycles
check cycles_help 0 cycles --help
# path
check path_live 0 path tests/data/cycle.json 4
check path_typed_id 0 path tests/data/cycle.json 'Node#3'
check path_json 0 path --json tests/data/cycle.json 4
check path_uncollectable 0 path tests/data/cycle.json 31
check path_unreachable 1 path tests/data/cycle.json 10
check path_unreachable_json 1 path --json tests/data/cycle.json 10
check path_long 0 path tests/data/growing_list_3.json 7
check path_unknown_id 3 path tests/data/cycle.json 999
check path_bad_id 2 path tests/data/cycle.json Node#
check path_missing_id 2 path tests/data/cycle.json
check path_bad_dump 3 path tests/data/bad.json 1
# leaks
check leaks_text 0 leaks tests/data/cycle.json
check leaks_ids 0 leaks --ids --top 1 tests/data/cycle.json
check leaks_json 0 leaks --json --ids tests/data/cycle.json
check leaks_clean 0 leaks tests/data/growing_list_3.json
check leaks_two_dumps 2 leaks tests/data/cycle.json tests/data/cycle.json
# show
check show_text 0 show tests/data/cycle.json 3
check show_root 0 show tests/data/cycle.json App#1
check show_weakref 0 show tests/data/cycle.json 51
check show_escapes 0 show tests/data/cycle.json 20
check show_garbage 0 show tests/data/cycle.json 12
check show_top 0 show --top 1 tests/data/cycle.json 1
check show_json 0 show --json tests/data/cycle.json 3
check show_weakref_json 0 show --json tests/data/cycle.json 50
check show_unknown_id 3 show tests/data/cycle.json 7
check show_bad_top 2 show --top -1 tests/data/cycle.json 3
# diff
check diff_type 0 diff tests/data/growing_list_1.json tests/data/growing_list_2.json
check diff_site 0 diff --by site tests/data/growing_list_1.json tests/data/growing_list_2.json
check diff_new_ids 0 diff --new-ids tests/data/growing_list_1.json tests/data/growing_list_2.json
check diff_final 0 diff --final tests/data/growing_list_3.json tests/data/growing_list_1.json tests/data/growing_list_2.json
check diff_top 0 diff -n 1 tests/data/growing_list_1.json tests/data/growing_list_2.json
check diff_json 0 diff --json --new-ids --fail-on-growth 10 --final tests/data/growing_list_3.json tests/data/growing_list_1.json tests/data/growing_list_2.json
check diff_same 0 diff tests/data/growing_list_2.json tests/data/growing_list_2.json
check diff_growth 1 diff --fail-on-growth 3 tests/data/growing_list_1.json tests/data/growing_list_2.json
check diff_growth_site 1 diff --by site --fail-on-growth 3 tests/data/growing_list_1.json tests/data/growing_list_2.json
check diff_no_growth 0 diff --fail-on-growth 4 tests/data/growing_list_1.json tests/data/growing_list_2.json
check diff_other_pid 3 diff tests/data/growing_list_1.json tests/data/other_pid.json
check diff_other_producer 3 diff tests/data/growing_list_1.json tests/data/other_producer.json
check diff_final_other_pid 3 diff --final tests/data/other_pid.json tests/data/growing_list_1.json tests/data/growing_list_2.json
check diff_force 0 diff --force tests/data/growing_list_1.json tests/data/other_pid.json
check diff_newer_version 3 diff tests/data/growing_list_1.json tests/data/version2.json
check diff_bad_by 2 diff --by module tests/data/growing_list_1.json tests/data/growing_list_2.json
check diff_one_dump 2 diff tests/data/growing_list_1.json
check diff_missing_final 4 diff --final tests/data/no_such_dump.json tests/data/growing_list_1.json tests/data/growing_list_2.json
check diff_bad_growth 2 diff --fail-on-growth lots tests/data/growing_list_1.json tests/data/growing_list_2.json
# suspects (their answers are checked against a recomputation in suspects_cases.sh)
check suspects_text 0 suspects tests/data/cycle.json
check suspects_json 0 suspects --json tests/data/cycle.json
check suspects_series 0 suspects --baseline tests/data/growing_list_1.json --final tests/data/growing_list_3.json tests/data/growing_list_2.json
check suspects_threshold 0 suspects --threshold 40% tests/data/growing_list_3.json
check suspects_fail_on 1 suspects --fail-on medium tests/data/cycle.json
check suspects_bad_threshold 2 suspects --threshold 0 tests/data/cycle.json
check suspects_bad_fail_on 2 suspects --fail-on urgent tests/data/cycle.json
check suspects_final_alone 2 suspects --final tests/data/growing_list_3.json tests/data/growing_list_2.json
check suspects_other_process 3 suspects --baseline tests/data/other_pid.json tests/data/growing_list_1.json
check suspects_bad_dump 3 suspects tests/data/bad.json
check suspects_help 0 suspects --help
# the command table
check help_lists_commands 0 --help

finish
