#!/usr/bin/env python3
"""suspects_oracle.py: `heaptool suspects` on planted heaps, each answer checked against a
recomputation here (retained sizes by removing the object and walking again, wasted bytes by
counting copies), and nothing reported on a healthy heap.

    HEAPTOOL=build/heaptool python3 tests/cli/suspects_oracle.py
Prints one line per check and "N passed, M failed"; exits 1 when any failed.
"""
import json
import os
import subprocess
import sys
import tempfile

HEAPTOOL = os.environ.get("HEAPTOOL", "build/heaptool")
passed = failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL {what}{': ' + str(detail) if detail else ''}")


class Heap:
    """A heapdump v1 being planted: objects keep their ids, so one Heap can be dumped as a
    series of snapshots of one process."""

    def __init__(self):
        self.types, self.objects, self.roots, self.weakrefs, self.sites = {}, {}, [], [], {}
        self.next_id = 1

    def type(self, name, size=0, **flags):
        if name not in self.types:
            self.types[name] = dict(id=len(self.types), name=name, size=size, **flags)
        return name

    def obj(self, tname, size, label=None, refs=(), site=None):
        """site: (file, line, function) where it was allocated, or None."""
        oid = self.next_id
        self.next_id += 1
        if site is not None and site not in self.sites:
            self.sites[site] = len(self.sites)
        self.objects[oid] = dict(id=oid, type=tname, size=size, label=label, refs=list(refs),
                                 site=None if site is None else self.sites[site])
        return oid

    def root(self, oid, kind="named", name=None):
        self.roots.append(dict(id=oid, kind=kind, name=name))

    def write(self, path, pid=77):
        types = [dict(t) for t in self.types.values()]
        objects = []
        for o in self.objects.values():
            rec = {"id": o["id"], "type": self.types[o["type"]]["id"], "size": o["size"]}
            if o["label"] is not None:
                rec["label"] = o["label"]
            if o["site"] is not None:
                rec["site"] = o["site"]
            if o["refs"]:
                rec["refs"] = [[t, n] if n else [t] for t, n in o["refs"]]
            objects.append(rec)
        roots = [{k: v for k, v in r.items() if v is not None} for r in self.roots]
        sites = [{"id": i, "file": f, "line": line, "function": fn} for (f, line, fn), i in self.sites.items()]
        doc = {"format": "heapdump", "version": 1, "meta": {"producer": "suspects_oracle", "pid": pid},
               "types": types, "sites": sites, "objects": objects, "weakrefs": self.weakrefs, "roots": roots}
        with open(path, "w") as f:
            json.dump(doc, f)

    # The oracle: plain walks, nothing shared with libheapdump.
    def reach_size(self, without=None):
        seen, todo = set(), [r["id"] for r in self.roots if r["id"] != without]
        while todo:
            o = todo.pop()
            if o in seen:
                continue
            seen.add(o)
            todo.extend(t for t, _ in self.objects[o]["refs"] if t != without and t not in seen)
        return sum(self.objects[o]["size"] for o in seen), seen

    def retained(self, oid):
        full, _ = self.reach_size()
        rest, _ = self.reach_size(without=oid)
        return full - rest

    def total(self):
        return sum(o["size"] for o in self.objects.values())


KINDS = ["Point", "Order", "Frame", "Token", "Span", "Event", "Cell", "Slot", "Leaf", "Row",
         "Pair", "Note"]


def background(h, roots=40, per_root=24):
    """A healthy heap: many roots, each holding a little of many types; no object, type, string
    or container holds a tenth (or wastes a hundredth) of it."""
    for k in KINDS:
        h.type(k, 32)
    h.type("Module", 56)
    for r in range(roots):
        members = []
        for i in range(per_root):
            kind = KINDS[(r + i) % len(KINDS)]
            members.append((h.obj(kind, 120 + 10 * ((r * 7 + i) % 9), f"{kind}({r},{i})"), f"m{i}"))
        h.root(h.obj("Module", 56, f"<module m{r}>", members), name=f"m{r}")


def suspects(path, *args):
    out = subprocess.run([HEAPTOOL, "suspects", "--json", *args, path], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"suspects {path}: exit {out.returncode}: {out.stderr}")
    return json.loads(out.stdout)


def by_id(report, sid):
    return next((s for s in report["suspects"] if s["id"] == sid), None)


def exit_status(path, *args):
    return subprocess.run([HEAPTOOL, "suspects", *args, path], capture_output=True).returncode


def test_healthy(tmp):
    h = Heap()
    background(h)
    p = f"{tmp}/healthy.json"
    h.write(p)
    rep = suspects(p)
    check("healthy heap: no suspect", rep["suspects"] == [], [s["id"] for s in rep["suspects"]])
    check("healthy heap: --fail-on low exits 0", exit_status(p, "--fail-on", "low") == 0)


