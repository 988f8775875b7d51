/* str.c: the str type: immutable bytes stored inline after the header, NUL-terminated, with the
 * hash computed once at creation (dict keys and the interned table use it). */
#include <stdio.h>
#include <string.h>

#include "runtime/internal.h"

typedef struct str_obj {
    hm_object base;
    size_t len;
    uint64_t hash;
    char data[];
} str_obj;

#define LABEL_CHARS 60 /* characters of text shown in a label before "..." */

static int str_label(const hm_object *self, char *buf, size_t size)
{
    const str_obj *s = (const str_obj *)self;
    if (s->len <= LABEL_CHARS)
        return snprintf(buf, size, "'%s'", s->data);
    return snprintf(buf, size, "'%.*s...'", LABEL_CHARS, s->data);
}

static size_t str_var_size(const hm_object *self) { return ((const str_obj *)self)->len + 1; }

const hm_type hm_str_type = {
    .name = "str",
    .basicsize = sizeof(str_obj),
    .var_size = str_var_size,
    .label = str_label,
};

/* FNV-1a: short keys, cheap, good enough for open addressing with linear probing. */
uint64_t hm__str_hash(const char *s, size_t len)
{
    uint64_t x = 0xcbf29ce484222325u;
    for (size_t i = 0; i < len; i++) {
        x ^= (unsigned char)s[i];
        x *= 0x100000001b3u;
    }
    return x;
}

uint64_t hm__str_hash_of(const hm_object *o) { return ((const str_obj *)o)->hash; }

hm_object *hm_str_new_len(hm_heap *h, const char *s, size_t len)
{
    if (!s && len)
        return NULL;
    if (len >= SIZE_MAX - sizeof(str_obj))
        return NULL;
    hm_object *o = hm_object_new_var(h, &hm_str_type, len + 1);
    if (!o)
        return NULL;
    str_obj *so = (str_obj *)o;
    so->len = len;
    if (len)
        memcpy(so->data, s, len);
    so->data[len] = '\0';
    so->hash = hm__str_hash(so->data, len);
    return o;
}

hm_object *hm_str_new(hm_heap *h, const char *s) { return s ? hm_str_new_len(h, s, strlen(s)) : NULL; }

/* CPython's compiler interns constants made only of identifier characters. */
static bool identifier_like(const char *s)
{
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

hm_object *hm_str_const(hm_heap *h, const char *s)
{
    if (!s)
        return NULL;
    return identifier_like(s) ? hm_str_intern(h, s) : hm_str_new(h, s);
}

const char *hm_str_data(const hm_object *o)
{
    assert(o->type == &hm_str_type);
    return ((const str_obj *)o)->data;
}

size_t hm_str_len(const hm_object *o)
{
    assert(o->type == &hm_str_type);
    return ((const str_obj *)o)->len;
}

bool hm_str_equal(const hm_object *a, const hm_object *b)
{
    if (a == b)
        return true;
    if (a->type != &hm_str_type || b->type != &hm_str_type)
        return false;
    const str_obj *x = (const str_obj *)a, *y = (const str_obj *)b;
    return x->len == y->len && x->hash == y->hash && memcmp(x->data, y->data, x->len) == 0;
}
