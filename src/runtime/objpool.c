/* objpool.c: the seed's ObjectPool: objects kept for reuse instead of being made anew, with hit
 * and miss counts. The pool is an object of its heap, so the collector and snapshots see the
 * objects it keeps as its references. */
#include <stdio.h>

#include "runtime/internal.h"

typedef struct objpool_obj {
    hm_object base;
    hm_objpool_factory factory;
    void *user;
    size_t max_size;
    hm_object **items; /* a stack: the last released is the first acquired, as list.pop() */
    size_t len, cap;
    uint64_t hits, misses, kept, dropped;
} objpool_obj;

#define P(o) ((objpool_obj *)(o))
#define CP(o) ((const objpool_obj *)(o))

static int objpool_traverse(hm_object *self, hm_visit_fn visit, void *arg)
{
    objpool_obj *p = P(self);
    for (size_t i = 0; i < p->len; i++)
        HM_VISIT(p->items[i], HM_EDGE_AT(i));
    return 0;
}

/* The stack is emptied before any decref: a finalizer run by one may acquire from this pool. */
static void objpool_clear(hm_object *self)
{
    objpool_obj *p = P(self);
    while (p->len > 0) {
        hm_object *o = p->items[--p->len];
        hm_decref(o);
    }
}

static void objpool_release_buffer(hm_object *self)
{
    objpool_obj *p = P(self);
    hm__free(hm__heap_of(self), p->items, p->cap * sizeof *p->items);
    p->items = NULL;
    p->len = p->cap = 0;
}

static size_t objpool_extra_size(const hm_object *self) { return CP(self)->cap * sizeof(hm_object *); }

static int objpool_label(const hm_object *self, char *buf, size_t size)
{
    return snprintf(buf, size, "ObjectPool[%zu/%zu]", CP(self)->len, CP(self)->max_size);
}

const hm_type hm_objpool_type = {
    .name = "ObjectPool",
    .basicsize = sizeof(objpool_obj),
    .flags = HM_TYPE_GC,
    .traverse = objpool_traverse,
    .clear = objpool_clear,
    .release = objpool_release_buffer,
    .extra_size = objpool_extra_size,
    .label = objpool_label,
};

hm_object *hm_objpool_new(hm_heap *h, hm_objpool_factory factory, void *user, size_t max_size)
{
    if (!h || !factory)
        return NULL;
    hm_object *o = hm_object_new(h, &hm_objpool_type);
    if (!o)
        return NULL;
    P(o)->factory = factory;
    P(o)->user = user;
    P(o)->max_size = max_size;
    return o;
}

static bool is_pool(const hm_object *o) { return o && o->type == &hm_objpool_type; }

hm_object *hm_objpool_acquire(hm_object *pool)
{
    if (!is_pool(pool))
        return NULL;
    objpool_obj *p = P(pool);
    if (p->len > 0) {
        p->hits++;
        return p->items[--p->len]; /* the pool's reference becomes the caller's */
    }
    p->misses++;
    return p->factory(hm__heap_of(pool), p->user);
}

int hm_objpool_release(hm_object *pool, hm_object *obj)
{
    if (!is_pool(pool) || !obj || hm__heap_of(obj) != hm__heap_of(pool))
        return HM_EINVAL;
    objpool_obj *p = P(pool);
    if (p->len >= p->max_size) {
        p->dropped++;
        hm_decref(obj);
        return 0;
    }
    if (p->len == p->cap) {
        /* Grows to max_size at most: a pool of a million never used slots costs nothing. */
        size_t cap = p->cap + p->cap / 2 + 4;
        if (cap > p->max_size)
            cap = p->max_size;
        hm_object **items = hm__realloc(hm__heap_of(pool), p->items, p->cap * sizeof *items, cap * sizeof *items);
        if (!items) { /* cannot keep it: dropping is what a full pool does anyway */
            p->dropped++;
            hm_decref(obj);
            return 0;
        }
        p->items = items;
        p->cap = cap;
    }
    p->items[p->len++] = obj;
    p->kept++;
    return 1;
}

size_t hm_objpool_len(const hm_object *pool) { return is_pool(pool) ? CP(pool)->len : 0; }

int hm_objpool_get_stats(const hm_object *pool, hm_objpool_stats *out)
{
    if (!is_pool(pool) || !out)
        return HM_EINVAL;
    const objpool_obj *p = CP(pool);
    *out = (hm_objpool_stats){.size = p->len, .max_size = p->max_size, .hits = p->hits,
                              .misses = p->misses, .kept = p->kept, .dropped = p->dropped};
    return HM_OK;
}
