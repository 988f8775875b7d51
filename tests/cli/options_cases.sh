#!/bin/sh
# options_cases.sh: how every command takes its arguments. Options before, between and after the
# operands; --top=5, -n5 and -n 5 alike (and -n=5 refused with a hint); -n 0 as "all"; "--" ends
# the options; "-" is standard input; --help before or after the command; ids as N, TYPE#N
# (checked against the object's type) and @N; type names suggested when misspelt, and a bare
# class name standing for the one qualified name that ends in it.
. "$(dirname "$0")/lib.sh"
C=samples/dumps/cycle.json
G1=tests/data/growing_list_1.json
G2=tests/data/growing_list_2.json

# Every command with an option after its operands.
check options_stats_top_after 0 stats $C --top 2
check options_top_n_after 0 top $C -n 2
check options_show_top_after 0 show $C 8 -n 1
check options_path_json_after 0 path $C 11 --json
check options_leaks_top_between 0 leaks --ids $C --top=1
check options_cycles_n_glued 0 cycles $C -n1
check options_diff_between 0 diff $G1 --top 2 $G2
check options_graph_after 0 graph $C --depth 1 --id=8
check options_validate_after 0 validate $C -q

# The spellings of a value, and the one that is refused.
check options_top_equals 0 stats --top=2 $C
check options_n_glued 0 stats -n2 $C
check options_n_separate 0 stats -n 2 $C
check options_n_equals 2 stats -n=2 $C
check options_flag_with_value 2 stats --json=yes $C
check options_unknown_short 2 top -x $C
check options_missing_value 2 top $C --top
check options_choice_equals 0 stats --by=site -n1 $C

# -n 0 shows all, in every command that has -n.
check options_top_zero 0 top -n 0 $C
check options_stats_zero 0 stats -n 0 $C
check options_show_zero 0 show -n 0 $C 8
check options_cycles_zero 0 cycles -n 0 $C
check options_leaks_zero 0 leaks -n 0 $C
check options_diff_zero 0 diff -n 0 $G1 $G2

# "--" ends the options; "-" is standard input.
cp $C "$tmp/-x.json"
DIR=$tmp check options_dash_dash_file 0 stats -n 1 -- -x.json
DIR=$tmp check options_dash_file_unknown 2 stats -n 1 -x.json
check options_dash_dash_id 2 show $C -- -8
STDIN=$C check options_stdin 0 top - -n 1

# Help, before or after the command's name.
check options_help_before 0 --help stats
check options_help_after 0 stats --help
check options_help_anywhere 0 top $C --help
check options_help_every_command 0 help diff

# Ids: a number, TYPE#NUMBER checked against the type, DevTools' @NUMBER.
check options_id_typed 0 path $C dict#8
check options_id_wrong_type 3 show $C Node#8
check options_id_at 0 path $C @11
check options_id_bad 2 show $C Node#x

# Type names: suggestions, and bare class names for qualified ones.
cat >"$tmp/py.json" <<'JSON'
{"format": "heapdump", "version": 1, "meta": {"producer": "heapdump_export.py", "pid": 1},
 "types": [{"id": 1, "name": "__main__.Node"}, {"id": 2, "name": "app.models.Session"},
           {"id": 3, "name": "app.cache.Session"}, {"id": 4, "name": "dict"}],
 "objects": [{"id": 1, "type": 1, "size": 48, "refs": [[2, "next"]]},
             {"id": 2, "type": 1, "size": 48},
             {"id": 3, "type": 2, "size": 64}, {"id": 4, "type": 3, "size": 64},
             {"id": 5, "type": 4, "size": 232, "refs": [[1, "head"], [3, "s"], [4, "t"]]}],
 "roots": [{"id": 5, "kind": "named", "name": "globals"}]}
JSON
check options_type_bare 0 graph "$tmp/py.json" --type Node --max 1 --depth 0
check options_type_misspelt 3 graph "$tmp/py.json" --type Nod
check options_type_ambiguous 3 graph "$tmp/py.json" --type Session
check options_type_other_case 3 graph "$tmp/py.json" --filter-type DICT --id 5
check options_id_bare_type 0 path "$tmp/py.json" Node#2
check options_id_bare_wrong 3 path "$tmp/py.json" Session#2

finish
