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

/* Status codes, one list: X(name, value, message) for each. The enum, hd_status_name() and
 * hd_status_message() are made from it. */
#define HD_STATUS_MAP(X)                                                                          \
    X(HD_OK, 0, "success")                                                                        \
    X(HD_EIO, -1, "cannot read the input")                /* cannot open or read it */            \
    X(HD_ESYNTAX, -2, "not well-formed JSON")                                                     \
    X(HD_EFORMAT, -3, "not a valid heapdump")             /* "format", members, kinds */          \
    X(HD_EVERSION, -4, "heapdump version not supported")  /* newer than this reader */            \
    X(HD_EINTEGRITY, -5, "inconsistent heapdump")         /* duplicate or dangling ids */         \
    X(HD_ELIMIT, -6, "beyond a limit of this reader")     /* record size, nesting, counts */      \
    X(HD_ENOMEM, -7, "out of memory")                                                             \
    X(HD_EINVAL, -8, "invalid argument")                  /* from the caller */

#define HD_STATUS_ENUM_(name, value, message) name = value,
enum hd_status { HD_STATUS_MAP(HD_STATUS_ENUM_) };
#undef HD_STATUS_ENUM_

const char *hd_status_name(int status);    /* "HD_ESYNTAX"; "HD_EUNKNOWN" for another number */
const char *hd_status_message(int status); /* "not well-formed JSON"; "unknown status" */

/* Where and why loading failed. Positions are 1-based; 0 means unknown. */
typedef struct hd_error {
    int status;
    char message[256]; /* one line: control characters from the dump show as \xNN */
    char file[256];
    uint64_t line, column, offset; /* offset: 0-based byte offset into the (uncompressed) input */
} hd_error;

/* One problem found while validating; see hd_load_options.on_problem. */
typedef void (*hd_problem_fn)(const hd_error *problem, void *user);

/* Progress while reading: bytes of the file read so far (compressed bytes for a gzip file) and
 * the file's size, 0 when unknown (a pipe). */
typedef void (*hd_progress_fn)(uint64_t done, uint64_t total, void *user);

typedef struct hd_load_options {
    /* When set, integrity and per-record format problems are reported here one by one and loading
     * goes on to find the rest; hd_load still fails at the end (with the first problem) if there
     * was any. Syntax errors always stop loading. */
    hd_problem_fn on_problem;
    void *user;             /* passed to both callbacks */
    hd_progress_fn on_progress; /* called every few MB and once at the end; may be NULL */
    /* Threads that parse the objects array: 0 lets the reader choose (two on a machine with two
     * cores or more, for a dump over 16 MiB read from a buffer or a regular uncompressed file;
     * gzip data and pipes are read in order by one), 1 keeps to one, 2 takes two whenever the
     * input allows it, however small. The dump, or the error, is the same either way. Validation
     * (on_problem set) always reads on one thread, so problems come in file order. */
    unsigned threads;
} hd_load_options;

typedef struct hd_dump hd_dump;

/* Loads a dump from a path ("-" is standard input), gzip-compressed or not, or a binary index
 * (mapped; from a seekable file or a buffer, not from a pipe): told by the first bytes, not the
 * name. opts may be NULL. On success *out is a new dump the caller frees with
 * hd_dump_free(); on failure *out is NULL. Error positions count uncompressed bytes. */
int hd_load(const char *path, const hd_load_options *opts, hd_dump **out, hd_error *err);
/* Same from an open stream (not closed) or a memory buffer; name is used in error messages. */
int hd_load_file(FILE *f, const char *name, const hd_load_options *opts, hd_dump **out, hd_error *err);
int hd_load_buffer(const void *data, size_t size, const char *name, const hd_load_options *opts,
                   hd_dump **out, hd_error *err);
void hd_dump_free(hd_dump *d);
/* Loads the n dumps at paths together, one thread each (each dump on one thread unless
 * opts->threads says otherwise), so two dumps load on two cores in about the time of one. Fills
 * out[i] and, when err is not NULL, err[i] as hd_load would; returns HD_OK when every dump
 * loaded, else the status of the first (in order) that did not. on_progress hears the bytes of
 * all the dumps summed, from one thread at a time; with on_problem set the dumps are loaded one
 * after another, so that problems come in order. */
int hd_load_many(const char *const *paths, size_t n, const hd_load_options *opts, hd_dump **out,
                 hd_error *err);

/* --- the binary index (formats/heapdump-binary.md) ------------------------------------------
 * The loaded graph's own arrays in a file, with reachability and the dominator tree computed
 * once: hd_load opens one (told by its first bytes) by mapping it, without parsing or copying,
 * after checking its header, its sections' extents and checksums and every index it holds. */
/* What a dump file was when an index was made from it: its size, modification time (ns) and a
 * hash of its first and last 64 KiB. An index is fresh when its source still has this stamp. */
typedef struct hd_reach hd_reach;             /* below */
typedef struct hd_dominators hd_dominators;   /* below */
typedef struct hd_index_source {
    uint64_t size;
    int64_t mtime_ns;
    uint64_t hash;
} hd_index_source;
/* HD_OK, or HD_EIO (err says why). */
int hd_index_source_of(const char *path, hd_index_source *out, hd_error *err);
/* Writes d as an index at path, through a temporary file renamed over path (never half-written).
 * reach and dom, when not NULL, are stored for the analyses to use instead of computing them;
 * with reach, the reference cycles are found and stored too (hd_cycles_find's; not out of core,
 * see hd_memory_budget, where Tarjan's walk would want some 22 bytes an object in memory);
 * source (NULL: all zero) is recorded in the header. HD_OK, HD_EIO, HD_ENOMEM or HD_EINVAL. */
int hd_index_write(const hd_dump *d, const hd_reach *reach, const hd_dominators *dom,
                   const hd_index_source *source, const char *path, hd_error *err);
/* hd_index_write with d's reachability, dominators and cycles, computed here (the cycles beside
 * the dominators) while a second thread writes each section as it is made (one thread out of
 * core: see hd_memory_budget). HD_OK, HD_EIO,
 * HD_ENOMEM, HD_EINVAL or an analysis' status, with err set. */
int hd_index_build(const hd_dump *d, const hd_index_source *source, const char *path, hd_error *err);
/* Out of core, for indexing a heap bigger than memory: from now on the analyses keep their large
 * arrays in unnamed files in dir (mapped; the page cache holds what memory allows), indexes are
 * mapped without being read in at once, and a watcher thread keeps the process's resident set
 * near budget bytes by dropping mapped pages. Results are the same bytes as in memory. budget 0
 * turns it off (arrays made meanwhile stay where they are). HD_OK, HD_EIO when dir cannot hold
 * unnamed files (O_TMPFILE), HD_ENOMEM. */
