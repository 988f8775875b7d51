/* heapdump.h: libheapdump, the reader of heapdump v1 files and the analyses over the loaded graph.
 *
 * Ownership: every pointer argument is borrowed; strings and arrays returned by accessors belong to
 * the hd_dump and live until hd_dump_free(). Functions never print and never exit: they return
 * HD_OK (0) or a negative HD_E* code and, when given one, fill an hd_error.
 *
 * Objects, types, sites, edges, roots and weakrefs are addressed by dense indices (uint32_t,
 * 0..count-1), not by the ids in the file; hd_object_find() maps an id to its index.
 */
#ifndef HEAPDUMP_H
#define HEAPDUMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HD_FORMAT_VERSION 1
#define HD_NONE UINT32_MAX /* "no such index": no site, no label, unknown object */

/* Status codes, one table: hd_status_name() and hd_status_message() read it. */
enum hd_status {
    HD_OK = 0,
    HD_EIO = -1,       /* cannot open or read the input */
    HD_ESYNTAX = -2,   /* not well-formed JSON */
    HD_EFORMAT = -3,   /* well-formed, but not a heapdump (wrong "format", missing member, wrong type) */
    HD_EVERSION = -4,  /* a heapdump of a newer version than this reader */
    HD_EINTEGRITY = -5,/* duplicate ids, dangling references, unknown type or site ids */
    HD_ELIMIT = -6,    /* beyond a documented limit (record size, nesting, counts) */
    HD_ENOMEM = -7,    /* out of memory */
    HD_EINVAL = -8,    /* bad argument from the caller */
};

const char *hd_status_name(int status);    /* "HD_ESYNTAX" */
const char *hd_status_message(int status); /* "not well-formed JSON" */

/* Where and why loading failed. Positions are 1-based; 0 means unknown. */
typedef struct hd_error {
    int status;
    char message[256];
    char file[256];
    uint64_t line, column, offset; /* offset: 0-based byte offset into the (uncompressed) input */
} hd_error;

/* One problem found while validating; see hd_load_options.on_problem. */
typedef void (*hd_problem_fn)(const hd_error *problem, void *user);

typedef struct hd_load_options {
    /* When set, integrity and per-record format problems are reported here one by one and loading
     * goes on to find the rest; hd_load still fails at the end (with the first problem) if there
     * was any. Syntax errors always stop loading. */
    hd_problem_fn on_problem;
    void *user;
} hd_load_options;

typedef struct hd_dump hd_dump;

/* Loads a dump from a path ("-" is standard input). opts may be NULL. On success *out is a new
 * dump the caller frees with hd_dump_free(); on failure *out is NULL. */
int hd_load(const char *path, const hd_load_options *opts, hd_dump **out, hd_error *err);
/* Same from an open stream (not closed) or a memory buffer; name is used in error messages. */
int hd_load_file(FILE *f, const char *name, const hd_load_options *opts, hd_dump **out, hd_error *err);
int hd_load_buffer(const void *data, size_t size, const char *name, const hd_load_options *opts,
                   hd_dump **out, hd_error *err);
void hd_dump_free(hd_dump *d);

/* --- meta ---------------------------------------------------------------------------------- */
uint32_t hd_version(const hd_dump *d);
const char *hd_meta_producer(const hd_dump *d); /* "" when absent */
const char *hd_meta_created(const hd_dump *d);  /* "" when absent */
const char *hd_meta_name(const hd_dump *d);     /* snapshot name, "" when absent */
int64_t hd_meta_pid(const hd_dump *d);          /* -1 when absent */

/* --- types --------------------------------------------------------------------------------- */
enum hd_type_flag {
    HD_TYPE_GC = 1u << 0,        /* instances are tracked by the cycle collector */
    HD_TYPE_FINALIZER = 1u << 1, /* instances have a finalizer (__del__ analogue) */
    HD_TYPE_LEGACY_FINALIZER = 1u << 2, /* finalizer unsafe in cycles: such cycles are uncollectable */
};
uint32_t hd_type_count(const hd_dump *d);
uint64_t hd_type_id(const hd_dump *d, uint32_t t);
const char *hd_type_name(const hd_dump *d, uint32_t t);
uint64_t hd_type_size(const hd_dump *d, uint32_t t); /* instance size in bytes, 0 if unknown */
unsigned hd_type_flags(const hd_dump *d, uint32_t t);

