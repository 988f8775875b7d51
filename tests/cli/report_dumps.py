#!/usr/bin/env python3
"""report_dumps.py OUTDIR: three snapshots of one planted process for the report's tests: a cache
that grows, a cycle kept by the garbage list, allocation sites, and hostile labels (markup,
quotes, control bytes) in types, labels, edge names and root names. Writes s1.json, s2.json,
s3.json."""
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
