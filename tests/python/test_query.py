#!/usr/bin/env python3
"""test_query.py: heaptool query and export against the dump read independently.

    HEAPTOOL=build/heaptool python3 tests/python/test_query.py

The oracle reads each dump with the standard library's json and recomputes every table and
every computed column in plain Python: reachability and the distance from the nearest root by
breadth-first search, the dominator tree by the iterative data-flow algorithm (Cooper, Harvey,
Kennedy), retained sizes by summing dominator subtrees, strongly connected components by
Tarjan's algorithm. Dumps: the samples, tests/data, and random dumps (fixed seeds) with hostile
labels, several root kinds, dead and live weak references.
"""
import csv
import io
import json
import os
import pty
import random
import select
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAPTOOL = os.path.abspath(os.environ.get("HEAPTOOL", os.path.join(ROOT, "build", "heaptool")))
FLAG_ORDER = ["tracked", "finalized", "frozen", "immortal", "interned"]
HOSTILE = ["a,b", 'say "hi"', "line\nbreak", "cr\rlf\r\n", "tab\there", "back\\slash",
           "'); DROP TABLE objects; --", "ünïcödé ✓ 😀", "", " lead and trail ", "\x01\x1f\x7f",
           '""', "=1+2", "null"]


def big_label(rnd, i):
    """A label for object i of the big exports: hostile ones of every length, none, empty (an
    empty text, not NULL), and plain ones past the 32 bytes of a padded copy."""
    if i % 10 == 3:
        return {}
    if i % 10 == 7:
        return {"label": ""}
    if i % 10 == 9:
        return {"label": "p" * (28 + i % 8)}
    return {"label": rnd.choice(HOSTILE) * rnd.randrange(1, 50) + str(i)}


def random_dump(seed, n=120):
    rnd = random.Random(seed)
    types = [{"id": 10 + t, "name": ["Node", "dict", "list", "str", "Node"][t], "size": 8 * t}
             for t in range(5)]  # two types named Node: type = 'Node' must find both
    sites = [{"id": 100 + s, "file": f"f{s}.c", "line": s + 1, "function": "fn" if s % 2 else ""}
             for s in range(4)]
    frames, stacks = random_stacks(rnd)
    for site in sites:
        if stacks and rnd.random() < 0.7:
            site["stack"] = rnd.choice(stacks)["id"]
    ids = rnd.sample(range(1, 10 * n), n)
    objects = []
    for i, oid in enumerate(ids):
        o = {"id": oid, "type": rnd.choice(types)["id"], "size": rnd.randrange(0, 500)}
        if rnd.random() < 0.7:
            o["rc"] = rnd.randrange(0, 5)
        if rnd.random() < 0.6:
            o["gen"] = rnd.randrange(0, 3)
        if rnd.random() < 0.5:
            o["site"] = rnd.choice(sites)["id"]
        if rnd.random() < 0.5:
            o["label"] = rnd.choice(HOSTILE) if rnd.random() < 0.5 else f"obj{i}"
        flags = [f for f in FLAG_ORDER if rnd.random() < 0.2]
        if flags:
            o["flags"] = flags
        refs = []
        for _ in range(rnd.choice([0, 1, 1, 2, 3])):
            # Mostly forward and local, sometimes back: chains, trees and cycles.
            j = min(n - 1, i + rnd.randrange(1, 4)) if rnd.random() < 0.8 else rnd.randrange(n)
            refs.append([ids[j], rnd.choice(["next", "[0]", "a,b", "x\ny"])] if rnd.random() < 0.7
                        else [ids[j]])
        if refs:
            o["refs"] = refs
        objects.append(o)
    kinds = ["external", "named", "interned", "cache", "frozen", "garbage", "stack"]
    roots = []
    for _ in range(6):
        kind = rnd.choice(kinds)
        r = {"id": rnd.choice(ids), "kind": kind}
        if kind == "named" or rnd.random() < 0.3:
            r["name"] = rnd.choice(["main", "g", "x,y"])
        roots.append(r)
    weak_ids = rnd.sample(ids, 6)
    weakrefs = [{"id": w, "referent": rnd.choice(ids) if k % 3 else None, "callback": k % 2 == 0}
                for k, w in enumerate(weak_ids)]
    doc = {"format": "heapdump", "version": 1, "meta": {"producer": "test_query.py"},
           "types": types, "sites": sites, "objects": objects, "roots": roots, "weakrefs": weakrefs}
    if frames:
        doc.update(frames=frames, stacks=stacks)
    return doc


def random_stacks(rnd):
    """Frames with every mix of the optional members, and a tree of stack nodes over them whose
    ids are neither dense nor in order; none at all for some seeds."""
    if rnd.random() < 0.25:
        return [], []
    frames = []
    for fid in rnd.sample(range(1, 1000), 12):
        f = {"id": fid}
        for key, value in (("function", rnd.choice(["parse", "main", "operator new", "a,b"])),
                           ("file", rnd.choice(["json.c", "dir/x y.c", 'q"uote.c'])),
                           ("module", rnd.choice(["/usr/lib/libjq.so.1", "/bin/app"]))):
            if rnd.random() < 0.6:
                f[key] = value
        if "function" not in f and "file" not in f and "module" not in f:
            f["module"] = "/bin/app"
        if rnd.random() < 0.6:
            f["line"] = rnd.randrange(0, 300)
        if "module" in f and rnd.random() < 0.8:
            f["offset"] = rnd.randrange(0, 1 << 40)
        frames.append(f)
    stacks = []
    for sid in rnd.sample(range(1, 5000), 25):  # parents first: a tree, cut at any depth
        node = {"id": sid, "frame": rnd.choice(frames)["id"]}
        if stacks and rnd.random() < 0.85:
            node["parent"] = rnd.choice(stacks)["id"]
        stacks.append(node)
    return frames, stacks