/* --- allocation sites ---------------------------------------------------------------------- */
uint32_t hd_site_count(const hd_dump *d);
uint64_t hd_site_id(const hd_dump *d, uint32_t s);
const char *hd_site_file(const hd_dump *d, uint32_t s);
uint32_t hd_site_line(const hd_dump *d, uint32_t s);
const char *hd_site_function(const hd_dump *d, uint32_t s); /* "" when absent */

/* --- objects ------------------------------------------------------------------------------- */
enum hd_object_flag {
    HD_OBJ_TRACKED = 1u << 0,
    HD_OBJ_FINALIZED = 1u << 1,
    HD_OBJ_FROZEN = 1u << 2,
    HD_OBJ_IMMORTAL = 1u << 3,
    HD_OBJ_INTERNED = 1u << 4,
};
#define HD_RC_UNKNOWN UINT32_MAX  /* the record had no "rc" */
#define HD_GEN_UNKNOWN 0xFFu      /* the record had no "gen" */

uint32_t hd_object_count(const hd_dump *d);
uint64_t hd_object_id(const hd_dump *d, uint32_t o);
uint32_t hd_object_type(const hd_dump *d, uint32_t o);  /* type index */
uint64_t hd_object_size(const hd_dump *d, uint32_t o);  /* shallow size in bytes */
uint32_t hd_object_rc(const hd_dump *d, uint32_t o);    /* saturates at UINT32_MAX - 1 */
uint32_t hd_object_site(const hd_dump *d, uint32_t o);  /* site index or HD_NONE */
const char *hd_object_label(const hd_dump *d, uint32_t o); /* NULL when absent */
unsigned hd_object_gen(const hd_dump *d, uint32_t o);   /* 0..2, or HD_GEN_UNKNOWN */
unsigned hd_object_flags(const hd_dump *d, uint32_t o);
uint32_t hd_object_find(const hd_dump *d, uint64_t id); /* index of the object with this id, or HD_NONE */

/* --- strong references (CSR): the out-edges of o are the edge indices [first, end) ----------- */
uint64_t hd_edge_count(const hd_dump *d);
void hd_object_edges(const hd_dump *d, uint32_t o, uint64_t *first, uint64_t *end);
uint32_t hd_edge_target(const hd_dump *d, uint64_t e); /* object index */
const char *hd_edge_name(const hd_dump *d, uint64_t e); /* "" when the record gave no name */
/* Raw arrays for hot loops: offsets has count+1 entries; targets has hd_edge_count() entries. */
const uint32_t *hd_edge_offsets(const hd_dump *d);
const uint32_t *hd_edge_targets(const hd_dump *d);

/* --- roots --------------------------------------------------------------------------------- */
enum hd_root_kind {
    HD_ROOT_EXTERNAL, HD_ROOT_NAMED, HD_ROOT_INTERNED, HD_ROOT_CACHE, HD_ROOT_FROZEN,
    HD_ROOT_GARBAGE, HD_ROOT_OTHER, /* a kind this reader does not know */
};
uint32_t hd_root_count(const hd_dump *d);
uint32_t hd_root_object(const hd_dump *d, uint32_t r);  /* object index */
enum hd_root_kind hd_root_kind(const hd_dump *d, uint32_t r);
const char *hd_root_kind_name(const hd_dump *d, uint32_t r); /* as written in the dump */
const char *hd_root_name(const hd_dump *d, uint32_t r);      /* "" when absent */

/* --- weak references ----------------------------------------------------------------------- */
uint32_t hd_weakref_count(const hd_dump *d);
uint32_t hd_weakref_object(const hd_dump *d, uint32_t w);   /* the weakref object's index */
uint32_t hd_weakref_referent(const hd_dump *d, uint32_t w); /* object index, or HD_NONE when dead */
int hd_weakref_has_callback(const hd_dump *d, uint32_t w);

