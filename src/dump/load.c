/* load.c: reads a heapdump v1 document record by record into the compact graph.
 *
 * The document is never held whole: the lexer streams it in bounded chunks, each record of the
 * large arrays goes straight into the struct-of-arrays graph, and references are kept as raw
 * target ids until the end, when the id map exists and they are resolved in place to indices.
 * Problems found only then (dangling ids, unknown types) are placed by a second, read-only pass
 * over the source when the source can be read again. A large objects array is parsed by two
 * threads, one from its start and one from its middle (see "the objects array on two threads").
 */
#include "dump_internal.h"
#include "lexer.h"
#include "native.h"
#include "v8.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SKIPPED 1               /* a value was wrong, reported, and skipped (validation mode) */
#define MAX_KEPT_PROBLEMS 1000  /* post-load problems kept for placing; the rest only counted */
#define TYPE_PLACEHOLDER 0x80u  /* type_flags: referenced by an object, not (yet) defined */
#define SITE_DEFINED UINT32_MAX /* site_user: defined in sites (a file may be "", string 0) */

enum section { S_FORMAT, S_VERSION, S_META, S_TYPES, S_FRAMES, S_STACKS, S_SITES, S_OBJECTS,
               S_WEAKREFS, S_ROOTS, S_POOLS, S_GC, S_COUNT };
static const char *const section_names[S_COUNT] = {
    "format", "version", "meta", "types", "frames", "stacks", "sites", "objects", "weakrefs",
    "roots", "pools", "gc",
};

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

/* The second thread of a split objects array: its own loader and scratch dump, reading from the
 * record that starts at first to the array's end. */
typedef struct split {
    pthread_t thread;
    atomic_bool stop;     /* set when its work can no longer be used */
    hd__range_source range;
    hd_error err;
    loader part;
    uint64_t line, first; /* offsets of the line it starts at and of its first record's '{' */
    int rc;               /* HD_OK when it read to the array's end */
    hd__pos end;          /* that ']', with line 1 the line of first */
    hd_progress_fn progress; /* the caller's, told both threads' bytes */
    void *progress_user;
    uint64_t reported;       /* what it was told before the split */
} split;

/* --- problems ------------------------------------------------------------------------------ */

static void format_context(loader *L, char *out, size_t size)
{
    if (L->in_record)
        snprintf(out, size, "%s[%llu]: ", section_names[L->ctx], (unsigned long long)L->ctx_index);
    else
        out[0] = '\0';
}

static void deliver(loader *L, const hd_error *e)
{
    if (L->nproblems++ == 0)
        L->first = *e;
    L->on_problem(e, L->user);
}

/* Reports a problem in the document. Without a problem callback it is the load's error and its
 * status is returned; with one, it is delivered and HD_OK says "go on". */
__attribute__((format(printf, 4, 5)))
static int problem(loader *L, int status, hd__pos pos, const char *fmt, ...)
{
    char ctx[64], msg[200];
    format_context(L, ctx, sizeof ctx);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    hd_error e;
    hd__error_set(&e, status, L->lx.name, pos, "%s%s", ctx, msg);
    if (!L->on_problem || status == HD_ENOMEM || status == HD_ELIMIT) {
        *L->err = e;
        return status;
    }
    deliver(L, &e);
    return HD_OK;
}

static int oom(loader *L)
{
    return problem(L, HD_ENOMEM, L->lx.tok_pos, "out of memory");
}

static int syntax(loader *L, const char *expected)
{
    return hd__lex_fail(&L->lx, HD_ESYNTAX, L->lx.tok_pos, "expected %s, found %s", expected,
                        hd__tok_name(L->lx.tok));
}

/* A value of the wrong kind: report it and skip it so reading can go on. */
static int wrong_value(loader *L, const char *key, const char *expected)
{
    const hd__lexer *lx = &L->lx;
    const char *found = hd__tok_name(lx->tok);
    if (lx->tok == HD__T_NUMBER)
        found = lx->num_kind == HD__N_NEGINT  ? "a negative number"
              : lx->num_kind == HD__N_BIGUINT ? "a number above 2^64-1"
              : lx->num_kind == HD__N_REAL    ? "a non-integer number" : "a number";
    int rc = problem(L, HD_EFORMAT, lx->tok_pos, "'%s' must be %s, found %s", key, expected, found);
    if (rc)
        return rc;
    rc = hd__lex_skip_value(&L->lx);
    return rc ? rc : SKIPPED;
}

/* --- value readers: 0 = read, SKIPPED = wrong and skipped, < 0 = stop ---------------------- */

static int read_uint(loader *L, const char *key, uint64_t *out)
{
    if (L->lx.tok == HD__T_NUMBER && L->lx.num_kind == HD__N_UINT) {
        *out = L->lx.num;
        return HD_OK;
    }
    return wrong_value(L, key, "an unsigned integer");
}

static int read_bool(loader *L, const char *key, bool *out)
{
    if (L->lx.tok == HD__T_TRUE || L->lx.tok == HD__T_FALSE) {
        *out = L->lx.tok == HD__T_TRUE;
        return HD_OK;
    }
    return wrong_value(L, key, "true or false");
}

static int read_string(loader *L, const char *key, bool intern, uint32_t *out)
{
    if (L->lx.tok != HD__T_STRING)
        return wrong_value(L, key, "a string");
    hd__strtab *st = &L->d->strings;
    *out = intern ? hd__strtab_intern(st, L->lx.str, L->lx.str_len)
                  : hd__strtab_append(st, L->lx.str, L->lx.str_len);
    if (*out == UINT32_MAX)
        return problem(L, HD_ELIMIT, L->lx.tok_pos, "strings beyond 4 GiB in all");
    return HD_OK;
}

/* --- iteration over objects and arrays ----------------------------------------------------- */

/* k: the member's index in the caller's key table, -1 when not there (or no table). */
typedef int (*member_fn)(loader *L, int k, const char *key, void *state);

static int key_index(const char *const *keys, const char *s)
{
    /* Member names are short: compare in line rather than call strcmp per candidate. */
    for (int i = 0; keys[i]; i++) {
        const char *a = keys[i], *b = s;
        if (*a != *b) /* most candidates differ at once */
            continue;
        while (*a && *a == *b)
            a++, b++;
        if (*a == '\0' && *b == '\0')
            return i;
    }
    return -1;
}