class Oracle:
    """Every table of a dump, and its computed columns, recomputed from the JSON."""

    def __init__(self, doc):
        self.doc = doc
        self.types = {t["id"]: t for t in doc.get("types", [])}
        self.objects = {o["id"]: o for o in doc["objects"]}
        self.order = [o["id"] for o in doc["objects"]]
        self.out = {oid: [r[0] for r in o.get("refs", [])] for oid, o in self.objects.items()}
        self.root_ids = [r["id"] for r in doc.get("roots", [])]
        self.distance = self.bfs(self.root_ids)
        self.idom = self.dominators()
        self.retained = self.retained_sizes()
        self.scc = self.components()

    def bfs(self, starts, seen=None):
        dist = dict(seen or {})
        queue = []
        for r in starts:
            if r not in dist:
                dist[r] = 1
                queue.append(r)
        for v in queue:
            for w in self.out[v]:
                if w not in dist:
                    dist[w] = dist[v] + 1
                    queue.append(w)
        return dist

    def dominators(self):
        top = object()  # the virtual root above every root
        order, seen = [], {top}
        succ = {top: list(dict.fromkeys(self.root_ids))}
        succ.update(self.out)
        stack = [(top, iter(succ[top]))]
        while stack:  # iterative DFS postorder
            v, it = stack[-1]
            for w in it:
                if w not in seen:
                    seen.add(w)
                    stack.append((w, iter(succ[w])))
                    break
            else:
                order.append(v)
                stack.pop()
        rpo = order[::-1]
        num = {v: i for i, v in enumerate(rpo)}
        preds = {v: [] for v in rpo}
        for v in rpo:
            for w in succ[v]:
                preds[w].append(v)
        idom = {top: top}

        def intersect(a, b):
            while a != b:
                while num[a] > num[b]:
                    a = idom[a]
                while num[b] > num[a]:
                    b = idom[b]
            return a

        changed = True
        while changed:
            changed = False
            for v in rpo[1:]:
                done = [p for p in preds[v] if p in idom]
                new = done[0]
                for p in done[1:]:
                    new = intersect(p, new)
                if idom.get(v) is not new and idom.get(v) != new:
                    idom[v] = new
                    changed = True
        del idom[top]
        return {v: (None if d is top else d) for v, d in idom.items()}

    def retained_sizes(self):
        children = {}
        for v, d in self.idom.items():
            children.setdefault(d, []).append(v)
        self.children = children
        retained = {}
        for v in self.idom:
            total, stack = 0, [v]
            while stack:
                x = stack.pop()
                total += self.objects[x]["size"]
                stack.extend(children.get(x, []))
            retained[v] = total
        return retained

    def subtree(self, v):
        out, stack = [], [v]
        while stack:
            x = stack.pop()
            out.append(x)
            stack.extend(self.children.get(x, []))
        return out

    def components(self):
        """Object id -> frozenset of its component, for components that hold a cycle."""
        index, low, onstack, stack, comps, counter = {}, {}, set(), [], {}, [0]
        for start in self.order:
            if start in index:
                continue
            work = [(start, iter(self.out[start]))]
            index[start] = low[start] = counter[0]
            counter[0] += 1
            stack.append(start)
            onstack.add(start)
            while work:
                v, it = work[-1]
                for w in it:
                    if w not in index:
                        index[w] = low[w] = counter[0]
                        counter[0] += 1
                        stack.append(w)
                        onstack.add(w)
                        work.append((w, iter(self.out[w])))
                        break
                    if w in onstack:
                        low[v] = min(low[v], index[w])
                else:
                    work.pop()
                    if work:
                        low[work[-1][0]] = min(low[work[-1][0]], low[v])
                    if low[v] == index[v]:
                        comp = []
                        while True:
                            w = stack.pop()
                            onstack.discard(w)
                            comp.append(w)
                            if w == v:
                                break
                        if len(comp) > 1 or v in self.out[v]:
                            for w in comp:
                                comps[w] = frozenset(comp)
        return comps

    def object_rows(self):
        rows = []
        for oid in self.order:
            o = self.objects[oid]
            t = self.types[o["type"]]
            rows.append({
                "id": oid, "type": t["name"], "type_id": t["id"], "size": o["size"],
                "rc": o.get("rc"), "gen": o.get("gen"),
                "flags": ",".join(f for f in FLAG_ORDER if f in o.get("flags", [])),
                "site": o.get("site"), "label": o.get("label"),
                "retained": self.retained.get(oid, 0), "idom": self.idom.get(oid),
                "reachable": int(oid in self.distance), "distance": self.distance.get(oid)})
        return rows

    def ref_rows(self):
        rows = [(oid, r[0], r[1] if len(r) > 1 and r[1] else None, 0)
                for oid in self.order for r in self.objects[oid].get("refs", [])]
        rows += [(w["id"], w["referent"], None, 1) for w in self.doc.get("weakrefs", [])
                 if w.get("referent") is not None]
        return rows

    def type_rows(self):
        rows = []
        for t in self.doc.get("types", []):
            mine = [o for o in self.objects.values() if o["type"] == t["id"]]
            # DevTools' rule: an object counts when no object of its type dominates it.
            retained = 0
            for o in mine:
                if o["id"] not in self.idom:
                    continue
                up, shadowed = self.idom[o["id"]], False
                while up is not None:
                    if self.types[self.objects[up]["type"]]["name"] == t["name"] and \
                            self.objects[up]["type"] == t["id"]:
                        shadowed = True
                        break
                    up = self.idom[up]
                retained += 0 if shadowed else self.retained[o["id"]]
            rows.append({"id": t["id"], "name": t["name"], "count": len(mine),
                         "size": sum(o["size"] for o in mine), "retained": retained,
                         "instance_size": t.get("size", 0)})
        return rows

    def stack_frames(self, node_id):
        """The frame ids of the stack named by a node, innermost first."""
        nodes = {n["id"]: n for n in self.doc.get("stacks", [])}
        out = []
        while node_id is not None:
            out.append(nodes[node_id]["frame"])
            node_id = nodes[node_id].get("parent")
        return out

    def frame_rows(self):
        return [{"id": f["id"], "function": f.get("function") or None, "file": f.get("file") or None,
                 "line": f.get("line") or None, "module": f.get("module") or None,
                 "offset": f.get("offset", 0) if f.get("module") else None}
                for f in self.doc.get("frames", [])]

    def stack_frame_rows(self):
        return [{"stack": n["id"], "depth": k, "frame": frame}
                for n in self.doc.get("stacks", []) for k, frame in enumerate(self.stack_frames(n["id"]))]

    def site_rows(self):
        frames = {f["id"]: f for f in self.doc.get("frames", [])}
        rows = []
        for s in self.doc.get("sites", []):
            mine = [x for x in self.objects.values() if x.get("site") == s["id"]]
            stack = s.get("stack")
            rows.append({"id": s["id"], "file": s["file"], "line": s["line"], "function": s.get("function") or None,
                         "count": len(mine), "size": sum(x["size"] for x in mine), "stack_id": stack,
                         "stack": None if stack is None else
                         " <- ".join(frame_label(frames[f]) for f in self.stack_frames(stack))})
        return rows


