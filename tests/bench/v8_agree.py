#!/usr/bin/env python3
"""v8_agree.py: do heaptool and memlab name the same largest retainers of a heap snapshot?

    python3 v8_agree.py MEMLAB_OUTPUT HEAPTOOL_TOP_JSON [K]

MEMLAB_OUTPUT is what `memlab analyze object-size` printed (lines "· @ID ...: N edges, SIZE,
refs: [...]", largest retained size first, after memlab's own filters), HEAPTOOL_TOP_JSON what
`heaptool top --json -n 100` printed. memlab's first K objects (default 5) must be among
heaptool's largest retainers, with the retained size memlab prints (its decimal units, cut to
one decimal) equal to heaptool's exact one shown the same way. Prints the pairs, exits 1 on a
disagreement.
"""
import json
import re
import sys


def readable(n):
    """memlab's getReadableBytes."""
    for scale, suffix in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "KB")):
        if n >= scale:
            return "%s%s" % (format_tenths(int(n / (scale / 10)) / 10), suffix)
    return "%d bytes" % n if n > 1 else "%d byte" % n


def format_tenths(x):
    return str(int(x)) if x == int(x) else str(x)


def main():
    memlab_path, top_path = sys.argv[1], sys.argv[2]
    k = int(sys.argv[3]) if len(sys.argv) > 3 else 5
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", open(memlab_path, encoding="utf-8", errors="replace").read())
    listed = re.findall(r"· @(\d+)\b[^\n]*?: \d+ edges, ([^,]+),", text)[:k]
    top = {row["id"]: row for row in json.load(open(top_path))["top"]}
    if len(listed) < k:
        print("v8_agree: memlab listed %d objects, want %d" % (len(listed), k))
        return 1
    bad = 0
    for rank, (oid, size) in enumerate(listed, 1):
        row = top.get(int(oid))
        ours = readable(row["retained"]) if row else "not among heaptool's largest"
        same = row is not None and ours == size
        bad += not same
        print("  %d. @%s %-24s memlab %-9s heaptool %s%s" % (
            rank, oid, row["type"][:24] if row else "?", size, ours, "" if same else "   <- differs"))
    print("top retainers: %s" % ("agree (memlab's %d largest, same retained sizes)" % k if not bad
                                 else "%d of %d differ" % (bad, k)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
