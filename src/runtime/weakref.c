/* weakref.c: weak references: the weakref type, the heap's side table from an object to its
 * weakrefs (so that objects do not grow), and their clearing at death, by count or collection.
 *
 * Invariant: a weakref is on its referent's list iff its referent field is set; an object has
 * HM__WEAKREFS iff the side table has a non-empty list for its id. Clearing takes a weakref off
 * the list and nulls referent before any callback runs, so user code never sees a weakref to a
 * dying object, and a cleared weakref is never put back on a list: a callback runs at most once.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "runtime/weak.h"

/* ---- the side table: object id -> newest weakref ---- */

static bool clear_weakrefs_gc(hm_heap *h, hm_link *unreachable);

hm__weak *hm__weak_state(hm_heap *h)
{
    if (!h->weak) {
        h->weak = hm__alloc(h, sizeof *h->weak);
        if (!h->weak)
            return NULL;
        memset(h->weak, 0, sizeof *h->weak);
        /* The collector only pays for weakrefs in heaps that have had one. */
        h->clear_weakrefs = clear_weakrefs_gc;
    }
    return h->weak;
}

void hm__weak_heap_fini(hm_heap *h)
{
    if (!h->weak)
        return;
    hm__free(h, h->weak->slots, h->weak->cap * sizeof *h->weak->slots);
    hm__free(h, h->weak, sizeof *h->weak);
    h->weak = NULL;
}

/* The slot holding id, or NULL. */
static hm__weak_slot *table_find(const hm__weak *w, uint64_t id)
{
    if (!w->cap)
        return NULL;
    size_t mask = w->cap - 1;
    for (size_t i = (size_t)hm__hash_mix(id) & mask;; i = (i + 1) & mask) {
        hm__weak_slot *s = &w->slots[i];
        if (s->id == 0)
            return NULL;
        if (s->id == id && s->head)
            return s;
    }
}

/* Rebuilds the table at a size where live entries fill at most a quarter, dropping deleted
 * slots (which otherwise lengthen every probe). */
static int table_rebuild(hm_heap *h, hm__weak *w)
{
    size_t cap = 16;
    while (cap < (w->live + 1) * 4)
        cap *= 2;
    hm__weak_slot *slots = hm__alloc(h, cap * sizeof *slots);
    if (!slots)
        return HM_ENOMEM;
    memset(slots, 0, cap * sizeof *slots);
    for (size_t i = 0; i < w->cap; i++) {
        if (!w->slots[i].head)
            continue;
        size_t j = (size_t)hm__hash_mix(w->slots[i].id) & (cap - 1);
        while (slots[j].id)
            j = (j + 1) & (cap - 1);
        slots[j] = w->slots[i];
    }
    hm__free(h, w->slots, w->cap * sizeof *slots);
    w->slots = slots;
    w->cap = cap;
    w->used = w->live;
    return HM_OK;
}

/* A new slot for id (not in the table), its head to be set by the caller. */
static hm__weak_slot *table_insert(hm_heap *h, hm__weak *w, uint64_t id)
{
    if ((w->used + 1) * 3 > w->cap * 2 && table_rebuild(h, w) != HM_OK)
        return NULL;
    size_t mask = w->cap - 1;
    size_t i = (size_t)hm__hash_mix(id) & mask;
    while (w->slots[i].id) /* deleted slots are not reused: lookups stop only at empty ones */
        i = (i + 1) & mask;
    w->slots[i].id = id;
    w->used++;
    w->live++;
    return &w->slots[i];
}

/* A slot's list became empty. With no weakref left the table goes (the next one starts small):
 * its size then never depends on the history of deletions. */
static void slot_emptied(hm_heap *h)
{
    hm__weak *w = h->weak;
    if (--w->live == 0) {
        hm__free(h, w->slots, w->cap * sizeof *w->slots);
        w->slots = NULL;
        w->cap = w->used = 0;
    }
}

static hm__weakref *list_head(hm_heap *h, const hm_object *o)
{
    if (!(o->flags & HM__WEAKREFS) || !h->weak)
        return NULL;
    hm__weak_slot *s = table_find(h->weak, o->id);
    return s ? s->head : NULL;
}

/* Takes o's whole list out of the table and returns it. */
static hm__weakref *list_take(hm_heap *h, hm_object *o)
{
    hm__weak_slot *s = (o->flags & HM__WEAKREFS) && h->weak ? table_find(h->weak, o->id) : NULL;
    o->flags &= ~HM__WEAKREFS;
    if (!s)
        return NULL;
    hm__weakref *head = s->head;
    s->head = NULL;
    slot_emptied(h);
    return head;
}