int hd_memory_budget(uint64_t budget, const char *dir);
/* The analyses keep the large scratch arrays they free for the next one to reuse (a fresh page
 * costs more than its zeroing); this releases them, once a run of analyses is done. hd_dump_free
 * does it too. */
void hd_release_scratch(void);
/* 1 when the file at path starts with an index's magic bytes, else 0 (unreadable files too). */
int hd_is_index(const char *path);
/* Reads and checks an index's header and section table only (magic, version, checksum, size):
 * HD_OK with *source set, else HD_EIO, HD_EFORMAT or HD_EVERSION with err set. */
int hd_index_peek(const char *path, hd_index_source *source, hd_error *err);
/* 1 when d was opened from an index. */
int hd_dump_is_index(const hd_dump *d);
/* By default hd_load verifies an index whole, and reports damage as it returns. A program that
 * sets a damage handler opts in to lazy verification instead: an index opened from a file then
 * verifies its big sections on their first use (formats/heapdump-binary.md §7), through a
 * SIGSEGV handler the library installs (chained to the one before it), and a section found
 * damaged then cannot be reported by the call that read it: fn is called instead, with the
 * error (file, section, offset, problem), and must not return. fn set to NULL turns lazy
 * verification off for indexes opened afterwards. hd_index_verify verifies every section d has
 * not used yet: HD_OK, or the damage in err. */
typedef void (*hd_index_damage_fn)(const hd_error *err);
void hd_set_index_damage_handler(hd_index_damage_fn fn);
int hd_index_verify(const hd_dump *d, hd_error *err);
/* Where hd_dump_write_json sends its text: len bytes at data; nonzero stops the writing. */
typedef int (*hd_write_fn)(const void *data, size_t len, void *user);
/* Writes d as heapdump v1 JSON (a V8 snapshot too): read again, it answers every analysis as d
 * does. HD_OK, HD_ENOMEM, or HD_EIO when write failed. */
int hd_dump_write_json(const hd_dump *d, hd_write_fn write, void *user);
/* hd_dump_write_json into the file at path, gzip-compressed when gzip is nonzero, written whole
 * or not at all (a temporary file beside it, renamed over it). HD_OK, or err says why. */
int hd_dump_write_json_file(const hd_dump *d, const char *path, int gzip, hd_error *err);

/* --- meta ---------------------------------------------------------------------------------- */
/* What a dump was read from. hd_load tells them by content: a document whose first member is
 * one of a V8 heap snapshot's ("snapshot", "nodes", "edges", "strings", ...) is read as a
 * Chrome/Node .heapsnapshot, anything else as a heapdump (formats/v8-heapsnapshot.md says how
 * a snapshot maps onto objects, types, references, weak references and roots). */
enum hd_format { HD_FORMAT_HEAPDUMP = 0, HD_FORMAT_V8 = 1 };
enum hd_format hd_dump_format(const hd_dump *d);
uint32_t hd_version(const hd_dump *d);          /* heapdump format version; 0 for a V8 snapshot */
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
/* The site's whole allocation stack: its innermost stack node index, or HD_NONE when the site
 * has none. Walk it outwards with hd_stack_parent:
 *     for (uint32_t n = hd_site_stack(d, s); n != HD_NONE; n = hd_stack_parent(d, n))
 *         use(hd_stack_frame(d, n));                                                        */
uint32_t hd_site_stack(const hd_dump *d, uint32_t s);

/* --- call stacks (formats/heapdump.md 5.1): frames, and the tree of stack nodes ------------- */
uint32_t hd_frame_count(const hd_dump *d);
uint64_t hd_frame_id(const hd_dump *d, uint32_t f);
const char *hd_frame_function(const hd_dump *d, uint32_t f); /* "" when absent */
const char *hd_frame_file(const hd_dump *d, uint32_t f);     /* "" when absent */
uint32_t hd_frame_line(const hd_dump *d, uint32_t f);        /* 0 when unknown */
const char *hd_frame_module(const hd_dump *d, uint32_t f);   /* "" when absent */
uint64_t hd_frame_offset(const hd_dump *d, uint32_t f);      /* 0 when absent */
uint32_t hd_stack_count(const hd_dump *d);
uint64_t hd_stack_id(const hd_dump *d, uint32_t n);
uint32_t hd_stack_frame(const hd_dump *d, uint32_t n);  /* frame index of stack node n */
uint32_t hd_stack_parent(const hd_dump *d, uint32_t n); /* the caller's node, or HD_NONE */
uint32_t hd_stack_depth(const hd_dump *d, uint32_t n);  /* frames from n outwards; 0 for HD_NONE */

/* --- objects ------------------------------------------------------------------------------- */
/* Object flags, one list: X(name, bit, the word in a dump's "flags"). hd_object_flags() is a
 * set of them; a word this reader does not know is ignored (formats/heapdump.md §6). */
#define HD_OBJECT_FLAG_MAP(X)                                                                     \
    X(HD_OBJ_TRACKED, 0, "tracked")                                                               \
    X(HD_OBJ_FINALIZED, 1, "finalized")                                                           \
    X(HD_OBJ_FROZEN, 2, "frozen")                                                                 \
    X(HD_OBJ_IMMORTAL, 3, "immortal")                                                             \
    X(HD_OBJ_INTERNED, 4, "interned")
#define HD_OBJECT_FLAG_ENUM_(name, bit, word) name = 1u << bit,
enum hd_object_flag { HD_OBJECT_FLAG_MAP(HD_OBJECT_FLAG_ENUM_) };
#undef HD_OBJECT_FLAG_ENUM_
/* The word for one flag ("tracked" for HD_OBJ_TRACKED); NULL for anything but one known flag. */
const char *hd_object_flag_name(unsigned flag);

#define HD_RC_UNKNOWN UINT32_MAX  /* the record had no "rc" */
#define HD_GEN_UNKNOWN 0xFFu      /* the record had no "gen" */