/* --- allocator statistics ("pools"); all zero when the dump has none ---------------------- */
typedef struct hd_pool_class {
    uint32_t size;          /* block size in bytes */
    uint64_t pools;         /* pools serving this class */
    uint64_t blocks_in_use;
    uint64_t blocks_free;   /* available blocks in those pools */
} hd_pool_class;
typedef struct hd_pools {
    int present;
    uint64_t arena_size, pool_size;
    uint64_t arenas_allocated, arenas_reclaimed, arenas_highwater, arenas_current;
    uint64_t large_allocs, large_bytes; /* requests served by malloc */
    uint32_t nclasses;
    const hd_pool_class *classes;
} hd_pools;
const hd_pools *hd_dump_pools(const hd_dump *d);

/* --- collector state ("gc"); all zero when the dump has none ------------------------------ */
typedef struct hd_gc_generation {
    int64_t threshold, count;
    uint64_t collections, collected, uncollectable;
} hd_gc_generation;
typedef struct hd_gc {
    int present;
    int enabled;
    hd_gc_generation gen[3];
    uint64_t frozen;      /* objects in the permanent generation */
    uint32_t ngarbage;    /* the garbage list, as object indices */
    const uint32_t *garbage;
} hd_gc;
const hd_gc *hd_dump_gc(const hd_dump *d);

/* --- convenience --------------------------------------------------------------------------- */
uint64_t hd_total_size(const hd_dump *d); /* sum of shallow sizes, saturating */

/* --- analysis: objects per type (objgraph's show_most_common_types) ------------------------ */
typedef struct hd_type_stat {
    uint32_t type;     /* type index */
    uint64_t count;    /* objects of this type */
    uint64_t size;     /* their total shallow size, saturating */
    uint64_t retained; /* see hd_stats_retained_by_type; 0 from hd_stats_by_type */
} hd_type_stat;
enum hd_stat_sort { HD_SORT_COUNT, HD_SORT_SIZE, HD_SORT_RETAINED };
/* Fills out, which has room for hd_type_count(d) entries, with one entry per type that has
 * objects, largest first (ties: the other measure, then the name); returns how many. */
uint32_t hd_stats_by_type(const hd_dump *d, enum hd_stat_sort sort, hd_type_stat *out);

/* --- analysis: the dominator tree and retained sizes (Eclipse MAT, Chrome DevTools) -------- */
#define HD_DOM_ROOT (UINT32_MAX - 1) /* the virtual root whose children are all the roots */
typedef struct hd_dominators hd_dominators;
/* Computes the dominator tree over strong references from the roots (weak references never
 * retain). *out is new; free it with hd_dominators_free. HD_OK, HD_ENOMEM or HD_EINVAL. */
int hd_dominators_compute(const hd_dump *d, hd_dominators **out);
void hd_dominators_free(hd_dominators *dom);
/* Immediate dominator of o: an object index, HD_DOM_ROOT, or HD_NONE when o is unreachable
 * from every root (such objects have no dominator and retain nothing). */
uint32_t hd_dominator_of(const hd_dominators *dom, uint32_t o);
/* Shallow size of o plus that of everything o dominates: what freeing o would free. */
uint64_t hd_retained_size(const hd_dominators *dom, uint32_t o);
uint32_t hd_dominators_reachable(const hd_dominators *dom); /* objects reachable from roots */
/* Writes into out (room for k) the k reachable objects that retain the most, largest first
 * (ties: lower index first); returns how many. */
uint32_t hd_dominators_top(const hd_dominators *dom, uint32_t k, uint32_t *out);
/* Per-type table like hd_stats_by_type, with retained filled in by the DevTools rule (an object
 * counts for its type only when no object of the same type dominates it), sorted by retained.
 * out has room for hd_type_count(d) entries; *count is set to the entries written. */
int hd_stats_retained_by_type(const hd_dump *d, const hd_dominators *dom, hd_type_stat *out,
                              uint32_t *count);

#ifdef __cplusplus
}
#endif
#endif
