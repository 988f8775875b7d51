/* hm.h: libhm, Python's object model for C: typed objects with reference counts, built-in types,
 * user classes and a generational cycle collector, all living in independent heaps.
 *
 * Ownership, once for the whole header: pointer arguments are borrowed (a function that keeps an
 * object takes its own reference), and functions that return an object return a NEW reference
 * that the caller releases with hm_decref(). Declarations marked "borrowed" return a reference the
 * caller does not own: it stays valid while its container keeps it.
 *
 * The library never prints and never exits: functions return HM_OK (0) or a negative HM_E* code,
 * or NULL when an object cannot be made (out of memory or a bad argument). Builds without NDEBUG
 * assert on reference-count misuse (a decref of a dead object), as CPython's debug build does.
 *
 * One heap is used by one thread at a time; several heaps may live in one process. Objects of
 * different heaps must not reference each other.
 */
#ifndef HM_H
#define HM_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------------------------
 * Status codes, one list: X(name, value, message) for each. The enum, hm_status_name() and
 * hm_status_message() are made from it. */
#define HM_STATUS_MAP(X)                                                                          \
    X(HM_OK, 0, "success")                                                                        \
    X(HM_ENOMEM, -1, "out of memory")                                                             \
    X(HM_EINVAL, -2, "invalid argument")                                                          \
    X(HM_ETYPE, -3, "object of the wrong type")        /* Python's TypeError */                   \
    X(HM_EINDEX, -4, "index out of range")             /* IndexError */                           \
    X(HM_EKEY, -5, "no such key")                      /* KeyError */                             \
    X(HM_EATTR, -6, "no such attribute")               /* or slot: AttributeError */              \
    X(HM_EBUSY, -7, "not allowed during a collection")                                            \
    X(HM_EIO, -8, "input/output error")                /* a file: errno says why */

#define HM_STATUS_ENUM_(name, value, message) name = value,
enum hm_status { HM_STATUS_MAP(HM_STATUS_ENUM_) };
#undef HM_STATUS_ENUM_

const char *hm_status_name(int status);    /* "HM_EKEY"; "HM_EUNKNOWN" for another number */
const char *hm_status_message(int status); /* "no such key"; "unknown status" */

typedef struct hm_heap hm_heap;
typedef struct hm_type hm_type;
typedef struct hm_object hm_object;

/* ---------------------------------------------------------------------------------------------
 * Objects. The header is public only so that hm_incref/hm_decref can be inlined: read it through
 * the accessors below. */
typedef struct hm_link {
    struct hm_link *next;
    union {
        struct hm_link *prev;
        uintptr_t gc_refs; /* instead of prev while a collection examines the object */
    };
} hm_link;

/* 40 bytes. The heap is not stored: hm_object_heap() finds it from the serial in the id. */
struct hm_object {
    hm_link gc;          /* the heap list this object is on: a generation, or the untracked list */
    const hm_type *type;
    uint32_t rc;         /* reference count; HM_RC_IMMORTAL sticks */
    uint32_t flags;      /* HM_FLAG_* and private collector bits */
    uint64_t id;         /* hm_object_id() */
};

/* A reference count that never changes: immortal objects (small ints, interned strings) and
 * counts that would overflow stay here, and hm_incref/hm_decref leave them alone. */
#define HM_RC_IMMORTAL UINT32_MAX

/* Public object flags, as hm_object_flags() reports them (snapshots write them out). */
#define HM_FLAG_TRACKED   0x01u /* on a collector generation (or frozen) */
#define HM_FLAG_FINALIZED 0x02u /* its finalizer has run (it never runs again) */
#define HM_FLAG_IMMORTAL  0x04u
#define HM_FLAG_INTERNED  0x08u /* a string in the heap's interned table */
#define HM_FLAG_CACHED    0x10u /* a shared small int (-5..256) */
#define HM_FLAG_FROZEN    0x20u /* moved to the permanent generation by hm_gc_freeze() */

void hm__dealloc(hm_object *o); /* private: the slow path of hm_decref */

static inline hm_object *hm_incref(hm_object *o)
{
    if (o->rc != HM_RC_IMMORTAL)
        o->rc++;
    return o;
}

static inline void hm_decref(hm_object *o)
{
    assert(o->rc > 0 && "hm_decref on a dead object");
    if (o->rc != HM_RC_IMMORTAL && --o->rc == 0)
        hm__dealloc(o);
}

static inline hm_object *hm_xincref(hm_object *o) { return o ? hm_incref(o) : NULL; }
static inline void hm_xdecref(hm_object *o) { if (o) hm_decref(o); }

/* Replaces *slot with value (may be NULL): takes a reference to value, drops the old one last, so
 * that a finalizer run by the drop sees the slot already updated. */
static inline void hm_setref(hm_object **slot, hm_object *value)
{
    hm_object *old = *slot;
    *slot = hm_xincref(value);
    hm_xdecref(old);
}

/* The sys.getrefcount() analogue. It is the true count: Python reports one more, because its
 * argument is itself a reference. Immortal objects report HM_RC_IMMORTAL. (README.md, "Differences
 * from CPython", lists every place where libhm departs from CPython 3.11 on purpose.) */
static inline size_t hm_object_refcount(const hm_object *o) { return o->rc; }
static inline const hm_type *hm_object_type(const hm_object *o) { return o->type; }
hm_heap *hm_object_heap(const hm_object *o);

/* A 64-bit id, unique in the process while the object lives and never reused by its heap: two
 * snapshots of one process name the same object by the same id. The top 16 bits are the heap's
 * serial (the first heap of a process is 0, so its ids are 1, 2, 3...), the low 48 count the
 * heap's objects. */
static inline uint64_t hm_object_id(const hm_object *o) { return o->id; }

/* The sys.getsizeof() analogue: the bytes this object occupies, its header, body and the buffers
 * it owns (a list's item array, a dict's table), but not the objects it references. */
size_t hm_object_size(const hm_object *o);

uint32_t hm_object_flags(const hm_object *o); /* HM_FLAG_* bits */

/* Makes o immortal: its count never changes again and it lives until its heap is destroyed. */
void hm_object_make_immortal(hm_object *o);

/* A short repr for dumps and graphs ("Node(value=1)", "'abc'", "list[3]"), at most
 * HM_LABEL_MAX - 1 characters, always terminated. Returns the length written. */
