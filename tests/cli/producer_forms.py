#!/usr/bin/env python3
"""producer_forms.py: producers write the binary index directly, and it is the JSON's heap.

    python3 tests/cli/producer_forms.py HEAPTOOL BUILD

libhm (every sample program, with SAMPLE_ALSO_HDX: hm_snapshot_write to NAME.json, then to
NAME.hdx, nothing changing between) and the native recorder (tests/record/triggers twice:
heaptool_record_dump to A.json, then to A.hdx) write one moment in both forms. The oracle is the
JSON path: for each pair
- tests/hdx_same_graph.py finds the producer's index holding the graph `heaptool convert` makes
  of the JSON, section by section (strings by text), with the same in-memory figures;
- `heaptool validate` passes, and the index converted back to JSON is the JSON's own conversion;
- every analysis (index_oracle.py's commands, text and --json, plus flame and leaks) answers byte
  for byte the same, and so does `diff` between two moments, from the index completed by
  `heaptool index` too;
- the index cut short or with a byte changed is refused (exit 3);
- a path ending in .hdx.gz is refused, by libhm, `heaptool record` and the recorder on its own;
  the recorder's numbered dumps of a .hdx template are indexes named NAME.N.hdx.
"created" may differ by a second between the two writes: the index's is read as the JSON's.
Prints one line per mismatch; exits 1 if there is any."""
import glob
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import hdx_same_graph  # noqa: E402
import index_oracle  # noqa: E402

run = index_oracle.run


def created(heaptool, path, tmp):
    back = os.path.join(tmp, "created.json")
    run(heaptool, "convert", path, "-o", back)
    m = re.search(rb'"created": ("[^"]*")', open(back, "rb").read())
    os.unlink(back)
    return m.group(1)[1:-1] if m else b""


def same_answers(heaptool, dump, index, problems, what, tmp):
    """Every command's output from index, its names and "created" read as dump's, is dump's."""
    stamp_json, stamp_index = created(heaptool, dump, tmp), created(heaptool, index, tmp)
    ids = index_oracle.object_ids(heaptool, dump)
    cmds = index_oracle.commands(ids, True) + [["flame"], ["flame", "--count"], ["leaks"], ["leaks", "--json"]]
    for cmd in cmds:
        args = [dump if a is None else a for a in cmd]
        if None not in cmd:
            args.append(dump)
        want = run(heaptool, *args)
        got = run(heaptool, *[index if a == dump else a for a in args])
        got = tuple(x if isinstance(x, int) else x.replace(index.encode(), dump.encode()).replace(stamp_index, stamp_json)
                    for x in got)
        if want != got:
            problems.append("%s: heaptool %s: the producer's index answers differently (exit %d vs %d)\n"
                            "  json:  %r\n  index: %r" % (what, " ".join(args), want[0], got[0],
                                                          want[1][:300] + want[2][:200], got[1][:300] + got[2][:200]))


