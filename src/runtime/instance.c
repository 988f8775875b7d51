/* instance.c: user classes and their instances, in Python's two layouts: named slots stored in
 * the instance (__slots__), or an attribute dict the instance owns (__dict__). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/internal.h"

typedef struct class_obj {
    hm_type type; /* first, so that an instance's type is its class */
    char *name;
    size_t nslots;
    char **slot_names;
    bool has_dict;
} class_obj;

typedef struct slots_instance {
    hm_object base;
    hm_object *slots[];
} slots_instance;

typedef struct dict_instance {
    hm_object base;
    hm_object *dict;
} dict_instance;

#define CLS(o) ((const class_obj *)(o)->type)
#define SLOTS(o) (((slots_instance *)(o))->slots)
#define CSLOTS(o) (((const slots_instance *)(o))->slots)

int hm__instance_traverse(hm_object *self, hm_visit_fn visit, void *arg)
{
    const class_obj *c = CLS(self);
    if (c->has_dict) {
        HM_VISIT(((dict_instance *)self)->dict, HM_EDGE_NAMED("__dict__"));
        return 0;
    }
    /* Locals, not reloads after every call: this loop is a collection's inner loop. */
    hm_object **slots = SLOTS(self);
    char *const *names = c->slot_names;
    for (size_t i = 0, n = c->nslots; i < n; i++)
        HM_VISIT(slots[i], HM_EDGE_NAMED(names[i]));
    return 0;
}

static void instance_clear(hm_object *self)
{
    const class_obj *c = CLS(self);
    if (c->has_dict) {
        hm_object *d = ((dict_instance *)self)->dict;
        ((dict_instance *)self)->dict = NULL;
        hm_xdecref(d);
        return;
    }
    for (size_t i = 0; i < c->nslots; i++) {
        hm_object *v = SLOTS(self)[i];
        SLOTS(self)[i] = NULL;
        hm_xdecref(v);
    }
}

/* "Name(a=1, b='x')": the int and str attributes, as far as they fit. */
static void append_attr(char *buf, size_t size, size_t *at, const char *name, const hm_object *v)
{
    if (!v || (v->type != &hm_int_type && v->type != &hm_str_type) || *at + 1 >= size)
        return;
    char val[HM_LABEL_MAX];
    hm_object_label(v, val, sizeof val);
    int r = snprintf(buf + *at, size - *at, "%s%s=%s", buf[*at - 1] == '(' ? "" : ", ", name, val);
    if (r > 0)
        *at += (size_t)r < size - *at ? (size_t)r : size - *at - 1;
}

static int instance_label(const hm_object *self, char *buf, size_t size)
{
    const class_obj *c = CLS(self);
    int r = snprintf(buf, size, "%s(", c->name);
    if (r < 0 || (size_t)r + 2 > size)
        return r;
    size_t at = (size_t)r;
    if (c->has_dict) {
        const hm_object *d = ((const dict_instance *)self)->dict;
        size_t pos = 0;
        hm_object *k, *v;
        while (d && hm_dict_next(d, &pos, &k, &v))
            if (k->type == &hm_str_type)
                append_attr(buf, size, &at, hm_str_data(k), v);
    } else {
        for (size_t i = 0; i < c->nslots; i++)
            append_attr(buf, size, &at, c->slot_names[i], CSLOTS(self)[i]);
    }
    if (at + 1 < size) {
        buf[at++] = ')';
        buf[at] = '\0';
    }
    return (int)at;
}

bool hm_is_instance(const hm_object *o) { return o->type->traverse == hm__instance_traverse; }

static bool is_class(const hm_type *t) { return t && t->traverse == hm__instance_traverse; }

void hm_class_free(hm_type *cls)
{
    if (!is_class(cls))
        return;
    class_obj *c = (class_obj *)cls;
    for (size_t i = 0; i < c->nslots; i++)
        free(c->slot_names[i]);
    free(c->slot_names);
    free(c->name);
    free(c);
}