#define HM_LABEL_MAX 81
size_t hm_object_label(const hm_object *o, char *buf, size_t size);

/* Creates an object of `type` with a zeroed body (and `extra` zeroed bytes after basicsize for
 * variable-size types, whose var_size hook must report the same extra): count 1, tracked by the
 * collector if the type is HM_TYPE_GC. May run an automatic collection first, as any allocation
 * of a container may. NULL when out of memory. */
hm_object *hm_object_new(hm_heap *h, const hm_type *type);
hm_object *hm_object_new_var(hm_heap *h, const hm_type *type, size_t extra);

/* ---------------------------------------------------------------------------------------------
 * References and their names. A type's traverse hook calls visit once per strong reference with
 * an hm_edge saying where the reference sits. The edge is two words passed by value and is only
 * formatted, by hm_edge_format(), when someone needs the name (dumps, graphs): the collector never
 * pays for names. */
typedef enum hm_edge_kind {
    HM_EDGE_FIELD, /* a named field or slot: u.name, a string that outlives the object */
    HM_EDGE_INDEX, /* a list or tuple item: u.index, named "[3]" */
    HM_EDGE_VALUE, /* a dict value: u.key is its key, named "['k']" or "[42]" */
    HM_EDGE_KEY,   /* a dict key itself: u.index is its entry, named "<key 3>" */
} hm_edge_kind;

typedef struct hm_edge {
    hm_edge_kind kind;
    union {
        const char *name;
        size_t index;
        const hm_object *key;
    } u;
} hm_edge;

#define HM_EDGE_NAMED(s) ((hm_edge){.kind = HM_EDGE_FIELD, .u.name = (s)})
#define HM_EDGE_AT(i) ((hm_edge){.kind = HM_EDGE_INDEX, .u.index = (i)})
#define HM_EDGE_OF_KEY(k) ((hm_edge){.kind = HM_EDGE_VALUE, .u.key = (k)})
#define HM_EDGE_KEY_AT(i) ((hm_edge){.kind = HM_EDGE_KEY, .u.index = (i)})

/* Writes the edge's name ("next", "[3]", "['name']") into buf, always terminated; returns its
 * length (at most size - 1). */
size_t hm_edge_format(hm_edge edge, char *buf, size_t size);

/* A visitor returns 0 to go on; anything else stops the traversal, which returns that value. */
typedef int (*hm_visit_fn)(hm_object *target, hm_edge edge, void *arg);

/* For traverse hooks: visits a field if it is set, and returns early if the visitor says so. */
#define HM_VISIT(obj, edge)                                     \
    do {                                                        \
        if ((obj) != NULL) {                                    \
            int hm_visit_r_ = visit((obj), (edge), arg);        \
            if (hm_visit_r_)                                    \
                return hm_visit_r_;                             \
        }                                                       \
    } while (0)

/* ---------------------------------------------------------------------------------------------
 * Types. A type descriptor must outlive every object of that type in every heap. */
#define HM_TYPE_GC               0x1u /* a container: holds references, tracked by the collector */
#define HM_TYPE_LEGACY_FINALIZER 0x2u /* finalize is unsafe in a cycle: such cycles are not
                                          collected but moved to the garbage list, as CPython does
                                          for tp_del. Unlike tp_del, finalize still runs at most
                                          once per object (a death by count runs it; a later one,
                                          after a resurrection, does not) */

struct hm_type {
    const char *name;
    size_t basicsize; /* bytes of an instance, hm_object header included */
    unsigned flags;   /* HM_TYPE_* */
    /* Calls visit on every strong reference the object holds (containers only). Must not
     * allocate, free or change any count. */
    int (*traverse)(hm_object *self, hm_visit_fn visit, void *arg);
    /* Drops every reference the object holds, leaving it valid and empty: how the collector
     * breaks cycles, and the first step of deallocation. May be called more than once. */
    void (*clear)(hm_object *self);
    /* Python's __del__ (PEP 442): runs at most once per object, before it is destroyed or
     * cleared; may store self somewhere and so resurrect it. */
    void (*finalize)(hm_object *self);
    /* Frees what the object owns besides references (item arrays, tables), touching no other
     * object. Called after clear at deallocation, alone when a heap is destroyed. */
    void (*release)(hm_object *self);
    /* Variable-size types: the bytes after basicsize in the object's own block, as given to
     * hm_object_new_var(). NULL: none. */
    size_t (*var_size)(const hm_object *self);
    /* Bytes owned outside the object's own block (buffers freed by release), for
     * hm_object_size(). */
    size_t (*extra_size)(const hm_object *self);
    /* Writes a short repr, as snprintf does; NULL gives "<name #id>". */
    int (*label)(const hm_object *self, char *buf, size_t size);
};

/* ---------------------------------------------------------------------------------------------
 * Heaps. */
typedef enum hm_lifecycle_event {
    HM_EVENT_CREATE,  /* the object was just made (its constructor has not filled it yet) */
    HM_EVENT_DESTROY, /* the object is about to be cleared and freed (still intact) */
} hm_lifecycle_event;

typedef void (*hm_lifecycle_fn)(hm_object *o, hm_lifecycle_event event, void *user);

/* NULL when out of memory, or when 65536 heaps are alive at once. */
hm_heap *hm_heap_new(void);

/* What hm_heap_destroy() found still alive: objects the program still owned or leaked, not the
 * runtime's own (small-int cache, interned strings, the garbage list itself). on_alive, if set,
 * is called on each of them, intact, before anything is freed. */
typedef struct hm_heap_report {
    void (*on_alive)(const hm_object *o, void *user);
    void *user;
    size_t objects; /* filled in */
    size_t bytes;   /* filled in: their hm_object_size() */
} hm_heap_report;

/* Runs the live atexit finalizers (hm_finalize_new), then frees every object of the heap (no
 * other finalizer, callback, hook or clear runs) and the heap itself.
 * Returns how many objects were still alive; report may be NULL. Not from inside a collection or
 * a finalizer of that heap. */
size_t hm_heap_destroy(hm_heap *h, hm_heap_report *report);

/* An optional callback on every object creation and destruction (to print an [INIT] or [DEL]
 * line, say); fn NULL turns it off. */
void hm_heap_set_lifecycle(hm_heap *h, hm_lifecycle_fn fn, void *user);

