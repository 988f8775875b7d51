/* read_records.c: one record of the heapdump's arrays (types, sites, objects, weakrefs, roots)
 * into the graph's arrays, with every reference kept as a raw id for read_resolve.c.
 *
 * Invariant: a record is added whole or not at all; a record dropped in validation mode drops
 * the references it had pushed.
 */
#include "native.h"
#include "reader.h"

#include <stdlib.h>
#include <string.h>

/* --- types and sites ----------------------------------------------------------------------- */

static bool types_grow(loader *L)
{
    hd_dump *d = L->d;
    void **const arrays[] = {(void **)&d->type_id, (void **)&d->type_size, (void **)&d->type_name,
                       (void **)&d->type_flags, (void **)&L->type_user, NULL};
    const size_t sizes[] = {8, 8, 4, 1, 4};
    return hd__grow_records(d->ntypes, &d->types_cap, arrays, sizes);
}

static bool sites_grow(loader *L)
{
    hd_dump *d = L->d;
    void **const arrays[] = {(void **)&d->site_id, (void **)&d->site_file, (void **)&d->site_function,
                       (void **)&d->site_line, (void **)&L->site_user, NULL};
    const size_t sizes[] = {8, 4, 4, 4, 4};
    return hd__grow_records(d->nsites, &d->sites_cap, arrays, sizes);
}

/* The index of id in a table of ids (ids, map, count) that grown says has room for one more:
 * 1 when id is new, its index *count (the caller fills its other arrays and counts it), 0 when
 * it was there, < 0 on error. */
static inline int id_index(loader *L, bool grown, uint64_t *ids, hd__idmap *map, uint32_t count,
                           uint64_t id, uint32_t *out)
{
    if (!grown)
        return hd__oom(L);
    ids[count] = id;
    uint32_t i = hd__idmap_insert(map, ids, count);
    if (i == UINT32_MAX - 1)
        return hd__oom(L);
    *out = i;
    return i == count;
}

int hd__type_index(loader *L, uint64_t id, uint32_t user, uint32_t *out)
{
    hd_dump *d = L->d;
    bool grown = types_grow(L); /* before d->type_id is read: it may move */
    int added = id_index(L, grown, d->type_id, &d->type_map, d->ntypes, id, out);
    if (added <= 0)
        return added;
    uint32_t t = d->ntypes++;
    d->type_name[t] = 0;
    d->type_size[t] = 0;
    d->type_flags[t] = TYPE_PLACEHOLDER;
    L->type_user[t] = user;
    return HD_OK;
}

int hd__site_index(loader *L, uint64_t id, uint32_t user, uint32_t *out)
{
    hd_dump *d = L->d;
    bool grown = sites_grow(L); /* before d->site_id is read: it may move */
    int added = id_index(L, grown, d->site_id, &d->site_map, d->nsites, id, out);
    if (added <= 0)
        return added;
    uint32_t s = d->nsites++;
    d->site_file[s] = 0;
    d->site_function[s] = 0;
    d->site_line[s] = 0;
    L->site_user[s] = user;
    return HD_OK;
}

enum { HAVE_ID = 1, HAVE_NAME = 2, HAVE_SIZE = 4, HAVE_TYPE = 8, HAVE_FILE = 16, HAVE_LINE = 32,
       HAVE_KIND = 64, BAD_REQUIRED = 128 };

/* A record's required members, in the order a missing one is reported: the HAVE_ bit its
 * reader sets and the member's name; a NULL name ends the list. */
typedef struct required {
    unsigned bit;
    const char *name;
} required;

/* After a record's members were read (rc: what hd__each_member returned): HD_OK when the record
 * is whole and is kept; SKIPPED when it is dropped, its problem reported (a required member that
 * was wrong, when it was read; the first one missing, now); < 0 to stop. */
static inline int record_complete(loader *L, int rc, unsigned have, const required *req)
{
    if (rc)
        return rc < 0 ? rc : SKIPPED; /* not an object: reported and skipped */
    if (have & BAD_REQUIRED)
        return SKIPPED;
    for (; req->name; req++)
        if (!(have & req->bit))
            return (rc = hd__missing(L, req->name)) ? rc : SKIPPED;
    return HD_OK;
}

