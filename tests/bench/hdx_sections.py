#!/usr/bin/env python3
"""hdx_sections.py FILE.hdx...: each index's section table (formats/heapdump-binary.md §3), one
line a section: id, name (from src/dump/binary.h), count and bytes, biggest first, then the
file's size. What run_index.sh prints to show where an index's bytes go."""
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "..", "..", "src", "dump", "binary.h")) as f:
    NAMES = {int(i): n for n, i in re.findall(r"X\((\w+), (\d+), \d+\)", f.read())}

for path in sys.argv[1:]:
    with open(path, "rb") as f:
        head = f.read(128)
        nsections = struct.unpack_from("<I", head, 12)[0]
        table = f.read(32 * nsections)
    rows = []
    for i in range(nsections):
        sid, elem, _, count, _ = struct.unpack_from("<IIQQQ", table, 32 * i)
        if sid:
            rows.append((count * elem, sid, count))
    size = os.path.getsize(path)
    print(f"  sections of {os.path.basename(path)}:")
    for nbytes, sid, count in sorted(rows, reverse=True):
        print(f"    {sid:3} {NAMES.get(sid, '?'):17} {count:13,} x {nbytes // max(count, 1):2} = {nbytes:15,} B")
    print(f"    file {size:,} B, sections {sum(r[0] for r in rows):,} B")
