#!/usr/bin/env python3
"""v8_oracle.py: checks heaptool's reading of a V8 .heapsnapshot against an independent one.

    python3 tests/cli/v8_oracle.py HEAPTOOL SNAPSHOT

Reads the snapshot whole with the json module and applies the mapping of
formats/v8-heapsnapshot.md on its own: per-type counts and sizes, strong references, weak links
and roots must equal `heaptool stats --json --top 0`; retained sizes from a plain iterative
dominator computation (Cooper, Harvey and Kennedy) must equal those `heaptool top --json` lists.
Prints one line per mismatch and exits 1 if there is any.
"""
import json
import subprocess
import sys
from collections import Counter, defaultdict


def class_name(kind, name):
    """DevTools' class name of a node: the constructor for objects, the kind otherwise."""
    if kind in ("object", "native") and name:
        return name
    return {"hidden": "(system)", "code": "(compiled code)"}.get(kind, "(%s)" % kind)


def read(path):
    with open(path, encoding="utf-8") as f:
        snap = json.load(f)
    meta = snap["snapshot"]["meta"]
    nf, ef = len(meta["node_fields"]), len(meta["edge_fields"])
    nfield = {k: i for i, k in enumerate(meta["node_fields"])}
    efield = {k: i for i, k in enumerate(meta["edge_fields"])}
    ntypes, etypes = meta["node_types"][0], meta["edge_types"][0]
    raw, rawe, strings = snap["nodes"], snap["edges"], snap["strings"]
    root = snap["snapshot"].get("root_index", 0)
    nodes = []
    for i in range(0, len(raw), nf):
        nodes.append({
            "kind": ntypes[raw[i + nfield["type"]]],
            "name": strings[raw[i + nfield["name"]]],
            "id": raw[i + nfield["id"]],
            "size": raw[i + nfield["self_size"]],
            "edges": raw[i + nfield["edge_count"]],
        })
    strong = [[] for _ in nodes]
    weak = 0
    e = 0
    for o, node in enumerate(nodes):
        for _ in range(node["edges"]):
            kind = etypes[rawe[e + efield["type"]]]
            target = rawe[e + efield["to_node"]] // nf
            if kind == "weak" or (kind == "shortcut" and o != root):
                weak += 1
            else:
                strong[o].append(target)
            e += ef
    roots = [o for o, n in enumerate(nodes) if o == root or n["kind"] == "synthetic"]
    return nodes, strong, weak, roots


def retained_sizes(nodes, strong, roots):
    """Retained size per node index (None when unreachable), by Cooper-Harvey-Kennedy."""
    n = len(nodes)
    vroot = n
    succ = strong + [roots]
    order, seen, stack = [], [False] * (n + 1), [(vroot, 0)]
    seen[vroot] = True
    while stack:  # iterative DFS for a postorder
        v, i = stack.pop()
        if i < len(succ[v]):
            stack.append((v, i + 1))
            w = succ[v][i]
            if not seen[w]:
                seen[w] = True
                stack.append((w, 0))
        else:
            order.append(v)
    post = {v: i for i, v in enumerate(order)}
    preds = defaultdict(list)
    for v in order:
        for w in succ[v]:
            preds[w].append(v)
    idom = {vroot: vroot}
    changed = True
    while changed:
        changed = False
        for v in reversed(order):
            if v == vroot:
                continue
            new = None
            for p in preds[v]:
                if p not in idom:
                    continue
                if new is None:
                    new = p
                    continue
                a, b = p, new
                while a != b:
                    while post[a] < post[b]:
                        a = idom[a]
                    while post[b] < post[a]:
                        b = idom[b]
                new = a
            if idom.get(v) != new:
                idom[v] = new
                changed = True
    children = defaultdict(list)
    for v in order:
        if v != vroot:
            children[idom[v]].append(v)
    retained = [None] * n
    stack = [(vroot, False)]
    while stack:  # the dominator tree, children before their parent
        v, done = stack.pop()
        if done:
            if v != vroot:
                retained[v] = nodes[v]["size"] + sum(retained[c] for c in children[v])
            continue
        stack.append((v, True))
        stack.extend((c, False) for c in children[v])
    return retained


def main():
    heaptool, path = sys.argv[1], sys.argv[2]
    nodes, strong, weak, roots = read(path)
    problems = []

    def check(what, want, got):
        if want != got:
            problems.append("%s: oracle %r, heaptool %r" % (what, want, got))

    counts, sizes = Counter(), Counter()
    for n in nodes:
        t = class_name(n["kind"], n["name"])
        counts[t] += 1
        sizes[t] += n["size"]
    out = subprocess.run([heaptool, "stats", "--json", "--top", "0", path], check=True,
                         stdout=subprocess.PIPE).stdout
    stats = json.loads(out)
    check("objects", len(nodes), stats["objects"])
    check("size", sum(n["size"] for n in nodes), stats["size"])
    check("references", sum(len(s) for s in strong), stats["references"])
    check("weakrefs", weak, stats["weakrefs"])
    check("roots", len(roots), stats["roots"])
    check("types", len(counts), stats["types"])
    got = {r["type"]: (r["count"], r["size"]) for r in stats["by_type"]}
    check("per-type counts and sizes", {t: (counts[t], sizes[t]) for t in counts}, got)

    retained = retained_sizes(nodes, strong, roots)
    index_of = {n["id"]: i for i, n in enumerate(nodes)}
    out = subprocess.run([heaptool, "top", "--json", "-n", "10", path], check=True,
                         stdout=subprocess.PIPE).stdout
    top = json.loads(out)["top"]
    for row in top:
        check("retained size of @%d" % row["id"], retained[index_of[row["id"]]], row["retained"])
    best = sorted((r for r in retained if r is not None), reverse=True)[:len(top)]
    check("the largest retained sizes", best, [row["retained"] for row in top])

    for p in problems:
        print("%s: %s" % (path, p))
    if not problems:
        print("%s: heaptool agrees with the oracle (%d nodes, %d types, top %d retainers)"
              % (path.split("/")[-1], len(nodes), len(counts), len(top)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
