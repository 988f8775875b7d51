/* internal.h: what the runtime's files share and the public header hides: the heap structure,
 * the intrusive object lists, the allocation indirection and private flag bits. */
#ifndef HM_INTERNAL_H
#define HM_INTERNAL_H

#include "hm.h"
#include "runtime/fault.h"
#include "runtime/pool.h"

/* Private flag bits, above the public HM_FLAG_* ones. */
#define HM__COLLECTING  0x100u /* in the generations being collected right now */
#define HM__UNREACHABLE 0x200u /* tentatively unreachable (on the collector's unreachable list) */
#define HM__RUNTIME     0x400u /* owned by the runtime (caches, garbage list): not a leak */
/* Weakrefs point at this object. Their list is in a side table of the heap (the header stays
 * 40 bytes); the bit spares deallocation a lookup for the objects that have none. */
#define HM__WEAKREFS    0x10000u

/* A tracked object's generation (0..2, or HM_GEN_PERMANENT when frozen): it names the list the
 * object is on, so that the collector can tell a candidate from its flags alone. */
#define HM__GEN_SHIFT 12
#define HM__GEN_MASK (3u << HM__GEN_SHIFT)

static inline unsigned hm__gen_of(const hm_object *o) { return (o->flags & HM__GEN_MASK) >> HM__GEN_SHIFT; }
static inline void hm__set_gen(hm_object *o, unsigned gen)
{
    o->flags = (o->flags & ~HM__GEN_MASK) | (gen << HM__GEN_SHIFT);
}

#define HM__SMALL_INT_MIN (-5)
#define HM__SMALL_INT_MAX 256
#define HM__SMALL_INTS (HM__SMALL_INT_MAX - HM__SMALL_INT_MIN + 1)

/* ---- intrusive doubly-linked lists with a sentinel, as CPython's PyGC_Head lists ---- */

static inline void hm__list_init(hm_link *l) { l->next = l->prev = l; }
static inline bool hm__list_empty(const hm_link *l) { return l->next == l; }
static inline hm_object *hm__obj(hm_link *l) { return (hm_object *)(void *)l; }

static inline void hm__list_append(hm_link *l, hm_object *o)
{
    hm_link *last = l->prev;
    o->gc.prev = last;
    o->gc.next = l;
    last->next = &o->gc;
    l->prev = &o->gc;
}

static inline void hm__list_remove(hm_object *o)
{
    o->gc.prev->next = o->gc.next;
    o->gc.next->prev = o->gc.prev;
    o->gc.next = o->gc.prev = NULL;
}

static inline void hm__list_move(hm_object *o, hm_link *to)
{
    o->gc.prev->next = o->gc.next;
    o->gc.next->prev = o->gc.prev;
    hm__list_append(to, o);
}

/* Appends all of from to the end of to, leaving from empty. */
static inline void hm__list_merge(hm_link *from, hm_link *to)
{
    if (hm__list_empty(from))
        return;
    hm_link *last = to->prev;
    last->next = from->next;
    from->next->prev = last;
    to->prev = from->prev;
    from->prev->next = to;
    hm__list_init(from);
}

size_t hm__list_size(const hm_link *l);

/* ---- the heap ---- */

typedef struct hm__gen {
    hm_link head;
    long threshold;
    long count;
    hm_gc_stats stats;
} hm__gen;

typedef struct hm__callback {
    hm_gc_callback_fn fn;
    void *user;
} hm__callback;

/* Ids: the heap's serial in the top bits, a per-heap count below. */
#define HM__SERIAL_SHIFT 48
#define HM__SERIALS (1u << 16)
#define HM__ID_COUNT_MAX ((UINT64_C(1) << HM__SERIAL_SHIFT) - 1)

/* Live heaps by serial: how an object finds its heap without storing a pointer to it. */
extern hm_heap *hm__heaps[HM__SERIALS];

static inline hm_heap *hm__heap_of(const hm_object *o) { return hm__heaps[o->id >> HM__SERIAL_SHIFT]; }

/* Spreads an id or an integer over the bits a hash table's mask keeps (MurmurHash3's finalizer,
 * in part): ids of one heap differ mostly in their low bits. */
static inline uint64_t hm__hash_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdu;
    x ^= x >> 33;
    return x;
}

/* Bytes of an object's own block. */
static inline size_t hm__block_size(const hm_object *o)
{
    return o->type->basicsize + (o->type->var_size ? o->type->var_size(o) : 0);
}

