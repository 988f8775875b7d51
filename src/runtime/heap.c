/* heap.c: heaps, the independent worlds objects live in: creation, the walk over every live
 * object, statistics, lifecycle hooks and destruction with a report of what was left. */
#include <stdatomic.h>
#include <stdlib.h>

#include "runtime/internal.h"

/* Ids carry the heap's serial in their top bits so that they are unique in the process; the first
 * heap has serial 0, so a program with one heap sees ids 1, 2, 3... */
#define ID_SERIAL_SHIFT 40
static atomic_uint_fast64_t next_heap_serial;

size_t hm__list_size(const hm_link *l)
{
    size_t n = 0;
    for (const hm_link *p = l->next; p != l; p = p->next)
        n++;
    return n;
}

hm_heap *hm_heap_new(void)
{
    hm_heap *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    h->id_base = (uint64_t)atomic_fetch_add(&next_heap_serial, 1) << ID_SERIAL_SHIFT;
    h->next_id = 1;
    hm__list_init(&h->untracked);
    hm__list_init(&h->permanent);
    hm__list_init(&h->dealloc_queue);
    hm__gc_heap_init(h);
    return h;
}

void hm_heap_set_lifecycle(hm_heap *h, hm_lifecycle_fn fn, void *user)
{
    h->lifecycle = fn;
    h->lifecycle_user = user;
}

void hm_heap_get_stats(const hm_heap *h, hm_heap_stats *out) { *out = h->stats; }

/* The lists in the order snapshots list them, with the generation each stands for. */
static int list_count(void) { return HM_GC_GENERATIONS + 2; }

static hm_link *list_at(hm_heap *h, int i, int *generation)
{
    if (i == 0) {
        *generation = HM_GEN_UNTRACKED;
        return &h->untracked;
    }
    if (i <= HM_GC_GENERATIONS) {
        *generation = i - 1;
        return &h->gen[i - 1].head;
    }
    *generation = HM_GEN_PERMANENT;
    return &h->permanent;
}

int hm_heap_foreach(hm_heap *h, int (*fn)(hm_object *o, int generation, void *user), void *user)
{
    if (h->collecting)
        return HM_EBUSY;
    for (int i = 0; i < list_count(); i++) {
        int generation;
        hm_link *l = list_at(h, i, &generation);
        for (hm_link *p = l->next; p != l; p = p->next) {
            int r = fn(hm__obj(p), generation, user);
            if (r)
                return r;
        }
    }
    return HM_OK;
}

size_t hm_heap_destroy(hm_heap *h, hm_heap_report *report)
{
    if (!h)
        return 0;
    h->destroying = true;

    /* Report first, while every object is still intact. */
    size_t alive = 0, bytes = 0;
    for (int i = 0; i < list_count(); i++) {
        int generation;
        hm_link *l = list_at(h, i, &generation);
        for (hm_link *p = l->next; p != l; p = p->next) {
            hm_object *o = hm__obj(p);
            if (o->flags & HM__RUNTIME)
                continue;
            alive++;
            bytes += hm_object_size(o);
            if (report && report->on_alive)
                report->on_alive(o, report->user);
        }
    }
    if (report) {
        report->objects = alive;
        report->bytes = bytes;
    }

    /* Then free without clear or decref: references between the dying objects no longer matter,
     * and running user code (finalizers) on a heap being torn down would be unsafe. */
    for (int i = 0; i < list_count(); i++) {
        int generation;
        hm_link *l = list_at(h, i, &generation);
        hm_link *p = l->next;
        while (p != l) {
            hm_object *o = hm__obj(p);
            p = p->next;
            if (o->type->release)
                o->type->release(o);
            hm__free(h, o, o->alloc_size);
        }
    }
    hm__intern_fini(h);
    hm__gc_heap_fini(h);
    free(h);
    return alive;
}
