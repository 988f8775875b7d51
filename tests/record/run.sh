#!/bin/sh
# tests/record/run.sh: the native recorder (libheaptool-record.so) and `heaptool record` on the
# small programs of tests/record/. Every dump must validate (heaptool validate and the JSON
# Schema); the planted shapes must hold exactly the blocks the program says it left and give
# memcheck's leak categories (check_dump.py against shapes.memcheck.json); the robustness modes
# must behave as they do without the recorder. Exits 1 when a case fails.
set -u
: "${HEAPTOOL:=build/heaptool}" "${BUILD:=build}"
here=$(dirname "$0")
LIB=$BUILD/libheaptool-record.so
P=$BUILD/record-tests
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0 fail=0

ok() { pass=$((pass + 1)); }
bad() {
    echo "FAIL record: $*"
    fail=$((fail + 1))
}

# recorded OUTPUT PROGRAM ARGS...: runs the program under the recorder, stdout to $tmp/out,
# stderr to $tmp/err; sets $status.
recorded() {
    out=$1
    shift
    HEAPTOOL_OUTPUT=$out LD_PRELOAD=$LIB "$@" >"$tmp/out" 2>"$tmp/err"
    status=$?
}

# valid NAME DUMP [big]: heaptool validate and the schema accept it (the schema checker takes
# minutes on a big dump: heaptool validate alone then).
valid() {
    if "$HEAPTOOL" validate -q "$2" && { [ -n "${3:-}" ] || python3 tests/schema_check.py "$2" >/dev/null; }; then ok; else
        bad "$1: $2 does not validate: $("$HEAPTOOL" validate "$2" | head -3)"
    fi
}

# check NAME ARGS...: check_dump.py ARGS passes.
check() {
    name=$1
    shift
    if python3 "$here/check_dump.py" "$@" >"$tmp/check" 2>&1 && ! grep -qv ': note: ' "$tmp/check"; then ok; else
        bad "$name: $(cat "$tmp/check")"
    fi
}

# Planted shapes: the program's own blocks, and memcheck's categories for them.
for m in dropped list cycle interior globals stack tls threads registers mmap reuse; do
    recorded "$tmp/$m.json" "$P/shapes" $m
    [ "$status" = 0 ] || bad "shapes $m: exit status $status: $(cat "$tmp/err")"
    valid "shapes $m" "$tmp/$m.json"
    check "shapes $m" "$tmp/$m.json" --program "$(cat "$tmp/out")" --memcheck "$here/shapes.memcheck.json" $m
done

# Stacks and types: the innermost non-wrapper function names the type; a site has its stack;
# frames are symbolized to function, file and line from the program's DWARF.
python3 - "$tmp/list.json" >"$tmp/check" 2>&1 <<'EOF' && ok || bad "list stacks: $(cat "$tmp/check")"
import json, sys
d = json.load(open(sys.argv[1]))
types = {t["id"]: t["name"] for t in d["types"]}
frames = {f["id"]: f for f in d["frames"]}
stacks = {s["id"]: s for s in d["stacks"]}
sites = {s["id"]: s for s in d["sites"]}
mine = [o for o in d["objects"] if types[o["type"]] == "shape_block"]
assert len(mine) == 6, len(mine)
site = sites[mine[0]["site"]]
assert site["function"] == "shape_block" and site["file"].endswith("shapes.c") and site["line"] > 0, site
names = []
node = stacks[site["stack"]]
while True:
    names.append(frames[node["frame"]].get("function"))
    if "parent" not in node:
        break
    node = stacks[node["parent"]]
assert names[:4] == ["shape_block", "shape_list", "dropped_list", "main"], names
assert all(o["thread"] == 1 and o["address"] > 0 for o in mine)
assert [o["id"] for o in d["objects"]] == sorted(o["id"] for o in d["objects"])
EOF

# Other threads' registers: each spinning thread holds its block in a register only, and each
# block has a registers root naming its own thread. The mapped page's list has one root, in that
# page (word 100: 0x320 into a page).
python3 - "$tmp/registers.json" "$tmp/mmap.json" >"$tmp/check" 2>&1 <<'EOF' && ok || bad "registers and mappings: $(cat "$tmp/check")"
import json, sys
d = json.load(open(sys.argv[1]))
types = {t["id"]: t["name"] for t in d["types"]}
mine = {o["id"] for o in d["objects"] if types[o["type"]] == "shape_block"}
held = {r["id"]: r["name"] for r in d["roots"] if r["kind"] == "registers" and r["id"] in mine}
assert sorted(held.values()) == ["registers of thread 2", "registers of thread 3", "registers of thread 4"], held
assert not [r for r in d["roots"] if r["id"] in mine and r["kind"] != "registers"], "held elsewhere too"
m = json.load(open(sys.argv[2]))
roots = [r for r in m["roots"] if r["name"].startswith("mmap 0x")]
assert len(roots) == 1 and roots[0]["kind"] == "global" and roots[0]["name"].endswith("320"), roots
EOF

