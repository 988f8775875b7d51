#!/bin/sh
# basics_cases.sh: the tour (help, version, stats, top and validate on the samples), usage errors
# (exit 2), unreadable files (exit 4), malformed dumps (exit 3 with FILE:LINE:COLUMN) and
# compressed dumps told by their bytes.
. "$(dirname "$0")/lib.sh"
S=samples/dumps

# The tour: help, version, stats and validate on the samples.
check help 0 --help
check help_stats 0 help stats
check stats_h 0 stats -h
check stats_cycle 0 stats $S/cycle.json
check stats_weak_cache 0 stats --sort size $S/weak_cache.json
check stats_top2 0 stats --top 2 $S/growing_list_3.json
check stats_json 0 stats --json $S/cycle.json
STDIN=$S/cycle.json check stats_stdin 0 stats -
check stats_by_site 0 stats --by site -n 3 $S/growing_list_3.json
check stats_by_site_json 0 stats --by site --json -n 2 $S/growing_list_1.json
check stats_bad_by 2 stats --by color $S/cycle.json
check stats_site_retained 2 stats --by site --sort retained $S/cycle.json
check stats_retained 0 stats --sort retained $S/growing_list_3.json
check stats_retained_json 0 stats --sort retained --json --top 3 $S/cycle.json
check top_growing 0 top $S/growing_list_3.json
check top_cycle 0 top -n 4 $S/cycle.json
check top_json 0 top -n 2 --json $S/weak_cache.json
check top_bad_count 2 top -n -3 $S/cycle.json
check validate_cycle 0 validate $S/cycle.json
check validate_quiet 0 validate -q $S/growing_list_1.json

# Usage errors: exit 2, usage on stderr.
check no_args 2
check unknown_command 2 frobnicate
check unknown_option 2 stats --frob $S/cycle.json
check missing_value 2 stats --top
check bad_count 2 stats --top many $S/cycle.json
check bad_sort 2 stats --sort weight $S/cycle.json
check two_dumps 2 stats $S/cycle.json $S/cycle.json
check help_unknown 2 help frobnicate

# Unreadable files: exit 4.
check missing_file 4 stats "$tmp/no-such.json"
check directory 4 stats "$tmp"

# Malformed dumps: exit 3 with file:line:column.
printf '' >"$tmp/empty.json"
printf 'not json\n' >"$tmp/notjson.json"
printf '{"format": "heapdump", "version": 1, "types": [], "objects": [\n{"id": 1, "type": 0, "si' >"$tmp/truncated.json"
printf '{"format": "heapdump", "version": 7, "types": [], "objects": []}\n' >"$tmp/future.json"
printf '{"format": "heapdump", "version": 1,\n "types": [{"id": 0, "name": "Node"}],\n "objects": [\n  {"id": 1, "type": 0, "size": 8, "refs": [[2, "next"]]},\n  {"id": 1, "type": 3, "size": "8"},\n  {"id": 4, "type": 0, "size": 8}],\n "roots": [{"id": 9, "kind": "named"}]}\n' >"$tmp/broken.json"
printf '{"format": "heapdump", "version": 1, "types": [{"id": 0, "name": "\\u001b[31mred"}], "objects": [{"id": 1, "type": 0, "size": 8, "label": "x"}]}\n' >"$tmp/escape.json"
check empty 3 stats "$tmp/empty.json"
check not_json 3 stats "$tmp/notjson.json"
check truncated 3 stats "$tmp/truncated.json"
check future_version 3 stats "$tmp/future.json"
check broken_stats 3 stats "$tmp/broken.json"
check broken_validate 3 validate "$tmp/broken.json"
check escaped_type_name 0 stats "$tmp/escape.json"

# Compressed dumps are told by their bytes, not their names.
gzip -c $S/cycle.json >"$tmp/cycle.json.gz"
gzip -c $S/cycle.json >"$tmp/cycle-gzipped.json"
head -c 200 "$tmp/cycle.json.gz" >"$tmp/cut.json.gz"
{ head -c 40 "$tmp/cycle.json.gz"; printf 'garbage in the middle of the deflate stream'; } >"$tmp/corrupt.json.gz"
check stats_gzip 0 stats -n 3 "$tmp/cycle.json.gz"
check stats_gzip_by_content 0 stats -n 3 "$tmp/cycle-gzipped.json"
check gzip_cut 3 stats "$tmp/cut.json.gz"
check gzip_corrupt 3 stats "$tmp/corrupt.json.gz"

finish
