#!/usr/bin/env python3
"""test_heapdump_export.py: formats/heapdump_export.py against the gc module's own view of the
heap, and its dumps through heaptool.

    HEAPTOOL=build/heaptool python3 tests/python/test_heapdump_export.py

The oracle is the interpreter itself: per-type counts of tracked objects equal those of
gc.get_objects() taken at the same moment, and every object's references equal
gc.get_referents(). Then the command line runs a script and heaptool reads what it wrote.
Under tracemalloc (tracemalloc_driver.py), `heaptool stats --by site` and `diff --by site` on
its exports equal tracemalloc's own statistics('lineno') and compare_to, taken in the same
process at the same moment, for the lines of tracemalloc_workload.py.
"""
import ast
import gc
import gzip
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

    def exporter(self, *args, cwd=None):
        return subprocess.run([sys.executable, EXPORTER] + list(args), cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, universal_newlines=True)

    def scratch(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        return self.dir.name

    def main_global(self, d, name):
        """The object a global of the dumped __main__ names."""
        objects = {o["id"]: o for o in d["objects"]}
        main = [r["id"] for r in d["roots"] if r.get("name") == "__main__"][0]
        globals_ = dict((r[1], r[0]) for r in objects[main]["refs"])["__dict__"]
        return objects, objects[dict((r[1], r[0]) for r in objects[globals_]["refs"])[name]]

    def test_a_script_needs_no_double_dash(self):
        out = os.path.join(self.scratch(), "heap.json")
        proc = self.exporter("-o", out, os.path.join(HERE, "cycles_script.py"), "one", "--two")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        objects, args = self.main_global(load(out), "args")
        items = dict((r[1], objects[r[0]]["label"]) for r in args["refs"])
        self.assertEqual(items, {"[0]": "'one'", "[1]": "'--two'"})

    def test_an_unwritable_output_stops_before_the_script_runs(self):
        tmp = self.scratch()
        marker = os.path.join(tmp, "ran")
        script = os.path.join(tmp, "touch.py")
        with open(script, "w") as f:
            f.write("open(%r, 'w').close()\n" % marker)
        with open(os.path.join(tmp, "plain"), "w"):
            pass
        for out, reason in ((os.path.join(tmp, "no", "such", "dir.json"), "No such file or directory"),
                            (tmp, "Is a directory"),
                            (os.path.join(tmp, "plain", "x.json"), "Not a directory")):
            proc = self.exporter("-o", out, script)
            self.assertEqual(proc.returncode, 2)
            self.assertEqual(proc.stderr, "heapdump_export.py: cannot write %s: %s\n" % (out, reason))
            self.assertFalse(os.path.exists(marker), "the script ran")
        self.assertEqual(sorted(os.listdir(tmp)), ["plain", "touch.py"], "no temporary file left")

    def test_gz_output_is_gzip(self):
        out = os.path.join(self.scratch(), "heap.json.gz")
        proc = self.exporter("-o", out, "--", os.path.join(HERE, "cycles_script.py"))
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(out, "rb") as f:
            self.assertEqual(f.read(2), b"\x1f\x8b")
        with gzip.open(out, "rt") as f:
            d = json.load(f)
        self.assertEqual(d["format"], "heapdump")
        valid = self.heaptool("validate", out)
        self.assertEqual(valid.returncode, 0, valid.stdout + valid.stderr)
        self.assertIn("valid heapdump v1: %d objects" % len(d["objects"]), valid.stdout)

    def test_m_runs_a_module_as_python_m_does(self):
        tmp = self.scratch()
        os.makedirs(os.path.join(tmp, "pkg"))
        with open(os.path.join(tmp, "pkg", "__init__.py"), "w"):
            pass
        with open(os.path.join(tmp, "pkg", "tool.py"), "w") as f:
            f.write("import sys\nfrom . import helper\nkept = helper.VALUE\n"
                    "print(__name__, __package__, __spec__.name, __file__, sys.argv, sys.path[0])\n")
        with open(os.path.join(tmp, "pkg", "helper.py"), "w") as f:
            f.write("VALUE = 'relative import worked'\n")
        python = subprocess.run([sys.executable, "-m", "pkg.tool", "a", "-b"], cwd=tmp, stdout=subprocess.PIPE,
                                universal_newlines=True)
        self.assertEqual(python.returncode, 0)
        out = os.path.join(tmp, "heap.json")
        proc = self.exporter("-o", out, "-m", "pkg.tool", "a", "-b", cwd=tmp)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout, python.stdout)
        objects, kept = self.main_global(load(out), "kept")
        self.assertEqual(kept["label"], "'relative import worked'")
        missing = self.exporter("-o", out, "-m", "no_such_module_here", cwd=tmp)
        self.assertEqual(missing.returncode, 2)
        self.assertIn("cannot run module 'no_such_module_here': No module named", missing.stderr)

    def test_the_traceback_is_the_scripts_own(self):
        tmp = self.scratch()
        script = os.path.join(tmp, "fails.py")
        with open(script, "w") as f:
            f.write("def inner(x):\n    return 1 / x\n\n\ninner(0)\n")
        python = subprocess.run([sys.executable, script], stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(python.returncode, 1)
        proc = self.exporter("-o", os.path.join(tmp, "heap.json"), script)
        self.assertEqual(proc.returncode, 1)
        shown, wrote = proc.stderr.rsplit("heapdump_export.py: wrote ", 1)
        self.assertEqual(shown, python.stderr)
        self.assertNotIn("heapdump_export", shown)

    def test_nested_classes_keep_their_qualname(self):
        tmp = self.scratch()
        script = os.path.join(tmp, "nested.py")
        with open(script, "w") as f:
            f.write("class Outer:\n    class Inner:\n        pass\n\n\ndef make():\n"
                    "    class Local:\n        pass\n    return Local()\n\n\n"
                    "kept = [Outer.Inner(), make()]\n")
        out = os.path.join(tmp, "heap.json")
        self.assertEqual(self.exporter("-o", out, script).returncode, 0)
        names = {t["name"] for t in load(out)["types"]}
        self.assertIn("__main__.Outer.Inner", names)
        self.assertIn("__main__.make.<locals>.Local", names)


class Tracemalloc(unittest.TestCase):
    """The export's sites against tracemalloc's own figures: tracemalloc_driver.py takes a
    snapshot and an export at the same moment, twice, in one process run under -X tracemalloc,
    and heaptool's figures for the workload's lines must equal tracemalloc's exactly. What may
    differ in general is kept out of the workload: blocks that are no object (a list's item
    array, a dict's tables, objects kept in a free list), objects the export does not hold (no
    container gc lists refers to them), sizes where sys.getsizeof is not the block's (a list or
    dict counts its separate arrays; an int's block may hold a digit more than its value needs),
    and on CPython 3.11 instances with inline attributes, whose block get_object_traceback()
    does not find, so they have no site."""
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        proc = subprocess.run([sys.executable, "-S", "-X", "tracemalloc=25", os.path.join(HERE, "tracemalloc_driver.py"),
                               cls.dir.name], stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True)
        if proc.returncode:
            raise AssertionError("tracemalloc_driver.py failed:\n" + proc.stderr)
        cls.old, cls.new = os.path.join(cls.dir.name, "old.json"), os.path.join(cls.dir.name, "new.json")
        cls.figures = load(os.path.join(cls.dir.name, "figures.json"))

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def heaptool_json(self, *args):
        proc = subprocess.run([HEAPTOOL] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return json.loads(proc.stdout)

    def workload_rows(self, rows):
        f = self.figures
        return [r for r in rows if r["site"] and r["site"]["file"] == f["file"] and r["site"]["line"] in f["lines"]]

    def test_stats_by_site_equals_statistics_lineno(self):
        want = {line: (count, size) for line, count, size in self.figures["statistics"]}
        self.assertEqual(len(want), 5, "build()'s four lines that keep objects, and its return")
        rows = self.heaptool_json("stats", "--by", "site", "--json", "-n", "0", self.old)["by_site"]
        got = {r["site"]["line"]: (r["count"], r["size"]) for r in self.workload_rows(rows)}
        self.assertEqual(got, want)

    def test_diff_by_site_equals_compare_to(self):
        compare_to = self.figures["compare_to"]
        self.assertEqual(len(compare_to), 7, "build()'s five lines and grow()'s two")
        # diff lists the lines that changed; compare_to lists every line, unchanged ones too.
        want = {line: (count, count_diff, size, size_diff)
                for line, count, count_diff, size, size_diff in compare_to if count_diff or size_diff}
        self.assertEqual(len(want), 6, "the words' line is unchanged")
        rows = self.heaptool_json("diff", "--by", "site", "--json", self.old, self.new)["rows"]
        got = {r["site"]["line"]: (r["count_new"], r["count_delta"], r["size_new"], r["size_delta"])
               for r in self.workload_rows(rows) if r["count_delta"] or r["size_delta"]}
        self.assertEqual(got, want)
        # And the new dump by itself, every line with objects left.
        want = {line: (count, size) for line, count, _, size, _ in compare_to if count}
        rows = self.heaptool_json("stats", "--by", "site", "--json", "-n", "0", self.new)["by_site"]
        self.assertEqual({r["site"]["line"]: (r["count"], r["size"]) for r in self.workload_rows(rows)}, want)

    def test_a_sites_stack_is_the_whole_traceback(self):
        d = load(self.old)
        frames = {f["id"]: [f["file"], f["line"]] for f in d["frames"]}
        stacks = {s["id"]: s for s in d["stacks"]}
        sites = {s["id"]: s for s in d["sites"]}
        site = sites[[o for o in d["objects"] if o["id"] == self.figures["point"]][0]["site"]]
        node, walked = site["stack"], []
        while node is not None:
            walked.append(frames[stacks[node]["frame"]])
            node = stacks[node].get("parent")
        self.assertEqual(walked, self.figures["traceback"])  # innermost frame first
        self.assertEqual([site["file"], site["line"]], walked[0])
        self.assertGreaterEqual(len(walked), 4, "the generator's, build()'s, main()'s and the module's")
        valid = subprocess.run([sys.executable, os.path.join(ROOT, "tests", "schema_check.py"), self.old],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)
        self.assertEqual(valid.returncode, 0, valid.stdout)


class Source(unittest.TestCase):
    def test_parses_as_python_3_8(self):
        with open(EXPORTER) as f:
            ast.parse(f.read(), feature_version=(3, 8))

    def test_the_listing_frame_holds_no_cell(self):
        self.assertEqual(heapdump_export._snapshot.__code__.co_cellvars, ())


if __name__ == "__main__":
    unittest.main()