# Stacks from one call site at one stack address along different paths are told apart: the
# go_left/go_right frames of each block's stack spell the path its size encodes.
recorded "$tmp/paths.json" "$P/paths"
valid "paths" "$tmp/paths.json"
python3 - "$tmp/paths.json" >"$tmp/check" 2>&1 <<'EOF' && ok || bad "paths: $(cat "$tmp/check")"
import json, sys
d = json.load(open(sys.argv[1]))
frames = {f["id"]: f.get("function") for f in d["frames"]}
stacks = {s["id"]: s for s in d["stacks"]}
sites = {s["id"]: s for s in d["sites"]}
checked = 0
for o in d["objects"]:
    names = []
    node = stacks.get(sites[o["site"]]["stack"]) if "site" in o else None
    while node is not None:
        names.append(frames[node["frame"]])
        node = stacks.get(node.get("parent"))
    if "descend" not in names:
        continue
    bits = [n for n in names if n in ("go_left", "go_right")]
    path = sum(1 << k for k, n in enumerate(bits) if n == "go_right")
    assert len(bits) == 6 and o["size"] == 16 * (path + 1), (o["id"], o["size"], names)
    checked += 1
assert checked == 192, checked
EOF

# Depth: 0 records no stacks, 2 keeps two frames.
recorded "$tmp/d0.json" env HEAPTOOL_DEPTH=0 "$P/shapes" list
valid "depth 0" "$tmp/d0.json"
python3 -c "
import json, sys; d = json.load(open(sys.argv[1]))
assert not d['frames'] and not d['stacks'] and all('site' not in o for o in d['objects']), 'stacks at depth 0'
assert sum(o['size'] == 32 for o in d['objects']) >= 6" "$tmp/d0.json" && ok || bad "depth 0 has stacks"
recorded "$tmp/d2.json" env HEAPTOOL_DEPTH=2 "$P/shapes" list
python3 -c "
import json, sys; d = json.load(open(sys.argv[1]))
depth = {s['id']: 1 if 'parent' not in s else None for s in d['stacks']}
st = {s['id']: s for s in d['stacks']}
def n(i): return 1 if 'parent' not in st[i] else 1 + n(st[i]['parent'])
assert max(n(s['stack']) for s in d['sites']) == 2" "$tmp/d2.json" && ok || bad "depth 2 is not 2 frames deep"

# Wrappers from the user: shape_block is then a wrapper, and shape_list names the nodes.
recorded "$tmp/w.json" env HEAPTOOL_WRAPPERS="shape_b*" "$P/shapes" list
grep -q '"name": "shape_list"' "$tmp/w.json" && ok || bad "HEAPTOOL_WRAPPERS=shape_b* did not make shape_list the type"

# Robustness: libc's verdict on bad frees, recorder or not.
for m in foreign double; do
    "$P/robust" $m >/dev/null 2>"$tmp/native.err"
    native=$?
    recorded "$tmp/$m.json" "$P/robust" $m
    if [ "$status" = "$native" ] && cmp -s "$tmp/err" "$tmp/native.err"; then ok; else
        bad "robust $m: status $status (native $native), stderr: $(cat "$tmp/err")"
    fi
done
for m in handler dlopen handoff; do
    recorded "$tmp/$m.json" "$P/robust" $m
    [ "$status" = 0 ] && ok || bad "robust $m: exit status $status: $(cat "$tmp/err")"
    valid "robust $m" "$tmp/$m.json"
    check "robust $m" "$tmp/$m.json" --program "$(cat "$tmp/out")"
done
grep -q 'libexpat' "$tmp/dlopen.json" && ok || bad "dlopen: no frame in libexpat"
# A snapshot's stop request landing inside the program's fork, every recorder lock held, waits
# for the fork to end (it hung before: 124 is timeout's status).
HEAPTOOL_OUTPUT="$tmp/storm.json" timeout 120 env LD_PRELOAD="$LIB" "$P/robust" forkstorm "$tmp" >"$tmp/out" 2>"$tmp/err"
status=$?
[ "$status" = 0 ] && ok || bad "robust forkstorm: exit status $status: $(cat "$tmp/err")"
valid "robust forkstorm" "$tmp/storm.json"
# A thread that blocks the stop signal is waited for 50 ms, not the 2 s one that could still
# answer gets; the sleeping one answers (its registers are roots).
recorded "$tmp/blocked.json" env HEAPTOOL_VERBOSE=1 "$P/robust" blocked
pause=$(sed -n 's/.*program paused \([0-9]*\)\..* ms.*/\1/p' "$tmp/err" | head -1)
[ "$status" = 0 ] && [ -n "$pause" ] && [ "$pause" -lt 1000 ] && ok ||
    bad "robust blocked: status $status, paused ${pause:-?} ms (< 1000 expected): $(cat "$tmp/err")"