/* each_member_keyed from the token after '{': the first member's name, or '}'. */
static int members_from(loader *L, const char *const *keys, member_fn fn, void *state)
{
    hd__lexer *lx = &L->lx;
    int rc;
    if (lx->tok == HD__T_RBRACE)
        return HD_OK;
    for (;;) {
        if (lx->tok != HD__T_STRING)
            return syntax(L, "a member name");
        int k = keys ? key_index(keys, lx->str) : -1;
        const char *key = k >= 0 ? keys[k] : L->key;
        if (k < 0 && lx->str_len < sizeof L->key)
            memcpy(L->key, lx->str, lx->str_len + 1);
        else if (k < 0)
            strcpy(L->key, "(long name)");
        if ((rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok != HD__T_COLON)
            return syntax(L, "':' after a member name");
        if ((rc = hd__lex_next(lx)))
            return rc;
        if ((rc = fn(L, k, key, state)) < 0)
            return rc;
        if ((rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok == HD__T_RBRACE)
            return HD_OK;
        if (lx->tok != HD__T_COMMA)
            return syntax(L, "',' or '}'");
        if ((rc = hd__lex_next(lx)))
            return rc;
    }
}

/* With '{' current, calls fn for each member with its value's first token current; fn consumes
 * the value. Leaves '}' current. With a key table (NULL-terminated), matched names are passed
 * as the table's own strings and need no copy. */
static int each_member_keyed(loader *L, const char *const *keys, member_fn fn, void *state)
{
    hd__lexer *lx = &L->lx;
    int rc;
    if (lx->tok != HD__T_LBRACE) {
        if ((rc = problem(L, HD_EFORMAT, lx->tok_pos, "expected an object, found %s",
                          hd__tok_name(lx->tok))))
            return rc;
        return (rc = hd__lex_skip_value(lx)) ? rc : SKIPPED;
    }
    if ((rc = hd__lex_next(lx)))
        return rc;
    return members_from(L, keys, fn, state);
}

static int each_member(loader *L, member_fn fn, void *state)
{
    return each_member_keyed(L, NULL, fn, state);
}

typedef int (*element_fn)(loader *L);

static int split_finish(loader *L, bool at_boundary);

/* With '[' current, calls fn for each element; leaves ']' current. */
static int each_element(loader *L, enum section array, element_fn fn)
{
    hd__lexer *lx = &L->lx;
    int rc;
    if (lx->tok != HD__T_LBRACKET)
        return wrong_value(L, section_names[array], "an array");
    if ((rc = hd__lex_next(lx)))
        return rc;
    if (lx->tok == HD__T_RBRACKET)
        return HD_OK;
    L->ctx = array;
    L->in_record = true;
    for (L->ctx_index = 0;; L->ctx_index++) {
        if (L->split && lx->tok_pos.offset >= L->split->first) {
            if ((rc = split_finish(L, lx->tok_pos.offset == L->split->first)) < 0)
                return rc;
            if (rc) /* the second thread read the rest: ']' is current */
                break;
        }
        if ((rc = fn(L)) < 0)
            return rc;
        if ((rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok == HD__T_RBRACKET)
            break;
        if (lx->tok != HD__T_COMMA)
            return syntax(L, "',' or ']'");
        if ((rc = hd__lex_next(lx)))
            return rc;
    }
    L->in_record = false;
    return HD_OK;
}

static int missing(loader *L, const char *member)
{
    return problem(L, HD_EFORMAT, L->lx.tok_pos, "missing member '%s'", member);
}

/* Grows parallel arrays to hold one more element; the sizes are those of each array's element. */
static bool grow(uint32_t count, uint32_t *cap, size_t n, void **arrays[], const size_t sizes[])
{
    if (count < *cap)
        return true;
    uint32_t want = *cap ? (*cap > UINT32_MAX / 2 ? UINT32_MAX - 1 : *cap * 2) : 64;
    if (want <= count)
        return false;
    for (size_t i = 0; i < n; i++) {
        void *p = realloc(*arrays[i], (size_t)want * sizes[i]);
        if (!p)
            return false;
        *arrays[i] = p;
    }
    *cap = want;
    return true;
}

/* Remembers where in its array the record at index i came from (validation mode only). */
static bool note_element(loader *L, uint32_t **elem, uint32_t *cap, uint32_t i)
{
    if (!L->on_problem)
        return true;
    void **arrays[] = {(void **)elem};
    const size_t sizes[] = {4};
    if (!grow(i, cap, 1, arrays, sizes))
        return false;
    (*elem)[i] = (uint32_t)L->ctx_index;
    return true;
}

static uint32_t element_of(const uint32_t *elem, uint32_t i) { return elem ? elem[i] : i; }

/* --- types and sites ----------------------------------------------------------------------- */

static bool types_grow(loader *L)
{
    hd_dump *d = L->d;
    void **arrays[] = {(void **)&d->type_id, (void **)&d->type_size, (void **)&d->type_name,
                       (void **)&d->type_flags, (void **)&L->type_user};
    const size_t sizes[] = {8, 8, 4, 1, 4};
    return grow(d->ntypes, &d->types_cap, 5, arrays, sizes);
}

static bool sites_grow(loader *L)
{
    hd_dump *d = L->d;
    void **arrays[] = {(void **)&d->site_id, (void **)&d->site_file, (void **)&d->site_function,
                       (void **)&d->site_line, (void **)&L->site_user};
    const size_t sizes[] = {8, 4, 4, 4, 4};
    return grow(d->nsites, &d->sites_cap, 5, arrays, sizes);
}

/* The index of type id; an id not defined yet gets a placeholder the types array may fill. */
static int type_index(loader *L, uint64_t id, uint32_t user, uint32_t *out)
{
    hd_dump *d = L->d;
    if (!types_grow(L))
        return oom(L);
    d->type_id[d->ntypes] = id;
    uint32_t t = hd__idmap_insert(&d->type_map, d->type_id, d->ntypes);
    if (t == UINT32_MAX - 1)
        return oom(L);
    if (t == d->ntypes) {
        d->type_name[t] = 0;
        d->type_size[t] = 0;
        d->type_flags[t] = TYPE_PLACEHOLDER;
        L->type_user[t] = user;
        d->ntypes++;
    }
    *out = t;
    return HD_OK;
}

static int site_index(loader *L, uint64_t id, uint32_t user, uint32_t *out)
{
    hd_dump *d = L->d;
    if (!sites_grow(L))
        return oom(L);
    d->site_id[d->nsites] = id;
    uint32_t s = hd__idmap_insert(&d->site_map, d->site_id, d->nsites);
    if (s == UINT32_MAX - 1)
        return oom(L);
    if (s == d->nsites) {
        d->site_file[s] = 0;
        d->site_function[s] = 0;
        d->site_line[s] = 0;
        L->site_user[s] = user;
        d->nsites++;
    }
    *out = s;
    return HD_OK;
}

enum { HAVE_ID = 1, HAVE_NAME = 2, HAVE_SIZE = 4, HAVE_TYPE = 8, HAVE_FILE = 16, HAVE_LINE = 32,
       HAVE_KIND = 64, BAD_REQUIRED = 128 };

typedef struct type_rec {
    uint64_t id, size;
    uint32_t name;
    unsigned flags, have;
} type_rec;

static int type_member(loader *L, int k, const char *key, void *state)
{
    (void)k;
    type_rec *r = state;
    bool b = false;
    int rc;
    if (!strcmp(key, "id")) {
        if ((rc = read_uint(L, key, &r->id)) == 0)
            r->have |= HAVE_ID;
        else if (rc == SKIPPED)
            r->have |= BAD_REQUIRED;
    } else if (!strcmp(key, "name")) {
        if ((rc = read_string(L, key, true, &r->name)) == 0)
            r->have |= HAVE_NAME;
        else if (rc == SKIPPED)
            r->have |= BAD_REQUIRED;
    } else if (!strcmp(key, "size")) {
        rc = read_uint(L, key, &r->size);
    } else if (!strcmp(key, "gc") || !strcmp(key, "finalizer") || !strcmp(key, "legacy_finalizer")) {
        unsigned bit = key[0] == 'g' ? HD_TYPE_GC : key[0] == 'f' ? HD_TYPE_FINALIZER
                                                                   : HD_TYPE_LEGACY_FINALIZER;
        if ((rc = read_bool(L, key, &b)) == 0 && b)
            r->flags |= bit;
    } else {
        rc = hd__lex_skip_value(&L->lx);
    }
    return rc;
}

static int parse_type(loader *L)
{
    type_rec r = {0};
    int rc = each_member(L, type_member, &r);
    if (rc)
        return rc < 0 ? rc : HD_OK;
    if (r.have & BAD_REQUIRED)
        return HD_OK;
    if (!(r.have & HAVE_ID))
        return missing(L, "id");
    if (!(r.have & HAVE_NAME))
        return missing(L, "name");
    uint32_t t;
    if ((rc = type_index(L, r.id, UINT32_MAX, &t)))
        return rc;
    hd_dump *d = L->d;
    if (!(d->type_flags[t] & TYPE_PLACEHOLDER))
        return problem(L, HD_EINTEGRITY, L->lx.tok_pos, "duplicate type id %llu",
                       (unsigned long long)r.id);
    d->type_name[t] = r.name;
    d->type_size[t] = r.size;
    d->type_flags[t] = (uint8_t)r.flags;
    return HD_OK;
}

typedef struct site_rec {
    uint64_t id, line, stack;
    uint32_t file, function;
    bool has_stack;
    unsigned have;
} site_rec;

static int site_member(loader *L, int k, const char *key, void *state)
{
    (void)k;
    site_rec *r = state;
    int rc;
    if (!strcmp(key, "id")) {
        if ((rc = read_uint(L, key, &r->id)) == 0)
            r->have |= HAVE_ID;
    } else if (!strcmp(key, "file")) {
        if ((rc = read_string(L, key, true, &r->file)) == 0)
            r->have |= HAVE_FILE;
    } else if (!strcmp(key, "line")) {
        if ((rc = read_uint(L, key, &r->line)) == 0) {
            if (r->line > UINT32_MAX)
                rc = problem(L, HD_EFORMAT, L->lx.tok_pos, "'line' above 2^32-1");
            else
                r->have |= HAVE_LINE;
        }
    } else if (!strcmp(key, "function")) {
        rc = read_string(L, key, true, &r->function);
    } else if (!strcmp(key, "stack")) {
        r->has_stack = (rc = read_uint(L, key, &r->stack)) == 0;
    } else {
        return hd__lex_skip_value(&L->lx);
    }
    if (rc == SKIPPED && strcmp(key, "function") && strcmp(key, "stack"))
        r->have |= BAD_REQUIRED;
    return rc;
}

static int parse_site(loader *L)
{
    site_rec r = {0};
    int rc = each_member(L, site_member, &r);
    if (rc)
        return rc < 0 ? rc : HD_OK;
    if (r.have & BAD_REQUIRED)
        return HD_OK;
    if (!(r.have & HAVE_ID))
        return missing(L, "id");
    if (!(r.have & HAVE_FILE))
        return missing(L, "file");
    if (!(r.have & HAVE_LINE))
        return missing(L, "line");
    hd_dump *d = L->d;
    uint32_t s, known = d->nsites;
    if ((rc = site_index(L, r.id, SITE_DEFINED, &s)))
        return rc;
    if (s < known && L->site_user[s] == SITE_DEFINED)
        return problem(L, HD_EINTEGRITY, L->lx.tok_pos, "duplicate site id %llu",
                       (unsigned long long)r.id);
    L->site_user[s] = SITE_DEFINED;
    d->site_file[s] = r.file;
    d->site_function[s] = r.function;
    d->site_line[s] = (uint32_t)r.line;
    return r.has_stack ? hd__native_site_stack(L, s, r.stack) : HD_OK;
}

/* --- objects ------------------------------------------------------------------------------- */

typedef struct object_rec {
    uint64_t id, type, size, rc, site;
    uint32_t label;
    uint8_t gen, flags;
    bool has_rc, has_site;
    unsigned have;
} object_rec;

static int push_edge(loader *L, uint64_t target, uint32_t name)
{
    hd_dump *d = L->d;
    if (d->nedges == d->edges_cap) {
        uint64_t want = d->edges_cap ? d->edges_cap * 2 : 1024;
        if (want > UINT32_MAX - 1)
            want = UINT32_MAX - 1;
        if (d->nedges >= want)
            return problem(L, HD_ELIMIT, L->lx.tok_pos, "more than 2^32-2 references");
        uint64_t *t = realloc(L->edge_tid, want * sizeof *t);
        if (t)
            L->edge_tid = t;
        uint32_t *n = realloc(d->edge_name, want * sizeof *n);
        if (n)
            d->edge_name = n;
        if (!t || !n)
            return oom(L);
        d->edges_cap = want;
    }
    L->edge_tid[d->nedges] = target;
    d->edge_name[d->nedges] = name;
    d->nedges++;
    return HD_OK;
}

/* One reference: [target] or [target, name]; with '[' current, leaves ']' current. The
 * reference's name for messages ("refs[3]") is only formatted when there is a problem. */
static int parse_ref(loader *L, uint64_t j)
{
    hd__lexer *lx = &L->lx;
    char key[40];
#define KEY (snprintf(key, sizeof key, "refs[%llu]", (unsigned long long)j), key)
    if (lx->tok != HD__T_LBRACKET)
        return wrong_value(L, KEY, "a [target, name] pair");
    uint64_t target = 0;
    uint32_t name = 0;
    const char *text;
    size_t len;
    hd__pos at;
    if (hd__lex_pair(lx, &target, &text, &len, &at)) { /* the usual [id, "name"], without tokens */
        if ((name = hd__strtab_intern(&L->d->strings, text, len)) == UINT32_MAX)
            return problem(L, HD_ELIMIT, at, "strings beyond 4 GiB in all");
        return push_edge(L, target, name);
    }
    int rc, bad = 0;
    if ((rc = hd__lex_next(lx)))
        return rc;
    if (lx->tok == HD__T_RBRACKET)
        return problem(L, HD_EFORMAT, lx->tok_pos, "'%s' is empty (expected [target, name])", KEY);
    if (lx->tok == HD__T_NUMBER && lx->num_kind == HD__N_UINT)
        target = lx->num;
    else if ((rc = read_uint(L, KEY, &target)) < 0)
        return rc;
    else
        bad = 1;
    if ((rc = hd__lex_next(lx)))
        return rc;
    if (lx->tok == HD__T_COMMA) {
        if ((rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok == HD__T_STRING) {
            name = hd__strtab_intern(&L->d->strings, lx->str, lx->str_len);
            if (name == UINT32_MAX)
                return problem(L, HD_ELIMIT, lx->tok_pos, "strings beyond 4 GiB in all");
        } else if (lx->tok != HD__T_NULL) {
            if ((rc = read_string(L, KEY, true, &name)) < 0)
                return rc;
            bad = 1;
        }
        if ((rc = hd__lex_next(lx)))
            return rc;
    }
    if (lx->tok != HD__T_RBRACKET) {
        if (lx->tok != HD__T_COMMA)
            return syntax(L, "',' or ']'");
        if ((rc = problem(L, HD_EFORMAT, lx->tok_pos, "'%s' has more than two items", KEY)))
            return rc;
        while (lx->tok == HD__T_COMMA) {
            if ((rc = hd__lex_next(lx)) || (rc = hd__lex_skip_value(lx)) || (rc = hd__lex_next(lx)))
                return rc;
        }
        if (lx->tok != HD__T_RBRACKET)
            return syntax(L, "',' or ']'");
        return HD_OK;
    }
#undef KEY
    return bad ? HD_OK : push_edge(L, target, name);
}

static int parse_refs(loader *L)
{
    hd__lexer *lx = &L->lx;
    if (lx->tok != HD__T_LBRACKET)
        return wrong_value(L, "refs", "an array");
    int rc;
    if ((rc = hd__lex_next(lx)))
        return rc;
    if (lx->tok == HD__T_RBRACKET)
        return HD_OK;
    for (uint64_t j = 0;; j++) {
        if ((rc = parse_ref(L, j)) < 0)
            return rc;
        if ((rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok == HD__T_RBRACKET)
            return HD_OK;
        if (lx->tok != HD__T_COMMA)
            return syntax(L, "',' or ']'");
        if ((rc = hd__lex_next(lx)))
            return rc;
    }
}

static int parse_flags(loader *L, uint8_t *flags)
{
    static const char *const names[] = {"tracked", "finalized", "frozen", "immortal", "interned"};
    hd__lexer *lx = &L->lx;
    if (lx->tok != HD__T_LBRACKET)
        return wrong_value(L, "flags", "an array of strings");
    int rc;
    if ((rc = hd__lex_next(lx)))
        return rc;
    if (lx->tok == HD__T_RBRACKET)
        return HD_OK;
    for (;;) {
        if (lx->tok != HD__T_STRING) {
            if ((rc = wrong_value(L, "flags", "an array of strings")) < 0)
                return rc;
        } else {
            for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
                if (!strcmp(lx->str, names[i]))
                    *flags |= (uint8_t)(1u << i);
        }
        if ((rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok == HD__T_RBRACKET)
            return HD_OK;
        if (lx->tok != HD__T_COMMA)
            return syntax(L, "',' or ']'");
        if ((rc = hd__lex_next(lx)))
            return rc;
    }
}

enum { K_ID, K_TYPE, K_SIZE, K_SITE, K_RC, K_LABEL, K_GEN, K_FLAGS, K_REFS, K_INTERIOR,
       K_ADDRESS, K_THREAD };
static const char *const object_keys[] = {"id", "type", "size", "site", "rc", "label", "gen",
                                          "flags", "refs", "interior", "address", "thread", NULL};

static int required_uint(loader *L, const char *key, uint64_t *out, unsigned *have, unsigned bit)
{
    int rc = read_uint(L, key, out);
    *have |= rc == 0 ? bit : rc == SKIPPED ? BAD_REQUIRED : 0;
    return rc;
}

static int object_member(loader *L, int k, const char *key, void *state)
{
    object_rec *r = state;
    int rc;
    switch (k) {
    case K_ID: return required_uint(L, key, &r->id, &r->have, HAVE_ID);
    case K_TYPE: return required_uint(L, key, &r->type, &r->have, HAVE_TYPE);
    case K_SIZE: return required_uint(L, key, &r->size, &r->have, HAVE_SIZE);
    case K_SITE:
        if (L->lx.tok == HD__T_NULL)
            return HD_OK;
        rc = read_uint(L, key, &r->site);
        r->has_site = rc == 0;
        return rc;
    case K_RC:
        rc = read_uint(L, key, &r->rc);
        r->has_rc = rc == 0;
        return rc;
    case K_LABEL:
        if (L->lx.tok == HD__T_NULL)
            return HD_OK;
        return read_string(L, key, false, &r->label);
    case K_GEN: {
        uint64_t g = 0;
        if ((rc = read_uint(L, key, &g)))
            return rc;
        if (g > 2)
            return problem(L, HD_EFORMAT, L->lx.tok_pos, "'gen' must be 0, 1 or 2, found %llu",
                           (unsigned long long)g);
        r->gen = (uint8_t)g;
        return HD_OK;
    }
    case K_FLAGS: return parse_flags(L, &r->flags);
    case K_REFS: return parse_refs(L);
    case K_INTERIOR: case K_ADDRESS: case K_THREAD: return hd__native_object_member(L, key);
    default: return hd__lex_skip_value(&L->lx);
    }
}

static bool objects_grow(loader *L)
{
    hd_dump *d = L->d;
    void **arrays[] = {(void **)&d->obj_id, (void **)&d->obj_size, (void **)&d->obj_type,
                       (void **)&d->obj_site, (void **)&d->obj_label, (void **)&d->obj_rc,
                       (void **)&d->obj_gen, (void **)&d->obj_flags};
    const size_t sizes[] = {8, 8, 4, 4, 4, 4, 1, 1};
    uint32_t cap = d->objects_cap;
    if (!grow(d->nobjects, &d->objects_cap, 8, arrays, sizes))
        return false;
    if (cap != d->objects_cap) { /* CSR offsets need one more slot than objects */
        uint32_t *p = realloc(d->edge_offset, ((size_t)d->objects_cap + 1) * sizeof *p);
        if (!p)
            return false;
        d->edge_offset = p;
    }
    return true;
}

static int parse_object(loader *L)
{
    hd_dump *d = L->d;
    object_rec r = {.label = HD_NONE, .gen = HD_GEN_UNKNOWN};
    uint64_t first_edge = d->nedges;
    int rc = each_member_keyed(L, object_keys, object_member, &r);
    if (rc < 0)
        return rc;
    if (rc == 0 && !(r.have & BAD_REQUIRED)) {
        if (!(r.have & HAVE_ID))
            rc = missing(L, "id");
        else if (!(r.have & HAVE_TYPE))
            rc = missing(L, "type");
        else if (!(r.have & HAVE_SIZE))
            rc = missing(L, "size");
        else
            goto keep;
        if (rc)
            return rc;
    }
    d->nedges = first_edge; /* the record is dropped (validation mode): so are its references */
    hd__native_object_drop(d);
    return HD_OK;
keep:
    if (d->nobjects >= UINT32_MAX - 1)
        return problem(L, HD_ELIMIT, L->lx.tok_pos, "more than 2^32-2 objects");
    if (!objects_grow(L) || !note_element(L, &L->object_elem, &L->object_elem_cap, d->nobjects))
        return oom(L);
    uint32_t o = d->nobjects;
    if ((rc = type_index(L, r.type, o, &d->obj_type[o])))
        return rc;
    d->obj_site[o] = HD_NONE;
    if (r.has_site && (rc = site_index(L, r.site, o, &d->obj_site[o])))
        return rc;
    d->obj_id[o] = r.id;
    d->obj_size[o] = r.size;
    d->obj_rc[o] = !r.has_rc ? HD_RC_UNKNOWN : r.rc >= UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)r.rc;
    d->obj_label[o] = r.label;
    d->obj_gen[o] = r.gen;
    d->obj_flags[o] = r.flags;
    d->edge_offset[o] = (uint32_t)first_edge;
    d->nobjects++;
    return d->native ? hd__native_object_keep(L, o, first_edge) : HD_OK;
}

/* --- the objects array on two threads -------------------------------------------------------
 * A second thread parses the array from a record boundary guessed near the middle of what is
 * left of the input, into a loader and scratch dump of its own, while this thread parses up to
 * there. When this thread's next record starts exactly at the guessed boundary, it takes the
 * second thread's records as if it had read them itself (merge_part) and jumps to the array's
 * end. A guess that does not hold, or a second half with any problem in it, is dropped, and this
 * thread reads on alone: the result, and the first error, are always those of one thread. */

#define SPLIT_MIN (16u << 20)    /* smaller inputs load too fast to gain from a thread */
#define SPLIT_WINDOW (64u << 10) /* bytes searched for a record boundary */

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

/* A '{' that begins a line (after blanks) whose previous line ends with ',', searched from mid
 * on: the start of a record when writers put one a line, as they should. Returns its offset and
 * sets *line to the offset of its line, or returns 0. Only a guess: the first thread checks it. */
static uint64_t guess_boundary(const hd__source *src, uint64_t mid, uint64_t *line)
{
    char *buf = malloc(SPLIT_WINDOW);
    long n = buf ? src->read_at(src->ctx, mid, buf, SPLIT_WINDOW) : -1;
    uint64_t found = 0;
    for (long i = 0; i < n && !found; i++) {
        if (buf[i] != '\n')
            continue;
        long j = i, k = i + 1;
        while (j > 0 && blank(buf[j - 1]))
            j--;
        while (k < n && blank(buf[k]))
            k++;
        if (j > 0 && buf[j - 1] == ',' && k < n && buf[k] == '{') {
            *line = mid + (uint64_t)i + 1;
            found = mid + (uint64_t)k;
        }
    }
    free(buf);
    return found;
}

static void *parse_second_half(void *arg)
{
    split *s = arg;
    loader *P = &s->part;
    hd__lexer *lx = &P->lx;
    P->ctx = S_OBJECTS;
    P->in_record = true;
    int rc = hd__lex_next(lx);
    if (rc == HD_OK && (lx->tok != HD__T_LBRACE || lx->tok_pos.offset != s->first))
        rc = HD_ESYNTAX; /* not what guess_boundary saw: the file is changing under us */
    while (rc == HD_OK && !atomic_load_explicit(&s->stop, memory_order_relaxed)) {
        if ((rc = parse_object(P)) < 0 || (rc = hd__lex_next(lx)))
            break;
        if (lx->tok == HD__T_RBRACKET) {
            s->end = lx->tok_pos;
            s->rc = HD_OK;
            return NULL;
        }
        rc = lx->tok == HD__T_COMMA ? hd__lex_next(lx) : HD_ESYNTAX;
    }
    s->rc = rc ? rc : HD_EINVAL; /* stopped */
    return NULL;
}

/* Progress of both threads, reported by this one (the caller's callback is not thread-safe):
 * never below what was reported before, and at most the second half's read position, which
 * this thread's own passes once it reads on after the array. */
static void split_progress(uint64_t done, uint64_t total, void *user)
{
    split *s = user;
    done = (done < s->line ? done : s->line) + atomic_load(&s->range.done);
    s->progress(done > s->reported ? done : s->reported, total, s->progress_user);
}

static int loader_init(loader *L, hd__source src, const char *name, hd_error *err);
static void loader_free(loader *L);

static void split_free(split *s)
{
    loader_free(&s->part);
    hd_dump_free(s->part.d);
    hd__range_source_free(&s->range);
    free(s);
}

/* With the objects array's '[' current: starts a second thread on the array's second half when
 * that pays and the input allows it; otherwise, or when anything fails, leaves all to this one. */
static void split_start(loader *L)
{
    hd__lexer *lx = &L->lx;
    uint64_t here = lx->base + lx->pos, total = lx->progress_total, line = 0, first;
    if (L->on_problem || L->threads == 1 || !lx->src.read_at || total <= here)
        return; /* validation reports problems in file order as it goes: one thread */
    if (L->threads == 0 && (total - here < SPLIT_MIN || sysconf(_SC_NPROCESSORS_ONLN) < 2))
        return;
    if (!(first = guess_boundary(&lx->src, here + (total - here) / 2, &line)))
        return;
    split *s = calloc(1, sizeof *s);
    hd__source src;
    if (!s)
        return;
    if (hd__range_source_init(&s->range, lx->src, &src) ||
        loader_init(&s->part, src, lx->name, &s->err) ||
        hd__lex_seek(&s->part.lx, (hd__pos){line, 1, 1})) {
        split_free(s);
        return;
    }
    s->line = line;
    s->first = first;
    atomic_init(&s->stop, false);
    if (pthread_create(&s->thread, NULL, parse_second_half, s) != 0) {
        split_free(s);
        return;
    }
    if (lx->progress) {
        s->progress = lx->progress;
        s->progress_user = lx->progress_user;
        s->reported = lx->progress_last;
        lx->progress = split_progress;
        lx->progress_user = s;
    }
    L->split = s;
}

/* Part P's strings replayed into this dump's table in the order P made them, so the arena comes
 * out byte for byte as one thread would have made it. In a part, labels are appended one per
 * object in object order and edge names are interned: the two increasing lists of offsets,
 * merged, are that order, and each entry ends where the next begins. Rewrites P's labels in place
 * and fills names[i] (P's interned offsets, increasing) and renamed[i] (their offsets here). */
static int merge_strings(loader *L, hd_dump *p, uint64_t *names, uint32_t nnames, uint32_t *renamed)
{
    hd__strtab *st = &L->d->strings;
    const char *text = p->strings.data;
    uint32_t o = 0, ni = 0, *label = p->obj_label;
    for (uint64_t at = 1; at < p->strings.len;) {
        while (o < p->nobjects && label[o] == HD_NONE)
            o++;
        bool is_label = o < p->nobjects && label[o] == at;
        if (!is_label && (ni == nnames || names[ni] != at))
            return problem(L, HD_EINVAL, L->lx.tok_pos, "internal: unaccounted string in a part");
        uint64_t end = p->strings.len;
        uint32_t next_name = ni + !is_label, q = o + is_label;
        while (q < p->nobjects && label[q] == HD_NONE)
            q++;
        if (q < p->nobjects)
            end = label[q];
        if (next_name < nnames && names[next_name] < end)
            end = names[next_name];
        size_t len = (size_t)(end - at - 1);
        uint32_t off = is_label ? hd__strtab_append(st, text + at, len)
                                : hd__strtab_intern(st, text + at, len);
        if (off == UINT32_MAX)
            return oom(L);
        if (is_label)
            label[o++] = off;
        else
            renamed[ni++] = off;
        at = end;
    }
    return HD_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

#define MOVE_STEP (8u << 20)

/* Moves src[0..n) to dst[at..at+n) of an array grown to cap elements, from the end and shrinking
 * src as it goes, so that merging never holds more than a few MB twice. Frees src. */
static bool move_array(void **dst, void **src, size_t at, size_t n, size_t cap, size_t size)
{
    char *grown = realloc(*dst, cap * size);
    if (!grown)
        return false;
    *dst = grown;
    for (size_t left = n, step = MOVE_STEP / size; left > 0;) {
        size_t k = left < step ? left : step;
        left -= k;
        memcpy(grown + (at + left) * size, (char *)*src + left * size, k * size);
        char *shrunk = left ? realloc(*src, left * size) : NULL; /* a shrink: fails only harmlessly */
        if (shrunk)
            *src = shrunk;
    }
    free(*src);
    *src = NULL;
    return true;
}

/* Appends part P's records to this dump as if this thread had read them: strings, then types and
 * sites first used there (placeholders, in order of first use, as type_index would make them),
 * then objects and references. 1 when merged, 0 when declined (a limit would be crossed: the
 * record crossing it must be the one reported), < 0 on error. */
static int merge_part(loader *L, loader *P)
{
    hd_dump *d = L->d, *p = P->d;
    uint32_t n1 = d->nobjects, n2 = p->nobjects;
    uint64_t e1 = d->nedges, e2 = p->nedges;
    if ((uint64_t)n1 + n2 >= UINT32_MAX - 2 || e1 + e2 >= UINT32_MAX - 2 ||
        (uint64_t)d->strings.len + p->strings.len >= UINT32_MAX - 1)
        return 0;
    uint32_t nnames = p->strings.used, *renamed = malloc(((size_t)nnames + 1) * sizeof *renamed);
    uint32_t *tmap = malloc(((size_t)p->ntypes + 1) * sizeof *tmap);
    uint32_t *smap = malloc(((size_t)p->nsites + 1) * sizeof *smap);
    uint64_t *names = malloc(((size_t)nnames + 1) * sizeof *names);
    hd__idmap name_map = {0};
    int rc = HD_ENOMEM;
    if (!renamed || !tmap || !smap || !names)
        goto done;
    for (uint32_t i = 0, k = 0; i <= p->strings.mask; i++)
        if (p->strings.slots[i])
            names[k++] = p->strings.slots[i];
    qsort(names, nnames, sizeof *names, cmp_u64);
    if ((rc = merge_strings(L, p, names, nnames, renamed)))
        goto done;
    hd__strtab_free(&p->strings); /* copied: no need to hold it twice */
    rc = HD_ENOMEM;
    if (hd__idmap_init_for(&name_map, names, nnames))
        goto done;
    for (uint32_t i = 0; i < nnames; i++)
        hd__idmap_insert(&name_map, names, i);
    for (uint64_t e = 0; e < e2; e++)
        if (p->edge_name[e])
            p->edge_name[e] = renamed[hd__idmap_find(&name_map, names, p->edge_name[e])];
    for (uint32_t t = 0; t < p->ntypes; t++)
        if ((rc = type_index(L, p->type_id[t], n1 + P->type_user[t], &tmap[t])))
            goto done;
    /* The second part parses only the objects array, so its sites are all placeholders (first
     * used by one of its objects), never SITE_DEFINED, and n1 + that index cannot wrap. */
    for (uint32_t s = 0; s < p->nsites; s++) {
        assert(P->site_user[s] != SITE_DEFINED);
        if ((rc = site_index(L, p->site_id[s], n1 + P->site_user[s], &smap[s])))
            goto done;
    }
    for (uint32_t o = 0; o < n2; o++) {
        p->obj_type[o] = tmap[p->obj_type[o]];
        p->obj_site[o] = p->obj_site[o] == HD_NONE ? HD_NONE : smap[p->obj_site[o]];
        p->edge_offset[o] += (uint32_t)e1;
    }
    size_t cap = (size_t)n1 + n2;
    rc = HD_ENOMEM;
    if (!move_array((void **)&d->obj_id, (void **)&p->obj_id, n1, n2, cap, 8) ||
        !move_array((void **)&d->obj_size, (void **)&p->obj_size, n1, n2, cap, 8) ||
        !move_array((void **)&d->obj_type, (void **)&p->obj_type, n1, n2, cap, 4) ||
        !move_array((void **)&d->obj_site, (void **)&p->obj_site, n1, n2, cap, 4) ||
        !move_array((void **)&d->obj_label, (void **)&p->obj_label, n1, n2, cap, 4) ||
        !move_array((void **)&d->obj_rc, (void **)&p->obj_rc, n1, n2, cap, 4) ||
        !move_array((void **)&d->obj_gen, (void **)&p->obj_gen, n1, n2, cap, 1) ||
        !move_array((void **)&d->obj_flags, (void **)&p->obj_flags, n1, n2, cap, 1) ||
        !move_array((void **)&d->edge_offset, (void **)&p->edge_offset, n1, n2, cap + 1, 4) ||
        !move_array((void **)&L->edge_tid, (void **)&P->edge_tid, e1, e2, e1 + e2, 8) ||
        !move_array((void **)&d->edge_name, (void **)&p->edge_name, e1, e2, e1 + e2, 4) ||
        !hd__native_merge(d, p, n1, e1))
        goto done;
    d->second_half = n1;
    d->objects_cap = (uint32_t)cap;
    d->nobjects = (uint32_t)cap;
    d->edges_cap = d->nedges = e1 + e2;
    rc = 1;
done:
    if (rc == HD_ENOMEM)
        rc = oom(L);
    hd__idmap_free(&name_map);
    free(renamed);
    free(tmap);
    free(smap);
    free(names);
    return rc;
}

/* Ends the second thread. At the boundary, with the second half read cleanly, its records join
 * this dump and the lexer moves to the array's ']' (returns 1); otherwise its work is dropped and
 * this thread reads on (0). */
static int split_finish(loader *L, bool at_boundary)
{
    split *s = L->split;
    hd__lexer *lx = &L->lx;
    L->split = NULL;
    if (s->progress) {
        lx->progress = s->progress;
        lx->progress_user = s->progress_user;
    }
    if (!at_boundary)
        atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    int rc = at_boundary && s->rc == HD_OK ? merge_part(L, &s->part) : 0;
    if (rc == 1) { /* the part's line 1 is the line of its first record, this lexer's current one */
        hd__pos end = {s->end.offset, lx->line + s->end.line - 1, s->end.column};
        if (hd__lex_seek(lx, (hd__pos){end.offset + 1, end.line, end.column + 1}) != HD_OK)
            rc = hd__lex_fail(lx, HD_EIO, end, "cannot read on after the objects array");
        lx->open = 1; /* the seek forgets the nesting: past the top-level array, only '{' is open */
        lx->tok = HD__T_RBRACKET;
        lx->tok_pos = end;
    }
    split_free(s);
    return rc;
}

static int parse_objects(loader *L)
{
    if (L->lx.tok == HD__T_LBRACKET)
        split_start(L);
    int rc = each_element(L, S_OBJECTS, parse_object);
    if (L->split) /* the array ended, or failed, before the boundary */
        split_finish(L, false);
    return rc;
}

/* --- weakrefs and roots -------------------------------------------------------------------- */

typedef struct weakref_rec {
    uint64_t id, referent;
    bool has_referent, callback;
    unsigned have;
} weakref_rec;

static int weakref_member(loader *L, int k, const char *key, void *state)
{
    (void)k;
    weakref_rec *r = state;
    int rc;
    if (!strcmp(key, "id")) {
        if ((rc = read_uint(L, key, &r->id)) == 0)
            r->have |= HAVE_ID;
        else if (rc == SKIPPED)
            r->have |= BAD_REQUIRED;
        return rc;
    }
    if (!strcmp(key, "referent")) {
        if (L->lx.tok == HD__T_NULL)
            return HD_OK;
        rc = read_uint(L, key, &r->referent);
        r->has_referent = rc == 0;
        return rc;
    }
    if (!strcmp(key, "callback"))
        return read_bool(L, key, &r->callback);
    return hd__lex_skip_value(&L->lx);
}

static int parse_weakref(loader *L)
{
    weakref_rec r = {0};
    int rc = each_member(L, weakref_member, &r);
    if (rc || (r.have & BAD_REQUIRED))
        return rc < 0 ? rc : HD_OK;
    if (!(r.have & HAVE_ID))
        return missing(L, "id");
    hd_dump *d = L->d;
    void **arrays[] = {(void **)&d->weakref_object, (void **)&d->weakref_referent,
                       (void **)&d->weakref_callback, (void **)&L->weakref_tid,
                       (void **)&L->referent_tid};
    const size_t sizes[] = {4, 4, 1, 8, 8};
    if (!grow(d->nweakrefs, &d->weakrefs_cap, 5, arrays, sizes) ||
        !note_element(L, &L->weakref_elem, &L->weakref_elem_cap, d->nweakrefs))
        return oom(L);
    uint32_t w = d->nweakrefs++;
    L->weakref_tid[w] = r.id;
    L->referent_tid[w] = r.referent;
    d->weakref_referent[w] = r.has_referent ? 0 : HD_NONE;
    d->weakref_callback[w] = r.callback;
    return HD_OK;
}

static const char *const root_kinds[] = {"external", "named", "interned", "cache", "frozen",
                                         "garbage", "global", "stack", "registers", "tls"};

typedef struct root_rec {
    uint64_t id, offset;
    uint32_t kind, name;
    unsigned have;
} root_rec;

static int root_member(loader *L, int k, const char *key, void *state)
{
    (void)k;
    root_rec *r = state;
    int rc;
    if (!strcmp(key, "id") || !strcmp(key, "kind")) {
        bool is_id = key[0] == 'i';
        rc = is_id ? read_uint(L, key, &r->id) : read_string(L, key, true, &r->kind);
        if (rc == 0)
            r->have |= is_id ? HAVE_ID : HAVE_KIND;
        else if (rc == SKIPPED)
            r->have |= BAD_REQUIRED;
        return rc;
    }
    if (!strcmp(key, "name"))
        return read_string(L, key, true, &r->name);
    if (!strcmp(key, "offset"))
        return read_uint(L, key, &r->offset);
    return hd__lex_skip_value(&L->lx);
}

static int parse_root(loader *L)
{
    root_rec r = {0};
    int rc = each_member(L, root_member, &r);
    if (rc || (r.have & BAD_REQUIRED))
        return rc < 0 ? rc : HD_OK;
    if (!(r.have & HAVE_ID))
        return missing(L, "id");
    if (!(r.have & HAVE_KIND))
        return missing(L, "kind");
    hd_dump *d = L->d;
    void **arrays[] = {(void **)&d->root_object, (void **)&d->root_kind_name,
                       (void **)&d->root_name, (void **)&d->root_kind, (void **)&L->root_tid};
    const size_t sizes[] = {4, 4, 4, 1, 8};
    if (!grow(d->nroots, &d->roots_cap, 5, arrays, sizes) ||
        !note_element(L, &L->root_elem, &L->root_elem_cap, d->nroots))
        return oom(L);
    uint32_t i = d->nroots++;
    L->root_tid[i] = r.id;
    d->root_kind_name[i] = r.kind;
    d->root_name[i] = r.name;
    const char *kind = hd__strtab_get(&d->strings, r.kind);
    d->root_kind[i] = HD_ROOT_OTHER;
    for (unsigned k = 0; k < sizeof root_kinds / sizeof root_kinds[0]; k++)
        if (!strcmp(kind, root_kinds[k]))
            d->root_kind[i] = (uint8_t)k;
    return r.offset ? hd__native_root_offset(L, i, r.offset) : HD_OK;
}

/* --- the small sections: meta and pools through cJSON, gc by hand (its ids must stay exact) -- */

static int json_uint(loader *L, hd__pos at, const cJSON *obj, const char *section, const char *key,
                     uint64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return HD_OK;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 ||
        (v->valuedouble <= 9007199254740992.0 && v->valuedouble != (double)(uint64_t)v->valuedouble))
        return problem(L, HD_EFORMAT, at, "%s: '%s' must be an unsigned integer", section, key);
    if (v->valuedouble > 9007199254740992.0) /* cJSON reads doubles: past 2^53 not exactly */
        return problem(L, HD_ELIMIT, at, "%s: '%s' is above 2^53, the limit of this section", section, key);
    *out = (uint64_t)v->valuedouble;
    return HD_OK;
}

static int json_string(loader *L, hd__pos at, const cJSON *obj, const char *key, uint32_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return HD_OK;
    if (!cJSON_IsString(v))
        return problem(L, HD_EFORMAT, at, "meta: '%s' must be a string", key);
    *out = hd__strtab_intern(&L->d->strings, v->valuestring, strlen(v->valuestring));
    return *out == UINT32_MAX ? oom(L) : HD_OK;
}

static cJSON *capture_json(loader *L, int *rc)
{
    const char *text;
    size_t len;
    *rc = hd__lex_capture_value(&L->lx, &text, &len);
    if (*rc)
        return NULL;
    cJSON *j = cJSON_ParseWithLength(text, len);
    if (!j)
        *rc = oom(L); /* the lexer already checked the syntax */
    return j;
}

static int parse_meta(loader *L)
{
    hd__pos at = L->lx.tok_pos;
    if (L->lx.tok != HD__T_LBRACE)
        return wrong_value(L, "meta", "an object");
    int rc;
    cJSON *j = capture_json(L, &rc);
    if (!j)
        return rc;
    hd_dump *d = L->d;
    uint64_t pid = 0;
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "pid");
    if ((rc = json_string(L, at, j, "producer", &d->producer)) == 0 &&
        (rc = json_string(L, at, j, "created", &d->created)) == 0 &&
        (rc = json_string(L, at, j, "name", &d->name)) == 0 &&
        (rc = json_uint(L, at, j, "meta", "pid", &pid)) == 0 && p && cJSON_IsNumber(p))
        d->pid = (int64_t)pid;
    cJSON_Delete(j);
    return rc;
}

static int parse_pools(loader *L)
{
    hd__pos at = L->lx.tok_pos;
    if (L->lx.tok != HD__T_LBRACE)
        return wrong_value(L, "pools", "an object");
    int rc;
    cJSON *j = capture_json(L, &rc);
    if (!j)
        return rc;
    hd_pools *p = &L->d->pools;
    const cJSON *arenas = cJSON_GetObjectItemCaseSensitive(j, "arenas");
    const cJSON *large = cJSON_GetObjectItemCaseSensitive(j, "large");
    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(j, "classes");
    p->present = 1;
    if ((rc = json_uint(L, at, j, "pools", "arena_size", &p->arena_size)) ||
        (rc = json_uint(L, at, j, "pools", "pool_size", &p->pool_size)))
        goto out;
    if (arenas && ((rc = json_uint(L, at, arenas, "pools.arenas", "allocated", &p->arenas_allocated)) ||
                   (rc = json_uint(L, at, arenas, "pools.arenas", "reclaimed", &p->arenas_reclaimed)) ||
                   (rc = json_uint(L, at, arenas, "pools.arenas", "highwater", &p->arenas_highwater)) ||
                   (rc = json_uint(L, at, arenas, "pools.arenas", "current", &p->arenas_current))))
        goto out;
    if (large && ((rc = json_uint(L, at, large, "pools.large", "count", &p->large_allocs)) ||
                  (rc = json_uint(L, at, large, "pools.large", "bytes", &p->large_bytes))))
        goto out;
    if (classes && !cJSON_IsArray(classes)) {
        rc = problem(L, HD_EFORMAT, at, "pools: 'classes' must be an array");
        goto out;
    }
    int n = cJSON_GetArraySize(classes);
    if (n > 0) {
        L->d->pool_classes = calloc((size_t)n, sizeof *L->d->pool_classes);
        if (!L->d->pool_classes) {
            rc = oom(L);
            goto out;
        }
        const cJSON *c;
        cJSON_ArrayForEach(c, classes) {
            hd_pool_class *pc = &L->d->pool_classes[p->nclasses];
            uint64_t size = 0;
            if ((rc = json_uint(L, at, c, "pools.classes[]", "size", &size)) ||
                (rc = json_uint(L, at, c, "pools.classes[]", "pools", &pc->pools)) ||
                (rc = json_uint(L, at, c, "pools.classes[]", "blocks_in_use", &pc->blocks_in_use)) ||
                (rc = json_uint(L, at, c, "pools.classes[]", "blocks_free", &pc->blocks_free)))
                goto out;
            pc->size = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
            p->nclasses++;
        }
        p->classes = L->d->pool_classes;
    }
out:
    cJSON_Delete(j);
    return rc;
}

static int gc_generation_member(loader *L, int k, const char *key, void *state)
{
    (void)k;
    hd_gc_generation *g = state;
    uint64_t v = 0;
    uint64_t *dst = !strcmp(key, "collections")     ? &g->collections
                  : !strcmp(key, "collected")       ? &g->collected
                  : !strcmp(key, "uncollectable")   ? &g->uncollectable : NULL;
    bool int_field = !strcmp(key, "threshold") || !strcmp(key, "count");
    if (!dst && !int_field)
        return hd__lex_skip_value(&L->lx);
    int rc = read_uint(L, key, &v);
    if (rc)
        return rc;
    if (dst)
        *dst = v;
    else
        *(key[0] == 't' ? &g->threshold : &g->count) = v > INT64_MAX ? INT64_MAX : (int64_t)v;
    return HD_OK;
}

static int gc_member(loader *L, int k, const char *key, void *state)
{
    (void)k;
    (void)state;
    hd_gc *gc = &L->d->gc;
    hd__lexer *lx = &L->lx;
    int rc;
    if (!strcmp(key, "enabled")) {
        bool b = false;
        rc = read_bool(L, key, &b);
        gc->enabled = b;
        return rc;
    }
    if (!strcmp(key, "frozen"))
        return read_uint(L, key, &gc->frozen);
    bool gens = !strcmp(key, "generations");
    if (!gens && strcmp(key, "garbage"))
        return hd__lex_skip_value(lx);
    if (lx->tok != HD__T_LBRACKET)
        return wrong_value(L, key, "an array");
    if ((rc = hd__lex_next(lx)))
        return rc;
    for (uint32_t i = 0; lx->tok != HD__T_RBRACKET; i++) {
        if (gens) {
            if (i >= 3)
                return problem(L, HD_EFORMAT, lx->tok_pos, "gc: more than 3 generations");
            rc = each_member(L, gc_generation_member, &gc->gen[i]);
        } else {
            uint64_t id = 0;
            if ((rc = read_uint(L, "garbage", &id)) == 0) {
                void **arrays[] = {(void **)&L->garbage_tid};
                const size_t sizes[] = {8};
                if (!grow(gc->ngarbage, &L->garbage_cap, 1, arrays, sizes))
                    return oom(L);
                L->garbage_tid[gc->ngarbage++] = id;
            }
        }
        if (rc < 0 || (rc = hd__lex_next(lx)))
            return rc;
        if (lx->tok == HD__T_COMMA) {
            if ((rc = hd__lex_next(lx)))
                return rc;
        } else if (lx->tok != HD__T_RBRACKET) {
            return syntax(L, "',' or ']'");
        }
    }
    return HD_OK;
}

/* --- the document -------------------------------------------------------------------------- */

static int top_member(loader *L, int k, const char *key, void *state)
{
    (void)k;
    (void)state;
    hd__lexer *lx = &L->lx;
    enum section s = S_COUNT;
    for (unsigned i = 0; i < S_COUNT; i++)
        if (!strcmp(key, section_names[i]))
            s = (enum section)i;
    if (s == S_COUNT)
        return hd__lex_skip_value(lx);
    if (L->seen[s]) {
        int rc = problem(L, HD_EFORMAT, lx->tok_pos, "member '%s' appears twice", key);
        return rc ? rc : hd__lex_skip_value(lx);
    }
    L->seen[s] = true;
    switch (s) {
    case S_FORMAT:
        if (lx->tok != HD__T_STRING || strcmp(lx->str, "heapdump"))
            return hd__lex_fail(lx, HD_EFORMAT, lx->tok_pos,
                                "not a heapdump: 'format' is %s%s%s, expected \"heapdump\"",
                                lx->tok == HD__T_STRING ? "\"" : "",
                                lx->tok == HD__T_STRING ? lx->str : hd__tok_name(lx->tok),
                                lx->tok == HD__T_STRING ? "\"" : "");
        return HD_OK;
    case S_VERSION:
        if (lx->tok != HD__T_NUMBER || lx->num_kind != HD__N_UINT || lx->num == 0)
            return hd__lex_fail(lx, HD_EFORMAT, lx->tok_pos, "'version' must be a positive integer");
        if (lx->num > HD_FORMAT_VERSION)
            return hd__lex_fail(lx, HD_EVERSION, lx->tok_pos,
                                "heapdump version %llu is newer than this reader (version %d)",
                                (unsigned long long)lx->num, HD_FORMAT_VERSION);
        L->d->version = (uint32_t)lx->num;
        return HD_OK;
    case S_META: return parse_meta(L);
    case S_TYPES: return each_element(L, S_TYPES, parse_type);
    case S_FRAMES: return each_element(L, S_FRAMES, hd__native_parse_frame);
    case S_STACKS: return each_element(L, S_STACKS, hd__native_parse_stack);
    case S_SITES: return each_element(L, S_SITES, parse_site);
    case S_OBJECTS: return parse_objects(L);
    case S_WEAKREFS: return each_element(L, S_WEAKREFS, parse_weakref);
    case S_ROOTS: return each_element(L, S_ROOTS, parse_root);
    case S_POOLS: return parse_pools(L);
    case S_GC:
        L->gc_pos = lx->tok_pos;
        L->d->gc.present = 1;
        return each_member(L, gc_member, NULL);
    default: return HD_OK;
    }
}

static int read_document(loader *L)
{
    hd__lexer *lx = &L->lx;
    int rc = hd__lex_next(lx);
    if (rc)
        return rc;
    if (lx->tok == HD__T_EOF)
        return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "empty input (expected a heapdump object)");
    if (lx->tok != HD__T_LBRACE)
        return hd__lex_fail(lx, HD_EFORMAT, lx->tok_pos, "not a heapdump: expected a JSON object, found %s",
                            hd__tok_name(lx->tok));
    if ((rc = hd__lex_next(lx)))
        return rc;
    if (lx->tok == HD__T_STRING && hd__v8_is_member(lx->str)) {
        L->v8 = true;
        return hd__v8_read(lx, L->d);
    }
    if ((rc = members_from(L, NULL, top_member, NULL)))
        return rc < 0 ? rc : HD_OK;
    rc = hd__lex_next(lx);
    if (rc == HD_EIO || rc == HD_ENOMEM)
        return rc;
    if (rc || lx->tok != HD__T_EOF) /* whatever the junk is, say where it starts */
        return hd__lex_fail(lx, HD_ESYNTAX, lx->tok_pos, "unexpected data after the document");
    static const enum section required[] = {S_FORMAT, S_VERSION, S_TYPES, S_OBJECTS};
    for (unsigned i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!L->seen[required[i]])
            return hd__lex_fail(lx, HD_EFORMAT, lx->tok_pos, "%smissing member '%s'",
                                i < 2 ? "not a heapdump: " : "", section_names[required[i]]);
    return HD_OK;
}

/* --- resolution of ids, with problems placed by a second pass -------------------------------- */

__attribute__((format(printf, 5, 6)))
static int later(loader *L, enum section array, uint64_t index, int status, const char *fmt, ...)
{
    if (!L->on_problem && L->npend > 0)
        return status;
    if (L->npend == MAX_KEPT_PROBLEMS) {
        L->nproblems++;
        return HD_OK;
    }
    pending *p = &L->pend[L->npend++];
    p->array = array;
    p->index = index;
    p->status = status;
    p->pos = (hd__pos){0, 0, 0};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->message, sizeof p->message, fmt, ap);
    va_end(ap);
    return L->on_problem ? HD_OK : status;
}

static int cmp_pending(const void *a, const void *b)
{
    const pending *x = a, *y = b;
    if (x->array != y->array)
        return x->array < y->array ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* Re-reads the source to find where each pending problem's record starts. */
static void locate(loader *L)
{
    hd__lexer *lx = &L->lx;
    hd_error scratch;
    lx->err = &scratch;
    if (hd__lex_seek(lx, (hd__pos){0, 1, 1}) != HD_OK || hd__lex_next(lx) || lx->tok != HD__T_LBRACE)
        return;
    for (;;) {
        if (hd__lex_next(lx) || lx->tok != HD__T_STRING)
            return;
        enum section s = S_COUNT;
        for (unsigned i = 0; i < S_COUNT; i++)
            if (!strcmp(lx->str, section_names[i]))
                s = (enum section)i;
        if (hd__lex_next(lx) || hd__lex_next(lx))
            return;
        size_t next = 0; /* pending problems are sorted: this array's form one run */
        while (next < L->npend && L->pend[next].array != s)
            next++;
        if (s == S_GC) {
            while (next < L->npend && L->pend[next].array == S_GC)
                L->pend[next++].pos = lx->tok_pos;
        }
        if (next < L->npend && L->pend[next].array == s && lx->tok == HD__T_LBRACKET) {
            if (hd__lex_next(lx))
                return;
            for (uint64_t idx = 0; lx->tok != HD__T_RBRACKET; idx++) {
                while (next < L->npend && L->pend[next].array == s && L->pend[next].index == idx)
                    L->pend[next++].pos = lx->tok_pos;
                if (hd__lex_skip_value(lx) || hd__lex_next(lx))
                    return;
                if (lx->tok == HD__T_COMMA && hd__lex_next(lx))
                    return;
            }
        } else if (hd__lex_skip_value(lx)) {
            return;
        }
        if (hd__lex_next(lx) || lx->tok != HD__T_COMMA)
            return;
    }
}

static int report_pending(loader *L)
{
    if (L->npend == 0)
        return HD_OK;
    qsort(L->pend, L->npend, sizeof *L->pend, cmp_pending);
    locate(L);
    for (size_t i = 0; i < L->npend; i++) {
        pending *p = &L->pend[i];
        hd_error e;
        hd__error_set(&e, p->status, L->lx.name, p->pos, "%s", p->message);
        if (!L->on_problem) {
            *L->err = e;
            return p->status;
        }
        deliver(L, &e);
    }
    return HD_OK;
}

static int resolve(loader *L)
{
    hd_dump *d = L->d;
    int rc;
#define LATER(array, index, ...)                                                                 \
    do {                                                                                         \
        if ((rc = later(L, array, index, HD_EINTEGRITY, __VA_ARGS__)))                           \
            return rc;                                                                           \
    } while (0)

    const uint32_t *oe = L->object_elem, *we = L->weakref_elem, *re = L->root_elem;
    for (uint32_t t = 0; t < d->ntypes; t++) {
        if (!(d->type_flags[t] & TYPE_PLACEHOLDER))
            continue;
        uint32_t at = element_of(oe, L->type_user[t]);
        LATER(S_OBJECTS, at, "objects[%u]: unknown type id %llu", at, (unsigned long long)d->type_id[t]);
    }
    for (uint32_t s = 0; s < d->nsites; s++) {
        if (L->site_user[s] == SITE_DEFINED)
            continue;
        uint32_t at = element_of(oe, L->site_user[s]);
        LATER(S_OBJECTS, at, "objects[%u]: unknown site id %llu", at, (unsigned long long)d->site_id[s]);
    }

    if (hd__idmap_init_for(&d->obj_map, d->obj_id, d->nobjects))
        return oom(L);
    for (uint32_t o = 0; o < d->nobjects; o++) {
        uint32_t at = hd__idmap_insert(&d->obj_map, d->obj_id, o);
        if (at != o)
            LATER(S_OBJECTS, element_of(oe, o), "objects[%u]: duplicate id %llu (first at objects[%u])",
                  element_of(oe, o), (unsigned long long)d->obj_id[o], element_of(oe, at));
    }

    /* References: raw ids become indices in place (a uint32 at byte 4e never overtakes the
     * uint64 at byte 8e still to be read), then the array shrinks to its final size. */
    uint32_t *targets = (uint32_t *)L->edge_tid;
    d->edge_offset[d->nobjects] = (uint32_t)d->nedges;
    for (uint32_t o = 0; o < d->nobjects; o++) {
        for (uint32_t e = d->edge_offset[o]; e < d->edge_offset[o + 1]; e++) {
            if (e + 16 < d->nedges)
                hd__idmap_prefetch(&d->obj_map, L->edge_tid[e + 16]);
            uint64_t id = L->edge_tid[e];
            uint32_t t = hd__idmap_find(&d->obj_map, d->obj_id, id);
            if (t == UINT32_MAX)
                LATER(S_OBJECTS, element_of(oe, o),
                      "objects[%u] (id %llu): refs[%u] points to missing object %llu", element_of(oe, o),
                      (unsigned long long)d->obj_id[o], e - d->edge_offset[o], (unsigned long long)id);
            targets[e] = t;
        }
    }
    L->edge_tid = NULL;
    d->edge_target = targets;
    if (d->nedges) {
        uint32_t *shrunk = realloc(targets, d->nedges * sizeof *targets);
        if (shrunk)
            d->edge_target = shrunk;
        if ((shrunk = realloc(d->edge_name, d->nedges * sizeof *shrunk)))
            d->edge_name = shrunk;
    }

    for (uint32_t w = 0; w < d->nweakrefs; w++) {
        d->weakref_object[w] = hd__idmap_find(&d->obj_map, d->obj_id, L->weakref_tid[w]);
        if (d->weakref_object[w] == UINT32_MAX)
            LATER(S_WEAKREFS, element_of(we, w), "weakrefs[%u]: weakref object %llu is not in 'objects'",
                  element_of(we, w),
                  (unsigned long long)L->weakref_tid[w]);
        if (d->weakref_referent[w] == HD_NONE)
            continue;
        d->weakref_referent[w] = hd__idmap_find(&d->obj_map, d->obj_id, L->referent_tid[w]);
        if (d->weakref_referent[w] == UINT32_MAX)
            LATER(S_WEAKREFS, element_of(we, w), "weakrefs[%u]: referent %llu is not in 'objects'",
                  element_of(we, w),
                  (unsigned long long)L->referent_tid[w]);
    }
    for (uint32_t r = 0; r < d->nroots; r++) {
        d->root_object[r] = hd__idmap_find(&d->obj_map, d->obj_id, L->root_tid[r]);
        if (d->root_object[r] == UINT32_MAX)
            LATER(S_ROOTS, element_of(re, r), "roots[%u]: object %llu is not in 'objects'",
                  element_of(re, r),
                  (unsigned long long)L->root_tid[r]);
    }
    if (d->gc.ngarbage) {
        d->gc_garbage = malloc(d->gc.ngarbage * sizeof *d->gc_garbage);
        if (!d->gc_garbage)
            return oom(L);
        for (uint32_t i = 0; i < d->gc.ngarbage; i++) {
            d->gc_garbage[i] = hd__idmap_find(&d->obj_map, d->obj_id, L->garbage_tid[i]);
            if (d->gc_garbage[i] == UINT32_MAX)
                LATER(S_GC, i, "gc: garbage[%u]: object %llu is not in 'objects'", i,
                      (unsigned long long)L->garbage_tid[i]);
        }
        d->gc.garbage = d->gc_garbage;
    }
#undef LATER
    return hd__native_resolve(L);
}

/* --- what native_read.c borrows ------------------------------------------------------------ */

hd__lexer *hd__ld_lexer(loader *L) { return &L->lx; }
hd_dump *hd__ld_dump(loader *L) { return L->d; }
uint64_t hd__ld_index(loader *L) { return L->ctx_index; }
int hd__ld_problem(loader *L, int status, hd__pos pos, const char *message)
{
    return problem(L, status, pos, "%s", message);
}
int hd__ld_read_uint(loader *L, const char *key, uint64_t *out) { return read_uint(L, key, out); }
int hd__ld_read_string(loader *L, const char *key, uint32_t *out)
{
    return read_string(L, key, true, out);
}
int hd__ld_each_member(loader *L, hd__member_fn fn, void *state) { return each_member(L, fn, state); }
int hd__ld_later(loader *L, const char *section, uint64_t index, const char *message)
{
    enum section s = S_COUNT;
    for (unsigned i = 0; i < S_COUNT; i++)
        if (!strcmp(section, section_names[i]))
            s = (enum section)i;
    return later(L, s, index, HD_EINTEGRITY, "%s", message);
}

/* --- entry points -------------------------------------------------------------------------- */

static void loader_free(loader *L)
{
    hd__lex_free(&L->lx);
    free(L->edge_tid);
    free(L->root_tid);
    free(L->weakref_tid);
    free(L->referent_tid);
    free(L->garbage_tid);
    free(L->type_user);
    free(L->site_user);
    free(L->object_elem);
    free(L->weakref_elem);
    free(L->root_elem);
    free(L->pend);
}

/* A loader with an empty dump of its own (L->d, even on failure: free it with hd_dump_free). */
static int loader_init(loader *L, hd__source src, const char *name, hd_error *err)
{
    memset(L, 0, sizeof *L);
    L->err = err;
    hd_dump *d = L->d = calloc(1, sizeof *d);
    int rc = HD_ENOMEM;
    if (!d || (rc = hd__lex_init(&L->lx, src, name, err)) != HD_OK)
        return rc;
    d->pid = -1;
    if (hd__strtab_init(&d->strings) || hd__idmap_init(&d->type_map, 16) ||
        hd__idmap_init(&d->site_map, 16) || !(d->edge_offset = calloc(1, sizeof *d->edge_offset))) {
        hd__error_set(err, HD_ENOMEM, name, (hd__pos){0, 0, 0}, "out of memory");
        return HD_ENOMEM;
    }
    return HD_OK;
}

static int load(hd__source src, uint64_t total, const char *name, const hd_load_options *opts,
                hd_dump **out, hd_error *err)
{
    hd_error local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (!out)
        return HD_EINVAL;
    *out = NULL;
    loader L;
    int rc = loader_init(&L, src, name, err);
    hd_dump *d = L.d;
    if (rc)
        goto fail;
    L.on_problem = opts ? opts->on_problem : NULL;
    L.user = opts ? opts->user : NULL;
    L.threads = opts ? opts->threads : 0;
    L.lx.progress = opts ? opts->on_progress : NULL;
    L.lx.progress_user = L.user;
    L.lx.progress_total = total;
    if (!(L.pend = malloc(MAX_KEPT_PROBLEMS * sizeof *L.pend))) {
        rc = HD_ENOMEM;
        hd__error_set(err, rc, name, (hd__pos){0, 0, 0}, "out of memory");
        goto fail;
    }
    if ((rc = read_document(&L)))
        goto fail;
    rc = L.v8 ? HD_OK : resolve(&L);
    if (rc == HD_OK || rc == HD_EINTEGRITY) {
        int placed = report_pending(&L);
        if (placed)
            rc = placed;
    }
    if (rc)
        goto fail;
    if (L.nproblems) {
        *err = L.first;
        rc = L.first.status;
        goto fail;
    }
    hd__idmap_free(&d->type_map);
    hd__idmap_free(&d->site_map);
    hd__strtab_freeze(&d->strings);
    loader_free(&L);
    *out = d;
    return HD_OK;
fail:
    if (rc == HD_OK && L.nproblems) {
        *err = L.first;
        rc = L.first.status;
    }
    loader_free(&L);
    hd_dump_free(d);
    return rc;
}

int hd_load_file(FILE *f, const char *name, const hd_load_options *opts, hd_dump **out, hd_error *err)
{
    if (!f) {
        if (err)
            hd__error_set(err, HD_EINVAL, name, (hd__pos){0, 0, 0}, "no stream");
        return HD_EINVAL;
    }
    hd__stream_source *stream = hd__stream_source_new(f);
    if (!stream) {
        if (err)
            hd__error_set(err, HD_ENOMEM, name, (hd__pos){0, 0, 0}, "out of memory");
        return HD_ENOMEM;
    }
    struct stat st;
    uint64_t total = fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) ? (uint64_t)st.st_size : 0;
    int rc = load(hd__stream_source_get(stream), total, name ? name : "<stream>", opts, out, err);
    hd__stream_source_free(stream);
    return rc;
}

int hd_load(const char *path, const hd_load_options *opts, hd_dump **out, hd_error *err)
{
    if (!path) {
        if (err)
            hd__error_set(err, HD_EINVAL, "", (hd__pos){0, 0, 0}, "no path");
        return HD_EINVAL;
    }
    if (!strcmp(path, "-"))
        return hd_load_file(stdin, "<stdin>", opts, out, err);
    FILE *f = fopen(path, "rb");
    struct stat st;
    if (!f || fstat(fileno(f), &st) != 0 || S_ISDIR(st.st_mode)) {
        int e = !f || !S_ISDIR(st.st_mode) ? errno : EISDIR;
        if (err)
            hd__error_set(err, HD_EIO, path, (hd__pos){0, 0, 0}, "cannot open '%s': %s", path,
                          strerror(e));
        if (out)
            *out = NULL;
        if (f)
            fclose(f);
        return HD_EIO;
    }
    int rc = hd_load_file(f, path, opts, out, err);
    fclose(f);
    return rc;
}

int hd_load_buffer(const void *data, size_t size, const char *name, const hd_load_options *opts,
                   hd_dump **out, hd_error *err)
{
    if (!data && size) {
        if (err)
            hd__error_set(err, HD_EINVAL, name, (hd__pos){0, 0, 0}, "no buffer");
        return HD_EINVAL;
    }
    hd__buffer_source b;
    return load(hd__buffer_source_init(&b, data ? data : "", size), size, name ? name : "<buffer>",
                opts, out, err);
}
