/* object_pool.c: reusing objects instead of making new ones (the seed's ObjectPool, with
 * factory lambda: [] and max_size=5). Released lists wait in the pool for the next acquire;
 * beyond max_size a released object is simply dropped. */
#include "sample.h"

static hm_object *new_list(hm_heap *h, void *user)
{
    (void)user;
    return hm_list_new(h);
}

static void print_stats(hm_object *pool)
{
    hm_objpool_stats s;
    hm_objpool_get_stats(pool, &s);
    printf("  pool: %zu waiting (max %zu), %llu hits, %llu misses, %llu kept, %llu dropped\n", s.size,
           s.max_size, (unsigned long long)s.hits, (unsigned long long)s.misses,
           (unsigned long long)s.kept, (unsigned long long)s.dropped);
}

int main(int argc, char **argv)
{
    sample_args(argc, argv);
    hm_heap *h = hm_heap_new();
    hm_object *pool = hm_objpool_new(h, new_list, NULL, 5);
    hm_root_set(h, "pool", pool);
    hm_decref(pool);

    printf("obj = pool.acquire()     (empty pool: the factory makes one)\n");
    hm_object *obj = hm_objpool_acquire(pool);
    uint64_t first_id = hm_object_id(obj);
    printf("pool.release(obj)\n");
    hm_objpool_release(pool, obj); /* the pool takes the reference */
    hm_object *again = hm_objpool_acquire(pool);
    printf("obj2 = pool.acquire()    (the same list again: %s)\n",
           hm_object_id(again) == first_id ? "True" : "False");
    print_stats(pool);

    printf("acquire 8 lists, release all 8\n");
    hm_object *held[8];
    for (int i = 0; i < 8; i++)
        held[i] = hm_objpool_acquire(pool);
    hm_objpool_release(pool, again);
    for (int i = 0; i < 8; i++)
        hm_objpool_release(pool, held[i]);
    print_stats(pool);
    snapshot(h, "object_pool");

    hm_heap_destroy(h, NULL);
    return 0;
}
