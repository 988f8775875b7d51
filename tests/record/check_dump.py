#!/usr/bin/env python3
"""check_dump.py DUMP [--program JSON] [--memcheck FILE MODE] [--prefix shape_]

Checks a dump written by the native recorder, independently of heaptool's reader:
- --program: the program's own blocks (types named PREFIX*) are exactly the blocks and bytes it
  printed ({"blocks": N, "bytes": B});
- --memcheck: memcheck's leak categories, recomputed here from the dump's roots, refs and
  interior offsets with memcheck's own rules (mc_leakcheck.c), give for the program's blocks
  exactly what valgrind reported for them (tests/record/memcheck_expect.py). libc's own blocks
  differ and are only reported: the recorder's TLS makes each thread's DTV bigger, and memcheck's
  freeres frees libc's buffers before it counts.
Exits 1 with one line per difference."""
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from dump_file import load  # noqa: E402  (tests/dump_file.py)


def memcheck_categories(dump):
    """Reachable / Possible from the roots, then cliques of the unreached, as memcheck does:
    a start pointer from a root or a Reachable block makes Reachable; any other pointer makes an
    Unreached block Possible. Each remaining block, in address order, leads a clique: what it
    reaches (start or interior) that is unreached, earlier leaders included, becomes indirectly
    lost; the leaders left at the end are definitely lost."""
    objs = {o["id"]: o for o in dump["objects"]}
    state = {i: "unreached" for i in objs}

    def edges(o):
        interior = {k: off for k, off in o.get("interior", [])}
        return [(r[0], interior.get(k, 0)) for k, r in enumerate(o.get("refs", []))]

    work = []

    def push(target, offset, prior_definite):
        if offset == 0 and prior_definite and state[target] != "reachable":
            state[target] = "reachable"
            work.append(target)
        elif state[target] == "unreached":
            state[target] = "possible"
            work.append(target)

    for r in dump.get("roots", []):
        push(r["id"], r.get("offset", 0), True)
    while work:
        i = work.pop()
        definite = state[i] == "reachable"
        for t, off in edges(objs[i]):
            push(t, off, definite)
    for leader in sorted(objs, key=lambda i: objs[i].get("address", i)):
        if state[leader] != "unreached":
            continue
        stack = [leader]
        while stack:
            i = stack.pop()
            for t, _ in edges(objs[i]):
                if t != leader and state[t] == "unreached":
                    state[t] = "indirect"
                    stack.append(t)
    state = {i: "definite" if s == "unreached" else s for i, s in state.items()}
    return state


def totals(dump, state, keep):
    t = {k: {"blocks": 0, "bytes": 0} for k in ("definitely", "indirectly", "possibly", "reachable")}
    name = {"definite": "definitely", "indirect": "indirectly", "possible": "possibly", "reachable": "reachable"}
    for o in dump["objects"]:
        if keep(o):
            t[name[state[o["id"]]]]["blocks"] += 1
            t[name[state[o["id"]]]]["bytes"] += o["size"]
    return t


def main(argv):
    dump = load(argv[1])
    problems = []
    args = argv[2:]
    prefix = "shape_"
    if "--prefix" in args:
        prefix = args[args.index("--prefix") + 1]
    types = {t["id"]: t["name"] for t in dump["types"]}

    def program(o):
        return types[o["type"]].startswith(prefix)

    if "--program" in args:
        want = json.loads(args[args.index("--program") + 1])
        mine = [o for o in dump["objects"] if program(o)]
        got = {"blocks": len(mine), "bytes": sum(o["size"] for o in mine)}
        if got != want:
            problems.append(f"program blocks: dump has {got}, the program left {want}")
    if "--memcheck" in args:
        k = args.index("--memcheck")
        expect = load(args[k + 1])["modes"][args[k + 2]]
        state = memcheck_categories(dump)
        got = totals(dump, state, program)
        for cat, want in expect["program"].items():
            if got[cat] != want:
                problems.append(f"program blocks {cat}: dump gives {got[cat]}, memcheck {want}")
        every = totals(dump, state, lambda o: True)
        for cat, want in expect["all"].items():
            if every[cat] != want:
                print(f"{argv[1]}: note: all blocks {cat}: dump gives {every[cat]}, memcheck {want}")
    for p in problems:
        print(f"{argv[1]}: {p}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