uint32_t hd_object_count(const hd_dump *d);
uint64_t hd_object_id(const hd_dump *d, uint32_t o);
const uint64_t *hd_object_ids(const hd_dump *d); /* raw, count entries: to prefetch a later id */
uint32_t hd_object_type(const hd_dump *d, uint32_t o);  /* type index */
uint64_t hd_object_size(const hd_dump *d, uint32_t o);  /* shallow size in bytes */
uint32_t hd_object_rc(const hd_dump *d, uint32_t o);    /* saturates at UINT32_MAX - 1 */
uint32_t hd_object_site(const hd_dump *d, uint32_t o);  /* site index or HD_NONE */
const char *hd_object_label(const hd_dump *d, uint32_t o); /* NULL when absent */
unsigned hd_object_gen(const hd_dump *d, uint32_t o);   /* 0..2, or HD_GEN_UNKNOWN */
unsigned hd_object_flags(const hd_dump *d, uint32_t o);
uint32_t hd_object_find(const hd_dump *d, uint64_t id); /* index of the object with this id, or HD_NONE */
uint64_t hd_object_address(const hd_dump *d, uint32_t o); /* address in the process; 0 when unknown */
uint32_t hd_object_thread(const hd_dump *d, uint32_t o);  /* allocating thread from 1; 0 when unknown */

/* --- strong references (CSR): the out-edges of o are the edge indices [first, end) ----------- */
uint64_t hd_edge_count(const hd_dump *d);
void hd_object_edges(const hd_dump *d, uint32_t o, uint64_t *first, uint64_t *end);
uint32_t hd_edge_target(const hd_dump *d, uint64_t e); /* object index */
const char *hd_edge_name(const hd_dump *d, uint64_t e); /* "" when the record gave no name */
/* How many bytes past its target's start edge e points (an interior pointer, heapdump.md 6.2);
 * 0 when it points at the start. O(log interior references). */
uint64_t hd_edge_interior_offset(const hd_dump *d, uint64_t e);
/* Raw arrays for hot loops: offsets has count+1 entries; targets has hd_edge_count() entries. */
const uint32_t *hd_edge_offsets(const hd_dump *d);
const uint32_t *hd_edge_targets(const hd_dump *d);

/* --- roots --------------------------------------------------------------------------------- */
/* Root kinds, one list: X(name, the word in a root's "kind") (formats/heapdump.md §8). A kind
 * this reader does not know is HD_ROOT_OTHER, still a root. */
#define HD_ROOT_KIND_MAP(X)                                                                       \
    X(HD_ROOT_EXTERNAL, "external")                                                               \
    X(HD_ROOT_NAMED, "named")                                                                     \
    X(HD_ROOT_INTERNED, "interned")                                                               \
    X(HD_ROOT_CACHE, "cache")                                                                     \
    X(HD_ROOT_FROZEN, "frozen")                                                                   \
    X(HD_ROOT_GARBAGE, "garbage")                                                                 \
    X(HD_ROOT_GLOBAL, "global")       /* found by a native scan: a writable segment */            \
    X(HD_ROOT_STACK, "stack")         /* a thread's stack */                                      \
    X(HD_ROOT_REGISTERS, "registers") /* a thread's registers */                                  \
    X(HD_ROOT_TLS, "tls")             /* a thread's thread-local storage */
#define HD_ROOT_KIND_ENUM_(name, word) name,
enum hd_root_kind { HD_ROOT_KIND_MAP(HD_ROOT_KIND_ENUM_) HD_ROOT_OTHER };
#undef HD_ROOT_KIND_ENUM_
/* The word for a kind ("external"); NULL for HD_ROOT_OTHER or another number. A root's own word,
 * known or not, is hd_root_kind_name(). */
const char *hd_root_kind_word(enum hd_root_kind kind);
uint32_t hd_root_count(const hd_dump *d);
uint32_t hd_root_object(const hd_dump *d, uint32_t r);  /* object index */
enum hd_root_kind hd_root_kind(const hd_dump *d, uint32_t r);
const char *hd_root_kind_name(const hd_dump *d, uint32_t r); /* as written in the dump */
const char *hd_root_name(const hd_dump *d, uint32_t r);      /* "" when absent */
uint64_t hd_root_offset(const hd_dump *d, uint32_t r);  /* bytes into the object; 0: its start */
/* A dump of a native process: some root is of kind global, stack, registers or tls, or some
 * object has an address. Leak categories (hd_leak_kinds) are meant for these. */
int hd_dump_is_native(const hd_dump *d);

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

/* Bytes the loaded graph itself holds in memory, by part (formats/heapdump.md, 13.1); for a
 * dump opened from a binary index, those of the graph the index was made from (its arrays are
 * the index's sections). */
typedef struct hd_memory {
    uint64_t objects;    /* per object: id, size, type, site, label, rc, gen, flags, edge offset */
    uint64_t references; /* per reference: target and name */
    uint64_t id_map;     /* object id -> index */
    uint64_t strings;    /* one arena: type, edge and root names, labels, files */
    uint64_t other;      /* types, sites, roots, weakrefs, pools, gc, and frames, stacks,
                          * addresses, threads and interior offsets (heapdump.md 13.1) */
    uint64_t total;
} hd_memory;
void hd_dump_memory(const hd_dump *d, hd_memory *out);

/* ============================================================================================
 * Analyses over the strong-reference graph. Every walk is iterative, with explicit
 * stacks or queues, so a 10M-long chain costs memory, never C stack.
 *
 * Ownership, for everything below: the dump is borrowed; each result is a new allocation the
 * caller releases with the paired *_free() (which accepts NULL). Strings inside a result point
 * into the dump(s) it was computed from and live as long as those dumps. The functions return
 * HD_OK, HD_ENOMEM or HD_EINVAL; on failure *out is NULL.
 * ============================================================================================ */

/* --- objects per type (stats.c): objgraph's show_most_common_types ------------------------- */
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

/* --- reachability from the roots (reach.c) ------------------------------------------------- */
/* Why an object is alive. Garbage roots (kind "garbage": the collector's garbage list) keep
 * objects alive only because the collector could not free them, so they are searched last. */
enum hd_reach_state {
    HD_REACH_LIVE = 0,          /* reachable from a root that is not a garbage root */
    HD_REACH_UNCOLLECTABLE = 1, /* reachable only through garbage roots (gc.garbage) */
    HD_REACH_UNREACHABLE = 2,   /* reachable from no root: garbage awaiting collection */
};

/* A breadth-first forest from all roots: one shortest path from a root to every reachable
 * object. Live roots are searched first (all at depth 0, in dump order), then the garbage roots
 * over what is left, so a path prefers a live root even when a garbage root is nearer. Among
 * equally short paths the one found first in dump order (roots, then edges) wins. */
