/* list.c: the list type: a growable array of references. */
#include <stdio.h>
#include <string.h>

#include "runtime/internal.h"

typedef struct list_obj {
    hm_object base;
    hm_object **items;
    size_t len, cap;
} list_obj;

#define L(o) ((list_obj *)(o))
#define CL(o) ((const list_obj *)(o))

static int list_traverse(hm_object *self, hm_visit_fn visit, void *arg)
{
    list_obj *l = L(self);
    for (size_t i = 0; i < l->len; i++)
        HM_VISIT(l->items[i], HM_EDGE_AT(i));
    return 0;
}

/* The array is detached before any decref: a finalizer run by one of them may use this list. */
static void list_clear(hm_object *self)
{
    list_obj *l = L(self);
    hm_object **items = l->items;
    size_t len = l->len, cap = l->cap;
    l->items = NULL;
    l->len = l->cap = 0;
    for (size_t i = 0; i < len; i++)
        hm_xdecref(items[i]);
    hm__free(hm__heap_of(self), items, cap * sizeof *items);
}

static void list_release(hm_object *self)
{
    list_obj *l = L(self);
    hm__free(hm__heap_of(self), l->items, l->cap * sizeof *l->items);
    l->items = NULL;
    l->len = l->cap = 0;
}

static size_t list_extra_size(const hm_object *self) { return CL(self)->cap * sizeof(hm_object *); }

static int list_label(const hm_object *self, char *buf, size_t size)
{
    return snprintf(buf, size, "list[%zu]", CL(self)->len);
}

const hm_type hm_list_type = {
    .name = "list",
    .basicsize = sizeof(list_obj),
    .flags = HM_TYPE_GC,
    .traverse = list_traverse,
    .clear = list_clear,
    .release = list_release,
    .extra_size = list_extra_size,
    .label = list_label,
};

hm_object *hm_list_new(hm_heap *h) { return hm_object_new(h, &hm_list_type); }

size_t hm_list_len(const hm_object *list)
{
    assert(list->type == &hm_list_type);
    return CL(list)->len;
}

int hm_list_append(hm_object *list, hm_object *item)
{
    if (!list || !item || list->type != &hm_list_type)
        return HM_EINVAL;
    list_obj *l = L(list);
    if (l->len == l->cap) {
        size_t cap = l->cap + l->cap / 2 + 4;
        hm_object **items = hm__realloc(hm__heap_of(list), l->items, l->cap * sizeof *items, cap * sizeof *items);
        if (!items)
            return HM_ENOMEM;
        l->items = items;
        l->cap = cap;
    }
    l->items[l->len++] = hm_incref(item);
    return HM_OK;
}

hm_object *hm_list_get(const hm_object *list, size_t i)
{
    assert(list->type == &hm_list_type);
    return i < CL(list)->len ? CL(list)->items[i] : NULL;
}

int hm_list_set(hm_object *list, size_t i, hm_object *item)
{
    if (!list || !item || list->type != &hm_list_type)
        return HM_EINVAL;
    if (i >= L(list)->len)
        return HM_EINDEX;
    hm_setref(&L(list)->items[i], item);
    return HM_OK;
}

hm_object *hm_list_pop(hm_object *list, size_t i)
{
    if (!list || list->type != &hm_list_type)
        return NULL;
    list_obj *l = L(list);
    if (i >= l->len)
        return NULL;
    hm_object *item = l->items[i];
    memmove(&l->items[i], &l->items[i + 1], (l->len - i - 1) * sizeof *l->items);
    l->len--;
    return item; /* the list's reference becomes the caller's */
}

int hm_list_clear(hm_object *list)
{
    if (!list || list->type != &hm_list_type)
        return HM_EINVAL;
    list_clear(list);
    return HM_OK;
}