/* A required member's value: its HAVE_ bit once read; BAD_REQUIRED when it was wrong (reported),
 * which drops the record. */
static int required_uint(loader *L, const char *key, uint64_t *out, unsigned *have, unsigned bit)
{
    int rc = hd__read_uint(L, key, out);
    *have |= rc == 0 ? bit : rc == SKIPPED ? BAD_REQUIRED : 0;
    return rc;
}

static int required_string(loader *L, const char *key, uint32_t *out, unsigned *have, unsigned bit)
{
    int rc = hd__read_string(L, key, true, out);
    *have |= rc == 0 ? bit : rc == SKIPPED ? BAD_REQUIRED : 0;
    return rc;
}

typedef struct type_rec {
    uint64_t id, size;
    uint32_t name;
    unsigned flags, have;
} type_rec;

static int type_member(loader *L, int k, const char *key, void *state)
{
    (void)k;
    type_rec *r = state;
    if (!strcmp(key, "id"))
        return required_uint(L, key, &r->id, &r->have, HAVE_ID);
    if (!strcmp(key, "name"))
        return required_string(L, key, &r->name, &r->have, HAVE_NAME);
    if (!strcmp(key, "size"))
        return hd__read_uint(L, key, &r->size);
    if (!strcmp(key, "gc") || !strcmp(key, "finalizer") || !strcmp(key, "legacy_finalizer")) {
        unsigned bit = key[0] == 'g' ? HD_TYPE_GC : key[0] == 'f' ? HD_TYPE_FINALIZER
                                                                   : HD_TYPE_LEGACY_FINALIZER;
        bool b = false;
        int rc = hd__read_bool(L, key, &b);
        if (rc == 0 && b)
            r->flags |= bit;
        return rc;
    }
    return hd__lex_skip_value(&L->lx);
}

static const required type_required[] = {{HAVE_ID, "id"}, {HAVE_NAME, "name"}, {0, NULL}};

