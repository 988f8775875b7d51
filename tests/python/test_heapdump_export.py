#!/usr/bin/env python3
"""test_heapdump_export.py: formats/heapdump_export.py against the gc module's own view of the
heap, and its dumps through heaptool.

    HEAPTOOL=build/heaptool python3 tests/python/test_heapdump_export.py

The oracle is the interpreter itself: per-type counts of tracked objects equal those of
gc.get_objects() taken at the same moment, and every object's references equal
gc.get_referents(). Then the command line runs a script and heaptool reads what it wrote.
"""
import ast
import gc
import json
import os
import subprocess
import sys
import tempfile
import unittest
import weakref

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
EXPORTER = os.path.join(ROOT, "formats", "heapdump_export.py")
HEAPTOOL = os.environ.get("HEAPTOOL", os.path.join(ROOT, "build", "heaptool"))
sys.path.insert(0, os.path.dirname(EXPORTER))
import heapdump_export  # noqa: E402


def gc_type_counts():
    """Objects per type name as gc.get_objects() lists them (what objgraph counts), taken after
    the exporter's prepare(), so that a dump taken next sees the same heap."""
    heapdump_export.prepare()
    counts = {}  # str -> int: an untracked dict, itself not among the objects counted
    for o in gc.get_objects():
        name = heapdump_export.type_name(type(o))
        counts[name] = counts.get(name, 0) + 1
    return counts


class Leaf:
    pass


class Pair:
    __slots__ = ("left", "right", "__weakref__")


class Branch:
    def __init__(self, *children):
        self.children = list(children)
        self.tag = "branch"


def make_counter():
    count = 0

    def bump():
        nonlocal count
        count += 1
        return count
    return bump


def load(path):
    with open(path) as f:
        return json.load(f)


