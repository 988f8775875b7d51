/* reader.h: the heapdump v1 reader's state, shared by its parts.
 *
 * Invariant: the document is never held whole. The lexer streams it in bounded chunks; each
 * record of the large arrays goes straight into the struct-of-arrays graph, and references are
 * kept as raw target ids (edge_tid and friends) until the whole document is read; only then does
 * the id map exist and they are resolved in place to indices. Problems found only then (dangling
 * ids, unknown types) are placed by a second, read-only pass over the source when the source can
 * be read again. The parts:
 *   read_values.c   problems, member and element iteration, the scalar value readers
 *   read_records.c  one record of types, sites, objects, weakrefs, roots
 *   read_sections.c the small sections: meta, pools, gc
 *   read_document.c the top-level members (one table) and the V8 dispatch
 *   read_split.c    the objects array on two threads
 *   read_resolve.c  ids to indices, and problems placed by re-reading (locate.c)
 *   native_read.c   what native producers add: frames, stacks, interior pointers (native.h)
 *   load.c          the entry points (hd_load, hd_load_file, hd_load_buffer)
 * V8 heap snapshots are read by v8_read.c and v8_graph.c instead.
 *
 * Value readers return 0 when they read the value, SKIPPED when it was wrong, reported (as a
 * problem, validation mode only) and skipped, and < 0 to stop.
 */
#ifndef HD_READER_H
#define HD_READER_H

#include "dump_internal.h"
#include "lexer.h"

#include <stdbool.h>

#define SKIPPED 1               /* a value was wrong, reported, and skipped (validation mode) */
#define MAX_KEPT_PROBLEMS 1000  /* post-load problems kept for placing; the rest only counted */
#define TYPE_PLACEHOLDER 0x80u  /* type_flags: referenced by an object, not (yet) defined */
#define SITE_DEFINED UINT32_MAX /* site_user: defined in sites (a file may be "", string 0) */

struct loader;

/* The top-level members a heapdump reads, in the order problems found after reading are
 * reported: the enum, the member's name, and the function that reads its value (the value's
 * first token current; it leaves the value's last token current). A new section is one line
 * here and its reader. */
#define HD__SECTIONS(X)                                                                         \
    X(S_FORMAT, "format", hd__read_format)                                                      \
    X(S_VERSION, "version", hd__read_version)                                                   \
    X(S_META, "meta", hd__read_meta)                                                            \
    X(S_TYPES, "types", hd__read_types)                                                         \
    X(S_FRAMES, "frames", hd__read_frames)                                                      \
    X(S_STACKS, "stacks", hd__read_stacks)                                                      \
    X(S_SITES, "sites", hd__read_sites)                                                         \
    X(S_OBJECTS, "objects", hd__read_objects)                                                   \
    X(S_WEAKREFS, "weakrefs", hd__read_weakrefs)                                                \
    X(S_ROOTS, "roots", hd__read_roots)                                                         \
    X(S_POOLS, "pools", hd__read_pools)                                                         \
    X(S_GC, "gc", hd__read_gc)

#define HD__SECTION_ENUM(e, name, fn) e,
enum section { HD__SECTIONS(HD__SECTION_ENUM) S_COUNT };
#undef HD__SECTION_ENUM
#define HD__SECTION_READER(e, name, fn) int fn(struct loader *L);
HD__SECTIONS(HD__SECTION_READER)
#undef HD__SECTION_READER
extern const char *const hd__section_names[S_COUNT];

/* A problem found after the document was read, to be placed by the locating pass. */
typedef struct pending {
    enum section array;
    uint64_t index;
    int status;
    char message[200];
    hd__pos pos;
} pending;

typedef struct loader {
    hd__lexer lx;
    hd_dump *d;
    unsigned threads;     /* hd_load_options.threads */
    struct split *split;  /* the second thread, while it parses the objects array */
    uint64_t split_at;    /* the offset of the '{' where its records start */
    hd_problem_fn on_problem;
    void *user;
    hd_error *err;
    hd_error first;       /* the first problem, returned when validation finds any */
    uint64_t nproblems;
    bool seen[S_COUNT];
    enum section ctx;     /* the array whose element is being read, for messages */
    uint64_t ctx_index;
    bool in_record;
    char key[64];

    uint64_t *edge_tid;   /* raw target ids until resolved */
    uint64_t *root_tid, *weakref_tid, *referent_tid, *garbage_tid;
    uint32_t garbage_cap;
    uint32_t *type_user, *site_user; /* first object that used an undefined type/site;
                                      * site_user is SITE_DEFINED once the site is defined */
    /* Validation mode drops bad records, so an object's index may differ from its place in the
     * array: these map indices back to array positions (NULL outside validation mode). */
    uint32_t *object_elem, *weakref_elem, *root_elem;
    uint32_t object_elem_cap, weakref_elem_cap, root_elem_cap;
    hd__pos gc_pos;

    pending *pend;
    size_t npend;
    bool v8;              /* the document is a V8 heap snapshot, read by v8_read.c */
} loader;

/* --- load.c: a loader's life ---------------------------------------------------------------- */

/* A loader with an empty dump of its own (L->d, even on failure: free it with hd_dump_free). */
int hd__loader_init(loader *L, hd__source src, const char *name, hd_error *err);
void hd__loader_free(loader *L);