/* Unlinks a live weakref from its referent's list (and the list from the table once empty). */
static void unlink_ref(hm__weakref *wr)
{
    hm_object *o = wr->referent;
    if (!o)
        return;
    hm_heap *h = hm__heap_of(&wr->base);
    if (wr->prev) {
        wr->prev->next = wr->next;
    } else {
        hm__weak_slot *s = table_find(h->weak, o->id);
        assert(s && s->head == wr);
        s->head = wr->next;
        if (!s->head) {
            slot_emptied(h);
            o->flags &= ~HM__WEAKREFS;
        }
    }
    if (wr->next)
        wr->next->prev = wr->prev;
    wr->prev = wr->next = NULL;
    wr->referent = NULL;
}

/* ---- the weakref type ---- */

static int weakref_traverse(hm_object *self, hm_visit_fn visit, void *arg)
{
    /* Not the referent: that link is weak. */
    HM_VISIT(WR(self)->payload, HM_EDGE_NAMED("payload"));
    HM_VISIT(WR(self)->owner, HM_EDGE_NAMED("owner"));
    return 0;
}

static void weakref_clear(hm_object *self)
{
    hm__weakref *wr = WR(self);
    unlink_ref(wr);
    wr->callback = NULL;
    hm_object *p = wr->payload, *o = wr->owner;
    wr->payload = wr->owner = NULL;
    hm_xdecref(p);
    hm_xdecref(o);
}

static int weakref_label(const hm_object *self, char *buf, size_t size)
{
    const hm_object *o = CWR(self)->referent;
    if (!o || o->rc == 0)
        return snprintf(buf, size, "<weakref #%" PRIu64 "; dead>", self->id);
    return snprintf(buf, size, "<weakref #%" PRIu64 "; to %s #%" PRIu64 ">", self->id,
                    o->type->name, o->id);
}

const hm_type hm_weakref_type = {
    .name = "weakref",
    .basicsize = sizeof(hm__weakref),
    .flags = HM_TYPE_GC, /* it holds payload and owner, and the collector must see it to tell
                            whether it is itself garbage */
    .traverse = weakref_traverse,
    .clear = weakref_clear,
    .label = weakref_label,
};

hm_object *hm__weakref_new_full(hm_object *obj, hm_weakref_fn callback, void *user,
                                hm_object *payload, hm_object *owner)
{
    if (!obj || obj->rc == 0)
        return NULL;
    hm_heap *h = hm__heap_of(obj);
    if (!hm__weak_state(h))
        return NULL;
    hm__weakref *head = list_head(h, obj);
    bool plain = !callback && !payload && !owner;
    if (plain) {
        /* CPython hands out the same plain weakref again. */
        for (hm__weakref *p = head; p; p = p->next)
            if (!p->callback && !p->payload && !p->owner)
                return hm_incref(&p->base);
    }
    /* The allocation may collect, which may kill obj's other weakrefs: hold obj meanwhile. */
    hm_incref(obj);
    hm_object *self = hm_object_new(h, &hm_weakref_type);
    hm__weak_slot *s = NULL;
    if (self) {
        s = (obj->flags & HM__WEAKREFS) ? table_find(h->weak, obj->id) : table_insert(h, h->weak, obj->id);
        if (!s) {
            hm_decref(self);
            self = NULL;
        }
    }
    if (!self) {
        hm_decref(obj);
        return NULL;
    }
    hm__weakref *wr = WR(self);
    wr->referent = obj;
    wr->id = obj->id;
    wr->callback = callback;
    wr->user = user;
    wr->payload = hm_xincref(payload);
    wr->owner = hm_xincref(owner);
    /* Newest first: the order callbacks run in. */
    wr->next = s->head;
    if (s->head)
        s->head->prev = wr;
    s->head = wr;
    obj->flags |= HM__WEAKREFS;
    hm_decref(obj); /* cannot be the last reference: the caller holds one */
    return self;
}

hm_object *hm_weakref_new(hm_object *obj, hm_weakref_fn callback, void *user)
{
    return hm__weakref_new_full(obj, callback, user, NULL, NULL);
}

void hm__weakref_disarm(hm_object *wr) { WR(wr)->callback = NULL; }

