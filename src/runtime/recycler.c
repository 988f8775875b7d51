/* recycler.c: objects kept for reuse instead of being made anew (what a program's ObjectPool class
 * does), with hit and miss counts. The recycler is an object of its heap, so the collector and
 * snapshots see the objects it keeps as its references. */
#include <stdio.h>

#include "runtime/internal.h"

typedef struct recycler_obj {
    hm_object base;
    hm_recycler_factory factory;
    void *user;
    size_t max_size;
    hm_object **items; /* a stack: the last released is the first acquired, as list.pop() */
    size_t len, cap;
    uint64_t hits, misses, kept, dropped;
} recycler_obj;

#define P(o) ((recycler_obj *)(o))
#define CP(o) ((const recycler_obj *)(o))

static int recycler_traverse(hm_object *self, hm_visit_fn visit, void *arg)
{
    recycler_obj *p = P(self);
    for (size_t i = 0; i < p->len; i++)
        HM_VISIT(p->items[i], HM_EDGE_AT(i));
    return 0;
}

/* The stack is emptied before any decref: a finalizer run by one may acquire from this recycler. */
static void recycler_clear(hm_object *self)
{
    recycler_obj *p = P(self);
    while (p->len > 0) {
        hm_object *o = p->items[--p->len];
        hm_decref(o);
    }
}

static void recycler_release_buffer(hm_object *self)
{
    recycler_obj *p = P(self);
    hm__free(hm__heap_of(self), p->items, p->cap * sizeof *p->items);
    p->items = NULL;
    p->len = p->cap = 0;
}

static size_t recycler_extra_size(const hm_object *self)
{
    return CP(self)->cap * sizeof(hm_object *);
}

static int recycler_label(const hm_object *self, char *buf, size_t size)
{
    return snprintf(buf, size, "Recycler[%zu/%zu]", CP(self)->len, CP(self)->max_size);
}

const hm_type hm_recycler_type = {
    .name = "Recycler",
    .basicsize = sizeof(recycler_obj),
    .flags = HM_TYPE_GC,
    .traverse = recycler_traverse,
    .clear = recycler_clear,
    .release = recycler_release_buffer,
    .extra_size = recycler_extra_size,
    .label = recycler_label,
};

hm_object *hm_recycler_new(hm_heap *h, hm_recycler_factory factory, void *user, size_t max_size)
{
    if (!h || !factory)
        return NULL;
    hm_object *o = hm_object_new(h, &hm_recycler_type);
    if (!o)
        return NULL;
    P(o)->factory = factory;
    P(o)->user = user;
    P(o)->max_size = max_size;
    return o;
}

static bool is_recycler(const hm_object *o) { return o && o->type == &hm_recycler_type; }

hm_object *hm_recycler_acquire(hm_object *recycler)
{
    if (!is_recycler(recycler))
        return NULL;
    recycler_obj *p = P(recycler);
    if (p->len > 0) {
        p->hits++;
        return p->items[--p->len]; /* the recycler's reference becomes the caller's */
    }
    p->misses++;
    return p->factory(hm__heap_of(recycler), p->user);
}

int hm_recycler_release(hm_object *recycler, hm_object *obj)
{
    if (!is_recycler(recycler) || !obj || hm__heap_of(obj) != hm__heap_of(recycler))
        return HM_EINVAL;
    recycler_obj *p = P(recycler);
    if (p->len >= p->max_size) {
        p->dropped++;
        hm_decref(obj);
        return 0;
    }
    if (p->len == p->cap) {
        /* Grows to max_size at most: a recycler of a million never used slots costs nothing. */
        size_t cap = p->cap + p->cap / 2 + 4;
        if (cap > p->max_size)
            cap = p->max_size;
        hm_object **items =
            hm__realloc(hm__heap_of(recycler), p->items, p->cap * sizeof *items, cap * sizeof *items);
        if (!items) { /* cannot keep it: dropping is what a full recycler does anyway */
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

size_t hm_recycler_len(const hm_object *recycler)
{
    return is_recycler(recycler) ? CP(recycler)->len : 0;
}

int hm_recycler_get_stats(const hm_object *recycler, hm_recycler_stats *out)
{
    if (!is_recycler(recycler) || !out)
        return HM_EINVAL;
    const recycler_obj *p = CP(recycler);
    *out = (hm_recycler_stats){.size = p->len, .max_size = p->max_size, .hits = p->hits,
                               .misses = p->misses, .kept = p->kept, .dropped = p->dropped};
    return HM_OK;
}