static int parse_type(loader *L)
{
    type_rec r = {0};
    int rc = hd__each_member(L, type_member, &r);
    if ((rc = record_complete(L, rc, r.have, type_required)))
        return rc < 0 ? rc : HD_OK;
    uint32_t t;
    if ((rc = hd__type_index(L, r.id, UINT32_MAX, &t)))
        return rc;
    hd_dump *d = L->d;
    if (!(d->type_flags[t] & TYPE_PLACEHOLDER))
        return hd__problem(L, HD_EINTEGRITY, L->lx.tok_pos, "duplicate type id %llu",
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
    if (!strcmp(key, "id"))
        return required_uint(L, key, &r->id, &r->have, HAVE_ID);
    if (!strcmp(key, "file"))
        return required_string(L, key, &r->file, &r->have, HAVE_FILE);
    if (!strcmp(key, "line")) {
        int rc = required_uint(L, key, &r->line, &r->have, HAVE_LINE);
        if (rc || r->line <= UINT32_MAX)
            return rc;
        r->have &= ~(unsigned)HAVE_LINE;
        rc = hd__problem(L, HD_EFORMAT, L->lx.tok_pos, "'line' above 2^32-1");
        r->have |= rc == SKIPPED ? BAD_REQUIRED : 0;
        return rc;
    }
    if (!strcmp(key, "function"))
        return hd__read_string(L, key, true, &r->function);
    if (!strcmp(key, "stack")) {
        int rc = hd__read_uint(L, key, &r->stack);
        r->has_stack = rc == 0;
        return rc;
    }
    return hd__lex_skip_value(&L->lx);
}

static const required site_required[] = {{HAVE_ID, "id"}, {HAVE_FILE, "file"}, {HAVE_LINE, "line"},
                                         {0, NULL}};

static int parse_site(loader *L)
{
    site_rec r = {0};
    int rc = hd__each_member(L, site_member, &r);
    if ((rc = record_complete(L, rc, r.have, site_required)))
        return rc < 0 ? rc : HD_OK;
    hd_dump *d = L->d;
    uint32_t s, known = d->nsites;
    if ((rc = hd__site_index(L, r.id, SITE_DEFINED, &s)))
        return rc;
    if (s < known && L->site_user[s] == SITE_DEFINED)
        return hd__problem(L, HD_EINTEGRITY, L->lx.tok_pos, "duplicate site id %llu",
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
        if (d->nedges >= UINT32_MAX - 1)
            return hd__problem(L, HD_ELIMIT, L->lx.tok_pos, "more than 2^32-2 references");
        void **const arrays[] = {(void **)&L->edge_tid, (void **)&d->edge_name, NULL};
        const size_t sizes[] = {8, 4};
        if (!hd__grow(d->nedges, &d->edges_cap, 1024, UINT32_MAX - 1, arrays, sizes))
            return hd__oom(L);
    }
    L->edge_tid[d->nedges] = target;
    d->edge_name[d->nedges] = name;
    d->nedges++;
    return HD_OK;
}

/* One reference: [target] or [target, name]; with '[' current, leaves ']' current. The
 * reference's name for messages ("refs[3]") is only formatted when there is a problem. */
static int parse_ref(loader *L, uint64_t j, void *state)
{
    (void)state;
    hd__lexer *lx = &L->lx;
    char key[40];
#define KEY (snprintf(key, sizeof key, "refs[%llu]", (unsigned long long)j), key)
    if (lx->tok != HD__T_LBRACKET)
        return hd__wrong_value(L, KEY, "a [target, name] pair");
    uint64_t target = 0;
    uint32_t name = 0;
    const char *text;
    size_t len;
    hd__pos at;
    if (hd__lex_pair(lx, &target, &text, &len, &at)) { /* the usual [id, "name"], without tokens */
        if ((name = hd__strtab_intern(&L->d->strings, text, len)) == UINT32_MAX)
            return hd__problem(L, HD_ELIMIT, at, "strings beyond 4 GiB in all");
        return push_edge(L, target, name);
    }
    int rc, bad = 0;
    if ((rc = hd__lex_next(lx)))
        return rc;
    if (lx->tok == HD__T_RBRACKET)
        return hd__problem(L, HD_EFORMAT, lx->tok_pos, "'%s' is empty (expected [target, name])", KEY);
    if (lx->tok == HD__T_NUMBER && lx->num_kind == HD__N_UINT)
        target = lx->num;
    else if ((rc = hd__read_uint(L, KEY, &target)) < 0)
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
                return hd__problem(L, HD_ELIMIT, lx->tok_pos, "strings beyond 4 GiB in all");
        } else if (lx->tok != HD__T_NULL) {
            if ((rc = hd__read_string(L, KEY, true, &name)) < 0)
                return rc;
            bad = 1;
        }
        if ((rc = hd__lex_next(lx)))
            return rc;
    }
    if (lx->tok != HD__T_RBRACKET) {
        if (lx->tok != HD__T_COMMA)
            return hd__syntax(L, "',' or ']'");
        if ((rc = hd__problem(L, HD_EFORMAT, lx->tok_pos, "'%s' has more than two items", KEY)))
            return rc;
        while (lx->tok == HD__T_COMMA) {
            if ((rc = hd__lex_next(lx)) || (rc = hd__lex_skip_value(lx)) || (rc = hd__lex_next(lx)))
                return rc;
        }
        if (lx->tok != HD__T_RBRACKET)
            return hd__syntax(L, "',' or ']'");
        return HD_OK;
    }
#undef KEY
    return bad ? HD_OK : push_edge(L, target, name);
}

static int flag_item(loader *L, uint64_t i, void *state)
{
    (void)i;
    uint8_t *flags = state;
    const hd__lexer *lx = &L->lx;
    if (lx->tok != HD__T_STRING)
        return hd__wrong_value(L, "flags", "an array of strings");
#define SET_FLAG(name, bit, word)                                                               \
    if (!strcmp(lx->str, word))                                                                 \
        *flags |= (uint8_t)name;
    HD_OBJECT_FLAG_MAP(SET_FLAG)
#undef SET_FLAG
    return HD_OK;
}

/* An object's members that the reader knows: K_ID and "id"... A new member is one line here
 * and a case in object_member. */
#define OBJECT_MEMBERS(X)                                                                       \
    X(K_ID, "id") X(K_TYPE, "type") X(K_SIZE, "size") X(K_SITE, "site") X(K_RC, "rc")            \
    X(K_LABEL, "label") X(K_GEN, "gen") X(K_FLAGS, "flags") X(K_REFS, "refs")                \
    X(K_INTERIOR, "interior") X(K_ADDRESS, "address") X(K_THREAD, "thread")
