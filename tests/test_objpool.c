/* test_objpool.c: the seed's ObjectPool: reuse, max size, hit/miss counts against a model of
 * random acquire/release sequences, and the pool as a collectable object of its heap. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "hm.h"

#define HEAP_SUITE objpool
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

static hm_objpool_stats pool_stats(const hm_object *pool)
{
    hm_objpool_stats st;
    cr_assert_eq(hm_objpool_get_stats(pool, &st), HM_OK);
    return st;
}

/* pool = ObjectPool(lambda: [], max_size=5); obj = pool.acquire(); pool.release(obj) */
HEAP_TEST(the_seed_usage)
{
    made = 0;
    hm_object *pool = hm_objpool_new(h, new_list, NULL, 5);
    cr_assert_not_null(pool);
    cr_assert(hm_is(pool, &hm_objpool_type));
    hm_object *obj = hm_objpool_acquire(pool);
    cr_assert_not_null(obj);
    cr_assert(hm_is(obj, &hm_list_type));
    cr_assert_eq(made, 1);
    cr_assert_eq(hm_objpool_release(pool, obj), 1, "kept");
    cr_assert_eq(hm_objpool_len(pool), 1);
    hm_object *again = hm_objpool_acquire(pool);
    cr_assert_eq(again, obj, "the same object comes back");
    cr_assert_eq(made, 1, "no new object was made");
    cr_assert_eq(hm_object_refcount(again), 1, "the pool's reference became ours");
    hm_objpool_stats st = pool_stats(pool);
    cr_assert_eq(st.hits, 1);
    cr_assert_eq(st.misses, 1);
    cr_assert_eq(st.kept, 1);
    cr_assert_eq(st.size, 0);
    cr_assert_eq(st.max_size, 5);
    hm_decref(again);
    hm_decref(pool);
}

HEAP_TEST(a_full_pool_drops_what_is_released)
{
    hm_object *pool = hm_objpool_new(h, new_list, NULL, 5);
    hm_object *objs[7];
    for (int i = 0; i < 7; i++)
        objs[i] = hm_objpool_acquire(pool);
    size_t live = live_objects();
    for (int i = 0; i < 7; i++)
        cr_assert_eq(hm_objpool_release(pool, objs[i]), i < 5 ? 1 : 0);
    cr_assert_eq(live_objects(), live - 2, "the two dropped objects are freed");
    hm_objpool_stats st = pool_stats(pool);
    cr_assert_eq(st.size, 5);
    cr_assert_eq(st.kept, 5);
    cr_assert_eq(st.dropped, 2);
    char label[HM_LABEL_MAX];
    hm_object_label(pool, label, sizeof label);
    cr_assert_str_eq(label, "ObjectPool[5/5]");
    /* Its buffer counts in its size, as a list's does. */
    cr_assert_geq(hm_object_size(pool), hm_objpool_type.basicsize + 5 * sizeof(hm_object *));
    hm_decref(pool);
    cr_assert_eq(live_objects(), live - 8, "the pool and what it kept are gone");
}

HEAP_TEST(max_size_zero_never_keeps)
{
    hm_object *pool = hm_objpool_new(h, new_list, NULL, 0);
    hm_object *o = hm_objpool_acquire(pool);
    cr_assert_eq(hm_objpool_release(pool, o), 0);
    cr_assert_eq(hm_objpool_len(pool), 0);
    hm_decref(pool);
}

HEAP_TEST(bad_arguments)
{
    cr_assert_null(hm_objpool_new(h, NULL, NULL, 3));
    cr_assert_null(hm_objpool_new(NULL, new_list, NULL, 3));
    hm_object *pool = hm_objpool_new(h, fail, NULL, 3);
    cr_assert_null(hm_objpool_acquire(pool), "the factory failed");
    cr_assert_eq(pool_stats(pool).misses, 1);
    hm_object *l = hm_list_new(h);
    cr_assert_eq(hm_objpool_release(pool, NULL), HM_EINVAL);
    cr_assert_eq(hm_objpool_release(l, l), HM_EINVAL, "not a pool");
    cr_assert_null(hm_objpool_acquire(l));
    hm_heap *other = hm_heap_new();
    hm_object *foreign = hm_list_new(other);
    cr_assert_eq(hm_objpool_release(pool, foreign), HM_EINVAL, "another heap's object");
    cr_assert_eq(hm_object_refcount(foreign), 1, "an error takes no reference");
    hm_decref(foreign);
    cr_assert_eq(hm_heap_destroy(other, NULL), 0);
    hm_objpool_stats st;
    cr_assert_eq(hm_objpool_get_stats(l, &st), HM_EINVAL);
    cr_assert_eq(hm_objpool_len(l), 0);
    hm_decref(l);
    hm_decref(pool);
}

/* The model: a stack bounded by max_size; a hit iff it is not empty. */
HEAP_TEST(random_sequences_match_the_model)
{
    srand(5);
    for (size_t max = 0; max < 12; max++) {
        made = 0;
        hm_object *pool = hm_objpool_new(h, new_list, NULL, max);
        hm_object *out[64];
        size_t nout = 0, model = 0;
        uint64_t hits = 0, misses = 0, kept = 0, dropped = 0;
        for (int step = 0; step < 3000; step++) {
            if ((rand() % 2 && nout < 64) || nout == 0) {
                hm_object *o = hm_objpool_acquire(pool);
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
                int r = hm_objpool_release(pool, out[i]);
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
            cr_assert_eq(hm_objpool_len(pool), model);
        }
        hm_objpool_stats st = pool_stats(pool);
        cr_assert_eq(st.hits, hits);
        cr_assert_eq(st.misses, misses);
        cr_assert_eq(st.kept, kept);
        cr_assert_eq(st.dropped, dropped);
        cr_assert_eq((uint64_t)made, misses, "the factory runs once per miss");
        while (nout)
            hm_decref(out[--nout]);
        hm_decref(pool);
    }
}

/* The pool is a container of its heap: its objects are its referents, and a cycle through it is
 * collected. */
HEAP_TEST(the_pool_is_a_collectable_object)
{
    hm_gc_disable(h);
    hm_object *pool = hm_objpool_new(h, new_list, NULL, 4);
    hm_object *a = hm_objpool_acquire(pool), *b = hm_objpool_acquire(pool);
    hm_list_append(a, pool); /* the pooled list refers back to the pool: a cycle */
    hm_objpool_release(pool, a);
    hm_objpool_release(pool, b);
    hm_object *refs = hm_gc_get_referents(pool);
    cr_assert_eq(hm_list_len(refs), 2);
    cr_assert_eq(hm_list_get(refs, 0), a);
    hm_decref(refs);
    cr_assert(hm_gc_is_tracked(pool));
    hm_decref(pool);
    cr_assert_eq(hm_gc_collect(h, HM_GC_FULL, NULL), 3, "pool, a and b");
    cr_assert_eq(live_objects(), 0);
}

/* A pool avoids the allocator: acquiring and releasing the same object makes nothing new. */
HEAP_TEST(reuse_makes_no_new_objects)
{
    hm_object *pool = hm_objpool_new(h, new_list, NULL, 2);
    hm_object *o = hm_objpool_acquire(pool);
    hm_objpool_release(pool, o);
    hm_heap_stats before, after;
    hm_heap_get_stats(h, &before);
    for (int i = 0; i < 1000; i++)
        hm_objpool_release(pool, hm_objpool_acquire(pool));
    hm_heap_get_stats(h, &after);
    cr_assert_eq(after.allocations, before.allocations);
    cr_assert_eq(pool_stats(pool).hits, 1000);
    hm_decref(pool);
}