struct hm_heap {
    uint64_t serial;  /* in the top bits of every id */
    uint64_t id_base;
    uint64_t next_id;

    /* Every live object is on exactly one of: untracked, a generation, permanent, or (briefly)
     * one of the collector's or the deallocator's private lists. */
    hm_link untracked;
    hm__gen gen[HM_GC_GENERATIONS];
    hm_link permanent;

    hm_heap_stats stats;
    hm__pools pools;          /* the small-object allocator (pool.h) */
    hm__fault fault;          /* allocation failure injection (fault.h) */
    struct hm__trace *trace;  /* allocation-site tracing (trace.c); NULL when off */
    uint32_t site;            /* the current site while tracing: an index in trace's table */

    /* collector state */
    bool gc_enabled;
    bool collecting;
    unsigned debug;
    size_t long_lived_total;   /* survivors of the last full collection */
    size_t long_lived_pending; /* objects promoted to the oldest generation since */
    hm_object *garbage;        /* gc.garbage, made on first use */
    hm__callback *callbacks;
    size_t ncallbacks;
    hm_gc_debug_fn debug_fn;
    void *debug_user;
    /* Weak references plug in here: called on the unreachable set before any finalizer runs,
     * to clear weakrefs to those objects and queue the callbacks of weakrefs that survive.
     * Returns true if it ran user code (which may have resurrected something). */
    bool (*clear_weakrefs)(hm_heap *h, hm_link *unreachable);
    struct hm__weak *weak; /* weakref side table and finalize registry (weak.h); NULL until used */

    hm_lifecycle_fn lifecycle;
    void *lifecycle_user;

    /* Named roots (roots.c): each holds one counted reference, as a module global would. */
    struct hm__named_root *named_roots;
    size_t nnamed_roots, capnamed_roots;
    /* Snapshots asked for at exit or on a signal (snapshot_trigger.c); NULL until asked. */
    struct hm__snapshot_triggers *triggers;
    int snapshot_epoch; /* the signal epoch this heap has seen (snapshot.h) */

    /* Deallocation runs as a loop over this queue, never recursively: freeing the head of a
     * 10M-long chain must not overflow the C stack. While dealloc_deferring, an object whose
     * count reaches zero joins the queue, for the loop up the stack. deallocating counts those
     * loops: user code a deallocation runs opens one of its own (hm__dealloc_pause). */
    hm_link dealloc_queue;
    unsigned deallocating;
    bool dealloc_deferring;
    bool destroying;

    hm_object *small_ints[HM__SMALL_INTS];
    struct {
        hm_object **slots; /* open addressing, linear probing; NULL is empty */
        size_t cap, count;
    } interned;
};

/* Around user code that a deallocation runs (finalizers, weakref callbacks): until resume, an
 * object released dies at once, as in CPython, instead of waiting for the deallocation in
 * progress; the objects already queued wait in *waiting. Past HM__DEALLOC_NESTING_MAX nested
 * loops, nothing pauses and releases wait on the queue (CPython's trashcan lets them wait too):
 * the C stack stays bounded whatever chain of deaths the callbacks start. */
#define HM__DEALLOC_NESTING_MAX 50
bool hm__dealloc_pause(hm_heap *h, hm_link *waiting);
void hm__dealloc_resume(hm_heap *h, hm_link *waiting, bool paused);

/* ---- allocation: every byte of a heap goes through here, to its pools or to malloc ---- */
void *hm__alloc(hm_heap *h, size_t size);
void *hm__realloc(hm_heap *h, void *p, size_t old_size, size_t new_size);
void hm__free(hm_heap *h, void *p, size_t size);
/* The heap's side tables and buffers (not counted in its bytes): malloc's, behind the same
 * failure injection as the objects; free them with free(). The heap may be const (alloc.c says
 * why). */
void *hm__sys_malloc(const hm_heap *h, size_t size);
void *hm__sys_calloc(const hm_heap *h, size_t n, size_t size);
void *hm__sys_realloc(const hm_heap *h, void *p, size_t size);
char *hm__sys_strdup(const hm_heap *h, const char *s);

