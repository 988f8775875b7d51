"""cycles_script.py: what test_heapdump_export.py runs under the exporter's command line: a
reachable ring of three Nodes held by a global, a two-Node cycle left as garbage (the collector
is off, so it is still there when the heap is dumped), and its arguments in a global."""
import gc
import sys


class Node:
    def __init__(self, name):
        self.name = name
        self.next = None


gc.disable()
ring = [Node("r0"), Node("r1"), Node("r2")]
for i, node in enumerate(ring):
    node.next = ring[(i + 1) % 3]
a, b = Node("g0"), Node("g1")
a.next, b.next = b, a
del a, b
args = sys.argv[1:]
if args and args[0] == "--raise":
    raise RuntimeError("the script failed")