class GcView(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.path = os.path.join(self.dir.name, "heap.json")
        self.was_enabled = gc.isenabled()
        gc.disable()  # collections would change the heap between the two views

    def tearDown(self):
        if self.was_enabled:
            gc.enable()
        self.dir.cleanup()

    def test_tracked_counts_equal_gc_get_objects(self):
        global tree
        tree = Branch(Leaf(), Branch(Leaf(), Leaf()), {"k": Leaf()})
        expected = gc_type_counts()
        heapdump_export.dump(self.path)
        d = load(self.path)
        types = {t["id"]: t["name"] for t in d["types"]}
        got = {}
        for o in d["objects"]:
            if "tracked" in o.get("flags", ()):
                got[types[o["type"]]] = got.get(types[o["type"]], 0) + 1
        self.assertEqual(got, expected)
        self.assertGreaterEqual(got[heapdump_export.type_name(Leaf)], 4)
        self.assertGreaterEqual(got[heapdump_export.type_name(Branch)], 2)

    def test_stats_tracked_only_counts_what_objgraph_counts(self):
        """objgraph.show_most_common_types counts type names over gc.get_objects(); heaptool
        stats --tracked-only must give the same table for a dump taken at that moment."""
        global tree
        tree = Branch(Leaf(), Branch(Leaf(), Leaf()), {"k": Leaf()}, Pair())
        expected = gc_type_counts()
        heapdump_export.dump(self.path)
        out = subprocess.run([HEAPTOOL, "stats", "--tracked-only", "--json", "-n", "0", self.path],
                             stdout=subprocess.PIPE, check=True).stdout
        got = {row["type"]: row["count"] for row in json.loads(out)["by_type"]}
        self.assertEqual(got, expected)
        whole = json.loads(subprocess.run([HEAPTOOL, "stats", "--json", "-n", "0", self.path],
                                          stdout=subprocess.PIPE, check=True).stdout)
        self.assertGreater(whole["objects"], sum(got.values()), "untracked objects are in the dump too")

    def test_references_equal_gc_get_referents(self):
        keep = gc.get_objects()  # holds every tracked object, so no id is reused meanwhile
        heapdump_export.dump(self.path)
        d = load(self.path)
        refs = {o["id"]: [r[0] for r in o.get("refs", ())] for o in d["objects"]}
        by_id = {}
        for o in keep:
            by_id[id(o)] = o
            for r in gc.get_referents(o):
                by_id.setdefault(id(r), r)
        compared = 0
        mismatched = []
        for oid, targets in refs.items():
            o = by_id.get(oid)
            if o is None:
                continue
            if targets != [id(r) for r in gc.get_referents(o)]:
                mismatched.append(heapdump_export.type_name(type(o)))
            compared += 1
        self.assertGreater(compared, 1000)
        self.assertEqual(mismatched, [])
        ids = set(refs)
        for o in d["objects"]:
            for r in o.get("refs", ()):
                self.assertIn(r[0], ids)

    def test_names_weakrefs_roots_and_counts(self):
        global shared, counter, pair, wref, proxy
        shared = Leaf()
        holder = [shared, "x"]  # a local: an external root, the frame being outside the heap
        pair = Pair()
        pair.left = shared
        counter = make_counter()
        counter()
        wref = weakref.ref(shared, lambda r: None)
        proxy = weakref.proxy(pair)
        mapping = {"name": shared, 42: holder, (1, "a"): counter}
        heapdump_export.dump(self.path, name="test")
        d = load(self.path)
        objects = {o["id"]: o for o in d["objects"]}
        types = {t["id"]: t["name"] for t in d["types"]}

        def names(o):  # the named references of o
            return {r[1]: r[0] for r in objects[id(o)].get("refs", ()) if len(r) > 1}

        self.assertEqual(d["meta"]["name"], "test")
        self.assertEqual(objects[id(shared)]["rc"], sys.getrefcount(shared) - 1)
        self.assertEqual(objects[id(holder)]["rc"], 2)  # the local and mapping[42]
        self.assertEqual(names(holder), {"[0]": id(shared), "[1]": id("x")})
        self.assertEqual(names(mapping), {"name": id(shared), "42": id(holder), "(1, 'a')": id(counter)})
        keys = [r[0] for r in objects[id(mapping)]["refs"] if len(r) == 1]  # keys have no name
        self.assertEqual(sorted(keys), sorted(map(id, mapping)))
        self.assertEqual(names(pair)["left"], id(shared))
        self.assertEqual(names(pair)["__class__"], id(Pair))
        closure = names(counter)["__closure__"]
        self.assertEqual(names(counter.__closure__), {"count": closure and id(counter.__closure__[0])})
        self.assertEqual(names(counter.__closure__[0]), {"cell_contents": id(1)})
        branch = Branch(shared)
        heapdump_export.dump(self.path)
        d = load(self.path)
        objects = {o["id"]: o for o in d["objects"]}
        types = {t["id"]: t["name"] for t in d["types"]}
        self.assertEqual(names(branch)["__dict__"], id(branch.__dict__))
        self.assertEqual(names(branch.__dict__), {"children": id(branch.children), "tag": id("branch")})
        self.assertEqual(types[objects[id(branch)]["type"]], heapdump_export.type_name(Branch))

        weak = {w["id"]: w for w in d["weakrefs"]}
        self.assertEqual(weak[id(wref)], {"id": id(wref), "referent": id(shared), "callback": True})
        self.assertEqual(weak[id(proxy)]["referent"], id(pair))
        roots = {(r["kind"], r.get("name")): r["id"] for r in d["roots"]}
        self.assertEqual(roots[("named", "sys")], id(sys))
        self.assertIn(("external", None), roots)
        externals = {r["id"] for r in d["roots"] if r["kind"] == "external"}
        self.assertIn(id(holder), externals)
        self.assertNotIn(id(shared), externals)  # every reference to it is in the heap
        self.assertEqual(d["gc"]["enabled"], False)


class CommandLine(unittest.TestCase):
    def run_exporter(self, *script_args):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        out = os.path.join(self.dir.name, "cycles.json")
        proc = subprocess.run([sys.executable, EXPORTER, "-o", out, "--name", "end",
                               "--", os.path.join(HERE, "cycles_script.py")] + list(script_args),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        return proc, out

    def heaptool(self, *args):
        return subprocess.run([HEAPTOOL] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True)

    def test_script_dump_loads_and_shows_its_cycles(self):
        proc, out = self.run_exporter("one", "two")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertRegex(proc.stderr, r"wrote .*cycles\.json: \d+ objects, \d+ references\n$")
        self.assertEqual(os.listdir(self.dir.name), ["cycles.json"])  # no temporary file left
        valid = self.heaptool("validate", out)
        self.assertEqual(valid.returncode, 0, valid.stdout + valid.stderr)
        cycles = self.heaptool("cycles", "--json", "--top", "0", out)
        self.assertEqual(cycles.returncode, 0, cycles.stderr)
        found = []
        for c in json.loads(cycles.stdout)["cycles"]:
            kinds = {t["type"]: t["count"] for t in c["types"]}
            if kinds.get("__main__.Node"):
                found.append((c["state"], kinds["__main__.Node"]))
        self.assertIn(("garbage", 2), found)
        self.assertIn(("reachable", 3), found)
        d = load(out)
        objects = {o["id"]: o for o in d["objects"]}
        main = [r["id"] for r in d["roots"] if r.get("name") == "__main__"]
        self.assertEqual(len(main), 1)
        # __main__ -> its __dict__ -> 'ring' -> [0]: a Node of the ring, named as objgraph does
        globals_ = dict((r[1], r[0]) for r in objects[main[0]]["refs"])["__dict__"]
        ring = dict((r[1], r[0]) for r in objects[globals_]["refs"])["ring"]
        node = dict((r[1], r[0]) for r in objects[ring]["refs"])["[0]"]
        path = self.heaptool("path", out, str(node))
        self.assertEqual(path.returncode, 0, path.stderr)
        self.assertIn("3 references from root [named '__main__']", path.stdout)
        self.assertIn(".ring", path.stdout)

    def test_script_that_raises_is_dumped_then_fails(self):
        proc, out = self.run_exporter("--raise")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("RuntimeError: the script failed", proc.stderr)
        self.assertEqual(self.heaptool("validate", "-q", out).returncode, 0)

    def test_usage(self):
        proc = subprocess.run([sys.executable, EXPORTER, "--", "x.py"], stderr=subprocess.PIPE,
                              universal_newlines=True)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("usage:", proc.stderr)


class Source(unittest.TestCase):
    def test_parses_as_python_3_8(self):
        with open(EXPORTER) as f:
            ast.parse(f.read(), feature_version=(3, 8))

    def test_the_listing_frame_holds_no_cell(self):
        self.assertEqual(heapdump_export._snapshot.__code__.co_cellvars, ())


if __name__ == "__main__":
    unittest.main()
