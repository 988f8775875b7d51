#!/bin/sh
# answers_cases.sh: answers that do not mislead. diff --final keeps property names (only sequence
# positions and data-like keys merge as [*]); a dominator chain always ends at what holds it;
# roots are not "unreferenced"; a named root is named; dumps without a pid are diffed with a
# note; --new-ids and --final take --type; V8's internal types stay out of text unless
# --internals; labels show \n and \t, a quoted label is quoted once, a key reference is <key 'k'>;
# stats --tracked-only; graph pictures: red only for cycles through a start object,
# --exclude-type, --backrefs cut by --depth.
. "$(dirname "$0")/lib.sh"
T=tests/data/v8/tiny.heapsnapshot
G=tests/data/v8/tiny_grown.heapsnapshot
C=samples/dumps/cycle.json

# A server holding 20 named fields, one of them .res, and a cache keyed by data: the new objects
# between OLD and NEW keep their path names in FINAL however many references their holder has.
python3 - "$tmp" <<'PY'
import json, sys
def dump(path, n):
    types = [{"id": 0, "name": "Server"}, {"id": 1, "name": "Response"}, {"id": 2, "name": "dict"},
             {"id": 3, "name": "Item"}, {"id": 4, "name": "int"}]
    server = {"id": 1, "type": 0, "size": 64, "refs": [[100 + i, "field%d" % i] for i in range(20)]}
    cache = {"id": 2, "type": 2, "size": 64, "refs": []}
    objects = [server, cache] + [{"id": 100 + i, "type": 4, "size": 24} for i in range(20)]
    if n:
        server["refs"].append([50, "res"])
        objects.append({"id": 50, "type": 1, "size": 32})
        for i in range(n):
            cache["refs"].append([200 + i, "/item/%d" % i])
            objects.append({"id": 200 + i, "type": 3, "size": 16, "label": "line\nnext\tcol"})
    json.dump({"format": "heapdump", "version": 1, "meta": {"producer": "t", "pid": 7}, "types": types,
               "objects": objects,
               "roots": [{"id": 1, "kind": "named", "name": "server"}, {"id": 2, "kind": "external"},
                         {"id": 2, "kind": "named", "name": "cache"}]}, open(path, "w"))
dump(sys.argv[1] + "/old.json", 0)
dump(sys.argv[1] + "/new.json", 3)
PY
check answers_final_names 0 diff --final "$tmp/new.json" "$tmp/old.json" "$tmp/new.json"
check answers_final_type 0 diff --final "$tmp/new.json" --type Response "$tmp/old.json" "$tmp/new.json"
check answers_new_ids_type 0 diff --new-ids --type Item "$tmp/old.json" "$tmp/new.json"
check answers_type_alone 2 diff --type Item "$tmp/old.json" "$tmp/new.json"
check answers_new_ids_no_type 3 diff --new-ids --type Itme "$tmp/old.json" "$tmp/new.json"
check answers_no_pid 0 diff -n 2 $T $G
check answers_labels 0 show "$tmp/new.json" 200
check answers_named_root 0 top -n 2 "$tmp/new.json"
check answers_held_by_two 0 top -n 3 $T
check answers_held_by_json 0 top -n 1 --json $T
check answers_top_all_v8 0 top -n 0 $T
check answers_key_names 0 show $C 8
check answers_leaks_roots 0 leaks $C

# V8's internal types: out of text, in with --internals, always in --json.
check answers_internals_hidden 0 stats -n 0 $T
check answers_internals_shown 0 stats -n 0 --internals $T
check answers_internals_show 0 show $T 9 --internals
check answers_internals_graph 0 graph $T --type Foo --max 2
check answers_internals_graph_shown 0 graph --internals $T --type Foo --max 2 --depth 1

# stats --tracked-only counts what gc.get_objects() lists.
check answers_tracked_only 0 stats --tracked-only $C
check answers_tracked_only_retained 2 stats --tracked-only --sort retained $C

# Graphs: red only on cycles through a start object; --exclude-type; --backrefs stopped by --depth.
check answers_graph_start_cycle 0 graph $C --id 14 --depth 1
check answers_graph_other_cycle 0 graph $C --id 8 --depth 2
check answers_graph_exclude 0 graph $C --id 8 --exclude-type int --exclude-type str
check answers_graph_exclude_unknown 3 graph $C --id 8 --exclude-type Strr
check answers_graph_backrefs_cut 0 graph $C --id 4 --backrefs --depth 1
check answers_graph_backrefs_whole 0 graph $C --id 4 --backrefs --depth 5

finish
