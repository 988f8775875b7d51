/* interning.c: identity of small ints and interned strings (the seed's "Memory Pools"
 * examples). Ints from -5 to 256 are shared objects; strings are shared only when interned.
 * The snapshot lists the shared ones as roots of kind "cache" and "interned". */
#include "sample.h"

static void show(const char *what, hm_object *a, hm_object *b)
{
    printf("%-36s a is b -> %s\n", what, a == b ? "True" : "False");
}

int main(int argc, char **argv)
{
    sample_args(argc, argv);
    hm_heap *h = hm_heap_new();
    hm_object *keep = hm_list_new(h);
    hm_root_set(h, "keep", keep);
    hm_decref(keep);

    hm_object *a = hm_int_new(h, 100), *b = hm_int_new(h, 100);
    show("a = 100; b = 100", a, b);
    hm_list_append(keep, a);
    hm_decref(a);
    hm_decref(b);

    a = hm_int_new(h, 1000);
    b = hm_int_new(h, 1000);
    show("a = 1000; b = 1000", a, b);
    hm_list_append(keep, a);
    hm_list_append(keep, b);
    hm_decref(a);
    hm_decref(b);

    a = hm_str_new(h, "hello world");
    b = hm_str_new(h, "hello world");
    show("s1 = s2 = \"hello world\"", a, b);
    hm_decref(a);
    hm_decref(b);

    a = hm_str_intern(h, "hello world");
    b = hm_str_intern(h, "hello world");
    show("s1 = s2 = sys.intern(\"hello world\")", a, b);
    hm_list_append(keep, a);
    hm_decref(a);
    hm_decref(b);
    printf("interned strings: %zu\n", hm_intern_count(h));
    snapshot(h, "identity");

    hm_heap_destroy(h, NULL);
    return 0;
}
