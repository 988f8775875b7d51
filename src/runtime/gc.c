/* gc.c: the cycle collector, CPython's generational trial deletion, and the gc module's surface.
 *
 * Invariant. Outside a collection, every tracked object is on exactly one of the generation
 * lists or the permanent list, with valid next and prev links, its generation bits naming that
 * list, and no object carries HM__COLLECTING or HM__UNREACHABLE. A collection of generation g
 * examines the candidates: the tracked objects of generations 0..g, which its flags identify.
 * HM__COLLECTING marks a candidate whose gc_refs has been started and that is still under
 * examination. From then until move_unreachable has passed over it, its prev link holds its
 * gc_refs instead (lists are walked through next only, and move_unreachable rebuilds the prev
 * links as it goes), as in CPython. After subtract_refs, gc_refs counts the references a
 * candidate gets from outside the candidate set:
 * > 0 means something the collector cannot see (C code, an older generation) holds it, so it and
 * everything it reaches is alive. Objects reachable only from candidates end up on the
 * unreachable list: they are garbage. No user code runs while prev links hold gc_refs.
 *
 * Nothing here recurses and nothing allocates per object: each phase walks an intrusive list,
 * and "moving" an object is relinking its header onto another list.
 */
#include <time.h>
#include <stdlib.h>

