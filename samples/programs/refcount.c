/* refcount.c: reference counts as names are bound and unbound (the seed's sys.getrefcount
 * example). libhm reports the true count; Python's getrefcount shows one more, for its own
 * argument. */
#include "sample.h"

int main(int argc, char **argv)
{
    sample_args(argc, argv);
    hm_heap *h = hm_heap_new();

    hm_object *a = hm_list_new(h); /* a = [] */
    hm_root_set(h, "a", a);        /* the name a, as a module global */
    hm_decref(a);
    printf("a = []     refcount %zu  (bound to a)\n", hm_object_refcount(a));

    hm_object *b = hm_incref(a); /* b = a */
    hm_root_set(h, "b", b);
    hm_decref(b);
    printf("b = a      refcount %zu  (a and b)\n", hm_object_refcount(a));
    snapshot(h, "refcount_bound_twice");

    hm_root_remove(h, "b"); /* del b */
    printf("del b      refcount %zu  (back to a)\n", hm_object_refcount(a));

    hm_root_remove(h, "a"); /* del a: the count reaches 0 and the list is freed at once */
    hm_heap_stats st;
    hm_heap_get_stats(h, &st);
    printf("del a      live objects %zu  (freed by reference counting, no collection)\n", st.objects);
    hm_heap_destroy(h, NULL);
    return 0;
}
