/* tuple.c: the tuple type: a fixed number of references stored inline after the header. */
#include <stdarg.h>
#include <stdio.h>

#include "runtime/internal.h"

typedef struct tuple_obj {
    hm_object base;
    size_t len;
    hm_object *items[];
} tuple_obj;

#define T(o) ((tuple_obj *)(o))
#define CT(o) ((const tuple_obj *)(o))

static int tuple_traverse(hm_object *self, hm_visit_fn visit, void *arg)
{
    tuple_obj *t = T(self);
    for (size_t i = 0; i < t->len; i++)
        HM_VISIT(t->items[i], HM_EDGE_AT(i));
    return 0;
}

/* Each item is unhooked before its decref, so a finalizer never sees a dangling item. */
static void tuple_clear(hm_object *self)
{
    tuple_obj *t = T(self);
    for (size_t i = 0; i < t->len; i++) {
        hm_object *item = t->items[i];
        t->items[i] = NULL;
        hm_xdecref(item);
    }
}

static int tuple_label(const hm_object *self, char *buf, size_t size)
{
    return snprintf(buf, size, "tuple[%zu]", CT(self)->len);
}

static size_t tuple_var_size(const hm_object *self) { return CT(self)->len * sizeof(hm_object *); }

const hm_type hm_tuple_type = {
    .name = "tuple",
    .basicsize = sizeof(tuple_obj),
    .var_size = tuple_var_size,
    .flags = HM_TYPE_GC,
    .traverse = tuple_traverse,
    .clear = tuple_clear,
    .label = tuple_label,
};

hm_object *hm_tuple_new(hm_heap *h, size_t n, hm_object *const items[])
{
    if (n && !items)
        return NULL;
    for (size_t i = 0; i < n; i++)
        if (!items[i])
            return NULL;
    if (n > (SIZE_MAX - sizeof(tuple_obj)) / sizeof(hm_object *))
        return NULL;
    hm_object *o = hm_object_new_var(h, &hm_tuple_type, n * sizeof(hm_object *));
    if (!o)
        return NULL;
    tuple_obj *t = T(o);
    t->len = n;
    for (size_t i = 0; i < n; i++)
        t->items[i] = hm_incref(items[i]);
    return o;
}

#define PACK_MAX 16

hm_object *hm_tuple_pack(hm_heap *h, size_t n, ...)
{
    if (n > PACK_MAX)
        return NULL;
    hm_object *items[PACK_MAX] = {0};
    va_list ap;
    va_start(ap, n);
    for (size_t i = 0; i < n; i++)
        items[i] = va_arg(ap, hm_object *);
    va_end(ap);
    return hm_tuple_new(h, n, items);
}

size_t hm_tuple_len(const hm_object *tuple)
{
    assert(tuple->type == &hm_tuple_type);
    return CT(tuple)->len;
}

hm_object *hm_tuple_get(const hm_object *tuple, size_t i)
{
    assert(tuple->type == &hm_tuple_type);
    return i < CT(tuple)->len ? CT(tuple)->items[i] : NULL;
}
