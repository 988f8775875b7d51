#!/usr/bin/env python3
"""index_damage.py: a damaged binary index is refused with one line, never used.

    python3 tests/cli/index_damage.py HEAPTOOL DUMP...

For each DUMP, `heaptool index` writes an index; then copies of it are cut at every section
boundary, inside every section and inside the header and table, and have one bit flipped in
every section, in the header, the table and the padding between sections, and a few bytes
rewritten by hand (version, counts, an edge target, the cyclic components, with the checksums
fixed up). Every copy must
make `heaptool stats` (and `show`) exit 3 with nothing on stdout and one line on stderr naming
the file, the offset and, past the header, the section. Prints one line per failure; exits 1 if
there is any.
"""
import os
import struct
import subprocess
import sys
import tempfile

HEADER = 128
ENTRY = 32


def sections(data):
    n = struct.unpack_from("<I", data, 12)[0]
    out = []
    for i in range(n):
        sid, size, offset, count, _ = struct.unpack_from("<IIQQQ", data, HEADER + ENTRY * i)
        out.append((sid, offset, size * count))
    return out


def run(heaptool, *args):
    p = subprocess.run([heaptool, *args], capture_output=True, env=dict(os.environ, HEAPTOOL_INDEX="never"))
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def expect_refused(heaptool, path, what, problems, needs_section=False):
    for cmd in (["stats", path], ["show", path, "1"]):
        code, out, err = run(heaptool, *cmd)
        lines = err.splitlines()
        ok = code == 3 and not out and len(lines) == 1 and lines[0].startswith("heaptool: %s: index: " % path)
        ok = ok and ("offset" in lines[0] or "truncated" in lines[0])
        if ok and needs_section:
            ok = "section" in lines[0] or "padding" in lines[0] or "truncated" in lines[0]
        if not ok:
            problems.append("%s: heaptool %s: exit %d, stdout %r, stderr %r" % (what, cmd[0], code, out[:100], err[:300]))
            return


def checksum(data):
    """The format's section checksum (formats/heapdump-binary.md), to forge a consistent edit."""
    M = (1 << 64) - 1
    K1, K2 = 0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F

    def rotl(x, r):
        return ((x << r) | (x >> (64 - r))) & M
    lane = [K1, K2, K1 ^ K2, (K1 + K2) & M]
    i = 0
    while i + 32 <= len(data):
        for k in range(4):
            w = struct.unpack_from("<Q", data, i + 8 * k)[0]
            lane[k] = (rotl(lane[k] ^ ((w * K2) & M), 31) * K1) & M
        i += 32
    h = (rotl(lane[0], 1) + rotl(lane[1], 7) + rotl(lane[2], 12) + rotl(lane[3], 18)) & M
    for b in data[i:]:
        h = (rotl(h ^ ((b * K1) & M), 23) * K2) & M
    h ^= (len(data) * K1) & M
    h ^= h >> 29
    h = (h * K2) & M
    return h ^ (h >> 32)


CHUNK_SUM = 55


def reseal_chunks(data, n):
    """CHUNK_SUM's checksums of every chunk of every section but META, in increasing id."""
    secs = sorted(struct.unpack_from("<IIQQQ", data, HEADER + ENTRY * i)[:4] for i in range(n))
    where = [(off, count) for sid, size, off, count in secs if sid == CHUNK_SUM]
    if not where:
        return
    at = where[0][0]
    chunk = struct.unpack_from("<Q", data, at)[0]
    for sid, size, off, count in secs:
        if sid in (1, CHUNK_SUM):
            continue
        for c in range(off, off + size * count, chunk):
            at += 8
            struct.pack_into("<Q", data, at, checksum(bytes(data[c:min(c + chunk, off + size * count)])))


def reseal(data, chunks=True):
    """Recomputes every checksum, as a hand editor who knows the format would (the chunks' too
    unless told not to)."""
    data = bytearray(data)
    n = struct.unpack_from("<I", data, 12)[0]
    if chunks:
        reseal_chunks(data, n)
    for i in range(n):
        at = HEADER + ENTRY * i
        sid, size, offset, count, _ = struct.unpack_from("<IIQQQ", data, at)
        struct.pack_into("<Q", data, at + 24, checksum(bytes(data[offset:offset + size * count])))
    struct.pack_into("<Q", data, 120, 0)
    struct.pack_into("<Q", data, 120, checksum(bytes(data[:HEADER + ENTRY * n])))
    return bytes(data)


