#!/usr/bin/env python3
"""dense_seed.py IN OUT: a fuzz seed (tests/fuzz/seeds/binary: a first byte for the harness, then
an index) rewritten with its first cyclic component in CYCLE_DENSE, as a bitmap, and its other
components listed (formats/heapdump-binary.md §4). heaptool writes the bitmap only when it saves
a MiB, so no seed small enough would have it: this lays the sections out again (8-aligned, in
increasing id), with CHUNK_SUM and every checksum made again."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from index_damage import HEADER, ENTRY, CHUNK_SUM, reseal  # noqa: E402

START, MEMBER, DENSE = 59, 60, 63


def main():
    raw = open(sys.argv[1], "rb").read()
    first, data = raw[:1], raw[1:]
    n = struct.unpack_from("<I", data, 12)[0]
    secs = {}
    for i in range(n):
        sid, size, off, count, _ = struct.unpack_from("<IIQQQ", data, HEADER + ENTRY * i)
        secs[sid] = [size, count, data[off:off + size * count]]
    nobjects = struct.unpack_from("<Q", secs[1][2], 8 * 8)[0]
    start = list(struct.unpack_from("<%dI" % secs[START][1], secs[START][2]))
    member = list(struct.unpack_from("<%dI" % secs[MEMBER][1], secs[MEMBER][2]))
    words = [0] * ((nobjects + 63) // 64)
    for o in member[start[0]:start[1]]:
        words[o // 64] |= 1 << (o % 64)
    drop = start[1]
    start = [0] + [s - drop for s in start[1:]]
    member = member[drop:]
    secs[START] = [4, len(start), struct.pack("<%dI" % len(start), *start)]
    secs[MEMBER] = [4, len(member), struct.pack("<%dI" % len(member), *member)]
    secs[DENSE] = [8, len(words), struct.pack("<%dQ" % len(words), *words)]
    chunk = struct.unpack_from("<Q", secs[CHUNK_SUM][2], 0)[0]
    nsums = 1 + sum(-(-len(b) // chunk) for sid, (_, _, b) in secs.items() if sid not in (1, CHUNK_SUM))
    secs[CHUNK_SUM] = [8, nsums, struct.pack("<Q", chunk) + bytes(8 * (nsums - 1))]
    ids = sorted(secs)
    at = HEADER + ENTRY * len(ids)
    table, body = b"", b""
    for sid in ids:
        size, count, b = secs[sid]
        at = (at + 7) // 8 * 8
        body += bytes(at - HEADER - ENTRY * len(ids) - len(body)) + b
        table += struct.pack("<IIQQQ", sid, size, at, count, 0)
        at += len(b)
    out = bytearray(data[:HEADER] + table + body)
    struct.pack_into("<I", out, 12, len(ids))
    struct.pack_into("<Q", out, 16, len(out))
    open(sys.argv[2], "wb").write(first + reseal(bytes(out)))


main()