#define OBJECT_MEMBER_ENUM(e, name) e,
#define OBJECT_MEMBER_NAME(e, name) name,
enum object_member { OBJECT_MEMBERS(OBJECT_MEMBER_ENUM) };
static const char *const object_keys[] = {OBJECT_MEMBERS(OBJECT_MEMBER_NAME) NULL};

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
        rc = hd__read_uint(L, key, &r->site);
        r->has_site = rc == 0;
        return rc;
    case K_RC:
        rc = hd__read_uint(L, key, &r->rc);
        r->has_rc = rc == 0;
        return rc;
    case K_LABEL:
        if (L->lx.tok == HD__T_NULL)
            return HD_OK;
        return hd__read_string(L, key, false, &r->label);
    case K_GEN: {
        uint64_t g = 0;
        if ((rc = hd__read_uint(L, key, &g)))
            return rc;
        if (g > 2)
            return hd__problem(L, HD_EFORMAT, L->lx.tok_pos, "'gen' must be 0, 1 or 2, found %llu",
                           (unsigned long long)g);
        r->gen = (uint8_t)g;
        return HD_OK;
    }
    case K_FLAGS: return hd__each_item(L, key, "an array of strings", flag_item, &r->flags);
    case K_REFS: return hd__each_item(L, key, "an array", parse_ref, NULL);
    case K_INTERIOR: case K_ADDRESS: case K_THREAD: return hd__native_object_member(L, key);
    default: return hd__lex_skip_value(&L->lx);
    }
}

static bool objects_grow(loader *L)
{
    hd_dump *d = L->d;
    void **const arrays[] = {(void **)&d->obj_id, (void **)&d->obj_size, (void **)&d->obj_type,
                       (void **)&d->obj_site, (void **)&d->obj_label, (void **)&d->obj_rc,
                       (void **)&d->obj_gen, (void **)&d->obj_flags, NULL};
    const size_t sizes[] = {8, 8, 4, 4, 4, 4, 1, 1};
    uint32_t cap = d->objects_cap;
    if (!hd__grow_records(d->nobjects, &d->objects_cap, arrays, sizes))
        return false;
    if (cap != d->objects_cap) { /* CSR offsets need one more slot than objects */
        uint32_t *p = realloc(d->edge_offset, ((size_t)d->objects_cap + 1) * sizeof *p);
        if (!p)
            return false;
        d->edge_offset = p;
    }
    return true;
}

static const required object_required[] = {{HAVE_ID, "id"}, {HAVE_TYPE, "type"}, {HAVE_SIZE, "size"},
                                           {0, NULL}};

int hd__parse_object(loader *L)
{
    hd_dump *d = L->d;
    object_rec r = {.label = HD_NONE, .gen = HD_GEN_UNKNOWN};
    uint64_t first_edge = d->nedges;
    int rc = hd__each_member_keyed(L, object_keys, object_member, &r);
    if ((rc = record_complete(L, rc, r.have, object_required))) {
        if (rc < 0)
            return rc;
        d->nedges = first_edge; /* the record is dropped (validation mode): so are its references */
        hd__native_object_drop(d);
        return HD_OK;
    }
    if (d->nobjects >= UINT32_MAX - 1)
        return hd__problem(L, HD_ELIMIT, L->lx.tok_pos, "more than 2^32-2 objects");
    if (!objects_grow(L) || !hd__note_element(L, &L->object_elem, &L->object_elem_cap, d->nobjects))
        return hd__oom(L);
    uint32_t o = d->nobjects;
    if ((rc = hd__type_index(L, r.type, o, &d->obj_type[o])))
        return rc;
    d->obj_site[o] = HD_NONE;
    if (r.has_site && (rc = hd__site_index(L, r.site, o, &d->obj_site[o])))
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
    if (!strcmp(key, "id"))
        return required_uint(L, key, &r->id, &r->have, HAVE_ID);
    if (!strcmp(key, "referent")) {
        if (L->lx.tok == HD__T_NULL)
            return HD_OK;
        int rc = hd__read_uint(L, key, &r->referent);
        r->has_referent = rc == 0;
        return rc;
    }
    if (!strcmp(key, "callback"))
        return hd__read_bool(L, key, &r->callback);
    return hd__lex_skip_value(&L->lx);
}

