#!/usr/bin/env python3
"""native_oracle.py: heaptool's memcheck categories and flame graphs against brute force.

    python3 tests/cli/native_oracle.py HEAPTOOL [RUNS [LIBHM_DUMP...]]

Writes random dumps shaped like a native recorder's (blocks with addresses, start and interior
pointers, roots of kind global/stack/registers/tls with offsets, sites with shared call stacks;
cycles, chains and shared targets by construction) and recomputes, on its own:

- the categories from memcheck's definitions, as closures rather than marking: still reachable =
  reached from a root by start pointers only; possibly lost = reached from a root otherwise; the
  rest is lost, split into definitely and indirectly lost by replaying memcheck's clique walk
  literally (leaders in address order, each claiming the unclaimed lost blocks it reaches, not
  walking through blocks claimed before), with the bytes claimed under each leader; a lost block
  no other lost block points to must come out definitely lost;
- loss records: blocks of one kind and one allocation stack (or site), with the stack's frames;
- the collapsed stacks of `heaptool flame` (bytes, --count, --leaked), and the flame graph
  SVG's frames (it must parse as XML, widths to scale, callees side by side in name order,
  adding up to the collapsed stacks), also on libhm dumps given after RUNS.

and compares them with `heaptool leaks --json --reachable` and `heaptool flame`. Prints one line
per mismatch and exits 1 if there is any; the last line says how many dumps agreed.
"""
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import defaultdict

KINDS = ("global", "stack", "registers", "tls")


