/* bench_gc.c: libhm's collector and object costs on the shapes tests/bench/gc_cpython.py builds
 * in CPython: a full collection over 1M live tracked objects, the collection of one 1M-object
 * garbage cycle, create/destroy and incref/decref rates. Prints "name seconds" lines (medians);
 * tests/bench/run_gc.sh puts them side by side with CPython's.
 * Usage: bench_gc [N [RUNS [ONLY]]], ONLY a prefix of the names to run (for profiling). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hm.h"
#include "timing.h"

static void die(const char *what)
{
    fprintf(stderr, "bench_gc: %s\n", what);
    exit(1);
}

/* class Node: __slots__ = ('value', 'next') */
static const hm_type *Node;

static hm_object *node(hm_heap *h, int64_t value, hm_object *next)
{
    hm_object *n = hm_instance_new(h, Node);
    hm_object *v = hm_int_new(h, value);
    if (!n || !v)
        die("out of memory");
    hm_instance_set_slot(n, 0, v);
    hm_instance_set_slot(n, 1, next);
    hm_decref(v);
    return n;
}

/* keep = [Node(i, previous) for i in range(n)]: n+1 live tracked objects; time gc.collect(). */
static double full_collection_live(long n, int runs)
{
    hm_heap *h = hm_heap_new();
    hm_gc_disable(h);
    hm_object *keep = hm_list_new(h), *prev = NULL;
    for (long i = 0; i < n; i++) {
        hm_object *x = node(h, i, prev);
        hm_list_append(keep, x);
        hm_decref(x);
        prev = x;
    }
    double t[64];
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        if (hm_gc_collect(h, HM_GC_FULL, NULL) != 0)
            die("live objects collected");
        t[r] = now() - t0;
    }
    hm_decref(keep);
    hm_heap_destroy(h, NULL);
    return median(t, runs);
}

/* A ring of n nodes, dropped: time the gc.collect() that finds and frees it. */
static double garbage_cycle(long n, int runs)
{
    double t[64];
    for (int r = 0; r < runs; r++) {
        hm_heap *h = hm_heap_new();
        hm_gc_disable(h);
        hm_object *first = node(h, 0, NULL), *prev = first;
        for (long i = 1; i < n; i++) {
            hm_object *x = node(h, i, prev);
            if (prev != first)
                hm_decref(prev);
            prev = x;
        }
        hm_instance_set_slot(first, 1, prev); /* close the ring */
        hm_decref(prev);
        hm_decref(first);
        double t0 = now();
        int64_t got = hm_gc_collect(h, HM_GC_FULL, NULL);
        t[r] = now() - t0;
        if (got != n)
            die("the ring was not collected");
        hm_heap_destroy(h, NULL);
    }
    return median(t, runs);
}

/* Node(None, None) made and dropped, per object. */
static double create_destroy(long n, int runs)
{
    hm_heap *h = hm_heap_new();
    double t[64];
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        for (long i = 0; i < n; i++) {
            hm_object *x = hm_instance_new(h, Node);
            hm_decref(x);
        }
        t[r] = (now() - t0) / (double)n;
    }
    hm_heap_destroy(h, NULL);
    return median(t, runs);
}

/* One incref plus one decref, per pair, over an array of n live objects (no compiler tricks:
 * each pass touches every object). */
static double incref_decref(long n, int runs)
{
    hm_heap *h = hm_heap_new();
    hm_object **objs = malloc((size_t)n * sizeof *objs);
    if (!objs)
        die("out of memory");
    for (long i = 0; i < n; i++)
        objs[i] = hm_list_new(h);
    double t[64];
    long passes = 10000000 / n; /* same number of pairs, hot in cache or streaming from memory */
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        for (long p = 0; p < passes; p++) {
            for (long i = 0; i < n; i++)
                hm_incref(objs[i]);
            __asm__ volatile("" ::: "memory");
            for (long i = 0; i < n; i++)
                hm_decref(objs[i]);
            __asm__ volatile("" ::: "memory");
        }
        t[r] = (now() - t0) / ((double)n * (double)passes);
    }
    for (long i = 0; i < n; i++)
        hm_decref(objs[i]);
    free(objs);
    hm_heap_destroy(h, NULL);
    return median(t, runs);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000000;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    if (n < 2 || n > 10000000 || runs < 1 || runs > 64)
        die("usage: bench_gc [N>=2 [RUNS 1..64]]");
    hm_type *cls = hm_class_new(&(hm_class_spec){.name = "Node", .slots = (const char *const[]){"value", "next", NULL}});
    if (!cls)
        die("out of memory");
    Node = cls;
    const char *only = argc > 3 ? argv[3] : "";
#define RUN(name, expr) \
    if (strncmp(name, only, strlen(only)) == 0) \
        printf("%s %.9f\n", name, expr)
    RUN("full_collection_1M_live", full_collection_live(n, runs));
    RUN("collect_1M_garbage_cycle", garbage_cycle(n, runs));
    RUN("create_destroy_per_object", create_destroy(n * 5, runs));
    RUN("incref_decref_per_pair_1M", incref_decref(n, runs));
    RUN("incref_decref_per_pair_hot", incref_decref(1, runs));
    hm_class_free(cls);
    return 0;
}