typedef struct hm_heap_stats {
    size_t objects;        /* live objects */
    size_t bytes;          /* bytes the heap holds from its allocator */
    size_t peak_bytes;
    uint64_t allocations;  /* objects created so far */
    uint64_t deallocations;
} hm_heap_stats;

void hm_heap_get_stats(const hm_heap *h, hm_heap_stats *out);

/* Where an object lives: HM_GEN_UNTRACKED, 0..2, or HM_GEN_PERMANENT (frozen). */
#define HM_GEN_UNTRACKED (-1)
#define HM_GEN_PERMANENT 3

/* Calls fn on every live object of the heap, tracked or not (what a snapshot lists). fn returns
 * 0 to go on; anything else stops the walk and is returned. fn must not create or destroy
 * objects. HM_EBUSY during a collection (objects are then on private lists). */
int hm_heap_foreach(hm_heap *h, int (*fn)(hm_object *o, int generation, void *user), void *user);

/* ---------------------------------------------------------------------------------------------
 * Built-in types. The hm_*_type descriptors are shared by every heap. */
extern const hm_type hm_int_type, hm_str_type, hm_list_type, hm_tuple_type, hm_dict_type;

static inline bool hm_is(const hm_object *o, const hm_type *t) { return o->type == t; }

/* int: a 64-bit integer. -5..256 are shared immortal objects, one per heap, so that identity
 * behaves as in Python ("100 is 100", "1000 is not 1000"). */
hm_object *hm_int_new(hm_heap *h, int64_t value);
int64_t hm_int_value(const hm_object *o);

/* str: immutable bytes (UTF-8 by convention), NUL-terminated for convenience. */
hm_object *hm_str_new(hm_heap *h, const char *s);
hm_object *hm_str_new_len(hm_heap *h, const char *s, size_t len);
/* A string constant as CPython's compiler makes one: identifier-like text ("hello") is interned,
 * anything else ("hello world") is a new object each time, as in the interactive prompt. */
hm_object *hm_str_const(hm_heap *h, const char *s);
/* The sys.intern() analogue: the one interned (immortal) string with this text. */
hm_object *hm_str_intern(hm_heap *h, const char *s);
hm_object *hm_str_intern_len(hm_heap *h, const char *s, size_t len);
const char *hm_str_data(const hm_object *o); /* borrowed, lives as long as o */
size_t hm_str_len(const hm_object *o);
bool hm_str_equal(const hm_object *a, const hm_object *b);
size_t hm_intern_count(const hm_heap *h); /* strings in the interned table */

/* list */
hm_object *hm_list_new(hm_heap *h);
size_t hm_list_len(const hm_object *list);
int hm_list_append(hm_object *list, hm_object *item);
hm_object *hm_list_get(const hm_object *list, size_t i); /* borrowed; NULL out of range */
int hm_list_set(hm_object *list, size_t i, hm_object *item);
hm_object *hm_list_pop(hm_object *list, size_t i);      /* NULL out of range */
int hm_list_clear(hm_object *list);

/* tuple: fixed at creation */
hm_object *hm_tuple_new(hm_heap *h, size_t n, hm_object *const items[]);
hm_object *hm_tuple_pack(hm_heap *h, size_t n, ...); /* n <= 16 hm_object * arguments */
size_t hm_tuple_len(const hm_object *tuple);
hm_object *hm_tuple_get(const hm_object *tuple, size_t i); /* borrowed; NULL out of range */

/* dict: insertion-ordered. Keys: str and int compare by value, anything else by identity. */
hm_object *hm_dict_new(hm_heap *h);
size_t hm_dict_len(const hm_object *dict);
int hm_dict_set(hm_object *dict, hm_object *key, hm_object *value);
hm_object *hm_dict_get(const hm_object *dict, const hm_object *key); /* borrowed; NULL if absent */
int hm_dict_del(hm_object *dict, const hm_object *key);               /* HM_EKEY if absent */
int hm_dict_set_str(hm_object *dict, const char *key, hm_object *value);
hm_object *hm_dict_get_str(const hm_object *dict, const char *key); /* borrowed */
int hm_dict_del_str(hm_object *dict, const char *key);
int hm_dict_clear(hm_object *dict);
/* Iteration: start with *pos = 0; returns false at the end. key and value are borrowed. The dict
 * must not change during the walk. */
bool hm_dict_next(const hm_object *dict, size_t *pos, hm_object **key, hm_object **value);

/* ---------------------------------------------------------------------------------------------
 * User classes, in Python's two layouts: fixed named slots (__slots__) or a dict of attributes
 * (__dict__, an hm dict the instance owns). An instance of the __dict__ layout is two objects,
 * each counted by the collector: a garbage pair of them is 4 objects found (CPython 3.11 keeps
 * most instances' attributes inline and finds 2). */
typedef struct hm_class_spec {
    const char *name;
    const char *const *slots;           /* NULL-terminated slot names; NULL: the __dict__ layout */
    void (*finalize)(hm_object *self);  /* __del__; may be NULL */
    unsigned flags;                     /* HM_TYPE_LEGACY_FINALIZER */
    int (*label)(const hm_object *self, char *buf, size_t size); /* NULL: "Name(a=1, b='x')" */
} hm_class_spec;

/* A new class (a copy of spec, names included); NULL on a bad spec or out of memory. Free it
 * with hm_class_free() only after every heap that made instances of it is destroyed. */
hm_type *hm_class_new(const hm_class_spec *spec);
void hm_class_free(hm_type *cls);
bool hm_is_instance(const hm_object *o); /* an instance of some user class */

hm_object *hm_instance_new(hm_heap *h, const hm_type *cls);
/* value NULL deletes. HM_EATTR for a name that is not a slot of a __slots__ class. */
int hm_instance_set(hm_object *self, const char *attr, hm_object *value);
hm_object *hm_instance_get(const hm_object *self, const char *attr); /* borrowed; NULL if unset */
/* Slot access by position, for speed; -1 / HM_EATTR when there is no such slot. */
int hm_class_slot_index(const hm_type *cls, const char *attr);
int hm_instance_set_slot(hm_object *self, size_t index, hm_object *value);
hm_object *hm_instance_get_slot(const hm_object *self, size_t index); /* borrowed */
hm_object *hm_instance_dict(const hm_object *self); /* borrowed; NULL for a __slots__ class */
/* What one instance really costs: hm_object_size() of the instance plus that of its __dict__. */
size_t hm_instance_size(const hm_object *self);