typedef struct hd_reach {
    uint32_t nobjects;
    uint32_t nlive, nuncollectable, nunreachable;
    uint8_t *state;   /* enum hd_reach_state, per object */
    uint32_t *depth;  /* references from the root to the object; HD_NONE when unreachable */
    uint32_t *parent; /* predecessor on the path; HD_NONE for root objects and unreachable ones */
    uint32_t *via;    /* edge index from parent; for a root object the root index (first such) */
} hd_reach;
int hd_reach_compute(const hd_dump *d, hd_reach **out);
void hd_reach_free(hd_reach *r);

/* --- shortest path from a root (paths.c): objgraph's find_backref_chain, MAT's path to GC
 * roots ---------------------------------------------------------------------------------------- */
typedef struct hd_path_hop {
    uint32_t object; /* object index */
    uint32_t edge;   /* edge index from the previous hop's object; HD_NONE for the first hop */
} hd_path_hop;
typedef struct hd_path {
    uint32_t root;             /* root index of hops[0]; HD_NONE when the object is unreachable */
    enum hd_reach_state state; /* LIVE or UNCOLLECTABLE when found, else UNREACHABLE */
    uint32_t nhops;            /* 0 when unreachable; hops[0] is the root object, the last is the target */
    hd_path_hop *hops;
} hd_path;
/* One shortest chain of strong references from a root to object o (an object index), with the
 * same preferences as hd_reach_compute. The search stops as soon as o is found. */
int hd_path_find(const hd_dump *d, uint32_t o, hd_path **out);
/* The same from a computed forest, without searching again (for many queries on one dump). */
int hd_path_from_reach(const hd_dump *d, const hd_reach *r, uint32_t o, hd_path **out);
void hd_path_free(hd_path *p);

/* --- referrers: the reverse of the CSR edges (referrers.c) --------------------------------- */
/* In-edges of o are the entries [offsets[o], offsets[o+1]) of sources (referring object) and
 * edges (the edge index in the dump, for hd_edge_name), in increasing source order. */
typedef struct hd_referrers {
    uint32_t nobjects;
    uint64_t nedges;
    uint32_t *offsets; /* nobjects + 1 entries */
    uint32_t *sources;
    uint32_t *edges;
} hd_referrers;
int hd_referrers_build(const hd_dump *d, hd_referrers **out);
void hd_referrers_free(hd_referrers *r);
/* The referrers of object o alone, in the same order: *n of them, sources[k] referring to o by
 * edge edges[k] (one allocation: free(*sources) releases both). One pass over the edges, without
 * the time and memory of the whole reverse: for a question about one object. */
int hd_referrers_of(const hd_dump *d, uint32_t o, uint32_t **sources, uint32_t **edges, uint64_t *n);

/* --- cycles: strongly connected components that contain a cycle (cycles.c) ----------------- */
typedef struct hd_cycle {
    uint32_t nmembers;
    uint32_t *members;          /* object indices, increasing */
    uint64_t size;              /* total shallow size, saturating */
    enum hd_reach_state state;  /* the same for every member of a component */
    int has_finalizer;          /* some member's type has HD_TYPE_FINALIZER */
    int has_legacy_finalizer;   /* some member's type has HD_TYPE_LEGACY_FINALIZER */
    /* One concrete cycle, a shortest one through members[0]: objects[0..length] with
     * objects[length] == objects[0], and edges[i] the edge from objects[i] to objects[i+1]. */
    uint32_t length;
    uint32_t *objects;
    uint32_t *edges;
} hd_cycle;
typedef struct hd_cycles {
    uint32_t count;
    hd_cycle *cycles;      /* largest first: members, then size, then first member */
    uint64_t in_cycles;    /* objects that are members of some cycle */
    uint32_t *storage;     /* backs the arrays of every hd_cycle */
} hd_cycles;
/* Tarjan's algorithm, iterative, or the components a binary index stores. reach may be NULL (it
 * is then computed for the states). A component of one object is a cycle only when the object
 * refers to itself. */
int hd_cycles_find(const hd_dump *d, const hd_reach *reach, hd_cycles **out);
void hd_cycles_free(hd_cycles *c);
/* Per object, the 1-based position of its cycle in hd_cycles_find's order, or 0 in none: the
 * components alone, without the states and shortest cycles (a malloc'd array, one per object). */
int hd_cycle_numbers(const hd_dump *d, uint32_t **out);

/* Per-type counts and sizes of a set of objects (a cycle's members, the leaked ones): fills out,
 * which has room for n entries, with one entry per type present, sorted as hd_stats_by_type;
 * returns how many. */
uint32_t hd_stats_of_objects(const hd_dump *d, const uint32_t *objects, uint32_t n,
                             enum hd_stat_sort sort, hd_type_stat *out);

/* --- objects per allocation site (stats_sites.c): tracemalloc's statistics('lineno') ------- */
typedef struct hd_site_stat {
    uint32_t site;   /* site index, or HD_NONE for the objects with no site */
    uint64_t count;
    uint64_t size;   /* saturating */
} hd_site_stat;
/* Fills out, which has room for hd_site_count(d) + 1 entries, with one entry per place (file,
 * line, function) that has objects (and one with site HD_NONE for objects without a site),
 * largest first (ties: the other measure, then file, line, function); returns how many. Sites
 * at one place (one line reached by different call stacks) count together, as tracemalloc's
 * statistics('lineno') does; site is the lowest index among them. */
uint32_t hd_stats_by_site(const hd_dump *d, enum hd_stat_sort sort, hd_site_stat *out);

/* --- leaks (leaks.c): what no root keeps alive, and objgraph's get_leaking_objects --------- */
typedef struct hd_leaks {
    uint32_t nunreachable;   /* reachable from no root: garbage awaiting collection */
    uint32_t *unreachable;   /* object indices, increasing */
    uint32_t nuncollectable; /* kept only by garbage roots: the collector gave up on them */
    uint32_t *uncollectable;
    uint32_t nunreferenced;  /* no strong reference from any object (not even itself) and no
                              * root names it: objgraph's get_leaking_objects */
    uint32_t *unreferenced;
    uint64_t unreachable_size, uncollectable_size, unreferenced_size; /* saturating */
} hd_leaks;
int hd_leaks_find(const hd_dump *d, const hd_reach *reach /* may be NULL */, hd_leaks **out);
void hd_leaks_free(hd_leaks *l);