def u32s(data, by_id, sid):
    at, length = by_id.get(sid, (0, 0))
    return at, list(struct.unpack_from("<%dI" % (length // 4), data, at))


def loop_dominators(blob, by_id):
    """o's dominator x made dominated by o."""
    at, idom = u32s(blob, by_id, 51)
    for o, x in enumerate(idom):
        if x < len(idom):
            struct.pack_into("<I", blob, at + 4 * x, o)
            return True
    return False


def referrer_block(blob, by_id):
    """A block but the first with two referrers or more: (its number, its first entry), or None."""
    _, blocks = u32s(blob, by_id, 57)
    for b in range(1, len(blocks) - 1):
        if blocks[b + 1] - blocks[b] >= 2:
            return b, blocks[b]
    return None


def swap_referrers(blob, by_id):
    found = referrer_block(blob, by_id)
    if not found:
        return False
    at, edges = u32s(blob, by_id, 58)
    j = found[1]
    struct.pack_into("<II", blob, at + 4 * j, edges[j + 1], edges[j])
    return True


def start_block_late(blob, by_id):
    found = referrer_block(blob, by_id)
    if not found:
        return False
    struct.pack_into("<I", blob, by_id[57][0] + 4 * found[0], found[1] + 1)
    return True


def swap_top(blob, by_id):
    at, top = u32s(blob, by_id, 56)
    if len(top) < 2:
        return False
    struct.pack_into("<II", blob, at, top[1], top[0])
    return True


def cycle_edits(data, by_id):
    """Hand edits of the cyclic components (CYCLE_*, ids 59-62) that their checks catch, as (what,
    offset, uint32 value): a member out of range, offsets that fall, a component's members out
    of order, an object in two components, a cycle's edge that does not leave the object it is
    at. None when the index has no components."""
    ids = (59, 60, 61, 62)
    if not all(s in by_id for s in ids) or 1 not in by_id or 20 not in by_id:
        return []
    (s_at, s_len), (m_at, m_len), (ps_at, _), (p_at, p_len) = (by_id[s] for s in ids)
    nobjects, nedges = struct.unpack_from("<QQ", data, by_id[1][0] + 8 * 8)
    start = struct.unpack_from("<%dI" % (s_len // 4), data, s_at)
    member = struct.unpack_from("<%dI" % (m_len // 4), data, m_at)
    offsets = struct.unpack_from("<%dI" % (nobjects + 1), data, by_id[20][0])
    comps = [member[start[k]:start[k + 1]] for k in range(len(start) - 1)]
    edits = []
    if comps:
        edits += [("a cycle member out of range", m_at, nobjects), ("a cycle offset falling", s_at + 4, 0),
                  ("a cycle's path offset falling", ps_at + 4, 0)]
        first = comps[0][0]
        away = [e for e in range(nedges) if not offsets[first] <= e < offsets[first + 1]]
        if away:
            edits.append(("a cycle's edge that does not leave its object", p_at, away[0]))
    for k, c in enumerate(comps):
        if len(c) >= 2:
            edits.append(("a component's members out of order", m_at + 4 * start[k], c[1]))
            break
    for k, c in enumerate(comps[1:], 1):
        # its first member replaced by one of component 0 that still keeps its members rising
        taken = [x for x in comps[0] if len(c) == 1 or x < c[1]]
        if taken:
            edits.append(("an object in two components", m_at + 4 * start[k], taken[0]))
            break
    return edits


def main():
    heaptool = sys.argv[1]
    problems = []
    cases = 0
    edited = set()
    with tempfile.TemporaryDirectory() as tmp:
        for dump in sys.argv[2:]:
            index = os.path.join(tmp, "whole.hdx")
            code, _, err = run(heaptool, "index", "-o", index, dump)
            if code:
                problems.append("%s: heaptool index failed: %s" % (dump, err))
                continue
            data = open(index, "rb").read()
            if checksum(data[:0]) != checksum(b"") or reseal(data) != data:
                problems.append("%s: this script's checksum is not the format's" % dump)
                continue
            secs = sections(data)
            table_end = HEADER + ENTRY * len(secs)
            bad = os.path.join(tmp, "bad.hdx")

            def attempt(what, blob, needs_section=False):
                nonlocal cases
                cases += 1
                with open(bad, "wb") as f:
                    f.write(blob)
                expect_refused(heaptool, bad, "%s: %s" % (os.path.basename(dump), what), problems, needs_section)

            cuts = {1, 7, 8, 64, HEADER - 1, HEADER, HEADER + ENTRY + 3, table_end - 1, table_end, len(data) - 1}
            for sid, offset, length in secs:
                cuts |= {offset, offset + length // 2, offset + length - 1 if length else offset}
            for cut in sorted(c for c in cuts if c < len(data)):
                attempt("cut at %d" % cut, data[:cut], cut >= table_end)
            flips = {3, 9, 13, 20, 50, HEADER + 5, HEADER + ENTRY * 3 + 9, table_end - 2}
            for sid, offset, length in secs:
                if length:
                    flips.add(offset + length // 2)
                if offset + length < len(data) and (offset + length) % 8:
                    flips.add(offset + length)  # padding after the section
            for at in sorted(flips):
                blob = bytearray(data)
                blob[at] ^= 0x10
                attempt("bit flipped at %d" % at, bytes(blob), at >= table_end)
            # Hand edits with every checksum made right again: values are checked, not trusted.
            by_id = {sid: (offset, length) for sid, offset, length in secs}
            for sid, value, fmt in ((21, 0x7FFFFFF0, "<I"), (20, 0xFFFF, "<I"), (13, 99999, "<I"), (5, 1 << 30, "<I")):
                if sid in by_id and by_id[sid][1]:
                    blob = bytearray(data)
                    struct.pack_into(fmt, blob, by_id[sid][0], value)
                    attempt("section %d edited" % sid, reseal(bytes(blob)), True)
            # The per-type summary must add up to META's counts; the chunk checksums must be of
            # the bytes they follow (a chunk size that is no power of two, a chunk sum that lies).
            for sid, at, value, chunks in ((53, 0, 1 << 40, True), (54, 0, 1 << 62, True), (CHUNK_SUM, 0, 3, False),
                                           (CHUNK_SUM, 8, 12345, False)):
                if sid in by_id and by_id[sid][1]:
                    blob = bytearray(data)
                    struct.pack_into("<Q", blob, by_id[sid][0] + at, value)
                    attempt("section %d edited at %d" % (sid, at), reseal(bytes(blob), chunks), True)
            # A dominator chain that leaves the tree: an object's dominator made unreachable (with
            # META's dom_reachable kept consistent): chains must end at the virtual root.
            NONE, META, DOM_IDOM = 0xFFFFFFFF, 1, 51
            if DOM_IDOM in by_id and META in by_id:
                (idom_at, idom_len), (meta_at, meta_len) = by_id[DOM_IDOM], by_id[META]
                idom = list(struct.unpack_from("<%dI" % (idom_len // 4), data, idom_at))
                reachable_at = meta_at + 8 * 64  # dom_reachable, the 65th field
                if struct.unpack_from("<Q", data, reachable_at)[0] != sum(x != NONE for x in idom):
                    problems.append("%s: META's 65th field is not dom_reachable" % dump)
                inner = [x for x in idom if x < len(idom) and idom[x] != NONE]
                if inner:
                    blob = bytearray(data)
                    struct.pack_into("<I", blob, idom_at + 4 * inner[0], NONE)
                    struct.pack_into("<Q", blob, reachable_at, sum(x != NONE for x in idom) - 1)
                    attempt("a dominator made unreachable", reseal(bytes(blob)), True)
            # The stored analyses for `show` and `top`, edited in range: a dominator chain made to
            # loop (the depths must fall along it), two referrers of a block swapped, a block of
            # referrers starting one late (an entry in the wrong block), the best two retainers
            # swapped.
            for what, edit in (("a dominator chain made to loop", loop_dominators),
                               ("two referrers swapped", swap_referrers),
                               ("a referrer block starting late", start_block_late),
                               ("the best two retainers swapped", swap_top)):
                blob = bytearray(data)
                if edit(blob, by_id):
                    edited.add(what)
                    attempt(what, reseal(bytes(blob)), True)
            # An id repeated, and an id map whose two slots are swapped: a lookup must never
            # answer with an object of another id (a diff of such a dump would overrun).
            OBJ_ID, OBJ_MAP = 11, 19
            if OBJ_ID in by_id and by_id[OBJ_ID][1] >= 16:
                blob = bytearray(data)
                blob[by_id[OBJ_ID][0] + 8:by_id[OBJ_ID][0] + 16] = data[by_id[OBJ_ID][0]:by_id[OBJ_ID][0] + 8]
                attempt("an object id repeated", reseal(bytes(blob)), True)
            if OBJ_MAP in by_id:
                map_at, map_len = by_id[OBJ_MAP]
                slots = struct.unpack_from("<%dI" % (map_len // 4), data, map_at)
                full = [i for i, s in enumerate(slots) if s]
                if len(full) >= 2:
                    blob = bytearray(data)
                    struct.pack_into("<I", blob, map_at + 4 * full[0], slots[full[1]])
                    struct.pack_into("<I", blob, map_at + 4 * full[1], slots[full[0]])
                    attempt("two id map slots swapped", reseal(bytes(blob)), True)
            for what, at, value in cycle_edits(data, by_id):
                blob = bytearray(data)
                struct.pack_into("<I", blob, at, value)
                attempt(what, reseal(bytes(blob)), True)
            blob = bytearray(data)
            struct.pack_into("<I", blob, 8, 99)
            attempt("version 99", bytes(blob))
    if len(edited) < 4:
        problems.append("edits of the stored analyses never made: %d of 4 were" % len(edited))
    for p in problems:
        print(p)
    print("index damage: %d damaged copies, %d problems" % (cases, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