/* ---- built-ins and classes ---- */
uint64_t hm__str_hash(const char *s, size_t len);
uint64_t hm__str_hash_of(const hm_object *str);
void hm__intern_fini(hm_heap *h);
/* Dict lookups by an int key's value, with no int object made (the weak containers). */
hm_object *hm__dict_get_int(const hm_object *dict, int64_t key); /* borrowed; NULL if absent */
int hm__dict_del_int(hm_object *dict, int64_t key);              /* HM_EKEY if absent */
int hm__instance_traverse(hm_object *self, hm_visit_fn visit, void *arg);

/* ---- the collector (gc.c) ---- */
void hm__gc_on_alloc(hm_heap *h); /* a container is about to be created: maybe collect */
void hm__gc_heap_init(hm_heap *h);
void hm__gc_heap_fini(hm_heap *h);

/* ---- weak references and finalizers (weakref.c, finalize.c) ---- */
void hm__weakref_clear_dealloc(hm_heap *h, hm_object *o); /* o has HM__WEAKREFS, count 0 */
void hm__finalize_atexit(hm_heap *h); /* hm_heap_destroy, first: live atexit finalizers */
void hm__weak_heap_fini(hm_heap *h);

/* ---- allocation sites (trace.c) and their call stacks (trace_stacks.c, trace_frames.c) ---- */
/* A stack tree: node i + 1 is the frame pc called from the stack ending in node parent (0: the
 * outermost frame recorded). */
typedef struct hm__stack_node {
    uintptr_t pc;    /* a return address */
    uint32_t parent; /* node + 1, or 0 */
} hm__stack_node;
typedef struct hm__stacks {
    hm__stack_node *nodes;
    size_t n, cap;
    uint32_t *slots; /* open addressing on (parent, pc): node + 1, 0 empty */
    size_t slot_cap;
} hm__stacks;
/* The stack from return address caller (hm_trace_here's, in the program) outwards, depth frames
 * at most: its innermost node + 1, or 0 when out of memory. */
uint32_t hm__stacks_capture(hm_heap *h, hm__stacks *s, unsigned depth, const void *caller);
void hm__stacks_init(void); /* once per process before the first capture; may be repeated */
void hm__stacks_free(hm__stacks *s);

/* Called only while h->trace is set. */
bool hm__trace_record(hm_heap *h, const hm_object *o, size_t size);
void hm__trace_forget(hm_heap *h, const hm_object *o);
void hm__trace_fini(hm_heap *h);
/* For the snapshot writer: the site table, and an object's index in it. Both see nothing when
 * tracing is off. */
size_t hm__trace_sites(const hm_heap *h, const hm_site **sites);
bool hm__trace_site_index(const hm_heap *h, uint64_t id, uint32_t *site);
/* The stacks recorded (NULL when tracing without a depth), and site i's innermost node + 1 (0:
 * none). */
const hm__stacks *hm__trace_stacks(const hm_heap *h);
uint32_t hm__trace_site_stack(const hm_heap *h, size_t site);
struct hm__out;
/* The snapshot's "frames" and "stacks" (trace_frames.c); nothing without stacks. */
void hm__trace_write_stacks(struct hm__out *out, const hm_heap *h);
/* The frames of the stacks recorded: every distinct return address once, in address order, and
 * the names libdwfl gives it. open is false when there are none (or, *status set, no memory). */
typedef struct hm__frames {
    uintptr_t *pcs;
    size_t n;
    struct Dwfl *dwfl;
    char *(*demangle)(const char *, char *, size_t *, int *);
} hm__frames;
typedef struct hm__frame {
    char *function, *file; /* malloc'd, NULL when unknown: the caller frees them */
    const char *module;    /* "?" when unknown */
    uint32_t line;
    uint64_t offset;       /* from the module's load bias; the address without a module */
} hm__frame;
bool hm__frames_open(const hm_heap *h, hm__frames *f, int *status);
void hm__frames_name(const hm__frames *f, size_t i, hm__frame *out);
uint32_t hm__frames_index(const hm__frames *f, uintptr_t pc); /* pc is some node's */
void hm__frames_close(hm__frames *f);

/* ---- snapshots: named roots (roots.c) and triggers (snapshot_trigger.c) ---- */
typedef struct hm__named_root {
    char *name;
    hm_object *object;
} hm__named_root;
void hm__roots_fini(hm_heap *h);         /* hm_heap_destroy: drops every named root */
void hm__snapshot_heap_fini(hm_heap *h); /* hm_heap_destroy: the at-exit dump, then disarms */

#endif /* HM_INTERNAL_H */
