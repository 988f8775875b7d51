/* slots_vs_dict.c: what __slots__ saves. One class, Point(x, y), in Python's two layouts: the
 * attributes in named slots inside the instance, or in a __dict__ the instance owns. One instance
 * as sys.getsizeof() sees it, then N of each measured three ways that must agree (the sizes the
 * objects report, the bytes the heap took, the blocks the allocator handed out), then the pools
 * as sys._debugmallocstats() prints them while both sets are alive. Exits 1 if the measures
 * disagree. */
#include <stdio.h>
#include <stdlib.h>

#include "sample.h"

enum { N = 10000 };

/* What a set of points cost, seen from three places. */
typedef struct cost {
    size_t reported;  /* the sum of hm_instance_size(): getsizeof of each point and its __dict__ */
    size_t heap;      /* growth of the heap's byte counter: every request, as asked */
    size_t allocator; /* growth of the blocks handed out, each rounded up to its size class */
    size_t blocks;
} cost;

static void allocator_totals(const hm_heap *h, size_t *bytes, size_t *blocks)
{
    hm_pool_stats st;
    hm_pool_get_stats(h, &st);
    *bytes = st.bytes_in_allocated_blocks + st.large_bytes;
    *blocks = st.large_blocks;
    for (int i = 0; i < HM_POOL_CLASSES; i++)
        *blocks += st.classes[i].blocks_in_use;
}

static cost make_points(hm_heap *h, const hm_type *cls, hm_object **out, hm_object *x, hm_object *y)
{
    hm_heap_stats before, after;
    size_t bytes0, blocks0, bytes1, blocks1;
    hm_heap_get_stats(h, &before);
    allocator_totals(h, &bytes0, &blocks0);
    cost c = {0};
    for (size_t i = 0; i < N; i++) {
        out[i] = hm_instance_new(h, cls);
        if (!out[i] || hm_instance_set(out[i], "x", x) != HM_OK || hm_instance_set(out[i], "y", y) != HM_OK) {
            fprintf(stderr, "slots_vs_dict: out of memory\n");
            exit(1);
        }
        c.reported += hm_instance_size(out[i]);
    }
    hm_heap_get_stats(h, &after);
    allocator_totals(h, &bytes1, &blocks1);
    c.heap = after.bytes - before.bytes;
    c.allocator = bytes1 - bytes0;
    c.blocks = blocks1 - blocks0;
    return c;
}

/* 1234567 -> "1,234,567" */
static const char *commas(size_t v, char buf[32])
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%zu", v), j = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[j++] = ',';
        buf[j++] = tmp[i];
    }
    buf[j] = '\0';
    return buf;
}

static void row(const char *layout, const cost *c)
{
    char a[32], b[32], d[32], e[32];
    printf("  %-10s %14s %14s %14s %10s\n", layout, commas(c->reported, a), commas(c->heap, b),
           commas(c->allocator, d), commas(c->blocks, e));
}

int main(int argc, char **argv)
{
    sample_args(argc, argv);
    hm_type *Slots = hm_class_new(&(hm_class_spec){.name = "SlotsPoint", .slots = (const char *const[]){"x", "y", NULL}});
    hm_type *Dict = hm_class_new(&(hm_class_spec){.name = "DictPoint"});
    hm_heap *h = hm_heap_new();
    hm_object **slots = malloc(N * sizeof *slots), **dicts = malloc(N * sizeof *dicts);
    if (!Slots || !Dict || !h || !slots || !dicts)
        return 1;
    hm_object *x = hm_int_new(h, 1), *y = hm_int_new(h, 2); /* cached small ints: shared */
    /* The attribute names are interned once, by the first __dict__ instance: made now, so that
     * the sets below cost only their points. */
    hm_object *first = hm_instance_new(h, Dict);
    hm_instance_set(first, "x", x);
    hm_instance_set(first, "y", y);
    hm_object *one_slots = hm_instance_new(h, Slots);
    hm_instance_set(one_slots, "x", x);
    hm_instance_set(one_slots, "y", y);

    printf("class SlotsPoint: __slots__ = ('x', 'y')\n");
    printf("class DictPoint:  (attributes in a __dict__)\n\n");
    printf("sys.getsizeof(SlotsPoint(1, 2))                        = %4zu bytes\n", hm_object_size(one_slots));
    printf("sys.getsizeof(DictPoint(1, 2))                         = %4zu bytes\n", hm_object_size(first));
    printf("  + sys.getsizeof(its __dict__)                        = %4zu bytes\n",
           hm_object_size(hm_instance_dict(first)));
    printf("  = what one DictPoint costs                           = %4zu bytes\n\n", hm_instance_size(first));

    cost s = make_points(h, Slots, slots, x, y);
    cost d = make_points(h, Dict, dicts, x, y);
    char a[32];
    printf("%s points of each layout, in bytes:\n", commas(N, a));
    printf("  %-10s %14s %14s %14s %10s\n", "layout", "getsizeof", "heap", "allocator", "blocks");
    row("__slots__", &s);
    row("__dict__", &d);
    printf("__slots__ saves %s bytes, %zu%% of the __dict__ layout.\n", commas(d.reported - s.reported, a),
           (d.reported - s.reported) * 100 / d.reported);
    printf("(getsizeof: the sum of each point's size and its __dict__'s; heap: what the heap's byte\n"
           " counter grew by; allocator: the blocks handed out, each rounded up to its 16-byte class)\n\n");

    printf("sys._debugmallocstats(), both sets alive:\n");
    hm_pool_print_stats(h, stdout);
    snapshot(h, "slots_vs_dict");

    /* The three measures are independent: a size that lied would show here. */
    int status = 0;
    const cost *both[] = {&s, &d};
    for (int i = 0; i < 2; i++)
        if (both[i]->reported != both[i]->heap || both[i]->allocator < both[i]->heap ||
            both[i]->allocator >= both[i]->heap + 16 * both[i]->blocks) {
            fprintf(stderr, "slots_vs_dict: the measures of the %s layout disagree\n", i ? "__dict__" : "__slots__");
            status = 1;
        }

    for (size_t i = 0; i < N; i++) {
        hm_decref(slots[i]);
        hm_decref(dicts[i]);
    }
    hm_decref(first);
    hm_decref(one_slots);
    free(slots);
    free(dicts);
    if (hm_heap_destroy(h, NULL) != 0)
        status = 1;
    hm_class_free(Slots);
    hm_class_free(Dict);
    return status;
}
