/* finalize.c: weakref.finalize: a function and argument run once when an object dies, when
 * called, or at heap destruction (atexit), built on a weakref whose callback calls it.
 *
 * Invariant: a finalizer is alive iff it is on the heap's registry, which holds a reference to
 * it; only then does it hold its weakref (callback armed, user = the finalizer) and its arg.
 * Making it dead (call, detach, the object's death) unlinks it and disarms the weakref before
 * any user code runs, so fn runs at most once and the callback never sees a freed finalizer.
 */
#include <stdio.h>

#include "runtime/weak.h"

typedef struct hm__finalize {
    hm_object base;
    hm_object *wr;  /* to the object; NULL once dead */
    hm_object *arg;
    hm_finalize_fn fn;
    void *user;
    bool atexit;
    struct hm__finalize *prev, *next; /* the registry, newest first */
} finalize_obj;

#define F(o) ((finalize_obj *)(o))
#define CF(o) ((const finalize_obj *)(o))

static int finalize_traverse(hm_object *self, hm_visit_fn visit, void *arg)
{
    HM_VISIT(F(self)->wr, HM_EDGE_NAMED("weakref"));
    HM_VISIT(F(self)->arg, HM_EDGE_NAMED("args"));
    return 0;
}

static void finalize_clear(hm_object *self)
{
    /* Only a dead finalizer can be cleared: a live one is held by the registry. */
    hm_object *wr = F(self)->wr, *arg = F(self)->arg;
    F(self)->wr = F(self)->arg = NULL;
    if (wr)
        hm__weakref_disarm(wr);
    hm_xdecref(wr);
    hm_xdecref(arg);
}

static int finalize_label(const hm_object *self, char *buf, size_t size)
{
    const hm_object *wr = CF(self)->wr;
    if (!wr || hm_weakref_is_dead(wr))
        return snprintf(buf, size, "<finalize; dead>");
    return snprintf(buf, size, "<finalize; for %s>", CWR(wr)->referent->type->name);
}

static const hm_type finalize_type = {
    .name = "finalize",
    .basicsize = sizeof(finalize_obj),
    .flags = HM_TYPE_GC,
    .traverse = finalize_traverse,
    .clear = finalize_clear,
    .label = finalize_label,
};

static bool is_finalize(const hm_object *o) { return o && o->type == &finalize_type; }

/* Makes f dead: off the registry, weakref disarmed and dropped. Hands the caller the arg and
 * the registry's reference to f (so that f outlives the call of fn). */
static hm_object *kill(finalize_obj *f)
{
    hm__weak *w = hm__heap_of(&f->base)->weak;
    if (f->prev)
        f->prev->next = f->next;
    else
        w->registry = f->next;
    if (f->next)
        f->next->prev = f->prev;
    f->prev = f->next = NULL;
    hm_object *wr = f->wr, *arg = f->arg;
    f->wr = f->arg = NULL;
    hm__weakref_disarm(wr);
    hm_decref(wr);
    return arg;
}

/* Runs f if alive. The registry's reference is dropped last: f may be freed then. */
static bool run(finalize_obj *f)
{
    if (!f->wr)
        return false;
    hm_finalize_fn fn = f->fn;
    void *user = f->user;
    hm_object *arg = kill(f);
    fn(arg, user);
    hm_xdecref(arg);
    hm_decref(&f->base);
    return true;
}

/* The weakref's callback: the object died. The registry still holds f. */
static void on_death(hm_object *wr, void *user)
{
    (void)wr;
    run(user);
}

hm_object *hm_finalize_new(hm_object *obj, hm_finalize_fn fn, hm_object *arg, void *user)
{
    if (!obj || !fn || obj->rc == 0)
        return NULL;
    hm_heap *h = hm__heap_of(obj);
    hm__weak *w = hm__weak_state(h);
    if (!w)
        return NULL;
    hm_object *self = hm_object_new(h, &finalize_type);
    if (!self)
        return NULL;
    finalize_obj *f = F(self);
    f->wr = hm_weakref_new(obj, on_death, f);
    if (!f->wr) {
        hm_decref(self);
        return NULL;
    }
    f->arg = hm_xincref(arg);
    f->fn = fn;
    f->user = user;
    f->atexit = true; /* as Python's default */
    f->next = w->registry;
    if (w->registry)
        w->registry->prev = f;
    w->registry = f;
    return hm_incref(self); /* one for the registry, one for the caller */
}

bool hm_finalize_alive(const hm_object *f) { return is_finalize(f) && CF(f)->wr != NULL; }

int hm_finalize_call(hm_object *f)
{
    if (!is_finalize(f))
        return HM_ETYPE;
    return run(F(f)) ? 1 : 0;
}

static bool fill(const finalize_obj *f, hm_object **obj, hm_finalize_fn *fn, hm_object **arg,
                 void **user)
{
    if (!f->wr)
        return false;
    hm_object *o = hm_weakref_get(f->wr);
    if (!o)
        return false; /* dying, its callback about to run */
    if (obj)
        *obj = o;
    else
        hm_decref(o);
    if (fn)
        *fn = f->fn;
    if (arg)
        *arg = hm_xincref(f->arg);
    if (user)
        *user = f->user;
    return true;
}

bool hm_finalize_peek(const hm_object *f, hm_object **obj, hm_finalize_fn *fn, hm_object **arg,
                      void **user)
{
    return is_finalize(f) && fill(CF(f), obj, fn, arg, user);
}

bool hm_finalize_detach(hm_object *f, hm_object **obj, hm_finalize_fn *fn, hm_object **arg,
                        void **user)
{
    if (!is_finalize(f) || !fill(F(f), obj, fn, arg, user))
        return false;
    hm_xdecref(kill(F(f)));
    hm_decref(f); /* the registry's */
    return true;
}

bool hm_finalize_get_atexit(const hm_object *f) { return is_finalize(f) && CF(f)->atexit; }

void hm_finalize_set_atexit(hm_object *f, bool atexit)
{
    if (is_finalize(f))
        F(f)->atexit = atexit;
}

void hm__finalize_atexit(hm_heap *h)
{
    hm__weak *w = h->weak;
    if (!w || !w->registry)
        return;
    /* As Python's finalize._exitfunc: no collection meanwhile, newest first, and finalizers
     * made by those that run are picked up too. */
    bool enabled = h->gc_enabled;
    h->gc_enabled = false;
    for (;;) {
        finalize_obj *f = w->registry;
        while (f && !f->atexit)
            f = f->next;
        if (!f)
            break;
        run(f);
    }
    h->gc_enabled = enabled;
}