/* --- read_values.c: problems -------------------------------------------------------------- */

/* Reports a problem in the document, prefixed with the record being read ("objects[3]: ").
 * Without a problem callback it is the load's error and its status is returned; with one, it
 * is delivered and HD_OK says "go on" (HD_ENOMEM and HD_ELIMIT always stop). */
int hd__problem(loader *L, int status, hd__pos pos, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Hands a problem to the callback, remembering the first. */
void hd__deliver(loader *L, const hd_error *e);
int hd__oom(loader *L);
/* A syntax error: expected something, found the current token. */
int hd__syntax(loader *L, const char *expected);
/* A value of the wrong kind: reported and skipped so reading can go on (SKIPPED). */
int hd__wrong_value(loader *L, const char *key, const char *expected);
int hd__missing(loader *L, const char *member);

/* --- read_values.c: values and iteration --------------------------------------------------- */

static inline int hd__read_uint(loader *L, const char *key, uint64_t *out)
{
    if (L->lx.tok == HD__T_NUMBER && L->lx.num_kind == HD__N_UINT) {
        *out = L->lx.num;
        return HD_OK;
    }
    return hd__wrong_value(L, key, "an unsigned integer");
}

int hd__read_bool(loader *L, const char *key, bool *out);
/* A string into the dump's table: interned (names, shared) or appended (labels). */
int hd__read_string(loader *L, const char *key, bool intern, uint32_t *out);

/* k: the member's index in the caller's key table, -1 when not there (or no table). */
typedef int (*member_fn)(loader *L, int k, const char *key, void *state);
typedef int (*element_fn)(loader *L);
typedef int (*item_fn)(loader *L, uint64_t i, void *state);

/* With '{' current, calls fn for each member with its value's first token current; fn consumes
 * the value. Leaves '}' current. With a key table (NULL-terminated), matched names are passed
 * as the table's own strings and need no copy. */
/* Like hd__each_member_keyed from the token after '{': the first member's name, or '}'. */
int hd__members_from(loader *L, const char *const *keys, member_fn fn, void *state);
/* What is current is not an object: reported and skipped (SKIPPED), or < 0. */
int hd__not_an_object(loader *L);
static inline int hd__each_member_keyed(loader *L, const char *const *keys, member_fn fn, void *state)
{
    if (L->lx.tok != HD__T_LBRACE)
        return hd__not_an_object(L);
    int rc = hd__lex_next(&L->lx);
    return rc ? rc : hd__members_from(L, keys, fn, state);
}
int hd__each_member(loader *L, member_fn fn, void *state);
/* With '[' current, calls fn for each element (a record of array, for messages); leaves ']'
 * current. Hands the rest to the second thread when it reaches where that one started. */
int hd__each_element(loader *L, enum section array, element_fn fn);
/* An array inside a record (refs, flags): with '[' current, calls fn for each item i with its
 * first token current; fn consumes it. Leaves ']' current. Anything but an array is reported as
 * member key not being `expected` and skipped. */
int hd__each_item(loader *L, const char *key, const char *expected, item_fn fn, void *state);

/* hd__grow for a section's records: from 64, up to 2^32-2. */
static inline bool hd__grow_records(uint32_t count, uint32_t *cap, void **const arrays[],
                                    const size_t sizes[])
{
    if (count < *cap)
        return true;
    uint64_t c = *cap;
    bool ok = hd__grow_arrays(count, &c, 64, UINT32_MAX - 1, arrays, sizes);
    *cap = (uint32_t)c;
    return ok;
}
/* Remembers where in its array the record at index i came from (validation mode only). */
bool hd__note_element(loader *L, uint32_t **elem, uint32_t *cap, uint32_t i);
static inline uint32_t hd__element_of(const uint32_t *elem, uint32_t i) { return elem ? elem[i] : i; }

/* --- read_records.c ------------------------------------------------------------------------ */

/* The index of type (site) id; an id not defined yet gets a placeholder that the types (sites)
 * array may fill, first used by object user. */
int hd__type_index(loader *L, uint64_t id, uint32_t user, uint32_t *out);
int hd__site_index(loader *L, uint64_t id, uint32_t user, uint32_t *out);
/* One element of objects, with its first token current. */
int hd__parse_object(loader *L);

/* --- read_split.c -------------------------------------------------------------------------- */

/* Ends the second thread. at_boundary: this thread's next record starts where the second one
 * started. Returns 1 when the second half joined this dump and the lexer is at the array's
 * ']', 0 when its work was dropped and this thread reads on, < 0 on error. */
int hd__split_finish(loader *L, bool at_boundary);

/* --- read_document.c and read_resolve.c ---------------------------------------------------- */

/* The whole document, heapdump or V8 (L->v8 then). */
int hd__read_document(loader *L);
/* Raw ids to indices; problems kept for hd__report_pending. */
int hd__resolve(loader *L);
/* A problem of element index of array found after reading: kept to be placed and reported in
 * document order. Without a problem callback the first one ends the load (its status). */
int hd__later(loader *L, enum section array, uint64_t index, int status, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* Places the problems kept after reading (when the source can be read again) and reports them
 * in document order. */
int hd__report_pending(loader *L);

#endif
