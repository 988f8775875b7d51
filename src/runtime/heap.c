/* heap.c: heaps, the independent worlds objects live in: creation, the walk over every live
 * object, statistics, lifecycle hooks and destruction with a report of what was left. */
#include <pthread.h>
#include <stdlib.h>

#include "runtime/internal.h"

/* The registry of live heaps, by serial. Ids carry the serial in their top bits, which makes
 * them unique in the process and lets an object find its heap. Serials are handed out fresh
 * (the first heap gets 0, so a program with one heap sees ids 1, 2, 3...) and recycled only once
 * all 65536 have been used. Writers take the lock; readers are the heap's own thread, which got
 * the heap after its registration. */
hm_heap *hm__heaps[HM__SERIALS];
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t fresh_serials;
static uint16_t recycled[HM__SERIALS];
static uint32_t nrecycled;

static bool registry_add(hm_heap *h)
{
    bool ok = true;
    pthread_mutex_lock(&registry_lock);
    if (fresh_serials < HM__SERIALS)
        h->serial = fresh_serials++;
    else if (nrecycled > 0)
        h->serial = recycled[--nrecycled];
    else
        ok = false;
    if (ok)
        hm__heaps[h->serial] = h;
    pthread_mutex_unlock(&registry_lock);
    return ok;
}

static void registry_remove(hm_heap *h)
{
    pthread_mutex_lock(&registry_lock);
    hm__heaps[h->serial] = NULL;
    recycled[nrecycled++] = (uint16_t)h->serial;
    pthread_mutex_unlock(&registry_lock);
}

hm_heap *hm_object_heap(const hm_object *o) { return hm__heap_of(o); }

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
    if (!registry_add(h)) {
        free(h);
        return NULL;
    }
    h->id_base = h->serial << HM__SERIAL_SHIFT;
    h->next_id = 1;
    h->pools.fault = &h->fault;
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
    hm__snapshot_heap_fini(h); /* the at-exit dump sees the heap as the program left it */
    hm__finalize_atexit(h);    /* user code, so before the heap is marked as going */
    hm__roots_fini(h);
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
            size_t size = hm__block_size(o);
            if (o->type->release)
                o->type->release(o);
            hm__free(h, o, size);
        }
    }
    hm__weak_heap_fini(h);
    hm__intern_fini(h);
    hm__gc_heap_fini(h);
    hm__trace_fini(h);
    hm__pools_fini(&h->pools); /* unmaps the arena kept for reuse, and any a leaked buffer held */
    registry_remove(h);
    free(h);
    return alive;
}