def check_pair(heaptool, dump, index, problems, what, tmp):
    ref = os.path.join(tmp, "ref.hdx")
    if run(heaptool, "convert", dump, "-o", ref)[0] != 0:
        problems.append("%s: heaptool convert %s failed" % (what, dump))
        return
    p = subprocess.run([sys.executable, os.path.join(os.path.dirname(HERE), "hdx_same_graph.py"), index, ref],
                       capture_output=True, text=True)
    if p.returncode != 0:
        problems.append("%s: the producer's index is not the JSON's graph:\n%s" % (what, p.stdout))
    code, out, err = run(heaptool, "validate", index)
    if code != 0:
        problems.append("%s: heaptool validate %s: exit %d: %s" % (what, index, code, (out + err).decode()))
    a, b = os.path.join(tmp, "a.json"), os.path.join(tmp, "b.json")
    run(heaptool, "convert", index, "-o", a), run(heaptool, "convert", dump, "-o", b)
    strip = lambda f: re.sub(rb'"created": "[^"]*"', b"", open(f, "rb").read())  # noqa: E731
    if strip(a) != strip(b):
        problems.append("%s: the index converted to JSON is not the JSON's conversion" % what)
    same_answers(heaptool, dump, index, problems, what, tmp)
    done = os.path.join(tmp, "done.hdx")
    if run(heaptool, "index", index, "-o", done)[0] != 0:
        problems.append("%s: heaptool index could not complete %s" % (what, index))
    else:
        for args in (["stats", "--json"], ["top", "-n", "0"], ["leaks", "--json"], ["cycles"]):
            want, got = run(heaptool, *args, index), run(heaptool, *args, done)
            if want[0] != got[0] or want[1].replace(index.encode(), b"X") != got[1].replace(done.encode(), b"X"):
                problems.append("%s: heaptool %s: the completed index answers differently" % (what, " ".join(args)))
    data = open(index, "rb").read()
    for cut, damaged in (("cut", data[: len(data) * 2 // 3]), ("byte changed", data[:200] + bytes([data[200] ^ 0x40]) + data[201:])):
        bad = os.path.join(tmp, "bad.hdx")
        open(bad, "wb").write(damaged)
        code, _, err = run(heaptool, "stats", bad)
        if code != 3 or err.count(b"\n") != 1:
            problems.append("%s: an index %s: exit %d, %r (want exit 3 and one line)" % (what, cut, code, err))


def libhm_forms(heaptool, build, problems, tmp):
    out = os.path.join(tmp, "samples")
    os.mkdir(out)
    for program in sorted(glob.glob(os.path.join(build, "samples", "*"))):
        if os.path.isfile(program):
            subprocess.run([program, out], env=dict(os.environ, SAMPLE_ALSO_HDX="1"), capture_output=True, check=True)
    pairs = sorted(glob.glob(os.path.join(out, "*.hdx")))
    if len(pairs) < 10:
        problems.append("libhm: only %d samples wrote an index" % len(pairs))
    for index in pairs:
        check_pair(heaptool, index[:-4] + ".json", index, problems, "libhm " + os.path.basename(index), tmp)
    old, new = os.path.join(out, "service_1"), os.path.join(out, "service_3")
    for args in (["diff"], ["diff", "--json"], ["diff", "--by", "site"]):
        want, got = run(heaptool, *args, old + ".json", new + ".json"), run(heaptool, *args, old + ".hdx", new + ".hdx")
        if want[0] != got[0] or want[1] != got[1].replace(b".hdx", b".json"):
            problems.append("libhm: heaptool %s: the indexes answer differently" % " ".join(args))


def recorder_forms(heaptool, build, problems, tmp):
    a, b = os.path.join(tmp, "rec.json"), os.path.join(tmp, "rec.hdx")
    env = dict(os.environ, LD_PRELOAD=os.path.join(build, "libheaptool-record.so"),
               HEAPTOOL_OUTPUT=os.path.join(tmp, "exit.json"))
    p = subprocess.run([os.path.join(build, "record-tests", "triggers"), "twice", a, b], env=env,
                       capture_output=True, text=True)
    if p.returncode != 0 or "heaptool_record_dump: 0 0" not in p.stdout:
        problems.append("recorder: triggers twice: %d %s %s" % (p.returncode, p.stdout, p.stderr))
        return
    check_pair(heaptool, a, b, problems, "recorder", tmp)
    code, _, err = run(heaptool, "record", "-o", os.path.join(tmp, "x.hdx.gz"), "--", "true")
    if code != 2 or b"not compressed" not in err:
        problems.append("recorder: record -o x.hdx.gz: exit %d, %r" % (code, err))
    env["HEAPTOOL_OUTPUT"] = os.path.join(tmp, "lib.hdx.gz")
    p = subprocess.run(["true"], env=env, capture_output=True, text=True)
    if p.returncode != 0 or "not compressed" not in p.stderr or os.path.exists(env["HEAPTOOL_OUTPUT"]):
        problems.append("recorder: HEAPTOOL_OUTPUT=lib.hdx.gz: exit %d, %r" % (p.returncode, p.stderr))
    # Numbered dumps (every second here) put their number before .hdx, and are indexes too.
    env.update(HEAPTOOL_OUTPUT=os.path.join(tmp, "tick.hdx"), HEAPTOOL_INTERVAL="1")
    subprocess.run([os.path.join(build, "record-tests", "triggers"), "interval"], env=env, capture_output=True)
    for name in ("tick.1.hdx", "tick.2.hdx", "tick.hdx"):
        code, out, err = run(heaptool, "validate", os.path.join(tmp, name))
        if code != 0:
            problems.append("recorder: %s: exit %d: %s" % (name, code, (out + err).decode()))


def main():
    heaptool, build = sys.argv[1], sys.argv[2]
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        libhm_forms(heaptool, build, problems, tmp)
        recorder_forms(heaptool, build, problems, tmp)
    for p in problems:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