def test_cache(tmp):
    h = Heap()
    background(h)
    h.type("App", 64), h.type("Cache", 48), h.type("dict", 48), h.type("str", 40), h.type("Entry", 40)
    entries = []
    for i in range(1000):
        key = h.obj("str", 48, f"'key{i}'")
        entries += [(key, None), (h.obj("Entry", 40, f"Entry({i})"), f"key{i}")]
    table = h.obj("dict", 48 + 2048 * 8, None, entries)
    cache = h.obj("Cache", 48, "Cache()", [(table, "data")])
    app = h.obj("App", 64, "App()", [(cache, "cache")])
    h.root(app, name="app")
    p = f"{tmp}/cache.json"
    h.write(p)
    rep = suspects(p)
    s = by_id(rep, f"retainer/{app}")
    check("cache: the app is a big retainer", s is not None, [x["id"] for x in rep["suspects"]])
    if s:
        check("cache: accumulation point is the cache's dict", s["accumulation_point"]["id"] == table,
              s["accumulation_point"])
        check("cache: retained size = the oracle's", s["bytes"] == h.retained(app), (s["bytes"], h.retained(app)))
        check("cache: share", abs(s["share"] - h.retained(app) / h.total()) < 1e-6)
        check("cache: the app holds about 40%", 0.38 < s["share"] < 0.42, s["share"])
        check("cache: severity high (over 30%)", s["severity"] == "high", s["severity"])
        check("cache: path from the root", s["root"] == {"kind": "named", "name": "app"}
              and [x["object"]["id"] for x in s["path"]] == [app], s["path"])
        types = {t["type"]: (t["count"], t["size"]) for t in s["retains"]}
        check("cache: retained types", types.get("Entry") == (1000, 40000) and types.get("str") == (1000, 48000)
              and types.get("dict") == (1, 48 + 2048 * 8), types)
    k = by_id(rep, "kind/str")
    check("cache: keys are many of one kind", k is not None and k["count"] == 1000)
    if k:
        chain = [(m["object"]["id"], m["count"]) for m in k["merged_paths"]]
        check("cache: merged paths app -> cache -> dict", chain == [(app, 1000), (cache, 1000), (table, 1000)], chain)
    check("cache: --fail-on high exits 1", exit_status(p, "--fail-on", "high") == 1)
    rep50 = suspects(p, "--threshold", "50")
    check("cache: --threshold 50 finds no retainer", not any(x["kind"] == "big-retainer" for x in rep50["suspects"]),
          [x["id"] for x in rep50["suspects"]])


def test_many_under_list(tmp):
    h = Heap()
    background(h)
    h.type("list", 40), h.type("Item", 64), h.type("Payload", 32)
    items = []
    for i in range(1000):
        payload = h.obj("Payload", 32 + i % 5, f"Payload({i})")
        items.append((h.obj("Item", 64, f"Item({i})", [(payload, "payload")]), f"[{i}]"))
    lst = h.obj("list", 40 + 1000 * 8, "list[1000]", items)
    h.root(lst, name="registry")
    p = f"{tmp}/many.json"
    h.write(p)
    rep = suspects(p)
    k = by_id(rep, "kind/Item")
    check("many: Item is many of one kind", k is not None, [x["id"] for x in rep["suspects"]])
    if k:
        want = sum(h.retained(o) for o, _ in items)
        check("many: Items' retained = the oracle's", k["bytes"] == want, (k["bytes"], want))
        chain = [(m["object"]["id"], m["parent"], m["count"]) for m in k["merged_paths"]]
        check("many: merged paths end at the one list", chain == [(lst, None, 1000)], chain)
        check("many: the list is named by its root", k["merged_paths"][0]["root"]["name"] == "registry")
    check("many: the list is a big retainer", by_id(rep, f"retainer/{lst}") is not None)


def test_duplicate_strings(tmp):
    h = Heap()
    background(h)
    h.type("list", 40), h.type("str", 40)
    copies = [(h.obj("str", 60, "'hello world'"), f"[{i}]") for i in range(10000)]
    few = [(h.obj("str", 50, "'rare'"), f"[{i}]") for i in range(3)]
    distinct = [(h.obj("str", 50, f"'w{i}'"), f"[{i}]") for i in range(20)]
    h.root(h.obj("list", 40 + 8 * 10000, "list[10000]", copies), name="names")
    h.root(h.obj("list", 40 + 8 * 23, "list[23]", few + distinct), name="misc")
    p = f"{tmp}/strings.json"
    h.write(p)
    rep = suspects(p)
    dups = [s for s in rep["suspects"] if s["kind"] == "duplicate-strings"]
    check("strings: one duplicate group", len(dups) == 1, [s["id"] for s in dups])
    if dups:
        s = dups[0]
        check("strings: text, copies, size of one", (s["text"], s["count"], s["each"]) == ("'hello world'", 10000, 60), s)
        check("strings: exact wasted bytes", s["bytes"] == 9999 * 60, s["bytes"])
        check("strings: not shortened", s["shortened"] is False)