check "robust blocked" "$tmp/blocked.json" --program "$(cat "$tmp/out")"

# fork: the child records on its own and writes its own dump (%p), with what it inherited.
recorded "$tmp/fork.%p.json" "$P/robust" fork
parent=$(sed -n 's/.*"parent": \([0-9]*\).*/\1/p' "$tmp/out")
child=$(sed -n 's/.*"child": \([0-9]*\).*/\1/p' "$tmp/out")
valid "fork parent" "$tmp/fork.$parent.json"
valid "fork child" "$tmp/fork.$child.json"
check "fork parent" "$tmp/fork.$parent.json" --program '{"blocks": 3, "bytes": 96}'
check "fork child" "$tmp/fork.$child.json" --program '{"blocks": 5, "bytes": 192}'

# exec: the new image records on its own, under the same pid; the old image's blocks are gone.
recorded "$tmp/exec.json" "$P/robust" exec
check "exec" "$tmp/exec.json" --program "$(cat "$tmp/out")"

# Out of memory inside the recorder: said once, in the dump too, and the program goes on.
recorded "$tmp/oom.json" env HEAPTOOL_MEMORY_LIMIT=1 "$P/robust" many 300000
[ "$status" = 0 ] && grep -q '"blocks": 300000' "$tmp/out" && ok || bad "oom: the program did not finish: $status"
[ "$(grep -c 'ran out of memory' "$tmp/err")" = 1 ] && ok || bad "oom: not said exactly once: $(cat "$tmp/err")"
valid "oom" "$tmp/oom.json" big
grep -q '"incomplete":' "$tmp/oom.json" && ok || bad "oom: the dump's meta does not say it is incomplete"

