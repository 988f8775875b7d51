"""tracemalloc_workload.py: what test_heapdump_export.py's tracemalloc tests allocate. Every
object made in a function body here is one memory block whose size sys.getsizeof gives (str,
bytes, float, tuple, an instance with __slots__ and no __dict__), so that for these lines
tracemalloc's statistics and the export's sites count the same blocks. Temporaries (generators,
a call's argument tuple) are freed, or left in a free list until gc.collect() empties it."""


class Point:
    __slots__ = ("x", "y")

    def __init__(self, x, y):
        self.x = x
        self.y = y


def build(n):
    words = tuple(str(i) * 20 for i in range(n))
    blobs = tuple(bytes(20 + i % 7) for i in range(n))
    points = tuple(Point(w, i * 0.5) for i, w in enumerate(words))
    pairs = tuple((w, p) for w, p in zip(words, points))
    return words, blobs, points, pairs


def grow(n):
    labels = tuple("grown %d" % i for i in range(n))
    return labels, tuple(Point(label, 1.5) for label in labels)
