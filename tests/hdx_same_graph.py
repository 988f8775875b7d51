#!/usr/bin/env python3
"""hdx_same_graph.py A.hdx B.hdx: exits 0 when the two binary indexes hold the same graph, read
straight from the files (formats/heapdump-binary.md) with the standard library, independently of
libheapdump: every section 1-46 element for element, a string by its text rather than its offset
(two writers may lay STRINGS out in another order), META's counts and in-memory figures (the
strings' total size included), META's analyses left out (one index may be analysed). "created"
may differ (two dumps of one moment written a second apart). Prints the first differences."""
import struct
import sys

SECTIONS = [  # id: (name, element size, struct code, holds strings)
    (1, "META", 8, "Q", False), (2, "STRINGS", 1, "B", False),
    (3, "TYPE_ID", 8, "Q", False), (4, "TYPE_SIZE", 8, "Q", False), (5, "TYPE_NAME", 4, "I", True),
    (6, "TYPE_FLAGS", 1, "B", False), (7, "SITE_ID", 8, "Q", False), (8, "SITE_FILE", 4, "I", True),
    (9, "SITE_FUNCTION", 4, "I", True), (10, "SITE_LINE", 4, "I", False), (11, "OBJ_ID", 8, "Q", False),
    (12, "OBJ_SIZE", 8, "Q", False), (13, "OBJ_TYPE", 4, "I", False), (14, "OBJ_SITE", 4, "I", False),
    (15, "OBJ_LABEL", 4, "I", True), (16, "OBJ_RC", 4, "I", False), (17, "OBJ_GEN", 1, "B", False),
    (18, "OBJ_FLAGS", 1, "B", False), (19, "OBJ_MAP", 4, "I", False), (20, "EDGE_OFFSET", 4, "I", False),
    (21, "EDGE_TARGET", 4, "I", False), (22, "EDGE_NAME", 4, "I", True), (23, "ROOT_OBJECT", 4, "I", False),
    (24, "ROOT_KIND_NAME", 4, "I", True), (25, "ROOT_NAME", 4, "I", True), (26, "ROOT_KIND", 1, "B", False),
    (27, "WEAKREF_OBJECT", 4, "I", False), (28, "WEAKREF_REFERENT", 4, "I", False),
    (29, "WEAKREF_CALLBACK", 1, "B", False), (30, "POOL_CLASS", 32, "32s", False),
    (31, "GC_GARBAGE", 4, "I", False), (32, "FRAME_ID", 8, "Q", False), (33, "FRAME_OFFSET", 8, "Q", False),
    (34, "FRAME_FUNCTION", 4, "I", True), (35, "FRAME_FILE", 4, "I", True), (36, "FRAME_MODULE", 4, "I", True),
    (37, "FRAME_LINE", 4, "I", False), (38, "STACK_ID", 8, "Q", False), (39, "STACK_FRAME", 4, "I", False),
    (40, "STACK_PARENT", 4, "I", False), (41, "SITE_STACK", 4, "I", False), (42, "OBJ_ADDRESS", 8, "Q", False),
    (43, "OBJ_THREAD", 4, "I", False), (44, "INTERIOR_EDGE", 4, "I", False), (45, "INTERIOR_OFFSET", 8, "Q", False),
    (46, "ROOT_OFFSET", 8, "Q", False),
]
META = ("version format producer created name pid ntypes nsites nobjects nedges nroots nweakrefs nstrings "
        "map_direct map_base map_mask map_used pools_present arena_size pool_size arenas_allocated "
        "arenas_reclaimed arenas_highwater arenas_current large_allocs large_bytes nclasses gc_present "
        "gc_enabled").split()
META += [f"g{g}_{f}" for g in range(3) for f in ("threshold", "count", "collections", "collected", "uncollectable")]
META += ("gc_frozen ngarbage native nframes nstacks nsite_stacks native_nobjects ninterior nroot_offsets "
         "mem_objects mem_references mem_id_map mem_strings mem_other mem_total has_reach nlive "
         "nuncollectable nunreachable has_dom dom_reachable total_size").split()
ANALYSES = {"has_reach", "nlive", "nuncollectable", "nunreachable", "has_dom", "dom_reachable"}
STRING_FIELDS = {"producer", "created", "name"}


def read(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89HDX\r\n\x1a\n", f"{path}: not a binary index"
    nsections = struct.unpack_from("<I", data, 12)[0]
    sections = {}
    for k in range(nsections):
        sid, size, off, count, _ = struct.unpack_from("<IIQQQ", data, 128 + 32 * k)
        sections[sid] = data[off:off + size * count]
    strings = sections[2]

    def text(off):
        return None if off == 0xFFFFFFFF else strings[off:strings.index(b"\0", off)]

    out = {}
    for sid, name, size, code, is_string in SECTIONS:
        raw = sections[sid]
        values = list(struct.iter_unpack("<" + code, raw)) if raw else []
        values = [v[0] for v in values]
        if is_string:
            values = [text(v) for v in values]
        out[name] = values
    meta = dict(zip(META, out.pop("META")))
    for f in STRING_FIELDS:
        meta[f] = text(meta[f])
    for f in ANALYSES:
        meta.pop(f, None)
    out.pop("STRINGS")
    out["META"] = meta
    return out


def main():
    a, b = read(sys.argv[1]), read(sys.argv[2])
    problems = []
    for f in sorted(set(a["META"]) | set(b["META"])):
        if f != "created" and a["META"].get(f) != b["META"].get(f):
            problems.append(f"META.{f}: {a['META'].get(f)!r} != {b['META'].get(f)!r}")
    for _, name, *_ in SECTIONS[2:]:
        x, y = a[name], b[name]
        if x != y:
            at = next((i for i, (p, q) in enumerate(zip(x, y)) if p != q), min(len(x), len(y)))
            problems.append(f"{name}: {len(x)} and {len(y)} elements, first difference at {at}: "
                            f"{x[at] if at < len(x) else '-'!r} != {y[at] if at < len(y) else '-'!r}")
    for p in problems[:20]:
        print(p)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
