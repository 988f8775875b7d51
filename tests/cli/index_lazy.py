#!/usr/bin/env python3
"""index_lazy.py: an index big enough that its big sections are verified on first use.

    python3 tests/cli/index_lazy.py HEAPTOOL [OBJECTS]

A random heapdump of OBJECTS objects (default 100,000: sections of 256 KiB and more, which the
writer gives pages of their own) is indexed; then:
- the writer aligned them (offset a multiple of 64 KiB, nothing else on their pages);
- every command answers from the index byte for byte as from the JSON (the oracle);
- damage in one lazy section (a flipped bit, or a value edited with its checksum made right)
  never gives a wrong answer: each command either answers exactly as from the whole index (it
  did not read that section) or exits 3 with one line on stderr naming the file, the section and
  the offset, having printed at most a beginning of the right answer; `validate`, which verifies
  every section, refuses each damaged copy;
- an automatic index found damaged by a command is removed, and the next command rebuilds it.
Prints one line per failure; exits 1 if there is any.
"""
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from index_damage import HEADER, ENTRY, reseal  # noqa: E402

NAMES = {1: "META", 2: "STRINGS", 11: "OBJ_ID", 12: "OBJ_SIZE", 13: "OBJ_TYPE", 14: "OBJ_SITE", 15: "OBJ_LABEL",
         16: "OBJ_RC", 17: "OBJ_GEN", 18: "OBJ_FLAGS", 19: "OBJ_MAP", 20: "EDGE_OFFSET", 21: "EDGE_TARGET",
         22: "EDGE_NAME", 47: "REACH_STATE", 48: "REACH_DEPTH", 49: "REACH_PARENT", 50: "REACH_VIA",
         51: "DOM_IDOM", 52: "DOM_RETAINED", 55: "CHUNK_SUM", 58: "REF_EDGE", 59: "CYCLE_START",
         60: "CYCLE_MEMBER", 61: "CYCLE_PATH_START", 62: "CYCLE_PATH", 63: "CYCLE_DENSE"}


def write_dump(path, n, rng):
    """Objects 1..n (a dense id range), two or three references each, a few roots and weakrefs."""
    with open(path, "w") as f:
        f.write('{"format": "heapdump", "version": 1, "meta": {"producer": "index_lazy.py"},\n"types": [')
        f.write(",".join('{"id": %d, "name": "T%d", "size": %d, "gc": true}' % (t, t, 16 * (t + 1)) for t in range(6)))
        f.write('],\n"sites": [{"id": 1, "file": "a.c", "line": 3, "function": "f"}],\n"objects": [\n')
        for i in range(1, n + 1):
            refs = ",".join('[%d, "%s"]' % (rng.randint(1, n), rng.choice(("next", "items", "0"))) for _ in range(rng.choice((2, 3))))
            label = ', "label": "x%d"' % i if i % 7 == 0 else ""
            site = ', "site": 1' if i % 3 == 0 else ""
            f.write('%s{"id": %d, "type": %d, "size": %d, "rc": 1, "gen": %d%s%s, "refs": [%s]}\n'
                    % ("," if i > 1 else "", i, i % 6, 16 + 8 * (i % 13), i % 3, label, site, refs))
        f.write('],\n"weakrefs": [{"id": 5, "referent": 9}],\n"roots": [')
        f.write(",".join('{"id": %d, "kind": "named", "name": "r%d"}' % (r, r) for r in rng.sample(range(1, n + 1), 40)))
        f.write("]}\n")


def run(heaptool, args, env=None):
    p = subprocess.run([heaptool, *args], capture_output=True, timeout=300,
                       env={**os.environ, "HEAPTOOL_INDEX": "never", **(env or {})})
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def lazy_sections(data):
    """(id, offset, length) of the sections a reader leaves for their first use."""
    n = struct.unpack_from("<I", data, 12)[0]
    secs = [struct.unpack_from("<IIQQQ", data, HEADER + ENTRY * i)[:4] for i in range(n)]
    return [(sid, off, size * count) for sid, size, off, count in secs
            if size * count >= 256 << 10 and off % 65536 == 0]


