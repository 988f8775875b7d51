/* weak.h: what weakref.c, weakmap.c and finalize.c share and the rest of the runtime does not
 * need: the weakref object's layout, the heap's weak state, internal constructors. */
#ifndef HM_WEAK_H
#define HM_WEAK_H

#include "runtime/internal.h"

/* A weakref. While its referent lives it is on the referent's list (newest first, as CPython's
 * callback order), found through the heap's side table. */
typedef struct hm__weakref {
    hm_object base;
    hm_object *referent; /* NULL once cleared: dead */
    uint64_t id;         /* the referent's id, kept after its death (a key map's data key) */
    /* The referent's list while alive; once cleared, next chains the callbacks waiting to run. */
    struct hm__weakref *prev, *next;
    hm_weakref_fn callback; /* NULL once it ran, or if none */
    void *user;
    /* Strong, for the weak containers: the entry's key (value map) or value (key map), and the
     * container's weakref to itself (how a callback finds its container, if it still lives). */
    hm_object *payload;
    hm_object *owner;
} hm__weakref;

#define WR(o) ((hm__weakref *)(o))
#define CWR(o) ((const hm__weakref *)(o))

typedef struct hm__weak_slot {
    uint64_t id;         /* the referent's id; 0: never used */
    hm__weakref *head;   /* NULL with a nonzero id: a deleted slot */
} hm__weak_slot;

struct hm__finalize;

/* A heap's weak state, made with its first weakref. */
typedef struct hm__weak {
    hm__weak_slot *slots; /* open addressing by object id, linear probing */
    size_t cap, used, live;
    struct hm__finalize *registry; /* live finalizers, newest first (each holds a reference) */
} hm__weak;

hm__weak *hm__weak_state(hm_heap *h); /* made on demand; NULL when out of memory */

/* hm_weakref_new with the containers' extras: a weakref that keeps payload and owner alive. */
hm_object *hm__weakref_new_full(hm_object *obj, hm_weakref_fn callback, void *user,
                                hm_object *payload, hm_object *owner);
/* Takes away the callback, for a container letting go of a weakref others may still hold. */
void hm__weakref_disarm(hm_object *wr);

#endif /* HM_WEAK_H */