def frame_label(f):
    """A frame as heaptool shows one (memcheck's way)."""
    fn, file, module, line = f.get("function", ""), f.get("file", ""), f.get("module", ""), f.get("line", 0)
    name = fn or "???"
    if file and line:
        return f"{name} ({file}:{line})"
    if file:
        return f"{name} ({file})"
    if fn and module:
        return f"{fn} (in {module})"
    if module:
        return f"{module}+0x{f.get('offset', 0):x}"
    return name


def heaptool(*args, check=True):
    r = subprocess.run([HEAPTOOL, *args], capture_output=True, timeout=120)
    if check and r.returncode != 0:
        raise AssertionError(f"heaptool {args} exited {r.returncode}: {r.stderr.decode()}")
    return r


def query(path, sql):
    return json.loads(heaptool("query", "--json", path, sql).stdout)


class QueryTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.dumps = [os.path.join(ROOT, "samples", "dumps", f) for f in sorted(os.listdir(os.path.join(ROOT, "samples", "dumps")))]
        cls.dumps += [os.path.join(ROOT, "tests", "data", f) for f in ("cycle.json", "growing_list_3.json")]
        for seed in range(4):
            path = os.path.join(cls.tmp.name, f"random{seed}.json")
            with open(path, "w", encoding="utf-8") as f:
                json.dump(random_dump(seed), f)
            cls.dumps.append(path)
        cls.oracles = {}
        for path in cls.dumps:
            with open(path, encoding="utf-8") as f:
                cls.oracles[path] = Oracle(json.load(f))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def each(self):
        for path in self.dumps:
            with self.subTest(dump=os.path.basename(path)):
                yield path, self.oracles[path]

    def test_objects_table(self):
        for path, o in self.each():
            got = query(path, "SELECT * FROM objects")
            want = o.object_rows()
            self.assertEqual([{k: v for k, v in r.items() if k != "scc"} for r in got], want)

    def test_scc_column_is_the_components_with_cycles(self):
        for path, o in self.each():
            got = {r["id"]: r["scc"] for r in query(path, "SELECT id, scc FROM objects")}
            groups = {}
            for oid, k in got.items():
                if k is not None:
                    groups.setdefault(k, set()).add(oid)
            self.assertEqual({frozenset(g) for g in groups.values()}, set(o.scc.values()))
            self.assertEqual({oid for oid, k in got.items() if k is not None}, set(o.scc))
            # numbered as heaptool cycles numbers them: most members, then largest, then first
            position = {oid: i for i, oid in enumerate(o.order)}
            ranked = sorted(set(o.scc.values()), key=lambda c: (-len(c), -sum(o.objects[x]["size"] for x in c),
                                                                min(position[x] for x in c)))
            self.assertEqual(got, {oid: next((k + 1 for k, c in enumerate(ranked) if oid in c), None)
                                   for oid in o.order})

    def test_group_and_order_by_type_need_no_sort(self):
        """The objects come type by type in the order of the names' bytes (SQLite's BINARY), so
        SQLite sorts nothing; the groups and the order are those of the dump."""
        for path, o in self.each():
            plan = heaptool("query", "--csv", path, "EXPLAIN QUERY PLAN SELECT type, count(*) FROM objects GROUP BY type").stdout
            self.assertNotIn(b"B-TREE", plan)
            want = {}
            for oid in o.order:
                name = o.types[o.objects[oid]["type"]]["name"]
                count, size = want.get(name, (0, 0))
                want[name] = (count + 1, size + o.objects[oid]["size"])
            got = query(path, "SELECT type, count(*) AS n, sum(size) AS s FROM objects GROUP BY type")
            self.assertEqual([(r["type"], r["n"], r["s"]) for r in got],
                             [(name, *want[name]) for name in sorted(want, key=lambda n: n.encode())])
            rows = query(path, "SELECT id, type FROM objects ORDER BY type")
            self.assertEqual([r["type"].encode() for r in rows], sorted(r["type"].encode() for r in rows))
            self.assertEqual(sorted(r["id"] for r in rows), sorted(o.order))
            desc = [r["type"] for r in query(path, "SELECT type FROM objects ORDER BY type DESC")]
            self.assertEqual(desc, [r["type"] for r in rows][::-1])

    def test_refs_types_sites_roots_weakrefs(self):
        for path, o in self.each():
            refs = [(r["src"], r["dst"], r["name"], r["weak"]) for r in query(path, "SELECT * FROM refs")]
            self.assertEqual(sorted(refs, key=repr), sorted(o.ref_rows(), key=repr))
            self.assertEqual(query(path, "SELECT * FROM types"), o.type_rows())
            self.assertEqual(query(path, "SELECT * FROM sites"), o.site_rows())
            roots = query(path, "SELECT * FROM roots")
            self.assertEqual(roots, [{"id": r["id"], "kind": r["kind"], "name": r.get("name") or None}
                                     for r in o.doc.get("roots", [])])
            weak = query(path, "SELECT * FROM weakrefs")
            self.assertEqual(weak, [{"id": w["id"], "referent": w.get("referent"), "callback": int(bool(w.get("callback")))}
                                    for w in o.doc.get("weakrefs", [])])

    def test_frames_and_stacks(self):
        dumps = [(p, o) for p, o in self.each() if o.doc.get("stacks")]
        self.assertGreaterEqual(len(dumps), 3)  # leak_cases.json and random ones
        for path, o in dumps:
            self.assertEqual(query(path, "SELECT * FROM frames"), o.frame_rows())
            self.assertEqual(query(path, "SELECT * FROM stack_frames"), o.stack_frame_rows())
            # Lookups by id give what a scan gives, for every id and for ids that are not there.
            for table, col, ids in (("frames", "id", [f["id"] for f in o.doc["frames"]]),
                                    ("stack_frames", "stack", [n["id"] for n in o.doc["stacks"]])):
                ids += [0, 10 ** 9]
                looked = heaptool("query", "--csv", path, "; ".join(f"SELECT * FROM {table} WHERE {col} = {i}" for i in ids))
                scanned = heaptool("query", "--csv", path, "; ".join(f"SELECT * FROM {table} WHERE {col} + 0 = {i}" for i in ids))
                self.assertEqual(looked.stdout, scanned.stdout)
            # A site's stack text is its stack_frames joined with frames, innermost first.
            joined = query(path, "SELECT s.id, group_concat(f.id, ' ') AS frames FROM sites s "
                                 "JOIN stack_frames sf ON sf.stack = s.stack_id JOIN frames f ON f.id = sf.frame "
                                 "GROUP BY s.id ORDER BY s.id")
            self.assertEqual(joined, [{"id": s["id"], "frames": " ".join(str(f) for f in o.stack_frames(s["stack"]))}
                                      for s in sorted(o.doc["sites"], key=lambda s: s["id"]) if "stack" in s])

    def test_lookups_give_what_a_scan_gives(self):
        for path, o in self.each():
            ids = o.order[:: max(1, len(o.order) // 15)] + [0, 10 ** 9]
            sql = "; ".join(f"SELECT * FROM objects WHERE id = {i}" for i in ids)
            self.assertEqual(heaptool("query", "--csv", path, sql).stdout,
                             heaptool("query", "--csv", path, "; ".join(
                                 f"SELECT * FROM objects WHERE id + 0 = {i}" for i in ids)).stdout)
            # A value SQLite finds equal to an INTEGER column's id finds the object: 42.0, '42'.
            scan = heaptool("query", "--csv", path, "; ".join(f"SELECT id FROM objects WHERE id + 0 = {i}" for i in ids))
            for form in ("{}.0", "'{}'", "'{}.0'"):
                sql = "; ".join("SELECT id FROM objects WHERE id = " + form.format(i) for i in ids)
                self.assertEqual(heaptool("query", "--csv", path, sql).stdout, scan.stdout)
            for name in {t["name"] for t in o.doc["types"]} | {"nope"}:
                got = query(path, f"SELECT id FROM objects WHERE type = '{name}'")
                self.assertEqual(sorted(r["id"] for r in got),
                                 sorted(x["id"] for x in o.objects.values() if o.types[x["type"]]["name"] == name))
                # another collation: SQLite's comparison, not the lookup's bytes
                got = query(path, f"SELECT id FROM objects WHERE type = '{name.swapcase()}' COLLATE NOCASE")
                self.assertEqual(sorted(r["id"] for r in got), sorted(
                    x["id"] for x in o.objects.values() if o.types[x["type"]]["name"].lower() == name.lower()))
            for i in ids:
                for col, form in (("src", "{}"), ("dst", "{}"), ("src", "'{}.0'"), ("dst", "{}.0")):
                    got = query(path, f"SELECT * FROM refs WHERE {col} = {form.format(i)}")
                    want = [r for r in o.ref_rows() if r[0 if col == "src" else 1] == i]
                    self.assertEqual(sorted(((r["src"], r["dst"], r["name"], r["weak"]) for r in got), key=repr),
                                     sorted(want, key=repr))
                for other in ("x'2a'", "NULL", f"'{i}x'", f"{i}.5"):  # equal to no id, as SQLite compares
                    self.assertEqual(query(path, f"SELECT count(*) AS n FROM refs WHERE dst = {other}"), [{"n": 0}])
            for table, key in (("sites", "site"), ("types", "type")):
                keys = [x["id"] for x in o.doc.get(table, [])] + [0, 10 ** 9, -1]
                looked = heaptool("query", "--csv", path, "; ".join(f"SELECT * FROM {table} WHERE id = {i}" for i in keys))
                scanned = heaptool("query", "--csv", path, "; ".join(f"SELECT * FROM {table} WHERE id + 0 = {i}" for i in keys))
                self.assertEqual(looked.stdout, scanned.stdout)
                got = query(path, f"SELECT o.id FROM objects o JOIN {table} x ON x.id = o.{'site' if table == 'sites' else 'type_id'}")
                self.assertEqual(sorted(r["id"] for r in got), sorted(x["id"] for x in o.objects.values() if key in x))
            join = query(path, "SELECT count(*) AS n FROM objects o JOIN refs r ON r.dst = o.id")
            self.assertEqual(join[0]["n"], len(o.ref_rows()))

    def test_functions(self):
        for path, o in self.each():
            for i in o.order[:: max(1, len(o.order) // 10)]:
                back = query(path, f"SELECT id, name, weak FROM referrers({i})")
                self.assertEqual(sorted((r["id"], r["name"] or "", r["weak"]) for r in back),
                                 sorted((s, n or "", w) for s, d, n, w in o.ref_rows() if d == i))
                fwd = query(path, f"SELECT id, name, weak FROM referents({i})")
                self.assertEqual(sorted((r["id"], r["name"] or "", r["weak"]) for r in fwd),
                                 sorted((d, n or "", w) for s, d, n, w in o.ref_rows() if s == i))
                kept = query(path, f"SELECT id, size FROM retained_set({i})")
                self.assertEqual(sorted(r["id"] for r in kept), sorted(o.subtree(i)) if i in o.idom else [])
                self.assertEqual(sum(r["size"] for r in kept), o.retained.get(i, 0))
                kids = query(path, f"SELECT id FROM dominated({i})")
                self.assertEqual(sorted(r["id"] for r in kids), sorted(o.children.get(i, [])))
                self.check_path(o, i, query(path, f"SELECT * FROM path_to_root({i})"))

    def check_path(self, o, i, hops):
        if i not in o.distance:
            self.assertEqual(hops, [])
            return
        # Live roots first: a path from a garbage root only when no other root reaches it.
        live = o.bfs([r["id"] for r in o.doc["roots"] if r["kind"] != "garbage"])
        want = live[i] if i in live else o.bfs([r["id"] for r in o.doc["roots"] if r["kind"] == "garbage"], live)[i]
        self.assertEqual(len(hops), want)
        self.assertIn(hops[0]["object"], o.root_ids)
        self.assertIsNone(hops[0]["edge"])
        self.assertEqual(hops[-1]["object"], i)
        for a, b in zip(hops, hops[1:]):
            names = [(r[1] if len(r) > 1 else "") for r in o.objects[a["object"]].get("refs", []) if r[0] == b["object"]]
            self.assertIn(b["edge"], names)

    def test_human_sizes_in_the_table_and_exact_bytes_in_csv(self):
        path = os.path.join(ROOT, "samples", "dumps", "cycle.json")
        table = heaptool("query", path, "SELECT id, size, human_size(size * 1000) AS h FROM objects WHERE id = 8").stdout.decode()
        self.assertEqual(table, "id   size  h\n 8  192 B  188 KiB\n")
        self.assertEqual(heaptool("query", "--csv", path, "SELECT id, size FROM objects WHERE id = 8").stdout,
                         b"id,size\r\n8,192\r\n")

    def test_integers_at_every_width_in_csv_and_json(self):
        """Decimals are written without printf: every digit count, both sides of 2^32 (where
        the writer changes arithmetic) and the ends of a 64-bit integer, against Python's."""
        path = os.path.join(ROOT, "samples", "dumps", "cycle.json")
        values = sorted({s * v for v in [0, 1, 9, 99, 100, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 63 - 1]
                         + [10 ** k + d for k in range(1, 19) for d in (-1, 0, 1)] for s in (1, -1)}) + [-2 ** 63]
        sql = "SELECT " + ", ".join(f"{v} AS c{i}" if v != -2 ** 63 else f"-9223372036854775807 - 1 AS c{i}"
                                    for i, v in enumerate(values))
        csv_row = heaptool("query", "--csv", path, sql).stdout.split(b"\r\n")[1]
        self.assertEqual(csv_row, ",".join(str(v) for v in values).encode())
        self.assertEqual(list(query(path, sql)[0].values()), values)

    def test_hostile_labels_round_trip(self):
        path = self.dumps[-1]
        o = self.oracles[path]
        want = {x["id"]: x.get("label") for x in o.objects.values()}
        self.assertTrue(set(HOSTILE) & set(want.values()))
        got = {r["id"]: r["label"] for r in query(path, "SELECT id, label FROM objects")}
        self.assertEqual(got, want)
        text = heaptool("query", "--csv", path, "SELECT id, label FROM objects").stdout.decode()
        rows = list(csv.DictReader(io.StringIO(text, newline="")))
        self.assertEqual({int(r["id"]): r["label"] for r in rows if r["label"] != ""},
                         {k: v for k, v in want.items() if v})
        # In CSV a NULL is an empty field and "" is a quoted empty one.
        self.assertIn('""', text)

    def test_writes_are_refused_and_touch_nothing(self):
        path = os.path.join(ROOT, "samples", "dumps", "cycle.json")
        target = os.path.join(self.tmp.name, "attached.db")
        for sql, what in [("INSERT INTO objects(id) VALUES (1)", "INSERT"), ("DROP TABLE objects", "DROP"),
                          (f"ATTACH '{target}' AS x", "ATTACH"), ("CREATE TABLE t(a)", "CREATE"),
                          ("CREATE TEMP VIEW v AS SELECT 1", "CREATE"), ("PRAGMA writable_schema = 1", "PRAGMA"),
                          (f"VACUUM INTO '{target}'", None), ("SELECT load_extension('x')", None)]:
            with self.subTest(sql=sql):
                r = heaptool("query", path, sql, check=False)
                self.assertEqual(r.returncode, 2)
                self.assertEqual(r.stdout, b"")
                err = r.stderr.decode()
                self.assertTrue(err.startswith("heaptool: query:1:") and err.count("\n") == 1, err)
                if what:
                    self.assertIn(f"{what} is refused", err)
                self.assertFalse(os.path.exists(target))

    def test_sql_error_has_its_position(self):
        path = os.path.join(ROOT, "samples", "dumps", "cycle.json")
        r = heaptool("query", path, "SELECT id,\n  nope FROM objects", check=False)
        self.assertEqual((r.returncode, r.stderr), (2, b"heaptool: query:2:3: no such column: nope\n"))
        sql = os.path.join(self.tmp.name, "two.sql")
        with open(sql, "w") as f:
            f.write("SELECT 1;\n\nSELECT count(*) FROM nowhere;\n")
        r = heaptool("query", "-f", sql, path, check=False)
        self.assertEqual(r.returncode, 2)
        # SQLite names no token for a missing table: the statement's start is the position.
        self.assertEqual(r.stderr.decode(), f"heaptool: {sql}:3:1: no such table: nowhere\n")

    def test_timeout_stops_a_runaway_statement(self):
        path = os.path.join(ROOT, "samples", "dumps", "cycle.json")
        r = heaptool("query", "--timeout", "0.3", path,
                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n",
                     check=False)
        self.assertEqual(r.returncode, 2)
        self.assertIn(b"longer than --timeout 0.3 s", r.stderr)

    def test_interactive_prompt(self):
        """On a terminal: statements over several lines, dot commands, an error that does not
        end the session, Ctrl-C stopping a runaway statement, history kept in a file."""
        history = os.path.join(self.tmp.name, "history")
        master, slave = pty.openpty()
        env = dict(os.environ, HEAPTOOL_HISTORY=history, TERM="dumb")
        p = subprocess.Popen([HEAPTOOL, "query", os.path.join(ROOT, "samples", "dumps", "cycle.json")],
                             stdin=slave, stdout=slave, stderr=slave, env=env)
        os.close(slave)
        out = bytearray()

        def read_for(seconds):
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                if select.select([master], [], [], 0.05)[0]:
                    try:
                        out.extend(os.read(master, 65536))
                    except OSError:
                        return

        def wait_for(text, seconds=10):
            end = time.monotonic() + seconds
            while text not in out and time.monotonic() < end:
                read_for(0.05)
            self.assertIn(text, out)

        wait_for(b"heaptool> ")
        for line, shows in [(b".tables\n", b"objects  refs  types  sites  roots  weakrefs  frames  stack_frames\r\n"),
                            (b"SELECT count(*) AS n\n", b"...> "), (b"  FROM objects;\n", b" n\r\n15\r\n"),
                            (b"SELECT nope;\n", b"prompt:1:8: no such column: nope"),
                            (b".schema roots\n", b"CREATE TABLE roots(id INTEGER, kind TEXT, name TEXT);")]:
            os.write(master, line)
            wait_for(shows)
        os.write(master, b"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT max(i) FROM n;\n")
        read_for(0.5)
        p.send_signal(signal.SIGINT)
        wait_for(b"interrupted")
        os.write(master, b"SELECT 6 * 7 AS answer;\n")
        wait_for(b"42")
        os.write(master, b".quit\n")
        self.assertEqual(p.wait(timeout=10), 0)
        os.close(master)
        with open(history, encoding="utf-8") as f:
            saved = f.read()
        self.assertIn("SELECT\\040count(*)\\040AS\\040n", saved)
        self.assertIn("answer", saved)

    def test_exports_hold_the_same_tables(self):
        for k, (path, o) in enumerate(self.each()):
            base = os.path.join(self.tmp.name, f"export{k}")
            for fmt in ("sqlite", "csv", "jsonl"):
                heaptool("export", path, "--format", fmt, "--name", "d,1", "-o", f"{base}.{fmt}")
            db = sqlite3.connect(f"file:{base}.sqlite?mode=ro", uri=True)
            db.row_factory = sqlite3.Row
            for table in ("objects", "refs", "types", "sites", "roots", "weakrefs", "frames", "stack_frames"):
                want = query(path, f"SELECT * FROM {table}")
                rows = [dict(r) for r in db.execute(f"SELECT * FROM {table}")]
                self.assertEqual(rows, [{"dump": "d,1", **r} for r in want], table)
                with open(f"{base}.jsonl/{table}.jsonl", encoding="utf-8") as f:
                    self.assertEqual([json.loads(line) for line in f], rows)
                with open(f"{base}.csv/{table}.csv", encoding="utf-8", newline="") as f:
                    text_rows = list(csv.DictReader(f))
                self.assertEqual(text_rows, [{k: "" if v is None else str(v) for k, v in r.items()} for r in rows])
            db.close()

    def test_exports_write_what_sqlite_gives_byte_for_byte(self):
        """The CSV and JSON-lines files are written straight from the dump; SQLite's rows of the
        same tables, through query --csv and --json, are the reference."""
        tables = ("objects", "refs", "types", "sites", "roots", "weakrefs", "frames", "stack_frames")
        for k, (path, o) in enumerate(self.each()):
            base = os.path.join(self.tmp.name, f"bytes{k}")
            # a short name and one past the 32 bytes the writer copies at once (every other dump)
            name = 'd,"1"' if k % 2 else 'a dump name, "quoted", past thirty-two bytes'
            for fmt in ("csv", "jsonl"):
                heaptool("export", path, "--format", fmt, "--name", name, "-o", f"{base}.{fmt}")
            for table in tables:
                quoted = name.replace("'", "''")
                sql = f"SELECT '{quoted}' AS dump, * FROM {table}"
                with open(f"{base}.csv/{table}.csv", "rb") as f:
                    self.assertEqual(f.read(), heaptool("query", "--csv", path, sql).stdout, table)
                array = heaptool("query", "--json", path, sql).stdout
                with open(f"{base}.jsonl/{table}.jsonl", "rb") as f:
                    lines = f.read()
                # query --json: "[", the objects one a line joined by ",", "]"
                self.assertEqual(b"[\n" + lines.replace(b"}\n{", b"},\n{") + b"]\n" if lines else b"[]\n", array, table)

    def big_dump(self):
        """A dump whose objects.csv takes many 4 MiB buffers (see the test below)."""
        rnd = random.Random(7)
        n = 50000
        names = ["next", "", "a,b", 'say "hi"', "x\ny", "a field name past the thirty-two bytes copied at once",
                 "a field name, quoted, past the thirty-two bytes"] + [f"f{k}" for k in range(300)]
        # types too: more than the writer keeps cells for, one empty (an empty text, not NULL),
        # some to quote, some long
        type_names = ["Node", "str", "", 'a "quoted", type', "type\nname", "a type name past the thirty-two bytes",
                      "std::map<std::string, std::vector<int>>"] + [f"T{k}" for k in range(100)]
        types = [{"id": 1 + k, "name": name, "size": 16} for k, name in enumerate(type_names)]
        doc = {"format": "heapdump", "version": 1, "meta": {"producer": "test_query.py"}, "types": types,
               # id 0 first, with references: the source the writer formats first
               "objects": [dict({"id": i, "type": rnd.choice(types)["id"], "size": i % 97,
                                 "refs": [[rnd.randrange(n), rnd.choice(names)] for _ in range((i + 1) % 4)]},
                                **big_label(rnd, i)) for i in range(n)],
               "roots": [{"id": 0, "kind": "global", "name": "main"}],
               "weakrefs": [{"id": 7 * k, "referent": rnd.randrange(n)} for k in range(50)]}
        path = os.path.join(self.tmp.name, "big.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(doc, f)
        return path

    def test_big_exports_written_direct_are_the_same_bytes(self):
        """Files of many 4 MiB buffers: the whole blocks go past the page cache, the last
        partial one through it; refs of many staged batches of destination ids, then weak
        rows, their names hundreds (more than the writer keeps cells for), some to quote, some
        longer than it copies at once; the bytes are still query --csv's and --json's."""
        path = self.big_dump()
        base = os.path.join(self.tmp.name, "big")
        for fmt in ("csv", "jsonl"):
            heaptool("export", path, "--format", fmt, "--name", "big", "-o", f"{base}.{fmt}")
        for table in ("objects", "refs"):
            sql = f"SELECT 'big' AS dump, * FROM {table}"
            with open(f"{base}.csv/{table}.csv", "rb") as f:
                data = f.read()
            self.assertGreater(len(data), 2 * 4 * 1024 * 1024 if table == "objects" else 0)
            self.assertEqual(data, heaptool("query", "--csv", path, sql).stdout, table)
            with open(f"{base}.jsonl/{table}.jsonl", "rb") as f:
                lines = f.read()
            self.assertEqual(b"[\n" + lines.replace(b"}\n{", b"},\n{") + b"]\n",
                             heaptool("query", "--json", path, sql).stdout, table)

    def test_exports_without_asynchronous_writes_are_the_same_bytes(self):
        """The export writes its buffers with Linux AIO; strace makes the kernel refuse it: no
        AIO at all (io_setup), a write it will not take (io_submit, which the export then writes
        itself), a wait cut short by a signal (io_getevents, tried again). The bytes are still
        query --csv's."""
        if not shutil.which("strace"):
            self.skipTest("strace is not installed (tests/ensure-deps.sh installs it)")
        path = self.big_dump()
        expected = {table: heaptool("query", "--csv", path, f"SELECT 'big' AS dump, * FROM {table}").stdout
                    for table in ("objects", "refs")}
        env = dict(os.environ)  # LeakSanitizer cannot run under ptrace (make check's build)
        env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") + ":detect_leaks=0").lstrip(":")
        trace = os.path.join(self.tmp.name, "aio.trace")
        subprocess.run(["strace", "-f", "-qq", "-o", trace, "-e", "trace=io_submit", HEAPTOOL, "export", path,
                        "--format", "csv", "-o", os.path.join(self.tmp.name, "traced")], check=True,
                       capture_output=True, timeout=300, env=env)
        with open(trace, encoding="utf-8") as f:
            if "io_submit(" not in f.read():
                self.skipTest("this file system takes no O_DIRECT: the export writes no buffer asynchronously")
        for k, inject in enumerate(("io_setup:error=ENOSYS", "io_submit:error=EAGAIN:when=2+2",
                                    "io_getevents:error=EINTR:when=1+3")):
            out = os.path.join(self.tmp.name, f"injected{k}")
            r = subprocess.run(["strace", "-f", "-qq", "-o", "/dev/null", "-e", "trace=" + inject.split(":")[0],
                                "-e", "inject=" + inject, HEAPTOOL, "export", path, "--format", "csv", "--name",
                                "big", "-o", out], capture_output=True, timeout=300, env=env)
            self.assertEqual(r.returncode, 0, inject + ": " + r.stderr.decode())
            for table, data in expected.items():
                with open(f"{out}/{table}.csv", "rb") as f:
                    self.assertEqual(f.read(), data, f"{inject}: {table}")

    def test_export_to_a_full_file_system(self):
        """A write that fails while the tables are written on two threads (the file system fills
        up under refs and objects) gives one line naming the file, exit 4, and leaves nothing:
        neither the directory nor its temporary."""
        mnt = os.path.join(self.tmp.name, "full_fs")
        os.mkdir(mnt)
        path = os.path.join(self.tmp.name, "full.json")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(random_dump(12, n=60000), f)
        script = ('mount -t tmpfs -o size=2m none "$1" || exit 99; "$2" export "$3" --format csv -o "$1/out"; '
                  'echo "exit $?"; ls -A "$1"')
        r = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", mnt, HEAPTOOL, path], capture_output=True,
                           timeout=120)
        if r.returncode == 99 or b"unshare" in r.stderr:  # not root, or no mount namespaces
            self.skipTest("cannot mount a tmpfs here: " + r.stderr.decode().strip())
        self.assertRegex(r.stderr.decode(),
                         r"\Aheaptool: export: cannot write '[^']*/(refs|objects)\.csv': No space left on device\n\Z")
        self.assertEqual(r.stdout.decode(), "exit 4\n")  # nothing left on the file system

    def test_export_on_a_file_system_without_direct_io(self):
        """ramfs refuses O_DIRECT (an open asking for it creates the file, then fails): the
        export goes through the page cache there, with the bytes query --csv gives."""
        mnt = os.path.join(self.tmp.name, "ramfs")
        os.mkdir(mnt)
        path = os.path.join(ROOT, "samples", "dumps", "growing_list_1.json")
        script = 'mount -t ramfs none "$1" && "$2" export "$3" --format csv --name g -o "$1/g" && cat "$1/g/objects.csv"'
        r = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", mnt, HEAPTOOL, path],
                           capture_output=True, timeout=120)
        if b"mount" in r.stderr or b"unshare" in r.stderr:
            self.skipTest("cannot mount a ramfs here: " + r.stderr.decode().strip())
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertEqual(r.stdout, heaptool("query", "--csv", path, "SELECT 'g' AS dump, * FROM objects").stdout)

    def test_export_is_atomic_and_never_over_the_dump(self):
        path = os.path.join(ROOT, "samples", "dumps", "cycle.json")
        r = heaptool("export", path, "-o", path, check=False)
        self.assertEqual(r.returncode, 2)
        full = os.path.join(self.tmp.name, "full")
        os.mkdir(full)
        with open(os.path.join(full, "keep"), "w") as f:
            f.write("x")
        r = heaptool("export", path, "--format", "csv", "-o", full, check=False)
        self.assertEqual(r.returncode, 4)
        self.assertEqual(os.listdir(full), ["keep"])
        self.assertEqual([f for f in os.listdir(self.tmp.name) if ".tmp-" in f], [])


if __name__ == "__main__":
    unittest.main(verbosity=1)
