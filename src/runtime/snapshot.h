/* snapshot.h: the writer's core, shared by the destinations (snapshot_file.c) and the triggers
 * (snapshot_trigger.c). */
#ifndef HM_RUNTIME_SNAPSHOT_H
#define HM_RUNTIME_SNAPSHOT_H

#include <signal.h>

#include "hm_snapshot.h"
#include "runtime/internal.h"
#include "runtime/snapshot_out.h"

/* ---- what both forms of a snapshot share (snapshot.c) ---- */

/* A walk over every object of the heap in increasing id order (the collector's lists, sorted by
 * hm__snapshot_prepare, merged as they go), the runtime's garbage list object left out. */
#define HM__SNAPSHOT_LOOKAHEAD 4u
typedef struct hm__walk {
    hm_link *head[HM_GC_GENERATIONS + 2], *at[HM_GC_GENERATIONS + 2];
    const hm_object *skip;
    bool prefetch; /* ask for the referents' memory a few objects ahead */
    hm_object *ring[HM__SNAPSHOT_LOOKAHEAD];
    unsigned in, out;
} hm__walk;
void hm__walk_begin(hm__walk *w, hm_heap *h, bool prefetch);
hm_object *hm__walk_next(hm__walk *w);

/* The types in use, numbered in order of first appearance. */
typedef struct hm__type_table {
    const hm_type **types; /* by id */
    size_t n;
    uint32_t *slots; /* open addressing: id + 1, 0 empty; a power of two, at most half full */
    size_t cap;
    const hm_type *last; /* most objects in a row share a type */
    uint32_t last_id;
} hm__type_table;

/* Roots held in tables (named roots, the garbage list), sorted by object id. */
typedef struct hm__listed {
    uint64_t id;
    const char *name; /* named roots; NULL for the garbage list */
} hm__listed;
typedef struct hm__listing {
    hm__listed *items;
    size_t n, at; /* at: the walk's position */
} hm__listing;

typedef struct hm__snapshot_prep {
    hm__type_table types;
    hm__listing named, garbage;
} hm__snapshot_prep;
/* Sorts the lists, numbers the types and starts each object's count of the references the heap
 * holds to it (in gc.gc_refs: its named and garbage listings; the writer adds each edge to its
 * target). Until hm__snapshot_restore, which must follow whatever this returned, only the
 * lists' `next` links are valid. false: out of memory. */
bool hm__snapshot_prepare(hm_heap *h, hm__snapshot_prep *p);
void hm__snapshot_restore(hm_heap *h, hm__snapshot_prep *p);
uint32_t hm__snapshot_type(hm__snapshot_prep *p, const hm_type *t);
/* Every root in object id order, once the edges were counted: an object is an external root
 * when its count exceeds the references the heap explains. kind is the format's word. */
/* Now in UTC as the dump's meta says "created" (ISO 8601, e.g. 2026-12-04T04:20:00Z). */
void hm__snapshot_created(char when[32]);

typedef void hm__root_fn(void *arg, const hm_object *o, const char *kind, const char *name);
void hm__snapshot_each_root(hm_heap *h, hm__snapshot_prep *p, hm__root_fn *fn, void *arg);

/* The binary index form (snapshot_index.c), for a path ending in ".hdx": written atomically. */
int hm__snapshot_write_index(hm_heap *h, const char *path, const hm_snapshot_options *opts);

/* Writes the whole dump through out and flushes it: HM_OK or the first failure. */
int hm__snapshot_emit(hm_heap *h, hm__out *out, const hm_snapshot_options *opts);

/* Bumped by the snapshot signal handler. A heap whose snapshot_epoch differs has a safe point
 * due: hm__snapshot_safe_point() takes the dumps its signal asked for. */
extern volatile sig_atomic_t hm__snapshot_epoch;
void hm__snapshot_safe_point(hm_heap *h);

#endif