/* ---------------------------------------------------------------------------------------------
 * The cycle collector: Python's gc module, per heap. */
#define HM_GC_GENERATIONS 3
#define HM_GC_FULL (HM_GC_GENERATIONS - 1)

/* Debug flags (gc.DEBUG_*). Nothing is printed: events go to the debug callback. */
#define HM_GC_DEBUG_STATS         0x01u /* HM_GC_EVENT_START / HM_GC_EVENT_DONE per collection */
#define HM_GC_DEBUG_COLLECTABLE   0x02u /* one HM_GC_EVENT_COLLECTABLE per unreachable object */
#define HM_GC_DEBUG_UNCOLLECTABLE 0x04u /* one HM_GC_EVENT_UNCOLLECTABLE per uncollectable object */
#define HM_GC_DEBUG_SAVEALL       0x20u /* keep unreachable objects in the garbage list instead */
#define HM_GC_DEBUG_LEAK (HM_GC_DEBUG_COLLECTABLE | HM_GC_DEBUG_UNCOLLECTABLE | HM_GC_DEBUG_SAVEALL)

typedef struct hm_gc_result {
    size_t collected;     /* unreachable objects freed (or saved, with SAVEALL) */
    size_t uncollectable; /* unreachable objects kept because of legacy finalizers */
} hm_gc_result;

/* gc.collect(generation): collects generations 0..generation (HM_GC_FULL for all). Returns the
 * number of unreachable objects found (collected + uncollectable, as Python does), or HM_EINVAL,
 * or HM_EBUSY when called from inside a collection. out may be NULL. */
int64_t hm_gc_collect(hm_heap *h, int generation, hm_gc_result *out);

void hm_gc_enable(hm_heap *h);
void hm_gc_disable(hm_heap *h);
bool hm_gc_isenabled(const hm_heap *h);

/* Allocations minus deallocations of containers since generation 0 was last collected, and
 * collections of generation i-1 since generation i was (gc.get_count()). */
void hm_gc_get_count(const hm_heap *h, long counts[HM_GC_GENERATIONS]);
void hm_gc_get_threshold(const hm_heap *h, long thresholds[HM_GC_GENERATIONS]);
/* Defaults 700, 10, 10. A threshold0 of 0 disables automatic collection. HM_EINVAL if < 0. */
int hm_gc_set_threshold(hm_heap *h, long threshold0, long threshold1, long threshold2);

typedef struct hm_gc_stats {
    uint64_t collections;
    uint64_t collected;
    uint64_t uncollectable;
    uint64_t candidates; /* objects examined */
    double duration;     /* seconds spent collecting */
} hm_gc_stats;

int hm_gc_get_stats(const hm_heap *h, int generation, hm_gc_stats *out); /* HM_EINVAL */

/* New lists (the list itself excluded), or NULL out of memory. generation -1 means all three
 * (not the frozen ones). */
hm_object *hm_gc_get_objects(hm_heap *h, int generation);
hm_object *hm_gc_get_referrers(hm_heap *h, const hm_object *target); /* tracked referrers */
hm_object *hm_gc_get_referents(hm_object *o);

bool hm_gc_is_tracked(const hm_object *o);
bool hm_gc_is_finalized(const hm_object *o);
/* Containers are tracked from creation and stay tracked (CPython untracks dicts and tuples that
 * hold only atoms; libhm never does it by itself); untracking one (say, because it can hold only
 * atoms) hides it from the collector. Both are no-ops for leaf types. */
void hm_gc_track(hm_object *o);
void hm_gc_untrack(hm_object *o);

/* gc.freeze(): moves every tracked object to the permanent generation, ignored by collections. */
void hm_gc_freeze(hm_heap *h);
void hm_gc_unfreeze(hm_heap *h); /* back into the oldest generation */
size_t hm_gc_get_freeze_count(const hm_heap *h);

typedef enum hm_gc_event_kind {
    HM_GC_EVENT_START,        /* "gc: collecting generation N" with the generation sizes */
    HM_GC_EVENT_DONE,         /* "gc: done, N unreachable, M uncollectable, T s elapsed" */
    HM_GC_EVENT_COLLECTABLE,  /* "gc: collectable <object>" */
    HM_GC_EVENT_UNCOLLECTABLE /* "gc: uncollectable <object>" */
} hm_gc_event_kind;

typedef struct hm_gc_event {
    hm_gc_event_kind kind;
    int generation;
    const hm_object *object;              /* COLLECTABLE / UNCOLLECTABLE */
    size_t sizes[HM_GC_GENERATIONS];      /* START: objects in each generation */
    size_t collected, uncollectable;      /* DONE */
    double elapsed;                       /* DONE, seconds */
} hm_gc_event;

/* The callback must not resurrect the object it is shown. */
typedef void (*hm_gc_debug_fn)(hm_heap *h, const hm_gc_event *event, void *user);

void hm_gc_set_debug(hm_heap *h, unsigned flags);
unsigned hm_gc_get_debug(const hm_heap *h);
void hm_gc_set_debug_callback(hm_heap *h, hm_gc_debug_fn fn, void *user);

/* gc.garbage: a list the heap owns; uncollectable objects (and with SAVEALL, all unreachable
 * ones) are appended to it. Clear it with hm_list_clear() to let them go. */
hm_object *hm_gc_garbage(hm_heap *h);

/* gc.callbacks: called with "start" before and "stop" after every collection. */
typedef enum hm_gc_phase { HM_GC_PHASE_START, HM_GC_PHASE_STOP } hm_gc_phase;
typedef struct hm_gc_info {
    int generation;
    size_t collected;     /* STOP only */
    size_t uncollectable; /* STOP only */
} hm_gc_info;
typedef void (*hm_gc_callback_fn)(hm_heap *h, hm_gc_phase phase, const hm_gc_info *info,
                                  void *user);

int hm_gc_callback_add(hm_heap *h, hm_gc_callback_fn fn, void *user);    /* HM_ENOMEM */
int hm_gc_callback_remove(hm_heap *h, hm_gc_callback_fn fn, void *user); /* HM_EINVAL if absent */

