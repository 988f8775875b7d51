#!/usr/bin/env python3
"""holders_oracle.py: the roots that `heaptool top` names as holding a dominator chain's top,
against a plain backward walk.

    python3 tests/cli/holders_oracle.py HEAPTOOL [RUNS]

Writes random heaps made to be held by many roots at once (a pool of objects linking each other,
reached from up to 30 roots through chains of different lengths, with roots the pool refers back
to, objects with two root records, duplicate references and garbage pointing in), runs
`heaptool top -n 0 --json` (every top's holders found at once) and `heaptool top -n K --json`
with K = CHAINS_WALKED_ALONE of cli/analysis.h (each top walked back alone) and, for each row, walks referrers backwards breadth-first from the
top of its chain (the last of its "dominators", or itself), never through a root object, taking
referrers in dump order: the root objects met, in the order met, named by their preferred root
record (a named one before any other, else the first), must be its "held_by". Prints one line
per mismatch and exits 1 if there is any.
"""
import json
import os
import re
import random
import subprocess
import sys
import tempfile
from collections import deque


def make_dump(rng):
    objects = []

    def new():
        objects.append({"id": len(objects) + 1, "type": rng.randrange(3), "size": rng.choice([8, 16, 32]), "refs": []})
        return len(objects)

    pool = [new() for _ in range(rng.randint(5, 80))]
    for p in pool:
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            objects[p - 1]["refs"].append([rng.choice(pool), "p"])
        if objects[p - 1]["refs"] and rng.random() < 0.1:
            objects[p - 1]["refs"].append(objects[p - 1]["refs"][0])
    roots = []
    for r in range(rng.randint(2, 30)):
        head = new()
        roots.append({"id": head, "kind": rng.choice(["named", "stack", "global"]), "name": "r%d" % r})
        if rng.random() < 0.2:
            roots.append({"id": head, "kind": "external"})
        for _ in range(rng.randint(1, 4)):
            at = head
            for _ in range(rng.randint(0, 4)):
                step = new()
                objects[at - 1]["refs"].append([step, "c"])
                at = step
            objects[at - 1]["refs"].append([rng.choice(pool), "in"])
        if rng.random() < 0.3:
            objects[rng.choice(pool) - 1]["refs"].append([head, "back"])
    for _ in range(rng.randint(0, 5)):
        objects[new() - 1]["refs"].append([rng.choice(pool), "g"])
    for o in objects:
        if not o["refs"]:
            del o["refs"]
    rng.shuffle(roots)
    return {"format": "heapdump", "version": 1, "meta": {"producer": "holders_oracle"},
            "types": [{"id": t, "name": "T%d" % t} for t in range(3)], "objects": objects, "roots": roots}


def held_by(dump, top):
    """The preferred root records of the root objects a backward walk from top meets."""
    preferred = {}
    for r in dump["roots"]:
        if r["id"] not in preferred or (r["kind"] == "named" and preferred[r["id"]]["kind"] != "named"):
            preferred[r["id"]] = r
    named = lambda r: {k: r[k] for k in ("kind", "name") if k in r}
    if top in preferred:
        return [named(preferred[top])]
    referrers = {}
    for o in dump["objects"]:
        for target, *_ in o.get("refs", []):
            referrers.setdefault(target, []).append(o["id"])
    seen, queue, found = {top}, deque([top]), []
    while queue:
        v = queue.popleft()
        if v in preferred:
            found.append(preferred[v])
            continue
        for s in referrers.get(v, []):
            if s not in seen:
                seen.add(s)
                queue.append(s)
    return [named(r) for r in found]


def walked_alone():
    """Up to how many rows heaptool walks back from each top alone (cli/analysis.h)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "cli", "analysis.h")) as f:
        return int(re.search(r"#define CHAINS_WALKED_ALONE (\d+)", f.read()).group(1))


def main():
    heaptool, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 100
    modes = {"0": "at once", str(walked_alone()): "alone"}
    problems, rows, many = [], {m: 0 for m in modes}, {m: 0 for m in modes}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "d.json")
        for seed in range(runs):
            dump = make_dump(random.Random(seed))
            with open(path, "w") as f:
                json.dump(dump, f)
            for n in modes:
                run = subprocess.run([heaptool, "top", "-n", n, "--json", path], capture_output=True, text=True)
                if run.returncode:
                    problems.append("seed %d: top -n %s exited %d: %s" % (seed, n, run.returncode, run.stderr.strip()))
                    continue
                for row in json.loads(run.stdout)["top"]:
                    chain = row["dominators"]
                    want = held_by(dump, chain[-1] if chain else row["id"])
                    rows[n] += 1
                    many[n] += len(want) > 2
                    if row["held_by"] != want:
                        problems.append("seed %d: top -n %s: object %d held by %s, want %s"
                                        % (seed, n, row["id"], row["held_by"], want))
    for p in problems[:20]:
        print(p)
    for n, how in modes.items():
        print("holders oracle, top -n %s (tops %s): %d dumps, %d rows (%d held by 3 roots or more)"
              % (n, how, runs, rows[n], many[n]))
    print("holders oracle: %d problems" % len(problems))
    return 1 if problems or not all(many.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