/* --- memcheck's leak categories (leak_kinds.c), for dumps of native processes ---------------
 * As valgrind's memcheck defines them (its manual, "Memory leak detection"), over the blocks of a
 * conservative scan, telling start pointers from interior ones (heapdump.md 6.2, root offset):
 * - still reachable: reached from a root through start pointers only;
 * - possibly lost: reached from a root, but only through a path with an interior pointer;
 * - definitely and indirectly lost: reached from no root, split as memcheck's cliques split them:
 *   the lost blocks are visited in address order, and each one not yet claimed leads a clique
 *   that claims, as indirectly lost, every unclaimed lost block it reaches (interior pointers
 *   count here) without walking through blocks claimed before. The leaders left are definitely
 *   lost: a block no lost block points to, and the first block in address order of a lost cycle
 *   nothing else reaches. Like memcheck, a block can stay definitely lost although a lost block
 *   reaches it, when that path runs through blocks an earlier leader claimed.
 * memcheck's heuristics (stdstring, length64, newarray, multipleinheritance) read block contents,
 * which a dump does not hold: this is memcheck with --leak-check-heuristics=none. */
enum hd_leak_kind {
    HD_LEAK_REACHABLE = 0, HD_LEAK_POSSIBLE = 1, HD_LEAK_INDIRECT = 2, HD_LEAK_DEFINITE = 3,
};
#define HD_LEAK_KINDS 4
/* One loss record: the blocks of one kind allocated by one stack (one site when sites have no
 * stack), as memcheck groups them. */
typedef struct hd_loss_record {
    enum hd_leak_kind kind;
    uint32_t site;           /* a site of the group (the first met), or HD_NONE: no site */
    uint32_t stack;          /* the allocation stack's innermost node, or HD_NONE */
    uint64_t blocks, bytes;  /* bytes saturating */
    uint64_t indirect_bytes; /* definitely lost records: bytes indirectly lost through them */
    uint32_t example;        /* the first block in dump order */
} hd_loss_record;
typedef struct hd_leak_kinds {
    uint32_t nobjects;
    uint8_t *kind;           /* enum hd_leak_kind, per object */
    uint32_t *leader;        /* indirectly lost: the definitely lost block it is counted under;
                              * HD_NONE for the other kinds */
    uint64_t blocks[HD_LEAK_KINDS], bytes[HD_LEAK_KINDS];
    uint32_t nrecords;
    hd_loss_record *records; /* by bytes + indirect_bytes, then blocks, increasing (memcheck's
                              * order: the biggest last), then kind, stack and site */
} hd_leak_kinds;
int hd_leak_kinds_compute(const hd_dump *d, hd_leak_kinds **out);
void hd_leak_kinds_free(hd_leak_kinds *k);
const char *hd_leak_kind_name(enum hd_leak_kind kind); /* "definitely lost", ... */

/* --- flame graphs (flame.c): objects folded by allocation stack, as flamegraph.pl folds them ---
 * Each object's value (its size; 1; its size when memcheck counts it lost, as hd_leak_kinds)
 * summed per path of frame names, outermost first. A frame is named by hd_frame_short_name, a
 * site without a stack is one frame named by hd_site_label, objects without a site are
 * "[no site]"; frames of one name in one place merge. Names never hold ';' or a line break:
 * those become '_'. */
enum hd_flame_measure { HD_FLAME_BYTES, HD_FLAME_BLOCKS, HD_FLAME_LOST_BYTES };
typedef struct hd_flame_stack {
    char *path;     /* the frames' names joined by ';' */
    uint64_t value; /* saturating, never 0 */
} hd_flame_stack;
typedef struct hd_flame_node {
    const char *name; /* into a stack's path; len bytes, not NUL-terminated */
    size_t len;
    uint64_t value;   /* the frame's stacks and its callees', saturating */
    uint32_t parent, first_child, next_sibling, depth; /* HD_NONE where none */
} hd_flame_node;
typedef struct hd_flame {
    size_t nstacks;
    hd_flame_stack *stacks; /* the collapsed stacks, in path order (';' sorts before any character) */
    uint32_t nnodes, max_depth;
    hd_flame_node *nodes;   /* the tree of frames: node 0 is "all" (depth 0), a caller comes
                             * before its callees, and callees come in name order */
} hd_flame;
int hd_flame_fold(const hd_dump *d, enum hd_flame_measure m, hd_flame **out);
void hd_flame_free(hd_flame *f);

/* --- diff of two dumps of one process (diff.c): objgraph's show_growth, DevTools' Comparison,
 * tracemalloc's compare_to -------------------------------------------------------------------- */
/* Objects are matched by id. An id present in both dumps with a different type name counts as
 * the old object deleted and a new one allocated (the id was reused). Rows are keyed by type
 * name (or by site file, line and function), so types and sites match across dumps by name
 * even when their ids differ. */
enum hd_diff_by { HD_DIFF_BY_TYPE, HD_DIFF_BY_SITE };
typedef struct hd_diff_row {
    const char *type;      /* by type: the type name */
    const char *file;      /* by site: the site's file, or NULL for objects with no site */
    const char *function;  /* by site: "" when absent */
    uint32_t line;         /* by site */
    uint64_t count_old, count_new;
    uint64_t added, deleted;       /* objects new in NEW, objects gone from OLD */
    uint64_t size_old, size_new;   /* saturating */
    uint64_t allocated, freed;     /* sizes of the added and of the deleted objects */
    int64_t count_delta, size_delta; /* new - old, clamped to the int64 range */
} hd_diff_row;
typedef struct hd_diff {
    enum hd_diff_by by;
    uint32_t nrows;
    hd_diff_row *rows;     /* every key present in either dump; by count delta (largest
                            * growth first), then size delta, then key */
    uint32_t nadded;
    uint32_t *added;       /* indices into NEW of the added objects, in NEW's order */
    uint32_t ndeleted;
    uint32_t *deleted;     /* indices into OLD of the deleted objects, in OLD's order */
    uint64_t matched;      /* objects present in both with the same type */
} hd_diff;
int hd_diff_compute(const hd_dump *old, const hd_dump *new_, enum hd_diff_by by, hd_diff **out);
void hd_diff_free(hd_diff *diff);

/* How two dumps relate: object ids match only within one process. */
enum hd_compat {
    HD_COMPAT_SAME = 0,       /* same producer and pid (or pids unknown) */
    HD_COMPAT_PRODUCER = 1,   /* different producers */
    HD_COMPAT_PID = 2,        /* both pids known and different */
    HD_COMPAT_VERSION = 4,    /* different format versions */
};
unsigned hd_dump_compat(const hd_dump *a, const hd_dump *b); /* a set of enum hd_compat bits */