#include "runtime/internal.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#define FOREACH(o, list) \
    for (hm_link *o##_l = (list)->next; o##_l != (list) && ((o) = hm__obj(o##_l), 1); o##_l = o##_l->next)

void hm__gc_heap_init(hm_heap *h)
{
    static const long thresholds[HM_GC_GENERATIONS] = {700, 10, 10}; /* CPython's defaults */
    for (int i = 0; i < HM_GC_GENERATIONS; i++) {
        hm__list_init(&h->gen[i].head);
        h->gen[i].threshold = thresholds[i];
    }
    h->gc_enabled = true;
}

void hm__gc_heap_fini(hm_heap *h)
{
    free(h->callbacks);
    h->callbacks = NULL;
    h->ncallbacks = 0;
}

static void debug_event(hm_heap *h, hm_gc_event ev)
{
    if (h->debug_fn)
        h->debug_fn(h, &ev, h->debug_user);
}

/* ---- the phases of a collection ---- */

static inline void start_refs(hm_object *o)
{
    o->gc.gc_refs = o->rc;
    o->flags = (o->flags | HM__COLLECTING) & ~HM__UNREACHABLE;
}

/* Starts the gc_refs of every object of a list at its reference count: the candidates are then
 * the objects marked HM__COLLECTING. Returns how many there are. */
static size_t update_refs(hm_link *candidates)
{
    size_t n = 0;
    hm_object *o;
    FOREACH(o, candidates) {
        start_refs(o);
        n++;
    }
    return n;
}

static int visit_decref(hm_object *target, hm_edge edge, void *arg)
{
    (void)edge;
    (void)arg;
    if (target->flags & HM__COLLECTING) {
        assert(target->gc.gc_refs > 0 && "a traverse hook reports a reference it does not own");
        target->gc.gc_refs--;
    }
    return 0;
}

/* Takes away the references the candidates hold to each other: what is left comes from outside. */
static void subtract_refs(hm_link *candidates)
{
    hm_object *o;
    FOREACH(o, candidates) {
        if (o->type->traverse)
            o->type->traverse(o, visit_decref, NULL);
    }
}

/* The first examination of a collection does update_refs and subtract_refs in one walk, one
 * pass less over memory: a candidate (tracked, generation <= the collected one) gets its gc_refs
 * started by whichever comes first, the walk or a reference to it. arg: the generation. */
static int visit_decref_young(hm_object *target, hm_edge edge, void *arg)
{
    (void)edge;
    uint32_t f = target->flags;
    if (!(f & HM_FLAG_TRACKED) || ((f & HM__GEN_MASK) >> HM__GEN_SHIFT) > *(const unsigned *)arg)
        return 0;
    if (!(f & HM__COLLECTING))
        start_refs(target);
    assert(target->gc.gc_refs > 0 && "a traverse hook reports a reference it does not own");
    target->gc.gc_refs--;
    return 0;
}

static size_t update_and_subtract_refs(hm_link *young, unsigned generation)
{
    size_t n = 0;
    hm_object *o;
    FOREACH(o, young) {
        if (!(o->flags & HM__COLLECTING))
            start_refs(o);
        if (o->type->traverse)
            o->type->traverse(o, visit_decref_young, &generation);
        n++;
    }
    return n;
}

/* move_unreachable's state: the live list, and how many set-aside objects came back to it. */
typedef struct reach {
    hm_link *young;
    size_t returned;
} reach;

/* What move_unreachable saw among the objects it set aside, so that a collection can skip the
 * phases that have nothing to do (a maybe: some of them may have come back to life). */
#define SAW_LEGACY   0x1u
#define SAW_FINALIZE 0x2u

/* An object reached from a live one is live: if it was already set aside as unreachable, it
 * goes back to the end of the live list, where the walk below will come to it and spread life
 * to what it references in turn. */
static int visit_reachable(hm_object *target, hm_edge edge, void *arg)
{
    (void)edge;
    if (!(target->flags & HM__COLLECTING))
        return 0; /* not a candidate, or already found live and scanned */
    if (target->flags & HM__UNREACHABLE) {
        reach *r = arg;
        hm_link *young = r->young, *last = young->prev;
        r->returned++;
        target->flags &= ~HM__UNREACHABLE;
        target->gc.prev->next = target->gc.next; /* the unreachable list has real prev links */
        target->gc.next->prev = target->gc.prev;
        last->next = &target->gc; /* young->prev is the true last element throughout the walk */
        target->gc.next = young;
        young->prev = &target->gc;
        target->gc.gc_refs = 1;
    } else if (target->gc.gc_refs == 0) {
        target->gc.gc_refs = 1; /* further down the live list, not scanned yet: it is live */
    }
    return 0;
}

/* Splits the candidates: those reachable from outside stay on `young` (HM__COLLECTING cleared,
 * prev links rebuilt, generation set to where they are going), the others move to `unreachable` (still marked, plus HM__UNREACHABLE, which
 * they keep while they are on it or on `final`). One walk: an object with gc_refs 0 may be moved
 * back later, when a live object is found to reference it. Returns how many end up unreachable. */
static size_t move_unreachable(hm_link *young, hm_link *unreachable, unsigned survivors_gen, unsigned *saw)
{
    size_t n = 0;
    reach r = {young, 0};
    hm_link *kept = young; /* the last object found live: the walk relinks behind it */
    hm_link *l = young->next;
    while (l != young) {
        hm_object *o = hm__obj(l);
        if (l->gc_refs > 0) {
            /* Traverse first: visit_reachable may append to young, changing l->next. */
            if (o->type->traverse)
                o->type->traverse(o, visit_reachable, &r);
            l->prev = kept;
            o->flags = (o->flags & ~(HM__COLLECTING | HM__GEN_MASK)) | (survivors_gen << HM__GEN_SHIFT);
            kept = l;
        } else {
            kept->next = l->next; /* young is singly linked ahead of the walk */
            o->flags |= HM__UNREACHABLE;
            if (o->type->flags & HM_TYPE_LEGACY_FINALIZER)
                *saw |= SAW_LEGACY;
            else if (o->type->finalize && !(o->flags & HM_FLAG_FINALIZED))
                *saw |= SAW_FINALIZE;
            hm__list_append(unreachable, o);
            n++;
        }
        l = kept->next;
    }
    young->prev = kept;
    return n - r.returned;
}

static int visit_move_to(hm_object *target, hm_edge edge, void *arg)
{
    (void)edge;
    if (target->flags & HM__COLLECTING) {
        target->flags &= ~(HM__COLLECTING | HM__UNREACHABLE);
        hm__list_move(target, (hm_link *)arg);
    }
    return 0;
}

/* Legacy finalizers cannot run safely in a cycle: their objects, and every unreachable object
 * they reach, are set aside as uncollectable (and lose their candidate mark). */
static size_t move_legacy_finalizers(hm_link *unreachable, hm_link *finalizers)
{
    size_t n = 0;
    hm_link *l = unreachable->next;
    while (l != unreachable) {
        hm_object *o = hm__obj(l);
        l = l->next;
        if (o->type->flags & HM_TYPE_LEGACY_FINALIZER) {
            o->flags &= ~(HM__COLLECTING | HM__UNREACHABLE);
            hm__list_move(o, finalizers);
        }
    }
    /* The list grows at its end as the walk goes: everything reachable gets scanned. */
    for (hm_link *p = finalizers->next; p != finalizers; p = p->next, n++) {
        hm_object *o = hm__obj(p);
        if (o->type->traverse)
            o->type->traverse(o, visit_move_to, finalizers);
    }
    return n;
}

/* Runs each pending finalizer once. Each object first moves to `seen`, so the walk survives
 * finalizers that free objects of the list (they unlink themselves) or resurrect them. Returns
 * true if any finalizer ran. */
static bool finalize_garbage(hm_link *unreachable)
{
    bool ran = false;
    hm_link seen;
    hm__list_init(&seen);
    while (!hm__list_empty(unreachable)) {
        hm_object *o = hm__obj(unreachable->next);
        hm__list_move(o, &seen);
        if (o->type->finalize && !(o->flags & HM_FLAG_FINALIZED)) {
            o->flags |= HM_FLAG_FINALIZED;
            ran = true;
            hm_incref(o);
            o->type->finalize(o);
            hm_decref(o); /* may free it, if the finalizer broke its cycle */
        }
    }
    hm__list_merge(&seen, unreachable);
    return ran;
}

/* Finalizers may have stored references to unreachable objects somewhere live. Trial deletion
 * again, over the unreachable set only: what has outside references now was resurrected, with
 * everything it reaches, and goes to `old`; the rest stays garbage in `final`. */
static size_t handle_resurrected(hm_link *unreachable, hm_link *final, hm_link *old, unsigned old_gen)
{
    update_refs(unreachable);
    subtract_refs(unreachable);
    unsigned saw = 0;
    size_t n = move_unreachable(unreachable, final, old_gen, &saw);
    hm__list_merge(unreachable, old);
    return n;
}

static hm_object *garbage_list(hm_heap *h)
{
    if (!h->garbage) {
        h->garbage = hm_list_new(h);
        if (h->garbage)
            h->garbage->flags |= HM__RUNTIME;
    }
    return h->garbage;
}

/* Breaks the cycles: clear() on each object drops its references and the counts take it from
 * there. An object that clear() did not kill (its count held by something outside, or a type
 * without clear) survives in `old`. */
static void delete_garbage(hm_heap *h, hm_link *final, hm_link *old, unsigned old_gen)
{
    while (!hm__list_empty(final)) {
        hm_object *o = hm__obj(final->next);
        o->flags &= ~(HM__COLLECTING | HM__UNREACHABLE);
        hm__set_gen(o, old_gen);
        if (h->debug & HM_GC_DEBUG_SAVEALL) {
            hm_object *g = garbage_list(h);
            if (g)
                hm_list_append(g, o);
            hm__list_move(o, old);
            continue;
        }
        hm_incref(o);
        if (o->type->clear)
            o->type->clear(o);
        hm__list_move(o, old);
        hm_decref(o);
    }
}

static void handle_legacy_finalizers(hm_heap *h, hm_link *finalizers, hm_link *old, unsigned old_gen)
{
    hm_object *o;
    FOREACH(o, finalizers) {
        hm__set_gen(o, old_gen);
        if ((o->type->flags & HM_TYPE_LEGACY_FINALIZER) || (h->debug & HM_GC_DEBUG_SAVEALL)) {
            hm_object *g = garbage_list(h);
            if (g)
                hm_list_append(g, o);
        }
    }
    hm__list_merge(finalizers, old);
}

/* One collection of generations 0..generation, in CPython's order. */
static int64_t collect(hm_heap *h, int generation, hm_gc_result *out)
{
    double t0 = now();
    hm__gen *g = &h->gen[generation];

    if (h->debug & HM_GC_DEBUG_STATS) {
        hm_gc_event ev = {.kind = HM_GC_EVENT_START, .generation = generation};
        for (int i = 0; i < HM_GC_GENERATIONS; i++)
            ev.sizes[i] = hm__list_size(&h->gen[i].head);
        debug_event(h, ev);
    }

    /* The counters restart now, so allocations made by finalizers count toward the next one. */
    if (generation + 1 < HM_GC_GENERATIONS)
        h->gen[generation + 1].count++;
    for (int i = 0; i <= generation; i++)
        h->gen[i].count = 0;

    for (int i = 0; i < generation; i++)
        hm__list_merge(&h->gen[i].head, &g->head);
    hm_link *young = &g->head;
    unsigned old_gen = generation + 1 < HM_GC_GENERATIONS ? (unsigned)generation + 1 : (unsigned)generation;
    hm_link *old = &h->gen[old_gen].head;

    size_t candidates = update_and_subtract_refs(young, (unsigned)generation);
    hm_link unreachable;
    hm__list_init(&unreachable);
    unsigned saw = 0;
    size_t nunreachable = move_unreachable(young, &unreachable, old_gen, &saw);
    size_t survivors = candidates - nunreachable;

    /* Survivors are promoted. The long-lived counters drive the 25% rule for full collections. */
    if (generation == HM_GC_GENERATIONS - 2)
        h->long_lived_pending += survivors;
    if (young != old) {
        hm__list_merge(young, old);
    } else {
        h->long_lived_pending = 0;
        h->long_lived_total = survivors;
    }

    hm_link finalizers;
    hm__list_init(&finalizers);
    size_t nlegacy = saw & SAW_LEGACY ? move_legacy_finalizers(&unreachable, &finalizers) : 0;

    hm_object *o;
    if (h->debug & HM_GC_DEBUG_COLLECTABLE)
        FOREACH(o, &unreachable)
            debug_event(h, (hm_gc_event){.kind = HM_GC_EVENT_COLLECTABLE, .generation = generation, .object = o});

    /* Weak references to garbage are cleared before any finalizer could see them. */
    bool user_code_ran = false;
    if (h->clear_weakrefs)
        user_code_ran = h->clear_weakrefs(h, &unreachable);
    if ((saw & SAW_FINALIZE) && finalize_garbage(&unreachable))
        user_code_ran = true;

    hm_link final;
    hm__list_init(&final);
    size_t collected;
    if (user_code_ran) {
        collected = handle_resurrected(&unreachable, &final, old, old_gen);
    } else { /* no code ran, so nothing can have been resurrected */
        hm__list_merge(&unreachable, &final);
        collected = nunreachable - nlegacy;
    }
    delete_garbage(h, &final, old, old_gen);

    /* Counted now: breaking the collectable cycles may have freed some of them. */
    size_t uncollectable = hm__list_size(&finalizers);
    if (h->debug & HM_GC_DEBUG_UNCOLLECTABLE)
        FOREACH(o, &finalizers)
            debug_event(h, (hm_gc_event){.kind = HM_GC_EVENT_UNCOLLECTABLE, .generation = generation, .object = o});
    handle_legacy_finalizers(h, &finalizers, old, old_gen);

    double elapsed = now() - t0;
    g->stats.collections++;
    g->stats.collected += collected;
    g->stats.uncollectable += uncollectable;
    g->stats.candidates += candidates;
    g->stats.duration += elapsed;
    if (h->debug & HM_GC_DEBUG_STATS)
        debug_event(h, (hm_gc_event){.kind = HM_GC_EVENT_DONE, .generation = generation,
                                     .collected = collected, .uncollectable = uncollectable,
                                     .elapsed = elapsed});
    if (out) {
        out->collected = collected;
        out->uncollectable = uncollectable;
    }
    return (int64_t)(collected + uncollectable);
}

static void run_callbacks(hm_heap *h, hm_gc_phase phase, const hm_gc_info *info)
{
    /* Re-read the array each time: a callback may add or remove callbacks. */
    for (size_t i = 0; i < h->ncallbacks; i++)
        h->callbacks[i].fn(h, phase, info, h->callbacks[i].user);
}

/* The caller has set h->collecting, which keeps collections from nesting. */
static int64_t collect_with_callbacks(hm_heap *h, int generation, hm_gc_result *out)
{
    hm_gc_info info = {.generation = generation};
    run_callbacks(h, HM_GC_PHASE_START, &info);
    hm_gc_result r;
    int64_t n = collect(h, generation, &r);
    info.collected = r.collected;
    info.uncollectable = r.uncollectable;
    run_callbacks(h, HM_GC_PHASE_STOP, &info);
    if (out)
        *out = r;
    return n;
}

/* The oldest generation whose count passed its threshold is collected, but a full collection
 * waits until the objects promoted since the last one are a quarter of those it kept: that keeps
 * full collections amortised linear when a program builds a large live heap. */
static void collect_generations(hm_heap *h)
{
    for (int i = HM_GC_GENERATIONS - 1; i >= 0; i--) {
        if (h->gen[i].count <= h->gen[i].threshold)
            continue;
        if (i == HM_GC_GENERATIONS - 1 && h->long_lived_pending < h->long_lived_total / 4)
            continue;
        h->collecting = true;
        collect_with_callbacks(h, i, NULL);
        h->collecting = false;
        break;
    }
}

void hm__gc_on_alloc(hm_heap *h)
{
    h->gen[0].count++;
    if (h->gen[0].count > h->gen[0].threshold && h->gen[0].threshold && h->gc_enabled &&
        !h->collecting && !h->destroying)
        collect_generations(h);
}

/* ---- the gc module ---- */

int64_t hm_gc_collect(hm_heap *h, int generation, hm_gc_result *out)
{
    if (!h || generation < 0 || generation >= HM_GC_GENERATIONS)
        return HM_EINVAL;
    if (h->collecting)
        return HM_EBUSY;
    h->collecting = true;
    int64_t n = collect_with_callbacks(h, generation, out);
    h->collecting = false;
    return n;
}

void hm_gc_enable(hm_heap *h) { h->gc_enabled = true; }
void hm_gc_disable(hm_heap *h) { h->gc_enabled = false; }
bool hm_gc_isenabled(const hm_heap *h) { return h->gc_enabled; }

void hm_gc_get_count(const hm_heap *h, long counts[HM_GC_GENERATIONS])
{
    for (int i = 0; i < HM_GC_GENERATIONS; i++)
        counts[i] = h->gen[i].count;
}

void hm_gc_get_threshold(const hm_heap *h, long thresholds[HM_GC_GENERATIONS])
{
    for (int i = 0; i < HM_GC_GENERATIONS; i++)
        thresholds[i] = h->gen[i].threshold;
}

int hm_gc_set_threshold(hm_heap *h, long threshold0, long threshold1, long threshold2)
{
    if (threshold0 < 0 || threshold1 < 0 || threshold2 < 0)
        return HM_EINVAL;
    h->gen[0].threshold = threshold0;
    h->gen[1].threshold = threshold1;
    h->gen[2].threshold = threshold2;
    return HM_OK;
}

int hm_gc_get_stats(const hm_heap *h, int generation, hm_gc_stats *out)
{
    if (generation < 0 || generation >= HM_GC_GENERATIONS || !out)
        return HM_EINVAL;
    *out = h->gen[generation].stats;
    return HM_OK;
}

static bool append_list(hm_object *result, hm_link *l)
{
    hm_object *o;
    FOREACH(o, l) {
        if (o != result && hm_list_append(result, o) != HM_OK)
            return false;
    }
    return true;
}

/* The lists below are all or nothing: out of memory, NULL rather than part of the answer. */
hm_object *hm_gc_get_objects(hm_heap *h, int generation)
{
    if (generation < -1 || generation >= HM_GC_GENERATIONS)
        return NULL;
    hm_object *result = hm_list_new(h);
    for (int i = 0; result && i < HM_GC_GENERATIONS; i++) {
        if ((generation == -1 || generation == i) && !append_list(result, &h->gen[i].head)) {
            hm_decref(result);
            result = NULL;
        }
    }
    return result;
}

static int visit_is_target(hm_object *target, hm_edge edge, void *arg)
{
    (void)edge;
    return target == (const hm_object *)arg;
}

hm_object *hm_gc_get_referrers(hm_heap *h, const hm_object *target)
{
    hm_object *result = hm_list_new(h);
    if (!result)
        return NULL;
    for (int i = 0; i < HM_GC_GENERATIONS; i++) {
        hm_object *o;
        FOREACH(o, &h->gen[i].head) {
            if (o == result || !o->type->traverse)
                continue;
            /* -Wcast-qual: the visitor only compares addresses. */
            if (o->type->traverse(o, visit_is_target, (void *)(uintptr_t)target) &&
                hm_list_append(result, o) != HM_OK) {
                hm_decref(result);
                return NULL;
            }
        }
    }
    return result;
}

static int visit_append(hm_object *target, hm_edge edge, void *arg)
{
    (void)edge;
    return hm_list_append(arg, target) == HM_OK ? 0 : 1;
}

hm_object *hm_gc_get_referents(hm_object *o)
{
    hm_object *result = hm_list_new(hm__heap_of(o));
    if (result && o->type->traverse && o->type->traverse(o, visit_append, result)) {
        hm_decref(result);
        result = NULL;
    }
    return result;
}

bool hm_gc_is_tracked(const hm_object *o) { return (o->flags & HM_FLAG_TRACKED) != 0; }
bool hm_gc_is_finalized(const hm_object *o) { return (o->flags & HM_FLAG_FINALIZED) != 0; }

/* Both are ignored during a collection: the candidate lists must not change under the walk. */
void hm_gc_track(hm_object *o)
{
    if (!(o->type->flags & HM_TYPE_GC) || (o->flags & HM_FLAG_TRACKED) || hm__heap_of(o)->collecting)
        return;
    o->flags |= HM_FLAG_TRACKED;
    hm__set_gen(o, 0);
    hm__list_move(o, &hm__heap_of(o)->gen[0].head);
}

void hm_gc_untrack(hm_object *o)
{
    if (!(o->flags & HM_FLAG_TRACKED) || hm__heap_of(o)->collecting)
        return;
    o->flags &= ~(HM_FLAG_TRACKED | HM_FLAG_FROZEN);
    hm__list_move(o, &hm__heap_of(o)->untracked);
}

void hm_gc_freeze(hm_heap *h)
{
    if (h->collecting)
        return;
    for (int i = 0; i < HM_GC_GENERATIONS; i++)
        hm__list_merge(&h->gen[i].head, &h->permanent);
    hm_object *o;
    FOREACH(o, &h->permanent) {
        o->flags |= HM_FLAG_FROZEN;
        hm__set_gen(o, HM_GEN_PERMANENT);
    }
    h->gen[0].count = 0;
}

void hm_gc_unfreeze(hm_heap *h)
{
    if (h->collecting)
        return;
    hm_object *o;
    FOREACH(o, &h->permanent) {
        o->flags &= ~HM_FLAG_FROZEN;
        hm__set_gen(o, HM_GC_GENERATIONS - 1);
    }
    hm__list_merge(&h->permanent, &h->gen[HM_GC_GENERATIONS - 1].head);
}

size_t hm_gc_get_freeze_count(const hm_heap *h) { return hm__list_size(&h->permanent); }

void hm_gc_set_debug(hm_heap *h, unsigned flags) { h->debug = flags; }
unsigned hm_gc_get_debug(const hm_heap *h) { return h->debug; }

void hm_gc_set_debug_callback(hm_heap *h, hm_gc_debug_fn fn, void *user)
{
    h->debug_fn = fn;
    h->debug_user = user;
}

hm_object *hm_gc_garbage(hm_heap *h) { return hm_xincref(garbage_list(h)); }

int hm_gc_callback_add(hm_heap *h, hm_gc_callback_fn fn, void *user)
{
    if (!fn)
        return HM_EINVAL;
    hm__callback *cbs = hm__sys_realloc(h, h->callbacks, (h->ncallbacks + 1) * sizeof *cbs);
    if (!cbs)
        return HM_ENOMEM;
    cbs[h->ncallbacks++] = (hm__callback){fn, user};
    h->callbacks = cbs;
    return HM_OK;
}

int hm_gc_callback_remove(hm_heap *h, hm_gc_callback_fn fn, void *user)
{
    for (size_t i = 0; i < h->ncallbacks; i++) {
        if (h->callbacks[i].fn == fn && h->callbacks[i].user == user) {
            for (size_t j = i + 1; j < h->ncallbacks; j++)
                h->callbacks[j - 1] = h->callbacks[j];
            h->ncallbacks--;
            return HM_OK;
        }
    }
    return HM_EINVAL;
}