/* ---------------------------------------------------------------------------------------------
 * Weak references, weak containers and finalizers: Python's weakref module.
 *
 * A weakref is an object of type hm_weakref_type ("weakref"): it can be stored in containers and
 * is listed by snapshots, but its link to the referent is not a reference (traverse does not
 * report it). Any object can be weakly referenced; a weakref to an immortal object never dies.
 *
 * When the referent dies, all its weakrefs are cleared (hm_weakref_get() returns NULL from then
 * on), and then the callbacks of those that have one run, newest weakref first, each at most
 * once, receiving the dead weakref (borrowed: the runtime holds it for the call) and its user
 * pointer. Callbacks may allocate, drop objects, collect and use the weak containers.
 *
 * The order of operations:
 *  - Death by reference count: the referent's finalizer (hm_type.finalize) runs first and may
 *    resurrect it, in which case its weakrefs stay intact; otherwise the weakrefs are cleared,
 *    their callbacks run (except for weakrefs that are themselves dying, count 0), and only then
 *    is the referent cleared and freed.
 *  - What a callback or a finalizer releases dies at once, before it goes on, as in CPython: a
 *    later callback of the same death finds its weakrefs dead, and those of what it held too
 *    (a weak-key map's value, once the map's own callback has removed its entry). Deaths nest
 *    at most 50 deep (each started by a callback or finalizer of the one before): from the 51st
 *    on, what is released is dead to weakrefs at once (count 0) but destroyed, releasing what
 *    it holds in turn, only after the death in progress, as past the depth of CPython's
 *    trashcan; the C stack stays bounded. A weak container drops an entry's value (or key) as
 *    soon as its callback has removed the entry, so that value is dead at once at any depth.
 *  - Death in a collection (CPython's handle_weakrefs): once the unreachable set is known, and
 *    before any finalizer runs, (1) every weakref that is itself unreachable is cleared and will
 *    never call back, (2) every weakref to an unreachable object is cleared, (3) the callbacks of
 *    the weakrefs cleared in (2) that are still reachable run, in the unreachable list's order
 *    and newest first per object. Then finalizers run (a resurrected object finds its weakrefs
 *    already dead, as in CPython), resurrection is detected, and clear() breaks the cycles.
 *    Objects kept for the garbage list (legacy finalizers) keep their weakrefs. */
typedef void (*hm_weakref_fn)(hm_object *wr, void *user);

extern const hm_type hm_weakref_type;
static inline bool hm_is_weakref(const hm_object *o) { return o->type == &hm_weakref_type; }

/* weakref.ref(obj[, callback]): a new weakref to obj (in obj's heap). Without a callback, an
 * existing plain weakref of obj is returned again, as CPython shares them. NULL when out of
 * memory or when obj is already dying (count 0). */
hm_object *hm_weakref_new(hm_object *obj, hm_weakref_fn callback, void *user);
/* wr(): a new reference to the referent, or NULL once it is dead (or dying, count 0). */
hm_object *hm_weakref_get(const hm_object *wr);
bool hm_weakref_is_dead(const hm_object *wr); /* true for anything not a weakref */
/* The referent's id, 0 when dead: for snapshots, without touching any count. */
uint64_t hm_weakref_referent_id(const hm_object *wr);
/* Whether the callback is still to run (never true for a dead weakref once it has run). */
bool hm_weakref_has_callback(const hm_object *wr);
/* weakref.getweakrefcount(obj) and weakref.getweakrefs(obj) (a new list, newest first). The
 * order is that of the callbacks, plain weakref included where it was made; CPython lists the
 * shared plain weakref first and then the others newest first (made w1, w2 with callbacks, then
 * plain, then w3: libhm lists w3, plain, w2, w1 and CPython plain, w3, w2, w1). */
size_t hm_weakref_count(const hm_object *obj);
hm_object *hm_weakref_list(hm_object *obj);

/* ---------------------------------------------------------------------------------------------
 * Weak containers: objects (types "WeakValueDictionary", "WeakKeyDictionary", "WeakSet") that
 * own an hm dict `data`, as their Python counterparts do, holding one weakref per entry.
 * Entries vanish when the weakly held object dies. A removal triggered by a death deletes the
 * entry only if it still holds a dead weakref (the key may have been set again meanwhile), and
 * is deferred while an iteration of the container is in progress, until the last one ends.
 * Once the container's own callback has run for a death, the entry is gone for every function
 * here, deferred or not, as in CPython: get finds nothing, del and discard return HM_EKEY, and a
 * key resurrected by its finalizer after its weakrefs were cleared is not in the container. A
 * callback of the same death that runs before the container's (a weakref made after the entry)
 * still finds the entry, dead, and may delete it, as in CPython.
 * Lengths count the entries whose object lives (exact, where CPython's may overcount during an
 * iteration). */

/* Weak-value map: keys held strongly (str and int compare by value, other objects by identity,
 * as hm dict keys), values weakly. */
hm_object *hm_weakvaluemap_new(hm_heap *h);
int hm_weakvaluemap_set(hm_object *map, hm_object *key, hm_object *value);
hm_object *hm_weakvaluemap_get(hm_object *map, const hm_object *key); /* new ref; NULL: absent or dead */
int hm_weakvaluemap_del(hm_object *map, const hm_object *key);         /* HM_EKEY if absent */
int hm_weakvaluemap_set_str(hm_object *map, const char *key, hm_object *value);
hm_object *hm_weakvaluemap_get_str(hm_object *map, const char *key); /* new ref */
int hm_weakvaluemap_del_str(hm_object *map, const char *key);
size_t hm_weakvaluemap_len(const hm_object *map);

/* Weak-key map: keys held weakly and compared by identity, values strongly. */
hm_object *hm_weakkeymap_new(hm_heap *h);
int hm_weakkeymap_set(hm_object *map, hm_object *key, hm_object *value);
hm_object *hm_weakkeymap_get(hm_object *map, const hm_object *key); /* new ref; NULL if absent */
int hm_weakkeymap_del(hm_object *map, const hm_object *key);         /* HM_EKEY if absent */
size_t hm_weakkeymap_len(const hm_object *map);

/* Weak set: items held weakly, compared by identity. */
hm_object *hm_weakset_new(hm_heap *h);
int hm_weakset_add(hm_object *set, hm_object *item);
bool hm_weakset_contains(hm_object *set, const hm_object *item);
int hm_weakset_discard(hm_object *set, const hm_object *item); /* HM_EKEY if absent */
size_t hm_weakset_len(const hm_object *set);