/* memlab's leak rule over three dumps: objects that were allocated between BASE and TARGET (their
 * id is in TARGET but not in BASE) and are still alive in FINAL (same id, same type name there),
 * grouped by type and by the shape of their shortest path from a root in FINAL. */
typedef struct hd_trace_step {
    const char *edge;  /* edge name as in the dump ("" when unnamed); NULL for the root step */
    uint32_t type;     /* type index in FINAL of the object this step reaches */
    int repeated;      /* in some path of this shape the step ran twice or more in a row */
} hd_trace_step;
typedef struct hd_leak_trace {
    uint64_t count, size;        /* leaked objects with this path shape, their total size */
    uint32_t example;            /* one of them (the first in FINAL's order), index in FINAL */
    enum hd_reach_state state;
    uint32_t root;               /* root index in FINAL of the path (HD_NONE when unreachable) */
    uint32_t nsteps;             /* 0 when unreachable */
    hd_trace_step *steps;        /* steps[0] is the root object; a run of identical (edge, type)
                                  * steps is one step, so list nodes at any depth share a shape */
} hd_leak_trace;
typedef struct hd_leak_report {
    uint32_t nleaked;
    uint32_t *leaked;            /* indices into FINAL, increasing */
    uint64_t leaked_size;
    uint32_t ntypes;
    hd_type_stat *by_type;       /* type indices in FINAL, by count */
    uint32_t ntraces;
    hd_leak_trace *traces;       /* by count, then size */
} hd_leak_report;
int hd_leak_report_compute(const hd_dump *base, const hd_dump *target, const hd_dump *final,
                           hd_leak_report **out);
void hd_leak_report_free(hd_leak_report *r);
/* --- code locations as text (code_location.c); the text is the dump's own bytes: escape it for
 * a terminal ---------------------------------------------------------------------------------- */
/* Frame f as memcheck shows a frame: "parse (json.c:12)", "parse (json.c)",
 * "parse (in /usr/lib/libjq.so.1)", "/usr/lib/libjq.so.1+0x1f3a" (no symbol), "???". Writes at
 * most len bytes with the NUL, as snprintf, and returns the length of the whole label. */
size_t hd_frame_label(const hd_dump *d, uint32_t f, char *buf, size_t len);
/* A frame as a flame graph names it: its function, else "file:line", else "module+0xoffset",
 * else "???". A site without a stack: "function (file:line)" or "file:line". New strings
 * (free() them), NULL when out of memory. */
char *hd_frame_short_name(const hd_dump *d, uint32_t f);
char *hd_site_label(const hd_dump *d, uint32_t s);

/* "312 B", "1.5 KiB", "12 MiB": bytes as heaptool shows sizes (human_size.c); buf has 16 bytes. */
const char *hd_human_size(uint64_t bytes, char buf[16]);
/* The length of the UTF-8 character at s when it may be shown as it is (not a C0 or C1
 * control, DEL, an invalid or overlong sequence or a surrogate), else 0 (printable.c). Every
 * escaper of dump text shows the other bytes as \xNN. */
size_t hd_utf8_printable_len(const char *s);

/* --- distance from the nearest root (root_distance.c): DevTools' "Distance" column ----------- */
/* *out is a new array (free() it) of one entry per object: 1 for a root object (of any kind),
 * 1 + the fewest strong references from any root otherwise, HD_NONE when no root reaches it. */
int hd_root_distance(const hd_dump *d, uint32_t **out);

/* --- suspects (suspects*.c): what probably leaks or wastes memory, found for you: Eclipse MAT's
 * Leak Suspects, memlab's leak rule and String plugin, objgraph's show_growth over a series ---- */
enum hd_suspect_kind {
    HD_SUSPECT_BIG_RETAINER = 0,  /* one object retaining >= threshold of the heap (MAT) */
    HD_SUSPECT_MANY_OF_KIND,      /* the instances of one type together retain >= threshold, no
                                   * one of them 4/5 of it; objects the roots hold directly (at
                                   * the top of the dominator tree) count for no type */
    HD_SUSPECT_NEW_AND_ALIVE,     /* memlab: allocated between BASELINE and the dump, alive in FINAL */
    HD_SUSPECT_GROWING_TYPE,      /* a type whose instance count grew at every step of the series */
    HD_SUSPECT_DUPLICATE_STRINGS, /* copies of one string: bytes = what keeping one copy saves */
    HD_SUSPECT_EMPTY_CONTAINERS,  /* containers of one type with no item, or few items in a big table */
    HD_SUSPECT_UNCOLLECTABLE,     /* a cycle kept only by the collector's garbage list */
    HD_SUSPECT_WEAK_ONLY,         /* garbage that live weak references still point to */
};
typedef struct hd_dominators hd_dominators; /* below */
enum hd_severity { HD_SEVERITY_LOW = 1, HD_SEVERITY_MEDIUM = 2, HD_SEVERITY_HIGH = 3 };
const char *hd_suspect_kind_name(enum hd_suspect_kind kind); /* "big-retainer", ... */
const char *hd_severity_name(enum hd_severity severity);     /* "low", "medium", "high" */

/* One node of merged shortest paths from the roots (MAT's "merge shortest paths to GC roots"):
 * objects on the paths to a type's instances, parents before children. */
typedef struct hd_merged_node {
    uint32_t object; /* object index */
    uint32_t parent; /* index into the nodes; HD_NONE for a root object */
    uint32_t edge;   /* edge index from the parent's object; HD_NONE for a root object */
    uint32_t root;   /* for a root object its root index (the first), else HD_NONE */
    uint64_t count;  /* instances whose shortest path passes here (the instance itself counts) */
} hd_merged_node;

