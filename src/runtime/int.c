/* int.c: the int type, 64-bit, with CPython's small-int cache: -5..256 are one shared immortal
 * object per heap, made on first use, so that identity behaves as in Python. */
#include <inttypes.h>
#include <stdio.h>

#include "runtime/internal.h"

typedef struct int_obj {
    hm_object base;
    int64_t value;
} int_obj;

static int int_label(const hm_object *self, char *buf, size_t size)
{
    return snprintf(buf, size, "%" PRId64, ((const int_obj *)self)->value);
}

const hm_type hm_int_type = {
    .name = "int",
    .basicsize = sizeof(int_obj),
    .label = int_label,
};

static hm_object *int_make(hm_heap *h, int64_t value)
{
    hm_object *o = hm_object_new(h, &hm_int_type);
    if (o)
        ((int_obj *)o)->value = value;
    return o;
}

hm_object *hm_int_new(hm_heap *h, int64_t value)
{
    if (value < HM__SMALL_INT_MIN || value > HM__SMALL_INT_MAX)
        return int_make(h, value);
    hm_object **slot = &h->small_ints[value - HM__SMALL_INT_MIN];
    if (!*slot) {
        hm_object *o = int_make(h, value);
        if (!o)
            return NULL;
        hm_object_make_immortal(o);
        o->flags |= HM_FLAG_CACHED | HM__RUNTIME;
        *slot = o;
    }
    return *slot; /* immortal: the new reference costs nothing */
}

int64_t hm_int_value(const hm_object *o)
{
    assert(o->type == &hm_int_type);
    return ((const int_obj *)o)->value;
}
