"""The obvious alternative to `heaptool stats`: load the dump with Python's json module and
count types. Run by tests/bench/run.sh as the in-run peer."""
import collections
import json
import sys

with open(sys.argv[1]) as f:
    dump = json.load(f)
names = {t["id"]: t["name"] for t in dump["types"]}
count = collections.Counter()
size = collections.Counter()
for o in dump["objects"]:
    count[names[o["type"]]] += 1
    size[names[o["type"]]] += o["size"]
for name, n in count.most_common(10):
    print(name, n, size[name])