def test_empty_containers(tmp):
    h = Heap()
    background(h)
    h.type("list", 40), h.type("dict", 48), h.type("Pool", 48)
    empties = [(h.obj("dict", 48, "{}"), f"[{i}]") for i in range(500)]
    # 200 lists of one item in a table of 64 slots: 63 spare slots each
    one = h.obj("Point", 32, "Point(x)")
    sparse = [(h.obj("list", 40 + 64 * 8, "list[1]", [(one, "[0]")]), f"[{500 + i}]") for i in range(200)]
    # full lists are not waste
    full = [(h.obj("list", 40 + 4 * 8, "list[4]", [(one, f"[{k}]") for k in range(4)]), f"[{700 + i}]") for i in range(50)]
    h.root(h.obj("Pool", 48 + 8 * 750, "Pool()", empties + sparse + full), name="pool")
    p = f"{tmp}/empty.json"
    h.write(p)
    rep = suspects(p)
    d = by_id(rep, "empty/dict")
    check("empty: the dicts", d is not None and (d["count"], d["empty"], d["bytes"], d["spare"]) == (500, 500, 500 * 48, 0), d)
    lst = by_id(rep, "empty/list")
    check("empty: the nearly empty lists", lst is not None and (lst["count"], lst["empty"], lst["spare"]) ==
          (200, 0, 200 * 63 * 8), lst)


def test_growth(tmp):
    h = Heap()
    background(h)
    h.type("list", 40), h.type("Leak", 200)
    holder = h.obj("list", 40, "list", [])
    h.root(holder, name="leaks")

    def grow(n):
        for _ in range(n):
            holder_refs = h.objects[holder]["refs"]
            holder_refs.append((h.obj("Leak", 200, "Leak()"), f"[{len(holder_refs)}]"))
        h.objects[holder]["size"] = 40 + 8 * len(h.objects[holder]["refs"])

    grow(10)
    h.write(f"{tmp}/s1.json")
    first = set(h.objects)
    grow(100)
    h.write(f"{tmp}/s2.json")
    second = set(h.objects)
    grow(100)
    h.write(f"{tmp}/s3.json")
    rep = suspects(f"{tmp}/s2.json", "--baseline", f"{tmp}/s1.json", "--final", f"{tmp}/s3.json")
    g = by_id(rep, "growth/Leak")
    check("growth: Leak grew at every step", g is not None and g["series"] == [10, 110, 210], g)
    if g:
        check("growth: bytes grown", g["bytes"] == 200 * 200, g["bytes"])
    new = [s for s in rep["suspects"] if s["kind"] == "new-and-alive"]
    want = len([o for o in second - first if h.objects[o]["type"] == "Leak"])
    check("growth: memlab's new-and-alive Leaks", len(new) == 1 and new[0]["count"] == want
          and [st["type"] for st in new[0]["trace"]] == ["list", "Leak"], new)
    check("growth: Point did not grow", by_id(rep, "growth/Point") is None)


def test_collector(tmp):
    h = Heap()
    background(h)
    h.type("Legacy", 48, gc=True, finalizer=True, legacy_finalizer=True)
    h.type("Node", 48, gc=True), h.type("weakref", 64, gc=True), h.type("list", 40)
    a = h.obj("Legacy", 48, "Legacy(a)")
    b = h.obj("Legacy", 48, "Legacy(b)", [(a, "peer")])
    h.objects[a]["refs"].append((b, "peer"))
    h.root(a, kind="garbage"), h.root(b, kind="garbage")
    x = h.obj("Node", 48, "Node(x)")
    y = h.obj("Node", 48, "Node(y)", [(x, "next")])
    h.objects[x]["refs"].append((y, "next"))
    w = h.obj("weakref", 64, "<weakref to Node(x)>")
    h.weakrefs.append({"id": w, "referent": x})
    h.root(h.obj("list", 48, "list[1]", [(w, "[0]")]), name="watchers")
    p = f"{tmp}/collector.json"
    h.write(p)
    rep = suspects(p)
    u = by_id(rep, f"uncollectable/{a}")
    check("collector: the uncollectable cycle", u is not None and u["count"] == 2 and u["bytes"] == 96
          and u["severity"] == "medium", u)
    wk = by_id(rep, "weak-only/Node")
    check("collector: garbage only a weakref names", wk is not None and wk["count"] == 2 and wk["bytes"] == 96, wk)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        for test in (test_healthy, test_cache, test_many_under_list, test_duplicate_strings,
                     test_empty_containers, test_growth, test_collector):
            test(tmp)
    print(f"suspects oracle: {passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
