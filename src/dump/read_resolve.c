/* read_resolve.c: raw ids become indices once the whole document is read; problems found then
 * are kept (at most MAX_KEPT_PROBLEMS) and placed by re-reading the source (hd__lex_locate).
 *
 * Invariant: every id is resolved once, in place: an unresolved one is UINT32_MAX and reported.
 */
#include "native.h"
#include "reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int hd__later(loader *L, enum section array, uint64_t index, int status, const char *fmt, ...)
{
    if (!L->on_problem && L->npend > 0)
        return status;
    if (L->npend == MAX_KEPT_PROBLEMS) {
        L->nproblems++;
        return HD_OK;
    }
    pending *p = &L->pend[L->npend++];
    p->array = array;
    p->index = index;
    p->status = status;
    p->pos = (hd__pos){0, 0, 0};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->message, sizeof p->message, fmt, ap);
    va_end(ap);
    return L->on_problem ? HD_OK : status;
}

static int cmp_pending(const void *a, const void *b)
{
    const pending *x = a, *y = b;
    if (x->array != y->array)
        return x->array < y->array ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Where each pending problem's record starts, when the source can be read again. */
static void locate(loader *L)
{
    hd__locate *wanted = calloc(L->npend, sizeof *wanted);
    if (!wanted)
        return;
    for (size_t i = 0; i < L->npend; i++) {
        wanted[i].member = hd__section_names[L->pend[i].array];
        wanted[i].index = L->pend[i].index;
        wanted[i].whole = L->pend[i].array == S_GC; /* gc is an object: its problems go there */
        wanted[i].pos = L->pend[i].pos;
    }
    hd__lex_locate(&L->lx, wanted, L->npend);
    for (size_t i = 0; i < L->npend; i++)
        L->pend[i].pos = wanted[i].pos;
    free(wanted);
}

/* Sorted by array and index, the pending problems are in document order (the arrays' order
 * is the sections' in the table; a document with them in another order only reports in this
 * one) and each array's problems are next to each other, as hd__lex_locate wants them. */
int hd__report_pending(loader *L)
{
    if (L->npend == 0)
        return HD_OK;
    qsort(L->pend, L->npend, sizeof *L->pend, cmp_pending);
    locate(L);
    for (size_t i = 0; i < L->npend; i++) {
        pending *p = &L->pend[i];
        hd_error e;
        hd__error_set(&e, p->status, L->lx.name, p->pos, "%s", p->message);
        if (!L->on_problem) {
            *L->err = e;
            return p->status;
        }
        hd__deliver(L, &e);
    }
    return HD_OK;
}

#define LATER(array, index, ...)                                                                 \
    do {                                                                                         \
        if ((rc = hd__later(L, array, index, HD_EINTEGRITY, __VA_ARGS__)))                           \
            return rc;                                                                           \
    } while (0)

/* Types and sites that objects used and the arrays never defined. */
static int check_placeholders(loader *L)
{
    const hd_dump *d = L->d;
    const uint32_t *oe = L->object_elem;
    int rc;
    for (uint32_t t = 0; t < d->ntypes; t++) {
        if (!(d->type_flags[t] & TYPE_PLACEHOLDER))
            continue;
        uint32_t at = hd__element_of(oe, L->type_user[t]);
        LATER(S_OBJECTS, at, "objects[%u]: unknown type id %llu", at,
              (unsigned long long)d->type_id[t]);
    }
    for (uint32_t s = 0; s < d->nsites; s++) {
        if (L->site_user[s] == SITE_DEFINED)
            continue;
        uint32_t at = hd__element_of(oe, L->site_user[s]);
        LATER(S_OBJECTS, at, "objects[%u]: unknown site id %llu", at,
              (unsigned long long)d->site_id[s]);
    }
    return HD_OK;
}

/* The id map; an object whose id an earlier one has is a problem. */
static int map_objects(loader *L)
{
    hd_dump *d = L->d;
    const uint32_t *oe = L->object_elem;
    int rc;
    if (hd__idmap_init_for(&d->obj_map, d->obj_id, d->nobjects))
        return hd__oom(L);
    for (uint32_t o = 0; o < d->nobjects; o++) {
        uint32_t at = hd__idmap_insert(&d->obj_map, d->obj_id, o);
        if (at != o)
            LATER(S_OBJECTS, hd__element_of(oe, o),
                  "objects[%u]: duplicate id %llu (first at objects[%u])", hd__element_of(oe, o),
                  (unsigned long long)d->obj_id[o], hd__element_of(oe, at));
    }
    return HD_OK;
}

/* References: raw ids become indices in place (a uint32 at byte 4e never overtakes the uint64
 * at byte 8e still to be read), then the array shrinks to its final size. */
static int resolve_references(loader *L)
{
    hd_dump *d = L->d;
    const uint32_t *oe = L->object_elem;
    int rc;
    uint32_t *targets = (uint32_t *)L->edge_tid;
    d->edge_offset[d->nobjects] = (uint32_t)d->nedges;
    for (uint32_t o = 0; o < d->nobjects; o++) {
        for (uint32_t e = d->edge_offset[o]; e < d->edge_offset[o + 1]; e++) {
            if (e + 16 < d->nedges)
                hd__idmap_prefetch(&d->obj_map, L->edge_tid[e + 16]);
            uint64_t id = L->edge_tid[e];
            uint32_t t = hd__idmap_find(&d->obj_map, d->obj_id, id);
            if (t == UINT32_MAX)
                LATER(S_OBJECTS, hd__element_of(oe, o),
                      "objects[%u] (id %llu): refs[%u] points to missing object %llu",
                      hd__element_of(oe, o), (unsigned long long)d->obj_id[o],
                      e - d->edge_offset[o], (unsigned long long)id);
            targets[e] = t;
        }
    }
    L->edge_tid = NULL;
    d->edge_target = targets;
    if (d->nedges) {
        uint32_t *shrunk = realloc(targets, d->nedges * sizeof *targets);
        if (shrunk)
            d->edge_target = shrunk;
        if ((shrunk = realloc(d->edge_name, d->nedges * sizeof *shrunk)))
            d->edge_name = shrunk;
    }
    return HD_OK;
}

/* Weakrefs, roots and the garbage list: each names objects by id. */
static int resolve_lists(loader *L)
{
    hd_dump *d = L->d;
    const uint32_t *we = L->weakref_elem, *re = L->root_elem;
    int rc;
    for (uint32_t w = 0; w < d->nweakrefs; w++) {
        d->weakref_object[w] = hd__idmap_find(&d->obj_map, d->obj_id, L->weakref_tid[w]);
        if (d->weakref_object[w] == UINT32_MAX)
            LATER(S_WEAKREFS, hd__element_of(we, w),
                  "weakrefs[%u]: weakref object %llu is not in 'objects'", hd__element_of(we, w),
                  (unsigned long long)L->weakref_tid[w]);
        if (d->weakref_referent[w] == HD_NONE)
            continue;
        d->weakref_referent[w] = hd__idmap_find(&d->obj_map, d->obj_id, L->referent_tid[w]);
        if (d->weakref_referent[w] == UINT32_MAX)
            LATER(S_WEAKREFS, hd__element_of(we, w),
                  "weakrefs[%u]: referent %llu is not in 'objects'", hd__element_of(we, w),
                  (unsigned long long)L->referent_tid[w]);
    }
    for (uint32_t r = 0; r < d->nroots; r++) {
        d->root_object[r] = hd__idmap_find(&d->obj_map, d->obj_id, L->root_tid[r]);
        if (d->root_object[r] == UINT32_MAX)
            LATER(S_ROOTS, hd__element_of(re, r), "roots[%u]: object %llu is not in 'objects'",
                  hd__element_of(re, r), (unsigned long long)L->root_tid[r]);
    }
    if (d->gc.ngarbage) {
        d->gc_garbage = malloc(d->gc.ngarbage * sizeof *d->gc_garbage);
        if (!d->gc_garbage)
            return hd__oom(L);
        for (uint32_t i = 0; i < d->gc.ngarbage; i++) {
            d->gc_garbage[i] = hd__idmap_find(&d->obj_map, d->obj_id, L->garbage_tid[i]);
            if (d->gc_garbage[i] == UINT32_MAX)
                LATER(S_GC, i, "gc: garbage[%u]: object %llu is not in 'objects'", i,
                      (unsigned long long)L->garbage_tid[i]);
        }
        d->gc.garbage = d->gc_garbage;
    }
    return HD_OK;
}
#undef LATER

int hd__resolve(loader *L)
{
    int rc;
    if ((rc = check_placeholders(L)) || (rc = map_objects(L)) || (rc = resolve_references(L)) ||
        (rc = resolve_lists(L)))
        return rc;
    return hd__native_resolve(L);
}
