"""gc_cpython.py: the shapes of bench_gc.c in CPython, for tests/bench/run_gc.sh.

Prints "name seconds" lines (medians). Usage: python3 gc_cpython.py [N [RUNS]]
"""
import gc
import statistics
import sys
import time


class Node:
    __slots__ = ("value", "next")

    def __init__(self, value, next):
        self.value = value
        self.next = next


def full_collection_live(n, runs):
    keep, prev = [], None
    for i in range(n):
        prev = Node(i, prev)
        keep.append(prev)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        got = gc.collect()
        times.append(time.perf_counter() - t0)
        assert got == 0, got
    del keep, prev
    return statistics.median(times)


def garbage_cycle(n, runs):
    times = []
    for _ in range(runs):
        first = prev = Node(0, None)
        for i in range(1, n):
            prev = Node(i, prev)
        first.next = prev
        del first, prev
        t0 = time.perf_counter()
        got = gc.collect()
        times.append(time.perf_counter() - t0)
        assert got == n, got
    return statistics.median(times)


def create_destroy(n, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(n):
            Node(None, None)
        times.append((time.perf_counter() - t0) / n)
    return statistics.median(times)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    # The interpreter's own objects go to the permanent generation, so that each collection
    # examines the shape and nothing else (as in bench_gc.c); automatic collections are off while
    # the shapes are built.
    gc.collect()
    gc.freeze()
    gc.disable()
    print(f"full_collection_1M_live {full_collection_live(n, runs):.6f}")
    print(f"collect_1M_garbage_cycle {garbage_cycle(n, runs):.6f}")
    print(f"create_destroy_per_object {create_destroy(n * 5, runs):.9f}")


if __name__ == "__main__":
    main()