static const required weakref_required[] = {{HAVE_ID, "id"}, {0, NULL}};

static int parse_weakref(loader *L)
{
    weakref_rec r = {0};
    int rc = hd__each_member(L, weakref_member, &r);
    if ((rc = record_complete(L, rc, r.have, weakref_required)))
        return rc < 0 ? rc : HD_OK;
    hd_dump *d = L->d;
    void **const arrays[] = {(void **)&d->weakref_object, (void **)&d->weakref_referent,
                       (void **)&d->weakref_callback, (void **)&L->weakref_tid,
                       (void **)&L->referent_tid, NULL};
    const size_t sizes[] = {4, 4, 1, 8, 8};
    if (!hd__grow_records(d->nweakrefs, &d->weakrefs_cap, arrays, sizes) ||
        !hd__note_element(L, &L->weakref_elem, &L->weakref_elem_cap, d->nweakrefs))
        return hd__oom(L);
    uint32_t w = d->nweakrefs++;
    L->weakref_tid[w] = r.id;
    L->referent_tid[w] = r.referent;
    d->weakref_referent[w] = r.has_referent ? 0 : HD_NONE;
    d->weakref_callback[w] = r.callback;
    return HD_OK;
}

typedef struct root_rec {
    uint64_t id, offset;
    uint32_t kind, name;
    unsigned have;
} root_rec;

static int root_member(loader *L, int k, const char *key, void *state)
{
    (void)k;
    root_rec *r = state;
    if (!strcmp(key, "id"))
        return required_uint(L, key, &r->id, &r->have, HAVE_ID);
    if (!strcmp(key, "kind"))
        return required_string(L, key, &r->kind, &r->have, HAVE_KIND);
    if (!strcmp(key, "name"))
        return hd__read_string(L, key, true, &r->name);
    if (!strcmp(key, "offset"))
        return hd__read_uint(L, key, &r->offset);
    return hd__lex_skip_value(&L->lx);
}

static const required root_required[] = {{HAVE_ID, "id"}, {HAVE_KIND, "kind"}, {0, NULL}};

static int parse_root(loader *L)
{
    root_rec r = {0};
    int rc = hd__each_member(L, root_member, &r);
    if ((rc = record_complete(L, rc, r.have, root_required)))
        return rc < 0 ? rc : HD_OK;
    hd_dump *d = L->d;
    void **const arrays[] = {(void **)&d->root_object, (void **)&d->root_kind_name,
                       (void **)&d->root_name, (void **)&d->root_kind, (void **)&L->root_tid, NULL};
    const size_t sizes[] = {4, 4, 4, 1, 8};
    if (!hd__grow_records(d->nroots, &d->roots_cap, arrays, sizes) ||
        !hd__note_element(L, &L->root_elem, &L->root_elem_cap, d->nroots))
        return hd__oom(L);
    uint32_t i = d->nroots++;
    L->root_tid[i] = r.id;
    d->root_kind_name[i] = r.kind;
    d->root_name[i] = r.name;
    const char *kind = hd__strtab_get(&d->strings, r.kind);
    d->root_kind[i] = HD_ROOT_OTHER;
    for (unsigned k = 0; k < HD_ROOT_OTHER; k++)
        if (!strcmp(kind, hd_root_kind_word((enum hd_root_kind)k)))
            d->root_kind[i] = (uint8_t)k;
    return r.offset ? hd__native_root_offset(L, i, r.offset) : HD_OK;
}

/* --- the arrays ---------------------------------------------------------------------------- */

int hd__read_types(loader *L) { return hd__each_element(L, S_TYPES, parse_type); }
int hd__read_frames(loader *L) { return hd__each_element(L, S_FRAMES, hd__native_parse_frame); }
int hd__read_stacks(loader *L) { return hd__each_element(L, S_STACKS, hd__native_parse_stack); }
int hd__read_sites(loader *L) { return hd__each_element(L, S_SITES, parse_site); }
int hd__read_weakrefs(loader *L) { return hd__each_element(L, S_WEAKREFS, parse_weakref); }
int hd__read_roots(loader *L) { return hd__each_element(L, S_ROOTS, parse_root); }
