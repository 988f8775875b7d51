/* recycler.c: reusing objects instead of making new ones, as a Python ObjectPool(factory=list,
 * max_size=5) would. Released lists wait in the recycler for the next acquire; beyond max_size a
 * released object is simply dropped. */
#include "sample.h"

static hm_object *new_list(hm_heap *h, void *user)
{
    (void)user;
    return hm_list_new(h);
}

static void print_stats(hm_object *recycler)
{
    hm_recycler_stats s;
    hm_recycler_get_stats(recycler, &s);
    printf("  recycler: %zu waiting (max %zu), %llu hits, %llu misses, %llu kept, %llu dropped\n",
           s.size, s.max_size, (unsigned long long)s.hits, (unsigned long long)s.misses,
           (unsigned long long)s.kept, (unsigned long long)s.dropped);
}

int main(int argc, char **argv)
{
    sample_args(argc, argv);
    hm_heap *h = hm_heap_new();
    hm_object *recycler = hm_recycler_new(h, new_list, NULL, 5);
    hm_root_set(h, "recycler", recycler);
    hm_decref(recycler);

    printf("obj = recycler.acquire()   (empty: the factory makes one)\n");
    hm_object *obj = hm_recycler_acquire(recycler);
    uint64_t first_id = hm_object_id(obj);
    printf("recycler.release(obj)\n");
    hm_recycler_release(recycler, obj); /* the recycler takes the reference */
    hm_object *again = hm_recycler_acquire(recycler);
    printf("obj2 = recycler.acquire()  (the same list again: %s)\n",
           hm_object_id(again) == first_id ? "True" : "False");
    print_stats(recycler);

    printf("acquire 8 lists, release all 8\n");
    hm_object *held[8];
    for (int i = 0; i < 8; i++)
        held[i] = hm_recycler_acquire(recycler);
    hm_recycler_release(recycler, again);
    for (int i = 0; i < 8; i++)
        hm_recycler_release(recycler, held[i]);
    print_stats(recycler);
    snapshot(h, "recycler");

    hm_heap_destroy(h, NULL);
    return 0;
}
