#!/usr/bin/env python3
"""index_out_of_core.py: `heaptool index --memory` (the out-of-core build) writes the very bytes
the in-memory build writes but for the cyclic components, which it leaves out, and completes an
unanalysed index as tests/bench/gen_binary makes.

    python3 tests/cli/index_out_of_core.py HEAPTOOL GEN_BINARY [RUNS]

1. On the samples, the V8 snapshots and RUNS random and native dumps (index_oracle.py's
   generators): `index --memory 1` (a 1 MiB budget: every large array in a scratch file, the
   watcher dropping pages all along) against `index`, section by section: the same bytes in
   each but the cyclic components (CYCLE_*, which only the in-memory build has) and the chunk
   checksums (which cover them), the same header but for its size and checksums.
2. gen_binary: the same seed gives the same file, another seed another; its unanalysed index,
   completed out of core and in memory, gives the same bytes; and every analysis answers from the
   completed index as the JSON path does on the generated heap converted to JSON (the oracle:
   index_oracle.compare, which runs each command on both).
Prints one line per problem; exits 1 if there is any.
"""
import os
import random
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import index_oracle  # noqa: E402
import native_oracle  # noqa: E402

run = index_oracle.run


def same_bytes(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        return fa.read() == fb.read()


HEADER, ENTRY, CHUNK_SUM, CYCLES = 128, 32, 55, (59, 60, 61, 62, 63)


def sections(path):
    """The header's fields past the magic and version but for nsections, file_size and the
    checksum (the source stamp and reserved bytes), and every section's bytes by id."""
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack_from("<I", data, 12)[0]
    out = {"header": data[24:120]}
    for i in range(n):
        sid, size, offset, count, _ = struct.unpack_from("<IIQQQ", data, HEADER + ENTRY * i)
        out[sid] = data[offset:offset + size * count]
    return out


def same_but_cycles(ram, ooc):
    """The out-of-core index is the in-memory one without the cyclic components: every other
    section the same bytes (CHUNK_SUM aside: it covers the components too)."""
    a, b = sections(ram), sections(ooc)
    if any(sid in b for sid in CYCLES) or not all(sid in a for sid in CYCLES[:4]):  # 63 (CYCLE_DENSE) optional
        return False
    for sid in CYCLES + (CHUNK_SUM,):
        a.pop(sid, None)
        b.pop(sid, None)
    return a == b


def both_builds(heaptool, src, tmp, problems, what):
    """Indexes src in memory and out of core; returns the out-of-core index, or None."""
    ram, ooc = os.path.join(tmp, "ram.hdx"), os.path.join(tmp, "ooc.hdx")
    for out, extra in ((ram, []), (ooc, ["--memory", "1"])):
        code, _, err = run(heaptool, "index", *extra, "-o", out, src)
        if code != 0:
            problems.append("%s: heaptool index %s failed (%d): %s" % (what, " ".join(extra), code, err.decode()))
            return None
    if not same_but_cycles(ram, ooc):
        problems.append("%s: the out-of-core index differs from the in-memory one (the cycles aside)" % what)
    code, _, err = run(heaptool, "validate", ooc)
    if code != 0:
        problems.append("%s: the out-of-core index is not valid: %s" % (what, err.decode()))
    leftovers = [f for f in os.listdir(tmp) if f.startswith(".")]
    if leftovers:
        problems.append("%s: files left beside the index: %s" % (what, leftovers))
    return ooc


def check_generated(heaptool, gen, tmp, problems, n, seed):
    what = "gen_binary %d objects, seed %d" % (n, seed)
    raw, again, other = (os.path.join(tmp, f) for f in ("raw.hdx", "again.hdx", "other.hdx"))
    for path, s in ((raw, seed), (again, seed), (other, seed + 1)):
        subprocess.run([gen, str(n), str(3 * n), path, str(s)], check=True, capture_output=True)
    if not same_bytes(raw, again):
        problems.append("%s: not deterministic" % what)
    if same_bytes(raw, other):
        problems.append("%s: another seed made the same heap" % what)
    ooc = both_builds(heaptool, raw, tmp, problems, what)
    if not ooc:
        return
    as_json = os.path.join(tmp, "gen.json")
    code, _, err = run(heaptool, "convert", raw, "-o", as_json)
    if code != 0:
        problems.append("%s: convert to JSON failed: %s" % (what, err.decode()))
        return
    ids = index_oracle.object_ids(heaptool, as_json) + [65536, 65536 + n - 1]  # the first and a garbage one
    index_oracle.compare(heaptool, as_json, ooc, problems, what, ids, query=False)


def main():
    heaptool, gen = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    repo = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    dumps = [os.path.join(repo, "samples", "dumps", f) for f in sorted(os.listdir(os.path.join(repo, "samples", "dumps")))]
    dumps += [os.path.join(repo, "tests", "data", "v8", f) for f in sorted(os.listdir(os.path.join(repo, "tests", "data", "v8")))
              if f.endswith(".heapsnapshot")]
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        for path in dumps:
            both_builds(heaptool, path, tmp, problems, os.path.basename(path))
        for seed in range(runs):
            for kind, make in (("random", index_oracle.random_dump), ("native", native_oracle.make_dump)):
                path = os.path.join(tmp, "%s-%d.json" % (kind, seed))
                with open(path, "w") as f:
                    index_oracle.json.dump(make(random.Random(seed)), f)
                both_builds(heaptool, path, tmp, problems, "%s dump %d" % (kind, seed))
        for n, seed in ((50, 2), (3000, 3), (200000, 4)):
            check_generated(heaptool, gen, tmp, problems, n, seed)
    for p in problems:
        print(p)
    print("index out of core: %d dumps, %d random, 3 generated heaps, %d problems" % (len(dumps), 2 * runs, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
