/* intern.c: the per-heap table of interned strings (sys.intern): one immortal str per text, found
 * by hash with open addressing and linear probing. */
#include <string.h>

#include "runtime/internal.h"

static hm_object **probe(hm_object **slots, size_t cap, uint64_t hash, const char *s, size_t len)
{
    size_t mask = cap - 1;
    for (size_t i = (size_t)hash & mask;; i = (i + 1) & mask) {
        hm_object *o = slots[i];
        if (!o || (hm__str_hash_of(o) == hash && hm_str_len(o) == len &&
                   memcmp(hm_str_data(o), s, len) == 0))
            return &slots[i];
    }
}

static int grow(hm_heap *h)
{
    size_t cap = h->interned.cap ? h->interned.cap * 2 : 64;
    hm_object **slots = hm__alloc(h, cap * sizeof *slots);
    if (!slots)
        return HM_ENOMEM;
    memset(slots, 0, cap * sizeof *slots);
    for (size_t i = 0; i < h->interned.cap; i++) {
        hm_object *o = h->interned.slots[i];
        if (o)
            *probe(slots, cap, hm__str_hash_of(o), hm_str_data(o), hm_str_len(o)) = o;
    }
    hm__free(h, h->interned.slots, h->interned.cap * sizeof *slots);
    h->interned.slots = slots;
    h->interned.cap = cap;
    return HM_OK;
}

hm_object *hm_str_intern_len(hm_heap *h, const char *s, size_t len)
{
    if (!h || (!s && len))
        return NULL;
    uint64_t hash = hm__str_hash(s, len);
    if (h->interned.cap) {
        hm_object *found = *probe(h->interned.slots, h->interned.cap, hash, s, len);
        if (found)
            return found; /* immortal */
    }
    /* Keep the load under 2/3 so that probes stay short. */
    if ((h->interned.count + 1) * 3 > h->interned.cap * 2 && grow(h) != HM_OK)
        return NULL;
    hm_object *o = hm_str_new_len(h, s, len);
    if (!o)
        return NULL;
    hm_object_make_immortal(o);
    o->flags |= HM_FLAG_INTERNED | HM__RUNTIME;
    *probe(h->interned.slots, h->interned.cap, hash, s, len) = o;
    h->interned.count++;
    return o;
}

hm_object *hm_str_intern(hm_heap *h, const char *s)
{
    return s ? hm_str_intern_len(h, s, strlen(s)) : NULL;
}

size_t hm_intern_count(const hm_heap *h) { return h->interned.count; }

/* The strings themselves are freed with every other object; only the table is left. */
void hm__intern_fini(hm_heap *h)
{
    hm__free(h, h->interned.slots, h->interned.cap * sizeof *h->interned.slots);
    h->interned.slots = NULL;
    h->interned.cap = h->interned.count = 0;
}