def make_dump(rng):
    nframes = rng.randint(1, 8)
    frames = []
    for f in range(nframes):
        fr = {"id": 100 + f}
        shape = rng.randrange(4)
        if shape != 3:
            fr["function"] = "fn%d" % f
        if shape in (1, 3):
            fr["file"] = "src%d.c" % (f % 3)
            fr["line"] = rng.randint(1, 99)
        if shape in (2, 3) or rng.random() < 0.3:
            fr["module"] = "/usr/lib/libm%d.so" % (f % 2)
            fr["offset"] = rng.randrange(1, 1 << 20)
        frames.append(fr)
    stacks = []  # a tree: parents among the nodes before
    for s in range(rng.randint(0, 10)):
        node = {"id": 500 + s, "frame": 100 + rng.randrange(nframes)}
        if s and rng.random() < 0.75:
            node["parent"] = 500 + rng.randrange(s)
        stacks.append(node)
    sites = []
    for s in range(rng.randint(1, 6)):
        site = {"id": s, "file": "src.c", "line": 10 + s, "function": "alloc%d" % s}
        if stacks and rng.random() < 0.8:
            site["stack"] = rng.choice(stacks)["id"]
        sites.append(site)
    n = rng.randint(1, 70)
    addresses = rng.sample(range(1, 100000), n)
    objects = []
    for i in range(n):
        size = rng.choice([0, 8, 16, 24, 32, 48, 64, 100, 4096])
        o = {"id": i + 1, "type": 0, "size": size, "address": addresses[i] * 16, "thread": rng.randint(1, 3)}
        if rng.random() < 0.9:
            o["site"] = rng.choice(sites)["id"]
        objects.append(o)
    degree = rng.choice([0.3, 0.8, 1.2, 2.0])
    for o in objects:
        refs, interior = [], []
        for k in range(int(rng.random() * 2 * degree + 0.5)):
            t = rng.randrange(n)
            refs.append([t + 1, "+0x%x" % (8 * k)])
            if rng.random() < 0.25:
                interior.append([k, rng.randint(1, 64)])
        if refs:
            o["refs"] = refs
        if interior:
            o["interior"] = interior
    roots = []
    for r in range(rng.randint(0, max(1, n // 6))):
        root = {"id": rng.randrange(n) + 1, "kind": rng.choice(KINDS), "name": "r%d" % r}
        if rng.random() < 0.25:
            root["offset"] = rng.randint(1, 40)
        roots.append(root)
    return {"format": "heapdump", "version": 1, "meta": {"producer": "native_oracle"},
            "types": [{"id": 0, "name": "block"}], "frames": frames, "stacks": stacks,
            "sites": sites, "objects": objects, "roots": roots}


def edges(dump):
    """(source, target, is_start) over object indices."""
    index = {o["id"]: i for i, o in enumerate(dump["objects"])}
    out = []
    for i, o in enumerate(dump["objects"]):
        inner = {k for k, _ in o.get("interior", [])}
        for k, (target, _name) in enumerate(o.get("refs", [])):
            out.append((i, index[target], k not in inner))
    return out, index


def closure(seeds, succ):
    seen, todo = set(seeds), list(seeds)
    while todo:
        for t in succ[todo.pop()]:
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def categories(dump):
    objs = dump["objects"]
    n = len(objs)
    es, index = edges(dump)
    start_succ, all_succ = defaultdict(list), defaultdict(list)
    for s, t, start in es:
        all_succ[s].append(t)
        if start:
            start_succ[s].append(t)
    roots = [(index[r["id"]], r.get("offset", 0) == 0) for r in dump["roots"]]
    reachable = closure([o for o, start in roots if start], start_succ)
    reached = closure([o for o, _ in roots], all_succ)
    lost = [o for o in range(n) if o not in reached]
    lost_set = set(lost)
    lost_succ = {o: [t for t in all_succ[o] if t in lost_set] for o in lost}
    key = lambda o: (objs[o]["address"], o)
    kind = {}
    for o in range(n):
        if o in reachable:
            kind[o] = "still_reachable"
        elif o in reached:
            kind[o] = "possibly_lost"
    # memcheck's clique walk, literally: leaders in address order, each claiming the unclaimed
    # lost blocks it reaches without passing through blocks claimed before
    state = {o: "U" for o in lost}
    indirect = defaultdict(int)
    for lead in sorted(lost, key=key):
        if state[lead] != "U":
            continue
        todo = [lead]
        while todo:
            for t in lost_succ[todo.pop()]:
                if state[t] == "U" and t != lead:
                    state[t] = "I"
                    indirect[lead] += objs[t]["size"] + indirect.pop(t, 0)
                    todo.append(t)
    for o in lost:
        kind[o] = "indirectly_lost" if state[o] == "I" else "definitely_lost"
    # what must hold whatever the order: a lost block that no other lost block points to leads
    # its clique; a block that one does is claimed unless all its lost referrers were claimed
    # before the walk could pass through them
    referred = {t for o in lost for t in lost_succ[o] if t != o}
    sure = {o: "definitely_lost" for o in lost if o not in referred}
    return kind, sure, indirect


def stack_frames(dump, stack_id):
    nodes = {s["id"]: s for s in dump["stacks"]}
    frames = {f["id"]: f for f in dump["frames"]}
    out = []
    while stack_id is not None:
        node = nodes[stack_id]
        fr = frames[node["frame"]]
        out.append({k: fr[k] for k in ("function", "file", "line", "module", "offset") if k in fr})
        stack_id = node.get("parent")
    return out


def group_of(dump, o):
    sites = {s["id"]: s for s in dump["sites"]}
    site = dump["objects"][o].get("site")
    if site is None:
        return ("none",)
    if "stack" in sites[site]:
        return ("stack", sites[site]["stack"])
    return ("site", site)


def expected_records(dump, kind, indirect):
    recs = {}
    for o, k in kind.items():
        g = (k,) + group_of(dump, o)
        r = recs.setdefault(g, {"kind": k, "blocks": 0, "bytes": 0, "indirect_bytes": 0})
        r["blocks"] += 1
        r["bytes"] += dump["objects"][o]["size"]
        r["indirect_bytes"] += indirect.get(o, 0)
        r["stack"] = stack_frames(dump, g[2]) if g[1] == "stack" else []
    return sorted(json.dumps(r, sort_keys=True) for r in recs.values())


def frame_name(fr):
    if "function" in fr:
        return fr["function"]
    if "file" in fr:
        return "%s:%d" % (fr["file"], fr.get("line", 0))
    return "%s+0x%x" % (fr["module"], fr.get("offset", 0))


def expected_flame(dump, kind, measure):
    sites = {s["id"]: s for s in dump["sites"]}
    totals = defaultdict(int)
    for o, ob in enumerate(dump["objects"]):
        if measure == "leaked" and kind[o] not in ("definitely_lost", "indirectly_lost", "possibly_lost"):
            continue
        site = ob.get("site")
        if site is None:
            path = ["[no site]"]
        elif "stack" in sites[site]:
            path = [frame_name(f) for f in reversed(stack_frames(dump, sites[site]["stack"]))]
        else:
            s = sites[site]
            where = "%s:%d" % (s["file"] or "?", s["line"])
            path = ["%s (%s)" % (s["function"], where) if s.get("function") else where]
        totals[";".join(path)] += 1 if measure == "count" else ob["size"]
    return {k: v for k, v in totals.items() if v}


def read_collapsed(text):
    got = {}
    for line in text.splitlines():
        path, _, value = line.rpartition(" ")
        got[path] = got.get(path, 0) + int(value)
    return got


def check_svg(svg_path, lines):
    """The SVG parses as XML; each frame's width is its value to scale, its callees lie side by
    side inside it in name order, and the values left to each frame add up to the lines'."""
    import xml.etree.ElementTree as ET
    ns = "{http://www.w3.org/2000/svg}"
    problems = []
    root = ET.parse(svg_path).getroot()
    top = [g for g in root if g.get("class") == "frame"]
    if len(top) != 1:
        return ["the SVG has %d root frames" % len(top)]
    total = int(top[0].get("data-value"))
    scale = (float(root.get("width")) - 20) / total if total else 0
    selves = {}
    todo = [(top[0], [])]
    while todo:
        g, path = todo.pop()
        name = g.find(ns + "title").text.rsplit(" (", 1)[0]
        path = path + [name] if path or name != "all" else []
        rect = g.find(ns + "rect")
        value, x, width = int(g.get("data-value")), float(rect.get("x")), float(rect.get("width"))
        if abs(width - value * scale) > 0.01:
            problems.append("%s: width %.4f for value %d" % (";".join(path), width, value))
        kids = [k for k in g if k.get("class") == "frame"]
        names = [k.find(ns + "title").text.rsplit(" (", 1)[0] for k in kids]
        if names != sorted(names, key=lambda n: n.encode()):
            problems.append("%s: callees not in name order" % ";".join(path))
        at = x
        for k in kids:
            kx = float(k.find(ns + "rect").get("x"))
            if abs(kx - at) > 0.01:
                problems.append("%s: a callee at x %.4f, want %.4f" % (";".join(path), kx, at))
            at += float(k.find(ns + "rect").get("width"))
            todo.append((k, path))
        if at > x + width + 0.01:
            problems.append("%s: callees wider than the frame" % ";".join(path))
        left = value - sum(int(k.get("data-value")) for k in kids)
        if left:
            selves[";".join(path)] = left
    if selves != lines:
        problems.append("the SVG's frames do not add up to the collapsed stacks")
    return problems


def run(heaptool, *args):
    p = subprocess.run([heaptool, *args], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def check(heaptool, dump, path, seed):
    problems = []
    kind, sure, indirect = categories(dump)
    for o, k in sure.items():
        if kind[o] != k:
            problems.append("seed %d: block %d, which no lost block points to, is %s" % (seed, o, kind[o]))
    rc, out, err = run(heaptool, "leaks", "--json", "--reachable", path)
    if rc != 0:
        return ["seed %d: leaks exited %d: %s" % (seed, rc, err.strip())]
    got = json.loads(out)
    for k in ("definitely_lost", "indirectly_lost", "possibly_lost", "still_reachable"):
        want = {"blocks": sum(1 for o in kind if kind[o] == k),
                "bytes": sum(dump["objects"][o]["size"] for o in kind if kind[o] == k)}
        if got["summary"][k] != want:
            problems.append("seed %d: %s: heaptool %s, oracle %s" % (seed, k, got["summary"][k], want))
    have = sorted(json.dumps({x: r[x] for x in ("kind", "blocks", "bytes", "indirect_bytes", "stack")},
                             sort_keys=True) for r in got["records"])
    if have != expected_records(dump, kind, indirect):
        problems.append("seed %d: loss records differ" % seed)
    totals = [r["bytes"] + r["indirect_bytes"] for r in got["records"]]
    if totals != sorted(totals):
        problems.append("seed %d: loss records are not smallest first" % seed)
    leaked = any(kind[o] in ("definitely_lost", "possibly_lost") for o in kind)
    rc, _, _ = run(heaptool, "leaks", "--fail-on-leak", path)
    if rc != (1 if leaked else 0):
        problems.append("seed %d: leaks --fail-on-leak exited %d" % (seed, rc))
    for measure, flag in (("bytes", []), ("count", ["--count"]), ("leaked", ["--leaked"])):
        rc, out, err = run(heaptool, "flame", *flag, path)
        if rc != 0:
            problems.append("seed %d: flame %s exited %d: %s" % (seed, flag, rc, err.strip()))
        elif read_collapsed(out) != expected_flame(dump, kind, measure):
            problems.append("seed %d: flame %s differs" % (seed, " ".join(flag)))
    if seed % 10 == 0:
        svg = path + ".svg"
        rc, _, err = run(heaptool, "flame", "-o", svg, path)
        problems += ["seed %d: flame -o x.svg: %s" % (seed, p)
                     for p in (check_svg(svg, expected_flame(dump, kind, "bytes")) if rc == 0 else [err.strip()])]
    return problems


def check_sample(heaptool, path, tmp):
    """A libhm dump (sites without stacks): collapsed stacks and the SVG from the JSON alone."""
    with open(path) as f:
        dump = json.load(f)
    dump.setdefault("sites", [])
    want = expected_flame(dump, None, "bytes")
    rc, out, err = run(heaptool, "flame", path)
    if rc != 0 or read_collapsed(out) != want:
        return ["%s: flame differs (%s)" % (path, err.strip())]
    svg = os.path.join(tmp, "sample.svg")
    rc, _, err = run(heaptool, "flame", "-o", svg, path)
    return ["%s: %s" % (path, p) for p in (check_svg(svg, want) if rc == 0 else [err.strip()])]


def main():
    heaptool = sys.argv[1]
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 150
    problems = []
    samples = sys.argv[3:]
    with tempfile.TemporaryDirectory() as tmp:
        for sample in samples:
            problems += check_sample(heaptool, sample, tmp)
        for seed in range(runs):
            dump = make_dump(random.Random(seed))
            path = os.path.join(tmp, "native.json")
            with open(path, "w") as f:
                json.dump(dump, f)
            problems += check(heaptool, dump, path, seed)
    for p in problems:
        print(p)
    print("native oracle: %d dumps, %d problems" % (runs, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