hm_object *hm_weakref_get(const hm_object *self)
{
    if (!self || !hm_is_weakref(self))
        return NULL;
    hm_object *o = CWR(self)->referent;
    /* Count 0: dying, waiting on the deallocation queue. */
    return o && o->rc > 0 ? hm_incref(o) : NULL;
}

bool hm_weakref_is_dead(const hm_object *self)
{
    if (!self || !hm_is_weakref(self))
        return true; /* nothing it could reach */
    const hm_object *o = CWR(self)->referent;
    return !o || o->rc == 0;
}

uint64_t hm_weakref_referent_id(const hm_object *self)
{
    return hm_weakref_is_dead(self) ? 0 : CWR(self)->referent->id;
}

bool hm_weakref_has_callback(const hm_object *self)
{
    return self && hm_is_weakref(self) && CWR(self)->callback != NULL;
}

size_t hm_weakref_count(const hm_object *obj)
{
    if (!obj)
        return 0;
    size_t n = 0;
    for (hm__weakref *p = list_head(hm__heap_of(obj), obj); p; p = p->next)
        n++;
    return n;
}

hm_object *hm_weakref_list(hm_object *obj)
{
    if (!obj)
        return NULL;
    hm_heap *h = hm__heap_of(obj);
    hm_object *l = hm_list_new(h); /* may collect, but obj is held by the caller */
    if (!l)
        return NULL;
    for (hm__weakref *p = list_head(h, obj); p; p = p->next) {
        if (hm_list_append(l, &p->base) != HM_OK) {
            hm_decref(l);
            return NULL;
        }
    }
    return l;
}

/* ---- clearing ---- */

/* Clears every weakref of o. Those whose callback must run are chained through next in *tail,
 * each with a reference held: callbacks run only when all clearing is done. skip_unreachable:
 * in a collection, weakrefs that are themselves garbage never call back. */
static void clear_list(hm_heap *h, hm_object *o, hm__weakref ***tail, bool skip_unreachable)
{
    hm__weakref *wr = list_take(h, o);
    while (wr) {
        hm__weakref *next = wr->next;
        wr->referent = NULL;
        wr->prev = wr->next = NULL;
        /* A weakref with count 0 is dying itself (CPython skips it too). */
        bool call = wr->callback && wr->base.rc > 0 &&
                    !(skip_unreachable && (wr->base.flags & HM__UNREACHABLE));
        if (call) {
            hm_incref(&wr->base);
            **tail = wr;
            *tail = &wr->next;
        } else {
            wr->callback = NULL;
        }
        wr = next;
    }
}

/* Runs the chained callbacks in order, each once, dropping the references clear_list took.
 * What a callback releases dies before the next one runs, as in CPython; so does a weakref
 * dropped here and what it holds (a weak container's value, once its entry is gone). */
static bool run_callbacks(hm_heap *h, hm__weakref *chain)
{
    hm_link waiting;
    bool paused = chain && hm__dealloc_pause(h, &waiting);
    bool ran = false;
    while (chain) {
        hm__weakref *wr = chain;
        chain = wr->next;
        wr->next = NULL;
        hm_weakref_fn cb = wr->callback;
        wr->callback = NULL; /* before the call: never twice, even if it re-enters */
        if (cb) {
            cb(&wr->base, wr->user);
            ran = true;
        }
        hm_decref(&wr->base);
    }
    hm__dealloc_resume(h, &waiting, paused);
    return ran;
}

void hm__weakref_clear_dealloc(hm_heap *h, hm_object *o)
{
    hm__weakref *chain = NULL, **tail = &chain;
    clear_list(h, o, &tail, false);
    run_callbacks(h, chain);
}

/* The collector's hook (gc.c calls it on the unreachable set, before any finalizer). */
static bool clear_weakrefs_gc(hm_heap *h, hm_link *unreachable)
{
    hm__weakref *chain = NULL, **tail = &chain;
    for (hm_link *l = unreachable->next; l != unreachable; l = l->next) {
        hm_object *o = hm__obj(l);
        /* A weakref in the garbage is cleared whatever it points to: its callback could
         * otherwise run later on objects clear() has already emptied (CPython's bpo-38006). */
        if (hm_is_weakref(o)) {
            unlink_ref(WR(o));
            WR(o)->callback = NULL;
        }
        if (o->flags & HM__WEAKREFS)
            clear_list(h, o, &tail, true);
    }
    /* No user code ran so far; from here it may, but it cannot reach the garbage any more. */
    return run_callbacks(h, chain);
}
