/* object.c: the life of one object: creation, deallocation when its count drops to zero (with
 * its finalizer, which may resurrect it), size, flags, labels and edge names. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runtime/internal.h"
#include "runtime/snapshot.h"

hm_object *hm_object_new(hm_heap *h, const hm_type *type) { return hm_object_new_var(h, type, 0); }

hm_object *hm_object_new_var(hm_heap *h, const hm_type *type, size_t extra)
{
    if (!h || !type || type->basicsize < sizeof(hm_object) || extra > SIZE_MAX - type->basicsize ||
        h->next_id > HM__ID_COUNT_MAX)
        return NULL;
    /* A safe point for dumps a signal asked for: nothing is half made here. */
    if (__builtin_expect(h->snapshot_epoch != hm__snapshot_epoch, 0))
        hm__snapshot_safe_point(h);
    size_t size = type->basicsize + extra;
    hm_object *o = hm__alloc(h, size);
    if (!o)
        return NULL;
    bool gc = (type->flags & HM_TYPE_GC) != 0;
    /* As CPython does, a container's allocation may start a collection; the new block is on no
     * list yet, so the collector cannot see it half made. Finalizers it runs may set another
     * allocation site: this object, and what its constructor makes next, keep the caller's. */
    if (gc) {
        uint32_t site = h->site;
        hm__gc_on_alloc(h);
        h->site = site;
    }
    memset(o, 0, size);
    o->type = type;
    o->rc = 1;
    o->id = h->id_base | h->next_id++;
    if (h->trace && !hm__trace_record(h, o, size)) { /* as tracemalloc: no trace, no object */
        if (gc && h->gen[0].count > 0)
            h->gen[0].count--; /* counted by hm__gc_on_alloc() above */
        hm__free(h, o, size);
        return NULL;
    }
    if (gc) {
        o->flags = HM_FLAG_TRACKED;
        hm__list_append(&h->gen[0].head, o);
    } else {
        hm__list_append(&h->untracked, o);
    }
    h->stats.objects++;
    h->stats.allocations++;
    if (h->lifecycle)
        h->lifecycle(o, HM_EVENT_CREATE, h->lifecycle_user);
    return o;
}

/* Where an object lives when it is alive and not under collection. */
static hm_link *home_list(hm_heap *h, hm_object *o)
{
    return (o->flags & HM_FLAG_TRACKED) ? &h->gen[0].head : &h->untracked;
}

/* Destroys an object whose count reached zero (it is on its list, or on the deallocation queue),
 * unless its finalizer resurrects it. */
static void object_destroy(hm_heap *h, hm_object *o)
{
    const hm_type *t = o->type;
    if (t->finalize && !(o->flags & HM_FLAG_FINALIZED)) {
        /* PEP 442: the finalizer sees a live object with a count of 1, on a normal list and free
         * of collector marks (it may be dying in the middle of a collection); if the count is
         * still above zero afterwards, someone kept it. */
        o->flags = (o->flags | HM_FLAG_FINALIZED) & ~(HM__COLLECTING | HM__UNREACHABLE | HM_FLAG_FROZEN);
        hm__set_gen(o, 0);
        hm__list_move(o, home_list(h, o));
        o->rc = 1;
        hm_link waiting;
        bool paused = hm__dealloc_pause(h, &waiting);
        t->finalize(o);
        hm__dealloc_resume(h, &waiting, paused);
        assert(o->rc > 0);
        if (--o->rc != 0)
            return;
    }
    hm__list_remove(o);
    /* Off every list first: a weakref callback may collect, and must not find o there. */
    if (o->flags & HM__WEAKREFS)
        hm__weakref_clear_dealloc(h, o);
    if (h->lifecycle)
        h->lifecycle(o, HM_EVENT_DESTROY, h->lifecycle_user);
    if ((o->flags & HM_FLAG_TRACKED) && h->gen[0].count > 0)
        h->gen[0].count--;
    size_t size = hm__block_size(o); /* asked while the object is whole */
    /* clear drops references: the objects that die with it only join the queue. */
    if (t->clear)
        t->clear(o);
    if (t->release)
        t->release(o);
    h->stats.objects--;
    h->stats.deallocations++;
    if (h->trace)
        hm__trace_forget(h, o);
    hm__free(h, o, size);
}

void hm__dealloc(hm_object *o)
{
    hm_heap *h = hm__heap_of(o);
    if (h->dealloc_deferring) {
        hm__list_move(o, &h->dealloc_queue); /* the loop further up the stack gets to it */
        return;
    }
    h->dealloc_deferring = true;
    h->deallocating++;
    object_destroy(h, o);
    while (!hm__list_empty(&h->dealloc_queue))
        object_destroy(h, hm__obj(h->dealloc_queue.next));
    h->deallocating--;
    h->dealloc_deferring = false;
}

bool hm__dealloc_pause(hm_heap *h, hm_link *waiting)
{
    if (!h->dealloc_deferring || h->deallocating >= HM__DEALLOC_NESTING_MAX)
        return false;
    hm__list_init(waiting);
    hm__list_merge(&h->dealloc_queue, waiting);
    h->dealloc_deferring = false;
    return true;
}

void hm__dealloc_resume(hm_heap *h, hm_link *waiting, bool paused)
{
    if (!paused)
        return;
    /* Every release since the pause was destroyed by a loop of its own, which drained. */
    assert(hm__list_empty(&h->dealloc_queue));
    h->dealloc_deferring = true;
    hm__list_merge(waiting, &h->dealloc_queue);
}

size_t hm_object_size(const hm_object *o)
{
    return hm__block_size(o) + (o->type->extra_size ? o->type->extra_size(o) : 0);
}

uint32_t hm_object_flags(const hm_object *o)
{
    uint32_t f = o->flags & 0xffu;
    if (o->rc == HM_RC_IMMORTAL)
        f |= HM_FLAG_IMMORTAL;
    return f;
}

void hm_object_make_immortal(hm_object *o)
{
    o->rc = HM_RC_IMMORTAL;
    o->flags |= HM_FLAG_IMMORTAL;
}

/* Length actually in buf after an snprintf-style call that returned r. */
static size_t written(int r, size_t size)
{
    if (r < 0 || size == 0)
        return 0;
    return (size_t)r < size ? (size_t)r : size - 1;
}

size_t hm_object_label(const hm_object *o, char *buf, size_t size)
{
    if (size == 0)
        return 0;
    if (size > HM_LABEL_MAX)
        size = HM_LABEL_MAX;
    buf[0] = '\0';
    int r;
    if (o->type->label)
        r = o->type->label(o, buf, size);
    else
        r = snprintf(buf, size, "<%s #%" PRIu64 ">", o->type->name, o->id);
    return written(r, size);
}

size_t hm_edge_format(hm_edge edge, char *buf, size_t size)
{
    if (size == 0)
        return 0;
    int r = 0;
    switch (edge.kind) {
    case HM_EDGE_FIELD:
        r = snprintf(buf, size, "%s", edge.u.name ? edge.u.name : "?");
        break;
    case HM_EDGE_INDEX:
        r = snprintf(buf, size, "[%zu]", edge.u.index);
        break;
    case HM_EDGE_VALUE: {
        char key[HM_LABEL_MAX];
        if (edge.u.key)
            hm_object_label(edge.u.key, key, sizeof key);
        else
            key[0] = '\0';
        r = snprintf(buf, size, "[%s]", key);
        break;
    }
    case HM_EDGE_KEY:
        r = snprintf(buf, size, "<key %zu>", edge.u.index);
        break;
    default:
        r = snprintf(buf, size, "?");
        break;
    }
    return written(r, size);
}
