/* roots.c: named roots, the objects a program registers under a name (a module's globals, a
 * service's registry), which snapshots list as roots of kind "named". A small array: programs
 * name a handful of roots, and snapshots walk them in order. */
#include <stdlib.h>
#include <string.h>

#include "hm_snapshot.h"
#include "runtime/internal.h"

static hm__named_root *find(const hm_heap *h, const char *name)
{
    for (size_t i = 0; i < h->nnamed_roots; i++)
        if (strcmp(h->named_roots[i].name, name) == 0)
            return &h->named_roots[i];
    return NULL;
}

int hm_root_set(hm_heap *h, const char *name, hm_object *o)
{
    if (!h || !name || !o || hm_object_heap(o) != h)
        return HM_EINVAL;
    hm__named_root *r = find(h, name);
    if (r) {
        hm_setref(&r->object, o);
        return HM_OK;
    }
    if (h->nnamed_roots == h->capnamed_roots) {
        size_t cap = h->capnamed_roots ? 2 * h->capnamed_roots : 8;
        hm__named_root *roots = hm__sys_realloc(h, h->named_roots, cap * sizeof *roots);
        if (!roots)
            return HM_ENOMEM;
        h->named_roots = roots;
        h->capnamed_roots = cap;
    }
    char *copy = hm__sys_strdup(h, name);
    if (!copy)
        return HM_ENOMEM;
    h->named_roots[h->nnamed_roots++] = (hm__named_root){.name = copy, .object = hm_incref(o)};
    return HM_OK;
}

int hm_root_remove(hm_heap *h, const char *name)
{
    if (!h || !name)
        return HM_EINVAL;
    hm__named_root *r = find(h, name);
    if (!r)
        return HM_EKEY;
    hm__named_root gone = *r;
    /* Keep registration order: snapshots list named roots in it. */
    memmove(r, r + 1, (size_t)(h->named_roots + h->nnamed_roots - (r + 1)) * sizeof *r);
    if (--h->nnamed_roots == 0) { /* most programs hold none for most of their life */
        free(h->named_roots);
        h->named_roots = NULL;
        h->capnamed_roots = 0;
    }
    free(gone.name);
    hm_decref(gone.object); /* last: a finalizer it runs may touch the roots */
    return HM_OK;
}

hm_object *hm_root_get(const hm_heap *h, const char *name)
{
    const hm__named_root *r = h && name ? find(h, name) : NULL;
    return r ? r->object : NULL;
}

size_t hm_root_count(const hm_heap *h) { return h ? h->nnamed_roots : 0; }

void hm__roots_fini(hm_heap *h)
{
    /* As an interpreter clears module globals at exit: drop them one by one, newest first, each
     * drop possibly running finalizers that could still look a root up. */
    while (h->nnamed_roots) {
        hm__named_root gone = h->named_roots[--h->nnamed_roots];
        free(gone.name);
        hm_decref(gone.object);
    }
    free(h->named_roots);
    h->named_roots = NULL;
    h->capnamed_roots = 0;
}
