#!/usr/bin/env python3
"""report_dumps.py OUTDIR: three snapshots of one planted process for the report's tests: a cache
that grows, a cycle kept by the garbage list, allocation sites, and hostile labels (markup,
quotes, control bytes) in types, labels, edge names and root names. Writes s1.json, s2.json,
s3.json; and stacks.json and many_stacks.json, native-shaped heaps whose sites have call stacks
(heapdump.md 5.1): a few large stacks sharing callers, and more tiny ones (3000, 20000) than the
report's flame graph names."""
import json
import sys

from suspects_oracle import Heap, background

HOSTILE = "</script><script>alert(1)</script>"
out = sys.argv[1]
h = Heap()
background(h)
h.type("App", 64), h.type("dict", 48), h.type("Entry", 40), h.type("str", 40)
h.type("<img src=x onerror=\"window.__pwned=1\">", 32)
h.type("Legacy", 48, gc=True, finalizer=True, legacy_finalizer=True)
table = h.obj("dict", 48 + 1024 * 8, HOSTILE, [])
h.root(h.obj("App", 64, "App('\"quoted\"')", [(table, "cache</script>")]), name=HOSTILE)
a = h.obj("Legacy", 48, "Legacy(\x01\x1b[31m)")
b = h.obj("Legacy", 48, "Legacy(b)", [(a, "peer")])
h.objects[a]["refs"].append((b, "peer"))
h.root(a, kind="garbage"), h.root(b, kind="garbage")
h.root(h.obj("<img src=x onerror=\"window.__pwned=1\">", 32, "<b onmouseover=alert(2)>x</b>"), name="odd")


def grow(n, step):
    for i in range(n):
        k = len(h.objects[table]["refs"]) // 2
        key = h.obj("str", 48, f"'k{k}'", site=("app/cache.c", 40, "cache_put"))
        val = h.obj("Entry", 40 + 8 * (i % 4), f"Entry({k}) {HOSTILE}", site=("app/cache.c", 41 + step, "cache_put"))
        h.objects[table]["refs"] += [(key, None), (val, f"k{k}")]


for step in (1, 2, 3):
    grow(400, step)
    h.write(f"{out}/s{step}.json")


def stacks_dump(path, tiny=3000):
    """Frames main > serve > handle > {parse, render, cache_put}, main > load_config, and `tiny`
    leaves under main > worker > job, one block of 8 bytes each."""
    frames, stacks, sites, objects = [], [], [], []

    def frame(fn, line):
        frames.append({"id": len(frames) + 1, "function": fn, "file": "app/%s.c" % fn, "line": line})
        return len(frames)

    def stack(fr, parent=None):
        node = {"id": 1000 + len(stacks), "frame": fr}
        if parent is not None:
            node["parent"] = parent
        stacks.append(node)
        return node["id"]

    def blocks(stack_id, n, size):
        sites.append({"id": len(sites), "file": "app/x.c", "line": len(sites) + 1, "stack": stack_id})
        for _ in range(n):
            objects.append({"id": len(objects) + 1, "type": 0, "size": size, "site": len(sites) - 1,
                            "address": 4096 + 64 * len(objects)})

    main = stack(frame("main", 10))
    handle = stack(frame("handle", 30), stack(frame("serve", 20), main))
    blocks(stack(frame("parse", 40), handle), 40, 4096)
    blocks(stack(frame("render", 50), handle), 25, 2048)
    blocks(stack(frame("cache_put", 60), handle), 300, 64)
    blocks(handle, 5, 512)  # bytes of handle itself, not of a callee
    blocks(stack(frame("load_config", 70), main), 3, 1024)
    job = stack(frame("job", 90), stack(frame("worker", 80), main))
    for i in range(tiny):
        blocks(stack(frame("step%d" % i, 100 + i), job), 1, 8)
    objects[0]["refs"] = [[o["id"]] for o in objects[1:]]
    doc = {"format": "heapdump", "version": 1, "meta": {"producer": "report_dumps", "pid": 78},
           "types": [{"id": 0, "name": "block"}], "frames": frames, "stacks": stacks, "sites": sites,
           "objects": objects, "roots": [{"id": 1, "kind": "global", "name": "app_state"}]}
    with open(path, "w") as f:
        json.dump(doc, f)


stacks_dump(f"{out}/stacks.json")
stacks_dump(f"{out}/many_stacks.json", 20000)
