/* weakrefs.c: a weak reference and a weak-value cache (the seed's Resource and Cache examples).
 * Neither keeps its object alive: when the last strong reference goes, the Resource's __del__
 * runs and the weakref reads None, the cache entry vanishes. */
#include "sample.h"

static const char *const resource_slots[] = {"name", NULL};
static hm_type *Resource;

static void resource_del(hm_object *self)
{
    printf("Deleting %s\n", hm_str_data(hm_instance_get(self, "name")));
}

static hm_object *resource(hm_heap *h, const char *name)
{
    hm_object *r = hm_instance_new(h, Resource), *s = hm_str_new(h, name);
    hm_instance_set(r, "name", s);
    hm_decref(s);
    return r;
}

/* print(weak()) */
static void print_deref(hm_object *weak)
{
    hm_object *o = hm_weakref_get(weak);
    if (!o) {
        printf("weak() -> None\n");
        return;
    }
    char label[HM_LABEL_MAX];
    hm_object_label(o, label, sizeof label);
    printf("weak() -> %s\n", label);
    hm_decref(o);
}

static void print_cached(hm_object *cache, const char *key)
{
    hm_object *o = hm_weakvaluemap_get_str(cache, key);
    char label[HM_LABEL_MAX] = "None";
    if (o)
        hm_object_label(o, label, sizeof label);
    printf("cache.get(\"%s\") -> %s  (%zu entries)\n", key, label, hm_weakvaluemap_len(cache));
    hm_xdecref(o);
}

int main(int argc, char **argv)
{
    sample_args(argc, argv);
    Resource = hm_class_new(
        &(hm_class_spec){.name = "Resource", .slots = resource_slots, .finalize = resource_del});
    hm_heap *h = hm_heap_new();

    hm_object *obj = resource(h, "strong");
    hm_object *weak = hm_weakref_new(obj, NULL, NULL);
    print_deref(weak);
    print_deref(weak);
    printf("refcount of obj: %zu (the weakref adds nothing)\n", hm_object_refcount(obj));
    snapshot(h, "weakref_alive");
    hm_decref(obj); /* del obj */
    print_deref(weak);
    hm_decref(weak);

    hm_object *cache = hm_weakvaluemap_new(h);
    hm_root_set(h, "cache", cache);
    hm_decref(cache);
    obj = resource(h, "cached");
    hm_weakvaluemap_set_str(cache, "key", obj);
    print_cached(cache, "key");
    snapshot(h, "cache_alive");
    hm_decref(obj); /* del obj */
    print_cached(cache, "key");
    snapshot(h, "cache_cleared");

    hm_heap_destroy(h, NULL);
    hm_class_free(Resource);
    return 0;
}
