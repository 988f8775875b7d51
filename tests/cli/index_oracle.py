#!/usr/bin/env python3
"""index_oracle.py: every analysis answers the same from a dump and from its binary index.

    python3 tests/cli/index_oracle.py HEAPTOOL [RUNS]

The oracle is the JSON path itself: each command (text and --json) runs on the dump with
--no-index and on the index `heaptool index` wrote for it, and the outputs must be byte for
byte the same once the index's name is read as the dump's. Dumps: the samples, the V8
snapshots of tests/data/v8, RUNS random heapdumps (cycles, shared targets, labels, every root
kind with garbage roots, weak references, sites, pools and collector state) and as many native
ones (tests/cli/native_oracle.py's generator: addresses, interior pointers, stacks). Then
`heaptool convert` back to JSON must answer the same again (a V8 snapshot becomes a heapdump,
whose text output shows V8's internal types: it must only load). Prints one line per mismatch;
exits 1 if there is any.
"""
import json
import os
import random
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import native_oracle  # noqa: E402

ROOT_KINDS = ("external", "named", "interned", "cache", "frozen", "garbage")
EDGE_NAMES = ("next", "prev", "0", "value", "items", "[3]", "[12]", None)


def random_dump(rng):
    ntypes = rng.randint(1, 6)
    types = []
    for t in range(ntypes):
        ty = {"id": 10 + t, "name": rng.choice(["Node", "list", "dict", "str", "T%d" % t]) + str(t), "size": rng.choice([0, 16, 48])}
        if rng.random() < 0.7:
            ty["gc"] = True
        if rng.random() < 0.2:
            ty["finalizer"] = True
        if rng.random() < 0.1:
            ty["legacy_finalizer"] = True
        types.append(ty)
    sites = [{"id": 500 + s, "file": "f%d.c" % (s % 3), "line": rng.randint(1, 90), "function": "fn%d" % (s % 2)}
             for s in range(rng.randint(0, 4))]
    n = rng.randint(1, 60)
    ids = rng.sample(range(1, 10000), n)
    objects = []
    for i in range(n):
        o = {"id": ids[i], "type": 10 + rng.randrange(ntypes), "size": rng.choice([0, 8, 24, 56, 100, 4000])}
        if rng.random() < 0.6:
            o["rc"] = rng.randint(0, 5)
        if sites and rng.random() < 0.7:
            o["site"] = rng.choice(sites)["id"]
        if rng.random() < 0.4:
            o["label"] = rng.choice(["'x'", "'a'", "[1, 2]", "tab\there", "é"])
        if rng.random() < 0.5:
            o["gen"] = rng.randint(0, 2)
        if rng.random() < 0.5:
            o["flags"] = rng.sample(["tracked", "finalized", "frozen", "immortal", "interned"], rng.randint(0, 2))
        refs = []
        for _ in range(rng.choice([0, 1, 1, 2, 3, 5])):
            name = rng.choice(EDGE_NAMES)
            target = ids[rng.randrange(n)]
            refs.append([target] if name is None else [target, name])
        if refs:
            o["refs"] = refs
        objects.append(o)
    roots = []
    for r in range(rng.randint(0, max(1, n // 5))):
        root = {"id": ids[rng.randrange(n)], "kind": rng.choice(ROOT_KINDS)}
        if rng.random() < 0.5:
            root["name"] = "r%d" % r
        roots.append(root)
    weakrefs = []
    for w in rng.sample(range(n), rng.randint(0, min(4, n))):
        weakrefs.append({"id": ids[w], "referent": ids[rng.randrange(n)] if rng.random() < 0.8 else None,
                         "callback": rng.random() < 0.5})
    dump = {"format": "heapdump", "version": 1,
            "meta": {"producer": "index_oracle", "pid": 77, "name": "random"},
            "types": types, "sites": sites, "objects": objects, "roots": roots, "weakrefs": weakrefs}
    if rng.random() < 0.5:
        dump["gc"] = {"enabled": True, "generations": [{"threshold": 700, "count": 3, "collections": 1,
                                                        "collected": 2, "uncollectable": 0}] * 3,
                      "frozen": 0, "garbage": [ids[g] for g in rng.sample(range(n), min(2, n))]}
    return dump


def run(heaptool, *args):
    p = subprocess.run([heaptool, *args], capture_output=True, env=dict(os.environ, HEAPTOOL_INDEX="never"))
    return p.returncode, p.stdout, p.stderr


def object_ids(heaptool, path):
    code, out, _ = run(heaptool, "top", "--json", "-n", "4", path)
    ids = [t["id"] for t in json.loads(out)["top"]] if code == 0 else []
    code, out, _ = run(heaptool, "leaks", "--json", path)
    if code in (0, 1):
        doc = json.loads(out)
        for key in ("unreachable", "uncollectable", "unreferenced", "garbage"):
            for group in doc.get(key, []) if isinstance(doc.get(key), list) else []:
                if isinstance(group, dict) and "example" in group:
                    ids.append(group["example"]["id"] if isinstance(group["example"], dict) else group["example"])
    return sorted(set(ids))[:6]


def commands(ids, query):
    cmds = []
    for json_flag in ([], ["--json"]):
        cmds += [["stats", *json_flag], ["top", "-n", "0", *json_flag], ["cycles", *json_flag],
                 ["cycles", "--top", "0", *json_flag], ["cycles", "--garbage-only", "--min-size", "2", *json_flag],
                 ["leaks", "--reachable", *json_flag], ["suspects", *json_flag]]
        for i in ids:
            cmds += [["path", *json_flag, None, str(i)], ["show", *json_flag, None, str(i)]]
    for i in ids[:3]:
        cmds += [["graph", "--format", "dot", "--id", str(i)], ["graph", "--format", "dot", "--backrefs", "--id", str(i)]]
    if query:
        cmds.append(["query", None, "select id, type, size, retained, idom, reachable, distance, scc from objects order by id"])
    return cmds


def compare(heaptool, dump, index, problems, what, ids, query=True):
    for cmd in commands(ids, query):
        args = [dump if a is None else a for a in cmd]
        if None not in cmd:
            args.append(dump)
        want = run(heaptool, *args)
        got = run(heaptool, *[index if a == dump else a for a in args])
        got = (got[0], got[1].replace(index.encode(), dump.encode()), got[2].replace(index.encode(), dump.encode()))
        if want != got:
            problems.append("%s: heaptool %s: the index answers differently (exit %d vs %d)\n  json:  %r\n  index: %r"
                            % (what, " ".join(args), want[0], got[0], want[1][:300] + want[2][:200],
                               got[1][:300] + got[2][:200]))


def check_dump(heaptool, path, tmp, problems, what, extra_ids=()):
    index = os.path.join(tmp, "x.hdx")
    code, _, err = run(heaptool, "index", "-o", index, path)
    if code != 0:
        problems.append("%s: heaptool index failed (%d): %s" % (what, code, err.decode()))
        return
    ids = sorted(set(object_ids(heaptool, path)) | set(extra_ids))
    compare(heaptool, path, index, problems, what, ids)
    back = os.path.join(tmp, "back.json")
    code, _, err = run(heaptool, "convert", index, "-o", back)
    if code != 0:
        problems.append("%s: heaptool convert to JSON failed (%d): %s" % (what, code, err.decode()))
        return
    if path.endswith(".heapsnapshot"):  # becomes a heapdump: V8's internal types are no longer told apart
        if run(heaptool, "stats", back)[0] != 0:
            problems.append("%s: the JSON converted back does not load" % what)
    else:
        compare(heaptool, path, back, problems, what + " (converted back)", ids)
    os.unlink(index)


def check_diff(heaptool, old, new, tmp, problems, what):
    a, b = os.path.join(tmp, "a.hdx"), os.path.join(tmp, "b.hdx")
    for src, dst in ((old, a), (new, b)):
        if run(heaptool, "index", "-o", dst, src)[0] != 0:
            problems.append("%s: heaptool index %s failed" % (what, src))
            return
    for args in (["diff"], ["diff", "--json"], ["diff", "--by", "site"]):
        want = run(heaptool, *args, old, new)
        got = run(heaptool, *args, a, b)
        got = (got[0], got[1].replace(a.encode(), old.encode()).replace(b.encode(), new.encode()), got[2])
        if want != got:
            problems.append("%s: heaptool %s: the indexes answer differently\n  json:  %r\n  index: %r"
                            % (what, " ".join(args), want[1][:300] + want[2][:200], got[1][:300] + got[2][:200]))


def main():
    heaptool = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 40
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    samples = sorted(os.path.join(repo, "samples", "dumps", f) for f in os.listdir(os.path.join(repo, "samples", "dumps")))
    v8 = sorted(os.path.join(repo, "tests", "data", "v8", f) for f in os.listdir(os.path.join(repo, "tests", "data", "v8"))
                if f.endswith(".heapsnapshot"))
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in samples + v8:
            check_dump(heaptool, path, tmp, problems, os.path.basename(path))
        check_diff(heaptool, samples[1], samples[3], tmp, problems, "growing_list_1 -> 3")
        for seed in range(runs):
            for kind, make in (("random", random_dump), ("native", native_oracle.make_dump)):
                dump = make(random.Random(seed))
                path = os.path.join(tmp, "%s-%d.json" % (kind, seed))
                with open(path, "w") as f:
                    json.dump(dump, f)
                some = [o["id"] for o in dump["objects"][:3]]  # unreachable ones too, unlike top's
                check_dump(heaptool, path, tmp, problems, "%s dump %d" % (kind, seed), some)
                if kind == "random" and seed % 4 == 0:
                    grown = make(random.Random(seed + 1000))
                    grown_path = os.path.join(tmp, "grown-%d.json" % seed)
                    with open(grown_path, "w") as f:
                        json.dump(grown, f)
                    check_diff(heaptool, path, grown_path, tmp, problems, "random diff %d" % seed)
    for p in problems:
        print(p)
    print("index oracle: %d sample, %d V8 and %d random dumps, %d problems"
          % (len(samples), len(v8), 2 * runs, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
