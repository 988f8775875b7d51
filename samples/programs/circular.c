/* circular.c: a Node pair that points at itself leaks until the cycle collector finds it (the
 * seed's "Circular References" and "Garbage Collector" examples). Snapshots before and after
 * the collection: `heaptool cycles` finds the pair in the first, not in the second. */
#include "sample.h"

static const char *const node_slots[] = {"value", "next", NULL};
static hm_type *Node;

static hm_object *node(hm_heap *h, int64_t value)
{
    hm_object *n = hm_instance_new(h, Node), *v = hm_int_new(h, value);
    hm_instance_set(n, "value", v);
    hm_decref(v);
    return n;
}

static int count_node(hm_object *o, int generation, void *user)
{
    (void)generation;
    *(size_t *)user += hm_is(o, Node);
    return 0;
}

static size_t nodes_alive(hm_heap *h)
{
    size_t n = 0;
    hm_heap_foreach(h, count_node, &n);
    return n;
}

static void print_count(hm_heap *h)
{
    long c[HM_GC_GENERATIONS];
    hm_gc_get_count(h, c);
    printf("gc.get_count() -> (%ld, %ld, %ld)\n", c[0], c[1], c[2]);
}

int main(int argc, char **argv)
{
    sample_args(argc, argv);
    Node = hm_class_new(&(hm_class_spec){.name = "Node", .slots = node_slots});
    hm_heap *h = hm_heap_new();
    printf("gc.isenabled() -> %s\n", hm_gc_isenabled(h) ? "True" : "False");

    hm_object *a = node(h, 1), *b = node(h, 2);
    hm_instance_set(a, "next", b);
    hm_instance_set(b, "next", a); /* circular! */
    print_count(h);
    hm_decref(a); /* del a */
    hm_decref(b); /* del b */
    printf("del a, b: %zu Nodes still alive (each is referenced by the other)\n", nodes_alive(h));
    snapshot(h, "circular_before_collect");

    hm_gc_result res;
    int64_t n = hm_gc_collect(h, HM_GC_FULL, &res);
    printf("gc.collect() -> %lld\n", (long long)n);
    hm_gc_stats gs;
    hm_gc_get_stats(h, HM_GC_FULL, &gs);
    printf("gc.get_stats()[2] -> collections=%llu collected=%llu uncollectable=%llu\n",
           (unsigned long long)gs.collections, (unsigned long long)gs.collected,
           (unsigned long long)gs.uncollectable);
    printf("after the collection: %zu Nodes alive\n", nodes_alive(h));
    snapshot(h, "circular_after_collect");

    hm_gc_disable(h);
    hm_gc_enable(h);
    hm_heap_destroy(h, NULL);
    hm_class_free(Node);
    return 0;
}