/* Iteration over any of the three, in insertion order, over the entries present at begin that
 * are still present and alive when reached. Every begin needs its end: until then the container
 * defers its removals. Changing the container during the walk is allowed (entries added are not
 * visited). key and value are borrowed, held by the iterator until the next call or the end:
 * (key, value) for a map, (item, NULL) for a set. */
typedef struct hm_weakmap_iter {
    hm_object *map, *snapshot; /* private */
    size_t pos;
    hm_object *key, *value;
} hm_weakmap_iter;

int hm_weakmap_iter_begin(hm_weakmap_iter *it, hm_object *map); /* HM_ETYPE, HM_ENOMEM */
bool hm_weakmap_iter_next(hm_weakmap_iter *it, hm_object **key, hm_object **value);
void hm_weakmap_iter_end(hm_weakmap_iter *it);

/* ---------------------------------------------------------------------------------------------
 * weakref.finalize: fn(arg, user) runs once, when obj dies, when the finalizer is called, or (if
 * atexit is set, the default) at hm_heap_destroy() of a heap where obj still lives, newest
 * finalizer first, before anything is freed. The heap keeps a live finalizer alive (the handle
 * returned can be dropped at once) and holds arg strongly until then: an arg that references obj
 * keeps obj alive forever, as in Python. Type "finalize". */
typedef void (*hm_finalize_fn)(hm_object *arg, void *user);

/* A new reference to the finalizer; arg may be NULL. NULL when out of memory or obj is dying. */
hm_object *hm_finalize_new(hm_object *obj, hm_finalize_fn fn, hm_object *arg, void *user);
bool hm_finalize_alive(const hm_object *f);
/* f(): runs fn if alive and makes the finalizer dead. 1 if it ran, 0 if it was dead, HM_ETYPE. */
int hm_finalize_call(hm_object *f);
/* peek()/detach(): false once dead; else fills what is asked (obj and arg as new references,
 * NULL pointers skip an output). detach also makes the finalizer dead without running fn. */
bool hm_finalize_peek(const hm_object *f, hm_object **obj, hm_finalize_fn *fn, hm_object **arg,
                      void **user);
bool hm_finalize_detach(hm_object *f, hm_object **obj, hm_finalize_fn *fn, hm_object **arg,
                        void **user);
bool hm_finalize_get_atexit(const hm_object *f);
void hm_finalize_set_atexit(hm_object *f, bool atexit);

/* ---------------------------------------------------------------------------------------------
 * The allocator (Python's pymalloc and sys._debugmallocstats()). Every object and buffer of a heap comes from it: requests up to
 * HM_POOL_SMALL_MAX bytes from the heap's own pools (CPython's obmalloc: 16-byte size classes,
 * 16 KiB pools carved lazily into blocks, 1 MiB arenas mapped from the OS, new pools taken from
 * the fullest arena, wholly free arenas unmapped except the last one), larger ones from malloc.
 * Under AddressSanitizer, freed and never-used blocks are poisoned. Built with
 * -DHM_POOL_PASSTHROUGH, everything goes to malloc (hm_pool_stats.pooled is then false). */
#define HM_POOL_SMALL_MAX 512
#define HM_POOL_CLASSES 32        /* 16, 32, ... 512 bytes */
#define HM_POOL_SIZE 16384
#define HM_ARENA_SIZE 1048576

/* PyObject_Malloc for C code that works with a heap (a custom type's buffers): memory counted in
 * the heap's statistics, 16-byte aligned. Frees are sized: pass exactly the size asked for (the
 * allocator keeps no per-block header). NULL when out of memory. */
void *hm_mem_alloc(hm_heap *h, size_t size);
void *hm_mem_realloc(hm_heap *h, void *p, size_t old_size, size_t new_size); /* p may be NULL */
void hm_mem_free(hm_heap *h, void *p, size_t size);                         /* p may be NULL */

/* Allocation failure injection, to test the out-of-memory paths of libhm and of code built on it.
 * Every place a heap obtains memory counts as one allocation: an object's or buffer's block, a
 * pool arena, a side table (weakref lists, tracing, snapshot buffers, named roots, callbacks).
 * hm_fault_fail_at(h, n, persistent) starts counting from zero: the n-th allocation from now fails
 * (n = 1: the next one), and with persistent every one after it too; n = 0 only counts.
 * hm_fault_count(): allocations counted since then, for sizing a walk over a scenario.
 * hm_fault_stop(): back to normal. Every failure comes back as the NULL or HM_ENOMEM the function
 * documents and leaves the heap consistent. What cannot return an error carries on without the
 * memory: a collection that cannot list an object in hm_gc_garbage() leaves it uncollectable and
 * unlisted (it is listed by a later collection); a site tracing cannot keep is "<unknown>"; a
 * weak container that cannot queue a removal during an iteration sweeps its dead entries at the
 * iteration's end. */
void hm_fault_fail_at(hm_heap *h, uint64_t n, bool persistent);
uint64_t hm_fault_count(const hm_heap *h);
void hm_fault_stop(hm_heap *h);

typedef struct hm_pool_class_stats {
    size_t size;             /* block size of the class */
    size_t pools;            /* pools of this class in use */
    size_t blocks_in_use;
    size_t blocks_available; /* free or not yet carved, in those pools */
} hm_pool_class_stats;

/* The byte accounting: the six bytes_* parts below always sum to arena_bytes. */
typedef struct hm_pool_stats {
    bool pooled; /* false when built with HM_POOL_PASSTHROUGH */
    hm_pool_class_stats classes[HM_POOL_CLASSES];
    uint64_t arenas_allocated; /* mapped since the heap was made */
    uint64_t arenas_reclaimed; /* returned to the OS */
    size_t arenas_highwater;   /* most mapped at once */
    size_t arenas_current;
    size_t arena_bytes;        /* arenas_current * HM_ARENA_SIZE */
    size_t bytes_in_allocated_blocks;
    size_t bytes_in_available_blocks;
    size_t unused_pools;
    size_t bytes_in_unused_pools;
    size_t bytes_in_pool_headers;
    size_t bytes_lost_to_quantization; /* pool tails too small for one more block */
    size_t bytes_lost_to_alignment;    /* arena bytes outside whole pools (0: arenas are aligned) */
    size_t large_blocks, large_bytes;  /* live requests above HM_POOL_SMALL_MAX (malloc) */
} hm_pool_stats;