typedef struct hd_suspect {
    enum hd_suspect_kind kind;
    enum hd_severity severity;
    char id[48];           /* stable across runs and dumps: "retainer/12", "kind/Node", ... */
    const hd_dump *dump;   /* the dump the indices below are in (FINAL for NEW_AND_ALIVE) */
    const char *type_name; /* the type concerned, NULL for a mixed set (a cycle, a retainer) */
    uint32_t object;       /* the retainer; otherwise one example object; HD_NONE for a type's growth */
    uint32_t accumulation; /* BIG_RETAINER: where the retained size stops being held by one
                            * child (the collection that holds the memory); else HD_NONE */
    uint64_t count;        /* objects concerned (retained ones for BIG_RETAINER) */
    uint64_t bytes;        /* retained (BIG_RETAINER, MANY_OF_KIND), wasted (DUPLICATE_STRINGS),
                            * growth in size (GROWING_TYPE), else total shallow size */
    double share;          /* bytes / the dump's total size */
    hd_path *path;         /* shortest path from a root to object, or NULL */
    uint32_t ntypes;       /* BIG_RETAINER: what it retains by type (count, shallow size), */
    hd_type_stat *types;   /* largest size first, at most 8 */
    uint32_t nmerged;      /* MANY_OF_KIND: merged paths to the instances, at most 32 nodes */
    hd_merged_node *merged;
    const char *text;      /* DUPLICATE_STRINGS: the string's label (raw dump text) */
    uint64_t each;         /* DUPLICATE_STRINGS: bytes of one copy */
    int shortened;         /* DUPLICATE_STRINGS: the label was cut ("..."): copies are told
                            * apart by the kept text and the size only */
    uint64_t empty, spare; /* EMPTY_CONTAINERS: how many have no item; bytes of table beyond
                            * the type's fixed size and the items held */
    uint32_t nseries;      /* GROWING_TYPE: instance count in each snapshot, oldest first */
    uint64_t series[3];
    const hd_leak_trace *trace; /* NEW_AND_ALIVE: the retainer path shape in FINAL */
} hd_suspect;

typedef struct hd_suspects_options {
    double threshold;        /* share of the heap that makes a retainer (default 0.10 when 0);
                              * waste and growth are reported from a tenth of it */
    const hd_dump *baseline; /* an earlier dump of the same process, or NULL */
    const hd_dump *final;    /* a later one (needs baseline), or NULL */
    const hd_dominators *dom;/* the dump's, when the caller has them (else computed) */
    const hd_reach *reach;   /* likewise */
} hd_suspects_options;

typedef struct hd_suspects {
    uint32_t count;
    hd_suspect *items;       /* by severity, then bytes, then id */
    uint64_t heap_size;      /* hd_total_size of the dump */
    double threshold;
    hd_leak_report *leak_report; /* backs the NEW_AND_ALIVE traces */
} hd_suspects;
/* opts may be NULL. HD_OK, HD_ENOMEM, or HD_EINVAL (a threshold outside (0, 1], final
 * without baseline). */
int hd_suspects_find(const hd_dump *d, const hd_suspects_options *opts, hd_suspects **out);
void hd_suspects_free(hd_suspects *s);

/* --- the dominator tree and retained sizes (dominators.c): Eclipse MAT, Chrome DevTools ---- */
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
/* The dominator tree's children, in CSR form: the children of object o are child[first[o] ..
 * first[o + 1]), those of the virtual root child[first[n] .. first[n + 1]) with n =
 * hd_object_count(). first has n + 2 entries; free() both. HD_OK or HD_ENOMEM. */
int hd_dominator_children(const hd_dominators *dom, uint32_t **first, uint32_t **child);
/* Per-type table like hd_stats_by_type, with retained filled in by the DevTools rule (an object
 * counts for its type only when no object of the same type dominates it), sorted by retained.
 * out has room for hd_type_count(d) entries; *count is set to the entries written. */
int hd_stats_retained_by_type(const hd_dump *d, const hd_dominators *dom, hd_type_stat *out,
                              uint32_t *count);

/* ============================================================================================
 * Reference graphs: objgraph's show_refs, show_backrefs and show_chain. graph.c picks
 * a small subgraph (a plain list of nodes and edges), dot.c writes it as DOT text, render.c lays
 * it out and renders it in-process with Graphviz (libgvc). Ownership as for the analyses: the
 * dump is borrowed, results are new and released with their *_free(); a graph's nodes and edges
 * are indices into the dump it was built from.
 * ============================================================================================ */

/* Which way a graph grows from its start objects. Edges always point the way references do
 * (referrer -> referent) whichever way the walk went. */
enum hd_graph_direction {
    HD_GRAPH_REFERENTS = 0, /* what the start objects refer to (objgraph's show_refs) */
    HD_GRAPH_REFERRERS = 1, /* what refers to them, stopping at roots (show_backrefs) */
};
/* A predicate on objects (filters, highlights): nonzero to accept object index o. */
typedef int (*hd_object_pred)(const hd_dump *d, uint32_t o, void *user);

typedef struct hd_graph_options {
    enum hd_graph_direction direction;
    uint32_t max_depth;  /* objects nearer than this to a start object are expanded (default 3) */
    uint32_t too_many;   /* references drawn per object, the rest become one "N more" node
                          * (default 10; 0: no limit) */
    uint32_t max_nodes;  /* objects in the graph at most (start objects always count and are
                          * always in); what does not fit joins the "N more" nodes. 0: no limit */
    int no_weak;         /* leave weak references out (else drawn from weakref to referent) */
    hd_object_pred filter;    /* NULL, or only objects it accepts are drawn and walked through
                               * (start objects always are) */
    void *filter_user;
    hd_object_pred highlight; /* NULL, or objects it accepts get HD_GNODE_HIGHLIGHT */
    void *highlight_user;
} hd_graph_options;
/* The defaults above (referents, depth 3, too_many 10, no node limit, weak references in). */
void hd_graph_options_init(hd_graph_options *opts);

enum hd_graph_node_flag {
    HD_GNODE_START = 1u << 0,     /* a start object (objgraph's red text) */
    HD_GNODE_ROOT = 1u << 1,      /* a root names it: see hd_graph_node.root */
    HD_GNODE_FINALIZER = 1u << 2, /* its type has a finalizer */
    HD_GNODE_LEGACY_FINALIZER = 1u << 3, /* ... one unsafe in cycles */
    HD_GNODE_HIGHLIGHT = 1u << 4, /* accepted by hd_graph_options.highlight */
    HD_GNODE_CYCLE = 1u << 5,     /* on a cycle through a start object among the objects drawn (a
                                   * strongly connected component of the strong references between
                                   * drawn objects, holding a start object) */
    HD_GNODE_MORE = 1u << 6,      /* not an object: "more references" left out of the graph */
};
typedef struct hd_graph_node {
    uint32_t object; /* object index; HD_NONE for a "more" node */
    uint32_t depth;  /* references from the nearest start object (a "more" node: its object's + 1) */
    unsigned flags;  /* enum hd_graph_node_flag */
    uint32_t root;   /* the first root index naming the object, or HD_NONE */
    uint32_t more;   /* a "more" node: how many references it stands for */
} hd_graph_node;

