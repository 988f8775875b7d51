/* test_recycler.c: objects kept for reuse: reuse, max size, hit/miss counts against a model of
 * random acquire/release sequences, and the recycler as a collectable object of its heap. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hm.h"

#define HEAP_SUITE recycler
#include "heap_test.h"

static size_t live_objects(void)
{
    hm_heap_stats st;
    hm_heap_get_stats(h, &st);
    return st.objects;
}

static int made;

/* lambda: [] */
static hm_object *new_list(hm_heap *heap, void *user)
{
    (void)user;
    made++;
    return hm_list_new(heap);
}

static hm_object *fail(hm_heap *heap, void *user)
{
    (void)heap;
    (void)user;
    return NULL;
}

static hm_recycler_stats stats_of(const hm_object *recycler)
{
    hm_recycler_stats st;
    cr_assert_eq(hm_recycler_get_stats(recycler, &st), HM_OK);
    return st;
}

/* recycler = ObjectPool(lambda: [], max_size=5); obj = recycler.acquire(); recycler.release(obj) */
HEAP_TEST(the_seed_usage)
{
    made = 0;
    hm_object *recycler = hm_recycler_new(h, new_list, NULL, 5);
    cr_assert_not_null(recycler);
    cr_assert(hm_is(recycler, &hm_recycler_type));
    hm_object *obj = hm_recycler_acquire(recycler);
    cr_assert_not_null(obj);
    cr_assert(hm_is(obj, &hm_list_type));
    cr_assert_eq(made, 1);
    cr_assert_eq(hm_recycler_release(recycler, obj), 1, "kept");
    cr_assert_eq(hm_recycler_len(recycler), 1);
    hm_object *again = hm_recycler_acquire(recycler);
    cr_assert_eq(again, obj, "the same object comes back");
    cr_assert_eq(made, 1, "no new object was made");
    cr_assert_eq(hm_object_refcount(again), 1, "the recycler's reference became ours");
    hm_recycler_stats st = stats_of(recycler);
    cr_assert_eq(st.hits, 1);
    cr_assert_eq(st.misses, 1);
    cr_assert_eq(st.kept, 1);
    cr_assert_eq(st.size, 0);
    cr_assert_eq(st.max_size, 5);
    hm_decref(again);
    hm_decref(recycler);
}

HEAP_TEST(a_full_recycler_drops_what_is_released)
{
    hm_object *recycler = hm_recycler_new(h, new_list, NULL, 5);
    hm_object *objs[7];
    for (int i = 0; i < 7; i++)
        objs[i] = hm_recycler_acquire(recycler);
    size_t live = live_objects();
    for (int i = 0; i < 7; i++)
        cr_assert_eq(hm_recycler_release(recycler, objs[i]), i < 5 ? 1 : 0);
    cr_assert_eq(live_objects(), live - 2, "the two dropped objects are freed");
    hm_recycler_stats st = stats_of(recycler);
    cr_assert_eq(st.size, 5);
    cr_assert_eq(st.kept, 5);
    cr_assert_eq(st.dropped, 2);
    char label[HM_LABEL_MAX];
    hm_object_label(recycler, label, sizeof label);
    cr_assert_str_eq(label, "Recycler[5/5]");
    /* Its buffer counts in its size, as a list's does. */
    cr_assert_geq(hm_object_size(recycler), hm_recycler_type.basicsize + 5 * sizeof(hm_object *));
    hm_decref(recycler);
    cr_assert_eq(live_objects(), live - 8, "the recycler and what it kept are gone");
}

HEAP_TEST(max_size_zero_never_keeps)
{
    hm_object *recycler = hm_recycler_new(h, new_list, NULL, 0);
    hm_object *o = hm_recycler_acquire(recycler);
    cr_assert_eq(hm_recycler_release(recycler, o), 0);
    cr_assert_eq(hm_recycler_len(recycler), 0);
    hm_decref(recycler);
}