void hm_pool_get_stats(const hm_heap *h, hm_pool_stats *out);
/* The sys._debugmallocstats() text. print: HM_OK or HM_EINVAL (write errors: ferror(f)).
 * format: as snprintf, returns the length of the whole text, writes at most size - 1 bytes and
 * terminates when size > 0 (buf may be NULL with size 0 to measure). */
int hm_pool_print_stats(const hm_heap *h, FILE *f);
size_t hm_pool_format_stats(const hm_heap *h, char *buf, size_t size);

/* ---------------------------------------------------------------------------------------------
 * Recyclers: objects kept for reuse instead of being made anew, as a program's ObjectPool class
 * does. Named so as not to be taken for the allocator's pools above. A recycler is itself an
 * object of the heap (type hm_recycler_type, "Recycler", tracked by the collector, the objects it
 * keeps its references): release it with hm_decref(). */
extern const hm_type hm_recycler_type;

/* Makes a new object on a miss: returns a new reference, or NULL. */
typedef hm_object *(*hm_recycler_factory)(hm_heap *h, void *user);

/* NULL on a bad argument (no factory) or out of memory. max_size 0: a recycler that never keeps. */
hm_object *hm_recycler_new(hm_heap *h, hm_recycler_factory factory, void *user, size_t max_size);
/* A kept object if there is one (a hit), else factory() (a miss): a new reference either way;
 * NULL if the factory failed. Objects come back as they were released: reset them if need be. */
hm_object *hm_recycler_acquire(hm_object *recycler);
/* STEALS the caller's reference to obj: the recycler keeps it (returns 1) or, when it holds
 * max_size objects already, drops it (returns 0). HM_EINVAL for a non-recycler, a NULL or another
 * heap's obj, and then the reference stays the caller's. */
int hm_recycler_release(hm_object *recycler, hm_object *obj);
size_t hm_recycler_len(const hm_object *recycler); /* objects waiting to be acquired */

typedef struct hm_recycler_stats {
    size_t size, max_size;
    uint64_t hits, misses;    /* acquires served from the kept objects / by the factory */
    uint64_t kept, dropped;   /* releases */
} hm_recycler_stats;
int hm_recycler_get_stats(const hm_object *recycler, hm_recycler_stats *out); /* HM_EINVAL */

/* ---------------------------------------------------------------------------------------------
 * Sizes: hm_object_size() is sys.getsizeof(), hm_instance_size() adds an instance's __dict__. A
 * __slots__ instance is 40 + 8 * slots bytes; a __dict__ one is 48 plus its dict. */

/* ---------------------------------------------------------------------------------------------
 * Allocation sites: tracemalloc for objects. While tracing is on, each object created records
 * the file, line and function of the call that made it, and its size (its own block, as
 * hm_object_size() counts it at creation; buffers grown later, like a list's item array, are
 * not traced). Sites come from the macros below, which wrap every call of this header that
 * can make an object with the caller's __FILE__/__LINE__/__func__ (define HM_NO_SITE_MACROS to
 * go without): the constructors, and the calls that make objects on the side (the key string
 * of hm_dict_set_str and hm_weakvaluemap_set_str, an attribute's interned name and a
 * resurrected instance's new __dict__ in hm_instance_set, the entries of the weak containers,
 * gc.garbage's list in hm_gc_collect and hm_gc_garbage).
 * The rule, as tracemalloc's "the line being executed": an object is charged to the innermost
 * wrapped call running when it is made. A wrapped call sets the heap's current site on entry;
 * an object made inside it (an instance's __dict__, a str key) is charged to that call's line;
 * a finalizer or callback it runs may set sites of its own, and the call's own objects keep
 * its line. Objects the library makes outside any wrapped call (a weak container's list of
 * pending removals, made when an entry dies during hm_decref while the container is iterated;
 * objects made through calls compiled with HM_NO_SITE_MACROS) are charged to the last site
 * set. Site strings must be static (string literals). Out of memory, an object
 * whose trace cannot be kept is not made (its constructor returns NULL), as tracemalloc fails an
 * allocation it cannot trace; a site that cannot be kept is charged to "<unknown>". */
typedef struct hm_site {
    const char *file;     /* "<unknown>" for objects made with no site set */
    int line;             /* 0 when grouped by file */
    const char *function; /* NULL when grouped by file or unknown */
} hm_site;

int hm_trace_start(hm_heap *h); /* HM_OK (also when already tracing), HM_ENOMEM */
/* Tracing with call stacks, as tracemalloc.start(nframe): with depth > 0 each site also records
 * the call stack that reached it, depth frames at most, from the function that made the wrapped
 * call outwards (libhm's own frames are never in it). Stacks are named (function, file and line
 * from DWARF debug information, else module and offset) when a snapshot is written, which
 * stores them as formats/heapdump.md §5.1's frames and stacks: `heaptool flame` draws them,
 * `heaptool stats --by site` shows each site with its stack. hm_trace_start(h) is depth 0: a
 * site only. HM_OK (also when already tracing: the depth stays as it was), HM_EINVAL above
 * HM_TRACE_DEPTH_MAX, HM_ENOMEM. A depth costs an unwind per wrapped call. */
#define HM_TRACE_DEPTH_MAX 256
int hm_trace_start_depth(hm_heap *h, unsigned depth);
unsigned hm_trace_depth(const hm_heap *h); /* tracemalloc.get_traceback_limit(); 0 when off */
void hm_trace_stop(hm_heap *h); /* forgets every trace, as tracemalloc.stop() */
bool hm_trace_is_tracing(const hm_heap *h);
/* Bytes of the traced objects alive now, and the most since tracing started or the peak was
 * reset; both 0 when not tracing. Either pointer may be NULL. */
void hm_trace_get_traced_memory(const hm_heap *h, size_t *current, size_t *peak);
void hm_trace_reset_peak(hm_heap *h);
/* Where a live object was made: HM_OK, or HM_EKEY when it was not traced. */
int hm_trace_site_of(const hm_object *o, hm_site *out);

/* Sets the heap's current site and returns h (what the macros call). */
hm_heap *hm_trace_here(hm_heap *h, const char *file, int line, const char *function);
hm_object *hm_trace_here_of(hm_object *o, const char *file, int line, const char *function);
/* Marks the current line as the site for whatever the next calls create. */
#define HM_TRACE_HERE(h) ((void)hm_trace_here((h), __FILE__, __LINE__, __func__))