def main():
    heaptool = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 100000
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        dump, index = os.path.join(tmp, "big.json"), os.path.join(tmp, "big.hdx")
        write_dump(dump, n, random.Random(19))
        code, _, err = run(heaptool, ["index", "-o", index, dump])
        if code:
            print("heaptool index failed: " + err)
            return 1
        data = open(index, "rb").read()
        lazy = lazy_sections(data)
        if len(lazy) < 10:
            problems.append("only %d sections have pages of their own" % len(lazy))
        commands = [["stats"], ["stats", "--json"], ["top"], ["show", "{}", "12345"], ["path", "{}", "12345"],
                    ["leaks"], ["show", "--json", "{}", "777"], ["cycles"], ["cycles", "--json"]]

        def argv(cmd, path):
            return [a.replace("{}", path) for a in cmd] + ([] if "{}" in cmd else [path])

        good = {}
        for cmd in commands:
            want = run(heaptool, ["--no-index"] + argv(cmd, dump))
            got = run(heaptool, argv(cmd, index))
            if want[0] or got[0] or want[1] != got[1].replace(index, dump):
                problems.append("%s: from the index %r, from the JSON %r" % (" ".join(cmd), got[:2], want[:2]))
            good[" ".join(cmd)] = got[1]

        bad = os.path.join(tmp, "bad.hdx")
        damaged_commands = [["stats"], ["top"], ["show", "{}", "12345"], ["path", "{}", "12345"], ["cycles"],
                            ["validate"]]

        def attempt(what, blob, section, need=2):
            with open(bad, "wb") as f:
                f.write(blob)
            refused = 0  # validate and at least one other command must
            for cmd in damaged_commands:
                code, out, err = run(heaptool, argv(cmd, bad))
                key = " ".join(cmd)
                lines = err.splitlines()
                if cmd[0] == "validate":
                    ok = code == 3 and section in out and "offset" in out
                    refused += ok
                elif code == 3:
                    refused += 1
                    ok = (len(lines) == 1 and lines[0].startswith("heaptool: %s: index: " % bad) and section in lines[0]
                          and "offset" in lines[0] and good.get(key, "").startswith(out.replace(bad, index)))
                else:
                    ok = code == 0 and out.replace(bad, index) == good[key]
                if not ok:
                    problems.append("%s: heaptool %s: exit %d, stdout %r, stderr %r" % (what, key, code, out[:80], err[:200]))
            if refused < need:
                problems.append("%s: refused by %d commands, validate included" % (what, refused))

        # Sections are verified a chunk at a time: an object's record is flipped where `show` and
        # `path` read it (object 12345 is number 12344; OBJ_MAP's ids are direct), its referrers
        # where `show` finds them (the first of its block of 8 in REF_EDGE), others mid-way.
        per_object = {11: 8, 12: 8, 13: 4, 14: 4, 15: 4, 16: 4, 17: 1, 18: 1, 19: 4, 51: 4, 52: 8}
        table = [struct.unpack_from("<IIQQQ", data, HEADER + ENTRY * i)[:4]
                 for i in range(struct.unpack_from("<I", data, 12)[0])]
        blocks_at = [off for sid, _, off, count in table if sid == 57]
        assert [count for sid, _, _, count in table if sid == 57] in ([], [(n + 7) // 8 + 1]), "blocks of 8 objects"
        block = 4 * (12344 // 8)  # object 12345's block in REF_BLOCK
        for sid, off, length in lazy:
            blob = bytearray(data)
            at = per_object[sid] * 12344 if sid in per_object else length // 2
            if sid == 58 and blocks_at:
                at = min(4 * struct.unpack_from("<I", data, blocks_at[0] + block)[0], length - 1)
            blob[off + at] ^= 0x08
            attempt("bit flipped in %s" % NAMES.get(sid, sid), bytes(blob), NAMES.get(sid, str(sid)))
        by_id = {sid: (off, length) for sid, off, length in lazy}
        edits = [(21, 0, 0x7FFFFFF0), (13, 4 * (n // 2), 77), (12, 8 * (n // 3), 1)]
        if 51 in by_id:  # object 12345's dominator made dominated by it: a loop on its chain
            idom = struct.unpack_from("<%dI" % n, data, by_id[51][0])
            a = 12344 if idom[12344] < n else [o for o in range(n) if idom[o] < n][0]
            b = idom[a]
            edits.append((51, 4 * b, a))
        if 60 in by_id:  # a member of the big component out of range, mid-way
            edits.append((60, by_id[60][1] // 8 * 4, n + 3))
        for sid, at, value in edits:
            if sid in by_id:
                blob = bytearray(data)
                struct.pack_into("<I" if sid != 12 else "<Q", blob, by_id[sid][0] + at, value)
                # An object's size edited in range breaks only META's total, which holds of the
                # whole section: no command reads all of OBJ_SIZE (stats reads TYPE_BYTES), so
                # validate alone must refuse it, and the others answer as from the good index.
                attempt("%s edited, checksums resealed" % NAMES[sid], reseal(bytes(blob)),
                        "META" if sid == 12 else NAMES[sid], 1 if sid == 12 else 2)

        # Two referrers swapped in the block of 8 holding object 12345's, checksums resealed: the
        # order is checked with the chunk of REF_EDGE that `show` reads.
        if 58 in by_id and blocks_at:
            first, end = struct.unpack_from("<II", data, blocks_at[0] + block)
            if end - first < 2:
                problems.append("object 12345's block has fewer than 2 referrers: pick another")
            else:
                blob = bytearray(data)
                e0, e1 = struct.unpack_from("<II", data, by_id[58][0] + 4 * first)
                struct.pack_into("<II", blob, by_id[58][0] + 4 * first, e1, e0)
                attempt("REF_EDGE reordered, checksums resealed", reseal(bytes(blob)), "REF_EDGE")

        # Object 12345 (number 12344) made its own parent, checksums resealed: the forest is
        # checked a block of objects at a time, with the chunk of REACH_PARENT that `path` reads.
        if 49 in by_id and 48 in by_id:
            depth = struct.unpack_from("<I", data, by_id[48][0] + 4 * 12344)[0]
            if depth in (0, 0xFFFFFFFF):
                problems.append("object 12345 is a root or unreachable: pick another for the parent loop")
            else:
                blob = bytearray(data)
                struct.pack_into("<I", blob, by_id[49][0] + 4 * 12344, 12344)
                attempt("REACH_PARENT made a loop, checksums resealed", reseal(bytes(blob)), "REACH_STATE")

        # A section's bytes and checksum edited as one, its chunk's checksum left: a reader that
        # verifies chunk by chunk must still refuse the chunk, naming the section.
        if 21 in by_id:
            blob = bytearray(data)
            struct.pack_into("<I", blob, by_id[21][0] + 4, n - 1)
            attempt("EDGE_TARGET edited, chunk sums not resealed", reseal(bytes(blob), chunks=False), "EDGE_TARGET")

        # An automatic index damaged where `show` reads: refused once and removed, then rebuilt.
        auto = os.path.join(tmp, "auto")
        os.mkdir(auto)
        adump = os.path.join(auto, "big.json")
        shutil.copy(dump, adump)
        code, _, err = run(heaptool, ["stats", adump], {"HEAPTOOL_INDEX": "always"})
        aindex = adump + ".hdx"
        if code or not os.path.exists(aindex) or 21 not in by_id or 13 not in by_id:
            problems.append("no automatic index: %s" % err)
        else:
            def flip(sid):
                with open(aindex, "r+b") as f:
                    f.seek(by_id[sid][0] + by_id[sid][1] // 2)
                    byte = f.read(1)
                    f.seek(-1, 1)
                    f.write(bytes([byte[0] ^ 0x40]))
            # a command on two dumps removes it too
            flip(13)
            code, out, err = run(heaptool, ["diff", adump, dump], {"HEAPTOOL_INDEX": "auto"})
            if code != 3 or "OBJ_TYPE" not in err or os.path.exists(aindex):
                problems.append("damaged automatic index under diff: exit %d, %r, still there: %s" % (code, err, os.path.exists(aindex)))
                if os.path.exists(aindex):
                    os.unlink(aindex)
            run(heaptool, ["stats", adump], {"HEAPTOOL_INDEX": "always"})
            flip(21)
            show = ["show", adump, "12345"]
            code, out, err = run(heaptool, show, {"HEAPTOOL_INDEX": "auto"})
            if code != 3 or len(err.splitlines()) != 1 or "EDGE_TARGET" not in err or os.path.exists(aindex):
                problems.append("damaged automatic index: exit %d, stderr %r, still there: %s" % (code, err, os.path.exists(aindex)))
            code, out, err = run(heaptool, show, {"HEAPTOOL_INDEX": "always"})
            if code or out.replace(adump, index) != good["show {} 12345"] or not os.path.exists(aindex):
                problems.append("the automatic index was not rebuilt: exit %d, %r" % (code, err))
    for p in problems:
        print(p)
    print("index lazy: %d lazy sections, %d problems" % (len(lazy), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