hm_type *hm_class_new(const hm_class_spec *spec)
{
    if (!spec || !spec->name || (spec->flags & ~HM_TYPE_LEGACY_FINALIZER))
        return NULL;
    class_obj *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->type.traverse = hm__instance_traverse; /* from here on hm_class_free() can undo */
    c->has_dict = spec->slots == NULL;
    c->name = strdup(spec->name);
    if (!c->name)
        goto fail;
    if (spec->slots) {
        while (spec->slots[c->nslots])
            c->nslots++;
        c->slot_names = calloc(c->nslots ? c->nslots : 1, sizeof *c->slot_names);
        if (!c->slot_names)
            goto fail;
        for (size_t i = 0; i < c->nslots; i++) {
            c->slot_names[i] = strdup(spec->slots[i]);
            if (!c->slot_names[i]) {
                c->nslots = i;
                goto fail;
            }
        }
    }
    c->type.name = c->name;
    c->type.basicsize = c->has_dict ? sizeof(dict_instance)
                                    : sizeof(slots_instance) + c->nslots * sizeof(hm_object *);
    c->type.flags = HM_TYPE_GC | spec->flags;
    c->type.clear = instance_clear;
    c->type.finalize = spec->finalize;
    c->type.label = spec->label ? spec->label : instance_label;
    return &c->type;
fail:
    hm_class_free(&c->type);
    return NULL;
}

hm_object *hm_instance_new(hm_heap *h, const hm_type *cls)
{
    if (!is_class(cls))
        return NULL;
    hm_object *o = hm_object_new(h, cls);
    if (!o || !CLS(o)->has_dict)
        return o;
    hm_object *d = hm_dict_new(h);
    if (!d) {
        hm_decref(o);
        return NULL;
    }
    ((dict_instance *)o)->dict = d;
    return o;
}

int hm_class_slot_index(const hm_type *cls, const char *attr)
{
    if (!is_class(cls) || !attr)
        return -1;
    const class_obj *c = (const class_obj *)cls;
    for (size_t i = 0; i < c->nslots; i++)
        if (strcmp(c->slot_names[i], attr) == 0)
            return (int)i;
    return -1;
}

int hm_instance_set_slot(hm_object *self, size_t index, hm_object *value)
{
    if (!self || !hm_is_instance(self))
        return HM_ETYPE;
    if (index >= CLS(self)->nslots)
        return HM_EATTR;
    hm_setref(&SLOTS(self)[index], value);
    return HM_OK;
}

hm_object *hm_instance_get_slot(const hm_object *self, size_t index)
{
    if (!hm_is_instance(self) || index >= CLS(self)->nslots)
        return NULL;
    return CSLOTS(self)[index];
}

int hm_instance_set(hm_object *self, const char *attr, hm_object *value)
{
    if (!self || !attr)
        return HM_EINVAL;
    if (!hm_is_instance(self))
        return HM_ETYPE;
    if (!CLS(self)->has_dict) {
        int i = hm_class_slot_index(self->type, attr);
        return i < 0 ? HM_EATTR : hm_instance_set_slot(self, (size_t)i, value);
    }
    dict_instance *inst = (dict_instance *)self;
    if (!value) {
        if (!inst->dict)
            return HM_EATTR;
        return hm_dict_del_str(inst->dict, attr) == HM_OK ? HM_OK : HM_EATTR;
    }
    if (!inst->dict) { /* cleared by the collector, then resurrected and used again */
        inst->dict = hm_dict_new(hm__heap_of(self));
        if (!inst->dict)
            return HM_ENOMEM;
    }
    /* Attribute names are interned, as CPython does: every instance shares the key objects. */
    hm_object *key = hm_str_intern(hm__heap_of(self), attr);
    if (!key)
        return HM_ENOMEM;
    return hm_dict_set(inst->dict, key, value);
}

hm_object *hm_instance_get(const hm_object *self, const char *attr)
{
    if (!self || !attr || !hm_is_instance(self))
        return NULL;
    if (!CLS(self)->has_dict) {
        int i = hm_class_slot_index(self->type, attr);
        return i < 0 ? NULL : CSLOTS(self)[i];
    }
    const hm_object *d = ((const dict_instance *)self)->dict;
    return d ? hm_dict_get_str(d, attr) : NULL;
}

hm_object *hm_instance_dict(const hm_object *self)
{
    if (!hm_is_instance(self) || !CLS(self)->has_dict)
        return NULL;
    return ((const dict_instance *)self)->dict;
}

size_t hm_instance_size(const hm_object *self)
{
    hm_object *d = hm_instance_dict(self);
    return hm_object_size(self) + (d ? hm_object_size(d) : 0);
}