/* Statistics (Snapshot.statistics()): traced objects alive now, grouped by site
 * (HM_TRACE_LINENO: file and line) or by file (HM_TRACE_FILENAME), biggest first. */
typedef enum hm_trace_key { HM_TRACE_LINENO, HM_TRACE_FILENAME } hm_trace_key;

typedef struct hm_trace_stat {
    hm_site site;
    size_t size;  /* bytes */
    size_t count; /* objects */
} hm_trace_stat;

typedef struct hm_trace_stats {
    hm_trace_key key;
    size_t n;
    hm_trace_stat *items;     /* sorted by size, then count, descending */
    size_t total_size, total_count;
} hm_trace_stats;

/* Fills *out (free it with hm_trace_stats_free()): HM_OK, HM_EINVAL, HM_ENOMEM. When not tracing
 * the statistics are empty. */
int hm_trace_statistics(const hm_heap *h, hm_trace_key key, hm_trace_stats *out);
void hm_trace_stats_free(hm_trace_stats *s);

/* Snapshot.compare_to(): one entry per group in either statistics, sorted as Python sorts
 * StatisticDiff (biggest absolute size change first, then size, count change, count). */
typedef struct hm_trace_diff {
    hm_site site;
    size_t size, count;            /* in `now` */
    int64_t size_diff, count_diff; /* now - old */
} hm_trace_diff;

typedef struct hm_trace_diffs {
    size_t n;
    hm_trace_diff *items;
} hm_trace_diffs;

/* HM_EINVAL when the two were grouped by different keys; free with hm_trace_diffs_free(). */
int hm_trace_compare(const hm_trace_stats *now, const hm_trace_stats *old, hm_trace_diffs *out);
void hm_trace_diffs_free(hm_trace_diffs *d);

/* One line as Python prints a Statistic / StatisticDiff, snprintf-style:
 *   "app.c:42: size=1.5 KiB, count=12, average=128 B"
 *   "app.c:42: size=1.5 KiB (+1.5 KiB), count=12 (+12), average=128 B" */
size_t hm_trace_stat_format(const hm_trace_stat *s, char *buf, size_t size);
size_t hm_trace_diff_format(const hm_trace_diff *d, char *buf, size_t size);

/* The constructors, with their caller's site. (Parenthesized names call the functions
 * themselves; the library's own files see no macros.) */
#if !defined(HM_NO_SITE_MACROS) && !defined(HM_INTERNAL_H)
#define HM__SITE(h) hm_trace_here((h), __FILE__, __LINE__, __func__)
#define HM__SITE_OF(o) hm_trace_here_of((o), __FILE__, __LINE__, __func__)
#define hm_object_new(h, type) (hm_object_new)(HM__SITE(h), type)
#define hm_object_new_var(h, type, extra) (hm_object_new_var)(HM__SITE(h), type, extra)
#define hm_int_new(h, value) (hm_int_new)(HM__SITE(h), value)
#define hm_str_new(h, s) (hm_str_new)(HM__SITE(h), s)
#define hm_str_new_len(h, s, len) (hm_str_new_len)(HM__SITE(h), s, len)
#define hm_str_const(h, s) (hm_str_const)(HM__SITE(h), s)
#define hm_str_intern(h, s) (hm_str_intern)(HM__SITE(h), s)
#define hm_str_intern_len(h, s, len) (hm_str_intern_len)(HM__SITE(h), s, len)
#define hm_list_new(h) (hm_list_new)(HM__SITE(h))
#define hm_tuple_new(h, n, items) (hm_tuple_new)(HM__SITE(h), n, items)
#define hm_tuple_pack(h, ...) (hm_tuple_pack)(HM__SITE(h), __VA_ARGS__)
#define hm_dict_new(h) (hm_dict_new)(HM__SITE(h))
#define hm_instance_new(h, cls) (hm_instance_new)(HM__SITE(h), cls)
#define hm_gc_get_objects(h, generation) (hm_gc_get_objects)(HM__SITE(h), generation)
#define hm_gc_get_referrers(h, target) (hm_gc_get_referrers)(HM__SITE(h), target)
#define hm_gc_get_referents(o) (hm_gc_get_referents)(HM__SITE_OF(o))
#define hm_recycler_new(h, factory, user, max_size) (hm_recycler_new)(HM__SITE(h), factory, user, max_size)
/* The calls that make objects on the side: a str key, an attribute name, gc.garbage's list. */
#define hm_dict_set_str(dict, key, value) (hm_dict_set_str)(HM__SITE_OF(dict), key, value)
#define hm_instance_set(self, attr, value) (hm_instance_set)(HM__SITE_OF(self), attr, value)
#define hm_gc_collect(h, generation, out) (hm_gc_collect)(HM__SITE(h), generation, out)
#define hm_gc_garbage(h) (hm_gc_garbage)(HM__SITE(h))
/* Weak references, weak containers and finalizers: the calls that make objects, including the
 * setters, which make the entry's weakref (and a str key). */
#define hm_weakref_new(obj, callback, user) (hm_weakref_new)(HM__SITE_OF(obj), callback, user)
#define hm_weakref_list(obj) (hm_weakref_list)(HM__SITE_OF(obj))
#define hm_weakvaluemap_new(h) (hm_weakvaluemap_new)(HM__SITE(h))
#define hm_weakkeymap_new(h) (hm_weakkeymap_new)(HM__SITE(h))
#define hm_weakset_new(h) (hm_weakset_new)(HM__SITE(h))
#define hm_weakvaluemap_set(map, key, value) (hm_weakvaluemap_set)(HM__SITE_OF(map), key, value)
#define hm_weakvaluemap_set_str(map, key, value) (hm_weakvaluemap_set_str)(HM__SITE_OF(map), key, value)
#define hm_weakkeymap_set(map, key, value) (hm_weakkeymap_set)(HM__SITE_OF(map), key, value)
#define hm_weakset_add(set, item) (hm_weakset_add)(HM__SITE_OF(set), item)
#define hm_weakmap_iter_begin(it, map) (hm_weakmap_iter_begin)(it, HM__SITE_OF(map))
#define hm_finalize_new(obj, fn, arg, user) (hm_finalize_new)(HM__SITE_OF(obj), fn, arg, user)
#endif

#ifdef __cplusplus
}
#endif

#endif /* HM_H */