enum hd_graph_edge_kind {
    HD_GEDGE_STRONG = 0, /* a reference in "refs": ref is the dump's edge index */
    HD_GEDGE_WEAK = 1,   /* weakref object -> referent: ref is the weakref index */
    HD_GEDGE_MORE = 2,   /* to (or from) a "more" node: ref is 0 */
};
typedef struct hd_graph_edge {
    uint32_t from, to;  /* node indices: from refers to to */
    enum hd_graph_edge_kind kind;
    int in_cycle;       /* a strong edge within one HD_GNODE_CYCLE component */
    uint64_t ref;
} hd_graph_edge;

typedef struct hd_graph {
    enum hd_graph_direction direction;
    uint32_t max_depth;     /* for the colour gradient: the deepest depth a node can have */
    uint32_t nnodes, nedges;
    hd_graph_node *nodes;   /* start objects first (in the order given), then breadth-first */
    hd_graph_edge *edges;   /* in the order found; several edges may join the same two nodes,
                             * each with its own name */
    uint32_t nobjects;      /* nodes that are objects (not "more" nodes) */
    uint64_t omitted;       /* references left out by too_many and max_nodes */
    int truncated;          /* max_nodes stopped the walk from adding objects */
    uint32_t chain_root;    /* hd_graph_chain: the root index the chain starts at, or HD_NONE */
} hd_graph;

/* Breadth-first from the start objects (nstart object indices, duplicates ignored; at least one)
 * over strong references and, unless opts->no_weak, weak ones. opts may be NULL (defaults).
 * HD_OK, HD_ENOMEM, or HD_EINVAL (no start object, an index out of range). */
int hd_graph_build(const hd_dump *d, const uint32_t *start, uint32_t nstart,
                   const hd_graph_options *opts, hd_graph **out);
/* objgraph's show_chain: the shortest chain of strong references from a root to object o (as
 * hd_path_find), o the start node and the root object deepest. When no root reaches o the
 * graph is o alone and chain_root is HD_NONE. opts may be NULL; only its highlight is used. */
int hd_graph_chain(const hd_dump *d, uint32_t o, const hd_graph_options *opts, hd_graph **out);
void hd_graph_free(hd_graph *g);

/* DOT text for a graph (dot.c), objgraph's look in light fills and dark text (WCAG AA, every
 * colour from src/dump/dot_palette.h): boxes in steps of grey by depth (roots green,
 * highlighted objects pink, "N more" boxes amber), start objects in red text, roots with a
 * double border and their kind, finalizers marked, edges labelled ".field" or "[key]", weak
 * references dashed, edges inside a cycle red. An object's element edges ("[i]") are written
 * in index order and kept in it (ordering=out); the references from one node to another are
 * one edge with a line per name. Every text from the dump is escaped (quotes, backslashes,
 * control characters, invalid UTF-8, < > & { } |) and cut to 40 characters.
 * Returns HD_OK, HD_ENOMEM, or HD_EIO when writing fails. */
int hd_dot_write(const hd_dump *d, const hd_graph *g, FILE *out);
/* The same into a new NUL-terminated string (*text, *len without the NUL; free() it). */
int hd_dot_string(const hd_dump *d, const hd_graph *g, char **text, size_t *len);

/* Lays out DOT text with Graphviz's dot layout and renders it in format ("png", "svg", "pdf",
 * or any other output format the installed Graphviz has) into a new buffer (*out, *outlen;
 * free() it). Graphviz's own messages go into err, never to stderr; HD_EINVAL when Graphviz
 * rejects the text or the format, HD_ENOMEM. Graphviz keeps global error state: call from one
 * thread at a time. The first call loads Graphviz and its plugins; they stay loaded. */
int hd_render_data(const char *dot, size_t len, const char *format, void **out, size_t *outlen,
                   hd_error *err);
/* hd_render_data into a file, written atomically (hd_write_file_atomic). */
int hd_render_file(const char *dot, size_t len, const char *format, const char *path, hd_error *err);
/* Writes data to path through a temporary file in the same directory, flushed and renamed over
 * path, so path is either untouched or complete. HD_EIO (err says why) on failure. */
int hd_write_file_atomic(const char *path, const void *data, size_t len, hd_error *err);
/* Removes the temporary files of every write still in progress (hd_write_file_atomic,
 * hd_index_write, hd_dump_write_json_file, hd_render_file, and the hd_unfinished_* ones below),
 * so that a program interrupted mid-write leaves nothing behind: async-signal-safe, for a SIGINT
 * or SIGTERM handler that then dies of the signal. Those writes go on failing or succeeding as
 * they would (the rename then fails). Files go first, then directories, which are empty by then
 * when every file in them was listed. */
void hd_remove_unfinished_files(void);
/* Temporaries of a writer that writes them itself and renames them over its target: made from a
 * mkstemp template (its last six X's replaced) with the mode creating them would give, and
 * listed for hd_remove_unfinished_files until hd_unfinished_done (after the rename) or
 * hd_unfinished_remove. *handle is the listing, -1 when the list is full (an interrupt then
 * leaves the temporary behind). hd_unfinished_file returns the open file's descriptor,
 * hd_unfinished_directory 0; both -1 with errno when it could not be made. */
int hd_unfinished_file(char *tmpl, int *handle);
int hd_unfinished_directory(char *tmpl, int *handle);
/* Lists path, a file about to be made in a listed directory; returns its handle (or -1). */
int hd_unfinished_name(const char *path);
void hd_unfinished_done(int handle);
/* Removes the file or (empty) directory at path and unlists it. */
void hd_unfinished_remove(const char *path, int handle);

/* ============================================================================================
 * The HTML report (src/report/): one self-contained page (styles, script and pictures inline,
 * nothing fetched) of bounded size whatever the dumps' size: every table and picture keeps its
 * top entries and says how many more there are.
 * ============================================================================================ */
typedef struct hd_report_options {
    const char *const *names; /* how each dump is called on the page (its path), n entries */
    double threshold;         /* for the suspects, as hd_suspects_options (0: 10 %) */
    uint32_t top;             /* rows per table (0: 50) */
    uint32_t tree_nodes;      /* dominator tree nodes drawn at most (0: 3000) */
} hd_report_options;
/* Writes the report on dumps[0..n) (n >= 1, oldest first: the last is the one analysed, and
 * with n >= 2 they are compared) to out. HD_OK, HD_ENOMEM, HD_EINVAL, or HD_EIO when
 * writing fails. Uses Graphviz (hd_render_data) for the cycles: one thread at a time. */
int hd_report_write(const hd_dump *const *dumps, size_t n, const hd_report_options *opts, FILE *out);

#ifdef __cplusplus
}
#endif
#endif