HEAP_TEST(bad_arguments)
{
    cr_assert_null(hm_recycler_new(h, NULL, NULL, 3));
    cr_assert_null(hm_recycler_new(NULL, new_list, NULL, 3));
    hm_object *recycler = hm_recycler_new(h, fail, NULL, 3);
    cr_assert_null(hm_recycler_acquire(recycler), "the factory failed");
    cr_assert_eq(stats_of(recycler).misses, 1);
    hm_object *l = hm_list_new(h);
    cr_assert_eq(hm_recycler_release(recycler, NULL), HM_EINVAL);
    cr_assert_eq(hm_recycler_release(l, l), HM_EINVAL, "not a recycler");
    cr_assert_null(hm_recycler_acquire(l));
    hm_heap *other = hm_heap_new();
    hm_object *foreign = hm_list_new(other);
    cr_assert_eq(hm_recycler_release(recycler, foreign), HM_EINVAL, "another heap's object");
    cr_assert_eq(hm_object_refcount(foreign), 1, "an error takes no reference");
    hm_decref(foreign);
    cr_assert_eq(hm_heap_destroy(other, NULL), 0);
    hm_recycler_stats st;
    cr_assert_eq(hm_recycler_get_stats(l, &st), HM_EINVAL);
    cr_assert_eq(hm_recycler_len(l), 0);
    hm_decref(l);
    hm_decref(recycler);
}

/* The model: a stack bounded by max_size; a hit iff it is not empty. */
HEAP_TEST(random_sequences_match_the_model)
{
    srand(5);
    for (size_t max = 0; max < 12; max++) {
        made = 0;
        hm_object *recycler = hm_recycler_new(h, new_list, NULL, max);
        hm_object *out[64];
        size_t nout = 0, model = 0;
        uint64_t hits = 0, misses = 0, kept = 0, dropped = 0;
        for (int step = 0; step < 3000; step++) {
            if ((rand() % 2 && nout < 64) || nout == 0) {
                hm_object *o = hm_recycler_acquire(recycler);
                cr_assert_not_null(o);
                if (model) {
                    model--;
                    hits++;
                } else {
                    misses++;
                }
                out[nout++] = o;
            } else {
                size_t i = (size_t)rand() % nout;
                int r = hm_recycler_release(recycler, out[i]);
                out[i] = out[--nout];
                if (model < max) {
                    model++;
                    kept++;
                    cr_assert_eq(r, 1);
                } else {
                    dropped++;
                    cr_assert_eq(r, 0);
                }
            }
            cr_assert_eq(hm_recycler_len(recycler), model);
        }
        hm_recycler_stats st = stats_of(recycler);
        cr_assert_eq(st.hits, hits);
        cr_assert_eq(st.misses, misses);
        cr_assert_eq(st.kept, kept);
        cr_assert_eq(st.dropped, dropped);
        cr_assert_eq((uint64_t)made, misses, "the factory runs once per miss");
        while (nout)
            hm_decref(out[--nout]);
        hm_decref(recycler);
    }
}

/* The recycler is a container of its heap: its objects are its referents, and a cycle through it is
 * collected. */
HEAP_TEST(the_recycler_is_a_collectable_object)
{
    hm_gc_disable(h);
    hm_object *recycler = hm_recycler_new(h, new_list, NULL, 4);
    hm_object *a = hm_recycler_acquire(recycler), *b = hm_recycler_acquire(recycler);
    hm_list_append(a, recycler); /* the kept list refers back to the recycler: a cycle */
    hm_recycler_release(recycler, a);
    hm_recycler_release(recycler, b);
    hm_object *refs = hm_gc_get_referents(recycler);
    cr_assert_eq(hm_list_len(refs), 2);
    cr_assert_eq(hm_list_get(refs, 0), a);
    hm_decref(refs);
    cr_assert(hm_gc_is_tracked(recycler));
    hm_decref(recycler);
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, NULL), 3, "recycler, a and b");
    cr_assert_eq(live_objects(), 0);
}

/* A recycler avoids the allocator: acquiring and releasing the same object makes nothing new. */
HEAP_TEST(reuse_makes_no_new_objects)
{
    hm_object *recycler = hm_recycler_new(h, new_list, NULL, 2);
    hm_object *o = hm_recycler_acquire(recycler);
    hm_recycler_release(recycler, o);
    hm_heap_stats before, after;
    hm_heap_get_stats(h, &before);
    for (int i = 0; i < 1000; i++)
        hm_recycler_release(recycler, hm_recycler_acquire(recycler));
    hm_heap_get_stats(h, &after);
    cr_assert_eq(after.allocations, before.allocations);
    cr_assert_eq(stats_of(recycler).hits, 1000);
    hm_decref(recycler);
}