# A program that overwrites blocks' records and libc's chunk sizes: the dump is still written,
# every block in it, and its meta says so.
recorded "$tmp/overwrite.json" "$P/robust" overwrite
valid "overwrite" "$tmp/overwrite.json"
if [ "$status" = 0 ] && grep -q '"incomplete": "the program overwrote the records in the tails of 3 blocks' "$tmp/overwrite.json" &&
    "$HEAPTOOL" stats "$tmp/overwrite.json" | grep -q "^(no stack) *3 "; then ok; else
    bad "overwrite: status $status, meta: $(grep -o '"incomplete": "[^"]*"' "$tmp/overwrite.json"), stderr: $(cat "$tmp/err")"
fi

# The dump at exit of a program with one thread is written in place: its own memory must not pass
# for the program's (a root keeping every lost block alive), and it must not run on the stack exit
# was called from (a signal's small alternate stack).
recorded "$tmp/drop.json" "$P/robust" drop 20000
if [ "$status" = 0 ] && "$HEAPTOOL" leaks "$tmp/drop.json" | grep -q "definitely lost: 640000 bytes in 20000 blocks"; then ok; else
    bad "drop: status $status, $("$HEAPTOOL" leaks "$tmp/drop.json" | grep "definitely lost:")"
fi
recorded "$tmp/altexit.json" "$P/robust" altexit
[ "$status" = 0 ] && ok || bad "altexit: status $status: $(cat "$tmp/err")"
valid "altexit" "$tmp/altexit.json"
# Records read from where the program overwrote chunk sizes claim ids other blocks have: each
# block still gets an id of its own, and the meta says how many were not what they seemed.
recorded "$tmp/claims.json" "$P/robust" claims
valid "claims" "$tmp/claims.json"
grep -q '"incomplete": "the program overwrote the records in the tails of [0-9]* blocks' "$tmp/claims.json" && ok ||
    bad "claims: no incomplete in the meta"

# Debug information split off with a .gnu_debuglink (objcopy, as some distributions ship it) is
# found: frames still name their files.
mkdir "$tmp/debuglink"
cp "$P/shapes" "$tmp/debuglink/shapes"
if objcopy --only-keep-debug "$tmp/debuglink/shapes" "$tmp/debuglink/shapes.debug" &&
    objcopy --strip-debug --add-gnu-debuglink="$tmp/debuglink/shapes.debug" "$tmp/debuglink/shapes"; then
    recorded "$tmp/debuglink.json" "$tmp/debuglink/shapes" list
    grep -q '"file": "[^"]*shapes.c"' "$tmp/debuglink.json" && ok || bad "debuglink: no frame names a file"
else
    bad "debuglink: objcopy failed"
fi

# An unwritable dump path: said once, before the program runs; the program's status is kept.
recorded "$tmp/no/such/dir/x.json" "$P/robust" many 3
if [ "$status" = 0 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "^heaptool: cannot write the dump $tmp/no/such/dir/x.json: No such file or directory$" "$tmp/err"; then ok; else
    bad "unwritable path: status $status, stderr: $(cat "$tmp/err")"
fi

# Triggers: a signal and an interval give numbered dumps beside the final one; the program's
# own call writes the path it names, from the main thread or another one, and is a no-op
# returning -1 without the recorder.
recorded "$tmp/sig.json.gz" env HEAPTOOL_SIGNAL=USR2 "$P/triggers" signal "$tmp"
valid "signal" "$tmp/sig.1.json.gz"
valid "signal final" "$tmp/sig.json.gz"
recorded "$tmp/int.json" env HEAPTOOL_INTERVAL=1 "$P/triggers" interval
valid "interval 1" "$tmp/int.1.json"
valid "interval 2" "$tmp/int.2.json"
recorded "$tmp/final.json" "$P/triggers" explicit "$tmp/explicit.json"
grep -q '^heaptool_record_dump: 0, written: yes$' "$tmp/out" && ok || bad "explicit dump: $(cat "$tmp/out" "$tmp/err")"
valid "explicit" "$tmp/explicit.json"
recorded "$tmp/final.json" "$P/triggers" thread "$tmp/from-thread.json"
grep -q '^heaptool_record_dump: 0, written: yes$' "$tmp/out" && ok || bad "dump from a thread: $(cat "$tmp/out" "$tmp/err")"
valid "from a thread" "$tmp/from-thread.json"
"$P/triggers" explicit "$tmp/native.json" >"$tmp/out"
grep -q '^heaptool_record_dump: -1, written: no$' "$tmp/out" && ok || bad "without the recorder: $(cat "$tmp/out")"

# heaptool record: runs the program, passes its status on, names the dump by default.
abs_heaptool=$(cd "$(dirname "$HEAPTOOL")" && pwd)/$(basename "$HEAPTOOL")
abs_robust=$(cd "$P" && pwd)/robust
(cd "$tmp" && "$abs_heaptool" record -- "$abs_robust" many 2 >/dev/null 2>"$tmp/err")
n=$(ls "$tmp"/heaptool.robust.*.json.gz 2>/dev/null | wc -l)
[ "$n" = 1 ] && grep -q "^heaptool: record: dump written to heaptool.robust.[0-9]*.json.gz$" "$tmp/err" && ok ||
    bad "record: default name: $n files, stderr: $(cat "$tmp/err")"
"$HEAPTOOL" record -o "$tmp/r.json" --depth 4 -- sh -c 'exit 3' 2>/dev/null
[ $? = 3 ] && ok || bad "record: the program's exit status is not passed on"
"$HEAPTOOL" record -o "$tmp/r.json" -- sh -c 'kill -TERM $$' 2>/dev/null
[ $? = 143 ] && ok || bad "record: a program killed by SIGTERM does not give 143"
# --huge-pages: glibc.malloc.hugetlb=1 joins the program's own tunables by default, one the
# program sets itself wins, and "no" adds nothing.
tunables() { "$HEAPTOOL" record -o "$tmp/r.json" "$@" -- sh -c 'printf "%s\n" "${GLIBC_TUNABLES-unset}"' 2>/dev/null; }
[ "$(tunables)" = glibc.malloc.hugetlb=1 ] && ok || bad "record: default tunables: $(tunables)"
[ "$(GLIBC_TUNABLES=glibc.malloc.arena_max=2 tunables)" = glibc.malloc.hugetlb=1:glibc.malloc.arena_max=2 ] && ok ||
    bad "record: tunables with the program's own: $(GLIBC_TUNABLES=glibc.malloc.arena_max=2 tunables)"
[ "$(GLIBC_TUNABLES=glibc.malloc.hugetlb=0 tunables)" = glibc.malloc.hugetlb=0 ] && ok ||
    bad "record: the program's own hugetlb overridden: $(GLIBC_TUNABLES=glibc.malloc.hugetlb=0 tunables)"
[ "$(tunables --huge-pages no)" = unset ] && ok || bad "record --huge-pages no: $(tunables --huge-pages no)"
for args in "--depth 300 -- true" "--signal KILL -- true" "--interval 0 -- true" "--depth" "--huge-pages maybe -- true"; do
    "$HEAPTOOL" record $args >/dev/null 2>&1
    [ $? = 2 ] && ok || bad "record $args: not a usage error"
done
"$HEAPTOOL" record -o "$tmp/r.json" -- /no/such/program 2>"$tmp/err"
[ $? = 127 ] && grep -q "cannot run /no/such/program" "$tmp/err" && ok || bad "record of a missing program: $(cat "$tmp/err")"

echo "record: $pass passed, $fail failed"
[ "$fail" = 0 ]
